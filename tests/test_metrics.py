"""core.metrics: values checked against hand computations; every degenerate case produces its warning."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from core.cluster import ClusterResult, run_clustering
from core.errors import ParameterError
from core.metrics import (
    evaluate,
    external_metrics,
    hungarian_accuracy,
    internal_metrics,
    k_distance,
    k_selection,
    majority_share,
    purity,
    suggest_eps,
    suggest_k,
)


def result_of(labels, algorithm="manual") -> ClusterResult:
    labels = np.asarray(labels, dtype=np.int64)
    k = len(set(labels[labels >= 0].tolist()))
    return ClusterResult(labels=labels, noise_mask=labels == -1, n_clusters=k, params={}, algorithm=algorithm,
                         random_state=0, seconds=0.0)


# ----------------------------------------------------------------------------- hand-computed values

def test_purity_and_hungarian_accuracy_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 1])
    truth = np.array(["a", "a", "b", "b", "b", "a"])
    # cluster 0: a,a,b -> 2; cluster 1: b,b,a -> 2 -> purity 4/6
    assert purity(labels, truth) == pytest.approx(4 / 6)
    # best matching 0->a, 1->b: 2 + 2 = 4 of 6
    assert hungarian_accuracy(labels, truth) == pytest.approx(4 / 6)
    # three clusters, two classes: purity counts every cluster, Hungarian only two of them
    labels3 = np.array([0, 0, 1, 1, 2, 2])
    truth3 = np.array(["a", "a", "a", "a", "b", "b"])
    assert purity(labels3, truth3) == pytest.approx(1.0)
    assert hungarian_accuracy(labels3, truth3) == pytest.approx(4 / 6)


def test_silhouette_of_two_two_point_clusters_by_hand():
    # cluster A at x=0, 1; cluster B at x=4, 5 (1-D)
    X = np.array([[0.0], [1.0], [4.0], [5.0]])
    labels = np.array([0, 0, 1, 1])
    # point 0: a=1, b=mean(4,5)=4.5 -> 1-1/4.5; point 1: a=1, b=mean(3,4)=3.5 -> 1-1/3.5; symmetric for B
    expected = np.mean([1 - 1 / 4.5, 1 - 1 / 3.5, 1 - 1 / 3.5, 1 - 1 / 4.5])
    m = internal_metrics(X, labels)
    assert m["silhouette"] == pytest.approx(expected)
    assert m["silhouette_sampled"] == 0
    # Davies-Bouldin: s_A = s_B = 0.5 (mean distance to centroid), centroid distance 4 -> (0.5+0.5)/4
    assert m["davies_bouldin"] == pytest.approx(0.25)
    # Calinski-Harabasz: B = 4 * 2.25^2 ... between = sum n_k |c_k - c|^2 = 2*2^2*2 = 16, within = 4*0.25 = 1
    assert m["calinski_harabasz"] == pytest.approx((16 / 1) / (1 / 2))


def test_internal_metrics_ignore_noise_and_missing():
    X = np.array([[0.0], [1.0], [4.0], [5.0], [100.0], [np.nan]])
    labels = np.array([0, 0, 1, 1, -1, -2])
    m = internal_metrics(np.nan_to_num(X), labels)
    assert m["silhouette"] == pytest.approx(internal_metrics(X[:4], labels[:4])["silhouette"])


def test_silhouette_sampled_on_large_input_is_seeded():
    X, y = make_blobs(n_samples=3000, centers=3, n_features=4, random_state=0)
    full = internal_metrics(X, y, sample_size=5000)
    a = internal_metrics(X, y, sample_size=500, random_state=1)
    b = internal_metrics(X, y, sample_size=500, random_state=1)
    assert a["silhouette_sampled"] == 500 and full["silhouette_sampled"] == 0
    assert a["silhouette"] == b["silhouette"]
    assert a["silhouette"] == pytest.approx(full["silhouette"], abs=0.03)
    assert a["calinski_harabasz"] == full["calinski_harabasz"]  # CH/DB always on every point


def test_external_metrics_perfect_and_noise_treatment():
    truth = np.array(["en", "en", "bn", "bn", "bn", ""])
    labels = np.array([1, 1, 0, 0, -1, 0])
    own = external_metrics(labels, truth)  # "" excluded; noise forms its own cluster
    assert own["n_scored"] == 5 and own["noise_treatment"] == "own-cluster"
    assert own["purity"] == pytest.approx(1.0)
    assert own["accuracy"] == pytest.approx(4 / 5)  # noise cluster unmatched: 2 classes, 3 clusters
    ex = external_metrics(labels, truth, noise="exclude")
    assert ex["n_scored"] == 4 and ex["ari"] == pytest.approx(1.0) and ex["nmi"] == pytest.approx(1.0)
    assert ex["accuracy"] == pytest.approx(1.0)
    with pytest.raises(ParameterError, match="noise"):
        external_metrics(labels, truth, noise="merge")


def test_external_metrics_skip_missing_rows_and_none_truth():
    truth = np.array(["a", None, "b", float("nan"), "a"], dtype=object)
    labels = np.array([0, 0, 1, 1, -2])
    m = external_metrics(labels, truth)
    assert m["n_scored"] == 2 and m["ari"] == pytest.approx(1.0)
    assert math.isnan(external_metrics(labels, np.array(["", "", "", "", ""]))["ari"])


def test_majority_share():
    assert majority_share(np.array(["en"] * 57 + ["bn"] * 43 + [""] * 10)) == pytest.approx(0.57)
    assert math.isnan(majority_share(np.array(["", ""])))


# ----------------------------------------------------------------------------- warnings

@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, centers=3, n_features=5, cluster_std=0.5, random_state=2)
    return X, y


def test_clean_result_has_no_warnings(blobs):
    X, y = blobs
    rep = evaluate(X, run_clustering(X, algorithm="kmeans", params={"n_clusters": 3}),
                   label_columns={"genre": y.astype(str)})
    assert rep.warnings == []
    v = rep.values
    assert v["ari_genre"] == pytest.approx(1.0) and v["purity_genre"] == pytest.approx(1.0)
    assert v["n_clusters"] == 3 and v["noise_share"] == 0 and v["silhouette"] > 0.7
    assert sum(rep.cluster_sizes.values()) == 300


def test_one_cluster_warning_and_nan_internal(blobs):
    X, y = blobs
    res = run_clustering(X, algorithm="dbscan", params={"eps": 100.0, "min_samples": 5})  # report 000's collapse
    rep = evaluate(X, res, label_columns={"language": y.astype(str)})
    assert res.n_clusters == 1 and "one_cluster" in rep.codes
    assert all(math.isnan(rep.values[k]) for k in ("silhouette", "calinski_harabasz", "davies_bouldin"))
    # one group: no partition to compare with labels, so the external scores are undefined (not ARI 0.000)
    assert math.isnan(rep.values["ari_language"]) and math.isnan(rep.values["purity_language"])
    one = next(w for w in rep.warnings if w.code == "one_cluster")
    assert "ari_language" in one.keys and "undefined" in one.message
    assert "purity_majority" in rep.codes  # everything in one label


def test_all_noise_warning(blobs):
    X, y = blobs
    rep = evaluate(X, run_clustering(X, algorithm="dbscan", params={"eps": 1e-3, "min_samples": 5}),
                   label_columns={"genre": y.astype(str)})
    assert "all_noise" in rep.codes and "one_cluster" not in rep.codes and "high_noise" not in rep.codes
    assert rep.values["noise_share"] == 1.0 and math.isnan(rep.values["silhouette"])
    assert math.isnan(rep.values["nmi_genre"]) and math.isnan(rep.values["purity_genre"])  # not 0.000 / 0.500


def test_high_noise_warning(blobs):
    X, _ = blobs
    labels = np.full(len(X), -1)
    labels[:50], labels[50:100] = 0, 1  # 2/3 noise
    rep = evaluate(X, result_of(labels))
    assert "high_noise" in rep.codes and rep.values["noise_share"] == pytest.approx(200 / 300)


def test_purity_equals_majority_share_warning():
    # report 004: 57.43 % English; both clusters have an English majority -> purity == majority share
    rng = np.random.default_rng(0)
    truth = np.array(["English"] * 574 + ["Bangla"] * 426)
    labels = rng.integers(0, 2, size=1000)
    for k in (0, 1):  # make sure each cluster's majority is English
        idx = np.flatnonzero(labels == k)
        assert (truth[idx] == "English").mean() > 0.5
    X = rng.normal(size=(1000, 4)) + labels[:, None] * 3
    rep = evaluate(X, result_of(labels), label_columns={"language": truth})
    assert rep.values["purity_language"] == pytest.approx(0.574)
    assert rep.values["majority_share_language"] == pytest.approx(0.574)
    w = [w for w in rep.warnings if w.code == "purity_majority"]
    assert w and "purity_language" in w[0].keys and "0.5740" in w[0].message


def test_leak_warning_marks_keys(blobs):
    X, y = blobs
    res = run_clustering(X, algorithm="kmeans", params={"n_clusters": 3})
    rep = evaluate(X, res, label_columns={"genre": y.astype(str), "language": (y % 2).astype(str)},
                   uses_labels={"genre"})
    assert "leak" in rep.codes
    assert rep.leaked == frozenset({"ari_genre", "nmi_genre", "purity_genre", "accuracy_genre"})
    assert "leak" in rep.to_frame()["warnings"].iloc[0]


def test_high_silhouette_chance_ari_warning():
    # report 001: Silhouette 0.935, ARI 0.004 -> well separated clusters unrelated to genre
    X, y = make_blobs(n_samples=400, centers=4, n_features=3, cluster_std=0.3, random_state=5)
    genre = np.random.default_rng(1).choice(list("abcdef"), size=len(X))
    rep = evaluate(X, run_clustering(X, algorithm="kmeans", params={"n_clusters": 4}), label_columns={"genre": genre})
    assert rep.values["silhouette"] > 0.5 and abs(rep.values["ari_genre"]) < 0.05
    assert "silhouette_vs_chance" in rep.codes


def test_missing_rows_are_ignored_and_reported(blobs):
    from core.cluster import cluster_rows

    X, y = blobs
    Xn = X.copy()
    Xn[:10] = np.nan
    res = cluster_rows(Xn, algorithm="kmeans", params={"n_clusters": 3})
    rep = evaluate(Xn, res, label_columns={"genre": y.astype(str)})
    assert rep.values["n_missing"] == 10 and rep.values["n_points"] == 290
    assert rep.values["n_scored_genre"] == 290 and rep.values["ari_genre"] == pytest.approx(1.0)
    assert not math.isnan(rep.values["silhouette"]) and "missing_rows" in rep.codes


def test_to_frame_is_one_row_with_meta(blobs):
    X, y = blobs
    rep = evaluate(X, run_clustering(X, algorithm="kmeans", params={"n_clusters": 3}),
                   label_columns={"genre": y.astype(str)}, meta={"representation": "toy"})
    df = rep.to_frame()
    assert len(df) == 1 and df["algorithm"].iloc[0] == "kmeans" and df["representation"].iloc[0] == "toy"
    assert df["params"].iloc[0] == "n_clusters=3, n_init=3"
    assert df["silhouette"].iloc[0] == rep.values["silhouette"]


# ----------------------------------------------------------------------------- k and eps selection

def test_k_selection_finds_true_k():
    X, _ = make_blobs(n_samples=300, centers=4, n_features=4, cluster_std=0.5, random_state=0)
    df = k_selection(X, k_range=range(2, 8))
    assert list(df.columns) == ["k", "silhouette", "calinski_harabasz", "davies_bouldin"]
    assert df["k"].tolist() == list(range(2, 8))
    assert suggest_k(df) == 4
    assert df.loc[df.k == 4, "davies_bouldin"].iloc[0] == df["davies_bouldin"].min()


def test_suggest_k_ties_and_errors():
    import pandas as pd

    df = pd.DataFrame({"k": [2, 3, 4], "silhouette": [0.5, 0.5, 0.1], "calinski_harabasz": [1, 2, 3],
                       "davies_bouldin": [1, 1, 1]})
    assert suggest_k(df) == 2
    df["silhouette"] = np.nan
    assert suggest_k(df) == 4
    with pytest.raises(ParameterError):
        suggest_k(df.iloc[:0])
    with pytest.raises(ParameterError):
        k_selection(np.zeros((10, 2)), algorithm="dbscan")


def test_k_distance_and_knee():
    # 1-D points at 0..9: with the point itself counted, the 2nd neighbour is at distance 1
    X = np.arange(10, dtype=float)[:, None]
    assert np.allclose(k_distance(X, k=2), 1.0)
    d = k_distance(X, k=3)
    assert np.all(np.diff(d) >= 0) and d.max() == pytest.approx(2.0)
    # knee: a flat curve that shoots up -> the corner
    curve = np.concatenate([np.linspace(0.1, 0.2, 90), np.linspace(0.3, 3.0, 10)])
    assert suggest_eps(curve) == pytest.approx(0.2)
    # on blobs with outliers the suggested eps separates the clusters
    Xb, y = make_blobs(n_samples=400, centers=3, n_features=4, cluster_std=0.5, random_state=1)
    eps = suggest_eps(k_distance(Xb, k=10))
    res = run_clustering(Xb, algorithm="dbscan", params={"eps": eps, "min_samples": 10})
    assert res.n_clusters == 3 and res.noise_share < 0.1
    with pytest.raises(ParameterError):
        k_distance(X, k=11)


def test_chance_flag_fires_on_random_labels_not_on_good_ones():
    from core.cluster import ClusterResult

    rng = np.random.default_rng(0)
    truth = np.array(["a", "b"] * 100)
    X = rng.normal(size=(200, 4))

    def result(labels):
        labels = np.asarray(labels)
        return ClusterResult(labels=labels, noise_mask=labels == -1, n_clusters=len(set(labels)), params={},
                             algorithm="kmeans", random_state=0, seconds=0.0)

    random_report = evaluate(X, result(rng.integers(0, 2, 200)), label_columns={"lang": truth})
    assert "chance" in random_report.codes
    good = (truth == "a").astype(int)
    X[:, 0] += 5 * good
    good_report = evaluate(X, result(good), label_columns={"lang": truth})
    assert "chance" not in good_report.codes and good_report.values["ari_lang"] == pytest.approx(1.0)


def test_identical_points_split_is_said():
    from core.cluster import run_clustering

    X = np.zeros((20, 3))
    res = run_clustering(X + 0.0, algorithm="agglomerative", params={"n_clusters": 3})
    report = evaluate(X, res, label_columns={})
    assert "identical_points_split" in report.codes
