"""Bad compressed input: truncated, bit-flipped, garbage, trailing data, absurd headers.

Whatever the damage, huffkit must raise ``FormatError`` (or one of its
subclasses, ``TruncatedError`` and ``ChecksumError``): never another
exception, never a successful return with wrong output, and never an
allocation sized from a field it has not checked.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zlib

import numpy as np
import pytest
from conftest import peak_memory
from hypothesis import given
from hypothesis import strategies as st

import huffkit
from huffkit import ChecksumError, FormatError, TruncatedError

# -- sample files --------------------------------------------------------------

_WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
          "entropy", "bounds", "every", "prefix", "code", "and", "Kraft", "sums", "never",
          "exceed", "one"]


def _text(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    text = rng.choice(_WORDS)
    while len(text) < size:
        text += " " + rng.choice(_WORDS)
    return text.encode()[:size]


# A block needs 2**16 symbols to be split into 4 streams (FORMAT.md 17.5), and every
# symbol costs at least a bit, so two equally likely symbols make the smallest such
# block (~8 KB); the text after it makes a second, single-stream block.
_COIN_FLIPS = bytes(random.Random(7).choices(b"ab", k=1 << 16))

#: name -> (original, compressed)
# Plain code tables (split=False), whose fields the tests below find by offset; and, as
# huffkit writes by default, a compact one.
SAMPLES: dict[str, tuple[bytes, bytes]] = {
    "tiny": (b"abracadabra", huffkit.compress(b"abracadabra", split=False)),
    "empty": (b"", huffkit.compress(b"")),
    "blocks": (_text(520, 1), huffkit.compress(_text(520, 1), block_size=200, split=False)),
    "four-streams": (_COIN_FLIPS, huffkit.compress(_COIN_FLIPS, block_size=1 << 16,
                                                   split=False)),
    "four-streams+block": (_COIN_FLIPS + _text(300, 2),
                           huffkit.compress(_COIN_FLIPS + _text(300, 2), block_size=1 << 16,
                                            split=False)),
    # One distinct byte: the block's code has a single codeword.
    "one-symbol": (b"a" * 50, huffkit.compress(b"a" * 50, split=False)),
    "compact": (_text(300, 3), huffkit.compress(_text(300, 3))),
}

def test_samples_have_the_intended_structure():
    """The corruption tests below rely on these shapes: keep them honest."""
    shapes = {name: [(block.symbols, block.streams)
                     for frame in huffkit.frame_info(packed) for block in frame.blocks]
              for name, (_, packed) in SAMPLES.items()}
    assert shapes == {
        "tiny": [(11, 1)],
        "empty": [],
        "blocks": [(200, 1), (200, 1), (120, 1)],
        "four-streams": [(1 << 16, 4)],
        "four-streams+block": [(1 << 16, 4), (300, 1)],
        "one-symbol": [(50, 1)],
        "compact": [(300, 1)],
    }
    assert SAMPLES["compact"][1][14] == 0x85  # a compact code table, the frame's last block
    for original, packed in SAMPLES.values():
        assert huffkit.decompress(packed) == original


def _decoded_length(packed: bytes, available: int) -> int:
    """How many bytes a decoder can produce from the first *available* bytes of one frame."""
    (frame,) = huffkit.frame_info(packed)
    return sum(block.symbols for block in frame.blocks
               if block.offset + block.size <= available)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# -- truncation ----------------------------------------------------------------

TRUNCATED = ["tiny", "empty", "blocks", "four-streams+block", "compact"]
_TRUNCATION_MESSAGE = re.compile(r"empty input|ended before the end of its frame")


@pytest.mark.parametrize("name", TRUNCATED)
def test_decompress_rejects_every_prefix(name):
    _, packed = SAMPLES[name]
    failures = []
    for length in range(len(packed)):
        try:
            result = huffkit.decompress(packed[:length])
        except TruncatedError as error:
            if not _TRUNCATION_MESSAGE.search(str(error)):
                failures.append((length, _describe(error)))
        except Exception as error:
            failures.append((length, _describe(error)))
        else:
            failures.append((length, f"returned {len(result)} bytes"))
    assert failures == []


@pytest.mark.parametrize("name", TRUNCATED)
@pytest.mark.slow
def test_decompressor_waits_at_every_prefix_and_resumes(name):
    original, packed = SAMPLES[name]
    for length in range(len(packed)):
        decompressor = huffkit.HuffmanDecompressor()
        head = decompressor.decompress(packed[:length])
        assert decompressor.eof is False, length
        assert decompressor.needs_input is True, length
        assert decompressor.unused_data == b"", length
        # Every complete block is decoded at once, and nothing else.
        assert head == original[:_decoded_length(packed, length)], length
        tail = decompressor.decompress(packed[length:])
        assert decompressor.eof is True, length
        assert head + tail == original, length


def test_decompressor_fed_one_byte_at_a_time():
    original, packed = SAMPLES["four-streams+block"]
    decompressor = huffkit.HuffmanDecompressor()
    pieces = []
    for position in range(len(packed)):
        assert decompressor.eof is False
        pieces.append(decompressor.decompress(packed[position:position + 1]))
        assert b"".join(pieces) == original[:_decoded_length(packed, position + 1)]
    assert decompressor.eof is True
    assert decompressor.unused_data == b""


@pytest.mark.parametrize("name", TRUNCATED)
def test_file_object_rejects_every_prefix(name):
    _, packed = SAMPLES[name]
    failures = []
    for length in range(len(packed)):
        try:
            with huffkit.open(io.BytesIO(packed[:length])) as file:
                result = file.read()
        except TruncatedError as error:
            if not re.search(r"ended before the end of its frame", str(error)):
                failures.append((length, _describe(error)))
        except Exception as error:
            failures.append((length, _describe(error)))
        else:
            failures.append((length, f"read {len(result)} bytes"))
    assert failures == []


def test_file_object_returns_complete_blocks_before_reporting_truncation():
    original, packed = SAMPLES["blocks"]
    (frame,) = huffkit.frame_info(packed)
    cut = frame.blocks[2].offset + 5  # two whole blocks, then part of the third
    with huffkit.open(io.BytesIO(packed[:cut])) as file:
        assert file.read(400) == original[:400]
        with pytest.raises(TruncatedError, match="ended before the end of its frame"):
            file.read()


# -- single bit flips ----------------------------------------------------------

FLIPPED = ["tiny", "empty", "blocks", "four-streams", "one-symbol", "compact"]


def _flipped(packed: bytes, bit: int) -> bytes:
    damaged = bytearray(packed)
    damaged[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(damaged)


@pytest.mark.parametrize("name", FLIPPED)
@pytest.mark.slow
def test_decompress_rejects_every_single_bit_flip(name):
    _, packed = SAMPLES[name]
    failures = []
    for bit in range(8 * len(packed)):
        try:
            huffkit.decompress(_flipped(packed, bit))
        except FormatError:
            pass
        except Exception as error:
            failures.append((bit, _describe(error)))
        else:
            failures.append((bit, "decompressed without error"))
    assert failures == [], f"{len(failures)} bad bits, first: {failures[:5]}"


@pytest.mark.parametrize("name", ["tiny", "blocks"])
def test_decompressor_never_returns_wrong_bytes_after_a_bit_flip(name):
    original, packed = SAMPLES[name]
    failures = []
    for bit in range(8 * len(packed)):
        decompressor = huffkit.HuffmanDecompressor()
        try:
            output = decompressor.decompress(_flipped(packed, bit))
        except FormatError:
            continue
        except Exception as error:
            failures.append((bit, _describe(error)))
            continue
        # Without an error, the flip can only have made the frame look longer:
        # what came out must be checked, genuine data.
        if decompressor.eof or not original.startswith(output):
            failures.append((bit, f"eof={decompressor.eof}, {len(output)} bytes out"))
    assert failures == [], f"{len(failures)} bad bits, first: {failures[:5]}"


def test_flip_giving_a_one_symbol_code_a_second_symbol_is_detected():
    """A one-symbol code plus one more length-1 symbol is a complete code that decodes
    the same bytes with the same CRC-32: only the rule that a block's table codes exactly
    its own symbols catches it."""
    _, packed = SAMPLES["one-symbol"]  # b"a" * 50: only "a" has a code, "0"
    damaged = bytearray(packed)
    # After the frame header, the block's type and CRC (the frame's last block stores no
    # symbol count: FORMAT.md 17.1), and the longest-code byte.
    assert packed[14] == 0x81
    bitmap = 14 + 5 + 1
    damaged[bitmap + ord("b") // 8] ^= 0x80 >> (ord("b") % 8)  # now "b" has a code too
    with pytest.raises(FormatError, match=r"codes to byte values that do not occur.*\(98\)"):
        huffkit.decompress(bytes(damaged))


# -- garbage (hypothesis) --------------------------------------------------------


def _assert_rejected(data: bytes) -> None:
    """decompress and open() raise FormatError; the decompressor raises or waits."""
    with pytest.raises(FormatError):
        huffkit.decompress(data)
    with pytest.raises(FormatError), huffkit.open(io.BytesIO(data)) as file:
        file.read()
    decompressor = huffkit.HuffmanDecompressor()
    try:
        output = decompressor.decompress(data)
    except FormatError:
        return
    assert decompressor.eof is False
    assert output == b""


@given(st.binary(max_size=3000))
def test_random_bytes_are_rejected(data):
    _assert_rejected(data)


@given(st.binary(max_size=3000))
def test_random_bytes_after_the_magic_are_rejected(data):
    _assert_rejected(huffkit.MAGIC + data)


# -- hand-made frames, following container.py's layout --------------------------


def frame_header(block_size: int, *, version: int = 1, flags: int = 0) -> bytes:
    fields = struct.pack("<4sBBI", huffkit.MAGIC, version, flags, block_size)
    return fields + struct.pack("<I", zlib.crc32(fields))


def code_table(lengths: dict[int, int], *, longest: int | None = None) -> bytes:
    """longest u8 | presence bitmap (MSB first) | (length - 1) in ceil(log2 longest) bits each."""
    longest = max(lengths.values()) if longest is None else longest
    width = (longest - 1).bit_length()
    bitmap = bytearray(32)
    for symbol in lengths:
        bitmap[symbol // 8] |= 0x80 >> (symbol % 8)
    bits = "".join(format(lengths[symbol] - 1, f"0{width}b") if width else ""
                   for symbol in sorted(lengths))
    bits += "0" * (-len(bits) % 8)
    packed = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return bytes([longest]) + bytes(bitmap) + packed


def block(symbols: int, crc: int, table: bytes, stream_bits: list[int], payload: bytes,
          *, streams: int | None = None) -> bytes:
    streams = len(stream_bits) if streams is None else streams
    return (struct.pack("<BII", 1, symbols, crc) + table
            + struct.pack(f"<B{len(stream_bits)}I", streams, *stream_bits) + payload)


def frame_end(total: int) -> bytes:
    return struct.pack("<BQ", 0, total)


AB = code_table({ord("a"): 1, ord("b"): 1})  # a = 0, b = 1
# A complete code whose longest codeword is the format's limit, 31 bits.
DEEP = code_table({symbol: min(symbol + 1, 31) for symbol in range(32)})


def abba_frame(*, block_size: int = 16, crc: int | None = None, bits: int = 4,
               payload: bytes = b"\x60", total: int = 4) -> bytes:
    crc = zlib.crc32(b"abba") if crc is None else crc
    return (frame_header(block_size) + block(4, crc, AB, [bits], payload)
            + frame_end(total))


def test_hand_made_frames_match_the_encoder():
    """The helpers write the real format (version 1, which huffkit reads still), so the
    damaged frames below differ in one field; huffkit writes the same block in version 2
    (FORMAT.md 17.1): the header's block size its 4 symbols, the block the frame's last (type
    0x81: no symbol count, and no frame end), no stream count, the bit count a LEB128 number."""
    v1 = abba_frame()
    v2 = huffkit.compress(b"abba", block_size=16, split=False)
    fields = v1[:4] + b"\x02" + v1[5:6] + struct.pack("<I", 4)
    assert v2 == (fields + struct.pack("<I", zlib.crc32(fields))
                  + b"\x81" + v1[19:23 + len(AB)] + b"\x04" + b"\x60")
    assert huffkit.decompress(v1) == b"abba" == huffkit.decompress(v2)
    data = b"abracadabra"
    lengths = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(data)).lengths
    table = code_table({symbol: int(length) for symbol, length in enumerate(lengths) if length})
    # Version 2: after the type and the CRC (the frame's last block stores no count).
    assert table == SAMPLES["tiny"][1][14 + 5:14 + 5 + len(table)]
    # The deep table is valid: a block holding each of its 32 symbols once decodes.
    # Symbol s < 31 is coded as s ones and a zero; symbol 31 as 31 ones.
    data = bytes(range(32))
    bits = "".join("1" * s + "0" for s in range(31)) + "1" * 31
    payload = int(bits + "0" * (-len(bits) % 8), 2).to_bytes((len(bits) + 7) // 8, "big")
    deep = (frame_header(64) + block(32, zlib.crc32(data), DEEP, [len(bits)], payload)
            + frame_end(32))
    assert huffkit.decompress(deep) == data


@given(st.integers(1, huffkit.MAX_BLOCK_SIZE), st.binary(max_size=3000))
def test_random_block_after_a_valid_header_is_rejected(block_size, body):
    # 0x01 starts a Huffman block: past the header, so the block parser meets the garbage.
    _assert_rejected(frame_header(block_size) + b"\x01" + body)


@given(st.sampled_from(["tiny", "blocks", "four-streams+block"]), st.data())
def test_random_byte_damage_is_rejected(name, draw):
    original, packed = SAMPLES[name]
    damage = draw.draw(st.dictionaries(st.integers(0, len(packed) - 1), st.integers(1, 255),
                                       min_size=1, max_size=4))
    damaged = bytearray(packed)
    for position, mask in damage.items():
        damaged[position] ^= mask
    with pytest.raises(FormatError):
        huffkit.decompress(bytes(damaged))
    decompressor = huffkit.HuffmanDecompressor()
    try:
        output = decompressor.decompress(bytes(damaged))
    except FormatError:
        return
    assert decompressor.eof is False
    assert original.startswith(output)


# -- absurd sizes ----------------------------------------------------------------

MEMORY_LIMIT = 1 << 20


def test_peak_memory_sees_python_and_numpy_allocations():
    """A control: without it, a small peak could mean the measurement is blind."""
    with peak_memory() as peak:
        buffer = bytearray(4 * MEMORY_LIMIT)
        del buffer
    assert peak.bytes >= 4 * MEMORY_LIMIT
    with peak_memory() as peak:
        array = np.zeros(MEMORY_LIMIT, dtype=np.int64)
        del array
    assert peak.bytes >= 8 * MEMORY_LIMIT


def _rejects_cheaply(frame: bytes, error: type[FormatError], match: str) -> FormatError:
    huffkit.decompress(SAMPLES["tiny"][1])  # warm up lazy imports and caches
    with peak_memory() as peak, pytest.raises(error, match=match) as info:
        huffkit.decompress(frame)
    assert peak.bytes < MEMORY_LIMIT
    with peak_memory() as peak, pytest.raises(error, match=match), \
            huffkit.open(io.BytesIO(frame)) as file:
        file.read()
    assert peak.bytes < MEMORY_LIMIT
    return info.value


@pytest.mark.parametrize("block_size", [2**32 - 1, huffkit.MAX_BLOCK_SIZE + 1, 0])
def test_absurd_block_size_in_frame_header(block_size):
    frame = frame_header(block_size) + frame_end(0)
    _rejects_cheaply(frame, FormatError,
                     rf"frame declares a block size of {block_size} bytes; "
                     rf"the limit is {huffkit.MAX_BLOCK_SIZE}")


def test_largest_legal_block_size_is_accepted():
    frame = frame_header(huffkit.MAX_BLOCK_SIZE) + frame_end(0)
    with peak_memory() as peak:
        assert huffkit.decompress(frame) == b""
    assert peak.bytes < MEMORY_LIMIT


@pytest.mark.parametrize(("block_size", "symbols"), [
    (huffkit.MAX_BLOCK_SIZE, huffkit.MAX_BLOCK_SIZE + 1),
    (huffkit.MAX_BLOCK_SIZE, 2**32 - 1),
    (4096, 1 << 26),
    (4096, 0),
])
def test_block_with_more_symbols_than_the_frame_allows(block_size, symbols):
    frame = frame_header(block_size) + block(symbols, 0, AB, [8], b"\x00") + frame_end(symbols)
    _rejects_cheaply(frame, FormatError,
                     rf"^block 1: block claims {symbols} symbols; "
                     rf"the frame allows 1 to {block_size} per block")


def test_block_of_2_26_symbols_with_a_tiny_payload():
    symbols = 1 << 26
    frame = (frame_header(huffkit.MAX_BLOCK_SIZE)
             + block(symbols, 0, AB, [8, 8, 8, 8], b"\x00" * 4) + frame_end(symbols))
    _rejects_cheaply(frame, FormatError,
                     rf"a stream of {symbols // 4} symbols claims 8 bits, "
                     r"impossible with codes of 1 to 1 bits")


@pytest.mark.parametrize(("table", "stream_bits"), [
    (AB, [2**32 - 1]),
    (AB, [5]),
    (AB, [3]),
    (DEEP, [4 * 31 + 1]),
])
def test_stream_bit_length_impossible_for_its_symbols(table, stream_bits):
    frame = frame_header(16) + block(4, 0, table, stream_bits, b"\x00") + frame_end(4)
    longest = 1 if table is AB else 31
    _rejects_cheaply(frame, FormatError,
                     rf"^block 1: a stream of 4 symbols claims {stream_bits[0]} bits, "
                     rf"impossible with codes of 1 to {longest} bits")


def test_huge_but_consistent_stream_bit_lengths_wait_for_data_without_allocating():
    """4 streams of 2**24 symbols at up to 31 bits: a legal 260 MB block, 100 bytes sent."""
    symbols = 1 << 26
    per_stream = 31 * (symbols // 4)
    frame = (frame_header(huffkit.MAX_BLOCK_SIZE)
             + block(symbols, 0, DEEP, [per_stream] * 4, b"\x00" * 100))
    _rejects_cheaply(frame, TruncatedError, "ended before the end of its frame")

    decompressor = huffkit.HuffmanDecompressor()
    with peak_memory() as peak:
        assert decompressor.decompress(frame) == b""
        assert decompressor.decompress(b"\x00" * 1000) == b""
    assert peak.bytes < MEMORY_LIMIT
    assert decompressor.eof is False
    assert decompressor.needs_input is True


@pytest.mark.parametrize("streams", [0, 17, 255])
def test_absurd_stream_count(streams):
    frame = (frame_header(16) + block(4, 0, AB, [4] * 16, b"\x60", streams=streams)
             + frame_end(4))
    _rejects_cheaply(frame, FormatError,
                     rf"^block 1: block declares {streams} streams \(allowed: 1 to 16\)")


@pytest.mark.parametrize("longest", [0, 32, 255])
def test_absurd_longest_code(longest):
    table = code_table({ord("a"): 1, ord("b"): 1}, longest=longest)[:33]
    frame = frame_header(16) + block(4, 0, table, [4], b"\x60") + frame_end(4)
    _rejects_cheaply(frame, FormatError,
                     rf"^block 1: code table declares a longest code of {longest} bits "
                     r"\(allowed: 1 to 31\)")


# -- messages ----------------------------------------------------------------------


def test_bad_magic_fails_at_once_with_what_was_found():
    with pytest.raises(FormatError, match=r"not a huffkit frame: expected magic bytes "
                                          r"89 48 55 46, found 50 4b 03 04") as info:
        huffkit.decompress(b"PK\x03\x04" + bytes(40))
    assert not isinstance(info.value, TruncatedError)
    # One wrong byte is enough to know: this is not a truncated frame.
    with pytest.raises(FormatError, match=r"found 78$") as info:
        huffkit.decompress(b"x")
    assert not isinstance(info.value, TruncatedError)


def test_unsupported_version():
    frame = frame_header(16, version=3) + frame_end(0)
    with pytest.raises(FormatError,
                       match=r"unsupported format version 3; this huffkit reads versions 1 "
                             r"and 2"):
        huffkit.decompress(frame)


def test_nonzero_flags():
    frame = frame_header(16, flags=0x80) + frame_end(0)
    with pytest.raises(FormatError, match=r"unsupported frame flags 0x80"):
        huffkit.decompress(frame)


def test_damaged_frame_header():
    damaged = bytearray(abba_frame())
    damaged[8] ^= 0x01  # block_size, without fixing the header's CRC-32
    with pytest.raises(FormatError, match=r"frame header is damaged \(its CRC-32 does not match\)"):
        huffkit.decompress(bytes(damaged))


def test_block_checksum_mismatch_names_the_block_and_the_crcs():
    original, packed = SAMPLES["blocks"]
    (frame,) = huffkit.frame_info(packed)
    second = frame.blocks[1]
    wrong = second.crc32 ^ 0x00010000
    damaged = bytearray(packed)
    struct.pack_into("<I", damaged, second.offset + 3, wrong)  # type, 200 in 2 bytes, CRC
    with pytest.raises(ChecksumError,
                       match=rf"^block 2: block of 200 bytes decoded, but its CRC-32 "
                             rf"{second.crc32:08x} differs from the stored {wrong:08x}"):
        huffkit.decompress(bytes(damaged))
    # The decompressor has handed over block 1 before meeting block 2.
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(bytes(damaged[:second.offset])) == original[:200]
    with pytest.raises(ChecksumError, match="CRC-32"):
        decompressor.decompress(bytes(damaged[second.offset:]))


def test_wrong_payload_with_right_shape_is_a_checksum_error():
    frame = abba_frame(payload=b"\x90")  # "baab": same length, other bytes
    with pytest.raises(ChecksumError, match=r"block 1: .*CRC-32"):
        huffkit.decompress(frame)


def test_frame_end_total_mismatch():
    frame = abba_frame(total=5)
    with pytest.raises(FormatError,
                       match=r"frame end records 5 bytes, but the frame's 1 blocks hold 4"
                       ) as info:
        huffkit.decompress(frame)
    assert type(info.value) is FormatError
    with pytest.raises(FormatError, match=r"frame end records 18446744073709551615 bytes"):
        huffkit.decompress(abba_frame(total=2**64 - 1))


def test_unknown_block_type():
    frame = frame_header(16) + b"\x08" + bytes(30)
    with pytest.raises(FormatError, match=r"^block 1: unknown block type 0x08"):
        huffkit.decompress(frame)


def test_code_table_violating_kraft():
    table = code_table({ord("a"): 1, ord("b"): 1, ord("c"): 1})
    frame = frame_header(16) + block(4, 0, table, [4], b"\x60") + frame_end(4)
    with pytest.raises(FormatError, match=r"^block 1: invalid code table: .*Kraft"):
        huffkit.decompress(frame)


def test_nonzero_stream_padding():
    with pytest.raises(FormatError,
                       match=r"padding bits after the end of a stream are not zero"):
        huffkit.decompress(abba_frame(payload=b"\x61"))


# -- trailing data -----------------------------------------------------------------


def test_trailing_garbage_names_frame_2():
    _, packed = SAMPLES["tiny"]
    with pytest.raises(FormatError,
                       match=rf"^frame 2 \(at byte {len(packed)}\): not a huffkit frame"):
        huffkit.decompress(packed + b"garbage")
    with pytest.raises(TruncatedError, match=r"^frame 2 .*ended"):
        huffkit.decompress(packed + huffkit.MAGIC[:2])
    damaged_second = bytearray(SAMPLES["blocks"][1])
    damaged_second[-20] ^= 0x04  # inside the last block's stream
    with pytest.raises(ChecksumError, match=r"^frame 2 .*block 3: .*CRC-32"):
        huffkit.decompress(packed + bytes(damaged_second))
    with pytest.raises(FormatError), huffkit.open(io.BytesIO(packed + b"garbage")) as file:
        file.read()


def test_trailing_frames_decode_as_concatenation():
    parts = [SAMPLES[name] for name in ("tiny", "empty", "blocks", "tiny")]
    joined = b"".join(packed for _, packed in parts)
    expected = b"".join(original for original, _ in parts)
    assert huffkit.decompress(joined) == expected
    with huffkit.open(io.BytesIO(joined)) as file:
        assert file.read() == expected


def test_decompressor_keeps_what_follows_the_frame():
    original, packed = SAMPLES["blocks"]
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(packed + b"tail") == original
    assert decompressor.eof is True
    assert decompressor.unused_data == b"tail"


def test_decompressor_rejects_data_after_eof():
    original, packed = SAMPLES["tiny"]  # one block, the frame's last: no frame end
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(packed[:-1]) == b""
    assert decompressor.eof is False
    assert decompressor.unused_data == b""
    assert decompressor.decompress(packed[-1:]) == original
    assert decompressor.eof is True
    assert decompressor.unused_data == b""
    with pytest.raises(EOFError, match="already reached"):
        decompressor.decompress(b"more")
    with pytest.raises(EOFError):
        decompressor.decompress(b"")
    assert decompressor.unused_data == b""


# -- split files: compact tables and reused codes ------------------------------------------


def _changing_text() -> bytes:
    """Runs of different alphabets, so that the default cuts blocks, compact tables and a
    reused code among them (checked below)."""
    rng = random.Random(7)
    runs = [(b"ab", 20_000), (b"abc", 20_000), (bytes(range(256)), 20_000),
            (b"xyz ", 20_000), (b"xyz", 20_000)]
    return b"".join(bytes(rng.choices(alphabet, k=length)) for alphabet, length in runs)


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@pytest.mark.parametrize(("coder", "flips"), [("huffman", 1500), ("ans", 15)])
@pytest.mark.slow
def test_split_files_reject_sampled_bit_flips_alike_on_each_backend(coder, flips):
    """Sampled single-bit flips of a file of several blocks, as huffkit writes by default:
    each is an error (a FormatError, so a ChecksumError counts), never wrong data, and both
    backends say the same, word for word.  (Fewer for rANS: numpy decodes its small blocks,
    of one or two lanes, a step per symbol.)"""
    from huffkit.kernels import backend
    original = _changing_text()
    packed = huffkit.compress(original, coder=coder)
    kinds = [packed[block.offset] for block in huffkit.frame_info(packed)[0].blocks]
    assert {kind & 0x7F for kind in kinds} == ({0x05, 0x06} if coder == "huffman" else {0x03})
    assert [kind >> 7 for kind in kinds] == [0] * (len(kinds) - 1) + [1]  # the last: bit 7
    rng = random.Random(11)
    failures = []
    previous = backend.name()
    try:
        for bit in rng.sample(range(8 * len(packed)), flips):
            damaged = _flipped(packed, bit)
            said = []
            for name in ("c", "numpy"):
                backend.use(name)
                try:
                    huffkit.decompress(damaged)
                except FormatError as error:
                    said.append(_describe(error))
                except Exception as error:  # not a FormatError: a failure in itself
                    said.append(f"unexpected {_describe(error)}")
                else:
                    said.append("decompressed without error")
            if said[0] != said[1] or said[0].startswith(("unexpected", "decompressed")):
                failures.append((bit, said))
    finally:
        backend.use(previous)
    assert failures == [], f"{len(failures)} bad bits, first: {failures[:3]}"
