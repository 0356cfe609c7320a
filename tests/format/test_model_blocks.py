"""Model blocks (FORMAT.md, section 18): bytes coded by a sequential model the block names.

Round trips through every entry point (one shot, streaming, threads, file objects, frames
of other kinds around them), the layout read field by field, and frames that break each
rule of section 18.6, written by hand, refused with the error the rule gives.
"""

from __future__ import annotations

import io
import zlib

import pytest
from conftest import SHARED_CORPORA, leb128, read_leb128, requires_corpora
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit
import huffkit.corpora
from huffkit import ChecksumError, FormatError, MemoryLimitError
from huffkit.format.layout import BLOCK_LAST, BLOCK_MODEL, FRAME_HEADER_SIZE
from huffkit.kernels import backend
from huffkit.models.sequential import MODELS

ENGLISH = huffkit.corpora.path("english.txt").read_bytes()
#: The models fast enough on the numpy reference for a few kilobytes.
SMALL = ENGLISH[:3000]


def _frame(block_size: int, *blocks: bytes, version: int = 2, flags: int = 0) -> bytes:
    fields = huffkit.MAGIC + bytes([version, flags]) + block_size.to_bytes(4, "little")
    return fields + zlib.crc32(fields).to_bytes(4, "little") + b"".join(blocks)


def _model_block(data: bytes, *, kind: int = 1, order: int = 2, stored: bytes = b"",
                 payload: bytes | None = None, last: bool = True) -> bytes:
    """A model block written field by field (section 18.1), its payload from the kernel
    unless given."""
    if payload is None:
        payload = backend.kernels.sequential_encode(data, order)
    head = bytes([BLOCK_MODEL | BLOCK_LAST]) if last else bytes([BLOCK_MODEL]) + leb128(len(data))
    return (head + zlib.crc32(data).to_bytes(4, "little") + bytes([kind, order])
            + leb128(len(stored)) + stored + leb128(len(payload)) + payload)


@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_round_trips_through_every_entry_point(model, each_backend):
    # (cm's reference runs at a few KB/s: less data for it)
    data = SMALL[:600] if model == "cm" and each_backend == "numpy" else SMALL
    size = len(data) // 4 - 50  # five blocks
    packed = huffkit.compress(data, model=model)
    assert huffkit.decompress(packed) == data
    split = huffkit.compress(data, model=model, block_size=size)
    assert huffkit.decompress(split) == data
    assert huffkit.decompress(split, threads=2) == data
    # streaming, in odd pieces, gives the same frame as one call
    compressor = huffkit.HuffmanCompressor(model=model, block_size=size)
    streamed = b"".join(compressor.compress(data[i:i + 333]) for i in range(0, len(data), 333))
    assert streamed + compressor.flush() == split
    decompressor = huffkit.HuffmanDecompressor()
    pieces = [decompressor.decompress(split[i:i + 100]) for i in range(0, len(split), 100)]
    assert b"".join(pieces) == data and decompressor.eof
    with huffkit.open(io.BytesIO(split)) as file:
        assert file.read() == data
    # among frames of other kinds
    around = huffkit.compress(b"abc") + packed + huffkit.compress(data[:500], coder="ans")
    assert huffkit.decompress(around) == b"abc" + data + data[:500]


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(list(MODELS)), st.integers(1, 700))
def test_property_any_bytes_round_trip(data, model, block_size):
    packed = huffkit.compress(data, model=model, block_size=block_size)
    assert huffkit.decompress(packed) == data


@pytest.mark.parametrize("data", [b"x", bytes(range(256)), b"\0" * 100_000,
                                  b"ab" * 30_000 + bytes(range(256)) * 4],
                         ids=["one byte", "every byte", "a long run", "runs and all"])
def test_shapes_round_trip(data):
    for model in MODELS:
        assert huffkit.decompress(huffkit.compress(data, model=model)) == data


def test_the_layout_is_the_one_section_18_gives():
    """A one-block input: a last block, its fields in order, the payload the kernel's."""
    data = SMALL
    packed = huffkit.compress(data, model="adaptive2")
    assert packed == _frame(len(data), _model_block(data))
    assert packed[FRAME_HEADER_SIZE] == 0x88
    # Two blocks: each with its count, then a frame end (0xFF and the total).
    packed = huffkit.compress(data, model="adaptive1", block_size=2000)
    first = _model_block(data[:2000], order=1, last=False)
    second = _model_block(data[2000:], order=1, last=False)
    assert packed == _frame(2000, first, second, b"\xff" + leb128(len(data)))
    (frame,) = huffkit.frame_info(packed)
    assert frame.model == "adaptive1" and frame.coder == "arithmetic"
    assert [block.model for block in frame.blocks] == ["adaptive1", "adaptive1"]
    pos = FRAME_HEADER_SIZE + 1
    assert read_leb128(packed, pos) == (2000, pos + 2)


def test_the_default_block_size_with_a_model_is_16_mib():
    assert huffkit.MODEL_BLOCK_SIZE == 1 << 24
    compressor = huffkit.HuffmanCompressor(model="adaptive0")
    data = bytes(range(256)) * 300
    packed = compressor.compress(data) + compressor.flush()
    assert huffkit.frame_info(packed)[0].block_size == len(data)  # one last block


@pytest.mark.parametrize(("options", "message"), [
    ({"coder": "ans"}, "model 'adaptive2' codes bytes on its own: give no codebook, coder or "
                       "alphabet with it"),
    ({"alphabet": "utf8"}, "model 'adaptive2' codes bytes on its own"),
])
def test_a_model_takes_no_coder_or_alphabet(options, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        huffkit.compress(b"abc", model="adaptive2", **options)


def test_an_unknown_model_is_named():
    with pytest.raises(ValueError, match=r"^unknown model 'order9': choose order0 \(the "
                                         r"default\) or one of order1, order2, order3, "
                                         r"adaptive0, adaptive1, adaptive2, adaptive3, cm "
                                         r"\(huffkit models lists them\)$"):
        huffkit.compress(b"abc", model="order9")


# -- the rules of section 18.6 ---------------------------------------------------------------

DATA = SMALL[:400]


@pytest.mark.parametrize(("frame", "error", "message"), [
    # M1: not in a version-1 frame, nor in one with the rANS flag or another alphabet
    (_frame(400, _model_block(DATA, last=False), b"\0" + (400).to_bytes(8, "little"),
            version=1), FormatError, "unknown block type 0x08"),
    (_frame(400, _model_block(DATA), flags=0x02), FormatError,
     r"a model block \(type 0x08\) is only in a frame without a codebook section or the "
     "rANS flag"),
    (_frame(400, _model_block(DATA), flags=0x04), FormatError,
     r"a model block \(type 0x08\) codes bytes, but the frame's alphabet is utf8"),
    # M2: an unknown model or order; a stored model where none is stored
    (_frame(400, _model_block(DATA, kind=9)), FormatError,
     "model block names model 9 of order 2, which this version of huffkit does not know"),
    (_frame(400, _model_block(DATA, order=4, payload=b"\x80")), FormatError,
     "model block names model 1 of order 4"),
    (_frame(400, _model_block(DATA, stored=b"xy")), FormatError,
     "model block of adaptive2, which stores nothing, holds 2 bytes of stored model"),
    # M3: a payload larger than any model could write
    (_frame(400, _model_block(DATA, payload=bytes(6402))), FormatError,
     "model block of 400 bytes claims a payload of 6402 bytes, more than any model could "
     "spend"),
    # ... or fewer bytes than its model could code the block in (not so a static model)
    (_frame(1 << 22, _model_block(b"\0" * (1 << 22), payload=bytes(77))), FormatError,
     "model block claims 4194304 bytes from a payload of 77 bytes, fewer than adaptive2 "
     "could write them in"),
    # M4: a payload a byte longer or shorter, or not ending as its coder ends
    (_frame(400, _model_block(DATA, payload=backend.kernels.sequential_encode(DATA, 2)
                              + b"\0")), FormatError,
     r"adaptive2 block: the coded bits take \d+ bytes, but the payload has \d+"),
    # M6: the CRC
    (_frame(400, _model_block(DATA, payload=backend.kernels.sequential_encode(DATA[:399]
                                                                               + b"!", 2))),
     ChecksumError, "block of 400 bytes decoded, but its CRC-32"),
])
def test_each_rule_is_enforced(frame, error, message, each_backend):
    with pytest.raises(error, match=message):
        huffkit.decompress(frame)


def test_a_payload_not_ending_as_its_coder_ends_is_refused(each_backend):
    """Another last byte may decode the same bits (the coder's last byte has slack), but
    no encoder wrote it: refused by name.  Others decode other bits, which the CRC or the
    byte count catch."""
    payload = backend.kernels.sequential_encode(DATA, 2)
    said = set()
    for delta in range(1, 256):
        changed = payload[:-1] + bytes([(payload[-1] + delta) & 0xFF])
        with pytest.raises(FormatError) as caught:
            huffkit.decompress(_frame(400, _model_block(DATA, payload=changed)))
        said.add(str(caught.value))
    assert ("block 1: adaptive2 block: the payload's last byte is not the one its coder ends "
            "with") in said


def test_a_reuse_block_cannot_follow_a_model_block(each_backend):
    """M5: a model block has no code for a reuse block (0x06) to take."""
    reuse = bytes([0x06]) + leb128(3) + zlib.crc32(b"abc").to_bytes(4, "little") + b"\x05\x00"
    frame = _frame(400, _model_block(DATA, last=False), reuse)
    with pytest.raises(FormatError, match=r"^block 2: block type 0x06 reuses the previous "
                                          "block's code, but no block before it in the frame "
                                          "has a code of its own$"):
        huffkit.decompress(frame)


def test_the_memory_limit_counts_the_models_tables():
    packed = huffkit.compress(DATA, model="adaptive2")
    needed = 400 + (16 << 20)  # the output and 2^22 entries of 4 bytes
    with pytest.raises(MemoryLimitError, match=r"^block 1: this adaptive2 block needs 16\.00 "
                                               r"MiB to decode \(400 bytes and the model's "
                                               r"tables\), over the memory limit of 15\.00 MiB"):
        huffkit.decompress(packed, memory_limit=15 << 20)
    assert huffkit.decompress(packed, memory_limit=needed) == DATA
    with pytest.raises(MemoryLimitError):
        huffkit.decompress(packed, memory_limit=needed - 1)
    with pytest.raises(MemoryLimitError):
        huffkit.inspect(packed, memory_limit=needed - 1)


@requires_corpora
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.slow
def test_every_model_round_trips_the_canterbury_corpus(model):
    """Every file, text and binary (kennedy.xls, ptt5, sum), one block each, and in blocks
    of 64 KiB, decoded by the one-shot and the streaming decoder."""
    for path in sorted((SHARED_CORPORA / "canterbury").iterdir()):
        if path.name.startswith("."):
            continue
        data = path.read_bytes()
        packed = huffkit.compress(data, model=model)
        assert huffkit.decompress(packed) == data, path.name
        blocks = huffkit.compress(data, model=model, block_size=1 << 16)
        decompressor = huffkit.HuffmanDecompressor()
        assert decompressor.decompress(blocks) == data and decompressor.eof, path.name


def test_the_least_payload_rule_admits_what_models_write():
    """The rule of M3 against the smallest payloads the models write: a long run."""
    for model in ("adaptive0", "adaptive3", "cm"):
        run = b"\0" * (1 << 20)
        packed = huffkit.compress(run, model=model)
        (block,) = huffkit.frame_info(packed)[0].blocks
        assert block.payload_bits // 8 < 1000
        assert huffkit.decompress(packed) == run
    packed = huffkit.compress(b"\0" * (1 << 20), model="order2")  # forced bits: 1 byte
    assert huffkit.frame_info(packed)[0].blocks[0].payload_bits == 8
    assert huffkit.decompress(packed) == b"\0" * (1 << 20)


def test_a_file_object_writes_with_a_model_and_reads_without(tmp_path):
    path = tmp_path / "english.huf"
    with huffkit.open(path, "wb", model="adaptive2", block_size=1000) as file:
        file.write(SMALL[:1234])
        file.write(SMALL[1234:])
    assert path.read_bytes() == huffkit.compress(SMALL, model="adaptive2", block_size=1000)
    with huffkit.open(path) as file:
        assert file.read() == SMALL
    with pytest.raises(ValueError, match=r"model apply only when writing \(a file names its "
                                         r"model\)$"):
        huffkit.open(path, "rb", model="cm")
    with huffkit.open(tmp_path / "text.huf", "wt", model="cm", encoding="utf-8") as text:
        text.write("héllo " * 100)
    assert huffkit.decompress((tmp_path / "text.huf").read_bytes()) == ("héllo " * 100).encode()


def test_the_worked_example_of_section_18_8(each_backend):
    packed = bytes.fromhex("89485546 02 00 0b000000 4970043c 88 b7f9ea17 01 00 00 06"
                           " 9e7162c7fdc6")
    assert huffkit.compress(b"abracadabra", model="adaptive0") == packed
    assert huffkit.decompress(packed) == b"abracadabra"
    costs = backend.kernels.sequential_costs(b"abracadabra", 0)
    assert [round(cost, 1) for cost in costs[:4]] == [8.0, 5.2, 7.8, 2.5]
    assert round(costs.sum(), 1) == 47.9
