"""The real corpora: exact round trips, and sizes against the optimal static Huffman bound.

The bounds come from ../shared/corpora/*/SOURCES.md (`payload`: the bytes an optimal
whole-file order-0 Huffman code needs, tables excluded).  Skipped where ../shared is absent.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from bitarray.util import huffman_code
from conftest import corpus_bounds, corpus_files, requires_corpora

import huffkit

pytestmark = requires_corpora

FILES = corpus_files()
BOUNDS = corpus_bounds()
CANTERBURY = [path for path in FILES if path.parent.name == "canterbury"]


def optimal_huffman_bits(data: bytes) -> int:
    """The payload of an optimal unlimited Huffman code, from bitarray's implementation."""
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    if np.count_nonzero(counts) == 1:
        return len(data)
    code = huffman_code({symbol: int(c) for symbol, c in enumerate(counts) if c})
    return sum(int(counts[symbol]) * len(word) for symbol, word in code.items())


def test_the_corpora_and_their_bounds_are_all_there():
    assert len(CANTERBURY) == 11
    assert {path.name for path in FILES} <= set(BOUNDS)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_round_trip(path):
    data = path.read_bytes()
    assert len(data) == BOUNDS[path.name]["bytes"]
    packed = huffkit.compress(data)
    assert huffkit.decompress(packed) == data
    with huffkit.open(io.BytesIO(packed)) as stream:
        assert stream.read() == data


@pytest.mark.parametrize("path", CANTERBURY, ids=lambda path: path.name)
def test_size_is_within_half_a_percent_and_600_bytes_of_the_bound(path):
    data = path.read_bytes()
    bound = BOUNDS[path.name]["payload"]
    size = len(huffkit.compress(data, split=False))  # one static code per megabyte
    assert bound <= size <= bound * 1.005 + 600
    # Blocks cut where the statistics change (the default) can only make it smaller.
    assert len(huffkit.compress(data)) <= size


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_payload_is_exactly_the_optimal_code_cost(path):
    data = path.read_bytes()
    (frame,) = huffkit.frame_info(huffkit.compress(data, block_size=huffkit.MAX_BLOCK_SIZE,
                                                   split=False))
    (block,) = frame.blocks
    bound = BOUNDS[path.name]
    if bound["maxL"] <= huffkit.DEFAULT_MAX_CODE_LENGTH:
        # The length limit does not bind: the code is an optimal Huffman code.
        assert block.payload_bits == optimal_huffman_bits(data)
    else:
        # It binds: the cost is the optimal 15-bit code's (Huff15 is rounded to 4 places).
        assert block.payload_bits >= optimal_huffman_bits(data)
        assert block.payload_bits / len(data) == pytest.approx(bound["Huff15"], abs=5e-5)
    assert block.max_code_length <= huffkit.DEFAULT_MAX_CODE_LENGTH


def _zlib_huffman_only(data: bytes) -> int:
    """The size of a gzip file of *data* made with zlib's Huffman-only strategy."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_HUFFMAN_ONLY)
    return len(deflate.compress(data) + deflate.flush())


@pytest.mark.parametrize("path", [path for path in FILES if path.stat().st_size >= 4096],
                         ids=lambda path: path.name)
def test_huffman_against_zlib_huffman_only(path):
    """Blocks that follow the data, and version 2's lean framing (22 bytes for a one-block
    file against gzip's 18 and deflate's block header: FORMAT.md 17.1), make huffkit's
    Huffman file no larger than zlib's Huffman-only gzip file."""
    data = path.read_bytes()
    assert len(huffkit.compress(data)) <= _zlib_huffman_only(data)
