"""huffkit: Huffman coding you can account for.

A fast, safe order-0 Huffman codec for bytes with the standard library's
compression API (``compress``/``decompress``, incremental compressor and
decompressor objects, ``open()`` and a file object), plus the pieces it is
built from: :class:`Distribution` (the P or Q of the symbols) and
:class:`Codebook` (optimal, length-limited canonical codes).  A file can be
coded with its own distribution or with any model Q (``codebook=``), and
:func:`inspect` / :func:`analyze` account for every bit of the result
against the entropy, the cross-entropy and the KL divergence (``models.measures``).

    >>> import huffkit
    >>> packed = huffkit.compress(b"abracadabra" * 100)
    >>> huffkit.decompress(packed) == b"abracadabra" * 100
    True
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    ChecksumError,
    CodebookError,
    FormatError,
    HuffmanError,
    MemoryLimitError,
    ShapeError,
    TruncatedError,
)
from ._types import AlphabetName, Coder, ModelName
from ._version import __version__

# Everything else is imported when first used (PEP 562): `import huffkit` stays cheap, and
# `huffkit --version` or `huffkit --help` (the command line is huffkit.cli, a subpackage, so
# it imports this module first) starts without numpy.
if TYPE_CHECKING:
    from .analysis.experiments import Comparison, Sweep, compare, sweep
    from .analysis.ladder import Ladder, Rung, ladder
    from .analysis.ledger import LearningCurve, Ledger, SymbolRow, analyze, inspect
    from .format.frame import DEFAULT_MEMORY_LIMIT
    from .format.info import BlockInfo, FrameInfo, frame_info
    from .format.layout import (
        DEFAULT_BLOCK_SIZE,
        FORMAT_VERSION,
        LONGEST_CODE,
        MAGIC,
        MAX_BLOCK_SIZE,
        MODEL_BLOCK_SIZE,
    )
    from .models.alphabet import AlphabetError
    from .models.codebook import DEFAULT_MAX_CODE_LENGTH, Codebook
    from .models.distribution import Distribution
    from .models.measures import (
        binary_cross_entropy,
        cross_entropy,
        entropy,
        js_divergence,
        kl_divergence,
    )
    from .models.predicted import (
        PredictedCode,
        PredictedDecoder,
        decode_with_probabilities,
        encode_with_probabilities,
    )
    from .stream.chunked import compress_file
    from .stream.compressor import HuffmanCompressor, compress
    from .stream.decompressor import HuffmanDecompressor, decompress
    from .stream.file import HuffmanFile, open

#: Where each lazily imported name lives, relative to this package.
_LAZY = {
    "Comparison": ".analysis.experiments",
    "Sweep": ".analysis.experiments",
    "compare": ".analysis.experiments",
    "sweep": ".analysis.experiments",
    "Ladder": ".analysis.ladder",
    "Rung": ".analysis.ladder",
    "ladder": ".analysis.ladder",
    "LearningCurve": ".analysis.ledger",
    "Ledger": ".analysis.ledger",
    "SymbolRow": ".analysis.ledger",
    "analyze": ".analysis.ledger",
    "inspect": ".analysis.ledger",
    "DEFAULT_MEMORY_LIMIT": ".format.frame",
    "BlockInfo": ".format.info",
    "FrameInfo": ".format.info",
    "frame_info": ".format.info",
    "DEFAULT_BLOCK_SIZE": ".format.layout",
    "FORMAT_VERSION": ".format.layout",
    "LONGEST_CODE": ".format.layout",
    "MAGIC": ".format.layout",
    "MAX_BLOCK_SIZE": ".format.layout",
    "MODEL_BLOCK_SIZE": ".format.layout",
    "AlphabetError": ".models.alphabet",
    "DEFAULT_MAX_CODE_LENGTH": ".models.codebook",
    "Codebook": ".models.codebook",
    "Distribution": ".models.distribution",
    "binary_cross_entropy": ".models.measures",
    "cross_entropy": ".models.measures",
    "entropy": ".models.measures",
    "js_divergence": ".models.measures",
    "kl_divergence": ".models.measures",
    "PredictedCode": ".models.predicted",
    "PredictedDecoder": ".models.predicted",
    "decode_with_probabilities": ".models.predicted",
    "encode_with_probabilities": ".models.predicted",
    "compress_file": ".stream.chunked",
    "HuffmanCompressor": ".stream.compressor",
    "compress": ".stream.compressor",
    "HuffmanDecompressor": ".stream.decompressor",
    "decompress": ".stream.decompressor",
    "HuffmanFile": ".stream.file",
    "open": ".stream.file",
}
#: Subpackages, imported when first used as attributes (``huffkit.models.measures``).
_SUBPACKAGES = frozenset({"analysis", "cli", "corpora", "format", "kernels", "models", "stream",
                          "tools"})

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_MAX_CODE_LENGTH",
    "DEFAULT_MEMORY_LIMIT",
    "FORMAT_VERSION",
    "LONGEST_CODE",
    "MAGIC",
    "MAX_BLOCK_SIZE",
    "MODEL_BLOCK_SIZE",
    "AlphabetError",
    "AlphabetName",
    "BlockInfo",
    "ChecksumError",
    "Codebook",
    "CodebookError",
    "Coder",
    "Comparison",
    "Distribution",
    "FormatError",
    "FrameInfo",
    "HuffmanCompressor",
    "HuffmanDecompressor",
    "HuffmanError",
    "HuffmanFile",
    "Ladder",
    "LearningCurve",
    "Ledger",
    "MemoryLimitError",
    "ModelName",
    "PredictedCode",
    "PredictedDecoder",
    "Rung",
    "ShapeError",
    "Sweep",
    "SymbolRow",
    "TruncatedError",
    "__version__",
    "analyze",
    "backend",
    "binary_cross_entropy",
    "compare",
    "compress",
    "compress_file",
    "cross_entropy",
    "decode_with_probabilities",
    "decompress",
    "encode_with_probabilities",
    "entropy",
    "frame_info",
    "inspect",
    "js_divergence",
    "kl_divergence",
    "ladder",
    "open",
    "sweep",
]


def __getattr__(name: str) -> Any:
    # huffkit.backend is looked up each time: the tests switch backends while running.
    if name == "backend":
        from .kernels import backend
        return backend.name()
    if name in _LAZY or name in _SUBPACKAGES:
        # The first use imports all that `import huffkit` used to: from then on the
        # package is as it always was, submodules such as huffkit.stream.split included.
        for module in dict.fromkeys(_LAZY.values()):
            imported = importlib.import_module(module, __name__)
            globals().update({key: getattr(imported, key)
                              for key, where in _LAZY.items() if where == module})
        if name in _SUBPACKAGES:
            return importlib.import_module(f".{name}", __name__)
        return globals()[name]
    raise AttributeError(f"module 'huffkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
