"""huffkit's bundled sample corpus: small files the project wrote or generated itself.

The files cover the kinds of data a Huffman coder meets, each small enough to code in a
moment:

- ``english.txt``, ``korean.txt``, ``source.c``: original prose in English (ASCII) and
  Korean (UTF-8, where coding per code point beats coding per byte), and a C program;
- ``table.bin``: 16-bit audio samples, a structured binary file with skewed byte statistics;
- ``dyadic.txt``, ``skewed.txt``, ``uniform.bin``: draws from memoryless sources of known
  entropy, where a Huffman code meets the entropy exactly, wastes the most on whole-bit
  code lengths, and cannot compress at all.

Every file is listed in ``MANIFEST`` with its size, sha256 and a description; the
synthetic ones are rewritten by ``generate.py`` in this folder, the same bytes every time.

    >>> import huffkit.corpora
    >>> [entry.name for entry in huffkit.corpora.manifest()][:3]
    ['dyadic.txt', 'english.txt', 'korean.txt']
    >>> huffkit.corpora.path("korean.txt").read_text(encoding="utf-8")[:10]
    '강가의 작은 도서관'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["Entry", "directory", "manifest", "path"]

_SOURCE_ENTROPY = re.compile(r"source entropy (\d+(?:\.\d+)?) bits/symbol")


@dataclass(frozen=True)
class Entry:
    """One file of the corpus, as the MANIFEST lists it."""

    name: str
    size: int
    sha256: str
    description: str
    path: Path

    @property
    def source_entropy(self) -> float | None:
        """For a synthetic file, the entropy in bits/symbol of the source it was drawn from."""
        match = _SOURCE_ENTROPY.search(self.description)
        return float(match.group(1)) if match else None


def directory() -> Path:
    """The folder that holds the corpus files and the MANIFEST."""
    folder = resources.files(__name__)
    if isinstance(folder, Path):
        return folder
    # Not an ordinary folder (imported from a zip, say): the module's own folder is the
    # best guess, and manifest() says plainly if the files are not there.
    return Path(__file__).resolve().parent


def manifest() -> list[Entry]:
    """Every file of the corpus, in MANIFEST order (by name)."""
    folder = directory()
    listing = folder / "MANIFEST"
    try:
        text = listing.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"the corpus has no MANIFEST at {listing}: huffkit was "
                                "installed without its package data") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(maxsplit=3)
        if len(fields) != 4 or not fields[1].isdigit():
            raise ValueError(f"{listing}, line {number}: expected a name, a size, "
                             f"a sha256 and a description, not {line!r}")
        name, size, sha256, description = fields
        entries.append(Entry(name, int(size), sha256, description, folder / name))
    return entries


def path(name: str) -> Path:
    """The path of the corpus file called name, such as ``"english.txt"``.

    Raises KeyError for a name the MANIFEST does not list, and FileNotFoundError for a
    listed file that is missing from the installation.
    """
    entries = {entry.name: entry for entry in manifest()}
    if name not in entries:
        raise KeyError(f"the corpus has no file {name!r}; it has: {', '.join(entries)}")
    found = entries[name].path
    if not found.is_file():
        raise FileNotFoundError(f"corpus file {name!r} is listed in the MANIFEST but "
                                f"missing from {found.parent}")
    return found
