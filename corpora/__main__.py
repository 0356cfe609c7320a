"""``python -m huffkit.corpora``: list the bundled corpus, or print where it is.

    python -m huffkit.corpora               # one line per file: name, size, description
    python -m huffkit.corpora --directory   # the folder, for scripts: cp "$(...)"/english.txt .
"""

from __future__ import annotations

import sys

from . import directory, manifest


def main(argv: list[str]) -> int:
    if argv == ["--directory"]:
        print(directory())
        return 0
    if argv:
        print("usage: python -m huffkit.corpora [--directory]", file=sys.stderr)
        return 2
    for entry in manifest():
        print(f"{entry.name:<12} {entry.size:>7,}  {entry.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
