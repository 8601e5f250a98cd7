"""Clustering metrics, NaN-safe, with degenerate results said out loud.

Internal metrics (Silhouette, Calinski-Harabasz, Davies-Bouldin) are computed on the clustered,
non-noise points only (labels >= 0). External metrics (ARI, NMI, Purity, Hungarian accuracy) compare
labels with a truth column; tracks with an empty/missing truth value and tracks not clustered
(label -2, MISSING) are left out. Noise (-1) is, by default, one more cluster of its own
("own-cluster": all noise points together form one group, which is what a user sees on the map);
``noise="exclude"`` drops noise points instead. The choice is written into the output
(``noise_treatment``).

``evaluate`` gathers everything into a MetricReport whose ``warnings`` name the degenerate cases the
reports ran into: one cluster (report 000's DBSCAN NaN rows), all noise, purity equal to the
majority-class share (report 004's 0.5743 everywhere), features built from the scored labels
(report 003's genre one-hot, a conditional VAE), a high Silhouette with chance-level ARI (report 001's
0.935 vs 0.004) and a high noise share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from core.cluster import MISSING
from core.errors import ParameterError

NAN = float("nan")
PURITY_TOL = 1e-9
HIGH_SILHOUETTE = 0.5
CHANCE_ARI = 0.05
CHANCE_PURITY = 0.05  # purity within this of the majority share (with |ARI| < CHANCE_ARI) is chance level
HIGH_NOISE = 0.5
ONE_LABEL_SHARE = 0.99  # a clustering with >= 99 % of the points in one label is "effectively one label"


@dataclass(frozen=True)
class MetricWarning:
    """A degenerate result, said instead of a plain number. ``keys``: the values it concerns."""

    code: str
    message: str
    keys: tuple[str, ...] = ()


@dataclass
class MetricReport:
    """values: flat {name: float}; cluster_sizes: {label: count} (-1 = noise); meta: run description."""

    values: dict[str, float]
    cluster_sizes: dict[int, int]
    warnings: list[MetricWarning] = field(default_factory=list)
    leaked: frozenset[str] = frozenset()
    meta: dict = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [w.code for w in self.warnings]

    def to_frame(self, *, include_meta: bool = True) -> pd.DataFrame:
        """One row: meta columns (algorithm, params, ...), then every value, then ``warnings`` (codes, ';'-joined)."""
        row: dict = {}
        if include_meta:
            row.update(self.meta)
        row.update(self.values)
        row["warnings"] = ";".join(self.codes)
        return pd.DataFrame([row])

    def warnings_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"code": w.code, "message": w.message, "keys": ",".join(w.keys)} for w in self.warnings],
                            columns=["code", "message", "keys"])


# ----------------------------------------------------------------------------- helpers

def _truth_mask(truth: np.ndarray) -> np.ndarray:
    """True where a truth label is present (not None/NaN/empty string)."""
    t = pd.Series(np.asarray(truth, dtype=object))
    missing = t.isna() | (t.astype(str).str.strip() == "")
    return ~missing.to_numpy()


def _identical_points_split(X: np.ndarray, labels: np.ndarray) -> int:
    """Number of groups of identical rows of X (n, d) that received more than one cluster label."""
    if len(X) < 2:
        return 0
    bits = np.ascontiguousarray(np.asarray(X, dtype=np.float64)).view(np.uint64).reshape(len(X), -1)
    mix = (np.arange(1, bits.shape[1] + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
    _, inverse, counts = np.unique((bits * mix).sum(axis=1), return_inverse=True, return_counts=True)
    if counts.max() < 2:  # the common case: all rows distinct (no hash shared), nothing more to check
        return 0
    dup = np.flatnonzero(counts[inverse] > 1)
    _, group = np.unique(bits[dup], axis=0, return_inverse=True)  # exact equality among the few candidates
    pairs = pd.DataFrame({"row": group.ravel(), "label": np.asarray(labels)[dup]}).drop_duplicates()
    return int((pairs.groupby("row").size() > 1).sum())


def majority_share(truth) -> float:
    """Share of the most frequent class among labelled tracks (NaN when none is labelled)."""
    t = np.asarray(truth, dtype=object)
    t = t[_truth_mask(t)]
    if len(t) == 0:
        return NAN
    _, counts = np.unique(t.astype(str), return_counts=True)
    return float(counts.max() / len(t))


def _counts(labels: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(clusters x classes) count matrix (sklearn's contingency_matrix, dense)."""
    from sklearn.metrics.cluster import contingency_matrix

    return contingency_matrix(np.asarray(truth).astype(str), np.asarray(labels)).T


def purity(labels, truth) -> float:
    """sum over clusters of the largest class count, / N."""
    m = _counts(labels, truth)
    return float(m.max(axis=1).sum() / m.sum()) if m.size else NAN


def hungarian_accuracy(labels, truth) -> float:
    """Accuracy after the best one-to-one matching of clusters to classes (unmatched ones count as wrong)."""
    from scipy.optimize import linear_sum_assignment

    m = _counts(labels, truth)
    if not m.size:
        return NAN
    r, c = linear_sum_assignment(m, maximize=True)
    return float(m[r, c].sum() / m.sum())


def sample_indices(n: int, size: int, random_state: int = 0) -> np.ndarray:
    """Sorted seeded sample of ``size`` of ``range(n)`` (all of them when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


# ----------------------------------------------------------------------------- internal / external

def internal_metrics(X: np.ndarray, labels: np.ndarray, *, sample_size: int | None = 5000,
                     random_state: int = 0) -> dict:
    """Silhouette, Calinski-Harabasz, Davies-Bouldin on the points with label >= 0.

    X: (n, d); labels: (n,). Silhouette is computed on a seeded sample of ``sample_size`` points when
    more are clustered; ``silhouette_sampled`` is that sample size, or 0 when all points were used.
    Values are NaN when undefined (fewer than 2 clusters, or as many clusters as points).
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    X = np.asarray(X)
    labels = np.asarray(labels)
    if X.ndim != 2 or len(X) != len(labels):
        raise ParameterError("X", value=f"shape {X.shape} with {len(labels)} labels",
                             expected="a 2-D array with one row per label")
    if sample_size is None:
        sample_size = len(X)  # no sampling
    if sample_size < 2:
        raise ParameterError("sample_size", value=sample_size, expected="an int >= 2 (or None: every point)")
    keep = labels >= 0
    Xk, lk = X[keep], labels[keep]
    out = {"silhouette": NAN, "calinski_harabasz": NAN, "davies_bouldin": NAN, "silhouette_sampled": 0}
    k = len(np.unique(lk))
    if k < 2 or k >= len(lk):
        return out
    out["calinski_harabasz"] = float(calinski_harabasz_score(Xk, lk))
    out["davies_bouldin"] = float(davies_bouldin_score(Xk, lk))
    idx = sample_indices(len(lk), sample_size, random_state)
    if len(idx) < len(lk):
        out["silhouette_sampled"] = int(len(idx))
    ks = len(np.unique(lk[idx]))
    if 2 <= ks < len(idx):
        out["silhouette"] = float(silhouette_score(Xk[idx], lk[idx]))
    return out


NOISE_TREATMENTS = ("own-cluster", "exclude")


def external_metrics(labels, truth, *, noise: str = "own-cluster") -> dict:
    """ARI, NMI, Purity and Hungarian accuracy of ``labels`` (n,) against ``truth`` (n,).

    Rows with an empty/None/NaN truth value and rows with label -2 (not clustered) are excluded.
    noise="own-cluster": the noise points (-1) form one extra cluster; "exclude": noise rows are dropped.
    Returns the four values plus ``n_scored`` (rows used) and ``noise_treatment``.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    if noise not in NOISE_TREATMENTS:
        raise ParameterError("noise", value=noise, expected=f"one of {list(NOISE_TREATMENTS)}")
    labels = np.asarray(labels)
    truth = np.asarray(truth, dtype=object)
    if labels.shape != truth.shape:
        raise ParameterError("truth", value=f"shape {truth.shape}", expected=f"one label per track, shape {labels.shape}")
    keep = _truth_mask(truth) & (labels >= -1)
    if noise == "exclude":
        keep &= labels >= 0
    lab, tru = labels[keep], truth[keep].astype(str)
    out = {"ari": NAN, "nmi": NAN, "purity": NAN, "accuracy": NAN, "n_scored": int(keep.sum()),
           "noise_treatment": noise}
    if len(lab) == 0:
        return out
    out["ari"] = float(adjusted_rand_score(tru, lab))
    out["nmi"] = float(normalized_mutual_info_score(tru, lab))
    out["purity"] = purity(lab, tru)
    out["accuracy"] = hungarian_accuracy(lab, tru)
    return out


# ----------------------------------------------------------------------------- evaluate

def evaluate(X: np.ndarray, result, *, label_columns: Mapping[str, Iterable] | None = None,
             uses_labels: Iterable[str] | str | bool = (), sample_size: int | None = 5000, random_state: int = 0,
             noise: str = "own-cluster", meta: Mapping | None = None) -> MetricReport:
    """Every metric for a ClusterResult on X (n, d), with warnings for degenerate results.

    label_columns: {"language": (n,) array, ...}; empty strings mean unknown.
    uses_labels:   label columns the representation was built from (Representation.uses_labels); their external
                   metrics are marked leaked. A single column name is accepted; True means "built from labels,
                   which ones unknown" and marks every label column.
    sample_size:   Silhouette sample (None = every point).
    values keys: n_points, n_missing, n_clusters, n_noise, noise_share, silhouette, calinski_harabasz,
    davies_bouldin, silhouette_sampled, and per label column c: ari_c, nmi_c, purity_c, accuracy_c,
    majority_share_c, n_scored_c.
    """
    labels = np.asarray(result.labels)
    X = np.asarray(X)
    label_columns = dict(label_columns or {})
    if isinstance(uses_labels, str):
        uses = {uses_labels}
    elif isinstance(uses_labels, (bool, np.bool_)):
        uses = set(label_columns) if uses_labels else set()
    else:
        uses = {str(c) for c in (uses_labels or ())}
    present = labels != MISSING
    n_clustered = int(present.sum())
    n_noise = int((labels == -1).sum())
    values: dict[str, float] = {
        "n_points": n_clustered, "n_missing": int(len(labels) - n_clustered),
        "n_clusters": int(result.n_clusters), "n_noise": n_noise,
        "noise_share": float(n_noise / n_clustered) if n_clustered else NAN,
    }
    warnings: list[MetricWarning] = []
    Xp = np.where(present[:, None], X, 0.0) if X.size else X  # missing rows may hold NaN; they are ignored
    values.update(internal_metrics(Xp, labels, sample_size=sample_size, random_state=random_state))

    internal_keys = ("silhouette", "calinski_harabasz", "davies_bouldin")
    # one group in all (a single cluster, or everything noise): there is no partition to compare with labels
    n_groups = int(result.n_clusters) + (1 if n_noise and noise == "own-cluster" else 0)
    no_partition = n_clustered > 0 and n_groups < 2
    external_keys = tuple(f"{m}_{c}" for c in label_columns for m in ("ari", "nmi", "purity", "accuracy"))
    if n_clustered and n_noise == n_clustered:
        warnings.append(MetricWarning("all_noise", f"All {n_clustered} points are noise: no cluster was found, so "
                                      "every score is undefined. Increase eps / lower min_samples (DBSCAN) or "
                                      "min_cluster_size (HDBSCAN), or use eps='auto'.", internal_keys + external_keys))
    elif result.n_clusters < 2:
        warnings.append(MetricWarning("one_cluster", f"Only {result.n_clusters} cluster(s): Silhouette, Calinski-Harabasz "
                                      "and Davies-Bouldin are undefined" + (" and so are the scores against labels"
                                                                            if no_partition else "")
                                      + ". Try a smaller eps or a k >= 2.",
                                      internal_keys + (external_keys if no_partition else ())))
    if values["noise_share"] > HIGH_NOISE and n_noise != n_clustered:
        warnings.append(MetricWarning("high_noise", f"{values['noise_share']:.0%} of the points are noise; internal "
                                      "metrics describe only the remaining "
                                      f"{n_clustered - n_noise} points.", ("noise_share",) + internal_keys))
    split = _identical_points_split(Xp[present], labels[present]) if X.size else 0
    if split:
        warnings.append(MetricWarning("identical_points_split", f"{split} groups of identical tracks (the same "
                                      "representation) were put in different clusters: the split between them is "
                                      "arbitrary. Lower k or check for duplicate tracks.", ("n_clusters",)))
    if values["n_missing"]:
        warnings.append(MetricWarning("missing_rows", f"{values['n_missing']} tracks have no value for this "
                                      "representation and were left out of clustering and metrics.", ("n_missing",)))

    leaked: set[str] = set()
    sizes = {int(k): int(v) for k, v in zip(*np.unique(labels[present], return_counts=True))}
    for col, truth in label_columns.items():
        truth = np.asarray(truth, dtype=object)
        ext = external_metrics(labels, truth, noise=noise)
        keys = [f"{m}_{col}" for m in ("ari", "nmi", "purity", "accuracy")]
        for m, key in zip(("ari", "nmi", "purity", "accuracy"), keys):
            values[key] = ext[m]
        scored = _truth_mask(truth) & (labels >= (0 if noise == "exclude" else -1))
        maj = majority_share(truth[scored])
        values[f"majority_share_{col}"] = maj
        values[f"n_scored_{col}"] = ext["n_scored"]
        if ext["n_scored"] == 0:
            continue
        pur = ext["purity"]
        lab_s = labels[scored]
        top_share = np.unique(lab_s, return_counts=True)[1].max() / len(lab_s)
        degenerate = abs(pur - maj) <= PURITY_TOL or top_share >= ONE_LABEL_SHARE
        if degenerate:
            why = (f"{top_share:.1%} of the labelled points share one cluster label" if top_share >= ONE_LABEL_SHARE
                   else "every cluster's majority is the same class")
            warnings.append(MetricWarning("purity_majority", f"Purity for {col} ({pur:.4f}) equals the majority-class "
                                          f"share ({maj:.4f}): {why}, so purity says nothing about {col}.",
                                          (f"purity_{col}", f"accuracy_{col}")))
        if col in uses:
            leaked.update(keys)
            warnings.append(MetricWarning("leak", f"The representation was built from the {col} labels "
                                          f"(e.g. a conditional VAE or a {col} one-hot): the {col} scores "
                                          "measure the leak, not what the clustering found.", tuple(keys)))
        elif not degenerate and abs(ext["ari"]) < CHANCE_ARI and abs(pur - maj) <= CHANCE_PURITY:
            warnings.append(MetricWarning("chance", f"No better than chance against {col}: ARI {ext['ari']:.3f} and "
                                          f"purity {pur:.3f} vs a majority share of {maj:.3f}. The clusters do not "
                                          f"follow {col}; try another representation or k.",
                                          (f"ari_{col}", f"nmi_{col}", f"purity_{col}")))
        sil, ari = values["silhouette"], ext["ari"]
        if not math.isnan(sil) and sil > HIGH_SILHOUETTE and abs(ari) < CHANCE_ARI:
            warnings.append(MetricWarning("silhouette_vs_chance", f"Silhouette is high ({sil:.3f}) but ARI against "
                                          f"{col} is at chance level ({ari:.4f}): the clusters are well separated "
                                          f"but unrelated to {col}.", ("silhouette", f"ari_{col}")))
    if no_partition:  # ARI 0 / purity = majority share would read as results; they are undefined
        for key in external_keys:
            values[key] = NAN
    run_meta = {"algorithm": getattr(result, "algorithm", ""), "params": params_str(getattr(result, "params", {})),
                "random_state": getattr(result, "random_state", random_state), "noise_treatment": noise}
    run_meta.update(meta or {})
    return MetricReport(values=values, cluster_sizes=sizes, warnings=warnings, leaked=frozenset(leaked), meta=run_meta)


def params_str(params: Mapping) -> str:
    """Canonical display of a parameter dict: 'eps=1.5, min_samples=10'."""
    return ", ".join(f"{k}={v}" for k, v in sorted(dict(params or {}).items()))


ACTIVE_UNIT_THRESHOLD = 0.01


def active_units(mu: np.ndarray, *, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Latent dimensions whose mean μ_j varies across tracks: Var_x[μ_j(x)] > threshold. mu: (n, d)."""
    mu = np.asarray(mu)
    if mu.ndim != 2 or len(mu) < 2:
        return 0
    return int((np.var(mu, axis=0) > threshold).sum())


# ----------------------------------------------------------------------------- choosing k / eps

def k_selection(X: np.ndarray, *, k_range: Iterable[int] = range(2, 13), algorithm: str = "kmeans",
                params: Mapping | None = None, random_state: int = 0, sample_size: int = 5000) -> pd.DataFrame:
    """Internal metrics for each k (X: (n, d) finite). Columns: k, silhouette, calinski_harabasz, davies_bouldin.

    ``algorithm`` must have a k parameter (kmeans, agglomerative, gmm, spectral); k >= n is skipped.
    """
    from core.cluster import CLUSTERERS, run_clustering

    spec = CLUSTERERS.get(algorithm)
    if not spec.k_param:
        raise ParameterError("algorithm", value=algorithm, expected="a clusterer with a number of clusters "
                             f"({[n for n, s in CLUSTERERS.items() if s.k_param]})")
    rows = []
    for k in k_range:
        if k >= len(X):
            continue
        res = run_clustering(X, algorithm=algorithm, params={**dict(params or {}), spec.k_param: int(k)},
                             random_state=random_state)
        m = internal_metrics(X, res.labels, sample_size=sample_size, random_state=random_state)
        rows.append({"k": int(k), "silhouette": m["silhouette"], "calinski_harabasz": m["calinski_harabasz"],
                     "davies_bouldin": m["davies_bouldin"]})
    return pd.DataFrame(rows, columns=["k", "silhouette", "calinski_harabasz", "davies_bouldin"])


def suggest_k(df: pd.DataFrame) -> int:
    """The k with the highest Silhouette (ties: the smaller k), as report 001 chose K=4.

    Falls back to the highest Calinski-Harabasz when every Silhouette is NaN.
    """
    if df is None or len(df) == 0:
        raise ParameterError("df", value="an empty table", expected="k_selection() output with at least one row")
    col = "silhouette" if df["silhouette"].notna().any() else "calinski_harabasz"
    d = df[df[col].notna()]
    if len(d) == 0:
        raise ParameterError("df", value="all-NaN metrics", expected="at least one k with a defined metric")
    best = d[col].max()
    return int(d.loc[d[col] == best, "k"].min())


def k_distance(X: np.ndarray, *, k: int = 10) -> np.ndarray:
    """Sorted (ascending) distance of every point to its k-th nearest neighbour, the point itself counted

    as the first (DBSCAN's ``min_samples`` convention, so ``k = min_samples``). X: (n, d) -> (n,)."""
    from sklearn.neighbors import NearestNeighbors

    X = np.asarray(X)
    if not (1 <= k <= len(X)):
        raise ParameterError("k", value=k, expected=f"an int in [1, {len(X)}] (number of points)")
    dist, _ = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    return np.sort(dist[:, -1])


def suggest_eps(dist: np.ndarray) -> float:
    """Knee of a sorted k-distance curve: the point farthest from the chord joining its ends.

    Both axes are scaled to [0, 1] first, so the answer does not depend on units.
    """
    d = np.asarray(dist, dtype=float)
    if d.ndim != 1 or len(d) < 3:
        raise ParameterError("dist", value=f"shape {d.shape}", expected="a sorted 1-D curve with at least 3 points")
    x = np.linspace(0.0, 1.0, len(d))
    span = d[-1] - d[0]
    if span <= 0:
        return float(d[0])
    y = (d - d[0]) / span
    # distance to the chord y = x is |x - y| / sqrt(2); the factor does not move the argmax
    return float(d[int(np.argmax(np.abs(x - y)))])
