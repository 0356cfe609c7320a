"""The ``huffkit`` command: a thin click layer over the huffkit library."""

from ._main import main

__all__ = ["main"]
