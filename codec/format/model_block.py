"""The model block (FORMAT.md, section 18): a block of bytes coded by a sequential model,
which the block names, so that a decoder needs no option to decode it::

    block = type 0x08 (0x88: the frame's last) | [symbols varint] | crc32 u32
            | model u8 | order u8 | stored size varint | stored model
            | payload size varint | payload

Each block starts its model afresh: blocks decode independently, as every block of the
format does, which lets threads share a large file (at the cost of relearning the
model at each block's start).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .._buffers import Bytes, BytesLike
from .._errors import FormatError, MemoryLimitError
from ..models.alphabet import ALPHABETS, Alphabet
from ..models.sequential import SequentialModel, model_for
from .layout import LONGEST_LENGTH, need
from .varint import read_varint, varint

__all__ = ["ModelBlockHeader", "check_model_memory", "decode_model_block",
           "encode_model_block", "parse_model_block"]

#: A payload takes at most 16 bits a coded bit (the coder's least probability is 1/65536),
#: 8 bits a byte, and one byte to end: a block's payload size above this is damage.
_PAYLOAD_BITS_PER_BYTE = 16 * 8


#: ... and at least log2(65536/65535) bits a coded bit, so a model that codes every bit (all
#: but the static ones, whose forced bits cost nothing) spends a payload byte on 45,425 bytes
#: at most: a 30-byte block cannot claim 64 MiB and keep cm busy for a minute.  The rule
#: allows 45,000 and 16 bytes more: the coder's rounding can leave a payload a few dozen
#: bits below the loss (its last interval, and 2^-24 of a bit a bit at most).
_BYTES_PER_PAYLOAD_BYTE = 45000


@dataclass(frozen=True, eq=False)
class ModelBlockHeader:
    """Everything in a model block before its payload."""

    symbols: int
    crc32: int
    model: SequentialModel
    stored: tuple[int, int]  # where its stored model lies, from the block's start
    payload: tuple[int, int]  # where its payload lies, from the block's start
    last: bool = False
    length: int = 0  # the bytes it decodes to: its symbols
    alphabet: Alphabet = ALPHABETS["bytes"]
    shared: bool = False  # (no frame codebook, no code reused: what other blocks say)
    reused: bool = False
    listed: None = None
    memory: int = 0  # the most its model's tables take to decode it (bytes)
    size: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", self.payload[1])

    @property
    def payload_bits(self) -> int:
        return 8 * (self.payload[1] - self.payload[0])

    @property
    def table_size(self) -> int:
        """The bytes of its stored model (as other blocks' tables: what the ledger's
        container does not count)."""
        return self.stored[1] - self.stored[0]


def encode_model_block(data: Bytes, model: SequentialModel, start: bytes) -> list[BytesLike]:
    """*data* (bytes, not empty) coded by *model*, after *start* (the block's type, count
    and CRC, from ``blocks.block_start``): the block's bytes, in pieces."""
    stored, payload = model.encode(data)
    return [start, bytes([model.kind, model.order]), varint(len(stored)), stored,
            varint(len(payload)), payload]


def parse_model_block(buffer: Bytes, pos: int, cursor: int, symbols: int, crc: int, *,
                      last: bool) -> ModelBlockHeader:
    """The model block at *pos*, whose type, count and CRC end at *cursor*."""
    need(buffer, cursor, 2)
    kind, order = buffer[cursor], buffer[cursor + 1]
    model = model_for(kind, order)
    if model is None:
        raise FormatError(f"model block names model {kind} of order {order}, which this "
                          "version of huffkit does not know")
    stored_size, cursor = read_varint(buffer, cursor + 2, longest=LONGEST_LENGTH,
                                      what="model block's stored model size")
    if stored_size and not model.stores:
        raise FormatError(f"model block of {model.name}, which stores nothing, holds "
                          f"{stored_size} bytes of stored model")
    stored = (cursor - pos, cursor - pos + stored_size)
    need(buffer, cursor, stored_size)
    payload_size, cursor = read_varint(buffer, cursor + stored_size, longest=LONGEST_LENGTH,
                                       what="model block's payload size")
    if payload_size * 8 > symbols * _PAYLOAD_BITS_PER_BYTE + 8:
        raise FormatError(f"model block of {symbols} bytes claims a payload of "
                          f"{payload_size} bytes, more than any model could spend")
    if model.codes_every_bit and symbols > (payload_size + 16) * _BYTES_PER_PAYLOAD_BYTE:
        raise FormatError(f"model block claims {symbols} bytes from a payload of "
                          f"{payload_size} bytes, fewer than {model.name} could write them "
                          "in")
    memory = model.memory(symbols, bytes(buffer[pos + stored[0]:pos + stored[1]]))
    return ModelBlockHeader(symbols, crc, model, stored,
                            (cursor - pos, cursor - pos + payload_size), last, symbols,
                            memory=memory)


def check_model_memory(block: ModelBlockHeader, memory_limit: int | None) -> None:
    """``MemoryLimitError`` if decoding *block* needs more than *memory_limit* bytes: its
    output and its model's tables."""
    if memory_limit is None:
        return
    needed = block.symbols + block.memory
    if needed > memory_limit:
        raise MemoryLimitError(
            f"this {block.model.name} block needs {needed / (1 << 20):,.2f} MiB to decode "
            f"({block.symbols:,} bytes and the model's tables), over the memory limit of "
            f"{memory_limit / (1 << 20):,.2f} MiB: pass a larger memory_limit= "
            "(huffkit --memory SIZE)")


def decode_model_block(block: ModelBlockHeader, buffer: Bytes, pos: int) -> bytes:
    """The bytes of the model block at *pos* (the whole block in *buffer*), before its CRC
    is checked."""
    stored = bytes(buffer[pos + block.stored[0]:pos + block.stored[1]])
    payload = bytes(buffer[pos + block.payload[0]:pos + block.payload[1]])
    try:
        return block.model.decode(stored, payload, block.symbols)
    except ValueError as error:
        raise FormatError(f"{block.model.name} block: {error}") from None
