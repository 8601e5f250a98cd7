"""Real-browser tests: Streamlit served on loopback, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import pytest

from tests.browser_util import browser_page, chromium_or_skip, running_app

pytestmark = pytest.mark.browser

SMALL_DEMO = {"SONGSCAPE_DEMO_TRACKS": "24", "SONGSCAPE_DEMO_SECONDS": "4"}


def test_app_starts_and_shows_track_table(tmp_path):
    chromium_or_skip()
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(tmp_path / "home"), "SONGSCAPE_MODELS": str(tmp_path / "models")}
    with running_app(env) as url, browser_page() as page:
        page.goto(url, wait_until="domcontentloaded")
        # the AgGrid track table renders inside a component iframe
        page.wait_for_selector("iframe[title*='aggrid'], iframe[title*='st_aggrid']", timeout=180_000)
        frame = page.frame_locator("iframe[title*='aggrid'], iframe[title*='st_aggrid']").first
        frame.locator(".ag-header-cell-text", has_text="title").first.wait_for(timeout=60_000)
        rows = frame.locator(".ag-center-cols-container .ag-row")
        rows.first.wait_for(timeout=60_000)
        assert rows.count() >= 10
        page.screenshot(path=str(tmp_path / "dataset.png"), full_page=True)
