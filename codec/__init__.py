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

from ._errors import (
    ChecksumError,
    CodebookError,
    FormatError,
    HuffmanError,
    MemoryLimitError,
    TruncatedError,
)
from ._version import __version__
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
from .stream.compressor import HuffmanCompressor, compress
from .stream.decompressor import HuffmanDecompressor, decompress
from .stream.file import HuffmanFile, open

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
    "BlockInfo",
    "ChecksumError",
    "Codebook",
    "CodebookError",
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
    "PredictedCode",
    "PredictedDecoder",
    "Rung",
    "Sweep",
    "SymbolRow",
    "TruncatedError",
    "__version__",
    "analyze",
    "backend",
    "binary_cross_entropy",
    "compare",
    "compress",
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


def __getattr__(name: str):
    # huffkit.backend is looked up each time: the tests switch backends while running.
    if name == "backend":
        from .kernels import backend
        return backend.name()
    raise AttributeError(f"module 'huffkit' has no attribute {name!r}")
