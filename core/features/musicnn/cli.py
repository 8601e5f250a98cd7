"""`python -m core tags FILE [--model mtt|msd] [--top N]`: the top musicnn tags of an audio file."""

from __future__ import annotations

MODEL_OF = {"mtt": "MTT_musicnn", "msd": "MSD_musicnn", "mtt_vgg": "MTT_vgg", "msd_vgg": "MSD_vgg"}


def register_cli(sub) -> None:
    p = sub.add_parser("tags", help="top musicnn tags of an audio file",
                       description="Tag an audio file with a pretrained musicnn model (16 kHz decode, 3-s patches, "
                                   "tag probabilities averaged over the patches). mtt: trained on MagnaTagATune; "
                                   "msd: trained on the Million Song Dataset (it has heard MSD previews).")
    p.add_argument("file", help="an audio file (wav, flac, ogg, mp3, …)")
    p.add_argument("--model", choices=sorted(MODEL_OF), default="mtt", help="which tagger (default: mtt)")
    p.add_argument("--top", type=int, default=10, help="how many tags to print (default: 10)")
    p.add_argument("--offset", type=float, default=0.0, help="start reading at this second (default: 0)")
    p.add_argument("--duration", type=float, default=None, help="read at most this many seconds (default: all)")
    p.add_argument("--device", default="auto", help="auto (CUDA → MPS → CPU), cuda, mps or cpu")
    p.set_defaults(func=_cli_tags)


def _cli_tags(args) -> int:
    from core.audio import load_audio
    from core.errors import ParameterError
    from core.features.musicnn import MODELS, SR, checkpoint_dir, top_tags

    if args.top < 1:
        raise ParameterError("--top", value=args.top, expected="a positive int")
    model = MODEL_OF[args.model]
    checkpoint_dir(model)  # says how to install the checkpoints before paying for torch
    from core.features.musicnn.embed import embed_clip, select_device

    device = select_device(args.device)
    y = load_audio(args.file, sr=SR, offset=args.offset, duration=args.duration)
    out = embed_clip(y, model=model, device=device)
    print(f"{args.file}: {len(y) / SR:.1f} s, {len(out['taggram'])} patch(es) of 3 s, model {model} "
          f"(trained on {MODELS.get(model).trained_on.split(' (')[0].split(':')[0]}), device {device.type}")
    for tag, p in top_tags(out["tags"], model=model, n=args.top):
        print(f"  {p:6.3f}  {tag}")
    return 0
