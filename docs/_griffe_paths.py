"""A MkDocs hook: let mkdocstrings read the *installed* huffkit, whatever its install.

griffe reads a package's sources statically, from a folder named after the package, and
takes only folders with an ``__init__.py`` as subpackages. huffkit breaks both: an editable
install maps ``huffkit`` onto ``codec/``, and ``analysis``, ``format``, ``stream`` and
``tools`` are namespace packages, without ``__init__.py``. So this hook asks Python where
``huffkit`` is, mirrors that folder as ``huffkit`` in a temporary folder (links to the
files, and an empty ``__init__.py`` where a folder has none), and puts the mirror first
among the python handler's search paths. The documented code is the code that imports.

The docstrings name other objects with Sphinx roles (:func:`compress`), which Markdown
renders as the role's text before the code; the page's HTML loses the role's text.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

_mirror: str | None = None


def _link_tree(source: Path, target: Path) -> None:
    for root, folders, files in os.walk(source):
        folders[:] = [name for name in folders if name != "__pycache__"]
        here = target / Path(root).relative_to(source)
        here.mkdir(exist_ok=True)
        for name in files:
            (here / name).symlink_to(Path(root) / name)
        if "__init__.py" not in files:
            (here / "__init__.py").touch()


@event_priority(100)  # before mkdocstrings' own on_config, which makes the handler
def on_config(config: Any) -> Any:
    global _mirror
    spec = importlib.util.find_spec("huffkit")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("mkdocs: huffkit is not installed here: pip install '.[docs]' first")
    _mirror = tempfile.mkdtemp(prefix="huffkit-docs-")
    _link_tree(Path(next(iter(spec.submodule_search_locations))), Path(_mirror) / "huffkit")
    python = config.plugins["mkdocstrings"].config.handlers.setdefault("python", {})
    python["paths"] = [_mirror, *python.get("paths", [])]
    return config


def on_shutdown() -> None:
    if _mirror is not None:
        shutil.rmtree(_mirror, ignore_errors=True)


_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj):(?=<code>)")


def on_page_content(html: str, **_: Any) -> str:
    return _ROLE.sub("", html)
