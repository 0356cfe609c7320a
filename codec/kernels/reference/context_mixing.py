"""The context-mixing model ``cm``, the reference: codec/kernels/c/context_mixing.c step by
step, in Python integers.

Each byte is coded bit by bit, most significant first, by the binary arithmetic coder of
``reference.sequential``, with the probability of each bit predicted by several models and
their predictions mixed: order 0, orders 1 to 6, the current word and a sparse context (the
2nd and 3rd bytes back), each a probability learnt per (hashed context, bits of the byte so
far); a match model (where the last 6 bytes were last seen, and the bit the byte after them
predicts); a mixer, a one-layer network trained online on the coding loss in the logistic
domain, with two weight sets averaged (one chosen by the bits of the byte so far, one by
the byte before); and an adaptive probability map (APM) on the byte before and the bits so
far.  The design follows Mahoney's lpaq1, simplified.

The hashed tables are dicts here: their size is a parameter of the arithmetic (it decides
where a context lands), not a memory cost.  This is a loop over bits in Python, a few
kilobytes a second: the reference for small inputs, against which the compiled kernel must
give the same bytes.
"""

from __future__ import annotations

import numpy as np

from ..._buffers import Bytes
from .sequential import bit_cost, check_end

__all__ = ["CM_MEMORY", "cm_costs", "cm_decode", "cm_encode", "cm_memory"]

_MASK32 = 0xFFFFFFFF
_TABLE_BITS_LEAST = 18
_TABLE_BITS_MOST = 21
_APM_ROWS = 65536
_ORDER_MOST = 6
_HASHED = _ORDER_MOST + 2  # orders 1-6, the word, the sparse context
_INPUTS = _HASHED + 2  # the mixer's: order 0, the hashed, the match model
_COUNT_HIGH = 16
_COUNT_ORDER0 = 60
_COUNT_MOST = 255
_LR_MOST, _LR_LEAST, _LR_STEP = 48, 10, 11
_APM_RATE = 6
_APM_SHARE = 3
_WEIGHT_START = (1 << 16) // 4
_WEIGHT_MOST = 1 << 22
_MISS_LEAST = 32  # the mixer learns from a bit it missed by more than this, of 4096
_MATCH_MIN = 6
_MATCH_LONGEST = 15
_HASH = 0x9E3779B1
_WORD_HASH = 0x2F0F3A1B
_FRESH = 1 << 31  # a probability of 1/2, nothing seen

def _table_bits(n: int) -> int:
    bits = _TABLE_BITS_LEAST
    while bits < _TABLE_BITS_MOST and n > 1 << (bits - 3):
        bits += 1
    return bits


#: The memory of the largest model's tables, in bytes (an input of 256 KiB or more): the
#: hashed contexts' 8 x 2^21 entries of 4 bytes, 2^20 match positions of 4 bytes, the APM's
#: 65536 x 33 points of 2 bytes, two weight sets of 256 x 10 of 4 bytes, and order 0's and
#: the match model's 256 + 32 entries of 4 bytes: 75,650,176 bytes (72.1 MiB).
def cm_memory(count: int) -> int:
    """The bytes of the model's tables for an input of *count* bytes: sized by the input
    (``_table_bits``), to CM_MEMORY at most."""
    bits = _table_bits(count)
    return ((_HASHED << bits) * 4 + (1 << (bits - 1)) * 4 + _APM_ROWS * 33 * 2
            + 2 * 256 * _INPUTS * 4 + (256 + 2 * (_MATCH_LONGEST + 1)) * 4)


CM_MEMORY = cm_memory(1 << 62)

_SQUASH_POINTS = (1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047,
                  2549, 2994, 3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089,
                  4092, 4093, 4094)


def _squash(x: int) -> int:
    """4096 / (1 + e^(-x/256)), by interpolation between 33 points (as lpaq1)."""
    if x > 2047:
        return 4095
    if x < -2047:
        return 1
    w, k = x & 127, (x >> 7) + 16
    return (_SQUASH_POINTS[k] * (128 - w) + _SQUASH_POINTS[k + 1] * w + 64) >> 7


def _stretch_table() -> list[int]:
    """stretch(p): the least x whose squash(x) reaches p, for p in 0 to 4095."""
    table = [2047] * 4096
    after = 0
    for x in range(-2047, 2048):
        v = _squash(x)
        for p in range(after, v + 1):
            table[p] = x
        after = max(after, v + 1)
    return table


_STRETCH = _stretch_table()
_RECIPROCAL = [131072 // (2 * n + 3) for n in range(_COUNT_MOST + 1)]  # 65536 / (n + 1.5)
_APM_START = [_squash((j - 16) * 128) * 16 for j in range(33)]


def _p12(entry: int) -> int:
    return min(max(entry >> 20, 1), 4095)


def _learnt(entry: int, bit: int, limit: int) -> int:
    n, p = entry & 1023, entry >> 10
    target = (1 << 22) - 1 if bit else 0
    moved = ((target - p) * _RECIPROCAL[n]) >> 16  # floor, as C's arithmetic shift
    return ((p + moved) << 10) | (n + 1 if n < limit else n)


class _Model:
    """The model for an input of *n* bytes: start(data, i) at each byte, then predict() and
    learn(bit) for each of its 8 bits."""

    def __init__(self, n: int) -> None:
        self.table_bits = _table_bits(n)
        self.match_bits = self.table_bits - 1
        self.slots: dict[int, int] = {}
        self.seen_at: dict[int, int] = {}
        self.apm: dict[int, list[int]] = {}
        self.order0 = [_FRESH] * 256
        self.weight = [[_WEIGHT_START] * _INPUTS for _ in range(256)]
        self.weight_c1 = [[_WEIGHT_START] * _INPUTS for _ in range(256)]
        self.match_p = [_FRESH] * (2 * (_MATCH_LONGEST + 1))
        self.hash = [0] * _HASHED
        self.bucket = [0] * _HASHED
        self.word = 0
        self.match_ptr = self.match_len = 0
        self.predicted = 0
        self.c1 = 0
        self.rate = _LR_MOST
        self.node = self.nibble_node = 1
        self.st = [0] * _INPUTS
        self.at = [0] * _HASHED
        self.match_at = -1
        self.p_mix = 0
        self.apm_row: list[int] = []
        self.apm_lo = 0

    def _buckets(self, nibble: int) -> None:
        shift = 32 - (self.table_bits - 4)
        for k in range(_HASHED):
            bucket = (((self.hash[k] + nibble) * _HASH) & _MASK32) >> shift
            self.bucket[k] = (k << self.table_bits) + (bucket << 4)
        self.nibble_node = 1

    def start(self, data: Bytes, i: int) -> None:
        c1 = data[i - 1] if i >= 1 else 0
        self.c1 = c1
        step = i >> _LR_STEP
        self.rate = _LR_MOST - step if step < _LR_MOST - _LR_LEAST else _LR_LEAST
        # The match model: the match goes on while the byte it predicted came.
        if self.match_len > 0 and self.match_ptr < i - 1 and data[self.match_ptr] == c1:
            self.match_len += 1
            self.match_ptr += 1
        else:
            self.match_len = 0
        if i >= _MATCH_MIN:
            h = 0
            for j in range(1, _MATCH_MIN + 1):
                h = ((h + data[i - j] + 1) * _WORD_HASH) & _MASK32
            h >>= 32 - self.match_bits
            at = self.seen_at.get(h, 0)
            if self.match_len == 0 and 0 < at < i:
                length = 0
                while length < 32 and at - length - 1 >= 0 and \
                        data[at - length - 1] == data[i - length - 1]:
                    length += 1
                if length >= _MATCH_MIN:
                    self.match_ptr, self.match_len = at, length
            self.seen_at[h] = i & _MASK32
        self.predicted = data[self.match_ptr] | 256 if self.match_len > 0 else 0
        # The word: the letters since the last non-letter, case folded.
        folded = c1 | 32
        if ord("a") <= folded <= ord("z"):
            self.word = ((self.word + folded + 1) * _WORD_HASH) & _MASK32
        else:
            self.word = 0
        h = 0
        for k in range(_ORDER_MOST):
            h = ((h + (data[i - 1 - k] if i > k else 0) + 1) * _HASH) & _MASK32
            self.hash[k] = (h + k * _WORD_HASH) & _MASK32
        self.hash[_ORDER_MOST] = (self.word * 0x85EBCA6B + _ORDER_MOST * _WORD_HASH) & _MASK32
        h = (((data[i - 2] if i >= 2 else 0) + 1) * _HASH) & _MASK32
        self.hash[_ORDER_MOST + 1] = (((h + (data[i - 3] if i >= 3 else 0) + 1) * _HASH)
                                      + (_ORDER_MOST + 1) * _WORD_HASH) & _MASK32
        self.node = 1
        self._buckets(0)

    def predict(self) -> int:
        """The probability (of a 1, in 1/65536) of the next bit."""
        node, st, slots = self.node, self.st, self.slots
        st[0] = _STRETCH[_p12(self.order0[node])]
        for k in range(_HASHED):
            at = self.bucket[k] + self.nibble_node
            self.at[k] = at
            st[k + 1] = _STRETCH[_p12(slots.get(at, _FRESH))]
        self.match_at = -1
        st[-1] = 0
        if self.predicted:
            done = node.bit_length() - 1  # bits of the byte so far
            if self.predicted >> (8 - done) == node:
                expected = self.predicted >> (7 - done) & 1
                self.match_at = 2 * min(self.match_len, _MATCH_LONGEST) + expected
                st[-1] = _STRETCH[_p12(self.match_p[self.match_at])]
        w, w1 = self.weight[node], self.weight_c1[self.c1]
        x = sum((w[k] + w1[k]) * st[k] for k in range(_INPUTS)) >> 17
        self.p_mix = _squash(x)
        s = min(max(x, -2047), 2047) + 2048
        lo, t = s >> 7, s & 127
        row = self.c1 << 8 | node
        if row not in self.apm:
            self.apm[row] = list(_APM_START)
        self.apm_row, self.apm_lo = self.apm[row], lo
        a = self.apm_row
        p_apm = (a[lo] * (128 - t) + a[lo + 1] * t) >> 7
        p = (self.p_mix * 16 * (4 - _APM_SHARE) + _APM_SHARE * p_apm) >> 2
        return min(max(p, 1), 65535)

    def learn(self, bit: int) -> None:
        """Learns the bit that came, and moves to the next."""
        node, st = self.node, self.st
        miss = (bit << 12) - self.p_mix
        if miss > _MISS_LEAST or miss < -_MISS_LEAST:  # a bit predicted well teaches little
            err = miss * self.rate
            w, w1 = self.weight[node], self.weight_c1[self.c1]
            for k in range(_INPUTS):
                d = (st[k] * err) >> 16
                w[k] = min(max(w[k] + d, -_WEIGHT_MOST), _WEIGHT_MOST)
                w1[k] = min(max(w1[k] + d, -_WEIGHT_MOST), _WEIGHT_MOST)
        self.order0[node] = _learnt(self.order0[node], bit, _COUNT_ORDER0)
        slots = self.slots
        for at in self.at:
            slots[at] = _learnt(slots.get(at, _FRESH), bit, _COUNT_HIGH)
        if self.match_at >= 0:
            self.match_p[self.match_at] = _learnt(self.match_p[self.match_at], bit, _COUNT_MOST)
        target = 65536 + (1 << _APM_RATE) - 2 if bit else 0
        a, lo = self.apm_row, self.apm_lo
        a[lo] += (target - a[lo]) >> _APM_RATE
        a[lo + 1] += (target - a[lo + 1]) >> _APM_RATE
        self.node = node << 1 | bit
        self.nibble_node = self.nibble_node << 1 | bit
        if 16 <= self.node < 32:
            self._buckets(self.node)


def cm_encode(data: Bytes) -> bytes:
    """*data* coded with the context-mixing model."""
    model = _Model(len(data))
    low, high = 0, _MASK32
    out = bytearray()
    for i, byte in enumerate(data):
        model.start(data, i)
        for b in range(7, -1, -1):
            bit = byte >> b & 1
            mid = low + (((high - low) * model.predict()) >> 16)
            if bit:
                high = mid
            else:
                low = mid + 1
            while not (low ^ high) & 0xFF000000:
                out.append(high >> 24)
                low = (low << 8) & _MASK32
                high = ((high << 8) & _MASK32) | 0xFF
            model.learn(bit)
    out.append((low >> 24) + (1 if low & 0xFFFFFF else 0))
    return bytes(out)


def cm_decode(payload: bytes, count: int) -> bytes:
    """*count* bytes decoded from *payload* with the context-mixing model; a ValueError when
    the payload is not exactly the bytes an encoder wrote."""
    if count < 0:
        raise ValueError("count must not be negative")
    model = _Model(count)
    low, high = 0, _MASK32
    read = 0

    def next_byte() -> int:
        nonlocal read
        byte = payload[read] if read < len(payload) else 0
        read += 1
        return byte

    x = 0
    for _ in range(4):
        x = (x << 8) | next_byte()
    out = bytearray(count)
    for i in range(count):
        model.start(out, i)
        for _ in range(8):
            mid = low + (((high - low) * model.predict()) >> 16)
            bit = 1 if x <= mid else 0
            if bit:
                high = mid
            else:
                low = mid + 1
            while not (low ^ high) & 0xFF000000:
                low = (low << 8) & _MASK32
                high = ((high << 8) & _MASK32) | 0xFF
                x = ((x << 8) & _MASK32) | next_byte()
            model.learn(bit)
        out[i] = model.node & 0xFF
    check_end(read, len(payload), low, x)
    return bytes(out)


def cm_costs(data: Bytes) -> np.ndarray:
    """What each byte of *data* costs the context-mixing model, in bits: the sum of -log2 q
    over its 8 bits, q being the probability the model gave the bit that came (as the coder
    uses it, in 1/65536).  Their sum is the model's loss on *data*."""
    model = _Model(len(data))
    costs = np.zeros(len(data), dtype=np.float64)
    for i, byte in enumerate(data):
        model.start(data, i)
        bits = 0.0
        for b in range(7, -1, -1):
            bit = byte >> b & 1
            bits += bit_cost(model.predict(), bit)
            model.learn(bit)
        costs[i] = bits
    return costs
