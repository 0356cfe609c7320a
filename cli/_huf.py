"""``huf``: huffkit with gzip's command line, installed beside ``huffkit``.

A thin layer: it parses gzip's options and hands the files to the functions behind
``huffkit compress``, ``huffkit decompress`` (and its -t) and ``huffkit info``, imported
only when there is work (``huf --help`` starts without numpy).  One difference from gzip,
on purpose: the inputs are kept unless --rm is given.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from huffkit import __version__  # cheap: huffkit imports the rest when first used

from ._group import _CONTEXT, Standalone
from ._habits import SUFFIX, Habits

#: -T's ceiling: huffkit.stream.threads.MAX_THREADS, which cannot be imported here without
#: numpy (tests/cli/test_huf.py checks that the two agree).
MAX_THREADS = 256


class _Huf(Standalone):
    program = "huf"


def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"huf (huffkit) {__version__}")
        ctx.exit(0)


@click.command(cls=_Huf, name="huf", context_settings=_CONTEXT)
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True, readable=False),
                metavar="[FILE]...")
@click.option("-d", "--decompress", "--uncompress", "decompressing", is_flag=True,
              help="Decompress each FILE.huf to FILE.")
@click.option("-c", "--stdout", "--to-stdout", "to_stdout", is_flag=True,
              help="Write to standard output.")
@click.option("-k", "--keep", is_flag=True,
              help="Keep the input files: huf always does (unlike gzip) unless --rm.")
@click.option("--rm", "remove", is_flag=True,
              help="Delete each input FILE once its output is written whole (never after a "
                   "failure, nor with -c).")
@click.option("-f", "--force", is_flag=True,
              help="Overwrite existing files; write compressed data to a terminal; read a "
                   "named pipe or device.")
@click.option("-t", "--test", is_flag=True,
              help="Decode each FILE and verify its checksums; write nothing.")
@click.option("-l", "--list", "listing", is_flag=True,
              help="List each FILE's sizes, space saved and name, as gzip -l.")
@click.option("-v", "--verbose", is_flag=True, help="Say how much each FILE shrank.")
@click.option("-q", "--quiet", is_flag=True, help="No warnings; errors only.")
@click.option("-S", "--suffix", default=SUFFIX, show_default=True, metavar="SUF",
              help="The compressed files' suffix.")
@click.option("-r", "--recursive", is_flag=True,
              help="Walk the folders given, for every regular file in them.")
@click.option("-T", "--threads", type=click.IntRange(0, MAX_THREADS), default=None,
              help="Blocks coded at once (0: one per core).  [default: one per core]")
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_version, help="Show the version and exit.")
def huf(files: tuple[str, ...], decompressing: bool, to_stdout: bool, keep: bool,
        remove: bool, force: bool, test: bool, listing: bool, verbose: bool, quiet: bool,
        suffix: str, recursive: bool, threads: int | None) -> int:
    """Compress each FILE to FILE.huf, or with -d decompress each FILE.huf to FILE.

    Unlike gzip, huf KEEPS every input file: only --rm deletes it, once its output is
    written whole.  With no FILE, or when FILE is -, read standard input and write
    standard output (compressed data is not written to a terminal without -f).  The
    same as huffkit compress and huffkit decompress (which take more options); -l is
    huffkit info, in gzip's columns.
    """
    habits = Habits(suffix=suffix, remove=remove, verbose=verbose, quiet=quiet,
                    recursive=recursive, test=test, keep=keep)
    habits.check(None, to_stdout)
    if listing and (to_stdout or remove or test):
        raise click.UsageError("-l/--list cannot be used with -c, -t or --rm")
    # Only now, with the options checked, the codec (and numpy).
    commands: Any = importlib.import_module(f"{__package__}._main")
    if listing:
        return int(commands.list_files(files, force, habits))
    if test or decompressing:
        return int(commands.decompress_files(files, to_stdout=to_stdout, force=force,
                                             threads=threads, habits=habits))
    return int(commands.compress_files(files, to_stdout=to_stdout, force=force,
                                       threads=threads, habits=habits))
