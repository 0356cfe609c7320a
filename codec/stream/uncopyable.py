"""Stream objects that refuse to be copied or pickled."""

from typing import Any, NoReturn

__all__ = ["Uncopyable"]


class Uncopyable:
    """Refuse copy.copy, copy.deepcopy and pickling, as bz2's and lzma's compressors do: a
    copy would share the object's buffers (or silently restart its frame), and a frame half
    written or half read cannot be resumed elsewhere."""

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    def __copy__(self) -> NoReturn:
        raise TypeError(f"cannot copy {type(self).__name__!r} object")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError(f"cannot copy {type(self).__name__!r} object")
