"""Walking a keyset-paged list (core.pagination) in the tests: every page forward from the start,
then back from the last page. `read(cursor)` reads one page (cursor None: the first)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Read = Callable[[Any], Any]


def _pk(row: Any) -> Any:
    return row.pk


def pages_forward(read: Read, *, key: Callable[[Any], Any] = _pk) -> tuple[list[list[Any]], Any]:
    """The keys of every page, first page first, and the last page."""
    pages, cursor = [], None
    while True:
        page = read(cursor)
        pages.append([key(row) for row in page.object_list])
        if not page.has_next:
            return pages, page
        cursor = page.next_cursor


def pages_back(read: Read, page: Any, *, key: Callable[[Any], Any] = _pk) -> list[list[Any]]:
    """The keys of `page` and of every page before it, first page first."""
    pages = [[key(row) for row in page.object_list]]
    while page.has_previous:
        page = read(page.previous_cursor)
        pages.insert(0, [key(row) for row in page.object_list])
    return pages


def walk(read: Read, *, key: Callable[[Any], Any] = _pk) -> tuple[list[list[Any]], list[list[Any]]]:
    """The pages' keys forward, and the same walked back from the last page."""
    forward, last = pages_forward(read, key=key)
    return forward, pages_back(read, last, key=key)
