"""Train page sections: model/preset/feature pickers, training run with live curves, model table.

A run draws its progress counted in epochs ("epoch 3/30") and live curves with the reconstruction
and KL terms on separate axes (KL is often two orders of magnitude smaller than the reconstruction
loss: on one linear axis it looks flat at 0). When a run ends (finished, stopped early, cancelled, or
loaded from an identical earlier run) the outcome is kept in ``keys.TRAIN_OUTCOME`` and the page
reruns, so the model table below lists the new model at once and the message says what happened.

Models are shown by the name the user gave (or what they are: model · features · β), never by their
fingerprint alone; models trained from a report preset (named after it) are listed apart.
"""

from __future__ import annotations

import dataclasses
import time

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from core import viz
from core.errors import SongscapeError
from core.ui import data, keys
from core.ui.widgets import param_widgets, plain

NO_PRESET = "— none —"
LIVE_MIN_INTERVAL_S = 0.5
# how each run outcome is said: (streamlit call, sentence); {epochs} = epochs run, {asked} = epochs asked
OUTCOMES = {
    "finished": ("success", "Finished: {what} trained {epochs}/{asked} epochs in {seconds:.1f} s on {device}{best}."),
    "early-stopped": ("info", "Stopped early at epoch {epochs}/{asked} (the validation loss stopped improving): "
                              "{what}, {seconds:.1f} s on {device}{best}."),
    "cancelled": ("warning", "Cancelled after epoch {epochs}/{asked}: {what} keeps its best weights so far and is "
                             "marked cancelled in the table. Train the same settings again to finish it."),
    "cached": ("info", "Same model, settings and features as an earlier run: {what} was loaded, not trained again."),
}
TABLE_COLUMNS = ["name", "status", "model", "features", "input_scaling", "beta", "latent_dim", "epochs", "loss",
                 "recon", "kl", "val_loss", "seconds", "device", "notes", "created", "model_id"]


# --------------------------------------------------------------------------------------- names
def model_label(row) -> str:
    """How a model is called in pickers: its name, else model · features · β; cancelled ones say so."""
    what = str(row.get("name") or "").strip()
    if not what:
        what = f"{row.get('model')} · {row.get('features')}"
        beta = row.get("beta")
        if beta is not None and pd.notna(beta):
            what += f" · β={float(beta):g}"
    short = str(row.get("model_id", "")).split("/")[-1][:6]
    status = str(row.get("status") or "finished")
    return f"{what} ({short}{'' if status == 'finished' else ', ' + status})"


def model_labels(models: pd.DataFrame) -> dict[str, str]:
    """model_id → label for a ``list_trained`` frame."""
    return {r["model_id"]: model_label(r) for r in models.to_dict("records")}


def from_preset(name: str) -> bool:
    from core.training import PRESETS

    return any(name == p or name.startswith(p + " ") for p in PRESETS)


# ------------------------------------------------------------------------------------- pickers
def preset_and_model(ds) -> tuple[str, dict]:
    """(model name, preset dict or {}). A preset fills model, features, hyperparameters as its report did."""
    from core.models import MODELS
    from core.training import PRESETS, preset

    names = [NO_PRESET] + list(PRESETS)
    pname = st.selectbox("Preset (as a report did)", names, key="train.preset",
                         help="Fills the model, features and hyperparameters the way that report did.")
    pre = preset(pname) if pname != NO_PRESET else {}
    models = MODELS.names()
    model = st.selectbox("Model", models, index=models.index(pre["model"]) if pre else 0, key=f"train.model.{pname}",
                         format_func=lambda m: MODELS.get(m).label)
    if pre and model != pre["model"]:
        pre = {}
    if pre:
        pre["name"] = pname
    st.caption(MODELS.get(model).help)
    return model, pre


def feature_pickers(ds, model: str, pre: dict) -> tuple[dict, str | None]:
    from core.models import MODELS
    from core.schema import label_columns

    spec = MODELS.get(model)
    avail = data.available_features(ds)
    chosen = {}
    for modality, inp in spec.inputs.items():
        options = [f for f in inp.features if f in avail]
        if not options:
            st.warning(f"**{model}** needs a {inp.kind} input for `{modality}` ({', '.join(inp.features)}), "
                       f"and dataset **{plain(ds.name)}** has none of these. Pick another model or dataset.")
            st.stop()
        want = (pre.get("features") or {}).get(modality)
        label = "Input features" if len(spec.inputs) == 1 else f"{modality.capitalize()} features"
        chosen[modality] = st.selectbox(label, options, index=options.index(want) if want in options else 0,
                                        key=f"train.feat.{model}.{modality}", help=inp.help)
    cond = None
    if spec.uses_cond:
        labels = label_columns(ds.tracks)
        if not labels:
            st.warning("A conditional VAE needs a label column (language or genre) and this dataset has none.")
            st.stop()
        want = pre.get("cond_column")
        cond = st.selectbox("Condition on", labels, index=labels.index(want) if want in labels else 0, key="train.cond",
                            help="Results of this model are marked as using this label: "
                                 "its external metrics are not unsupervised.")
    return chosen, cond


def name_and_notes(pre: dict) -> tuple[str, str]:
    """The user's name for the model (a preset's name when left empty) and free notes."""
    name = st.text_input("Model name", key="train.name", placeholder=pre.get("name") or "e.g. conv2d on log-mel, β 2",
                         help="Shown in every model picker instead of the model's fingerprint.").strip()
    notes = st.text_area("Notes", key="train.notes", height=68, placeholder="What you are trying, what you saw…")
    return name or pre.get("name", ""), notes.strip()


def train_rows(n_rows: int, val_fraction: float) -> int:
    """Training rows of ``n_rows`` after the validation split (as ``core.training`` splits them)."""
    n_val = int(round(n_rows * float(val_fraction)))
    n_val = min(n_val, n_rows - 2) if n_val >= 1 else 0
    return max(1, n_rows - n_val)


def hyperparameters(model: str, pre: dict, pname_key: str, *, n_rows: int) -> tuple[dict, object]:
    """Model and training widgets. batch_size is capped at the training rows of ``n_rows`` tracks."""
    from core.models import MODELS
    from core.training import TRAIN_PARAMS, TrainConfig

    spec = MODELS.get(model)
    table = {k: v for k, v in spec.params.items() if k != "n_classes"}
    with st.expander("Model hyperparameters", expanded=True):
        mp = param_widgets(table, key=f"train.mp.{model}.{pname_key}", values=pre.get("model_params"), columns=3)
    tkey = f"train.tp.{model}.{pname_key}"
    pre_cfg = dict(pre.get("config") or {})
    val_fraction = st.session_state.get(f"{tkey}.val_fraction",
                                        pre_cfg.get("val_fraction", TRAIN_PARAMS["val_fraction"].default))
    cap = train_rows(n_rows, val_fraction)
    bs = TRAIN_PARAMS["batch_size"]
    params = {**TRAIN_PARAMS, "batch_size": dataclasses.replace(
        bs, default=min(bs.default, cap), high=cap,
        help=f"Rows per gradient step: at most {cap}, the training rows of this dataset's {n_rows} tracks.")}
    pre_cfg["batch_size"] = min(int(pre_cfg.get("batch_size", bs.default)), cap)
    if st.session_state.get(f"{tkey}.batch_size", 0) > cap:
        st.session_state[f"{tkey}.batch_size"] = cap
    with st.expander("Training", expanded=True):
        tp = param_widgets(params, key=tkey, values=pre_cfg, columns=3)
    tp["batch_size"] = min(int(tp["batch_size"]), train_rows(n_rows, tp["val_fraction"]))
    extra = {k: v for k, v in (pre.get("config") or {}).items() if k not in tp}
    return mp, TrainConfig(**{**extra, **tp})


# ----------------------------------------------------------------------------------- live run
def curves_figure(history: pd.DataFrame, *, title: str = ""):
    """Loss and reconstruction (top) and KL (bottom) per epoch, each on its own y axis; validation dotted."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4],
                        subplot_titles=("loss and reconstruction", "KL divergence"))
    colors = dict(zip(("loss", "recon", "kl"), viz.PALETTE))
    for row, names in ((1, ("loss", "recon", "val_loss", "val_recon")), (2, ("kl", "val_kl"))):
        for col in names:
            if col in history.columns and history[col].notna().any():
                base = col.removeprefix("val_")
                base = "loss" if base == "loss" else base
                fig.add_trace(go.Scatter(x=history["epoch"], y=history[col], name=col, mode="lines+markers",
                                         line=dict(color=colors.get(base, viz.PALETTE[3]),
                                                   dash="dot" if col.startswith("val") else None)), row=row, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    fig.update_yaxes(title_text="loss", row=1, col=1)
    fig.update_yaxes(title_text="KL", row=2, col=1)
    fig.update_layout(template=viz.TEMPLATE, title=title or None, height=420,
                      margin=dict(l=50, r=20, t=60 if title else 30, b=40))
    return fig


class TrainProgress:
    """``progress(step, total, logs)`` for a training run: a bar counted in epochs with the time left,
    and live curves redrawn at each epoch's end. A click elsewhere interrupts the script: the
    interruption is kept, ``cancel()`` reports it so the loop stops cleanly (keeping its best weights),
    and ``reraise()`` lets Streamlit's rerun proceed afterwards."""

    def __init__(self, label: str, epochs: int):
        self.label, self.epochs = label, int(epochs)
        self.bar = st.progress(0.0, text=f"{label}: epoch 0/{self.epochs}")
        self.chart = st.empty()
        self.history: list[dict] = []
        self.start = time.perf_counter()
        self._last_bar = self._last_chart = 0.0
        self._drawn = 0
        self.interrupt: BaseException | None = None

    def __call__(self, step: int, total: int, logs: dict) -> None:
        if self.interrupt is not None:
            return
        now = time.perf_counter()
        epoch_end = bool(logs.get("epoch_end"))
        if epoch_end and "history" in logs:
            self.history = list(logs["history"])
        try:
            if epoch_end or now - self._last_bar >= LIVE_MIN_INTERVAL_S:
                self._last_bar = now
                epoch = int(logs.get("epoch") or 0)
                done_epochs = epoch if epoch_end else max(0, epoch - 1)
                text = f"{self.label}: epoch {epoch}/{self.epochs}"
                if step:
                    text += f" · about {(now - self.start) / step * (total - step):.0f} s left"
                if logs.get("loss") is not None:
                    text += f" · loss {float(logs['loss']):.4g}"
                frac = step / max(1, total) if total else done_epochs / max(1, self.epochs)
                self.bar.progress(min(1.0, frac), text=text)
            if epoch_end and (now - self._last_chart >= LIVE_MIN_INTERVAL_S or len(self.history) == self.epochs):
                self._draw_chart(now)
        except ScriptControlException as exc:  # the user clicked something: stop cleanly
            self.interrupt = exc

    def _draw_chart(self, now: float) -> None:
        if len(self.history) > self._drawn:
            self._last_chart, self._drawn = now, len(self.history)
            self.chart.plotly_chart(curves_figure(pd.DataFrame(self.history)), width="stretch")

    def cancel(self) -> bool:
        return self.interrupt is not None

    def reraise(self) -> None:
        if self.interrupt is not None:
            raise self.interrupt


def run_training(ds, model: str, features: dict, cond: str | None, model_params: dict, config,
                 *, name: str = "", notes: str = "") -> None:
    """Train with live progress; keep the outcome for the next run's message and rerun (table refreshed)."""
    from core.training import select_device, train_on_dataset

    st.info(f"Device: **{select_device(config.device)}** · press **Cancel** (or any other button) to stop: "
            "the best weights so far are kept.")
    st.button("Cancel", key="train.cancel", icon=":material/stop_circle:")
    rep = TrainProgress(f"Training {name or model}", config.epochs)
    try:
        res = train_on_dataset(dataset=ds.name, model=model, features=features, model_params=model_params,
                               config=config, cond_column=cond, name=name or None, notes=notes or None,
                               progress=rep, cancel=rep.cancel)
    except SongscapeError as exc:
        st.error(plain(exc))
        rep.reraise()
        return
    kind = "cached" if res.from_cache else res.status
    best = f"; best epoch {res.best_epoch} kept" if res.best_epoch else ""
    st.session_state[keys.TRAIN_OUTCOME] = (kind, {
        "what": f"'{name}'" if name else model, "epochs": len(res.history), "asked": config.epochs,
        "seconds": res.seconds, "device": res.device, "best": best})
    st.session_state[keys.LAST_TRAIN] = res.model_id
    st.session_state[keys.TRAIN_FOLLOW] = True
    data.forget("models")
    rep.reraise()
    st.rerun()


def outcome_message() -> None:
    """What the last run ended with (finished, stopped early, cancelled, loaded), said once."""
    got = st.session_state.pop(keys.TRAIN_OUTCOME, None)
    if not got:
        return
    kind, facts = got
    call, text = OUTCOMES[kind]
    getattr(st, call)(plain(text.format(**facts)))


# --------------------------------------------------------------------------------- model table
def history_chart(model_id: str) -> None:
    from core.training import load_trained

    hist = pd.DataFrame(load_trained(model_id).history)
    if len(hist):
        st.plotly_chart(curves_figure(hist, title="Training curves"), width="stretch", key=f"curves.{model_id}")


def _table(df: pd.DataFrame) -> pd.DataFrame:
    show = df[[c for c in TABLE_COLUMNS if c in df.columns]].copy()
    show["name"] = show["name"].where(show["name"] != "", "—")
    return show.round(4)


def model_table(ds) -> None:
    from core.training import delete_trained, list_trained, load_trained

    df = list_trained(dataset=ds.name)
    if not len(df):
        st.info("No model trained on this dataset yet. Pick a model above and press **Train**.")
        return
    df = df.sort_values("created", ascending=False, na_position="last")
    preset_rows = df["name"].map(from_preset).astype(bool)
    config = {"status": st.column_config.TextColumn("status", help="finished, early-stopped or cancelled "
                                                    "(a cancelled model keeps its best weights so far)"),
              "input_scaling": st.column_config.TextColumn("input scaling", help="standard: inputs z-scored "
                                                           "with training-split statistics; none: as given")}
    for title, part in (("Your models", df[~preset_rows]), ("Trained from report presets", df[preset_rows])):
        if len(part):
            if preset_rows.any():
                st.markdown(f"**{title}** ({len(part)})")
            st.dataframe(_table(part), hide_index=True, width="stretch", column_config=config)
    ids = df["model_id"].tolist()
    labels = model_labels(df)
    last = st.session_state.get(keys.LAST_TRAIN)
    follow = st.session_state.pop(keys.TRAIN_FOLLOW, False)  # a run just ended: show its model
    if last in ids and (follow or st.session_state.get("train.table.pick") not in ids):
        st.session_state["train.table.pick"] = last
    mid = st.selectbox("Model", ids, key="train.table.pick", format_func=labels.get)
    scaling = load_trained(mid).config.get("input_scaling") or {}
    if scaling:
        st.caption("Input scaling: " + " · ".join(f"{plain(m)}: {plain(d)}" for m, d in scaling.items()))
    c1, c2 = st.columns(2)
    if c1.button("Use in Explore", key="train.use", icon=":material/scatter_plot:"):
        st.session_state[keys.EXPLORE_MODEL] = mid
        st.switch_page("pages/explore.py")
    if c2.button("Delete", key="train.delete", icon=":material/delete:"):
        delete_trained(mid)
        data.forget("models")
        st.rerun()
    history_chart(mid)
