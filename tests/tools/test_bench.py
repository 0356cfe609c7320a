"""``huffkit bench``: what it measures and reports (not how fast: benchmarks are not tests)."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from click.testing import CliRunner

import huffkit
import huffkit.cli
import huffkit.corpora
from huffkit.stream.threads import default_threads
from huffkit.tools import benchmark


def run(*args: str):
    return CliRunner().invoke(huffkit.cli.main, ["bench", *args], catch_exceptions=False)


def names(threads: int) -> list[str]:
    many = [] if threads == 1 else [f" x{threads}"]
    return [f"huffkit {coder}{suffix}" for coder in ("huffman", "ans")
            for suffix in ["", *many, " no-split"]] + ["zlib-HO", "bitarray"]


def test_bench_json_on_a_file(tmp_path):
    data = huffkit.corpora.path("source.c").read_bytes()
    (tmp_path / "source.c").write_bytes(data)
    result = run("--repeat", "1", "--threads", "3", "--json", str(tmp_path / "source.c"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backend"] == huffkit.backend
    (measured,) = report["files"]
    assert (measured["file"], measured["bytes"], measured["repeat"]) == (
        str(tmp_path / "source.c"), len(data), 1)
    contenders = measured["contenders"]
    assert list(contenders) == names(3)
    huffman_only = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_HUFFMAN_ONLY)
    expected_sizes = {
        "huffkit huffman": len(huffkit.compress(data)),
        "huffkit huffman x3": len(huffkit.compress(data)),
        "huffkit ans": len(huffkit.compress(data, coder="ans")),
        "huffkit ans x3": len(huffkit.compress(data, coder="ans")),
        "huffkit huffman no-split": len(huffkit.compress(data, split=False)),
        "huffkit ans no-split": len(huffkit.compress(data, coder="ans", split=False)),
        "zlib-HO": len(huffman_only.compress(data) + huffman_only.flush()),
    }
    for name, size in expected_sizes.items():
        assert contenders[name]["size"] == size, name
    for figures in contenders.values():
        assert figures["bits_per_byte"] == pytest.approx(8 * figures["size"] / len(data))
        assert figures["compress_vs_zlib"] == pytest.approx(
            figures["compress"] / contenders["zlib-HO"]["compress"])
        assert figures["decompress_vs_bitarray"] == pytest.approx(
            figures["decompress"] / contenders["bitarray"]["decompress"])
        assert figures["compress"] > 0 and figures["decompress"] > 0
    assert contenders["zlib-HO"]["compress_vs_zlib"] == pytest.approx(1.0)


def test_zlib_contender_is_gzip_huffman_only():
    zlib_player = next(p for p in benchmark.contenders(1) if p.name == benchmark.ZLIB)
    data = b"a gzip file, Huffman only" * 50
    packed = zlib_player.pack(data)
    assert gzip.decompress(packed) == data
    assert zlib_player.unpack(packed) == data


def test_bitarray_contender_round_trips_even_one_symbol():
    player = next(p for p in benchmark.contenders(1) if p.name == benchmark.BITARRAY)
    for data in (b"x" * 100, bytes(range(256)) * 3):
        assert player.unpack(player.pack(data)) == data


def test_bench_without_files_uses_the_bundled_sample():
    result = run("--repeat", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (f"huffkit {huffkit.kernels.backend.describe()}; "
                        f"{benchmark.cpu_model()}, {default_threads()} cores; "
                        "medians of 1 alternating runs")
    sample = len(huffkit.corpora.path("english.txt").read_bytes())
    copies = -(-(1 << 20) // sample)
    rows = [line for line in lines if line.startswith(f"english.txt x{copies} ")]
    assert [row.split()[2] for row in rows][:1] == ["huffkit"]
    assert len(rows) == len(names(default_threads()))


def test_the_processor_is_named_with_its_family_and_model(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
                    "model\t\t: 17\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\n"
                    "model name\t: AMD EPYC\n")
    assert benchmark.cpu_model(str(info)) == "AMD EPYC (family 25, model 17)"
    info.write_text("processor\t: 0\nBogoMIPS\t: 50.00\nModel\t\t: Raspberry Pi 4\n")
    assert benchmark.cpu_model(str(info)) == "Raspberry Pi 4"
    assert benchmark.cpu_model(str(tmp_path / "missing"))  # the platform's word, or a phrase


def test_bench_errors():
    result = CliRunner().invoke(huffkit.cli.main, ["bench", "missing.bin"])
    assert result.exit_code == 1
    assert "huffkit: error: missing.bin: No such file or directory" in result.output
    with pytest.raises(ValueError, match="empty: cannot measure speed on empty data"):
        benchmark.measure(b"", name="empty")
    with pytest.raises(ValueError, match="repeat must be at least 1, got 0"):
        benchmark.measure(b"x", repeat=0)


def test_bench_stream_memory_reports_both_sides(tmp_path):
    """--stream-memory pipes the data through two huffkit processes; the figures vary, the
    fields and the match do not."""
    (tmp_path / "sample.txt").write_bytes(huffkit.corpora.path("english.txt").read_bytes())
    result = run("--stream-memory", "3M", "--coder", "ans", "--block-size", "256K", "-T", "1",
                 "--json", str(tmp_path / "sample.txt"))
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.stdout)["runs"]
    assert (measured["coder"], measured["size"], measured["block_size"], measured["threads"],
            measured["matched"]) == ("ans", 3 << 20, 256 << 10, 1, True)
    # Each child starts as an idle huffkit does, so it peaks at least as high.
    assert measured["compressor_rss"] >= measured["idle_rss"] > 0
    assert measured["decompressor_rss"] >= measured["idle_rss"]


def test_bench_stream_memory_usage_errors():
    result = CliRunner().invoke(huffkit.cli.main, ["bench", "--coder", "ans"])
    assert result.exit_code == 2
    assert "--coder and --block-size go with --stream-memory" in result.output
    result = CliRunner().invoke(huffkit.cli.main, ["bench", "--stream-memory", "0"])
    assert result.exit_code == 2
    assert "'0' is not a size" in result.output


# A stand-in for ../shared/anchors/huff0.py with its interface (load(), then compress(name,
# data) and decompress(name, blob, size) for "huf" and "fse"), so the plumbing is tested
# without building the C anchors.
FAKE_ANCHORS = '''
import zlib

class Anchors:
    def compress(self, name, data):
        return zlib.compress(data, 1 if name == "huf" else 6)

    def decompress(self, name, blob, size):
        data = zlib.decompress(blob)
        assert len(data) == size
        return data

def load():
    return Anchors()
'''


def test_bench_with_anchors_gives_huffkit_as_multiples_of_huff0_and_fse(tmp_path):
    script = tmp_path / "anchors.py"
    script.write_text(FAKE_ANCHORS)
    data = huffkit.corpora.path("english.txt").read_bytes()
    (tmp_path / "english.txt").write_bytes(data)
    result = run("--repeat", "1", "-T", "1", "--json", "--anchors", str(script),
                 str(tmp_path / "english.txt"))
    assert result.exit_code == 0, result.output
    contenders = json.loads(result.stdout)["files"][0]["contenders"]
    assert list(contenders) == [*names(1), "huff0", "FSE"]
    assert contenders["huff0"]["size"] == len(zlib.compress(data, 1))
    assert contenders["FSE"]["size"] == len(zlib.compress(data, 6))
    for name, figures in contenders.items():
        anchor = ("huff0" if name.startswith("huffkit huffman") else
                  "FSE" if name.startswith("huffkit ans") else None)
        assert figures["anchor"] == anchor, name
        if anchor is None:
            assert figures["compress_vs_anchor"] is figures["decompress_vs_anchor"] is None
        else:
            assert figures["compress_vs_anchor"] == pytest.approx(
                figures["compress"] / contenders[anchor]["compress"])
            assert figures["decompress_vs_anchor"] == pytest.approx(
                figures["decompress"] / contenders[anchor]["decompress"])

    table = run("--repeat", "1", "-T", "1", "--anchors", str(script),
                str(tmp_path / "english.txt"))
    assert table.exit_code == 0, table.output
    rows = {line.split()[1] + " " + line.split()[2]: line for line in table.stdout.splitlines()
            if line.startswith("english.txt ")}  # the table names a file by its base name
    assert rows["huffkit huffman"].count(" huff0") == 2  # compress and decompress ratios
    assert rows["huffkit ans"].count(" FSE") == 2
    assert "x anchor: huffkit's Huffman rows against huff0" in table.stdout


def test_bench_anchors_errors(tmp_path):
    missing = run("--anchors", str(tmp_path / "nowhere.py"), "--repeat", "1")
    assert missing.exit_code == 1
    assert f"huffkit: error: {tmp_path / 'nowhere.py'}: no such anchors script" in missing.output
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\n")  # no load()
    result = run("--anchors", str(broken), "--repeat", "1")
    assert result.exit_code == 1
    assert f"huffkit: error: {broken}: could not load the anchors (" in result.output
    both = run("--anchors", str(broken), "--stream-memory", "1M")
    assert both.exit_code == 2
    assert "--anchors times the coders in this process, not --stream-memory" in both.output
