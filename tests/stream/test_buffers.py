"""The caller's buffers: errors that leave no views of them behind, and bytes-like objects of
any item size and layout.

A memoryview, a slice or a numpy array over the caller's buffer keeps it exported; while one
is alive, an mmap cannot be closed and a bytearray cannot be resized (``BufferError``).  An
error raised by huffkit once kept such views in the frames of its traceback, so that
``with mmap.mmap(...) as mapped: huffkit.inspect(mapped)`` on a damaged file raised a
``BufferError`` from the closing mmap, masking the error that said what was wrong.
"""

from __future__ import annotations

import array
import contextlib
import io
import mmap
from pathlib import Path

import numpy as np
import pytest

import huffkit
from huffkit import ChecksumError, FormatError, HuffmanError, TruncatedError

DATA = bytes(range(256)) * 400 + b"the end" * 100


def _damaged(coder: str) -> bytes:
    """A frame whose first block's payload is damaged: its CRC-32 then fails."""
    packed = bytearray(huffkit.compress(DATA, coder=coder, split=False))
    block = huffkit.frame_info(bytes(packed))[0].blocks[0]
    packed[block.offset + block.size - 40] ^= 0x5A
    return bytes(packed)


def _damaged_third_block() -> bytes:
    """A frame of seven blocks whose third fails its CRC-32: decoded ahead by threads."""
    packed = bytearray(huffkit.compress(DATA, block_size=1 << 14, split=False))
    block = huffkit.frame_info(bytes(packed))[0].blocks[2]
    packed[block.offset + block.size - 40] ^= 0x5A
    return bytes(packed)


def _joined() -> bytes:
    """A valid file of a bytes frame and a utf8 frame: one ledger cannot count both."""
    return (huffkit.compress(DATA)
            + huffkit.compress("naïve café ☕ ".encode() * 500, alphabet="utf8", coder="ans"))


def _bad_header() -> bytes:
    packed = bytearray(huffkit.compress(DATA))
    packed[7] ^= 0x01  # the block size: the header's CRC-32 fails
    return bytes(packed)


FILES = {
    "damaged-huffman": (_damaged("huffman"),
                        {"decompress": ChecksumError, "inspect": ChecksumError,
                         "decompressor": ChecksumError, "frame_info": None}),
    "damaged-ans": (_damaged("ans"),
                    {"decompress": FormatError, "inspect": FormatError,
                     "decompressor": FormatError, "frame_info": None}),
    "damaged-third-block": (_damaged_third_block(),
                            {"decompress": ChecksumError, "inspect": ChecksumError,
                             "decompressor": ChecksumError, "frame_info": None,
                             "decompress-threads": ChecksumError}),
    "joined-bytes-utf8": (_joined(),
                          {"decompress": None, "inspect": FormatError, "decompressor": None,
                           "frame_info": None}),
    "bad-header": (_bad_header(),
                   {"decompress": FormatError, "inspect": FormatError,
                    "decompressor": FormatError, "frame_info": FormatError}),
    "truncated": (huffkit.compress(DATA)[:-3],
                  {"decompress": TruncatedError, "inspect": TruncatedError,
                   "decompressor": None, "frame_info": TruncatedError}),
}

CALLS = {
    "decompress": huffkit.decompress,
    "inspect": huffkit.inspect,
    "frame_info": huffkit.frame_info,
    "decompressor": lambda data: huffkit.HuffmanDecompressor().decompress(data),
    "decompress-threads": lambda data: huffkit.decompress(data, threads=2),
}


FAILING = [(name, call) for name, (_, errors) in FILES.items() for call in errors
           if errors[call] is not None]
SUCCEEDING = [(name, call) for name, (_, errors) in FILES.items() for call in errors
              if errors[call] is None]


def _map(tmp_path: Path, payload: bytes) -> mmap.mmap:
    path = tmp_path / "file.huf"
    path.write_bytes(payload)
    with open(path, "rb") as file:
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


@pytest.mark.parametrize(("name", "call"), FAILING)
def test_mapped_file_closes_as_the_error_goes_by(name, call, tmp_path):
    """``with mmap`` closes the map while the error propagates: the error must come out."""
    payload, errors = FILES[name]
    with pytest.raises(errors[call]) as info, _map(tmp_path, payload) as mapped:
        CALLS[call](mapped)
    assert isinstance(info.value, HuffmanError)
    assert mapped.closed


@pytest.mark.parametrize(("name", "call"), FAILING)
def test_mapped_file_closes_inside_the_handler(name, call, tmp_path):
    payload, errors = FILES[name]
    mapped = _map(tmp_path, payload)
    try:
        CALLS[call](mapped)
    except HuffmanError as error:
        assert isinstance(error, errors[call])
        mapped.close()  # while the error is alive: no view of the map may be in it
    else:
        pytest.fail("no error")
    assert mapped.closed


@pytest.mark.parametrize(("name", "call"), SUCCEEDING)
def test_mapped_file_closes_after_success(name, call, tmp_path):
    payload, _ = FILES[name]
    with _map(tmp_path, payload) as mapped:
        result = CALLS[call](mapped)
    assert mapped.closed
    if call == "decompress":
        assert result == huffkit.decompress(payload)


def test_decompressor_left_behind_holds_no_view(tmp_path):
    """A decompressor that failed, or that waits for more, keeps its own copy of what it
    has not used, not a view of the caller's buffer."""
    for payload in (_damaged("huffman"), huffkit.compress(DATA)[:-3]):
        mapped = _map(tmp_path, payload)
        decompressor = huffkit.HuffmanDecompressor()
        with contextlib.suppress(HuffmanError):
            decompressor.decompress(mapped)
        mapped.close()
        assert not decompressor.eof


_CODEBOOK = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(b"abc"))
_NOT_UTF8 = b"abc\xff" * 50_000
ENCODERS = {
    "compress-codebook": (lambda data: huffkit.compress(data, codebook=_CODEBOOK),
                          huffkit.CodebookError),
    "compress-utf8": (lambda data: huffkit.compress(data, alphabet="utf8"),
                      huffkit.AlphabetError),
    "compressor-utf8": (lambda data: huffkit.HuffmanCompressor(alphabet="utf8").compress(data),
                        huffkit.AlphabetError),
    "compressor-codebook": (lambda data: huffkit.HuffmanCompressor(codebook=_CODEBOOK)
                            .compress(data), huffkit.CodebookError),
    "analyze-codebook": (lambda data: huffkit.analyze(data, codebook=_CODEBOOK),
                         huffkit.CodebookError),
    "analyze-utf8": (lambda data: huffkit.analyze(data, alphabet="utf8"),
                     huffkit.AlphabetError),
}


@pytest.mark.parametrize("call", list(ENCODERS))
def test_encoding_errors_leave_the_buffer_free(call, tmp_path):
    function, error = ENCODERS[call]
    with pytest.raises(error), _map(tmp_path, _NOT_UTF8) as mapped:
        function(mapped)
    grown = bytearray(_NOT_UTF8)
    try:
        function(grown)
    except error:
        grown += b"more"  # a bytearray with exports cannot be resized
    else:
        pytest.fail("no error")
    assert len(grown) == len(_NOT_UTF8) + 4


# -- bytes-like objects of any item size: their bytes, as zlib reads them ------------------------

NOT_CONTIGUOUS = ("data must be a C-contiguous bytes-like object; this one is strided or in "
                  "Fortran order: pass a contiguous copy (numpy.ascontiguousarray, or "
                  "bytes(memoryview(...)))")


def _shapes(payload: bytes) -> dict[str, object]:
    """*payload* (a multiple of 4 bytes) as bytes-like objects of other item sizes and shapes,
    each of exactly those bytes in that order."""
    assert len(payload) % 4 == 0
    words = array.array("I")
    words.frombytes(payload)
    return {
        "array-I": words,
        "numpy-int32": np.frombuffer(payload, dtype=np.int32),
        "numpy-2d": np.frombuffer(payload, dtype=np.uint16).reshape(2, -1),
        "numpy-big-endian": np.frombuffer(payload, dtype=">u2"),
        "memoryview-cast": memoryview(payload).cast("I"),
    }


def _strided(payload: bytes) -> dict[str, object]:
    """Buffers of the payload's bytes that are not C-contiguous."""
    square = np.frombuffer(payload[:(len(payload) // 64) * 64], dtype=np.uint8).reshape(-1, 64)
    return {
        "fortran": np.asfortranarray(square),
        "strided": np.frombuffer(payload, dtype=np.uint8)[::2],
        "memoryview-strided": memoryview(payload)[::2],
    }


PLAIN = b"huffkit reads any buffer as its bytes " * 300


def _packed_of_four() -> tuple[bytes, bytes]:
    """A frame of a length divisible by 4 (so that it is a whole array of 4-byte items)."""
    for size in range(10_000, 10_100):
        packed = huffkit.compress(PLAIN[:size])
        if len(packed) % 4 == 0:
            return packed, PLAIN[:size]
    raise AssertionError("no frame of a length divisible by 4")


FRAME4, PLAIN4 = _packed_of_four()
TEXT = "naïve café ☕ ".encode() * 64  # utf8, 4-byte aligned length
assert len(TEXT) % 4 == 0


def _write(data) -> bytes:
    target = io.BytesIO()
    with huffkit.open(target, "wb") as file:
        assert file.write(data) == memoryview(data).nbytes
    return target.getvalue()


ENCODING = {
    "compress": lambda data: huffkit.compress(data),
    "compress-utf8": lambda data: huffkit.compress(data, alphabet="utf8"),
    "compress-pairs": lambda data: huffkit.compress(data, alphabet="pairs", coder="ans"),
    "compressor": lambda data: (lambda c: c.compress(data) + c.flush())(
        huffkit.HuffmanCompressor()),
    "compressor-utf8": lambda data: (lambda c: c.compress(data) + c.flush())(
        huffkit.HuffmanCompressor(alphabet="utf8")),
    "analyze": lambda data: huffkit.analyze(data).to_dict(),
    "file-write": _write,
}
DECODING = {
    "decompress": huffkit.decompress,
    "decompressor": lambda data: huffkit.HuffmanDecompressor().decompress(data),
    "frame_info": huffkit.frame_info,
    "inspect": lambda data: huffkit.inspect(data).to_dict(),
}


@pytest.mark.parametrize("shape", list(_shapes(TEXT)))
@pytest.mark.parametrize("call", list(ENCODING))
def test_encoders_read_any_contiguous_buffer_as_its_bytes(call, shape):
    data = _shapes(TEXT)[shape]
    assert ENCODING[call](data) == ENCODING[call](TEXT)


@pytest.mark.parametrize("shape", list(_shapes(FRAME4)))
@pytest.mark.parametrize("call", list(DECODING))
def test_decoders_read_any_contiguous_buffer_as_its_bytes(call, shape):
    """frame_info and inspect once read an array('I') by items, and said that a frame of
    N bytes ended before its N bytes."""
    data = _shapes(FRAME4)[shape]
    assert DECODING[call](data) == DECODING[call](FRAME4)


def test_file_reads_into_any_buffer():
    target = array.array("I", bytes(4 * (len(PLAIN4) // 4 + 2)))
    with huffkit.open(io.BytesIO(FRAME4)) as file:
        count = file.readinto(target)
    assert count == len(PLAIN4)
    assert target.tobytes()[:count] == PLAIN4


@pytest.mark.parametrize("layout", list(_strided(TEXT)))
@pytest.mark.parametrize("call", [*ENCODING, *DECODING])
def test_buffers_that_are_not_contiguous_are_refused(call, layout):
    data = _strided(TEXT if call in ENCODING else FRAME4)[layout]
    with pytest.raises(ValueError) as info:
        {**ENCODING, **DECODING}[call](data)
    assert type(info.value) is ValueError
    assert str(info.value) == NOT_CONTIGUOUS


@pytest.mark.parametrize("call", [*ENCODING, *DECODING])
@pytest.mark.parametrize("value", ["text", [1, 2, 3], 7])
def test_objects_that_are_not_bytes_like_are_type_errors(call, value):
    with pytest.raises(TypeError) as info:
        {**ENCODING, **DECODING}[call](value)
    assert "bytes-like object is required" in str(info.value)
