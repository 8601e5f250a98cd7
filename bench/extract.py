"""Feature-extraction throughput: full audio pass vs. the floor (decode + resample + one STFT per clip).

    .venv/bin/python bench/extract.py [--n 120] [--seconds 30] [--format ogg|flac|wav|mp3|opus]
                                      [--sr 22050] [--channels 1] [--jobs N] [--rounds 3]
                                      [--variants chain,soundfile] [--baseline REV] [--decoder-table]
                                      [--data DIR]

Generates ``n`` synthetic clips (harmonic tones with vibrato, clicks and noise; a different seed per
clip and per channel) at ``--sr`` Hz with ``--channels`` channels in a temporary folder. Real-like
music previews: ``--format mp3 --sr 44100 --channels 2`` (MP3 written by libsndfile ≥ 1.1, ~140
kbit/s with a LAME header). Then measures, with the same number of worker processes:

  floor  decode (core.audio.load_audio) + resample to 22,050 Hz + pad/trim + one float32 STFT per
         clip, nothing else
  full   get_features(dataset, "mfcc_stats"): decode + STFT + every audio feature + chunk saves +
         the cached group written to disk (end to end, as the app runs it)

Both include creating their process pool (forked from an already-warm forkserver). Each variant
runs in its own child process, rounds interleaved (variant A round 1, B round 1, A round 2, …), so
the machine's other load hits every variant alike; the best of ``rounds`` is reported.

  chain      the decoder chain core.audio picks per format (miniaudio first for MP3/FLAC/WAV/Vorbis)
  soundfile  SONGSCAPE_AUDIO_DECODERS=soundfile: libsndfile for every format, same downmix + soxr
  baseline   ``--baseline REV``: core/audio.py as of git revision REV, the rest of core/ unchanged

Every variant imports core/ from a copy of git revision ``--rev`` (default HEAD: the committed tree).

``--decoder-table`` also prints CPU milliseconds per clip (one thread, ``time.process_time``, median
of 15) for every decoder on one clip of every format (MP3, Ogg Vorbis, FLAC, WAV, Opus at 48 kHz):
decode + downmix to mono, then + resample to 22,050 Hz, and the pre-registry path (soundfile,
``mean(axis=1)``, soxr) as the reference. The last lines are Markdown rows for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--root" in sys.argv:  # a child measuring another tree (the baseline): import core from there
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SR = 22050
FORMATS = {"ogg": ("OGG", "VORBIS"), "flac": ("FLAC", "PCM_16"), "wav": ("WAV", "PCM_16"),
           "mp3": ("MP3", "MPEG_LAYER_III"), "opus": ("OGG", "OPUS")}


def make_clip(i: int, seconds: float, sr: int = SR, channels: int = 1):
    """(n,) for one channel, else (n, channels): one harmonic tone with vibrato per channel, clicks, noise."""
    import numpy as np

    rng = np.random.default_rng(i)
    t = np.arange(int(seconds * sr)) / sr
    beat = 60.0 / rng.uniform(70, 170)
    clicks = (np.arange(t.size) % int(beat * sr)) < int(200 * sr / SR)
    chans = []
    for _ in range(channels):
        f0 = 110.0 * 2 ** (rng.integers(0, 24) / 12)
        y = np.zeros_like(t)
        for h in range(1, 5):
            y += (0.3 / h) * np.sin(2 * np.pi * h * f0 * t
                                    + rng.uniform(0, 3) * np.sin(2 * np.pi * rng.uniform(0.2, 6) * t))
        y += 0.3 * clicks * rng.standard_normal(t.size) + rng.uniform(0.005, 0.05) * rng.standard_normal(t.size)
        chans.append(y)
    y = np.stack(chans, axis=1) if channels > 1 else chans[0]
    return (0.8 * y / np.max(np.abs(y))).astype(np.float32)


def write_clip(args) -> str:
    i, seconds, folder, fmt, sr, channels = args
    import soundfile as sf

    from core.artifacts import atomic_path

    path = Path(folder) / f"clip_{i:04d}.{fmt}"
    major, subtype = FORMATS[fmt]
    with atomic_path(path) as tmp:
        sf.write(str(tmp), make_clip(i, seconds, sr, channels), sr, format=major, subtype=subtype)
    return str(path)


def generate_some(ids: list[int], seconds: float, folder: Path, fmt: str, sr: int, channels: int,
                  jobs: int) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(jobs) as tp:  # libsndfile encodes without the GIL
        return list(tp.map(write_clip, [(i, seconds, folder, fmt, sr, channels) for i in ids]))


# ---------------------------------------------------------------- one round (in a child process)

def run_floor(paths, jobs: int, scfg) -> float:
    from core.features import _worker
    from core.features.extract import make_pool

    t0 = time.perf_counter()
    with make_pool(jobs) as pool:
        futs = [pool.submit(_worker.floor_row, p, 0.0, None, scfg) for p in paths]
        for f in futs:
            f.result()
    return time.perf_counter() - t0


def run_full(ds, jobs: int) -> float:
    from core.features import get_features
    from core.features.extract import features_root

    shutil.rmtree(features_root(ds), ignore_errors=True)
    t0 = time.perf_counter()
    fs = get_features(ds, "mfcc_stats", jobs=jobs)
    dt = time.perf_counter() - t0
    assert fs.valid.all(), fs.errors
    return dt


def breakdown(path: str, scfg, repeats: int = 15) -> dict:
    """Median CPU milliseconds (process_time: robust to other load on the machine) per stage for one
    clip in this process, one thread."""
    from threadpoolctl import threadpool_limits

    from core.audio import fix_length
    from core.features import spectral

    out = {"decode": [], "stft": [], "features": []}
    with threadpool_limits(1):
        for _ in range(repeats):
            t0 = time.process_time()
            y = spectral.load_clip(path, config=scfg)
            t1 = time.process_time()
            spectral.stft_magnitude(fix_length(y, n_samples=scfg.n_samples))
            t2 = time.process_time()
            spectral.extract_clip(y, config=scfg)
            t3 = time.process_time()
            out["decode"].append(t1 - t0)
            out["stft"].append(t2 - t1)
            out["features"].append(t3 - t2)
    return {k: 1000 * statistics.median(v) for k, v in out.items()}


def child(args) -> int:
    """One round of floor + full on the clips in ``--clips``; prints one JSON line."""
    os.environ["SONGSCAPE_HOME"] = tempfile.mkdtemp(prefix="songscape-bench-home-")
    import pandas as pd

    from core.datasets import ImportResult, load_dataset, save_dataset
    from core.features import SpectralConfig
    from core.features.extract import make_pool

    paths = [str(Path(args.clips) / f"clip_{i:04d}.{args.format}") for i in range(args.n)]
    scfg = SpectralConfig()
    try:
        with make_pool(args.jobs):  # starts + warms the forkserver (librosa imported once; not timed)
            pass
        save_dataset("bench", ImportResult(tracks=pd.DataFrame(
            {"track_id": [f"b{i}" for i in range(len(paths))], "path": paths, "duration_s": args.seconds})))
        ds = load_dataset("bench")
        floor = run_floor(paths, args.jobs, scfg)
        full = run_full(ds, args.jobs)
        bd = breakdown(paths[0], scfg, repeats=7) if args.breakdown else None
    finally:
        shutil.rmtree(os.environ["SONGSCAPE_HOME"], ignore_errors=True)
    print(json.dumps({"floor": floor, "full": full, "breakdown": bd, "load": os.getloadavg()[0]}))
    return 0


# ---------------------------------------------------------------- per-decoder CPU table (this process)

def decoder_table(folder: Path, seconds: float, repeats: int = 15) -> list[dict]:
    """CPU ms per clip for every decoder of every format on one stereo clip (44.1 kHz; Opus 48 kHz)."""
    import numpy as np
    import soundfile as sf
    import soxr
    from threadpoolctl import threadpool_limits

    from core.audio import DECODERS, audio_format, load_audio

    def old_path(p):
        with sf.SoundFile(p) as fh:
            data = fh.read(frames=int(round(seconds * fh.samplerate)), dtype="float32", always_2d=True)
            native = fh.samplerate
        return soxr.resample(data.mean(axis=1), native, SR, quality="HQ").astype(np.float32)

    def cpu_ms(fn) -> float:
        fn()  # warm (imports, filterbanks)
        ts = []
        for _ in range(repeats):
            t0 = time.process_time()
            fn()
            ts.append(time.process_time() - t0)
        return 1000 * statistics.median(ts)

    rows = []
    with threadpool_limits(1):
        for fmt in FORMATS:
            sr = 48000 if fmt == "opus" else 44100
            try:
                p = write_clip((0, seconds, folder, fmt, sr, 2))
            except Exception as exc:  # noqa: BLE001 - libsndfile without this format
                rows.append({"format": fmt, "decoder": "-", "note": f"not writable here: {exc}"})
                continue
            spec = audio_format(p)
            first = next(n for n in spec.decoders if DECODERS.get(n).available())
            rows.append({"format": fmt, "decoder": "old path (soundfile, mean(axis=1), soxr)", "decode_ms": None,
                         "decode_resample_ms": cpu_ms(lambda: old_path(p))})
            for name in spec.decoders:
                dec = DECODERS.get(name)
                if not dec.available() or name == "librosa":
                    continue
                try:
                    dec.read(p, offset=0.0, duration=seconds, fmt=spec)
                except Exception as exc:  # noqa: BLE001
                    rows.append({"format": fmt, "decoder": name, "note": f"cannot: {exc}"})
                    continue
                rows.append({"format": fmt, "decoder": name, "first": name == first,
                             "decode_ms": cpu_ms(lambda: dec.read(p, offset=0.0, duration=seconds, fmt=spec)),
                             "decode_resample_ms": cpu_ms(lambda: load_audio(p, sr=SR, duration=seconds,
                                                                             decoders=(name,)))})
    return rows


# ---------------------------------------------------------------- parent

def _tree(rev: str | None, dest: Path, *, audio_rev: str | None = None) -> Path:
    """core/ as of git revision ``rev`` (None: the working tree), with core/audio.py as of ``audio_rev``."""
    dest.mkdir(parents=True)
    if rev is None:
        shutil.copytree(ROOT / "core", dest / "core", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "core"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=tar, check=True)
    if audio_rev:
        old = subprocess.run(["git", "-C", str(ROOT), "show", f"{audio_rev}:core/audio.py"], check=True,
                             capture_output=True, text=True).stdout
        (dest / "core" / "audio.py").write_text(old)
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=120, help="number of clips (default 120)")
    ap.add_argument("--seconds", type=float, default=30.0, help="clip length (default 30)")
    ap.add_argument("--format", default="ogg", choices=list(FORMATS))
    ap.add_argument("--sr", type=int, default=SR, help="sample rate of the generated files (Opus: 48000)")
    ap.add_argument("--channels", type=int, default=1, help="channels of the generated files")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default="chain", help="comma list of: chain, soundfile (default chain)")
    ap.add_argument("--baseline", default=None, help="git revision whose core/audio.py is measured too")
    ap.add_argument("--decoder-table", action="store_true", help="per-decoder CPU ms per clip for every format")
    ap.add_argument("--rev", default="HEAD", help="git revision of core/ to measure (default HEAD, the committed "
                    "tree; 'worktree' for uncommitted files)")
    ap.add_argument("--data", default=None, help="keep the generated clips in DIR and reuse them on later runs")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--clips", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--root", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--breakdown", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    from core.config import default_jobs

    args.jobs = args.jobs or default_jobs()
    args.rev = None if args.rev == "worktree" else args.rev
    if args.child:
        return child(args)

    tmp = Path(tempfile.mkdtemp(prefix="songscape-bench-extract-"))
    try:
        t0 = time.perf_counter()
        data = tmp / "clips"
        if args.data:
            data = Path(args.data) / f"{args.format}-{args.sr}-{args.channels}ch-{args.seconds:g}s"
        data.mkdir(parents=True, exist_ok=True)
        have = {p.name for p in data.glob(f"clip_*.{args.format}")}
        todo = [i for i in range(args.n) if f"clip_{i:04d}.{args.format}" not in have]
        generate_some(todo, args.seconds, data, args.format, args.sr, args.channels, args.jobs)
        paths = [str(data / f"clip_{i:04d}.{args.format}") for i in range(args.n)]
        size = sum(os.path.getsize(p) for p in paths) / 1e6
        print(f"generated {len(todo)} (reused {args.n - len(todo)}) × {args.seconds:g}-s {args.format} clips "
              f"({args.sr} Hz, {args.channels} ch) in {time.perf_counter() - t0:.1f}s ({size:.1f} MB)", file=sys.stderr)
        tree = str(_tree(args.rev, tmp / "tree"))
        variants = {v: (tree, {"SONGSCAPE_AUDIO_DECODERS": "soundfile"} if v == "soundfile" else {})
                    for v in args.variants.split(",")}
        if args.baseline:
            variants[f"baseline {args.baseline}"] = (str(_tree(args.rev, tmp / "baseline", audio_rev=args.baseline)), {})
        results: dict[str, list[dict]] = {v: [] for v in variants}
        for r in range(args.rounds):
            for v, (root, extra_env) in variants.items():
                env = {k: x for k, x in os.environ.items() if k != "SONGSCAPE_AUDIO_DECODERS"}
                env.update(extra_env, PYTHONPATH=root)
                cmd = [sys.executable, str(Path(__file__).resolve()), "--child", v, "--clips", str(data), "--n", str(args.n),
                       "--format", args.format, "--seconds", str(args.seconds), "--jobs", str(args.jobs),
                       "--root", root, "--breakdown"]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if out.returncode:
                    raise SystemExit(f"variant {v} failed:\n{out.stderr[-3000:]}")
                res = json.loads(out.stdout.strip().splitlines()[-1])
                results[v].append(res)
                print(f"round {r + 1} {v}: floor {args.n / res['floor']:.1f} clips/s, full "
                      f"{args.n / res['full']:.1f} clips/s (load {res['load']:.1f})", file=sys.stderr)

        cores = min(args.jobs, os.cpu_count() or 1)
        rows = []
        for v, rs in results.items():
            floor_rate, full_rate = args.n / min(x["floor"] for x in rs), args.n / min(x["full"] for x in rs)
            bd = min(rs, key=lambda x: x["load"])["breakdown"]  # CPU figures from the quietest round
            loads = [x["load"] for x in rs]
            floor_cpu, full_cpu = bd["decode"] + bd["stft"], bd["decode"] + bd["features"]
            print(f"[{v}] CPU per clip, one thread: decode + resample {bd['decode']:.1f} ms, STFT {bd['stft']:.1f} ms, "
                  f"all features from the decoded clip {bd['features']:.1f} ms → CPU-bound capacity on {cores} "
                  f"cores: floor {1000 * cores / floor_cpu:.0f} clips/s, full {1000 * cores / full_cpu:.0f} clips/s "
                  f"({floor_cpu / full_cpu:.0%})")
            print(f"[{v}] floor (decode + resample + 1 STFT): {floor_rate:.1f} clips/s; full extraction: "
                  f"{full_rate:.1f} clips/s; ratio {full_rate / floor_rate:.0%}  [jobs={args.jobs}, best of "
                  f"{args.rounds}, load {min(loads):.1f}–{max(loads):.1f}]")
            rows.append(f"| {time.strftime('%Y-%m-%d %H:%M')} | {v} | `bench/extract.py --n {args.n} --format "
                        f"{args.format} --sr {args.sr} --channels {args.channels}` | {args.n} × {args.seconds:g} s "
                        f"{args.format} ({size:.0f} MB) | {os.cpu_count()} cores, jobs={args.jobs}, load "
                        f"{min(loads):.1f}–{max(loads):.1f} | {bd['decode']:.0f} | {floor_rate:.1f} | "
                        f"**{full_rate:.1f}** | {full_rate / floor_rate:.0%} |")
        if args.decoder_table:
            print("\n| format | decoder | decode + mono, CPU ms | + resample to 22,050 Hz, CPU ms |")
            print("|---|---|---:|---:|")
            (tmp / "table").mkdir()
            for row in decoder_table(tmp / "table", args.seconds):
                if "note" in row:
                    print(f"| {row['format']} | {row['decoder']} | {row['note']} | |")
                    continue
                first = " (first in chain)" if row.get("first") else ""
                dec = "—" if row["decode_ms"] is None else f"{row['decode_ms']:.1f}"
                print(f"| {row['format']} | {row['decoder']}{first} | {dec} | {row['decode_resample_ms']:.1f} |")
        print()
        print("\n".join(rows))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
