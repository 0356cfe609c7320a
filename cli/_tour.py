"""``huffkit tour``: the main job, on the bundled corpus, in well under a minute.

The tour is a guided run of the library: the textbook's worked examples, then
real files compressed with their own distribution P and with a mismatched Q,
with every bit of the output accounted for.  Every number it prints is
computed as it runs.
"""

from __future__ import annotations

import math
import os
import tempfile

import click
import numpy as np

import huffkit
import huffkit.analysis.ladder
import huffkit.corpora
from huffkit.analysis import plots

from ._experiments import _draw, _print_matrix
from ._group import _CONTEXT, CliError, main
from ._ledger import report

_RULE = "-" * 78

#: The pictures the tour draws, in the order it draws them.
_PICTURES = ("compare.png", "sweep.png", "learning-curve.png")


def _heading(title: str) -> None:
    click.echo(f"\n{_RULE}\n{title}\n{_RULE}")


def _worked_examples() -> None:
    _heading("1. Worked examples: entropy, cross-entropy and KL divergence")
    p = [1 / 2, 1 / 4, 1 / 8, 1 / 8]
    code = huffkit.Codebook.from_distribution(huffkit.Distribution.from_probabilities(p))
    mean = sum(pi * length for pi, length in zip(p, code.lengths.tolist(), strict=True))
    click.echo(f"P = (1/2, 1/4, 1/8, 1/8): H(P) = {huffkit.entropy(p):.2f} bits; its Huffman "
               f"code has lengths {tuple(code.lengths.tolist())},")
    click.echo(f"  codewords {', '.join(code.codewords().values())}, mean length "
               f"{mean:.2f} bits: a dyadic P is coded at exactly its entropy.")
    click.echo(f"A fair coin: H = ln 2 = {huffkit.entropy([1, 1], base=math.e):.3f} nats "
               f"= {huffkit.entropy([1, 1]):.0f} bit.  A fair die: H = ln 6 = "
               f"{huffkit.entropy([1] * 6, base=math.e):.3f} nats.")
    click.echo(f"H(0.6, 0.4) = {huffkit.entropy([0.6, 0.4]):.3f} bits.")
    data, model = [0.8, 0.1, 0.1], [0.2, 0.2, 0.6]
    click.echo("Marbles: the bag holds p = (0.8, 0.1, 0.1); a model believes q = (0.2, 0.2, 0.6).")
    click.echo(f"  H(p) = {huffkit.entropy(data, base=math.e):.3f} nats, cross-entropy H_q(p) = "
               f"{huffkit.cross_entropy(data, model, base=math.e):.3f} nats, "
               f"KL D(p||q) = {huffkit.kl_divergence(data, model, base=math.e):.3f} nats")
    click.echo("  (the cross-entropy is what a code built for q costs on data from p; "
               "the KL divergence is the waste).")
    losses = np.atleast_1d(huffkit.binary_cross_entropy(1, np.array([0.6, 0.9, 0.3])))
    click.echo("Binary cross-entropy of the label 1 against predictions 0.6, 0.9, 0.3: "
               f"{', '.join(f'{loss:.3f}' for loss in losses.tolist())} bits.")


def _corpus_table() -> None:
    _heading("2. The bundled corpus, each file coded with its own distribution P")
    click.echo(f"{'file':<12} {'bytes':>7} {'H(P)':>7} {'Huffman':>8} {'rANS':>7} {'file':>7} "
               f"{'compressed':>11}   bits per byte; H(P) is the order-0 entropy")
    for entry in huffkit.corpora.manifest():
        data = entry.path.read_bytes()
        ledger = huffkit.analyze(data)
        rans = huffkit.analyze(data, coder="ans")
        click.echo(f"{entry.name:<12} {entry.size:>7,} {ledger.entropy:>7.3f} "
                   f"{ledger.mean_code_length:>8.3f} {rans.mean_code_length:>7.3f} "
                   f"{ledger.bits_file / entry.size:>7.3f} {ledger.compressed_size:>11,}")
    click.echo("dyadic.txt meets its entropy exactly; skewed.txt pays Huffman a whole bit for "
               "0.469 bits\nof information (whole-bit code lengths), where rANS pays 0.471; "
               "uniform.bin cannot shrink\nat all. (\"file\" and \"compressed\": Huffman, "
               "every byte of the file counted.)")
    korean = huffkit.corpora.path("korean.txt").read_bytes()
    by_byte = len(huffkit.compress(korean))
    by_character = len(huffkit.compress(korean, alphabet="utf8"))
    click.echo(f"korean.txt coded per UTF-8 character instead of per byte (--alphabet utf8): "
               f"{by_byte:,} -> {by_character:,} bytes.")


def _mismatch(folder: str) -> None:
    target, model_file = "english.txt", "source.c"
    _heading(f"3. One real file, two codebooks: {target} coded with its own P, then with a "
             f"Q\n   learned from {model_file} (smoothed by 0.5, so every byte has a code)")
    data = huffkit.corpora.path(target).read_bytes()
    q = huffkit.Distribution.from_files([huffkit.corpora.path(model_file)]).smoothed(0.5)
    codebook = huffkit.Codebook.from_distribution(q)
    ledgers = {}
    for label, model in (("own P", None), ("Q", codebook)):
        name = os.path.join(folder, f"{target}.{'own' if model is None else 'q'}.huf")
        with huffkit.open(name, "wb", codebook=model) as stream:
            stream.write(data)
        with open(name, "rb") as stream:
            ledgers[label] = huffkit.inspect(stream.read(), codebook=model)
        click.echo(f"\n$ huffkit inspect {os.path.basename(name)}   (coded with {label})")
        for line in report(os.path.basename(name), ledgers[label]):
            click.echo(f"  {line}" if line else "")
    own, mismatched = ledgers["own P"], ledgers["Q"]
    n = own.symbols
    extra = mismatched.bits_payload - own.bits_payload
    kl_bits = n * mismatched.kl_divergence
    rounding = mismatched.wasted_rounding - own.wasted_rounding
    click.echo(f"\nCoding with Q instead of P costs {extra:,} more payload bits "
               f"({extra / 8:,.0f} bytes).")
    click.echo(f"Theory: an ideal coder pays n·D(P||Q) = {n:,} · {mismatched.kl_divergence:.4f} "
               f"= {kl_bits:,.1f} bits more.")
    sign = "+" if rounding >= 0 else "-"
    click.echo(f"Huffman's rounding changes by {rounding:+,.1f} bits "
               f"({own.wasted_rounding:,.1f} with P, {mismatched.wasted_rounding:,.1f} with Q),")
    click.echo(f"and {kl_bits:,.1f} {sign} {abs(rounding):,.1f} = {kl_bits + rounding:,.1f}: "
               "every extra bit is accounted for.")


def _picture(folder: str | None, name: str) -> str | None:
    """Where to draw the picture *name*, or None when the tour draws none."""
    return None if folder is None else os.path.join(folder, name)


def _compare(folder: str | None, force: bool) -> None:
    _heading("4. Every bundled file coded with every file's model: the cross-coding matrix")
    result = huffkit.compare([entry.path for entry in huffkit.corpora.manifest()])
    _print_matrix(result, "mean_code_length")
    click.echo("Each row's best cell (*) is its own distribution: the code built for P is never "
               "beaten\non P. Off the diagonal, a row pays H(P) + D(P||Q) and Huffman's "
               "rounding; a model\nthat never saw a byte gives it a long code (the 0.5 "
               "smoothing keeps it codable).")
    if (name := _picture(folder, "compare.png")) is not None:
        _draw(name, force, lambda target, format: plots.plot_comparison(
            result, target, format=format))
        click.echo(f"picture: {name}")


def _sweep(folder: str | None, force: bool) -> None:
    _heading("5. Drifting away from P: english.txt coded with Q_w = (1 - w) P + w uniform")
    result = huffkit.sweep(huffkit.corpora.path("english.txt"), steps=6,
                           coders=("huffman", "ans"))
    huffman = [point for point in result.points if point.coder == "huffman"]
    rans = [point for point in result.points if point.coder == "ans"]
    click.echo(f"{'weight':>8} {'D(P||Q_w)':>10} {'Huffman':>8} {'rANS':>8}   wasted bits per "
               "symbol: mean code length - H(P)")
    for by_huffman, by_rans in zip(huffman, rans, strict=True):
        click.echo(f"{by_huffman.weight:>8.1f} {by_huffman.kl_divergence:>10.4f} "
                   f"{by_huffman.wasted_bits_per_symbol:>8.4f} "
                   f"{by_rans.wasted_bits_per_symbol:>8.4f}")
    click.echo("The waste follows the KL divergence: an ideal coder wastes exactly D(P||Q_w), "
               "and rANS\nlands on it; Huffman's whole-bit lengths land near it, a little above "
               "or below.")
    if (name := _picture(folder, "sweep.png")) is not None:
        _draw(name, force, lambda target, format: plots.plot_sweep(
            result, target, format=format))
        click.echo(f"picture: {name}")


#: The tour's rungs: order 0, then more and more context (those this version has).
_TOUR_RUNGS = ("order0-huffman", "order0-ans", "order1", "adaptive1", "order2", "adaptive2",
               "adaptive3", "cm")


def _context(folder: str | None, force: bool) -> None:
    target = "english.txt"
    _heading(f"6. Context: a model's cross-entropy loss is the file's size ({target})")
    data = huffkit.corpora.path(target).read_bytes()
    rungs = [name for name in _TOUR_RUNGS if name in huffkit.analysis.ladder.LADDER]
    result = huffkit.ladder(data, name=target, rungs=rungs)
    click.echo("Each rung predicts each byte from more of the bytes before it; an arithmetic "
               "coder then\nspends -log2 q(byte | bytes before) bits on it. Every rung is a "
               "real file, decoded back:")
    for rung in result.rungs:
        click.echo(f"  {rung.name:<15} {rung.compressed_size:>7,} bytes "
                   f"{rung.bits_per_byte:>6.3f} bits per byte")
    ledger = huffkit.analyze(data, model="adaptive2", curve=100)
    click.echo(f"\n$ huffkit analyze --model adaptive2 {target}")
    for line in report(target, ledger):
        click.echo(f"  {line}" if line else "")
    n = ledger.symbols
    assert ledger.conditional_entropies is not None  # a sequential model's ledger has them
    click.echo(f"\nThe model's loss, L = -(1/n) Σ log2 q(x_i | x_<i) = "
               f"{ledger.cross_entropy:.3f} bits per byte, is the\ncross-entropy a "
               f"classifier is trained on. Here it is the file, to "
               f"{abs(ledger.coding_overhead):.1f} bits of {ledger.loss_bits:,.0f}.\n"
               f"The model starts knowing nothing: learning cost it "
               f"{ledger.learning_cost:,.0f} bits over n·Ĥ_2 = "
               f"{ledger.conditional_entropies[1] * n:,.0f},\nwhat the file's own "
               "statistics would cost if they were known in advance (a static model\n"
               "pays for that in its table).")
    curve = ledger.curve
    if (name := _picture(folder, "learning-curve.png")) is not None and curve is not None:
        _draw(name, force, lambda picture, format: plots.plot_learning_curve(
            curve, picture, name=target, format=format))
        click.echo(f"picture: {name} (bits per byte along the file: the training curve)")


def _check_pictures(requested: str | None, force: bool) -> None:
    """Refuse, before the tour starts, to draw over a picture that is already there."""
    if requested is None or force:
        return
    for name in _PICTURES:
        if os.path.lexists(path := os.path.join(requested, name)):
            raise CliError(f"{path} already exists; use -f to overwrite it, or name another "
                           "--pictures FOLDER")


def _picture_folder(requested: str | None) -> str | None:
    """Where the tour draws: FOLDER, made if need be; or None, with a word on how to get
    pictures, when none was asked for or matplotlib is missing.

    Without --pictures the tour draws nothing: a folder of its own choosing would be left
    behind, unasked, by every run.
    """
    if requested is None:
        click.echo("\n(Add --pictures FOLDER to draw the matrix, the sweep and the learning "
                   "curve there.)")
        return None
    try:
        plots.check_available()
    except plots.PlottingUnavailable:
        click.echo("\n(Pictures need matplotlib: pip install 'huffkit[plot]', then run the tour "
                   "again.)")
        return None
    try:
        os.makedirs(requested, exist_ok=True)
    except OSError as error:
        raise CliError(f"--pictures: {error.strerror}: {requested}") from None
    return requested


@main.command(context_settings=_CONTEXT)
@click.option("--pictures", "pictures", type=click.Path(file_okay=False), metavar="FOLDER",
              help="Draw the pictures (the matrix, the sweep, the learning curve) in FOLDER, "
                   "made if need be; needs matplotlib.  [default: no pictures]")
@click.option("-f", "--force", is_flag=True,
              help="Overwrite the pictures a previous tour drew in FOLDER.")
def tour(pictures: str | None, force: bool) -> int:
    """A guided run on the bundled corpus: worked examples, then real files coded with
    their own distribution and with mismatched ones, every bit accounted for."""
    _check_pictures(pictures, force)
    click.echo("huffkit tour: entropy, cross-entropy and KL divergence as bits in real files")
    _worked_examples()
    _corpus_table()
    with tempfile.TemporaryDirectory(prefix="huffkit-tour-") as scratch:
        _mismatch(scratch)
    folder = _picture_folder(pictures)
    _compare(folder, force)
    _sweep(folder, force)
    _context(folder, force)
    if folder is not None:
        click.echo(f"\nThe pictures are in {folder}")
    click.echo(f"\n{_RULE}\nTry it on your own files:\n"
               "  huffkit analyze FILE                         where FILE's bits would go\n"
               "  huffkit train OTHER... -o MODEL.json         a model Q from other files\n"
               "  huffkit analyze --codebook MODEL.json FILE   what coding FILE with Q costs\n"
               "  huffkit compress --codebook MODEL.json FILE  the real thing, then\n"
               "  huffkit inspect --codebook MODEL.json FILE.huf\n"
               "  huffkit compare FILE... --plot matrix.png    every file against every model\n"
               "  huffkit sweep FILE --plot sweep.png          waste against KL divergence\n"
               "  huffkit analyze --blocks FILE                blocks that follow the data\n"
               "  huffkit ladder FILE --plot ladder.png        every model, gzip, bzip2, xz\n"
               "  huffkit analyze --model adaptive2 FILE       the ledger of a model's loss\n"
               "  huffkit inspect FILE.huf --curve curve.png   its learning curve\n"
               "  huffkit bench FILE                           speed beside zlib and bitarray")
    return 0
