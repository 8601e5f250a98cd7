"""Helpers behind the Explore and Compare pages (no streamlit): what the widgets offer and what the
map, the tables and the exports show.

* cluster names (``cluster_names`` with the user's names), contingency tables, typical tracks per
  cluster, nearest neighbours;
* what a representation parameter may take on this dataset (``ROLE_OPTIONS`` by the parameter's role
  in ``core.represent``, ``int_bounds`` for ranges that depend on the data: PCA components ≤
  min(n − 1, dims), k ≤ n − 1);
* trained models as the page lists them (``model_table``: the user's name, finished / cancelled,
  trained by a report preset or grid or not; ``beta_members``);
* the map's search, filters, playlists (``search_mask``, ``m3u_playlist``) and musicnn's top tag;
* honest scores: ``k_below_classes`` (purity and accuracy capped when k < classes),
  ``spec_uses_lyrics``, ``long_metric_table``, ``mean_pm`` ("0.657 ± 0.005").
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.cluster import MISSING as MISSING_LABEL
from core.cluster import NOISE as NOISE_LABEL


def cluster_names(labels: np.ndarray, names: Mapping[int, str] | None = None) -> np.ndarray:
    """Readable names: 'noise' for −1, 'no data' for −2, else the user's name for k or 'cluster k'.

    labels: (n,) int; names: {k: name} (blank names are ignored). → (n,) str (object array).
    """
    labels = np.asarray(labels)
    names = {int(k): str(v).strip() for k, v in (names or {}).items() if str(v).strip()}
    lut = {int(v): names.get(int(v), f"cluster {int(v)}") for v in np.unique(labels)}
    lut[NOISE_LABEL], lut[MISSING_LABEL] = "noise", "no data"
    return np.array([lut[int(v)] for v in labels], dtype=object)


def contingency(labels: np.ndarray, truth: np.ndarray, *, normalize: bool = False,
                names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Clusters (rows, in label order, noise last) × label values (columns); row-normalized when ``normalize``.

    Tracks with no data (label −2) and empty truth labels are left out; noise is its own row. Rows are
    named by ``cluster_names(labels, names)``.
    """
    labels, truth = np.asarray(labels), np.asarray(truth).astype(str)
    keep = (labels != MISSING_LABEL) & (truth != "")
    table = pd.crosstab(pd.Series(labels[keep], name="cluster"), pd.Series(truth[keep], name="label"))
    table = table.loc[sorted(table.index, key=lambda v: (v == NOISE_LABEL, v))]
    table.index = pd.Index(cluster_names(np.asarray(table.index), names), name="cluster")
    if normalize:
        table = table.div(table.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    return table


def typical_tracks(X: np.ndarray, labels: np.ndarray, *, n_typical: int = 5, n_random: int = 3,
                   random_state: int = 0) -> dict[int, dict[str, list[int]]]:
    """Per cluster: indices of the ``n_typical`` rows closest to its centroid, and ``n_random`` others.

    X: (n, d); labels: (n,) with −1 noise and −2 missing, which get no playlist.
    """
    rng = np.random.default_rng(random_state)
    out: dict[int, dict[str, list[int]]] = {}
    for c in sorted(set(np.asarray(labels).tolist()) - {NOISE_LABEL, MISSING_LABEL}):
        idx = np.flatnonzero(labels == c)
        center = X[idx].mean(axis=0)
        d = np.linalg.norm(X[idx] - center, axis=1)
        typical = idx[np.argsort(d, kind="stable")[:n_typical]]
        rest = np.setdiff1d(idx, typical)
        rand = rng.choice(rest, size=min(n_random, len(rest)), replace=False) if len(rest) else np.array([], int)
        out[int(c)] = {"typical": typical.tolist(), "random": sorted(rand.tolist())}
    return out


def nearest_neighbors(X: np.ndarray, valid: np.ndarray, index: int, *, k: int = 5) -> list[tuple[int, float]]:
    """The ``k`` valid rows nearest (Euclidean) to row ``index``, excluding itself: [(row, distance)]."""
    valid = np.asarray(valid, bool)
    if not valid[index]:
        return []
    cand = np.flatnonzero(valid)
    cand = cand[cand != index]
    d = np.linalg.norm(X[cand] - X[index], axis=1)
    order = np.argsort(d, kind="stable")[:k]
    return [(int(cand[i]), float(d[i])) for i in order]


# ----------------------------------------------------------------------------- what a parameter may take

FEATURE_FITS: dict[str, Callable[[Any], bool]] = {
    # representation kind -> which FEATURES specs its "feature" parameter accepts (default: any non-lyrics one)
    "time_mean": lambda spec: len(spec.shape) >= 2,
}
UNSUPPORTED_ROLES = ("specs", "weights")  # concat's list of parts: built in code or the CLI, not offered as widgets


def _default_fit(spec) -> bool:
    return spec.kind != "lyrics"


def feature_extracted(ds, name: str) -> bool:
    """True when ``name`` is already extracted for ``ds`` (on disk), without extracting anything."""
    from core import artifacts
    from core.features import FEATURES, FeatureConfig
    from core.features.extract import GROUPS, group_dir

    try:
        group = GROUPS.get(FEATURES.get(name).kind)
        return bool(artifacts.is_complete(group_dir(ds, group.fingerprint(ds, FeatureConfig()))))
    except Exception:  # noqa: BLE001 - an unavailable group simply is not extracted
        return False


def feature_dims(name: str) -> int | None:
    """Flattened dimension count of a feature, None when it depends on the data (tabular columns)."""
    from core.features import FEATURES

    shape = FEATURES.get(name).shape
    return None if any(int(s) < 0 for s in shape) else int(np.prod(shape))


def feature_options(available: Sequence[str], extracted: Iterable[str], *, kind: str, role: str) -> list[str]:
    """Features that fit the parameter: the extracted ones first, then the others that extract quickly.

    role "lyrics_feature" takes lyrics features; "feature" the others (``FEATURE_FITS`` narrows it per
    kind). On-demand features (pretrained networks, slow on a CPU) are offered only once extracted.
    """
    from core.features import FEATURES

    done = set(extracted)
    fits = (lambda spec: spec.kind == "lyrics") if role == "lyrics_feature" else FEATURE_FITS.get(kind, _default_fit)
    ok = [f for f in available if fits(FEATURES.get(f)) and (f in done or not FEATURES.get(f).on_demand)]
    return sorted(ok, key=lambda f: (f not in done, list(available).index(f)))


def bounded(param, cap: int | None):
    """``param`` (an int Param) with its upper bound and default lowered to ``cap`` (None: unchanged).

    When the cap leaves a single value, the Param becomes a one-choice "choice" (a slider needs a range).
    """
    from dataclasses import replace

    if cap is None or param.kind != "int":
        return param
    low = int(param.low) if param.low is not None else 0
    high = min(int(param.high), int(cap)) if param.high is not None else int(cap)
    high = max(high, low)
    if high == low:
        return replace(param, kind="choice", default=low, choices=(low,))
    return replace(param, high=high, default=min(max(int(param.default), low), high))


DATA_BOUNDS: dict[tuple[str, str], Callable[[int, int | None], int | None]] = {
    # (representation kind, parameter) -> cap from (n tracks, feature dims or None)
    ("pca", "n_components"): lambda n, d: max(1, min(n - 1, d if d else n - 1)),
    ("metadata_text", "n_components"): lambda n, d: max(1, n - 1),
    ("umap", "n_components"): lambda n, d: max(2, n - 2),
    ("umap", "n_neighbors"): lambda n, d: max(2, n - 1),
}


def representation_table(kind: str, *, n: int, dims: int | None = None) -> dict:
    """The kind's Param table with data-derived caps (``DATA_BOUNDS``), without its role parameters."""
    from core.represent import REPRESENTATIONS

    k = REPRESENTATIONS.get(kind)
    out = {}
    for name, p in k.params.items():
        if name in k.roles and k.roles[name] not in ("dims",):
            continue
        cap = DATA_BOUNDS.get((kind, name))
        out[name] = bounded(p, cap(n, dims) if cap else None)
    return out


def clusterer_table(algorithm: str, *, n: int) -> dict:
    """The clusterer's Param table (without random_state) capped for ``n`` points: k ≤ n − 1, and every
    parameter that may not exceed the number of points (``n_bounded``) ≤ n − 1."""
    from core.cluster import CLUSTERERS

    spec = CLUSTERERS.get(algorithm)
    return {name: bounded(p, n - 1 if (name == spec.k_param or name in spec.n_bounded) else None)
            for name, p in spec.params.items() if name != "random_state"}


def auto_params(algorithm: str) -> tuple[str, ...]:
    """The parameters a clusterer can take as "auto" (what its ``suggest`` fills), asked on a small probe."""
    from core.cluster import CLUSTERERS

    spec = CLUSTERERS.get(algorithm)
    if spec.suggest is None:
        return ()
    probe = np.random.default_rng(0).normal(size=(12, 2))
    return tuple(k for k in spec.suggest(probe, {}) if k in spec.params)


# ----------------------------------------------------------------------------- trained models

def _preset_models_file():
    from core.config import workspace

    return workspace() / "explore" / "preset_models.json"


def record_preset_models(model_ids: Iterable[str]) -> None:
    """Remember models a Compare grid or report preset trained, so Explore lists them apart."""
    from core import artifacts

    ids = {str(m) for mid in model_ids for m in str(mid or "").split(",") if m}
    if not ids:
        return
    known = preset_model_ids()
    if ids <= known:
        return
    artifacts.write_json(_preset_models_file(), sorted(known | ids))


def preset_model_ids() -> set[str]:
    """Ids of the models recorded by ``record_preset_models`` (empty when none)."""
    from core import artifacts

    path = _preset_models_file()
    try:
        return {str(x) for x in artifacts.read_json(path)} if path.exists() else set()
    except Exception:  # noqa: BLE001 - a damaged list only regroups models
        return set()


def model_table(models: pd.DataFrame, preset_ids: Iterable[str] = ()) -> pd.DataFrame:
    """``core.training.list_trained`` rows plus ``label`` (the user's name, else the id), ``finished`` (not
    cancelled) and ``preset`` (in ``preset_ids``: trained by a Compare grid or report preset)."""
    if models is None or not len(models):
        return pd.DataFrame(columns=["model_id", "label", "finished", "preset", "model", "features", "latent_dim",
                                     "beta", "status", "name", "notes"])
    m = models.copy()
    name = m["name"].fillna("").astype(str) if "name" in m else pd.Series("", index=m.index)
    m["label"] = np.where(name.str.strip() != "", name, m["model_id"].astype(str))
    status = m["status"].astype(str) if "status" in m else pd.Series("finished", index=m.index)
    cancelled = m["cancelled"].fillna(False).astype(bool) if "cancelled" in m else pd.Series(False, index=m.index)
    m["finished"] = (status != "cancelled") & ~cancelled
    m["preset"] = m["model_id"].astype(str).isin(set(preset_ids))
    return m


FAMILY_COLUMNS = ("model", "features", "latent_dim")


def _family_label(rows: pd.DataFrame) -> str:
    import re

    named = [str(n) for n in rows.get("name", pd.Series(dtype=str)).fillna("") if str(n).strip()]
    if named:
        return re.sub(r" · β=[^ ]+$", "", named[0])
    r = rows.iloc[0]
    return " · ".join(str(r[c]) for c in FAMILY_COLUMNS if c in rows)


def model_families(models: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """[(label, member rows)]: models of the same architecture, features and latent size, any β.

    The label is the user's name (without the " · β=…" of a variant) or "model · features · latent"."""
    if not len(models):
        return []
    cols = [c for c in FAMILY_COLUMNS if c in models.columns]
    out = []
    for _, g in models.groupby([models[c].astype(str) for c in cols], sort=False):
        out.append((_family_label(g), g))
    return out


def beta_members(rows: pd.DataFrame) -> dict[float, dict]:
    """{β (rounded to 4 places): {"model_id", "finished"}} of one family; a finished model wins over a
    cancelled one at the same β."""
    out: dict[float, dict] = {}
    for _, r in rows.iterrows():
        if r.get("beta") is None or (isinstance(r.get("beta"), float) and math.isnan(r.get("beta"))):
            continue
        b = round(float(r["beta"]), 4)
        fin = bool(r.get("finished", True))
        if b not in out or (fin and not out[b]["finished"]):
            out[b] = {"model_id": str(r["model_id"]), "finished": fin}
    return out


def beta_label(beta: float, members: Mapping[float, dict]) -> str:
    """'2 ✓' for a finished model, '2 (cancelled)' for a cancelled one, '2' for a β not trained yet."""
    got = members.get(round(float(beta), 4))
    if got is None:
        return f"{beta:g}"
    return f"{beta:g} ✓" if got["finished"] else f"{beta:g} (cancelled)"


# ----------------------------------------------------------------------------- the map

def search_mask(tracks: pd.DataFrame, query: str, *, columns: Sequence[str] = ("title", "artist")) -> np.ndarray:
    """(n,) bool: tracks whose title or artist contains ``query`` (case-insensitive, plain text)."""
    q = str(query or "").strip().lower()
    mask = np.zeros(len(tracks), dtype=bool)
    if not q:
        return mask
    for c in columns:
        if c in tracks.columns:
            mask |= tracks[c].fillna("").astype(str).str.lower().str.contains(q, regex=False).to_numpy()
    return mask


def m3u_playlist(tracks: pd.DataFrame) -> str:
    """An extended M3U playlist of the rows' audio files: ``#EXTINF:<seconds>,<artist> - <title>`` then the path.

    Rows without a path (tabular data) are left out; a segment plays its whole file (M3U has no offsets).
    """
    lines = ["#EXTM3U"]
    for _, r in tracks.iterrows():
        path = str(r.get("path", "") or "")
        if not path:
            continue
        dur = r.get("duration_s")
        secs = int(round(float(dur))) if dur is not None and str(dur) != "" and np.isfinite(float(dur)) else -1
        title = " ".join(str(r.get("title", "") or "").split())
        artist = " ".join(str(r.get("artist", "") or "").split())
        lines.append(f"#EXTINF:{secs},{artist + ' - ' if artist else ''}{title or path}")
        lines.append(path)
    return "\n".join(lines) + "\n"


def top_tag_labels(probs: np.ndarray, valid: np.ndarray, tags: Sequence[str]) -> np.ndarray:
    """(n,) the most likely tag of each row of ``probs`` (n, n_tags); '(none)' where not valid."""
    probs = np.asarray(probs, dtype=float).reshape(len(probs), -1)
    out = np.array([tags[i] for i in np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1)], dtype=object)
    out[~np.asarray(valid, bool)] = "(none)"
    return out


# ----------------------------------------------------------------------------- honest scores

def assignments_frame(tracks: pd.DataFrame, labels: np.ndarray, *, names: Mapping[int, str] | None = None,
                      label_cols: Sequence[str] = ()) -> pd.DataFrame:
    """The assignments export: track_id, title, artist, the scored labels, cluster (-1 noise, -2 no data)
    and cluster_name (the user's names, else "cluster k")."""
    cols = [c for c in ("track_id", "title", "artist", *label_cols) if c in tracks]
    return tracks[list(dict.fromkeys(cols))].assign(cluster=np.asarray(labels), cluster_name=cluster_names(labels, names))


def k_below_classes(n_clusters: int, truths: Mapping[str, np.ndarray]) -> list[dict]:
    """Label columns with more classes than clusters: purity and Hungarian accuracy cannot reach 1.

    Returns [{"label", "classes", "clusters", "cap"}] where ``cap`` is the highest purity / accuracy any
    clustering into ``n_clusters`` groups can reach: the share of the ``n_clusters`` largest classes.
    """
    out = []
    k = int(n_clusters)
    for col, truth in truths.items():
        t = pd.Series(np.asarray(truth, dtype=object)).fillna("").astype(str)
        t = t[t.str.strip() != ""]
        counts = t.value_counts().to_numpy()
        if k >= 1 and len(counts) > k:
            out.append({"label": col, "classes": int(len(counts)), "clusters": k,
                        "cap": float(counts[:k].sum() / counts.sum())})
    return out


def spec_uses_lyrics(spec: Mapping, model_features: Mapping[str, str] | None = None) -> bool:
    """True when the representation (or a nested part, or a trained model's inputs) reads the lyrics."""
    from core.represent import NESTED, REPRESENTATIONS

    kind = REPRESENTATIONS.get(spec.get("kind"))
    params = dict(spec.get("params") or {})
    for name, role in kind.roles.items():
        if role == "lyrics_feature":
            return True
        if role == "feature" and "lyrics" in str(params.get(name, "")):
            return True
        if role == "model" and "lyrics" in str((model_features or {}).get(str(params.get(name)), "")):
            return True
    for name in NESTED:
        sub = params.get(name)
        for s in (sub if isinstance(sub, (list, tuple)) else [sub] if sub else []):
            if isinstance(s, Mapping) and spec_uses_lyrics(s, model_features):
                return True
    return False


def long_metric_table(values: Mapping[str, Any]) -> pd.DataFrame:
    """One run's numbers as a long table: columns ``metric`` and ``value`` (float), one row per metric."""
    rows = [{"metric": k, "value": float(v)} for k, v in values.items()
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)]
    return pd.DataFrame(rows, columns=["metric", "value"])


def mean_pm(mean, std, n_seeds: int, *, digits: int = 3) -> str:
    """'0.657 ± 0.005' (± only with at least 2 seeds); '—' when the mean is undefined."""
    try:
        m = float(mean)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(m):
        return "—"
    try:
        s = float(std)
    except (TypeError, ValueError):
        s = float("nan")
    return f"{m:.{digits}f}" + (f" ± {s:.{digits}f}" if int(n_seeds) >= 2 and not math.isnan(s) else "")


def train_beta_variant(model_id: str, *, beta: float, progress=None, cancel=None):
    """Train the same model, features and settings as ``model_id`` with another β (the live β control).

    The variant keeps the input scaling of the original and, when the original has a name, is named
    "<name> · β=<beta>". Returns the TrainResult (instant when that β was trained before).
    """
    from core.training import TrainConfig, load_trained, train_on_dataset

    cfg = load_trained(model_id).config
    meta = cfg.get("meta", {})
    tc = TrainConfig.from_dict({**cfg.get("train_config", {}), "beta": float(beta)})
    params = {k: v for k, v in cfg.get("model_params", {}).items() if k != "n_classes"}
    name = f"{meta['name']} · β={float(beta):g}" if meta.get("name") else None
    return train_on_dataset(dataset=meta["dataset"], model=cfg["model"], features=meta.get("features"),
                            model_params=params, config=tc, cond_column=meta.get("cond_column"), name=name,
                            progress=progress, cancel=cancel)
