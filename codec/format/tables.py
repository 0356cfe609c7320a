"""Code tables (FORMAT.md, sections 6 and 16.1): the plain table and the compact one.

A plain table lists the symbols it codes (``presence``) and stores each one's
length in as few bits as the longest needs.

A plain table spends a 32-byte presence bitmap and a few bits per coded byte
on a byte block; a block of a few kilobytes cannot afford that.  A compact
table holds the block's 256 code lengths run-length coded and then Huffman
coded, as DEFLATE codes its code lengths: the lengths (0 for a byte with no
code) become symbols of a 19-letter alphabet::

    0..15  a code length
    16     the previous length again, 3 to 6 times (2 extra bits)
    17     3 to 10 zeros (3 extra bits)
    18     11 to 138 zeros (7 extra bits)

and those symbols are written with a canonical Huffman code of at most 7 bits,
whose lengths come first, 3 bits each, in the order of ``COMPACT_ORDER`` (the
lengths of rarely used symbols come last, so trailing zeros can be left out).
Everything is one bit string, most significant bit first, padded with zero bits
to a whole byte.  A table has a few hundred bits: plain Python loops read it;
writing one is a kernel (``compact_symbol_counts``, ``write_compact_table``).
"""

from __future__ import annotations

import numpy as np

from .._buffers import Bytes
from .._errors import CodebookError, FormatError, TruncatedError
from ..kernels import backend
from ..kernels.reference.tables import COMPACT_ORDER, EXTRA_BITS, REPEAT, RUN_BASE
from ..models.alphabet import ALPHABETS, Alphabet
from ..models.codebook import Codebook, optimal_lengths
from .layout import LONGEST_CODE, need
from .presence import pack_presence, parse_presence

__all__ = ["LONGEST_COMPACT", "pack_code_table", "pack_compact_table", "parse_code_table",
           "parse_compact_table", "plain_table_size"]

# -- the plain table (FORMAT.md, section 6) ---------------------------------------------------


def _width(longest: int) -> int:
    """Bits per stored length: lengths 1..longest are stored as 0..longest-1."""
    return (longest - 1).bit_length()


def pack_code_table(lengths: np.ndarray, alphabet: Alphabet = ALPHABETS["bytes"],
                    listed: np.ndarray | None = None) -> bytes:
    """Longest length u8 | presence (bitmap or list) | packed (length - 1)s.

    *lengths* has one length per symbol of the alphabet (0: no code), or,
    with *listed*, one per symbol of that increasing list, each non-zero.
    """
    if listed is None:
        listed = np.flatnonzero(lengths)
        lengths = lengths[listed]
    longest = int(lengths.max())
    width = _width(longest)
    values = lengths.astype(np.uint32) - 1
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint32)
    value_bits = ((values[:, np.newaxis] >> shifts) & 1).astype(np.uint8).ravel()
    return (bytes([longest]) + pack_presence(listed, alphabet)
            + np.packbits(value_bits).tobytes())


def plain_table_size(lengths: np.ndarray) -> int:
    """The bytes :func:`pack_code_table` takes for these byte-value *lengths*."""
    present = int(np.count_nonzero(lengths))
    return 1 + 32 + (present * _width(int(lengths.max())) + 7) // 8


def parse_code_table(buffer: Bytes, pos: int, alphabet: Alphabet = ALPHABETS["bytes"], *,
                     what: str = "code table") -> tuple[np.ndarray, np.ndarray, int]:
    """Read a code table at *pos*: the symbols it lists (increasing), their lengths, and
    the position after it."""
    need(buffer, pos, 1)
    longest = buffer[pos]
    if not 1 <= longest <= LONGEST_CODE:
        raise FormatError(f"{what} declares a longest code of {longest} bits "
                          f"(allowed: 1 to {LONGEST_CODE})")
    listed, pos = parse_presence(buffer, pos + 1, alphabet, what=what)
    width = _width(longest)
    packed_size = (listed.size * width + 7) // 8
    need(buffer, pos, packed_size)
    bits = np.unpackbits(np.frombuffer(bytes(buffer[pos:pos + packed_size]), dtype=np.uint8))
    if bits[listed.size * width:].any():
        raise FormatError(f"{what} has non-zero padding bits")
    weights = 1 << np.arange(width - 1, -1, -1, dtype=np.int64)
    lengths = bits[:listed.size * width].reshape(listed.size, width).astype(np.int64) @ weights
    lengths += 1
    if listed.size and lengths.max() != longest:
        raise FormatError(f"{what} declares a longest code of {longest} bits "
                          f"but its longest is {int(lengths.max())}")
    try:
        Codebook.from_lengths(lengths)  # a complete prefix code (or the one code of length 1)
    except CodebookError as error:
        raise FormatError(f"invalid {what}: {error}") from None
    return listed, lengths, pos + packed_size


# -- the compact table (FORMAT.md, section 16.1) ---------------------------------------------

#: The longest code length a compact table can hold.
LONGEST_COMPACT = 15


_LENGTH_CODE_LIMIT = 7


def pack_compact_table(lengths: np.ndarray) -> bytes | None:
    """The compact table of a code over the 256 byte values, or None if it cannot hold it
    (a code longer than :data:`LONGEST_COMPACT` bits).  The run-length coding and the writing are
    kernels."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size != 256 or lengths.max() > LONGEST_COMPACT:
        return None
    counts = np.asarray(backend.kernels.compact_symbol_counts(lengths), dtype=np.int64)
    widths = optimal_lengths(counts, _LENGTH_CODE_LIMIT)
    packed: bytes = backend.kernels.write_compact_table(lengths, widths)
    return packed


# The most bytes a compact table can take: 4 + 19·3 bits, then at most 256 symbols of at
# most 7 + 7 bits each.
_MOST_BYTES = (4 + 19 * 3 + 256 * (_LENGTH_CODE_LIMIT + 7) + 7) // 8


class _Reader:
    """Reads a bit string MSB first from *buffer* at byte *pos* (all the bits a table can
    take are turned into text at once: '0' and '1' slice faster than bits shift)."""

    def __init__(self, buffer: Bytes, pos: int, what: str) -> None:
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


def parse_compact_table(buffer: Bytes, pos: int, *, what: str = "compact code table",
                        ) -> tuple[np.ndarray, int]:
    """Read a compact table at *pos*: the 256 lengths, and the position after the table.
    The lengths are checked to form a code (FORMAT.md, rules T1 to T5)."""
    reader = _Reader(buffer, pos, what)
    stored = reader.read(4) + 4
    length_lengths = [0] * 19
    for symbol in COMPACT_ORDER[:stored]:
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
        if symbol < REPEAT:
            lengths.append(symbol)
            continue
        run = RUN_BASE[symbol] + reader.read(EXTRA_BITS[symbol])
        if symbol == REPEAT and not lengths:
            raise FormatError(f"{what} repeats a length before giving one")
        if len(lengths) + run > 256:
            raise FormatError(f"{what} gives more than 256 lengths")
        lengths.extend([lengths[-1] if symbol == REPEAT else 0] * run)
    end = reader.finish()
    result = np.array(lengths, dtype=np.int64)
    try:
        Codebook.from_lengths(result)
    except CodebookError as error:
        raise FormatError(f"invalid {what}: {error}") from None
    return result, end
