"""`python -m core cluster`: build a representation, cluster it, score it, write the metric table.

    python -m core cluster --dataset demo --representation pca --feature mfcc_stats --n-components 16 \\
        --algorithm kmeans --param n_clusters=4 --seed 0 --out metrics.md --assignments clusters.csv

--out FILE (.csv | .md | .tex | .json): one row (the run + every metric) and the warnings.
--assignments FILE.csv: track_id,title,language,genre,cluster (-1 noise, empty for tracks without
this representation).
Representation options: raw/pca/lyrics/label_onehot take --feature; pca --n-components; latent
--model-id; fusion --alpha with the audio part = latent of --model-id if given, else --audio-kind
(default pca) of --feature; label_onehot --label.
"""

from __future__ import annotations

import argparse

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


def spec_from_args(args):
    from core.represent import RepresentationSpec

    r = args.representation
    feat = {"feature": args.feature} if args.feature else {}
    if r == "raw":
        return RepresentationSpec("raw", feat)
    if r == "pca":
        return RepresentationSpec("pca", {**feat, **({"n_components": args.n_components} if args.n_components else {}),
                                          "random_state": args.seed})
    if r == "latent":
        return RepresentationSpec("latent", {"model_id": args.model_id or ""})
    if r == "lyrics":
        return RepresentationSpec("lyrics", feat)
    if r == "fusion":
        if args.model_id:
            audio = RepresentationSpec("latent", {"model_id": args.model_id})
        elif args.audio_kind == "pca":
            audio = RepresentationSpec("pca", {**feat, **({"n_components": args.n_components} if args.n_components else {}),
                                               "random_state": args.seed})
        else:
            audio = RepresentationSpec("raw", feat)
        p = {"audio": audio, **({"alpha": args.alpha} if args.alpha is not None else {})}
        if args.lyrics_feature:
            p["lyrics_feature"] = args.lyrics_feature
        return RepresentationSpec("fusion", p)
    if r == "label_onehot":
        return RepresentationSpec("label_onehot", {**feat, "label": args.label})
    return RepresentationSpec(r, {})  # a kind registered later: its defaults


def run(args) -> int:
    from core.cluster import cluster_rows
    from core.datasets import load_dataset
    from core.export import write_table
    from core.metrics import evaluate
    from core.represent import build_representation
    from core.schema import label_columns

    dataset = load_dataset(args.dataset)
    rep = build_representation(dataset, spec_from_args(args))
    res = cluster_rows(rep.X, rep.valid, algorithm=args.algorithm, params=parse_params(args.param),
                       random_state=args.seed)
    tracks = dataset.tracks
    labels = {c: tracks[c].to_numpy() for c in label_columns(tracks)}
    report = evaluate(rep.X, res, label_columns=labels, uses_labels=rep.uses_labels,
                      sample_size=args.sample_size, random_state=args.seed,
                      meta={"dataset": dataset.name, "representation": rep.label})
    df = report.to_frame()
    if args.out:
        write_table(df, args.out, warnings=report.warnings)
        print(f"wrote {args.out}")
    if args.assignments:
        from core import artifacts

        cl = pd.array(np.where(res.missing_mask, pd.NA, res.labels), dtype="Int64")
        out = pd.DataFrame({c: tracks[c] if c in tracks.columns else "" for c in ("track_id", "title", "language", "genre")})
        out["cluster"] = cl
        artifacts.write_csv(args.assignments, out)
        print(f"wrote {args.assignments}")
    from core.export import to_markdown

    print(to_markdown(df, report.warnings))
    return 0


def register_cli(sub) -> None:
    from core.cluster import CLUSTERERS
    from core.represent import REPRESENTATIONS

    p = sub.add_parser("cluster", help="cluster a representation and write its metric table",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="dataset name in the workspace")
    p.add_argument("--representation", required=True, choices=REPRESENTATIONS.names())
    p.add_argument("--feature", help="feature name (raw, pca, lyrics, label_onehot, fusion audio part)")
    p.add_argument("--model-id", dest="model_id", help="trained model id (latent, fusion)")
    p.add_argument("--alpha", type=float, help="fusion weight of the lyrics part")
    p.add_argument("--n-components", dest="n_components", type=int, help="PCA dimensions")
    p.add_argument("--audio-kind", dest="audio_kind", choices=("pca", "raw"), default="pca",
                   help="fusion audio part when no --model-id is given")
    p.add_argument("--lyrics-feature", dest="lyrics_feature", help="fusion lyrics feature (default lyrics)")
    p.add_argument("--label", default="genre", choices=("genre", "language"), help="label_onehot label column")
    p.add_argument("--algorithm", required=True, choices=CLUSTERERS.names())
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="clusterer parameter, repeatable")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-size", dest="sample_size", type=int, default=5000, help="Silhouette sample size")
    p.add_argument("--out", help="metric table: .csv, .md, .tex or .json")
    p.add_argument("--assignments", help="per-track clusters CSV")
    p.set_defaults(func=run)
