"""The two backends, compiled and numpy: the same bytes out, the same data back, the same
errors, and a huffkit that still works when the compiled kernels are missing."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from contextlib import contextmanager

import pytest
from conftest import BACKENDS, corpus_files, requires_corpora
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit
import huffkit.corpora
from huffkit.kernels import backend as kernel_backend

needs_both = pytest.mark.skipif(len(BACKENDS) < 2, reason="the compiled kernels are not built")

CODERS = ("huffman", "ans")
ALPHABETS = ("bytes", "utf8", "pairs")


@contextmanager
def backend(name: str):
    previous = kernel_backend.name()
    kernel_backend.use(name)
    try:
        yield
    finally:
        kernel_backend.use(previous)


def on_each(function, *args, **kwargs) -> dict[str, object]:
    """What *function* returns, or the error it raises, on each backend."""
    results = {}
    for name in BACKENDS:
        with backend(name):
            try:
                results[name] = function(*args, **kwargs)
            except huffkit.HuffmanError as error:
                results[name] = (type(error), str(error))
    return results


def same_on_each(function, *args, **kwargs):
    results = on_each(function, *args, **kwargs)
    values = list(results.values())
    assert all(value == values[0] for value in values[1:]), results
    return values[0]


def test_the_compiled_kernels_are_built_in_ci():
    # CI installs from a fresh clone with a C compiler: a silent fallback there is a bug.
    if not os.environ.get("CI"):
        pytest.skip("only CI promises a C compiler")
    assert kernel_backend.unavailable is None
    assert huffkit.backend == "c"


@needs_both
def test_the_compiled_backend_names_the_compiler_that_built_it():
    from huffkit.kernels import compiled

    assert re.fullmatch(r"(gcc|clang) \d+\.\d+\S*( .*)?", compiled.COMPILER), compiled.COMPILER
    with backend("c"):
        assert kernel_backend.describe() == ("backend c: compiled kernels, built by "
                                             + compiled.COMPILER)


def test_backend_names_the_one_in_use():
    for name in BACKENDS:
        with backend(name):
            assert huffkit.backend == name
    with pytest.raises(ValueError, match="backend must be one of 'c', 'numpy', not 'fortran'"):
        kernel_backend.use("fortran")


@needs_both
@requires_corpora
@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: path.name)
@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.slow  # every file of the shared corpora
def test_corpora_compress_to_the_same_bytes(path, coder):
    data = path.read_bytes()
    packed = same_on_each(huffkit.compress, data, coder=coder, block_size=1 << 18)
    assert same_on_each(huffkit.decompress, packed) == data


@needs_both
@pytest.mark.parametrize("alphabet", ALPHABETS)
@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.parametrize("name", [entry.name for entry in huffkit.corpora.manifest()])
def test_bundled_corpora_in_every_alphabet(name, coder, alphabet):
    data = huffkit.corpora.path(name).read_bytes()
    if alphabet == "utf8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return  # binary samples have no utf8 reading
    packed = same_on_each(huffkit.compress, data, coder=coder, alphabet=alphabet,
                          block_size=4096)
    assert same_on_each(huffkit.decompress, packed) == data


@needs_both
@pytest.mark.parametrize("coder", CODERS)
def test_codebooks_code_alike(coder):
    english = huffkit.corpora.path("english.txt").read_bytes()
    source = huffkit.corpora.path("source.c").read_bytes()
    model = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(source).smoothed(0.5))
    for embed in (True, False):
        packed = same_on_each(huffkit.compress, english, codebook=model, coder=coder,
                              embed_codebook=embed, block_size=3000)
        assert same_on_each(huffkit.decompress, packed, codebook=model) == english


@needs_both
@settings(max_examples=150, deadline=None)
@given(data=st.one_of(st.binary(max_size=3000),
                      st.text(max_size=800).map(lambda text: text.encode("utf-8", "replace")),
                      st.lists(st.sampled_from(b"ab\x00\xff"), max_size=5000).map(bytes)),
       block_size=st.integers(4, 5000), coder=st.sampled_from(CODERS),
       alphabet=st.sampled_from(ALPHABETS), max_code_length=st.sampled_from([None, 9, 12]))
def test_property_the_backends_agree(data, block_size, coder, alphabet, max_code_length):
    if alphabet == "utf8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            alphabet = "bytes"
    if max_code_length is not None and alphabet != "bytes":
        max_code_length += 8  # room for the larger alphabets' distinct symbols
    packed = same_on_each(huffkit.compress, data, coder=coder, alphabet=alphabet,
                          block_size=block_size, max_code_length=max_code_length)
    if isinstance(packed, tuple):  # refused alike on both (too many symbols for the limit)
        assert packed[0] is huffkit.CodebookError
        return
    assert same_on_each(huffkit.decompress, packed) == data


@needs_both
@pytest.mark.parametrize("alphabet", ALPHABETS)
@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.slow
def test_every_bit_flip_fails_alike(coder, alphabet):
    # One corrupted file per bit: both backends raise the same error, word for word (or,
    # where a flip is harmless, both return the same data).
    data = "Bits flip; huffkit notices. 비트가 바뀌면 알아챈다.".encode() * 3
    packed = huffkit.compress(data, coder=coder, alphabet=alphabet, block_size=64)
    for bit in range(8 * len(packed)):
        damaged = bytearray(packed)
        damaged[bit // 8] ^= 0x80 >> (bit % 8)
        same_on_each(huffkit.decompress, bytes(damaged))


@needs_both
def test_four_stream_blocks_fail_alike_in_each_stream():
    # A block of 4 streams, damaged in each stream in turn (the fast loop decodes all four
    # together; the error must still be the first damaged stream's, as numpy reports it).
    data = bytes(range(256)) * 260 + b"tail"  # 2^16 symbols and more: 4 streams
    packed = huffkit.compress(data)
    (info,) = huffkit.frame_info(packed)[0].blocks
    assert info.streams == 4
    end = info.offset + info.size  # the streams are the block's last bytes
    payload = info.payload_bits // 8
    for offset in range(end - payload, end, max(1, payload // 16)):
        for mask in (0x01, 0x80):
            damaged = bytearray(packed)
            damaged[offset] ^= mask
            same_on_each(huffkit.decompress, bytes(damaged))
    assert same_on_each(huffkit.decompress, packed) == data


HIDE_THE_COMPILED_KERNELS = """
import importlib.abc, sys

class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "huffkit.kernels._ckernels":
            raise ImportError("hidden by the test")

sys.meta_path.insert(0, Hide())
"""


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "HUFFKIT_BACKEND"}
    env.update(environment)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)


def test_without_the_compiled_kernels_huffkit_runs_on_numpy():
    result = run_python(HIDE_THE_COMPILED_KERNELS + """
import huffkit, huffkit.cli
data = b"abracadabra" * 1000
assert huffkit.backend == "numpy", huffkit.backend
for coder in ("huffman", "ans"):
    assert huffkit.decompress(huffkit.compress(data, coder=coder)) == data
print(len(huffkit.compress(data)))
try:
    huffkit.cli.main(["--version", "--verbose"])
except SystemExit:
    pass
""")
    assert result.returncode == 0, result.stderr
    size, version = result.stdout.splitlines()
    assert int(size) == len(huffkit.compress(b"abracadabra" * 1000))  # the same bytes
    assert version == (f"huffkit {huffkit.__version__} (backend numpy: the compiled kernels "
                       "cannot be loaded (hidden by the test))")


def test_asking_for_missing_compiled_kernels_warns_and_uses_numpy():
    result = run_python(HIDE_THE_COMPILED_KERNELS + "import huffkit; print(huffkit.backend)",
                        HUFFKIT_BACKEND="c")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "numpy\n"
    assert ("RuntimeWarning: HUFFKIT_BACKEND=c, but the compiled kernels cannot be loaded "
            "(hidden by the test); using numpy") in result.stderr


@pytest.mark.parametrize("value, expected", [("numpy", "numpy"), ("NumPy", "numpy"),
                                             ("auto", BACKENDS[0]), ("", BACKENDS[0])])
def test_the_environment_chooses(value, expected):
    result = run_python("import huffkit; print(huffkit.backend)", HUFFKIT_BACKEND=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected}\n"
    assert result.stderr == ""


def test_an_unknown_backend_warns_and_uses_auto():
    result = run_python("import huffkit; print(huffkit.backend)", HUFFKIT_BACKEND="fortran")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{BACKENDS[0]}\n"
    assert ("RuntimeWarning: HUFFKIT_BACKEND='fortran' is not one of auto, c, numpy; "
            "using auto") in result.stderr


def test_the_reason_given_when_the_kernels_were_never_built(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert kernel_backend._missing(ImportError("cannot import name '_ckernels'")) == (
        "the compiled kernels were not built when huffkit was installed (was there no C "
        "compiler?)")
