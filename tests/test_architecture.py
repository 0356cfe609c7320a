"""The package's layers (docs/architecture.md) hold: no module imports a layer above its own,
no import circle (imports inside functions count), the command line uses only the public
API, and no file grows into a warehouse.

The imports are read from the sources with ``ast``, not from a running interpreter, so a
lazy import in a branch no test takes is checked too.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "codec"  # imported as huffkit
CLI = ROOT / "cli"  # imported as huffkit.cli

# Bottom to top.  A module may import its own layer and the layers below it.
LAYERS = (
    ("base", ("huffkit._errors", "huffkit._buffers", "huffkit._types", "huffkit._version")),
    ("kernels", ("huffkit.kernels",)),
    ("models", ("huffkit.models",)),
    ("format", ("huffkit.format",)),
    ("stream", ("huffkit.stream",)),
    ("analysis", ("huffkit.analysis",)),
    ("tools", ("huffkit.tools",)),
    ("facade", ("huffkit", "huffkit.__main__")),
)
LONGEST_PYTHON_MODULE = 900
LONGEST_C_FILE = 1500


def _module_names(folder: pathlib.Path, package: str) -> dict[str, pathlib.Path]:
    names = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join((package, *parts))] = path
    return names


MODULES = _module_names(LIBRARY, "huffkit")
CLI_MODULES = _module_names(CLI, "huffkit.cli")


def _imports(name: str, path: pathlib.Path) -> set[str]:
    """The huffkit modules *name* imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from package import module` imports the module; `from module import name`
            # the module that holds the name.
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in ALL_MODULES
                       else source for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in ALL_MODULES)
    found.discard(name)
    return found


ALL_MODULES = {**MODULES, **CLI_MODULES}
GRAPH = {name: _imports(name, path) for name, path in ALL_MODULES.items()}


def layer_of(name: str) -> int:
    """The index in LAYERS of the layer *name* belongs to."""
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or (prefix != "huffkit" and name.startswith(prefix + ".")):
                return index
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS and to "
                         "docs/architecture.md")


def test_every_library_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(name):
    if layer_of(name) == len(LAYERS) - 1:
        return  # the facade re-exports; __main__ starts the command line
    upward = sorted(target for target in GRAPH[name]
                    if target in CLI_MODULES or layer_of(target) > layer_of(name))
    assert upward == [], (f"{name} ({LAYERS[layer_of(name)][0]}) imports from above: "
                          f"{upward}")


def _cycle() -> list[str] | None:
    """An import circle among all the modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[name] = 2
        return None

    for name in sorted(GRAPH):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_no_import_circle():
    assert _cycle() is None, " -> ".join(_cycle())


def test_the_cycle_finder_finds_a_circle(monkeypatch):
    monkeypatch.setitem(GRAPH, "huffkit.kernels.backend",
                        GRAPH["huffkit.kernels.backend"] | {"huffkit.models.codebook"})
    found = _cycle()
    assert found is not None and found[0] == found[-1]
    assert "huffkit.kernels.backend" in found and "huffkit.models.codebook" in found


def test_the_kernels_import_nothing_of_huffkit_but_its_errors_and_buffer_types():
    for name in MODULES:
        if layer_of(name) == 1:
            outside = {target for target in GRAPH[name] if not target.startswith("huffkit.kernels")}
            assert outside <= {"huffkit._errors", "huffkit._buffers"}, (name, outside)


def _private(name: str) -> bool:
    return any(part.startswith("_") for part in name.split(".")[1:])


@pytest.mark.parametrize("name", sorted(CLI_MODULES))
def test_the_command_line_uses_only_the_public_api(name):
    private = sorted(target for target in GRAPH[name]
                     if target not in CLI_MODULES and _private(target))
    assert private == [], f"{name} imports private modules of huffkit: {private}"


def test_no_python_module_is_a_warehouse():
    long = {str(path.relative_to(ROOT)): lines for path in [*MODULES.values(),
                                                            *CLI_MODULES.values()]
            if (lines := len(path.read_text().splitlines())) > LONGEST_PYTHON_MODULE}
    assert long == {}


def test_no_c_file_is_a_warehouse():
    sources = sorted(LIBRARY.rglob("*.[ch]"))
    assert sources, "the C kernels' sources are missing"
    long = {str(path.relative_to(ROOT)): lines for path in sources
            if (lines := len(path.read_text().splitlines())) > LONGEST_C_FILE}
    assert long == {}
