"""core.project: shapes, determinism, the disk cache (second call does not recompute), NaN rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from core import project as P
from core.errors import ParameterError


@pytest.fixture(scope="module")
def X():
    X, _ = make_blobs(n_samples=120, centers=3, n_features=8, random_state=0)
    return X.astype(np.float32)


@pytest.fixture
def counting(monkeypatch):
    """Wrap every projector's fit to count calls."""
    calls = {}
    for name, spec in list(P.PROJECTORS.items()):
        def fit(X, p, rs, _orig=spec.fit, _name=name):
            calls[_name] = calls.get(_name, 0) + 1
            return _orig(X, p, rs)
        monkeypatch.setitem(P.PROJECTORS._items, name, dataclasses.replace(spec, fit=fit))
    return calls


def test_pca_shape_dtype_cache(X, counting):
    assert P.cached_projection(X, "pca") is None
    Y = P.project(X, method="pca")
    assert Y.shape == (120, 2) and Y.dtype == np.float32 and np.isfinite(Y).all()
    Y2 = P.project(X, method="pca")
    assert counting["pca"] == 1 and np.array_equal(Y, Y2)
    assert np.array_equal(P.cached_projection(X, "pca"), Y)
    assert len(list((P.workspace() / "cache" / "projection").rglob("*.npz"))) == 1
    # PCA axes: first coordinate carries the most variance
    assert Y[:, 0].var() >= Y[:, 1].var()


def _forget_projections():
    from core.cache import CACHE

    CACHE.clear_memory("projection")
    for f in (P.workspace() / "cache" / "projection").rglob("*.npz"):
        f.unlink()


def test_nan_rows_stay_nan(X, counting):
    Xn = X.copy()
    Xn[[2, 50]] = np.nan
    Y = P.project(Xn, method="pca")
    assert np.isnan(Y[[2, 50]]).all() and np.isfinite(np.delete(Y, [2, 50], axis=0)).all()
    valid = np.ones(len(X), bool)
    valid[:5] = False
    Yv = P.project(X, method="pca", valid=valid)
    assert np.isnan(Yv[:5]).all() and counting["pca"] == 2  # a different mask is a different projection


def test_tsne_deterministic_for_seed_and_cached(X, counting):
    a = P.project(X, method="tsne", random_state=3, perplexity=10)
    assert a.shape == (120, 2) and np.isfinite(a).all()
    _forget_projections()  # force a recompute: same seed must give the same map
    b = P.project(X, method="tsne", random_state=3, perplexity=10)
    assert counting["tsne"] == 2 and np.allclose(a, b, atol=1e-4)
    P.project(X, method="tsne", random_state=3, perplexity=10, n_jobs=2)  # threads do not change the key
    assert counting["tsne"] == 2


def test_invalid_params(X):
    with pytest.raises(ParameterError, match="perplexity"):
        P.project(X, method="tsne", perplexity=0.5)
    with pytest.raises(ParameterError, match="Available"):
        P.project(X, method="mds")
    with pytest.raises(ParameterError, match="knn"):
        P.project(X, method="umap", knn=3)
    with pytest.raises(ParameterError, match="X"):
        P.project(X[:2], method="pca")


def test_numba_cache_dir_is_set():
    import os

    assert os.environ.get("NUMBA_CACHE_DIR") and P.configure_numba_cache() == os.environ["NUMBA_CACHE_DIR"]


@pytest.mark.slow
def test_umap_shape_deterministic_cached(X, counting):
    a = P.project(X, method="umap", random_state=0, n_neighbors=10)
    assert a.shape == (120, 2) and np.isfinite(a).all()
    assert np.array_equal(P.project(X, method="umap", random_state=0, n_neighbors=10), a)
    assert counting["umap"] == 1
    _forget_projections()
    b = P.project(X, method="umap", random_state=0, n_neighbors=10)
    assert counting["umap"] == 2 and np.allclose(a, b, atol=1e-4)


def _knn_stats() -> dict:
    from core.cache import CACHE

    return dict(CACHE.stats()["namespaces"].get("knn", {"memory_hits": 0, "disk_hits": 0, "misses": 0, "rebuilt": 0}))


def _delta(before: dict) -> dict:
    after = _knn_stats()
    return {k: after[k] - before[k] for k in after}


def _separates(Y: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    pred = KMeans(n_clusters=len(set(labels)), n_init=10, random_state=0).fit_predict(Y)
    return adjusted_rand_score(labels, pred)


@pytest.mark.slow
def test_umap_reuses_knn_graph(counting):
    import umap

    Xb, labels = make_blobs(n_samples=400, centers=4, n_features=8, random_state=2)
    Xb = Xb.astype(np.float32)
    before = _knn_stats()
    a = P.project(Xb, method="umap", random_state=0, min_dist=0.1)
    assert _delta(before) == {"memory_hits": 0, "disk_hits": 0, "misses": 1, "rebuilt": 0}
    b = P.project(Xb, method="umap", random_state=0, min_dist=0.6)
    assert counting["umap"] == 2  # a new projection was fitted ...
    assert _delta(before) == {"memory_hits": 1, "disk_hits": 0, "misses": 1, "rebuilt": 0}  # ... on the stored graph
    for Y in (a, b):
        assert Y.shape == (400, 2) and Y.dtype == np.float32 and np.isfinite(Y).all()
        assert _separates(Y, labels) > 0.9
    assert not np.allclose(a, b)
    # the same map as UMAP computing its own graph
    plain = umap.UMAP(n_neighbors=15, min_dist=0.1, metric="euclidean", random_state=0, n_components=2,
                      n_jobs=1).fit_transform(Xb)
    assert np.allclose(a, plain, atol=1e-5)

    # after a restart (memory empty) the graph comes from disk: n_components and, with the exact graph
    # UMAP uses below 4096 points, the seed do not change it
    from core.cache import CACHE

    assert len(list((P.workspace() / "cache" / "knn").rglob("*.npz"))) == 1
    CACHE.clear_memory()
    c = P.project(Xb, method="umap", random_state=5, n_components=3)
    assert c.shape == (400, 3) and np.isfinite(c).all() and _separates(c, labels) > 0.9
    assert _delta(before) == {"memory_hits": 1, "disk_hits": 1, "misses": 1, "rebuilt": 0}
    P.project(Xb, method="umap", random_state=0, n_neighbors=10)  # another k is another graph
    assert _delta(before)["misses"] == 2 and counting["umap"] == 4


@pytest.mark.slow
def test_umap_knn_nndescent_same_map_as_plain_umap():
    """From 4096 points UMAP searches with NNDescent, which draws from the seed: the stored graph keeps the
    random state after the search, so the map equals UMAP's own, and another seed is another graph."""
    import umap

    Xb, labels = make_blobs(n_samples=4200, centers=5, n_features=8, random_state=3)
    Xb = Xb.astype(np.float32)
    before = _knn_stats()
    a = P.project(Xb, method="umap", random_state=1, n_neighbors=10)
    plain = umap.UMAP(n_neighbors=10, min_dist=0.1, metric="euclidean", random_state=1, n_components=2,
                      n_jobs=1).fit_transform(Xb)
    assert np.allclose(a, plain, atol=1e-5) and _separates(a, labels) > 0.9
    b = P.project(Xb, method="umap", random_state=1, n_neighbors=10, min_dist=0.5)
    assert np.isfinite(b).all() and _separates(b, labels) > 0.9
    assert _delta(before) == {"memory_hits": 1, "disk_hits": 0, "misses": 1, "rebuilt": 0}
    entry = P.umap_knn(Xb, 10, "euclidean", 2)
    assert entry.meta["random_state"] == 2 and _delta(before)["misses"] == 2


def test_warmup_leaves_knn_cache_alone():
    before = _knn_stats()
    P.warmup("umap", background=False)
    assert _delta(before) == {"memory_hits": 0, "disk_hits": 0, "misses": 0, "rebuilt": 0}
    assert not (P.workspace() / "cache" / "knn").exists()
    assert P._knn_cache_on.get()
