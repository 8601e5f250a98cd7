"""Compare page sections: report presets, custom grids, β sweeps — tables, charts, exports."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core import viz
from core.errors import SongscapeError
from core.ui import data
from core.ui.widgets import ProgressReporter, track_grid


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
    st.download_button("⬇️ All tables (CSV, Markdown, LaTeX, JSON) as .zip", bundle, file_name=f"{key}.zip",
                       mime="application/zip", key=f"{key}.zip")
    tex = [n for n in blobs if n.endswith(".tex")]
    if tex:
        with st.expander("LaTeX"):
            st.code(blobs[tex[0]].decode(), language="latex")


def run_with_progress(label: str, fn):
    rep = ProgressReporter(label)
    try:
        out = fn(progress=rep, cancel=rep.cancel)
    except SongscapeError as exc:
        st.error(str(exc))
        return None
    rep.done()
    rep.reraise()
    return out


def summary_view(result, *, key: str) -> None:
    from core.experiments.export import summary_display

    if result.cancelled:
        st.warning("The run was cancelled: the table holds the cells finished so far (a rerun resumes).")
    st.markdown("**Mean ± std over seeds** (agreement_ari: mean ARI between the seeds' labelings)")
    track_grid(summary_display(result, latex=False), key=f"{key}.grid", height=320, selectable=False)
    s = result.summary.copy()
    s["label"] = s["representation"] + " · " + s["algorithm"] + " " + s["params"].astype(str)
    metrics = [m for m in result.metric_columns if f"{m}_mean" in s and m != "seconds"]
    m = st.selectbox("Chart metric", metrics, key=f"{key}.metric")
    st.plotly_chart(viz.metric_bars(s, metric=f"{m}_mean", err_col=f"{m}_std", title=f"{m} (mean ± std over seeds)"),
                    width="stretch", key=f"{key}.bars")
    with st.expander("Every run (one row per seed)"):
        st.dataframe(result.table, hide_index=True, width="stretch")


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
        res = run_with_progress(f"Running {pid}", lambda progress, cancel: run_preset(
            ds, pid, epochs=int(epochs) or None, seeds=tuple(seeds) or (0,), progress=progress, cancel=cancel))
        if res is not None:
            st.session_state["cmp.preset.result"] = (ds.fingerprint, pid, res)
    got = st.session_state.get("cmp.preset.result")
    if not got or got[0] != ds.fingerprint or got[1] != pid:
        st.info("Press **Run preset**: it trains the report's models on this dataset and fills its tables, "
                "next to the numbers the report published.")
        return
    res = got[2]
    for r, why in res.skipped.items():
        st.caption(f"Skipped {r}: {why}")
    for i, t in enumerate(res.tables, 1):
        st.markdown(f"#### {t.caption}")
        st.dataframe(t.side_by_side().round(4), hide_index=True, width="stretch")
        for w in {w for w in t.warnings if w}:
            st.warning(w, icon="⚠️")
    summary_view(res.grid, key="cmp.preset.summary")
    _exports(res.grid, key=f"{pid}", preset=res)


def grid_tab(ds) -> None:
    from core.cluster import CLUSTERERS
    from core.experiments import GridSpec, run_grid
    from core.represent import RepresentationSpec

    feats = [f for f in data.available_features(ds) if f in ("mfcc_stats", "spectral_stats", "tabular", "lyrics",
                                                             "chroma_stats", "contrast_stats", "mfcc20_stats")]
    reps = []
    for f in st.multiselect("Raw features", feats, default=feats[:1], key="grid.raw"):
        reps.append(RepresentationSpec("raw", {"feature": f}))
    for f in st.multiselect("PCA-16 of", feats, default=[], key="grid.pca"):
        reps.append(RepresentationSpec("pca", {"feature": f, "n_components": 16}))
    from core.ui.explore import trained_models

    models = trained_models(ds)
    if len(models):
        for mid in st.multiselect("Trained models (latents)", models["model_id"].tolist(), key="grid.models"):
            reps.append(RepresentationSpec("latent", {"model_id": mid}))
    algs = st.multiselect("Algorithms", CLUSTERERS.names(), default=["kmeans", "agglomerative"], key="grid.algs")
    ks = st.text_input("k values (for algorithms with k)", "4,6,10", key="grid.ks")
    eps = st.text_input("eps values (DBSCAN)", "0.5,1.5", key="grid.eps")
    seeds = st.multiselect("Seeds", list(range(10)), default=[0, 1, 2], key="grid.seeds")
    try:
        kvals = [int(v) for v in ks.split(",") if v.strip()]
        evals = [float(v) for v in eps.split(",") if v.strip()]
    except ValueError:
        st.error("k values must be integers and eps values numbers, separated by commas (e.g. 4,6,10).")
        return
    table = {}
    for a in algs:
        spec = CLUSTERERS.get(a)
        if spec.k_param:
            table[a] = {spec.k_param: kvals}
        elif a == "dbscan":
            table[a] = {"eps": evals}
        else:
            table[a] = {}
    if st.button("Run grid", type="primary", key="grid.run", disabled=not (reps and algs)):
        res = run_with_progress("Running grid", lambda progress, cancel: run_grid(
            ds, GridSpec(representations=reps, algorithms=table, seeds=tuple(seeds) or (0,)),
            progress=progress, cancel=cancel))
        if res is not None:
            st.session_state["cmp.grid.result"] = (ds.fingerprint, res)
    got = st.session_state.get("cmp.grid.result")
    if got and got[0] == ds.fingerprint:
        summary_view(got[1], key="cmp.grid.summary")
        _exports(got[1], key="grid")
    else:
        st.info("Choose representations and algorithms, then **Run grid**. Baselines (PCA + KMeans, KMeans on "
                "spectral features, autoencoder + KMeans) are always added.")


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
        df = run_with_progress("β sweep", lambda progress, cancel: beta_sweep(
            ds, model=model, betas=betas, config={"epochs": int(epochs)}, progress=progress, cancel=cancel))
        if df is not None:
            st.session_state["cmp.sweep"] = (ds.fingerprint, df)
    got = st.session_state.get("cmp.sweep")
    if got and got[0] == ds.fingerprint:
        df = got[1]
        metrics = [c for c in ("recon", "kl", "active_units", "silhouette") + tuple(c for c in df.columns if c.startswith(("ari_", "nmi_")))
                   if c in df.columns]
        st.plotly_chart(viz.metric_curves(df, x="beta", metrics=metrics[:4], title="Against β"), width="stretch")
        if len(metrics) > 4:
            st.plotly_chart(viz.metric_curves(df, x="beta", metrics=metrics[4:8]), width="stretch")
        st.dataframe(df, hide_index=True, width="stretch")
        st.download_button("beta_sweep.csv", df.to_csv(index=False), file_name="beta_sweep.csv", key="sweep.csv")
