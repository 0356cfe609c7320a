"""The results in a Jupyter notebook: HTML tables, numpy arrays, and figures to draw into."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import huffkit
from huffkit.analysis import plots
from huffkit.models.measures import entropy

TEXT = (b"It was the best of times, it was the worst of times, it was the age of wisdom, "
        b"it was the age of foolishness, it was the epoch of belief. ") * 20
CODE = b"for (int i = 0; i < n; i++) { total += counts[i] * lengths[i]; }\n" * 30
HOSTILE = "<b>x&y</b>.txt"
ESCAPED = "&lt;b&gt;x&amp;y&lt;/b&gt;.txt"


def parsed(markup: str) -> ET.Element:
    """The HTML as XML: unescaped text (a stray < or &) would not parse."""
    return ET.fromstring(f"<div>{markup}</div>")


def cells(markup: str) -> list[str]:
    """The text of every caption, header and data cell, in order."""
    return ["".join(element.itertext()) for element in parsed(markup).iter()
            if element.tag in ("caption", "th", "td")]


@pytest.fixture
def hostile(tmp_path: Path) -> list[Path]:
    first = tmp_path / HOSTILE  # a folder "<b>x&y<" and a file "b>.txt" in it
    first.parent.mkdir()
    first.write_bytes(TEXT)
    second = tmp_path / "code.c"
    second.write_bytes(CODE)
    return [first, second]


# -- _repr_html_ ----------------------------------------------------------------------


def test_ledger_html_has_the_figures_of_the_text_report():
    ledger = huffkit.analyze(TEXT)
    markup = ledger._repr_html_()
    found = cells(markup)
    assert f"{ledger.bits_file:,}" in found
    assert f"{ledger.compressed_size:,} bytes" in found
    assert f"{ledger.ideal_bits:,.1f}" in found
    assert f"{ledger.wasted_rounding:,.1f}" in found
    assert f"{ledger.wasted_container:,}" in found
    assert f"{ledger.entropy:.4f}" in found
    assert f"{ledger.cross_entropy:.4f}" in found
    assert f"{ledger.mean_code_length:.4f}" in found
    assert "100.00%" in found
    assert f"{ledger.space_saving_rate:.3f}" in found
    caption = found[0]
    assert caption == (f"{len(TEXT):,} symbols ({ledger.distinct_symbols} distinct) in "
                       f"{ledger.compressed_size:,} bytes, coded with Huffman codes; model Q: "
                       f"{ledger.model}")
    assert "'" in ledger.model and "&#x27;" in markup  # the model's words are escaped too


def test_sequential_ledger_html_shows_loss_and_the_reference_lines():
    ledger = huffkit.analyze(TEXT, model="order1")
    found = cells(ledger._repr_html_())
    assert f"{ledger.bits_file:,}" in found
    assert "loss" in found and "+ overhead" in found and "n·Ĥ_1" in found
    assert f"{ledger.loss_bits:,.1f}" in found


def test_ledger_repr_is_short():
    ledger = huffkit.analyze(TEXT, per_symbol=True, blocks=True)
    text = repr(ledger)
    assert text == (f"<Ledger: {len(TEXT):,} symbols ({ledger.distinct_symbols} distinct) in "
                    f"{ledger.compressed_size:,} bytes ({ledger.bits_file:,} bits) by huffman; "
                    f"H(P) = {ledger.entropy:.4f}, H_Q(P) = {ledger.cross_entropy:.4f}, "
                    f"mean code length {ledger.mean_code_length:.4f} bits/symbol>")


def test_empty_ledger_html():
    ledger = huffkit.analyze(b"")
    assert f"all {ledger.bits_file:,} bits are container" in cells(ledger._repr_html_())


def test_comparison_html_escapes_file_names_and_marks_the_best(hostile):
    comparison = huffkit.compare(hostile)
    markup = comparison._repr_html_()
    assert ESCAPED in markup
    assert HOSTILE not in markup
    found = cells(markup)
    assert found.count(str(hostile[0])) == 2  # its row and its column
    for i, row in enumerate(comparison.cells):
        best = comparison.best(i)
        assert f"<strong>{row[best].mean_code_length:.3f}</strong>" in markup
        for cell in row:
            assert f"{cell.mean_code_length:.3f}" in found
        assert f"{row[0].entropy:.3f}" in found
    assert repr(comparison) == "<Comparison of 2 files by 3 models, smoothing 0.5>"


def test_comparison_html_shows_n_a_for_a_model_that_cannot_code(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"aaaa")
    (tmp_path / "b.txt").write_bytes(b"bbbb")
    comparison = huffkit.compare([tmp_path / "a.txt", tmp_path / "b.txt"], smoothing=0,
                                 uniform=False)
    assert cells(comparison._repr_html_()).count("n/a") == 2


def test_sweep_html(hostile):
    result = huffkit.sweep(hostile[0], steps=3)
    markup = result._repr_html_()
    assert ESCAPED in markup and HOSTILE not in markup
    found = cells(markup)
    for point in result.points:
        assert f"{point.kl_divergence:.4f}" in found
        assert f"{point.compressed_size:,}" in found
    assert repr(result) == (f"<Sweep of {hostile[0]} toward uniform: 3 points (huffman), "
                            f"H(P) = {result.entropy:.4f} bits/symbol>")


def test_ladder_html():
    result = huffkit.analysis.ladder.ladder(TEXT, name=HOSTILE, rungs=["order0-huffman",
                                                                       "order1"])
    markup = result._repr_html_()
    assert ESCAPED in markup and HOSTILE not in markup
    found = cells(markup)
    best = min(result.rungs, key=lambda rung: rung.bits_per_byte)
    assert f"<strong>{best.bits_per_byte:.3f}</strong>" in markup
    for rung in result.rungs:
        assert f"{rung.compressed_size:,}" in found
        assert f"{rung.bits_per_byte:.3f}" in found
    assert repr(result).startswith(f"<Ladder of {HOSTILE}: {len(result.rungs)} rungs over "
                                   f"{len(TEXT):,} bytes, best {best.name} at ")


def test_learning_curve_html():
    curve = huffkit.analyze(TEXT, model="adaptive1", curve=10).curve
    found = cells(curve._repr_html_())
    assert "10" in found and f"{len(TEXT):,}" in found
    assert f"{curve.running[-1]:.3f} bits/byte" in found
    assert f"{curve.entropy:.3f} bits/byte" in found
    assert repr(curve) == (f"<LearningCurve of {curve.model}: 10 windows over {len(TEXT):,} "
                           f"bytes, {curve.running[-1]:.3f} bits per byte in all, "
                           f"H(P) = {curve.entropy:.3f}>")


def test_codebook_html():
    distribution = huffkit.Distribution.from_probabilities([1 / 2, 1 / 4, 1 / 8, 1 / 8])
    codebook = huffkit.Codebook.from_distribution(distribution)
    found = cells(codebook._repr_html_())
    assert found[0] == f"Codebook {codebook.identifier}"
    assert "1.7500 bits/symbol" in found
    # the length histogram: one code of 1 bit, one of 2, two of 3
    assert found[-6:] == ["1", "1", "2", "1", "3", "2"]
    bare = huffkit.Codebook.from_lengths(np.array([1, 2, 2]))
    assert "none (lengths only)" in cells(bare._repr_html_())


def test_distribution_html():
    distribution = huffkit.Distribution.from_bytes(b"abracadabra")
    found = cells(distribution._repr_html_())
    assert "11" in found  # the total
    assert "5" in found  # symbols present
    assert f"{entropy(distribution):.4f} bits/symbol" in found
    # the likeliest first: a (5), b (2), r (2), c (1), d (1)
    top = found[found.index("probability") + 1:]
    assert top[:3] == [str(ord("a")), "5", f"{5 / 11:.6f}"]
    assert top[3::3] == [str(ord(c)) for c in "brcd"]
    weights = huffkit.Distribution.from_counts([0.25, 0.5])
    assert "0.75" in cells(weights._repr_html_())
    empty = huffkit.Distribution.from_counts([0, 0])
    assert parsed(empty._repr_html_()).findall("table")[-1].find("caption").text == (
        "Distribution of 2 symbols")


# -- numpy ----------------------------------------------------------------------------


def test_asarray_gives_the_probabilities():
    distribution = huffkit.Distribution.from_counts([3, 1, 0, 4])
    array = np.asarray(distribution)
    assert array.dtype == np.float64
    assert array.tolist() == [3 / 8, 1 / 8, 0.0, 4 / 8]
    assert not array.flags.writeable  # a view of the immutable distribution, not a copy
    assert np.shares_memory(array, distribution.probabilities)
    copied = np.array(distribution)
    assert copied.flags.writeable and not np.shares_memory(copied, distribution.probabilities)
    assert np.asarray(distribution, dtype=np.float32).tolist() == [0.375, 0.125, 0.0, 0.5]
    assert np.sum(distribution) == 1.0
    assert float(np.dot(distribution, [1, 3, 9, 1])) == 1.25


def test_a_distribution_of_a_distribution_keeps_its_counts():
    counted = huffkit.Distribution.from_bytes(b"abracadabra")
    again = huffkit.Distribution.from_counts(counted)
    assert again == counted and again.total == 11 and again.counts.dtype == np.int64
    assert huffkit.Distribution.from_probabilities(counted) == huffkit.Distribution(
        counted.probabilities)


def test_asarray_copy_false_refuses_a_conversion():
    distribution = huffkit.Distribution.from_counts([1, 1])
    assert distribution.__array__(copy=False) is distribution.probabilities
    with pytest.raises(ValueError, match=r"^the probabilities are float64: converting them to "
                                         r"float32 needs a copy, and copy=False forbids one$"):
        distribution.__array__(np.float32, copy=False)
    fresh = distribution.__array__(copy=True)
    assert fresh.flags.writeable and fresh.tolist() == [0.5, 0.5]


def test_a_stack_of_distributions_is_a_2d_array_for_the_measures():
    distributions = [huffkit.Distribution.from_bytes(data) for data in (TEXT, CODE)]
    stacked = np.asarray(distributions)
    assert stacked.shape == (2, 256)
    assert entropy(stacked, axis=1).tolist() == pytest.approx(
        [entropy(d) for d in distributions], rel=1e-12)


# -- plots ----------------------------------------------------------------------------


@pytest.fixture
def figure_class():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    return Figure


def drawings(hostile):
    """Each plot function with a result to draw."""
    return [
        (plots.plot_comparison, huffkit.compare(hostile), ("images", "patches")),
        (plots.plot_sweep, huffkit.sweep(TEXT, steps=3), ("lines",)),
        (plots.plot_learning_curve, huffkit.analyze(TEXT, model="adaptive1", curve=8).curve,
         ("lines", "patches")),
        (plots.plot_ladder, huffkit.analysis.ladder.ladder(TEXT, rungs=["order0-huffman"],
                                                           references=False), ("patches",)),
    ]


def test_plots_return_a_figure_and_write_nothing_without_a_path(figure_class, hostile,
                                                                   tmp_path):
    import matplotlib.pyplot as plt

    before = sorted(tmp_path.rglob("*"))
    open_before = plt.get_fignums()
    for plot, result, kinds in drawings(hostile):
        figure = plot(result)
        assert type(figure) is figure_class
        axes = figure.axes[0]
        for kind in kinds:
            assert getattr(axes, kind), (plot.__name__, kind)
    assert plt.get_fignums() == open_before  # no figure left in pyplot's registry
    assert sorted(tmp_path.rglob("*")) == before


def test_plots_draw_into_the_axes_given(figure_class, hostile, tmp_path):
    before = sorted(tmp_path.rglob("*"))
    for plot, result, kinds in drawings(hostile):
        figure = figure_class()
        ax = figure.add_subplot()
        returned = plot(result, ax=ax)
        assert returned is ax.figure is figure
        for kind in kinds:
            assert getattr(ax, kind), (plot.__name__, kind)
        assert ax.get_title()
    assert sorted(tmp_path.rglob("*")) == before


def test_plots_draw_into_a_subfigure_and_return_the_whole_figure(figure_class):
    figure = figure_class()
    _, right = figure.subfigures(1, 2)
    ax = right.add_subplot()
    assert plots.plot_sweep(huffkit.sweep(TEXT, steps=3), ax=ax) is figure
    assert ax.lines


def test_plots_write_a_file_when_a_path_is_given(figure_class, hostile, tmp_path):
    for index, (plot, result, _) in enumerate(drawings(hostile)):
        path = tmp_path / f"picture{index}.png"
        figure = plot(result, path)
        assert type(figure) is figure_class
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        # with the caller's axes, the caller's whole figure is written
        ax = figure_class(figsize=(3, 2)).add_subplot()
        svg = tmp_path / f"into{index}.svg"
        assert plot(result, svg, ax=ax) is ax.figure
        assert svg.read_bytes().lstrip().startswith(b"<?xml")


def test_a_plot_refuses_axes_outside_a_figure(figure_class):
    class Detached:  # stands in for axes that were never added to a figure
        figure = None

    with pytest.raises(ValueError, match=r"^ax must be the axes of a matplotlib figure$"):
        plots.plot_sweep(huffkit.sweep(TEXT, steps=3), ax=Detached())


def test_plot_comparison_checks_its_key_before_drawing(figure_class, hostile, tmp_path):
    figure = figure_class()
    ax = figure.add_subplot()
    with pytest.raises(ValueError, match="key must be one of"):
        plots.plot_comparison(huffkit.compare(hostile), tmp_path / "bad.png", key="entropy",
                              ax=ax)
    assert not ax.images and not (tmp_path / "bad.png").exists()
