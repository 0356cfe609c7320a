"""The library's types: the Literal names agree with the tables the code checks against, the
C extension's stub lists what the extension exports, and a type checker reads the public
API's overloads and names as the documentation says (mypy, run on a small program)."""

import ast
import pathlib
import re
import textwrap
import typing

import pytest

from huffkit._types import AlphabetName, Coder, ModelName
from huffkit.format.layout import CODERS
from huffkit.kernels import backend
from huffkit.models.alphabet import ALPHABETS
from huffkit.models.sequential import MODELS, ORDER0

ROOT = pathlib.Path(__file__).resolve().parents[1]
STUB = ROOT / "codec" / "kernels" / "_ckernels.pyi"


def test_the_literal_names_are_the_tables_names_in_order():
    assert typing.get_args(Coder) == CODERS == ("huffman", "ans")
    assert typing.get_args(AlphabetName) == tuple(ALPHABETS) == ("bytes", "utf8", "pairs")
    assert typing.get_args(ModelName) == (ORDER0, *MODELS)


def _stub_names() -> dict[str, int | None]:
    """The stub's names: for a function, how many parameters it takes (at most)."""
    names: dict[str, int | None] = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            names[node.name] = len(node.args.posonlyargs) + len(node.args.args)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = None
    return names


@pytest.mark.skipif(backend.compiled is None, reason="the compiled kernels are not built")
def test_the_stub_lists_every_name_the_extension_exports():
    from huffkit.kernels import _ckernels

    exported = {name for name in dir(_ckernels) if not name.startswith("__")}
    assert set(_stub_names()) == exported


def test_the_stub_gives_each_kernel_the_arguments_its_c_code_parses():
    """Each function's parameters, counted from its PyArg_ParseTuple format: one a unit
    ("y*", "w*", "n", "O!" ...), "|" marking the optional ones."""
    sources = "".join(path.read_text() for path in (ROOT / "codec/kernels/c").glob("*.c"))
    formats = {}
    for name, wrapper in _method_table(sources):
        found = _parse_format(sources, wrapper)
        if found is not None:
            formats[name] = found
    stub = _stub_names()
    assert len(formats) >= 35  # every kernel but crc32_method (no arguments) and the pieces
    for name, units in formats.items():
        assert stub[name] == units, name
    assert stub["crc32_method"] == 0


def _method_table(sources: str) -> list[tuple[str, str]]:
    module = (ROOT / "codec/kernels/c/module.c").read_text()
    return re.findall(r'\{"(\w+)", (hk_\w+), METH_', module)


def _parse_format(sources: str, wrapper: str) -> int | None:
    body = re.search(rf"PyObject \*{wrapper}\(PyObject \*self, PyObject \*args\) \{{(.*?)\n\}}",
                     sources, re.S)
    assert body is not None, wrapper
    parsed = re.findall(r'PyArg_ParseTuple\(args, "([^"]+)"', body.group(1))
    if len(parsed) != 1:
        return None  # parsed elsewhere (the pieces kernels), or takes no arguments
    units = re.findall(r"[a-zA-Z]\*?!?", parsed[0].replace("|", ""))
    return len(units)


def _link_the_package(folder: pathlib.Path) -> None:
    """Make *folder*/huffkit the package as mypy must see it: codec/ with cli/ and corpora/
    inside (the editable install's import hook is invisible to mypy)."""
    package = folder / "huffkit"
    package.mkdir(parents=True)
    for entry in (ROOT / "codec").iterdir():
        (package / entry.name).symlink_to(entry)
    (package / "cli").symlink_to(ROOT / "cli")
    (package / "corpora").symlink_to(ROOT / "corpora")


@pytest.mark.slow
def test_mypy_reads_the_public_api_as_documented(tmp_path, monkeypatch):
    """open()'s overloads by mode, the Literal names, the C stub: as a user's strict mypy
    run sees them (the package through a folder named huffkit, as the editable install's
    import hook is invisible to mypy)."""
    api = pytest.importorskip("mypy.api")
    _link_the_package(tmp_path / "path")
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent("""\
        import io
        import numpy as np
        import huffkit
        from huffkit.kernels import _ckernels

        reveal_type(huffkit.open("f.huf"))
        reveal_type(huffkit.open("f.huf", "wb"))
        reveal_type(huffkit.open("f.huf", "rt", encoding="utf-8"))
        mode: str = "r"
        reveal_type(huffkit.open("f.huf", mode))
        reveal_type(huffkit.compress(np.zeros(4, dtype=np.uint8), coder="ans", model="cm"))
        reveal_type(_ckernels.crc32(b"abc"))
        huffkit.compress(b"abc", coder="rans")
        huffkit.compress(memoryview(b"abc"), alphabet="utf16")
        """))
    monkeypatch.setenv("MYPYPATH", str(tmp_path / "path"))
    # The project's [tool.mypy] is not read (--config-file ""): strict as a user runs it,
    # who sees no errors of the package's own (they are silent).
    stdout, _, status = api.run(["--strict", "--python-version", "3.10", "--config-file", "",
                                 "--follow-imports", "silent", "--cache-dir",
                                 str(tmp_path / "cache"), str(program)])
    lines = [line.split(": ", 1)[1] for line in stdout.splitlines() if "program.py:" in line]
    assert lines == [
        'note: Revealed type is "huffkit.stream.file.HuffmanFile"',
        'note: Revealed type is "huffkit.stream.file.HuffmanFile"',
        'note: Revealed type is "_io.TextIOWrapper[_io._WrappedBuffer]"',
        'note: Revealed type is "huffkit.stream.file.HuffmanFile | '
        '_io.TextIOWrapper[_io._WrappedBuffer]"',
        'note: Revealed type is "bytes"',
        'note: Revealed type is "int"',
        'error: Argument "coder" to "compress" has incompatible type "Literal[\'rans\']"; '
        'expected "Literal[\'huffman\', \'ans\']"  [arg-type]',
        'error: Argument "alphabet" to "compress" has incompatible type "Literal[\'utf16\']"; '
        'expected "Literal[\'bytes\', \'utf8\', \'pairs\']"  [arg-type]',
    ], stdout
    assert status == 1



#: All of it: the library and its command line.
CHECKED = ["-p", "huffkit"]


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.10", "3.12"])
def test_the_library_is_strict_clean(tmp_path, monkeypatch, version):
    """mypy with the project's [tool.mypy] (strict), on the oldest Python huffkit supports
    and on one whose numpy stubs call an array a Buffer: no error, no unused ignore."""
    api = pytest.importorskip("mypy.api")
    _link_the_package(tmp_path / "path")
    monkeypatch.setenv("MYPYPATH", str(tmp_path / "path"))
    stdout, stderr, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--python-version", version,
         "--follow-imports", "silent", "--cache-dir", str(tmp_path / "cache"), *CHECKED])
    assert (status, stderr) == (0, ""), stdout
    assert stdout.startswith("Success: no issues found"), stdout


def test_both_backends_offer_every_kernel_the_interface_names():
    """interface.Kernels is what the layers above may call; each backend module has all of
    it (mypy checks their signatures: backend assigns both modules to Kernels)."""
    from huffkit.kernels import compiled, reference
    from huffkit.kernels.interface import Kernels

    members = {name for name, value in vars(Kernels).items()
               if callable(value) and not name.startswith("_")}
    assert len(members) == 39  # every kernel the codec calls through backend.kernels
    for module in (reference, compiled):
        if module is None:
            continue
        assert sorted(name for name in members if not callable(getattr(module, name, None))) \
            == [], module.__name__
        assert members <= set(module.__all__), module.__name__
