"""``huffkit bench``: huffkit's speed beside zlib's Huffman-only deflate and bitarray's coder.

The measuring is :mod:`huffkit.benchmark`'s; this module reads the files and prints.
"""

from __future__ import annotations

import json

import click

import huffkit.corpora
from huffkit import benchmark

from ._main import _CONTEXT, CliError, _describe, main

# With no FILE: the bundled English essay, repeated to about a megabyte, so that each
# timing is long enough to read.
_SAMPLE = "english.txt"
_SAMPLE_BYTES = 1 << 20


@main.command(context_settings=_CONTEXT)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=False),
                metavar="[FILE]...")
@click.option("--repeat", type=click.IntRange(min=1), default=7, show_default=True,
              help="Runs of each contender; the median is reported.")
@click.option("-T", "--threads", type=click.IntRange(min=1), default=None,
              help="Threads for huffkit's many-thread runs.  [default: one per core]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench(files, repeat, threads, as_json) -> int:
    """Time huffkit's coders against zlib's Huffman-only deflate and bitarray's Huffman coder.

    Every contender compresses and decompresses each FILE in this one process, the
    contenders taking turns, and the table gives median MB/s with ratios to zlib and
    bitarray. With no FILE, the bundled English essay, repeated to about 1 MiB.
    This is a benchmark: expect figures to vary on a busy machine.
    """
    inputs = []
    for name in files:
        try:
            with open(name, "rb") as stream:
                inputs.append((click.format_filename(name), stream.read()))
        except OSError as error:
            raise CliError(_describe(error)) from None
    if not inputs:
        text = huffkit.corpora.path(_SAMPLE).read_bytes()
        copies = -(-_SAMPLE_BYTES // len(text))
        inputs.append((f"{_SAMPLE} x{copies}", text * copies))
    measurements = []
    for name, data in inputs:
        try:
            measurements.append(benchmark.measure(data, name=name, repeat=repeat,
                                                  threads=threads))
        except ValueError as error:
            raise CliError(str(error)) from None
    if as_json:
        click.echo(json.dumps({"backend": huffkit.backend,
                               "files": [m.to_dict() for m in measurements]}, indent=2))
    else:
        click.echo(benchmark.report(measurements))
    return 0
