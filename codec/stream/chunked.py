"""Compress a large file in chunks, each its own frame, on any ``concurrent.futures.Executor``.

Frames concatenate (FORMAT.md): a file of several frames decompresses to the
concatenation of their data, so a file cut into chunks can be compressed a chunk
at a time, by as many workers as there are (a process pool, or a Dask cluster
through ``Client.get_executor()``), and the result is an ordinary huffkit file.
Each worker opens the file by its path and reads only its own byte range; only
the chunk's frame travels back, or with ``shared_target=True`` not even that: the
worker writes the frame to a part file in a hidden folder beside the target and
returns its size.
The frames are written in order, so the output for a given *chunk_size* is the
same whatever runs the chunks and however many workers it has.
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
from concurrent.futures import Executor, Future, wait
from typing import Any

from .._errors import HuffmanError
from ..models.alphabet import alphabet_named
from ..models.parallel import CALLS_PER_WORKER, in_order, workers_of
from .compressor import HuffmanCompressor, compress

__all__ = ["DEFAULT_CHUNK_SIZE", "compress_file", "compress_range", "compress_range_to"]

#: The bytes of the source each chunk (and so each frame) holds by default: several blocks
#: per chunk, each a few seconds' work, and with two chunks per worker in flight, little memory.
DEFAULT_CHUNK_SIZE = 64 << 20

#: Called after each chunk is written with (bytes of the source done, its size).
Progress = Callable[[int, int], None]

# The hidden temporary file beside the target: ".NAME.XXXXXXXX.tmp", as the command line's.
_TEMPORARY_SUFFIX = ".tmp"
# With shared_target, chunk k's frame goes to the file k (6 digits or more) of the hidden
# folder "TEMPORARY.parts", written through "K.XXXXXXXX" (mkstemp's).  A folder of their own,
# because a task a cluster cannot stop may still be writing after the job has failed: once
# the folder is removed, its writes fail instead of leaving a part beside the target.
_PARTS = ".parts"
_NAME_ROOM = 255 - 2 - 8 - len(_TEMPORARY_SUFFIX) - len(_PARTS)


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


def compress_range_to(path: str, offset: int, length: int, options: dict[str, Any],
                      part: str) -> int:
    """Write the frame of :func:`compress_range` to the file *part*; return its size.

    The work of one chunk with ``shared_target=True``: only the size travels back.
    The frame is written to a new file beside *part* and renamed onto it, so that
    *part* holds a whole frame or does not exist, whatever happens to the worker
    (killed while writing, it leaves the staging file, in the caller's parts folder,
    which the caller removes whole).  A task run again (a retry) writes the same bytes
    under the same name; a task still running after the caller removed the folder
    fails to write, and leaves nothing.
    """
    frame = compress_range(path, offset, length, options)
    descriptor, staging = tempfile.mkstemp(dir=os.path.dirname(part),
                                           prefix=f"{os.path.basename(part)}.", suffix="")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(frame)
        os.replace(staging, part)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise
    return len(frame)


def compress_file(source: str | os.PathLike[str], target: str | os.PathLike[str], /, *,
                  chunk_size: int = DEFAULT_CHUNK_SIZE, executor: Executor | None = None,
                  overwrite: bool = False, progress: Progress | None = None,
                  shared_target: bool = False, **options: Any) -> int:
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

    *shared_target*: True when the target's folder is on storage every worker can
    write (always so for a process pool or a LocalCluster on this machine; on a real
    cluster, a shared file system mounted at the same path): each worker writes its
    frame to a part file in a hidden folder beside the target and returns only its
    size, so frames never travel through the executor; this process joins the parts in
    order (in the kernel, with ``os.copy_file_range``, where there is one) and removes
    each once appended.  The bytes are the same.  Without *executor* it changes nothing:
    the frames are written to the target directly.

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

    done = 0

    def report() -> None:  # after each chunk written
        nonlocal done
        done += lengths.popleft()
        if progress is not None:
            progress(done, size)

    if executor is not None and shared_target:
        with _temporary_beside(target_name) as (stream, temporary):
            written = _join_parts(executor, planned(), stream, temporary, target_name,
                                  report)
            _finish(stream, temporary, source_name, before, target_name, overwrite)
        return written

    frames: Generator[bytes, None, None]
    if executor is None:
        frames = (compress_range(*call) for call in planned())
    else:
        frames = in_order(executor, compress_range, planned())
    written = 0
    with _temporary_beside(target_name) as (stream, temporary), contextlib.closing(frames):
        for frame in frames:
            try:
                stream.write(frame)
            except OSError as error:  # a full disk, say: the caller asked for *target*
                raise OSError(error.errno, error.strerror, target_name) from None
            written += len(frame)
            report()
        _finish(stream, temporary, source_name, before, target_name, overwrite)
    return written


def _finish(stream: io.BufferedWriter, temporary: str, source_name: str,
            before: os.stat_result, target_name: str, overwrite: bool) -> None:
    """Check *source_name* did not change since *before*, then publish *temporary*."""
    after = os.stat(source_name)
    if after.st_size != before.st_size:
        raise HuffmanError(f"{source_name}: changed size while it was compressed "
                           f"({before.st_size:,} bytes before, {after.st_size:,} after)")
    if after.st_mtime_ns != before.st_mtime_ns:  # rewritten in place: chunks may differ
        raise HuffmanError(f"{source_name}: modified while it was compressed")
    stream.flush()
    os.fchmod(stream.fileno(), _default_mode())
    stream.close()
    _publish(temporary, target_name, overwrite=overwrite)


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


def _join_parts(executor: Executor, calls: Iterator[tuple[str, int, int, dict[str, Any]]],
                stream: io.BufferedWriter, temporary: str, target: str,
                report: Callable[[], None]) -> int:
    """Run :func:`compress_range_to` for each of *calls* on *executor*, chunk k's frame to
    the part file ``TEMPORARY.parts/K``, and append the parts to *stream* (open on
    *temporary*) in order, each removed once appended; return the bytes appended.

    Keeps :data:`CALLS_PER_WORKER` calls per worker in flight, as :func:`in_order`
    does.  Whatever happens, the parts folder, with every part and staging file in it,
    is removed before it returns or raises; if it raises, it first waits for the calls
    already running where the executor can (a process pool), and a call that goes on
    after that (a Dask task cannot be stopped) finds no folder to write into.
    """
    parts = temporary + _PARTS
    os.mkdir(parts, 0o700)
    limit = max(1, CALLS_PER_WORKER * workers_of(executor))
    pending: collections.deque[tuple[str, Future[int]]] = collections.deque()
    written = 0
    stream.flush()  # nothing in it: the parts go to its descriptor directly
    descriptor = stream.fileno()

    def append() -> None:
        nonlocal written
        part, future = pending[0]
        length = future.result()
        written += _append_part(part, length, descriptor, target)
        pending.popleft()
        os.unlink(part)
        report()

    try:
        for index, call in enumerate(calls):
            if len(pending) >= limit:
                append()
            part = os.path.join(parts, f"{index:06d}")
            pending.append((part, executor.submit(compress_range_to, *call, part)))
        while pending:
            append()
    except BaseException:
        for _, future in pending:
            future.cancel()
        try:
            wait([future for _, future in pending])
        finally:
            _remove_parts(parts)
        raise
    _remove_parts(parts)  # staging files of workers killed while writing, if any
    return written


def _append_part(part: str, length: int, descriptor: int, target: str) -> int:
    """Append the file *part*, which its worker said holds *length* bytes, to the file open
    as *descriptor* (at its end, nothing buffered); return *length*."""
    try:
        source = os.open(part, os.O_RDONLY)
    except FileNotFoundError:
        raise HuffmanError(f"{target}: the part file {part} a worker wrote is missing: is "
                           "the target's folder on storage every worker shares, at the same "
                           "path?") from None
    try:
        found = os.fstat(source).st_size
        if found != length:  # never a part that is not the worker's whole frame
            raise HuffmanError(f"{target}: the part file {part} holds {found:,} bytes, not "
                               f"the {length:,} its worker wrote")
        try:
            copied = _copy_in_kernel(source, descriptor, length)
            while copied < length:  # the kernel could not, or not all: the rest by hand
                block = os.read(source, min(length - copied, 1 << 20))
                if not block:
                    break
                view = memoryview(block)
                while view:
                    view = view[os.write(descriptor, view):]
                copied += len(block)
        except OSError as error:  # a full disk, say: the caller asked for *target*
            raise OSError(error.errno, error.strerror, target) from None
    finally:
        os.close(source)
    if copied != length:
        raise HuffmanError(f"{target}: the part file {part} ended after {copied:,} of its "
                           f"{length:,} bytes")
    return length


# copy_file_range's errors that mean "not here" (another file system, a kernel or file
# system without it) rather than a failure: the bytes are then copied by hand.
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})


def _copy_in_kernel(source: int, target: int, length: int) -> int:
    """Copy up to *length* bytes from *source*'s position to *target*'s, both moved on, in
    the kernel (no round trip through this process's memory) where it can; return the
    bytes copied, fewer (even 0) if it cannot."""
    if not hasattr(os, "copy_file_range"):  # not Linux
        return 0
    copied = 0
    while copied < length:
        try:
            count = os.copy_file_range(source, target, length - copied)
        except OSError as error:
            if error.errno in _NO_KERNEL_COPY:
                return copied
            raise
        if count == 0:  # at the source's end, or a file system that copies nothing
            return copied
        copied += count
    return copied


def _remove_parts(parts: str) -> None:
    """Remove the folder *parts* and the files in it (it has no folders).

    A task still running may add a staging file between the listing and the rmdir:
    then the folder is not empty, and it is emptied again.
    """
    while True:
        try:
            names = os.listdir(parts)
        except FileNotFoundError:
            return
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(parts, name))
        try:
            os.rmdir(parts)
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.ENOTEMPTY:
                raise
