"""Command-line fixes found by new users, each through the real command line.

``--csv -`` writes to standard output; errors about a file's UTF-8 name the file;
files of one base name are told apart; the bench table lines up; the tour leaves
nothing behind and overwrites nothing; train's codebooks code any byte by default; the
ledger says why a mismatch can be negative; compare says why its sizes are not
compress's.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import invoke, listing

import huffkit
import huffkit.corpora
from huffkit.analysis.labels import short_names
from huffkit.tools import benchmark

BUNDLED = {entry.name: Path(entry.path) for entry in huffkit.corpora.manifest()}

#: Valid UTF-8 up to byte 2, then a byte no UTF-8 sequence starts with.
BAD_UTF8 = b"ab\xff\xfecd"
UTF8_ERROR = ("not valid UTF-8: invalid start byte at byte 2; use the bytes alphabet for "
              "binary data")

SIZES_NOTE = ("Sizes are those of compress --codebook, which stores one code table in the "
              "frame; plain\ncompress stores each block's own, more compact table, so its "
              "files are slightly smaller.\n")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder that is the current directory, with two files named x.txt."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copyfile(BUNDLED["english.txt"], tmp_path / "a" / "x.txt")
    shutil.copyfile(BUNDLED["source.c"], tmp_path / "b" / "x.txt")
    return tmp_path


def ok(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return str(result.stdout)


def error(*args: str, message: str) -> None:
    """Exit status 1, nothing on standard output, exactly one line of error."""
    result = invoke(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"huffkit: error: {message}\n")


# -- 1. --csv - is standard output ---------------------------------------------------------


@pytest.mark.parametrize("command", [["compare", "a/x.txt", "b/x.txt"],
                                     ["sweep", "a/x.txt", "--steps", "3"],
                                     ["ladder", "a/x.txt", "--rungs", "order0-huffman",
                                      "--no-references"]])
def test_csv_dash_writes_standard_output_and_no_file(work: Path, command: list[str]) -> None:
    before = listing(work)
    printed = ok(*command, "--csv", "-")
    assert listing(work) == before  # no file named -
    ok(*command, "--csv", "out.csv")
    written = (work / "out.csv").read_text(encoding="utf-8")
    if command[0] == "ladder":  # the timings differ from run to run: compare the sizes
        def sizes(text: str) -> list[tuple[str, str]]:
            return [(row["name"], row["compressed_size"])
                    for row in csv.DictReader(io.StringIO(text))]
        assert sizes(printed) == sizes(written)
        assert printed.splitlines()[0] == written.splitlines()[0]
    else:
        assert printed == written  # the CSV alone, no table before it


@pytest.mark.parametrize("command", [["compare", "a/x.txt"], ["sweep", "a/x.txt"],
                                     ["ladder", "a/x.txt", "--rungs", "order0-huffman"]])
def test_json_and_csv_dash_cannot_share_standard_output(work: Path, command: list[str]) -> None:
    result = invoke(*command, "--json", "--csv", "-")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "huffkit: error: --json and --csv - both write to standard output; choose one")
    assert sorted(listing(work)) == ["a/x.txt", "b/x.txt"]


# -- 2. an error about a file's UTF-8 names the file -------------------------------------------


@pytest.mark.parametrize("command", [
    ["compare", "--alphabet", "utf8", "good.txt", "bad.txt"],
    ["sweep", "--alphabet", "utf8", "bad.txt"],
    ["sweep", "--alphabet", "utf8", "good.txt", "--toward", "bad.txt"],
    ["train", "--alphabet", "utf8", "good.txt", "bad.txt", "-o", "model.json"],
])
def test_invalid_utf8_names_the_file(work: Path, command: list[str]) -> None:
    (work / "good.txt").write_bytes("안녕하세요".encode())
    (work / "bad.txt").write_bytes(BAD_UTF8)
    before = listing(work)
    error(*command, message=f"bad.txt: {UTF8_ERROR}")
    assert listing(work) == before


# -- 3. files of one base name are told apart ------------------------------------------------


def test_short_names_tell_files_of_one_base_name_apart() -> None:
    assert short_names(["a/x.txt", "b/x.txt", "c/y.txt"]) == ["a/x.txt", "b/x.txt", "y.txt"]
    assert short_names(["p/a/x.txt", "q/a/x.txt"]) == ["p/a/x.txt", "q/a/x.txt"]
    assert short_names(["x.txt", "./x.txt"]) == ["x.txt", "x.txt"]  # one file, one name
    assert short_names(["/x.txt", "/a/x.txt"]) == ["/x.txt", "a/x.txt"]
    assert short_names(["uniform", "sub/x.txt"]) == ["uniform", "x.txt"]


def test_compare_tells_files_of_one_base_name_apart(work: Path) -> None:
    lines = ok("compare", "a/x.txt", "b/x.txt").splitlines()
    assert lines[1].split() == ["data", "\\", "model", "a/x.txt", "b/x.txt", "uniform"]
    assert [line.split()[0] for line in lines[2:4]] == ["a/x.txt", "b/x.txt"]
    # JSON and CSV keep the names as given, which differ.
    printed = json.loads(ok("compare", "a/x.txt", "b/x.txt", "--json"))
    assert printed["rows"] == ["a/x.txt", "b/x.txt"]
    assert printed["columns"] == ["a/x.txt", "b/x.txt", "uniform"]
    rows = list(csv.DictReader(io.StringIO(ok("compare", "a/x.txt", "b/x.txt", "--csv", "-"))))
    assert [(row["row"], row["column"]) for row in rows[:3]] == [
        ("a/x.txt", "a/x.txt"), ("a/x.txt", "b/x.txt"), ("a/x.txt", "uniform")]


def test_compare_picture_tells_files_of_one_base_name_apart(work: Path) -> None:
    pytest.importorskip("matplotlib")
    ok("compare", "a/x.txt", "b/x.txt", "--plot", "matrix.svg")
    texts = re.findall(r"<!-- (.*?) -->", (work / "matrix.svg").read_text(encoding="utf-8"))
    assert texts.count("a/x.txt") == 2 and texts.count("b/x.txt") == 2  # both axes
    assert "x.txt" not in texts


def test_sweep_tells_a_file_from_its_namesake(work: Path) -> None:
    first = ok("sweep", "a/x.txt", "--toward", "b/x.txt", "--steps", "2").splitlines()[0]
    assert re.fullmatch(r"a/x\.txt: 26,439 symbols, H\(P\) = \d\.\d{4} bits; R = b/x\.txt",
                        first), first


# -- 4. the metric's unit, once ----------------------------------------------------------------


def test_bits_per_byte_header_says_its_unit_once(work: Path) -> None:
    lines = ok("compare", "a/x.txt", "--metric", "bits_per_byte").splitlines()
    assert lines[0] == ("bits per byte of the whole compressed file; * marks the best model "
                        "for each file")
    assert ok("compare", "a/x.txt").splitlines()[0] == (
        "mean code length, bits per symbol; * marks the best model for each file")


# -- 5. the bench table lines up and names files by their base names ---------------------------


def _speed(size: int, ratio: float, anchor: str | None) -> benchmark.Speed:
    return benchmark.Speed(size=size, bits_per_byte=8 * size / 100, compress=1234.5,
                           decompress=9.5, compress_vs_zlib=12.25, decompress_vs_zlib=0.5,
                           compress_vs_bitarray=1.0, decompress_vs_bitarray=100.0,
                           anchor=anchor, compress_vs_anchor=ratio if anchor else None,
                           decompress_vs_anchor=ratio if anchor else None)


def test_bench_report_columns_line_up_whatever_the_figures(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setattr(benchmark, "machine", lambda: "a machine")
    measurements = [
        benchmark.Measurement(name="a-rather-long-name.bin", size=100, repeat=1, speeds={
            "huffkit huffman": _speed(12_345_678_901, 12.5, "huff0"),
            "zlib-HO": _speed(7, 0, None)}),
        benchmark.Measurement(name="x", size=100, repeat=1, speeds={
            "huffkit ans": _speed(50, 0.25, "FSE")})]
    lines = benchmark.report(measurements).splitlines()
    table = lines[2:6]
    assert table == [
        "file                   contender                bytes        bits/B   compress MB/s "
        "x zlib x bitarray    x anchor   decompress MB/s x zlib x bitarray    x anchor",
        "a-rather-long-name.bin huffkit huffman 12,345,678,901 987654312.080          1234.5  "
        "12.25       1.00 12.50 huff0               9.5   0.50     100.00 12.50 huff0",
        "a-rather-long-name.bin zlib-HO                      7         0.560          1234.5  "
        "12.25       1.00                           9.5   0.50     100.00",
        "x                      huffkit ans                 50         4.000          1234.5  "
        "12.25       1.00  0.25 FSE                 9.5   0.50     100.00  0.25 FSE",
    ]


def test_bench_names_files_by_their_base_names(work: Path) -> None:
    lines = ok("bench", "--repeat", "1", "-T", "1", "a/x.txt", str(work / "b" / "x.txt"))
    names = {line.split()[0] for line in lines.splitlines()[3:]
             if line.split() and "huffkit" in line}
    assert names == {"a/x.txt", "b/x.txt"}
    table = [line for line in lines.splitlines()[2:] if line.strip()][:13]
    # Right-aligned columns end where their headings end.
    header = table[0]
    for heading in ("bytes", "bits/B", "compress MB/s", "decompress MB/s"):
        end = header.index(heading) + len(heading)
        for row in table[1:]:
            if row.startswith(("a/x.txt", "b/x.txt")):
                assert row[end - 1] != " " and row[end] == " ", (heading, row)


# -- 6. the tour leaves nothing behind and overwrites nothing ----------------------------------


def test_the_tour_without_pictures_leaves_nothing_behind(work: Path, tmp_path_factory:
                                                         pytest.TempPathFactory,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path_factory.mktemp("tmpdir")
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where its temporary files go
    before = listing(work)
    output = ok("tour")
    assert ("(Add --pictures FOLDER to draw the matrix, the sweep and the learning curve "
            "there.)") in output.splitlines()
    assert "The pictures are in" not in output
    assert listing(work) == before
    assert list(scratch.iterdir()) == []


def test_the_tour_never_draws_over_a_picture_without_force(work: Path) -> None:
    pytest.importorskip("matplotlib")
    (work / "pictures").mkdir()
    (work / "pictures" / "sweep.png").write_bytes(b"my own picture")
    before = listing(work)
    error("tour", "--pictures", "pictures",
          message="pictures/sweep.png already exists; use -f to overwrite it, or name another "
                  "--pictures FOLDER")
    assert listing(work) == before

    output = ok("tour", "--pictures", "pictures", "-f")
    assert "picture: pictures/sweep.png" in output.splitlines()
    drawn = listing(work / "pictures")
    assert sorted(drawn) == ["compare.png", "learning-curve.png", "sweep.png"]
    assert all(picture.startswith(b"\x89PNG\r\n\x1a\n") for picture in drawn.values())


def test_the_tour_draws_into_a_new_folder(work: Path) -> None:
    pytest.importorskip("matplotlib")
    output = ok("tour", "--pictures", "new/pictures")
    assert "The pictures are in new/pictures" in output.splitlines()
    assert sorted(listing(work / "new")) == ["pictures/compare.png",
                                            "pictures/learning-curve.png",
                                            "pictures/sweep.png"]


# -- 7. train's codebooks code any byte; the error when one cannot says what to do -------------


def test_train_smooths_by_default_so_the_codebook_codes_other_files(work: Path) -> None:
    result = invoke("train", "a/x.txt", "-o", "model.json")
    assert result.exit_code == 0, result.stderr
    assert ", smoothing 0.5, " in result.stderr
    codebook = huffkit.Codebook.load(work / "model.json")
    assert codebook == huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes((work / "a" / "x.txt").read_bytes()).smoothed(0.5))
    assert len(codebook.codewords()) == 256
    ok("compress", "--codebook", "model.json", "b/x.txt")
    assert huffkit.decompress((work / "b" / "x.txt.huf").read_bytes(),
                              codebook=codebook) == (work / "b" / "x.txt").read_bytes()


def test_a_raw_codebook_that_cannot_code_a_file_says_how_to_fix_it(work: Path) -> None:
    (work / "a.txt").write_bytes(b"aaab")
    (work / "b.txt").write_bytes(b"abc!")
    ok("train", "a.txt", "--smooth", "0", "-o", "model.json")
    before = listing(work)
    error("compress", "--codebook", "model.json", "b.txt",
          message="b.txt: the codebook has no code for byte values 33 (0x21), 99 (0x63), "
                  "which occur in the data (the model gave them probability 0): the files "
                  "the codebook was trained on lack them; train it again with --smooth ALPHA "
                  "(huffkit train --smooth 0.5 FILE... -o MODEL.json), which gives every "
                  "symbol a code")
    assert listing(work) == before


def test_train_utf8_is_not_smoothed_by_default_and_says_so(work: Path) -> None:
    (work / "k.txt").write_bytes("가나다 가나".encode())
    result = invoke("train", "--alphabet", "utf8", "k.txt", "-o", "model.json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[1] == (
        "model.json: note: it codes only the 4 utf8 symbols these files hold, so it cannot "
        "code a file with any other; --smooth ALPHA gives every symbol a code")
    assert ", smoothing 0, " in result.stderr.splitlines()[0]


# -- 8. compare's sizes against compress's -----------------------------------------------------


def test_compare_says_why_its_sizes_are_not_compress_s(work: Path) -> None:
    output = ok("compare", "a/x.txt", "b/x.txt")
    assert output.endswith("\n\n" + SIZES_NOTE)
    printed = json.loads(ok("compare", "a/x.txt", "b/x.txt", "--json"))
    for i, name in enumerate(("a/x.txt", "b/x.txt")):
        data = (work / name).read_bytes()
        own = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(data))
        # What the note says: the diagonal is compress --codebook, and compress is smaller.
        size = printed["cells"][i][i]["compressed_size"]
        assert size == len(huffkit.compress(data, codebook=own))
        assert len(huffkit.compress(data)) < size


# -- 9. a negative mismatch is explained; the share saved beside the space saving rate -------


def test_a_negative_mismatch_says_why(work: Path) -> None:
    (work / "halves.bin").write_bytes(b"ab" * 4096 + b"cd" * 4096)
    lines = ok("analyze", "--block-size", "8K", "halves.bin").splitlines()
    at = lines.index("  H(P) = 2.0000, H_Q(P) = 1.0000, D(P||Q) = -1.0000, JS = n/a bits per "
                     "symbol")
    assert lines[at + 1:at + 3] == [
        "  D(P||Q) is negative: each block is coded with its own distribution P_b, and the "
        "blocks differ,",
        "  so their codes beat the whole file's entropy: Σ n_b·H(P_b) = 16,384.0 < n·H(P) = "
        "32,768.0 bits"]
    ledger = huffkit.analyze((work / "halves.bin").read_bytes(), block_size=8192)
    assert ledger.wasted_mismatch == -16384.0


def test_no_word_on_a_mismatch_that_is_not_negative(work: Path) -> None:
    output = ok("analyze", "a/x.txt")
    assert "is negative" not in output


def test_the_share_saved_is_beside_the_space_saving_rate(work: Path) -> None:
    data = (work / "a" / "x.txt").read_bytes()
    size = len(huffkit.compress(data))
    rate = (len(data) - size) / size
    saved = 100 * (len(data) - size) / len(data)
    assert (f"  compression rate {len(data) / size:.3f} ({len(data):,} -> {size:,} bytes), "
            f"space saving rate {rate:.3f} (saved {saved:.1f}%)") in ok(
                "analyze", "a/x.txt").splitlines()
    (work / "random.bin").write_bytes(bytes(range(256)))  # one of each: it grows
    grown = len(huffkit.compress(bytes(range(256))))
    assert (f"space saving rate {(256 - grown) / grown:.3f} (grew by "
            f"{100 * (grown - 256) / 256:.1f}%)") in ok("analyze", "random.bin")
