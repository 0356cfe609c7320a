"""The standard-library protocol of the compressor, decompressor and file objects."""

from __future__ import annotations

import array
import copy
import io
import pickle
import time

import pytest

import huffkit
from huffkit.format.layout import FRAME_HEADER_SIZE

DATA = b"It was the best of times, it was the worst of times. " * 300


# -- compressor -----------------------------------------------------------------


def test_compressor_cannot_be_used_after_flush():
    compressor = huffkit.HuffmanCompressor()
    compressor.compress(DATA)
    compressor.flush()
    with pytest.raises(ValueError, match="Compressor has been flushed"):
        compressor.compress(b"more")
    with pytest.raises(ValueError, match="Repeated call to flush"):
        compressor.flush()


def test_compressor_emits_each_block_as_soon_as_it_is_known_not_to_be_the_last():
    """A whole block waits for one byte more: the last block of a one-block input is marked
    so, and stores no symbol count (FORMAT.md 17.1).  The header waits for the first block."""
    compressor = huffkit.HuffmanCompressor(block_size=1000)
    assert compressor.compress(DATA[:999]) == b""
    assert compressor.compress(DATA[999:1000]) == b""  # whole, but perhaps the last
    second = compressor.compress(DATA[1000:1001])
    assert len(second) > FRAME_HEADER_SIZE  # the header and the first block
    rest = compressor.compress(DATA[1001:]) + compressor.flush()
    assert second + rest == huffkit.compress(DATA, block_size=1000)


@pytest.mark.parametrize("data", [bytearray(DATA), memoryview(DATA), array.array("B", DATA),
                                  memoryview(DATA).cast("B", (len(DATA) // 2, 2))])
def test_any_bytes_like_input(data):
    assert huffkit.compress(data) == huffkit.compress(DATA)
    assert huffkit.decompress(huffkit.compress(data)) == DATA


def test_multibyte_items_are_compressed_as_their_bytes():
    words = array.array("I", range(1000))
    assert huffkit.decompress(huffkit.compress(words)) == words.tobytes()


@pytest.mark.parametrize("bad", ["text", 12, None])
def test_non_bytes_input_is_a_type_error(bad):
    with pytest.raises(TypeError):
        huffkit.compress(bad)
    with pytest.raises(TypeError):
        huffkit.decompress(bad)


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"block_size": 0}, ValueError, "block_size must be between 1 and"),
    ({"block_size": huffkit.MAX_BLOCK_SIZE + 1}, ValueError, "block_size must be between"),
    ({"block_size": 1.5}, TypeError, "block_size must be an int"),
    ({"max_code_length": 0}, ValueError, "max_code_length must be between 1 and 31"),
    ({"max_code_length": 32}, ValueError, "max_code_length must be between 1 and 31"),
    ({"max_code_length": True}, TypeError, "max_code_length must be an int"),
])
def test_bad_options(options, error, message):
    with pytest.raises(error, match=message):
        huffkit.compress(b"x", **options)
    with pytest.raises(error, match=message):
        huffkit.HuffmanCompressor(**options)


def test_limit_too_small_for_the_data_is_a_codebook_error():
    with pytest.raises(huffkit.CodebookError, match="need codes of at least 3 bits"):
        huffkit.compress(b"abcde", max_code_length=2)
    assert huffkit.decompress(huffkit.compress(b"abcd", max_code_length=2)) == b"abcd"


# -- decompressor ---------------------------------------------------------------


def test_decompressor_protocol():
    packed = huffkit.compress(DATA, block_size=4000)
    decompressor = huffkit.HuffmanDecompressor()
    assert not decompressor.eof
    assert decompressor.needs_input
    assert decompressor.unused_data == b""

    first = decompressor.decompress(packed, max_length=100)
    assert first == DATA[:100]
    assert not decompressor.needs_input  # the rest of the block is waiting
    rest = decompressor.decompress(b"")
    assert first + rest == DATA
    assert decompressor.eof
    assert not decompressor.needs_input
    with pytest.raises(EOFError, match="End of stream already reached"):
        decompressor.decompress(b"")


def test_max_length_zero_returns_nothing_but_keeps_the_input():
    packed = huffkit.compress(DATA)
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(packed, max_length=0) == b""
    assert not decompressor.eof
    assert decompressor.decompress(b"") == DATA


def test_needs_input_until_a_block_is_complete():
    packed = huffkit.compress(DATA)
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(packed[:-20]) == b""
    assert decompressor.needs_input
    assert decompressor.decompress(packed[-20:]) == DATA
    assert decompressor.eof


def test_unused_data_holds_what_follows_the_frame():
    packed = huffkit.compress(DATA)
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(packed + b"next frame") == DATA
    assert decompressor.eof
    assert decompressor.unused_data == b"next frame"


def test_empty_input_is_truncated():
    with pytest.raises(huffkit.TruncatedError, match="empty input"):
        huffkit.decompress(b"")


def test_empty_data_makes_a_valid_frame():
    packed = huffkit.compress(b"")
    assert packed.startswith(huffkit.MAGIC)
    assert huffkit.decompress(packed) == b""
    assert huffkit.frame_info(packed)[0].blocks == ()


# -- file objects ---------------------------------------------------------------


def test_file_round_trip_on_disk(tmp_path):
    path = tmp_path / "data.huf"
    with huffkit.open(path, "wb", block_size=5000) as stream:
        stream.write(DATA[:7000])
        stream.write(memoryview(DATA)[7000:])
        assert stream.tell() == len(DATA)
    assert path.read_bytes() == huffkit.compress(DATA, block_size=5000)
    with huffkit.open(path) as stream:
        assert stream.read(10) == DATA[:10]
        assert stream.read() == DATA[10:]
        assert stream.read() == b""


def test_readline_and_iteration():
    lines = [f"line {i}: {'x' * (i % 50)}\n".encode() for i in range(2000)]
    packed = huffkit.compress(b"".join(lines), block_size=3000)
    with huffkit.open(io.BytesIO(packed)) as stream:
        assert stream.readline() == lines[0]
        assert list(stream) == lines[1:]


def test_append_mode_adds_a_frame(tmp_path):
    path = tmp_path / "log.huf"
    for part in (b"first\n", b"second\n"):
        with huffkit.open(path, "ab") as stream:
            stream.write(part)
    assert len(huffkit.frame_info(path.read_bytes())) == 2
    with huffkit.open(path, "rb") as stream:
        assert stream.readlines() == [b"first\n", b"second\n"]


def test_exclusive_mode_refuses_an_existing_file(tmp_path):
    path = tmp_path / "x.huf"
    path.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        huffkit.open(path, "xb")
    assert path.read_bytes() == b"keep me"


def test_seek_and_tell_in_read_mode():
    packed = huffkit.compress(DATA, block_size=1000)
    with huffkit.open(io.BytesIO(packed)) as stream:
        assert stream.seekable()
        assert stream.seek(5000) == 5000
        assert stream.read(10) == DATA[5000:5010]
        assert stream.seek(-3, io.SEEK_CUR) == 5007
        assert stream.seek(100) == 100  # backwards: decodes again from the start
        assert stream.read(5) == DATA[100:105]
        assert stream.seek(-4, io.SEEK_END) == len(DATA) - 4
        assert stream.read() == DATA[-4:]


def test_file_modes_and_state():
    buffer = io.BytesIO()
    stream = huffkit.HuffmanFile(buffer, "w")
    assert stream.writable()
    assert not stream.readable()
    with pytest.raises(io.UnsupportedOperation):
        stream.read()
    stream.write(b"abc")
    stream.close()
    assert stream.closed
    assert not buffer.closed  # a file object we were given stays open
    with pytest.raises(ValueError, match="I/O operation on closed file"):
        stream.write(b"more")
    reader = huffkit.HuffmanFile(io.BytesIO(buffer.getvalue()))
    assert reader.readable()
    with pytest.raises(io.UnsupportedOperation):
        reader.write(b"x")
    assert reader.read() == b"abc"
    reader.close()


@pytest.mark.parametrize(("mode", "kwargs", "message"), [
    ("rw", {}, "Invalid mode"),
    ("rbt", {}, "Invalid mode"),
    ("rb", {"encoding": "utf-8"}, "'encoding' not supported in binary mode"),
    ("rb", {"block_size": 100}, "only when writing"),
])
def test_open_rejects_bad_arguments(tmp_path, mode, kwargs, message):
    path = tmp_path / "x.huf"
    path.write_bytes(huffkit.compress(b"x"))
    with pytest.raises(ValueError, match=message):
        huffkit.open(path, mode, **kwargs)


def test_open_rejects_a_non_file():
    with pytest.raises(TypeError, match="filename must be"):
        huffkit.open(42)


def test_truncated_file_is_reported_on_read():
    packed = huffkit.compress(DATA)
    with huffkit.open(io.BytesIO(packed[:-1])) as stream, \
            pytest.raises(huffkit.TruncatedError, match="ended before the end of its frame"):
        stream.read()


# -- many frames: one-shot decompress reads them in place ----------------------------------------


def test_decompress_reads_each_frame_in_place(monkeypatch):
    """Each frame's decompressor is given a view of the caller's buffer from where the frame
    starts: no copy of the rest of the input per frame (which made 176,000 empty frames
    take 11 s: quadratic in the frames)."""
    frames = huffkit.compress(b"a") + huffkit.compress(b"") * 50 + huffkit.compress(b"bc")
    seen = []
    original = huffkit.HuffmanDecompressor.decompress

    def spy(self, data, /, max_length=-1):
        seen.append((type(data), getattr(data, "obj", None) is frames, len(data)))
        return original(self, data, max_length)

    monkeypatch.setattr(huffkit.HuffmanDecompressor, "decompress", spy)
    assert huffkit.decompress(frames) == b"abc"
    assert len(seen) == 52
    assert all(kind is memoryview and same for kind, same, _ in seen)
    frame_sizes = [len(huffkit.compress(b"a"))] + [len(huffkit.compress(b""))] * 50
    assert [size for _, _, size in seen] == [len(frames) - sum(frame_sizes[:k])
                                             for k in range(52)]


@pytest.mark.slow
def test_decompress_of_many_frames_is_linear():
    """300,000 empty frames (6.9 MB): the quadratic version copied 1 TB to read them."""
    frames = huffkit.compress(b"") * 300_000
    start = time.process_time()
    assert huffkit.decompress(frames) == b""
    assert time.process_time() - start < 30  # about 2 s; quadratic, several minutes


def test_unused_data_still_holds_what_follows_the_frame():
    first, second = huffkit.compress(b"one"), huffkit.compress(b"two")
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(first + second) == b"one"
    assert decompressor.eof
    assert decompressor.unused_data == second
    assert type(decompressor.unused_data) is bytes


def test_error_in_a_later_frame_says_where_it_starts():
    first = huffkit.compress(b"one")
    damaged = bytearray(huffkit.compress(b"two"))
    damaged[0] ^= 0xFF
    with pytest.raises(huffkit.FormatError) as info:
        huffkit.decompress(first + first + bytes(damaged))
    assert str(info.value).startswith(f"frame 3 (at byte {2 * len(first)}): not a huffkit frame")


# -- copies and pickles are refused, as bz2's and lzma's ---------------------------------------


@pytest.mark.parametrize("make", [
    huffkit.HuffmanCompressor,
    lambda: huffkit.HuffmanCompressor(coder="ans", alphabet="utf8"),
    huffkit.HuffmanDecompressor,
], ids=["compressor", "compressor-ans-utf8", "decompressor"])
@pytest.mark.parametrize("how", ["copy", "deepcopy", *(f"pickle-{protocol}" for protocol in
                                                       range(pickle.HIGHEST_PROTOCOL + 1))])
def test_compressor_objects_cannot_be_copied_or_pickled(make, how):
    """copy.copy shared the compressor's pending buffer with the copy (feeding one changed
    the other's output), and a pickle silently restarted the frame."""
    obj = make()
    if isinstance(obj, huffkit.HuffmanCompressor):
        head = obj.compress(b"pending data")
    else:
        obj.decompress(huffkit.compress(b"some data")[:12])
    name = type(obj).__name__
    if how.startswith("pickle"):
        with pytest.raises(TypeError) as info:
            pickle.dumps(obj, protocol=int(how.split("-")[1]))
        assert str(info.value) == f"cannot pickle {name!r} object"
    else:
        with pytest.raises(TypeError) as info:
            getattr(copy, how)(obj)
        assert str(info.value) == f"cannot copy {name!r} object"
    # The object is untouched and goes on.
    if isinstance(obj, huffkit.HuffmanCompressor):
        assert huffkit.decompress(head + obj.compress(b"") + obj.flush()) == b"pending data"
    else:
        rest = huffkit.compress(b"some data")[12:]
        assert obj.decompress(rest) == b"some data"
