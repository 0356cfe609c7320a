"""gzip's habits, as compress, decompress and huf have them: which files -r finds, what
-v says, when --rm may delete an input, and the options' usage errors."""

from __future__ import annotations

import dataclasses
import os

import click

from ._group import CliError, program

SUFFIX = ".huf"


@dataclasses.dataclass(frozen=True)
class Habits:
    """What gzip's options ask of compress, decompress and huf, besides the coding."""

    suffix: str = SUFFIX
    remove: bool = False  # --rm
    verbose: bool = False
    quiet: bool = False
    recursive: bool = False
    test: bool = False  # decompress -t: decode, verify, write nothing
    keep: bool = False  # -k: a no-op, unless beside --rm

    def check(self, output: str | None, to_stdout: bool) -> None:
        """Usage errors: options that contradict each other or cannot do what they say."""
        if not self.suffix or os.sep in self.suffix or self.suffix in (".", ".."):
            raise click.UsageError(f"-S/--suffix {self.suffix!r} is not a file name suffix")
        if self.verbose and self.quiet:
            raise click.UsageError("-v/--verbose and -q/--quiet cannot be used together")
        if self.test and (output is not None or to_stdout):
            raise click.UsageError("-t/--test writes nothing: it cannot be used with "
                                   "-o/--output or -c/--stdout")
        if self.remove and self.keep:
            raise click.UsageError("-k/--keep and --rm cannot be used together")
        if self.remove and self.test:
            raise click.UsageError("--rm cannot be used with -t/--test, which keeps the files")
        if self.remove and (to_stdout or output == "-"):
            # What went down a pipe cannot be checked here: the input is all there is.
            raise click.UsageError("--rm cannot be used with -c/--stdout: the input files "
                                   "are kept when the output goes to standard output")


#: The habits when no option asks for others: inputs kept, no -v, no -q, no -r.
KEEP_AND_SAY_LITTLE = Habits()


def warn(habits: Habits, message: str) -> None:
    if not habits.quiet:
        click.echo(f"{program()}: warning: {message}", err=True)


def walk(folder: str) -> list[str]:
    """The regular files under *folder*, in a stable order; links are not followed (as
    by gzip -r), and the list is made whole before any output is written into it."""
    found: list[str] = []
    for top, folders, names in os.walk(folder):
        folders.sort()
        found.extend(path for path in (os.path.join(top, name) for name in sorted(names))
                     if not os.path.islink(path) and os.path.isfile(path))
    return found


def expand(files: tuple[str, ...], habits: Habits, *, compressing: bool) -> tuple[str, ...]:
    """*files*, each folder replaced by its files with -r: when compressing, those
    without the suffix (the others are left alone, as gzip -r does); when decompressing
    or testing, those with it."""
    if not habits.recursive:
        return files
    expanded: list[str] = []
    for name in files:
        if name == "-" or not os.path.isdir(name):
            expanded.append(name)
            continue
        for path in walk(name):
            has_suffix = (path.endswith(habits.suffix)
                          and os.path.basename(path) != habits.suffix)
            if compressing and has_suffix:
                warn(habits, f"{path} already has the {habits.suffix} suffix; left as it is")
            elif compressing or has_suffix:
                expanded.append(path)
    if not expanded and files:
        warn(habits, "no files to " + ("compress" if compressing else "decompress"))
    return tuple(expanded)


# -- compress and decompress -------------------------------------------------


class Sink:
    """Where decompress -t writes: nowhere, counting the bytes."""

    def __init__(self) -> None:
        self.bytes_written = 0

    def write(self, data: bytes | memoryview) -> int:
        self.bytes_written += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def shrank(before: int, after: int) -> str:
    """The space saved, as gzip -v and gzip -l print it: `` 64.3%``."""
    return f"{100 * (1 - after / before) if before else 0.0:5.1f}%"


def remove_input(source: str, opened: os.stat_result | None) -> None:
    """Delete the input *source* (--rm), if its name is still the file that was read.

    A file replaced or written to while it was compressed is not the data in the
    output: deleting it would lose what was never read.
    """
    if opened is None or source == "-":
        return
    now = os.lstat(source)
    if ((now.st_dev, now.st_ino, now.st_mtime_ns, now.st_size)
            != (opened.st_dev, opened.st_ino, opened.st_mtime_ns, opened.st_size)):
        raise CliError(f"{source}: changed while it was read; not removed")
    os.unlink(source)


def say(source: str, target: str | None, read: int, written: int, compressing: bool,
        habits: Habits) -> None:
    """gzip -v's line for a file done: ``NAME:\t 64.3% -- created NAME.huf``."""
    name = "standard input" if source == "-" else source
    if habits.test:
        click.echo(f"{name}:\t OK", err=True)
        return
    line = f"{name}:\t{shrank(read, written) if compressing else shrank(written, read)}"
    if target is not None:
        removed = habits.remove and source != "-"
        line += f" -- {'replaced with' if removed else 'created'} {target}"
    click.echo(line, err=True)
