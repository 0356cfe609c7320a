"""Compress a large file in chunks, each its own frame, on any ``concurrent.futures.Executor``.

Frames concatenate (FORMAT.md): a file of several frames decompresses to the
concatenation of their data, so a file cut into chunks can be compressed a chunk
at a time, by as many workers as there are (a process pool, or a Dask cluster
through ``Client.get_executor()``), and the result is an ordinary huffkit file.
Each worker opens the file by its path and reads only its own byte range; only
the chunk's frame travels back, or with ``shared_target=True`` not even that: the
worker writes the frame into the target's temporary file itself, right after the
previous chunk's, and returns where and how long.
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
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Executor, Future, wait
from typing import Any

from .._errors import HuffmanError
from ..models.alphabet import alphabet_named
from ..models.parallel import CALLS_PER_WORKER, in_order, workers_of
from .compressor import HuffmanCompressor, compress

__all__ = ["DEFAULT_CHUNK_SIZE", "compress_file", "compress_range", "compress_range_into"]

#: The bytes of the source each chunk (and so each frame) holds by default: several blocks
#: per chunk, each a few seconds' work, and with two chunks per worker in flight, little memory.
DEFAULT_CHUNK_SIZE = 64 << 20

#: Called after each chunk is written with (bytes of the source done, its size).
Progress = Callable[[int, int], None]

# The hidden temporary file beside the target: ".NAME.XXXXXXXX.tmp", as the command line's.
_TEMPORARY_SUFFIX = ".tmp"
# With shared_target, the bookkeeping of chunk k lives in the hidden folder
# "TEMPORARY.parts": "K.end" records where its frame ends once it is in place, and "K" is
# its frame when its worker could not place it; each is written through "NAME.XXXXXXXX"
# (mkstemp's) and renamed.  A folder of their own, because a task a cluster cannot stop may
# still be running after the job has failed: once the folder is removed, it finds nowhere
# to write instead of leaving a file beside the target.
_PARTS = ".parts"
_END = ".end"
# How long a worker waits for the previous chunk's end, as a share of the time its own
# chunk took to compress, before it writes a part file instead; and how often it looks.
_PATIENCE = 0.25
_POLL_SECONDS = 0.002
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


def compress_range_into(path: str, offset: int, length: int, options: dict[str, Any],
                        temporary: str, index: int) -> tuple[int, int]:
    """Compress chunk *index* (:func:`compress_range`) into the target's temporary file
    *temporary*, in place where it can; return (where it put the frame, the frame's size).

    The work of one chunk with ``shared_target=True``, so that only two numbers travel
    back.  The frame belongs right after chunk *index* - 1's, whose end that chunk's
    writer records in the file ``TEMPORARY.parts/K.end`` once its frame is in place.
    If that record appears within a quarter of the time this chunk took to compress
    (its neighbour, started with it, is most often just finishing), the frame is written
    into *temporary* at that end, its own end recorded, and the place returned.
    Otherwise the frame goes to the part file ``TEMPORARY.parts/K`` (returned place -1)
    for the caller to copy in, rather than keep this worker idle.

    Every file is written whole under a staging name and renamed, so a worker killed
    at any point leaves either nothing or a whole record.  A task run again (a retry)
    writes the same bytes to the same place.  A task still running after its job failed
    (a Dask task cannot be stopped) finds the parts folder and *temporary* gone, and
    fails with ``FileNotFoundError`` rather than leave anything behind.
    """
    started = time.perf_counter()
    frame = compress_range(path, offset, length, options)
    parts = temporary + _PARTS
    if index == 0:
        start: int | None = 0
    else:
        patience = _PATIENCE * (time.perf_counter() - started)
        start = _wait_for_end(os.path.join(parts, f"{index - 1:06d}{_END}"), patience)
    if start is None:
        _write_staged(os.path.join(parts, f"{index:06d}"), frame)
        return -1, len(frame)
    _write_at(temporary, frame, start)
    _write_staged(os.path.join(parts, f"{index:06d}{_END}"), b"%d" % (start + len(frame)))
    return start, len(frame)


def _wait_for_end(record: str, patience: float) -> int | None:
    """The end recorded in the file *record*, waiting up to *patience* seconds for it to
    appear; None if it does not."""
    deadline = time.perf_counter() + patience
    while True:
        try:
            with open(record, "rb") as stream:
                return int(stream.read())
        except FileNotFoundError:
            if not os.path.isdir(os.path.dirname(record)):
                raise  # the job is over: nothing more to write
            if time.perf_counter() >= deadline:
                return None
            time.sleep(_POLL_SECONDS)


def _write_staged(path: str, data: bytes) -> None:
    """Write *data* to a new file in *path*'s folder and rename it onto *path*."""
    descriptor, staging = tempfile.mkstemp(dir=os.path.dirname(path),
                                           prefix=f"{os.path.basename(path)}.", suffix="")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise


def _write_at(path: str, data: bytes, position: int) -> None:
    """Write *data* into the existing file *path* at *position*."""
    with open(path, "r+b", buffering=0) as stream:  # never creates: a missing file means
        stream.seek(position)                       # the job is over
        with memoryview(data) as view:
            done = 0
            while done < len(view):
                done += stream.write(view[done:])


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
    frame straight into the temporary file, after the previous chunk's frame (whose
    end that chunk's worker records in a hidden folder beside the target), and returns
    only where and how long, so frames never travel through the executor.  A worker
    whose previous chunk is not yet in place when its own frame is ready waits a
    little, then leaves its frame in a part file in that folder instead, which this
    process copies in (in the kernel, with ``os.copy_file_range``, where there is one).
    The bytes are the same.  Without *executor* it changes nothing: the frames are
    written to the target directly.

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
            written = _place_frames(executor, planned(), source_name, stream, temporary,
                                    target_name, report)
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


def _place_frames(executor: Executor, calls: Iterator[tuple[str, int, int, dict[str, Any]]],
                  source: str, stream: io.BufferedWriter, temporary: str, target: str,
                  report: Callable[[], None]) -> int:
    """Run :func:`compress_range_into` for each of *calls* (chunks of *source*) on
    *executor*, chunk k's frame into *temporary* (open as *stream*) after chunk k - 1's;
    copy in the frames a worker left in a part file, recording their ends; return the
    bytes of *temporary*.

    Keeps :data:`CALLS_PER_WORKER` calls per worker in flight, as :func:`in_order`
    does.  Whatever happens, the parts folder, with everything in it, is removed before
    it returns or raises; if it raises, it first waits for the calls already running
    where the executor can (a process pool), and a call that goes on after that (a Dask
    task cannot be stopped) finds no folder to write into.
    """
    parts = temporary + _PARTS
    os.mkdir(parts, 0o700)
    limit = max(1, CALLS_PER_WORKER * workers_of(executor))
    pending: collections.deque[tuple[int, Future[tuple[int, int]]]] = collections.deque()
    written = 0
    stream.flush()  # nothing in it: the frames go to its descriptor directly
    descriptor = stream.fileno()

    def place() -> None:
        nonlocal written
        index, future = pending[0]
        try:
            start, length = future.result()
        except (FileNotFoundError, PermissionError) as error:
            if error.filename is None or error.filename == source:
                raise
            if isinstance(error, PermissionError):
                raise HuffmanError(f"{target}: a worker may not write {error.filename}: "
                                   "shared_target needs workers that may write the "
                                   "target's folder") from None
            raise HuffmanError(f"{target}: a worker found no {error.filename}: is the "
                               "target's folder on storage every worker shares, at the "
                               "same path?") from None
        if start < 0:  # in a part file: copy it in, and let the next chunk's worker go on
            part = os.path.join(parts, f"{index:06d}")
            _copy_part(part, length, descriptor, written, target)
            _write_staged(part + _END, b"%d" % (written + length))
            os.unlink(part)
        elif start != written:
            raise HuffmanError(f"{target}: a worker wrote chunk {index}'s frame at byte "
                               f"{start:,}, not at byte {written:,}, where chunk "
                               f"{index - 1}'s ends")
        written += length
        pending.popleft()
        report()

    try:
        for index, call in enumerate(calls):
            if len(pending) >= limit:
                place()
            pending.append((index, executor.submit(compress_range_into, *call, temporary,
                                                   index)))
        while pending:
            place()
        found = os.fstat(descriptor).st_size
        if found != written:
            raise HuffmanError(f"{target}: the workers wrote {found:,} bytes, not the "
                               f"{written:,} of their frames")
    except BaseException:
        for _, future in pending:
            future.cancel()
        try:
            wait([future for _, future in pending])
        finally:
            _remove_parts(parts)
        raise
    _remove_parts(parts)
    return written


def _copy_part(part: str, length: int, descriptor: int, position: int, target: str) -> None:
    """Copy the file *part*, which its worker said holds *length* bytes, into the file open
    as *descriptor* at *position*."""
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
            copied = _copy_in_kernel(source, descriptor, length, position)
            if copied < length:  # the kernel could not, or not all: the rest by hand
                os.lseek(source, copied, os.SEEK_SET)
                os.lseek(descriptor, position + copied, os.SEEK_SET)
            while copied < length:
                block = os.read(source, min(length - copied, 1 << 20))
                if not block:
                    break
                with memoryview(block) as view:
                    done = 0
                    while done < len(view):
                        done += os.write(descriptor, view[done:])
                copied += len(block)
        except OSError as error:  # a full disk, say: the caller asked for *target*
            raise OSError(error.errno, error.strerror, target) from None
    finally:
        os.close(source)
    if copied != length:
        raise HuffmanError(f"{target}: the part file {part} ended after {copied:,} of its "
                           f"{length:,} bytes")


# copy_file_range's errors that mean "not here" (another file system, a kernel or file
# system without it) rather than a failure: the bytes are then copied by hand.
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})


def _copy_in_kernel(source: int, target: int, length: int, position: int) -> int:
    """Copy up to *length* bytes from the start of *source* to *target* at *position*, in
    the kernel (no round trip through this process's memory) where it can; return the
    bytes copied, fewer (even 0) if it cannot."""
    if not hasattr(os, "copy_file_range"):  # not Linux
        return 0
    copied = 0
    while copied < length:
        try:
            count = os.copy_file_range(source, target, length - copied, copied,
                                       position + copied)
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
