"""The public surface: names, version, format constants and error hierarchy."""

from __future__ import annotations

import re

import huffkit


def test_public_names():
    assert sorted(huffkit.__all__) == sorted([
        "DEFAULT_BLOCK_SIZE", "DEFAULT_MAX_CODE_LENGTH", "DEFAULT_MEMORY_LIMIT",
        "FORMAT_VERSION", "LONGEST_CODE", "MAGIC", "MAX_BLOCK_SIZE", "AlphabetError",
        "BlockInfo", "ChecksumError", "Codebook", "CodebookError",
        "Distribution", "FormatError", "FrameInfo", "HuffmanCompressor", "HuffmanDecompressor",
        "HuffmanError", "HuffmanFile", "MemoryLimitError", "ShapeError", "TruncatedError",
        "__version__",
        "backend", "compress", "decompress", "frame_info", "open",
        # information measures and the ledger
        "Ledger", "SymbolRow", "analyze", "inspect", "entropy", "cross_entropy",
        "kl_divergence", "js_divergence", "binary_cross_entropy",
        # experiments
        "compare", "sweep", "Comparison", "Sweep",
        # bring your own model
        "encode_with_probabilities", "decode_with_probabilities", "PredictedCode",
        "PredictedDecoder",
        # sequential models: their block size, the ladder, the learning curve
        "MODEL_BLOCK_SIZE", "ladder", "Ladder", "Rung", "LearningCurve",
        # the names coder=, alphabet= and model= take, as Literal types
        "Coder", "AlphabetName", "ModelName",
        # a large file compressed in chunks, on an executor (a Dask cluster, say)
        "compress_file",
    ])
    for name in huffkit.__all__:
        assert hasattr(huffkit, name), name


def test_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+", huffkit.__version__)


def test_format_constants():
    assert huffkit.MAGIC == b"\x89HUF"
    assert huffkit.FORMAT_VERSION == 2  # FORMAT.md section 17; version 1 is still read
    assert huffkit.DEFAULT_BLOCK_SIZE == 1 << 20
    assert huffkit.MODEL_BLOCK_SIZE == 1 << 24  # FORMAT.md 18.6
    assert huffkit.MAX_BLOCK_SIZE == 1 << 26
    assert huffkit.DEFAULT_MAX_CODE_LENGTH == 15
    assert huffkit.LONGEST_CODE == 31
    assert huffkit.DEFAULT_MEMORY_LIMIT == 128 << 20  # zstd's default limit


def test_error_hierarchy():
    assert issubclass(huffkit.FormatError, huffkit.HuffmanError)
    assert issubclass(huffkit.ChecksumError, huffkit.FormatError)
    assert issubclass(huffkit.TruncatedError, huffkit.FormatError)
    assert issubclass(huffkit.TruncatedError, EOFError)
    assert issubclass(huffkit.CodebookError, huffkit.HuffmanError)
    assert issubclass(huffkit.CodebookError, ValueError)
    assert issubclass(huffkit.ShapeError, huffkit.HuffmanError)
    assert issubclass(huffkit.ShapeError, ValueError)
    assert not issubclass(huffkit.FormatError, ValueError)
    # A frame over the memory limit may well be valid: not a FormatError.
    assert huffkit.MemoryLimitError.__mro__[1:] == (huffkit.HuffmanError, Exception,
                                                    BaseException, object)


def test_python_dash_m_and_typed_marker():
    from importlib.resources import files

    assert files("huffkit").joinpath("py.typed").is_file()
    assert files("huffkit").joinpath("__main__.py").is_file()
