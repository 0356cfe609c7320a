"""The experiments on the command line: ``huffkit compare`` and ``huffkit sweep``.

The table, ``--json`` and ``--csv`` are checked against the library and against
independent computations with numpy on the raw bytes; ``--plot`` pictures are read back
(PNG with matplotlib, SVG with xml.etree) in tests that skip without matplotlib, whose
absence is simulated through ``sys.modules``.  Every file the commands touch is listed
before and after.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from conftest import cli_runner, invoke, listing

import huffkit
import huffkit.cli
import huffkit.corpora
from huffkit.cli import _experiments

#: The bundled corpus, by name.
BUNDLED = {entry.name: Path(entry.path) for entry in huffkit.corpora.manifest()}
#: The files most tests copy into their scratch folder.
NAMES = ("english.txt", "source.c", "skewed.txt")

#: About 6.6 KB of text: lowercase letters, digits, space, colon, newline.
TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                for i in range(120))
#: About 6 KB of different text: capitals, punctuation and hex digits TEXT never has.
OTHER = b"".join(b"%d, Pack my box with five dozen liquor jugs! (%x)\n" % (i, 7919 * i)
                 for i in range(120))

CELL_KEYS = {"mean_code_length", "cross_entropy", "kl_divergence", "entropy",
             "compressed_size", "original_size", "bits_per_byte", "coder"}
POINT_KEYS = {"weight", "kl_divergence", "cross_entropy", "mean_code_length",
              "wasted_bits_per_symbol", "compressed_size", "coder"}
NO_MATPLOTLIB = (r"--plot: drawing pictures needs matplotlib: install it with "
                 r"pip install 'huffkit\[plot\]'")


# -- running the command (as tests/test_cli_models.py does) --------------------------------




def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr


def assert_error(result, message: str) -> None:
    """Exit status 1, nothing on stdout, and exactly the lines ``huffkit: error: MESSAGE``."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert_no_traceback(result)
    assert result.stdout_bytes == b""
    assert result.stderr.endswith("\n")
    for line in result.stderr.splitlines():
        assert re.fullmatch(f"huffkit: error: {message}", line), line


def assert_usage_error(result, message: str) -> None:
    """Exit status 2: the usage line, a hint, and ``huffkit: error: MESSAGE`` last."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert_no_traceback(result)
    assert result.stdout_bytes == b""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: huffkit")
    assert re.fullmatch(r"Try 'huffkit( \w+)? -h' for help\.", lines[1]), lines[1]
    assert re.fullmatch(f"huffkit: error: {message}", lines[-1]), lines[-1]


def _no_constants(name: str):
    raise AssertionError(f"{name} is not JSON")


def strict_json(text: str):
    """Parse JSON as a standard parser would: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=_no_constants)


def run(*args: str):
    """``huffkit ARGS``, which must succeed quietly (stderr is not a terminal here)."""
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result


def run_json(*args: str) -> dict:
    """``huffkit ARGS --json``: exit 0, nothing on stderr, one strict JSON object."""
    return strict_json(run(*args, "--json").stdout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A scratch folder that is the current directory, holding three bundled files."""
    monkeypatch.chdir(tmp_path)
    for name in NAMES:
        shutil.copyfile(BUNDLED[name], tmp_path / name)
    return tmp_path


# -- independent computations ------------------------------------------------------------


def byte_counts(data: bytes) -> np.ndarray:
    return np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)


def entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def cross_entropy_bits(counts: np.ndarray, q) -> float:
    p = counts / counts.sum()
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    present = p > 0
    return float(-(p[present] * np.log2(q[present])).sum())


def kl_bits(counts: np.ndarray, q) -> float:
    p = counts / counts.sum()
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    present = p > 0
    return float((p[present] * np.log2(p[present] / q[present])).sum())


def same_figures(printed: dict, expected: dict) -> None:
    """JSON figures equal the library's (floats through JSON keep their value)."""
    assert printed.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, float):
            assert printed[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
        else:
            assert printed[key] == value, key


# -- compare ---------------------------------------------------------------------------------


def test_compare_json_is_the_library_matrix(work):
    data = {name: (work / name).read_bytes() for name in NAMES}
    printed = run_json("compare", *NAMES)
    expected = huffkit.compare(list(NAMES)).to_dict()
    assert printed["rows"] == list(NAMES)
    assert printed["columns"] == [*NAMES, "uniform"]
    assert printed["smoothing"] == 0.5
    assert len(printed["cells"]) == len(NAMES)
    for i, row in enumerate(printed["cells"]):
        assert len(row) == len(NAMES) + 1
        for j, cell in enumerate(row):
            assert set(cell) >= CELL_KEYS
            same_figures(cell, expected["cells"][i][j])
    # And independently: cells[i][j] is row i coded with column j's model.
    for i, row_name in enumerate(NAMES):
        counts = byte_counts(data[row_name])
        for j, column_name in enumerate(NAMES):
            if i == j:
                distribution = huffkit.Distribution.from_bytes(data[row_name])
                q = counts
            else:
                distribution = huffkit.Distribution.from_bytes(data[column_name]).smoothed(0.5)
                q = byte_counts(data[column_name]) + 0.5
            codebook = huffkit.Codebook.from_distribution(distribution)
            cell = printed["cells"][i][j]
            assert cell["compressed_size"] == len(huffkit.compress(data[row_name],
                                                                   codebook=codebook))
            assert cell["cross_entropy"] == pytest.approx(cross_entropy_bits(counts, q),
                                                          rel=1e-9)
            assert cell["kl_divergence"] == pytest.approx(kl_bits(counts, q), rel=1e-9,
                                                          abs=1e-12)
            assert cell["mean_code_length"] == pytest.approx(
                float(counts @ codebook.lengths.astype(np.int64)) / counts.sum(), rel=1e-12)
        uniform = printed["cells"][i][-1]
        assert uniform["mean_code_length"] == 8
        assert uniform["kl_divergence"] == pytest.approx(8 - entropy_bits(counts), abs=1e-9)
    assert sorted(listing(work)) == sorted(NAMES)


_TABLE_ROW = re.compile(r"(\S+)((?:\s+(?:\d+\.\d{3}|n/a)[* ]?)+)")


def parse_table(text: str) -> tuple[str, list[str], dict[str, list[tuple[str, bool]]]]:
    """The title, the column names and, per row, each cell's text and whether it has *."""
    lines = text.splitlines()
    header = lines[1].split()
    assert header[:3] == ["data", "\\", "model"]
    rows = {}
    for line in lines[2:lines.index("")] if "" in lines else lines[2:]:  # the table's end
        match = _TABLE_ROW.fullmatch(line.rstrip())
        assert match, line
        cells = re.findall(r"(\d+\.\d{3}|n/a)(\*?)", match[2])
        rows[match[1]] = [(value, star == "*") for value, star in cells]
    return lines[0], header[3:], rows


@pytest.mark.parametrize("metric", ["mean_code_length", "cross_entropy", "kl_divergence",
                                    "bits_per_byte"])
def test_compare_table_marks_the_best_of_each_row(work, metric):
    result = run("compare", *NAMES, "--metric", metric)
    title, columns, rows = parse_table(result.stdout)
    what = ("bits per byte of the whole compressed file" if metric == "bits_per_byte" else
            f"{metric.replace('_', ' ')}, bits per symbol")  # the unit said once
    assert title == f"{what}; * marks the best model for each file"
    assert columns == [*NAMES, "uniform"]
    assert list(rows) == list(NAMES)
    comparison = huffkit.compare(list(NAMES))
    for i, name in enumerate(NAMES):
        cells = rows[name]
        assert len(cells) == len(columns)
        assert [star for _, star in cells].count(True) == 1
        best = [star for _, star in cells].index(True)
        assert best == comparison.best(i, metric)
        for j, (text, _) in enumerate(cells):
            assert text == f"{getattr(comparison.cells[i][j], metric):.3f}"
    if metric in ("mean_code_length", "cross_entropy", "kl_divergence"):
        # The diagonal: each file's own code.
        assert [rows[name][i][1] for i, name in enumerate(NAMES)] == [True] * len(NAMES)


def test_compare_default_metric_is_mean_code_length(work):
    assert run("compare", *NAMES).stdout == run("compare", *NAMES, "--metric",
                                                "mean_code_length").stdout


def test_compare_codebook_columns(work):
    smoothed = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(TEXT + OTHER).smoothed(1))
    smoothed.save(work / "smoothed.json")
    # Trained without smoothing on other bytes: it cannot code english.txt, say.
    narrow = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(b"01" * 50))
    narrow.save(work / "narrow.json")
    before = listing(work)
    args = ("compare", *NAMES, "--codebook", "smoothed.json", "--codebook", "narrow.json")
    printed = run_json(*args)
    assert printed["columns"] == [*NAMES, "uniform", "smoothed.json", "narrow.json"]
    expected = huffkit.compare(list(NAMES), codebooks=[("smoothed.json", smoothed),
                                                       ("narrow.json", narrow)]).to_dict()
    for i, row in enumerate(printed["cells"]):
        for j, cell in enumerate(row):
            same_figures(cell, expected["cells"][i][j])
    for i, name in enumerate(NAMES):
        data = (work / name).read_bytes()
        cell = printed["cells"][i][-2]
        assert cell["compressed_size"] == len(huffkit.compress(data, codebook=smoothed))
        assert cell["cross_entropy"] == pytest.approx(
            cross_entropy_bits(byte_counts(data), byte_counts(TEXT + OTHER) + 1), rel=1e-9)
        narrow_cell = printed["cells"][i][-1]
        if name == "skewed.txt":  # only 0s and 1s
            assert set(data) == set(b"01")
            assert narrow_cell["compressed_size"] == len(huffkit.compress(data,
                                                                          codebook=narrow))
        else:
            for key in ("mean_code_length", "cross_entropy", "kl_divergence",
                        "compressed_size", "bits_per_byte"):
                assert narrow_cell[key] is None, key
            assert narrow_cell["original_size"] == len(data)
    # The table says n/a, and never marks it best.
    _, columns, rows = parse_table(run(*args).stdout)
    assert columns[-1] == "narrow.json"
    assert rows["english.txt"][-1] == ("n/a", False)
    assert rows["source.c"][-1] == ("n/a", False)
    assert rows["skewed.txt"][-1][0] != "n/a"
    assert listing(work) == before


def test_compare_missing_codebook(work):
    result = invoke("compare", *NAMES, "--codebook", "missing.json")
    assert_error(result, r"missing\.json: No such file or directory")
    assert sorted(listing(work)) == sorted(NAMES)


def test_compare_smooth(work):
    data = {name: (work / name).read_bytes() for name in NAMES}
    printed = run_json("compare", *NAMES, "--smooth", "2")
    assert printed["smoothing"] == 2
    english, source = byte_counts(data["english.txt"]), byte_counts(data["source.c"])
    assert printed["cells"][1][0]["cross_entropy"] == pytest.approx(
        cross_entropy_bits(source, english + 2), rel=1e-9)
    assert printed["cells"][0][1]["cross_entropy"] == pytest.approx(
        cross_entropy_bits(english, source + 2), rel=1e-9)
    codebook = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(data["source.c"]).smoothed(2))
    assert printed["cells"][0][1]["compressed_size"] == len(
        huffkit.compress(data["english.txt"], codebook=codebook))
    # The diagonal stays the file's exact distribution.
    assert printed["cells"][0][0]["kl_divergence"] == pytest.approx(0, abs=1e-12)

    # Unsmoothed, a file's model codes only the files within its support: null in JSON.
    unsmoothed = run_json("compare", *NAMES, "--smooth", "0")
    for i, row_name in enumerate(NAMES):
        for j, column_name in enumerate(NAMES):
            codable = set(data[row_name]) <= set(data[column_name])
            cell = unsmoothed["cells"][i][j]
            assert (cell["compressed_size"] is not None) == codable, (row_name, column_name)
            assert (cell["mean_code_length"] is not None) == codable


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_compare_rejects_a_smooth_that_is_not_finite(work, value):
    result = cli_runner().invoke(huffkit.cli.main, ["compare", *NAMES, "--smooth", value],
                              prog_name="huffkit")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert_no_traceback(result)
    assert result.exit_code in (1, 2)
    assert result.stdout_bytes == b""
    assert result.stderr.splitlines()[-1].startswith("huffkit: error: ")
    assert "finite" in result.stderr
    assert sorted(listing(work)) == sorted(NAMES)


def test_compare_rejects_a_negative_smooth(work):
    assert_usage_error(invoke("compare", *NAMES, "--smooth", "-1"),
                       r"Invalid value for '--smooth': -1\.0 is not in the range x>=0\.")


def test_compare_missing_file(work):
    assert_error(invoke("compare", "english.txt", "missing.txt"),
                 r"missing\.txt: No such file or directory")
    assert sorted(listing(work)) == sorted(NAMES)


def test_compare_needs_a_file(work):
    assert_usage_error(invoke("compare"), r"Missing argument 'FILE\.\.\.'\.")


def test_compare_csv_agrees_with_the_library(work):
    narrow = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(b"01"))
    narrow.save(work / "narrow.json")
    result = run("compare", *NAMES, "--codebook", "narrow.json", "--csv", "matrix.csv")
    assert parse_table(result.stdout)[1][-1] == "narrow.json"  # the table, as without --csv
    records = huffkit.compare(list(NAMES), codebooks=[("narrow.json", narrow)]).records()
    rows = read_csv(work / "matrix.csv")
    assert len(rows) == len(NAMES) * (len(NAMES) + 2) == len(records)
    assert list(rows[0]) == list(records[0])
    assert set(rows[0]) == {"row", "column"} | CELL_KEYS
    for row, record in zip(rows, records, strict=True):
        assert (row["row"], row["column"]) == (record["row"], record["column"])
        for key in CELL_KEYS:
            value = record[key]
            if value is None:
                assert row[key] == ""  # the n/a cells
            elif isinstance(value, str):
                assert row[key] == value
            elif isinstance(value, int):
                assert int(row[key]) == value
            else:
                assert float(row[key]) == pytest.approx(value, rel=1e-12, abs=1e-15)
    assert sum(row["compressed_size"] == "" for row in rows) == 2  # english, source
    assert sorted(listing(work)) == sorted([*NAMES, "narrow.json", "matrix.csv"])


def test_compare_json_and_csv_together(work):
    printed = run_json("compare", "english.txt", "source.c", "--csv", "matrix.csv")
    rows = read_csv(work / "matrix.csv")
    assert [float(row["mean_code_length"]) for row in rows] == pytest.approx(
        [cell["mean_code_length"] for cells in printed["cells"] for cell in cells], rel=1e-12)


# -- sweep -----------------------------------------------------------------------------------


def check_points(points: list[dict], data: bytes, r, steps: int) -> None:
    """The sweep's points against numpy: the mixture, its KL, its code, the waste."""
    counts = byte_counts(data)
    entropy = entropy_bits(counts)
    p = counts / counts.sum()
    r = np.asarray(r, dtype=np.float64) / np.sum(r)
    assert len(points) == steps
    assert [point["weight"] for point in points] == pytest.approx(
        np.linspace(0, 1, steps).tolist(), abs=1e-12)
    for point in points:
        assert set(point) >= POINT_KEYS
        q = (1 - point["weight"]) * p + point["weight"] * r
        assert point["kl_divergence"] == pytest.approx(kl_bits(counts, q), rel=1e-9,
                                                       abs=1e-12)
        codebook = huffkit.Codebook.from_distribution(huffkit.Distribution(q))
        assert point["mean_code_length"] == pytest.approx(
            float(counts @ codebook.lengths.astype(np.int64)) / counts.sum(), rel=1e-12)
        assert point["compressed_size"] == len(huffkit.compress(data, codebook=codebook))
        assert point["wasted_bits_per_symbol"] == pytest.approx(
            point["mean_code_length"] - entropy, abs=1e-12)
    kl = [point["kl_divergence"] for point in points]
    assert kl[0] == pytest.approx(0, abs=1e-12)
    assert all(later > earlier for earlier, later in pairwise(kl))  # P is not R


def test_sweep_json_toward_uniform(work):
    data = (work / "english.txt").read_bytes()
    printed = run_json("sweep", "english.txt")
    assert set(printed) >= {"points"}
    assert printed["file"] == "english.txt"
    assert printed["toward"] == "uniform"
    assert printed["symbols"] == len(data)
    assert printed["entropy"] == pytest.approx(entropy_bits(byte_counts(data)), rel=1e-12)
    check_points(printed["points"], data, np.ones(256), 11)
    last = printed["points"][-1]
    assert last["weight"] == 1
    assert last["mean_code_length"] == 8
    assert last["kl_divergence"] == pytest.approx(8 - entropy_bits(byte_counts(data)),
                                                  abs=1e-9)
    expected = huffkit.sweep("english.txt").to_dict()
    assert printed.keys() == expected.keys()
    for point, library in zip(printed["points"], expected["points"], strict=True):
        same_figures(point, library)
    assert sorted(listing(work)) == sorted(NAMES)


@pytest.mark.parametrize("steps", [2, 5])
def test_sweep_steps(work, steps):
    data = (work / "source.c").read_bytes()
    printed = run_json("sweep", "source.c", "--steps", str(steps), "--coder", "huffman")
    check_points(printed["points"], data, np.ones(256), steps)


@pytest.mark.parametrize("alpha", [None, "2"])
def test_sweep_toward_a_file_smoothed(work, alpha):
    english, source = (work / "english.txt").read_bytes(), (work / "source.c").read_bytes()
    options = [] if alpha is None else ["--smooth", alpha]
    printed = run_json("sweep", "english.txt", "--toward", "source.c", "--steps", "4", *options)
    smoothing = 0.5 if alpha is None else float(alpha)
    assert printed["toward"] == "source.c"
    check_points(printed["points"], english, byte_counts(source) + smoothing, 4)
    expected = huffkit.sweep("english.txt", toward="source.c", steps=4, smoothing=smoothing)
    for point, library in zip(printed["points"], expected.records(), strict=True):
        same_figures(point, library)
    # At weight 1 the model is source.c's smoothed distribution, as compare's column is.
    cell = huffkit.compare(["english.txt", "source.c"], smoothing=smoothing).cells[0][1]
    assert printed["points"][-1]["compressed_size"] == cell.compressed_size
    assert printed["points"][-1]["kl_divergence"] == pytest.approx(cell.kl_divergence,
                                                                   rel=1e-12)


_SWEEP_ROW = re.compile(r"\s*huffman\s+(\d\.\d{3})\s+(\d+\.\d{4})\s+(\d+\.\d{4})\s+(\d+\.\d{4})"
                        r"\s+(-?\d+\.\d{4})\s+([\d,]+)")


def test_sweep_table(work):
    result = run("sweep", "english.txt", "--steps", "5")
    lines = result.stdout.splitlines()
    sweep = huffkit.sweep("english.txt", steps=5)
    assert lines[0] == (f"english.txt: {len(BUNDLED['english.txt'].read_bytes()):,} symbols, "
                        f"H(P) = {sweep.entropy:.4f} bits; R = uniform")
    assert lines[1].split() == ["coder", "weight", "D(P||Q)", "H_Q(P)", "code", "length",
                                "wasted", "bytes"]
    assert len(lines) == 2 + 5
    for line, point in zip(lines[2:], sweep.points, strict=True):
        match = _SWEEP_ROW.fullmatch(line)
        assert match, line
        assert match.groups() == (
            f"{point.weight:.3f}", f"{point.kl_divergence:.4f}", f"{point.cross_entropy:.4f}",
            f"{point.mean_code_length:.4f}", f"{point.wasted_bits_per_symbol:.4f}",
            f"{point.compressed_size:,}")


def test_sweep_csv_agrees_with_the_library(work):
    printed = run_json("sweep", "skewed.txt", "--steps", "6", "--csv", "sweep.csv")
    rows = read_csv(work / "sweep.csv")
    records = huffkit.sweep("skewed.txt", steps=6).records()
    assert list(rows[0]) == list(records[0])
    assert set(rows[0]) == POINT_KEYS
    assert len(rows) == 6
    for row, record, point in zip(rows, records, printed["points"], strict=True):
        assert int(row["compressed_size"]) == record["compressed_size"]
        assert row["coder"] == record["coder"] == point["coder"] == "huffman"
        for key in POINT_KEYS - {"compressed_size", "coder"}:
            assert float(row[key]) == pytest.approx(record[key], rel=1e-12, abs=1e-15)
            assert float(row[key]) == pytest.approx(point[key], rel=1e-12, abs=1e-15)
    assert sorted(listing(work)) == sorted([*NAMES, "sweep.csv"])


@pytest.mark.parametrize("steps", ["1", "0", "-2"])
def test_sweep_needs_two_steps(work, steps):
    assert_usage_error(invoke("sweep", "english.txt", "--steps", steps),
                       rf"Invalid value for '--steps': {steps} is not in the range x>=2\.")


def test_sweep_of_an_empty_file(work):
    (work / "empty").write_bytes(b"")
    assert_error(invoke("sweep", "empty"), r"empty: cannot sweep an empty file")
    assert_error(invoke("sweep", "empty", "--csv", "out.csv"),
                 r"empty: cannot sweep an empty file")
    assert sorted(listing(work)) == sorted([*NAMES, "empty"])


def test_sweep_toward_a_missing_file(work):
    assert_error(invoke("sweep", "english.txt", "--toward", "missing.txt"),
                 r"missing\.txt: No such file or directory")
    assert_error(invoke("sweep", "missing.txt"), r"missing\.txt: No such file or directory")
    assert sorted(listing(work)) == sorted(NAMES)


@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_an_unknown_coder_is_a_usage_error(work, command):
    assert_usage_error(invoke(command, "english.txt", "--coder", "arithmetic"),
                       r"Invalid value for '--coder': 'arithmetic' is not one of 'huffman', "
                       r"'ans'\.")


def test_sweep_smooth_must_be_positive(work):
    assert_usage_error(invoke("sweep", "english.txt", "--toward", "source.c", "--smooth", "0"),
                       r"Invalid value for '--smooth': 0\.0 is not in the range x>0\.")


# -- pictures --------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(path: Path) -> None:
    """A real PNG, read back: signature, IHDR, and pixels matplotlib decodes."""
    from matplotlib import image

    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    pixels = image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[:2] == (height, width)
    assert width > 100 and height > 100
    assert np.ptp(pixels[..., :3]) > 0


def svg_text_elements(path: Path) -> list[str]:
    root = ET.fromstring(path.read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return ["".join(element.itertext()).strip()
            for element in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.fixture
def matplotlib():
    return pytest.importorskip("matplotlib")


@pytest.mark.parametrize("name", ["matrix.png", "MATRIX.PNG"])
def test_compare_plot_png(work, matplotlib, name):
    result = run("compare", *NAMES, "--plot", name)
    assert parse_table(result.stdout)[1] == [*NAMES, "uniform"]
    check_png(work / name)
    assert sorted(listing(work)) == sorted([*NAMES, name])


def test_compare_plot_svg_has_labels_and_values(work, matplotlib):
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as <text> elements
        run("compare", *NAMES, "--plot", "matrix.svg", "--metric", "kl_divergence")
    texts = svg_text_elements(work / "matrix.svg")
    assert "model Q: the codebook's distribution" in texts
    assert "data file (its own distribution P)" in texts
    assert "KL divergence D(P||Q) (bits/symbol)" in texts
    for name in [*NAMES, "uniform"]:
        assert name in texts
    comparison = huffkit.compare(list(NAMES))
    for row in comparison.cells:
        for cell in row:
            assert f"{cell.kl_divergence:.2f}" in texts
    assert texts.count("0.00") >= len(NAMES)  # the diagonal


def test_compare_plot_pdf(work, matplotlib):
    run("compare", "english.txt", "--plot", "matrix.pdf")
    assert (work / "matrix.pdf").read_bytes().startswith(b"%PDF")


def test_sweep_plot_png_and_svg(work, matplotlib):
    printed = run_json("sweep", "english.txt", "--steps", "5", "--plot", "sweep.png")
    assert len(printed["points"]) == 5  # --json and --plot together
    check_png(work / "sweep.png")
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        run("sweep", "english.txt", "--toward", "source.c", "--plot", "sweep.svg")
    texts = svg_text_elements(work / "sweep.svg")
    assert "D(P || Q_w), bits per symbol" in texts
    assert "wasted bits per symbol (mean code length - H(P))" in texts
    assert "waste = KL (ideal coder)" in texts
    assert "waste = KL + 1" in texts
    assert "english.txt: Q_w = (1 - w) P + w R, R = source.c" in texts
    assert sorted(listing(work)) == sorted([*NAMES, "sweep.png", "sweep.svg"])


@pytest.mark.parametrize(("name", "found"), [("out.gif", "not '.gif'"),
                                             ("out", "and it has no suffix"),
                                             ("out.png.txt", "not '.txt'")])
def test_a_bad_picture_suffix_is_an_error_before_any_work(work, name, found):
    message = (rf"--plot: {re.escape(name)}: a picture's name must end in \.png, \.svg, "
               rf"\.pdf \(its format\), {found}")
    # The input is missing too: the suffix is found wrong before anything is read.
    assert_error(invoke("compare", "missing.txt", "--plot", name, "--csv", "out.csv"), message)
    assert_error(invoke("sweep", "missing.txt", "--plot", name, "--csv", "out.csv"), message)
    assert sorted(listing(work)) == sorted(NAMES)


@pytest.mark.parametrize("option", ["--csv", "--plot"])
def test_existing_outputs_are_kept_without_force(work, option):
    name = "out.csv" if option == "--csv" else "out.png"
    if option == "--plot":
        pytest.importorskip("matplotlib")
    (work / name).write_bytes(b"precious")
    before = listing(work)
    for command in (["compare", *NAMES], ["sweep", "english.txt"]):
        result = invoke(*command, option, name)
        assert_error(result, rf"{re.escape(name)} already exists; use -f to overwrite it")
        # Nothing else is written either.
        result = invoke(*command, option, name,
                        "--plot" if option == "--csv" else "--csv", "other.svg")
        assert result.exit_code == 1
        assert listing(work) == before
    for flag in ("-f", "--force"):
        (work / name).write_bytes(b"precious")
        run("sweep", "english.txt", option, name, flag)
        if option == "--csv":
            assert len(read_csv(work / name)) == 11
        else:
            check_png(work / name)
        assert sorted(listing(work)) == sorted([*NAMES, name])


def test_outputs_never_overwrite_an_input(work):
    before = listing(work)
    result = invoke("compare", *NAMES, "--csv", "source.c", "-f")
    assert listing(work) == before
    assert_error(result, r"source\.c: input and output are the same file")


def test_csv_and_plot_at_the_same_path_is_an_error_before_any_work(work):
    pytest.importorskip("matplotlib")
    result = invoke("sweep", "english.txt", "--csv", "out.png", "--plot", "out.png")
    assert sorted(listing(work)) == sorted(NAMES)
    assert result.exit_code in (1, 2)
    assert result.stdout == ""


@pytest.fixture
def no_matplotlib(monkeypatch):
    """As if matplotlib were not installed, whether it is or not."""
    for name in [name for name in sys.modules if name.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.patches"):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize("command", [["compare", *NAMES], ["sweep", "english.txt"]])
def test_plot_without_matplotlib(work, no_matplotlib, command):
    for picture in ("out.png", "out.svg"):
        assert_error(invoke(*command, "--plot", picture), NO_MATPLOTLIB)
        assert_error(invoke(*command, "--plot", picture, "--csv", "out.csv", "--json"),
                     NO_MATPLOTLIB)
        assert sorted(listing(work)) == sorted(NAMES)
    # Without --plot, everything works.
    table = run(*command)
    assert table.stdout
    printed = run_json(*command, "--csv", "out.csv")
    assert printed
    assert read_csv(work / "out.csv")
    assert sorted(listing(work)) == sorted([*NAMES, "out.csv"])


# -- progress --------------------------------------------------------------------------------


class Terminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class NotTerminal(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_progress_shows_a_bar_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    with _experiments._progress("compare", False) as advance:
        assert callable(advance)
        for done in range(1, 9):
            advance(done, 8)
    shown = sys.stderr.getvalue()
    assert "compare" in shown
    assert "100%" in shown
    assert "#" in shown
    assert shown.endswith("\n")


def test_progress_shows_nothing_when_quiet_or_not_a_terminal(monkeypatch):
    for stream, quiet in ((Terminal(), True), (NotTerminal(), False), (NotTerminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        with _experiments._progress("sweep", quiet) as advance:
            assert advance is None
        assert stream.getvalue() == ""


def test_progress_of_no_work_shows_nothing(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    with _experiments._progress("sweep", False):
        pass
    assert sys.stderr.getvalue() == ""


@pytest.mark.parametrize("command", [["compare", *NAMES], ["sweep", "english.txt"]])
def test_commands_show_progress_only_on_a_terminal(work, monkeypatch, capsys, command):
    """End to end, outside CliRunner: standard error a terminal, standard output not."""
    quiet = run(*command).stdout
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    huffkit.cli.main.main(command, prog_name="huffkit", standalone_mode=False)
    assert capsys.readouterr().out == quiet  # the bar never reaches standard output
    assert command[0] in terminal.getvalue()
    assert "100%" in terminal.getvalue()

    for flag in ("-q", "--quiet"):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        huffkit.cli.main.main([*command, flag], prog_name="huffkit", standalone_mode=False)
        assert capsys.readouterr().out == quiet
        assert terminal.getvalue() == ""


# -- a larger example: the own code is never beaten, on the command line too -----------------


def test_compare_own_code_is_never_beaten_on_random_files(work):
    rng = random.Random(20240611)
    names = []
    for index in range(4):
        alphabet = rng.sample(range(256), rng.randint(1, 12))
        weights = [rng.random() ** 3 for _ in alphabet]
        (work / f"random{index}").write_bytes(bytes(rng.choices(alphabet, weights,
                                                                k=rng.randint(1, 3000))))
        names.append(f"random{index}")
    printed = run_json("compare", *names, "--smooth", "0.1")
    _, _, rows = parse_table(run("compare", *names, "--smooth", "0.1").stdout)
    for i, row in enumerate(printed["cells"]):
        own = row[i]["mean_code_length"]
        assert all(own <= cell["mean_code_length"] for cell in row)
        # The diagonal is marked, unless an earlier column ties with it.
        best = [star for _, star in rows[names[i]]].index(True)
        assert best == i or row[best]["mean_code_length"] == own


def fibonacci_data(symbols: int = 20) -> bytes:
    """Symbol i occurs fib(i) times: an unlimited Huffman code is symbols - 1 bits deep."""
    counts = [1, 1]
    while len(counts) < symbols:
        counts.append(counts[-1] + counts[-2])
    data = bytearray(b"".join(bytes([65 + i]) * count for i, count in enumerate(counts)))
    random.Random(7).shuffle(data)
    return bytes(data)


def test_own_code_is_not_beaten_by_a_codebook_with_longer_codes(work):
    data = fibonacci_data()
    (work / "fib").write_bytes(data)
    deep = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(data),
                                              max_code_length=None)
    assert deep.max_length == 19
    deep.save(work / "deep.json")
    printed = run_json("compare", "fib", "--codebook", "deep.json")
    row = printed["cells"][0]
    assert row[0]["mean_code_length"] <= row[-1]["mean_code_length"]
