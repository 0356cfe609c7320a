"""``huffkit fuzz``: the decoders' fuzzers (the work is :mod:`huffkit.tools.fuzzing`'s)."""

from __future__ import annotations

import hashlib
import json
import pathlib

import click

from huffkit.tools import fuzzing

from ._main import _CONTEXT, CliError, main


def _progress(report: fuzzing.Report) -> None:
    rate = report.total / report.seconds if report.seconds else 0.0
    click.echo(f"  {report.total:,} inputs, {len(report.findings)} findings, "
               f"{rate:,.0f} inputs/s", err=True)


@main.command(context_settings={**_CONTEXT, "ignore_unknown_options": True,
                                "allow_extra_args": True})
@click.option("--profile", type=click.Choice(sorted(fuzzing.PROFILES)), default="quick",
              show_default=True, help="How much to run: quick (CI, about a minute) or long.")
@click.option("--inputs", type=click.IntRange(min=0), default=None,
              help="Compressed inputs to try (overrides the profile's).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The same seed tries the same inputs.")
@click.option("--save", type=click.Path(file_okay=False), default=None,
              help="Write each finding's input to this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--atheris", is_flag=True,
              help="Run the coverage-guided fuzzer atheris instead (pip install atheris); "
                   "arguments after -- go to libFuzzer, e.g. -- -max_total_time=600.")
@click.option("--corpus", type=click.Path(file_okay=False), default=None,
              help="With --atheris: first write seed inputs to this folder.")
@click.pass_context
def fuzz(ctx: click.Context, profile: str, inputs: int | None, seed: int, save: str | None,
         as_json: bool, atheris: bool, corpus: str | None) -> int:
    """Fuzz huffkit's decoders with damaged and hostile input.

    Mutations of valid streams of every kind (bit flips, byte edits, edge values in
    counts and sizes, insertions, deletions, truncations, splices and joins of frames,
    crafted headers) go to decompress, the decompressor object (random chunks and
    output limits), the file object, inspect and, for codebook files, Codebook.from_json.
    Anything but a HuffmanError, wrong data, entry points or backends that disagree, or a
    slow input is a finding; with findings the exit status is 1.
    """
    if atheris:
        if corpus is not None:
            fuzzing.write_atheris_corpus(corpus)
            ctx.args = [corpus, *ctx.args]
        try:
            fuzzing.atheris_main(ctx.args)
        except ImportError as error:
            raise CliError(f"atheris is not installed ({error}): pip install atheris") from None
        return 0
    if ctx.args:
        raise CliError(f"unexpected arguments {' '.join(ctx.args)} (they are for --atheris)")
    settings = dict(fuzzing.PROFILES[profile])
    if inputs is not None:
        settings["inputs"] = inputs
    report = fuzzing.run(seed=seed, progress=None if as_json else _progress, **settings)
    if save is not None and report.findings:
        folder = pathlib.Path(save)
        folder.mkdir(parents=True, exist_ok=True)
        for finding in report.findings:
            name = hashlib.sha256(finding.data).hexdigest()[:16]
            (folder / name).write_bytes(finding.data)
    summary = {"seed": seed, "profile": profile, "seconds": round(report.seconds, 1),
               "inputs": dict(report.inputs), "cross_checked": report.cross_checked,
               "outcomes": dict(report.outcomes),
               "findings": [str(finding) for finding in report.findings]}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(f"seed {seed}: {report.total:,} inputs in {report.seconds:.1f} s")
        for what, count in report.inputs.items():
            click.echo(f"  {count:>10,}  {what}")
        click.echo(f"  {report.cross_checked:>10,}  of the streams also decoded by the "
                   "numpy reference")
        click.echo("decoder outcomes (decompress, per backend):")
        for what, count in report.outcomes.most_common():
            click.echo(f"  {count:>10,}  {what}")
        for finding in report.findings[:20]:
            click.echo(f"finding: {finding}", err=True)
    if report.findings:
        raise CliError(f"{len(report.findings)} findings" + (
            f" (inputs saved in {save})" if save else ""))
    return 0
