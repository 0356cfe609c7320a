"""Blocks (FORMAT.md, sections 4, 9 and 16.2): the header every block starts with, the
Huffman or rANS body its type gives (``huffman_block``, ``rans_block``), and the checks
of a decoded block.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from .._buffers import Bytes, BytesLike
from .._errors import ChecksumError, FormatError
from .._types import Coder
from ..kernels import backend
from ..models.alphabet import ALPHABETS, Alphabet, AlphabetError
from ..models.codebook import Codebook
from ..models.frequency_table import FrequencyTable
from ..models.sequential import SequentialModel
from .frame import FrameEnd, FrameHeader
from .huffman_block import (
    BlockHeader,
    decode_huffman_block,
    encode_huffman_block,
    parse_huffman_block,
)
from .layout import (
    BLOCK_ANS,
    BLOCK_ANS_REUSE,
    BLOCK_ANS_SHARED,
    BLOCK_END,
    BLOCK_END_V2,
    BLOCK_HEADER,
    BLOCK_HEADER_SIZED,
    BLOCK_HUFFMAN,
    BLOCK_HUFFMAN_COMPACT,
    BLOCK_HUFFMAN_REUSE,
    BLOCK_HUFFMAN_SHARED,
    BLOCK_LAST,
    BLOCK_MODEL,
    FRAME_END,
    LONGEST_LENGTH,
    LONGEST_SYMBOLS,
    LONGEST_TOTAL,
    need,
)
from .model_block import (
    ModelBlockHeader,
    decode_model_block,
    encode_model_block,
    parse_model_block,
)
from .rans_block import (
    AnsBlockHeader,
    decode_ans_block,
    encode_ans_block,
    parse_ans_block,
    table_for,
)
from .varint import read_varint, varint

__all__ = ["ReusableCode", "SharedCode", "block_start", "check_every_code_is_used",
           "decode_block", "decode_block_symbols", "encode_block", "encode_modelled_block",
           "parse_block", "table_size"]


@dataclass(frozen=True, eq=False)
class ReusableCode:
    """The code of a frame's last block, all a reuse block (type 0x06) takes from it: for
    blocks decoded in a run (``HuffmanDecompressor``), whose headers Python never saw."""

    listed: np.ndarray
    lengths: np.ndarray
    shared: bool = False
    last: bool = False  # the frame's last block (version 2, type bit 7): the frame ends


@dataclass(frozen=True, eq=False)
class ReusableTable:
    """The frequency table of a frame's last block, all a reuse block (type 0x07) takes from
    it: for rANS blocks decoded in a run, as ReusableCode for Huffman blocks."""

    listed: np.ndarray
    table: FrequencyTable
    shared: bool = False
    last: bool = False


#: A block's header, as :func:`parse_block` reads it.
AnyBlockHeader: TypeAlias = BlockHeader | AnsBlockHeader | ModelBlockHeader
#: What a reuse block may take its code from: the frame's previous block, or the code of the
#: last block of a run decoded in one call.
PreviousBlock: TypeAlias = AnyBlockHeader | ReusableCode | ReusableTable


class SharedCode:
    """A frame's codebook, made ready once to code each of the frame's blocks.

    For the byte alphabet the code spans all 256 symbols; for a larger one it
    is cut down to the symbols it codes, so that a block costs time in
    proportion to its length, not to the alphabet's size.
    """

    def __init__(self, codebook: Codebook, coder: Coder, alphabet: Alphabet) -> None:
        table = table_for(codebook) if coder == "ans" else None
        self._position = None  # symbol -> its place among the listed ones
        if alphabet.name == "bytes":
            self.codes, self.lengths, self.table = codebook.codes, codebook.lengths, table
            return
        if table is not None:
            listed = np.flatnonzero(table.freqs)
            self.table = FrequencyTable(table.freqs[listed], table.precision)
        else:
            listed = np.flatnonzero(codebook.lengths)
            self.codes, self.lengths = codebook.codes[listed], codebook.lengths[listed]
        self._position = np.zeros(alphabet.size, dtype=np.int64)
        self._position[listed] = np.arange(listed.size)

    def positions(self, symbols: np.ndarray) -> np.ndarray:
        """What the code's kernels take for *symbols* (every one of which it codes)."""
        return symbols if self._position is None else self._position[symbols]


def encode_block(data: Bytes, max_code_length: int, shared: SharedCode | None = None, *,
                 coder: Coder = "huffman", alphabet: Alphabet = ALPHABETS["bytes"],
                 symbols: np.ndarray | None = None, last: bool = False) -> list[BytesLike]:
    """Code *data* (a non-empty bytes-like object, whole symbols) as one block.

    With *shared* (the frame's codebook) the block is coded with it and
    stores no table; otherwise it gets its own optimal code.  The caller has
    checked that *shared* has a code for every symbol of *data*.  With
    ``coder="ans"`` the block is an ANS block, with its own frequency table
    or the frame's.  *symbols* may bring the data's symbols, converted already.
    *last* marks the frame's last block, which holds the rest of the header's
    block size and stores no count.

    Returns the block's bytes in pieces (bytes-like), for the caller to join
    with the rest of its output: one copy, not two.
    """
    if symbols is None:
        symbols = alphabet.symbols(data)
    start = block_start(BLOCK_ANS if coder == "ans" else BLOCK_HUFFMAN, symbols.size, len(data),
                        backend.kernels.crc32(data), alphabet, shared=shared is not None,
                        last=last)
    if coder == "ans":
        if shared is None:
            return [start, *encode_ans_block(symbols, alphabet)]
        return [start, *encode_ans_block(shared.positions(symbols), alphabet, shared.table)]
    if shared is None:
        return [start, *encode_huffman_block(symbols, alphabet, max_code_length)]
    return [start, *encode_huffman_block(shared.positions(symbols), alphabet, max_code_length,
                                         (shared.codes, shared.lengths))]


def encode_modelled_block(data: Bytes, model: SequentialModel, *, last: bool = False,
                          ) -> list[BytesLike]:
    """*data* (bytes, not empty) coded by a sequential *model* as one model block (FORMAT.md,
    section 18), in pieces; *last* as for :func:`encode_block`."""
    start = block_start(BLOCK_MODEL, len(data), len(data), backend.kernels.crc32(data),
                        ALPHABETS["bytes"], shared=False, last=last)
    return encode_model_block(data, model, start)


def block_start(kind: int, symbols: int, length: int, crc: int, alphabet: Alphabet, *,
                shared: bool, last: bool = False) -> bytes:
    """Type, symbol count, (for alphabets other than bytes) byte length, and CRC-32, as a
    version-2 frame has them: the counts as LEB128 numbers, and no symbol count but bit 7
    of the type for the frame's *last* block."""
    kind += 1 if shared else 0  # each shared-table type follows its own-table type
    count = varint(symbols)
    if last:
        kind, count = kind | BLOCK_LAST, b""
    sized = b"" if alphabet.name == "bytes" else varint(length)
    return bytes([kind]) + count + sized + crc.to_bytes(4, "little")


_BLOCK_TYPES = {"huffman": (BLOCK_HUFFMAN, BLOCK_HUFFMAN_SHARED, BLOCK_HUFFMAN_COMPACT,
                            BLOCK_HUFFMAN_REUSE),
                "ans": (BLOCK_ANS, BLOCK_ANS_SHARED, BLOCK_ANS_REUSE)}
_SHARED_TYPES = (BLOCK_HUFFMAN_SHARED, BLOCK_ANS_SHARED)
_REUSE_TYPES = (BLOCK_HUFFMAN_REUSE, BLOCK_ANS_REUSE)


def parse_block(buffer: Bytes, pos: int, frame: FrameHeader,
                previous: PreviousBlock | None = None,
                total: int = 0) -> AnyBlockHeader | FrameEnd:
    """Read the header of the block or frame end at *pos* (its streams may not be there yet).

    *previous* is the frame's previous block, whose code a reuse block (types 0x06 and
    0x07) takes; after a version-2 frame's last block (type bit 7) the frame has ended,
    with nothing more to read (a FrameEnd of 0 bytes).  *total* is the symbols of the
    frame's blocks before *pos*, of which its last block holds the rest of the block size.
    """
    if previous is not None and previous.last:
        return FrameEnd(total, 0)
    need(buffer, pos, 1)
    kind = buffer[pos]
    version = frame.version
    if kind == (BLOCK_END if version == 1 else BLOCK_END_V2):
        if version >= 2:
            total, end = read_varint(buffer, pos + 1, longest=LONGEST_TOTAL,
                                     what="frame end's symbol count")
            if total >= 1 << 64:
                raise FormatError("frame end's symbol count is 2**64 or more")
            return FrameEnd(total, end - pos)
        need(buffer, pos, FRAME_END.size)
        return FrameEnd(FRAME_END.unpack_from(buffer, pos)[1])
    type_byte = kind
    last = version >= 2 and bool(kind & BLOCK_LAST)
    if last:
        kind ^= BLOCK_LAST
    if kind == BLOCK_MODEL and version >= 2:
        _check_model_frame(frame)
    elif kind not in _BLOCK_TYPES[frame.coder]:
        other = "huffman" if frame.coder == "ans" else "ans"
        if kind in _BLOCK_TYPES[other]:
            raise FormatError(f"block type 0x{type_byte:02x} is a {other} block, but the "
                              f"frame's flags say {frame.coder}")
        hint = " (a version-2 frame ends with 0xff)" if type_byte == BLOCK_END else ""
        raise FormatError(f"unknown block type 0x{type_byte:02x}{hint}")
    if kind in _SHARED_TYPES and frame.codebook_id is None:
        raise FormatError("block is coded with the frame's codebook, but the frame has none")
    if kind == BLOCK_HUFFMAN_COMPACT and frame.alphabet.name != "bytes":
        raise FormatError("block type 0x05 (a compact table) is for byte frames only")
    if kind in _REUSE_TYPES and (previous is None or previous.shared
                                 or isinstance(previous, ModelBlockHeader)):
        raise FormatError(f"block type 0x{kind:02x} reuses the previous block's code, but "
                          "no block before it in the frame has a code of its own")
    alphabet = frame.alphabet
    if version >= 2:
        if last:  # the rest of the block size, which must leave it a symbol at least
            symbols, cursor = frame.block_size - total, pos + 1
            if symbols < 1:
                raise FormatError(f"the frame's last block holds no symbols: the blocks before "
                                  f"it hold {total}, its block size is {frame.block_size}")
        else:
            symbols, cursor = read_varint(buffer, pos + 1, longest=LONGEST_SYMBOLS,
                                          what="block's symbol count")
        length = symbols
        if alphabet.name != "bytes":
            length, cursor = read_varint(buffer, cursor, longest=LONGEST_LENGTH,
                                         what="block's length in bytes")
        need(buffer, cursor, 4)
        crc = int.from_bytes(buffer[cursor:cursor + 4], "little")
        cursor += 4
    elif alphabet.name == "bytes":
        need(buffer, pos, BLOCK_HEADER.size)
        _, symbols, crc = BLOCK_HEADER.unpack_from(buffer, pos)
        length, cursor = symbols, pos + BLOCK_HEADER.size
    else:
        need(buffer, pos, BLOCK_HEADER_SIZED.size)
        _, symbols, length, crc = BLOCK_HEADER_SIZED.unpack_from(buffer, pos)
        cursor = pos + BLOCK_HEADER_SIZED.size
    if not 1 <= symbols <= frame.block_size:
        raise FormatError(f"block claims {symbols} symbols; the frame allows 1 to "
                          f"{frame.block_size} per block")
    if not symbols <= length <= symbols * alphabet.max_symbol_bytes:
        raise FormatError(f"block of {symbols} {alphabet.name} symbols claims {length} bytes")
    if kind == BLOCK_MODEL:
        return parse_model_block(buffer, pos, cursor, symbols, crc, last=last)
    if frame.coder == "ans":
        table = frame.listed, frame.table
        if kind == BLOCK_ANS_REUSE:
            # An rANS frame's blocks before it: checked above to be one with a table.
            assert isinstance(previous, AnsBlockHeader | ReusableTable)
            table = previous.listed, previous.table
        block = parse_ans_block(buffer, pos, cursor, kind, symbols, crc, table, alphabet,
                                version)
        return dataclasses.replace(block, length=length, alphabet=alphabet,
                                   reused=kind == BLOCK_ANS_REUSE, last=last)
    # A block with a table of its own reads its code.
    code: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    code_range = None
    if kind in (BLOCK_HUFFMAN_REUSE, BLOCK_HUFFMAN_SHARED):
        code = frame.listed, frame.lengths
        if kind == BLOCK_HUFFMAN_REUSE:
            # A Huffman frame's blocks before it: checked above to be one with a code.
            assert isinstance(previous, BlockHeader | ReusableCode)
            code = previous.listed, previous.lengths
        if previous is not None and getattr(previous, "lengths", None) is code[1]:
            code_range = getattr(previous, "code_range", None)  # the same code: known already
    return parse_huffman_block(buffer, pos, cursor, kind, symbols, crc, code, code_range,
                               alphabet, length, version, last)


def _check_model_frame(frame: FrameHeader) -> None:
    """A model block (type 0x08) codes bytes on its own: only in a byte frame with no
    codebook section and no rANS flag (FORMAT.md, section 18)."""
    if frame.alphabet.name != "bytes":
        raise FormatError(f"a model block (type 0x08) codes bytes, but the frame's alphabet "
                          f"is {frame.alphabet.name}")
    if frame.codebook_id is not None or frame.coder == "ans":
        raise FormatError("a model block (type 0x08) is only in a frame without a codebook "
                          "section or the rANS flag")


def check_every_code_is_used(listed: np.ndarray, symbols: np.ndarray, *, ans: bool,
                             alphabet: Alphabet, distinct: int | None = None) -> None:
    """A block's own table gives codes (or frequencies) to exactly the symbols it holds.

    Checking this catches damage the CRC cannot see: one flipped bit in the
    table of a one-symbol block can add a second symbol, whose complete code
    decodes the same stream to the same bytes.  (A frame's shared code may
    well code symbols that a block lacks, so its blocks are not checked.)
    The decoded *symbols* all come from *listed*, so counting them suffices; *distinct*
    is their count when the decoder learnt it.
    """
    if distinct is None:
        distinct = backend.kernels.count_distinct(symbols, alphabet.size)
    if distinct == listed.size:
        return
    unused = np.setdiff1d(listed, symbols)
    listed_text = (f"{', '.join(map(str, unused[:8].tolist()))}"
                   f"{', ...' if unused.size > 8 else ''}")
    noun = "byte values" if alphabet.name == "bytes" else "symbols"
    if ans:
        raise FormatError(f"frequency table gives {noun} that do not occur in the block a "
                          f"frequency ({listed_text}): the table is damaged")
    raise FormatError(f"code table gives codes to {noun} that do not occur in the block "
                      f"({listed_text}): the table is damaged")


def decode_block(block: AnyBlockHeader, buffer: Bytes, pos: int) -> bytes:
    """Decode the block whose header starts at *pos*; the whole block must be in *buffer*."""
    return decode_block_symbols(block, buffer, pos)[0]


def decode_block_symbols(block: AnyBlockHeader, buffer: Bytes, pos: int,
                         ) -> tuple[bytes, np.ndarray]:
    """:func:`decode_block`, and the block's symbols as decoded (a view of the bytes for the
    bytes alphabet, else uint32): what ``inspect`` counts, without converting the bytes
    back to symbols (for utf8, that took 16 more bytes a symbol than decoding)."""
    need(buffer, pos, block.size)
    distinct = None  # how many distinct symbols were decoded, if the decoder counted them
    decoded: bytes | np.ndarray
    if isinstance(block, ModelBlockHeader):
        decoded = decode_model_block(block, buffer, pos)
    elif isinstance(block, AnsBlockHeader):
        decoded, distinct = decode_ans_block(block, buffer, pos)
    else:
        decoded = decode_huffman_block(block, buffer, pos)
    # bytes, when every symbol is a byte value
    symbols = (np.frombuffer(decoded, dtype=np.uint8) if isinstance(decoded, bytes)
               else decoded)
    if not (block.shared or block.reused or isinstance(block, ModelBlockHeader)):
        assert block.listed is not None  # a block's own table lists its symbols
        check_every_code_is_used(block.listed, symbols, ans=isinstance(block, AnsBlockHeader),
                                 alphabet=block.alphabet, distinct=distinct)
    try:
        if isinstance(decoded, bytes) and block.alphabet.name == "bytes":
            data = decoded
        else:
            data = block.alphabet.data(symbols)
    except AlphabetError as error:
        raise FormatError(f"the block decodes to symbols that are not {block.alphabet.name}: "
                          f"{error}") from None
    if len(data) != block.length:
        raise FormatError(f"block decodes to {len(data)} bytes, but its header says "
                          f"{block.length}")
    crc = backend.kernels.crc32(data)
    if crc != block.crc32:
        what = (f"{block.symbols} bytes" if block.alphabet.name == "bytes" else
                f"{block.symbols} symbols ({len(data)} bytes)")
        raise ChecksumError(f"block of {what} decoded, but its CRC-32 "
                            f"{crc:08x} differs from the stored {block.crc32:08x}: "
                            "the data is corrupt")
    return data, symbols


def table_size(block: AnyBlockHeader) -> int:
    """The bytes of a block's own code or frequency table (0 when it has none)."""
    return block.table_size
