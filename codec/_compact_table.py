"""Compact code tables for byte blocks: the 256 code lengths, run-length coded and then
Huffman coded, as DEFLATE codes its code lengths (FORMAT.md, section 16).

A plain table spends a 32-byte presence bitmap and a few bits per coded byte; a
block of a few kilobytes cannot afford that.  Here the lengths (0 for a byte
with no code) become symbols of a 19-letter alphabet::

    0..15  a code length
    16     the previous length again, 3 to 6 times (2 extra bits)
    17     3 to 10 zeros (3 extra bits)
    18     11 to 138 zeros (7 extra bits)

and those symbols are written with a canonical Huffman code of at most 7 bits,
whose lengths come first, 3 bits each, in the order of :data:`ORDER` (the
lengths of rarely used symbols come last, so trailing zeros can be left out).
Everything is one bit string, most significant bit first, padded with zero bits
to a whole byte.  A table has a few hundred bits: plain Python loops suffice.
"""

from __future__ import annotations

import numpy as np

from . import _backend
from ._errors import CodebookError, FormatError, TruncatedError
from .codebook import Codebook, canonical_codes, optimal_lengths

__all__ = ["LONGEST", "ORDER", "pack_compact_table", "parse_compact_table", "run_length",
           "write_table"]

#: The longest code length a compact table can hold.
LONGEST = 15
#: The order in which the code-length code's lengths are stored (DEFLATE's).
ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)
_LENGTH_CODE_LIMIT = 7
_REPEAT, _ZEROS, _MANY_ZEROS = 16, 17, 18
_EXTRA_BITS = {_REPEAT: 2, _ZEROS: 3, _MANY_ZEROS: 7}
_BASE = {_REPEAT: 3, _ZEROS: 3, _MANY_ZEROS: 11}


def run_length(lengths: np.ndarray) -> tuple[list[int], list[int]]:
    """The 256 lengths as symbols of the run-length alphabet, and each one's extra value."""
    starts = np.flatnonzero(np.diff(lengths, prepend=-1))
    runs = np.diff(np.append(starts, lengths.size)).tolist()
    symbols: list[int] = []
    extras: list[int] = []
    for value, run in zip(lengths[starts].tolist(), runs, strict=True):
        if value == 0:
            while run >= 11:
                take = min(run, 138)
                symbols.append(_MANY_ZEROS)
                extras.append(take - 11)
                run -= take
            if run >= 3:
                symbols.append(_ZEROS)
                extras.append(run - 3)
                run = 0
        else:
            symbols.append(value)
            extras.append(0)
            run -= 1
            while run >= 3:
                take = min(run, 6)
                symbols.append(_REPEAT)
                extras.append(take - 3)
                run -= take
        symbols += [value] * run
        extras += [0] * run
    return symbols, extras


def pack_compact_table(lengths: np.ndarray) -> bytes | None:
    """The compact table of a code over the 256 byte values, or None if it cannot hold it
    (a code longer than :data:`LONGEST` bits).  The run-length coding and the writing are
    kernels (in C, or :func:`run_length` and :func:`write_table` here)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size != 256 or lengths.max() > LONGEST:
        return None
    counts = np.asarray(_backend.kernels.compact_symbol_counts(lengths), dtype=np.int64)
    widths = optimal_lengths(counts, _LENGTH_CODE_LIMIT)
    return _backend.kernels.write_compact_table(lengths, widths)


def write_table(lengths: np.ndarray, widths: np.ndarray) -> bytes:
    """The compact table of these 256 *lengths*, with a code-length code of these 19
    *widths* (built for :func:`run_length`'s symbols): the reference writer."""
    symbols, extras = run_length(lengths)
    codes = canonical_codes(widths).tolist()
    widths = widths.tolist()
    stored = [widths[symbol] for symbol in ORDER]
    while len(stored) > 4 and stored[-1] == 0:
        stored.pop()
    # One big integer, shifted left and or-ed field by field: a hundred-odd fields.
    value, count = len(stored) - 4, 4
    for width in stored:
        value, count = value << 3 | width, count + 3
    for symbol, extra in zip(symbols, extras, strict=True):
        value, count = value << widths[symbol] | codes[symbol], count + widths[symbol]
        if symbol >= _REPEAT:
            extra_bits = _EXTRA_BITS[symbol]
            value, count = value << extra_bits | extra, count + extra_bits
    padding = -count % 8
    return (value << padding).to_bytes((count + padding) // 8, "big")


# The most bytes a compact table can take: 4 + 19·3 bits, then at most 256 symbols of at
# most 7 + 7 bits each.
_MOST_BYTES = (4 + 19 * 3 + 256 * (_LENGTH_CODE_LIMIT + 7) + 7) // 8


class _Reader:
    """Reads a bit string MSB first from *buffer* at byte *pos* (all the bits a table can
    take are turned into text at once: '0' and '1' slice faster than bits shift)."""

    def __init__(self, buffer, pos: int, what: str) -> None:
        raw = bytes(buffer[pos:pos + _MOST_BYTES])
        self.bits = format(int.from_bytes(raw, "big"), f"0{8 * len(raw)}b") if raw else ""
        self.start, self.at, self.what = pos, 0, what

    def read(self, width: int) -> int:
        end = self.at + width
        if end > len(self.bits):
            raise TruncatedError("compressed data ended in the middle of a frame")
        value = int(self.bits[self.at:end], 2) if width else 0
        self.at = end
        return value

    def finish(self) -> int:
        """Check the padding of the last byte; the position after the table."""
        whole = -(-self.at // 8)
        if "1" in self.bits[self.at:8 * whole]:
            raise FormatError(f"{self.what} has non-zero padding bits")
        return self.start + whole


def parse_compact_table(buffer, pos: int, *, what: str = "compact code table",
                        ) -> tuple[np.ndarray, int]:
    """Read a compact table at *pos*: the 256 lengths, and the position after the table.
    The lengths are checked to form a code (FORMAT.md, rules T1 to T5)."""
    reader = _Reader(buffer, pos, what)
    stored = reader.read(4) + 4
    length_lengths = [0] * 19
    for symbol in ORDER[:stored]:
        length_lengths[symbol] = reader.read(3)
    try:
        code = Codebook.from_lengths(np.array(length_lengths))
    except CodebookError as error:
        raise FormatError(f"{what}: its code-length code is invalid: {error}") from None
    # Canonical decoding by table: each of the 2^7 values of the next 7 bits gives the
    # symbol whose codeword begins them and that codeword's length (None: no codeword).
    lookup: list[tuple[int, int] | None] = [None] * (1 << _LENGTH_CODE_LIMIT)
    for symbol in range(19):
        width = int(code.lengths[symbol])
        if width:
            first = int(code.codes[symbol]) << (_LENGTH_CODE_LIMIT - width)
            lookup[first:first + (1 << (_LENGTH_CODE_LIMIT - width))] = (
                [(symbol, width)] * (1 << (_LENGTH_CODE_LIMIT - width)))
    lengths: list[int] = []
    bits = reader.bits
    while len(lengths) < 256:
        ahead = bits[reader.at:reader.at + _LENGTH_CODE_LIMIT]
        found = lookup[int(ahead or "0", 2) << (_LENGTH_CODE_LIMIT - len(ahead))]
        if found is None:
            if len(ahead) < _LENGTH_CODE_LIMIT:
                raise TruncatedError("compressed data ended in the middle of a frame")
            raise FormatError(f"{what} holds a bit string that is no codeword")
        symbol, width = found
        reader.read(width)  # raises TruncatedError if the codeword runs past the data
        if symbol < _REPEAT:
            lengths.append(symbol)
            continue
        run = _BASE[symbol] + reader.read(_EXTRA_BITS[symbol])
        if symbol == _REPEAT and not lengths:
            raise FormatError(f"{what} repeats a length before giving one")
        if len(lengths) + run > 256:
            raise FormatError(f"{what} gives more than 256 lengths")
        lengths.extend([lengths[-1] if symbol == _REPEAT else 0] * run)
    end = reader.finish()
    result = np.array(lengths, dtype=np.int64)
    try:
        Codebook.from_lengths(result)
    except CodebookError as error:
        raise FormatError(f"invalid {what}: {error}") from None
    return result, end
