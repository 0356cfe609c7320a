"""The ``huffkit`` command: a thin click layer over the huffkit library."""

from ._main import main

# Importing these modules adds their commands to `main`.
from . import _bench, _codebooks, _experiments, _fuzz, _ledger, _tour  # noqa: F401  isort: skip

__all__ = ["main"]
