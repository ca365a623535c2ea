"""What every page a browser walk passes must satisfy: no console error, nothing serious or critical
for axe-core, and the page budget (tests/page_budget.py) measured from what the browser received.

The live server does not compress, so the bodies are gzipped here at WhiteNoise's level. The
browser's HTTP cache is off for the walk's pages (Playwright turns it off for a page with a route),
so every page is weighed with every static file it loads, as on a first visit.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from tests.e2e.axe import axe_check
from tests.page_budget import PageWeight, weigh


class PageChecks:
    """Watches one page (a browser tab) of a walk; `check(name)` checks the document it shows now,
    and keeps what it found in `problems` (the test fails on them at the end, all listed)."""

    def __init__(self, page, who: str, *, phone: bool) -> None:
        self.page, self.who, self.phone = page, who, phone
        self.problems: list[str] = []
        self.weights: list[PageWeight] = []
        self._console: list[str] = []
        self._responses: list = []
        page.on("console", lambda message: self._console.append(f"{message.type}: {message.text}")
                if message.type == "error" else None)
        page.on("pageerror", lambda error: self._console.append(f"uncaught: {error}"))
        page.on("response", lambda response: self._responses.append(response))
        page.route("**/*", lambda route: route.continue_())

    def check(self, name: str) -> PageWeight:
        """Check the page as it is now (after its `load` event); `name` labels it in messages."""
        page = self.page
        page.wait_for_load_state("load")
        label = f"{self.who}: {name} ({urlsplit(page.url).path})"
        responses, self._responses = self._responses, []
        console, self._console = self._console, []
        # Only this document's response: a form's POST answered by a redirect came before it.
        documents = [r for r in responses if r.request.resource_type == "document"
                     and r.request.frame == page.main_frame and r.status == 200]
        assert documents, f"{label}: no document was received"
        document = documents[-1]
        static = [r for r in responses[responses.index(document) + 1:]
                  if urlsplit(r.url).path.startswith(settings.STATIC_URL)]
        failed = [f"{r.status} {r.url}" for r in responses if r.status >= 400]
        weight = weigh(label, document.body(), ((urlsplit(r.url).path, r.body()) for r in static if r.ok))
        self.weights.append(weight)
        if failed:
            self.problems.append(f"{label}: failed requests: {failed}")
        if console:
            self.problems.append(f"{label}: console errors: {console}")
        if not weight.within_budget:
            self.problems.append(f"{label}: over the page budget: {weight.over_budget()}")
        serious = axe_check(page, label)
        if serious:
            self.problems.append(f"{label}: axe-core serious/critical: "
                                 + "; ".join(f"{v['id']} ({v['impact']}) at {v['nodes']}" for v in serious))
        return weight
