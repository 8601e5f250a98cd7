"""Clustering: the CLUSTERERS registry (specs with Param tables) and ``run_clustering``.

Label conventions (every ClusterResult, every metric, every page):

* ``0 .. k-1``  clusters, renumbered by size (0 = largest; ties broken by first appearance), so
  colours stay put when a slider moves and two runs with the same partition get the same labels;
* ``-1`` (NOISE)   a point that a density method (DBSCAN, HDBSCAN) left unassigned. Noise points are
  kept and counted (``noise_mask``), never merged into a cluster;
* ``-2`` (MISSING) a track that has no value for this representation (``cluster_rows`` with a
  ``valid`` mask: failed extraction, no lyrics, ...). It is not clustered and every metric ignores it
  (``missing_mask``).

Adding a clusterer is one ``CLUSTERERS.add(name, ClustererSpec(...))`` with a Param table and a
``build(params, random_state)`` returning a scikit-learn-style estimator with ``fit(X)`` and ``labels_``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from core.arrays import valid_rows
from core.errors import ParameterError
from core.params import Param, Spec, validate_params
from core.registry import Registry

NOISE = -1
MISSING = -2
MINIBATCH_ABOVE = 20_000  # k-means switches to MiniBatchKMeans above this many points
HDBSCAN_MIN_SAMPLES_CAP = 25  # min_samples when left at 0 (see _hdbscan)
MAX_QUADRATIC = 30_000    # agglomerative / spectral need O(n^2) memory or time beyond this


@dataclass(frozen=True)
class ClustererSpec(Spec):
    """A clusterer: ``build(params, random_state)`` -> unfitted sklearn-style estimator.

    k_param:   the parameter that sets the number of clusters ("n_clusters", "n_components"), or ""
               for density methods (used by k-selection curves and the page's k slider);
    n_bounded: parameters that may not exceed the number of points being clustered;
    max_n:     largest number of points the method accepts (0 = no limit);
    suggest:   suggest(X, params) -> {name: value} for parameters passed as "auto" (defaults that fit the data:
               DBSCAN's eps from the k-distance knee, HDBSCAN's min_cluster_size from n).
    """

    build: Callable[[dict, int], Any] | None = None
    k_param: str = ""
    n_bounded: tuple[str, ...] = ()
    max_n: int = 0
    suggest: Callable[[np.ndarray, dict], dict] | None = None  # data-derived values for params given as "auto"


@dataclass
class ClusterResult:
    """Outcome of one clustering run.

    labels:      (n,) int64, 0..k-1 clusters, -1 noise, -2 missing (see module docstring)
    noise_mask:  (n,) bool, labels == -1
    missing_mask:(n,) bool, labels == -2 (rows the caller marked invalid)
    n_clusters:  number of clusters, noise and missing excluded
    params:      validated parameters (defaults filled in)
    centers:     (k, d) float array for centroid models (k-means, GMM means), else None
    seconds:     wall time of the fit
    """

    labels: np.ndarray
    noise_mask: np.ndarray
    n_clusters: int
    params: dict
    algorithm: str
    random_state: int
    seconds: float
    centers: np.ndarray | None = None
    missing_mask: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self):
        if self.missing_mask is None:
            self.missing_mask = self.labels == MISSING

    @property
    def n_noise(self) -> int:
        return int(self.noise_mask.sum())

    @property
    def noise_share(self) -> float:
        """Noise points / points clustered (missing rows excluded); 0 when nothing was clustered."""
        n = int((~self.missing_mask).sum())
        return float(self.n_noise / n) if n else 0.0

    def sizes(self) -> dict[int, int]:
        """{label: count} for clusters and noise (-1), missing rows left out."""
        lab = self.labels[~self.missing_mask]
        values, counts = np.unique(lab, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}


CLUSTERERS: Registry[ClustererSpec] = Registry("algorithm")


# ----------------------------------------------------------------------------- estimators

class AutoKMeans:
    """k-means tuned for interactive use: Lloyd with a few inits; MiniBatchKMeans above ``minibatch_above`` points.

    Fitted: ``labels_`` (n,), ``cluster_centers_`` (k, d), ``inertia_``, ``engine_`` ("lloyd" or "minibatch").
    """

    def __init__(self, n_clusters: int = 6, *, n_init: int = 3, max_iter: int = 300,
                 minibatch_above: int = MINIBATCH_ABOVE, random_state: int = 0):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.minibatch_above = minibatch_above
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.cluster import KMeans, MiniBatchKMeans

        if self.minibatch_above and len(X) > self.minibatch_above:
            est = MiniBatchKMeans(n_clusters=self.n_clusters, n_init=self.n_init, batch_size=4096,
                                  max_iter=self.max_iter, random_state=self.random_state)
            self.engine_ = "minibatch"
        else:
            est = KMeans(n_clusters=self.n_clusters, n_init=self.n_init, algorithm="lloyd",
                         max_iter=self.max_iter, random_state=self.random_state)
            self.engine_ = "lloyd"
        est.fit(X)
        self.labels_ = est.labels_
        self.cluster_centers_ = est.cluster_centers_
        self.inertia_ = float(est.inertia_)
        return self


class GMMClusterer:
    """Gaussian mixture as a clusterer. Fitted: ``labels_``, ``cluster_centers_`` (= means), ``bic_``."""

    def __init__(self, n_components: int = 6, *, covariance_type: str = "full", n_init: int = 1,
                 random_state: int = 0):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.mixture import GaussianMixture

        gm = GaussianMixture(n_components=self.n_components, covariance_type=self.covariance_type,
                             n_init=self.n_init, reg_covar=1e-5, random_state=self.random_state).fit(X)
        self.labels_ = gm.predict(X)
        self.cluster_centers_ = gm.means_
        self.bic_ = float(gm.bic(X))
        return self


class ReusableDBSCAN:
    """Exact DBSCAN whose eps can change cheaply: the eps-independent work is done once per (X, min_samples).

    A point is core when its ``min_samples``-th neighbour (itself counted, as in sklearn) lies within
    eps. Core points within eps of each other are linked; the clusters are the connected components.
    Those components equal the ones of the minimum spanning tree of the *mutual reachability*
    distance max(core(p), core(q), d(p, q)) cut at eps (the DBSCAN*/HDBSCAN identity), so the tree
    (the ``hdbscan`` package's exact Borůvka MST) and the k-NN lists are computed once per
    (X, min_samples) and kept in ``core.cache.CACHE`` (memory, namespace "dbscan-tree"); every eps is
    then a cut of n-1 edges plus a border pass: O(n). A non-core point joins the cluster of its nearest
    core point within eps (all candidates are among its ``min_samples`` nearest neighbours); sklearn
    instead gives a point on the border of two clusters to whichever expansion reaches it first, the
    only possible difference. ``min_samples`` = 1 (every point core) runs sklearn's DBSCAN.

    Fitted: ``labels_`` (n,), ``core_sample_indices_``, ``engine_`` ("mst" or "sklearn").
    """

    def __init__(self, eps: float = 1.5, *, min_samples: int = 10):
        self.eps = eps
        self.min_samples = min_samples

    @staticmethod
    def _structure(X: np.ndarray, k: int) -> dict[str, np.ndarray]:
        from core.cache import CACHE, Entry
        from core.hashing import array_fingerprint

        def compute() -> Entry:
            import hdbscan
            from sklearn.neighbors import NearestNeighbors

            Xd = np.asarray(X, dtype=np.float64)
            k_eff = min(k, len(Xd))
            dist, ind = NearestNeighbors(n_neighbors=k_eff).fit(Xd).kneighbors(Xd)
            core = dist[:, -1] if k <= len(Xd) else np.full(len(Xd), np.inf)
            # hdbscan's core distance is the min_samples-th neighbour *excluding* the point: k - 1 here
            tree = hdbscan.HDBSCAN(min_samples=max(1, k - 1), min_cluster_size=2, gen_min_span_tree=True,
                                   approx_min_span_tree=False).fit(Xd).minimum_spanning_tree_.to_numpy()
            u, v = tree[:, 0].astype(np.int64), tree[:, 1].astype(np.int64)
            w = np.maximum(tree[:, 2], np.maximum(core[u], core[v]))
            return Entry({"core": core, "dist": dist, "ind": ind, "u": u, "v": v, "w": w})

        key = f"{array_fingerprint(np.ascontiguousarray(X))}:{int(k)}"
        return CACHE.get_or_compute("dbscan-tree", key, compute, persist=False).arrays

    def fit(self, X, y=None):
        X = np.asarray(X)
        n = len(X)
        if int(self.min_samples) <= 1 or n < 3:
            from sklearn.cluster import DBSCAN

            est = DBSCAN(eps=self.eps, min_samples=self.min_samples).fit(X)
            self.labels_, self.core_sample_indices_, self.engine_ = est.labels_, est.core_sample_indices_, "sklearn"
            return self
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        t = self._structure(X, int(self.min_samples))
        core, dist, ind, u, v, w = t["core"], t["dist"], t["ind"], t["u"], t["v"], t["w"]
        eps = float(self.eps)
        is_core = core <= eps
        keep = w <= eps  # such an edge joins two core points
        g = coo_matrix((np.ones(int(keep.sum())), (u[keep], v[keep])), shape=(n, n))
        _, comp = connected_components(g, directed=False)
        labels = np.full(n, -1, dtype=np.int64)
        labels[is_core] = comp[is_core]
        # border points: nearest core neighbour within eps (neighbour lists are sorted by distance)
        cand = is_core[ind] & (dist <= eps)
        border = ~is_core & cand.any(axis=1)
        first = np.argmax(cand[border], axis=1)
        labels[border] = comp[ind[border, first]]
        self.labels_ = labels
        self.core_sample_indices_ = np.flatnonzero(is_core)
        self.engine_ = "mst"
        return self


def _kmeans(p: dict, rs: int):
    return AutoKMeans(p["n_clusters"], n_init=p["n_init"], random_state=rs)


def _agglomerative(p: dict, rs: int):
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=p["n_clusters"], linkage=p["linkage"])


def _dbscan(p: dict, rs: int):
    return ReusableDBSCAN(p["eps"], min_samples=p["min_samples"])


def _hdbscan(p: dict, rs: int):
    # The `hdbscan` package (boruvka k-d tree) fits 10,000 x 32 blobs in 0.67 s vs 1.34 s for
    # sklearn.cluster.HDBSCAN (1.9.1) on the same machine, so it is the engine; both give the same labels
    # up to numbering on well separated data.
    import hdbscan

    # min_samples = min_cluster_size (the package's default) keeps that many neighbours per point: with
    # min_cluster_size 'auto' = 2,000 at 100,000 tracks that was 6 GB; the density estimate needs far fewer
    return hdbscan.HDBSCAN(min_cluster_size=p["min_cluster_size"],
                           min_samples=p["min_samples"] or min(p["min_cluster_size"], HDBSCAN_MIN_SAMPLES_CAP),
                           cluster_selection_epsilon=p["cluster_selection_epsilon"])


def _gmm(p: dict, rs: int):
    return GMMClusterer(p["n_components"], covariance_type=p["covariance_type"], random_state=rs)


def _spectral(p: dict, rs: int):
    from sklearn.cluster import SpectralClustering

    return SpectralClustering(n_clusters=p["n_clusters"], affinity="nearest_neighbors",
                              n_neighbors=p["n_neighbors"], assign_labels="cluster_qr", random_state=rs)


EPS_SCAN = 24  # candidate eps values tried by "auto", spread over the k-distance curve


def best_eps(X: np.ndarray, *, min_samples: int, dist: np.ndarray) -> float | None:
    """The eps, among quantiles of the sorted k-distance curve ``dist``, whose DBSCAN cut of X scores best
    by Silhouette of the clustered points × the share of points clustered; None if no cut gives two
    clusters. Each cut re-uses one spanning tree (ReusableDBSCAN), so the scan costs a few Silhouettes.

    Why not only the knee: on real collections the k-distance curve rarely has a sharp knee, and the
    chord rule then lands high on it, where DBSCAN merges everything into one cluster."""
    from sklearn.metrics import silhouette_score

    from core.metrics import sample_indices

    cands = np.unique(np.quantile(dist, np.linspace(0.05, 0.95, EPS_SCAN)))
    best, best_score = None, -np.inf
    for eps in cands[cands > 0]:
        labels = ReusableDBSCAN(float(eps), min_samples=min_samples).fit(X).labels_
        kept = labels >= 0
        if len(np.unique(labels[kept])) < 2 or kept.sum() < 3:
            continue
        idx = np.flatnonzero(kept)
        idx = idx[sample_indices(len(idx), 2000, 0)]
        if len(np.unique(labels[idx])) < 2:
            continue
        score = float(silhouette_score(X[idx], labels[idx])) * float(kept.mean())
        if score > best_score:
            best, best_score = float(eps), score
    return best


def _suggest_dbscan(X: np.ndarray, p: dict) -> dict:
    from core.metrics import k_distance, sample_indices, suggest_eps

    ms = p.get("min_samples")
    ms = 10 if ms in (None, "auto") else int(ms)
    ms = max(2, min(ms, len(X) - 1))
    sub = X[sample_indices(len(X), 5000, 0)]
    dist = k_distance(sub, k=ms)
    eps = best_eps(sub, min_samples=ms, dist=dist)
    if eps is None:
        eps = float(suggest_eps(dist))
    return {"eps": max(eps, 1e-9), "min_samples": ms}


def _suggest_hdbscan(X: np.ndarray, p: dict) -> dict:
    return {"min_cluster_size": int(min(max(5, round(0.02 * len(X))), max(2, len(X) // 2)))}


_K = Param("int", 6, 2, 50, help="Number of clusters.")
CLUSTERERS.add("kmeans", ClustererSpec(
    "kmeans", "K-Means",
    {"n_clusters": _K,
     "n_init": Param("int", 3, 1, 50, help="Restarts from different seeds; the best inertia wins.")},
    help="Lloyd k-means (MiniBatchKMeans above 20,000 points). Spherical clusters of similar size.",
    build=_kmeans, k_param="n_clusters", n_bounded=("n_clusters",)))
CLUSTERERS.add("agglomerative", ClustererSpec(
    "agglomerative", "Agglomerative",
    {"n_clusters": _K,
     "linkage": Param("choice", "ward", choices=("ward", "average", "complete"), help="Merge criterion.")},
    help="Bottom-up merging (Ward = minimum variance). O(n^2) memory: up to 30,000 points.",
    build=_agglomerative, k_param="n_clusters", n_bounded=("n_clusters",), max_n=MAX_QUADRATIC))
CLUSTERERS.add("dbscan", ClustererSpec(
    "dbscan", "DBSCAN",
    {"eps": Param("float", 1.5, 0.0, None, low_open=True, help="Neighbourhood radius (report 000: 1.5). "
                  "Use the k-distance knee (suggest_eps) as a starting point."),
     "min_samples": Param("int", 10, 1, None, help="Points (itself included) within eps to be a core point.")},
    help="Density clusters; points in sparse regions become noise (-1). eps='auto' scans the k-distance curve "
         "for the cut with the best Silhouette × clustered share (the knee if none splits).",
    build=_dbscan, suggest=_suggest_dbscan))
CLUSTERERS.add("hdbscan", ClustererSpec(
    "hdbscan", "HDBSCAN",
    {"min_cluster_size": Param("int", 15, 2, None, help="Smallest group that counts as a cluster."),
     "min_samples": Param("int", 0, 0, None, help="Density smoothing; 0 = min_cluster_size, at most 25."),
     "cluster_selection_epsilon": Param("float", 0.0, 0.0, None, help="Merge clusters closer than this.")},
    help="Hierarchical DBSCAN (the `hdbscan` package): no eps to tune; noise is -1. min_cluster_size='auto' "
         "= 2 % of the tracks (at least 5). On 16–64-D embeddings cluster a UMAP-reduced representation.",
    build=_hdbscan, n_bounded=("min_cluster_size",), suggest=_suggest_hdbscan))
CLUSTERERS.add("gmm", ClustererSpec(
    "gmm", "Gaussian mixture",
    {"n_components": Param("int", 6, 2, 50, help="Number of mixture components (clusters)."),
     "covariance_type": Param("choice", "full", choices=("full", "diag", "tied", "spherical"),
                              help="Shape of each component's covariance.")},
    help="Soft elliptical clusters; labels are the most likely component.",
    build=_gmm, k_param="n_components", n_bounded=("n_components",)))
CLUSTERERS.add("spectral", ClustererSpec(
    "spectral", "Spectral",
    {"n_clusters": _K,
     "n_neighbors": Param("int", 10, 2, 200, help="Neighbours in the affinity graph.")},
    help="Spectral clustering on a k-nearest-neighbour graph; finds non-convex clusters. Up to 30,000 points.",
    build=_spectral, k_param="n_clusters", n_bounded=("n_clusters", "n_neighbors"), max_n=MAX_QUADRATIC))


# ----------------------------------------------------------------------------- running

def _check_matrix(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise ParameterError(name, value=f"array of shape {X.shape}", expected="a 2-D array (n_samples, n_features)",
                             fix="Flatten per-track features first (a Representation does this).")
    if X.dtype.kind not in "fiub":
        raise ParameterError(name, value=f"dtype {X.dtype}", expected="a numeric array")
    return X


def resolve_auto(algorithm: str, params: Mapping[str, Any] | None, X: np.ndarray) -> dict:
    """``params`` with every "auto" value replaced by the clusterer's data-derived suggestion for X (n, d)."""
    spec = CLUSTERERS.get(algorithm)
    params = dict(params or {})
    auto = [k for k, v in params.items() if isinstance(v, str) and v.strip().lower() == "auto"]
    if not auto:
        return params
    if spec.suggest is None:
        raise ParameterError(auto[0], value="auto", expected=f"a value: {spec.label} has no data-derived default")
    suggested = spec.suggest(np.asarray(X), params)
    for k in auto:
        if k not in suggested:
            raise ParameterError(k, value="auto", expected=f"a value: {spec.label} suggests only {sorted(suggested)}")
        params[k] = suggested[k]
    return params


def validate_clustering(algorithm: str, params: Mapping[str, Any] | None, *, n_samples: int | None = None) -> dict:
    """Validated params (defaults filled) for ``algorithm``; with ``n_samples`` also the bounds that depend on n."""
    spec = CLUSTERERS.get(algorithm)
    out = validate_params(spec.params, dict(params or {}))
    if n_samples is not None:
        for name in spec.n_bounded:
            if out[name] > n_samples:
                raise ParameterError(name, value=out[name], expected=f"at most the number of points ({n_samples})",
                                     fix=f"Lower {name} or cluster more tracks.")
        if spec.max_n and n_samples > spec.max_n:
            raise ParameterError("algorithm", value=algorithm,
                                 expected=f"a method that scales to {n_samples} points ({spec.label} is limited to {spec.max_n})",
                                 fix="Use kmeans, dbscan or hdbscan for this many points.")
    return out


def relabel_by_size(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber non-negative labels 0..k-1 by decreasing size (ties: first appearance). Returns (new, order)

    where ``order[j]`` is the old label that became ``j``. Negative labels are kept as they are."""
    labels = np.asarray(labels, dtype=np.int64)
    pos = labels >= 0
    if not pos.any():
        return labels.copy(), np.zeros(0, dtype=np.int64)
    old, first, counts = np.unique(labels[pos], return_index=True, return_counts=True)
    order = old[np.lexsort((first, -counts))]
    mapping = np.full(int(old.max()) + 1, -1, dtype=np.int64)
    mapping[order] = np.arange(len(order))
    out = labels.copy()
    out[pos] = mapping[labels[pos]]
    return out, order


def run_clustering(X: np.ndarray, *, algorithm: str, params: Mapping[str, Any] | None = None,
                   random_state: int = 0) -> ClusterResult:
    """Cluster every row of ``X`` (n, d). Raises ParameterError for bad params or non-finite rows.

    Rows with NaN are an error here: use ``cluster_rows(X, valid, ...)`` to skip them.
    """
    X = _check_matrix(X)
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X).all(axis=1)).sum())
        raise ParameterError("X", value=f"{bad} rows with NaN/inf", expected="finite values in every row",
                             fix="Pass a valid mask to cluster_rows(X, valid, ...) to leave those tracks out.")
    spec = CLUSTERERS.get(algorithm)
    p = validate_clustering(algorithm, resolve_auto(algorithm, params, X), n_samples=len(X))
    if len(X) < 2:
        raise ParameterError("X", value=f"{len(X)} rows", expected="at least 2 points to cluster")
    est = spec.build(p, int(random_state))
    t0 = time.perf_counter()
    est.fit(X)
    seconds = time.perf_counter() - t0
    raw = np.asarray(est.labels_, dtype=np.int64)
    labels, order = relabel_by_size(raw)
    centers = getattr(est, "cluster_centers_", None)
    if centers is not None:
        centers = np.asarray(centers)[order] if len(order) else None
    noise = labels == NOISE
    return ClusterResult(labels=labels, noise_mask=noise, n_clusters=int(len(order)), params=p,
                         algorithm=algorithm, random_state=int(random_state), seconds=seconds, centers=centers,
                         missing_mask=np.zeros(len(labels), dtype=bool))


def cluster_rows(X: np.ndarray, valid: np.ndarray | None = None, *, algorithm: str,
                 params: Mapping[str, Any] | None = None, random_state: int = 0) -> ClusterResult:
    """Cluster the rows of ``X`` (n, d) where ``valid`` (n,) is True; the others get label -2 (MISSING).

    ``valid=None`` means rows that are all finite. Rows marked valid must be finite.
    The returned labels, masks cover all n rows, so they line up with the track table.
    """
    X = _check_matrix(X)
    valid = valid_rows(X, valid, min_valid=2, expected="at least 2 tracks with this representation",
                       fix="Extract the feature for more tracks or choose another representation.")
    sub = run_clustering(X[valid], algorithm=algorithm, params=params, random_state=random_state)
    labels = np.full(len(X), MISSING, dtype=np.int64)
    labels[valid] = sub.labels
    return ClusterResult(labels=labels, noise_mask=labels == NOISE, n_clusters=sub.n_clusters, params=sub.params,
                         algorithm=algorithm, random_state=sub.random_state, seconds=sub.seconds,
                         centers=sub.centers, missing_mask=~valid)
