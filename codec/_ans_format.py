"""The rANS parts of the file format: frequency tables and ANS blocks (FORMAT.md, section 14).

::

    frequency table = precision u8 | presence bitmap (32 bytes, MSB first)
                      | (freq - 1) as LEB128, for each present byte value in order
    ANS block       = 0x03 | symbols u32 | crc32 u32 | frequency table | lanes u16
                      | words u32 | final state u64 per lane | 32-bit words
                    | 0x04 | symbols u32 | crc32 u32 | lanes u16 | ...   (the frame's table)

All integers are little-endian.  Like the Huffman parts, every field is
checked before anything is sized from it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from . import _kernels
from ._errors import ChecksumError, CodebookError, FormatError, TruncatedError
from .ans import MAX_PRECISION, FrequencyTable
from .distribution import BYTE_ALPHABET_SIZE, Distribution

__all__ = ["ANS_LANES_SIZE", "BLOCK_ANS", "BLOCK_ANS_SHARED", "MAX_LANES", "AnsBlockHeader",
           "decode_ans_block", "encode_ans_block", "pack_frequency_table", "parse_ans_block",
           "parse_frequency_table", "table_for"]

BLOCK_ANS = 0x03
BLOCK_ANS_SHARED = 0x04

#: At most this many interleaved rANS states per block.
MAX_LANES = 4096
# The encoder spends about 50 bits per lane on flushing its state; one lane per this many
# bits of payload keeps that near 0.05% of the payload.
_PAYLOAD_BITS_PER_LANE = 100_000
# ... and at most this many symbols per lane.
_MAX_LANE_LENGTH = 131_072

_BLOCK_HEADER = struct.Struct("<BII")  # type, symbols, crc32
_LANES = struct.Struct("<HI")  # lanes, word count
#: Bytes of an ANS block's lane count and word count.
ANS_LANES_SIZE = _LANES.size
_BITMAP_BYTES = BYTE_ALPHABET_SIZE // 8
_STATE_BYTES = 8
_WORD_BYTES = 4
# A frequency below 2**24 takes at most four 7-bit groups.
_LONGEST_VARINT = 4


def _need(buffer, pos: int, size: int) -> None:
    if len(buffer) - pos < size:
        raise TruncatedError("compressed data ended in the middle of a frame")


# -- frequency tables ----------------------------------------------------------------


def pack_frequency_table(table: FrequencyTable) -> bytes:
    present = table.freqs > 0
    out = bytearray([table.precision])
    out += np.packbits(present).tobytes()
    for value in (table.freqs[present] - 1).tolist():
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return bytes(out)


def parse_frequency_table(buffer, pos: int, *, what: str = "frequency table",
                          ) -> tuple[FrequencyTable, int]:
    """Read a frequency table at *pos*; return it and the position after it."""
    _need(buffer, pos, 1 + _BITMAP_BYTES)
    precision = buffer[pos]
    if not 1 <= precision <= MAX_PRECISION:
        raise FormatError(f"{what} declares a precision of {precision} bits "
                          f"(allowed: 1 to {MAX_PRECISION})")
    bitmap = np.frombuffer(bytes(buffer[pos + 1:pos + 1 + _BITMAP_BYTES]), dtype=np.uint8)
    present = np.flatnonzero(np.unpackbits(bitmap))
    if present.size == 0:
        raise FormatError(f"{what} gives no byte value a frequency")
    pos += 1 + _BITMAP_BYTES
    values = []
    for _ in range(present.size):  # at most 256 small numbers: a table, not data
        value = shift = 0
        for length in range(1, _LONGEST_VARINT + 1):
            _need(buffer, pos, 1)
            byte = buffer[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if length == _LONGEST_VARINT:
                raise FormatError(f"{what} has a frequency longer than {_LONGEST_VARINT} bytes")
        values.append(value + 1)
    freqs = np.zeros(BYTE_ALPHABET_SIZE, dtype=np.int64)
    freqs[present] = values
    if int(freqs.sum()) != 1 << precision:
        raise FormatError(f"{what}'s frequencies sum to {int(freqs.sum())}, not "
                          f"2**{precision}")
    return FrequencyTable(freqs, precision), pos


def table_for(codebook) -> FrequencyTable:
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
    lanes: int
    word_count: int
    header_size: int
    shared: bool = False

    @property
    def payload_bits(self) -> int:
        """The coded bits: the lanes' final states and the words."""
        return 64 * self.lanes + 32 * self.word_count

    @property
    def size(self) -> int:
        return self.header_size + _STATE_BYTES * self.lanes + _WORD_BYTES * self.word_count


def lanes_for(symbols: np.ndarray, table: FrequencyTable) -> int:
    """How many lanes to run: more lanes go faster, but each costs a flushed state.

    One lane per 100 000 bits of ideal payload, but enough that no lane codes
    more than 131 072 symbols (so that a long block of low entropy, whose
    payload is tiny, does not take one numpy step per symbol).
    """
    counts = np.bincount(symbols, minlength=table.size)
    present = counts > 0
    ideal = float(np.dot(counts[present], table.costs[present]))
    wanted = max(int(ideal // _PAYLOAD_BITS_PER_LANE), -(-symbols.size // _MAX_LANE_LENGTH))
    return int(max(1, min(symbols.size, MAX_LANES, wanted)))


def encode_ans_block(data, shared: FrequencyTable | None = None) -> bytes:
    """Code *data* as one ANS block, with its own table or the frame's *shared* one."""
    symbols = np.frombuffer(data, dtype=np.uint8)
    if shared is None:
        counts = _kernels.count_symbols(symbols, BYTE_ALPHABET_SIZE)
        table = FrequencyTable.from_distribution(Distribution.from_counts(counts))
        kind, packed_table = BLOCK_ANS, pack_frequency_table(table)
    else:
        table, kind, packed_table = shared, BLOCK_ANS_SHARED, b""
    lanes = lanes_for(symbols, table)
    states, words = _kernels.ans_encode(symbols.astype(np.int64), table.freqs, table.cumulative,
                                        table.precision, lanes)
    return b"".join([
        _BLOCK_HEADER.pack(kind, symbols.size, zlib.crc32(data)),
        packed_table,
        _LANES.pack(lanes, words.size),
        states.astype("<u8").tobytes(),
        words.astype("<u4").tobytes(),
    ])


def parse_ans_block(buffer, pos: int, kind: int, symbols: int, crc: int,
                    frame_table: FrequencyTable | None) -> AnsBlockHeader:
    """Read an ANS block's header; the type, symbol count and CRC are read already."""
    cursor = pos + _BLOCK_HEADER.size
    if kind == BLOCK_ANS:
        table, cursor = parse_frequency_table(buffer, cursor)
    else:
        table = frame_table
    _need(buffer, cursor, _LANES.size)
    lanes, word_count = _LANES.unpack_from(buffer, cursor)
    if not 1 <= lanes <= min(symbols, MAX_LANES):
        raise FormatError(f"ANS block of {symbols} symbols declares {lanes} lanes "
                          f"(allowed: 1 to {min(symbols, MAX_LANES)})")
    # A lane takes at most one word per symbol it decodes.
    if word_count > symbols:
        raise FormatError(f"ANS block of {symbols} symbols declares {word_count} words; "
                          f"it can hold at most {symbols}")
    return AnsBlockHeader(symbols, crc, table, lanes, word_count,
                          cursor + _LANES.size - pos, shared=kind == BLOCK_ANS_SHARED)


def decode_ans_block(block: AnsBlockHeader, buffer, pos: int) -> bytes:
    """Decode the ANS block at *pos*; the whole block must be in *buffer*."""
    _need(buffer, pos, block.size)
    cursor = pos + block.header_size
    states = np.frombuffer(bytes(buffer[cursor:cursor + _STATE_BYTES * block.lanes]),
                           dtype="<u8")
    if np.any(states < _kernels.ANS_LOWER_BOUND):
        raise FormatError("an ANS lane starts below the lowest state: the block is damaged")
    cursor += _STATE_BYTES * block.lanes
    words = np.frombuffer(bytes(buffer[cursor:cursor + _WORD_BYTES * block.word_count]),
                          dtype="<u4")
    table = block.table
    symbols = _kernels.ans_decode(words, states, block.symbols, table.freqs, table.cumulative,
                                  table.precision)
    data = symbols.astype(np.uint8).tobytes()
    if not block.shared:
        counts = _kernels.count_symbols(symbols, BYTE_ALPHABET_SIZE)
        unused = np.flatnonzero((counts == 0) & (table.freqs > 0))
        if unused.size:
            raise FormatError(f"frequency table gives byte values that do not occur in the "
                              f"block a frequency ({', '.join(map(str, unused[:8].tolist()))})"
                              ": the table is damaged")
    if zlib.crc32(data) != block.crc32:
        raise ChecksumError(f"block of {block.symbols} bytes decoded, but its CRC-32 "
                            f"{zlib.crc32(data):08x} differs from the stored {block.crc32:08x}: "
                            "the data is corrupt")
    return data
