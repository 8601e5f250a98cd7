"""AppTest tests of the Train page on a 6-track corpus: it opens, caps the batch size at the training
rows, trains a named model with its notes, says how the run ended and lists the model at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import app_env, demo_env, make_demo_home

ROOT = Path(__file__).resolve().parent.parent
TINY = demo_env(6, 3.0)


@pytest.fixture(scope="module")
def tiny_home(tmp_path_factory):
    return make_demo_home(tmp_path_factory, "train_home", n_tracks=6, seconds=3.0)


@pytest.fixture
def train_page(tiny_home, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    app_env(monkeypatch, tiny_home, tmp_path / "models", TINY)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/train.py")
    at.session_state["dataset_name"] = "demo"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _number(at, suffix: str):
    """The widget of a training parameter (a slider when its range is small, else a number input)."""
    return next(n for n in [*at.number_input, *at.slider] if n.key and n.key.endswith(suffix))


def test_six_tracks_open_train_with_batch_size_capped(train_page):
    at = train_page
    assert at.title[0].value.endswith("Train")
    batch = _number(at, ".batch_size")
    # 6 tracks, 10 % validation → 1 held out, 5 training rows: the default 64 would fail
    assert batch.value == 5 and batch.max == 5
    assert any("No model trained" in i.value for i in at.info)


def test_named_run_is_listed_at_once_with_its_outcome_and_scaling(train_page):
    from core.training import list_trained

    at = train_page
    _number(at, ".epochs").set_value(3)
    at.text_input(key="train.name").set_value("tiny mlp")
    at.text_area(key="train.notes").set_value("first try")
    at.run()
    next(b for b in at.button if b.key == "train.go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    models = list_trained(dataset="demo")
    assert models["name"].tolist() == ["tiny mlp"] and models["notes"].tolist() == ["first try"]
    assert models["epochs"].iloc[0] == 3 and models["status"].iloc[0] == "finished"
    assert any(s.value.startswith("Finished") and "3/3 epochs" in s.value for s in at.success)
    table = at.dataframe[-1].value
    assert table["name"].tolist() == ["tiny mlp"] and table["input_scaling"].tolist() == ["standard"]
    pick = at.selectbox(key="train.table.pick")
    assert pick.value == models["model_id"].iloc[0]
    assert pick.format_func(pick.value).startswith("tiny mlp (")
    assert any(c.value.startswith("Input scaling:") for c in at.caption)
    chart = at.get("plotly_chart")[-1].proto.spec
    assert '"KL divergence"' in chart and '"yaxis2"' in chart  # KL on its own axis


def test_cancelled_and_preset_models_are_marked_and_listed_apart(train_page):
    from core.training import PRESETS, TrainConfig, list_trained, train_on_dataset

    at = train_page
    named = next(iter(PRESETS))  # what the Train page names a model trained from a preset
    mine = train_on_dataset(dataset="demo", model="mlp_vae", name="mine",
                            config=TrainConfig(epochs=2, batch_size=5, seed=0))
    stopped = train_on_dataset(dataset="demo", model="mlp_vae", name=named,
                               config=TrainConfig(epochs=5, batch_size=5, seed=1), cancel=lambda: True)
    assert stopped.status == "cancelled" and mine.status == "finished"
    at.session_state["train_outcome"] = ("cancelled", {"what": f"'{named}'", "epochs": 1, "asked": 5,
                                                       "seconds": 0.1, "device": "cpu", "best": ""})
    at.session_state["dataset_name"] = "demo"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(w.value.startswith("Cancelled after epoch 1/5") for w in at.warning)
    groups = [m.value for m in at.markdown if m.value.startswith("**") and m.value.endswith(")")]
    assert groups == ["**Your models** (1)", "**Trained from report presets** (1)"]
    yours, presets = at.dataframe[-2].value, at.dataframe[-1].value
    assert yours["name"].tolist() == ["mine"] and presets["status"].tolist() == ["cancelled"]
    pick = at.selectbox(key="train.table.pick")
    assert pick.format_func(stopped.model_id).endswith(", cancelled)")
    assert len(list_trained(dataset="demo")) == 2


def test_dataset_page_computes_and_shows_musicnn_tags_of_the_picked_track(tiny_home, monkeypatch, tmp_path):
    """(On the same 6-track corpus.) The tags are on demand: a button runs the tagger, then the picked
    track's top tags show with what the tagger was trained on."""
    from streamlit.testing.v1 import AppTest

    from core.features.musicnn import missing_reason

    if missing_reason():
        pytest.skip(missing_reason())
    monkeypatch.setenv("SONGSCAPE_HOME", str(tiny_home))
    monkeypatch.setenv("SONGSCAPE_MODELS", str(tmp_path / "models"))
    for k, v in TINY.items():
        monkeypatch.setenv(k, v)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("trained on MagnaTagATune" in c.value for c in at.caption)
    at.button(key="dataset.tags").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.startswith("MTT_musicnn, trained on MagnaTagATune") for c in at.caption)
    tags = next(m.value for m in at.markdown if m.value.count("**") == 10)  # 5 tags, each with its probability
    assert len(tags.split(" · ")) == 5
    assert not at.get("button") or all(b.key != "dataset.tags" for b in at.button)
