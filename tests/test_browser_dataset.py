"""Real-browser test of the Dataset page: search picks a track, a table click picks another, and the
player and lyrics follow; the logo and the bundled Bengali font are served."""

from __future__ import annotations

import pytest

from tests.browser_util import browser_page, chromium_or_skip, running_app

pytestmark = pytest.mark.browser

SMALL_DEMO = {"SONGSCAPE_DEMO_TRACKS": "24", "SONGSCAPE_DEMO_SECONDS": "4"}
GRID = "iframe[title*='aggrid'], iframe[title*='st_aggrid']"
LYRICS_OF_PICK = """(want) => [...document.querySelectorAll('[data-testid="stText"]')]
                              .some(e => e.innerText.trim() === want.trim())"""


def _shown(locator) -> str:
    """What a widget shows: its text and the values of its inputs (a selectbox shows its pick in one)."""
    return locator.evaluate("e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")


def _audio_src(page) -> str:
    return page.locator("audio").first.get_attribute("src") or ""


def test_search_and_table_click_move_player_and_lyrics(tmp_path, monkeypatch):
    chromium_or_skip()
    home, models = tmp_path / "home", tmp_path / "models"
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(home), "SONGSCAPE_MODELS": str(models)}
    with running_app(env) as url, browser_page() as page:
        page.goto(url, wait_until="domcontentloaded")
        frame = page.frame_locator(GRID).first
        frame.locator(".ag-center-cols-container .ag-row").first.wait_for(timeout=240_000)
        page.locator("audio").first.wait_for(state="attached", timeout=60_000)
        first_src = _audio_src(page)

        monkeypatch.setenv("SONGSCAPE_HOME", str(home))
        from core.datasets import load_dataset

        t = load_dataset("demo").tracks
        sung = t[(t["lyrics"] != "") & (t["language"] == "Bangla")]
        target = sung.iloc[len(sung) // 2]

        box = page.get_by_label("Search", exact=True).and_(page.get_by_role("textbox"))
        box.fill(target["title"])
        box.press("Enter")
        page.wait_for_function(LYRICS_OF_PICK, arg=target["lyrics"], timeout=60_000)
        page.wait_for_function("(old) => { const a = document.querySelector('audio'); return a && a.src && a.src !== old; }",
                               arg=first_src, timeout=60_000)
        from playwright.sync_api import expect

        expected = int((t["title"].str.casefold().str.contains(target["title"].casefold(), regex=False)
                        | t["artist"].str.casefold().str.contains(target["title"].casefold(), regex=False)
                        | t["lyrics"].str.casefold().str.contains(target["title"].casefold(), regex=False)).sum())
        # the table is an iframe component: it redraws after the picker and the player do
        expect(frame.locator(".ag-center-cols-container .ag-row")).to_have_count(expected, timeout=60_000)
        picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Choose a track")
        assert target["title"] in _shown(picker)

        # the bundled font is what draws Bangla (machines without a Bengali font included)
        faces = page.evaluate("""async () => (await document.fonts.load('16px "Source Sans"', 'বাংলা'))
                                              .map(f => f.unicodeRange)""")
        assert any("980" in r.upper() for r in faces), faces
        # ... and inside the track table, which is an iframe of its own
        in_grid = frame.locator("body").evaluate("""async () => (await document.fonts.load(
            '14px "Songscape Bengali"', 'বাংলা')).map(f => f.unicodeRange)""")
        assert any("980" in r.upper() for r in in_grid), in_grid
        cell_font = frame.locator(".ag-cell").first.evaluate("c => getComputedStyle(c).fontFamily")
        assert "Songscape Bengali" in cell_font
        assert page.locator('[data-testid="stSidebarLogo"], [data-testid="stLogo"]').count() >= 1

        # clear the search, then click another row in the table: the picker, lyrics and player follow
        box.fill("")
        box.press("Enter")
        other = t[(t["lyrics"] != "") & (t["track_id"] != target["track_id"])].iloc[0]
        cell = frame.locator(".ag-center-cols-container .ag-cell[col-id='title']", has_text=other["title"]).first
        cell.wait_for(timeout=60_000)
        src = _audio_src(page)
        cell.click()
        page.wait_for_function(LYRICS_OF_PICK, arg=other["lyrics"], timeout=60_000)
        assert other["title"] in _shown(picker)
        page.wait_for_function("(old) => document.querySelector('audio').src !== old", arg=src, timeout=60_000)
        page.screenshot(path=str(tmp_path / "dataset-search.png"), full_page=True)
