"""Short names for files in tables and pictures, which never make two files look alike.

A table that labels a/x.txt and b/x.txt both "x.txt" tells the reader nothing about
which row is which; a table of whole paths is unreadable. Each file gets the shortest
trailing part of its path that no other file shares: its base name when that is
unique, else one folder more, and so on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["short_names"]


def _parts(name: str) -> tuple[str, ...]:
    """The components of *name*'s absolute path, so that ./x and x are the same file."""
    return tuple(part for part in os.path.abspath(name).split(os.sep) if part)


def short_names(names: Sequence[str]) -> list[str]:
    """For each of *names*, the shortest trailing part of its path that tells it from the
    others: ``["a/x.txt", "b/x.txt", "c/y.txt"]`` gives ``["a/x.txt", "b/x.txt", "y.txt"]``.

    Names of the same file get the same label. A name whose every trailing part is
    another's (/x.txt beside /a/x.txt) keeps the whole name it was given, which still
    differs from the other's label.
    """
    parts = [_parts(name) for name in names]
    labels = []
    for name, mine in zip(names, parts, strict=True):
        others = {theirs for theirs in parts if theirs != mine}
        label = name
        for k in range(1, len(mine) + 1):
            if all(theirs[-k:] != mine[-k:] for theirs in others):
                label = os.path.join(*mine[-k:])
                break
        labels.append(label)
    return labels
