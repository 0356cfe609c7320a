"""Views of the caller's buffers, taken and released with care."""

from __future__ import annotations

__all__ = ["byte_view"]


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

    def __init__(self, data, what: str = "data") -> None:
        self._view = memoryview(data)
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

    def __exit__(self, kind, error, traceback) -> None:
        try:
            self._flat.release()
            self._view.release()
        except BufferError:
            if kind is None:
                raise
