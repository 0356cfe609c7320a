"""Safe file handling for the CLI: outputs appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
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
    """A binary stream whose failed reads, writes and flushes name *name*."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self._stream = stream
        self.name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except OSError as error:
            raise named(error, self.name) from None

    def write(self, data) -> int:
        try:
            return self._stream.write(data)
        except OSError as error:
            raise named(error, self.name) from None

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


@contextlib.contextmanager
def atomic_output(path: str, *, force: bool, mode_from: str | None = None) -> Iterator[BinaryIO]:
    """Write to a temporary file beside *path*; rename it to *path* only on success.

    If the body raises, the temporary file is removed and *path* is untouched.
    Without *force* an existing *path* is never replaced, even one that
    appears while the body runs (``FileExistsError``).  The new file gets the
    permission bits of *mode_from*, or the umask's default.  Errors writing
    or closing the temporary file name *path*.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as error:
        # The temporary name is our business; the user asked for *path*.
        raise OSError(error.errno, error.strerror, path) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield NamedStream(stream, path)
            try:
                # Closing writes what is buffered: a full disk may be found only now.
                stream.close()
            except OSError as error:
                raise named(error, path) from None
        if mode_from is not None:
            shutil.copymode(mode_from, temporary)
        else:
            os.chmod(temporary, _default_mode())
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
