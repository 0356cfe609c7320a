"""``huffkit bench``: huffkit's speed beside zlib's Huffman-only deflate and bitarray's coder.

The measuring is :mod:`huffkit.tools.benchmark`'s; this module reads the files and prints.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import click

import huffkit.corpora
from huffkit.analysis.labels import short_names
from huffkit.stream.threads import MAX_THREADS
from huffkit.tools import benchmark

from ._group import _CONTEXT, CliError, _describe, main
from ._main import ByteSize

# With no FILE: the bundled English essay, repeated to about a megabyte, so that each
# timing is long enough to read.
_SAMPLE = "english.txt"
_SAMPLE_BYTES = 1 << 20


class _DataSize(ByteSize):
    """A size of data to stream, which may exceed a block: 1G, 1GiB, 500M."""

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        match = self._pattern.fullmatch(str(value))
        if not match or int(match[1]) == 0:
            self.fail(f"{value!r} is not a size (examples: 64M, 1G)", param, ctx)
        return int(match[1]) * self._units[(match[2] or "").lower()]


@main.command(context_settings=_CONTEXT)
@click.argument("files", nargs=-1,
                type=click.Path(dir_okay=False, allow_dash=False, readable=False),
                metavar="[FILE]...")
@click.option("--repeat", type=click.IntRange(min=1), default=7, show_default=True,
              help="Runs of each contender; the median is reported.")
@click.option("-T", "--threads", type=click.IntRange(0, MAX_THREADS), default=None,
              help="Threads for huffkit's many-thread runs (0: one per core).  "
                   "[default: one per core]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--anchors", "anchors_path", type=click.Path(dir_okay=False), default=None,
              metavar="SCRIPT",
              help="Time huff0 and FSE too, built and driven by this anchors script (beside a "
                   "checkout: ../shared/anchors/huff0.py), and give huffkit's Huffman and "
                   "rANS speeds as multiples of theirs.")
@click.option("--stream-memory", "stream_size", type=_DataSize(), default=None, metavar="SIZE",
              help="Instead: stream SIZE bytes (say 1G) of FILE, or the sample, through "
                   "huffkit compress -c | huffkit decompress -c, and report each side's peak "
                   "memory, the MB/s, and that the output matched.")
@click.option("--coder", "coders", type=click.Choice(["huffman", "ans"]), multiple=True,
              help="With --stream-memory: the coder to run (repeatable).  [default: both]")
@click.option("--block-size", type=ByteSize(), default=huffkit.DEFAULT_BLOCK_SIZE,
              show_default="1M", help="With --stream-memory: the compressor's block size.")
def bench(files: tuple[str, ...], repeat: int, threads: int | None, as_json: bool,
          anchors_path: str | None, stream_size: int | None, coders: tuple[huffkit.Coder, ...],
          block_size: int) -> int:
    """Time huffkit's coders against zlib's Huffman-only deflate and bitarray's Huffman coder
    (and huff0 and FSE, with --anchors).

    Every contender compresses and decompresses each FILE in this one process, the
    contenders taking turns, and the table gives median MB/s with ratios to zlib and
    bitarray. With no FILE, the bundled English essay, repeated to about 1 MiB.
    This is a benchmark: expect figures to vary on a busy machine.

    With --stream-memory SIZE, SIZE bytes of FILE (repeated; the bundled essay by
    default) go through two huffkit processes joined by a pipe instead.
    """
    threads = threads or None  # 0 is one per core, as None is
    if stream_size is None and (coders or block_size != huffkit.DEFAULT_BLOCK_SIZE):
        raise click.UsageError("--coder and --block-size go with --stream-memory")
    if stream_size is not None and len(files) > 1:
        raise click.UsageError("--stream-memory streams one FILE")
    if stream_size is not None and anchors_path is not None:
        raise click.UsageError("--anchors times the coders in this process, not --stream-memory")
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
    if stream_size is not None:
        return _stream_memory(inputs[0], stream_size, coders or ("huffman", "ans"), block_size,
                              threads, as_json)
    try:
        anchors = [] if anchors_path is None else benchmark.load_anchors(anchors_path)
    except ValueError as error:
        raise CliError(str(error)) from None
    measurements = []
    for name, data in inputs:
        try:
            measurements.append(benchmark.measure(data, name=name, repeat=repeat,
                                                  threads=threads, anchors=anchors))
        except ValueError as error:
            raise CliError(str(error)) from None
    if as_json:
        click.echo(json.dumps({"backend": huffkit.backend,
                               "files": [m.to_dict() for m in measurements]}, indent=2))
    else:
        # The table names each file by its base name (with as many folders as tell two
        # files of one name apart); the JSON keeps the paths as given.
        labels = short_names([m.name for m in measurements]) if files else [
            m.name for m in measurements]
        click.echo(benchmark.report([dataclasses.replace(m, name=label)
                                     for m, label in zip(measurements, labels, strict=True)]))
    return 0


def _stream_memory(source: tuple[str, bytes], size: int, coders: Sequence[huffkit.Coder],
                   block_size: int,
                   threads: int | None, as_json: bool) -> int:
    name, sample = source
    if not sample:
        raise CliError(f"{name} is empty: nothing to stream")
    try:
        runs = [benchmark.stream_memory(sample, size, coder=coder, block_size=block_size,
                                        threads=threads) for coder in coders]
    except (RuntimeError, OSError) as error:
        raise CliError(str(error)) from None
    if as_json:
        click.echo(json.dumps({"backend": huffkit.backend, "source": name,
                               "runs": [run.to_dict() for run in runs]}, indent=2))
    else:
        click.echo(benchmark.stream_report(runs, f"{name}, repeated"))
    return 0 if all(run.matched for run in runs) else 1
