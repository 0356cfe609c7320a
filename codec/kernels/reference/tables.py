"""Code tables in numpy: Huffman's tree depths, canonical codewords, the compact table's
run-length coding and writing (FORMAT.md, section 16.1), and LEB128 numbers.

A table has a few hundred entries: plain Python loops over them suffice.
"""

from __future__ import annotations

import numpy as np

from ..._buffers import BytesLike

__all__ = ["COMPACT_ORDER", "EXTRA_BITS", "MANY_ZEROS", "REPEAT", "RUN_BASE", "ZEROS",
           "canonical_codes", "compact_symbol_counts", "huffman_depths", "pack_varints",
           "parse_varints", "read_compact_frequencies", "read_compact_table", "run_length",
           "sorted_support", "write_compact_frequencies", "write_compact_table"]


def sorted_support(weights: np.ndarray) -> np.ndarray:
    """The symbols of non-zero weight, ordered by (weight, symbol)."""
    present = np.flatnonzero(weights)
    return present[np.lexsort((present, weights[present]))]


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Canonical codewords (as integers, MSB first) for the given lengths.

    Codes are assigned in order of (length, symbol); each is the previous
    code plus one, shifted left when the length grows.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    codes = np.zeros(lengths.size, dtype=np.uint64)
    order = sorted_support(lengths)
    if order.size == 0:
        return codes
    sorted_lengths = lengths[order]
    longest = int(sorted_lengths[-1])
    per_length = np.bincount(sorted_lengths, minlength=longest + 1)
    first_code = [0] * (longest + 1)
    code = 0
    for length in range(1, longest + 1):
        code = (code + int(per_length[length - 1])) << 1
        first_code[length] = code
    group_start = np.searchsorted(sorted_lengths, sorted_lengths, side="left")
    rank = np.arange(order.size) - group_start
    codes[order] = np.array(first_code, dtype=np.uint64)[sorted_lengths] + rank.astype(np.uint64)
    return codes


def huffman_depths(leaf_weights: np.ndarray) -> np.ndarray:
    """The depths of Huffman's tree over leaves sorted by (weight, symbol): two queues,
    leaves and merged nodes; the lighter front is taken, the leaf when they tie
    (FORMAT.md, section 11).  At least two leaves."""
    weights = leaf_weights.tolist()
    n = len(weights)
    merged: list[float] = []
    parent = [0] * (2 * n - 1)  # leaves are nodes 0..n-1, merged nodes n..2n-2
    next_leaf = next_merged = 0
    for _ in range(n - 1):
        taken = []
        for _ in range(2):
            if next_leaf < n and (next_merged == len(merged)
                                  or weights[next_leaf] <= merged[next_merged]):
                taken.append((next_leaf, weights[next_leaf]))
                next_leaf += 1
            else:
                taken.append((n + next_merged, merged[next_merged]))
                next_merged += 1
        parent[taken[0][0]] = parent[taken[1][0]] = n + len(merged)
        merged.append(taken[0][1] + taken[1][1])
    # A parent always has a larger index than its children: one sweep down from the root.
    depth = [0] * (2 * n - 1)
    for node in range(2 * n - 3, -1, -1):
        depth[node] = depth[parent[node]] + 1
    return np.array(depth[:n], dtype=np.int64)


# -- compact code tables (FORMAT.md, section 16.1) ----------------------------------------
#
# The 256 lengths (0 for a byte with no code) become symbols of a 19-letter alphabet:
# 0..15 a code length; 16 the previous length again, 3 to 6 times (2 extra bits); 17, 3 to
# 10 zeros (3 extra bits); 18, 11 to 138 zeros (7 extra bits).  Those symbols are written
# with a canonical Huffman code of at most 7 bits, whose lengths come first, 3 bits each,
# in the order of COMPACT_ORDER.

#: The order in which the code-length code's lengths are stored (DEFLATE's).
COMPACT_ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)
#: The run-length symbols beyond the lengths 0..15.
REPEAT, ZEROS, MANY_ZEROS = 16, 17, 18
#: Each run-length symbol's extra bits, and the run its extra value 0 stands for.
EXTRA_BITS = {REPEAT: 2, ZEROS: 3, MANY_ZEROS: 7}
RUN_BASE = {REPEAT: 3, ZEROS: 3, MANY_ZEROS: 11}

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
                symbols.append(MANY_ZEROS)
                extras.append(take - 11)
                run -= take
            if run >= 3:
                symbols.append(ZEROS)
                extras.append(run - 3)
                run = 0
        else:
            symbols.append(value)
            extras.append(0)
            run -= 1
            while run >= 3:
                take = min(run, 6)
                symbols.append(REPEAT)
                extras.append(take - 3)
                run -= take
        symbols += [value] * run
        extras += [0] * run
    return symbols, extras


def compact_symbol_counts(lengths: np.ndarray) -> np.ndarray:
    """How often each of the 19 run-length symbols codes these 256 *lengths*."""
    symbols, _ = run_length(np.asarray(lengths, dtype=np.int64))
    return np.bincount(symbols, minlength=19)


def write_compact_table(lengths: np.ndarray, widths: np.ndarray) -> bytes:
    """The compact table of these 256 *lengths*, with a code-length code of these 19
    *widths* (built for :func:`run_length`'s symbols)."""
    symbols, extras = run_length(np.asarray(lengths, dtype=np.int64))
    widths = np.asarray(widths)
    codes = canonical_codes(widths).tolist()
    widths = widths.tolist()
    stored = [widths[symbol] for symbol in COMPACT_ORDER]
    while len(stored) > 4 and stored[-1] == 0:
        stored.pop()
    # One big integer, shifted left and or-ed field by field: a hundred-odd fields.
    value, count = len(stored) - 4, 4
    for width in stored:
        value, count = value << 3 | width, count + 3
    for symbol, extra in zip(symbols, extras, strict=True):
        value, count = value << widths[symbol] | codes[symbol], count + widths[symbol]
        if symbol >= REPEAT:
            extra_bits = EXTRA_BITS[symbol]
            value, count = value << extra_bits | extra, count + extra_bits
    padding = -count % 8
    return (value << padding).to_bytes((count + padding) // 8, "big")


def read_compact_table(buffer: BytesLike, pos: int) -> tuple[np.ndarray, int] | None:
    """A fast reading of the compact code table at *pos* (FORMAT.md, section 16.1): its 256
    lengths and the position after it, or None to read it with the reference parser,
    ``format.tables.parse_compact_table``, which also says what is wrong with a bad one.
    The numpy backend has no faster way."""
    return None


def read_compact_frequencies(buffer: BytesLike, pos: int, alphabet_size: int) -> None:
    """A fast reading of the compact frequency table at *pos* (FORMAT.md, section 17.3):
    (its listed symbols and their frequencies, int64; its precision; the position after
    it), or None to read it with the reference parser,
    ``format.rans_tables.parse_compact_frequencies``, which also says what is wrong with a
    bad one.  The numpy backend has no faster way."""
    return None


def write_compact_frequencies(listed: np.ndarray, freqs: np.ndarray, precision: int) -> None:
    """A fast ``format.rans_tables.pack_compact_frequencies`` (FORMAT.md, section 17.3): the
    compact table of these symbols and frequencies, or None to pack it with that reference.
    The numpy backend has no faster way."""
    return None


def parse_varints(buffer: BytesLike, pos: int, count: int, longest: int) -> None:
    """A fast ``format.varint.parse_varints`` of well-formed numbers: (the values, int64; the
    position after the last), or None (a number too long, the buffer too short) to let that
    reference read them and say what is wrong.  The numpy backend has no faster way."""
    return None


def pack_varints(values: np.ndarray) -> bytes:
    """The LEB128 encoding of each of *values* (uint64, below 2**35), concatenated."""
    if values.size == 0:
        return b""
    groups = np.stack([(values >> np.uint64(7 * k)) & np.uint64(0x7F) for k in range(5)], axis=1)
    # How many groups each value needs: at least one, and one per 7 significant bits.
    needed = np.ones(values.size, dtype=np.int64)
    for k in range(1, 5):
        needed += values >= np.uint64(1 << (7 * k))
    keep = np.arange(5) < needed[:, np.newaxis]
    more = np.arange(5) < (needed - 1)[:, np.newaxis]
    encoded = (groups | (more.astype(np.uint64) << np.uint64(7))).astype(np.uint8)
    packed: bytes = encoded[keep].tobytes()
    return packed
