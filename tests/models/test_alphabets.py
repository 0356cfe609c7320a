"""Alphabets (FORMAT.md section 15): bytes, utf8 (Unicode code points) and pairs (two bytes
at a time, Shannon's second extension of the byte source).

Symbols, cuts, round trips for every coder and alphabet, the frame, sizes, the ledger,
the length limit, codebook files, distributions, the experiments and the command line.
Every expected symbol list, count and entropy is computed here independently, with
``str.decode``/``ord``, ``collections.Counter`` and numpy on the raw bytes.

A utf8 block costs some 20-50 ms to code and decode whatever its size (its tables span
the 1.1 million code points), and numpy's rANS takes a Python step per symbol, so the
utf8 and ANS data here stay small, and the hypothesis tests of utf8 run fewer examples.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import random
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_files, invoke, listing, read_leb128, requires_corpora
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit
import huffkit.cli
import huffkit.corpora
from huffkit import CodebookError, HuffmanError
from huffkit.models.alphabet import ALPHABETS, AlphabetError

NAMES = ("bytes", "utf8", "pairs")
CODERS = ("huffman", "ans")
SIZES = {"bytes": 256, "utf8": 0x110000, "pairs": 65536 + 256}
MIN_BLOCK = {"bytes": 1, "utf8": 4, "pairs": 2}
DEFAULT_LIMIT = {"bytes": 15, "utf8": 24, "pairs": 20}
CODES = {"bytes": 0, "utf8": 1, "pairs": 2}  # FORMAT.md 15: bits 2-3 of the frame's flags

#: The bundled corpus, by name.
BUNDLED = {entry.name: entry.path for entry in huffkit.corpora.manifest()}
#: The bundled files that are valid UTF-8 (table.bin and uniform.bin are not).
UTF8_FILES = ("dyadic.txt", "english.txt", "korean.txt", "skewed.txt", "source.c")
KOREAN = BUNDLED["korean.txt"].read_bytes()
ENGLISH = BUNDLED["english.txt"].read_bytes()
KOREAN_TEXT = KOREAN.decode("utf-8")

#: ANS data is cut to this many bytes (at a character boundary) for speed.
ANS_SLICE = 2048

#: Hypothesis examples for utf8 round trips: a utf8 block costs tens of milliseconds.
FEWER = settings(max_examples=max(8, settings.default.max_examples // 6))

SHARED = {path.name: path for path in corpus_files()}


def head(data: bytes, size: int) -> bytes:
    """The first *size* bytes of *data*, shortened to end before a UTF-8 character starts."""
    end = min(size, len(data))
    while end < len(data) and data[end] & 0xC0 == 0x80:
        end -= 1
    return data[:end]


#: Korean, English, Greek, C and emoji (4-byte characters): every UTF-8 length.
SAMPLE = (head(KOREAN, 1500) + head(ENGLISH, 800) + "αβγδ ε ζηθ ".encode()
          + head(BUNDLED["source.c"].read_bytes(), 600) + "\U0001F600\U0001F680 ok\n".encode())
#: Binary data too, for the alphabets that take any bytes.
BINARY_SAMPLE = SAMPLE + BUNDLED["table.bin"].read_bytes()[:700] + b"\x07"


def expected_symbols(data: bytes, alphabet: str) -> list[int]:
    """The symbols of *data*, by FORMAT.md section 15, in plain Python."""
    if alphabet == "bytes":
        return list(data)
    if alphabet == "utf8":
        return [ord(character) for character in data.decode("utf-8")]
    pairs = [256 * data[i] + data[i + 1] for i in range(0, len(data) - 1, 2)]
    return pairs + ([65536 + data[-1]] if len(data) % 2 else [])


def entropy_bits(counts: np.ndarray) -> float:
    """H(P) in bits per symbol, from counts."""
    counts = counts[counts > 0].astype(np.float64)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def block_starts(frame: huffkit.FrameInfo) -> list[int]:
    """Where each block's bytes start in the original data."""
    starts, position = [], 0
    for block in frame.blocks:
        starts.append(position)
        position += block.original_size
    return starts


def check_frame(packed: bytes, data: bytes, alphabet: str, block_size: int,
                coder: str = "huffman") -> huffkit.FrameInfo:
    """The frame's description agrees with the data, and no block splits a symbol."""
    (frame,) = huffkit.frame_info(packed)
    assert frame.alphabet == alphabet
    assert frame.coder == coder
    # Data that makes one block gives the header its symbol count (FORMAT.md 17.5).
    symbols = len(expected_symbols(data, alphabet))
    assert frame.block_size == (symbols if 0 < len(data) <= block_size else block_size)
    assert frame.original_size == len(data)
    assert sum(block.original_size for block in frame.blocks) == len(data)
    assert sum(block.symbols for block in frame.blocks) == len(expected_symbols(data, alphabet))
    for start, block in zip(block_starts(frame), frame.blocks, strict=True):
        piece = data[start:start + block.original_size]
        assert 1 <= block.original_size <= block_size
        assert block.symbols == len(expected_symbols(piece, alphabet))
        assert block.crc32 == zlib.crc32(piece)
        last = start + block.original_size == len(data)
        if alphabet == "pairs" and not last:
            assert block.original_size == block_size & ~1  # as large as whole pairs allow
        if alphabet == "utf8":
            assert data[start] & 0xC0 != 0x80  # starts at a character
            if not last:
                assert block.original_size > block_size - 4  # ends at the last chance
    return frame


def round_trip(data: bytes, *, alphabet: str, coder: str = "huffman",
               block_size: int = huffkit.DEFAULT_BLOCK_SIZE, **options) -> bytes:
    packed = huffkit.compress(data, alphabet=alphabet, coder=coder, block_size=block_size,
                              **options)
    # A referenced codebook must be supplied; an embedded one need not be.
    supplied = None if options.get("embed_codebook", True) else options["codebook"]
    assert huffkit.decompress(packed, codebook=supplied) == data
    check_frame(packed, data, alphabet, block_size, coder)
    return packed


# -- symbols and data ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_alphabets(name):
    alphabet = ALPHABETS[name]
    assert alphabet.name == name
    assert alphabet.size == SIZES[name]
    assert alphabet.code == CODES[name]
    assert alphabet.min_block_size == MIN_BLOCK[name]
    assert alphabet.default_max_code_length == DEFAULT_LIMIT[name]
    assert huffkit.models.alphabet.alphabet_named(name) is alphabet
    assert huffkit.models.alphabet.alphabet_of_size(SIZES[name]) is alphabet


@given(st.binary(max_size=400))
def test_bytes_symbols_round_trip(data):
    symbols = ALPHABETS["bytes"].symbols(data)
    assert symbols.tolist() == list(data)
    assert ALPHABETS["bytes"].data(symbols) == data


@given(st.binary(max_size=400))
def test_pairs_symbols_round_trip(data):
    symbols = ALPHABETS["pairs"].symbols(data)
    assert symbols.tolist() == expected_symbols(data, "pairs")
    assert len(symbols) == (len(data) + 1) // 2
    assert ALPHABETS["pairs"].data(symbols) == data


@given(st.text(max_size=200))
def test_utf8_symbols_are_the_code_points(text):
    data = text.encode("utf-8")
    symbols = ALPHABETS["utf8"].symbols(data)
    assert symbols.tolist() == [ord(character) for character in text]
    assert ALPHABETS["utf8"].data(symbols) == data


def test_symbol_values():
    pairs = ALPHABETS["pairs"]
    assert pairs.symbols(b"\x01\x02\x03").tolist() == [0x0102, 65536 + 3]
    assert pairs.symbols(b"ab").tolist() == [256 * 97 + 98]
    assert pairs.symbols(b"\xff").tolist() == [65536 + 255]
    assert pairs.symbols(b"").tolist() == []
    assert pairs.data(np.array([0x0102, 65536 + 3])) == b"\x01\x02\x03"
    assert pairs.data(np.array([], dtype=np.int64)) == b""
    utf8 = ALPHABETS["utf8"]
    assert utf8.symbols("a\u00e9\uc758\U0001F600".encode()).tolist() == [97, 0xE9, 0xC758, 0x1F600]
    assert utf8.symbols(b"").tolist() == []
    assert utf8.data(np.array([0x10FFFF])) == "\U0010FFFF".encode()


@pytest.mark.parametrize("data, position, reason", [
    (b"abc\xffdef", 3, "invalid start byte"),
    (b"ab\xe4\xb8", 2, "unexpected end of data"),  # a character cut short
    (b"x\xc3(", 1, "invalid continuation byte"),
    (b"\xc0\xaf", 0, "invalid start byte"),  # an overlong '/'
    (b"ok\xed\xa0\x80", 2, "invalid continuation byte"),  # a surrogate, U+D800
    (b"\xf4\x90\x80\x80", 0, "invalid continuation byte"),  # beyond U+10FFFF
])
def test_invalid_utf8_names_the_byte(data, position, reason):
    with pytest.raises(AlphabetError) as caught:
        ALPHABETS["utf8"].symbols(data)
    message = str(caught.value)
    assert message.startswith(f"not valid UTF-8: {reason} at byte {position}")
    assert "bytes alphabet" in message
    assert isinstance(caught.value, HuffmanError)
    assert isinstance(caught.value, ValueError)


def test_data_rejects_what_no_data_gives():
    with pytest.raises(AlphabetError, match="single byte stands anywhere but at the end"):
        ALPHABETS["pairs"].data(np.array([65536 + 1, 0x0203]))
    with pytest.raises(AlphabetError, match="single byte"):
        ALPHABETS["pairs"].data(np.array([65536 + 1, 65536 + 2]))
    for value in (0xD800, 0xDFFF, 0x110000):
        with pytest.raises(AlphabetError, match="not all Unicode scalar values"):
            ALPHABETS["utf8"].data(np.array([97, value]))


def _boundaries(text: str) -> list[int]:
    """Byte offsets of the character boundaries of *text* in UTF-8."""
    return [len(text[:i].encode("utf-8")) for i in range(len(text) + 1)]


@given(st.text(min_size=1, max_size=80), st.data())
def test_utf8_cut_never_splits_a_character(text, draw):
    data = text.encode("utf-8")
    final = draw.draw(st.booleans(), label="final")
    limit = draw.draw(st.integers(4, len(data) + 3 if final else max(4, len(data) - 1)),
                      label="limit")
    if not final and len(data) <= limit:
        return  # the cut must see the byte after it
    cut = ALPHABETS["utf8"].cut(data, limit, final=final)
    assert 0 < cut <= min(limit, len(data))
    data[:cut].decode("utf-8")
    assert cut == max(boundary for boundary in _boundaries(text) if boundary <= limit)
    assert cut > limit - 4 or cut == len(data)


@given(st.binary(min_size=1, max_size=80), st.data())
def test_pairs_and_bytes_cuts(data, draw):
    final = draw.draw(st.booleans(), label="final")
    limit = draw.draw(st.integers(2, len(data) + 3 if final else max(2, len(data) - 1)),
                      label="limit")
    if not final and len(data) <= limit:
        return
    cut = ALPHABETS["pairs"].cut(data, limit, final=final)
    if final and len(data) <= limit:
        assert cut == len(data)  # the rest, odd or not
    else:
        assert cut == limit & ~1
    assert ALPHABETS["bytes"].cut(data, limit, final=final) == min(limit, len(data))


# -- round trips -------------------------------------------------------------------------------


def _corpus_cases():
    for coder in CODERS:
        for alphabet in NAMES:
            for name in sorted(BUNDLED):
                if alphabet != "utf8" or name in UTF8_FILES:
                    yield coder, alphabet, name


@pytest.mark.parametrize("coder, alphabet, name", list(_corpus_cases()))
def test_bundled_corpus_round_trips(coder, alphabet, name):
    data = BUNDLED[name].read_bytes()
    if coder == "ans":
        data = head(data, ANS_SLICE)
    round_trip(data, alphabet=alphabet, coder=coder)


def test_the_bundled_utf8_files():
    valid = set()
    for name, path in BUNDLED.items():
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        valid.add(name)
    assert valid == set(UTF8_FILES)
    assert set(BUNDLED) - valid == {"table.bin", "uniform.bin"}


@pytest.mark.parametrize("name", ["table.bin", "uniform.bin"])
@pytest.mark.parametrize("coder", CODERS)
def test_binary_bundled_files_are_not_utf8(name, coder):
    data = BUNDLED[name].read_bytes()
    with pytest.raises(UnicodeDecodeError) as reference:
        data.decode("utf-8")
    with pytest.raises(AlphabetError, match=f"not valid UTF-8: .* at byte "
                                            f"{reference.value.start};"):
        huffkit.compress(data, alphabet="utf8", coder=coder)


#: The number of blocks each case makes, at most: utf8 blocks are slow.
_MAX_BLOCKS = {"bytes": 40, "utf8": 3, "pairs": 20}


@pytest.mark.parametrize("block_size", [4, 7, 100, huffkit.DEFAULT_BLOCK_SIZE])
@pytest.mark.parametrize("alphabet", NAMES)
@pytest.mark.parametrize("coder", CODERS)
def test_block_sizes(coder, alphabet, block_size):
    sample = SAMPLE if alphabet == "utf8" else BINARY_SAMPLE
    size = min(len(sample), block_size * _MAX_BLOCKS[alphabet])
    if coder == "ans" or alphabet == "utf8":
        size = min(size, 800)
    data = head(sample, size)
    packed = round_trip(data, alphabet=alphabet, coder=coder, block_size=block_size)
    blocks = huffkit.frame_info(packed)[0].blocks
    if block_size == huffkit.DEFAULT_BLOCK_SIZE:
        assert len(blocks) == 1
    else:
        assert len(blocks) > 1


def test_block_sizes_cover_every_utf8_length_at_the_edges():
    # Four-byte characters in blocks of 4 bytes: a character at each offset of a cut.
    data = "a\U0001F600bc\U0001F680\u00e9\U0001F600".encode()
    frame = huffkit.frame_info(round_trip(data, alphabet="utf8", block_size=4))[0]
    assert [block.original_size for block in frame.blocks] == [1, 4, 2, 4, 2, 4]


@pytest.mark.parametrize("data", [b"", b"a", b"abc", b"\x00" * 5], ids=repr)
@pytest.mark.parametrize("alphabet", NAMES)
@pytest.mark.parametrize("coder", CODERS)
def test_tiny_data(coder, alphabet, data):
    round_trip(data, alphabet=alphabet, coder=coder, block_size=4)
    packed = huffkit.compress(data, alphabet=alphabet, coder=coder)
    (frame,) = huffkit.frame_info(packed)
    assert frame.alphabet == alphabet
    assert len(frame.blocks) == (1 if data else 0)


def _shared_cases():
    for coder in CODERS:
        for alphabet in NAMES:
            for name in ("alice29.txt", "a.txt", "aaa.txt", "kennedy.xls", "cp.html"):
                if alphabet == "utf8" and name in ("kennedy.xls", "cp.html"):
                    continue  # not UTF-8: see test_shared_binary_files_are_refused_as_utf8
                yield coder, alphabet, name


@requires_corpora
@pytest.mark.parametrize("coder, alphabet, name", list(_shared_cases()))
def test_shared_corpus_round_trips(coder, alphabet, name):
    if name not in SHARED:
        pytest.skip(f"{name} is not in the shared corpora")
    data = head(SHARED[name].read_bytes(), ANS_SLICE if coder == "ans" else 1 << 16)
    round_trip(data, alphabet=alphabet, coder=coder)


@requires_corpora
@pytest.mark.parametrize("name", ["kennedy.xls", "cp.html"])
def test_shared_binary_files_are_refused_as_utf8(name):
    if name not in SHARED:
        pytest.skip(f"{name} is not in the shared corpora")
    data = SHARED[name].read_bytes()
    with pytest.raises(UnicodeDecodeError) as reference:
        data.decode("utf-8")
    with pytest.raises(AlphabetError, match=f"at byte {reference.value.start};"):
        huffkit.compress(data, alphabet="utf8")


def _model(alphabet: str, *extra: bytes) -> huffkit.Codebook:
    """A codebook of *alphabet* from English, Korean, SAMPLE and *extra*: it codes them."""
    counts = huffkit.Distribution.from_bytes(ENGLISH + KOREAN + SAMPLE + b"".join(extra),
                                             alphabet=alphabet)
    if alphabet == "bytes":
        counts = counts.smoothed(0.5)  # every byte gets a code
    return huffkit.Codebook.from_distribution(counts,
                                              max_code_length=DEFAULT_LIMIT[alphabet])


MODELS = {name: _model(name, BINARY_SAMPLE if name != "utf8" else b"") for name in NAMES}


@pytest.mark.parametrize("embed", [True, False], ids=["embedded", "referenced"])
@pytest.mark.parametrize("alphabet", NAMES)
@pytest.mark.parametrize("coder", CODERS)
def test_codebook_round_trips(coder, alphabet, embed):
    model = MODELS[alphabet]
    data = head(SAMPLE if alphabet == "utf8" else BINARY_SAMPLE, 1500)
    packed = round_trip(data, alphabet=alphabet, coder=coder, block_size=1000, codebook=model,
                        embed_codebook=embed)
    (frame,) = huffkit.frame_info(packed)
    assert frame.codebook == model.identifier
    assert frame.codebook_embedded is embed
    assert all(block.shared_codebook for block in frame.blocks)
    assert huffkit.decompress(packed, codebook=model) == data
    if not embed:
        with pytest.raises(CodebookError, match="not stored in it"):
            huffkit.decompress(packed)


@pytest.mark.parametrize("alphabet", NAMES)
def test_codebook_from_a_distribution_of_the_alphabet(alphabet):
    data = head(SAMPLE, 900)
    distribution = huffkit.Distribution.from_bytes(data, alphabet=alphabet)
    packed = round_trip(data, alphabet=alphabet, codebook=distribution)
    expected = huffkit.Codebook.from_distribution(
        distribution, max_code_length=DEFAULT_LIMIT[alphabet])
    assert huffkit.frame_info(packed)[0].codebook == expected.identifier


def _text_and_block_size(alphabet: str, blocks: int):
    """Random data of *alphabet* and a block size giving at most about *blocks* blocks."""
    @st.composite
    def strategy(draw):
        if alphabet == "utf8":
            data = draw(st.text(max_size=60), label="text").encode("utf-8")
        else:
            data = draw(st.binary(max_size=300), label="data")
        lowest = max(MIN_BLOCK[alphabet], -(-len(data) // blocks))
        block_size = draw(st.integers(lowest, max(lowest, len(data) + 2)), label="block_size")
        return data, block_size
    return strategy()


@FEWER
@pytest.mark.parametrize("coder", CODERS)
@given(case=_text_and_block_size("utf8", 2))
def test_random_text_round_trips_in_utf8(coder, case):
    data, block_size = case
    round_trip(data, alphabet="utf8", coder=coder, block_size=block_size)


@pytest.mark.parametrize("alphabet", ["bytes", "pairs"])
@pytest.mark.parametrize("coder", CODERS)
@given(data=st.data())
def test_random_bytes_round_trip(coder, alphabet, data):
    payload, block_size = data.draw(_text_and_block_size(alphabet, 6))
    round_trip(payload, alphabet=alphabet, coder=coder, block_size=block_size)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _incremental(data: bytes, cuts: list[int], **options) -> bytes:
    compressor = huffkit.HuffmanCompressor(**options)
    out = []
    for index, chunk in enumerate(_chunks(data, cuts)):
        # Any bytes-like object will do.
        kind = (bytes, bytearray, memoryview)[index % 3]
        out.append(compressor.compress(kind(chunk)))
    out.append(compressor.flush())
    return b"".join(out)


@FEWER
@given(case=_text_and_block_size("utf8", 2), data=st.data())
def test_incremental_utf8_matches_one_shot(case, data):
    text, block_size = case
    # Cuts anywhere: inside characters too.
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=8), label="cuts")
    packed = _incremental(text, cuts, alphabet="utf8", block_size=block_size)
    assert packed == huffkit.compress(text, alphabet="utf8", block_size=block_size)
    assert huffkit.decompress(packed) == text


@pytest.mark.parametrize("coder", CODERS)
@given(case=_text_and_block_size("pairs", 6), data=st.data())
def test_incremental_pairs_matches_one_shot(coder, case, data):
    payload, block_size = case
    cuts = data.draw(st.lists(st.integers(0, len(payload)), max_size=8), label="cuts")
    packed = _incremental(payload, cuts, alphabet="pairs", block_size=block_size, coder=coder)
    assert packed == huffkit.compress(payload, alphabet="pairs", block_size=block_size,
                                      coder=coder)
    assert huffkit.decompress(packed) == payload


def test_incremental_korean_one_byte_at_a_time():
    data = head(KOREAN, 300)
    packed = _incremental(data, list(range(len(data))), alphabet="utf8", block_size=100)
    assert packed == huffkit.compress(data, alphabet="utf8", block_size=100)
    assert huffkit.decompress(packed) == data


def test_concatenated_frames_of_different_alphabets():
    parts = [(head(KOREAN, 500), "utf8"), (b"\x00\x01\x02", "pairs"), (ENGLISH[:300], "bytes")]
    packed = b"".join(huffkit.compress(data, alphabet=alphabet) for data, alphabet in parts)
    assert huffkit.decompress(packed) == b"".join(data for data, _ in parts)
    assert [frame.alphabet for frame in huffkit.frame_info(packed)] == ["utf8", "pairs", "bytes"]
    with pytest.raises(huffkit.FormatError, match="mixes frames of the utf8 and pairs"):
        huffkit.inspect(packed)


def test_decompressor_fed_in_pieces():
    data = head(SAMPLE, 1500)
    packed = huffkit.compress(data, alphabet="utf8", block_size=600)
    decompressor = huffkit.HuffmanDecompressor()
    out = b"".join(decompressor.decompress(packed[i:i + 97]) for i in range(0, len(packed), 97))
    assert out == data
    assert decompressor.eof


def test_huffman_file_writes_utf8(tmp_path):
    path = tmp_path / "text.huf"
    with huffkit.HuffmanFile(path, "wb", alphabet="utf8", block_size=600) as stream:
        for start in range(0, len(SAMPLE), 250):  # pieces that split characters
            stream.write(SAMPLE[start:start + 250])
    packed = path.read_bytes()
    check_frame(packed, SAMPLE, "utf8", 600)
    with huffkit.HuffmanFile(path) as stream:
        assert stream.read() == SAMPLE


def test_open_text_mode_utf8(tmp_path):
    path = tmp_path / "text.huf"
    with huffkit.open(path, "wt", encoding="utf-8", alphabet="utf8") as stream:
        stream.write(KOREAN_TEXT)
    assert huffkit.frame_info(path.read_bytes())[0].alphabet == "utf8"
    with huffkit.open(path, "rt", encoding="utf-8", newline="") as stream:
        assert stream.read() == KOREAN_TEXT


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("coder", CODERS)
def test_invalid_utf8_produces_nothing(coder):
    data = head(KOREAN, 200) + b"\xff" + head(ENGLISH, 50)
    with pytest.raises(AlphabetError, match="not valid UTF-8: invalid start byte at byte "
                                            f"{len(head(KOREAN, 200))};") as caught:
        huffkit.compress(data, alphabet="utf8", coder=coder)
    assert isinstance(caught.value, HuffmanError)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(AlphabetError):
        huffkit.analyze(data, alphabet="utf8", coder=coder)


def test_invalid_utf8_position_is_in_the_data_not_the_block():
    with pytest.raises(AlphabetError, match="at byte 10;"):
        huffkit.compress(b"abcdefghij\xff", alphabet="utf8", block_size=4)


def test_refused_call_leaves_the_compressor_intact():
    first, second = head(KOREAN, 301), head(ENGLISH, 200)
    split = 151
    assert first[split] & 0xC0 == 0x80  # inside a character: its rest comes later
    compressor = huffkit.HuffmanCompressor(alphabet="utf8", block_size=100)
    out = [compressor.compress(first[:split])]
    with pytest.raises(AlphabetError):
        # Two good blocks, then a bad one: the whole call is refused.
        compressor.compress(first[split:] + b"abc\xff" + b"x" * 300)
    out.append(compressor.compress(first[split:]))
    out.append(compressor.compress(second))
    out.append(compressor.flush())
    assert huffkit.decompress(b"".join(out)) == first + second


@pytest.mark.parametrize("coder", CODERS)
def test_refused_call_with_a_codebook_leaves_the_compressor_intact(coder):
    text = "hello world, 안녕하세요 " * 20
    model = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(text.encode(), alphabet="utf8"), max_code_length=24)
    compressor = huffkit.HuffmanCompressor(alphabet="utf8", block_size=64, codebook=model,
                                           coder=coder)
    out = [compressor.compress(text[:30].encode())]
    with pytest.raises(CodebookError, match=r"utf8 symbols U\+005A 'Z'"):
        compressor.compress(("Z" * 100).encode())
    out.append(compressor.compress(text[30:].encode()))
    out.append(compressor.flush())
    assert huffkit.decompress(b"".join(out)) == text.encode()


def test_a_call_with_invalid_utf8_is_refused_itself():
    compressor = huffkit.HuffmanCompressor(alphabet="utf8", block_size=64)
    out = [compressor.compress(b"hello ")]
    with pytest.raises(AlphabetError):
        out.append(compressor.compress(b"ab\xff"))
    out.append(compressor.compress(b"world " * 30))
    out.append(compressor.flush())
    assert huffkit.decompress(b"".join(out)) == b"hello " + b"world " * 30


def test_a_call_with_an_uncodable_symbol_is_refused_itself():
    model = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(b"hello world", alphabet="utf8"), max_code_length=24)
    compressor = huffkit.HuffmanCompressor(alphabet="utf8", block_size=64, codebook=model)
    out = [compressor.compress(b"hello ")]
    with pytest.raises(CodebookError):
        out.append(compressor.compress(b"Z"))
    out.append(compressor.compress(b"world " * 30))
    out.append(compressor.flush())
    assert huffkit.decompress(b"".join(out)) == b"hello " + b"world " * 30


@pytest.mark.parametrize("alphabet, minimum", [("utf8", 4), ("pairs", 2)])
def test_block_size_below_the_minimum(alphabet, minimum):
    for coder in CODERS:
        with pytest.raises(ValueError, match=f"block_size must be at least {minimum} bytes for "
                                             f"the {alphabet} alphabet, got {minimum - 1}"):
            huffkit.compress(b"abcdef", alphabet=alphabet, block_size=minimum - 1, coder=coder)
    round_trip(b"abcdef", alphabet=alphabet, block_size=minimum)


@pytest.mark.parametrize("alphabet", NAMES)
@pytest.mark.parametrize("other", NAMES)
@pytest.mark.parametrize("coder", CODERS)
def test_a_codebook_of_another_alphabet_is_refused(coder, alphabet, other):
    if alphabet == other:
        return
    with pytest.raises(CodebookError, match=f"a codebook for the {alphabet} alphabet needs "
                                            f"{SIZES[alphabet]} symbols; this one has "
                                            f"{SIZES[other]}"):
        huffkit.compress(b"hello", alphabet=alphabet, codebook=MODELS[other], coder=coder)


@pytest.mark.parametrize("embed", [True, False], ids=["embedded", "referenced"])
@pytest.mark.parametrize("coder", CODERS)
def test_decompress_with_a_codebook_of_another_alphabet(coder, embed):
    data = head(SAMPLE, 300)
    packed = huffkit.compress(data, alphabet="utf8", codebook=MODELS["utf8"], coder=coder,
                              embed_codebook=embed)
    for other in ("bytes", "pairs"):
        with pytest.raises(CodebookError, match=f"compressed in the utf8 alphabet; the codebook "
                                                f"supplied codes {SIZES[other]} symbols"):
            huffkit.decompress(packed, codebook=MODELS[other])
    assert huffkit.decompress(packed, codebook=MODELS["utf8"]) == data


def test_unknown_alphabet():
    message = "alphabet must be one of 'bytes', 'utf8', 'pairs', not 'latin1'"
    with pytest.raises(ValueError, match=message):
        huffkit.compress(b"x", alphabet="latin1")
    with pytest.raises(ValueError, match=message):
        huffkit.HuffmanCompressor(alphabet="latin1")
    with pytest.raises(ValueError, match=message):
        huffkit.Distribution.from_bytes(b"x", alphabet="latin1")
    with pytest.raises(ValueError, match=message):
        huffkit.analyze(b"x", alphabet="latin1")


# -- the frame ------------------------------------------------------------------------------


def test_frame_layout_of_section_15():
    text = "한국어 텍스트와 ascii 😀"
    data = text.encode()
    packed = huffkit.compress(data, alphabet="utf8")
    assert (packed[5] >> 2) & 3 == 1  # flags bits 2-3: utf8
    assert (huffkit.compress(data, alphabet="pairs")[5] >> 2) & 3 == 2
    assert (huffkit.compress(data)[5] >> 2) & 3 == 0
    # The header's block size: the symbols of the one block.  The block: its type (0x01,
    # with bit 7, the frame's last, which stores no symbol count: FORMAT.md 17.1), its
    # length in bytes (LEB128, format version 2), the CRC-32 of the bytes.
    (block_size,) = struct.unpack_from("<I", packed, 6)
    kind = packed[14]
    length, pos = read_leb128(packed, 15)
    (crc,) = struct.unpack_from("<I", packed, pos)
    assert (kind, block_size, length, crc) == (0x81, len(text), len(data), zlib.crc32(data))
    # The code table: longest length, then a presence list of the code points.
    pos += 4 + 1
    (count,) = struct.unpack_from("<I", packed, pos)
    pos += 4
    listed, previous = [], -1
    for _ in range(count):
        gap, pos = read_leb128(packed, pos)
        previous += gap + 1
        listed.append(previous)
    assert listed == sorted({ord(character) for character in text})


def test_frame_info_of_korean_in_utf8():
    packed = huffkit.compress(KOREAN, alphabet="utf8")
    (frame,) = huffkit.frame_info(packed)
    assert frame.alphabet == "utf8"
    assert frame.original_size == len(KOREAN) == 14781
    (block,) = frame.blocks
    assert block.symbols == len(KOREAN_TEXT) == 6151
    assert block.distinct_symbols == len(set(KOREAN_TEXT)) == 460
    assert block.original_size == len(KOREAN)
    several = huffkit.compress(KOREAN, alphabet="utf8", block_size=4096)
    frame = check_frame(several, KOREAN, "utf8", 4096)
    assert len(frame.blocks) == 4
    assert sum(block.symbols for block in frame.blocks) == len(KOREAN_TEXT)


# -- sizes ----------------------------------------------------------------------------------


def _payload_bits(packed: bytes) -> int:
    (frame,) = huffkit.frame_info(packed)
    return sum(block.payload_bits for block in frame.blocks)


def test_korean_is_smaller_per_character():
    # Measured: 9,557 bytes per byte, 5,660 per character. A Hangul syllable is three
    # bytes whose statistics a byte code sees only one at a time.
    per_byte = huffkit.compress(KOREAN)
    per_character = huffkit.compress(KOREAN, alphabet="utf8")
    assert len(per_character) < len(per_byte)
    # Each Huffman payload is within a bit per symbol of its alphabet's entropy.
    for packed, symbols in ((per_byte, list(KOREAN)), (per_character, list(map(ord, KOREAN_TEXT)))):
        ideal = len(symbols) * entropy_bits(np.bincount(symbols))
        assert ideal <= _payload_bits(packed) < ideal + len(symbols)


def test_english_is_smaller_in_pairs():
    # Shannon's second extension: H(X1 X2) / 2 <= H(X), and English has strong pair
    # statistics ("th", "e "), so pairs win despite a table of ~1,000 pairs.
    # statistics ("th", "e "), so pairs win despite a table of ~1,000 pairs.
    # Measured: 14,463 bytes per byte, 13,662 per pair.
    per_byte = huffkit.compress(ENGLISH)
    per_pair = huffkit.compress(ENGLISH, alphabet="pairs")
    assert len(per_pair) < len(per_byte)
    pairs = collections.Counter(expected_symbols(ENGLISH, "pairs"))
    pair_entropy = entropy_bits(np.array(list(pairs.values())))
    byte_entropy = entropy_bits(np.bincount(np.frombuffer(ENGLISH, dtype=np.uint8)))
    assert pair_entropy / 2 < byte_entropy
    n = sum(pairs.values())
    assert n * pair_entropy <= _payload_bits(per_pair) < n * (pair_entropy + 1)
    assert _payload_bits(per_pair) < _payload_bits(per_byte)


# -- the ledger -----------------------------------------------------------------------------


def test_ledger_entropy_of_korean_in_code_points():
    ledger = huffkit.analyze(KOREAN, alphabet="utf8", per_symbol=True)
    counts = np.bincount([ord(character) for character in KOREAN_TEXT])
    assert ledger.alphabet == "utf8"
    assert ledger.symbols == len(KOREAN_TEXT)
    assert ledger.distinct_symbols == len(set(KOREAN_TEXT))
    assert ledger.original_size == len(KOREAN)
    assert ledger.compressed_size == len(huffkit.compress(KOREAN, alphabet="utf8"))
    assert ledger.entropy == pytest.approx(entropy_bits(counts), rel=1e-12)
    assert ledger.kl_divergence == 0.0  # one block, coded with its own P
    rows = {row.symbol: row for row in ledger.per_symbol}
    assert sorted(rows) == sorted(set(map(ord, KOREAN_TEXT)))
    own = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(KOREAN, alphabet="utf8"), max_code_length=24)
    for character in "의 .가":
        row = rows[ord(character)]
        assert row.count == KOREAN_TEXT.count(character)
        assert row.p == row.count / len(KOREAN_TEXT)
        assert row.code_length == own.lengths[ord(character)]
        assert row.bits == row.count * int(own.lengths[ord(character)])
    assert sum(row.bits for row in ledger.per_symbol) == ledger.bits_payload
    assert huffkit.inspect(huffkit.compress(KOREAN, alphabet="utf8"), per_symbol=True) == ledger


@pytest.mark.parametrize("alphabet", NAMES)
@pytest.mark.parametrize("coder", CODERS)
def test_ledger_identities(coder, alphabet):
    data = head(SAMPLE if alphabet == "utf8" else BINARY_SAMPLE, 1500)
    ledger = huffkit.analyze(data, alphabet=alphabet, coder=coder, block_size=1000)
    packed = huffkit.compress(data, alphabet=alphabet, coder=coder, block_size=1000)
    symbols = expected_symbols(data, alphabet)
    assert ledger.alphabet == alphabet
    assert ledger.coder == coder
    assert ledger.symbols == len(symbols)
    assert ledger.distinct_symbols == len(set(symbols))
    assert ledger.original_size == len(data)
    assert ledger.compressed_size == len(packed)
    assert ledger.bits_file == 8 * len(packed)
    assert ledger.bits_payload + ledger.bits_container == ledger.bits_file
    assert ledger.wasted_container == ledger.bits_container
    assert (ledger.wasted_mismatch + ledger.wasted_rounding + ledger.wasted_container
            == pytest.approx(ledger.wasted_total, rel=1e-12))
    assert ledger.ideal_bits + ledger.wasted_total == pytest.approx(ledger.bits_file, rel=1e-12)
    counts = np.array(list(collections.Counter(symbols).values()))
    assert ledger.entropy == pytest.approx(entropy_bits(counts), rel=1e-12)
    assert ledger.mean_code_length == ledger.bits_payload / len(symbols)
    assert huffkit.inspect(packed) == ledger


def test_ledger_against_a_utf8_model():
    data = head(KOREAN, 2000)
    model = MODELS["utf8"]
    ledger = huffkit.analyze(data, alphabet="utf8", codebook=model)
    counts = np.bincount([ord(character) for character in data.decode()],
                         minlength=SIZES["utf8"]).astype(np.float64)
    p = counts / counts.sum()
    q = model.distribution.probabilities
    seen = counts > 0
    kl = float((p[seen] * np.log2(p[seen] / q[seen])).sum())
    assert ledger.kl_divergence == pytest.approx(kl, rel=1e-9)
    assert ledger.mean_code_length == pytest.approx(float((p * model.lengths).sum()), rel=1e-12)


def test_ledger_of_empty_utf8_data_names_its_alphabet():
    assert huffkit.analyze(b"", alphabet="utf8").alphabet == "utf8"


# -- the length limit -----------------------------------------------------------------------


RANDOM = random.Random(20240611).randbytes(200_000)


def test_pairs_of_random_bytes_fit_the_default_limit():
    distinct = np.unique(np.frombuffer(RANDOM, dtype=">u2")).size
    assert distinct > 32768  # more than 15-bit codes can hold
    packed = huffkit.compress(RANDOM, alphabet="pairs")
    assert huffkit.decompress(packed) == RANDOM
    (block,) = huffkit.frame_info(packed)[0].blocks
    assert block.distinct_symbols == distinct
    assert 16 <= block.max_code_length <= 20
    with pytest.raises(CodebookError, match=f"{distinct} distinct symbols need codes of at "
                                            "least 16 bits, but max_code_length is 15"):
        huffkit.compress(RANDOM, alphabet="pairs", max_code_length=15)


# -- codebook files -------------------------------------------------------------------------


def _fields(codebook: huffkit.Codebook) -> dict:
    return json.loads(codebook.to_json())


def test_utf8_codebook_file(tmp_path):
    distribution = huffkit.Distribution.from_bytes(KOREAN, alphabet="utf8")
    model = huffkit.Codebook.from_distribution(distribution, max_code_length=24)
    path = tmp_path / "korean.json"
    model.save(path)
    loaded = huffkit.Codebook.load(path)
    assert loaded == model
    assert loaded.identifier == model.identifier
    assert loaded.distribution == distribution
    assert loaded.max_code_length == 24
    fields = json.loads(path.read_text(encoding="utf-8"))
    assert fields["alphabet"] == "utf8"
    assert fields["symbols"] == sorted(set(map(ord, KOREAN_TEXT)))  # only the coded ones
    assert fields["lengths"] == [int(model.lengths[s]) for s in fields["symbols"]]
    assert fields["distribution"]["counts"] == [KOREAN_TEXT.count(chr(s))
                                                for s in fields["symbols"]]
    # FORMAT.md 15: the size u32, then (symbol u32, length u8) for each coded symbol.
    body = SIZES["utf8"].to_bytes(4, "little") + b"".join(
        struct.pack("<IB", symbol, length)
        for symbol, length in zip(fields["symbols"], fields["lengths"], strict=True))
    assert fields["identifier"] == hashlib.sha256(body).hexdigest()[:16] == model.identifier


@pytest.mark.parametrize("alpha", [0, 0.5])
def test_pairs_codebook_file(tmp_path, alpha):
    counted = huffkit.Distribution.from_bytes(ENGLISH, alphabet="pairs")
    distribution = counted.smoothed(alpha) if alpha else counted
    model = huffkit.Codebook.from_distribution(distribution, max_code_length=20)
    path = tmp_path / "pairs.json"
    model.save(path)
    loaded = huffkit.Codebook.load(path)
    assert loaded == model
    assert loaded.distribution == distribution
    assert loaded.distribution.smoothing == alpha
    fields = _fields(model)
    assert fields["alphabet"] == "pairs"
    expected = (list(range(SIZES["pairs"])) if alpha
                else sorted(set(expected_symbols(ENGLISH, "pairs"))))
    assert fields["symbols"] == expected
    assert len(fields["lengths"]) == len(expected)
    packed = huffkit.compress(ENGLISH, alphabet="pairs", codebook=loaded, embed_codebook=False)
    assert huffkit.decompress(packed, codebook=huffkit.Codebook.load(path)) == ENGLISH


def _edited(codebook: huffkit.Codebook, **changes) -> str:
    fields = _fields(codebook)
    fields.update(changes)
    return json.dumps(fields)


@pytest.mark.parametrize("symbols", [
    "reversed", "repeated", "too large", "negative", "not numbers", "empty", "missing"])
def test_tampered_symbols_are_refused(symbols):
    model = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes("가나다라 abc".encode(), alphabet="utf8"),
        max_code_length=24)
    listed = _fields(model)["symbols"]
    value = {"reversed": listed[::-1], "repeated": [listed[0], *listed[:-1]],
             "too large": [*listed[:-1], 0x110000], "negative": [-1, *listed[1:]],
             "not numbers": [str(s) for s in listed], "empty": [], "missing": None}[symbols]
    text = _edited(model, symbols=value)
    with pytest.raises(CodebookError, match=r'"symbols" must be (increasing symbols of the '
                                            r"utf8 alphabet \(0 to 1114111\)|a non-empty list)"):
        huffkit.Codebook.from_json(text)


def test_lengths_must_match_the_symbols():
    model = MODELS["utf8"]
    lengths = _fields(model)["lengths"]
    with pytest.raises(CodebookError, match=f'"lengths" must be a list of {len(lengths)} '
                                            "numbers, one per listed symbol"):
        huffkit.Codebook.from_json(_edited(model, lengths=lengths[:-1]))


def test_identifier_follows_the_lengths():
    text = "aaaabbbcdd 의의"
    model = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(text.encode(), alphabet="utf8"), max_code_length=24)
    fields = _fields(model)
    # Swap two different lengths: still a complete code, but another one.
    lengths = fields["lengths"]
    i, j = lengths.index(min(lengths)), lengths.index(max(lengths))
    swapped = lengths.copy()
    swapped[i], swapped[j] = lengths[j], lengths[i]
    with pytest.raises(CodebookError, match="does not match the code lengths"):
        huffkit.Codebook.from_json(_edited(model, lengths=swapped, distribution=None))
    other = np.array(model.lengths, dtype=np.int64)
    other[[fields["symbols"][i], fields["symbols"][j]]] = [lengths[j], lengths[i]]
    changed = huffkit.Codebook.from_lengths(other)
    assert changed.identifier != model.identifier
    fixed = _edited(model, lengths=swapped, distribution=None, identifier=changed.identifier)
    assert huffkit.Codebook.from_json(fixed) == changed


# -- distributions --------------------------------------------------------------------------


@pytest.mark.parametrize("alphabet", NAMES)
def test_distribution_from_bytes_counts(alphabet):
    data = SAMPLE
    counted = huffkit.Distribution.from_bytes(data, alphabet=alphabet)
    assert counted.size == SIZES[alphabet]
    expected = collections.Counter(expected_symbols(data, alphabet))
    support = counted.support.tolist()
    assert support == sorted(expected)
    assert counted.counts[support].tolist() == [expected[s] for s in support]
    assert counted.total == sum(expected.values())
    assert counted == huffkit.Distribution.from_bytes(memoryview(bytearray(data)),
                                                      alphabet=alphabet)


@pytest.mark.parametrize("alphabet", NAMES)
def test_distribution_from_files_counts_file_by_file(tmp_path, alphabet):
    contents = [KOREAN, ENGLISH[:999], b"", "\u00e9".encode()]  # an odd one: a last single byte
    paths = []
    for index, content in enumerate(contents):
        paths.append(tmp_path / f"{index}.txt")
        paths[-1].write_bytes(content)
    counted = huffkit.Distribution.from_files(paths, alphabet=alphabet)
    expected = np.zeros(SIZES[alphabet], dtype=np.int64)
    for content in contents:
        expected += np.bincount(np.array(expected_symbols(content, alphabet), dtype=np.int64),
                                minlength=SIZES[alphabet])
    assert np.array_equal(counted.counts, expected)
    assert huffkit.Distribution.from_files(paths[0], alphabet=alphabet) == \
        huffkit.Distribution.from_bytes(KOREAN, alphabet=alphabet)


def test_distribution_of_invalid_utf8():
    with pytest.raises(AlphabetError, match="at byte 1;"):
        huffkit.Distribution.from_bytes(b"a\xffb", alphabet="utf8")


# -- experiments ----------------------------------------------------------------------------


def test_compare_in_utf8():
    files = [BUNDLED["korean.txt"], BUNDLED["english.txt"]]
    result = huffkit.compare(files, alphabet="utf8")
    assert result.columns == (str(files[0]), str(files[1]), "uniform")
    for i, path in enumerate(files):
        text = path.read_text(encoding="utf-8")
        entropy = entropy_bits(np.bincount([ord(character) for character in text]))
        row = result.cells[i]
        assert row[i].kl_divergence == 0.0
        for cell in row:
            assert cell.entropy == pytest.approx(entropy, rel=1e-12)
            assert cell.original_size == len(path.read_bytes())
            if cell.codable:
                assert row[i].mean_code_length <= cell.mean_code_length
        assert result.best(i) == i
    # English has no Hangul: Korean's own model cannot code it, but the smoothed one can.
    assert result.cells[1][0].codable


def test_sweep_in_utf8():
    result = huffkit.sweep(BUNDLED["korean.txt"], toward=BUNDLED["english.txt"],
                           alphabet="utf8", steps=3)
    kl = [point.kl_divergence for point in result.points]
    assert kl[0] == pytest.approx(0.0, abs=1e-12)
    assert kl == sorted(kl)
    assert kl[-1] > 0
    counts = np.bincount([ord(character) for character in KOREAN_TEXT])
    assert result.entropy == pytest.approx(entropy_bits(counts), rel=1e-12)
    for point in result.points:
        assert point.wasted_bits_per_symbol == pytest.approx(
            point.mean_code_length - result.entropy, rel=1e-12)


def test_sweep_counts_utf8_symbols():
    result = huffkit.sweep("가나다".encode() * 3, alphabet="utf8", steps=2)
    assert result.symbols == 9


# -- the command line -----------------------------------------------------------------------


def run_json(*args: str) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A scratch folder that is the current directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "korean.txt").write_bytes(KOREAN)
    (tmp_path / "english.txt").write_bytes(ENGLISH)
    return tmp_path


def test_cli_compress_utf8_round_trip(work):
    result = invoke("compress", "--alphabet", "utf8", "korean.txt")
    assert result.exit_code == 0, result.stderr
    packed = (work / "korean.txt.huf").read_bytes()
    assert packed == huffkit.compress(KOREAN, alphabet="utf8")
    (work / "korean.txt").unlink()
    result = invoke("decompress", "korean.txt.huf")  # no --alphabet: the frame says
    assert result.exit_code == 0, result.stderr
    assert (work / "korean.txt").read_bytes() == KOREAN
    summary = invoke("info", "korean.txt.huf")
    assert summary.exit_code == 0
    assert summary.stdout.splitlines()[1].split()[3:5] == ["huffman", "utf8"]
    info = invoke("info", "--blocks", "korean.txt.huf")
    assert info.exit_code == 0
    assert "Huffman over utf8 symbols" in info.stdout
    assert re.search(r"\b6,151\b", info.stdout)  # the block's symbols: characters
    assert run_json("info", "korean.txt.huf")["frames"][0]["alphabet"] == "utf8"


def test_cli_invalid_utf8_is_an_error_and_writes_nothing(work):
    (work / "bad.txt").write_bytes(head(KOREAN, 90) + b"\xff")
    before = listing(work)
    result = invoke("compress", "--alphabet", "utf8", "bad.txt")
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert result.stderr == (f"huffkit: error: bad.txt: not valid UTF-8: invalid start byte at "
                             f"byte {len(head(KOREAN, 90))}; use the bytes alphabet for binary "
                             "data\n")
    assert listing(work) == before


def test_cli_invalid_utf8_writes_nothing_to_standard_output(work):
    (work / "bad.txt").write_bytes(b"ab\xff")
    result = invoke("compress", "--alphabet", "utf8", "-c", "bad.txt")
    assert result.exit_code == 1
    assert "not valid UTF-8" in result.stderr
    assert result.stdout_bytes == b""


def test_cli_invalid_utf8_position_is_in_the_file(work):
    (work / "bad.txt").write_bytes(b"abcdefghij\xff")
    result = invoke("compress", "--alphabet", "utf8", "--block-size", "8", "bad.txt")
    assert result.exit_code == 1
    assert "at byte 10;" in result.stderr


def test_cli_analyze_utf8(work):
    ledger = run_json("analyze", "--alphabet", "utf8", "korean.txt")
    assert ledger["alphabet"] == "utf8"
    assert ledger["symbols"] == len(KOREAN_TEXT)
    assert ledger["distinct_symbols"] == len(set(KOREAN_TEXT))
    assert ledger["original_size"] == len(KOREAN)
    assert ledger["compressed_size"] == len(huffkit.compress(KOREAN, alphabet="utf8"))
    counts = np.bincount([ord(character) for character in KOREAN_TEXT])
    assert ledger["entropy"] == pytest.approx(entropy_bits(counts), rel=1e-12)
    text = invoke("analyze", "--alphabet", "utf8", "--symbols", "korean.txt")
    assert text.exit_code == 0
    assert f"{len(KOREAN_TEXT):,} utf8 symbols" in text.stdout
    row = next(line for line in text.stdout.splitlines()
               if line.split()[:2] == [str(ord("의")), "의"])
    assert row.split()[2] == f"{KOREAN_TEXT.count('의'):,}"


def test_cli_train_compress_and_show_utf8(work):
    result = invoke("train", "--alphabet", "utf8", "korean.txt", "-o", "model.json")
    assert result.exit_code == 0, result.stderr
    assert f"({len(KOREAN_TEXT):,} utf8 symbols, {len(set(KOREAN_TEXT))} distinct)" in \
        result.stderr
    model = huffkit.Codebook.load(work / "model.json")
    assert _fields(model)["alphabet"] == "utf8"
    assert model == huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(KOREAN, alphabet="utf8"), max_code_length=24)
    result = invoke("compress", "--alphabet", "utf8", "--codebook", "model.json", "--no-embed",
                    "korean.txt", "-o", "korean.huf")
    assert result.exit_code == 0, result.stderr
    packed = (work / "korean.huf").read_bytes()
    assert packed == huffkit.compress(KOREAN, alphabet="utf8", codebook=model,
                                      embed_codebook=False)
    result = invoke("decompress", "--codebook", "model.json", "korean.huf", "-o", "back.txt")
    assert result.exit_code == 0, result.stderr
    assert (work / "back.txt").read_bytes() == KOREAN
    # The byte alphabet cannot use a utf8 model.
    result = invoke("compress", "--codebook", "model.json", "english.txt", "-o", "x.huf")
    assert result.exit_code == 1
    assert "a codebook for the bytes alphabet needs 256 symbols; this one has 1114112" in \
        result.stderr
    assert not (work / "x.huf").exists()
    shown = invoke("show", "model.json")
    assert shown.exit_code == 0
    rows = {line.split()[1]: line.split() for line in shown.stdout.splitlines()
            if line.split() and line.split()[0].isdigit()}
    assert rows["의"][0] == str(ord("의"))
    assert rows["의"][2] == f"{KOREAN_TEXT.count('의'):,}"
    assert rows["의"][5] == str(model.lengths[ord("의")])
    table = run_json("show", "model.json")
    assert table["alphabet"] == "utf8"
    assert [row["label"] for row in table["symbols"]] == [
        {10: "\\n", 32: "space"}.get(ord(c), c) for c in sorted(set(KOREAN_TEXT))]


def test_cli_compare_in_pairs(work):
    result = run_json("compare", "--alphabet", "pairs", "korean.txt", "english.txt")
    assert result["rows"] == ["korean.txt", "english.txt"]
    assert result["columns"] == ["korean.txt", "english.txt", "uniform"]
    for i, row in enumerate(result["cells"]):
        assert row[i]["kl_divergence"] == 0.0
        assert all(row[i]["mean_code_length"] <= cell["mean_code_length"] for cell in row)
    pairs = collections.Counter(expected_symbols(KOREAN, "pairs"))
    assert result["cells"][0][0]["entropy"] == pytest.approx(
        entropy_bits(np.array(list(pairs.values()))), rel=1e-12)


def test_cli_sweep_in_utf8(work):
    result = run_json("sweep", "--alphabet", "utf8", "--steps", "3", "korean.txt")
    kl = [point["kl_divergence"] for point in result["points"]]
    assert len(kl) == 3
    assert kl[0] == pytest.approx(0.0, abs=1e-12)
    assert kl == sorted(kl)
    counts = np.bincount([ord(character) for character in KOREAN_TEXT])
    assert result["entropy"] == pytest.approx(entropy_bits(counts), rel=1e-12)


def test_cli_unknown_alphabet(work):
    result = invoke("compress", "--alphabet", "latin1", "korean.txt")
    assert result.exit_code == 2
    assert "Invalid value for '--alphabet'" in result.stderr
    assert not (work / "korean.txt.huf").exists()


@pytest.mark.parametrize("command", ["compress", "analyze"])
def test_cli_block_size_below_the_minimum(work, command):
    before = listing(work)
    result = invoke(command, "--alphabet", "utf8", "--block-size", "3", "korean.txt")
    assert result.exit_code in (1, 2)
    assert "--block-size must be at least 4 bytes for the utf8 alphabet, got 3" in result.stderr
    assert "Traceback" not in result.stderr
    assert listing(work) == before


def test_cli_train_on_empty_files_names_the_alphabet(work):
    (work / "empty.txt").write_bytes(b"")
    result = invoke("train", "--alphabet", "utf8", "empty.txt", "-o", "model.json")
    assert result.exit_code == 1
    assert result.stderr == ("huffkit: error: the files are empty, so there is nothing to build "
                             "a code from; use --smooth ALPHA for a code over all 1,114,112 "
                             "utf8 symbols\n")
    assert not (work / "model.json").exists()


def test_pairs_data_refuses_a_value_beyond_the_alphabet():
    with pytest.raises(AlphabetError, match="65836 is not a symbol of the pairs alphabet"):
        ALPHABETS["pairs"].data(np.array([65536 + 300]))


def test_an_ans_block_with_more_distinct_symbols_than_two_to_the_16():
    # Every pair once, then more random bytes and an odd last byte: 65 537 distinct symbols,
    # more than a 16-bit table can give a frequency each; the block's table takes 19 bits.
    data = np.arange(65536, dtype=">u2").tobytes() + random.Random(5).randbytes(30001)
    packed = huffkit.compress(data, alphabet="pairs", coder="ans")
    assert huffkit.decompress(packed) == data
    (block,) = huffkit.frame_info(packed)[0].blocks
    assert block.distinct_symbols == 65537
    ledger = huffkit.inspect(packed)
    assert ledger.symbols == 65536 + 15001
    assert ledger.bits_payload + ledger.bits_container == 8 * len(packed)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["utf8", "pairs"]),
       st.lists(st.integers(0, 65791), min_size=1, max_size=20_000))
def test_listed_symbols_are_the_distinct_symbols_and_their_positions(name, values):
    # A short block is counted by sorting, a long one by counting over the alphabet
    # (the cut is at 1/8 of the alphabet's size): both must give the same answer.
    from huffkit.format.presence import listed_symbols
    symbols = np.array(values, dtype=np.int64)
    listed, positions, counts = listed_symbols(symbols, ALPHABETS[name])
    expected = collections.Counter(values)
    assert listed.tolist() == sorted(expected)
    assert np.array_equal(listed[positions], symbols)
    assert counts.tolist() == [expected[value] for value in listed.tolist()]


@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.parametrize("alphabet", ["utf8", "pairs"])
def test_each_block_lists_exactly_its_own_symbols(coder, alphabet):
    # Blocks of 64 bytes (their symbols listed by sorting) and one block of all the data
    # (listed by counting over the alphabet): each table lists exactly its block's symbols.
    data = head(KOREAN, 40_000)
    chosen = ALPHABETS[alphabet]
    for block_size in (64, 1 << 20):
        packed = huffkit.compress(data, alphabet=alphabet, coder=coder, block_size=block_size)
        assert huffkit.decompress(packed) == data
        start = 0
        for info in huffkit.frame_info(packed)[0].blocks:
            piece = data[start:start + info.original_size]
            assert info.distinct_symbols == np.unique(chosen.symbols(piece)).size
            start += info.original_size
        assert start == len(data)


def test_alphabet_error_is_exported():
    assert huffkit.AlphabetError is AlphabetError
    assert "AlphabetError" in huffkit.__all__
    with pytest.raises(huffkit.AlphabetError, match=r"^not valid UTF-8: unexpected end of data "
                                                    r"at byte 3; use the bytes alphabet"):
        huffkit.compress(b"caf\xc3", alphabet="utf8")
