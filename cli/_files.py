"""Safe file handling for the CLI: outputs appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO


def named(error: OSError, name: str) -> OSError:
    """*error*, naming *name* if it names no file.

    A failed read or write names nothing ("No space left on device"), which does not
    say which of the files it was.
    """
    if error.filename is not None or not error.strerror:
        return error
    return OSError(error.errno, error.strerror, name)  # the errno picks the subclass


class NamedStream:
    """A binary stream whose failed reads, writes and flushes name *name*.

    It counts the bytes read (``bytes_read``), so that a caller can tell whether a file
    changed size while it was read, and the bytes written (``bytes_written``).
    """

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self._stream = stream
        self.name = name
        self.bytes_read = 0
        self.bytes_written = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
        except OSError as error:
            raise named(error, self.name) from None
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int | None:
        try:
            count: int | None = self._stream.readinto(buffer)  # type: ignore[attr-defined]
        except OSError as error:
            raise named(error, self.name) from None
        self.bytes_read += count or 0
        return count  # None: nothing yet from a non-blocking stream, not its end

    def write(self, data: Any) -> int:
        try:
            count = self._stream.write(data)
        except OSError as error:
            raise named(error, self.name) from None
        self.bytes_written += count or 0  # what compress -v and decompress -v report
        return count

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise named(error, self.name) from None

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream, attribute)


def _default_mode() -> int:
    """The permissions a new file gets under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: What mkstemp adds to the prefix: 8 random characters, then the suffix.
_RANDOM_PART = 8
_TEMPORARY_SUFFIX = ".tmp"


def _name_max(directory: str) -> int:
    """The longest file name, in bytes, that *directory* takes."""
    try:
        longest = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255  # the usual limit (ext4, XFS, Btrfs, tmpfs); mkstemp reports a shorter one
    return longest if longest and longest > 0 else 255


def _temporary_prefix(directory: str, name: str) -> str:
    """``.NAME.`` for the hidden temporary file of *name*, short enough for *directory*.

    The temporary name is 14 bytes longer than *name* (a dot, a dot, 8 random
    characters, ``.tmp``): for a name within 14 bytes of the limit (NAME_MAX, 255 on
    most file systems) *name* is cut, by whole characters, until the whole fits.  The
    random part still makes it unique, and the cut name still says whose it is.
    """
    room = _name_max(directory) - 2 - _RANDOM_PART - len(_TEMPORARY_SUFFIX)
    while name and len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}."


def _permissions(mode: int | None) -> int:
    """The permission bits an output gets from its input's *mode*, or the umask's default.

    Only the read, write and execute bits (``mode & 0o777``, as zstd copies them): a
    set-user-ID, set-group-ID or sticky bit copied from an input would make, run as
    root, a set-user-ID-root program of whatever was decompressed.
    """
    if mode is None:
        return _default_mode()
    return stat.S_IMODE(mode) & 0o777


@contextlib.contextmanager
def atomic_output(path: str, *, force: bool, mode: int | None = None,
                  times: tuple[int, int] | None = None) -> Iterator[NamedStream]:
    """Write to a temporary file beside *path*; rename it to *path* only on success.

    If the body raises, the temporary file is removed and *path* is untouched.
    Without *force* an existing *path* is never replaced, even one that
    appears while the body runs (``FileExistsError``).  The new file gets the
    read, write and execute bits of *mode* (an input's ``st_mode``, taken from its
    open descriptor, so that an input deleted or replaced meanwhile does not matter),
    or the umask's default, and *times* (access and modification times in nanoseconds,
    an input's, as gzip keeps them) if given.  Errors writing or closing the temporary
    file name *path*.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=_temporary_prefix(directory, os.path.basename(path)),
            suffix=_TEMPORARY_SUFFIX)
    except OSError as error:
        # The temporary name is our business; the user asked for *path*.
        raise OSError(error.errno, error.strerror, path) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield NamedStream(stream, path)
            try:
                # Through the descriptor: the file written is the file published.
                os.fchmod(stream.fileno(), _permissions(mode))
                # Closing writes what is buffered: a full disk may be found only now.
                stream.close()
                if times is not None:
                    # After the last write, which would set the modification time again.
                    # (Not flush, then the descriptor: a flush that fails is tried again,
                    # unnamed, when the with block closes the file.)
                    os.utime(temporary, ns=times, follow_symlinks=False)
            except OSError as error:
                raise named(error, path) from None
        _publish(temporary, path, force=force)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _publish(temporary: str, path: str, *, force: bool) -> None:
    if force:
        os.replace(temporary, path)
        return
    try:
        # A hard link fails if *path* exists, atomically: no window to clobber a new file.
        os.link(temporary, path)
    except FileExistsError:
        raise FileExistsError(17, "File exists", path) from None
    except OSError:
        # Some file systems have no hard links; check, then rename.
        if os.path.lexists(path):
            raise FileExistsError(17, "File exists", path) from None
        os.replace(temporary, path)
    else:
        os.unlink(temporary)
