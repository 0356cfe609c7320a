"""Counting symbols, with ``np.bincount``; joining output; and the CRC-32 of data."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from ..._buffers import BytesLike, as_buffers

__all__ = ["count_cells", "count_distinct", "count_symbols", "crc32", "join"]

#: The CRC-32 every block carries, zlib's: ``crc32(data, value=0)``, *value* the CRC of
#: what came before.  The compiled backend has a faster one with the same values.
crc32 = zlib.crc32


def count_symbols(symbols: np.ndarray, alphabet_size: int) -> np.ndarray:
    """How often each symbol occurs.

    A slice at a time: ``np.bincount`` turns its input into 8-byte integers first, so
    1 GiB of bytes at once would take 8 GiB more.
    """
    if symbols.size <= _COUNT_SLICE:
        return np.bincount(symbols, minlength=alphabet_size)
    counts = np.zeros(alphabet_size, dtype=np.int64)
    for start in range(0, symbols.size, _COUNT_SLICE):
        counts += np.bincount(symbols[start:start + _COUNT_SLICE], minlength=alphabet_size)
    return counts


#: The symbols count_symbols counts at once: 32 MiB of 8-byte integers.
_COUNT_SLICE = 1 << 22


def count_distinct(symbols: np.ndarray, alphabet_size: int) -> int:
    """How many distinct symbols *symbols* holds: by sorting a few, by counting many."""
    if symbols.size * 8 < alphabet_size:
        return int(np.unique(symbols).size)
    return int(np.count_nonzero(np.bincount(symbols, minlength=alphabet_size)))


def join(parts: Sequence[BytesLike], threads: int) -> bytes:
    """b"".join(parts) (numpy has no faster way; the compiled backend shares the copying)."""
    return b"".join(as_buffers(parts))


def count_cells(symbols: np.ndarray, cell: int) -> np.ndarray:
    """The byte counts of each run of *cell* symbols (the last run may be shorter): a matrix
    of one row of 256 counts per run."""
    cells = -(-symbols.size // cell)
    rows = np.arange(symbols.size, dtype=np.int64) // cell
    return np.bincount(rows * 256 + symbols, minlength=cells * 256).reshape(cells, 256)
