"""Sequential models, the reference: a binary arithmetic coder and the adaptive order-k
model of codec/kernels/c/sequential.c, step by step, in Python integers.

Each byte is coded bit by bit, most significant first, with the probability of a 1
predicted from the byte's bits so far and the k bytes before it, and learnt as the data is
coded.  This is a loop over bits in Python: the reference for small inputs (a few
kilobytes a second), against which the compiled kernel must give the same bytes.
"""

from __future__ import annotations

import math

import numpy as np

from ..._buffers import Bytes

__all__ = ["ORDER_MOST", "bit_cost", "check_end", "sequential_costs", "sequential_decode",
           "sequential_encode"]

ORDER_MOST = 3
_TABLE_BITS_MOST = 22
_LIMIT = 255
_RECIPROCAL = [131072 // (2 * n + 3) for n in range(_LIMIT + 1)]  # 65536 / (n + 1.5)
_FRESH = 1 << 31  # a probability of 1/2, nothing seen
_MASK32 = 0xFFFFFFFF


def _predict(entry: int) -> int:
    return min(max(entry >> 16, 1), 65535)


def _update(entry: int, bit: int) -> int:
    n, p = entry & 1023, entry >> 10
    target = (1 << 22) - 1 if bit else 0
    moved = ((target - p) * _RECIPROCAL[n]) >> 16  # floor, as C's arithmetic shift
    return ((p + moved) << 10) | (n + 1 if n < _LIMIT else n)


def _context_base(data: Bytes, i: int, order: int) -> int:
    if order == 0:
        return 0
    if order == 1:
        return data[i - 1] << 8 if i >= 1 else 0
    h = 0
    for k in range(1, order + 1):
        h = ((h + (data[i - k] if i >= k else 0) + 1) * 0x9E3779B1) & _MASK32
    return (h >> (32 - (_TABLE_BITS_MOST - 8))) << 8


class _Table(dict[int, int]):
    """A model's table, every entry 1/2 (having seen nothing) until it is written: the
    C kernel's array of 2^22 entries, without making a list of 4 million to code 40 bytes."""

    def __missing__(self, index: int) -> int:
        return _FRESH


def _new_table(order: int) -> _Table:
    """The order-*order* model's fresh table: every entry 1/2, having seen nothing."""
    if not 0 <= order <= ORDER_MOST:
        raise ValueError(f"order must be 0 to {ORDER_MOST}")
    return _Table()


def _split(low: int, high: int, entry: int) -> int:
    """Where the coder splits [low, high] for a bit the entry predicts: a 1 keeps the lower
    part, up to the result."""
    return low + (((high - low) * _predict(entry)) >> 16)


def sequential_encode(data: Bytes, order: int) -> bytes:
    """*data* coded with the adaptive order-*order* model."""
    table = _new_table(order)
    low, high = 0, _MASK32
    out = bytearray()
    for i, byte in enumerate(data):
        base = _context_base(data, i, order)
        node = 1
        for b in range(7, -1, -1):
            bit = byte >> b & 1
            entry = table[base + node]
            mid = _split(low, high, entry)
            if bit:
                high = mid
            else:
                low = mid + 1
            while not (low ^ high) & 0xFF000000:
                out.append(high >> 24)
                low = (low << 8) & _MASK32
                high = ((high << 8) & _MASK32) | 0xFF
            table[base + node] = _update(entry, bit)
            node = node << 1 | bit
    out.append((low >> 24) + (1 if low & 0xFFFFFF else 0))
    return bytes(out)


def sequential_decode(payload: bytes, count: int, order: int) -> bytes:
    """*count* bytes decoded from *payload* with the adaptive order-*order* model; a
    ValueError when the payload is not exactly the bytes an encoder wrote."""
    table = _new_table(order)
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
        base = _context_base(out, i, order)
        node = 1
        for _ in range(8):
            entry = table[base + node]
            mid = _split(low, high, entry)
            bit = 1 if x <= mid else 0
            if bit:
                high = mid
            else:
                low = mid + 1
            while not (low ^ high) & 0xFF000000:
                low = (low << 8) & _MASK32
                high = ((high << 8) & _MASK32) | 0xFF
                x = ((x << 8) & _MASK32) | next_byte()
            table[base + node] = _update(entry, bit)
            node = node << 1 | bit
        out[i] = node & 0xFF
    check_end(read, len(payload), low, x)
    return bytes(out)


def check_end(read: int, size: int, low: int, x: int) -> None:
    """A ValueError unless the payload of *size* bytes ends as the encoder ends it: the
    decoder took *read* bytes, the 4 it started with and those past the end included (read
    - 3 is the encoder's count), and the last byte is the one the encoder writes for the
    interval [low, ...] it ended with (x's top byte; the 3 below it were read past the end).
    Any other last byte may decode the same bits, but no encoder wrote it."""
    if read - 3 != size:
        raise ValueError(f"the coded bits take {read - 3} bytes, but the payload has {size}")
    if x >> 24 != (low >> 24) + (1 if low & 0xFFFFFF else 0):
        raise ValueError("the payload's last byte is not the one its coder ends with")


def sequential_costs(data: Bytes, order: int) -> np.ndarray:
    """What each byte of *data* costs the adaptive order-*order* model, in bits: the sum of
    -log2 q over its 8 bits, q being the probability the model gave the bit that came (as the
    coder uses it, in 1/65536).  Their sum is the model's loss on *data*."""
    table = _new_table(order)
    costs = np.zeros(len(data), dtype=np.float64)
    for i, byte in enumerate(data):
        base = _context_base(data, i, order)
        node = 1
        bits = 0.0
        for b in range(7, -1, -1):
            bit = byte >> b & 1
            entry = table[base + node]
            bits += bit_cost(_predict(entry), bit)
            table[base + node] = _update(entry, bit)
            node = node << 1 | bit
        costs[i] = bits
    return costs


def bit_cost(p: int, bit: int) -> float:
    """What a bit costs, in bits, coded with *p* (of a 1, in 1/65536)."""
    return -math.log2((p if bit else 65536 - p) / 65536)
