"""Writing the demo corpus, and the workspace dataset ``demo`` (DEMO_NAME) built from it.

``generate_demo(out_dir)`` renders every planned track (in a process pool when ``jobs`` > 1; the
output does not depend on ``jobs``), writes ``out_dir/audio/<genre>_<i>.ogg`` and
``out_dir/metadata.csv`` and returns an ImportResult whose ``path`` column is relative to
``out_dir``. ``ensure_demo_dataset()`` keeps the workspace dataset built and reuses it while its
parameters (and DEMO_VERSION) match; ``demo_is_current()`` says whether it would be reused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from core import artifacts
from core.audio import SAMPLE_RATE, write_audio
from core.datasets import DEMO_NAME, Dataset, ImportResult, dataset_dir, datasets_dir, load_dataset, save_dataset
from core.datasets.demo.plan import AUDIO_FORMAT, TrackSpec, plan_corpus
from core.datasets.demo.render import render_track
from core.errors import ParameterError, SongscapeError
from core.schema import stable_id

DEMO_VERSION = 2  # bump when the generator's output changes: ensure_demo_dataset then rebuilds


def _render_and_write(spec: TrackSpec, out_dir: str) -> dict:
    audio = render_track(spec)
    write_audio(Path(out_dir) / spec.file, audio.mix)
    return {"index": spec.index, "duration_s": len(audio.mix) / SAMPLE_RATE}


def _worker_init() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # noqa: BLE001 - best effort only
        pass


def generate_demo(out_dir: Path, *, n_tracks: int = 240, seconds: float = 30.0, seed: int = 0,
                  progress=None, jobs: int | None = None) -> ImportResult:
    """Write the demo corpus to ``out_dir`` (audio/*.ogg + metadata.csv) and return its track table.

    ``path`` in the returned table is relative to ``out_dir``. ``jobs`` worker processes render
    tracks (default core.config.default_jobs()); the output does not depend on ``jobs``.
    """
    from core.config import default_jobs

    specs = plan_corpus(n_tracks=n_tracks, seconds=seconds, seed=seed)
    out_dir = Path(out_dir)
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ParameterError("jobs", value=jobs, expected="a positive number of worker processes")
    jobs = min(jobs, len(specs))
    results: dict[int, dict] = {}
    total = len(specs)
    if progress:
        progress(0, total, {"message": "synthesizing demo tracks"})
    from core.executors import LocalExecutor
    from core.parallel import process_pool

    executor = LocalExecutor(jobs=jobs, pool=lambda n: process_pool(n, initializer=_worker_init))
    for i, res in executor.imap(_render_and_write, [(spec, str(out_dir)) for spec in specs]):
        results[specs[i].index] = res
        if progress:
            progress(len(results), total, {"track": specs[i].file})
    rows = []
    for spec in specs:
        rows.append({"track_id": stable_id("demo", spec.file), "path": spec.file, "title": spec.title,
                     "artist": spec.artist, "language": spec.language, "genre": spec.genre, "lyrics": spec.lyrics,
                     "duration_s": round(results[spec.index]["duration_s"], 3), "source": "demo"})
    tracks = pd.DataFrame(rows)
    meta = tracks[["title", "artist", "language", "genre", "lyrics"]].copy()
    meta["file"] = tracks["path"]
    artifacts.write_csv(out_dir / "metadata.csv", meta)
    return ImportResult(tracks=tracks, skipped=[], layout="demo", source=str(out_dir))


def _demo_params(n_tracks: int, seconds: float, seed: int) -> dict:
    return {"n_tracks": int(n_tracks), "seconds": float(seconds), "seed": int(seed), "random_state": int(seed),
            "demo_version": DEMO_VERSION}


def demo_is_current(*, n_tracks: int = 240, seconds: float = 30.0, seed: int = 0) -> bool:
    """True when the workspace dataset 'demo' exists, is complete and was built with these parameters."""
    root = dataset_dir(DEMO_NAME)
    if not (root / "tracks.csv").exists() or not (root / "info.json").exists():
        return False
    try:
        info = artifacts.read_json(root / "info.json")
    except SongscapeError:
        return False
    want = _demo_params(n_tracks, seconds, seed)
    if any(info.get(k) != v for k, v in want.items()):
        return False
    return len(list((root / "audio").glob(f"*.{AUDIO_FORMAT}"))) == int(n_tracks)


def ensure_demo_dataset(*, progress=None, n_tracks: int = 240, seconds: float = 30.0, seed: int = 0,
                        jobs: int | None = None) -> Dataset:
    """Load the workspace dataset 'demo' if it was built with these parameters; else (re)build it.

    The corpus is generated in a hidden temporary folder and renamed into place, so an interrupted
    build never leaves a half corpus that loads.
    """
    if demo_is_current(n_tracks=n_tracks, seconds=seconds, seed=seed):
        return load_dataset(DEMO_NAME)
    final = dataset_dir(DEMO_NAME)
    tmp = Path(tempfile.mkdtemp(prefix=f".{DEMO_NAME}.building.", dir=datasets_dir()))
    try:
        result = generate_demo(tmp, n_tracks=n_tracks, seconds=seconds, seed=seed, progress=progress, jobs=jobs)
        result.source = str(final)  # where it will live, not the build folder
        save_dataset(DEMO_NAME, result, extra_info=_demo_params(n_tracks, seconds, seed), root=tmp)
        old = None
        if final.exists():
            old = final.with_name(f".{DEMO_NAME}.old.{os.getpid()}.{time.time_ns()}")
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_dataset(DEMO_NAME)
