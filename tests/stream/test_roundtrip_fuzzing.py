"""Exact round trips of random data through every API surface."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import huffkit

# Small blocks so that short examples still span several blocks and streams.
block_sizes = st.sampled_from([1, 2, 7, 100, 4096, 20000, huffkit.DEFAULT_BLOCK_SIZE])
code_limits = st.integers(8, huffkit.LONGEST_CODE)
# Skewed data: few distinct bytes and long runs, as well as arbitrary bytes.
skewed = st.lists(st.sampled_from(b"aaaaaaaabbbbcc\x00\xff"), max_size=5000).map(bytes)
data_strategy = st.one_of(st.binary(max_size=5000), skewed)


def split_points(data_length: int):
    return st.lists(st.integers(0, data_length), max_size=12).map(sorted)


def chunks(data: bytes, points: list[int]) -> list[bytes]:
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(data_strategy, block_sizes, code_limits)
def test_one_shot(data, block_size, max_code_length):
    packed = huffkit.compress(data, block_size=block_size, max_code_length=max_code_length)
    assert huffkit.decompress(packed) == data


@given(data_strategy, block_sizes, st.data())
def test_incremental_with_random_splits(data, block_size, draw):
    compressor = huffkit.HuffmanCompressor(block_size=block_size)
    pieces = [compressor.compress(piece)
              for piece in chunks(data, draw.draw(split_points(len(data))))]
    packed = b"".join(pieces) + compressor.flush()
    # Splitting the input never changes the output.
    assert packed == huffkit.compress(data, block_size=block_size)

    decompressor = huffkit.HuffmanDecompressor()
    out = []
    for piece in chunks(packed, draw.draw(split_points(len(packed)))):
        if decompressor.eof:  # only empty pieces can follow the end of the frame
            assert piece == b""
            continue
        out.append(decompressor.decompress(piece))
    assert b"".join(out) == data
    assert decompressor.eof
    assert decompressor.unused_data == b""


@given(st.binary(max_size=600), st.sampled_from([1, 3, 64]))
def test_one_byte_at_a_time(data, block_size):
    compressor = huffkit.HuffmanCompressor(block_size=block_size)
    packed = b"".join(compressor.compress(data[i:i + 1]) for i in range(len(data)))
    packed += compressor.flush()
    assert packed == huffkit.compress(data, block_size=block_size)
    decompressor = huffkit.HuffmanDecompressor()
    out = b"".join(decompressor.decompress(packed[i:i + 1]) for i in range(len(packed)))
    assert out == data
    assert decompressor.eof


@given(data_strategy, block_sizes, st.integers(1, 700))
def test_decompressor_with_max_length(data, block_size, max_length):
    packed = huffkit.compress(data, block_size=block_size)
    decompressor = huffkit.HuffmanDecompressor()
    pieces = [decompressor.decompress(packed, max_length)]
    while not decompressor.eof:
        assert len(pieces[-1]) <= max_length
        pieces.append(decompressor.decompress(b"", max_length))
    assert b"".join(pieces) == data


@given(st.lists(data_strategy, min_size=1, max_size=4), block_sizes)
def test_concatenated_frames_decode_in_order(parts, block_size):
    packed = b"".join(huffkit.compress(part, block_size=block_size) for part in parts)
    assert huffkit.decompress(packed) == b"".join(parts)
    with huffkit.open(io.BytesIO(packed)) as stream:
        assert stream.read() == b"".join(parts)


@given(data_strategy, block_sizes, st.data())
def test_file_api(data, block_size, draw):
    buffer = io.BytesIO()
    with huffkit.open(buffer, "wb", block_size=block_size) as stream:
        for piece in chunks(data, draw.draw(split_points(len(data)))):
            assert stream.write(piece) == len(piece)
    packed = buffer.getvalue()
    assert huffkit.decompress(packed) == data

    with huffkit.open(io.BytesIO(packed)) as stream:
        sizes = draw.draw(st.lists(st.integers(1, 3000), max_size=8))
        out = b"".join(stream.read(size) for size in sizes) + stream.read()
    assert out == data


@pytest.mark.parametrize("newline", [None, ""])
@given(text=st.text(max_size=2000))
def test_text_mode(tmp_path_factory, text, newline):
    path = tmp_path_factory.mktemp("text") / "t.huf"
    with huffkit.open(path, "wt", encoding="utf-8", newline=newline) as stream:
        stream.write(text)
    with huffkit.open(path, "rt", encoding="utf-8", newline=newline) as stream:
        read_back = stream.read()
    expected = text if newline == "" else text.replace("\r\n", "\n").replace("\r", "\n")
    assert read_back == expected
