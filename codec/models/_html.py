"""HTML tables for Jupyter: what the ``_repr_html_`` methods of the results return.

One place for the markup of every object's table (distributions, codebooks, ledgers,
experiments), so that they look alike and every string in them, a file's name above all,
is escaped once, here.  It lives in the models layer because the distributions and
codebooks use it too, and a layer may not import the ones above it.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Iterable, Sequence

__all__ = ["Strong", "bits", "count", "key_values", "table"]


class Strong(str):
    """A cell to stand out (drawn bold): the best model of a row, say."""

    __slots__ = ()


def _cell(tag: str, value: str, *, numeric: bool) -> str:
    text = html.escape(value)
    if isinstance(value, Strong):
        text = f"<strong>{text}</strong>"
    # Figures line up on the right, as in the command line's tables; words stay on the left.
    style = ' style="text-align:right"' if numeric else ' style="text-align:left"'
    return f"<{tag}{style}>{text}</{tag}>"


def _is_numeric(value: str) -> bool:
    stripped = value.replace(",", "").replace("%", "").strip()
    if stripped in ("n/a", "inf", "-inf"):
        return True
    try:
        float(stripped)
    except ValueError:
        return False
    return True


def table(caption: str, rows: Iterable[Sequence[str]], *,
          header: Sequence[str] | None = None) -> str:
    """A ``<table>`` with *caption*, an optional *header* row, and *rows* of text cells.

    The first cell of each row is its label (a ``<th>``).  Every string is escaped.
    """
    rows = [tuple(row) for row in rows]
    parts = ['<table class="huffkit">', f"<caption>{html.escape(caption)}</caption>"]
    if header is not None:
        # A column's heading lines up as its first row's figures or words do.
        first = rows[0] if rows else ()
        cells = "".join(_cell("th", name, numeric=0 < index < len(first)
                              and _is_numeric(first[index]))
                        for index, name in enumerate(header))
        parts.append(f"<thead><tr>{cells}</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = "".join(_cell("th" if index == 0 else "td", value,
                              numeric=index > 0 and _is_numeric(value))
                        for index, value in enumerate(row))
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def key_values(caption: str, pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table: a label and its value on each row."""
    return table(caption, pairs)


def bits(value: float) -> str:
    """Whole bits as they are (with thousands separators); fractional ones to a tenth."""
    return f"{int(value):,}" if isinstance(value, numbers.Integral) else f"{value:,.1f}"


def count(value: float) -> str:
    """A count: whole with thousands separators, or a fractional weight to 6 figures."""
    return f"{int(value):,}" if isinstance(value, numbers.Integral) else f"{value:,.6g}"
