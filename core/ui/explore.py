"""Explore page sections: the representation picker (generated from each kind's Param table and roles,
with the β control), the clusterer (data-derived "auto" values), labels to score, the playable and
searchable map, cluster names, selections, tabs and exports.

Representation widgets come from ``core.represent.REPRESENTATIONS``: each parameter's role picks its
widget through ``ROLE_WIDGETS`` (extracted features that fit, trained models, label or track columns,
a nested representation), numbers through ``param_widgets`` with ranges capped by the data
(``core.explore.representation_table`` / ``clusterer_table``). A kind is offered when every one of
its roles has something to offer on this dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import streamlit as st

from core import viz
from core.errors import SongscapeError
from core.explore import (
    UNSUPPORTED_ROLES,
    beta_label,
    beta_members,
    cluster_names,
    clusterer_table,
    contingency,
    feature_dims,
    feature_extracted,
    feature_options,
    k_below_classes,
    model_families,
    model_table,
    nearest_neighbors,
    preset_model_ids,
    representation_table,
    search_mask,
    spec_uses_lyrics,
    top_tag_labels,
    typical_tracks,
)
from core.ui import data, keys
from core.ui.widgets import ProgressReporter, param_widgets, plain, play_track, show_warnings

BETA_CHOICES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
NOT_COLUMNS = ("track_id", "path", "lyrics", "parent_id", "source", "title")  # never a label or one-hot column
HIDDEN_PARAMS = ("random_state",)  # the page's seed is used
PAGE_SIZE = 10  # players per page of a selection
NAMES_KEY = "explore.cluster_names"  # {clustering fingerprint: {cluster: name}}


# ----------------------------------------------------------------------------- what the dataset offers

def trained_models(ds) -> pd.DataFrame:
    """Trained models of this dataset, with ``label`` / ``finished`` / ``preset`` (core.explore.model_table)."""
    try:
        from core.training import list_trained
    except ImportError:
        return model_table(pd.DataFrame())
    df = list_trained(dataset=ds.name)
    return model_table(df if df is not None else pd.DataFrame(), preset_model_ids())


def label_options(ds) -> tuple[list[str], list[str]]:
    """(every column that can be scored as a label, the default ones: language, genre, recorded extras)."""
    from core.schema import label_columns

    t = ds.tracks
    default = label_columns(t)
    return label_columns(t, extra=[c for c in t.columns if c not in NOT_COLUMNS]), default


def label_picker(ds, *, key: str) -> list[str]:
    """Multiselect of the label columns to score (metrics, confusion matrices and colours follow it)."""
    options, default = label_options(ds)
    if not options:
        return []
    return st.multiselect("Labels to score", options, default=[c for c in default if c in options], key=key,
                          help="External metrics (ARI, NMI, purity, accuracy), confusion matrices and colours "
                               "use these columns. Defaults: language, genre and the labels recorded at import.")


@dataclass
class Offer:
    """What this dataset offers the representation widgets."""

    ds: Any
    available: list[str]
    extracted: set[str]
    models: pd.DataFrame
    labels: list[str]
    columns: list[str]
    n: int = field(default=0)


def make_offer(ds) -> Offer:
    available = data.available_features(ds)
    extracted = {f for f in available if feature_extracted(ds, f)}
    labels, _ = label_options(ds)
    cols = [c for c in ds.tracks.columns if c not in NOT_COLUMNS and ds.tracks[c].astype(str).nunique() >= 2
            and ds.tracks[c].dtype == object]
    return Offer(ds, available, extracted, trained_models(ds), labels, cols, len(ds.tracks))


def _feature_label(offer: Offer) -> Callable[[str], str]:
    from core.features import FEATURES

    return lambda f: FEATURES.get(f).label + ("" if f in offer.extracted else " · extracts on first use")


def _feature_widget(offer: Offer, kind: str, name: str, role: str, key: str, depth: int):
    opts = feature_options(offer.available, offer.extracted, kind=kind, role=role)
    return st.selectbox("Lyrics feature" if role == "lyrics_feature" else "Feature", opts, key=f"{key}.{name}",
                        format_func=_feature_label(offer))


def _label_widget(offer: Offer, kind: str, name: str, role: str, key: str, depth: int):
    return st.selectbox("Label appended (a leak, on purpose)", offer.labels, key=f"{key}.{name}")


def _column_widget(offer: Offer, kind: str, name: str, role: str, key: str, depth: int):
    return st.selectbox("Column", offer.columns, key=f"{key}.{name}")


def _spec_widget(offer: Offer, kind: str, name: str, role: str, key: str, depth: int):
    from core.represent import REPRESENTATIONS

    st.markdown(f"*{name.capitalize()} part* of {REPRESENTATIONS.get(kind).label.lower()}")
    return representation_picker(offer, key=f"{key}.{name}", depth=depth + 1, exclude=(kind,))


def _model_widget(offer: Offer, kind: str, name: str, role: str, key: str, depth: int):
    explicit = st.session_state.get(keys.EXPLORE_MODEL)
    finished = offer.models[offer.models["finished"]] if len(offer.models) else offer.models
    if explicit and explicit in set(finished["model_id"]):
        label = finished.loc[finished["model_id"] == explicit, "label"].iloc[0]
        st.caption(f"Model from the Train page: {plain(label)}")
        if not st.button("Choose by family and β instead", key=f"{key}.clear_explicit"):
            return explicit
        st.session_state.pop(keys.EXPLORE_MODEL, None)
    return beta_family(offer, key=f"{key}.{name}")


ROLE_WIDGETS: dict[str, Callable] = {
    "feature": _feature_widget, "audio_feature": _feature_widget, "lyrics_feature": _feature_widget,
    "model": _model_widget, "label": _label_widget, "column": _column_widget, "spec": _spec_widget,
}
ROLE_HAS_OPTIONS: dict[str, Callable[[Offer, str], bool]] = {
    "feature": lambda o, k: bool(feature_options(o.available, o.extracted, kind=k, role="feature")),
    "audio_feature": lambda o, k: bool(feature_options(o.available, o.extracted, kind=k, role="feature")),
    "lyrics_feature": lambda o, k: bool(feature_options(o.available, o.extracted, kind=k, role="lyrics_feature")),
    "model": lambda o, k: bool(len(o.models) and o.models["finished"].any()),
    "label": lambda o, k: bool(o.labels),
    "column": lambda o, k: bool(o.columns),
    "dims": lambda o, k: True,
}


def kind_offered(offer: Offer, kind: str, *, depth: int = 0, exclude=()) -> bool:
    """True when every role of ``kind`` has something to offer (a nested spec: one level deep only)."""
    from core.represent import REPRESENTATIONS

    roles = REPRESENTATIONS.get(kind).roles
    for role in roles.values():
        if role in UNSUPPORTED_ROLES:
            return False
        if role == "spec":
            if depth > 0 or not any(kind_offered(offer, k, depth=1) for k in REPRESENTATIONS.names()
                                    if k not in (kind, *exclude)):
                return False
        elif not ROLE_HAS_OPTIONS[role](offer, kind):
            return False
    return True


def representation_picker(offer: Offer, *, key: str, depth: int = 0, exclude=()) -> dict:
    """Widgets → a representation spec dict {'kind', 'params'} (nested specs as dicts too)."""
    from core.represent import REPRESENTATIONS

    kinds = [k for k in REPRESENTATIONS.names() if k not in exclude and kind_offered(offer, k, depth=depth)]
    if not kinds:
        raise SongscapeError("Nothing to cluster yet: this dataset has no feature that can be extracted.")
    has_models = ROLE_HAS_OPTIONS["model"](offer, "latent") and bool((~offer.models["preset"]).any())
    default = "latent" if has_models and "latent" in kinds and depth == 0 else "pca"
    kind = st.selectbox("Representation" if depth == 0 else "Representation of this part", kinds,
                        index=kinds.index(default) if default in kinds else 0, key=f"{key}.kind",
                        format_func=lambda k: REPRESENTATIONS.get(k).label)
    spec = REPRESENTATIONS.get(kind)
    st.caption(spec.help)
    params: dict = {}
    for name, role in spec.roles.items():
        if role in ROLE_WIDGETS:
            params[name] = ROLE_WIDGETS[role](offer, kind, name, role, f"{key}.{kind}", depth)
    dims = feature_dims(params["feature"]) if isinstance(params.get("feature"), str) and params["feature"] else None
    table = {n: p for n, p in representation_table(kind, n=offer.n, dims=dims).items() if n not in HIDDEN_PARAMS}
    params.update(param_widgets(table, key=f"{key}.{kind}", columns=1))
    return {"kind": kind, "params": params}


def representation_controls(ds, *, key: str = "explore.rep") -> dict:
    """The page's representation picker → spec dict."""
    return representation_picker(make_offer(ds), key=key)


# ----------------------------------------------------------------------------- the β control

def beta_family(offer: Offer, *, key: str) -> str:
    """Pick a model family (architecture + features + latent size), then β among its members.

    ✓ marks finished models; a cancelled one is marked as such and never used as trained. Moving to a
    β without a finished model trains nothing: a "Train β = …" button trains the family's settings
    at that β (with a progress bar); until then the family's first finished model is used.
    """
    from core.explore import train_beta_variant

    models = offer.models
    presets = bool(models["preset"].any())
    show_presets = False
    if presets:
        show_presets = st.toggle("Show models trained by report presets and grids", key=f"{key}.presets",
                                 value=not bool((~models["preset"] & models["finished"]).any()))
    pool = models[models["preset"] == show_presets]
    families = [(lab, rows) for lab, rows in model_families(pool) if rows["finished"].any()]
    if not families:
        st.info("No finished model in this group yet.")
        families = [(lab, rows) for lab, rows in model_families(models) if rows["finished"].any()]
    fi = st.selectbox("Model", range(len(families)), format_func=lambda i: families[i][0], key=f"{key}.family")
    rows = families[fi][1]
    anchor = rows[rows["finished"]].iloc[0]
    members = beta_members(rows)
    choices = sorted(set(BETA_CHOICES) | set(members))
    beta = st.select_slider("β", options=choices, value=round(float(anchor["beta"]), 4), key=f"{key}.beta",
                            format_func=lambda b: beta_label(b, members),
                            help="Models of this family at other β. ✓ = trained; moving to another β offers to "
                                 "train it.")
    got = members.get(round(float(beta), 4))
    if got and got["finished"]:
        return got["model_id"]
    why = "was cancelled before it finished" if got else "is not trained yet"
    st.caption(f"β = {beta:g} {why}: the map shows β = {float(anchor['beta']):g} until it is trained.")
    if st.button(f"Train β = {beta:g}", key=f"{key}.train", type="primary",
                 help="Same model, features and settings as this family (epochs, latent size, input scaling)."):
        st.button("⏹ Cancel training", key=f"{key}.cancel")
        rep = ProgressReporter(f"Training β = {beta:g}", curves=("loss", "recon", "kl"))
        try:
            res = train_beta_variant(str(anchor["model_id"]), beta=float(beta), progress=rep, cancel=rep.cancel)
        except SongscapeError as exc:
            st.error(plain(exc))
            return str(anchor["model_id"])
        rep.done("Cancelled: not kept as a trained β" if getattr(res, "cancelled", False) else None)
        data.forget("models")
        rep.reraise()
        if not getattr(res, "cancelled", False):
            st.rerun()
    return str(anchor["model_id"])


# ----------------------------------------------------------------------------- clusterer

AUTO_WHY = {"eps": "knee of the k-distance curve", "min_samples": "10, at most n − 1",
            "min_cluster_size": "2 % of the tracks, at least 5"}


def _suggested_names(alg: str, X: np.ndarray, fp: str) -> dict:
    from core.cluster import CLUSTERERS

    spec = CLUSTERERS.get(alg)
    if spec.suggest is None or len(X) < 3:
        return {}
    return data.memo(("suggest", fp, alg), lambda: spec.suggest(X, {}))


def clusterer_controls(rep, *, key: str = "explore.alg") -> tuple[str, dict, int]:
    """Algorithm, its parameters (capped by the number of tracks; "auto" = data-derived, shown) and seed.

    Returns (algorithm, resolved params, seed).
    """
    from core.cluster import CLUSTERERS, resolve_auto
    from core.hashing import fingerprint

    X = np.nan_to_num(rep.X[rep.valid])
    n = int(len(X))
    names = CLUSTERERS.names()
    alg = st.selectbox("Algorithm", names, index=names.index("kmeans"), format_func=lambda a: CLUSTERERS.get(a).label,
                       key=f"{key}.name", help=CLUSTERERS.get(st.session_state.get(f"{key}.name", "kmeans")).help)
    pending = st.session_state.pop(f"{key}.pending", None)  # from an "Apply suggested …" button
    if pending and pending.get("algorithm") == alg:
        for name, value in pending["values"].items():
            st.session_state[f"{key}.{alg}.{name}.auto"] = False
            st.session_state[f"{key}.{alg}.{name}"] = value
    table = clusterer_table(alg, n=max(n, 2))
    suggested = _suggested_names(alg, X, rep.fingerprint)
    params: dict[str, Any] = {}
    for name in [p for p in table if p in suggested]:
        if st.toggle(f"{name.replace('_', ' ')}: auto", value=True, key=f"{key}.{alg}.{name}.auto",
                     help=f"Data-derived: {AUTO_WHY.get(name, 'suggested from the data')}."):
            params[name] = "auto"
    manual = {k: p for k, p in table.items() if k not in params}
    params.update(param_widgets(manual, key=f"{key}.{alg}", columns=1,
                                values={k: v for k, v in suggested.items() if k in manual}))
    seed = int(st.number_input("Seed", 0, 10_000, 0, key=f"{key}.seed"))
    resolved = data.memo(("resolve", rep.fingerprint, alg, fingerprint(params)),
                         lambda: resolve_auto(alg, params, X)) if n >= 3 else params
    for name in [k for k, v in params.items() if v == "auto"]:
        st.caption(f"{name.replace('_', ' ')} = **{resolved[name]:.4g}** (auto: {AUTO_WHY.get(name, 'data')})")
    return alg, dict(resolved), seed


# ----------------------------------------------------------------------------- computing

def representation(ds, spec: dict):
    from core.represent import build_representation

    return build_representation(ds, spec)  # cached in core.cache.CACHE (memory + disk)


def clustering_key(rep, alg: str, params: dict, seed: int) -> str:
    from core.hashing import fingerprint

    return fingerprint("explore-clustering", rep.fingerprint, alg, params, int(seed))


def clustering(rep, alg: str, params: dict, seed: int):
    from core.cluster import cluster_rows

    k = ("cluster", clustering_key(rep, alg, params, seed))
    return data.memo(k, lambda: cluster_rows(rep.X, rep.valid, algorithm=alg, params=params, random_state=seed))


def metrics(ds, rep, result, seed: int, label_cols=None):
    from core.metrics import evaluate
    from core.schema import label_columns

    cols_ = label_columns(ds.tracks) if label_cols is None else list(label_cols)
    cols = {c: ds.tracks[c].fillna("").astype(str).values for c in cols_ if c in ds.tracks}
    Xv = np.nan_to_num(rep.X)
    return evaluate(Xv, result, label_columns=cols, uses_labels=rep.uses_labels, sample_size=3000,
                    random_state=seed, meta={"representation": rep.label, "algorithm": result.algorithm})


METRIC_LABELS = {"silhouette": "Silhouette", "calinski_harabasz": "Calinski–Harabasz", "davies_bouldin": "Davies–Bouldin",
                 "n_clusters": "Clusters", "noise_share": "Noise share"}
LANGUAGE_DETECTED = "detected from lyrics"


def metric_row(report, *, ds=None, spec: dict | None = None, models: pd.DataFrame | None = None) -> None:
    vals = report.values
    cols = st.columns(5)
    for col, (k, label) in zip(cols, METRIC_LABELS.items()):
        v = vals.get(k, np.nan)
        col.metric(label, "undefined" if v is None or (isinstance(v, float) and np.isnan(v))
                   else (f"{v:.0%}" if k == "noise_share" else (f"{int(v)}" if k == "n_clusters" else f"{v:.3f}")))
    ext = [c.split("_", 1)[1] for c in vals if c.startswith("ari_")]
    derived = ds is not None and ds.info.get("language_source") == LANGUAGE_DETECTED
    if ext:
        rows = []
        for c in ext:
            note = " (leaked: built from this label)" if c in report.leaked else \
                (" (derived: detected from lyrics)" if derived and c == "language" else "")
            rows.append({"against": c + note,
                         "ARI": vals.get(f"ari_{c}"), "NMI": vals.get(f"nmi_{c}"), "Purity": vals.get(f"purity_{c}"),
                         "Hungarian accuracy": vals.get(f"accuracy_{c}"), "majority share": vals.get(f"majority_share_{c}")})
        st.dataframe(pd.DataFrame(rows).round(4), hide_index=True, width="stretch")
        st.caption("Noise points count as their own cluster in the external metrics; tracks without this "
                   "representation are left out."
                   + (f" Silhouette on a seeded sample of {int(vals['silhouette_sampled'])} tracks."
                                                     if vals.get("silhouette_sampled") else ""))
    if derived and "language" in ext:
        st.caption("The language labels of this dataset were detected from the lyrics: a derived label, not "
                   "ground truth.")
        feats = dict(zip(models["model_id"], models["features"])) if models is not None and len(models) else {}
        if spec and spec_uses_lyrics(spec, feats):
            st.warning("This representation reads the lyrics, and the language labels were detected from those "
                       "same lyrics: the language scores partly measure that circularity.", icon="⚠️")
    show_warnings(report.warnings)


def class_flags(ds, result, label_cols) -> None:
    """Say when there are fewer clusters than classes of a scored label (purity and accuracy are capped)."""
    k = int(result.n_clusters) + (1 if result.n_noise else 0)
    truths = {c: ds.tracks[c].fillna("").astype(str).values for c in label_cols if c in ds.tracks}
    for f in k_below_classes(k, truths):
        st.info(f"{f['clusters']} clusters for {f['classes']} {plain(f['label'])} classes: purity and Hungarian "
                f"accuracy against {plain(f['label'])} can reach at most {f['cap']:.3f} here.", icon="ℹ️")


# ----------------------------------------------------------------------------- cluster names

def cluster_naming(result, fp: str) -> dict[int, str]:
    """Text inputs naming each cluster; names are kept per clustering fingerprint for this session."""
    store = st.session_state.setdefault(NAMES_KEY, {})
    names = dict(store.get(fp, {}))
    ks = sorted(int(k) for k in result.sizes() if k >= 0)
    sizes = result.sizes()
    cols = st.columns(3)
    for i, k in enumerate(ks):
        v = cols[i % 3].text_input(f"cluster {k} ({sizes[k]} tracks)", value=names.get(k, ""), key=f"clname.{fp[:12]}.{k}",
                                   placeholder=f"cluster {k}")
        names[k] = v.strip()
    store[fp] = {k: v for k, v in names.items() if v}
    return store[fp]


def current_names(fp: str) -> dict[int, str]:
    return dict(st.session_state.get(NAMES_KEY, {}).get(fp, {}))


# ----------------------------------------------------------------------------- the map

def spec_model_id(spec: dict) -> str | None:
    """The trained model behind a latent representation (or a nested part), if any."""
    from core.represent import NESTED

    params = spec.get("params", {})
    if params.get("model_id"):
        return params["model_id"]
    for name in NESTED:
        sub = params.get(name)
        if isinstance(sub, dict):
            got = spec_model_id(sub)
            if got:
                return got
    return None


TAGS_FEATURE, TAGS_MODEL = "musicnn_mtt_tags", "MTT_musicnn"


def _top_tag(ds, result, names, model_id):
    from core.features.musicnn import MODELS

    fs = data.features(ds, TAGS_FEATURE)
    return top_tag_labels(fs.X, fs.valid, MODELS.get(TAGS_MODEL).labels), False


def _recon_error(ds, result, names, model_id):
    from core.reconstruct import dataset_recon_error

    return data.memo(("recon_err", model_id, ds.fingerprint), lambda: dataset_recon_error(model_id, ds)), True


COLOR_SOURCES: dict[str, Callable] = {  # name -> (ds, result, names, model_id) -> (values (n,), continuous)
    "cluster": lambda ds, result, names, model_id: (cluster_names(result.labels, names), False),
    "top tag": _top_tag,
    "reconstruction error": _recon_error,
}


def color_options(ds, spec: dict, label_cols=None) -> list[str]:
    from core.schema import label_columns

    cols = label_columns(ds.tracks) if label_cols is None else list(label_cols)
    opts = ["cluster"] + [c for c in cols if c in ds.tracks] + \
        [c for c in ("artist",) if c in ds.tracks and c not in cols and (ds.tracks[c] != "").any()]
    if feature_extracted(ds, TAGS_FEATURE):
        opts.append("top tag")
    if spec_model_id(spec):
        opts.append("reconstruction error")
    return opts


def color_values(ds, result, color_by: str, *, names=None, model_id=None) -> tuple[np.ndarray, bool]:
    if color_by in COLOR_SOURCES:
        return COLOR_SOURCES[color_by](ds, result, names, model_id)
    return ds.tracks[color_by].fillna("").astype(str).replace("", "(none)").values, False


def map_filters(ds, label_cols, *, key: str = "explore.map") -> tuple[str, np.ndarray]:
    """Search box (title / artist) and a label-value filter → (query, (n,) bool mask of tracks shown)."""
    query = st.text_input("Search title / artist", key=f"{key}.search", placeholder="highlights matching tracks")
    shown = np.ones(len(ds.tracks), dtype=bool)
    cols = [c for c in label_cols if c in ds.tracks]
    if cols:
        col = st.selectbox("Filter by", ["(no filter)"] + cols, key=f"{key}.filter")
        if col != "(no filter)":
            values = sorted(ds.tracks[col].fillna("").astype(str).replace("", "(none)").unique())
            keep = st.multiselect(f"Show {col}", values, default=values, key=f"{key}.filter.{col}")
            shown &= ds.tracks[col].fillna("").astype(str).replace("", "(none)").isin(keep).to_numpy()
    return query, shown


def _hover(ds, result, names, label_cols) -> pd.DataFrame:
    t = ds.tracks
    cols = [c for c in ("title", "artist") if c in t] + [c for c in label_cols if c in t and c not in ("title", "artist")]
    return t[cols].fillna("").astype(str).assign(cluster=cluster_names(result.labels, names))


def projection_map(ds, rep, result, *, method: str, color_by: str, seed: int, model_id: str | None = None,
                   names=None, label_cols=(), query: str = "", shown=None) -> dict:
    """Draw the map (while UMAP / t-SNE computes for the first time, the PCA map is shown).

    Returns {"clicked": track row or None, "selected": [track rows]} from a click or a box / lasso.
    """
    from core.project import cached_projection, project

    color, continuous = color_values(ds, result, color_by, names=names, model_id=model_id)
    hover = _hover(ds, result, names, label_cols)
    shown = np.ones(len(ds.tracks), bool) if shown is None else np.asarray(shown, bool)
    hits = search_mask(ds.tracks, query)
    holder = st.empty()
    Y = cached_projection(rep.X, method, random_state=seed, valid=rep.valid)
    if Y is None and method != "pca":
        Yp = project(rep.X, method="pca", random_state=seed, valid=rep.valid)
        ok = np.isfinite(Yp).all(axis=1) & shown
        holder.plotly_chart(viz.scatter_map(Yp[ok], color=np.asarray(color)[ok], hover=hover[ok].reset_index(drop=True),
                                            title=f"PCA map ({method.upper()} computing…)", color_title=color_by,
                                            continuous=continuous), width="stretch", key="map.pca.tmp")
        with st.spinner(f"Computing {method.upper()} (cached afterwards)…"):
            Y = project(rep.X, method=method, random_state=seed, valid=rep.valid)
    elif Y is None:
        Y = project(rep.X, method=method, random_state=seed, valid=rep.valid)
    ok = np.isfinite(Y).all(axis=1) & shown
    rows = np.flatnonzero(ok)
    title = f"{method.upper()} of {rep.label}" + (f" · {int(hits[ok].sum())} match(es) for “{query}”" if query else "")
    fig = viz.scatter_map(Y[ok], color=np.asarray(color)[ok], hover=hover[ok].reset_index(drop=True), title=title,
                          color_title=color_by, continuous=continuous, highlight=hits[ok] if query else None)
    event = holder.plotly_chart(fig, width="stretch", key="map.main", on_select="rerun",
                                selection_mode=("points", "box", "lasso"))
    return picked_rows(event, rows)


def picked_rows(event, rows: np.ndarray) -> dict:
    """A click (one point, no box or lasso) → "clicked"; a box / lasso (or shift-clicks) → "selected"."""
    try:
        sel = event.selection
        points = list(sel.get("points", []) or [])
        area = bool(sel.get("box") or sel.get("lasso"))
    except (AttributeError, KeyError, TypeError):
        return {"clicked": None, "selected": []}
    idx = []
    for p in points:
        try:
            idx.append(int(rows[int(float(p["customdata"][0]))]))
        except (KeyError, TypeError, IndexError, ValueError):
            continue
    idx = list(dict.fromkeys(idx))
    if len(idx) == 1 and not area:
        return {"clicked": idx[0], "selected": []}
    return {"clicked": None, "selected": idx}


def clicked_track(ds, i: int | None, result, names, label_cols) -> None:
    """Player for the clicked point, with its labels and cluster."""
    if i is None:
        st.caption("Click a point to play it; draw a box or lasso to list and export those tracks.")
        return
    row = ds.tracks.iloc[int(i)].to_dict()
    cname = cluster_names(result.labels[[int(i)]], names)[0]
    st.markdown(f"**▶ {plain(row.get('title') or row.get('track_id'))}** — {plain(row.get('artist', ''))}")
    bits = [f"cluster: {plain(cname)}"] + [f"{plain(c)}: {plain(row.get(c) or '—')}" for c in label_cols if c in row]
    st.caption(" · ".join(bits))
    play_track(row, caption=False, key=f"map.play.{row.get('track_id')}")


def selected_tracks(ds, idx: list[int], result, names, label_cols) -> None:
    """The box / lasso selection: table, CSV and M3U downloads, paged players."""
    from core.explore import m3u_playlist
    from core.export import csv_text

    if not idx:
        return
    sub = ds.tracks.iloc[idx].assign(cluster=result.labels[idx], cluster_name=cluster_names(result.labels[idx], names))
    st.markdown(f"**{len(idx)} selected track(s)**")
    show = [c for c in ("title", "artist", *label_cols, "cluster_name") if c in sub]
    st.dataframe(sub[list(dict.fromkeys(show))], hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    out = [c for c in ("track_id", "title", "artist", *label_cols, "path", "offset_s", "duration_s", "cluster",
                       "cluster_name") if c in sub]
    c1.download_button("⬇️ Selection as CSV", csv_text(sub[list(dict.fromkeys(out))]), file_name="selection.csv",
                       mime="text/csv", key="sel.csv")
    c2.download_button("⬇️ Selection as M3U playlist", m3u_playlist(sub), file_name="selection.m3u",
                       mime="audio/x-mpegurl", key="sel.m3u", disabled=not sub["path"].astype(str).str.len().any()
                       if "path" in sub else True)
    pages = max(1, -(-len(idx) // PAGE_SIZE))
    page = int(st.number_input(f"Players, page (of {pages})", 1, pages, 1, key="sel.page")) if pages > 1 else 1
    for _, row in sub.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].iterrows():
        play_track(row.to_dict(), key=f"sel.play.{row.get('track_id')}")


# ----------------------------------------------------------------------------- tabs

def confusion_tab(ds, result, label_cols, names=None) -> None:
    cols = [c for c in label_cols if c in ds.tracks]
    if not cols:
        st.info("No label chosen to score, so there is nothing to compare clusters with.")
        return
    norm = st.toggle("Row-normalized", value=False, key="confusion.norm")
    for c in cols:
        t = contingency(result.labels, ds.tracks[c].fillna("").astype(str).values, normalize=norm, names=names)
        st.plotly_chart(viz.count_heatmap(t, title=f"Cluster × {c}", x_title=c, y_title="cluster", normalized=norm),
                        width="stretch", key=f"confusion.{c}")


def listen_tab(ds, rep, result, seed: int, names=None) -> None:
    X = np.nan_to_num(rep.X)
    lists = typical_tracks(X, result.labels, n_typical=3, n_random=2, random_state=seed)
    if not lists:
        st.info("No clusters to listen to (everything is noise or missing).")
        return
    label = dict(zip(lists, cluster_names(np.array(list(lists)), names)))
    c = st.selectbox("Cluster", list(lists), format_func=lambda k: f"{label[k]} ({int((result.labels == k).sum())} tracks)",
                     key="listen.cluster")
    left, right = st.columns(2)
    with left:
        st.markdown("**Most typical** (closest to the centre)")
        for i in lists[c]["typical"]:
            play_track(ds.tracks.iloc[i].to_dict())
    with right:
        st.markdown("**A few others, at random**")
        for i in lists[c]["random"]:
            play_track(ds.tracks.iloc[i].to_dict())


def similar_tab(ds, rep) -> None:
    valid_idx = np.flatnonzero(rep.valid)
    if not len(valid_idx):
        st.info("No track has this representation.")
        return
    t = ds.tracks
    i = st.selectbox("Track", valid_idx.tolist(), key="similar.track",
                     format_func=lambda j: f"{t['title'].iloc[j] or t['track_id'].iloc[j]} — {t['artist'].iloc[j]}")
    st.markdown("**Query**")
    play_track(t.iloc[i].to_dict())
    st.markdown("**Nearest neighbours** in this representation")
    for j, d in nearest_neighbors(rep.X, rep.valid, i, k=5):
        st.caption(f"distance {d:.3f}")
        play_track(t.iloc[j].to_dict())


def _apply(alg: str, values: dict, *, key: str = "explore.alg") -> None:
    st.session_state[f"{key}.pending"] = {"algorithm": alg, "values": values}
    st.rerun()


def choose_k_tab(rep, alg: str, params: dict, seed: int) -> None:
    """k-selection curves (k-methods) or the k-distance plot (DBSCAN / HDBSCAN), each with an Apply button."""
    from core.cluster import CLUSTERERS
    from core.metrics import k_distance, k_selection, suggest_eps, suggest_k

    X = np.nan_to_num(rep.X[rep.valid])
    spec = CLUSTERERS.get(alg)
    if len(X) < 4:
        st.info("Too few tracks to draw selection curves.")
        return
    if spec.k_param:
        kmax = st.slider("Largest k to try", 3, max(4, min(20, len(X) - 1)), min(12, max(3, len(X) - 1)),
                         key="choosek.kmax")
        if st.button("Compute k-selection curves", key="choosek.go"):
            st.session_state["choosek.on"] = True
        if st.session_state.get("choosek.on"):
            df = data.memo(("ksel", rep.fingerprint, alg, kmax, seed),
                           lambda: k_selection(X, k_range=range(2, min(kmax, len(X) - 1) + 1), algorithm=alg,
                                               random_state=seed, sample_size=3000))
            if not len(df):
                st.info("No k to try for this many tracks.")
                return
            best = suggest_k(df)
            st.plotly_chart(viz.metric_curves(df, x="k", metrics=["silhouette", "calinski_harabasz", "davies_bouldin"],
                                              marked=best, title=f"Choosing k — suggested k = {best} (highest Silhouette)"),
                            width="stretch")
            if st.button(f"Apply suggested k = {best}", key="choosek.apply"):
                _apply(alg, {spec.k_param: int(best)})
    else:
        ms = params.get("min_samples") or params.get("min_cluster_size") or 10
        ms = int(min(max(2, int(ms)), len(X)))
        dist = data.memo(("kdist", rep.fingerprint, ms), lambda: k_distance(X, k=ms))
        eps = suggest_eps(dist)
        st.plotly_chart(viz.k_distance(dist, eps=eps, k=ms), width="stretch")
        if "eps" in spec.params and st.button(f"Apply suggested eps ≈ {eps:.4g}", key="choosek.apply_eps"):
            _apply(alg, {"eps": float(eps)})


def cache_debug() -> None:
    """core.cache.CACHE.stats(): hits and misses per namespace, bytes held against the bound."""
    from core.cache import CACHE

    s = CACHE.stats()
    with st.expander("🔧 Cache (debug)"):
        st.caption(f"{s['entries']} entries in memory · {s['bytes'] / 2**20:.1f} MiB held of "
                   f"{s['max_bytes'] / 2**20:.0f} MiB bound")
        ns = pd.DataFrame.from_dict(s["namespaces"], orient="index").rename_axis("namespace").reset_index()
        st.dataframe(ns, hide_index=True, width="stretch")


def export_tab(ds, rep, report, result, *, method: str, seed: int, names, label_cols) -> None:
    from core import export
    from core.explore import long_metric_table
    from core.ui.widgets import download_buttons

    table = report.to_frame()
    st.dataframe(table, hide_index=True)
    long = long_metric_table(report.values)
    meta = "".join(f"% {k}: {v}\n" for k, v in report.meta.items())
    cols = [c for c in ("track_id", "title", "artist", *label_cols) if c in ds.tracks]
    assign = ds.tracks[list(dict.fromkeys(cols))].assign(cluster=result.labels,
                                                         cluster_name=cluster_names(result.labels, names))
    download_buttons({"metrics.csv": (export.to_csv(table, report.warnings), "text/csv"),
                      "metrics.md": (export.to_markdown(table, report.warnings), "text/markdown"),
                      "metrics.tex": (meta + export.to_latex(long, report.warnings), "text/x-tex"),
                      "assignments.csv": (export.csv_text(assign), "text/csv")}, key="export.tables")
    with st.expander("LaTeX (metric × value)"):
        st.code(meta + export.to_latex(long, report.warnings), language="latex")
    st.caption("Figures: use the camera icon on any chart for a PNG; interactive HTML below.")
    figure_html_downloads(ds, rep, result, method=method, seed=seed, names=names)


def figure_html_downloads(ds, rep, result, *, method: str, seed: int, names=None) -> None:
    """Interactive HTML of the current map."""
    from core.project import cached_projection

    Y = cached_projection(rep.X, method, random_state=seed, valid=rep.valid)
    if Y is None:
        return
    ok = np.isfinite(Y).all(axis=1)
    hover = ds.tracks[[c for c in ("title", "artist", "language", "genre") if c in ds.tracks]][ok].reset_index(drop=True)
    fig = viz.scatter_map(Y[ok], color=cluster_names(result.labels, names)[ok], hover=hover,
                          title=f"{method.upper()} of {rep.label}")
    st.download_button("map.html", data=fig.to_html(include_plotlyjs=True, full_html=True), file_name="map.html",
                       mime="text/html", key="export.map.html")
