"""Shared fixtures: an isolated workspace per test session, small synthetic audio."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/songscape-numba-cache")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long test, still part of `make test`")
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright")


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path_factory, monkeypatch):
    """Every test gets its own SONGSCAPE_HOME and model folder: nothing leaks into ~/.cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SONGSCAPE_HOME", str(home))
    monkeypatch.setenv("SONGSCAPE_MODELS", str(home / "models"))
    from core.cache import CACHE

    CACHE.clear_memory()  # the in-memory store is process-wide; each test starts from its own workspace
    yield home


def demo_env(n_tracks: int, seconds: float, seed: int = 0) -> dict:
    """The environment that makes the app's first start build this demo corpus (pages tests set it)."""
    return {"SONGSCAPE_DEMO_TRACKS": str(n_tracks), "SONGSCAPE_DEMO_SECONDS": str(seconds), "SONGSCAPE_DEMO_SEED": str(seed)}


def make_demo_home(tmp_path_factory, name: str, *, n_tracks: int, seconds: float, seed: int = 0) -> Path:
    """A workspace holding a small demo corpus, generated once for the calling fixture's scope."""
    home = tmp_path_factory.mktemp(name)
    mp = pytest.MonkeyPatch()
    mp.setenv("SONGSCAPE_HOME", str(home))
    try:
        from core.datasets.demo import ensure_demo_dataset

        ensure_demo_dataset(n_tracks=n_tracks, seconds=seconds, seed=seed)
    finally:
        mp.undo()
    return home


def app_env(monkeypatch, home: Path, models: Path, env: dict) -> None:
    """Point the app at ``home`` (and ``models``) with the demo size ``env``."""
    monkeypatch.setenv("SONGSCAPE_HOME", str(home))
    monkeypatch.setenv("SONGSCAPE_MODELS", str(models))
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def tone(freq: float = 440.0, *, seconds: float = 2.0, sr: int = 22050, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def make_wav(tmp_path):
    """make_wav(relpath, freq=440, seconds=2, sr=22050, fmt=None) -> Path of a written tone file."""
    import soundfile as sf

    def _make(rel: str, freq: float = 440.0, seconds: float = 2.0, sr: int = 22050) -> Path:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(p), tone(freq, seconds=seconds, sr=sr), sr)
        return p

    return _make
