"""Compress a large file in chunks, each its own frame, on any ``concurrent.futures.Executor``.

Frames concatenate (FORMAT.md): a file of several frames decompresses to the
concatenation of their data, so a file cut into chunks can be compressed a chunk
at a time, by as many workers as there are (a process pool, or a Dask cluster
through ``Client.get_executor()``), and the result is an ordinary huffkit file.
Each worker opens the file by its path and reads only its own byte range; only
the chunk's frame travels back.  The frames are written in order, so the output
for a given *chunk_size* is the same whatever runs the chunks and however many
workers it has.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import io
import os
import stat
import tempfile
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Executor
from typing import Any

from .._errors import HuffmanError
from ..models.alphabet import alphabet_named
from ..models.parallel import in_order
from .compressor import HuffmanCompressor, compress

__all__ = ["DEFAULT_CHUNK_SIZE", "compress_file", "compress_range"]

#: The bytes of the source each chunk (and so each frame) holds by default: several blocks
#: per chunk, each a few seconds' work, and with two chunks per worker in flight, little memory.
DEFAULT_CHUNK_SIZE = 64 << 20

#: Called after each chunk is written with (bytes of the source done, its size).
Progress = Callable[[int, int], None]

# The hidden temporary file beside the target: ".NAME.XXXXXXXX.tmp", as the command line's.
_TEMPORARY_SUFFIX = ".tmp"
_NAME_ROOM = 255 - 2 - 8 - len(_TEMPORARY_SUFFIX)  # NAME_MAX less the dots and random part


def compress_range(path: str, offset: int, length: int, options: dict[str, Any]) -> bytes:
    """The frame of the *length* bytes of the file *path* from *offset*: ``compress(those
    bytes, **options)``.

    The work of one chunk, run by a worker: it reads the file by its path (shared
    storage) rather than being sent the bytes.  A file that ends before the range does
    has changed size since the chunks were planned: ``HuffmanError``.
    """
    data = bytearray(length)
    got = 0
    with open(path, "rb", buffering=0) as stream, memoryview(data) as view:
        stream.seek(offset)
        while got < length:
            count = stream.readinto(view[got:])
            if not count:
                break
            got += count
    if got < length:
        raise HuffmanError(f"{path}: changed size while it was compressed: it ends at byte "
                           f"{offset + got:,}, inside the chunk of {length:,} bytes from byte "
                           f"{offset:,}")
    return compress(data, **options)


def compress_file(source: str | os.PathLike[str], target: str | os.PathLike[str], /, *,
                  chunk_size: int = DEFAULT_CHUNK_SIZE, executor: Executor | None = None,
                  overwrite: bool = False, progress: Progress | None = None,
                  **options: Any) -> int:
    """Compress the file *source* into the file *target*, *chunk_size* bytes to a frame.

    *options* are :func:`compress`'s keywords (``block_size``, ``coder``, ``alphabet``,
    ``model``, ``codebook``, ...), used for every chunk: the output is
    ``b"".join(compress(chunk, **options) for chunk in chunks)``, the chunks being
    *chunk_size* bytes each (the last one shorter; for the utf8 and pairs alphabets a
    chunk ends before a whole symbol rather than inside one).  An empty file gives one
    empty frame, as ``compress(b"")`` does.

    With *executor* (a ``concurrent.futures.Executor``: a process pool, a Dask
    client's ``get_executor()``) the chunks are compressed by its workers, each
    reading its own byte range of *source* by path, so *source* must be on storage
    the workers share; at most two chunks per worker are in flight, so memory stays
    bounded however large the file.  Without, they are compressed here, one after
    the other.  The bytes are the same either way.

    The frames are written to a hidden temporary file beside *target*, renamed onto
    *target* once all are written: if anything fails (a worker's error, whatever the
    executor raises for a worker that died), the temporary file is removed and the
    error raised, and *target* is untouched.  An existing *target* is refused
    (``FileExistsError``) unless *overwrite*.  A *source* that changes size or is
    modified while it is compressed raises ``HuffmanError``.  *progress*, if given, is
    called with (bytes of *source* done, its size) after each chunk is written.

    Returns the number of bytes written to *target*.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError(f"chunk_size must be an int, not {type(chunk_size).__name__}")
    alphabet = alphabet_named(options.get("alphabet", "bytes"))
    smallest = max(1, alphabet.min_block_size)
    if chunk_size < smallest:
        symbols = "" if smallest == 1 else f" for the {alphabet.name} alphabet"
        raise ValueError(f"chunk_size must be at least {smallest}{symbols}, got {chunk_size}")
    HuffmanCompressor(**options)  # the options' errors now, not from a worker later
    source_name, target_name = os.fspath(source), os.fspath(target)
    before = os.stat(source_name)
    if not stat.S_ISREG(before.st_mode):
        raise HuffmanError(f"{source_name}: not a regular file (its chunks are read by byte "
                           "ranges)")
    if not overwrite and os.path.lexists(target_name):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target_name)

    size = before.st_size
    lengths: collections.deque[int] = collections.deque()  # of the chunks planned, not written

    def planned() -> Iterator[tuple[str, int, int, dict[str, Any]]]:
        for offset, length in _chunks(source_name, size, chunk_size, alphabet.name):
            lengths.append(length)
            yield source_name, offset, length, options

    frames: Generator[bytes, None, None]
    if executor is None:
        frames = (compress_range(*call) for call in planned())
    else:
        frames = in_order(executor, compress_range, planned())
    written = done = 0
    with _temporary_beside(target_name) as (stream, temporary), contextlib.closing(frames):
        for frame in frames:
            try:
                stream.write(frame)
            except OSError as error:  # a full disk, say: the caller asked for *target*
                raise OSError(error.errno, error.strerror, target_name) from None
            written += len(frame)
            done += lengths.popleft()
            if progress is not None:
                progress(done, size)
        after = os.stat(source_name)
        if after.st_size != size:
            raise HuffmanError(f"{source_name}: changed size while it was compressed "
                               f"({size:,} bytes before, {after.st_size:,} after)")
        if after.st_mtime_ns != before.st_mtime_ns:  # rewritten in place: chunks may differ
            raise HuffmanError(f"{source_name}: modified while it was compressed")
        stream.flush()
        os.fchmod(stream.fileno(), _default_mode())
        stream.close()
        _publish(temporary, target_name, overwrite=overwrite)
    return written


def _chunks(path: str, size: int, chunk_size: int, alphabet: str) -> Iterator[tuple[int, int]]:
    """The (offset, length) of each chunk of the file *path* of *size* bytes: *chunk_size*
    bytes each, ending before a whole symbol of *alphabet*; one empty chunk if *size* is 0."""
    if size == 0:
        yield 0, 0
        return
    offset = 0
    with open(path, "rb", buffering=0) as stream:
        while offset < size:
            end = min(offset + chunk_size, size)
            if end < size and alphabet == "pairs":
                end = offset + ((end - offset) & ~1)  # a pair is two bytes from the chunk's start
            elif end < size and alphabet == "utf8":
                end = _utf8_start(stream, end, path)
            yield offset, end - offset
            offset = end


def _utf8_start(stream: Any, end: int, path: str) -> int:
    """*end* (a chunk's end, at least 4 bytes into the file), moved back over UTF-8
    continuation bytes (0b10xxxxxx; a character has at most three) to the start of a
    character, as ``Alphabet.cut`` does.  Invalid UTF-8 is left to the compressor to report."""
    stream.seek(end - 3)
    window = stream.read(4)  # the three bytes before *end* and the byte at it
    if len(window) < 4:
        raise HuffmanError(f"{path}: changed size while it was compressed: it ends at byte "
                           f"{end - 3 + len(window):,}, before byte {end:,}")
    position = 3
    while position > 0 and window[position] & 0xC0 == 0x80:
        position -= 1
    return end - 3 + position


def _default_mode() -> int:
    """The permissions a new file gets under the current umask (mkstemp's are 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _temporary_beside(path: str) -> Iterator[tuple[io.BufferedWriter, str]]:
    """A new hidden file in *path*'s folder, open for writing, and its name; removed if the
    body raises (the body renames it away on success)."""
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    while name and len(os.fsencode(name)) > _NAME_ROOM:
        name = name[:-1]
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.",
                                                 suffix=_TEMPORARY_SUFFIX)
    except OSError as error:
        # The temporary name is our business; the caller asked for *path*.
        raise OSError(error.errno, error.strerror, path) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream, temporary
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _publish(temporary: str, path: str, *, overwrite: bool) -> None:
    """Rename *temporary* onto *path*; without *overwrite*, never over an existing file, even
    one that appeared meanwhile (``FileExistsError``)."""
    if overwrite:
        os.replace(temporary, path)
        return
    try:
        # A hard link fails if *path* exists, atomically: no window to clobber a new file.
        os.link(temporary, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path) from None
    except OSError:
        # Some file systems have no hard links: check, then rename.
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path) from None
        os.replace(temporary, path)
    else:
        os.unlink(temporary)
