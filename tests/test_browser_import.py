"""Real-browser import tests: upload a .zip, import a folder, be refused outside the allowed roots.

One app (Streamlit on loopback, a 12-track demo) serves the three tests; each opens its own page.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.browser_util import browser_page, chromium_or_skip, running_app

pytestmark = pytest.mark.browser

SMALL_DEMO = {"SONGSCAPE_DEMO_TRACKS": "12", "SONGSCAPE_DEMO_SECONDS": "4"}
TRAP_URL = "http://127.0.0.1:9/px.png"  # nothing listens there; the browser must not even ask
TRAP_TITLE = f"![px]({TRAP_URL}) $x^2$"
LYRICS = "আমার সোনার বাংলা, আমি তোমায় ভালোবাসি"


def _wav_bytes(freq: float, seconds: float = 3.0, sr: int = 22050) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32), sr,
             format="WAV")
    return buf.getvalue()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    chromium_or_skip()
    base = tmp_path_factory.mktemp("browser_import")
    allowed = base / "allowed"
    allowed.mkdir()
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(base / "home"), "SONGSCAPE_MODELS": str(base / "models"),
           "SONGSCAPE_IMPORT_ROOTS": str(allowed)}
    with running_app(env) as url:
        yield url, base, allowed


def _open(page, url: str):
    """Load the app, wait for its first run to end (the Dataset page's player), open the import form."""
    page.goto(url, wait_until="domcontentloaded")
    page.locator('[data-testid="stSidebar"] input[aria-label="Dataset"]').first.wait_for(timeout=180_000)
    page.locator("audio").first.wait_for(state="attached", timeout=120_000)
    _until(page, lambda: page.get_by_text("Import your music").first.click(),
           lambda: page.get_by_role("button", name="Import", exact=True).first.wait_for(timeout=3_000))


def _until(page, act, check, tries: int = 5) -> None:
    """``act`` until ``check`` holds. A rerun may swallow a click (Streamlit redraws while it runs);
    checking first keeps a second click on an expander from closing it again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(tries):
        try:
            check()
            return
        except PlaywrightTimeout:
            act()
    check()


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, \
        page.locator('[data-testid="stException"]').first.inner_text()


def _selected(page) -> str:
    return page.locator('[data-testid="stSidebar"] input[aria-label="Dataset"]').first.input_value()


def _wait_selected(page, name: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "n => { const i = document.querySelector('[data-testid=\"stSidebar\"] input[aria-label=\"Dataset\"]');"
            " return i && i.value === n; }", arg=name, timeout=120_000)
    except PlaywrightTimeout:
        pytest.fail(f"dataset {name!r} not selected; the sidebar says: "
                    + page.locator('[data-testid="stSidebar"]').inner_text()[-1500:])
    page.get_by_role("heading", name=name).wait_for(timeout=60_000)  # the Dataset page shows it


def test_upload_zip_imports_selects_and_plays(served, tmp_path):
    url, _, _ = served
    z = tmp_path / "bangla songs.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bangla songs/a.wav", _wav_bytes(330.0))
        zf.writestr("bangla songs/b.wav", _wav_bytes(440.0))
        zf.writestr("bangla songs/metadata.csv",
                    f'file,title,artist,language,genre,lyrics\na.wav,"{TRAP_TITLE}",Mira,Bangla,folk,"{LYRICS}"\n'
                    f'b.wav,Nodi,Rahim,Bangla,folk,"{LYRICS}"\n')
    with browser_page() as page:
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        _open(page, url)
        upload = page.locator('[data-testid="stSidebar"] input[type="file"]')
        _until(page, lambda: page.get_by_text("Upload a .zip").click(),
               lambda: upload.wait_for(state="attached", timeout=5_000))
        upload.set_input_files(str(z))
        page.locator('[data-testid="stSidebar"]').get_by_text("bangla songs.zip").first.wait_for(state="attached", timeout=30_000)
        button = page.get_by_role("button", name="Import", exact=True)
        page.wait_for_function("() => [...document.querySelectorAll('button')].some("
                               "b => b.innerText.trim() === 'Import' && !b.disabled)", timeout=30_000)
        button.click()
        _wait_selected(page, "bangla_songs")
        page.locator('[data-testid="stSidebar"]').get_by_text("2 tracks, 0 skipped").wait_for(timeout=30_000)
        _no_exception(page)
        # the title is shown as the characters it is: no image fetched, no math typeset
        caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Mira").first
        caption.wait_for(timeout=60_000)
        assert TRAP_TITLE in caption.inner_text()
        assert page.locator(".katex").count() == 0
        page.get_by_text(LYRICS).first.wait_for(timeout=30_000)
        # a track plays: the bounded OGG clip of a 3-s file
        page.wait_for_function("() => { const a = document.querySelector('audio'); return a && a.readyState >= 1; }",
                               timeout=60_000)
        audio = page.locator("audio").first
        assert 2.8 < audio.evaluate("a => a.duration") < 3.2
        audio.evaluate("a => { a.muted = true; return a.play(); }")
        page.wait_for_function("() => document.querySelector('audio').currentTime > 0.2", timeout=30_000)
        assert not [u for u in requested if u.startswith(TRAP_URL)]
        page.screenshot(path=str(tmp_path / "upload.png"), full_page=True)


def test_folder_import_under_allowed_root_ends_on_the_new_dataset(served, tmp_path):
    url, _, allowed = served
    album = allowed / "field recordings"
    album.mkdir()
    for i, f in enumerate((220.0, 330.0, 440.0)):
        (album / f"take{i}.wav").write_bytes(_wav_bytes(f))
    (album / "broken.wav").write_bytes(b"RIFF....WAVEnot really")
    with browser_page() as page:
        _open(page, url)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stTextInput"]').filter(
            has_text="Folder or CSV path").locator("input")
        box.fill(str(album))
        box.press("Enter")
        page.wait_for_function("() => [...document.querySelectorAll('button')].some("
                               "b => b.innerText.trim() === 'Import' && !b.disabled)", timeout=30_000)
        page.get_by_role("button", name="Import", exact=True).click()
        _wait_selected(page, "field_recordings")
        page.locator('[data-testid="stSidebar"]').get_by_text("3 tracks, 1 skipped").wait_for(timeout=30_000)
        page.locator('[data-testid="stSidebar"]').get_by_text("1 item(s) skipped at import").wait_for(timeout=30_000)
        _no_exception(page)
        page.screenshot(path=str(tmp_path / "folder.png"), full_page=True)


def test_path_outside_allowed_roots_is_refused_in_one_line(served, tmp_path):
    url, _, _ = served
    shadow_like = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    with browser_page() as page:
        _open(page, url)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stTextInput"]').filter(
            has_text="Folder or CSV path").locator("input")
        box.fill("/etc/passwd")
        box.press("Enter")
        page.wait_for_function("() => [...document.querySelectorAll('button')].some("
                               "b => b.innerText.trim() === 'Import' && !b.disabled)", timeout=30_000)
        alert = page.locator('[data-testid="stSidebar"] [data-testid="stAlert"]').filter(
            has_text="SONGSCAPE_IMPORT_ROOTS")
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:  # refusing twice changes nothing, so a click a rerun swallowed may be repeated
            _until(page, lambda: page.get_by_role("button", name="Import", exact=True).click(),
                   lambda: alert.wait_for(timeout=15_000))
        except PlaywrightTimeout:
            page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
            pytest.fail("no refusal shown; the sidebar says: "
                        + page.locator('[data-testid="stSidebar"]').inner_text()[-1500:])
        text = alert.inner_text().strip()
        assert "\n" not in text and "outside the folders this app may read" in text
        assert shadow_like not in text and "root:" not in text
        _no_exception(page)
        assert _selected(page) == "demo"
