"""The hot loops in numpy: the reference backend.

``_c_backend.py`` offers the same functions, compiled; ``_backend.py`` picks
one.  Both give bit-identical results, which the test suite checks.
Everything here works on whole arrays: there is no per-symbol Python loop.

* Counting is ``np.bincount``.
* Encoding looks up the code of every byte *pair* at once (a 64 K-entry
  table), joins a few pairs into chunks of at most 64 bits, then places the
  chunks into big-endian 64-bit words from their cumulative bit offsets.  A
  chunk spans at most two words, so each word is the OR of the chunks that
  start in it plus the spill-over of at most one chunk before it.
* Decoding uses bitarray's canonical Huffman decoder, which is written in C.
  bitarray is imported when this backend first decodes, not with huffkit: the
  compiled backend does not need it (see :func:`require_bitarray`).
* rANS runs many interleaved coder states ("lanes") in lockstep: each
  Python-level step codes one symbol in every lane at once, so the loop runs
  n / lanes times, not n times.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ._errors import FormatError

__all__ = ["ANS_LOWER_BOUND", "ans_decode", "ans_encode", "count_distinct", "count_symbols",
           "decode_stream",
           "decode_streams", "encode_stream", "encode_streams", "require_bitarray",
           "stream_ranges"]


def require_bitarray() -> tuple[type, ModuleType]:
    """bitarray's ``bitarray`` class and its ``bitarray.util`` module, which this backend
    decodes Huffman streams with; ImportError, saying what to do, if it cannot be imported."""
    try:
        from bitarray import bitarray, util
    except ImportError as error:
        raise ImportError(f"huffkit's numpy backend decodes Huffman streams with bitarray, "
                          f"which cannot be imported ({error}): install it (pip install "
                          "bitarray), or use the compiled backend") from None
    return bitarray, util

#: The longest code length the decoder accepts.
LONGEST_DECODABLE_CODE = 31


def stream_ranges(symbols: int, streams: int) -> list[tuple[int, int]]:
    """Stream k codes the symbols [k*m, (k+1)*m) with m = ceil(symbols / streams)."""
    per_stream = -(-symbols // streams)
    return [(min(k * per_stream, symbols), min((k + 1) * per_stream, symbols))
            for k in range(streams)]


def count_symbols(symbols: np.ndarray, alphabet_size: int) -> np.ndarray:
    """How often each symbol occurs."""
    return np.bincount(symbols, minlength=alphabet_size)


def count_distinct(symbols: np.ndarray, alphabet_size: int) -> int:
    """How many distinct symbols *symbols* holds: by sorting a few, by counting many."""
    if symbols.size * 8 < alphabet_size:
        return int(np.unique(symbols).size)
    return int(np.count_nonzero(np.bincount(symbols, minlength=alphabet_size)))


def encode_streams(symbols: np.ndarray, codes: np.ndarray, lengths: np.ndarray,
                   ranges: list[tuple[int, int]]) -> list[tuple[bytes, int]]:
    """Encode each ``symbols[start:end]`` of *ranges* as a separate stream.

    Returns one (bytes, exact bit count) pair per range.  Codewords are
    written MSB first; each stream's last byte is padded with zero bits.
    Every symbol must have a code (a non-zero length, at most 32): the
    caller checks.
    """
    longest = int(lengths.max())
    # The pair table is for bytes: 65 536 entries cover every pair of them.
    use_pairs = symbols.dtype == np.uint8 and symbols.size >= _PAIR_TABLE_MIN_SYMBOLS
    pair_table = _pair_table(codes, lengths) if use_pairs else None
    streams = []
    for start, end in ranges:
        if start == end:
            streams.append((b"", 0))
            continue
        chunk, chunk_bits = _pack_chunks(symbols[start:end], codes, lengths, longest, pair_table)
        streams.append(_place_chunks(chunk, chunk_bits))
    return streams


def encode_stream(symbols: np.ndarray, codes: np.ndarray, lengths: np.ndarray) -> tuple[bytes, int]:
    """Encode *symbols* as one stream; see :func:`encode_streams`."""
    return encode_streams(symbols, codes, lengths, [(0, symbols.size)])[0]


# Below this many symbols, building the 64 K-entry pair table costs more than it saves.
_PAIR_TABLE_MIN_SYMBOLS = 1 << 14


def _pair_table(codes: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The code and length of every byte pair, indexed by the pair read as little-endian u16."""
    lengths = lengths.astype(np.uint64)
    first, second = np.arange(256).repeat(256), np.tile(np.arange(256), 256)
    pair_index = first | (second << 8)  # the first byte is the low one
    pair_codes = np.empty(65536, dtype=np.uint64)
    pair_lengths = np.empty(65536, dtype=np.uint8)
    pair_codes[pair_index] = (codes[first] << lengths[second]) | codes[second]
    pair_lengths[pair_index] = lengths[first] + lengths[second]
    return pair_codes, pair_lengths


def _pack_chunks(symbols: np.ndarray, codes: np.ndarray, lengths: np.ndarray, longest: int,
                 pair_table: tuple[np.ndarray, np.ndarray] | None,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate runs of consecutive codewords into chunks of at most 64 bits.

    With a pair table, one lookup gives the code of two symbols (two codes of
    at most 32 bits fit in 64); then as many codes or pairs as fit in 64
    bits are joined per chunk.
    """
    if pair_table is None:
        chunk = codes[symbols]
        chunk_bits = lengths.astype(np.uint8)[symbols]
        group = max(1, 64 // longest)
    else:
        pair_codes, pair_lengths = pair_table
        even = symbols.size // 2 * 2
        pairs = symbols[:even].view("<u2")
        chunk = pair_codes[pairs]
        chunk_bits = pair_lengths[pairs]
        if even < symbols.size:  # an odd last symbol makes a pair on its own
            last = symbols[-1]
            chunk = np.append(chunk, codes[last])
            chunk_bits = np.append(chunk_bits, np.uint8(lengths[last]))
        group = max(1, 64 // (2 * longest))

    if group > 1 and chunk.size > 1:
        padding = -chunk.size % group
        if padding:  # zero-length codes change nothing; they square off the last group
            chunk = np.concatenate((chunk, np.zeros(padding, np.uint64)))
            chunk_bits = np.concatenate((chunk_bits, np.zeros(padding, np.uint8)))
        columns = chunk.reshape(-1, group)
        column_bits = chunk_bits.reshape(-1, group)
        chunk = columns[:, 0].copy()
        chunk_bits = column_bits[:, 0].copy()
        for position in range(1, group):
            chunk <<= column_bits[:, position].astype(np.uint64)
            chunk |= columns[:, position]
            chunk_bits += column_bits[:, position]
    return chunk, chunk_bits.astype(np.int64)


def _place_chunks(chunk: np.ndarray, chunk_bits: np.ndarray) -> tuple[bytes, int]:
    """Lay chunks end to end in big-endian 64-bit words; return the bytes and bit count."""
    ends = np.cumsum(chunk_bits)
    total_bits = int(ends[-1])
    starts = ends - chunk_bits
    word = starts >> 6
    spill = (starts & 63) + chunk_bits - 64  # > 0: bits that run into the next word

    # Left-align the chunk in its word, or keep only its head if it spills.
    # Shifts stay below 64: a shift of 64 is undefined for uint64.
    left = np.clip(-spill, 0, 63).astype(np.uint64)
    right = np.clip(spill, 0, 63).astype(np.uint64)
    head = (chunk << left) >> right

    words = np.zeros((total_bits + 63) // 64, dtype=np.uint64)
    first_in_word = np.flatnonzero(np.diff(word, prepend=-1))
    words[word[first_in_word]] = np.bitwise_or.reduceat(head, first_in_word)
    spills = np.flatnonzero(spill > 0)
    # At most one chunk spills into any word, so this fancy-indexed OR has no repeats.
    words[word[spills] + 1] |= chunk[spills] << (64 - spill[spills]).astype(np.uint64)
    return words.astype(">u8").tobytes()[: (total_bits + 7) // 8], total_bits


def decode_stream(data: bytes, bit_count: int, symbol_count: int, lengths: np.ndarray,
                  values: np.ndarray | None = None) -> bytes | np.ndarray:
    """Decode *symbol_count* symbols from the first *bit_count* bits of *data*.

    *lengths* is a validated canonical code, one length per symbol, and
    *values* (increasing; by default 0, 1, 2, ...) what each of those symbols
    decodes to: a block's table lists only the symbols it holds.  The bits
    must decode to exactly *symbol_count* whole codewords, and the padding
    bits after them must be zero; otherwise ``FormatError``.  When every value
    fits in a byte the symbols come back as bytes, otherwise as an int64 array.
    """
    bitarray, util = require_bitarray()
    bits = bitarray(endian="big")
    bits.frombytes(data)
    if bits.count(1, bit_count):
        raise FormatError("padding bits after the end of a stream are not zero")
    del bits[bit_count:]

    lengths = lengths.astype(np.int64)
    present = np.flatnonzero(lengths)
    canonical_order = present[np.lexsort((present, lengths[present]))]
    if values is not None:
        canonical_order = values[canonical_order]
    per_length = np.bincount(lengths[present], minlength=int(lengths.max()) + 1)
    per_length[0] = 0
    try:
        symbols = util.canonical_decode(bits, per_length.tolist(), canonical_order.tolist())
        if (lengths.size if values is None else int(values[-1]) + 1) <= 256:
            decoded = bytes(symbols)
        else:
            decoded = np.fromiter(symbols, dtype=np.int64, count=-1)
    except ValueError:
        raise FormatError("a stream ends in the middle of a codeword or holds a bit string "
                          "that is not a codeword") from None
    if len(decoded) != symbol_count:
        raise FormatError(f"a stream decodes to {len(decoded)} symbols, "
                          f"but its header says {symbol_count}")
    return decoded


def decode_streams(data, stream_bits: tuple[int, ...], symbol_count: int, lengths: np.ndarray,
                   values: np.ndarray | None = None) -> bytes | np.ndarray:
    """Decode a block's streams, laid end to end in *data*, each a whole number of bytes.

    Stream k holds the symbols of ``stream_ranges(symbol_count, len(stream_bits))[k]``
    in ``stream_bits[k]`` bits.  Returns the symbols (see :func:`decode_stream`):
    bytes when every value fits in a byte, an int64 array otherwise.
    """
    parts = []
    offset = 0
    ranges = stream_ranges(symbol_count, len(stream_bits))
    for (start, end), bits in zip(ranges, stream_bits, strict=True):
        size = (bits + 7) // 8
        parts.append(decode_stream(bytes(data[offset:offset + size]), bits, end - start,
                                   lengths, values))
        offset += size
    if isinstance(parts[0], bytes):
        return b"".join(parts)
    return np.concatenate(parts)


# -- rANS ------------------------------------------------------------------------------
#
# Each lane's state x lives in [L, 2**64) with L = 2**32; the coder reads and writes 32-bit
# words.  With frequencies out of M = 2**precision (at most 2**24), L / M >= 2**8 keeps the
# coding loss of rANS's integer arithmetic negligible.  Lane k codes the symbols k, k + K,
# k + 2K, ... (K lanes).  The encoder runs backwards; the words it emits at step t are
# stored in step order, and within a step in lane order, which is the order in which the
# decoder, running forwards, takes them.

#: The lower bound of a rANS state: every state the decoder starts from, and ends at.
ANS_LOWER_BOUND = 1 << 32
_WORD_BITS = np.uint64(32)
_WORD_MASK = np.uint64(0xFFFFFFFF)


def ans_encode(symbols: np.ndarray, freqs: np.ndarray, cumulative: np.ndarray, precision: int,
               lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Code *symbols* (every one of non-zero frequency) with *lanes* interleaved rANS states.

    Returns the final states (uint64, one per lane: the decoder's starting
    states) and the 32-bit words, in the order the decoder reads them.
    """
    n = symbols.size
    steps = -(-n // lanes)
    states = np.full(lanes, ANS_LOWER_BOUND, dtype=np.uint64)
    freq = freqs.astype(np.uint64)
    cum = cumulative.astype(np.uint64)
    # x must be below freq << (64 - precision) before a symbol is coded, or it would grow
    # past 2**64; a symbol that has all of M (the only one) leaves x as it is.
    limit = np.where(freqs == 1 << precision, np.uint64(2**64 - 1),
                     freq << np.uint64(64 - precision))
    shift = np.uint64(precision)
    words: list[np.ndarray] = [np.zeros(0, dtype=np.uint32)] * steps
    for step in range(steps - 1, -1, -1):
        chunk = symbols[step * lanes:(step + 1) * lanes]
        x = states[:chunk.size]
        f = freq[chunk]
        full = x >= limit[chunk]
        words[step] = (x[full] & _WORD_MASK).astype(np.uint32)
        x = np.where(full, x >> _WORD_BITS, x)
        quotient = x // f
        states[:chunk.size] = (quotient << shift) + (x - quotient * f) + cum[chunk]
    return states, np.concatenate(words) if words else np.zeros(0, dtype=np.uint32)


def ans_decode(words: np.ndarray, states: np.ndarray, count: int, freqs: np.ndarray,
               cumulative: np.ndarray, precision: int,
               values: np.ndarray | None = None) -> np.ndarray:
    """Decode *count* symbols from rANS *words* and the lanes' starting *states*.

    The symbols are indices into *freqs*, or the entries of *values* (what
    each of those symbols decodes to) when it is given.

    Raises ``FormatError`` unless the words are used up exactly and every lane
    ends at the lower bound, where the encoder began: so damage to the states,
    the words or the table is caught here, not only by the CRC.
    """
    lanes = states.size
    x_all = states.astype(np.uint64, copy=True)
    # The symbol of a slot is the last one whose cumulative frequency is at most the slot
    # (symbols of frequency 0 share their cumulative with the next, so "last" skips them).
    present = np.flatnonzero(freqs)
    starts = cumulative[present].astype(np.uint64)
    freq = freqs.astype(np.uint64)
    cum = cumulative.astype(np.uint64)
    shift = np.uint64(precision)
    slot_mask = np.uint64((1 << precision) - 1)
    lower = np.uint64(ANS_LOWER_BOUND)
    wide = words.astype(np.uint64)
    out = np.empty(count, dtype=np.int64)
    pos = 0
    for step in range(-(-count // lanes)):
        start = step * lanes
        active = min(lanes, count - start)
        x = x_all[:active]
        slot = x & slot_mask
        symbol = present[np.searchsorted(starts, slot, side="right") - 1]
        out[start:start + active] = symbol
        x = freq[symbol] * (x >> shift) + slot - cum[symbol]
        short = x < lower
        needed = int(np.count_nonzero(short))
        if needed:
            if pos + needed > wide.size:
                raise FormatError("ANS stream ended early: the block is damaged")
            x[short] = (x[short] << _WORD_BITS) | wide[pos:pos + needed]
            pos += needed
        x_all[:active] = x
    if pos != wide.size or np.any(x_all != lower):
        raise FormatError("ANS stream does not end where it began: the block is damaged")
    return out if values is None else values[out]


def join(parts: list, threads: int) -> bytes:
    """b"".join(parts) (numpy has no faster way; the compiled backend shares the copying)."""
    return b"".join(parts)


def count_cells(symbols: np.ndarray, cell: int) -> np.ndarray:
    """The byte counts of each run of *cell* symbols (the last run may be shorter): a matrix
    of one row of 256 counts per run."""
    cells = -(-symbols.size // cell)
    rows = np.arange(symbols.size, dtype=np.int64) // cell
    return np.bincount(rows * 256 + symbols, minlength=cells * 256).reshape(cells, 256)


def huffman_depths(leaf_weights: np.ndarray) -> np.ndarray:
    """The depths of Huffman's tree over leaves sorted by (weight, symbol): two queues,
    leaves and merged nodes; the lighter front is taken, the leaf when they tie
    (FORMAT.md, section 11).  At least two leaves."""
    weights = leaf_weights.tolist()
    n = len(weights)
    merged: list = []
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


def read_compact_table(buffer, pos: int) -> tuple[np.ndarray, int] | None:
    """A fast reading of the compact code table at *pos* (FORMAT.md, section 16.1): its 256
    lengths and the position after it, or None to read it with the reference parser,
    ``_compact_table.parse_compact_table``, which also says what is wrong with a bad one.
    The numpy backend has no faster way."""
    return None


def encode_huffman_pieces(symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                          crcs: list[int], max_code_length: int) -> None:
    """A fast coding of consecutive pieces of byte *symbols*, ending at *ends*, with these
    *counts* (a row of 256 per piece) and CRC-32s, as Huffman blocks: their bytes, or None
    to code them with the reference, ``container.encode_pieces``.  The numpy backend has no
    faster way."""
    return None


def parse_varints(buffer, pos: int, count: int, longest: int) -> None:
    """A fast ``_varint.parse_varints`` of well-formed numbers: (the values, int64; the
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
    return encoded[keep].tobytes()


def decode_huffman_run(buffer, pos: int, block_size: int, previous: bytes | None,
                       budget: int, largest: int) -> None:
    """Decode, in one call, the blocks of a byte frame of Huffman blocks that start at *pos*
    while they have compact tables (0x05) or reuse the previous block's code (0x06, whose
    256 lengths *previous* holds), are whole in *buffer*, hold at most *largest* symbols
    each and *budget* symbols in all (at least one block), and break no rule but perhaps
    the CRC: (their bytes; where each block starts in *buffer*, and where the last ends;
    where each one's bytes end; their stored CRC-32s, unchecked; the 256 lengths of each).
    Or None, when the first block is not of that kind: the blocks then go one at a time.
    The numpy backend always says None."""
    return None


def ans_encode_pieces(symbols: np.ndarray, ends: list[int], freqs: np.ndarray,
                      cumulative: np.ndarray, precision: int, lanes: list[int]) -> None:
    """``ans_encode`` of consecutive pieces of byte *symbols* in one call, piece p (ending
    at ends[p]) with row p of *freqs* and *cumulative* on lanes[p] lanes: (every piece's
    states, one after another; each piece's words, from the piece's first position in an
    array as long as *symbols*; how many words each has).  Or None, to code them one by
    one with ``ans_encode``: the numpy backend has no faster way."""
    return None


def plan_ans_pieces(counts: np.ndarray, costs: np.ndarray) -> None:
    """A fast planning of rANS pieces (``container._plan_ans_pieces``): their packed tables,
    frequencies, ideal bits, lanes and whether each reuses the previous table; or None to
    plan them with that reference.  The numpy backend has no faster way."""
    return None


def quantize_counts(counts: np.ndarray, precision: int) -> None:
    """A fast ``ans.quantize`` of integer *counts* (the same frequencies), or None to
    quantise them with that reference.  The numpy backend has no faster way."""
    return None


def merge_cells(cells: np.ndarray, coder: str, max_block: int) -> None:
    """A fast merging of cells (a row of byte counts each) into segments, as
    ``_splitter.merge_segments`` does: each segment's length, or None to merge them with
    that reference.  The numpy backend has no faster way."""
    return None


def encode_huffman_split(symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                         crcs: list[int], whole_crc, max_code_length: int) -> None:
    """A fast ``container.encode_split`` for Huffman: the blocks of the pieces ending at
    *ends*, or of the whole as one block (*whole_crc()* gives its CRC-32), whichever is
    smaller; or None to choose with the reference.  The numpy backend has no faster way."""
    return None


def compact_symbol_counts(lengths: np.ndarray) -> np.ndarray:
    """How often each of the 19 run-length symbols of a compact table (FORMAT.md, section
    16.1) codes these 256 *lengths*."""
    from ._compact_table import run_length  # the reference, which imports this module

    symbols, _ = run_length(np.asarray(lengths, dtype=np.int64))
    return np.bincount(symbols, minlength=19)


def write_compact_table(lengths: np.ndarray, widths: np.ndarray) -> bytes:
    """The compact table of 256 *lengths* with a code-length code of 19 *widths*."""
    from ._compact_table import write_table

    return write_table(np.asarray(lengths, dtype=np.int64), np.asarray(widths))


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Each symbol's canonical codeword (FORMAT.md, section 7) as uint64; 0 without a code."""
    from .codebook import canonical_codes as reference  # which imports this module

    return reference(lengths)
