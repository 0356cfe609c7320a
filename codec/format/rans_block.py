"""The rANS parts of the file format: frequency tables and ANS blocks (FORMAT.md, section 14).

::

    frequency table = precision u8 | presence bitmap (32 bytes, MSB first)
                      | (freq - 1) as LEB128, for each present byte value in order
    ANS block       = 0x03 | symbols u32 | crc32 u32 | frequency table | lanes u16
                      | words u32 | final state u64 per lane | 32-bit words
                    | 0x04 | symbols u32 | crc32 u32 | lanes u16 | ...   (the frame's table)
                    | 0x07 | symbols u32 | crc32 u32 | lanes u16 | ...   (the previous block's)

In version 2 (section 17) the table is the compact one of ``rans_tables``, and the
lanes and the word count are LEB128 numbers.  All integers are little-endian.  Like the
Huffman parts, every field is checked before anything is sized from it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .._buffers import Bytes, BytesLike
from .._errors import CodebookError, FormatError
from ..kernels import backend
from ..kernels.reference.rans import ANS_LOWER_BOUND
from ..models.alphabet import ALPHABETS, Alphabet
from ..models.codebook import Codebook
from ..models.distribution import Distribution
from ..models.frequency_table import (
    BYTE_BLOCK_PRECISION,
    MAX_PRECISION,
    FrequencyTable,
    precision_for_block,
)
from .layout import (
    BLOCK_ANS,
    BLOCK_ANS_SHARED,
    FORMAT_VERSION,
    LONGEST_LANES,
    LONGEST_SYMBOLS,
    need,
)
from .presence import listed_symbols, pack_presence, parse_presence
from .rans_tables import choose_precision, pack_compact_frequencies, parse_compact_frequencies
from .varint import pack_varints, parse_varints, read_varint, varint

__all__ = ["ANS_LANES_SIZE", "MAX_LANES", "AnsBlockHeader",
           "ans_payload", "decode_ans_block", "encode_ans_block", "lanes_for_counts", "lanes_size",
           "pack_frequency_table", "parse_ans_block", "parse_frequency_table", "table_for"]

#: At most this many interleaved rANS states per block.
MAX_LANES = 4096
# The encoder spends about 50 bits per lane on flushing its state; one lane per this many
# bits of payload keeps that near 0.05% of the payload.
_PAYLOAD_BITS_PER_LANE = 100_000
# ... and at most this many symbols per lane.
_MAX_LANE_LENGTH = 131_072
# One lane makes each step wait for the last; a few let a processor overlap them (the C
# encoder runs twice as fast on four lanes as on one).  So a block gets up to this many
# lanes at one per _PAYLOAD_BITS_PER_SPARE_LANE bits, which keeps the flush near 0.1%; or,
# for a long block of low entropy, one per _SYMBOLS_PER_SPARE_LANE symbols once its
# payload reaches _LEAST_SPARE_PAYLOAD bits (a small file is not charged for speed).
_FEW_LANES = 4
_PAYLOAD_BITS_PER_SPARE_LANE = 50_000
_SYMBOLS_PER_SPARE_LANE = 16_384
_LEAST_SPARE_PAYLOAD = 20_000

_LANES = struct.Struct("<HI")  # lanes, word count
#: Bytes of an ANS block's lane count and word count.
ANS_LANES_SIZE = _LANES.size
_STATE_BYTES = 8
_WORD_BYTES = 4
# A frequency below 2**24 takes at most four 7-bit groups.
_LONGEST_VARINT = 4


# -- frequency tables ----------------------------------------------------------------


def pack_frequency_table(table: FrequencyTable, alphabet: Alphabet = ALPHABETS["bytes"],
                         listed: np.ndarray | None = None, *,
                         version: int = FORMAT_VERSION) -> bytes:
    """The frequency table of a frame of *version*: in version 1, precision u8 | presence
    (bitmap or list) | (freq - 1) as LEB128, per listed symbol; in version 2, the compact
    table of ``rans_tables``.

    *table* gives a frequency to every symbol of the alphabet, or, with
    *listed*, to each of those (increasing) symbols in turn.
    """
    if listed is None:
        listed = np.flatnonzero(table.freqs)
        table = FrequencyTable(table.freqs[listed], table.precision)
    if version >= 2:
        return pack_compact_frequencies(table, listed)
    return (bytes([table.precision]) + pack_presence(listed, alphabet)
            + pack_varints(table.freqs - 1))


def parse_frequency_table(buffer: Bytes, pos: int, alphabet: Alphabet = ALPHABETS["bytes"], *,
                          what: str = "frequency table", version: int = 1,
                          ) -> tuple[np.ndarray, FrequencyTable, int]:
    """Read a frequency table at *pos* of a frame of *version*: the symbols it lists
    (increasing), their frequencies as a table indexed by position in that list, and the
    position after it."""
    if version >= 2:
        return parse_compact_frequencies(buffer, pos, alphabet, what=what)
    need(buffer, pos, 1)
    precision = buffer[pos]
    if not 1 <= precision <= MAX_PRECISION:
        raise FormatError(f"{what} declares a precision of {precision} bits "
                          f"(allowed: 1 to {MAX_PRECISION})")
    listed, pos = parse_presence(buffer, pos + 1, alphabet, what=what)
    if listed.size == 0:
        noun = "byte value" if alphabet.name == "bytes" else "symbol"
        raise FormatError(f"{what} gives no {noun} a frequency")
    values, pos = parse_varints(buffer, pos, listed.size, longest=_LONGEST_VARINT, what=what,
                                noun="frequency")
    freqs = values.astype(np.int64) + 1
    if int(freqs.sum()) != 1 << precision:
        raise FormatError(f"{what}'s frequencies sum to {int(freqs.sum())}, not "
                          f"2**{precision}")
    return listed, FrequencyTable(freqs, precision), pos


def table_for(codebook: Codebook) -> FrequencyTable:
    """The frequency table ANS uses for a codebook: its distribution, quantised.

    A codebook without a distribution stands for the one its lengths imply.
    """
    distribution = codebook.distribution
    if distribution is None:
        distribution = Distribution.from_counts(codebook.implied_probabilities)
    try:
        return FrequencyTable.from_distribution(distribution, precision=None)
    except CodebookError as error:
        raise CodebookError(f"the codebook cannot serve the ANS coder: {error}") from None


# -- blocks ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AnsBlockHeader:
    """Everything in an ANS block before its states and words."""

    symbols: int
    crc32: int
    table: FrequencyTable | None  # None: the frame's table, which was not supplied
    listed: np.ndarray | None  # the symbols the table lists: table.freqs[i] is listed[i]'s
    lanes: int
    word_count: int
    header_size: int
    shared: bool = False
    length: int = 0  # the bytes it decodes to (for bytes, its symbols)
    alphabet: Alphabet = ALPHABETS["bytes"]
    reused: bool = False  # coded with the previous block's table (type 0x07)
    table_size: int = 0  # the bytes of its own table (0 when it has none)
    last: bool = False  # the frame's last block (version 2, type bit 7)

    @property
    def payload_bits(self) -> int:
        """The coded bits: the lanes' final states and the words."""
        return 64 * self.lanes + 32 * self.word_count

    @property
    def size(self) -> int:
        return self.header_size + _STATE_BYTES * self.lanes + _WORD_BYTES * self.word_count


def lanes_for_counts(ideal_bits: float, symbols: int) -> int:
    """How many lanes to run: more lanes go faster, but each costs a flushed state.

    One lane per 100 000 bits of ideal payload (*ideal_bits*, the sum of
    log2(M/f) over the block's symbols), but enough that no lane codes more
    than 131 072 symbols (so that a long block of low entropy, whose payload is
    tiny, does not take one numpy step per symbol), and up to four for speed:
    one per 50 000 bits, or per 16 384 symbols when there are 20 000 bits or more
    (so that the steps of a small block can overlap).
    """
    spare = int(ideal_bits // _PAYLOAD_BITS_PER_SPARE_LANE)
    if ideal_bits >= _LEAST_SPARE_PAYLOAD:
        spare = max(spare, symbols // _SYMBOLS_PER_SPARE_LANE)
    wanted = max(int(ideal_bits // _PAYLOAD_BITS_PER_LANE), -(-symbols // _MAX_LANE_LENGTH),
                 min(_FEW_LANES, spare))
    return int(max(1, min(symbols, MAX_LANES, wanted)))


def encode_ans_block(symbols: np.ndarray, alphabet: Alphabet,
                     shared: FrequencyTable | None = None) -> list[BytesLike]:
    # (Version 2: the table's precision is the one that makes table and payload smallest.)
    """An ANS block after its type, symbol count (and length) and CRC: its own table (unless
    the frame's *shared* one codes it), lanes, states and words.

    *symbols* are the block's symbols, or, with a *shared* table that lists
    only some symbols, their positions in that list.  Returns it in pieces.
    """
    if shared is None:
        if alphabet.name == "bytes":  # 256 counts: the table may as well span the alphabet
            listed, counts = None, backend.kernels.count_symbols(symbols, alphabet.size)
        else:
            listed, symbols, counts = listed_symbols(symbols, alphabet)
        present = np.flatnonzero(counts)
        precision = precision_for_block(present.size)
        chosen = choose_precision(counts[present], present if listed is None else listed,
                                  precision,
                                  fast=BYTE_BLOCK_PRECISION if listed is None else None)
        freqs = chosen.freqs
        if listed is None:  # spread over the byte values again
            freqs = np.zeros(alphabet.size, dtype=np.int64)
            freqs[present] = chosen.freqs
        table = FrequencyTable(freqs, chosen.precision)
        packed_table = pack_frequency_table(table, alphabet, listed)
    else:
        table, packed_table = shared, b""
        counts = backend.kernels.count_symbols(symbols, table.size)
    occurring = counts > 0
    lanes = lanes_for_counts(float(np.dot(counts[occurring], table.costs[occurring])),
                             symbols.size)
    return [packed_table, *ans_payload(symbols, table, lanes)]


def ans_payload(symbols: np.ndarray, table: FrequencyTable, lanes: int) -> list[BytesLike]:
    """The end of an ANS block: lanes and word count, then the states and the words of
    *symbols* coded with *table* on *lanes* lanes.  In pieces."""
    states, words = backend.kernels.ans_encode(symbols, table.freqs, table.cumulative,
                                                table.precision, lanes)
    return lanes_payload(states, words)


def lanes_payload(states: np.ndarray, words: np.ndarray) -> list[BytesLike]:
    """The end of an ANS block of version 2 whose lanes ended at *states* and shed *words*:
    lanes and word count (LEB128), then the states and the words.  In pieces."""
    return [varint(states.size) + varint(words.size), states.astype("<u8", copy=False),
            words.astype("<u4", copy=False)]


def lanes_size(lanes: int, words: int) -> int:
    """The bytes of an ANS block of version 2 from its lane count on."""
    return (len(varint(lanes)) + len(varint(words)) + _STATE_BYTES * lanes
            + _WORD_BYTES * words)


def parse_ans_block(buffer: Bytes, pos: int, cursor: int, kind: int, symbols: int, crc: int,
                    frame_table: tuple[np.ndarray | None, FrequencyTable | None],
                    alphabet: Alphabet, version: int = 1) -> AnsBlockHeader:
    """Read an ANS block's header from *cursor*, its start (type ... CRC) read already."""
    table_start = cursor
    listed: np.ndarray | None
    table: FrequencyTable | None
    if kind == BLOCK_ANS:
        listed, table, cursor = parse_frequency_table(buffer, cursor, alphabet,
                                                      version=version)
    else:
        listed, table = frame_table
    table_size = cursor - table_start
    if version >= 2:
        lanes, cursor = read_varint(buffer, cursor, longest=LONGEST_LANES,
                                    what="ANS block's lane count")
        word_count, cursor = read_varint(buffer, cursor, longest=LONGEST_SYMBOLS,
                                         what="ANS block's word count")
    else:
        need(buffer, cursor, _LANES.size)
        lanes, word_count = _LANES.unpack_from(buffer, cursor)
        cursor += _LANES.size
    if not 1 <= lanes <= min(symbols, MAX_LANES):
        raise FormatError(f"ANS block of {symbols} symbols declares {lanes} lanes "
                          f"(allowed: 1 to {min(symbols, MAX_LANES)})")
    # A lane takes at most one word per symbol it decodes.  The converse cannot be checked:
    # a symbol of frequency M = 2**precision costs 0 bits (its lane's state never changes),
    # so a valid block of one repeated symbol codes any count in a few dozen bytes, and a
    # table of frequencies M - 1 and 1 at precision 24 costs under 10**-7 bits a symbol.  No
    # ratio of symbols to words holds for every valid block, so *symbols* is bounded only by
    # the frame's block_size (rule B2, checked before this), which the header announced and
    # parse_frame_header checked (at most 2**26).  decode_ans_block sizes its output from
    # it before it can know whether the block is damaged: memory is bounded by block_size
    # times the bytes a symbol stands for, as for a valid block of the same header.
    if word_count > symbols:
        raise FormatError(f"ANS block of {symbols} symbols declares {word_count} words; "
                          f"it can hold at most {symbols}")
    return AnsBlockHeader(symbols, crc, table, listed, lanes, word_count, cursor - pos,
                          shared=kind == BLOCK_ANS_SHARED, table_size=table_size)


def decode_ans_block(block: AnsBlockHeader, buffer: Bytes, pos: int,
                     ) -> tuple[np.ndarray | bytes, int]:
    """Decode the symbols of the ANS block at *pos*; the whole block must be in *buffer*.
    Returns them, and how many distinct symbols they are (for rule A5).

    The output, block.symbols of them, is allocated before the words are checked: a
    damaged block costs as much memory as a valid one (see parse_ans_block).
    """
    need(buffer, pos, block.size)
    cursor = pos + block.header_size
    states = np.frombuffer(bytes(buffer[cursor:cursor + _STATE_BYTES * block.lanes]),
                           dtype="<u8")
    if np.any(states < ANS_LOWER_BOUND):
        raise FormatError("an ANS lane starts below the lowest state: the block is damaged")
    cursor += _STATE_BYTES * block.lanes
    words = buffer[cursor:cursor + _WORD_BYTES * block.word_count]  # read where they lie
    table = block.table
    assert table is not None  # decoding: the frame's table was supplied
    decoded: tuple[np.ndarray | bytes, int] = backend.kernels.ans_decode_counted(
        words, states, block.symbols, table.freqs, table.cumulative, table.precision,
        block.listed)
    return decoded
