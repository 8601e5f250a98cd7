"""Explore page: the representation picker, generated from each kind's Param table and roles, with the β control.

Representation widgets come from ``core.represent.REPRESENTATIONS``: each parameter's role picks its
widget through ``ROLE_WIDGETS`` (extracted features that fit, trained models, label or track columns,
a nested representation), numbers through ``param_widgets`` with ranges capped by the data
(``core.explore.representation_table``). A kind is offered when every one of its roles has something
to offer on this dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd
import streamlit as st

from core.errors import SongscapeError
from core.explore import (
    UNSUPPORTED_ROLES,
    beta_label,
    beta_members,
    feature_dims,
    feature_extracted,
    feature_options,
    model_families,
    representation_table,
)
from core.ui import data, keys
from core.ui.explore_labels import NOT_COLUMNS, label_options, trained_models
from core.ui.widgets import ProgressReporter, param_widgets, plain

BETA_CHOICES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
HIDDEN_PARAMS = ("random_state",)  # the page's seed is used

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
    cols = data.memo(("text-columns", ds.fingerprint), lambda: [  # scans every column: once per dataset
        c for c in ds.tracks.columns if c not in NOT_COLUMNS and ds.tracks[c].dtype == object
        and ds.tracks[c].astype(str).nunique() >= 2])
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
        st.button("Cancel training", key=f"{key}.cancel", icon=":material/stop_circle:")
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
