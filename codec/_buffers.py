"""Views of the caller's buffers, taken and released with care."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias, Union

import numpy as np

__all__ = ["Buffer", "Bytes", "BytesLike", "as_buffers", "byte_view", "view_of"]

# The buffer protocol's type: collections.abc.Buffer from Python 3.12 (PEP 688), and
# typing_extensions' for a type checker on older versions (it ships with mypy and pyright;
# huffkit does not depend on it at run time).  Before 3.12 the name stands at run time for
# the common buffers, for whoever reads the annotations.
if TYPE_CHECKING:
    from typing_extensions import Buffer
elif sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    Buffer = Union[bytes, bytearray, memoryview]  # noqa: UP007 (a value, not an annotation)

#: What huffkit's functions take as data: any bytes-like object (bytes, bytearray,
#: memoryview, mmap, array.array, ...), numpy arrays among them.  numpy's stubs declare an
#: array a Buffer only for Python 3.12 and later, so they are named here too.
BytesLike: TypeAlias = Union[Buffer, "np.ndarray[Any, Any]"]

#: The library's own byte strings: what it slices and indexes as bytes (the frames it reads
#: and the payloads inside them, as the caller's buffer is taken by ``byte_view``).
Bytes: TypeAlias = bytes | bytearray | memoryview


def view_of(data: BytesLike) -> memoryview:
    """``memoryview(data)``; a numpy array's own view (``ndarray.data``, the same view) for
    the type checker, which does not know an array is a buffer before Python 3.12."""
    return data.data if isinstance(data, np.ndarray) else memoryview(data)


def as_buffers(parts: Sequence[BytesLike]) -> Sequence[Buffer]:
    """*parts*, for ``b"".join``: the same objects, typed as the buffers they are (numpy's
    stubs call an array a Buffer only from Python 3.12)."""
    # They are (numpy arrays among them); only the stubs before 3.12 do not say so.
    return parts  # type: ignore[return-value, unused-ignore]


class byte_view:  # named as a function: with byte_view(data) as view
    """The bytes of *data*, any C-contiguous bytes-like object, as a flat view of bytes.

    An ``array('I')`` or a numpy int32 array is its bytes, whatever its item size and
    shape (as ``zlib`` reads it).  A buffer that is not C-contiguous (a Fortran-ordered or
    strided array) has no one order of its bytes: ``ValueError``, as ``zlib`` and ``bz2``
    raise.  Not bytes-like at all: ``TypeError``, from ``memoryview``.

    Leaving the ``with`` block releases the views, unless an error is on its way out while
    some are still exported from frames it passed through: those go with the frames (see
    ``releasing_views``), and releasing them here would raise a ``BufferError`` in place of
    the error.
    """

    def __init__(self, data: BytesLike, what: str = "data") -> None:
        self._view = view_of(data)
        if not self._view.c_contiguous:
            self._view.release()
            raise ValueError(f"{what} must be a C-contiguous bytes-like object; this one "
                             "is strided or in Fortran order: pass a contiguous copy "
                             "(numpy.ascontiguousarray, or bytes(memoryview(...)))")
        try:
            self._flat = self._view.cast("B")
        except (TypeError, ValueError):
            # A format memoryview cannot cast, such as numpy's big-endian '>u2': its bytes
            # are the same in a copy.
            self._flat = memoryview(self._view.tobytes())

    def __enter__(self) -> memoryview:
        return self._flat

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self._flat.release()
            self._view.release()
        except BufferError:
            if kind is None:
                raise
