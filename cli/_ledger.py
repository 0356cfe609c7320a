"""``huffkit analyze`` and ``huffkit inspect``: where every bit of a compressed file goes."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import click

import huffkit
from huffkit.analysis import plots

from ._codebooks import symbol_label
from ._experiments import _draw
from ._group import _CONTEXT, CliError, _describe, main
from ._main import (
    alphabet_option,
    block_options,
    check_block_size,
    check_codebook_options,
    check_model_options,
    codebook_option,
    coder_option,
    describe_huffman_error,
    input_argument,
    input_name,
    load_codebook,
    memory_option,
    model_option,
    read_whole,
    split_option,
    whole_input_force_option,
)

_BASES = {"2": 2.0, "e": math.e}


def _ledger_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--blocks", "per_block", is_flag=True,
                            help="Add a row per block: where its data lies, its size, its "
                                 "table's size and its entropy.")(function)
    function = click.option("--symbols", "per_symbol", is_flag=True,
                            help="Add a row per byte value: which symbols waste the bits."
                            )(function)
    function = click.option("--base", type=click.Choice(sorted(_BASES)), default="2",
                            show_default=True,
                            help="Logarithm base of the per-symbol figures: 2 for bits, e for "
                                 "nats (bit totals stay in bits).")(function)
    function = click.option(
        "--curve", "curve_path", type=click.Path(dir_okay=False, writable=True),
        metavar="PICTURE",
        help="Draw the learning curve, bits per byte along the file beside the order-0 "
             "entropy, to PICTURE (.png, .svg or .pdf); with --json, add its figures."
    )(function)
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the ledger as one JSON object.")(function)


def _check_curve_path(curve_path: str | None) -> None:
    """Refuse a picture's name, or a missing matplotlib, before the work."""
    if curve_path is None:
        return
    try:
        plots.check_path(curve_path)
        plots.check_available()
    except (ValueError, ImportError) as error:
        raise click.UsageError(str(error)) from None
    if os.path.lexists(curve_path):  # -f means something else here: never overwrite
        raise CliError(f"{curve_path} already exists; remove it or name another picture")


def _draw_curve(ledger: huffkit.Ledger, name: str, curve_path: str | None,
                as_json: bool) -> None:
    curve = ledger.curve
    if curve_path is None or curve is None:
        return
    _draw(curve_path, False, lambda target, format: plots.plot_learning_curve(
        curve, target, name=name, format=format))
    if not as_json:
        click.echo(f"  learning curve drawn to {curve_path}")


def _run(name: str, account: Callable[[], int]) -> int:
    """Call *account* (which makes a ledger) and report its errors the CLI way."""
    try:
        return account()
    except CliError as error:
        error.show()
    except huffkit.HuffmanError as error:
        CliError(f"{name}: {describe_huffman_error(error)}").show()
    except BrokenPipeError:
        raise  # the reader went away: the command group ends quietly
    except OSError as error:
        CliError(_describe(error)).show()
    return 1


@main.command(context_settings=_CONTEXT)
@input_argument()
@block_options
@codebook_option("Code FILE with this codebook (a model Q) instead of its own distribution.")
@click.option("--embed/--no-embed", default=True, show_default=True,
              help="As for compress: count the codebook's table in the container, or not.")
@coder_option
@alphabet_option
@split_option
@model_option
@_ledger_options
@whole_input_force_option
def analyze(file: str, block_size: int | None, max_code_length: int | None,
            codebook: str | None, embed: bool, coder: huffkit.Coder,
            alphabet: huffkit.AlphabetName, split: bool, model: huffkit.ModelName, as_json: bool,
            curve_path: str | None, base: str, per_symbol: bool, per_block: bool,
            force: bool) -> int:
    """Compress FILE in memory and account for every bit of the result.

    Nothing is written. The figures are those huffkit inspect reports for the
    file huffkit compress would write with the same options.
    """
    check_block_size(block_size, alphabet)
    loaded = load_codebook(codebook)
    check_codebook_options(loaded)
    check_model_options(model, loaded)
    if not embed and loaded is None:
        raise click.UsageError("--no-embed needs --codebook")

    def account() -> int:
        _check_curve_path(curve_path)
        data = read_whole(file, force, compressed=False)
        ledger = huffkit.analyze(data, block_size=block_size, max_code_length=max_code_length,
                                 codebook=loaded, embed_codebook=embed, coder=coder,
                                 alphabet=alphabet, base=_BASES[base], per_symbol=per_symbol,
                                 blocks=per_block, split=split, model=model,
                                 curve=curve_path is not None)
        _print(file, ledger, as_json)
        _draw_curve(ledger, file, curve_path, as_json)
        return 0

    return _run(input_name(file), account)


@main.command(context_settings=_CONTEXT)
@input_argument("FILE.huf")
@codebook_option("The codebook FILE was compressed with: its distribution becomes the model "
                 "Q (without it, the model is the one its code lengths imply).")
@_ledger_options
@whole_input_force_option
@memory_option
def inspect(file: str, codebook: str | None, as_json: bool, curve_path: str | None, base: str,
            per_symbol: bool, per_block: bool, force: bool, memory_limit: int | None) -> int:
    """Decode a compressed FILE and account for every one of its bits:
    file = n·H(P) + n·D(P||Q) + rounding + container; for a file coded by a
    sequential model, file = loss + coding overhead + model + container."""
    model = load_codebook(codebook)

    def account() -> int:
        _check_curve_path(curve_path)
        data = read_whole(file, force, compressed=True)
        ledger = huffkit.inspect(data, codebook=model, base=_BASES[base],
                                 per_symbol=per_symbol, blocks=per_block,
                                 memory_limit=memory_limit, curve=curve_path is not None)
        _print(file, ledger, as_json)
        _draw_curve(ledger, file, curve_path, as_json)
        if not as_json:  # the format's version(s), which the ledger does not depend on
            versions = sorted({frame.version for frame in huffkit.frame_info(data)})
            click.echo(f"  format version{'s' if len(versions) > 1 else ''} "
                       f"{' and '.join(map(str, versions))}")
        return 0

    return _run(input_name(file), account)


# -- the report -----------------------------------------------------------------


def _print(name: str, ledger: huffkit.Ledger, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"file": name, **ledger.to_dict()}, indent=2))
        return
    for line in report(name, ledger):
        click.echo(line)


def report(name: str, ledger: huffkit.Ledger) -> list[str]:
    """The ledger as a reader takes it in: the identity, line by line, with numbers."""
    n = ledger.symbols
    unit = ledger.unit
    coder = {"huffman": "Huffman codes", "ans": "rANS",
             "arithmetic": "an arithmetic coder"}.get(ledger.coder, ledger.coder)
    symbols = "symbols" if ledger.alphabet == "bytes" else f"{ledger.alphabet} symbols"
    lines = [f"{name}: {n:,} {symbols} ({ledger.distinct_symbols} distinct) in "
             f"{ledger.compressed_size:,} bytes, coded with {coder}",
             f"  model Q: {ledger.model}", ""]
    if n == 0:
        lines.append(f"  no data: all {ledger.bits_file:,} bits are container")
        return lines
    # The bits column is always bits; the per-symbol column is in the ledger's unit.
    scale = math.log(2) if unit == "nats" else 1.0

    def row(sign: str, label: str, what: str, bits: float) -> str:
        share = 100 * bits / ledger.bits_file
        figure = f"{bits:,.1f}" if isinstance(bits, float) else f"{bits:,}"
        return (f"  {sign} {label:<10} {what:<24} {figure:>16} {bits / n * scale:>12.4f} "
                f"{share:>8.2f}%")

    lines.append(f"    {'':<10} {'':<24} {'bits':>16} {unit + '/symbol':>12} {'of file':>9}")
    if ledger.conditional_entropies is not None:
        return lines + _sequential_report(ledger, row)
    lines.append(row(" ", "n·H(P)", "entropy", ledger.ideal_bits))
    lines.append(row("+", "n·D(P||Q)", "mismatch (KL)", ledger.wasted_mismatch))
    rounding = ("whole-bit code lengths" if ledger.coder == "huffman" else
                "quantisation and flush" if ledger.coder == "ans" else "coding")
    lines.append(row("+", "rounding", rounding, ledger.wasted_rounding))
    lines.append(row("+", "container", "headers, tables, CRCs", ledger.wasted_container))
    lines.append(row("=", "file", f"{ledger.compressed_size:,} bytes", ledger.bits_file))
    lines.append("")
    js = "n/a" if ledger.js_divergence is None else f"{ledger.js_divergence:.4f}"
    lines.append(f"  H(P) = {ledger.entropy:.4f}, H_Q(P) = {ledger.cross_entropy:.4f}, "
                 f"D(P||Q) = {ledger.kl_divergence:.4f}, JS = {js} {unit} per symbol")
    if round(ledger.kl_divergence, 4) < 0:  # negative as printed, not a rounding error's -0
        lines.extend(_negative_mismatch(ledger))
    lines.append(f"  mean code length {ledger.mean_code_length:.4f} {unit} per symbol; "
                 f"wasted {ledger.wasted_total:,.1f} bits in all "
                 f"({ledger.wasted_total / ledger.bits_file:.2%} of the file)")
    lines.append(_rates(ledger))
    if ledger.per_symbol is not None:
        lines.extend(_symbol_table(ledger))
    if ledger.blocks is not None:
        lines.extend(_block_table(ledger))
    return lines


def _rates(ledger: huffkit.Ledger) -> str:
    """The compression rate, the space saving rate as the source material defines it,
    (original - compressed) / compressed, and beside it the share saved that most tools
    print, (original - compressed) / original."""
    saved = 1 - ledger.compressed_size / ledger.original_size
    share = f"saved {saved:.1%}" if saved >= 0 else f"grew by {-saved:.1%}"
    return (f"  compression rate {ledger.compression_rate:.3f} "
            f"({ledger.original_size:,} -> {ledger.compressed_size:,} bytes), "
            f"space saving rate {ledger.space_saving_rate:.3f} ({share})")


def _negative_mismatch(ledger: huffkit.Ledger) -> list[str]:
    """Why n·D(P||Q) came out below zero, which one model Q for the whole file never gives.

    The ledger's Q is each block's own model and P the whole file's distribution, so the
    mismatch is Σ n_b·H_{Q_b}(P_b) - n·H(P). When the blocks' distributions differ, their
    own codes beat the whole-file entropy bound, and that difference is negative.
    """
    own = "each block's own distribution P_b" in ledger.model
    model, cost = ("distribution P_b", "H(P_b)") if own else ("model Q_b", "H_Q_b(P_b)")
    return [f"  D(P||Q) is negative: each block is coded with its own {model}, and the blocks "
            "differ,",
            f"  so their codes beat the whole file's entropy: Σ n_b·{cost} = "
            f"{ledger.loss_bits:,.1f} < n·H(P) = {ledger.ideal_bits:,.1f} bits"]


def _sequential_report(ledger: huffkit.Ledger,
                       row: Callable[[str, str, str, float], str]) -> list[str]:
    """The ledger of a file coded by sequential models: loss + overhead + model + container,
    then the entropies it stands against."""
    unit = ledger.unit
    lines = [row(" ", "loss", "Σ -log2 q(x_i | x_<i)", ledger.loss_bits),
             row("+", "overhead", "arithmetic coder", ledger.coding_overhead),
             row("+", "model", "stored model", ledger.bits_model),
             row("+", "container", "headers, CRCs", ledger.bits_container),
             row("=", "file", f"{ledger.compressed_size:,} bytes", ledger.bits_file),
             "", "  reference lines (each block's own statistics, known in advance):",
             row(" ", "n·H(P)", "order-0 entropy", ledger.ideal_bits)]
    n = ledger.symbols
    for k, entropy in enumerate(ledger.conditional_entropies or (), start=1):
        bits = entropy * n / (math.log(2) if unit == "nats" else 1.0)
        lines.append(row(" ", f"n·Ĥ_{k}", f"given {k} byte{'s' if k > 1 else ''} before",
                         bits))
    if ledger.learning_cost is not None:
        lines.append(row(" ", "learning", f"loss - n·Ĥ_{ledger.context_order}"
                         if ledger.context_order else "loss - n·H(P)", ledger.learning_cost))
    lines += ["", f"  cross-entropy {ledger.cross_entropy:.4f} {unit} per symbol (the model's "
                  f"loss), against H(P) = {ledger.entropy:.4f}",
              _rates(ledger)]
    if ledger.per_symbol is not None:
        lines.extend(_symbol_table(ledger))
    if ledger.blocks is not None:
        lines.extend(_block_table(ledger))
    return lines


def _block_table(ledger: huffkit.Ledger) -> list[str]:
    unit = ledger.unit
    lines = ["", f"  per block (entropy and code length in {unit} per symbol):",
             f"  {'block':>5} {'frame':>5} {'start':>11} {'bytes':>10} {'symbols':>10} "
             f"{'size':>10} {'table':>7} {'entropy':>8} {'length':>8}"]
    for number, row in enumerate(ledger.blocks or (), start=1):
        lines.append(f"  {number:>5} {row.frame:>5} {row.start:>11,} {row.length:>10,} "
                     f"{row.symbols:>10,} {row.compressed_size:>10,} {row.table_size:>7,} "
                     f"{row.entropy:>8.4f} {row.mean_code_length:>8.4f}")
    return lines


def _bits(value: int | float) -> str:
    """Whole bits as they are; an rANS symbol's share of the payload to a tenth of a bit."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _symbol_table(ledger: huffkit.Ledger) -> list[str]:
    unit = ledger.unit
    lines = ["", f"  per symbol, most wasted bits first (-log q in {unit}):",
             f"  {'byte' if ledger.alphabet == 'bytes' else 'value':>5} {'symbol':>6} "
             f"{'count':>10} {'p':>9} {'q':>9} {'-log q':>7} "
             f"{'length':>6} {'bits':>11} {'wasted':>10}"]
    rows = sorted(ledger.per_symbol or (), key=lambda row: (-row.wasted_bits, row.symbol))
    for row in rows:
        lines.append(f"  {row.symbol:>5} {symbol_label(row.symbol, ledger.alphabet):>6} "
                     f"{row.count:>10,} "
                     f"{row.p:>9.6f} {row.q:>9.6f} {row.information:>7.3f} "
                     f"{row.code_length:>6.2f} {_bits(row.bits):>11} {row.wasted_bits:>10.1f}")
    return lines
