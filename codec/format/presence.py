"""Which symbols a table lists: a bitmap for bytes, a list for larger alphabets.

A code table or a frequency table first says which symbols of the alphabet
it gives a code (or a frequency) to.  For the 256 byte values that is a
32-byte bitmap; for a large alphabet (Unicode code points, byte pairs) it is
the count of listed symbols as a u32, then the symbols in increasing order as
LEB128 numbers: the first symbol, then each gap to the next minus 1.
"""

from __future__ import annotations

import struct

import numpy as np

from .._buffers import Bytes
from .._errors import FormatError, TruncatedError
from ..models.alphabet import Alphabet
from .varint import pack_varints, parse_varints

__all__ = ["listed_symbols", "pack_presence", "parse_presence"]

_BITMAP_BYTES = 32
_COUNT = struct.Struct("<I")
# A symbol below 2**21 (every alphabet's are) takes at most three 7-bit groups.
_LONGEST_SYMBOL = 3


def pack_presence(present: np.ndarray, alphabet: Alphabet) -> bytes:
    """The presence field for the (increasing) symbols *present*."""
    if alphabet.name == "bytes":
        bitmap = np.zeros(alphabet.size, dtype=bool)
        bitmap[present] = True
        return np.packbits(bitmap).tobytes()
    gaps = np.diff(present, prepend=-1) - 1
    return _COUNT.pack(present.size) + pack_varints(gaps)


def parse_presence(buffer: Bytes, pos: int, alphabet: Alphabet, *, what: str,
                   ) -> tuple[np.ndarray, int]:
    """Read a presence field at *pos*: the listed symbols, in increasing order, and the end."""
    if alphabet.name == "bytes":
        if len(buffer) - pos < _BITMAP_BYTES:
            raise TruncatedError("compressed data ended in the middle of a frame")
        bitmap = np.frombuffer(bytes(buffer[pos:pos + _BITMAP_BYTES]), dtype=np.uint8)
        return np.flatnonzero(np.unpackbits(bitmap)), pos + _BITMAP_BYTES
    if len(buffer) - pos < _COUNT.size:
        raise TruncatedError("compressed data ended in the middle of a frame")
    (count,) = _COUNT.unpack_from(buffer, pos)
    if not 1 <= count <= alphabet.size:
        raise FormatError(f"{what} lists {count} symbols; the {alphabet.name} alphabet has "
                          f"1 to {alphabet.size}")
    gaps, end = parse_varints(buffer, pos + _COUNT.size, count, longest=_LONGEST_SYMBOL,
                              what=what, noun="symbol")
    present = np.cumsum(gaps + 1) - 1
    if present[-1] >= alphabet.size:
        raise FormatError(f"{what} lists symbol {int(present[-1])}, outside the "
                          f"{alphabet.name} alphabet")
    return present, end


def listed_symbols(symbols: np.ndarray, alphabet: Alphabet,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct *symbols* in increasing order, each symbol's position among them, and
    how often each occurs.

    A block's table lists only the symbols it holds, and its coder works on
    their positions, so that a small block of a large alphabet (50 code
    points of utf8's 1 114 112) costs time in proportion to the block.  The
    positions keep the symbols' order, so codes and frequencies come out as
    they would over the whole alphabet.
    """
    if symbols.size * 8 < alphabet.size:
        listed, positions = np.unique(symbols, return_inverse=True)
        return listed, positions.ravel(), np.bincount(positions.ravel(), minlength=listed.size)
    counts = np.bincount(symbols, minlength=alphabet.size)
    listed = np.flatnonzero(counts)
    position = np.zeros(alphabet.size, dtype=np.int64)
    position[listed] = np.arange(listed.size)
    return listed, position[symbols], counts[listed]
