"""Compressed frames written by hand, field by field, following FORMAT.md (not by huffkit's
encoder): for tests that need a frame huffkit would never write, or one that lies."""

from __future__ import annotations

import struct
import zlib

from conftest import leb128

import huffkit

N = huffkit.MAX_BLOCK_SIZE  # 2**26
L = 1 << 32  # the rANS lower bound: where every lane starts and ends

ALPHABET_CODES = {"bytes": 0, "utf8": 1, "pairs": 2}
#: A symbol that needs a 4-byte kernel output in each alphabet (above 255).
WIDE = {"utf8": 0x1F600, "pairs": 0x6162}


def frame_header(block_size: int, *, ans: bool = False, alphabet: str = "bytes",
                 codebook: bool = False) -> bytes:
    flags = (codebook and 0x01) | (ans and 0x02) | ALPHABET_CODES[alphabet] << 2
    fields = struct.pack("<4sBBI", huffkit.MAGIC, 1, flags, block_size)
    return fields + struct.pack("<I", zlib.crc32(fields))


def presence(symbols, alphabet: str = "bytes") -> bytes:
    """A bitmap (bytes) or a count and LEB128 gaps (utf8, pairs)."""
    symbols = sorted(symbols)
    if alphabet == "bytes":
        bitmap = bytearray(32)
        for symbol in symbols:
            bitmap[symbol // 8] |= 0x80 >> (symbol % 8)
        return bytes(bitmap)
    gaps = [b - a - 1 for a, b in zip([-1, *symbols], symbols, strict=False)]
    return struct.pack("<I", len(symbols)) + b"".join(map(leb128, gaps))


def code_table(lengths: dict[int, int], alphabet: str = "bytes") -> bytes:
    longest = max(lengths.values())
    width = (longest - 1).bit_length()
    bits = "".join(format(lengths[s] - 1, f"0{width}b") if width else "" for s in sorted(lengths))
    bits += "0" * (-len(bits) % 8)
    packed = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return bytes([longest]) + presence(lengths, alphabet) + packed


def freq_table(freqs: dict[int, int], precision: int, alphabet: str = "bytes") -> bytes:
    return (bytes([precision]) + presence(freqs, alphabet)
            + b"".join(leb128(freqs[s] - 1) for s in sorted(freqs)))


def block_start(kind: int, symbols: int, alphabet: str, length: int | None, crc: int) -> bytes:
    if alphabet == "bytes":
        return struct.pack("<BII", kind, symbols, crc)
    return struct.pack("<BIII", kind, symbols, symbols if length is None else length, crc)


def huffman_block(symbols: int, table: bytes, stream_bits: list[int], payload: bytes = b"",
                  *, kind: int = 0x01, alphabet: str = "bytes", length: int | None = None,
                  crc: int = 0, streams: int | None = None) -> bytes:
    streams = len(stream_bits) if streams is None else streams
    return (block_start(kind, symbols, alphabet, length, crc) + table
            + struct.pack(f"<B{len(stream_bits)}I", streams, *stream_bits) + payload)


def ans_block(symbols: int, table: bytes, states: list[int], words: list[int] = (), *,
              kind: int = 0x03, alphabet: str = "bytes", length: int | None = None,
              crc: int = 0, lanes: int | None = None, word_count: int | None = None) -> bytes:
    lanes = len(states) if lanes is None else lanes
    word_count = len(words) if word_count is None else word_count
    return (block_start(kind, symbols, alphabet, length, crc) + table
            + struct.pack("<HI", lanes, word_count) + struct.pack(f"<{len(states)}Q", *states)
            + struct.pack(f"<{len(words)}I", *words))


def codebook_section(body: bytes, identifier: bytes = bytes(8)) -> bytes:
    section = identifier + body
    return section + struct.pack("<I", zlib.crc32(section))


def frame_end(total: int) -> bytes:
    return struct.pack("<BQ", 0, total)


def bomb(alphabet: str = "utf8", block_size: int = N, *, crc: int = 0) -> bytes:
    """A valid-looking rANS frame of one block of *block_size* copies of one symbol, coded in
    0 bits (frequency M): a few dozen bytes that decode to 4 * block_size bytes of utf8."""
    symbol = 97 if alphabet == "bytes" else WIDE[alphabet]
    width = {"bytes": 1, "pairs": 2, "utf8": 4}[alphabet]
    return (frame_header(block_size, ans=True, alphabet=alphabet)
            + ans_block(block_size, freq_table({symbol: 1 << 16}, 16, alphabet), [L],
                        alphabet=alphabet, length=width * block_size, crc=crc)
            + frame_end(block_size))


def declaring_block_size(packed: bytes, block_size: int) -> bytes:
    """A frame of one block as huffkit writes it (version 2: the header's block size is the
    block's symbol count, and the block is the frame's last, type bit 7), rewritten to
    declare *block_size*: the block then stores its symbol count and a frame end follows
    (FORMAT.md 17.1).  For frames huffkit no longer writes, whose header asks for more than
    their data needs."""
    (frame,) = huffkit.frame_info(packed)
    (block,) = frame.blocks
    assert frame.version == 2 and packed[block.offset] & 0x80
    fields = packed[:6] + struct.pack("<I", block_size)
    start = bytes([packed[block.offset] & 0x7F]) + leb128(block.symbols)
    return (fields + struct.pack("<I", zlib.crc32(fields)) + packed[14:block.offset] + start
            + packed[block.offset + 1:block.offset + block.size] + b"\xff"
            + leb128(block.symbols))
