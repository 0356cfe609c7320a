"""The experiments library: ``huffkit.compare``, ``huffkit.sweep`` and their pictures.

Every figure of a matrix cell or a sweep point is checked against an independent
computation: counts from ``np.bincount``, cross-entropy and KL divergence with numpy, and
sizes from ``huffkit.compress`` with a codebook built here from the same distribution.
Pictures are read back (PNG with matplotlib, SVG with xml.etree) in tests that skip when
matplotlib is absent; its absence is simulated through ``sys.modules``.
"""

from __future__ import annotations

import io
import json
import math
import sys
import tempfile
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_files, requires_corpora
from hypothesis import given
from hypothesis import strategies as st

import huffkit
import huffkit.corpora
from huffkit.analysis import experiments, plots

#: The bundled corpus, by name: small files of very different kinds.
BUNDLED = {entry.name: Path(entry.path) for entry in huffkit.corpora.manifest()}
#: Four of them, for the tests that need real files but not all of them.
FEW = [BUNDLED[name] for name in ("english.txt", "source.c", "skewed.txt", "dyadic.txt")]

CELL_KEYS = ["mean_code_length", "cross_entropy", "kl_divergence", "entropy",
             "compressed_size", "original_size", "bits_per_byte", "coder"]
POINT_KEYS = ["weight", "kl_divergence", "cross_entropy", "mean_code_length",
              "wasted_bits_per_symbol", "compressed_size", "coder"]

#: About 6.6 KB of text: lowercase letters, digits, space, colon, newline.
TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                for i in range(120))
#: About 6 KB of different text: capitals, punctuation and hex digits TEXT never has.
OTHER = b"".join(b"%d, Pack my box with five dozen liquor jugs! (%x)\n" % (i, 7919 * i)
                 for i in range(120))


# -- independent computations ------------------------------------------------------------


def byte_counts(data: bytes) -> np.ndarray:
    return np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)


def entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def cross_entropy_bits(counts: np.ndarray, q) -> float:
    """H_Q(P) in bits, P from counts, Q from any non-negative weights (inf if Q misses P)."""
    p = counts / counts.sum()
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    present = p > 0
    with np.errstate(divide="ignore"):
        return float(-(p[present] * np.log2(q[present])).sum())


def kl_bits(counts: np.ndarray, q) -> float:
    """D(P||Q) in bits, P from counts, Q from any non-negative weights."""
    p = counts / counts.sum()
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    present = p > 0
    return float((p[present] * np.log2(p[present] / q[present])).sum())


def codebook_for(data: bytes, smoothing: float = 0) -> huffkit.Codebook:
    distribution = huffkit.Distribution.from_bytes(data)
    if smoothing:
        distribution = distribution.smoothed(smoothing)
    return huffkit.Codebook.from_distribution(distribution)


UNIFORM = huffkit.Codebook.from_distribution(huffkit.Distribution.uniform())


def check_cell(cell: experiments.Cell, data: bytes, codebook: huffkit.Codebook, q) -> None:
    """One cell against *data* really compressed with *codebook*, whose model is *q*."""
    counts = byte_counts(data)
    n = len(data)
    assert cell.codable
    assert cell.original_size == n
    assert cell.compressed_size == len(huffkit.compress(data, codebook=codebook))
    assert cell.bits_per_byte == pytest.approx(8 * cell.compressed_size / n, rel=1e-12)
    lengths = codebook.lengths.astype(np.int64)
    assert cell.mean_code_length == pytest.approx(float(counts @ lengths) / n, rel=1e-12)
    assert cell.entropy == pytest.approx(entropy_bits(counts), rel=1e-12, abs=1e-12)
    assert cell.cross_entropy == pytest.approx(cross_entropy_bits(counts, q), rel=1e-9)
    assert cell.kl_divergence == pytest.approx(kl_bits(counts, q), rel=1e-9, abs=1e-9)
    assert cell.kl_divergence == pytest.approx(cell.cross_entropy - cell.entropy, abs=1e-9)


def assert_own_cell_never_beaten(comparison: experiments.Comparison) -> None:
    """On the diagonal, a file's exact distribution: no column codes it in fewer bits."""
    for i, row in enumerate(comparison.cells):
        own = row[i]
        assert own.codable
        assert own.kl_divergence == pytest.approx(0, abs=1e-9)
        for j, cell in enumerate(row):
            if cell.codable:
                assert own.mean_code_length <= cell.mean_code_length, (i, j)
                assert own.cross_entropy <= cell.cross_entropy + 1e-9, (i, j)
        best = comparison.best(i)
        assert row[best].mean_code_length == own.mean_code_length
        assert best <= i  # the first of equals, and nothing after the diagonal beats it


# -- compare: the matrix -------------------------------------------------------------------


def test_compare_rows_and_columns():
    model = codebook_for(TEXT, 1)
    comparison = huffkit.compare(FEW, codebooks=[model, ("mine", model)])
    names = tuple(str(path) for path in FEW)
    assert comparison.rows == names
    assert comparison.columns == (*names, "uniform", "codebook 1", "mine")
    assert comparison.smoothing == experiments.DEFAULT_SMOOTHING == 0.5
    assert len(comparison.cells) == len(FEW)
    assert all(len(row) == len(FEW) + 3 for row in comparison.cells)
    assert all(isinstance(cell, experiments.Cell) for row in comparison.cells for cell in row)

    without = huffkit.compare(FEW[:2], uniform=False)
    assert without.columns == names[:2]


def test_compare_needs_a_file():
    with pytest.raises(ValueError, match="at least one file"):
        huffkit.compare([])


def test_compare_missing_file():
    with pytest.raises(FileNotFoundError):
        huffkit.compare([FEW[0], "/nonexistent/missing.txt"])


@pytest.mark.parametrize("alpha", [0.5, 2, 0.01])
def test_compare_cells_equal_independent_computations(alpha):
    """Every cell is the file really compressed with that column's codebook, accounted for."""
    files = [BUNDLED[name] for name in ("english.txt", "source.c", "korean.txt", "table.bin")]
    data = [path.read_bytes() for path in files]
    trained = codebook_for(TEXT + OTHER, 1)
    # A codebook that carries no distribution: its model is 2^-length.
    bare = huffkit.Codebook.from_lengths(codebook_for(OTHER, 0.25).lengths)
    comparison = huffkit.compare(files, codebooks=[("trained", trained), ("bare", bare)],
                                 smoothing=alpha)
    assert comparison.smoothing == alpha
    for i, row_data in enumerate(data):
        row = comparison.cells[i]
        for j, column_data in enumerate(data):
            if i == j:
                # The diagonal: the file's exact distribution, unsmoothed.
                check_cell(row[j], row_data, codebook_for(row_data), byte_counts(row_data))
            else:
                distribution = huffkit.Distribution.from_bytes(column_data).smoothed(alpha)
                codebook = huffkit.Codebook.from_distribution(distribution)
                check_cell(row[j], row_data, codebook, byte_counts(column_data) + alpha)
        check_cell(row[len(data)], row_data, UNIFORM, np.ones(256))
        assert row[len(data)].cross_entropy == pytest.approx(8, abs=1e-12)
        assert row[len(data)].mean_code_length == 8
        check_cell(row[len(data) + 1], row_data, trained,
                   byte_counts(TEXT + OTHER) + 1)
        check_cell(row[len(data) + 2], row_data, bare, bare.implied_probabilities)
        # Without a distribution, the model is the code's own: H_Q(P) is the code length.
        assert row[len(data) + 2].cross_entropy == pytest.approx(
            row[len(data) + 2].mean_code_length, rel=1e-12)


def test_own_cell_is_never_beaten_on_the_bundled_corpus():
    comparison = huffkit.compare(list(BUNDLED.values()))
    assert len(comparison.rows) == len(BUNDLED) >= 5
    assert_own_cell_never_beaten(comparison)
    # The corpus's extremes, as its manifest describes them.
    names = [Path(name).name for name in comparison.rows]
    dyadic = comparison.cells[names.index("dyadic.txt")][names.index("dyadic.txt")]
    assert dyadic.mean_code_length == pytest.approx(1.875, abs=1e-3)
    assert dyadic.mean_code_length == pytest.approx(dyadic.entropy, abs=1e-3)
    skewed = comparison.cells[names.index("skewed.txt")][names.index("skewed.txt")]
    assert skewed.mean_code_length == 1


@requires_corpora
def test_own_cell_is_never_beaten_on_the_canterbury_corpus():
    canterbury = [path for path in corpus_files() if path.parent.name == "canterbury"]
    if not canterbury:
        pytest.skip("the Canterbury corpus is not present")
    # The small files, and one of the full-sized texts: enough, and fast.
    files = [path for path in canterbury if path.stat().st_size <= 40_000]
    files += [path for path in canterbury if path.name == "alice29.txt"]
    assert len(files) >= 2
    comparison = huffkit.compare(files)
    assert_own_cell_never_beaten(comparison)
    # Smoothed (by the default 0.5), every file's model codes every file.
    assert all(cell.codable for row in comparison.cells for cell in row)


_SYMBOLS = st.sampled_from(b"abcde\x00\xff")


@given(contents=st.lists(st.binary(max_size=120) | st.lists(_SYMBOLS, max_size=200)
                         .map(bytes), min_size=1, max_size=4),
       alpha=st.sampled_from([0, 0.01, 0.5, 1, 3]))
def test_own_cell_is_never_beaten_on_random_files(contents, alpha):
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, data in enumerate(contents):
            path = Path(folder) / f"file{index}"
            path.write_bytes(data)
            paths.append(path)
        comparison = huffkit.compare(paths, smoothing=alpha)
    assert comparison.rows == tuple(str(path) for path in paths)
    assert_own_cell_never_beaten(comparison)
    for i, row_data in enumerate(contents):
        for j, column_data in enumerate(contents):
            cell = comparison.cells[i][j]
            assert cell.original_size == len(row_data)
            # Unsmoothed, a file's model codes exactly the files within its support.
            codable = i == j or alpha > 0 or set(row_data) <= set(column_data)
            assert cell.codable == codable, (i, j)
            if not row_data:
                assert cell.mean_code_length == 0
        assert comparison.cells[i][len(contents)].codable  # uniform codes anything


def test_a_codebook_that_cannot_code_a_file_gives_an_empty_cell(tmp_path):
    (tmp_path / "text.txt").write_bytes(TEXT)
    (tmp_path / "other.txt").write_bytes(OTHER)
    unsmoothed = codebook_for(TEXT)  # no codes for OTHER's capitals and punctuation
    comparison = huffkit.compare([tmp_path / "text.txt", tmp_path / "other.txt"],
                                 codebooks=[("text model", unsmoothed)])
    assert comparison.columns[-1] == "text model"
    coded, uncoded = comparison.cells[0][-1], comparison.cells[1][-1]
    check_cell(coded, TEXT, unsmoothed, byte_counts(TEXT))
    assert not uncoded.codable
    assert uncoded.mean_code_length is None
    assert uncoded.cross_entropy is None
    assert uncoded.kl_divergence is None
    assert uncoded.compressed_size is None
    assert uncoded.bits_per_byte is None
    # What does not depend on the model is still there.
    assert uncoded.entropy == pytest.approx(entropy_bits(byte_counts(OTHER)), rel=1e-12)
    assert uncoded.original_size == len(OTHER)
    # best() passes over it, whatever the key.
    for key in ("mean_code_length", "cross_entropy", "kl_divergence", "bits_per_byte"):
        assert comparison.best(1, key) != len(comparison.columns) - 1
    # JSON has null for it, and no NaN or Infinity anywhere.
    text = json.dumps(comparison.to_dict(), allow_nan=False)
    cell = json.loads(text)["cells"][1][-1]
    assert cell["mean_code_length"] is None
    assert cell["cross_entropy"] is None
    assert cell["kl_divergence"] is None
    assert cell["compressed_size"] is None


def test_compare_unsmoothed_models_code_only_their_support(tmp_path):
    (tmp_path / "text.txt").write_bytes(TEXT)
    (tmp_path / "other.txt").write_bytes(OTHER)
    (tmp_path / "part.txt").write_bytes(TEXT[:500])
    files = [tmp_path / name for name in ("text.txt", "other.txt", "part.txt")]
    comparison = huffkit.compare(files, smoothing=0)
    codable = [[cell.codable for cell in row] for row in comparison.cells]
    assert set(TEXT[:500]) <= set(TEXT)
    assert codable == [[True, False, set(TEXT) <= set(TEXT[:500]), True],
                       [False, True, False, True],
                       [True, False, True, True]]
    # Coded with the unsmoothed model of another file, it is that file's exact P.
    counts = byte_counts(TEXT)
    check_cell(comparison.cells[2][0], TEXT[:500], codebook_for(TEXT), counts)


def test_compare_an_empty_file(tmp_path):
    (tmp_path / "text.txt").write_bytes(TEXT)
    (tmp_path / "empty").write_bytes(b"")
    files = [tmp_path / "text.txt", tmp_path / "empty"]
    smoothed = huffkit.compare(files)
    # Smoothed, the empty file's model is uniform-like and codes the text.
    check_cell(smoothed.cells[0][1], TEXT, codebook_for(b"", 0.5), np.ones(256))
    empty_row = smoothed.cells[1]
    assert all(cell.original_size == 0 and cell.mean_code_length == 0 for cell in empty_row)
    # Unsmoothed, the empty file has no model: its column codes nothing but itself.
    unsmoothed = huffkit.compare(files, smoothing=0)
    assert not unsmoothed.cells[0][1].codable
    assert unsmoothed.cells[1][1].mean_code_length == 0
    assert_own_cell_never_beaten(unsmoothed)


def test_best_is_the_smallest_value_the_first_on_a_tie():
    def cell(value):
        return experiments.Cell(mean_code_length=value, cross_entropy=value,
                                kl_divergence=None if value is None else value - 1,
                                entropy=1.0, compressed_size=None if value is None else 10,
                                original_size=5, bits_per_byte=value)

    comparison = experiments.Comparison(
        rows=("a", "b", "c"), columns=("x", "y", "z"), smoothing=0.5,
        cells=((cell(3.0), cell(2.0), cell(2.5)),
               (cell(None), cell(4.0), cell(4.0)),
               (cell(1.0), cell(None), cell(0.5))))
    assert [comparison.best(i) for i in range(3)] == [1, 1, 2]
    assert comparison.best(2, "kl_divergence") == 2
    assert comparison.best(0, "bits_per_byte") == 1


def test_comparison_to_dict_and_records():
    model = codebook_for(TEXT, 1)
    comparison = huffkit.compare(FEW[:3], codebooks=[("model", model)])
    data = comparison.to_dict()
    assert set(data) == {"rows", "columns", "smoothing", "cells"}
    assert data["rows"] == list(comparison.rows)
    assert data["columns"] == list(comparison.columns)
    assert data["smoothing"] == 0.5
    assert len(data["cells"]) == 3
    for i, row in enumerate(data["cells"]):
        assert len(row) == len(comparison.columns)
        for j, cell in enumerate(row):
            assert list(cell) == CELL_KEYS
            assert cell == {key: getattr(comparison.cells[i][j], key) for key in CELL_KEYS}
    assert json.loads(json.dumps(data, allow_nan=False)) == data

    records = comparison.records()
    assert len(records) == 3 * len(comparison.columns)
    assert all(list(record) == ["row", "column", *CELL_KEYS] for record in records)
    # Row-major: row i, column j is record i * columns + j.
    for i, row in enumerate(comparison.rows):
        for j, column in enumerate(comparison.columns):
            record = records[i * len(comparison.columns) + j]
            assert (record["row"], record["column"]) == (row, column)
            assert record["mean_code_length"] == comparison.cells[i][j].mean_code_length
            assert record["compressed_size"] == comparison.cells[i][j].compressed_size


def test_compare_reports_progress():
    calls = []
    comparison = huffkit.compare(FEW[:3], codebooks=[codebook_for(TEXT, 1)],
                                 progress=lambda done, total: calls.append((done, total)))
    total = len(comparison.rows) * len(comparison.columns)
    assert total == 3 * 5
    assert calls == [(done, total) for done in range(1, total + 1)]


# -- sweep -------------------------------------------------------------------------------


def mixture(counts: np.ndarray, r, weight: float) -> np.ndarray:
    p = counts / counts.sum()
    r = np.asarray(r, dtype=np.float64) / np.sum(r)
    return (1 - weight) * p + weight * r


def check_sweep(result: experiments.Sweep, data: bytes, r, steps: int) -> None:
    """Every point against numpy on *data* and a codebook built here for the mixture."""
    counts = byte_counts(data)
    entropy = entropy_bits(counts)
    assert result.symbols == len(data)
    assert result.entropy == pytest.approx(entropy, rel=1e-12, abs=1e-12)
    assert len(result.points) == steps
    weights = [point.weight for point in result.points]
    assert weights == pytest.approx(np.linspace(0, 1, steps).tolist(), abs=1e-12)
    assert weights[0] == 0 and weights[-1] == 1
    for point in result.points:
        q = mixture(counts, r, point.weight)
        codebook = huffkit.Codebook.from_distribution(huffkit.Distribution(q))
        lengths = codebook.lengths.astype(np.int64)
        assert point.kl_divergence == pytest.approx(kl_bits(counts, q), rel=1e-9, abs=1e-12)
        assert point.cross_entropy == pytest.approx(cross_entropy_bits(counts, q), rel=1e-9)
        assert point.mean_code_length == pytest.approx(float(counts @ lengths) / len(data),
                                                       rel=1e-12)
        assert point.compressed_size == len(huffkit.compress(data, codebook=codebook))
        assert point.wasted_bits_per_symbol == pytest.approx(
            point.mean_code_length - entropy, abs=1e-12)
        # No prefix code beats the entropy (though one built for Q may beat H_Q(P)).
        assert point.wasted_bits_per_symbol >= -1e-12
    kl = [point.kl_divergence for point in result.points]
    assert kl[0] == pytest.approx(0, abs=1e-12)
    assert all(later >= earlier for earlier, later in pairwise(kl))


@pytest.mark.parametrize("name", ["english.txt", "korean.txt", "skewed.txt", "dyadic.txt"])
def test_sweep_toward_uniform(name):
    path = BUNDLED[name]
    data = path.read_bytes()
    result = huffkit.sweep(path)
    assert result.name == str(path)
    assert result.toward == "uniform"
    check_sweep(result, data, np.ones(256), 11)
    kl = [point.kl_divergence for point in result.points]
    # P is not uniform, so the divergence grows strictly with the weight.
    assert all(later > earlier for earlier, later in pairwise(kl))
    last = result.points[-1]
    assert last.mean_code_length == 8
    assert last.cross_entropy == pytest.approx(8, abs=1e-12)
    assert last.kl_divergence == pytest.approx(8 - entropy_bits(byte_counts(data)), abs=1e-9)
    assert last.compressed_size == len(huffkit.compress(data, codebook=UNIFORM))
    # At weight 0 the code is the file's own.
    own = huffkit.compare([path], uniform=False).cells[0][0]
    assert result.points[0].mean_code_length == own.mean_code_length
    assert result.points[0].compressed_size == own.compressed_size


@pytest.mark.parametrize("alpha", [0.5, 3])
def test_sweep_toward_a_file_uses_its_smoothed_distribution(tmp_path, alpha):
    (tmp_path / "other.txt").write_bytes(OTHER)
    result = huffkit.sweep(TEXT, toward=tmp_path / "other.txt", steps=6, smoothing=alpha)
    assert result.name == "data"
    assert result.toward == str(tmp_path / "other.txt")
    check_sweep(result, TEXT, byte_counts(OTHER) + alpha, 6)
    kl = [point.kl_divergence for point in result.points]
    assert all(later > earlier for earlier, later in pairwise(kl))
    # Bytes give the same sweep as the file holding them.
    assert huffkit.sweep(TEXT, toward=OTHER, steps=6, smoothing=alpha).points == result.points


def test_sweep_toward_a_distribution():
    r = huffkit.Distribution.from_bytes(OTHER).smoothed(1)
    result = huffkit.sweep(TEXT, toward=r, steps=4)
    assert result.toward == "a given distribution"
    check_sweep(result, TEXT, r.counts, 4)


def test_sweep_toward_itself_costs_nothing():
    data = bytes(range(256)) * 8  # exactly uniform: P = R
    result = huffkit.sweep(data, steps=5)
    for point in result.points:
        assert point.kl_divergence == pytest.approx(0, abs=1e-12)
        assert point.mean_code_length == 8
        assert point.wasted_bits_per_symbol == pytest.approx(0, abs=1e-12)
    assert len({point.compressed_size for point in result.points}) == 1


def test_sweep_of_a_single_symbol():
    result = huffkit.sweep(b"a" * 1000, steps=3)
    check_sweep(result, b"a" * 1000, np.ones(256), 3)
    assert result.entropy == 0
    assert result.points[0].mean_code_length == 1  # a code needs a bit per symbol
    assert result.points[-1].kl_divergence == pytest.approx(8, abs=1e-12)


def test_sweep_toward_a_model_that_cannot_code_the_file():
    r = huffkit.Distribution.from_bytes(OTHER)  # unsmoothed: no codes for TEXT's bytes
    with pytest.raises(huffkit.CodebookError, match="at weight 1, the model cannot code"):
        huffkit.sweep(TEXT, toward=r, steps=3)


@pytest.mark.parametrize("steps", [1, 0, -3, True, 2.0, "11"])
def test_sweep_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="steps must be an int of at least 2"):
        huffkit.sweep(TEXT, steps=steps)


def test_sweep_two_steps_are_the_ends():
    result = huffkit.sweep(TEXT, steps=2)
    assert [point.weight for point in result.points] == [0, 1]


def test_sweep_of_an_empty_file(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty: cannot sweep an empty file"):
        huffkit.sweep(tmp_path / "empty")
    with pytest.raises(ValueError, match="cannot sweep an empty file"):
        huffkit.sweep(b"")


def test_sweep_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        huffkit.sweep(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        huffkit.sweep(TEXT, toward=tmp_path / "missing")


def test_sweep_reports_progress():
    calls = []
    huffkit.sweep(TEXT, steps=7, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(done, 7) for done in range(1, 8)]


def test_sweep_to_dict_and_records():
    result = huffkit.sweep(TEXT, steps=3)
    data = result.to_dict()
    assert set(data) == {"file", "toward", "entropy", "symbols", "points"}
    assert (data["file"], data["toward"], data["symbols"]) == ("data", "uniform", len(TEXT))
    assert data["entropy"] == result.entropy
    assert data["points"] == result.records()
    assert len(data["points"]) == 3
    for point, record in zip(result.points, result.records(), strict=True):
        assert list(record) == POINT_KEYS
        assert record == {key: getattr(point, key) for key in POINT_KEYS}
    assert json.loads(json.dumps(data, allow_nan=False)) == data


# -- pictures ----------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(source) -> tuple[int, int]:
    """A PNG read back: signature, IHDR, and an image matplotlib decodes; its size."""
    from matplotlib import image

    data = source.read_bytes() if isinstance(source, Path) else source
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 100 and height > 100
    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.ndim == 3 and pixels.shape[:2] == (height, width)
    assert pixels.shape[2] in (3, 4)
    # Not a blank picture.
    assert np.ptp(pixels[..., :3]) > 0
    return width, height


def svg_texts(data: bytes) -> list[str]:
    """The texts of an SVG: its <text> elements, or the comments that name text drawn as
    paths (matplotlib's default, svg.fonttype "path")."""
    root = ET.fromstring(data, parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = ["".join(element.itertext()).strip() for element in root.iter()
             if element.tag == "{http://www.w3.org/2000/svg}text"]
    texts += [element.text.strip() for element in root.iter()
              if element.tag is ET.Comment and element.text]
    return texts


def svg_text_elements(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    return ["".join(element.itertext()).strip()
            for element in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.fixture
def matplotlib():
    return pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def comparison():
    return huffkit.compare(FEW[:3], codebooks=[("text model", codebook_for(TEXT))])


def test_plot_comparison_png(matplotlib, comparison, tmp_path):
    plots.plot_comparison(comparison, tmp_path / "matrix.png")
    check_png(tmp_path / "matrix.png")
    assert [path.name for path in tmp_path.iterdir()] == ["matrix.png"]


def test_plot_comparison_svg_has_labels_and_values(matplotlib, comparison, tmp_path):
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as <text> elements
        plots.plot_comparison(comparison, tmp_path / "matrix.svg")
    texts = svg_text_elements((tmp_path / "matrix.svg").read_bytes())
    assert any("model Q" in text for text in texts)
    assert any("data file" in text for text in texts)
    assert any("mean code length" in text for text in texts)
    for i, row in enumerate(comparison.cells):
        assert Path(comparison.rows[i]).name in texts
        for cell in row:
            expected = "n/a" if cell.mean_code_length is None else f"{cell.mean_code_length:.2f}"
            assert expected in texts
    assert "text model" in texts
    assert texts.count("n/a") == sum(not cell.codable for row in comparison.cells
                                     for cell in row) > 0


def test_plot_comparison_other_keys_and_default_svg(matplotlib, comparison, tmp_path):
    plots.plot_comparison(comparison, tmp_path / "kl.svg", key="kl_divergence")
    texts = svg_texts((tmp_path / "kl.svg").read_bytes())
    assert any("KL divergence" in text for text in texts)
    assert f"{comparison.cells[0][2].kl_divergence:.2f}" in texts
    assert "0.00" in texts  # the diagonal
    with pytest.raises(ValueError, match="key must be one of"):
        plots.plot_comparison(comparison, tmp_path / "bad.png", key="entropy")
    assert not (tmp_path / "bad.png").exists()


def test_plot_sweep_png_and_svg(matplotlib, tmp_path):
    result = huffkit.sweep(BUNDLED["english.txt"], steps=5)
    plots.plot_sweep(result, tmp_path / "sweep.png")
    check_png(tmp_path / "sweep.png")
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        plots.plot_sweep(result, tmp_path / "sweep.svg")
    texts = svg_text_elements((tmp_path / "sweep.svg").read_bytes())
    assert any(text.startswith("D(P || Q_w)") for text in texts)
    assert any(text.startswith("wasted bits per symbol") for text in texts)
    assert "waste = KL (ideal coder)" in texts
    assert "waste = KL + 1" in texts
    assert any("english.txt" in text and "uniform" in text for text in texts)


def test_plots_to_a_file_object(matplotlib, comparison):
    buffer = io.BytesIO()
    plots.plot_comparison(comparison, buffer, format="png")
    check_png(buffer.getvalue())
    buffer = io.BytesIO()
    plots.plot_sweep(huffkit.sweep(TEXT, steps=3), buffer, format="pdf")
    assert buffer.getvalue().startswith(b"%PDF")
    buffer = io.BytesIO()
    plots.plot_sweep(huffkit.sweep(TEXT, steps=3), buffer, format="svg")
    assert "waste = KL + 1" in svg_texts(buffer.getvalue())
    for format in (None, "gif"):
        with pytest.raises(ValueError, match="needs format= one of png, svg, pdf"):
            plots.plot_comparison(comparison, io.BytesIO(), format=format)


def test_check_path():
    assert plots.check_path("a/b/picture.png") == "png"
    assert plots.check_path(Path("picture.SVG")) == "svg"
    assert plots.check_path("picture.pdf") == "pdf"
    with pytest.raises(ValueError, match=r"picture\.gif: a picture's name must end in "
                                         r"\.png, \.svg, \.pdf \(its format\), not '\.gif'"):
        plots.check_path("picture.gif")
    with pytest.raises(ValueError, match="picture: a picture's name must end in"):
        plots.check_path("picture")


def test_check_available(matplotlib):
    assert plots.check_available() is None


@pytest.fixture
def no_matplotlib(monkeypatch):
    """As if matplotlib were not installed, whether it is or not."""
    for name in [name for name in sys.modules if name.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.patches"):
        monkeypatch.setitem(sys.modules, name, None)


def test_plots_without_matplotlib(no_matplotlib, tmp_path):
    assert issubclass(plots.PlottingUnavailable, ImportError)
    message = (r"^drawing pictures needs matplotlib: install it with "
               r"pip install 'huffkit\[plot\]'$")
    with pytest.raises(plots.PlottingUnavailable, match=message):
        plots.check_available()
    comparison = huffkit.compare(FEW[:2])
    with pytest.raises(plots.PlottingUnavailable, match=message):
        plots.plot_comparison(comparison, tmp_path / "matrix.png")
    with pytest.raises(ImportError, match=message):
        plots.plot_sweep(huffkit.sweep(TEXT, steps=3), tmp_path / "sweep.svg")
    assert list(tmp_path.iterdir()) == []
    # Everything else works.
    assert math.isfinite(huffkit.sweep(TEXT, steps=3).points[-1].kl_divergence)
