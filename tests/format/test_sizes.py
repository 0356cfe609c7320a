"""Issue 17's size targets for version-2 frames (FORMAT.md, section 17), file by file.

- Huffman: no larger than gzip's Huffman-only output (zlib level 9, a gzip wrapper, memLevel
  9, Z_HUFFMAN_ONLY) on every file of 4 KB or more in ../shared/corpora, and on generated
  English-like text of 4 to 100 KB.
- rANS: at most n * H0 / 8 * 1.002 + 256 bytes on the same files, H0 the order-0 entropy in
  bits per byte.

Each file is its own test, whose failure message gives the margin.  The corpora are skipped
where ../shared is absent; the generated text is made here, from the words of the bundled
corpora/english.txt with a seeded generator, so it is the same everywhere.
"""

from __future__ import annotations

import random
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_files

import huffkit

SMALLEST = 4096
ENGLISH = Path(__file__).resolve().parents[2] / "corpora" / "english.txt"
CORPUS = [path for path in corpus_files() if path.stat().st_size >= SMALLEST]
TEXT_SIZES = list(range(4096, 102_400 + 1, 4096))  # 4 KB to 100 KB

# Version 2's framing of a one-block file is 22 bytes (FORMAT.md 17.1: the header, the
# block's type and CRC, its stream's bit count; the last block stores no symbol count and
# needs no frame end) against gzip's 18 and deflate's own block header and end-of-block
# code.  With that alone the margin on small text was 0 to 3 bytes, and the dense sweep
# below found one file of 410 a byte over; a block of data under 64 KB now also tries
# shorter limits on its code, which shrink the compact table (FORMAT.md 16.3), and every
# file of the sweep is 2 bytes or more below gzip's.  The sizes were fixed before either
# change, not chosen to pass.
DENSE = [(size, seed) for seed in (1, 2)
         for size in [*range(4096, 40_960, 256), *range(40_960, 102_400 + 1, 1024)]]


def gzip_huffman_only(data: bytes) -> int:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_HUFFMAN_ONLY)
    return len(compressor.compress(data) + compressor.flush())


def entropy_bound(data: bytes) -> float:
    """n * H0 / 8 * 1.002 + 256 bytes."""
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    counts = counts[counts > 0]
    bits = float(-(counts * np.log2(counts / len(data))).sum())
    return bits / 8 * 1.002 + 256


def english_like(size: int, seed: int) -> bytes:
    """Words of corpora/english.txt drawn at random (so in their own proportions), in lines
    of at most 72 characters, cut to *size* bytes."""
    words = re.findall(rb"\S+", ENGLISH.read_bytes())
    rng = random.Random(seed)
    out, line = bytearray(), 0
    while len(out) < size:
        word = words[rng.randrange(len(words))]
        if out and line + 1 + len(word) > 72:
            out += b"\n"
            line = 0
        elif out:
            out += b" "
            line += 1
        out += word
        line += len(word)
    return bytes(out[:size])


def _cases() -> list:
    cases = [pytest.param(lambda path=path: path.read_bytes(), id=path.name) for path in CORPUS]
    cases += [pytest.param(lambda size=size: english_like(size, size), id=f"text-{size}")
              for size in TEXT_SIZES]
    return cases


@pytest.mark.parametrize("read", _cases())
def test_huffman_no_larger_than_gzip_huffman_only(read):
    data = read()
    ours, gzip = len(huffkit.compress(data)), gzip_huffman_only(data)
    assert ours <= gzip, f"{len(data)} bytes: huffkit {ours}, gzip -HO {gzip}: {ours - gzip} over"


def test_huffman_no_larger_than_gzip_huffman_only_on_a_dense_sweep_of_text():
    """Generated text every 256 bytes from 4 to 40 KB and every KB to 100 KB, two seeds."""
    over = []
    for size, seed in DENSE:
        data = english_like(size, size * 7 + seed)
        ours, gzip = len(huffkit.compress(data)), gzip_huffman_only(data)
        if ours > gzip:
            over.append(f"{size} bytes (seed {seed}): {ours} against {gzip}")
    assert len(DENSE) == 410 and not over, over


@pytest.mark.parametrize("read", _cases())
def test_rans_within_the_entropy_bound(read):
    data = read()
    ours, bound = len(huffkit.compress(data, coder="ans")), entropy_bound(data)
    assert ours <= bound, (f"{len(data)} bytes: rANS {ours}, n H0 / 8 * 1.002 + 256 = "
                           f"{bound:.1f}: {ours - bound:.1f} over")


def test_generated_text_is_english_like_and_reproducible():
    text = english_like(SMALLEST, 1)
    assert len(text) == SMALLEST and text == english_like(SMALLEST, 1)
    assert max(map(len, text.split(b"\n"))) <= 72
    assert english_like(SMALLEST, 2) != text


def test_korean_rans_beats_huffman_in_utf8():
    """The compact frequency table (FORMAT.md 17.3): 460 distinct characters no longer make
    rANS lose to Huffman on the bundled Korean text (version 1: 5 956 against 5 660)."""
    data = (ENGLISH.parent / "korean.txt").read_bytes()
    rans = huffkit.compress(data, coder="ans", alphabet="utf8")
    huffman = huffkit.compress(data, alphabet="utf8")
    assert (len(rans), len(huffman)) == (5423, 5643)
    assert huffkit.decompress(rans) == data
