"""Feature extraction (FEATURES registry) and the feature cache.

CONTRACT (used by models, representations and pages):

    @dataclass
    class FeatureSet:
        name: str                 # registry name, e.g. "mfcc_stats"
        X: np.ndarray             # (n_tracks, *shape) float32, row i ↔ dataset.tracks.iloc[i];
                                  # rows where valid is False are zeros
        valid: np.ndarray         # (n_tracks,) bool: False where extraction failed or data is missing
        track_ids: np.ndarray     # (n_tracks,) str
        fingerprint: str          # sha256 of dataset fingerprint + feature config + code version
        config: dict
        errors: dict[str, str]    # track_id -> reason, for rows that failed

    get_features(dataset, name, *, progress=None, cancel=None, jobs=None) -> FeatureSet
    available_features(dataset) -> list[str]   # names that make sense for this dataset
    FEATURES: Registry of FeatureSpec(name, label, kind "audio"|"lyrics"|"tabular"|"musicnn_mtt"|"musicnn_msd",
                                      shape, help, on_demand)

Additions beyond the contract (all keyword-only, all optional):
    get_features(..., config=FeatureConfig(...))   non-default parameters (clip length, SVD size…)
    extract_all(dataset, *, progress, cancel, jobs, names=None, config=None) -> dict[str, FeatureSet]
    default_features(dataset) -> list[str]     # what extract_all / `extract` compute unless named: the
                                               # available features minus the on-demand (musicnn) ones
    feature_config(config=None) -> dict            every parameter + the log-mel normalization, JSON-ready
    compute_logmel(y, *, sr, pooled=False) -> (128, T) in [0, 1];  logmel_to_audio(x, *, sr) -> (n,)
    tokenize_lyrics(text) -> list[str]
    get_features(..., scheduler="tcp://host:8786")  run the audio pass on a Dask cluster (core.executors;
                                               default: $SONGSCAPE_SCHEDULER, else this machine's pool)
    python -m core extract --dataset NAME [--jobs N] [--features a,b] [--columns c,d] [--scheduler ADDRESS]
                           [--quiet]

Cached features are read memory-mapped: ``FeatureSet.X`` is a read-only ``np.memmap`` (copy it with
``np.array(fs.X)`` before writing into it).

Pretrained features (core.features.musicnn): ``musicnn_mtt`` / ``musicnn_msd`` (400-D embedding: the
penultimate layer's mean and max over 3-s patches) and ``musicnn_mtt_tags`` / ``musicnn_msd_tags``
(50 tag probabilities), from musicnn's checkpoints run in PyTorch (CUDA → MPS → CPU). Available only
when the checkpoints are installed (``make run``) and the dataset has audio; on demand only.

All audio features come from ONE pass per clip (decode + one STFT; see core.features.spectral): the
first request for any audio feature computes and caches all of them; later requests read the cache
(``$SONGSCAPE_HOME/features/<dataset>/<fingerprint[:16]>/``).
"""

from __future__ import annotations

from core.features.base import FEATURES, FEATURES_VERSION, FeatureConfig, FeatureSet, FeatureSpec
from core.features.lyrics import LyricsConfig, tokenize_lyrics
from core.features.spectral import SpectralConfig, compute_logmel, logmel_to_audio
from core.features.tabular import TabularConfig

__all__ = [
    "FEATURES", "FEATURES_VERSION", "FeatureConfig", "FeatureSet", "FeatureSpec", "LyricsConfig", "SpectralConfig",
    "TabularConfig", "available_features", "compute_logmel", "default_features", "extract_all", "feature_config",
    "get_features", "logmel_to_audio", "register_cli", "tokenize_lyrics",
]


def get_features(dataset, name: str, *, progress=None, cancel=None, jobs: int | None = None,
                 config: FeatureConfig | None = None, scheduler: str | None = None) -> FeatureSet:
    """The feature ``name`` for every track of ``dataset`` (cached; computed on first use).

    progress(step, total, {"file": ...}) is called as clips finish; cancel() is polled between
    chunks and raises core.progress.Cancelled (finished chunks are kept for the next run).
    scheduler: where the audio pass runs (core.executors.resolve: None → $SONGSCAPE_SCHEDULER or this
    machine; "local"; "local-dask"; a Dask scheduler address). X is a read-only memory map (n, *shape).
    Raises SchemaError if the dataset lacks what the feature needs (see available_features).
    """
    from core.features.extract import load_or_build

    return load_or_build(dataset, name, config=config, progress=progress, cancel=cancel, jobs=jobs,
                         scheduler=scheduler)


def available_features(dataset) -> list[str]:
    """Registry names that make sense for this dataset (audio needs paths, lyrics ≥ 2 texts, …)."""
    from core.features.extract import available

    return available(dataset)


def default_features(dataset) -> list[str]:
    """The available features that "extract every feature" computes: all but the on-demand ones
    (the pretrained musicnn networks, slow on a CPU; ask for them by name)."""
    from core.features.extract import default_names

    return default_names(dataset)


def extract_all(dataset, *, progress=None, cancel=None, jobs: int | None = None, names=None,
                config: FeatureConfig | None = None, scheduler: str | None = None) -> dict[str, FeatureSet]:
    """Every default feature (or ``names``): one audio pass, then lyrics and tabular (musicnn only by name)."""
    wanted = list(names) if names is not None else default_features(dataset)
    for n in wanted:
        FEATURES.get(n)
    return {n: get_features(dataset, n, progress=progress, cancel=cancel, jobs=jobs, config=config,
                            scheduler=scheduler) for n in wanted}


def feature_config(config: FeatureConfig | None = None) -> dict:
    """Every feature parameter as plain data, with the derived facts (log-mel normalization, shapes)."""
    cfg = config or FeatureConfig()
    from dataclasses import asdict

    return {"spectral": cfg.spectral.describe(), "lyrics": asdict(cfg.lyrics), "tabular": asdict(cfg.tabular),
            "chunk_size": cfg.chunk_size, "features_version": FEATURES_VERSION,
            "shapes": {k: list(v) for k, v in cfg.spectral.shapes().items()}}


# ---------------------------------------------------------------- CLI

def register_cli(sub) -> None:
    p = sub.add_parser("extract", help="compute and cache features of a dataset",
                       description="Compute every feature of a dataset (or --features a,b) into the workspace cache. "
                                   "Interrupted runs resume from the last saved chunk. The pretrained musicnn "
                                   "features (musicnn_mtt, musicnn_msd and their _tags) are computed only when "
                                   "named in --features.")
    p.add_argument("--dataset", required=True, help="dataset name (see the workspace's datasets/)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--features", default="", help=f"comma-separated subset of {FEATURES.names()}")
    p.add_argument("--columns", default="",
                   help="comma-separated numeric columns of the track table for the 'tabular' feature "
                        "(default: every numeric column that is not a core, label or id-like column)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the audio pass on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786), "
                        "or 'local-dask' for a Dask cluster on this machine; default: $SONGSCAPE_SCHEDULER, "
                        "else this machine's process pool. SONGSCAPE_HOME and the audio files must be on a "
                        "filesystem every worker sees at the same path.")
    p.add_argument("--quiet", action="store_true", help="no progress bars; print only the summary and failures")
    p.set_defaults(func=_cli_extract)


def _cli_extract(args) -> int:
    import sys
    import time

    from core.datasets import load_dataset
    from core.errors import ParameterError
    from core.executors import resolve
    from core.progress import console_progress, no_progress

    ds = load_dataset(args.dataset)
    if args.jobs is not None and args.jobs < 1:
        raise ParameterError("--jobs", value=args.jobs, expected="a positive int")
    resolve(args.scheduler)  # a malformed address fails here, before any work
    columns = tuple(c.strip() for c in (args.columns or "").split(",") if c.strip())
    config = FeatureConfig(tabular=TabularConfig(columns=columns)) if columns else None
    names = [n.strip() for n in args.features.split(",") if n.strip()] or default_features(ds)
    for n in names:
        FEATURES.get(n)
    say = (lambda *a, **k: None) if args.quiet else print
    say(f"dataset {ds.name}: {len(ds.tracks)} tracks; features: {', '.join(names)}")
    failed, reported = 0, set()
    for n in names:
        t0 = time.perf_counter()
        kind = FEATURES.get(n).kind
        progress = no_progress if args.quiet else console_progress(f"{kind:7s}")
        fs = get_features(ds, n, progress=progress, jobs=args.jobs, config=config, scheduler=args.scheduler)
        dt = time.perf_counter() - t0
        say(f"  {n:15s} shape {str(fs.shape):12s} valid {fs.n_valid}/{len(fs.valid)}  {dt:6.1f}s")
        failed = max(failed, len(fs.errors))
        if kind in reported:  # warnings and failures are per group (one pass), print them once
            continue
        reported.add(kind)
        info = fs.config.get("info", {}) or {}
        dropped = info.get("dropped") or {}
        if info.get("columns"):
            say(f"    columns used ({len(info['columns'])}): {', '.join(map(str, info['columns']))}")
        for col, why in dropped.items():
            say(f"    left out column {col}: {why}")
        for w in info.get("warnings", []):
            if not (dropped and " left out: " in w):  # said just above
                say(f"    warning: {w}")
        for tid, why in list(fs.errors.items())[:5]:
            print(f"    failed {tid}: {why}", file=sys.stderr)
        if len(fs.errors) > 5:
            print(f"    … and {len(fs.errors) - 5} more failures", file=sys.stderr)
    print(f"done; {failed} track(s) failed" if failed else "done")
    return 0
