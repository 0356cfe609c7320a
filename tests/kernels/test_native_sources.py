"""The C kernels' sources (codec/kernels/c/): each is built into the module, and fuzzed.

A source left out of pyproject.toml's list still links (a shared library may leave symbols
undefined), and then the module fails to import: huffkit would run on its numpy kernels.
The fuzzer includes the sources one by one, so it would miss a new one too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "codec" / "kernels" / "c"

pytestmark = pytest.mark.skipif(not KERNELS.is_dir(), reason="needs the source tree")


def _extension() -> str:
    """pyproject.toml's table of the compiled module."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return text.split("[[tool.setuptools.ext-modules]]", 1)[1].split("\n[", 1)[0]


def _listed(key: str) -> set[str]:
    entry = re.search(rf"^{key} = \[(.*?)\]", _extension(), re.S | re.M)
    assert entry, f"pyproject.toml's module has no {key}"
    return set(re.findall(r'"([^"]+)"', entry.group(1)))


def _in_folder(pattern: str) -> set[str]:
    return {path.relative_to(ROOT).as_posix() for path in KERNELS.glob(pattern)}


def test_the_module_is_built_from_every_source_and_depends_on_every_header():
    assert _listed("sources") == _in_folder("*.c")
    assert _listed("depends") == _in_folder("*.h")
    assert 'name = "huffkit.kernels._ckernels"' in _extension()


def test_the_folder_holds_only_c():
    assert {path.suffix for path in KERNELS.iterdir()} <= {".c", ".h"}


def test_the_fuzzer_includes_every_source():
    harness = ROOT / "tests" / "native" / "fuzz_kernels.c"
    if not harness.exists():
        pytest.skip("needs tests/native")
    included = re.findall(r'^#include "\.\./\.\./(codec/kernels/c/\w+\.c)"$',
                          harness.read_text(encoding="utf-8"), re.M)
    assert sorted(included) == sorted(_in_folder("*.c"))
    assert len(included) == len(set(included))
