"""The ``huffkit`` group, its error handling, and its commands' table: what every start
of the command line needs, and nothing more.

``huffkit --version`` and ``huffkit --help`` import only this module and click: each
command's module (and with it numpy and the codec) is imported when that command is run.
The table below gives the help's one-line descriptions without importing the commands;
tests/cli/test_startup.py checks that it says what each command's docstring says.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import IO, Any, ClassVar, NoReturn

import click

from huffkit import __version__  # cheap: huffkit imports the rest when first used

_CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

#: Each command: the module (in this package) that defines it, and its help's first
#: sentence, as ``huffkit --help`` shows it.
COMMANDS: dict[str, tuple[str, str]] = {
    "analyze": ("_ledger", "Compress FILE in memory and account for every bit of the result."),
    "bench": ("_bench", "Time huffkit's coders against zlib's Huffman-only deflate and "
                        "bitarray's Huffman coder (and huff0 and FSE, with --anchors)."),
    "compare": ("_experiments", "Code every FILE with every model, for real, and show the "
                                "matrix."),
    "compress": ("_main", "Compress each FILE to FILE.huf, keeping FILE."),
    "decompress": ("_main", "Decompress each FILE.huf to FILE, keeping FILE.huf."),
    "fuzz": ("_fuzz", "Fuzz huffkit's decoders with damaged and hostile input."),
    "info": ("_main", "Describe .huf files: one line each, or every frame and block with "
                      "--blocks."),
    "inspect": ("_ledger", "Decode a compressed FILE and account for every one of its bits: "
                           "file = n·H(P) + n·D(P||Q) + rounding + container; for a file coded "
                           "by a sequential model, file = loss + coding overhead + model + "
                           "container."),
    "ladder": ("_experiments", "Code FILE with every model, from order 0 to context mixing, "
                               "and print each rung's size in bits per byte."),
    "models": ("_main", "List the models that compress --model and analyze --model take, one "
                        "line each."),
    "show": ("_codebooks", "Print the code table of a codebook: each byte's count, "
                           "probability, ideal length -log2 p, code length and codeword."),
    "sweep": ("_experiments", "Code FILE with models drifting from its own P toward R, and "
                              "measure the waste."),
    "tour": ("_tour", "A guided run on the bundled corpus: worked examples, then real files "
                      "coded with their own distribution and with mismatched ones, every bit "
                      "accounted for."),
    "train": ("_codebooks", "Build a codebook from the symbol counts of FILE... and write it "
                            "as JSON."),
}


def program() -> str:
    """The name errors start with: ``huffkit``, or ``huf`` when that command runs."""
    context = click.get_current_context(silent=True)
    if context is None:
        return "huffkit"
    return str(getattr(context.find_root().command, "program", "huffkit"))


class CliError(click.ClickException):
    """An error the user can act on: printed as ``huffkit: error: ...``, exit status 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{program()}: error: {self.format_message()}", err=True)


def _report(message: str, name: str | None = None) -> None:
    click.echo(f"{name or program()}: error: {message}", err=True)


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename is not None else ""
        return f"{where}{error.strerror}"
    return str(error)


# Raised by click >= 8.2 for a bare `huffkit`; its message is the whole help text.
_NoArgsIsHelp: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Terminated(BaseException):
    """A SIGTERM or SIGHUP, raised in the main thread so that the stack unwinds."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


@contextlib.contextmanager
def _unwind_on_termination() -> Iterator[None]:
    """Make SIGTERM and SIGHUP unwind the stack, as Ctrl-C does.

    Their default action ends the process on the spot, and a half-written output
    stays behind as a hidden temporary file; unwinding removes it.  A signal that
    is ignored (as under nohup) stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers
        return

    def terminate(number: int, frame: FrameType | None) -> NoReturn:
        raise _Terminated(number)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            previous[number] = signal.signal(number, terminate)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class Standalone(click.Command):
    """A command (or, mixed in first, a group) that reports every error as
    ``PROGRAM: error: ...``, never a traceback."""

    program: ClassVar[str] = "huffkit"

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        name = self.program
        try:
            with _unwind_on_termination():
                status = super().main(args, prog_name or name, complete_var, False, **extra)
        except _Terminated as error:
            with contextlib.suppress(OSError):  # after a SIGHUP the terminal may be gone
                _report("terminated", name)
            sys.exit(128 + error.number)
        except _NoArgsIsHelp as error:
            click.echo(error.ctx.get_help(), err=True)
            sys.exit(error.exit_code)
        except click.UsageError as error:
            if error.ctx is not None:
                click.echo(error.ctx.get_usage(), err=True)
                click.echo(f"Try '{error.ctx.command_path} -h' for help.", err=True)
            _report(error.format_message(), name)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            _report(error.format_message(), name)
            sys.exit(error.exit_code)
        except click.Abort:
            _report("interrupted", name)
            sys.exit(130)
        except MemoryError:
            # Outputs are written through temporary files, so nothing half-made is left.
            _report("out of memory (a smaller --block-size or fewer --threads need less)", name)
            sys.exit(1)
        except BrokenPipeError:
            # The reader went away (as with `| head`): not an error worth a message.
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)


def version_line(verbose: bool) -> str:
    """``huffkit VERSION``; *verbose* adds which kernels run, which means importing them."""
    if not verbose:
        return f"huffkit {__version__}"
    from huffkit.kernels import backend

    return f"huffkit {__version__} ({backend.describe()})"


class _HuffkitGroup(Standalone, click.Group):
    """The ``huffkit`` group: its commands are imported when they are run (or listed)."""

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            # The module's @main.command decorators add its commands to this group.
            importlib.import_module(f"{__package__}.{COMMANDS[cmd_name][0]}")
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click's, but a command not imported yet is described from the table.
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                # A stand-in with the table's text, shortened as click shortens.
                stand_in = click.Command(name, help=COMMANDS[name][1])
                rows.append((name, stand_in.get_short_help_str(limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


# invoke_without_command: -V is a flag that main() acts on, so that -v, wherever it is,
# can ask for the backend too (an eager option would run before -v is parsed).
@click.group(cls=_HuffkitGroup, context_settings=_CONTEXT, invoke_without_command=True,
             no_args_is_help=True, subcommand_metavar="COMMAND [ARGS]...")
@click.option("-V", "--version", "show_version", is_flag=True,
              help="Show the version and exit (with -v: and which kernels run, c or numpy).")
@click.option("-v", "--verbose", is_flag=True, help="With -V: say which kernels run.")
@click.pass_context
def main(ctx: click.Context, show_version: bool, verbose: bool) -> None:
    """Huffman coding you can account for: compress and decompress files, and
    look inside what was written."""
    if show_version:
        click.echo(version_line(verbose))
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        raise click.UsageError("Missing command.", ctx)
