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


def test_explore_move_k_slider_and_play_a_track(tmp_path):
    chromium_or_skip()
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(tmp_path / "home"), "SONGSCAPE_MODELS": str(tmp_path / "models")}
    with running_app(env) as url, browser_page() as page:
        page.goto(url + "/explore", wait_until="domcontentloaded")
        clusters = page.locator('[data-testid="stMetric"]').filter(has_text="Clusters")
        clusters.wait_for(timeout=240_000)
        assert clusters.inner_text().split()[-1] == "6"
        slider = page.locator('[data-testid="stSlider"]').filter(has_text="n clusters").get_by_role("slider").first
        slider.focus()
        for _ in range(3):  # to the focused slider: a rerun may briefly show a stale copy beside it
            page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
                   .some(m => m.innerText.includes('Clusters') && m.innerText.trim().endsWith('3'))""",
            timeout=120_000)
        tab = page.get_by_role("tab", name="Listen per cluster")
        tab.wait_for(timeout=240_000)  # drawn after the map; the first UMAP fit pays numba compilation
        tab.click()
        audio = page.locator("audio").first
        audio.wait_for(state="attached", timeout=60_000)
        page.wait_for_function("() => { const a = document.querySelector('audio'); return a && a.readyState >= 1; }",
                               timeout=60_000)
        duration = audio.evaluate("a => a.duration")
        assert 3.5 < duration < 4.5  # the 4-s demo clip, decoded and served as WAV
        audio.evaluate("a => { a.muted = true; return a.play(); }")
        page.wait_for_function("() => document.querySelector('audio').currentTime > 0.2", timeout=30_000)
        page.screenshot(path=str(tmp_path / "explore.png"), full_page=True)


def choose_option(page, label: str, option: str, *, tries: int = 4) -> None:
    """Open the selectbox ``label`` and pick ``option``; a click that a rerun swallowed is repeated."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(tries):
        box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
        box.wait_for(timeout=240_000)
        box.scroll_into_view_if_needed()
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r} in {label!r}")


POINT_XY = """() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')]
    .filter(gd => gd._fullLayout && gd._fullData && gd._fullData.length && gd._fullData[0].type === 'scattergl'
                  && !String((gd._fullLayout.title || {}).text || '').includes('computing'));
  if (!plots.length) return null;
  const gd = plots[0], fl = gd._fullLayout, t = gd._fullData[0];  // decoded arrays (data holds base64)
  if (!t.x || !t.x.length) return null;
  const r = gd.getBoundingClientRect();
  return [r.left + fl._size.l + fl.xaxis.l2p(t.x[0]), r.top + fl._size.t + fl.yaxis.l2p(t.y[0])];
}"""


def test_click_a_point_on_the_map_and_it_plays(tmp_path):
    """A click on one point of the map shows that track's player with its labels and cluster."""
    import os
    import shutil

    chromium_or_skip()
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(tmp_path / "home"), "SONGSCAPE_MODELS": str(tmp_path / "models")}
    with running_app(env) as url, browser_page() as page:
        page.goto(url + "/explore", wait_until="domcontentloaded")
        page.get_by_text("Click a point to play it").wait_for(timeout=240_000)
        page.wait_for_function(POINT_XY, timeout=240_000)   # the final map (UMAP compiles on its first fit)
        page.wait_for_timeout(1000)                          # let Plotly finish its first draw
        x, y = page.evaluate(POINT_XY)
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        playing = page.locator('[data-testid="stMarkdown"]').filter(has_text="▶")
        playing.wait_for(timeout=60_000)
        caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="cluster:")
        caption.wait_for(timeout=30_000)
        assert "genre:" in caption.first.inner_text()
        audio = page.locator("audio").first
        audio.wait_for(state="attached", timeout=60_000)
        page.wait_for_function("() => { const a = document.querySelector('audio'); return a && a.readyState >= 1; }",
                               timeout=60_000)
        assert 3.5 < audio.evaluate("a => a.duration") < 4.5
        audio.evaluate("a => { a.muted = true; return a.play(); }")
        page.wait_for_function("() => document.querySelector('audio').currentTime > 0.2", timeout=30_000)
        page.set_viewport_size({"width": 1400, "height": 1350})  # the map and the player below it
        page.wait_for_timeout(800)
        page.screenshot(path=str(tmp_path / "map-click.png"), full_page=False)
        if os.environ.get("SONGSCAPE_SCREENSHOTS"):  # to refresh the README's picture by hand
            shutil.copy(tmp_path / "map-click.png", os.environ["SONGSCAPE_SCREENSHOTS"])


def test_colour_the_map_by_top_musicnn_tag(tmp_path, monkeypatch):
    """Once the MagnaTagATune tagger has run, the map can be coloured by each track's top tag."""
    from core.features.musicnn import MODELS, missing_reason

    chromium_or_skip()
    if missing_reason():
        pytest.skip(missing_reason())
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(tmp_path / "home"), "SONGSCAPE_MODELS": str(tmp_path / "models")}
    with running_app(env) as url, browser_page() as page:
        page.goto(url + "/explore", wait_until="domcontentloaded")
        page.get_by_text("Click a point to play it").wait_for(timeout=240_000)   # the demo exists now
        monkeypatch.setenv("SONGSCAPE_HOME", env["SONGSCAPE_HOME"])
        from core.datasets import load_dataset
        from core.features import get_features

        get_features(load_dataset("demo"), "musicnn_mtt_tags", jobs=1)          # what the Dataset page's button runs
        page.reload(wait_until="domcontentloaded")
        page.get_by_text("Click a point to play it").wait_for(timeout=240_000)   # the page has settled
        choose_option(page, "Colour by", "top tag")
        names = page.wait_for_function(
            """() => { const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullData
                         && g._fullData.length && g._fullData[0].type === 'scattergl'
                         && (g._fullLayout.legend.title || {}).text === 'top tag');
                       return gd ? gd._fullData.map(t => t.name) : null; }""", timeout=120_000).json_value()
        tags = set(MODELS.get("MTT_musicnn").labels)
        assert names and set(names) <= tags, names
        page.screenshot(path=str(tmp_path / "top-tag.png"), full_page=False)


MAP_POINTS = """() => { const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullData
    && g._fullData.length && g._fullData[0].type === 'scattergl' && (g._fullLayout.legend.title || {}).text === 'cluster');
  return gd ? {n: gd._fullData.reduce((a, t) => a + (t.x ? t.x.length : 0), 0), traces: gd._fullData.length} : null; }"""


def test_explore_a_100000_track_library_moves_k_and_redraws_the_map(tmp_path):
    """100,000 tracks (a synthetic feature table, 4 groups): the Explore page opens on a WebGL map of every
    point, and moving k redraws it with the new clusters. Server-side times are printed, not asserted."""
    import time

    import numpy as np
    import pandas as pd

    chromium_or_skip()
    home = tmp_path / "home"
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(home), "SONGSCAPE_MODELS": str(tmp_path / "models")}
    import os

    os.environ["SONGSCAPE_HOME"] = str(home)
    try:
        from core.datasets import ImportResult, save_dataset

        n, rng = 100_000, np.random.default_rng(0)
        y = rng.integers(0, 4, n)
        cols = {f"f{j}": rng.normal(0, 1, n) + 3.0 * (y == j % 4) for j in range(8)}
        save_dataset("library", ImportResult(tracks=pd.DataFrame(
            {"track_id": [f"t{i}" for i in range(n)], "title": [f"song {i}" for i in range(n)],
             "genre": np.array(["rock", "pop", "rap", "jazz"])[y], **cols}), layout="tabular"))
    finally:
        os.environ.pop("SONGSCAPE_HOME", None)
    with running_app(env) as url, browser_page() as page:
        page.goto(url + "/explore", wait_until="domcontentloaded")
        page.get_by_text("Click a point to play it").wait_for(timeout=240_000)        # the demo, first
        choose_option(page, "Dataset", "library")
        t0 = time.time()
        got = page.wait_for_function(f"() => {{ const m = ({MAP_POINTS})(); return m && m.n === 100000 ? m : null; }}",
                                     timeout=240_000)
        print(f"100,000-point map drawn {time.time() - t0:.1f} s after choosing the dataset")
        assert got.json_value()["traces"] == 6                                          # k = 6 by default
        slider = page.locator('input[type="range"][aria-label="n clusters"][max="50"]')  # not the demo's (max 23)
        slider.focus()
        t0 = time.time()
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(f"() => {{ const m = ({MAP_POINTS})(); return m && m.traces === 4 && m.n === 100000; }}",
                               timeout=240_000)
        print(f"k 6 → 4 redrawn in {time.time() - t0:.1f} s")
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
                   .some(m => m.innerText.includes('Clusters') && m.innerText.trim().endsWith('4'))""", timeout=60_000)
        page.screenshot(path=str(tmp_path / "library.png"), full_page=False)


def test_beta_control_after_fast_key_presses_trains_nothing_and_claims_nothing(tmp_path, monkeypatch):
    """Three quick ArrowRight presses on the β control (1 → 2 → 4 → 8): no training starts, no model is
    saved, the shown β is not marked trained, and the page offers to train it."""
    import re

    chromium_or_skip()
    env = {**SMALL_DEMO, "SONGSCAPE_HOME": str(tmp_path / "home"), "SONGSCAPE_MODELS": str(tmp_path / "models")}
    with running_app(env) as url, browser_page() as page:
        page.goto(url + "/explore", wait_until="domcontentloaded")
        page.get_by_text("Click a point to play it").wait_for(timeout=240_000)        # the demo exists now
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        from core.training import TrainConfig, list_trained, train_on_dataset

        train_on_dataset(dataset="demo", model="mlp_vae", config=TrainConfig(epochs=2, batch_size=8, seed=0, beta=1.0))
        page.reload(wait_until="domcontentloaded")
        slider = page.locator('[data-testid="stSlider"]').filter(has_text="β").get_by_role("slider").first
        slider.wait_for(timeout=240_000)
        assert "✓" in slider.get_attribute("aria-valuetext")                            # β = 1, trained
        slider.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")                                           # no wait between presses
        page.get_by_role("button", name=re.compile(r"Train β = 8")).wait_for(timeout=120_000)
        page.wait_for_timeout(2000)                                                     # any stray rerun lands
        shown = page.locator('[data-testid="stSlider"]').filter(has_text="β").get_by_role("slider").first
        label = shown.get_attribute("aria-valuetext")
        assert label.startswith("8") and "✓" not in label and "cancelled" not in label
        models = list_trained(dataset="demo")
        assert models["beta"].tolist() == [1.0] and set(models["status"]) == {"finished"}
