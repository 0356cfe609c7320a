"""Pictures of the experiments: a heatmap of a comparison, the waste of a sweep.

matplotlib is an optional dependency (``pip install 'huffkit[plot]'``); it is
imported only when a picture is drawn, and its absence is a clear
:class:`PlottingUnavailable` error.  The figures use matplotlib's
object-oriented API without pyplot, so they need no display and leave no
global state behind.  The file format follows the path's suffix (.png, .svg,
.pdf).
"""

from __future__ import annotations

import math
import os

import numpy as np

from .curve import LearningCurve
from .experiments import Comparison, Sweep
from .ladder import Ladder

__all__ = ["FORMATS", "PlottingUnavailable", "check_available", "check_path", "plot_comparison",
           "plot_ladder", "plot_learning_curve", "plot_sweep"]

#: The suffixes a picture may have.
FORMATS = (".png", ".svg", ".pdf")

_LABELS = {
    "mean_code_length": "mean code length (bits/symbol)",
    "cross_entropy": "cross-entropy H_Q(P) (bits/symbol)",
    "kl_divergence": "KL divergence D(P||Q) (bits/symbol)",
    "bits_per_byte": "compressed file (bits/byte)",
}


class PlottingUnavailable(ImportError):
    """matplotlib is not installed."""


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlottingUnavailable("drawing pictures needs matplotlib: install it with "
                                  "pip install 'huffkit[plot]'") from None
    return Figure


def check_available() -> None:
    """Raise :class:`PlottingUnavailable` now, rather than after the work, if need be."""
    _figure_class()


def check_path(path: str | os.PathLike) -> str:
    """The picture format a path's suffix names ("png", ...), or ValueError."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        found = f"not {suffix!r}" if suffix else "and it has no suffix"
        raise ValueError(f"{os.fspath(path)}: a picture's name must end in "
                         f"{', '.join(FORMATS)} (its format), {found}")
    return suffix[1:]


def _save(figure, target, format: str | None) -> None:
    """Save to a path (format from its suffix) or to a binary file object (*format* given)."""
    if isinstance(target, (str, os.PathLike)):
        format = check_path(target)
    elif format is None or "." + format not in FORMATS:
        raise ValueError(f"writing a picture to a file object needs format= one of "
                         f"{', '.join(f[1:] for f in FORMATS)}")
    figure.savefig(target, format=format)


def _short(name: str) -> str:
    return os.path.basename(name) or name


def plot_comparison(comparison: Comparison, target, /, *, key: str = "mean_code_length",
                    format: str | None = None) -> None:
    """Write a heatmap of *comparison*: rows are data files, columns models, cells *key*.

    Each cell shows its value; the best cell of each row is outlined.
    *target* is a path (its suffix names the format) or a binary file object
    (then give *format*: "png", "svg" or "pdf").
    """
    if key not in _LABELS:
        raise ValueError(f"key must be one of {', '.join(_LABELS)}, not {key!r}")
    figure_class = _figure_class()
    from matplotlib.patches import Rectangle

    values = np.array([[math.nan if getattr(cell, key) is None else getattr(cell, key)
                        for cell in row] for row in comparison.cells], dtype=float)
    rows, columns = values.shape
    figure = figure_class(figsize=(1.2 + 0.95 * columns, 1.4 + 0.55 * rows),
                          layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(values), cmap="viridis_r", aspect="auto")
    figure.colorbar(image, ax=axes, label=_LABELS[key])
    axes.set_xticks(range(columns), [_short(name) for name in comparison.columns],
                    rotation=35, ha="right")
    axes.set_yticks(range(rows), [_short(name) for name in comparison.rows])
    axes.set_xlabel("model Q: the codebook's distribution")
    axes.set_ylabel("data file (its own distribution P)")
    axes.set_title(f"Each file coded with each model: {_LABELS[key]}")
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(rows):
        best = comparison.best(i, key)
        for j in range(columns):
            value = values[i, j]
            text = "n/a" if math.isnan(value) else f"{value:.2f}"
            colour = "black" if math.isnan(value) or value < middle else "white"
            axes.text(j, i, text, ha="center", va="center", fontsize=8, color=colour,
                      fontweight="bold" if j == best else "normal")
        axes.add_patch(Rectangle((best - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red",
                                 linewidth=2))
    _save(figure, target, format)


def plot_sweep(result: Sweep, target, /, *,
               format: str | None = None) -> None:
    """Write the sweep's picture: wasted bits per symbol against D(P||Q_w).

    The lines waste = KL (an ideal coder's waste) and waste = KL + 1 (the
    bound a code with whole-bit lengths built for Q can be held to) frame
    the measured points, one series per coder in the sweep.  *target* is as
    for :func:`plot_comparison`.
    """
    figure_class = _figure_class()
    figure = figure_class(figsize=(7, 5), layout="constrained")
    axes = figure.add_subplot()
    kl_all = np.array([point.kl_divergence for point in result.points])
    line = np.linspace(0, max(kl_all.max(), 1e-9) * 1.05, 100)
    axes.plot(line, line, color="grey", linestyle="--", label="waste = KL (ideal coder)")
    axes.plot(line, line + 1, color="grey", linestyle=":", label="waste = KL + 1")
    for coder, style in (("huffman", dict(marker="o", color="tab:blue",
                                          label="Huffman code for Q_w (measured)")),
                         ("ans", dict(marker="s", color="tab:orange", markersize=4,
                                      label="rANS with Q_w (measured)"))):
        points = [point for point in result.points if point.coder == coder]
        if not points:
            continue
        axes.plot([point.kl_divergence for point in points],
                  [point.wasted_bits_per_symbol for point in points], **style)
        if coder == "huffman" or len({p.coder for p in result.points}) == 1:
            for point in (points[0], points[len(points) // 2], points[-1]):
                axes.annotate(f"w = {point.weight:g}",
                              (point.kl_divergence, point.wasted_bits_per_symbol),
                              textcoords="offset points", xytext=(6, -12), fontsize=8)
    axes.set_xlabel("D(P || Q_w), bits per symbol")
    axes.set_ylabel("wasted bits per symbol (mean code length - H(P))")
    axes.set_title(f"{_short(result.name)}: Q_w = (1 - w) P + w R, R = {_short(result.toward)}")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    _save(figure, target, format)


def plot_learning_curve(curve: LearningCurve, target, /, *, name: str | None = None,
                        format: str | None = None) -> None:
    """Write the learning curve's picture: the bits each stretch of the file cost its model,
    and the running loss, against the position in the file, beside the order-0 entropy.
    *target* is as for :func:`plot_comparison`."""
    figure_class = _figure_class()
    figure = figure_class(figsize=(8, 4.5), layout="constrained")
    axes = figure.add_subplot()
    starts = np.concatenate(([0], curve.ends[:-1]))
    axes.stairs(curve.bits_per_byte, np.concatenate((starts, curve.ends[-1:])),
                color="tab:blue", alpha=0.6, label="bits per byte in each stretch")
    axes.plot(curve.ends, curve.running, color="tab:red",
              label="running loss: bits per byte so far")
    axes.axhline(curve.entropy, color="grey", linestyle="--",
                 label=f"order-0 entropy H(P) = {curve.entropy:.3f}")
    axes.set_xlabel("position in the file (bytes)")
    axes.set_ylabel("bits per byte")
    axes.set_ylim(0, max(8.0, float(curve.bits_per_byte.max(initial=0)) * 1.05))
    axes.set_xlim(0, max(int(curve.ends[-1]), 1))
    title = curve.model if name is None else f"{_short(name)}, {curve.model}"
    axes.set_title(f"{title}: the learning curve, {curve.running[-1]:.3f} bits per byte "
                   "in all")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    _save(figure, target, format)


def plot_ladder(result: Ladder, target, /, *, format: str | None = None) -> None:
    """Write the ladder's picture: a bar per rung, its bits per byte, top to bottom, with
    the standard library's compressors in grey.  *target* is as for
    :func:`plot_comparison`."""
    figure_class = _figure_class()
    rungs = result.rungs
    figure = figure_class(figsize=(7, 0.9 + 0.42 * len(rungs)), layout="constrained")
    axes = figure.add_subplot()
    places = np.arange(len(rungs))[::-1]
    values = [rung.bits_per_byte for rung in rungs]
    colours = ["tab:grey" if rung.reference else "tab:blue" for rung in rungs]
    axes.barh(places, values, color=colours)
    for place, value in zip(places, values, strict=True):
        axes.annotate(f"{value:.3f}", (value, place), textcoords="offset points",
                      xytext=(4, -4), fontsize=8)
    axes.set_yticks(places, [rung.name for rung in rungs])
    axes.set_xlabel("bits per byte (grey: gzip, bzip2, xz)")
    axes.set_xlim(0, max(values, default=8) * 1.15)
    axes.set_title(f"{_short(result.name)}: the ladder ({result.original_size:,} bytes)")
    axes.grid(axis="x", alpha=0.3)
    _save(figure, target, format)
