"""The ``huffkit`` and ``huf`` commands: a thin click layer over the huffkit library.

Only the group is imported here: each command's module is imported when the command runs
(``huffkit --help`` and ``huffkit --version`` start without numpy)."""

from ._group import main
from ._huf import huf

__all__ = ["huf", "main"]
