"""Huffman coding of streams in numpy: the reference the compiled kernels match bit for bit.

* Encoding looks up the code of every byte *pair* at once (a 64 K-entry
  table), joins a few pairs into chunks of at most 64 bits, then places the
  chunks into big-endian 64-bit words from their cumulative bit offsets.  A
  chunk spans at most two words, so each word is the OR of the chunks that
  start in it plus the spill-over of at most one chunk before it.
* Decoding uses bitarray's canonical Huffman decoder, which is written in C.
  bitarray is imported when this backend first decodes, not with huffkit: the
  compiled backend does not need it (see :func:`require_bitarray`).
* The kernels that code or decode many blocks in one call exist only compiled:
  here they answer None, and the caller takes its own path, block by block.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

from ..._buffers import Bytes, BytesLike
from ..._errors import FormatError

__all__ = ["LONGEST_DECODABLE_CODE", "decode_huffman_run", "decode_stream", "decode_streams",
           "encode_huffman_pieces", "encode_huffman_split", "encode_stream", "encode_streams",
           "require_bitarray", "stream_ranges"]


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
            decoded: bytes | np.ndarray = bytes(symbols)
        else:
            decoded = np.fromiter(symbols, dtype=np.int64, count=-1)
    except ValueError:
        raise FormatError("a stream ends in the middle of a codeword or holds a bit string "
                          "that is not a codeword") from None
    if len(decoded) != symbol_count:
        raise FormatError(f"a stream decodes to {len(decoded)} symbols, "
                          f"but its header says {symbol_count}")
    return decoded


def decode_streams(data: Bytes, stream_bits: tuple[int, ...], symbol_count: int,
                   lengths: np.ndarray,
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
        return b"".join(part for part in parts if isinstance(part, bytes))  # all of them
    return np.concatenate(parts)


def encode_huffman_pieces(symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                          crcs: list[int], max_code_length: int, last: bool = False) -> None:
    """A fast coding of consecutive pieces of byte *symbols*, ending at *ends*, with these
    *counts* (a row of 256 per piece) and CRC-32s, as Huffman blocks (with *last*, the
    last of them the frame's last block, which stores no count): their bytes, or None
    to code them with the reference, ``stream.pieces.encode_pieces``.  The numpy backend has no
    faster way."""
    return None


def decode_huffman_run(buffer: BytesLike, pos: int, block_size: int, previous: bytes | None,
                       budget: int, largest: int, version: int = 1, before: int = 0) -> None:
    """Decode, in one call, the blocks of a byte frame of Huffman blocks that start at *pos*
    while they have compact tables (0x05) or reuse the previous block's code (0x06, whose
    256 lengths *previous* holds), are whole in *buffer*, hold at most *largest* symbols
    each and *budget* symbols in all (at least one block), and break no rule, the CRC
    included: (their bytes; where each block starts in *buffer*, and where the last ends;
    where each one's bytes end; their CRC-32s, checked; the 256 lengths of each).
    Or None, when the first block is not of that kind: the blocks then go one at a time.
    *version* is the frame's format version (FORMAT.md, section 17), *before* the symbols
    of the frame's blocks before *pos* (its last block holds the rest of *block_size*, and
    ends the run).  The numpy backend always says None."""
    return None


def encode_huffman_split(symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                         crcs: list[int], whole_crc: Callable[[], int], max_code_length: int,
                         last: bool = False) -> None:
    """A fast ``stream.pieces.encode_split`` for Huffman: the blocks of the pieces ending at
    *ends*, or of the whole as one block (*whole_crc()* gives its CRC-32), whichever is
    smaller; or None to choose with the reference.  The numpy backend has no faster way."""
    return None
