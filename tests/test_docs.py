"""The examples of docs/*.md run as written and print what they say, as README.md's do
(tests/test_readme.py): a ```python block is executed, and a `print(...)  # text` line
must print `text`.  docs/bring-your-own-model.md trains a model and is checked by
tests/models/test_predicted.py, which allows for the last digits of its floats."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
CHECKED_ELSEWHERE = {"bring-your-own-model.md"}


def _examples() -> list[tuple[str, str]]:
    return [(path.name, body) for path in sorted(DOCS.glob("*.md"))
            if path.name not in CHECKED_ELSEWHERE
            for body in BLOCK.findall(path.read_text(encoding="utf-8"))]


def test_the_docs_have_examples():
    assert "models.md" in {name for name, _ in _examples()}


@pytest.mark.parametrize(("name", "source"), _examples(),
                         ids=lambda value: value if value.endswith(".md") else "")
def test_example(name, source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, name, "exec"), {"__name__": "__docs__"})
    expected = re.findall(r"^\s*print\(.*\)\s+# (.*)$", source, re.MULTILINE)
    assert expected, f"an example of {name} says nothing it prints"
    lines = printed.getvalue().splitlines()
    position = 0
    for text in expected:
        assert text in lines[position:], f"{name} says {text!r}; it printed {lines}"
        position = lines.index(text, position) + 1
