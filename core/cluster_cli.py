"""`python -m core cluster` and `python -m core select-k`: build a representation, cluster it, score it.

    python -m core cluster --dataset demo --representation pca --feature mfcc_stats --n-components 16 \\
        --algorithm kmeans --param n_clusters=4 --seed 0 --labels language,genre --out metrics.md \\
        --assignments clusters.csv
    python -m core select-k --dataset demo --representation pca --feature mfcc_stats --out choose_k/

Representation flags are generated from the REPRESENTATIONS parameter tables: every parameter of every
kind is a flag (``--feature``, ``--n-components``, ``--model-id``, ``--alpha``, …; a kind ignores the
flags it does not have). Nested parts (fusion's audio part, umap's base) are given as JSON
(``--audio '{"kind": "latent", "params": {"model_id": "…"}}'``) or built from the same flags:
fusion's audio part is the latent of ``--model-id`` if given, else ``--audio-kind`` (pca) of ``--feature``.

--out FILE (.csv | .md | .tex | .json): one row (the run + every metric) and the warnings.
--assignments FILE.csv: track_id,title,artist,language,genre,cluster (-1 noise, empty for tracks without
this representation); text cells that look like spreadsheet formulas are neutralized.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import ParameterError


def parse_value(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_params(items: list[str] | None) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ParameterError("--param", value=item, expected="NAME=VALUE, e.g. n_clusters=4")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_value(v)
    return out


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _kind_options() -> dict[str, tuple]:
    """Every parameter name of every representation kind → (Param, role) (first definition wins)."""
    from core.represent import REPRESENTATIONS

    out: dict[str, tuple] = {}
    for _, kind in REPRESENTATIONS.items():
        for name, p in kind.params.items():
            out.setdefault(name, (p, kind.roles.get(name, "")))
    return out


def add_representation_args(p: argparse.ArgumentParser) -> None:
    """--representation KIND and one flag per parameter of any kind (generated from the Param tables)."""
    from core.represent import REPRESENTATIONS

    p.add_argument("--representation", required=True, choices=REPRESENTATIONS.names(),
                   help="what to cluster: " + "; ".join(f"{n} = {k.label}" for n, k in REPRESENTATIONS.items()))
    for name, (param, role) in _kind_options().items():
        p.add_argument(_flag(name), dest=f"rep_{name}", type=str, default=None,
                       help=f"{param.help} ({param.describe()}; default {param.default!r})")
    for name in ("audio", "base"):
        p.add_argument(_flag(name), dest=f"rep_{name}", default=None,
                       help=f"the nested {name} representation as JSON, e.g. '{{\"kind\": \"pca\", \"params\": "
                            "{\"feature\": \"mfcc_stats\"}}'")
    p.add_argument("--audio-kind", dest="audio_kind", choices=("pca", "raw"), default="pca",
                   help="fusion/umap nested part when neither --model-id nor --audio/--base is given")


def spec_from_args(args):
    """The RepresentationSpec the flags describe (only the chosen kind's own parameters are used)."""
    from core.represent import REPRESENTATIONS, RepresentationSpec

    kind = REPRESENTATIONS.get(args.representation)
    own = {name: getattr(args, f"rep_{name}", None) for name in kind.params}
    params = {k: parse_value(v) for k, v in own.items() if v is not None}
    for name, role in kind.roles.items():
        if role != "spec":
            continue
        text = getattr(args, f"rep_{name}", None)
        if text:
            try:
                params[name] = RepresentationSpec.from_any(json.loads(text))
            except json.JSONDecodeError as exc:
                raise ParameterError(_flag(name), value=text, expected="a JSON representation spec",
                                     fix=f"e.g. '{{\"kind\": \"pca\", \"params\": {{\"feature\": \"mfcc_stats\"}}}}' ({exc.msg})"
                                     ) from None
        elif getattr(args, "rep_model_id", None):
            params[name] = RepresentationSpec("latent", {"model_id": args.rep_model_id})
        else:
            sub = {"feature": parse_value(args.rep_feature)} if getattr(args, "rep_feature", None) else {}
            if args.audio_kind == "pca" and getattr(args, "rep_n_components", None) and kind.name != "umap":
                sub["n_components"] = parse_value(args.rep_n_components)
            params[name] = RepresentationSpec(args.audio_kind, sub)
    if "random_state" in kind.params and "random_state" not in params:
        params["random_state"] = args.seed
    return RepresentationSpec(args.representation, params)


def _label_args(dataset, text: str | None) -> dict[str, np.ndarray]:
    from core.schema import label_columns

    tracks = dataset.tracks
    cols = [c.strip() for c in text.split(",") if c.strip()] if text else label_columns(tracks)
    missing = [c for c in cols if c not in tracks.columns]
    if missing:
        raise ParameterError("--labels", value=",".join(missing), expected=f"columns of the track table "
                             f"{[c for c in tracks.columns if tracks[c].dtype == object][:20]}")
    return {c: tracks[c].fillna("").astype(str).to_numpy() for c in cols}


def run(args) -> int:
    from core import artifacts
    from core.cluster import cluster_rows
    from core.datasets import load_dataset
    from core.export import csv_text, to_markdown, write_table
    from core.metrics import evaluate
    from core.represent import build_representation

    dataset = load_dataset(args.dataset)
    rep = build_representation(dataset, spec_from_args(args))
    res = cluster_rows(rep.X, rep.valid, algorithm=args.algorithm, params=parse_params(args.param),
                       random_state=args.seed)
    tracks = dataset.tracks
    report = evaluate(rep.X, res, label_columns=_label_args(dataset, args.labels), uses_labels=rep.uses_labels,
                      sample_size=args.sample_size, random_state=args.seed,
                      meta={"dataset": dataset.name, "representation": rep.label})
    df = report.to_frame()
    warnings = list(report.warnings) + [type("W", (), {"code": "representation", "message": w})()
                                        for w in rep.warnings]
    if args.out:
        write_table(df, args.out, warnings=warnings)
        print(f"wrote {args.out}")
    if args.assignments:
        cl = pd.array(np.where(res.missing_mask, pd.NA, res.labels), dtype="Int64")
        out = pd.DataFrame({c: tracks[c] if c in tracks.columns else ""
                            for c in ("track_id", "title", "artist", "language", "genre")})
        out["cluster"] = cl
        artifacts.write_text(args.assignments, csv_text(out))
        print(f"wrote {args.assignments}")
    if not args.quiet:
        print(to_markdown(df, warnings))
    return 0


def run_select_k(args) -> int:
    """k-selection curves (algorithms with k) or the k-distance curve (density algorithms) → CSV + PNG."""
    from core import artifacts
    from core.cluster import CLUSTERERS
    from core.datasets import load_dataset
    from core.export import csv_text
    from core.metrics import k_distance, k_selection, suggest_eps, suggest_k
    from core.represent import build_representation

    dataset = load_dataset(args.dataset)
    rep = build_representation(dataset, spec_from_args(args))
    X = rep.X[rep.valid]
    spec = CLUSTERERS.get(args.algorithm)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.k_min < 2 or args.k_max < args.k_min:
        raise ParameterError("--k-min/--k-max", value=(args.k_min, args.k_max), expected="2 ≤ k-min ≤ k-max")
    if spec.k_param:
        df = k_selection(X, k_range=range(args.k_min, min(args.k_max, len(X) - 1) + 1), algorithm=args.algorithm,
                         random_state=args.seed, sample_size=args.sample_size)
        best = suggest_k(df)
        artifacts.write_text(out / "select_k.csv", csv_text(df))
        _plot_png(out / "select_k.png", df["k"], {m: df[m] for m in ("silhouette", "calinski_harabasz",
                                                                        "davies_bouldin")}, x_label="k", marked=best,
                  title=f"{rep.label}: suggested k = {best} (highest Silhouette)")
        print(f"suggested {spec.k_param} = {best} (highest Silhouette); curves in {out / 'select_k.csv'}")
    else:
        ms = max(2, min(args.min_samples, len(X) - 1))
        dist = k_distance(X, k=ms)
        eps = suggest_eps(dist)
        artifacts.write_text(out / "k_distance.csv", csv_text(pd.DataFrame({"rank": np.arange(len(dist)),
                                                                             f"distance_to_{ms}th": dist})))
        _plot_png(out / "k_distance.png", np.arange(len(dist)), {f"{ms}-th neighbour distance": dist},
                  x_label="points (sorted)", marked_y=eps, title=f"{rep.label}: suggested eps = {eps:.4g} (knee)")
        print(f"suggested eps = {eps:.6g} for min_samples = {ms} (k-distance knee); curve in {out / 'k_distance.csv'}")
    return 0


def _plot_png(path: Path, x, series: dict, *, x_label: str, title: str, marked=None, marked_y=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core import artifacts

    fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.4), squeeze=False)
    for ax, (name, y) in zip(axes[0], series.items()):
        ax.plot(x, y, marker="o" if len(x) < 40 else None, linewidth=1.5)
        if marked is not None:
            ax.axvline(marked, color="tab:red", linestyle="--", linewidth=1)
        if marked_y is not None:
            ax.axhline(marked_y, color="tab:red", linestyle="--", linewidth=1)
        ax.set_xlabel(x_label)
        ax.set_title(name)
    fig.suptitle(title)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    artifacts.write_bytes(path, buf.getvalue())


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, help="dataset name in the workspace")
    add_representation_args(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-size", dest="sample_size", type=int, default=5000, help="Silhouette sample size")
    p.add_argument("--quiet", action="store_true", help="print only what was written")


def register_cli(sub) -> None:
    from core.cluster import CLUSTERERS

    p = sub.add_parser("cluster", help="cluster a representation and write its metric table",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("--algorithm", required=True, choices=CLUSTERERS.names())
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="clusterer parameter, repeatable; density methods accept eps=auto / min_cluster_size=auto")
    p.add_argument("--labels", default=None, help="comma-separated label columns to score (default: the dataset's "
                                                   "label columns)")
    p.add_argument("--out", help="metric table: .csv, .md, .tex or .json")
    p.add_argument("--assignments", help="per-track clusters CSV")
    p.set_defaults(func=run)

    s = sub.add_parser("select-k", help="choose k (or DBSCAN's eps): curves and the suggested value, to CSV and PNG",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(s)
    s.add_argument("--algorithm", default="kmeans", choices=CLUSTERERS.names(),
                   help="a clusterer with k (curves of Silhouette / CH / DB) or a density one (k-distance curve)")
    s.add_argument("--k-min", dest="k_min", type=int, default=2)
    s.add_argument("--k-max", dest="k_max", type=int, default=12)
    s.add_argument("--min-samples", dest="min_samples", type=int, default=10, help="k of the k-distance curve")
    s.add_argument("--out", required=True, help="folder for the CSV and PNG")
    s.set_defaults(func=run_select_k)
