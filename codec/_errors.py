"""The exceptions huffkit raises about data, files and codebooks.

Bad *arguments* (a negative block size, a wrong type) raise the ordinary
``ValueError`` or ``TypeError``, as the standard library's codecs do.
"""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

__all__ = ["ChecksumError", "CodebookError", "FormatError", "HuffmanError", "MemoryLimitError",
           "ShapeError", "TruncatedError"]


class HuffmanError(Exception):
    """Base class of every error huffkit raises about data, files and codebooks."""


class FormatError(HuffmanError):
    """The input is not a valid huffkit stream: bad magic, version, header or code table."""


class ChecksumError(FormatError):
    """A block decoded, but its CRC-32 does not match the one stored with it."""


class TruncatedError(FormatError, EOFError):
    """The input ended before the end of a frame.

    A truncated stream is a malformed one, so this is also a ``FormatError``;
    it is an ``EOFError`` too, as the standard library's codecs raise for the
    same condition.
    """


class CodebookError(HuffmanError, ValueError):
    """A codebook cannot be built, or cannot code the data it is given."""


class ShapeError(HuffmanError, ValueError):
    """The distributions given to a measure have shapes it cannot pair up, or lack the
    axis named: the message says which shapes, and what would do."""


class MemoryLimitError(HuffmanError):
    """Decoding a frame would need more memory than the decoder's ``memory_limit`` allows.

    Raised from the frame's header, before anything is allocated for its
    blocks: the data may well be valid, so this is not a ``FormatError``.
    Pass a larger ``memory_limit=`` (or None, for no limit) to decode it.
    """


def releasing_views(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Make *function*, a public entry point, raise its ``HuffmanError`` without the frames
    the error passed through.

    Those frames' locals hold views of the caller's buffer (memoryviews, casts and slices of
    it, numpy arrays over it); while the error keeps them, the buffer stays exported, and
    whoever closes it as the error goes by (a ``with mmap.mmap(...)`` block, a bytearray
    resized) gets a ``BufferError`` instead of the error that says what is wrong with the
    data.  The message says that; the frames are the library's own business.  The errors
    chained to it (``__cause__``, ``__context__``) lose theirs too.
    """
    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except HuffmanError as error:
            _drop_tracebacks(error)
            raise error  # from here: without the frames below

    return wrapper


def _drop_tracebacks(error: BaseException) -> None:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]
