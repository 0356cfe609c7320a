"""The static order-k model, the reference: codec/kernels/c/static_model.c step by step, in
Python integers (numpy for the counting).

Two passes.  The first counts, for each context (the k bytes before, bytes before the start
reading as 0) and each node of the binary tree of a byte (the bits so far behind a leading
1), how often a 0 and a 1 came; the second codes each byte bit by bit, most significant
first, with the binary arithmetic coder of binary_coder.h, each bit with a probability fixed
for the whole input.  The probabilities are the model, and are stored: coded, with the same
coder and simple adaptive probabilities, as the model bytes.  docs/drafts/static-model.md
gives the layout of the model bytes and the rules a decoder keeps.

Only what the data visited is stored.  Contexts are not listed: they are found as the model
is read, each pair (context, byte) leading to the next context (the byte behind the context's
k - 1 newest bytes), from the context of zeros the data starts in.  A node with one child
visited forces its bit, which costs nothing; a node with both children visited holds q, 8
bits, the index of its probability in PROBABILITY, a logistic scale (every probability has
about the same relative precision) that ends in steps of 1/65536.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._buffers import Bytes, BytesLike
from .sequential import bit_cost

__all__ = ["PROBABILITY", "STATIC_ORDERS", "quantise", "static_costs", "static_decode",
           "static_encode", "static_model_memory"]

#: The orders the static model takes.
STATIC_ORDERS = (0, 1, 2, 3)
_ORDER_MOST = STATIC_ORDERS[-1]

#: The probability of a 1 (in 1/65536) that q stands for: 65536 / (1 + e^-((q - 127.5) s)),
#: s = 2 ln(65535) / 255, rounded, and at least q + 1 (its mirror 65536 - P[255 - q] above
#: the middle), so that the 256 values are distinct and the ends step by 1/65536.
PROBABILITY = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
    37, 38, 39, 40, 41, 42, 43, 44, 46, 50, 55, 60,
    65, 71, 77, 84, 92, 100, 109, 119, 130, 142, 155, 169,
    184, 201, 219, 239, 261, 284, 310, 338, 368, 402, 438, 477,
    521, 567, 618, 674, 735, 801, 872, 951, 1036, 1128, 1229, 1338,
    1457, 1586, 1727, 1879, 2044, 2224, 2418, 2629, 2858, 3105, 3373, 3662,
    3975, 4313, 4677, 5069, 5491, 5944, 6432, 6954, 7514, 8112, 8751, 9432,
    10156, 10925, 11740, 12602, 13511, 14468, 15472, 16524, 17621, 18764, 19950, 21178,
    22443, 23744, 25076, 26436, 27818, 29219, 30633, 32056, 33480, 34903, 36317, 37718,
    39100, 40460, 41792, 43093, 44358, 45586, 46772, 47915, 49012, 50064, 51068, 52025,
    52934, 53796, 54611, 55380, 56104, 56785, 57424, 58022, 58582, 59104, 59592, 60045,
    60467, 60859, 61223, 61561, 61874, 62163, 62431, 62678, 62907, 63118, 63312, 63492,
    63657, 63809, 63950, 64079, 64198, 64307, 64408, 64500, 64585, 64664, 64735, 64801,
    64862, 64918, 64969, 65015, 65059, 65098, 65134, 65168, 65198, 65226, 65252, 65275,
    65297, 65317, 65335, 65352, 65367, 65381, 65394, 65406, 65417, 65427, 65436, 65444,
    65452, 65459, 65465, 65471, 65476, 65481, 65486, 65490, 65492, 65493, 65494, 65495,
    65496, 65497, 65498, 65499, 65500, 65501, 65502, 65503, 65504, 65505, 65506, 65507,
    65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517, 65518, 65519,
    65520, 65521, 65522, 65523, 65524, 65525, 65526, 65527, 65528, 65529, 65530, 65531,
    65532, 65533, 65534, 65535,
)

#: The model's own adaptive probabilities (of a 1, in 1/65536) start at 1/2 and move by
#: 1/2^_RATE of the way to each bit they see: fast enough to learn from a small model,
#: and staying in [15, 65521], so that no decision costs more than 12.1 bits and no
#: model byte holds more than about 24000 decisions.
_RATE = 4
_HALF = 32768
_MASK32 = 0xFFFFFFFF

def static_model_memory(contexts: int, pairs: int) -> int:
    """The most memory, in bytes, that reading a model declaring *contexts* contexts and
    *pairs* (context, byte) pairs takes in the compiled kernel: per context 48 (where its
    tree starts, its bytes, a hash of twice the contexts at most 4 times over), 8 per node
    (a tree of l leaves 8 levels down has at most 1 + 7 l nodes, 14 more while one is half
    read) and 4 per pair (the context it leads to), twice that while an array doubles, and
    16 KB besides.  A model declares both in its first bytes, and a decoder refuses more than
    the data could have (pairs at most the byte count, contexts one more); the arrays grow
    as the model is read, so a model that declares more than it holds is refused first."""
    return 2 * (48 * contexts + 8 * (contexts + 7 * pairs + 16) + 4 * pairs) + 16384


def quantise(n0: int, n1: int) -> int:
    """The q whose probability is nearest the counts' n1 / (n0 + n1): the least
    |PROBABILITY[q] (n0 + n1) - 65536 n1|, the lower q on a tie (integers only)."""
    n = n0 + n1
    target = 65536 * n1
    low, high = 0, 255  # the least q with PROBABILITY[q] * n >= target, or 255
    while low < high:
        mid = (low + high) // 2
        if PROBABILITY[mid] * n >= target:
            high = mid
        else:
            low = mid + 1
    if low > 0 and target - PROBABILITY[low - 1] * n <= PROBABILITY[low] * n - target:
        return low - 1
    return low


def _check_order(order: int) -> None:
    if order not in STATIC_ORDERS:
        raise ValueError(f"order must be 0 to {_ORDER_MOST}")


def _adapt(p: int, bit: int) -> int:
    return p + ((65536 - p) >> _RATE) if bit else p - (p >> _RATE)


class _Encoder:
    """binary_coder.h's encoder."""

    def __init__(self) -> None:
        self.low, self.high, self.out = 0, _MASK32, bytearray()

    def bit(self, bit: int, p: int) -> None:
        mid = self.low + (((self.high - self.low) * p) >> 16)
        if bit:
            self.high = mid
        else:
            self.low = mid + 1
        while not (self.low ^ self.high) & 0xFF000000:
            self.out.append(self.high >> 24)
            self.low = (self.low << 8) & _MASK32
            self.high = ((self.high << 8) & _MASK32) | 0xFF

    def finish(self) -> bytes:
        self.out.append((self.low >> 24) + (1 if self.low & 0xFFFFFF else 0))
        return bytes(self.out)


class _Decoder:
    """binary_coder.h's decoder, reading missing bytes as zero."""

    def __init__(self, data: bytes, start: int = 0) -> None:
        self.data, self.read = data, start
        self.start = start
        self.low, self.high, self.x = 0, _MASK32, 0
        for _ in range(4):
            self.x = (self.x << 8) | self._next()

    def _next(self) -> int:
        byte = self.data[self.read] if self.read < len(self.data) else 0
        self.read += 1
        return byte

    def bit(self, p: int) -> int:
        mid = self.low + (((self.high - self.low) * p) >> 16)
        bit = 1 if self.x <= mid else 0
        if bit:
            self.high = mid
        else:
            self.low = mid + 1
        while not (self.low ^ self.high) & 0xFF000000:
            self.low = (self.low << 8) & _MASK32
            self.high = ((self.high << 8) & _MASK32) | 0xFF
            self.x = ((self.x << 8) & _MASK32) | self._next()
        return bit

    def written(self) -> int:
        """The bytes the encoder wrote, as the decoder counts them."""
        return self.read - self.start - 3

    def ends_as_written(self) -> bool:
        """Whether the last byte is the one the encoder ends with (binary_coder.h)."""
        return self.x >> 24 == (self.low >> 24) + (1 if self.low & 0xFFFFFF else 0)


class _Adaptive:
    """The model's own probabilities: one for a context left empty, one per node for
    "both children?" and one for "which child?", and 8 trees of 255 for q, by depth."""

    def __init__(self) -> None:
        self.empty = _HALF
        self.both = [_HALF] * 256
        self.which = [_HALF] * 256
        self.q = [[_HALF] * 256 for _ in range(8)]


# -- counting --------------------------------------------------------------------------------


def _pairs(data: bytes, order: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Each context's bytes, ascending, and how often each came in it."""
    if not data:
        return {}
    symbols = np.frombuffer(data, dtype=np.uint8).astype(np.uint32)
    contexts = np.zeros(len(symbols), dtype=np.uint32)
    for back in range(1, order + 1):
        contexts[back:] |= symbols[:len(symbols) - back] << np.uint32(8 * (back - 1))
    keys, counts = np.unique(contexts << np.uint32(8) | symbols, return_counts=True)
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    starts = np.flatnonzero(np.diff(keys >> np.uint32(8), prepend=np.uint32(1 << 31)))
    for start, end in zip(starts, [*starts[1:], len(keys)], strict=True):
        found[int(keys[start] >> np.uint32(8))] = (keys[start:end] & np.uint32(255),
                                                   counts[start:end])
    return found


# -- the model -------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 128:
        out.append(value & 127 | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def _write_model(pairs: dict[int, tuple[np.ndarray, np.ndarray]], order: int) -> bytes:
    mask = (1 << 8 * order) - 1
    coder, adaptive = _Encoder(), _Adaptive()
    queue = [0] if pairs else []
    index = {0: 0} if pairs else {}

    def tree(symbols: np.ndarray, counts: np.ndarray, node: int, depth: int, context: int) -> None:
        if depth == 8:
            following = (context << 8 | node & 255) & mask
            if following not in index:
                index[following] = len(queue)
                queue.append(following)
            return
        split = int(np.searchsorted(symbols >> np.uint32(7 - depth) & np.uint32(1), 1))
        both = 0 < split < len(symbols)
        coder.bit(both, adaptive.both[node])
        adaptive.both[node] = _adapt(adaptive.both[node], both)
        if both:
            q = quantise(int(counts[:split].sum()), int(counts[split:].sum()))
            probabilities, at = adaptive.q[depth], 1
            for b in range(7, -1, -1):
                bit = q >> b & 1
                coder.bit(bit, probabilities[at])
                probabilities[at] = _adapt(probabilities[at], bit)
                at = at << 1 | bit
            tree(symbols[:split], counts[:split], node << 1, depth + 1, context)
            tree(symbols[split:], counts[split:], node << 1 | 1, depth + 1, context)
        else:
            right = int(split == 0)
            coder.bit(right, adaptive.which[node])
            adaptive.which[node] = _adapt(adaptive.which[node], right)
            tree(symbols, counts, node << 1 | right, depth + 1, context)

    at = 0
    while at < len(queue):
        context = queue[at]
        empty = int(context not in pairs)
        coder.bit(empty, adaptive.empty)
        adaptive.empty = _adapt(adaptive.empty, empty)
        if not empty:
            tree(*pairs[context], 1, 0, context)
        at += 1
    leaves = sum(len(symbols) for symbols, _ in pairs.values())
    return _varint(len(queue)) + _varint(leaves) + coder.finish()


class _Model:
    """A model read: each context's first node (-1 for a context left empty), and the nodes:
    kind (1: only a 0 came, 2: only a 1, 3: both), probability of a 1 and first child (an
    index of nodes, or of pairs below the last level; a node with both children has them
    side by side); and each pair's next context."""

    def __init__(self) -> None:
        self.root: list[int] = []
        self.kind: list[int] = []
        self.p: list[int] = []
        self.child: list[int] = []
        self.following: list[int] = []


def _read_varint(model: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(model):
            raise ValueError("the model ends inside its header")
        byte = model[pos]
        pos += 1
        value |= (byte & 127) << shift
        shift += 7
        if not byte & 128:
            if byte == 0 and shift > 7:
                raise ValueError("the model's header is not in its shortest form")
            return value, pos
        if shift >= 63:
            raise ValueError("the model's header holds a number too large")


def _contexts_most(count: int, order: int) -> int:
    return min(count + 1 if count else 0, 1 << 8 * order)


def _read_model(model_buffer: BytesLike, count: int, order: int) -> _Model:
    _check_order(order)
    model = bytes(model_buffer)
    contexts, pos = _read_varint(model, 0)
    pairs, pos = _read_varint(model, pos)
    most = _contexts_most(count, order)
    if contexts > most:
        raise ValueError(f"the model declares {contexts} contexts, but {count} bytes of order "
                         f"{order} have at most {most}")
    if pairs > count or (contexts == 0) != (pairs == 0) or (count > 0 and contexts == 0):
        raise ValueError(f"the model declares {contexts} contexts and {pairs} pairs, which "
                         f"{count} bytes cannot have")
    mask = (1 << 8 * order) - 1
    read = _Model()
    coder, adaptive = _Decoder(model, pos), _Adaptive()
    queue = [0] if contexts else []
    index = {0: 0} if contexts else {}
    body = len(model) - pos
    empties = 0

    def node(at: int, number: int, depth: int, context: int) -> None:
        both = coder.bit(adaptive.both[number])
        adaptive.both[number] = _adapt(adaptive.both[number], both)
        if both:
            probabilities, q = adaptive.q[depth], 1
            for _ in range(8):
                bit = coder.bit(probabilities[q])
                probabilities[q] = _adapt(probabilities[q], bit)
                q = q << 1 | bit
            read.kind[at], read.p[at] = 3, PROBABILITY[q & 255]
            children: tuple[int, ...] = (0, 1)
        else:
            right = coder.bit(adaptive.which[number])
            adaptive.which[number] = _adapt(adaptive.which[number], right)
            read.kind[at] = 1 + right
            children = (right,)
        if depth == 7:
            if len(read.following) + len(children) > pairs:
                raise ValueError(f"the model describes more than the {pairs} pairs it "
                                 "declares")
            read.child[at] = len(read.following)
            for bit in children:
                following = (context << 8 | (number << 1 | bit) & 255) & mask
                if following not in index:
                    if len(queue) == contexts:
                        raise ValueError(f"the model describes more than the {contexts} "
                                         "contexts it declares")
                    index[following] = len(queue)
                    queue.append(following)
                read.following.append(index[following])
            return
        first = read.child[at] = len(read.kind)
        for _ in children:
            read.kind.append(0)
            read.p.append(0)
            read.child.append(0)
        for k, bit in enumerate(children):
            node(first + k, number << 1 | bit, depth + 1, context)

    at = 0
    while at < len(queue):
        empty = coder.bit(adaptive.empty)
        adaptive.empty = _adapt(adaptive.empty, empty)
        if empty:
            empties += 1
            if at == 0 or empties > 1:
                raise ValueError("the model leaves more than one context empty, or the first")
            read.root.append(-1)
        else:
            read.root.append(len(read.kind))
            read.kind.append(0)
            read.p.append(0)
            read.child.append(0)
            node(read.root[-1], 1, 0, queue[at])
        if coder.written() > body:
            raise ValueError(f"the model's coded bits run past its {body} bytes")
        at += 1
    if len(queue) != contexts or len(read.following) != pairs:
        raise ValueError(f"the model describes {len(queue)} contexts and "
                         f"{len(read.following)} pairs, but declares {contexts} and {pairs}")
    if coder.written() != body:
        raise ValueError(f"the model's coded bits take {coder.written()} bytes, but it has "
                         f"{body}")
    if not coder.ends_as_written():
        raise ValueError("the model's last byte is not the one its coder ends with")
    return read


# -- the payload -----------------------------------------------------------------------------


def _walk(read: _Model, data: bytes, on_bit: Callable[[int, int, int], None]) -> None:
    """Each byte of *data* through the model: on_bit(i, p, bit) for each bit of byte i that is
    coded (forced bits are not); a ValueError for a byte the model does not have."""
    context = 0
    for i, byte in enumerate(data):
        at = read.root[context] if read.root else -1
        if at < 0:
            raise ValueError(f"byte {i} of the data is not in the model")
        for depth in range(8):
            bit = byte >> (7 - depth) & 1
            kind = read.kind[at]
            if kind == 3:
                on_bit(i, read.p[at], bit)
                at = read.child[at] + bit
            elif kind == 1 + bit:
                at = read.child[at]
            else:
                raise ValueError(f"byte {i} of the data is not in the model")
        context = read.following[at]


def static_encode(data: Bytes, order: int) -> tuple[bytes, bytes]:
    """*data* coded with the static order-*order* model: (the model, the payload)."""
    _check_order(order)
    data = bytes(data)
    model = _write_model(_pairs(data, order), order)
    read = _read_model(model, len(data), order)
    coder = _Encoder()
    _walk(read, data, lambda _, p, bit: coder.bit(bit, p))
    return model, coder.finish()


def static_decode(model: bytes, payload: bytes, count: int, order: int) -> bytes:
    """*count* bytes decoded from *payload* with the static order-*order* model *model*; a
    ValueError when the model is not sound, or the payload not exactly the bytes an encoder
    wrote."""
    if count < 0:
        raise ValueError("count must not be negative")
    read = _read_model(model, count, order)
    coder = _Decoder(payload)
    out = bytearray(count)
    context = 0
    for i in range(count):
        at = read.root[context]
        if at < 0:
            raise ValueError("the payload reaches a context the model leaves empty")
        number = 1
        for _ in range(8):
            kind = read.kind[at]
            bit = coder.bit(read.p[at]) if kind == 3 else kind - 1
            number = number << 1 | bit
            at = read.child[at] + (bit if kind == 3 else 0)
        out[i] = number & 255
        context = read.following[at]
    if coder.written() != len(payload):
        raise ValueError(f"the coded bits take {coder.written()} bytes, but the payload has "
                         f"{len(payload)}")
    if not coder.ends_as_written():
        raise ValueError("the payload's last byte is not the one its coder ends with")
    return bytes(out)


def static_costs(model: bytes, data: Bytes, order: int) -> np.ndarray:
    """What each byte of *data* costs under the static model *model*, in bits (0 for a byte
    whose bits the model forces): the sum of bit_cost over the bits the coder codes.  A
    ValueError when the model is not sound, or does not have a byte of *data*."""
    data = bytes(data)
    read = _read_model(model, len(data), order)
    costs = np.zeros(len(data), dtype=np.float64)

    def add(i: int, p: int, bit: int) -> None:
        costs[i] += bit_cost(p, bit)

    _walk(read, data, add)
    return costs
