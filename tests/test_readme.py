"""Every example in README.md runs as written, and says what it really prints.

```python blocks are executed (in a scratch folder); a `print(...)  # text` line must
print `text`.  ```shell blocks are run with bash, in a scratch folder holding a copy of
README.md, with this interpreter's scripts first on PATH.  ```sh blocks (setting up a
clone) are not run here: CI runs them.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import huffkit.cli

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(TEXT) if lang == language]


@pytest.mark.parametrize("source", blocks("python"), ids=lambda s: s.splitlines()[2][:40])
def test_python_example(source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, str(README), "exec"), {"__name__": "__readme__"})
    expected = re.findall(r"^\s*print\(.*\)\s+# (.*)$", source, re.MULTILINE)
    lines = printed.getvalue().splitlines()
    position = 0
    for text in expected:
        assert text in lines[position:], f"README says {text!r}; it printed {lines}"
        position = lines.index(text, position) + 1


@pytest.mark.parametrize("script", blocks("shell"), ids=lambda s: s.splitlines()[0][:40])
def test_shell_example(script, tmp_path):
    shutil.copy(README, tmp_path / "README.md")
    environment = dict(os.environ)
    environment["PATH"] = os.path.dirname(sys.executable) + os.pathsep + environment["PATH"]
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                            env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_every_command_is_documented():
    for name in huffkit.cli.main.list_commands(None):
        assert f"huffkit {name}" in TEXT, f"`huffkit {name}` is not in README.md"


def test_readme_test_command_is_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest" in TEXT
    assert ".venv/bin/python -m pytest" in ci
