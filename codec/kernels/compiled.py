"""The compiled backend: the functions of ``kernels.reference``, run by the C of ``kernels/c``.

Each wrapper prepares contiguous arrays of the types the C code reads,
allocates the outputs, and calls the kernel, which releases the GIL.  Any
difference from the numpy reference, in a result or in an error message, is
a bug: the test suite runs the codec on both backends and compares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._buffers import BytesLike, view_of
from .._errors import FormatError
from . import _ckernels, reference
from .interface import AnsPiecesPlan, AnsRun, HuffmanRun
from .reference import split
from .reference.probability_coder import PROBABILITY_STATE_BYTES

#: The compiler that built the kernels, and its version ("gcc 12.2.0", "clang 14.0.6 ...").
COMPILER: str = _ckernels.COMPILER.strip()

#: The cm model's largest tables, in bytes (see ``reference.context_mixing.CM_MEMORY``).
CM_MEMORY: int = _ckernels.CM_MEMORY
cm_memory = reference.cm_memory

__all__ = ["CM_MEMORY", "COMPILER", "STATIC_ORDERS", "ans_decode", "ans_decode_counted",
           "ans_encode", "ans_encode_pieces", "canonical_codes", "cm_costs", "cm_decode",
           "cm_encode", "cm_memory", "compact_symbol_counts", "count_cells", "count_distinct",
           "count_symbols", "crc32", "decode_ans_run", "decode_huffman_run", "decode_streams",
           "encode_huffman_pieces", "encode_huffman_split", "encode_streams", "huffman_depths",
           "join", "merge_cells", "pack_varints", "parse_varints", "plan_ans_pieces",
           "probability_decode", "probability_encode", "quantize_counts",
           "read_compact_frequencies", "read_compact_table", "sequential_costs",
           "sequential_decode", "sequential_encode", "static_costs", "static_decode",
           "static_encode", "static_model_memory", "write_compact_frequencies",
           "write_compact_table"]


def count_symbols(symbols: np.ndarray, alphabet_size: int) -> np.ndarray:
    """How often each symbol occurs."""
    if symbols.dtype == np.uint8 and alphabet_size == 256:
        counts = np.empty(256, dtype=np.int64)
        _ckernels.count_bytes(np.ascontiguousarray(symbols), counts)
        return counts
    return reference.count_symbols(symbols, alphabet_size)


def count_distinct(symbols: np.ndarray, alphabet_size: int) -> int:
    """How many distinct symbols *symbols* holds."""
    if symbols.dtype == np.uint8:
        return _ckernels.count_distinct_bytes(np.ascontiguousarray(symbols))
    if symbols.size * 8 < alphabet_size:
        return int(np.unique(symbols).size)
    # Marked a chunk at a time: numpy indexes with int64, and a whole block's worth of
    # int64 copies would double the memory a wide block's decoding needs.
    seen = np.zeros(alphabet_size, dtype=bool)
    for start in range(0, symbols.size, _DISTINCT_CHUNK):
        seen[symbols[start:start + _DISTINCT_CHUNK]] = True
    return int(np.count_nonzero(seen))


_DISTINCT_CHUNK = 1 << 18


def _symbols_and_width(symbols: np.ndarray) -> tuple[np.ndarray, int]:
    """The symbols as the C code reads them: bytes, or 4-byte unsigned integers."""
    if symbols.dtype == np.uint8:
        return np.ascontiguousarray(symbols), 1
    return np.ascontiguousarray(symbols, dtype=np.uint32), 4


def encode_streams(symbols: np.ndarray, codes: np.ndarray, lengths: np.ndarray,
                   ranges: list[tuple[int, int]]) -> list[tuple[memoryview, int]]:
    """Encode each ``symbols[start:end]`` of *ranges* as a separate stream."""
    symbols, width = _symbols_and_width(symbols)
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    lengths = np.ascontiguousarray(lengths, dtype=np.uint8)
    # Room for n of the table's longest codes (at least 1 bit: the C code writes one for a
    # byte without a code, before it reports it), and for the last 8-byte store.
    longest = max(1, int(lengths.max(initial=0)))
    streams = []
    for start, end in ranges:
        out = np.empty((end - start) * longest // 8 + 16, dtype=np.uint8)
        bits = _ckernels.huffman_encode(symbols[start:end], width, codes, lengths, out)
        streams.append((out.data[:(bits + 7) // 8], bits))  # joined later: no copy
    return streams


def decode_streams(data: BytesLike, stream_bits: tuple[int, ...], symbol_count: int,
                   lengths: np.ndarray,
                   values: np.ndarray | None = None) -> bytes | np.ndarray:
    """Decode a block's streams (see ``reference.decode_streams``)."""
    lengths = np.ascontiguousarray(lengths, dtype=np.uint8)
    if values is not None and values.size and int(values[-1]) < 256:
        # Byte values: decode straight to them, through a code over all 256.
        dense = np.zeros(256, dtype=np.uint8)
        dense[values] = lengths
        lengths, values = dense, None
    width = 1 if lengths.size <= 256 else 4
    try:
        decoded = _ckernels.huffman_decode(data, tuple(stream_bits), symbol_count, lengths,
                                           width)
    except ValueError as error:
        raise FormatError(str(error)) from None
    return _as_symbols(decoded, width, values)


def _as_symbols(decoded: bytes, width: int, values: np.ndarray | None) -> bytes | np.ndarray:
    """What the decoders return: bytes for byte values, else an array of symbols (uint32:
    every symbol of every alphabet fits, in half the memory of int64)."""
    if width == 1 and values is None:
        return decoded
    positions = np.frombuffer(decoded, dtype=np.uint8 if width == 1 else np.uint32)
    if values is None:
        return positions.astype(np.uint32)
    symbols: np.ndarray = values.astype(np.uint32, copy=False)[positions]
    return symbols


def ans_encode(symbols: np.ndarray, freqs: np.ndarray, cumulative: np.ndarray, precision: int,
               lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Code *symbols* with *lanes* interleaved rANS states (see ``reference.ans_encode``)."""
    symbols, width = _symbols_and_width(symbols)
    states = np.empty(lanes, dtype=np.uint64)
    words = np.empty(symbols.size, dtype=np.uint32)
    count = _ckernels.ans_encode(symbols, width, np.ascontiguousarray(freqs, dtype=np.uint32),
                                 np.ascontiguousarray(cumulative, dtype=np.uint32), precision,
                                 lanes, states, words)
    return states, words[:count].copy()


def decode_huffman_run(buffer: BytesLike, pos: int, block_size: int, previous: bytes | None,
                       budget: int, largest: int, version: int = 1,
                       before: int = 0) -> HuffmanRun | None:
    """The compact-table and reuse blocks of a byte frame (of format *version*) from *pos*,
    decoded in one call (see ``reference.decode_huffman_run``)."""
    return _ckernels.decode_huffman_run(buffer, pos, block_size, previous, budget, largest,
                                        version, before)


def decode_ans_run(buffer: BytesLike, pos: int, block_size: int, previous: bytes | None,
                   previous_precision: int, budget: int, largest: int,
                   before: int) -> AnsRun | None:
    """The rANS blocks of a version-2 byte frame with tables of their own or the previous
    block's, from *pos*, decoded in one call (see ``reference.decode_ans_run``)."""
    return _ckernels.decode_ans_run(buffer, pos, block_size, previous, previous_precision,
                                    budget, largest, before)


def ans_encode_pieces(symbols: np.ndarray, ends: list[int], freqs: np.ndarray,
                      cumulative: np.ndarray, precision: int, lanes: list[int],
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Code consecutive pieces of byte *symbols* in one call, their steps overlapping (see
    ``reference.ans_encode_pieces``): (states, words, word counts)."""
    symbols = np.ascontiguousarray(symbols, dtype=np.uint8)
    lane_counts = np.asarray(lanes, dtype=np.int64)
    states = np.empty(int(lane_counts.sum()), dtype=np.uint64)
    words = np.empty(symbols.size, dtype=np.uint32)
    counts = np.empty(lane_counts.size, dtype=np.int64)
    _ckernels.ans_encode_pieces(symbols, np.asarray(ends, dtype=np.int64),
                                np.ascontiguousarray(freqs, dtype=np.uint32),
                                np.ascontiguousarray(cumulative, dtype=np.uint32), precision,
                                lane_counts, states, words, counts)
    return states, words, counts


def ans_decode(words: np.ndarray, states: np.ndarray, count: int, freqs: np.ndarray,
               cumulative: np.ndarray, precision: int,
               values: np.ndarray | None = None) -> bytes | np.ndarray:
    """Decode *count* symbols from rANS *words* and *states* (see ``reference.ans_decode``)."""
    return _ans_decode(words, states, count, freqs, cumulative, precision, values, None)[0]


def ans_decode_counted(words: BytesLike, states: np.ndarray, count: int, freqs: np.ndarray,
                       cumulative: np.ndarray, precision: int,
                       values: np.ndarray | None = None) -> tuple[bytes | np.ndarray, int]:
    """``ans_decode``, and how many distinct symbols the decoded ones are (see
    ``reference.ans_decode_counted``): symbols of a table of at most 256 are marked as they
    are decoded, others counted after."""
    seen = np.empty(256, dtype=np.uint8)
    symbols, marked = _ans_decode(words, states, count, freqs, cumulative, precision, values,
                                  seen)
    if marked:
        return symbols, int(np.count_nonzero(seen))
    size = int(values[-1]) + 1 if values is not None and values.size else len(freqs)
    assert isinstance(symbols, np.ndarray)  # not marked: not bytes (width 4, or values)
    return symbols, count_distinct(symbols, size)


def _ans_decode(words: BytesLike, states: np.ndarray, count: int, freqs: np.ndarray,
                cumulative: np.ndarray, precision: int, values: np.ndarray | None,
                seen: np.ndarray | None) -> tuple[bytes | np.ndarray, bool]:
    """ans_decode, and whether the kernel marked each symbol it decoded in *seen* (256
    bytes; it can for a table of at most 256 symbols)."""
    freqs = np.ascontiguousarray(freqs, dtype=np.uint32)
    cumulative = np.ascontiguousarray(cumulative, dtype=np.uint32)
    if values is not None and values.size and int(values[-1]) < 256:
        # Byte values: decode straight to them, through a table over all 256.
        dense_freqs = np.zeros(256, dtype=np.uint32)
        dense_freqs[values] = freqs
        freqs, values = dense_freqs, None
        cumulative = np.concatenate(([0], np.cumsum(freqs[:-1]))).astype(np.uint32)
    width = 1 if freqs.size <= 256 else 4
    marked = seen is not None and width == 1
    if isinstance(words, np.ndarray):  # else a block's bytes: the kernel reads them in place
        words = np.ascontiguousarray(words, dtype="<u4")
    states = np.ascontiguousarray(states, dtype=np.uint64)
    try:
        if marked:
            assert seen is not None
            decoded = _ckernels.ans_decode(words, states, count, freqs, cumulative, precision,
                                           width, seen)
        else:
            decoded = _ckernels.ans_decode(words, states, count, freqs, cumulative, precision,
                                           width)
    except ValueError as error:
        raise FormatError(str(error)) from None
    return _as_symbols(decoded, width, values), marked


def join(parts: Sequence[BytesLike], threads: int) -> bytes:
    """b"".join(parts), the copying shared among *threads* threads."""
    return _ckernels.join(parts, threads)


#: zlib.crc32's value, folded by carry-less multiplication where the CPU can (PCLMULQDQ),
#: else by tables: ``crc32(data, value=0)``, the GIL released over large buffers.  The C
#: function itself, called without a Python frame between: it is called once a block.
crc32 = _ckernels.crc32


def _pieces_room(symbols: int, pieces: int, max_code_length: int, with_whole: bool) -> int:
    """Room for the pieces kernels' output (pieces_room in the C, which checks it)."""
    overhead = _ckernels.PIECE_OVERHEAD  # the most bytes a piece takes beside its codes
    return ((1 + with_whole) * (symbols * max_code_length // 8 + overhead)
            + pieces * overhead + 16)


def encode_huffman_pieces(symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                          crcs: list[int], max_code_length: int,
                          last: bool = False) -> memoryview | None:
    """The Huffman blocks of consecutive pieces of byte *symbols*, in C (see
    ``reference.encode_huffman_pieces``): their bytes, or None when a piece cannot be coded
    within *max_code_length* bits (the reference then says why)."""
    out = np.empty(_pieces_room(symbols.size, len(ends), max_code_length, False),
                   dtype=np.uint8)
    written = _ckernels.encode_huffman_pieces(
        np.ascontiguousarray(symbols, dtype=np.uint8), np.asarray(ends, dtype=np.int64),
        np.ascontiguousarray(counts, dtype=np.int64), np.asarray(crcs, dtype=np.uint32),
        max_code_length, last, out)
    return None if written is None else out.data[:written]


def encode_huffman_split(symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                         crcs: list[int], whole_crc: Callable[[], int],
                         max_code_length: int, last: bool = False) -> memoryview | None:
    """The pieces' blocks or the whole as one block, whichever is smaller, in C (see
    ``reference.encode_huffman_split``); *whole_crc* is called only if the whole may win."""
    out = np.empty(_pieces_room(symbols.size, len(ends), max_code_length, True),
                   dtype=np.uint8)
    arguments = (np.ascontiguousarray(symbols, dtype=np.uint8), np.asarray(ends, dtype=np.int64),
                 np.ascontiguousarray(counts, dtype=np.int64), np.asarray(crcs, dtype=np.uint32))
    written = _ckernels.encode_huffman_split(*arguments, -1, max_code_length, last, out)
    if written == -1:  # the whole may be the smaller: code with its CRC-32
        written = _ckernels.encode_huffman_split(*arguments, whole_crc(), max_code_length,
                                                 last, out)
    return None if written is None else out.data[:written]


def merge_cells(cells: np.ndarray, coder: str, max_block: int) -> np.ndarray:
    """Each segment's length, merged from these cells' counts in C (see
    ``reference.merge_cells``)."""
    lengths = np.empty(len(cells), dtype=np.int64)
    segments = _ckernels.merge_cells(np.ascontiguousarray(cells, dtype=np.int64),
                                     coder == "huffman", max_block, split.LOG2_TABLE,
                                     split.BITS_PER_HUFFMAN_LENGTH, lengths)
    return lengths[:segments]


def pack_varints(values: np.ndarray) -> bytes:
    """The LEB128 encoding of each of *values* (see ``reference.pack_varints``)."""
    return _ckernels.pack_varints(np.ascontiguousarray(values, dtype=np.uint64))


def parse_varints(buffer: BytesLike, pos: int, count: int, longest: int,
                  ) -> tuple[np.ndarray, int] | None:
    """*count* LEB128 numbers from *pos*, read in C (see ``reference.parse_varints``)."""
    with view_of(buffer) as view:
        if view.nbytes - pos < count:
            return None  # cut short, certainly: nothing is allocated for a count not there
    values = np.empty(count, dtype=np.int64)
    end = _ckernels.parse_varints(buffer, pos, count, longest, values)
    return None if end is None else (values, end)


def plan_ans_pieces(counts: np.ndarray, costs: np.ndarray) -> AnsPiecesPlan | None:
    """The rANS tables of pieces of byte counts, planned in C (see
    ``reference.plan_ans_pieces``): (packed tables, frequencies, ideal bits, lanes, reused)."""
    pieces = len(counts)
    freqs = np.empty((pieces, 256), dtype=np.int64)
    ideals = np.empty(pieces, dtype=np.float64)
    lanes = np.empty(pieces, dtype=np.int64)
    reused = np.empty(pieces, dtype=np.uint8)
    tables = _ckernels.plan_ans_pieces(np.ascontiguousarray(counts, dtype=np.int64),
                                       np.ascontiguousarray(costs, dtype=np.float64),
                                       freqs, ideals, lanes, reused)
    return None if tables is None else (tables, freqs, ideals, lanes, reused)


def quantize_counts(counts: np.ndarray, precision: int) -> np.ndarray | None:
    """``frequency_table.quantize`` of integer *counts*, in C (see
    ``reference.quantize_counts``)."""
    freqs = np.empty(len(counts), dtype=np.int64)
    if _ckernels.quantize_counts(np.ascontiguousarray(counts, dtype=np.int64), precision, freqs):
        return freqs
    return None


def count_cells(symbols: np.ndarray, cell: int) -> np.ndarray:
    """The byte counts of each run of *cell* symbols (see ``reference.count_cells``)."""
    cells = -(-symbols.size // cell)
    counts = np.empty((cells, 256), dtype=np.int64)
    _ckernels.count_cells(np.ascontiguousarray(symbols, dtype=np.uint8), cell, counts)
    return counts


def huffman_depths(leaf_weights: np.ndarray) -> np.ndarray:
    """Huffman's tree depths over sorted leaves (see ``reference.huffman_depths``).

    The C code adds weights as doubles, exactly as Python adds floats; integer
    weights are exact up to 2**53, so both backends build the same tree.
    """
    if leaf_weights.dtype.kind in "iu" and leaf_weights.size and leaf_weights.max() >= 2**53:
        return reference.huffman_depths(leaf_weights)
    depths = np.empty(leaf_weights.size, dtype=np.int64)
    _ckernels.huffman_depths(np.ascontiguousarray(leaf_weights, dtype=np.float64), depths)
    return depths


def read_compact_table(buffer: BytesLike, pos: int) -> tuple[np.ndarray, int] | None:
    """The compact code table at *pos*, read in C, or None when it is damaged or cut short
    (see ``reference.read_compact_table``)."""
    found = _ckernels.parse_compact_table(buffer, pos)
    if found is None:
        return None
    lengths, end = found
    return np.frombuffer(lengths, dtype=np.uint8).astype(np.int64), end


def read_compact_frequencies(buffer: BytesLike, pos: int, alphabet_size: int,
                             ) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """The compact frequency table at *pos* (version 2), read in C, or None when it is
    damaged or cut short (see ``reference.read_compact_frequencies``)."""
    found = _ckernels.read_compact_frequencies(buffer, pos, alphabet_size)
    if found is None:
        return None
    listed, freqs, precision, end = found
    return (np.frombuffer(listed, dtype=np.int64), np.frombuffer(freqs, dtype=np.int64),
            precision, end)


def write_compact_frequencies(listed: np.ndarray, freqs: np.ndarray, precision: int,
                              ) -> bytes | None:
    """The compact frequency table of these symbols and frequencies (version 2), packed in C,
    or None when they are not a sound table (see ``reference.write_compact_frequencies``)."""
    return _ckernels.write_compact_frequencies(np.ascontiguousarray(listed, dtype=np.int64),
                                               np.ascontiguousarray(freqs, dtype=np.int64),
                                               precision)


def sequential_encode(data: BytesLike, order: int) -> bytes:
    """*data* coded bit by bit with the adaptive order-*order* model (see
    ``reference.sequential_encode``)."""
    with view_of(data) as view:
        size = view.nbytes
    # Room for a fair model (an eighth over), then for the worst: a bit costs 16 at most.
    for room in (size + size // 8 + 64, 16 * size + 64):
        out = np.empty(room, dtype=np.uint8)
        written = _ckernels.sequential_encode(data, order, out)
        if written >= 0:
            return out[:written].tobytes()
    raise AssertionError("a bit costs at most 16 bits")  # pragma: no cover


def sequential_decode(payload: BytesLike, count: int, order: int) -> bytes:
    """*count* bytes decoded with the adaptive order-*order* model (see
    ``reference.sequential_decode``)."""
    out = bytearray(count)
    _ckernels.sequential_decode(payload, count, order, out)
    return bytes(out)


def sequential_costs(data: BytesLike, order: int) -> np.ndarray:
    """What each byte of *data* costs the adaptive order-*order* model, in bits (see
    ``reference.sequential_costs``)."""
    with view_of(data) as view:
        costs = np.empty(view.nbytes, dtype=np.float64)
    _ckernels.sequential_costs(data, order, costs)
    return costs


#: The orders the static model takes (see ``reference.static_model``).
STATIC_ORDERS = reference.STATIC_ORDERS
static_model_memory = reference.static_model_memory


def static_encode(data: BytesLike, order: int) -> tuple[bytes, bytes]:
    """*data* coded with its static order-*order* model: (the model, the payload) (see
    ``reference.static_encode``)."""
    return _ckernels.static_encode(data, order)


def static_decode(model: BytesLike, payload: BytesLike, count: int, order: int) -> bytes:
    """*count* bytes decoded with the static order-*order* model *model* (see
    ``reference.static_decode``)."""
    if count < 0:
        raise ValueError("count must not be negative")
    out = bytearray(count)
    _ckernels.static_decode(model, payload, count, order, out)
    return bytes(out)


def static_costs(model: BytesLike, data: BytesLike, order: int) -> np.ndarray:
    """What each byte of *data* costs under the static model *model*, in bits (see
    ``reference.static_costs``)."""
    with view_of(data) as view:
        costs = np.empty(view.nbytes, dtype=np.float64)
    _ckernels.static_costs(model, data, order, costs)
    return costs


def cm_encode(data: BytesLike) -> bytes:
    """*data* coded bit by bit with the context-mixing model (see ``reference.cm_encode``)."""
    with view_of(data) as view:
        size = view.nbytes
    # Room for a fair model (an eighth over), then for the worst: a bit costs 16 at most.
    for room in (size + size // 8 + 64, 16 * size + 64):
        out = np.empty(room, dtype=np.uint8)
        written = _ckernels.cm_encode(data, out)
        if written >= 0:
            return out[:written].tobytes()
    raise AssertionError("a bit costs at most 16 bits")  # pragma: no cover


def cm_decode(payload: BytesLike, count: int) -> bytes:
    """*count* bytes decoded with the context-mixing model (see ``reference.cm_decode``)."""
    if count < 0:
        raise ValueError("count must not be negative")
    out = bytearray(count)
    _ckernels.cm_decode(payload, count, out)
    return bytes(out)


def cm_costs(data: BytesLike) -> np.ndarray:
    """What each byte of *data* costs the context-mixing model, in bits (see
    ``reference.cm_costs``)."""
    with view_of(data) as view:
        costs = np.empty(view.nbytes, dtype=np.float64)
    _ckernels.cm_costs(data, costs)
    return costs


def probability_encode(starts: np.ndarray, freqs: np.ndarray, precision: int) -> bytes:
    """The payload coding each symbol with its own row's interval, in C (see
    ``reference.probability_encode``)."""
    starts = np.ascontiguousarray(starts, dtype=np.uint32)
    out = np.empty(PROBABILITY_STATE_BYTES + 4 * starts.size, dtype=np.uint8)
    start = _ckernels.probability_encode(starts, np.ascontiguousarray(freqs, dtype=np.uint32),
                                         precision, out)
    return out[start:].tobytes()


def probability_decode(payload: BytesLike, cursor: np.ndarray, cumulative: np.ndarray,
                       precision: int) -> np.ndarray:
    """One symbol for each row of *cumulative*, decoded in C from where *cursor* stands (see
    ``reference.probability_decode``)."""
    rows, width = cumulative.shape
    out = np.empty(rows, dtype=np.uint32)
    try:
        _ckernels.probability_decode(payload, cursor,
                                     np.ascontiguousarray(cumulative, dtype=np.uint32),
                                     width - 1, precision, out)
    except ValueError as error:
        raise FormatError(str(error)) from None
    return out


def compact_symbol_counts(lengths: np.ndarray) -> list[int]:
    """How often each run-length symbol codes these 256 *lengths* (see ``reference``)."""
    return _ckernels.compact_symbol_counts(np.ascontiguousarray(lengths, dtype=np.uint8))


def write_compact_table(lengths: np.ndarray, widths: np.ndarray) -> bytes:
    """The compact table of 256 *lengths* with a code-length code of 19 *widths*."""
    return _ckernels.write_compact_table(np.ascontiguousarray(lengths, dtype=np.uint8),
                                         np.ascontiguousarray(widths, dtype=np.uint8))


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Each symbol's canonical codeword (see ``reference.canonical_codes``)."""
    codes = np.empty(len(lengths), dtype=np.uint64)
    _ckernels.canonical_codes(np.ascontiguousarray(lengths, dtype=np.uint8), codes)
    return codes
