"""The page budget, shared by the test-client walk (tests/core/test_page_budget.py) and the browser
walks (tests/e2e/test_role_walks.py): a page's HTML at most 30 KB and the HTML plus the static files
it loads at most 150 KB, each gzip-compressed at the level WhiteNoise serves it."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from dataclasses import dataclass

HTML_BUDGET = 30 * 1024
TOTAL_BUDGET = 150 * 1024


def gzipped_size(data: bytes) -> int:
    """The size WhiteNoise serves: it compresses at gzip's best level."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


@dataclass(frozen=True)
class PageWeight:
    page: str
    html_raw: int
    html_gz: int
    total_gz: int
    assets: tuple[str, ...]

    @property
    def within_budget(self) -> bool:
        return self.html_gz <= HTML_BUDGET and self.total_gz <= TOTAL_BUDGET

    def over_budget(self) -> str:
        """Why the page is over the budget, or "" when it is within it."""
        problems = []
        if self.html_gz > HTML_BUDGET:
            problems.append(f"HTML {self.html_gz} B gzip > {HTML_BUDGET} B")
        if self.total_gz > TOTAL_BUDGET:
            problems.append(f"HTML + static files {self.total_gz} B gzip > {TOTAL_BUDGET} B ({', '.join(self.assets)})")
        return "; ".join(problems)


def weigh(page: str, html: bytes, assets: Iterable[tuple[str, bytes]]) -> PageWeight:
    """The weight of a page from its HTML and the (url, body) of each static file it loads; a file
    named twice counts once."""
    files = dict(assets)
    total = gzipped_size(html) + sum(gzipped_size(body) for body in files.values())
    return PageWeight(page=page, html_raw=len(html), html_gz=gzipped_size(html), total_gz=total,
                      assets=tuple(files))


def weights_table(weights: list[PageWeight]) -> str:
    width = max(len(w.page) for w in weights)
    lines = [f"{'page':<{width}}  {'HTML raw':>9}  {'HTML gz':>8}  {'total gz':>9}"]
    lines += [
        f"{w.page:<{width}}  {w.html_raw / 1024:>7.1f} K  {w.html_gz / 1024:>6.1f} K  {w.total_gz / 1024:>7.1f} K"
        + ("" if w.within_budget else "  OVER")
        for w in weights
    ]
    return "\n".join(lines)
