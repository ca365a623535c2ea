"""axe-core in the browser tests: run it on a page, fail on serious or critical violations.

axe-core comes from node_modules (npm, pinned in package.json; `make install` runs
`npm ci`) and is injected into the page with Playwright; nothing is loaded from
another host. Every checked page's counts are collected for the summary that
tests/e2e/conftest.py prints at the end of the run.
"""

from __future__ import annotations

import json
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

AXE_RESULTS: dict[str, dict] = {}


def axe_check(page, name: str) -> list[dict]:
    """Run axe-core (from node_modules, injected into the page) on the page as it is now.

    Returns the serious and critical violations (empty when there are none) and
    records every page's counts for the summary printed at the end of the run.
    """
    assert AXE_JS.exists(), "axe-core is missing from node_modules: run `make install` (npm ci)"
    # Evaluated by the browser's debugging protocol, which the app's Content-Security-Policy does
    # not govern; a <script> tag with the source inline (add_script_tag) would be refused by it.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    bad = [v for v in result if v["impact"] in {"serious", "critical"}]
    AXE_RESULTS[name] = {"url": page.url, "violations": len(result), "serious_or_critical": len(bad),
                         "minor_or_moderate": [v["id"] for v in result if v not in bad]}
    return bad


def assert_accessible(page, name: str) -> None:
    bad = axe_check(page, name)
    assert not bad, f"axe-core: serious/critical violations on {name} ({page.url}):\n" + json.dumps(bad, indent=2)
