"""Unsigned LEB128 numbers, packed and parsed a whole array at a time.

Tables in the file format store lists of small numbers this way: 7 bits per
byte, least significant group first, the high bit set on every byte but the
last.  Both directions are vectorised, since a table of a large alphabet can
list a great many symbols.
"""

from __future__ import annotations

import numpy as np

from .._errors import FormatError, TruncatedError
from ..kernels import backend

__all__ = ["pack_varints", "parse_varints"]


def pack_varints(values: np.ndarray) -> bytes:
    """The LEB128 encoding of each of *values* (non-negative, below 2**35), concatenated.
    A kernel: vectorised in numpy, or a loop in C."""
    return backend.kernels.pack_varints(np.asarray(values, dtype=np.uint64))


def parse_varints(buffer, pos: int, count: int, *, longest: int, what: str,
                  noun: str = "number") -> tuple[np.ndarray, int]:
    """Read *count* LEB128 numbers of at most *longest* bytes each, starting at *pos*.

    Returns them (int64) and the position after the last.  ``TruncatedError``
    if the buffer ends first; ``FormatError`` for a number longer than *longest*.
    """
    if count == 0:
        return np.zeros(0, dtype=np.int64), pos
    fast = backend.kernels.parse_varints(buffer, pos, count, longest)
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
