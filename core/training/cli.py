"""`python -m core train`: train a model on a dataset's features from the command line.

Every bad value ends with one line on stderr naming the option, what it allows and what came, and exit
code 2 (numbers are parsed here, not by argparse, so ``--epochs ten`` reads like ``--epochs 0``).
"""

from __future__ import annotations

import json

from core.errors import ParameterError
from core.models import MODELS
from core.training.config import TRAIN_PARAMS, TrainConfig
from core.training.presets import PRESETS, preset
from core.training.store import clean

# option → (TrainConfig field, converter)
_CONFIG_OPTIONS = {"beta": float, "epochs": int, "batch_size": int, "lr": float, "seed": int, "kl_anneal": str,
                   "warmup_epochs": int, "device": str, "input_scaling": str}


def register_cli(sub) -> None:
    p = sub.add_parser("train", help="Train a VAE on a dataset's features.")
    p.add_argument("--dataset", required=True)
    p.add_argument("--model", default=None, help=f"one of {MODELS.names()} (or implied by --preset)")
    p.add_argument("--preset", default=None, help=f"one of {list(PRESETS)}")
    p.add_argument("--feature", default=None, metavar="FEATURE | MODALITY=FEATURE,...",
                   help="input features: a name for single-input models (e.g. mfcc_stats), "
                        "modality=name pairs for multimodal ones (e.g. audio=audio_stack,lyrics=lyrics)")
    p.add_argument("--hidden", default=None, metavar="WIDTHS", help="MLP layer widths, e.g. 256-128")
    p.add_argument("--latent-dim", default=None, help="size of the latent code z")
    for key in _CONFIG_OPTIONS:
        prm = TRAIN_PARAMS[key]
        p.add_argument(f"--{key.replace('_', '-')}", default=None, metavar=key.upper(),
                       help=f"{prm.help} Allowed: {prm.describe()}; default {prm.default}.".replace("%", "%%"))
    p.add_argument("--cond-column", default=None, help="label column a conditional VAE (cvae) conditions on")
    p.add_argument("--name", default=None, help="your name for this model (listed instead of its id)")
    p.add_argument("--notes", default=None, help="free notes stored with the model")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="train on a worker of this Dask cluster (its GPU if it has one; the workspace and model folder "
                        "must be shared), e.g. tcp://10.0.0.5:8786; default $SONGSCAPE_SCHEDULER, else this machine")
    p.set_defaults(func=_cli_train)


def _number(option: str, text, kind: type):
    """``text`` as ``kind`` (int/float/str); ParameterError naming ``--option`` otherwise."""
    if kind is str:
        return text
    try:
        value = float(text)
        if kind is int:
            if value != int(value):
                raise ValueError
            value = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"--{option.replace('_', '-')}", value=text,
                             expected="an integer" if kind is int else "a number") from None
    return value


def parse_features(text: str | None, model: str) -> dict[str, str]:
    """'mfcc_stats' (single-input models) or 'audio=audio_stack,lyrics=lyrics' → modality → feature."""
    if not text:
        return {}
    spec = MODELS.get(model)
    mods = list(spec.inputs)
    if "=" not in text:
        if len(mods) != 1 or "," in text:
            raise ParameterError("--feature", value=text, expected=f"modality=feature pairs for {mods} of '{model}'",
                                 fix=f"e.g. --feature {','.join(f'{m}={spec.inputs[m].features[0]}' for m in mods)}")
        return {mods[0]: text.strip()}
    out = {}
    for part in text.split(","):
        key, sep, val = (s.strip() for s in part.partition("="))
        if not sep or not key or not val or key not in spec.inputs:
            raise ParameterError("--feature", value=text, expected=f"modality=feature pairs with modalities {mods}")
        out[key] = val
    return out


def remote_train(kwargs: dict):
    """A Dask task: ``train_on_dataset(**kwargs)`` on a worker, into the shared workspace and model folder."""
    import os

    from core.training.data import train_on_dataset

    kw = dict(kwargs)  # a retried task gets the same dict again
    os.environ["SONGSCAPE_HOME"], os.environ["SONGSCAPE_MODELS"] = kw.pop("_home"), kw.pop("_models")
    return train_on_dataset(**kw)


def _cli_train(args) -> int:
    from core.progress import console_progress
    from core.training.data import train_on_dataset

    pre = preset(args.preset) if args.preset else {"model": None, "model_params": {}, "config": {}, "features": {},
                                                   "cond_column": None}
    model = args.model or pre["model"]
    if not model:
        raise ParameterError("--model", value=None, expected=f"one of {MODELS.names()} (or --preset)")
    MODELS.get(model)  # unknown names fail here, with the list
    if args.preset and args.model and args.model != pre["model"]:
        pre["features"] = {}
    params = dict(pre["model_params"]) if model == pre["model"] else {}
    if args.latent_dim is not None:
        params["latent_dim"] = _number("latent_dim", args.latent_dim, int)
    if args.hidden is not None:
        params["hidden"] = args.hidden
    cfg = dict(pre["config"])
    for key, kind in _CONFIG_OPTIONS.items():
        val = getattr(args, key)
        if val is not None:
            cfg[key] = _number(key, val, kind)
    features = {**(pre["features"] or {}), **parse_features(args.feature, model)}
    config = TrainConfig(**cfg)
    kwargs = dict(dataset=args.dataset, model=model, features=features or None, model_params=params, config=config,
                  cond_column=args.cond_column or pre.get("cond_column"), name=args.name, notes=args.notes)
    from core.executors import map_tasks, resolve

    if resolve(args.scheduler).name == "dask":
        if not args.quiet:
            print(f"training {model} on the Dask cluster at {args.scheduler or '$SONGSCAPE_SCHEDULER'} …", flush=True)
        from core.config import models_dir, workspace

        task = {**kwargs, "_home": str(workspace()), "_models": str(models_dir())}
        result = map_tasks(remote_train, [task], scheduler=args.scheduler)[0]
    else:
        result = train_on_dataset(**kwargs, progress=None if args.quiet else console_progress(f"train {model}"))
    last = result.history[-1] if result.history else {}
    print(f"model_id: {result.model_id}")
    if args.name:
        print(f"name: {args.name}")
    print(f"device: {result.device}{'  (from cache)' if result.from_cache else ''}")
    print(f"status: {result.status}")
    for m, how in result.input_scaling.items():
        print(f"input scaling: {m}: {how}")
    print("final: " + json.dumps({k: clean(last.get(k)) for k in ("epoch", "loss", "recon", "kl", "val_loss", "au")}))
    if result.cancelled:
        print("cancelled: best weights so far were saved")
    return 0
