"""Unsigned LEB128 numbers, packed and parsed a whole array at a time.

Tables in the file format store lists of small numbers this way: 7 bits per
byte, least significant group first, the high bit set on every byte but the
last.  Both directions are vectorised, since a table of a large alphabet can
list a great many symbols.
"""

from __future__ import annotations

import numpy as np

from .._buffers import Bytes
from .._errors import FormatError, TruncatedError
from ..kernels import backend

__all__ = ["pack_varints", "parse_varints"]


def pack_varints(values: np.ndarray) -> bytes:
    """The LEB128 encoding of each of *values* (non-negative, below 2**35), concatenated.
    A kernel: vectorised in numpy, or a loop in C."""
    packed: bytes = backend.kernels.pack_varints(np.asarray(values, dtype=np.uint64))
    return packed


def parse_varints(buffer: Bytes, pos: int, count: int, *, longest: int, what: str,
                  noun: str = "number") -> tuple[np.ndarray, int]:
    """Read *count* LEB128 numbers of at most *longest* bytes each, starting at *pos*.

    Returns them (int64) and the position after the last.  ``TruncatedError``
    if the buffer ends first; ``FormatError`` for a number longer than *longest*.
    """
    if count == 0:
        return np.zeros(0, dtype=np.int64), pos
    fast: tuple[np.ndarray, int] | None = backend.kernels.parse_varints(buffer, pos, count,
                                                                         longest)
    if fast is not None:
        return fast
    available = bytes(buffer[pos:pos + count * longest])
    raw = np.frombuffer(available, dtype=np.uint8)
    ends = np.flatnonzero(raw < 0x80)[:count]
    starts = np.concatenate(([0], ends[:-1] + 1))
    sizes = ends - starts + 1
    if ends.size and sizes.max() > longest:
        raise FormatError(f"{what} has a {noun} longer than {longest} bytes")
    if ends.size < count:
        if raw.size == count * longest:  # room enough: a number there is too long
            raise FormatError(f"{what} has a {noun} longer than {longest} bytes")
        raise TruncatedError("compressed data ended in the middle of a frame")
    values = np.zeros(count, dtype=np.int64)
    for k in range(longest):
        present = sizes > k
        values[present] |= (raw[starts[present] + k].astype(np.int64) & 0x7F) << (7 * k)
    return values, pos + int(ends[-1]) + 1


# -- single sizes, in version-2 frames (FORMAT.md, section 17) ------------------------------


def varint(value: int) -> bytes:
    """*value* (a non-negative int) as one LEB128 number, in its shortest form."""
    out = bytearray()
    while True:
        group, value = value & 0x7F, value >> 7
        out.append(group | (0x80 if value else 0))
        if not value:
            return bytes(out)


def varint_size(value: int) -> int:
    """The bytes :func:`varint` takes for *value*."""
    return max(1, -(-value.bit_length() // 7))


def read_varint(buffer: Bytes, pos: int, *, longest: int, what: str) -> tuple[int, int]:
    """One LEB128 number at *pos* of at most *longest* bytes, in its shortest form (version
    2 gives every value one encoding): the value and the position after it.

    ``TruncatedError`` if the buffer ends inside it; ``FormatError`` (naming *what*) for
    one longer than *longest* bytes or longer than it needs to be.
    """
    value = 0
    for k in range(longest):
        if pos + k >= len(buffer):
            raise TruncatedError("compressed data ended in the middle of a frame")
        byte = buffer[pos + k]
        value |= (byte & 0x7F) << (7 * k)
        if not byte & 0x80:
            if byte == 0 and k:
                raise FormatError(f"{what} is not in its shortest form (a LEB128 number "
                                  "ending in a zero byte)")
            return value, pos + k + 1
    raise FormatError(f"{what} is longer than {longest} bytes")
