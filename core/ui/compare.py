"""Compare page sections: report presets, custom grids, β sweeps — readable tables, charts, exports.

Cells read "0.657 ± 0.005" (± only with two seeds or more); a row with warnings carries ⚠ and its full
text is one click away; charts are horizontal bars, top N, grouped by algorithm. A run can be cancelled
: the finished cells are kept, and being cached they are not recomputed when the run is started again.
The custom-grid form is generated from the representation kinds' and clusterers' parameter tables:
each number takes a comma-separated list of values, each role (feature, trained model, label) a multiselect.
"""

from __future__ import annotations

import io
import itertools
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core import viz
from core.errors import SongscapeError
from core.explore import auto_params, clusterer_table, feature_options, mean_pm, record_preset_models, representation_table
from core.ui.widgets import ProgressReporter, plain

WARN = "⚠"
TOP_N = 15


def _zip_of(paths) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in paths:
            z.write(p, arcname=Path(p).name)
    return buf.getvalue()


def _exports(result, *, key: str, preset=None) -> None:
    from core.experiments import export_grid
    from core.presets import export_preset

    with tempfile.TemporaryDirectory() as tmp:
        paths = export_preset(preset, tmp) if preset is not None else export_grid(result, tmp)
        blobs = {Path(p).name: Path(p).read_bytes() for p in paths}
        bundle = _zip_of(paths)
    st.download_button("All tables (CSV, Markdown, LaTeX, JSON) as .zip", bundle, file_name=f"{key}.zip",
                       icon=":material/download:", mime="application/zip", key=f"{key}.zip")
    tex = [n for n in blobs if n.endswith(".tex")]
    if tex:
        with st.expander("LaTeX"):
            st.code(blobs[tex[0]].decode(), language="latex")


def run_with_progress(label: str, fn, *, store_key: str, tag) -> None:
    """Run ``fn(progress=, cancel=)`` with a progress bar and a Cancel button; the result (finished
    cells only when cancelled) is kept in ``st.session_state[store_key] = (tag, result)`` before the
    click that interrupted the run reruns the page."""
    st.button("Cancel (finished cells are kept)", key=f"{store_key}.cancel", icon=":material/stop_circle:")
    rep = ProgressReporter(label)
    try:
        out = fn(progress=rep, cancel=rep.cancel)
    except SongscapeError as exc:
        st.error(plain(exc))
        return
    st.session_state[store_key] = (tag, out)
    grid = getattr(out, "grid", out)
    if hasattr(grid, "table") and "model_id" in grid.table:
        record_preset_models(grid.table["model_id"].tolist())
    rep.done("Cancelled: the finished cells are kept" if getattr(out, "cancelled", False) else None)
    rep.reraise()


def readable_summary(summary: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """One row per cell: ⚠ (warnings), representation, algorithm, params, seeds, then "mean ± std" per metric."""
    out = pd.DataFrame({
        WARN: [WARN if str(w).strip() else "" for w in summary.get("warnings", pd.Series([""] * len(summary)))],
        "representation": summary["representation"], "algorithm": summary["algorithm"],
        "params": summary["params"].astype(str), "seeds": summary["n_seeds"]})
    for m in metrics:
        out[m] = [mean_pm(a, b, n) for a, b, n in zip(summary[f"{m}_mean"], summary[f"{m}_std"], summary["n_seeds"])]
    return out.reset_index(drop=True)


def warnings_expander(labels: list[str], warnings: list[str], *, key: str) -> None:
    rows = [(lab, w) for lab, w in zip(labels, warnings) if str(w).strip()]
    if not rows:
        return
    st.caption(f"{WARN} = the row has warnings (degenerate clusters, undefined scores, leaks…): full text below.")
    with st.expander(f"{WARN} Warnings in full ({len(rows)} row(s))"):
        for lab, w in rows:
            st.markdown(f"**{plain(lab)}**")
            for part in [p.strip() for p in str(w).split(";") if p.strip()]:
                st.caption(plain(part))


def summary_view(result, *, key: str) -> None:
    if result.cancelled:
        st.warning("The run was cancelled: the table holds the cells finished so far. Run it again to resume "
                   "(finished cells are cached).")
    s = result.summary.copy()
    metrics = [m for m in result.metric_columns if f"{m}_mean" in s and m != "seconds"]
    shown = st.multiselect("Metrics shown", metrics, default=[m for m in metrics if not m.startswith("majority")][:8],
                           key=f"{key}.shown")
    st.markdown("**Mean ± std over seeds** (± only with two seeds or more)")
    st.dataframe(readable_summary(s, shown), hide_index=True, width="stretch")
    labels = (s["representation"] + " · " + s["algorithm"] + " " + s["params"].astype(str)).tolist()
    warnings_expander(labels, s["warnings"].fillna("").tolist(), key=key)
    s["label"] = s["representation"] + " · " + s["params"].astype(str)
    c1, c2 = st.columns([2, 1])
    m = c1.selectbox("Chart metric", metrics, key=f"{key}.metric")
    top = int(c2.number_input("Top N", 1, max(1, len(s)), min(TOP_N, max(1, len(s))), key=f"{key}.top"))
    st.plotly_chart(viz.metric_bars(s, metric=f"{m}_mean", err_col=f"{m}_std", group_col="algorithm", top_n=top,
                                    lower_is_better=m.startswith("davies"),
                                    title=f"{m} (mean ± std over seeds), top {top}"),
                    width="stretch", key=f"{key}.bars")
    with st.expander("Every run (one row per seed)"):
        st.dataframe(result.table, hide_index=True, width="stretch")


# ----------------------------------------------------------------------------- report presets

def preset_table_view(t, *, published: bool) -> pd.DataFrame:
    """A report table: text columns, '<metric>' as "mean ± std" (and '<metric> (published)'), then ⚠."""
    out = t.measured[list(t.row_header)].copy()
    n = list(t.n_seeds) if len(getattr(t, "n_seeds", []) or []) == len(out) else [2] * len(out)
    for h in t.metric_headers:
        out[h] = [mean_pm(a, b, k) for a, b, k in zip(t.measured[h], t.std[h], n)]
        if published and t.published is not None:
            out[f"{h} (published)"] = [mean_pm(v, None, 1) for v in t.published[h].to_numpy()]
    out.insert(0, WARN, [WARN if str(w).strip() else "" for w in t.warnings])
    return out


def presets_tab(ds) -> None:
    from core.presets import PRESETS, run_preset

    pid = st.selectbox("Report", PRESETS.names(), key="cmp.preset",
                       format_func=lambda p: f"{p} — {PRESETS.get(p).title}")
    pre = PRESETS.get(pid)
    st.caption(pre.description)
    c1, c2 = st.columns(2)
    epochs = c1.number_input("Epochs per model (0 = as the report did)", 0, 1000, 5, key="cmp.epochs",
                             help="Reports trained for 10–400 epochs; a few are enough for a first look on the demo corpus.")
    seeds = c2.multiselect("Seeds", list(range(10)), default=[0, 1, 2], key="cmp.seeds")
    if st.button("Run preset", type="primary", key="cmp.run"):
        run_with_progress(f"Running {pid}", lambda progress, cancel: run_preset(
            ds, pid, epochs=int(epochs) or None, seeds=tuple(seeds) or (0,), progress=progress, cancel=cancel),
            store_key="cmp.preset.result", tag=(ds.fingerprint, pid))
    got = st.session_state.get("cmp.preset.result")
    if not got or got[0] != (ds.fingerprint, pid):
        st.info("Press **Run preset**: it trains the report's models on this dataset and fills its tables, "
                "next to the numbers the report published.")
        return
    res = got[1]
    for r, why in res.skipped.items():
        st.caption(f"Skipped {plain(r)}: {plain(why)}")
    published = st.toggle("Show the published values", value=True, key="cmp.published")
    for t in res.tables:
        st.markdown(f"#### {plain(t.caption)}")
        st.dataframe(preset_table_view(t, published=published), hide_index=True, width="stretch")
        warnings_expander([" · ".join(str(v) for v in r) for r in t.measured[list(t.row_header)].itertuples(index=False)],
                          list(t.warnings), key=f"cmp.{pid}.{t.caption}")
    summary_view(res.grid, key="cmp.preset.summary")
    _exports(res.grid, key=f"{pid}", preset=res)


# ----------------------------------------------------------------------------- custom grid

def _values(text: str, param, name: str, *, allow_auto: bool = False) -> list:
    """Comma-separated values of one parameter, each validated by its Param ("auto" where suggested)."""
    out = []
    for raw in [v.strip() for v in str(text).split(",") if v.strip()]:
        if allow_auto and raw.lower() == "auto":
            out.append("auto")
            continue
        if param.kind == "choice":
            match = [c for c in param.choices if str(c) == raw]
            out.append(param.validate(name, match[0] if match else raw))
        elif param.kind == "bool":
            out.append(param.validate(name, raw.lower() in ("1", "true", "yes", "on")))
        else:
            out.append(param.validate(name, raw))
    return out or [param.default]


def _list_input(label: str, param, *, key: str, default=None, allow_auto: bool = False) -> list:
    shown = default if default is not None else param.default
    txt = st.text_input(label, str(shown), key=key,
                        help=(param.help + " " if param.help else "") + f"Comma-separated: {param.describe()}"
                             + (", or auto." if allow_auto else "."))
    return _values(txt, param, label, allow_auto=allow_auto)


GRID_ROLE_OPTIONS = {  # role -> (offer, kind) -> [(value, label)] offered as a multiselect
    "feature": lambda o, k: [(f, f) for f in feature_options(o.available, o.extracted, kind=k, role="feature")],
    "lyrics_feature": lambda o, k: [(f, f) for f in feature_options(o.available, o.extracted, kind=k,
                                                                     role="lyrics_feature")],
    "model": lambda o, k: [(r.model_id, r.label) for r in o.models[o.models["finished"]].itertuples()],
    "label": lambda o, k: [(c, c) for c in o.labels],
    "column": lambda o, k: [(c, c) for c in o.columns],
}


def _kind_specs(offer, kind: str, *, key: str) -> list[dict]:
    """The widgets of one representation kind (multiselects for roles, lists for numbers) → its specs."""
    from core.represent import REPRESENTATIONS
    from core.ui.explore import HIDDEN_PARAMS, representation_picker

    k = REPRESENTATIONS.get(kind)
    axes: dict[str, list] = {}
    for name, role in k.roles.items():
        if role in GRID_ROLE_OPTIONS:
            opts = GRID_ROLE_OPTIONS[role](offer, kind)
            label = dict(opts)
            axes[name] = st.multiselect(f"{name.replace('_', ' ')}", [v for v, _ in opts], default=[opts[0][0]] if opts else [],
                                        format_func=lambda v, label=label: label.get(v, v), key=f"{key}.{name}")
        elif role == "spec":
            with st.container(border=True):
                axes[name] = [representation_picker(offer, key=f"{key}.{name}", depth=1, exclude=(kind,))]
    for name, p in representation_table(kind, n=offer.n).items():
        if name not in HIDDEN_PARAMS:
            axes[name] = _list_input(name.replace("_", " "), p, key=f"{key}.{name}")
    names = list(axes)
    return [{"kind": kind, "params": dict(zip(names, combo))} for combo in itertools.product(*axes.values())]


def _label_of(spec: dict, offer) -> str:
    from core.represent import REPRESENTATIONS

    lab = dict(zip(offer.models["model_id"], offer.models["label"])) if len(offer.models) else {}
    bits = []
    for k, v in spec["params"].items():
        shown = v["kind"] if isinstance(v, dict) else lab.get(v, v)
        bits.append(f"{k}={shown}")
    return f"{REPRESENTATIONS.get(spec['kind']).label} ({', '.join(bits)})"


def grid_representations(offer, *, key: str = "grid") -> list:
    """The representation half of the custom grid, generated from REPRESENTATIONS → RepEntries."""
    from core.experiments.grid import RepEntry
    from core.represent import REPRESENTATIONS, RepresentationSpec, _plain
    from core.ui.explore import kind_offered

    kinds = [k for k in REPRESENTATIONS.names() if kind_offered(offer, k)]
    chosen = st.multiselect("Representations", kinds, default=[k for k in ("pca",) if k in kinds] or kinds[:1],
                            format_func=lambda k: REPRESENTATIONS.get(k).label, key=f"{key}.kinds")
    entries = []
    for kind in chosen:
        with st.expander(REPRESENTATIONS.get(kind).label, expanded=True):
            for spec in _kind_specs(offer, kind, key=f"{key}.{kind}"):
                s = RepresentationSpec.from_any(spec)
                entries.append(RepEntry(label=_label_of(spec, offer), kind=s.kind,
                                        params={k: _plain(v) for k, v in s.params.items()}))
    return entries


def grid_algorithms(n: int, *, key: str = "grid") -> dict:
    """The clusterer half of the custom grid, generated from CLUSTERERS (k values shared by k-methods)."""
    from core.cluster import CLUSTERERS

    algs = st.multiselect("Algorithms", CLUSTERERS.names(), default=["kmeans", "agglomerative"], key=f"{key}.algs",
                          format_func=lambda a: CLUSTERERS.get(a).label)
    fit = [k for k in (4, 6, 10) if k <= n - 1] or [max(2, min(4, n - 1))]
    ks_txt = st.text_input("k values (every algorithm with a number of clusters)", ",".join(map(str, fit)),
                           key=f"{key}.ks", help=f"Comma-separated ints in [2, {max(2, n - 1)}].")
    out: dict[str, dict] = {}
    for a in algs:
        spec = CLUSTERERS.get(a)
        table = clusterer_table(a, n=n)
        grid: dict[str, list] = {}
        if spec.k_param:
            grid[spec.k_param] = _values(ks_txt, table[spec.k_param], "k values")
        rest = {k: p for k, p in table.items() if k != spec.k_param}
        if rest:
            with st.expander(f"{spec.label} parameters"):
                auto = set(auto_params(a))
                for name, p in rest.items():
                    vals = _list_input(name.replace("_", " "), p, key=f"{key}.{a}.{name}",
                                       default="auto" if name in auto else None, allow_auto=name in auto)
                    grid[name] = vals
        out[a] = grid
    return out


def grid_tab(ds, label_cols=None) -> None:
    from core.experiments import GridSpec, run_grid
    from core.ui.explore import make_offer

    offer = make_offer(ds)
    try:
        entries = grid_representations(offer)
        algorithms = grid_algorithms(len(ds.tracks))
    except SongscapeError as exc:
        st.error(plain(exc))
        return
    c1, c2 = st.columns(2)
    seeds = c1.multiselect("Seeds", list(range(10)), default=[0, 1, 2], key="grid.seeds")
    baselines = c2.checkbox("Add the baselines (PCA + KMeans, KMeans on spectral features, autoencoder + KMeans)",
                            value=True, key="grid.baselines")
    labels = tuple(label_cols) if label_cols is not None else ("language", "genre")
    if st.button("Run grid", type="primary", key="grid.run", disabled=not (entries and algorithms)):
        try:
            spec = GridSpec(representations=entries, algorithms=algorithms, seeds=tuple(seeds) or (0,),
                            label_columns=labels, baselines=baselines)
        except SongscapeError as exc:
            st.error(plain(exc))
            return
        run_with_progress("Running grid", lambda progress, cancel: run_grid(ds, spec, progress=progress, cancel=cancel),
                          store_key="cmp.grid.result", tag=ds.fingerprint)
    got = st.session_state.get("cmp.grid.result")
    if got and got[0] == ds.fingerprint:
        summary_view(got[1], key="cmp.grid.summary")
        _exports(got[1], key="grid")
    else:
        st.info("Choose representations and algorithms, then **Run grid**. Every number takes a comma-separated "
                "list of values; DBSCAN's eps and HDBSCAN's min cluster size take 'auto' (derived from the data).")


def sweep_tab(ds) -> None:
    from core.experiments import beta_sweep

    c1, c2, c3 = st.columns(3)
    model = c1.selectbox("Model", ["mlp_vae", "conv2d_vae", "conv1d_vae"], key="sweep.model")
    betas_txt = c2.text_input("β values", "0.1,1,2,4", key="sweep.betas")
    epochs = c3.number_input("Epochs", 1, 500, 20, key="sweep.epochs")
    try:
        betas = [float(b) for b in betas_txt.split(",") if b.strip()]
    except ValueError:
        st.error("β values must be numbers separated by commas, e.g. 0.1,1,2,4")
        return
    if st.button("Run β sweep", type="primary", key="sweep.run"):
        run_with_progress("β sweep", lambda progress, cancel: beta_sweep(
            ds, model=model, betas=betas, config={"epochs": int(epochs)}, progress=progress, cancel=cancel),
            store_key="cmp.sweep", tag=ds.fingerprint)
    got = st.session_state.get("cmp.sweep")
    if got and got[0] == ds.fingerprint and got[1] is not None:
        df = got[1]
        metrics = [c for c in ("recon", "kl", "active_units", "silhouette")
                   + tuple(c for c in df.columns if c.startswith(("ari_", "nmi_")))
                   if c in df.columns]
        st.plotly_chart(viz.metric_curves(df, x="beta", metrics=metrics[:4], title="Against β"), width="stretch")
        if len(metrics) > 4:
            st.plotly_chart(viz.metric_curves(df, x="beta", metrics=metrics[4:8]), width="stretch")
        st.dataframe(df, hide_index=True, width="stretch")
        from core.export import csv_text

        st.download_button("beta_sweep.csv", csv_text(df), file_name="beta_sweep.csv", key="sweep.csv",
                           icon=":material/download:")
