"""``huffkit train`` and ``huffkit show``: make a codebook from files, and look inside one."""

from __future__ import annotations

import json
import math
import os
import sys
from concurrent.futures import Executor
from typing import Any

import click
import numpy as np

import huffkit
from huffkit.models.alphabet import alphabet_named

from ._dask import dask_option, executor_for
from ._files import atomic_output
from ._group import _CONTEXT, CliError, _describe, main
from ._main import alphabet_option, load_codebook

_ESCAPES = {9: "\\t", 10: "\\n", 13: "\\r", 32: "space"}

#: train's smoothing when --smooth is not given: enough for a bytes codebook to code any
#: file (a user trains one to apply it to others), as compare's columns do. The pairs and
#: utf8 alphabets are not smoothed by default: a code for each of their 65,792 or 1,114,112
#: symbols would make a model file of megabytes.
DEFAULT_TRAIN_SMOOTHING = 0.5


def byte_label(value: int) -> str:
    """A byte as a reader recognises it: 'a', \\n, space, or 0x1f for the unprintable."""
    if value in _ESCAPES:
        return _ESCAPES[value]
    if 33 <= value <= 126:
        return chr(value)
    return f"0x{value:02x}"


def symbol_label(value: int, alphabet: str) -> str:
    """A symbol of any alphabet as a reader recognises it."""
    if alphabet == "bytes":
        return byte_label(value)
    if alphabet == "pairs":
        if value >= 65536:
            return f"{_pair_part(value - 65536)}$"  # a last, unpaired byte
        return _pair_part(value >> 8) + _pair_part(value & 0xFF)
    if value < 128:
        return byte_label(value)
    character = chr(value)
    return character if character.isprintable() else f"U+{value:04X}"


def _pair_part(value: int) -> str:
    """One byte of a pair: itself if printable, else a short escape."""
    if 32 <= value <= 126:
        return chr(value).replace(" ", "_")
    return {9: "\\t", 10: "\\n", 13: "\\r"}.get(value, f"<{value:02x}>")


@main.command(context_settings=_CONTEXT)
# readable=False: an unreadable FILE is the command's error (exit 1, naming it), not a usage error.
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, readable=False),
                metavar="FILE...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              metavar="MODEL.json", help="Where to write the codebook (- for standard output).")
@click.option("--smooth", "alpha", type=click.FloatRange(min=0, max_open=False), default=None,
              show_default=f"{DEFAULT_TRAIN_SMOOTHING:g} for bytes, 0 for pairs and utf8",
              metavar="ALPHA",
              help="Add ALPHA to every symbol's count, so symbols the FILEs lack still get a "
                   "code; --smooth 0 for the FILEs' own distribution, which codes only "
                   "their symbols.")
@click.option("--max-code-length", type=click.IntRange(1, huffkit.LONGEST_CODE), default=None,
              show_default="15; 20 for pairs, 24 for utf8", help="Longest code allowed, in bits.")
@click.option("-f", "--force", is_flag=True, help="Overwrite MODEL.json if it exists.")
@alphabet_option
@dask_option
def train(files: tuple[str, ...], output: str, alpha: float | None,
          max_code_length: int | None, force: bool, alphabet: str,
          dask_address: str | None) -> int:
    """Build a codebook from the symbol counts of FILE... and write it as JSON.

    The codebook is a model Q: compress other data with it
    (huffkit compress --codebook MODEL.json) and see what the mismatch
    costs (huffkit analyze --codebook MODEL.json). A bytes codebook is
    smoothed by default, so that it codes any file.
    """
    defaulted = alpha is None
    if alpha is None:
        alpha = DEFAULT_TRAIN_SMOOTHING if alphabet == "bytes" else 0.0
    if not math.isfinite(alpha):
        raise click.BadParameter("ALPHA must be finite", param_hint="--smooth")
    if output != "-":
        for name in files:
            if os.path.exists(output) and os.path.samefile(name, output):
                raise CliError(f"{name}: input and output are the same file")
    try:
        with executor_for(dask_address) as executor:
            counted = _count(files, alphabet, executor)
        if counted.total == 0 and alpha == 0:
            size = huffkit.models.alphabet.alphabet_named(alphabet).size
            every = "256 bytes" if alphabet == "bytes" else f"{size:,} {alphabet} symbols"
            raise CliError("the files are empty, so there is nothing to build a code from; "
                           f"use --smooth ALPHA for a code over all {every}")
        distribution = counted.smoothed(alpha) if alpha else counted
        if max_code_length is None:
            max_code_length = alphabet_named(alphabet).default_max_code_length
        codebook = huffkit.Codebook.from_distribution(distribution,
                                                      max_code_length=max_code_length)
    except (huffkit.HuffmanError, ValueError) as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(_describe(error)) from None
    text = codebook.to_json()
    if output == "-":
        sys.stdout.write(text)
    else:
        try:
            with atomic_output(output, force=force) as stream:
                stream.write(text.encode("utf-8"))
        except FileExistsError:
            raise CliError(f"{output} already exists; use -f to overwrite it") from None
        except OSError as error:
            raise CliError(_describe(error)) from None
    where = "standard output" if output == "-" else output
    click.echo(f"{where}: codebook {codebook.identifier} from {len(files)} "
               f"file{'s' if len(files) != 1 else ''} ({counted.total:,} "
               f"{'bytes' if alphabet == 'bytes' else alphabet + ' symbols'}, "
               f"{counted.distinct_symbols} distinct), smoothing {alpha:g}, "
               f"code lengths {codebook.min_length}..{codebook.max_length}", err=True)
    if defaulted and alpha == 0:
        # Said now, not when a file with another symbol fails to compress with it.
        click.echo(f"{where}: note: it codes only the {counted.distinct_symbols:,} {alphabet} "
                   "symbols these files hold, so it cannot code a file with any other; "
                   "--smooth ALPHA gives every symbol a code", err=True)
    return 0


def _count(files: tuple[str, ...], alphabet: str,
           executor: Executor | None = None) -> huffkit.Distribution:
    """The symbol counts of *files* together, a file at a time, so that an error (not
    valid UTF-8, say) names the file it is about.

    With *executor* (--dask), its workers count them all at once; if one is not valid
    in the alphabet, the files are counted again here, one by one, to name it.
    """
    if executor is not None:
        try:
            return huffkit.Distribution.from_files(files, alphabet=alphabet, executor=executor)
        except huffkit.AlphabetError:
            pass  # counted again below, a file at a time, to name the file
    counts = huffkit.Distribution.from_files([], alphabet=alphabet).counts  # all zero
    for name in files:
        try:
            counts = counts + huffkit.Distribution.from_files(name, alphabet=alphabet).counts
        except huffkit.AlphabetError as error:
            raise CliError(f"{name}: {error}") from None
    return huffkit.Distribution(counts)


def codebook_table(codebook: huffkit.Codebook) -> dict[str, Any]:
    """The codebook as plain data: one row per byte value with a code or a count."""
    distribution = codebook.distribution
    if distribution is not None:
        counts, probabilities = distribution.counts, distribution.probabilities
    else:
        counts, probabilities = None, codebook.implied_probabilities
    alphabet = huffkit.models.alphabet.alphabet_of_size(codebook.size).name
    rows = []
    for symbol in np.flatnonzero((codebook.lengths > 0) | (probabilities > 0)).tolist():
        length = int(codebook.lengths[symbol])
        probability = float(probabilities[symbol])
        rows.append({
            "symbol": symbol,
            "label": symbol_label(symbol, alphabet),
            "count": None if counts is None else counts[symbol].item(),
            "probability": probability,
            "information": -math.log2(probability) if probability > 0 else None,
            "length": length,
            "code": codebook.codeword(symbol) if length else None,
        })
    return {
        "identifier": codebook.identifier,
        "alphabet": alphabet,
        "max_code_length": codebook.max_code_length,
        "smoothing": None if distribution is None else distribution.smoothing,
        "total": None if distribution is None else distribution.total,
        "probabilities": "counted" if distribution is not None else "implied by the lengths",
        "symbols": rows,
    }


@main.command(context_settings=_CONTEXT)
@click.argument("model", type=click.Path(readable=False), metavar="MODEL.json")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(model: str, as_json: bool) -> int:
    """Print the code table of a codebook: each byte's count, probability, ideal
    length -log2 p, code length and codeword."""
    codebook = load_codebook(model)
    if codebook is None:  # a path always gives a codebook, or an error
        raise CliError(f"{model}: no codebook")
    table = codebook_table(codebook)
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return 0
    rows = table["symbols"]
    mean = sum(row["probability"] * row["length"] for row in rows)
    ideal = sum(row["probability"] * row["information"] for row in rows
                if row["information"] is not None)
    click.echo(f"{os.path.basename(model)}: codebook {table['identifier']}, "
               f"{sum(1 for row in rows if row['length'])} codes, "
               f"smoothing {table['smoothing'] if table['smoothing'] is not None else '-'}, "
               f"probabilities {table['probabilities']}")
    click.echo(f"  mean code length {mean:.4f} bits, entropy {ideal:.4f} bits "
               f"(both under the codebook's own distribution)\n")
    value = "byte" if table["alphabet"] == "bytes" else "value"
    click.echo(f"{value:>6} {'symbol':>6} {'count':>12} {'probability':>11} "
               f"{'-log2 p':>8} {'length':>6}  codeword")
    for row in rows:
        count = "-" if row["count"] is None else f"{row['count']:,}"
        information = "inf" if row["information"] is None else f"{row['information']:.3f}"
        click.echo(f"{row['symbol']:>6} {row['label']:>6} {count:>12} "
                   f"{row['probability']:>11.6f} {information:>8} {row['length']:>6}  "
                   f"{row['code'] or '-'}")
    return 0
