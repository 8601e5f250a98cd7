"""2-D projections for the map: the PROJECTORS registry (pca, umap, tsne) and a fingerprinted disk cache.

``project(X, method=..., random_state=..., **params)`` returns (n, n_components) float32 (2 for the map)
and stores it in ``core.cache.CACHE`` (namespace "projection", on disk), keyed by the content of X, the
valid mask, the method, its validated params and the seed; a second call with the same inputs reads it.
``cached_projection`` only looks, never computes, so a page can draw PCA at once and swap in UMAP
when it is ready. UMAP's k-NN graph is stored on its own (``umap_knn``, namespace "knn", on disk), so
another min_dist or n_components of the same data skips the neighbour search and still draws the same
map as UMAP computing its graph itself (same graph, same random stream).

Pinned notes:
* umap-learn 0.5.12: the first UMAP fit in a new process pays 12-28 s of numba compilation. Its
  kernels are compiled with ``cache=True``, so ``configure_numba_cache()`` points NUMBA_CACHE_DIR at
  ``workspace()/numba-cache`` and later processes load the compiled code. It must run before numba is
  first imported (librosa imports it too): this module calls it on import, and app/CLI entry points
  may call it earlier. A given ``random_state`` makes UMAP deterministic (and single-threaded).
  Measured here (2 shared cores, loaded): ``import umap`` 18.6 s cold vs 5.6 s with the cache; the
  first fit still compiles ~17 s (pynndescent/umap kernels that numba cannot cache), later fits in the
  same process 0.2 s. ``warmup("umap")`` pays that on a background thread at app start.
* t-SNE uses openTSNE 1.0.4 (FFT-accelerated gradients, scales to 100k points): 5.7 s vs 6.7 s for
  sklearn.manifold.TSNE on 2,000 x 32 points with one thread, and the gap widens with n.
"""

from __future__ import annotations

import contextvars
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from core.arrays import valid_rows
from core.cache import CACHE, Entry
from core.config import workspace
from core.errors import ParameterError
from core.hashing import array_fingerprint, fingerprint
from core.params import Param, Spec, validate_params
from core.registry import Registry

PROJECTION_VERSION = "1"


def configure_numba_cache() -> str:
    """Set NUMBA_CACHE_DIR to a workspace folder unless the environment already sets it; returns it."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        d = workspace() / "numba-cache"
        d.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(d)
    return os.environ["NUMBA_CACHE_DIR"]


configure_numba_cache()


@dataclass(frozen=True)
class ProjectorSpec(Spec):
    """``fit(X, params, random_state)`` -> (n, 2) array for finite X (n, d)."""

    fit: Callable[[np.ndarray, dict, int], np.ndarray] | None = None
    not_in_key: tuple[str, ...] = ()  # parameters that do not change the result (threads)
    warmup_params: dict = field(default_factory=dict)  # what a 64-point warm-up fit needs


PROJECTORS: Registry[ProjectorSpec] = Registry("projection")


def _pca(X: np.ndarray, p: dict, rs: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    if X.shape[1] == 1:
        return np.column_stack([X[:, 0] - X[:, 0].mean(), np.zeros(len(X))])
    Y = PCA(n_components=2, random_state=rs).fit_transform(X)
    # fix the sign of each axis (largest |loading| positive) so the map does not flip between runs
    return Y * np.where(np.abs(Y.max(axis=0)) >= np.abs(Y.min(axis=0)), 1.0, -1.0)


# UMAP (umap-learn 0.5.12) builds its k-NN graph exactly from all pairwise distances below this many
# points and with pynndescent's NNDescent from here on; umap_knn() follows the same rule.
UMAP_EXACT_KNN_BELOW = 4096
UMAP_ANGULAR_METRICS = ("cosine",)  # metrics for which UMAP grows angular random-projection trees
KNN_VERSION = "1"
_knn_cache_on: contextvars.ContextVar[bool] = contextvars.ContextVar("songscape_knn_cache", default=True)


def umap_knn(X: np.ndarray, n_neighbors: int, metric: str, random_state: int) -> Entry:
    """UMAP's k-NN graph of X (n, d) float32: arrays ``indices`` (n, k), ``dists`` (n, k) and, when the
    search drew from the seed, ``rng_keys``/``rng_rest`` (the NumPy RandomState after the search).

    Computed as ``UMAP.fit`` would (exact below UMAP_EXACT_KNN_BELOW rows, NNDescent above, one thread)
    and stored in CACHE namespace "knn" (on disk), keyed by the content of X, k, the metric, the
    umap/pynndescent versions and, for NNDescent only, the seed. A second UMAP of the same data with
    another min_dist, n_components (or, below the threshold, seed) reuses it."""
    import pynndescent
    import umap
    from umap.umap_ import nearest_neighbors

    X = np.ascontiguousarray(X, dtype=np.float32)
    exact = len(X) < UMAP_EXACT_KNN_BELOW
    seed = None if exact else int(random_state)
    key = fingerprint("knn", array_fingerprint(X), int(n_neighbors), metric, seed, umap.__version__,
                      pynndescent.__version__, version=KNN_VERSION)

    def compute() -> Entry:
        rng = np.random.RandomState(random_state)
        if exact:  # UMAP's small-data path: every pairwise distance with umap's own metric function
            from sklearn.metrics import pairwise_distances
            from umap.distances import named_distances

            dmat = pairwise_distances(X, metric=named_distances[metric])
            indices, dists, _ = nearest_neighbors(dmat, n_neighbors, "precomputed", {}, False, rng)
            return Entry({"indices": indices, "dists": dists},
                         {"n_neighbors": int(n_neighbors), "metric": metric, "exact": True})
        indices, dists, _ = nearest_neighbors(X, n_neighbors, metric, {}, metric in UMAP_ANGULAR_METRICS, rng,
                                              low_memory=True, use_pynndescent=True, n_jobs=1)
        _, keys, pos, has_gauss, cached_gaussian = rng.get_state()
        return Entry({"indices": indices, "dists": dists, "rng_keys": keys,
                      "rng_rest": np.array([pos, has_gauss, cached_gaussian], dtype=np.float64)},
                     {"n_neighbors": int(n_neighbors), "metric": metric, "exact": False, "random_state": seed})

    if not _knn_cache_on.get():
        return compute()
    return CACHE.get_or_compute("knn", key, compute, persist=True)


def _umap(X: np.ndarray, p: dict, rs: int) -> np.ndarray:
    configure_numba_cache()
    import umap

    n_neighbors = min(p["n_neighbors"], len(X) - 1)
    knn = umap_knn(X, n_neighbors, p["metric"], rs)
    # The random stream UMAP would continue with after its own k-NN search: same seed, same map.
    rng = np.random.RandomState(rs)
    if "rng_keys" in knn.arrays:
        pos, has_gauss, cached_gaussian = knn.arrays["rng_rest"].tolist()
        rng.set_state(("MT19937", knn.arrays["rng_keys"], int(pos), int(has_gauss), float(cached_gaussian)))
    # copies: UMAP marks disconnected edges in place, and these arrays live in the cache
    precomputed = (np.array(knn.arrays["indices"]), np.array(knn.arrays["dists"]), None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")  # no search index: no transform()
        return umap.UMAP(n_neighbors=n_neighbors, min_dist=p["min_dist"], metric=p["metric"], random_state=rng,
                         n_components=p["n_components"], n_jobs=1, precomputed_knn=precomputed).fit_transform(X)


def _tsne(X: np.ndarray, p: dict, rs: int) -> np.ndarray:
    from openTSNE import TSNE

    perplexity = min(p["perplexity"], max(1.0, (len(X) - 1) / 3.0))
    emb = TSNE(n_components=2, perplexity=perplexity, random_state=rs, n_jobs=p["n_jobs"],
               initialization="pca", verbose=False).fit(np.ascontiguousarray(X, dtype=np.float64))
    return np.asarray(emb)


PROJECTORS.add("pca", ProjectorSpec("pca", "PCA", {}, help="Linear; instant. The first two principal axes.", fit=_pca))
PROJECTORS.add("umap", ProjectorSpec(
    "umap", "UMAP",
    {"n_neighbors": Param("int", 15, 2, 200, help="Local neighbourhood size: larger = more global structure."),
     "min_dist": Param("float", 0.1, 0.0, 1.0, help="How tightly points may pack."),
     "metric": Param("choice", "euclidean", choices=("euclidean", "cosine", "manhattan"), help="Distance."),
     "n_components": Param("int", 2, 2, 64, help="Output dimensions (2 for the map; 5–10 before density "
                           "clustering).")},
    help="Non-linear, keeps local neighbourhoods; first fit in a new process compiles for 12-28 s.", fit=_umap,
    warmup_params={"n_neighbors": 5}))
PROJECTORS.add("tsne", ProjectorSpec(
    "tsne", "t-SNE",
    {"perplexity": Param("float", 30.0, 2.0, 100.0, help="Effective number of neighbours."),
     "n_jobs": Param("int", 1, 1, 64, help="Threads (does not change the result).")},
    not_in_key=("n_jobs",),
    help="openTSNE; clusters look separated, distances between them mean little.", fit=_tsne))


def warmup(method: str = "umap", *, background: bool = True):
    """Fit ``method`` once on 64 random points so numba compiles before the user asks for a map.

    Returns the started daemon thread (``background=True``) or None after a blocking run."""
    import threading

    def _run():
        X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
        spec = PROJECTORS.get(method)
        token = _knn_cache_on.set(False)  # the warm-up must compile the k-NN search, not read it from the cache
        try:
            spec.fit(X, validate_params(spec.params, spec.warmup_params), 0)
        finally:
            _knn_cache_on.reset(token)

    if not background:
        _run()
        return None
    t = threading.Thread(target=_run, name=f"songscape-warmup-{method}", daemon=True)
    t.start()
    return t


def _prepare(X, valid, method: str, random_state: int, params: dict) -> tuple[np.ndarray, np.ndarray, dict, str]:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 3:
        raise ParameterError("X", value=f"array of shape {X.shape}", expected="a 2-D array with at least 3 rows")
    spec = PROJECTORS.get(method)
    p = validate_params(spec.params, params)
    valid = valid_rows(X, valid, min_valid=3, expected="at least 3 rows to project")
    cache_params = {k: v for k, v in p.items() if k not in spec.not_in_key}
    key = fingerprint("projection", array_fingerprint(np.ascontiguousarray(X)), array_fingerprint(valid), method,
                      cache_params, int(random_state), version=PROJECTION_VERSION)
    return X, valid, p, key


def _load(key: str) -> np.ndarray | None:
    entry = CACHE.get("projection", key)
    return None if entry is None else entry.arrays["Y"]


def cached_projection(X: np.ndarray, method: str, *, random_state: int = 0, valid: np.ndarray | None = None,
                      **params: Any) -> np.ndarray | None:
    """The stored (n, 2) projection for these inputs, or None if it was never computed. Never computes."""
    _, _, _, key = _prepare(X, valid, method, random_state, params)
    return _load(key)


def project(X: np.ndarray, *, method: str, random_state: int = 0, valid: np.ndarray | None = None,
            **params: Any) -> np.ndarray:
    """Project X (n, d) to (n, 2) float32 with ``method`` (see PROJECTORS); cached on disk.

    Rows where ``valid`` is False (default: rows with NaN) are not projected and come back as NaN.
    """
    X, valid, p, key = _prepare(X, valid, method, random_state, params)
    cached = _load(key)
    if cached is not None:
        return cached
    fitted = np.asarray(PROJECTORS.get(method).fit(np.asarray(X[valid], dtype=np.float32), p, int(random_state)),
                        dtype=np.float32)
    Y = np.full((len(X), fitted.shape[1]), np.nan, dtype=np.float32)
    Y[valid] = fitted
    CACHE.put("projection", key, Entry({"Y": Y}, {"method": method, "params": p, "random_state": int(random_state)}))
    return Y
