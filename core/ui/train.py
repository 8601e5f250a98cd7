"""Train page sections: model/preset/feature pickers, training run with live curves, model table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import viz
from core.errors import SongscapeError
from core.ui import data, keys
from core.ui.widgets import ProgressReporter, param_widgets

NO_PRESET = "— none —"


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
                       f"and dataset **{ds.name}** has none of these. Pick another model or dataset.")
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
                            help="Results of this model are marked as using this label: its external metrics are not unsupervised.")
    return chosen, cond


def hyperparameters(model: str, pre: dict, pname_key: str) -> tuple[dict, object]:
    from core.models import MODELS
    from core.training import TRAIN_PARAMS, TrainConfig

    spec = MODELS.get(model)
    table = {k: v for k, v in spec.params.items() if k != "n_classes"}
    with st.expander("Model hyperparameters", expanded=True):
        mp = param_widgets(table, key=f"train.mp.{model}.{pname_key}", values=pre.get("model_params"), columns=3)
    with st.expander("Training", expanded=True):
        tp = param_widgets(TRAIN_PARAMS, key=f"train.tp.{model}.{pname_key}", values=pre.get("config"), columns=3)
    extra = {k: v for k, v in (pre.get("config") or {}).items() if k not in tp}
    return mp, TrainConfig(**{**extra, **tp})


def run_training(ds, model: str, features: dict, cond: str | None, model_params: dict, config) -> None:
    from core.training import select_device, train_on_dataset

    st.info(f"Device: **{select_device(config.device)}** · click any button (or ⏹ Cancel) to stop: "
            "the best weights so far are kept.")
    st.button("⏹ Cancel training", key="train.cancel")
    rep = ProgressReporter(f"Training {model}", curves=("loss", "recon", "kl"))
    try:
        res = train_on_dataset(dataset=ds.name, model=model, features=features, model_params=model_params,
                               config=config, cond_column=cond, progress=rep, cancel=rep.cancel)
    except SongscapeError as exc:
        st.error(str(exc))
        return
    rep.done("Loaded from cache (same config and features)" if res.from_cache else
             f"{'Cancelled' if res.cancelled else 'Done'} in {res.seconds:.1f} s on {res.device}")
    st.session_state[keys.LAST_TRAIN] = res.model_id
    data.forget("models")
    rep.reraise()


def history_chart(model_id: str) -> None:
    from core.training import load_trained

    hist = pd.DataFrame(load_trained(model_id).history)
    if len(hist):
        st.plotly_chart(viz.training_curves(hist, title=f"Training curves — {model_id}"), width="stretch",
                        key=f"curves.{model_id}")


def model_table(ds) -> None:
    from core.training import delete_trained, list_trained

    df = list_trained(dataset=ds.name)
    if not len(df):
        st.info("No model trained on this dataset yet. Pick a model above and press **Train**.")
        return
    show = df.drop(columns=["dataset"]).round(4)
    st.dataframe(show, hide_index=True, width="stretch")
    ids = df["model_id"].tolist()
    last = st.session_state.get(keys.LAST_TRAIN)
    mid = st.selectbox("Model", ids, index=ids.index(last) if last in ids else 0, key="train.table.pick")
    c1, c2 = st.columns(2)
    if c1.button("🗺️ Use in Explore", key="train.use"):
        st.session_state[keys.EXPLORE_MODEL] = mid
        st.switch_page("pages/explore.py")
    if c2.button("🗑️ Delete", key="train.delete"):
        delete_trained(mid)
        data.forget("models")
        st.rerun()
    history_chart(mid)
