"""Table rows written in Python: a list page's `<tbody>` from its columns.

Django's template engine spends about a millisecond on each row of a ten-column table (a
variable lookup, a filter and an escape per cell, through several layers each): on a page of
50 participants that was half of the request's CPU. A `Column` names the cell's content and
class; `table_rows` writes the rows with every value escaped, as `{{ value }}` would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape as _escape_text
from typing import Any

from django.utils.safestring import SafeString, mark_safe


def escape_html(value: Any) -> str:
    """What `conditional_escape` returns, without its per-call check for lazy arguments: markup
    (anything with `__html__`, e.g. a SafeString) as it is, anything else as text escaped the way
    Django's `escape` does (`html.escape`). A page's rows call it for every cell."""
    markup = getattr(value, "__html__", None)
    if markup is not None:
        return markup()
    return _escape_text(value if isinstance(value, str) else str(value))


@dataclass(frozen=True)
class Column:
    # The cell's content for a row: text (escaped) or markup (a SafeString, kept as it is).
    cell: Callable[[Any], Any]
    css: str = ""


def table_rows(rows: Iterable[Any], columns: Sequence[Column]) -> SafeString:
    opening = [f'<td class="{escape_html(column.css)}">' if column.css else "<td>" for column in columns]
    cells = list(zip(opening, (column.cell for column in columns), strict=True))
    html = []
    for row in rows:
        html.append("<tr>")
        for td, cell in cells:
            value = cell(row)
            html.append(f"{td}{escape_html(value)}</td>")
        html.append("</tr>\n")
    return mark_safe("".join(html))  # noqa: S308 (every cell is escaped above)


def fill_translation(translated: str, source: str, **escaped: str) -> str:
    """What `{% blocktranslate %}` writes, in Python: the translation filled with values already
    escaped; a translation that does not fit its values falls back to the source text, as the
    tag does (a list page's cards are written this way: `assessment_tags.queue_cards`, the
    donor's cards in `donations.views`)."""
    try:
        return translated % escaped
    except (KeyError, ValueError):
        return source % escaped
