"""Coding a block of bytes as the pieces the splitter chose: each piece a block with its
own code, or the previous piece's code (types 0x06 and 0x07), or the whole as one block
when that is no larger (FORMAT.md, sections 11, 14.5 and 16.3: the encoder's choices,
not rules of the format).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._buffers import Bytes, BytesLike, view_of
from .._types import Coder
from ..format.blocks import block_start
from ..format.huffman_block import pack_streams
from ..format.layout import (
    BLOCK_ANS,
    BLOCK_ANS_REUSE,
    BLOCK_HUFFMAN,
    BLOCK_HUFFMAN_COMPACT,
    BLOCK_HUFFMAN_REUSE,
    streams_of,
)
from ..format.rans_block import (
    ans_payload,
    encode_ans_block,
    lanes_for_counts,
    lanes_payload,
    pack_frequency_table,
)
from ..format.tables import pack_code_table, pack_compact_table, plain_table_size
from ..format.varint import varint_size
from ..kernels import backend
from ..kernels.interface import AnsPiecesPlan
from ..models.alphabet import ALPHABETS
from ..models.codebook import limited_lengths_each, optimal_lengths
from ..models.frequency_table import (
    BYTE_BLOCK_PRECISION,
    FINE_BYTE_BLOCK_PRECISION,
    FrequencyTable,
    byte_block_precision,
    quantize,
)

__all__ = ["LIMITS_TRIED", "SEARCHED_BELOW", "encode_pieces", "encode_split",
           "huffman_block_floor", "own_code"]

#: How far below its longest codeword a piece's code is limited in turn, to find the code
#: whose table and payload are smallest, when the data coded at once has fewer than
#: SEARCHED_BELOW symbols (FORMAT.md, section 16.3).
LIMITS_TRIED = 4
SEARCHED_BELOW = 1 << 16


def encode_split(data: Bytes, symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                 max_code_length: int, coder: Coder, last: bool = False) -> list[BytesLike]:
    """Code a block of byte data as the pieces the splitter chose (ending at *ends*, with
    these *counts*), or whole when that is no larger.  Which is smaller is found from the
    sizes' bounds, without coding, whenever they tell; otherwise both are coded and
    compared.  With *last*, the last block written is the frame's last (FORMAT.md 17.1),
    which stores no count.  Returns the bytes in pieces."""
    total = counts.sum(axis=0)[np.newaxis]
    whole_end = [symbols.size]
    if len(ends) == 1 and coder == "ans":  # one block, whose table's precision can be chosen
        crc = backend.kernels.crc32(data)
        return [_start(BLOCK_ANS, symbols.size, crc, last),
                *encode_ans_block(symbols, ALPHABETS["bytes"])]
    if len(ends) == 1:
        return encode_pieces(data, symbols, whole_end, total, max_code_length, coder, last)
    parts_size: tuple[int, int] | None
    whole_size: tuple[int, float]  # (the least, the most)
    if coder == "ans":
        parts_plan, whole_plan = _plan_ans_pieces(counts), _plan_ans_pieces(total)
        parts_size = _ans_bounds(parts_plan, last)
        whole_size = _ans_bounds(whole_plan, last)

        def parts() -> list[BytesLike]:
            return _write_ans_pieces(data, symbols, ends, parts_plan, last)

        def whole() -> list[BytesLike]:
            return _write_ans_pieces(data, symbols, whole_end, whole_plan, last)
    else:
        with memoryview(data) as view:  # in one kernel call, each planned once, if it can
            crcs = [backend.kernels.crc32(view[begin:end])
                    for begin, end in zip([0, *ends[:-1]], ends, strict=True)]
            fast = backend.kernels.encode_huffman_split(
                symbols, ends, counts, crcs, lambda: backend.kernels.crc32(data), max_code_length,
                last)
        if fast is not None:
            return [fast]
        # The reference: the pieces are coded first, and the whole only when the pieces'
        # real size does not beat its least possible size.
        parts_size = None
        whole_size = (huffman_block_floor(total[0], max_code_length, last), math.inf)

        def parts() -> list[BytesLike]:
            return encode_pieces(data, symbols, ends, counts, max_code_length, coder, last)

        def whole() -> list[BytesLike]:
            return encode_pieces(data, symbols, whole_end, total, max_code_length, coder, last)
    if parts_size is not None:
        if parts_size[1] < whole_size[0]:
            return parts()
        if parts_size[0] >= whole_size[1]:
            return whole()
    split = parts()
    split_size = sum(view_of(part).nbytes for part in split)
    if split_size < whole_size[0]:
        return split
    unsplit = whole()
    return split if split_size < sum(view_of(part).nbytes for part in unsplit) else unsplit


def encode_pieces(data: Bytes, symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                  max_code_length: int, coder: Coder, last: bool = False) -> list[BytesLike]:
    """Code consecutive pieces of byte data, ending at *ends* (with these *counts*), as
    blocks with their own codes: each gets the smaller of its plain and compact table, or
    reuses the previous piece's code (types 0x06 and 0x07) when that costs less than a code
    and table of its own.  With *last*, the last piece is the frame's last block, which
    stores no count.  Returns the blocks' bytes in pieces."""
    if coder == "ans":
        return _write_ans_pieces(data, symbols, ends, _plan_ans_pieces(counts), last)
    out: list[BytesLike] = []
    previous = None  # the code the last block carried
    start = 0
    with memoryview(data) as view:
        # The same blocks, written in one kernel call if it can.
        starts = [0, *ends[:-1]]
        crc32 = backend.kernels.crc32
        crcs = [crc32(view[begin:end]) for begin, end in zip(starts, ends, strict=True)]
        fast = backend.kernels.encode_huffman_pieces(symbols, ends, counts, crcs,
                                                      max_code_length, last)
        if fast is not None:
            return [fast]
        for end, piece_counts, crc in zip(ends, counts, crcs, strict=True):
            previous = _encode_huffman_piece(out, symbols[start:end], piece_counts, crc,
                                             max_code_length, previous,
                                             last and end == ends[-1],
                                             symbols.size < SEARCHED_BELOW)
            start = end
    return out


def own_code(counts: np.ndarray, max_code_length: int, search: bool = True,
             ) -> tuple[np.ndarray, int, bytes]:
    """A piece's own code and table: (lengths, block type 0x01 or 0x05, table).

    The code ``optimal_lengths`` gives; with *search*, the code limited to one of the
    LIMITS_TRIED lengths below its longest codeword (never fewer bits than its byte values
    need) instead, when that code's payload and smaller table take fewer bits, the longer
    limit on a tie.  A shorter limit costs payload bits but gives the rare bytes equal
    lengths, which the compact table's runs hold in fewer: text of 13 KB takes 4 bytes less
    at 12 bits than at 15.  The search costs a package-merge a piece (about 40 us), so it is
    made where tables weigh most, on data of fewer than SEARCHED_BELOW symbols; it would
    have saved 67 bytes of kennedy.xls's 426,204 and taken a third of its compression time.
    """
    lengths = optimal_lengths(counts, max_code_length)
    candidates = [lengths]
    present = int(np.count_nonzero(counts))
    least = max(1, (present - 1).bit_length())  # the fewest bits *present* symbols need
    longest = int(lengths.max())
    limits = list(range(longest - 1, max(least, longest - LIMITS_TRIED) - 1, -1))
    if search and present > 2 and limits:
        candidates += limited_lengths_each(counts, limits)
    best: tuple[int, np.ndarray, bytes | None] | None = None
    for candidate in candidates:
        compact = pack_compact_table(candidate)
        plain = plain_table_size(candidate)
        size = plain if compact is None or len(compact) >= plain else len(compact)
        cost = int(np.dot(counts, candidate)) + 8 * size
        if best is None or cost < best[0]:
            best = (cost, candidate, compact if size < plain else None)
    assert best is not None  # candidates holds optimal_lengths' code at least
    _, lengths, compact = best
    if compact is not None:
        return lengths, BLOCK_HUFFMAN_COMPACT, compact
    return lengths, BLOCK_HUFFMAN, pack_code_table(lengths)


def _encode_huffman_piece(out: list[BytesLike], symbols: np.ndarray, counts: np.ndarray, crc: int,
                          max_code_length: int,
                          previous: tuple[np.ndarray, np.ndarray] | None,
                          last: bool, search: bool) -> tuple[np.ndarray, np.ndarray]:
    """Append one piece's block to *out*; return the code it used: (lengths, codes)."""
    lengths, kind, table = own_code(counts, max_code_length, search)
    code = (lengths, backend.kernels.canonical_codes(lengths))
    present = counts > 0
    if previous is not None and previous[0][present].all():
        own_bits = 8 * len(table) + int(np.dot(counts, lengths))
        if int(np.dot(counts, previous[0])) <= own_bits:
            kind, table, code = BLOCK_HUFFMAN_REUSE, b"", previous
    out += [_start(kind, symbols.size, crc, last), table,
            *pack_streams(symbols, code[1], code[0])]
    return code


def _start(kind: int, symbols: int, crc: int, last: bool) -> bytes:
    """A byte block's type, symbol count (none for the frame's *last* block) and CRC-32."""
    return block_start(kind, symbols, symbols, crc, ALPHABETS["bytes"], shared=False,
                       last=last)


def _count_size(symbols: int, last: bool) -> int:
    """The bytes of a block's symbol count: none for the frame's *last* block."""
    return 0 if last else varint_size(symbols)


@dataclass(frozen=True)
class _AnsPiece:
    """How one piece of an rANS frame is coded, decided before it is."""

    symbols: int
    kind: int  # BLOCK_ANS, or BLOCK_ANS_REUSE: the previous piece's table
    table: bytes  # the packed table it carries (none when it reuses one)
    used: FrequencyTable  # the table that codes it
    ideal_bits: float  # the sum of log2(M / f) over its symbols
    lanes: int


# The bits a symbol of frequency f costs under a table of precision p, p - log2(f), from
# one table for each precision a piece may take, so that every way of planning sums the
# same doubles.
_PIECE_COSTS = {}
for _precision in (BYTE_BLOCK_PRECISION, FINE_BYTE_BLOCK_PRECISION):
    _PIECE_COSTS[_precision] = np.full((1 << _precision) + 1, np.inf)
    _PIECE_COSTS[_precision][1:] = _precision - np.log2(np.arange(1, (1 << _precision) + 1))


def _ideal_bits(counts: np.ndarray, table: FrequencyTable) -> float:
    """The ideal bits of byte *counts* under *table*: Σ c·(precision - log2 f) over the
    present symbols, summed in order of byte value (as the compiled planner sums them)."""
    present = counts > 0
    costs = _PIECE_COSTS[table.precision]
    return float(np.cumsum(counts[present] * costs[table.freqs[present]])[-1])


def _plan_ans_pieces(counts: np.ndarray) -> list[_AnsPiece]:
    """Each piece's table, its own or (when that costs no more) the previous piece's; all
    of one precision, the one byte_block_precision chooses for them together.  Both choices
    weigh a table by the bytes of its compact form, the one written."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    precisions = (BYTE_BLOCK_PRECISION, FINE_BYTE_BLOCK_PRECISION)
    planned_fast = [backend.kernels.plan_ans_pieces(counts, _PIECE_COSTS[precision])
                    for precision in precisions]
    fast = [plan for plan in planned_fast if plan is not None]
    if len(fast) == len(planned_fast):
        # Planned in C, tables packed: the choice from its ideal bits and tables, and only
        # the chosen plan's FrequencyTables made (each costs a few numpy calls).
        bits = [sum(float(ideal) + 8 * len(table)
                    for ideal, table in zip(ideals, tables, strict=True))
                for tables, _, ideals, _, _ in fast]  # added as below, in the same order
        chosen = byte_block_precision(*bits)
        return _plans_from(counts, chosen, fast[precisions.index(chosen)])
    planned = {precision: _plan_at(counts, precision) for precision in precisions}
    bits = [sum(ideal + 8 * size for ideal, size in zip(*planned[precision][1:], strict=True))
            for precision in precisions]
    return planned[byte_block_precision(*bits)][0]


def _plans_from(counts: np.ndarray, precision: int, fast: AnsPiecesPlan) -> list[_AnsPiece]:
    """The plans of the compiled planner's output *fast* (tables of this *precision*)."""
    tables, freqs, ideals, lanes, reused = fast
    plans = []
    previous = None  # the table the last piece with a table of its own carried
    for index, piece_counts in enumerate(counts):
        symbols = int(piece_counts.sum())
        if reused[index]:
            assert previous is not None  # the first piece has a table of its own
            plans.append(_AnsPiece(symbols, BLOCK_ANS_REUSE, b"", previous,
                                   float(ideals[index]), int(lanes[index])))
        else:
            previous = FrequencyTable(freqs[index], precision)
            plans.append(_AnsPiece(symbols, BLOCK_ANS, tables[index], previous,
                                   float(ideals[index]), int(lanes[index])))
    return plans


def _plan_at(counts: np.ndarray, precision: int,
             ) -> tuple[list[_AnsPiece], list[float], list[int]]:
    """_plan_ans_pieces with tables of this *precision*, planned in Python; and, as the
    compiled planner gives them, each piece's ideal bits and its table's bytes (0 for a
    reuse)."""
    plans, ideals, sizes = [], [], []
    previous = None  # the table the last piece with a table of its own carried
    for piece_counts in counts:
        symbols = int(piece_counts.sum())
        present = piece_counts > 0
        own = FrequencyTable(quantize(piece_counts, precision), precision)
        kind, table, used = BLOCK_ANS, pack_frequency_table(own), own
        size = len(table)
        ideal = _ideal_bits(piece_counts, own)
        if previous is not None and (previous.freqs[present] > 0).all():
            reused_bits = _ideal_bits(piece_counts, previous)
            if reused_bits <= 8 * size + ideal:
                kind, table, used, ideal, size = BLOCK_ANS_REUSE, b"", previous, reused_bits, 0
        plans.append(_AnsPiece(symbols, kind, table, used, ideal,
                               lanes_for_counts(ideal, symbols)))
        ideals.append(ideal)
        sizes.append(size)
        previous = used
    return plans, ideals, sizes


def _write_ans_pieces(data: Bytes, symbols: np.ndarray, ends: list[int],
                      plans: list[_AnsPiece], last: bool = False) -> list[BytesLike]:
    starts = [0, *ends[:-1]]
    with memoryview(data) as view:
        crc32 = backend.kernels.crc32
        crcs = [crc32(view[start:end]) for start, end in zip(starts, ends, strict=True)]
    # All the pieces in one kernel call if it can, their steps overlapping.
    fast = backend.kernels.ans_encode_pieces(
        symbols, ends, np.array([plan.used.freqs for plan in plans]),
        np.array([plan.used.cumulative for plan in plans]), plans[0].used.precision,
        [plan.lanes for plan in plans])
    out: list[BytesLike] = []
    first_lane = 0
    for index, (start, end, plan, crc) in enumerate(zip(starts, ends, plans, crcs,
                                                        strict=True)):
        out += [_start(plan.kind, plan.symbols, crc, last and index == len(plans) - 1),
                plan.table]
        if fast is None:
            out += ans_payload(symbols[start:end], plan.used, plan.lanes)
            continue
        states, words, word_counts = fast
        out += lanes_payload(states[first_lane:first_lane + plan.lanes],
                             words[start:start + word_counts[index]])
        first_lane += plan.lanes
    return out


def _ans_bounds(plans: list[_AnsPiece], last: bool = False) -> tuple[int, int]:
    """The least and the most bytes these pieces take, found without coding them.

    A lane starts at 2^32 and ends at a state of 32 to 64 bits, so its words hold its
    coded information less 0 to 32 bits.  That information differs from the ideal by
    little: each step codes x into x' with |x'·f / (x·M) - 1| <= f/x <= 2^(p - 32) (a state
    is at least f·2^(32 - p) when it takes a symbol), and shedding a word loses as little,
    so a symbol strays at most 2·-log2(1 - 2^(p - 32)) bits from log2(M / f).
    """
    least = most = 0
    for index, plan in enumerate(plans):
        # Type, symbols and CRC, the table, the lanes (LEB128) and their states; and the
        # word count, a LEB128 number of 1 byte at least and at most as long as the
        # symbols' (a block has no more words than symbols).
        fixed = (1 + _count_size(plan.symbols, last and index == len(plans) - 1) + 4
                 + len(plan.table)
                 + varint_size(plan.lanes) + 8 * plan.lanes)
        stray = plan.symbols * 2 * -math.log2(1 - 2.0 ** (plan.used.precision - 32))
        slack = plan.ideal_bits * 1e-9 + 1  # for the float sum of the ideal
        least += fixed + 1 + max(0, math.floor(
            (plan.ideal_bits - slack - stray - 32 * plan.lanes) / 8))
        most += fixed + varint_size(plan.symbols) + math.ceil(
            (plan.ideal_bits + slack + stray) / 8)
    return least, most


def huffman_block_floor(counts: np.ndarray, max_code_length: int, last: bool = False) -> int:
    """At least the bytes of one block of byte symbols with these *counts* and its own
    Huffman code (with the smaller of its tables), found without encoding: exact but for the
    padding of all but one of its streams (at most 3 bytes)."""
    symbols = int(counts.sum())
    lengths, _, table_bytes = own_code(counts, max_code_length, symbols < SEARCHED_BELOW)
    streams = streams_of(symbols)
    bits = int(np.dot(counts, lengths.astype(np.int64)))
    table = len(table_bytes)
    # The bit counts, LEB128: one stream's exactly; of several, the longest holds a share
    # of the bits at least, and each takes a byte at least.
    count_bytes = (varint_size(bits) if streams == 1
                   else streams - 1 + varint_size(-(-bits // streams)))
    return 1 + _count_size(symbols, last) + 4 + table + count_bytes + (bits + 7) // 8
