"""Exhaustive damage: every truncation and every single-bit flip of small files of each kind.

For each coder and alphabet, with compact tables, reused codes and tables, plain tables and
codebook sections (embedded and referenced), a file of one or two hundred bytes is cut at
every point and has each of its bits flipped in turn, on each backend:

- every proper prefix is a ``TruncatedError`` from ``decompress`` and from ``open()``, and a
  ``HuffmanDecompressor`` fed it hands out exactly the blocks it holds whole, then waits
  for more (and, given the rest, finishes the frame);
- every flip is an error of the ``FormatError`` family, or a ``CodebookError`` for a flip
  inside a codebook section (FORMAT.md 3.1 and rule K5), or decodes to exactly the original;
  a ``HuffmanDecompressor`` fed the damaged file in pieces hands out only a prefix of the
  original before it reports the same kind of error; and the compiled kernels and the numpy
  reference report the same error, word for word.

tests/format/test_corruption.py and tests/models/test_ans.py check the same on a few other
files, and sampled flips of large split files.  Each test here takes 0.05 to 4 s (the flips
of a rANS file on the numpy reference, which decodes a step per symbol, the most); the whole file
about 40 s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import random

import numpy as np
import pytest
from conftest import BACKENDS

import huffkit
from huffkit import CodebookError, FormatError, HuffmanError, TruncatedError
from huffkit.format.frame import pack_frame_end, pack_frame_header
from huffkit.format.layout import (
    BLOCK_ANS,
    BLOCK_ANS_REUSE,
    BLOCK_ANS_SHARED,
    BLOCK_HUFFMAN,
    BLOCK_HUFFMAN_COMPACT,
    BLOCK_HUFFMAN_REUSE,
    BLOCK_HUFFMAN_SHARED,
    BLOCK_LAST,
    BLOCK_MODEL,
    FRAME_HEADER_SIZE,
)
from huffkit.kernels import backend as kernel_backend
from huffkit.stream.pieces import _plan_ans_pieces, _write_ans_pieces, encode_pieces

# -- samples ---------------------------------------------------------------------------------

_WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "cat"]


def _text(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    text = rng.choice(_WORDS)
    while len(text) < size:
        text += " " + rng.choice(_WORDS)
    return text.encode()[:size]


def _pieces_frame(data: bytes, ends: list[int], coder: str, *, block_size: int,
                  lanes: list[int] | None = None) -> bytes:
    """A frame of byte blocks ending at *ends*, written by huffkit's own split writer.

    ``compress`` cuts blocks only on a grid of 8 KB cells (huffkit.stream.split.CELL), so a file
    it writes with a reused code or table holds 16 K symbols or more: at least 2 KB for
    Huffman, too many bits to flip one by one on the numpy reference.  Here the cut points
    are chosen (an encoder's choice, FORMAT.md 16.3, not a format rule); the rest is the
    writer ``compress`` uses, which gives each piece a compact or plain table, or the
    previous piece's code.  *lanes* overrides its choice of rANS lanes, as another encoder
    may choose.
    """
    symbols = np.frombuffer(data, dtype=np.uint8)
    counts = np.array([np.bincount(symbols[start:end], minlength=256)
                       for start, end in zip([0, *ends[:-1]], ends, strict=True)])
    if coder == "ans":
        plans = _plan_ans_pieces(counts)
        if lanes is not None:
            plans = [dataclasses.replace(plan, lanes=count)
                     for plan, count in zip(plans, lanes, strict=True)]
        body = _write_ans_pieces(data, symbols, ends, plans)
    else:
        body = encode_pieces(data, symbols, ends, counts,
                                       huffkit.DEFAULT_MAX_CODE_LENGTH, coder)
    return (pack_frame_header(block_size, coder=coder)
            + b"".join(bytes(part) for part in body) + pack_frame_end(len(data)))


@dataclasses.dataclass(frozen=True)
class Sample:
    original: bytes
    packed: bytes
    codebook: huffkit.Codebook | None = None  # what decompressing it needs (referenced)


_TEXT = _text(200, 1)
#: Characters of one to four bytes in UTF-8.
_UTF8_TEXT = "Ünïcödé façade — naïve café, 東京 と 大阪, ἀρχή 🙂🙃! "
_UTF8 = _UTF8_TEXT.encode()
_UTF8_SHORT = _UTF8_TEXT[:22].encode()
_PAIRS = _text(61, 2)  # odd: the last symbol is a single byte (FORMAT.md 15)
#: Runs whose statistics change: a piece, two of a subset of its bytes, then other bytes.
_RUNS = b"abracadabra cadabra abba" + b"abacab" + b"rabbac" + b"zzz yyy zy xzzy"
_RUNS_ENDS = [24, 30, 36, len(_RUNS)]
_ANS_RUNS = b"abracadabra cadabra" + b"abbacab" + b"xyzzy yzx"
_ANS_RUNS_ENDS = [19, 26, len(_ANS_RUNS)]
#: A model of a text's own bytes and two more, unsmoothed, so that its tables stay small.
_MODEL_TEXT = _text(120, 3)
_MODEL = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(_MODEL_TEXT + b"xq"))


def _samples() -> dict[str, Sample]:
    compress = huffkit.compress
    return {
        # Huffman: compact tables (split, the default), reused codes, plain tables.
        "huffman-bytes": Sample(_TEXT, compress(_TEXT, block_size=70)),
        "huffman-bytes-reused": Sample(_RUNS, _pieces_frame(_RUNS, _RUNS_ENDS, "huffman",
                                                            block_size=32)),
        "huffman-bytes-plain": Sample(_TEXT[:150], compress(_TEXT[:150], block_size=60,
                                                            split=False)),
        "huffman-utf8": Sample(_UTF8, compress(_UTF8, alphabet="utf8", block_size=30)),
        "huffman-pairs": Sample(_PAIRS, compress(_PAIRS, alphabet="pairs", block_size=24)),
        "huffman-embedded": Sample(_MODEL_TEXT, compress(_MODEL_TEXT, codebook=_MODEL,
                                                         block_size=50)),
        "huffman-referenced": Sample(_MODEL_TEXT, compress(_MODEL_TEXT, codebook=_MODEL,
                                                           embed_codebook=False, block_size=50),
                                     _MODEL),
        # rANS: own tables (split or not, the same file), reused tables, several lanes.
        "ans-bytes": Sample(_TEXT[:60], compress(_TEXT[:60], coder="ans", block_size=20)),
        "ans-bytes-reused": Sample(_ANS_RUNS, _pieces_frame(_ANS_RUNS, _ANS_RUNS_ENDS, "ans",
                                                            block_size=20, lanes=[2, 3, 1])),
        "ans-utf8": Sample(_UTF8_SHORT, compress(_UTF8_SHORT, coder="ans", alphabet="utf8",
                                                 block_size=12)),
        "ans-pairs": Sample(_PAIRS[:41], compress(_PAIRS[:41], coder="ans", alphabet="pairs",
                                                  block_size=16)),
        "ans-embedded": Sample(_MODEL_TEXT[:60], compress(_MODEL_TEXT[:60], codebook=_MODEL,
                                                          coder="ans", block_size=25)),
        "ans-referenced": Sample(_MODEL_TEXT[:60], compress(_MODEL_TEXT[:60], codebook=_MODEL,
                                                            coder="ans", embed_codebook=False,
                                                            block_size=25), _MODEL),
        # Sequential models (FORMAT.md 18): model blocks, and one that is a frame's last.
        # (Blocks long enough for contexts to repeat: in a block where none does, every
        # prediction is 1/2 and adaptive2 and adaptive3 write the same payload, so a flip of
        # the order byte would decode to the same bytes.)
        "model-adaptive2": Sample(_TEXT[:64], compress(_TEXT[:64], model="adaptive2",
                                                       block_size=32)),
        "model-adaptive1-last": Sample(_TEXT[:40], compress(_TEXT[:40], model="adaptive1")),
        "model-order2": Sample(_TEXT[:48], compress(_TEXT[:48], model="order2")),
        "model-cm": Sample(_TEXT[:30], compress(_TEXT[:30], model="cm")),
    }


SAMPLES = _samples()


def _structure(sample: Sample) -> tuple:
    """(coder, alphabet, codebook, [(block type, symbols, streams or lanes), ...])."""
    (frame,) = huffkit.frame_info(sample.packed, codebook=sample.codebook)
    storage = (None if frame.codebook is None
               else "embedded" if frame.codebook_embedded else "referenced")
    return (frame.coder, frame.alphabet, storage,
            [(sample.packed[block.offset], block.symbols, block.streams)
             for block in frame.blocks])


def test_samples_have_the_intended_structure():
    """Small samples, but with every kind of block and codebook section: keep them honest."""
    compact, reused, plain = BLOCK_HUFFMAN_COMPACT, BLOCK_HUFFMAN_REUSE, BLOCK_HUFFMAN
    shared, ans, ans_reused, ans_shared = (BLOCK_HUFFMAN_SHARED, BLOCK_ANS, BLOCK_ANS_REUSE,
                                           BLOCK_ANS_SHARED)
    assert {name: _structure(sample) for name, sample in SAMPLES.items()} == {
        "huffman-bytes": ("huffman", "bytes", None,
                          [(compact, 70, 1), (compact, 70, 1), (compact, 60, 1)]),
        "huffman-bytes-reused": ("huffman", "bytes", None,
                                 [(compact, 24, 1), (reused, 6, 1), (reused, 6, 1),
                                  (compact, 15, 1)]),
        "huffman-bytes-plain": ("huffman", "bytes", None,
                                [(plain, 60, 1), (plain, 60, 1), (plain, 30, 1)]),
        "huffman-utf8": ("huffman", "utf8", None, [(plain, 22, 1), (plain, 17, 1), (plain, 8, 1)]),
        "huffman-pairs": ("huffman", "pairs", None,
                          [(plain, 12, 1), (plain, 12, 1), (plain, 7, 1)]),
        "huffman-embedded": ("huffman", "bytes", "embedded",
                             [(shared, 50, 1), (shared, 50, 1), (shared, 20, 1)]),
        "huffman-referenced": ("huffman", "bytes", "referenced",
                               [(shared, 50, 1), (shared, 50, 1), (shared, 20, 1)]),
        "ans-bytes": ("ans", "bytes", None, [(ans, 20, 1), (ans, 20, 1), (ans, 20, 1)]),
        "ans-bytes-reused": ("ans", "bytes", None,
                             [(ans, 19, 2), (ans_reused, 7, 3), (ans, 9, 1)]),
        "ans-utf8": ("ans", "utf8", None, [(ans, 8, 1), (ans, 9, 1), (ans, 5, 1)]),
        "ans-pairs": ("ans", "pairs", None, [(ans, 8, 1), (ans, 8, 1), (ans, 5, 1)]),
        "ans-embedded": ("ans", "bytes", "embedded",
                         [(ans_shared, 25, 1), (ans_shared, 25, 1), (ans_shared, 10, 1)]),
        "ans-referenced": ("ans", "bytes", "referenced",
                           [(ans_shared, 25, 1), (ans_shared, 25, 1), (ans_shared, 10, 1)]),
        "model-adaptive2": ("arithmetic", "bytes", None,
                            [(BLOCK_MODEL, 32, 1), (BLOCK_MODEL, 32, 1)]),
        "model-adaptive1-last": ("arithmetic", "bytes", None,
                                 [(BLOCK_MODEL | BLOCK_LAST, 40, 1)]),
        "model-order2": ("arithmetic", "bytes", None, [(BLOCK_MODEL | BLOCK_LAST, 48, 1)]),
        "model-cm": ("arithmetic", "bytes", None, [(BLOCK_MODEL | BLOCK_LAST, 30, 1)]),
    }
    # The pairs samples end with a single byte; the utf8 ones hold characters of 1 to 4 bytes.
    assert len(_PAIRS) % 2 == 1 and len(_PAIRS[:41]) % 2 == 1
    assert {len(char.encode()) for char in _UTF8_SHORT.decode()} == {1, 2, 3}
    assert {len(char.encode()) for char in _UTF8_TEXT} == {1, 2, 3, 4}
    # split (the default) writes the same rANS file as split=False for a block this small.
    assert SAMPLES["ans-bytes"].packed == huffkit.compress(_TEXT[:60], coder="ans",
                                                           block_size=20, split=False)
    for sample in SAMPLES.values():
        assert huffkit.decompress(sample.packed, codebook=sample.codebook) == sample.original
        assert len(sample.packed) <= 300  # every bit is flipped, on each backend
    with pytest.raises(CodebookError):  # the referenced samples need their codebook
        huffkit.decompress(SAMPLES["ans-referenced"].packed)


# -- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _using(backend: str):
    previous = kernel_backend.name()
    kernel_backend.use(backend)
    try:
        yield
    finally:
        kernel_backend.use(previous)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _flipped(packed: bytes, bit: int) -> bytes:
    damaged = bytearray(packed)
    damaged[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(damaged)


def _whole_blocks(sample: Sample, available: int) -> bytes:
    """What a decoder can hand out of the first *available* bytes: the blocks held whole."""
    (frame,) = huffkit.frame_info(sample.packed, codebook=sample.codebook)
    length = sum(block.original_size for block in frame.blocks
                 if block.offset + block.size <= available)
    return sample.original[:length]


# -- truncation ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_every_truncation_is_detected(name, each_backend):
    sample = SAMPLES[name]
    packed, codebook = sample.packed, sample.codebook
    failures = []
    for length in range(len(packed)):
        prefix = packed[:length]
        try:
            result = huffkit.decompress(prefix, codebook=codebook)
        except TruncatedError:
            pass
        except Exception as error:  # the point is to catch anything else
            failures.append((length, "decompress", _describe(error)))
        else:
            failures.append((length, "decompress", f"returned {len(result)} bytes"))
        try:
            with huffkit.open(io.BytesIO(prefix), codebook=codebook) as file:
                result = file.read()
        except TruncatedError:
            pass
        except Exception as error:
            failures.append((length, "open", _describe(error)))
        else:
            failures.append((length, "open", f"read {len(result)} bytes"))
        decompressor = huffkit.HuffmanDecompressor(codebook=codebook)
        try:
            head = decompressor.decompress(prefix)
        except Exception as error:
            failures.append((length, "decompressor", _describe(error)))
            continue
        state = (head == _whole_blocks(sample, length), decompressor.eof,
                 decompressor.needs_input, decompressor.unused_data)
        if state != (True, False, True, b""):
            failures.append((length, "decompressor", f"{len(head)} bytes out, eof={state[1]}, "
                             f"needs_input={state[2]}, unused_data={state[3]!r}"))
            continue
        # Given the rest, it goes on where it stopped.
        tail = decompressor.decompress(packed[length:])
        if head + tail != sample.original or not decompressor.eof:
            failures.append((length, "decompressor", "did not finish the frame"))
    assert failures == [], f"{len(failures)} bad truncations, first: {failures[:5]}"


# -- single bit flips ------------------------------------------------------------------------

#: The decompressor is also fed each damaged file in pieces of these sizes: smaller than a
#: block, so that it hands out each block before the next one is complete.
CHUNK_SIZES = (16, 64)


@dataclasses.dataclass
class FlipReport:
    said: list[str]  # what decompress said of each flipped bit: its error, or "original"
    survivors: list[int]  # the bits whose flip still decodes to the original
    failures: list[tuple[int, str]]


def _section_bits(sample: Sample) -> range:
    """The bits of the frame's codebook section (none without one)."""
    (frame,) = huffkit.frame_info(sample.packed, codebook=sample.codebook)
    start = 8 * FRAME_HEADER_SIZE
    return range(start, 8 * frame.header_size if frame.codebook else start)


def _fed_in_pieces(sample: Sample, damaged: bytes, size: int, said: str) -> str | None:
    """Feed *damaged* to a decompressor *size* bytes at a time: what went wrong, if anything,
    given that decompress *said* this of it."""
    decompressor = huffkit.HuffmanDecompressor(codebook=sample.codebook)
    out = []
    error = None
    try:
        for start in range(0, len(damaged), size):
            out.append(decompressor.decompress(damaged[start:start + size]))
    except HuffmanError as caught:
        error = type(caught).__name__
    except Exception as caught:
        return f"pieces of {size}: unexpected {_describe(caught)}"
    handed_out = b"".join(out)
    if not sample.original.startswith(handed_out):
        return f"pieces of {size}: handed out {len(handed_out)} bytes, not the original's"
    if error is not None:
        if not said.startswith(f"{error}: "):
            return f"pieces of {size}: {error}, but decompress said {said}"
    elif decompressor.eof:
        if (handed_out, decompressor.unused_data) != (sample.original, b""):
            return (f"pieces of {size}: eof after {len(handed_out)} bytes, "
                    f"unused_data={decompressor.unused_data!r}")
    elif not said.startswith("TruncatedError: "):
        return f"pieces of {size}: waits for more input, but decompress said {said}"
    return None


@functools.cache
def _flip_report(name: str, backend: str) -> FlipReport:
    """Every single-bit flip of the sample, decoded on *backend* (once per test session)."""
    sample = SAMPLES[name]
    section = _section_bits(sample)
    report = FlipReport([], [], [])
    with _using(backend):
        for bit in range(8 * len(sample.packed)):
            damaged = _flipped(sample.packed, bit)
            try:
                output = huffkit.decompress(damaged, codebook=sample.codebook)
            except FormatError as error:  # ChecksumError and TruncatedError included
                said = _describe(error)
            except CodebookError as error:  # documented only for the codebook section (K5)
                said = _describe(error)
                if bit not in section:
                    report.failures.append((bit, f"outside the codebook section: {said}"))
            except Exception as error:  # the point is to catch anything else
                said = f"unexpected {_describe(error)}"
                report.failures.append((bit, said))
            else:
                said = "original" if output == sample.original else "other data"
                if output == sample.original:
                    report.survivors.append(bit)
                else:
                    report.failures.append((bit, f"decompressed to {len(output)} other bytes"))
            report.said.append(said)
            for size in CHUNK_SIZES:
                problem = _fed_in_pieces(sample, damaged, size, said)
                if problem is not None:
                    report.failures.append((bit, problem))
    return report


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.slow  # 19,920 flips on each backend
def test_every_bit_flip_is_detected(name, each_backend):
    report = _flip_report(name, each_backend)
    assert len(report.said) == 8 * len(SAMPLES[name].packed)
    assert report.failures == [], (f"{len(report.failures)} bad bits, first: "
                                   f"{report.failures[:5]}")
    # No flip decodes to the original: the format has no bit that the decoder does not check.
    # The frame header and the codebook section have CRCs (the referenced identifiers
    # included); a block's CRC field must match its decoded bytes; the counts are checked
    # against one another (symbols, length, stream bits, lanes and words, total_symbols);
    # padding must be zero; one length or frequency changed breaks the Kraft sum or the sum
    # to 2^precision (a presence bit too, or a table holds a symbol its block lacks, D4 and
    # A5); and a payload bit changes the decoded bytes, or rANS's final states.  (A compact
    # table can code the same lengths in more than one way, as DEFLATE's can, for instance
    # a run of zeros cut differently; but those differ in more than one bit.)
    assert report.survivors == []


@pytest.mark.skipif(len(BACKENDS) < 2, reason="no compiled kernels")
@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.slow  # every flip, on both backends
def test_backends_report_the_same_error_for_every_flip(name):
    compiled, reference = _flip_report(name, "c").said, _flip_report(name, "numpy").said
    differ = [(bit, said_c, said_numpy)
              for bit, (said_c, said_numpy) in enumerate(zip(compiled, reference, strict=True))
              if said_c != said_numpy]
    assert differ == [], f"{len(differ)} bits differ (c, numpy), first: {differ[:3]}"
