"""What ``import huffkit`` needs: bitarray only for the numpy backend's Huffman decoding
(issue 15, finding 19: ``import huffkit`` failed without bitarray, on the C backend too).

Each test runs a fresh interpreter in which bitarray cannot be imported: a package named
bitarray, first on its path, raises ModuleNotFoundError, as a missing one does."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from huffkit.kernels import backend

needs_c = pytest.mark.skipif(backend.unavailable is not None,
                             reason="the compiled kernels are not built")

MISSING = ("huffkit's numpy backend decodes Huffman streams with bitarray, which cannot be "
           "imported (No module named 'bitarray'): install it (pip install bitarray), or use "
           "the compiled backend")


def _run(tmp_path, code: str, *args: str, backend: str | None = None,
         block_bitarray: bool = True) -> subprocess.CompletedProcess:
    if block_bitarray:
        blocker = tmp_path / "blocker" / "bitarray"
        blocker.mkdir(parents=True, exist_ok=True)
        (blocker / "__init__.py").write_text(
            "raise ModuleNotFoundError(\"No module named 'bitarray'\", name='bitarray')\n")
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("HUFFKIT_BACKEND", "PYTHONWARNINGS")}
    if block_bitarray:
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(tmp_path / "blocker"), *filter(None, [os.environ.get("PYTHONPATH")])])
    if backend is not None:
        environment["HUFFKIT_BACKEND"] = backend
    command = [sys.executable, "-c", textwrap.dedent(code)] if code else [sys.executable, *args]
    return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=120)


def test_the_blocker_blocks(tmp_path):
    result = _run(tmp_path, "import bitarray")
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'bitarray'" in result.stderr


def test_huffkit_does_not_import_bitarray_unless_numpy_decodes(tmp_path):
    result = _run(tmp_path, """
        import sys
        import huffkit, huffkit.cli
        print("bitarray" in sys.modules)
        """, block_bitarray=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "False\n", "")


@needs_c
def test_the_c_backend_runs_without_bitarray(tmp_path):
    result = _run(tmp_path, """
        import sys
        import huffkit
        assert huffkit.backend == "c", huffkit.backend
        data = b"".join(b"%d bottles of beer\\n" % i for i in range(3000))
        for coder in ("huffman", "ans"):
            for alphabet in ("bytes", "utf8", "pairs"):
                packed = huffkit.compress(data, coder=coder, alphabet=alphabet, block_size=5000)
                assert huffkit.decompress(packed) == data
                assert huffkit.decompress(packed, threads=2) == data
        book = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(data))
        assert huffkit.decompress(huffkit.compress(data, codebook=book), codebook=book) == data
        assert huffkit.inspect(huffkit.compress(data)).symbols == len(data)
        print("ok", "bitarray" in sys.modules and sys.modules["bitarray"] is not None)
        """)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok False\n", "")


@needs_c
def test_the_command_line_runs_without_bitarray(tmp_path):
    data = b"".join(b"%d bottles of beer\n" % i for i in range(3000))
    (tmp_path / "text.txt").write_bytes(data)
    compressed = _run(tmp_path, "", "-m", "huffkit", "compress", "text.txt")
    assert (compressed.returncode, compressed.stderr) == (0, "")
    (tmp_path / "text.txt").unlink()
    decompressed = _run(tmp_path, "", "-m", "huffkit", "decompress", "text.txt.huf")
    assert (decompressed.returncode, decompressed.stderr) == (0, "")
    assert (tmp_path / "text.txt").read_bytes() == data


@needs_c
def test_choosing_numpy_without_bitarray_says_what_is_missing(tmp_path):
    result = _run(tmp_path, """
        from huffkit.kernels import backend
        try:
            backend.use("numpy")
        except ImportError as error:
            print(type(error).__name__, error, sep=": ")
        print(backend.name())
        """)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"ImportError: {MISSING}\nc\n"


@needs_c
def test_huffkit_backend_numpy_without_bitarray_warns_and_uses_c(tmp_path):
    result = _run(tmp_path, """
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import huffkit
            print(huffkit.backend)  # chosen, and warned about, when first used
        for warning in caught:
            print(warning.category.__name__, warning.message, sep=": ")
        assert huffkit.decompress(huffkit.compress(b"abracadabra")) == b"abracadabra"
        """, backend="numpy")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"c\nRuntimeWarning: HUFFKIT_BACKEND=numpy, but {MISSING}; using c\n"


def test_without_bitarray_or_the_compiled_kernels_huffkit_still_imports(tmp_path):
    # The numpy kernels are all that is left: they compress, decode rANS, and say what is
    # missing when a Huffman block needs bitarray.
    result = _run(tmp_path, """
        import sys
        sys.modules["huffkit.kernels._ckernels"] = None  # as if they had not been built
        import huffkit
        from huffkit.kernels import backend
        print(huffkit.backend)
        print(backend.describe())
        data = b"abracadabra" * 100
        assert huffkit.decompress(huffkit.compress(data, coder="ans")) == data
        packed = huffkit.compress(data)
        try:
            huffkit.decompress(packed)
        except ImportError as error:
            print(type(error).__name__, error, sep=": ")
        """)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == ("numpy\nbackend numpy: the compiled kernels were not built when "
                             "huffkit was installed (was there no C compiler?); and "
                             f"{MISSING}\nImportError: {MISSING}\n")
