"""Where to cut data into blocks, so that each block's own code pays for its table.

A fixed block of a megabyte cannot follow data whose statistics change; a block
per few kilobytes pays for too many tables.  The splitter cuts a run of byte
symbols on a grid of cells (:data:`CELL` symbols each), then merges neighbouring
segments for as long as merging saves bits, by a cost model: a segment of counts
c costs its entropy, n·H(c) bits (what its own code pays, to within Huffman's
rounding, or rANS's quantisation), plus its table and headers.  Merging runs in
rounds, each taking the best non-overlapping pairs at once, so a megabyte costs a
few dozen numpy operations on a small matrix, not one per symbol.

Only the cost model differs between the coders; the caller checks the result
against the unsplit block and keeps the smaller, so splitting never loses.
"""

from __future__ import annotations

import numpy as np

from . import _backend

__all__ = ["CELL", "split_points"]

#: Symbols per grid cell: about half the span over which zlib's deflate re-fits its codes.
CELL = 8192
# Bytes a block spends beside its payload and table: type, symbol count, CRC (9), and its
# streams' bit counts (1 + 4 per stream) or its lanes' counts (6).
_HUFFMAN_HEADER_BITS = 8 * (9 + 1 + 4)
_ANS_HEADER_BITS = 8 * (9 + 6)
# A compact code table (FORMAT.md, section 16.1): its code-length code, then about two
# bits per coded byte value, runs of absent ones included.
_COMPACT_TABLE_BITS = 80
_BITS_PER_HUFFMAN_LENGTH = 2.2
# A frequency table: the precision (1) and a presence bitmap (32).
_TABLE_BITS = 8 * 33
# A frequency table: the precision (1) and the bitmap (32), then a LEB128 number per symbol.
_BITS_PER_FREQUENCY = 12
# Each rANS lane flushes a 64-bit state.
_BITS_PER_LANE = 64


# x·log2(x) for the counts most segments have, looked up rather than computed.
_TABLE_SIZE = 1 << 17
_XLOGX = np.arange(_TABLE_SIZE, dtype=np.float64)
_XLOGX[1:] *= np.log2(_XLOGX[1:])


def _xlogx(values: np.ndarray) -> np.ndarray:
    """x·log2(x) of each (integer) value, 0 for 0."""
    small = values < _TABLE_SIZE
    result = _XLOGX[np.where(small, values, 0)]
    if not small.all():
        large = values[~small].astype(np.float64)
        result[~small] = large * np.log2(large)
    return result


def _huffman_payload(counts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """n·H, but with no symbol cheaper than the 1 bit a Huffman code spends on it."""
    with np.errstate(divide="ignore"):
        information = np.log2(totals)[:, np.newaxis] - np.log2(np.maximum(counts, 1))
    return (counts * np.maximum(information, 1.0)).sum(axis=1)


def _costs(counts: np.ndarray, coder: str) -> np.ndarray:
    """The estimated bits of a block for each row of *counts* (one row per segment)."""
    totals = counts.sum(axis=1)
    if coder == "huffman" and (counts > totals[:, np.newaxis] // 2).any():
        payload = _huffman_payload(counts, totals)  # a symbol of p > 1/2 still costs a bit
    else:
        payload = _xlogx(totals) - _xlogx(counts).sum(axis=1)  # n·H, in bits
    present = np.count_nonzero(counts, axis=1)
    if coder == "ans":
        lanes = np.maximum(np.floor(payload / 100_000), np.ceil(totals / 131_072))
        return (payload + _ANS_HEADER_BITS + _TABLE_BITS + _BITS_PER_FREQUENCY * present
                + _BITS_PER_LANE * np.maximum(lanes, 1))
    # Huffman's whole bits cost a little more than n·H; blocks of 2^14 symbols or more
    # record four streams, not one.
    streams = np.where(totals >= 1 << 14, 12 * 8, 0)
    return (payload * 1.005 + _HUFFMAN_HEADER_BITS + streams + _COMPACT_TABLE_BITS
            + _BITS_PER_HUFFMAN_LENGTH * present)


def split_points(symbols: np.ndarray, *, coder: str, max_block: int,
                 ) -> tuple[list[int], np.ndarray | None]:
    """Where the blocks of these byte *symbols* should end: increasing positions, the last
    being ``len(symbols)``, and each block's 256 byte counts (None when there is only one
    block).  No block is longer than *max_block* symbols."""
    n = symbols.size
    if n < 2 * CELL:
        return [n], None
    all_counts = _backend.kernels.count_cells(symbols, CELL)  # a row of 256 counts per cell
    # Only the byte values that occur matter to the costs: a narrower matrix is faster.
    occurring = np.flatnonzero(all_counts.any(axis=0))
    counts = all_counts[:, occurring]
    lengths = counts.sum(axis=1)
    costs = _costs(counts, coder)
    while counts.shape[0] > 1:
        merged = counts[:-1] + counts[1:]
        merged_costs = _costs(merged, coder)
        gain = costs[:-1] + costs[1:] - merged_costs
        allowed = (gain > 0) & (lengths[:-1] + lengths[1:] <= max_block)
        if not allowed.any():
            break
        # The best pairs first; each segment joins at most one pair per round.
        candidates = np.flatnonzero(allowed)
        taken = np.zeros(counts.shape[0], dtype=bool)
        first = []
        for pair in candidates[np.argsort(-gain[candidates], kind="stable")].tolist():
            if not (taken[pair] or taken[pair + 1]):
                taken[pair] = taken[pair + 1] = True
                first.append(pair)
        first.sort()
        keep = np.ones(counts.shape[0], dtype=bool)
        keep[np.array(first) + 1] = False  # each merged pair lives on in its first segment
        counts[first] = merged[first]
        lengths[first] += lengths[np.array(first) + 1]
        costs[first] = merged_costs[first]
        counts, lengths, costs = counts[keep], lengths[keep], costs[keep]
    full = np.zeros((counts.shape[0], 256), dtype=counts.dtype)
    full[:, occurring] = counts
    return np.cumsum(lengths).tolist(), full
