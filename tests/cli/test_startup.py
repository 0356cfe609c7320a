"""Start-up: ``huffkit --version``, ``huffkit --help`` and ``huf --help`` import neither
numpy nor a command's module; each command's module is imported when it runs.

Each check runs a fresh interpreter, since this one has imported everything already.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import click.testing
import pytest

import huffkit
import huffkit.cli
from huffkit.cli import _group
from huffkit.kernels import backend

#: Modules that a cheap start must not import.
HEAVY = ("numpy", "huffkit.kernels", "huffkit.stream", "huffkit.format", "huffkit.models",
         "huffkit.analysis", "huffkit.cli._main", "huffkit.cli._ledger", "huffkit.cli._bench",
         "huffkit.cli._experiments", "huffkit.cli._codebooks", "huffkit.cli._tour",
         "huffkit.cli._fuzz")


def run_and_list_modules(call: str) -> tuple[str, list[str]]:
    """What *call* (Python, with ``main`` and ``huf`` imported) prints, and the heavy modules
    it imported."""
    code = textwrap.dedent(f"""
        import sys
        from huffkit.cli import huf, main
        try:
            {call}
        except SystemExit as stop:
            assert stop.code in (0, None), stop.code
        sys.stdout.flush()
        print("\\n#modules", *sorted(sys.modules))
        """)
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert (ran.returncode, ran.stderr) == (0, ""), ran.stderr
    output, _, modules = ran.stdout.rpartition("\n#modules ")
    heavy = [name for name in modules.split()
             if any(name == module or name.startswith(module + ".") for module in HEAVY)]
    return output, heavy


@pytest.mark.parametrize("call", [
    'main(["--version"], prog_name="huffkit")',
    'main(["-V"], prog_name="huffkit")',
    'main(["--help"], prog_name="huffkit")',
    'huf(["--help"], prog_name="huf")',
    'huf(["--version"], prog_name="huf")',
])
def test_version_and_help_import_no_numpy_and_no_command(call):
    output, heavy = run_and_list_modules(call)
    assert heavy == []
    assert output


def test_running_a_command_imports_its_module_only():
    output, heavy = run_and_list_modules('main(["models"], prog_name="huffkit")')
    assert "order0" in output
    assert "huffkit.cli._main" in heavy and "numpy" in heavy
    assert "huffkit.cli._ledger" not in heavy and "huffkit.cli._tour" not in heavy


def test_the_version_from_the_command_line_is_the_packages():
    ran = subprocess.run([sys.executable, "-m", "huffkit.cli", "--version"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, f"huffkit {huffkit.__version__}\n", "")
    ran = subprocess.run([sys.executable, "-m", "huffkit", "-V", "-v"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert (ran.returncode, ran.stdout, ran.stderr) == (
        0, f"huffkit {huffkit.__version__} ({backend.describe()})\n", "")


def test_importtime_shows_no_numpy():
    ran = subprocess.run([sys.executable, "-X", "importtime", "-m", "huffkit.cli", "--version"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in ran.stderr.splitlines()
                if line.startswith("import time:")]
    assert "huffkit.cli._group" in imported
    assert not [name for name in imported if name.split(".")[0] == "numpy"]


def test_the_table_describes_every_command_as_its_docstring_does():
    for module in sorted({module for module, _ in _group.COMMANDS.values()}):
        importlib.import_module(f"huffkit.cli.{module}")
    main = huffkit.cli.main
    assert set(main.commands) == set(_group.COMMANDS)
    for name, (module, text) in _group.COMMANDS.items():
        command = main.commands[name]
        assert command.callback is not None
        assert command.callback.__module__ == f"huffkit.cli.{module}", name
        assert command.get_short_help_str(limit=10_000) == text, name


def test_help_lists_every_command_with_its_short_help(monkeypatch):
    # Without the commands imported (a fresh group) the help reads as with them.
    runner = click.testing.CliRunner()
    help_text = runner.invoke(huffkit.cli.main, ["--help"], prog_name="huffkit").output
    fresh = _group._HuffkitGroup(name="huffkit", params=huffkit.cli.main.params,
                                 help=huffkit.cli.main.help,
                                 callback=huffkit.cli.main.callback,
                                 context_settings=_group._CONTEXT,
                                 invoke_without_command=True, no_args_is_help=True,
                                 subcommand_metavar="COMMAND [ARGS]...")
    monkeypatch.setattr(_group, "importlib", None)  # importing a command would fail
    assert runner.invoke(fresh, ["--help"], prog_name="huffkit").output == help_text
    for name in _group.COMMANDS:
        assert f"\n  {name} " in help_text, name


def test_an_unknown_command_is_a_usage_error():
    ran = subprocess.run([sys.executable, "-m", "huffkit", "nonsense"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert ran.returncode == 2
    assert ran.stderr.splitlines()[-1].startswith("huffkit: error: No such command")


def test_verbose_alone_asks_for_a_command():
    ran = subprocess.run([sys.executable, "-m", "huffkit", "-v"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert ran.returncode == 2
    assert ran.stderr.splitlines()[-1] == "huffkit: error: Missing command."
