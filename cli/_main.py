"""The huffkit commands.  All the work happens in the library; this module
parses arguments, picks input and output files, and formats results.

Exit status: 0 on success, 1 if anything failed (each failure is reported as
``huffkit: error: ...`` on stderr), 2 for a usage error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import json
import os
import re
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, ClassVar, TypeVar

import click

import huffkit
from huffkit.format.layout import MODEL_BLOCK_SIZE
from huffkit.models.alphabet import alphabet_named
from huffkit.models.sequential import MODELS, ORDER0
from huffkit.stream.threads import MAX_THREADS, default_threads

from ._dask import chunk_options, compress_on_cluster, dask_option, refuse_streams
from ._files import NamedStream, atomic_output
from ._group import _CONTEXT as _CONTEXT
from ._group import CliError as CliError
from ._group import _describe as _describe
from ._group import _report, program
from ._group import main as main
from ._habits import (
    KEEP_AND_SAY_LITTLE,
    SUFFIX,
    Habits,
    Sink,
    expand,
    remove_input,
    say,
    shrank,
)

_F = TypeVar("_F", bound=Callable[..., Any])
CODERS = ("huffman", "ans")
_COPY_CHUNK = 1 << 20
#: The most compress reads at once, whatever -T and --block-size: 256 threads of 64M
#: blocks would otherwise ask for 64 GiB in one read.
_MAX_CHUNK = 1 << 28
#: The most that info, inspect and analyze read from standard input or a named pipe.  They
#: need their input whole; a regular file's size is known before it is read, but a pipe
#: may never end (`yes | huffkit info -`).
PIPE_LIMIT = 1 << 28

class ByteSize(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    """A size in bytes: 65536, 64K, 1M, 1MiB (K and M are powers of 1024)."""

    name = "SIZE"
    _pattern = re.compile(r"\s*(\d+)\s*(?:([kKmMgG])(?:i?[bB])?|[bB])?\s*")
    _units: ClassVar[dict[str, int]] = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = self._pattern.fullmatch(str(value))
        if not match:
            self.fail(f"{value!r} is not a size (examples: 65536, 64K, 1M)", param, ctx)
        size = int(match[1]) * self._units[(match[2] or "").lower()]
        if not 1 <= size <= huffkit.MAX_BLOCK_SIZE:
            self.fail(f"{value} is outside 1 byte to {huffkit.MAX_BLOCK_SIZE // (1 << 20)}M",
                      param, ctx)
        return size


def threads_option() -> Callable[[_F], _F]:
    """-T/--threads N: 0 (one per core, as for xz and zstd) to MAX_THREADS."""
    return click.option(
        "-T", "--threads", type=click.IntRange(0, MAX_THREADS), default=None,
        help="Blocks coded at once, in parallel (0: one per core); the output is the same "
             "whatever the number.  [default: one per core]")


class MemorySize(ByteSize):
    """A memory limit: 134217728, 512K, 128M, 1G (powers of 1024), or none for no limit."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None,  # type: ignore[override]
                ctx: click.Context | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        if str(value).strip().lower() == "none":
            return None
        match = self._pattern.fullmatch(str(value))
        if not match:
            self.fail(f"{value!r} is not a size (examples: 512M, 1G, none)", param, ctx)
        size = int(match[1]) * self._units[(match[2] or "").lower()]
        if size < 1:
            self.fail("the memory limit must be at least 1 byte (none for no limit)",
                      param, ctx)
        return size


def memory_option(function: _F) -> _F:
    """--memory SIZE, for the commands that decode: the library's memory_limit=."""
    return click.option(
        "--memory", "memory_limit", type=MemorySize(), metavar="SIZE",
        default=huffkit.DEFAULT_MEMORY_LIMIT,
        show_default=f"{huffkit.DEFAULT_MEMORY_LIMIT >> 20}M",
        help="The most memory decoding a block may take, as zstd's --memory: a frame whose "
             "blocks need more is refused.  Bytes, or with a K, M or G suffix; none for no "
             "limit.  Frames of bytes never need more than 68M.")(function)


#: The end of the library's MemoryLimitError message, which speaks to a programmer.
_LIBRARY_ADVICE = ": pass a larger memory_limit= (huffkit --memory SIZE)"
#: The end of the library's message for data a codebook has no code for, which names a method.
_SMOOTHING_ADVICE = (": build the codebook from a smoothed distribution (Distribution.smoothed, "
                     "or huffkit train --smooth ALPHA)")


def describe_huffman_error(error: huffkit.HuffmanError) -> str:
    """The library's message for *error*, in the command line's words."""
    message = str(error)
    if isinstance(error, huffkit.CodebookError) and message.endswith(_SMOOTHING_ADVICE):
        message = (message[: -len(_SMOOTHING_ADVICE)] + ": the files the codebook was trained "
                   "on lack them; train it again with --smooth ALPHA (huffkit train --smooth "
                   "0.5 FILE... -o MODEL.json), which gives every symbol a code")
    if isinstance(error, huffkit.MemoryLimitError) and message.endswith(_LIBRARY_ADVICE):
        message = (message[: -len(_LIBRARY_ADVICE)]
                   + ": use a larger --memory SIZE (--memory none for no limit)")
    return message


def _output_options(function: _F) -> _F:
    """The arguments and options compress and decompress share, as gzip has them."""
    decorators = [
        # Not readable=True: click would end the whole command at an unreadable FILE,
        # with a usage error; the others are still processed, as by gzip.
        click.argument("files", nargs=-1, type=click.Path(allow_dash=True, readable=False),
                       metavar="[FILE]..."),
        # Not dir_okay=False: a folder in the output's place is an error about files
        # (exit 1, "NAME: is a directory", as for FILE.huf), not a usage error.
        click.option("-o", "--output", type=click.Path(allow_dash=True),
                     help="Write to this file (only with a single input FILE)."),
        click.option("-c", "--stdout", "to_stdout", is_flag=True,
                     help="Write to standard output; keep the input files."),
        click.option("-f", "--force", is_flag=True,
                     help="Overwrite existing output files (and read a named pipe or "
                          "device, write to a terminal)."),
        threads_option(),
        click.option("-k", "--keep", is_flag=True,
                     help="Keep the input files (they are kept anyway: for gzip's habit)."),
        click.option("--rm", "remove", is_flag=True,
                     help="Delete each input FILE once its output is written whole, as "
                          "zstd's --rm (never after a failure, nor with -c)."),
        click.option("-v", "--verbose", is_flag=True,
                     help="Say, on standard error, how much each FILE shrank, as gzip -v."),
        click.option("-q", "--quiet", is_flag=True, help="No warnings; errors only."),
        click.option("-S", "--suffix", default=SUFFIX, show_default=True, metavar="SUF",
                     help="The compressed files' suffix."),
        click.option("-r", "--recursive", is_flag=True,
                     help="Walk the folders given, for every regular file in them."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


@dataclasses.dataclass
class _Job:
    source: str  # a path, or "-" for standard input
    target: str | None  # a path, or None for standard output
    problem: CliError | None = None  # why this input cannot be processed


def _plan(files: tuple[str, ...], output: str | None, to_stdout: bool,
          target_for: Callable[[str], str]) -> list[_Job]:
    if output is not None and to_stdout:
        raise click.UsageError("-o/--output and -c/--stdout cannot be used together")
    files = files or ("-",)
    if output is not None and len(files) > 1:
        raise click.UsageError("-o/--output takes a single input FILE")
    jobs = []
    for name in files:
        if output is not None:
            target = None if output == "-" else output
        elif to_stdout or name == "-":
            target = None
        else:
            try:
                target = target_for(name)
            except CliError as problem:
                jobs.append(_Job(name, None, problem))
                continue
        jobs.append(_Job(name, target))
    return jobs


def _check_job(job: _Job, force: bool, *, writes_compressed: bool) -> None:
    if job.source != "-":
        if os.path.isdir(job.source):
            raise CliError(f"{job.source}: is a directory")
        if not os.path.exists(job.source):
            raise CliError(f"{job.source}: No such file or directory")
        if not stat.S_ISREG(os.stat(job.source).st_mode) and not force:
            # As gzip: a device such as /dev/zero never ends, and a pipe or socket named
            # by mistake would wait for a writer.  Standard input is always read.
            raise CliError(f"{job.source}: not a regular file; use -f to read it anyway")
    elif not writes_compressed and sys.stdin.isatty() and not force:
        raise CliError("refusing to read compressed data from a terminal (use -f to force)")
    if job.target is None:
        if writes_compressed and sys.stdout.isatty() and not force:
            raise CliError("refusing to write compressed data to a terminal "
                           "(redirect it, or use -f to force)")
        return
    if os.path.isdir(job.target):
        raise CliError(f"{job.target}: is a directory")
    if os.path.exists(job.target) and not stat.S_ISREG(os.stat(job.target).st_mode):
        # The output replaces what is there: -f on /dev/null, run as root, would put a
        # regular file in the device's place.
        raise CliError(f"{job.target}: not a regular file; use -c to write into it")
    if os.path.lexists(job.target):
        # exists() follows links: a dangling link is an existing output, not the input.
        if (job.source != "-" and os.path.exists(job.target)
                and os.path.samefile(job.source, job.target)):
            raise CliError(f"{job.source}: input and output are the same file")
        if not force:
            raise CliError(f"{job.target} already exists; use -f to overwrite it")


def _standard_input_status() -> os.stat_result | None:
    try:
        return os.fstat(sys.stdin.buffer.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None  # closed, or not a file at all (as in click's test runner)


@contextlib.contextmanager
def _open_input(name: str, force: bool, *, whole: bool = False,
                ) -> Iterator[tuple[NamedStream, os.stat_result | None]]:
    """*name* (``-``: standard input) open for reading, and its status, or None.

    The status is the open descriptor's, not the name's: the name may be deleted or
    replaced while the file is read, and its mode and size are the file's that is read.
    Without *force* only a regular file is read: a named pipe is opened without waiting
    for a writer, then refused, as a socket or a device is.  Commands that read their
    input *whole* refuse a device even with *force* (/dev/zero would fill the memory).
    """
    if name == "-":
        yield NamedStream(sys.stdin.buffer, "standard input"), _standard_input_status()
        return
    # Without -f, opened without waiting: a named pipe with no writer would block here.
    # With -f, a pipe is to be read, and waited for: a writer may have come and gone (its
    # data lost) between a non-blocking open and a second one.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | (0 if force else os.O_NONBLOCK)
    try:
        descriptor = os.open(name, flags)
    except OSError as error:
        # A socket cannot be opened at all (ENXIO): refused as the special file it is.
        if not force and error.errno == errno.ENXIO and _is_socket(name):
            raise CliError(f"{name}: not a regular file; use -f to read it anyway") from None
        raise
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise CliError(f"{name}: is a directory")
        if whole and (stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode)):
            raise CliError(f"{name}: is a device, and this command reads its input whole")
        if not stat.S_ISREG(status.st_mode) and not force:
            # As gzip: a device such as /dev/zero never ends, and a pipe or socket named
            # by mistake would wait for a writer.  Standard input is always read.
            raise CliError(f"{name}: not a regular file; use -f to read it anyway")
        os.set_blocking(descriptor, True)
        stream = open(descriptor, "rb", closefd=True)  # noqa: SIM115 - closed below
    except BaseException:
        os.close(descriptor)
        raise
    with stream:
        yield NamedStream(stream, name), status


def _is_socket(name: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(name).st_mode)
    except OSError:
        return False


def _size_to_check(name: str, status: os.stat_result | None) -> int | None:
    """The size *name* must still have when read to its end, or None if it has none.

    A regular file named on the command line: its size when it was opened.  Not
    standard input (it may start anywhere in a file), nor a file that reports no size
    (the files of /proc and /sys say 0, and are read to their end).
    """
    if name == "-" or status is None or not stat.S_ISREG(status.st_mode):
        return None
    return status.st_size or None


def _check_size(source: NamedStream, size: int | None) -> None:
    """Refuse a result made from a file that changed size while it was read.

    A file truncated or grown while compress reads it gives an archive of neither
    version (as gzip warns, "file size changed while zipping"); here it is an error,
    and the output is not written.
    """
    if size is not None and source.bytes_read != size:
        raise CliError(f"{source.name}: file size changed while reading it ({size:,} bytes "
                       f"when opened, {source.bytes_read:,} read)")


def _run(jobs: list[_Job], force: bool, transform: Callable[[BinaryIO, BinaryIO], None], *,
         writes_compressed: bool, habits: Habits = KEEP_AND_SAY_LITTLE) -> int:
    status = 0
    for job in jobs:
        try:
            if job.problem is not None:
                raise job.problem
            _check_job(job, force, writes_compressed=writes_compressed)
            with _open_input(job.source, force) as (source, opened):
                size = _size_to_check(job.source, opened)
                regular = (job.source != "-" and opened is not None
                           and stat.S_ISREG(opened.st_mode))
                target: NamedStream | Sink
                if habits.test:
                    target = Sink()
                    transform(source, target)  # type: ignore[arg-type]
                    _check_size(source, size)
                elif job.target is None:
                    target = NamedStream(sys.stdout.buffer, "standard output")
                    transform(source, target)  # type: ignore[arg-type]
                    target.flush()
                    _check_size(source, size)
                else:
                    # The mode and times of the file opened, as gzip and zstd take them:
                    # the input may be deleted or replaced before the output is finished.
                    mode = opened.st_mode if regular and opened is not None else None
                    times = ((opened.st_atime_ns, opened.st_mtime_ns)
                             if regular and opened is not None else None)
                    with atomic_output(job.target, force=force, mode=mode,
                                       times=times) as target:
                        transform(source, target)  # type: ignore[arg-type]
                        _check_size(source, size)  # before the output is published
            # Only now, with the output whole and published, may the input go.
            if habits.remove and job.target is not None and regular:
                remove_input(job.source, opened)
            if habits.verbose:
                say(job.source, job.target, source.bytes_read, target.bytes_written,
                    writes_compressed, habits)
        except FileExistsError as error:
            _report(f"{error.filename} already exists; use -f to overwrite it")
            status = 1
        except CliError as error:
            error.show()
            status = 1
        except huffkit.HuffmanError as error:
            what = "standard input" if job.source == "-" else job.source
            _report(f"{what}: {describe_huffman_error(error)}")
            status = 1
        except OSError as error:
            if isinstance(error, BrokenPipeError):
                raise
            _report(_describe(error))
            status = 1
    return status


def read_whole(name: str, force: bool, *, compressed: bool) -> bytes:
    """The bytes of *name* (``-``: standard input), read whole, for info, inspect, analyze.

    Read, not mapped: a mapped file that shrinks kills the process with SIGBUS when a
    page past its new end is touched.  A regular file must keep its size while read;
    standard input or a named pipe (with -f) is read up to PIPE_LIMIT.
    """
    with _open_input(name, force, whole=True) as (stream, status):
        if name == "-" and compressed and not force and sys.stdin.isatty():
            raise CliError("refusing to read compressed data from a terminal (use -f to force)")
        if status is not None and stat.S_ISREG(status.st_mode):
            data: bytes = stream.read()
            _check_size(stream, _size_to_check(name, status))
            return data
        chunks = []
        while chunk := stream.read(min(_COPY_CHUNK, PIPE_LIMIT + 1 - stream.bytes_read)):
            chunks.append(chunk)
            if stream.bytes_read > PIPE_LIMIT:
                raise CliError(f"{stream.name}: more than {PIPE_LIMIT >> 20} MiB; this command "
                               "reads its input whole, and at most that much from a pipe: "
                               "save it to a file and name the file")
        return b"".join(chunks)


def load_codebook(path: str | None) -> huffkit.Codebook | None:
    """The codebook in *path* (a ``huffkit train`` model), or a ``CliError`` saying why not."""
    if path is None:
        return None
    try:
        return huffkit.Codebook.load(path)
    except huffkit.CodebookError as error:
        raise CliError(str(error)) from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory") from None
    except OSError as error:
        raise CliError(_describe(error)) from None


def codebook_option(description: str) -> Callable[[_F], _F]:
    return click.option("--codebook", metavar="MODEL.json",
                        type=click.Path(allow_dash=False, readable=False),
                        help=description)


def block_options(function: _F) -> _F:
    """--block-size and --max-code-length, as compress and analyze take them."""
    function = click.option(
        "--max-code-length", type=click.IntRange(1, huffkit.LONGEST_CODE), default=None,
        show_default="15; 20 for pairs, 24 for utf8",
        help="Longest code allowed, in bits (a codebook fixes its own).")(function)
    return click.option(
        "--block-size", type=ByteSize(), default=None, show_default="1M; 16M with --model",
        help="Bytes per block; each block gets its own code unless --codebook (with "
             "--model, each block learns its model afresh).")(function)


MODEL_NAMES = (ORDER0, *MODELS)


def model_option(function: _F) -> _F:
    return click.option("--model", type=click.Choice(MODEL_NAMES), default=ORDER0,
                        show_default=True, metavar="NAME",
                        help="Code each byte with a sequential model that predicts it from "
                             "the bytes before (huffkit models lists them); order0 gives "
                             "each block its own order-0 code.")(function)


def check_model_options(model: str, codebook: huffkit.Codebook | None) -> None:
    """A sequential model codes bytes with its own coder: no --coder, --alphabet or
    --codebook beside it."""
    if model == ORDER0:
        return
    context = click.get_current_context()
    for name in ("coder", "alphabet", "split", "max_code_length"):
        if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
            option = "--split/--no-split" if name == "split" else "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} cannot be used with --model {model}: a "
                                   "sequential model codes bytes with its own arithmetic "
                                   "coder")
    if codebook is not None:
        raise click.UsageError(f"--codebook cannot be used with --model {model}: the model "
                               "predicts every byte itself")


ALPHABETS = ("bytes", "utf8", "pairs")


def alphabet_option(function: _F) -> _F:
    return click.option("--alphabet", type=click.Choice(ALPHABETS), default="bytes",
                        show_default=True,
                        help="The symbols: bytes, Unicode code points of UTF-8 text, or pairs "
                             "of bytes.")(function)


def split_option(function: _F) -> _F:
    return click.option("--split/--no-split", default=True, show_default=True,
                        help="Cut blocks where the data's statistics change, when that makes "
                             "the file smaller (byte symbols with their own codes); "
                             "--no-split: one block, with a plain table, per block size.")(function)


def check_block_size(block_size: int | None, alphabet: str) -> None:
    """A block must have room for a whole symbol of the alphabet: 4 bytes for utf8, say."""
    minimum = alphabet_named(alphabet).min_block_size
    if block_size is not None and block_size < minimum:
        raise click.UsageError(f"--block-size must be at least {minimum} bytes for the "
                               f"{alphabet} alphabet, got {block_size}")


def coder_option(function: _F) -> _F:
    return click.option("--coder", type=click.Choice(CODERS), default="huffman",
                        show_default=True,
                        help="The entropy coder: Huffman codes (whole bits per symbol) or rANS "
                             "(pays the cross-entropy itself).")(function)


def check_codebook_options(codebook: huffkit.Codebook | None) -> None:
    """--max-code-length says how to build codes; a codebook's are built already."""
    context = click.get_current_context()
    source = context.get_parameter_source("max_code_length")
    if codebook is not None and source is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--max-code-length cannot be used with --codebook: the "
                               "codebook's code lengths are fixed (choose the limit with "
                               "huffkit train --max-code-length)")


@main.command(context_settings=_CONTEXT)
@_output_options
@block_options
@codebook_option("Code every block with this codebook (from huffkit train) instead of "
                 "the data's own distribution.")
@click.option("--embed/--no-embed", default=True, show_default=True,
              help="Store the codebook's lengths in the file, so it decompresses on its own; "
                   "with --no-embed only its identifier, and decompress needs --codebook.")
@coder_option
@alphabet_option
@split_option
@model_option
@dask_option
def compress(files: tuple[str, ...], output: str | None, to_stdout: bool, force: bool,
             threads: int | None, keep: bool, remove: bool, verbose: bool, quiet: bool,
             suffix: str, recursive: bool, block_size: int | None,
             max_code_length: int | None, codebook: str | None, embed: bool,
             coder: huffkit.Coder, alphabet: huffkit.AlphabetName, split: bool,
             model: huffkit.ModelName, dask_address: str | None) -> int:
    """Compress each FILE to FILE.huf, keeping FILE.

    With no FILE, or when FILE is -, read standard input and write standard output.
    FILE.huf gets FILE's read, write and execute permissions (never its set-user-ID,
    set-group-ID or sticky bit) and its modification time.  A FILE that changes size
    while it is read is an error, and nothing is written for it.  With --dask, the
    workers compress each FILE in chunks of 64M, a frame each, reading it by its path.
    """
    habits = Habits(suffix, remove, verbose, quiet, recursive, keep=keep)
    habits.check(output, to_stdout)
    check_block_size(block_size, alphabet)
    book = load_codebook(codebook)
    check_codebook_options(book)
    check_model_options(model, book)
    if not embed and book is None:
        raise click.UsageError("--no-embed needs --codebook")
    if dask_address is not None:
        return _compress_with_dask(
            files, dask_address, output, to_stdout, force, habits, chunk_options(
                threads=threads, block_size=block_size, max_code_length=max_code_length,
                codebook=book, embed_codebook=embed, coder=coder, alphabet=alphabet,
                split=split, model=model))
    return compress_files(files, output=output, to_stdout=to_stdout, force=force,
                          threads=threads, habits=habits, block_size=block_size,
                          max_code_length=max_code_length, codebook=book, embed=embed,
                          coder=coder, alphabet=alphabet, split=split, model=model)


def compress_files(files: tuple[str, ...], *, output: str | None = None,
                   to_stdout: bool = False, force: bool = False, threads: int | None = None,
                   habits: Habits = KEEP_AND_SAY_LITTLE, block_size: int | None = None,
                   max_code_length: int | None = None,
                   codebook: huffkit.Codebook | None = None, embed: bool = True,
                   coder: huffkit.Coder = "huffman",
                   alphabet: huffkit.AlphabetName = "bytes", split: bool = True,
                   model: huffkit.ModelName = ORDER0) -> int:
    """compress's work, once its options are checked; huf's too."""
    threads = threads or None  # 0 is one per core, as None is
    workers = default_threads() if threads is None else threads
    if block_size is None:
        block_size = huffkit.DEFAULT_BLOCK_SIZE if model == ORDER0 else MODEL_BLOCK_SIZE

    target_for = _compressed_name(habits.suffix, force)

    def transform(source: BinaryIO, target: BinaryIO) -> None:
        # The compressor, not a HuffmanFile: a file would finish its frame even when the
        # data is refused, and on standard output that cannot be taken back.
        compressor = huffkit.HuffmanCompressor(
            block_size=block_size, max_code_length=max_code_length, codebook=codebook,
            embed_codebook=embed, coder=coder, alphabet=alphabet,
            threads=threads, split=split, model=model)
        # A few blocks per thread at a time, so that every thread has one to code.
        chunk_size = (block_size if workers == 1 else
                      max(block_size, min(4 * workers * block_size, _MAX_CHUNK)))
        while chunk := source.read(chunk_size):
            target.write(compressor.compress(chunk))
        target.write(compressor.flush())

    return _process(files, output, to_stdout, force, target_for, transform, habits,
                    compressing=True)


def _compress_with_dask(files: tuple[str, ...], address: str, output: str | None,
                        to_stdout: bool, force: bool, habits: Habits,
                        options: dict[str, Any]) -> int:
    """compress --dask: the FILEs planned as compress plans them, then each compressed by
    the cluster's workers (huffkit.compress_file), which read it by its path."""
    refuse_streams(files, output, to_stdout)
    files = expand(files, habits, compressing=True)
    if not files:
        return 0  # folders with nothing to do: not standard input instead
    jobs = _plan(files, output, False, _compressed_name(habits.suffix, force))
    return compress_on_cluster(
        [(job.source, job.target, job.problem) for job in jobs], address, force=force,
        habits=habits, options=options, describe=describe_huffman_error,
        check=lambda source, target: _check_job(_Job(source, target), force,
                                                writes_compressed=True))


def _compressed_name(suffix: str, force: bool) -> Callable[[str], str]:
    """FILE's output name, FILE + *suffix*; a FILE with the suffix already is refused."""
    def target_for(name: str) -> str:
        if name.endswith(suffix) and not force:
            raise CliError(f"{name} already has the {suffix} suffix; use -f to compress it again")
        return name + suffix

    return target_for


def _process(files: tuple[str, ...], output: str | None, to_stdout: bool, force: bool,
             target_for: Callable[[str], str],
             transform: Callable[[BinaryIO, BinaryIO], None], habits: Habits, *,
             compressing: bool) -> int:
    named = bool(files)
    files = expand(files, habits, compressing=compressing)
    if named and not files:
        return 0  # folders with nothing to do: not standard input instead
    if habits.test:
        output, to_stdout = None, True  # every job's output is None: _run writes nothing
    jobs = _plan(files, output, to_stdout, target_for)
    return _run(jobs, force, transform, writes_compressed=compressing, habits=habits)


@main.command(context_settings=_CONTEXT)
@_output_options
@click.option("-t", "--test", is_flag=True,
              help="Decode each FILE and verify its checksums; write nothing.  Exit status "
                   "1 if any is damaged.")
@codebook_option("The codebook the files were compressed with, if they do not embed it "
                 "(compress --no-embed).")
@memory_option
def decompress(files: tuple[str, ...], output: str | None, to_stdout: bool, force: bool,
               threads: int | None, keep: bool, remove: bool, verbose: bool, quiet: bool,
               suffix: str, recursive: bool, test: bool, codebook: str | None,
               memory_limit: int | None) -> int:
    """Decompress each FILE.huf to FILE, keeping FILE.huf.

    With no FILE, or when FILE is -, read standard input and write standard output.
    Concatenated frames decompress to the concatenation of their data.  FILE gets
    FILE.huf's read, write and execute permissions (never its set-user-ID, set-group-ID
    or sticky bit) and its modification time.  With -t each FILE is decoded and its
    checksums verified, and nothing is written.
    """
    habits = Habits(suffix, remove, verbose, quiet, recursive, test, keep)
    habits.check(output, to_stdout)
    return decompress_files(files, output=output, to_stdout=to_stdout, force=force,
                            threads=threads, habits=habits, codebook=load_codebook(codebook),
                            memory_limit=memory_limit)


def decompress_files(files: tuple[str, ...], *, output: str | None = None,
                     to_stdout: bool = False, force: bool = False, threads: int | None = None,
                     habits: Habits = KEEP_AND_SAY_LITTLE, codebook: huffkit.Codebook | None = None,
                     memory_limit: int | None = huffkit.DEFAULT_MEMORY_LIMIT) -> int:
    """decompress's work (and decompress -t's), once its options are checked; huf's too."""
    model = codebook
    threads = threads or None  # 0 is one per core, as None is
    suffix = habits.suffix

    def target_for(name: str) -> str:
        if not name.endswith(suffix) or os.path.basename(name) == suffix:
            # huf has no -o: it names only what it has.
            other = "-c" if program() == "huf" else "-o to name the output or -c"
            raise CliError(f"{name}: unknown suffix (expected {suffix}); "
                           f"use {other} for standard output")
        return name[: -len(suffix)]

    def transform(source: BinaryIO, target: BinaryIO) -> None:
        with huffkit.HuffmanFile(source, "rb", codebook=model, threads=threads,
                                 memory_limit=memory_limit) as decompressed:
            shutil.copyfileobj(decompressed, target, _COPY_CHUNK)

    return _process(files, output, to_stdout, force, target_for, transform, habits,
                    compressing=False)


# -- info ----------------------------------------------------------------------


def _info_dict(name: str, frames: tuple[huffkit.FrameInfo, ...]) -> dict[str, Any]:
    compressed = sum(frame.size for frame in frames)
    original = sum(frame.original_size for frame in frames)
    blocks = [block for frame in frames for block in frame.blocks]
    return {
        "file": name,
        "compressed_size": compressed,
        "original_size": original,
        "compression_rate": original / compressed,
        "bits_per_byte": 8 * compressed / original if original else None,
        "frames": [dataclasses.asdict(frame) for frame in frames],
        "blocks": len(blocks),
        "min_code_length": min((b.min_code_length for b in blocks
                                if b.min_code_length is not None), default=None),
        "max_code_length": max((b.max_code_length for b in blocks
                                if b.max_code_length is not None), default=None),
    }


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _print_info(summary: dict[str, Any]) -> None:
    echo = click.echo
    frames = summary["frames"]
    echo(f"{summary['file']}: {summary['compressed_size']:,} bytes, "
         f"{_plural(len(frames), 'frame')}, "
         f"{summary['original_size']:,} bytes decompressed")
    line = f"  compression rate {summary['compression_rate']:.3f}"
    if summary["bits_per_byte"] is not None:
        line += f", {summary['bits_per_byte']:.3f} bits per byte"
    if summary["min_code_length"] is not None:
        line += f", code lengths {summary['min_code_length']}..{summary['max_code_length']}"
    echo(line)
    for number, frame in enumerate(frames, 1):
        coder = "rANS" if frame["coder"] == "ans" else "Huffman"
        if frame["model"] != ORDER0:
            coder = f"model {frame['model']} (arithmetic coder)"
        if frame["alphabet"] != "bytes":
            coder += f" over {frame['alphabet']} symbols"
        echo(f"\nframe {number} at byte {frame['offset']:,}: format version {frame['version']}, "
             f"{coder}, block size {frame['block_size']:,}, "
             f"{_plural(len(frame['blocks']), 'block')}, {frame['size']:,} bytes")
        if frame["codebook"] is not None:
            where = ("embedded" if frame["codebook_embedded"] else
                     "not stored: decompressing needs it, with --codebook")
            echo(f"  every block coded with codebook {frame['codebook']} ({where})")
        if not frame["blocks"]:
            continue
        echo(f"  {'block':>5} {'offset':>11} {'symbols':>11} {'distinct':>8} {'lengths':>7} "
             f"{'table':>5} {'bytes':>11} {'bits/symbol':>11}")
        for index, block in enumerate(frame["blocks"], 1):
            if block["coder"] in ("ans", "arithmetic"):
                lengths = "-"  # rANS has frequencies, a model probabilities: no code lengths
            elif block["min_code_length"] is None:
                lengths = "?"  # the frame's codebook is referenced, not stored
            else:
                lengths = f"{block['min_code_length']}..{block['max_code_length']}"
            distinct = block["distinct_symbols"]
            if distinct is None:  # a referenced codebook's, or a model block's: not known
                distinct = "?" if block["model"] == ORDER0 else "-"
            echo(f"  {index:>5} {block['offset']:>11,} {block['symbols']:>11,} "
                 f"{distinct:>8} {lengths:>7} {block['table_size']:>5} "
                 f"{block['size']:>11,} {block['payload_bits'] / block['symbols']:>11.4f}")


def input_name(file: str) -> str:
    """*file* as an error names it: ``-`` is standard input, as compress and decompress say."""
    return "standard input" if file == "-" else file


def input_argument(metavar: str = "FILE") -> Callable[[_F], _F]:
    """A FILE argument (``-`` for standard input) for a command that reads it whole.

    Not readable=True: click would turn one unreadable file into a usage error; the
    command says ``huffkit: error: FILE: Permission denied``, as for a missing file.
    """
    return click.argument("file", type=click.Path(allow_dash=True, readable=False),
                          metavar=metavar)


def whole_input_force_option(function: _F) -> _F:
    return click.option(
        "-f", "--force", is_flag=True,
        help=f"Read a named pipe too (at most {PIPE_LIMIT >> 20} MiB, as from "
             "standard input).")(function)


def _summaries(files: tuple[str, ...], force: bool,
               ) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Each FILE's _info_dict, or None (the error reported) if it cannot be read."""
    for file in files:
        try:
            data = read_whole(file, force, compressed=True)
            yield file, _info_dict(file, huffkit.frame_info(data))
        except CliError as error:
            error.show()
            yield file, None
        except huffkit.HuffmanError as error:
            _report(f"{input_name(file)}: {describe_huffman_error(error)}")
            yield file, None
        except OSError as error:
            _report(_describe(error))
            yield file, None


def _kinds(summary: dict[str, Any], key: str) -> str:
    """The frames' coders (alphabets, models), in order of appearance: ``ans+huffman``."""
    return "+".join(dict.fromkeys(str(frame[key]) for frame in summary["frames"])) or "-"


#: info's columns of words, each with its least width: wider when a value is (a file of
#: several coders is ``huffman+ans``).
_INFO_WORDS = (("coder", 10), ("symbols", 7), ("model", 10))

#: A line of info: original and compressed sizes, coder, symbols, model, blocks, name.
_InfoRow = tuple[int, int, str, str, str, int, str]


def _info_table(rows: list[_InfoRow]) -> list[str]:
    """info's lines: a header, then one a row, the columns of words as wide as their widest."""
    words = [(coder, alphabet, model) for _, _, coder, alphabet, model, _, _ in rows]
    widths = [max([least, *(len(row[column]) for row in words)])
              for column, (_, least) in enumerate(_INFO_WORDS)]

    def line(sizes: tuple[str, str, str], values: tuple[str, ...], blocks: str,
             name: str) -> str:
        padded = " ".join(f"{value:<{width}}"
                          for value, width in zip(values, widths, strict=True))
        return f"{sizes[0]:>13} {sizes[1]:>13} {sizes[2]:>7} {padded} {blocks:>7}  {name}"

    lines = [line(("original", "compressed", "ratio"), tuple(title for title, _ in _INFO_WORDS),
                  "blocks", "name")]
    for original, compressed, coder, alphabet, model, blocks, name in rows:
        ratio = f"{original / compressed:.3f}" if compressed else "-"
        lines.append(line((f"{original:,}", f"{compressed:,}", ratio), (coder, alphabet, model),
                          f"{blocks:,}", name))
    return lines


@main.command(context_settings=_CONTEXT)
@click.argument("files", nargs=-1, required=True, metavar="FILE...",
                type=click.Path(allow_dash=True, readable=False))
@click.option("--blocks", is_flag=True,
              help="Describe every frame and block, not one line per FILE.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: an object for one FILE, a list of them for several.")
@whole_input_force_option
def info(files: tuple[str, ...], blocks: bool, as_json: bool, force: bool) -> int:
    """Describe .huf files: one line each, or every frame and block with --blocks.

    A line gives the size decompressed, the size, the ratio of the two, the coder, the
    symbols (bytes, utf8 or pairs), the model, the number of blocks and the name, and a
    total line follows for several FILEs.  Only the headers are read: payloads are not
    decoded and checksums are not verified (decompress -t does).  - is standard input;
    each FILE is read whole: from standard input or a pipe, at most 256 MiB.
    """
    found = [summary for _, summary in _summaries(files, force) if summary is not None]
    status = 0 if len(found) == len(files) else 1
    if as_json:
        if len(files) > 1 or found:  # one FILE: its object, as before there were several
            click.echo(json.dumps(found if len(files) > 1 else found[0], indent=2))
    elif blocks:
        for number, summary in enumerate(found):
            if number:
                click.echo()
            _print_info(summary)
    elif found:
        rows: list[_InfoRow] = [
            (summary["original_size"], summary["compressed_size"], _kinds(summary, "coder"),
             _kinds(summary, "alphabet"), _kinds(summary, "model"), summary["blocks"],
             summary["file"]) for summary in found]
        if len(files) > 1:
            rows.append((sum(s["original_size"] for s in found),
                         sum(s["compressed_size"] for s in found), "", "", "",
                         sum(s["blocks"] for s in found),
                         f"(total of {_plural(len(found), 'file')})"))
        for line in _info_table(rows):
            click.echo(line)
    return status


def list_files(files: tuple[str, ...], force: bool, habits: Habits) -> int:
    """huf -l: gzip -l's table of sizes, space saved and names."""
    status = 0
    rows = []
    found = expand(files, habits, compressing=False)
    if files and not found:
        return 0  # folders with no .huf file in them: not standard input instead
    for file, summary in _summaries(found or ("-",), force):
        if summary is None:
            status = 1
            continue
        name = ("standard input" if file == "-" else
                file[: -len(habits.suffix)] if file.endswith(habits.suffix) else file)
        rows.append((summary["compressed_size"], summary["original_size"], name))
    if rows:
        click.echo(f"{'compressed':>19} {'uncompressed':>19}  ratio uncompressed_name")
        if len(rows) > 1:
            rows.append((sum(row[0] for row in rows), sum(row[1] for row in rows), "(totals)"))
        for compressed, original, name in rows:
            click.echo(f"{compressed:>19} {original:>19} {shrank(original, compressed)} {name}")
    return status


@main.command(context_settings=_CONTEXT)
def models() -> int:
    """List the models that compress --model and analyze --model take, one line each."""
    click.echo(f"{ORDER0:<10} the default: each block its own order-0 code (Huffman, or rANS "
               "with --coder ans); stores its code table")
    for name, model in MODELS.items():
        click.echo(f"{name:<10} {model.summary}")
    return 0
