"""The splitter's cost model, and its merging of cells into segments, in numpy.

A segment of byte counts c costs its entropy, n·H(c) bits (what its own code
pays, to within Huffman's rounding, or rANS's quantisation), plus its table
and headers.  Merging runs in rounds, each taking the best non-overlapping
pairs of neighbouring segments at once, for as long as merging saves bits.

Costs are integers, in units of 2^-16 bits, from one table of log2 (so the
compiled kernel, which takes the same table, makes the same choices to the
last bit, and this reference needs no float comparisons): a few dozen numpy
operations on a small matrix a megabyte.  ``stream.split`` decides where
blocks end with it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BITS_PER_HUFFMAN_LENGTH", "COSTS", "LOG2_TABLE", "merge_cells", "merge_segments",
           "segment_costs"]


# Costs are counted in units of 2^-16 bits.
_FRACTION = 16


_ONE = 1 << _FRACTION


# log2(x) in those units for x below 2^17; a larger x is shifted into that range first.
_LOG2_BITS = 17


LOG2_TABLE = np.round(np.log2(np.maximum(np.arange(1 << _LOG2_BITS), 1)) * _ONE).astype(np.int64)


# Bits a block spends beside its payload and table: type, symbol count, CRC (9), and its
# streams' bit counts (1 + 4 per stream, 4 streams from 2^14 symbols) or its lanes' counts
# (6).  A compact code table (FORMAT.md, section 16.1): its code-length code, then about
# three bits per coded byte value, runs of absent ones included (2.8 on average over the
# compact tables of the corpora's split blocks).  A frequency table: the
# precision (1) and a presence bitmap (32), then a LEB128 number per symbol.  Each rANS
# lane flushes a 64-bit state.
HUFFMAN_BITS = 8 * (9 + 1 + 4) + 80


HUFFMAN_STREAMS_BITS = 12 * 8


BITS_PER_HUFFMAN_LENGTH = round(3.0 * _ONE)  # in 2^-16 bits


ANS_BITS = 8 * (9 + 6) + 8 * 33


BITS_PER_FREQUENCY = 12


BITS_PER_LANE = 64


#: What these constants stand for, in the order the compiled kernel takes them.
COSTS = (HUFFMAN_BITS, HUFFMAN_STREAMS_BITS, BITS_PER_HUFFMAN_LENGTH, ANS_BITS,
         BITS_PER_FREQUENCY, BITS_PER_LANE)


def log2_fixed(values: np.ndarray) -> np.ndarray:
    """log2 of each non-negative integer, in units of 2^-16 (0 for 0 and 1), from
    :data:`LOG2_TABLE`; exact to about 2^-17 of itself."""
    shift = np.maximum(np.frexp(values.astype(np.float64))[1] - _LOG2_BITS, 0)
    logs: np.ndarray = LOG2_TABLE[values >> shift] + (shift << _FRACTION)
    return logs


def segment_costs(counts: np.ndarray, coder: str) -> np.ndarray:
    """The estimated cost of a block, in 2^-16 bits, for each row of *counts*."""
    totals = counts.sum(axis=1)
    if coder == "huffman":
        # A byte of probability above 1/2 gets a code of one bit, and the others share the
        # other half of the code space: they cost their own entropy plus that bit.  (n·H
        # would charge them log2(1 / (2(1 - p))) bits too little each.)  Otherwise Huffman
        # pays about n·H, and never less than a bit a symbol.
        largest = counts.max(axis=1)
        dominant = 2 * largest > totals
        among = np.where(dominant, totals - largest, totals)
        information = (log2_fixed(among)[:, np.newaxis] - log2_fixed(counts)
                       + np.where(dominant, _ONE, 0)[:, np.newaxis])
        first = dominant[:, np.newaxis] & (counts == largest[:, np.newaxis])
        information = np.where(first, _ONE, np.maximum(information, _ONE))
    else:
        information = log2_fixed(totals)[:, np.newaxis] - log2_fixed(counts)
    payload = (counts * information).sum(axis=1)  # about n·H: Σ c·log2(n / c)
    present = np.count_nonzero(counts, axis=1)
    if coder == "ans":
        # As format.rans_block.lanes_for_counts chooses them.
        lanes = np.maximum.reduce([payload // (100_000 * _ONE), -(-totals // 131_072),
                                   np.minimum(np.maximum(
                                       payload // (50_000 * _ONE),
                                       np.where(payload >= 20_000 * _ONE, totals // 16_384, 0)),
                                       4),
                                   np.ones_like(totals)])
        ans_costs: np.ndarray = payload + ((ANS_BITS + BITS_PER_FREQUENCY * present
                                            + BITS_PER_LANE * lanes) << _FRACTION)
        return ans_costs
    # Huffman's whole bits cost a little more than n·H.
    streams = np.where(totals >= 1 << 14, HUFFMAN_STREAMS_BITS, 0)
    huffman_costs: np.ndarray = (payload + payload // 200
                                 + ((HUFFMAN_BITS + streams) << _FRACTION)
                                 + BITS_PER_HUFFMAN_LENGTH * present)
    return huffman_costs


def merge_segments(counts: np.ndarray, coder: str, max_block: int) -> np.ndarray:
    """The reference merging: from one row of byte counts per cell, in rounds, merge the
    neighbouring pairs that save the most, best first, each segment joining at most one pair
    a round, until no merge saves or fits in *max_block*.  Returns each segment's length."""
    # Only the byte values that occur matter to the costs: a narrower matrix is faster.
    counts = counts[:, counts.any(axis=0)]
    lengths = counts.sum(axis=1)
    costs = segment_costs(counts, coder)
    while counts.shape[0] > 1:
        merged = counts[:-1] + counts[1:]
        merged_costs = segment_costs(merged, coder)
        gain = costs[:-1] + costs[1:] - merged_costs
        allowed = (gain > 0) & (lengths[:-1] + lengths[1:] <= max_block)
        if not allowed.any():
            break
        # The best pairs first (the leftmost of equal ones); each segment joins one pair.
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
    merged_lengths: np.ndarray = lengths
    return merged_lengths


def merge_cells(cells: np.ndarray, coder: str, max_block: int) -> np.ndarray:
    """Each segment's length, merged from cells (a row of byte counts each) by
    :func:`merge_segments`, which works on a copy."""
    return merge_segments(np.array(cells, dtype=np.int64), coder, max_block)
