"""The caller's buffers: errors that leave no views of them behind, and bytes-like objects of
any item size and layout.

A memoryview, a slice or a numpy array over the caller's buffer keeps it exported; while one
is alive, an mmap cannot be closed and a bytearray cannot be resized (``BufferError``).  An
error raised by huffkit once kept such views in the frames of its traceback, so that
``with mmap.mmap(...) as mapped: huffkit.inspect(mapped)`` on a damaged file raised a
``BufferError`` from the closing mmap, masking the error that said what was wrong.
"""

from __future__ import annotations

import contextlib
import mmap
from pathlib import Path

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
}


FAILING = [(name, call) for name, (_, errors) in FILES.items() for call in CALLS
           if errors[call] is not None]
SUCCEEDING = [(name, call) for name, (_, errors) in FILES.items() for call in CALLS
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
