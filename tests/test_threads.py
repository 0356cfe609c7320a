"""Threads code blocks in parallel: the output never depends on how many there are."""

from __future__ import annotations

import io

import pytest
from conftest import corpus_files, requires_corpora
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit
import huffkit.corpora
from huffkit._parallel import check_threads, default_threads

THREADS = (1, 2, 3, None)
CODERS = ("huffman", "ans")


def english() -> bytes:
    return huffkit.corpora.path("english.txt").read_bytes()


@pytest.mark.usefixtures("each_backend")
@pytest.mark.parametrize("alphabet", ["bytes", "utf8", "pairs"])
@pytest.mark.parametrize("coder", CODERS)
def test_compress_is_the_same_on_any_number_of_threads(coder, alphabet):
    data = english() + huffkit.corpora.path("korean.txt").read_bytes()
    packed = {threads: huffkit.compress(data, coder=coder, alphabet=alphabet, block_size=2000,
                                        threads=threads) for threads in THREADS}
    assert len(set(packed.values())) == 1
    assert len(huffkit.frame_info(packed[1])[0].blocks) > 10  # many blocks to share out
    for threads in THREADS:
        assert huffkit.decompress(packed[1], threads=threads) == data


@requires_corpora
@pytest.mark.parametrize("path", [path for path in corpus_files()
                                  if path.name in ("bible.txt", "kennedy.xls", "ptt5")],
                         ids=lambda path: path.name)
def test_corpora_on_two_threads(path):
    data = path.read_bytes()
    packed = huffkit.compress(data, block_size=1 << 18)
    assert huffkit.compress(data, block_size=1 << 18, threads=2) == packed
    assert huffkit.decompress(packed, threads=2) == data


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=4000), block_size=st.integers(1, 600),
       threads=st.integers(2, 5), coder=st.sampled_from(CODERS))
def test_property_threads_change_nothing(data, block_size, threads, coder):
    packed = huffkit.compress(data, block_size=block_size, coder=coder)
    assert huffkit.compress(data, block_size=block_size, coder=coder, threads=threads) == packed
    assert huffkit.decompress(packed, threads=threads) == data


def test_incremental_compression_on_threads():
    data = english() * 3
    whole = huffkit.compress(data, block_size=1000)
    compressor = huffkit.HuffmanCompressor(block_size=1000, threads=3)
    pieces = [compressor.compress(data[start:start + 7777])
              for start in range(0, len(data), 7777)]
    assert b"".join(pieces) + compressor.flush() == whole


@pytest.mark.parametrize("piece", [1, 100, 5000, 1 << 20])
def test_incremental_decompression_on_threads(piece):
    data = english() * 3
    packed = huffkit.compress(data, block_size=1000) * 2  # two frames
    decompressor = huffkit.HuffmanDecompressor(threads=3)
    out, rest = [], packed
    while not decompressor.eof:
        out.append(decompressor.decompress(rest[:piece], max_length=3000))
        rest = rest[piece:]
        assert len(out[-1]) <= 3000
    out.append(b"")
    assert b"".join(out) == data
    assert decompressor.unused_data + rest == packed[len(packed) // 2:]


def test_errors_are_those_of_one_thread():
    # The first damaged block, in order, is the one reported, whichever thread found it.
    data = english()
    packed = huffkit.compress(data, block_size=500)
    blocks = huffkit.frame_info(packed)[0].blocks
    for number in (1, 5, len(blocks)):
        block = blocks[number - 1]
        damaged = bytearray(packed)
        damaged[block.offset + block.size - 1] ^= 0x01  # the last byte of its last stream
        later = blocks[-1]
        damaged[later.offset + later.size - 2] ^= 0x10  # and a later block too
        errors = set()
        for threads in (1, 2, 4):
            with pytest.raises(huffkit.HuffmanError) as caught:
                huffkit.decompress(bytes(damaged), threads=threads)
            errors.add((type(caught.value), str(caught.value)))
        assert len(errors) == 1
        ((_kind, message),) = errors
        assert message.startswith(f"block {number}: "), message


def test_truncated_input_fails_alike():
    packed = huffkit.compress(english(), block_size=500)
    for cut in (len(packed) // 3, len(packed) - 10):
        messages = set()
        for threads in (1, 3):
            with pytest.raises(huffkit.TruncatedError) as caught:
                huffkit.decompress(packed[:cut], threads=threads)
            messages.add(str(caught.value))
        assert len(messages) == 1


def test_files_on_threads(tmp_path):
    data = english() * 2
    path = tmp_path / "english.huf"
    with huffkit.HuffmanFile(path, "wb", block_size=1000, threads=2) as stream:
        stream.write(data)
    assert path.read_bytes() == huffkit.compress(data, block_size=1000)
    with huffkit.open(path, "rb", threads=2) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]
    with huffkit.HuffmanFile(io.BytesIO(path.read_bytes()), threads=None) as stream:
        assert stream.read() == data


def test_thread_counts_are_checked():
    assert check_threads(None) == default_threads() >= 1
    assert check_threads(3) == 3
    with pytest.raises(ValueError, match="threads must be at least 1, got 0"):
        huffkit.compress(b"x", threads=0)
    with pytest.raises(TypeError, match="threads must be an int or None, not str"):
        huffkit.decompress(huffkit.compress(b"x"), threads="2")
    with pytest.raises(TypeError, match="threads must be an int or None, not bool"):
        huffkit.HuffmanCompressor(threads=True)


def test_cli_threads(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import huffkit.cli

    monkeypatch.chdir(tmp_path)
    data = english() * 4
    (tmp_path / "text").write_bytes(data)
    runner = CliRunner()
    outputs = []
    for threads in ("1", "3"):
        result = runner.invoke(huffkit.cli.main, ["compress", "-T", threads, "--block-size",
                                                  "4K", "-c", "text"], catch_exceptions=False)
        assert result.exit_code == 0
        outputs.append(result.stdout_bytes)
    assert outputs[0] == outputs[1] == huffkit.compress(data, block_size=4096)
    (tmp_path / "text.huf").write_bytes(outputs[0])
    result = runner.invoke(huffkit.cli.main, ["decompress", "--threads", "2", "-c", "text.huf"],
                           catch_exceptions=False)
    assert (result.exit_code, result.stdout_bytes) == (0, data)
    result = runner.invoke(huffkit.cli.main, ["compress", "-T", "0", "text"])
    assert result.exit_code == 2
    assert "Invalid value for '-T' / '--threads': 0 is not in the range x>=1." in result.output
