"""Pictures of the experiments: a heatmap of a comparison, the waste of a sweep.

matplotlib is an optional dependency (``pip install 'huffkit[plot]'``); it is
imported only when a picture is drawn, and its absence is a clear
:class:`PlottingUnavailable` error.

Every ``plot_*`` function returns the matplotlib ``Figure`` it drew, as a
notebook expects (a Jupyter cell shows it).  Without ``ax=`` it makes a new
``Figure`` with matplotlib's object-oriented API, not pyplot, so it needs no
display and leaves nothing in pyplot's list of open figures; with ``ax=`` (an
``Axes`` of the caller's figure, from ``plt.subplots()`` say) it draws into
those axes and returns the figure they belong to.  A *target* (a path, whose
suffix names the format: .png, .svg, .pdf; or a binary file object with
``format=``) writes the picture there too; without one nothing is written.
Nothing here calls ``pyplot.show``.
"""

from __future__ import annotations

import math
import os
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .curve import LearningCurve
from .experiments import Comparison, Sweep
from .labels import short_names
from .ladder import Ladder

if TYPE_CHECKING:  # matplotlib is optional: imported only when a picture is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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


#: Where a picture may be written: a path, or a binary file object (then give format=).
Target = str | os.PathLike[str] | IO[bytes]


class PlottingUnavailable(ImportError):
    """matplotlib is not installed."""


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlottingUnavailable("drawing pictures needs matplotlib: install it with "
                                  "pip install 'huffkit[plot]'") from None
    return Figure


def check_available() -> None:
    """Raise :class:`PlottingUnavailable` now, rather than after the work, if need be."""
    _figure_class()


def check_path(path: str | os.PathLike[str]) -> str:
    """The picture format a path's suffix names ("png", ...), or ValueError."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        found = f"not {suffix!r}" if suffix else "and it has no suffix"
        raise ValueError(f"{os.fspath(path)}: a picture's name must end in "
                         f"{', '.join(FORMATS)} (its format), {found}")
    return suffix[1:]


def _canvas(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure and axes to draw in: *ax* and its figure, or a new figure of *figsize*
    (not pyplot's: nothing is left in its registry) with one axes."""
    figure_class = _figure_class()
    if ax is not None:
        # The axes of a subfigure belong to the whole (root) figure: that is the picture.
        parent = ax.figure
        root = None if parent is None else parent.figure
        if not isinstance(root, figure_class):
            raise ValueError("ax must be the axes of a matplotlib figure")
        return root, ax
    figure = figure_class(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def _finish(figure: Figure, target: Target | None, format: str | None) -> Figure:
    """Write *figure* to *target* if there is one, and return it."""
    if target is not None:
        _save(figure, target, format)
    return figure


def _save(figure: Figure, target: Target, format: str | None) -> None:
    """Save to a path (format from its suffix) or to a binary file object (*format* given)."""
    if isinstance(target, (str, os.PathLike)):
        format = check_path(target)
    elif format is None or "." + format not in FORMATS:
        raise ValueError(f"writing a picture to a file object needs format= one of "
                         f"{', '.join(f[1:] for f in FORMATS)}")
    figure.savefig(target, format=format)


def _short(name: str) -> str:
    return os.path.basename(name) or name


def plot_comparison(comparison: Comparison, target: Target | None = None, /, *,
                    key: str = "mean_code_length", format: str | None = None,
                    ax: Axes | None = None) -> Figure:
    """Draw a heatmap of *comparison*: rows are data files, columns models, cells *key*.

    Each cell shows its value; the best cell of each row is outlined.  Returns
    the figure.  *ax*: draw into these axes (the colour bar takes room beside
    them) rather than a new figure.  *target*, if given, is where to write the
    picture: a path (its suffix names the format) or a binary file object
    (then give *format*: "png", "svg" or "pdf").
    """
    if key not in _LABELS:
        raise ValueError(f"key must be one of {', '.join(_LABELS)}, not {key!r}")
    _figure_class()  # PlottingUnavailable, not a bare ImportError, without matplotlib
    from matplotlib.patches import Rectangle

    values = np.array([[math.nan if getattr(cell, key) is None else getattr(cell, key)
                        for cell in row] for row in comparison.cells], dtype=float)
    rows, columns = values.shape
    figure, axes = _canvas(ax, (1.2 + 0.95 * columns, 1.4 + 0.55 * rows))
    image = axes.imshow(np.ma.masked_invalid(values), cmap="viridis_r", aspect="auto")
    figure.colorbar(image, ax=axes, label=_LABELS[key])
    # Labelled together, so that a/x.txt and b/x.txt are told apart, the same way on both axes.
    labels = short_names([*comparison.rows, *comparison.columns])
    axes.set_xticks(range(columns), labels[rows:], rotation=35, ha="right")
    axes.set_yticks(range(rows), labels[:rows])
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
    return _finish(figure, target, format)


def plot_sweep(result: Sweep, target: Target | None = None, /, *,
               format: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw the sweep's picture: wasted bits per symbol against D(P||Q_w).

    The lines waste = KL (an ideal coder's waste) and waste = KL + 1 (the
    bound a code with whole-bit lengths built for Q can be held to) frame
    the measured points, one series per coder in the sweep.  Returns the
    figure; *ax* and *target* are as for :func:`plot_comparison`.
    """
    figure, axes = _canvas(ax, (7, 5))
    kl_all = np.array([point.kl_divergence for point in result.points])
    line = np.linspace(0, max(kl_all.max(), 1e-9) * 1.05, 100)
    axes.plot(line, line, color="grey", linestyle="--", label="waste = KL (ideal coder)")
    axes.plot(line, line + 1, color="grey", linestyle=":", label="waste = KL + 1")
    styles: tuple[tuple[str, dict[str, Any]], ...] = (
        ("huffman", dict(marker="o", color="tab:blue", label="Huffman code for Q_w (measured)")),
        ("ans", dict(marker="s", color="tab:orange", markersize=4,
                     label="rANS with Q_w (measured)")))
    for coder, style in styles:
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
    return _finish(figure, target, format)


def plot_learning_curve(curve: LearningCurve, target: Target | None = None, /, *,
                        name: str | None = None, format: str | None = None,
                        ax: Axes | None = None) -> Figure:
    """Draw the learning curve's picture: the bits each stretch of the file cost its model,
    and the running loss, against the position in the file, beside the order-0 entropy.
    Returns the figure; *ax* and *target* are as for :func:`plot_comparison`."""
    figure, axes = _canvas(ax, (8, 4.5))
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
    return _finish(figure, target, format)


def plot_ladder(result: Ladder, target: Target | None = None, /, *,
                format: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw the ladder's picture: a bar per rung, its bits per byte, top to bottom, with
    the standard library's compressors in grey.  Returns the figure; *ax* and *target*
    are as for :func:`plot_comparison`."""
    rungs = result.rungs
    figure, axes = _canvas(ax, (7, 0.9 + 0.42 * len(rungs)))
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
    return _finish(figure, target, format)
