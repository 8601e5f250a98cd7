"""AppTest tests of Explore and Compare on a 6-track demo corpus: defaults that fit small data, cluster
names in the legend and the exports, a custom grid with PCA and a trained latent on the real path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import app_env, demo_env, make_demo_home

ROOT = Path(__file__).resolve().parent.parent
SMALL = demo_env(6, 2.0)


@pytest.fixture(scope="module")
def small_home(tmp_path_factory):
    """A 6-track demo workspace (generated once for this module)."""
    return make_demo_home(tmp_path_factory, "small_home", n_tracks=6, seconds=2.0)


@pytest.fixture
def app(small_home, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    app_env(monkeypatch, small_home, tmp_path / "models", SMALL)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)


def rerun(at):
    at.session_state["dataset_name"] = "demo"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def open_page(at, page: str):
    at.run()
    at.switch_page(page)
    return rerun(at)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_six_tracks_open_explore_with_ranges_that_fit_and_auto_density_values(app):
    at = open_page(app, "pages/explore.py")
    ncomp = at.slider(key="explore.rep.pca.n_components")
    assert ncomp.max == 5 and ncomp.value == 5          # PCA ≤ min(n − 1, dims) = 5
    k = at.slider(key="explore.alg.kmeans.n_clusters")
    assert k.max == 5 and k.value == 5                   # k ≤ n − 1
    assert metric(at, "Clusters") == "5"
    # 6 genres, 5 clusters: purity / accuracy capped, said
    assert any("5 clusters for 6 genre classes" in i.value and "0.833" in i.value for i in at.info)
    with_umap = at.selectbox(key="explore.rep.kind").options
    assert "UMAP-reduced representation" in with_umap

    at.selectbox(key="explore.alg.name").set_value("dbscan")
    rerun(at)
    assert at.toggle(key="explore.alg.dbscan.eps.auto").value is True
    eps_caption = next(c.value for c in at.caption if c.value.startswith("eps = "))
    assert "auto" in eps_caption and float(eps_caption.split("**")[1]) > 0
    assert next(c.value for c in at.caption if c.value.startswith("min samples = ")).split("**")[1] == "5"
    # the k-distance knee applied by the button lands in the (now manual) eps widget
    apply = next(b for b in at.button if b.key == "choosek.apply_eps")
    suggested = float(apply.label.split("≈")[1])
    apply.click()
    rerun(at)
    assert at.toggle(key="explore.alg.dbscan.eps.auto").value is False
    assert abs(at.number_input(key="explore.alg.dbscan.eps").value - suggested) < 1e-3 * max(1.0, suggested)

    at.selectbox(key="explore.alg.name").set_value("hdbscan")
    rerun(at)
    assert next(c.value for c in at.caption if c.value.startswith("min cluster size = ")).split("**")[1] == "3"  # n // 2


def test_cluster_names_reach_the_legend_confusion_matrix_and_exports(app, monkeypatch):
    from core.explore import assignments_frame
    from core.ui.explore_cluster import NAMES_KEY

    at = open_page(app, "pages/explore.py")
    at.slider(key="explore.alg.kmeans.n_clusters").set_value(2)
    rerun(at)
    box = next(t for t in at.text_input if t.key and t.key.startswith("clname.") and t.key.endswith(".0"))
    box.set_value("Loud ones")
    rerun(at)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any('"name":"Loud ones"' in s for s in charts)                   # the map's legend
    assert any("Loud ones" in s and '"type":"heatmap"' in s for s in charts)  # the confusion matrix rows
    assert [b.label for b in at.get("download_button") if "assignments" in str(b.proto)]  # built on click
    (names,) = [v for v in at.session_state[NAMES_KEY].values() if v]        # what the export is built from
    from core.datasets import load_dataset

    tracks = load_dataset("demo").tracks
    labels = np.array([0 if i % 2 else 1 for i in range(len(tracks))])
    assign = assignments_frame(tracks, labels, names=names, label_cols=["genre"])
    assert assign.columns.tolist() == ["track_id", "title", "artist", "genre", "cluster", "cluster_name"]
    assert set(assign.loc[assign["cluster"] == 0, "cluster_name"]) == {"Loud ones"}
    assert set(assign.loc[assign["cluster"] == 1, "cluster_name"]) == {"cluster 1"}
    latex = next(c.value for c in at.code if "tabular" in c.value)
    assert "silhouette" in latex and "\\hline" in latex and latex.count("&") >= 5  # metric × value rows


def test_custom_grid_with_pca_and_a_trained_latent_runs_to_finite_numbers(app):
    from core.training import TrainConfig, train_on_dataset

    res = train_on_dataset(dataset="demo", model="mlp_vae", name="tiny vae",
                           config=TrainConfig(epochs=2, batch_size=4, seed=0))
    at = open_page(app, "pages/compare.py")
    at.multiselect(key="grid.kinds").set_value(["pca", "latent"])
    rerun(at)
    at.text_input(key="grid.pca.n_components").set_value("3")
    assert at.multiselect(key="grid.latent.model_id").value == [res.model_id]
    at.multiselect(key="grid.algs").set_value(["kmeans"])
    at.text_input(key="grid.ks").set_value("2")
    at.multiselect(key="grid.seeds").set_value([0, 1])
    at.checkbox(key="grid.baselines").set_value(False)
    rerun(at)
    at.button(key="grid.run").click()
    rerun(at)
    tag, result = at.session_state["cmp.grid.result"]
    table = result.table
    assert len(table) == 4 and set(table["seed"]) == {0, 1}
    assert np.isfinite(table[["silhouette", "ari_genre", "nmi_genre", "purity_genre"]].to_numpy(dtype=float)).all()
    shown = at.dataframe[0].value
    assert len(shown) == 2 and {"⚠", "representation", "silhouette"} <= set(shown.columns)
    assert shown["representation"].str.contains("tiny vae").any()
    assert all(" ± " in v for v in shown["silhouette"])                     # two seeds: mean ± std
    assert not (shown == "—").to_numpy().any()
    assert any(c.type == "plotly_chart" for c in at.get("plotly_chart"))


def test_beta_control_offers_training_and_never_shows_a_cancelled_model_as_trained(app):
    from core.training import TrainConfig, list_trained, train_on_dataset

    train_on_dataset(dataset="demo", model="mlp_vae", config=TrainConfig(epochs=2, batch_size=4, seed=0, beta=1.0))
    # a β = 2 run stopped after its first epoch: kept as an artifact marked cancelled
    train_on_dataset(dataset="demo", model="mlp_vae", config=TrainConfig(epochs=3, batch_size=4, seed=0, beta=2.0),
                     progress=lambda *a: None, cancel=lambda: True)
    models = list_trained(dataset="demo")
    assert set(models["status"]) >= {"finished"}
    at = open_page(app, "pages/explore.py")
    beta = next(s for s in at.select_slider if s.key.endswith(".beta"))
    assert beta.format_func(1.0) == "1 ✓"
    if (models["beta"] == 2.0).any():
        assert beta.format_func(2.0) == "2 (cancelled)"
    assert beta.format_func(4.0) == "4"
    beta.set_value(4.0)
    rerun(at)
    assert sorted(list_trained(dataset="demo")["beta"]) == sorted(models["beta"])  # moving trained nothing
    train = at.button(key=next(b.key for b in at.button if b.key.endswith(".train")))
    assert train.label == "Train β = 4"
    train.click()
    rerun(at)
    after = list_trained(dataset="demo")
    assert ((after["beta"] == 4.0) & (after["status"] != "cancelled")).any()
    beta = next(s for s in at.select_slider if s.key.endswith(".beta"))
    assert beta.value == 4.0 and beta.format_func(4.0) == "4 ✓"
    assert not [b for b in at.button if b.key.endswith(".train")]


def test_a_large_track_table_is_paged_on_the_server(tmp_path, monkeypatch):
    """12,000 tracks: the table gets 5,000 rows at a time and a page number; search narrows what is paged."""
    import pandas as pd
    from streamlit.testing.v1 import AppTest

    from core.datasets import ImportResult, save_dataset

    monkeypatch.setenv("SONGSCAPE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SONGSCAPE_MODELS", str(tmp_path / "models"))
    for k, v in SMALL.items():
        monkeypatch.setenv(k, v)
    n = 12_000
    rng = np.random.default_rng(0)
    tracks = pd.DataFrame({"track_id": [f"t{i}" for i in range(n)], "title": [f"song {i}" for i in range(n)],
                           "genre": rng.choice(["rock", "pop"], n), "energy": rng.random(n)})
    save_dataset("big", ImportResult(tracks=tracks, layout="tabular"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["dataset_name"] = "big"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    page = at.number_input(key="dataset.page")
    assert page.max == 3 and page.value == 1
    assert any(c.value == "Tracks 1–5,000 of 12,000." for c in at.caption)
    page.set_value(3).run()
    assert any(c.value == "Tracks 10,001–12,000 of 12,000." for c in at.caption)
    at.text_input(key="dataset.search").set_value("song 1199").run()   # 11 matches: one page, no pager
    assert not [w for w in at.number_input if w.key == "dataset.page"]
