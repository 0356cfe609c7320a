"""Where to cut data into blocks, so that each block's own code pays for its table.

A fixed block of a megabyte cannot follow data whose statistics change; a block
per few kilobytes pays for too many tables.  The splitter cuts a run of byte
symbols on a grid of cells (:data:`CELL` symbols each), then merges neighbouring
segments for as long as merging saves bits, by a cost model: a segment of counts
c costs its entropy, n·H(c) bits, plus its table and headers.  The cost model and
the merging are a kernel (``merge_cells``; the reference is
``kernels.reference.split``).

Only the cost model differs between the coders; the caller checks the result
against the unsplit block and keeps the smaller, so splitting never loses.
"""

from __future__ import annotations

import numpy as np

from .._types import Coder
from ..kernels import backend

__all__ = ["CELL", "split_points"]

#: Symbols per grid cell: about half the span over which zlib's deflate re-fits its codes.
CELL = 8192


def split_points(symbols: np.ndarray, *, coder: Coder, max_block: int,
                 ) -> tuple[list[int], np.ndarray]:
    """Where the blocks of these byte *symbols* should end: increasing positions, the last
    being ``len(symbols)``, and each block's 256 byte counts (a row a block).  No block is
    longer than *max_block* symbols."""
    n = symbols.size
    if n < 2 * CELL:
        return [n], backend.kernels.count_symbols(symbols, 256)[np.newaxis]
    cells = backend.kernels.count_cells(symbols, CELL)  # a row of 256 counts per cell
    lengths = backend.kernels.merge_cells(cells, coder, max_block)
    ends = np.cumsum(lengths)
    # Each segment's counts: the sum of its cells' rows.  Every segment but the last ends on
    # a cell boundary, so each starts on one, and its first cell is its start // CELL.  (A
    # running sum down the rows, np.cumsum(axis=0), took seven times as long: 0.37 ms a
    # megabyte, a tenth of compressing it.)
    first_cells = np.concatenate(([0], ends[:-1] // CELL))
    return ends.tolist(), np.add.reduceat(cells, first_cells, axis=0)
