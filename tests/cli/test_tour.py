"""`huffkit tour`: it runs, quickly, and what it prints is what the library computes."""

from __future__ import annotations

import math
import re
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import huffkit
import huffkit.cli
import huffkit.corpora


def run_tour(*args: str) -> tuple[str, float]:
    start = time.perf_counter()
    result = CliRunner().invoke(huffkit.cli.main, ["tour", *args], catch_exceptions=False)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    return result.output, elapsed


@pytest.fixture
def pictures(tmp_path):
    return str(tmp_path / "pictures")


def test_the_tour_shows_the_worked_examples(pictures):
    output, elapsed = run_tour("--pictures", pictures)
    assert elapsed < 60
    for line in [
        "P = (1/2, 1/4, 1/8, 1/8): H(P) = 1.75 bits; its Huffman code has lengths (1, 2, 3, 3),",
        "A fair coin: H = ln 2 = 0.693 nats = 1 bit.  A fair die: H = ln 6 = 1.792 nats.",
        "H(0.6, 0.4) = 0.971 bits.",
        "  H(p) = 0.639 nats, cross-entropy H_q(p) = 1.500 nats, KL D(p||q) = 0.861 nats",
        "Binary cross-entropy of the label 1 against predictions 0.6, 0.9, 0.3: "
        "0.737, 0.152, 1.737 bits.",
    ]:
        assert line in output.splitlines()
    assert "mean length 1.75 bits" in output


def test_the_tour_lists_every_bundled_file_with_its_real_size(pictures):
    output, _ = run_tour("--pictures", pictures)
    for entry in huffkit.corpora.manifest():
        data = entry.path.read_bytes()
        ledger = huffkit.analyze(data)
        row = re.search(rf"^{re.escape(entry.name)} +([\d,]+) +([\d.]+) +([\d.]+) +([\d.]+) "
                        rf"+([\d.]+) +([\d,]+)$", output, re.MULTILINE)
        assert row, entry.name
        assert int(row[1].replace(",", "")) == len(data)
        assert float(row[2]) == round(ledger.entropy, 3)
        assert float(row[4]) == round(huffkit.analyze(data, coder="ans").mean_code_length, 3)
        assert int(row[6].replace(",", "")) == len(huffkit.compress(data))
    korean = huffkit.corpora.path("korean.txt").read_bytes()
    assert (f"{len(huffkit.compress(korean)):,} -> "
            f"{len(huffkit.compress(korean, alphabet='utf8')):,} bytes.") in output


def test_the_tour_accounts_for_the_mismatch(pictures):
    output, _ = run_tour("--pictures", pictures)
    english = huffkit.corpora.path("english.txt").read_bytes()
    q = huffkit.Distribution.from_files([huffkit.corpora.path("source.c")]).smoothed(0.5)
    codebook = huffkit.Codebook.from_distribution(q)
    own = huffkit.inspect(huffkit.compress(english))
    mismatched = huffkit.inspect(huffkit.compress(english, codebook=codebook), codebook=codebook)
    extra = mismatched.bits_payload - own.bits_payload
    assert f"Coding with Q instead of P costs {extra:,} more payload bits" in output
    kl_bits = len(english) * huffkit.kl_divergence(huffkit.Distribution.from_bytes(english), q)
    assert f"= {kl_bits:,.1f} bits more." in output
    # The identity the tour spells out holds: n·D + change in rounding = extra payload bits.
    change = mismatched.wasted_rounding - own.wasted_rounding
    assert math.isclose(kl_bits + change, extra, rel_tol=1e-9)
    assert f"= {extra:,.1f}: every extra bit is accounted for." in output


def test_the_tour_shows_the_matrix_and_the_sweep(pictures):
    output, _ = run_tour("--pictures", pictures)
    result = huffkit.compare([entry.path for entry in huffkit.corpora.manifest()])
    matrix = output[output.index("4. Every bundled file"):].splitlines()
    for i, entry in enumerate(huffkit.corpora.manifest()):
        cells = [f"{cell.mean_code_length:.3f}" for cell in result.cells[i]]
        line = next(line for line in matrix if line.startswith(entry.name + " "))
        assert line.split() == [entry.name, *(value + ("*" if j == result.best(i) else "")
                                              for j, value in enumerate(cells))]
    drift = huffkit.sweep(huffkit.corpora.path("english.txt"), steps=6,
                          coders=("huffman", "ans"))
    huffman = [point for point in drift.points if point.coder == "huffman"]
    rans = [point for point in drift.points if point.coder == "ans"]
    for by_huffman, by_rans in zip(huffman, rans, strict=True):
        assert (f"{by_huffman.weight:>8.1f} {by_huffman.kl_divergence:>10.4f} "
                f"{by_huffman.wasted_bits_per_symbol:>8.4f} "
                f"{by_rans.wasted_bits_per_symbol:>8.4f}") in output.splitlines()
        assert abs(by_rans.wasted_bits_per_symbol - by_rans.kl_divergence) < 0.01


def test_the_tour_draws_its_pictures_where_it_says(pictures):
    pytest.importorskip("matplotlib")
    output, _ = run_tour("--pictures", pictures)
    assert f"The pictures are in {pictures}" in output
    for name in ("compare.png", "sweep.png"):
        picture = Path(pictures) / name
        assert f"picture: {picture}" in output
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_the_tour_says_how_to_get_pictures(pictures, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    output, _ = run_tour("--pictures", pictures)
    assert ("(Pictures need matplotlib: pip install 'huffkit[plot]', then run the tour "
            "again.)") in output
    assert "The pictures are in" not in output
    assert not Path(pictures).exists()
