"""The compact frequency table of version-2 frames (FORMAT.md, section 17.3).

Version 1 stores an rANS table as a byte of precision, a presence bitmap or
list, and every frequency as a LEB128 number: a 460-symbol table of a short
Korean text took 1 014 bytes, more than its Huffman code table (709), and a
byte block's table about 420.  Version 2 writes one bit string::

    precision (5 bits) | count - 1 | k_gap (4 bits) | symbols | k_freq (5 bits) | freqs

with every number an Exp-Golomb code of an order the encoder chooses (the
one that makes the table shortest): the listed symbols as the first one and
then the gaps between them, the frequencies less one, and nothing for the
last frequency, which is what the others leave of 2**precision.  The count
is of order 0.  The encoder also chooses the precision (``choose_precision``):
a table at 12 bits instead of 16 saves about 4 bits a symbol, which a small
block of many rare symbols needs more than the finer model.
"""

from __future__ import annotations

import numpy as np

from .._buffers import Bytes
from .._errors import FormatError, TruncatedError
from ..kernels import backend
from ..models.alphabet import Alphabet
from ..models.frequency_table import MAX_PRECISION, FrequencyTable, quantize

__all__ = ["choose_precision", "compact_table_bits", "pack_compact_frequencies",
           "parse_compact_frequencies"]

_PRECISION_BITS = 5
_GAP_ORDER_BITS = 4
_FREQ_ORDER_BITS = 5
#: The greatest order of a gap's code (4 bits) and of a frequency's (5 bits, but a
#: frequency less one is below 2**24).
MAX_GAP_ORDER = 15
MAX_FREQ_ORDER = MAX_PRECISION - 1
# The most zeros an Exp-Golomb code in a table may start with: every number a table holds
# is below 2**24 (frequencies) or the utf8 alphabet's size, 0x110000 < 2**21.
_LONGEST_PREFIX = 24


def _code_bits(values: np.ndarray, order: int) -> int:
    """The bits of *values* (non-negative) as Exp-Golomb codes of *order*."""
    if values.size == 0:
        return 0
    shifted = values.astype(np.int64) + (1 << order)
    lengths = np.floor(np.log2(shifted)).astype(np.int64) + 1
    # log2 of an int64 is exact enough below 2**52, and these are below 2**25.
    return int((2 * lengths - order - 1).sum())


def _best_order(values: np.ndarray, most: int) -> tuple[int, int]:
    """The order (0 to *most*) whose codes of *values* are shortest (the least on a tie),
    and their bits."""
    if values.size == 0:
        return 0, 0
    # Every order at once: a code of order k for v is 2·bit_length(v + 2^k) - k - 1 bits,
    # and frexp's exponent is the bit length of an integer (exact below 2**53; these are
    # below 2**25).  (One order at a time took a quarter of compressing a small file.)
    orders = np.arange(most + 1, dtype=np.int64)
    _, lengths = np.frexp(values.astype(np.int64)[np.newaxis, :] + (1 << orders)[:, np.newaxis])
    sizes = (2 * lengths.astype(np.int64).sum(axis=1) - (orders + 1) * values.size)
    best = int(np.argmin(sizes))
    return best, int(sizes[best])


def _fields(listed: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gaps = np.diff(np.asarray(listed, dtype=np.int64), prepend=-1) - 1
    return gaps, np.asarray(freqs, dtype=np.int64)[:-1] - 1


def compact_table_bits(listed: np.ndarray, freqs: np.ndarray) -> int:
    """The bits of the compact table of these (increasing) symbols and frequencies, before
    the padding to a whole byte."""
    gaps, rest = _fields(listed, freqs)
    count = _code_bits(np.array([len(listed) - 1]), 0)
    return (_PRECISION_BITS + count + _GAP_ORDER_BITS + _best_order(gaps, MAX_GAP_ORDER)[1]
            + _FREQ_ORDER_BITS + _best_order(rest, MAX_FREQ_ORDER)[1])


def _fixed(value: int, width: int) -> list[int]:
    """*value* in *width* bits, MSB first."""
    return [(value >> shift) & 1 for shift in range(width - 1, -1, -1)]


def _golomb(value: int, order: int) -> list[int]:
    """One Exp-Golomb code of *order*, bit by bit (a table's few single numbers)."""
    shifted = value + (1 << order)
    return [0] * (shifted.bit_length() - order - 1) + _fixed(shifted, shifted.bit_length())


def _codes(values: np.ndarray, order: int) -> np.ndarray:
    """*values* as Exp-Golomb codes of *order*, concatenated: an array of 0 and 1, MSB
    first.  Each number's 64 bits are unpacked at once and its code is the last
    2·bit_length(v + 2^order) - order - 1 of them (its leading zeros, then v + 2^order); a
    string built number by number took most of a small file's compression."""
    if values.size == 0:
        return np.zeros(0, dtype=np.uint8)
    shifted = values.astype(np.int64) + (1 << order)
    _, lengths = np.frexp(shifted)  # the bit length of each (exact below 2**53)
    width_of = 2 * lengths.astype(np.int64) - order - 1
    bits = np.unpackbits(shifted.astype(">u8").view(np.uint8)).reshape(-1, 64)
    return bits[np.arange(64) >= 64 - width_of[:, np.newaxis]]


def pack_compact_frequencies(table: FrequencyTable, listed: np.ndarray) -> bytes:
    """The compact table of *table*, whose frequencies are those of the (increasing)
    symbols *listed*, in turn."""
    fast: bytes | None = backend.kernels.write_compact_frequencies(listed, table.freqs,
                                                                   table.precision)
    if fast is not None:
        return fast
    gaps, rest = _fields(listed, table.freqs)
    gap_order, _ = _best_order(gaps, MAX_GAP_ORDER)
    freq_order, _ = _best_order(rest, MAX_FREQ_ORDER)
    bits = np.concatenate([
        np.array(_fixed(table.precision, _PRECISION_BITS) + _golomb(len(listed) - 1, 0)
                 + _fixed(gap_order, _GAP_ORDER_BITS), dtype=np.uint8),
        _codes(gaps, gap_order), np.array(_fixed(freq_order, _FREQ_ORDER_BITS), dtype=np.uint8),
        _codes(rest, freq_order)])
    return np.packbits(bits).tobytes()  # padded with zero bits to a whole byte


class _Bits:
    """A bit string read MSB first from *buffer* at *pos*, turned into text ('0' and '1')
    a slice at a time, as far as it is read: a table's end is known only once read."""

    _CHUNK = 4096

    def __init__(self, buffer: Bytes, pos: int, what: str) -> None:
        self.buffer, self.start, self.what = buffer, pos, what
        self.text, self.at = "", 0

    def _more(self) -> bool:
        begin = self.start + len(self.text) // 8
        raw = bytes(self.buffer[begin:begin + self._CHUNK])
        if not raw:
            return False
        self.text += format(int.from_bytes(raw, "big"), f"0{8 * len(raw)}b")
        return True

    def available(self) -> int:
        """The bits left in the buffer, from where reading is."""
        return 8 * (len(self.buffer) - self.start) - self.at

    def read(self, width: int) -> int:
        while self.at + width > len(self.text):
            if not self._more():
                raise TruncatedError("compressed data ended in the middle of a frame")
        value = int(self.text[self.at:self.at + width], 2) if width else 0
        self.at += width
        return value

    def golomb(self, order: int) -> int:
        """An Exp-Golomb code of *order*."""
        while True:
            one = self.text.find("1", self.at, self.at + _LONGEST_PREFIX + 1)
            if one >= 0:
                break
            if len(self.text) - self.at > _LONGEST_PREFIX:
                raise FormatError(f"{self.what} holds an Exp-Golomb code of more than "
                                  f"{_LONGEST_PREFIX} leading zeros")
            if not self._more():
                raise TruncatedError("compressed data ended in the middle of a frame")
        zeros = one - self.at
        self.at = one
        return self.read(zeros + order + 1) - (1 << order)

    def finish(self) -> int:
        """Read the padding to a whole byte, which must be zero; the position after it."""
        padding = -self.at % 8
        if self.read(padding):
            raise FormatError(f"{self.what} has non-zero padding bits")
        return self.start + self.at // 8


def parse_compact_frequencies(buffer: Bytes, pos: int, alphabet: Alphabet, *, what: str,
                              ) -> tuple[np.ndarray, FrequencyTable, int]:
    """Read a compact table at *pos*: the symbols it lists (increasing), their frequencies
    as a table indexed by position in that list, and the position after it."""
    fast = backend.kernels.read_compact_frequencies(buffer, pos, alphabet.size)
    if fast is not None:  # a sound table, read in C; a bad one is read here, to say why
        listed, freqs, precision, end = fast
        return listed, FrequencyTable(freqs, precision), end
    bits = _Bits(buffer, pos, what)
    precision = bits.read(_PRECISION_BITS)
    if not 1 <= precision <= MAX_PRECISION:
        raise FormatError(f"{what} declares a precision of {precision} bits "
                          f"(allowed: 1 to {MAX_PRECISION})")
    count = bits.golomb(0) + 1
    total = 1 << precision
    noun = "byte values" if alphabet.name == "bytes" else "symbols"
    if count > min(alphabet.size, total):
        raise FormatError(f"{what} lists {count} {noun}; at most "
                          f"{min(alphabet.size, total)} fit its alphabet and precision")
    # Each listed symbol takes a bit at least: a count the data cannot hold is refused
    # before anything is sized from it.
    if count > bits.available():
        raise TruncatedError("compressed data ended in the middle of a frame")
    gap_order = bits.read(_GAP_ORDER_BITS)
    listed = np.empty(count, dtype=np.int64)
    symbol = -1
    for index in range(count):
        symbol += bits.golomb(gap_order) + 1
        if symbol >= alphabet.size:
            raise FormatError(f"{what} lists symbol {symbol}, outside the {alphabet.name} "
                              "alphabet")
        listed[index] = symbol
    freq_order = bits.read(_FREQ_ORDER_BITS)
    if freq_order > MAX_FREQ_ORDER:
        raise FormatError(f"{what} declares frequency codes of order {freq_order} "
                          f"(allowed: 0 to {MAX_FREQ_ORDER})")
    freqs = np.empty(count, dtype=np.int64)
    left = total
    for index in range(count - 1):
        freq = bits.golomb(freq_order) + 1
        left -= freq
        # Each symbol after this one needs a frequency of 1 at least.
        if left < count - 1 - index:
            raise FormatError(f"{what}'s frequencies sum to more than 2**{precision}")
        freqs[index] = freq
    freqs[-1] = left
    return listed, FrequencyTable(freqs, precision), bits.finish()


def choose_precision(counts: np.ndarray, listed: np.ndarray, default: int, *,
                     fast: int | None = None) -> FrequencyTable:
    """The table of *counts* (one per symbol of *listed*) whose compact table and payload
    together are smallest, trying precisions down from *default* while that pays: each
    bit less saves about a bit a symbol of table and costs the block its coarser model.

    With *fast*, a precision the decoder reads faster (BYTE_BLOCK_PRECISION for a byte
    block: one 32-bit entry a slot, a 16 KB table that stays in the L1 cache), the table is
    taken there instead of at a higher best precision when its bits exceed the best's by at
    most 1/1024 of them (a byte block of text, whose best is 14 to 16, loses 0.01 to 0.05%).
    """
    counts = np.asarray(counts, dtype=np.int64)
    least = max(1, int(counts.size - 1).bit_length())  # every symbol needs a frequency

    def bits_at(precision: int) -> tuple[np.ndarray, float]:
        freqs = quantize(counts, precision)
        payload = float(np.dot(counts, precision - np.log2(freqs)))
        # The table's bits before its padding: whole bytes would make a step that saves a
        # few bits look like none, and stop the search at 16 for a small table.
        return freqs, compact_table_bits(listed, freqs) + payload

    best: FrequencyTable | None = None
    best_bits = 0.0
    for precision in range(default, least - 1, -1):
        freqs, bits = bits_at(precision)
        if best is not None and bits >= best_bits:
            break
        best, best_bits = FrequencyTable(freqs, precision), bits
    assert best is not None  # default >= least: one precision at least was tried
    if fast is not None and least <= fast < best.precision:
        freqs, bits = bits_at(fast)
        if bits <= best_bits + best_bits / 1024:
            return FrequencyTable(freqs, fast)
    return best
