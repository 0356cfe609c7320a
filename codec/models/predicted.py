"""Bring your own model: symbols coded with the probabilities any model predicted for them.

Give n symbols of an alphabet of K and an n x K array whose row i is the model's predicted
distribution of symbol i (a network's softmax output, say): :func:`encode_with_probabilities`
codes them into real bytes and accounts for every bit of them, starting from the model's
own loss, Σ -log2 p_i(x_i), the cross-entropy loss of training times n (in bits).
:func:`decode_with_probabilities` gives the symbols back from the same array, and
:class:`PredictedDecoder` one symbol at a time, for a model that predicts row i only from
the symbols before it (an autoregressive one, which must see symbol i - 1 before it can
predict row i).

**Quantisation.**  A coder needs integer frequencies: each row becomes K frequencies
summing to M = 2**precision (24 bits by default), each at least 1, so that every symbol
stays codable, by this rule:

    f = floor(p · (M - K)) + 1, then the remainder M - Σ f to the row's most probable
    symbol (the first of them, if several tie).

The remainder is less than K; it is negative only for a row summing to a little more than
1, and then at most 10^-6 · M, which the most probable symbol (at least 1/K of the row,
so at least 14 units whenever the remainder is negative) always covers.
:func:`quantize_probabilities` gives the frequencies.  The coder is rANS, one state over
all n symbols, each symbol coded with its own row (``kernels.*.probability_encode``).

**When decoding is deterministic.**  The quantisation uses only IEEE operations that give
the same result on every machine (a product, a floor, comparisons), so the decoder finds
the encoder's frequencies exactly when it is given **bit for bit the same float64
probabilities**: the same model, the same weights, the same arithmetic in the same order.
Float32 instead of float64, another BLAS, another machine's libm, a GPU's fused
multiply-add, a batch computed in another order: any of them can move one probability by
one ulp, change one frequency, and the symbols decoded from there on are wrong, silently,
as far as the coder knows.  So the payload carries a CRC-32 of the symbols, and decoding
raises :class:`~huffkit.ChecksumError` when what came out does not match it (or a
:class:`~huffkit.FormatError` when the coded words run out or do not end where they
should, which the same mismatch can cause).  Float32 arrays are accepted (each value is
exactly a float64), but the decoder must be given the same float32 values.

**The payload.**  A format byte (1), the precision (a byte), n and K (LEB128 numbers), the
rANS state (8 bytes) and words (4 bytes each, little-endian), and the CRC-32 of the
symbols (4 bytes, little-endian; of their bytes for K ≤ 256, else of them as little-endian
16-bit numbers).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from .._buffers import BytesLike
from .._errors import ChecksumError, CodebookError, FormatError, TruncatedError
from ..kernels import backend
from ..kernels.reference.probability_coder import PROBABILITY_STATE_BYTES
from ..kernels.reference.rans import ANS_LOWER_BOUND

#: Decoded symbols: uint8 for an alphabet of at most 256, else uint16.
Symbols: TypeAlias = npt.NDArray[np.uint8] | npt.NDArray[np.uint16]

__all__ = ["DEFAULT_PRECISION", "LARGEST_ALPHABET", "MAX_PRECISION", "TOLERANCE",
           "PredictedCode", "PredictedDecoder", "decode_with_probabilities",
           "encode_with_probabilities", "quantize_probabilities"]

#: Frequencies sum to 2**precision.  24 bits, the most the coder takes (its state keeps
#: 2**8 times the total), so that the +1 every symbol gets costs next to nothing: K/2**24
#: of the probability, 0.00002 bits a symbol for bytes.
DEFAULT_PRECISION = 24
MAX_PRECISION = 24
#: The largest alphabet: a symbol fits 16 bits (the CRC-32 is of them as such).
LARGEST_ALPHABET = 1 << 16
#: How far from 1 a row may sum: a float64 softmax is a few ulps off; a row further off is
#: most likely not a distribution at all (logits, or a float32 softmax over many symbols).
TOLERANCE = 1e-6

_FORMAT = 1
_CRC_BYTES = 4
_LONGEST_NUMBER = 8  # LEB128 bytes of n or K: below 2**56
#: Rows of the probabilities handled at once, about this many of their entries: the work
#: arrays stay in a core's L2 cache (512 KB of float64) whatever n is.  Coding 10^6 bytes
#: went 1.5 to 2 times as fast as with chunks of 2^18 or 2^20 entries.
_CHUNK = 1 << 16


def quantize_probabilities(probabilities: npt.ArrayLike, /, *,
                           precision: int = DEFAULT_PRECISION) -> npt.NDArray[np.int64]:
    """The integer frequencies (int64, the same shape) the coder uses for *probabilities*,
    an n x K array of rows that are distributions: each row sums to ``2**precision``, each
    entry at least 1 (the rule is in the module's docstring).  q = f / 2**precision is the
    model the coder really pays for."""
    probabilities = _as_probabilities(probabilities)
    _check_precision(precision, probabilities.shape[1])
    freqs = np.empty(probabilities.shape, dtype=np.int64)
    for start, rows in _chunks(probabilities):
        _check_rows(rows, start)
        freqs[start:start + len(rows)] = _quantize(rows, precision)
    return freqs


def _quantize(rows: np.ndarray, precision: int) -> np.ndarray:
    """Frequencies of checked float64 *rows* (uint32)."""
    total, size = 1 << precision, rows.shape[1]
    freqs = np.floor(rows * float(total - size)).astype(np.uint32)
    freqs += 1
    remainder = total - freqs.sum(axis=1, dtype=np.int64)
    top = np.argmax(rows, axis=1)
    picked = np.arange(len(rows))
    freqs[picked, top] = freqs[picked, top].astype(np.int64) + remainder
    return freqs


def _cumulative(rows: np.ndarray, precision: int) -> np.ndarray:
    """The coder's table of checked float64 *rows*: each row's cumulative frequencies, from
    0 to 2**precision (uint32, K + 1 a row)."""
    table = np.zeros((len(rows), rows.shape[1] + 1), dtype=np.uint32)
    np.cumsum(_quantize(rows, precision), axis=1, dtype=np.uint32, out=table[:, 1:])
    return table


@dataclass(frozen=True)
class PredictedCode:
    """Symbols coded with a model's probabilities, and the ledger of its bits.

    ``total_bits == loss_bits + quantisation_bits + coder_bits + header_bits``: the model's
    loss, what rounding its probabilities to integers added, what the coder's integer
    arithmetic and its last words added, and the header and CRC-32.
    """

    #: The payload: what :func:`decode_with_probabilities` takes back.
    data: bytes = field(repr=False)
    #: n, and K.
    symbols: int
    alphabet_size: int
    precision: int
    #: Σ -log2 p_i(x_i) with the probabilities given: the model's cross-entropy loss x n.
    loss_bits: float
    #: Σ -log2 q_i(x_i) - loss, q the quantised probabilities (f / 2**precision).
    quantisation_bits: float
    #: The coded words' bits - Σ -log2 q_i(x_i): the coder's own overhead.
    coder_bits: float
    #: The format byte, the precision, n and K, and the CRC-32.
    header_bits: int
    #: 8 · len(data).
    total_bits: int

    @property
    def cross_entropy(self) -> float:
        """The model's loss per symbol, in bits: what training reports as the cross-entropy
        loss (divided by ln 2, if it reports nats).  NaN for no symbols."""
        return self.loss_bits / self.symbols if self.symbols else math.nan

    @property
    def bits_per_symbol(self) -> float:
        """What the file costs a symbol, everything counted.  NaN for no symbols."""
        return self.total_bits / self.symbols if self.symbols else math.nan

    def __str__(self) -> str:
        n = self.symbols
        rows = [("model's loss, Σ -log2 p", self.loss_bits),
                (f"+ quantisation to 1/2^{self.precision}", self.quantisation_bits),
                ("+ rANS coder", self.coder_bits),
                ("+ header and CRC-32", self.header_bits),
                (f"= file, {len(self.data):,} bytes", self.total_bits)]
        lines = [f"{n:,} symbols of an alphabet of {self.alphabet_size:,}, coded with a "
                 "model's probabilities", f"{'':28}{'bits':>14}{'bits/symbol':>14}"]
        for name, bits in rows:
            per = f"{bits / n:14.4f}" if n else f"{'-':>14}"
            lines.append(f"{name:28}{bits:14,.2f}{per}")
        return "\n".join(lines)


def encode_with_probabilities(symbols: npt.ArrayLike, probabilities: npt.ArrayLike, /, *,
                              precision: int = DEFAULT_PRECISION) -> PredictedCode:
    """Code *symbols* (n integers from 0 to K - 1, or bytes) with *probabilities* (an n x K
    array: row i is the model's distribution of symbol i, given what it may know; the
    rows of an autoregressive model computed from the true symbols, teacher forcing).

    Every row must be a distribution (finite, at least 0, summing to 1 within
    :data:`TOLERANCE`), and each symbol must have a probability above 0 in its row (else
    its loss would be infinite): a :class:`~huffkit.CodebookError` says which row or
    symbol is not.  The result holds the payload and its ledger.
    """
    probabilities = _as_probabilities(probabilities)
    n, size = probabilities.shape
    symbols = _as_symbols(symbols, n, size)
    _check_precision(precision, size)
    starts = np.empty(n, dtype=np.uint32)
    freqs = np.empty(n, dtype=np.uint32)
    loss = quantised = 0.0
    for start, rows in _chunks(probabilities):
        _check_rows(rows, start)
        coded = symbols[start:start + len(rows)]
        picked = np.arange(len(rows))
        p = rows[picked, coded]
        if not p.all():
            i = int(np.flatnonzero(p == 0)[0])
            raise CodebookError(
                f"symbol {int(coded[i])} at position {start + i} has probability 0 in its row: "
                "the model says it cannot occur, so its loss, -log2 0, is infinite; give "
                "every symbol that may occur a probability above 0 (mix in a little of the "
                "uniform distribution, say)")
        table = _cumulative(rows, precision)
        low, high = table[picked, coded], table[picked, coded.astype(np.intp) + 1]
        starts[start:start + len(rows)] = low
        freqs[start:start + len(rows)] = high - low
        loss -= float(np.log2(p).sum())
        quantised -= float(np.log2(high - low).sum())
    quantised += precision * n
    coded_words = backend.kernels.probability_encode(starts, freqs, precision)
    header = _header(precision, n, size)
    crc = backend.kernels.crc32(_symbol_bytes(symbols, size))
    data = header + coded_words + crc.to_bytes(_CRC_BYTES, "little")
    return PredictedCode(data=data, symbols=n, alphabet_size=size, precision=precision,
                         loss_bits=loss, quantisation_bits=quantised - loss,
                         coder_bits=8 * len(coded_words) - quantised,
                         header_bits=8 * (len(header) + _CRC_BYTES), total_bits=8 * len(data))


def decode_with_probabilities(data: BytesLike, probabilities: npt.ArrayLike, /,
                              ) -> Symbols:
    """The symbols *data* (from :func:`encode_with_probabilities`) codes, given bit for bit
    the probabilities it was encoded with (see the module's docstring): uint8 for an
    alphabet of at most 256, else uint16.

    A :class:`~huffkit.CodebookError` when the array is not n x K as the payload says, or
    not rows of distributions; a :class:`~huffkit.ChecksumError` (a
    :class:`~huffkit.FormatError`) when the symbols decoded do not match the payload's
    CRC-32: the probabilities differ from the encoder's, or the payload is damaged.  For a
    model that must see each symbol before it predicts the next, use
    :class:`PredictedDecoder`; this is its ``decode`` over all the rows at once.
    """
    decoder = PredictedDecoder(data)
    probabilities = _as_probabilities(probabilities)
    if probabilities.shape != (decoder.symbols, decoder.alphabet_size):
        raise CodebookError(
            f"the payload codes {decoder.symbols} symbols of an alphabet of "
            f"{decoder.alphabet_size}, so it needs {decoder.symbols} x "
            f"{decoder.alphabet_size} probabilities, not {_shape(probabilities.shape)}")
    if decoder.eof:  # no symbols: checked already
        return np.empty(0, dtype=_symbol_type(decoder.alphabet_size))
    return decoder.decode(probabilities)


class PredictedDecoder:
    """Decodes a payload of :func:`encode_with_probabilities` a row at a time.

    For an autoregressive model, whose row i depends on the symbols before i, the rows
    cannot all be given up front: ask the model for a row, ``next(row)`` gives the symbol,
    feed it to the model, and so on, n times::

        decoder = PredictedDecoder(data)
        history = []
        while not decoder.eof:
            history.append(decoder.next(model.predict(history)))

    The model must give bit for bit the rows the encoder had (see the module's
    docstring).  ``decode(rows)`` takes many rows at once.  When the last symbol is
    decoded, the payload's end and its CRC-32 are checked (a ChecksumError from that last
    call when the symbols do not match); asking for more raises EOFError.
    """

    def __init__(self, data: BytesLike, /) -> None:
        data = bytes(data)
        self._precision, self._symbols, self._size, start = _read_header(data)
        if len(data) - start < PROBABILITY_STATE_BYTES + _CRC_BYTES:
            raise TruncatedError("the payload ends before its coder's state and CRC-32: it is "
                                 "cut short")
        self._words = data[start:len(data) - _CRC_BYTES]
        self._crc = int.from_bytes(data[len(data) - _CRC_BYTES:], "little")
        if (len(self._words) - PROBABILITY_STATE_BYTES) % 4:
            raise FormatError("the coded words are not whole 32-bit words: the payload is "
                              "damaged or cut short")
        state = int.from_bytes(self._words[:PROBABILITY_STATE_BYTES], "little")
        if state < ANS_LOWER_BOUND:
            raise FormatError("the coder's state is below 2**32, which no encoder leaves: the "
                              "payload is damaged")
        self._cursor = np.array([state, PROBABILITY_STATE_BYTES, 0], dtype=np.uint64)
        self._seen = 0  # the CRC-32 of the symbols so far
        self._failed: FormatError | None = None
        self._eof = False
        if self._symbols == 0:
            self._finish()

    @property
    def symbols(self) -> int:
        """n, how many symbols the payload codes."""
        return self._symbols

    @property
    def alphabet_size(self) -> int:
        """K, how many probabilities a row holds."""
        return self._size

    @property
    def precision(self) -> int:
        return self._precision

    @property
    def decoded(self) -> int:
        """How many symbols are decoded so far."""
        return int(self._cursor[2])

    @property
    def eof(self) -> bool:
        """True once all n symbols are decoded and checked."""
        return self._eof

    def next(self, row: npt.ArrayLike, /) -> int:
        """The next symbol, decoded with *row* (K probabilities: the model's prediction of
        it, made from the symbols before)."""
        row = _as_probabilities(row, one_row=True)
        return int(self.decode(row[np.newaxis])[0])

    def decode(self, rows: npt.ArrayLike, /) -> Symbols:
        """The next len(rows) symbols, decoded with *rows* (m x K, at most as many rows as
        symbols remain)."""
        if self._failed is not None:
            raise FormatError(f"this decoder stopped at an error: {self._failed}")
        if self._eof:
            raise EOFError(f"all {self._symbols} symbols are decoded")
        rows = _as_probabilities(rows)
        remaining = self._symbols - self.decoded
        if rows.shape[1] != self._size or len(rows) > remaining:
            raise CodebookError(
                f"{_shape(rows.shape)} probabilities given, but {remaining} symbols of an "
                f"alphabet of {self._size} remain to decode: give at most {remaining} rows of "
                f"{self._size}")
        out: np.ndarray = np.empty(len(rows), dtype=_symbol_type(self._size))
        first = self.decoded
        for start, chunk in _chunks(rows):
            _check_rows(chunk, first + start)
            table = _cumulative(chunk, self._precision)
            try:
                found = backend.kernels.probability_decode(self._words, self._cursor, table,
                                                           self._precision)
            except FormatError as error:
                self._failed = FormatError(
                    f"{error}: the payload is damaged or cut short, or these are not the "
                    "probabilities it was encoded with")
                raise self._failed from None
            out[start:start + len(chunk)] = found
        self._seen = backend.kernels.crc32(_symbol_bytes(out, self._size), self._seen)
        if self.decoded == self._symbols:
            self._finish()
        return out

    def _finish(self) -> None:
        """Check that the coded words end where the last symbol does, and the CRC-32."""
        state, position = int(self._cursor[0]), int(self._cursor[1])
        error: FormatError | None = None
        if position != len(self._words):
            error = FormatError(
                f"{(len(self._words) - position) // 4} coded words are left after the last "
                "symbol: the payload is damaged, or these are not the probabilities it was "
                "encoded with")
        elif state != ANS_LOWER_BOUND:
            error = FormatError(
                "the coder does not end in the state it began with: the payload is damaged, "
                "or these are not the probabilities it was encoded with")
        elif self._seen != self._crc:
            error = ChecksumError(
                f"the decoded symbols' CRC-32 is {self._seen:08x}, but the payload's is "
                f"{self._crc:08x}: the decoder was not given bit for bit the probabilities "
                "the symbols were encoded with (another model or weights, float32 for "
                "float64, arithmetic in another order, another BLAS or libm), or the payload "
                "is damaged")
        if error is not None:
            self._failed = error
            raise error
        self._eof = True


# -- checking the arguments ----------------------------------------------------------------


def _shape(shape: tuple[int, ...]) -> str:
    return " x ".join(map(str, shape)) if len(shape) > 1 else f"an array of shape {shape}"


def _as_probabilities(probabilities: npt.ArrayLike, one_row: bool = False) -> np.ndarray:
    """The array as given (float64 or float32, not copied), its shape checked."""
    array = np.asarray(probabilities)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"probabilities must be numbers, not {array.dtype}")
    wanted = 1 if one_row else 2
    if array.ndim != wanted:
        what = ("a row must be a 1-D array of K probabilities" if one_row else
                "probabilities must be a 2-D array, n rows (one a symbol) of K probabilities")
        raise CodebookError(f"{what}, not {_shape(array.shape)}")
    size = array.shape[-1]
    if not 2 <= size <= LARGEST_ALPHABET:
        raise CodebookError(f"an alphabet of {size} symbols cannot be coded: rows must hold "
                            f"2 to {LARGEST_ALPHABET} probabilities")
    return array


def _as_symbols(given: npt.ArrayLike, n: int, size: int) -> np.ndarray:
    if isinstance(given, bytes | bytearray | memoryview):
        given = np.frombuffer(given, dtype=np.uint8)
    symbols: np.ndarray = np.asarray(given)
    if symbols.size == 0 and symbols.ndim == 1:
        symbols = symbols.astype(np.intp)  # [] is float64 to numpy
    if symbols.dtype.kind not in "iu":
        raise TypeError(f"symbols must be integers (or bytes), not {symbols.dtype}")
    if symbols.ndim != 1 or len(symbols) != n:
        given = len(symbols) if symbols.ndim == 1 else f"an array of shape {symbols.shape}"
        raise CodebookError(f"{n} rows of probabilities need {n} symbols, one a row, not "
                            f"{given}")
    outside = (symbols < 0) | (symbols >= size)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise CodebookError(f"symbol {int(symbols[i])} at position {i} is outside the "
                            f"alphabet of the {size} probabilities a row holds (0 to "
                            f"{size - 1})")
    indices: np.ndarray = symbols.astype(np.intp, copy=False)
    return indices


def _check_precision(precision: int, size: int) -> None:
    if not isinstance(precision, int) or not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be 1 to {MAX_PRECISION} bits, not {precision!r}")
    if size > 1 << precision:
        raise CodebookError(f"an alphabet of {size} symbols needs a precision of at least "
                            f"{(size - 1).bit_length()} bits (every symbol takes at least "
                            f"1 of 2**precision), not {precision}")


def _chunks(probabilities: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, float64 rows) of *probabilities*, a few MB at a time."""
    step = max(1, _CHUNK // probabilities.shape[1])
    for start in range(0, len(probabilities), step):
        yield start, probabilities[start:start + step].astype(np.float64, copy=False)


def _check_rows(rows: np.ndarray, first: int) -> None:
    """A CodebookError naming the first row (numbered from *first*) that is not a
    distribution."""
    sums = rows.sum(axis=1)
    off = ~(np.abs(sums - 1) <= TOLERANCE)  # NaN and inf sums too
    negative = rows.min(axis=1) < 0
    bad = np.flatnonzero(off | negative)
    if not bad.size:
        return
    i = int(bad[0])
    row = rows[i]
    if not np.isfinite(row).all():
        raise CodebookError(f"row {first + i} of the probabilities holds NaN or infinity: "
                            "every probability must be a finite number")
    if negative[i]:
        raise CodebookError(f"row {first + i} of the probabilities holds a negative number "
                            f"({float(row.min())!r}): probabilities are at least 0")
    raise CodebookError(
        f"row {first + i} of the probabilities sums to {float(sums[i])!r}, not 1 (within "
        f"{TOLERANCE}): each row must be a distribution, a softmax's output (not logits); "
        "divide each row by its sum, in float64, if rounding put it off, and give the "
        "decoder the very same array")


# -- the payload ---------------------------------------------------------------------------


def _symbol_type(size: int) -> type:
    return np.uint8 if size <= 256 else np.uint16


def _symbol_bytes(symbols: np.ndarray, size: int) -> bytes:
    """What the CRC-32 is of: the symbols as bytes (K <= 256), else as little-endian 16-bit
    numbers."""
    return symbols.astype(np.uint8 if size <= 256 else "<u2", copy=False).tobytes()


def _number(value: int) -> bytes:
    """LEB128."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _header(precision: int, n: int, size: int) -> bytes:
    return bytes([_FORMAT, precision]) + _number(n) + _number(size)


def _read_number(data: bytes, pos: int, what: str) -> tuple[int, int]:
    value = 0
    for k in range(_LONGEST_NUMBER):
        if pos + k >= len(data):
            raise TruncatedError(f"the payload ends inside its header ({what})")
        byte = data[pos + k]
        value |= (byte & 0x7F) << (7 * k)
        if byte < 0x80:
            if byte == 0 and k:
                raise FormatError(f"the header's {what} is written in more bytes than it "
                                  "takes: the payload is damaged")
            return value, pos + k + 1
    raise FormatError(f"the header's {what} takes more than {_LONGEST_NUMBER} bytes: the "
                      "payload is damaged")


def _read_header(data: bytes) -> tuple[int, int, int, int]:
    """(precision, n, K, where the coder's state starts)."""
    if len(data) < 2:
        raise TruncatedError("the payload ends inside its header")
    if data[0] != _FORMAT:
        raise FormatError(f"not a payload of encode_with_probabilities: it starts with "
                          f"{data[0]:#04x}, not the format byte {_FORMAT:#04x}")
    precision = data[1]
    if not 1 <= precision <= MAX_PRECISION:
        raise FormatError(f"the header's precision, {precision} bits, is not 1 to "
                          f"{MAX_PRECISION}: the payload is damaged")
    n, pos = _read_number(data, 2, "count of symbols")
    size, pos = _read_number(data, pos, "alphabet size")
    if not 2 <= size <= min(LARGEST_ALPHABET, 1 << precision):
        raise FormatError(f"the header's alphabet of {size} symbols is not 2 to "
                          f"{min(LARGEST_ALPHABET, 1 << precision)}: the payload is damaged")
    return precision, n, size, pos
