"""The Compare tab in a real browser (issue #16): one column per jurisdiction, a citation opens its passage, exports listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import ANSWER_TIMEOUT_MS, CHROMIUM, browser, server  # noqa: F401 — the module's fixtures, reused

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium (`make system-deps` installs it)"),
]


def test_compare_tab_columns_and_a_citation(browser, server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context(viewport={"width": 1440, "height": 980})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url))
    page.goto(server)
    page.get_by_role("tab", name="Compare").click()
    box = page.locator("#ipqa-compare-question textarea")
    box.fill("Are computer programs protected as literary works?")
    page.locator("#ipqa-compare").click()
    columns = page.locator("#ipqa-compare-columns .ipqa-column")
    columns.nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert [c.locator("h3").inner_text() for c in columns.all()] == ["JP", "International"]
    international = columns.nth(1)
    assert "Computer programs are protected as literary works" in international.inner_text()
    marker = international.locator("a.ipqa-cmp-cite").first
    assert marker.inner_text() == "[1]"
    marker.click()
    mark = page.locator("#ipqa-compare-panel .ipqa-card.selected mark")
    mark.wait_for(timeout=10_000)
    assert mark.inner_text().startswith("Computer programs are protected as literary works")
    card = page.locator("#ipqa-compare-panel .ipqa-card.selected")
    assert "Article 4" in card.inner_text() and "International" in card.inner_text()
    assert card.locator("a", has_text="Official source").get_attribute("href") == "https://www.wipo.int/treaties/en/ip/wct/"
    # The chat tab's panel is untouched by a click here.
    assert page.locator("#ipqa-panel .ipqa-card").count() == 0
    exports = page.locator("#ipqa-compare-export")
    for name in ("comparison.md", "comparison.csv", "memo.md", "memo.html"):
        exports.locator(f'a[download="{name}"]').wait_for(timeout=10_000)
    link = exports.locator('a[download="comparison.csv"]')
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.text().startswith("group,answered,n,document"), response.text()[:200]
    page.screenshot(path=str(tmp_path / "compare.png"))
    print(f"\nscreenshot of the Compare tab: {tmp_path / 'compare.png'}")
    context.close()
    assert outside == []


def test_chat_answer_exported_as_a_memo(browser, server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context(viewport={"width": 1440, "height": 980})
    page = context.new_page()
    page.goto(server)
    box = page.locator("#ipqa-question textarea")
    box.fill("Are computer programs protected as literary works?")
    box.press("Enter")
    page.locator("#ipqa-chat .ipqa-answer").filter(has_text="Computer programs are protected").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator("#ipqa-memo").click()
    link = page.locator('#ipqa-memo-files a[download="memo.md"]')
    link.wait_for(timeout=30_000)
    memo = page.request.get(link.get_attribute("href")).text()
    assert memo.startswith("# Are computer programs protected as literary works?") and "ipqa-memo-record" in memo
    context.close()
