"""The examples of docs/*.md run as written and print what they say, as README.md's do
(tests/test_readme.py): a ```python block is executed, and a `print(...)  # text` line
must print `text`; a ```shell block is run with bash, in a scratch folder holding a copy of
README.md, and must succeed (```sh blocks, which need a clone or ../shared, are not run).
docs/bring-your-own-model.md trains a model and is checked by tests/models/test_predicted.py,
which allows for the last digits of its floats.  The site itself (mkdocs.yml, the API pages
of docs/api.md) is built by `mkdocs build --strict` in CI; here, its pages and links are
checked without MkDocs."""

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

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SHELL = re.compile(r"^```shell\n(.*?)^```$", re.MULTILINE | re.DOTALL)
CHECKED_ELSEWHERE = {"bring-your-own-model.md"}


def _examples() -> list[tuple[str, str]]:
    return [(path.name, body) for path in sorted(DOCS.glob("*.md"))
            if path.name not in CHECKED_ELSEWHERE
            for body in BLOCK.findall(path.read_text(encoding="utf-8"))]


def _scripts() -> list:
    # huffkit bench times every coder several times over: a long test.
    return [pytest.param(path.name, body, id=f"{path.name}:{body.splitlines()[0][:40]}",
                         marks=[pytest.mark.slow] if "huffkit bench" in body else [])
            for path in sorted(DOCS.glob("*.md"))
            for body in SHELL.findall(path.read_text(encoding="utf-8"))]


def test_the_docs_have_examples():
    assert {"models.md", "library.md"} <= {name for name, _ in _examples()}
    assert {"cli.md", "results.md"} <= {name for name, _ in (p.values[:2] for p in _scripts())}


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


@pytest.mark.parametrize(("name", "script"), _scripts())
def test_shell_example(name, script, tmp_path):
    if "--plot" in script:  # pictures need the plot extra, which `pip install '.[test]'` lacks
        pytest.importorskip("matplotlib")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    environment = dict(os.environ)
    environment["PATH"] = os.path.dirname(sys.executable) + os.pathsep + environment["PATH"]
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{name}: {result.stderr}"


def test_every_command_is_in_the_command_line_page():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in huffkit.cli.main.list_commands(None):
        assert f"`huffkit {name}" in text, f"`huffkit {name}` is not in docs/cli.md's table"


#: The pages of the site, in mkdocs.yml's nav: every one exists, and every page is in it.
NAV = re.compile(r"^\s+- [^:]+: (\S+\.md)$", re.MULTILINE)


def test_every_page_is_in_the_site_and_every_link_leads_to_one():
    nav = NAV.findall((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = {path.name for path in DOCS.glob("*.md")}
    assert sorted(nav) == sorted(pages)
    link = re.compile(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)")
    for page in sorted(DOCS.glob("*.md")):
        for target in link.findall(page.read_text(encoding="utf-8")):
            assert target in pages, f"{page.name} links {target}, which is not a page"
    for included in ("FORMAT.md", "CHANGELOG.md", "CONTRIBUTING.md"):
        assert (ROOT / included).is_file()  # docs/format.md and others include them
