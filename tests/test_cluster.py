"""core.cluster: every clusterer recovers well separated blobs; params validated; noise and missing rows kept."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from core.cluster import CLUSTERERS, MISSING, NOISE, cluster_rows, relabel_by_size, run_clustering, validate_clustering
from core.errors import ParameterError


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=400, centers=4, n_features=6, cluster_std=0.4, center_box=(-10, 10), random_state=3)
    return X.astype(np.float32), y


RECOVER = {
    "kmeans": {"n_clusters": 4},
    "agglomerative": {"n_clusters": 4},
    "dbscan": {"eps": 1.5, "min_samples": 5},
    "hdbscan": {"min_cluster_size": 20},
    "gmm": {"n_components": 4},
    "spectral": {"n_clusters": 4, "n_neighbors": 15},
}


def test_registry_lists_the_expected_clusterers():
    assert set(RECOVER) == set(CLUSTERERS.names())


@pytest.mark.parametrize("name", sorted(RECOVER))
def test_every_clusterer_recovers_blobs(name, blobs):
    X, y = blobs
    res = run_clustering(X, algorithm=name, params=RECOVER[name], random_state=0)
    assert res.labels.shape == (len(X),) and res.labels.dtype == np.int64
    assert res.n_clusters == 4
    non_noise = ~res.noise_mask
    assert non_noise.mean() > 0.95
    assert adjusted_rand_score(y[non_noise], res.labels[non_noise]) > 0.95
    assert res.algorithm == name and res.random_state == 0 and res.seconds >= 0
    # defaults filled in and recorded
    assert set(res.params) == set(CLUSTERERS.get(name).params)
    # labels numbered by size: 0 is the largest cluster
    sizes = [int((res.labels == k).sum()) for k in range(res.n_clusters)]
    assert sizes == sorted(sizes, reverse=True)
    if res.centers is not None:
        assert res.centers.shape == (4, X.shape[1])
        # centers follow the renumbering: center j is the mean of cluster j
        for j in range(4):
            assert np.allclose(res.centers[j], X[res.labels == j].mean(axis=0), atol=0.2)


@pytest.mark.parametrize("name", sorted(RECOVER))
def test_deterministic_for_a_seed(name, blobs):
    X, _ = blobs
    a = run_clustering(X, algorithm=name, params=RECOVER[name], random_state=7)
    b = run_clustering(X, algorithm=name, params=RECOVER[name], random_state=7)
    assert np.array_equal(a.labels, b.labels)


def test_dbscan_noise_is_counted_not_merged(blobs):
    X, _ = blobs
    outliers = np.array([[40.0] * X.shape[1], [-40.0] * X.shape[1], [40.0, -40.0] * (X.shape[1] // 2)], dtype=np.float32)
    Xo = np.vstack([X, outliers])
    res = run_clustering(Xo, algorithm="dbscan", params={"eps": 1.5, "min_samples": 5})
    assert list(res.labels[-3:]) == [NOISE] * 3
    assert res.n_noise >= 3 and res.noise_mask.sum() == res.n_noise
    assert res.n_clusters == 4  # noise is not a cluster
    assert res.sizes()[NOISE] == res.n_noise
    assert res.noise_share == pytest.approx(res.n_noise / len(Xo))


def test_dbscan_tiny_eps_is_all_noise(blobs):
    X, _ = blobs
    res = run_clustering(X, algorithm="dbscan", params={"eps": 1e-4, "min_samples": 5})
    assert res.n_clusters == 0 and res.noise_mask.all() and res.centers is None


@pytest.mark.parametrize("algorithm,params,name", [
    ("kmeans", {"n_clusters": 1}, "n_clusters"),
    ("kmeans", {"n_clusters": 51}, "n_clusters"),
    ("kmeans", {"n_clusters": "four"}, "n_clusters"),
    ("dbscan", {"eps": 0}, "eps"),
    ("dbscan", {"eps": -1.0}, "eps"),
    ("dbscan", {"min_samples": 0}, "min_samples"),
    ("agglomerative", {"linkage": "single"}, "linkage"),
    ("gmm", {"covariance_type": "round"}, "covariance_type"),
    ("kmeans", {"k": 3}, "k"),
])
def test_invalid_params_name_the_parameter(algorithm, params, name, blobs):
    X, _ = blobs
    with pytest.raises(ParameterError) as exc:
        run_clustering(X, algorithm=algorithm, params=params)
    assert exc.value.name == name
    assert repr(params[name]) in str(exc.value)


def test_n_clusters_above_n_samples_is_an_error():
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ParameterError, match=r"at most the number of points \(5\)") as exc:
        run_clustering(X, algorithm="kmeans", params={"n_clusters": 6})
    assert exc.value.name == "n_clusters"


def test_unknown_algorithm_lists_available():
    with pytest.raises(ParameterError, match="kmeans"):
        validate_clustering("kmedoids", {})


def test_nan_rows_need_cluster_rows(blobs):
    X, y = blobs
    Xn = X.copy()
    Xn[[0, 5, 9]] = np.nan
    with pytest.raises(ParameterError, match="cluster_rows"):
        run_clustering(Xn, algorithm="kmeans", params={"n_clusters": 4})
    res = cluster_rows(Xn, algorithm="kmeans", params={"n_clusters": 4})
    assert list(np.flatnonzero(res.labels == MISSING)) == [0, 5, 9]
    assert res.missing_mask.sum() == 3 and not res.noise_mask[[0, 5, 9]].any()
    ok = ~res.missing_mask
    assert adjusted_rand_score(y[ok], res.labels[ok]) > 0.95
    assert MISSING not in res.sizes() and sum(res.sizes().values()) == len(X) - 3
    # an explicit mask may drop finite rows too
    valid = np.ones(len(X), bool)
    valid[:10] = False
    res2 = cluster_rows(X, valid, algorithm="kmeans", params={"n_clusters": 4})
    assert (res2.labels[:10] == MISSING).all() and (res2.labels[10:] >= 0).all()


def test_cluster_rows_rejects_bad_mask(blobs):
    X, _ = blobs
    with pytest.raises(ParameterError, match="valid"):
        cluster_rows(X, np.ones(3, bool), algorithm="kmeans")
    with pytest.raises(ParameterError, match="at least 2"):
        cluster_rows(X, np.zeros(len(X), bool), algorithm="kmeans")


def test_relabel_by_size_keeps_negative_labels():
    lab, order = relabel_by_size(np.array([5, 5, 2, -1, 2, 2, 7, -2]))
    assert lab.tolist() == [1, 1, 0, -1, 0, 0, 2, -2]
    assert order.tolist() == [2, 5, 7]


def test_kmeans_switches_to_minibatch_for_large_n():
    from core.cluster import AutoKMeans

    X, _ = make_blobs(n_samples=300, centers=3, n_features=4, random_state=0)
    est = AutoKMeans(3, n_init=1, minibatch_above=100, random_state=0).fit(X)
    assert est.engine_ == "minibatch" and est.cluster_centers_.shape == (3, 4)
    assert AutoKMeans(3, n_init=1, random_state=0).fit(X).engine_ == "lloyd"


def test_quadratic_methods_refuse_huge_inputs():
    with pytest.raises(ParameterError, match="agglomerative"):
        validate_clustering("agglomerative", {}, n_samples=50_000)


def test_reusable_dbscan_matches_sklearn_at_every_eps():
    from sklearn.cluster import DBSCAN

    from core.cluster import ReusableDBSCAN

    X, _ = make_blobs(n_samples=600, centers=5, n_features=8, cluster_std=1.0, random_state=4)
    X = np.vstack([X, np.random.default_rng(0).uniform(-12, 12, size=(40, 8))])
    from core.cache import CACHE

    before = dict(CACHE.stats()["namespaces"].get("dbscan-tree", {"misses": 0, "memory_hits": 0}))
    for eps in (0.8, 1.5, 2.5, 4.0, 30.0):
        ours = ReusableDBSCAN(eps, min_samples=8).fit(X)
        ref = DBSCAN(eps=eps, min_samples=8).fit(X)
        assert ours.engine_ == "mst"
        assert np.array_equal(ours.core_sample_indices_, ref.core_sample_indices_)
        assert np.array_equal(ours.labels_ == -1, ref.labels_ == -1)
        assert adjusted_rand_score(ref.labels_, ours.labels_) > 0.999
    stats = CACHE.stats()["namespaces"]["dbscan-tree"]
    assert stats["misses"] - before["misses"] == 1  # one structure served every eps
    assert stats["memory_hits"] - before["memory_hits"] == 4
    for ms in (2, 3):  # small min_samples (hdbscan's own count starts one lower) stay exact
        for eps in (0.5, 1.5):
            ours, ref = ReusableDBSCAN(eps, min_samples=ms).fit(X), DBSCAN(eps=eps, min_samples=ms).fit(X)
            assert np.array_equal(ours.core_sample_indices_, ref.core_sample_indices_)
            assert adjusted_rand_score(ref.labels_, ours.labels_) > 0.999
    assert ReusableDBSCAN(1.5, min_samples=1).fit(X).engine_ == "sklearn"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auto_eps_finds_groups_where_the_knee_merges_everything(seed):
    """Overlapping heavy-tailed groups of different spread (as real collections look): the k-distance curve
    has no sharp knee and the chord rule lands where DBSCAN makes one cluster; 'auto' scans for a real cut."""
    from sklearn.metrics import adjusted_rand_score

    from core.cluster import ReusableDBSCAN, resolve_auto
    from core.metrics import k_distance, suggest_eps

    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), 60)
    X = rng.normal(0, 2.2, (4, 16))[y] + rng.standard_t(4, (240, 16)) * np.array([0.6, 0.9, 1.2, 1.5])[y, None]
    knee = ReusableDBSCAN(suggest_eps(k_distance(X, k=10)), min_samples=10).fit(X).labels_
    assert len(set(knee[knee >= 0])) == 1
    p = resolve_auto("dbscan", {"eps": "auto", "min_samples": 10}, X)
    labels = ReusableDBSCAN(p["eps"], min_samples=10).fit(X).labels_
    assert len(set(labels[labels >= 0])) >= 3 and (labels < 0).mean() < 0.35
    assert adjusted_rand_score(y, labels) > 0.5


def test_hdbscan_keeps_few_neighbours_when_min_samples_is_left_at_zero():
    """min_samples = min_cluster_size ('auto' = 2 % of n) kept 2,000 neighbours per point at 100,000 tracks
    (6 GB); left at 0 it is capped, and an explicit value is kept."""
    from core.cluster import CLUSTERERS, HDBSCAN_MIN_SAMPLES_CAP

    spec = CLUSTERERS.get("hdbscan")
    est = spec.build({"min_cluster_size": 2000, "min_samples": 0, "cluster_selection_epsilon": 0.0}, 0)
    assert est.min_samples == HDBSCAN_MIN_SAMPLES_CAP == 25
    assert spec.build({"min_cluster_size": 8, "min_samples": 0, "cluster_selection_epsilon": 0.0}, 0).min_samples == 8
    assert spec.build({"min_cluster_size": 2000, "min_samples": 300, "cluster_selection_epsilon": 0.0}, 0).min_samples == 300
