"""File objects in the standard library's style: :class:`HuffmanFile` and :func:`open`, over
the incremental compressor and decompressor, as ``bz2.BZ2File`` and ``lzma.open`` are.
"""

from __future__ import annotations

import builtins
import io
import os
import sys
from typing import IO, Literal, TypeAlias, overload

from .._buffers import Buffer, BytesLike, byte_view
from .._errors import TruncatedError
from .._types import AlphabetName, Coder, ModelName
from ..format.frame import DEFAULT_MEMORY_LIMIT, check_memory_limit
from ..format.layout import DEFAULT_BLOCK_SIZE
from ..models.codebook import Codebook
from ..models.distribution import Distribution
from ..models.sequential import ORDER0
from .compressor import HuffmanCompressor
from .decompressor import DECODE_BATCH, HuffmanDecompressor
from .threads import check_threads

__all__ = ["HuffmanFile", "open"]

#: What HuffmanFile and open() take as a file: a path, or a file object in binary mode.
FileArgument: TypeAlias = str | bytes | os.PathLike[str] | os.PathLike[bytes] | IO[bytes]
#: open()'s modes that give a HuffmanFile, and those that give text (as gzip's and bz2's).
BinaryMode: TypeAlias = Literal["r", "rb", "w", "wb", "x", "xb", "a", "ab"]
TextMode: TypeAlias = Literal["rt", "wt", "xt", "at"]


# How many compressed bytes a HuffmanFile reads from its file at a time.
_READ_SIZE = 128 * 1024


class _DecompressReader(io.RawIOBase):
    """A raw, read-only stream of the data decompressed from a file of frames."""

    def __init__(self, fp: IO[bytes], codebook: Codebook | None = None, threads: int = 1,
                 memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> None:
        self._fp = fp
        self._codebook = codebook
        self._threads = threads
        self._memory_limit = memory_limit
        # With several threads, read enough compressed data to hold a batch of blocks.
        self._read_size = (_READ_SIZE if threads == 1
                           else DECODE_BATCH * threads * DEFAULT_BLOCK_SIZE)
        self._decompressor: HuffmanDecompressor | None = self._new_decompressor()
        self._eof = False
        self._pos = 0  # position in the decompressed data
        self._size = -1  # decompressed size, once known

    def _new_decompressor(self) -> HuffmanDecompressor:
        return HuffmanDecompressor(codebook=self._codebook, threads=self._threads,
                                   memory_limit=self._memory_limit)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._fp.seekable()

    def close(self) -> None:
        self._decompressor = None
        super().close()

    def readinto(self, buffer: Buffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as byte_view:
            data = self.read(len(byte_view))
            byte_view[:len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return self.readall()
        if not size or self._eof:
            return b""
        data = b""
        decompressor = self._decompressor
        if decompressor is None:
            raise ValueError("I/O operation on closed file")
        while not data:
            if decompressor.eof:
                # The frame is over; another may follow.
                raw = decompressor.unused_data or self._fp.read(self._read_size)
                if not raw:
                    break
                self._decompressor = decompressor = self._new_decompressor()
            elif decompressor.needs_input:
                raw = self._fp.read(self._read_size)
                if not raw:
                    raise TruncatedError("compressed file ended before the end of its frame (a "
                                         "frame end, or a last block) was reached")
            else:
                raw = b""
            data = decompressor.decompress(raw, size)
        if not data:
            self._eof = True
            self._size = self._pos
            return b""
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        chunks = []
        while data := self.read(sys.maxsize):
            chunks.append(data)
        return b"".join(chunks)

    def _rewind(self) -> None:
        self._fp.seek(0)
        self._decompressor = self._new_decompressor()
        self._eof = False
        self._pos = 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # Seeking is emulated, as in gzip and lzma: backwards means decoding again from the start.
        if whence == io.SEEK_SET:
            pass
        elif whence == io.SEEK_CUR:
            offset = self._pos + offset
        elif whence == io.SEEK_END:
            if self._size < 0:
                while self.read(io.DEFAULT_BUFFER_SIZE):
                    pass
            offset = self._size + offset
        else:
            raise ValueError(f"Invalid value for whence: {whence}")
        if offset < self._pos:
            self._rewind()
        else:
            offset -= self._pos
        while offset > 0:
            data = self.read(min(io.DEFAULT_BUFFER_SIZE, offset))
            if not data:
                break
            offset -= len(data)
        return self._pos

    def tell(self) -> int:
        return self._pos


_MODE_CLOSED, _MODE_READ, _MODE_WRITE = 0, 1, 2


class HuffmanFile(io.BufferedIOBase):
    """A file object that reads or writes huffkit-compressed data.

    *filename* is a path (str, bytes or path-like) or a file object opened in
    binary mode.  *mode* is ``"r"`` (read, the default), ``"w"`` (write,
    truncating), ``"x"`` (create; fail if it exists) or ``"a"`` (append a new
    frame), each with an optional ``"b"``.  *block_size*, *max_code_length*,
    *embed_codebook*, *coder*, *alphabet*, *split* and *model* apply when writing, and
    *memory_limit* (see :class:`HuffmanDecompressor`) when reading; *codebook*
    and *threads* (blocks coded in parallel; None: one per core) in both
    directions (see :class:`HuffmanCompressor`).  Reading decodes
    concatenated frames in order, whatever their coder and alphabet.
    """

    def __init__(self, filename: FileArgument, mode: str = "r", *,
                 block_size: int | None = None,
                 max_code_length: int | None = None,
                 codebook: Codebook | Distribution | None = None,
                 embed_codebook: bool | None = None, coder: Coder | None = None,
                 alphabet: AlphabetName | None = None, threads: int | None = 1,
                 split: bool | None = None,
                 memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
                 model: ModelName | None = None) -> None:
        self._fp: IO[bytes] | None = None
        # The mode's own: a reader of the decompressed data, or the compressor.
        self._buffer: io.BufferedReader[_DecompressReader] | None = None
        self._compressor: HuffmanCompressor | None = None
        threads = check_threads(threads)
        memory_limit = check_memory_limit(memory_limit)
        self._close_fp = False
        self._mode = _MODE_CLOSED
        self._pos = 0
        if mode in ("r", "rb"):
            if any(option is not None for option in (block_size, max_code_length,
                                                     embed_codebook, coder, alphabet, split,
                                                     model)):
                raise ValueError("block_size, max_code_length, embed_codebook, coder, "
                                 "alphabet, split and model apply only when writing (a "
                                 "file names its model)")
            if codebook is not None and not isinstance(codebook, Codebook):
                raise TypeError(f"codebook must be a Codebook when reading, not "
                                f"{type(codebook).__name__}")
            file_mode, self_mode = "rb", _MODE_READ
            reading_codebook = codebook
        elif mode in ("w", "wb", "a", "ab", "x", "xb"):
            if memory_limit != DEFAULT_MEMORY_LIMIT:
                raise ValueError("memory_limit applies only when reading")
            self._compressor = HuffmanCompressor(
                block_size=block_size, max_code_length=max_code_length,
                codebook=codebook, embed_codebook=embed_codebook is not False,
                coder="huffman" if coder is None else coder,
                alphabet="bytes" if alphabet is None else alphabet, threads=threads,
                split=split is not False, model=ORDER0 if model is None else model)
            file_mode, self_mode = mode[0] + "b", _MODE_WRITE
        else:
            raise ValueError(f"Invalid mode: {mode!r}")

        if isinstance(filename, (str, bytes, os.PathLike)):
            self._fp = builtins.open(filename, file_mode)  # noqa: SIM115 - closed by close()
            self._close_fp = True
        elif hasattr(filename, "read") or hasattr(filename, "write"):
            self._fp = filename
        else:
            raise TypeError("filename must be a str, bytes or path-like object, or a file object")
        self._mode = self_mode
        if self_mode == _MODE_READ:
            self._buffer = io.BufferedReader(_DecompressReader(self._fp, reading_codebook,
                                                               threads, memory_limit))

    # -- state ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._mode == _MODE_CLOSED

    @property
    def mode(self) -> str:
        return "wb" if self._mode == _MODE_WRITE else "rb"

    @property
    def name(self) -> str | bytes | int | None:
        self._check_not_closed()
        name: str | bytes | int | None = getattr(self._fp, "name", None)
        return name

    def close(self) -> None:
        """Flush and close; in write mode this writes the end of the frame."""
        if self._mode == _MODE_CLOSED:
            return
        try:
            if self._mode == _MODE_READ:
                self._reader().close()
                self._buffer = None
            elif self._mode == _MODE_WRITE:
                self._file().write(self._writer().flush())
                self._compressor = None
        finally:
            try:
                if self._close_fp and self._fp is not None:
                    self._fp.close()
            finally:
                self._fp = None
                self._close_fp = False
                self._mode = _MODE_CLOSED

    def fileno(self) -> int:
        self._check_not_closed()
        return self._file().fileno()

    def seekable(self) -> bool:
        return self.readable() and self._reader().seekable()

    def readable(self) -> bool:
        self._check_not_closed()
        return self._mode == _MODE_READ

    def writable(self) -> bool:
        self._check_not_closed()
        return self._mode == _MODE_WRITE

    def _check_not_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def _check_can_read(self) -> None:
        if not self.readable():
            raise io.UnsupportedOperation("File not open for reading")

    def _check_can_write(self) -> None:
        if not self.writable():
            raise io.UnsupportedOperation("File not open for writing")

    # The objects of an open file's mode (None once it is closed, or in the other mode).

    def _file(self) -> IO[bytes]:
        assert self._fp is not None  # open
        return self._fp

    def _reader(self) -> io.BufferedReader[_DecompressReader]:
        assert self._buffer is not None  # open for reading
        return self._buffer

    def _writer(self) -> HuffmanCompressor:
        assert self._compressor is not None  # open for writing
        return self._compressor

    # -- reading -------------------------------------------------------------

    def peek(self, size: int = -1) -> bytes:
        self._check_can_read()
        return self._reader().peek(size)

    def read(self, size: int | None = -1) -> bytes:
        self._check_can_read()
        return self._reader().read(size)

    def read1(self, size: int = -1) -> bytes:
        self._check_can_read()
        if size < 0:
            size = io.DEFAULT_BUFFER_SIZE
        return self._reader().read1(size)

    def readinto(self, buffer: Buffer) -> int:
        self._check_can_read()
        return self._reader().readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        self._check_can_read()
        return self._reader().readline(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seek in the decompressed data (read mode only; emulated, so backwards is slow)."""
        self._check_can_read()
        return self._reader().seek(offset, whence)

    def tell(self) -> int:
        self._check_not_closed()
        if self._mode == _MODE_READ:
            return self._reader().tell()
        return self._pos

    # -- writing -------------------------------------------------------------

    def write(self, data: BytesLike) -> int:
        """Compress and write *data* (any bytes-like object); return its length in bytes."""
        self._check_can_write()
        with byte_view(data) as view:
            length = view.nbytes
            self._file().write(self._writer().compress(view))
        self._pos += length
        return length


@overload
def open(file: FileArgument, /, mode: BinaryMode = "rb", *, block_size: int | None = None,
         max_code_length: int | None = None, codebook: Codebook | Distribution | None = None,
         embed_codebook: bool | None = None, coder: Coder | None = None,
         alphabet: AlphabetName | None = None, threads: int | None = 1,
         split: bool | None = None, memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
         encoding: None = None, errors: None = None, newline: None = None,
         model: ModelName | None = None) -> HuffmanFile: ...


@overload
def open(file: FileArgument, /, mode: TextMode, *, block_size: int | None = None,
         max_code_length: int | None = None, codebook: Codebook | Distribution | None = None,
         embed_codebook: bool | None = None, coder: Coder | None = None,
         alphabet: AlphabetName | None = None, threads: int | None = 1,
         split: bool | None = None, memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
         encoding: str | None = None, errors: str | None = None, newline: str | None = None,
         model: ModelName | None = None) -> io.TextIOWrapper: ...


@overload
def open(file: FileArgument, /, mode: str, *, block_size: int | None = None,
         max_code_length: int | None = None, codebook: Codebook | Distribution | None = None,
         embed_codebook: bool | None = None, coder: Coder | None = None,
         alphabet: AlphabetName | None = None, threads: int | None = 1,
         split: bool | None = None, memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
         encoding: str | None = None, errors: str | None = None, newline: str | None = None,
         model: ModelName | None = None) -> HuffmanFile | io.TextIOWrapper: ...


def open(file: FileArgument, /, mode: str = "rb", *, block_size: int | None = None,
         max_code_length: int | None = None, codebook: Codebook | Distribution | None = None,
         embed_codebook: bool | None = None, coder: Coder | None = None,
         alphabet: AlphabetName | None = None, threads: int | None = 1,
         split: bool | None = None, memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
         encoding: str | None = None, errors: str | None = None, newline: str | None = None,
         model: ModelName | None = None) -> HuffmanFile | io.TextIOWrapper:
    """Open a huffkit-compressed file in binary or text mode.

    *mode* is one of ``"r"``, ``"w"``, ``"x"``, ``"a"``, with ``"b"`` (binary,
    the default) or ``"t"`` (text).  Binary modes return a
    :class:`HuffmanFile`; text modes wrap it in :class:`io.TextIOWrapper`
    with the given *encoding*, *errors* and *newline*.  *memory_limit*
    (reading only) is that of :class:`HuffmanDecompressor`; *model* (writing only) that of
    :class:`HuffmanCompressor`.
    """
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"Invalid mode: {mode!r}")
    else:
        if encoding is not None:
            raise ValueError("Argument 'encoding' not supported in binary mode")
        if errors is not None:
            raise ValueError("Argument 'errors' not supported in binary mode")
        if newline is not None:
            raise ValueError("Argument 'newline' not supported in binary mode")
    binary = HuffmanFile(file, mode.replace("t", ""), block_size=block_size,
                         max_code_length=max_code_length, codebook=codebook,
                         embed_codebook=embed_codebook, coder=coder, alphabet=alphabet,
                         threads=threads, split=split, memory_limit=memory_limit, model=model)
    if "t" in mode:
        # io.text_encoding is in Python 3.10's io, though typeshed lists it from 3.11.
        encoding = io.text_encoding(encoding)  # type: ignore[attr-defined, unused-ignore]
        return io.TextIOWrapper(binary, encoding, errors, newline)
    return binary
