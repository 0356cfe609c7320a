"""``huffkit compare`` and ``huffkit sweep``: the experiments, as tables, files and pictures.

The work is done by :mod:`huffkit.analysis.experiments`; this module reads options, shows progress,
and writes what was asked for: a table on the terminal, JSON on standard output, a CSV
file, a picture.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

import huffkit
from huffkit.analysis import experiments, plots
from huffkit.analysis.labels import short_names
from huffkit.analysis.ladder import Ladder

from ._dask import dask_option, executor_for
from ._files import NamedStream, atomic_output
from ._group import _CONTEXT, CliError, _describe, main
from ._main import CODERS, alphabet_option, load_codebook

_METRICS = ("mean_code_length", "cross_entropy", "kl_divergence", "bits_per_byte")

#: The table's title for each metric: what it is and its unit, each said once.
_TITLES = {"mean_code_length": "mean code length, bits per symbol",
           "cross_entropy": "cross entropy, bits per symbol",
           "kl_divergence": "kl divergence, bits per symbol",
           "bits_per_byte": "bits per byte of the whole compressed file"}

#: Why compare's sizes are not compress's (see compare's docstring).
_SIZES_NOTE = ("Sizes are those of compress --codebook, which stores one code table in the "
               "frame; plain\ncompress stores each block's own, more compact table, so its "
               "files are slightly smaller.")


@contextlib.contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on standard error when it is a terminal (and not --quiet)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bar = None
    shown = 0

    def advance(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - shown)
        shown = done

    try:
        yield advance
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _output_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--json, --csv, --plot, --quiet and -f, shared by both experiments."""
    for decorator in reversed([
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
        click.option("--csv", "csv_path", type=click.Path(dir_okay=False, allow_dash=True),
                     metavar="PATH",
                     help="Also write the figures as CSV, one line per measurement (- for "
                          "standard output, instead of the table)."),
        click.option("--plot", "plot_path", type=click.Path(dir_okay=False), metavar="PATH",
                     help="Also draw a picture (.png, .svg or .pdf); needs matplotlib "
                          "(pip install 'huffkit[plot]')."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
        click.option("-f", "--force", is_flag=True, help="Overwrite the --csv and --plot files."),
    ]):
        function = decorator(function)
    return function


def _check_outputs(csv_path: str | None, plot_path: str | None, force: bool,
                   inputs: Sequence[str], as_json: bool = False) -> None:
    """Refuse early what would fail late, or destroy something: an existing file, an
    input, one file for two outputs, two outputs mixed on standard output, a bad suffix,
    no matplotlib."""
    if csv_path == "-":
        if as_json:
            raise click.UsageError("--json and --csv - both write to standard output; "
                                   "choose one")
        csv_path = None  # standard output: no file to check
    outputs = [path for path in (csv_path, plot_path) if path is not None]
    if (csv_path is not None and plot_path is not None
            and os.path.abspath(csv_path) == os.path.abspath(plot_path)):
        raise CliError(f"--csv and --plot both name {csv_path}; give them different files")
    for path in outputs:
        if not os.path.exists(path):
            continue
        for name in inputs:
            if os.path.exists(name) and os.path.samefile(name, path):
                raise CliError(f"{name}: input and output are the same file")
        if not force:
            raise CliError(f"{path} already exists; use -f to overwrite it")
    if plot_path is not None:
        try:
            plots.check_path(plot_path)
            plots.check_available()
        except (ValueError, plots.PlottingUnavailable) as error:
            raise CliError(f"--plot: {error}") from None


def _write_csv(path: str, records: list[dict[str, Any]], force: bool) -> None:
    """The records as CSV, in the file *path* or, for -, on standard output."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    if path == "-":
        click.echo(text.getvalue(), nl=False)
        return
    _publish(path, force, lambda target: target.write(text.getvalue().encode("utf-8")))


def _publish(path: str, force: bool, write: Callable[[NamedStream], object]) -> None:
    """Write a file through a temporary one, so a failure leaves nothing half-written."""
    try:
        with atomic_output(path, force=force) as target:
            write(target)
    except FileExistsError:
        raise CliError(f"{path} already exists; use -f to overwrite it") from None
    except OSError as error:
        raise CliError(_describe(error)) from None


def _draw(path: str, force: bool, draw: Callable[[NamedStream, str], object]) -> None:
    """Draw the picture into a temporary file and publish it under *path*."""
    _publish(path, force, lambda target: draw(target, plots.check_path(path)))


T = TypeVar("T")


def _unique(values: tuple[T, ...]) -> list[T]:
    """The values in the order given, each once."""
    return list(dict.fromkeys(values))


def _label(name: str) -> str:
    return os.path.basename(name) or name


def _name_the_file(error: huffkit.HuffmanError, names: Sequence[str], alphabet: str) -> str:
    """The library's message, naming the file it is about.

    The experiments read several files together, and the alphabet's check of a symbol
    does not know which file it is in: on that error only, each file is checked again,
    in the same order, to find the one it is about.
    """
    if isinstance(error, huffkit.AlphabetError):
        for name in names:
            try:
                huffkit.Distribution.from_files(name, alphabet=alphabet)
            except huffkit.AlphabetError as found:
                return f"{name}: {found}"
            except OSError:
                continue
    return str(error)


# -- compare -----------------------------------------------------------------------


@main.command(context_settings=_CONTEXT)
# readable=False: an unreadable FILE is the command's error (exit 1, naming it), not a usage error.
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, readable=False),
                metavar="FILE...")
@click.option("--codebook", "codebook_paths", multiple=True, type=click.Path(readable=False),
              metavar="MODEL.json", help="Add a column for this codebook (repeatable).")
@click.option("--smooth", "alpha", type=click.FloatRange(min=0), metavar="ALPHA",
              default=experiments.DEFAULT_SMOOTHING, show_default=True,
              help="Smoothing of each file's own distribution when it codes the others.")
@click.option("--metric", type=click.Choice(_METRICS), default="mean_code_length",
              show_default=True, help="The figure the table and the picture show.")
@click.option("--coder", "coders", type=click.Choice(CODERS), multiple=True,
              default=["huffman"], show_default=True,
              help="The entropy coder; repeat it (--coder huffman --coder ans) to put both "
                   "side by side.")
@alphabet_option
@_output_options
@dask_option
def compare(files: tuple[str, ...], codebook_paths: tuple[str, ...], alpha: float, metric: str,
            coders: tuple[huffkit.Coder, ...], alphabet: huffkit.AlphabetName, as_json: bool,
            csv_path: str | None,
            plot_path: str | None, quiet: bool, force: bool, dask_address: str | None) -> int:
    """Code every FILE with every model, for real, and show the matrix.

    One row per FILE; one column per model: each FILE's own distribution
    (smoothed by ALPHA so it can code the other files; on the diagonal a file
    is coded with its exact distribution, its optimal code), then uniform, then
    each --codebook. Every cell is a real encoding. The best cell of each row
    (smallest --metric) is marked with *.

    The sizes (and bits per byte) are those of huffkit compress --codebook,
    which stores one code table in the frame; plain huffkit compress stores
    each block's own, more compact table, so its files are slightly smaller.
    """
    if not math.isfinite(alpha):
        raise click.BadParameter("ALPHA must be finite", param_hint="--smooth")
    _check_outputs(csv_path, plot_path, force, [*files, *codebook_paths], as_json)
    codebooks = [(path, codebook) for path in codebook_paths
                 if (codebook := load_codebook(path)) is not None]
    try:
        with executor_for(dask_address) as executor, _progress("compare", quiet) as progress:
            result = huffkit.compare(files, codebooks=codebooks, smoothing=alpha,
                                     coders=_unique(coders), alphabet=alphabet,
                                     progress=progress, executor=executor)
    except huffkit.HuffmanError as error:
        raise CliError(_name_the_file(error, files, alphabet)) from None
    except OSError as error:
        raise CliError(_describe(error)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif csv_path != "-":
        _print_matrix(result, metric)
        click.echo(f"\n{_SIZES_NOTE}")
    if csv_path is not None:
        _write_csv(csv_path, result.records(), force)
    if plot_path is not None:
        _draw(plot_path, force, lambda target, format: plots.plot_comparison(
            result, target, key=metric, format=format))
    return 0


def _print_matrix(result: experiments.Comparison, metric: str) -> None:
    # Rows and columns labelled together: a/x.txt and b/x.txt stay apart, the same on both.
    labels = short_names([*result.rows, *result.columns])
    rows, columns = labels[:len(result.rows)], labels[len(result.rows):]
    corner = "data \\ model"
    first = max(len(name) for name in [*rows, corner])
    width = max(8, *(len(name) for name in columns))
    click.echo(f"{_TITLES[metric]}; * marks the best model for each file")
    click.echo(f"{corner:<{first}} " + " ".join(f"{name:>{width + 1}}" for name in columns))
    for i, name in enumerate(rows):
        best = result.best(i, metric)
        cells = []
        for j, cell in enumerate(result.cells[i]):
            value = getattr(cell, metric)
            text = "n/a" if value is None else f"{value:.3f}"
            text = f"{text}{'*' if j == best else ' '}"
            text = f"{text:>{width + 1}}"
            cells.append(click.style(text, fg="green", bold=True) if j == best else text)
        click.echo(f"{name:<{first}} " + " ".join(cells))


# -- sweep -------------------------------------------------------------------------


@main.command(context_settings=_CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, readable=False))
@click.option("--toward", default="uniform", show_default=True, metavar="uniform|FILE2",
              help="R: the uniform distribution, or FILE2's (smoothed by --smooth).")
@click.option("--steps", type=click.IntRange(min=2), default=11, show_default=True,
              help="How many models, evenly spaced from P (weight 0) to R (weight 1).")
@click.option("--coder", "coders", type=click.Choice(CODERS), multiple=True,
              default=["huffman"], show_default=True,
              help="The entropy coder; repeat it (--coder huffman --coder ans) for both.")
@click.option("--smooth", "alpha", type=click.FloatRange(min=0, min_open=True), metavar="ALPHA",
              default=experiments.DEFAULT_SMOOTHING, show_default=True,
              help="Smoothing of FILE2's distribution, so that it can code FILE.")
@alphabet_option
@_output_options
@dask_option
def sweep(file: str, toward: str, steps: int, coders: tuple[huffkit.Coder, ...], alpha: float,
          alphabet: huffkit.AlphabetName, as_json: bool, csv_path: str | None,
          plot_path: str | None, quiet: bool, force: bool, dask_address: str | None) -> int:
    """Code FILE with models drifting from its own P toward R, and measure the waste.

    For each weight w, Q_w = (1 - w)·P + w·R; FILE is really compressed with
    Q_w's codebook, and the table gives D(P||Q_w), the mean code length, and
    the wasted bits per symbol (mean code length - H(P)). An ideal coder
    wastes exactly D(P||Q_w); Huffman's whole-bit lengths stay near it.
    """
    if not math.isfinite(alpha):
        raise click.BadParameter("ALPHA must be finite", param_hint="--smooth")
    inputs = [file] if toward == "uniform" else [file, toward]
    _check_outputs(csv_path, plot_path, force, inputs, as_json)
    try:
        with executor_for(dask_address) as executor, _progress("sweep", quiet) as progress:
            result = huffkit.sweep(file, toward=toward, steps=steps, smoothing=alpha,
                                   coders=_unique(coders), alphabet=alphabet,
                                   progress=progress, executor=executor)
    except huffkit.HuffmanError as error:
        raise CliError(_name_the_file(error, inputs, alphabet)) from None
    except ValueError as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(_describe(error)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif csv_path != "-":
        name, toward_label = short_names([result.name, result.toward])
        click.echo(f"{name}: {result.symbols:,} symbols, H(P) = "
                   f"{result.entropy:.4f} bits; R = {toward_label}")
        click.echo(f"{'coder':>8} {'weight':>8} {'D(P||Q)':>9} {'H_Q(P)':>9} "
                   f"{'code length':>12} {'wasted':>9} {'bytes':>10}")
        for point in result.points:
            click.echo(f"{point.coder:>8} {point.weight:>8.3f} {point.kl_divergence:>9.4f} "
                       f"{point.cross_entropy:>9.4f} {point.mean_code_length:>12.4f} "
                       f"{point.wasted_bits_per_symbol:>9.4f} {point.compressed_size:>10,}")
    if csv_path is not None:
        _write_csv(csv_path, result.records(), force)
    if plot_path is not None:
        _draw(plot_path, force, lambda target, format: plots.plot_sweep(
            result, target, format=format))
    return 0


# -- ladder ------------------------------------------------------------------------


@main.command(context_settings=_CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, readable=False))
@click.option("--rungs", metavar="NAMES",
              help="Comma-separated rungs to climb, in this order (default: every model; "
                   "gzip, bzip2 and xz are added unless --no-references).")
@click.option("--references/--no-references", default=True, show_default=True,
              help="Add gzip, bzip2 and xz from the standard library, and PPMd if pyppmd "
                   "is installed.")
@click.option("--repeat", type=click.IntRange(1), default=1, show_default=True,
              help="Time each rung this many times, in turn, and keep the median.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="PATH", help="Also write the rungs as CSV, one line each (- for "
                                   "standard output).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Also draw the ladder (.png, .svg or .pdf); needs matplotlib.")
@click.option("-f", "--force", is_flag=True, help="Overwrite the --csv and --plot files.")
def ladder(file: str, rungs: str | None, references: bool, repeat: int, as_json: bool,
           csv_path: str | None, plot_path: str | None, force: bool) -> int:
    """Code FILE with every model, from order 0 to context mixing, and print each rung's
    size in bits per byte.

    Every rung is a real encoding, decoded back and checked. FILE is read whole.
    """
    names = None if rungs is None else [name.strip() for name in rungs.split(",") if name]
    _check_outputs(csv_path, plot_path, force, [file], as_json)
    try:
        with open(file, "rb") as source:
            data = source.read()
        result = huffkit.ladder(data, name=file, rungs=names, references=references,
                                repeat=repeat)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    except huffkit.HuffmanError as error:
        raise CliError(f"{file}: {error}") from None
    except OSError as error:
        raise CliError(_describe(error)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif csv_path != "-":
        _print_ladder(result)
    if csv_path is not None:
        _write_csv(csv_path, result.to_dict()["rungs"], force)
    if plot_path is not None:
        _draw(plot_path, force, lambda target, format: plots.plot_ladder(
            result, target, format=format))
    return 0


def _print_ladder(result: Ladder) -> None:
    click.echo(f"{_label(result.name)}: {result.original_size:,} bytes")
    width = max(len(rung.name) for rung in result.rungs)
    click.echo(f"  {'rung':<{width}} {'bytes':>11} {'bits/byte':>9} {'MB/s in':>8} "
               f"{'MB/s out':>8}  what")
    for rung in result.rungs:
        speeds = [result.original_size / seconds / 1e6 if seconds else math.inf
                  for seconds in (rung.compress_seconds, rung.decompress_seconds)]
        click.echo(f"  {rung.name:<{width}} {rung.compressed_size:>11,} "
                   f"{rung.bits_per_byte:>9.3f} {speeds[0]:>8.1f} {speeds[1]:>8.1f}  "
                   f"{rung.description}")
