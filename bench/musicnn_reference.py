"""Reference outputs of the ORIGINAL musicnn (TensorFlow) for tests/data/musicnn_reference.npz.

Songscape runs musicnn's checkpoints with its own PyTorch port (core/features/musicnn); this script
runs musicnn's own extractor on a deterministic synthetic clip so tests/test_musicnn.py can check
the port against it. TensorFlow is NOT a Songscape dependency: run this in a separate environment,
outside the project's .venv::

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install tensorflow-cpu tf-keras librosa==0.11.0
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python bench/musicnn_reference.py [--out tests/data/musicnn_reference.npz]

``TF_USE_LEGACY_KERAS=1`` makes TensorFlow 2's ``tf.compat.v1.layers`` (which musicnn's graph uses)
available through tf-keras; musicnn's code runs unmodified, with its BATCH_SIZE raised (see main).
Tested with TensorFlow 2.21, tf-keras 2.21, librosa 0.11, numpy 2.4.

``synth_clip()`` (numpy only) is imported by the test to rebuild the same audio.

Result (Dec 2026): the PyTorch port reproduces the original's log-mel input bit for bit, its tag
probabilities to within 1.3e-6, its 200-D penultimate features to within 7e-6 and its 753-D pooled
features to within 4e-6 of their scale, for both MTT_musicnn and MSD_musicnn. Two quirks of the
original seen on the way: its float16 ``log10(10000·x + 1)`` overflows to inf for mel power above
6.55 (a loud tonal bin; hence the clip's 0.5 gain; the port takes the log in float32 there), and
with more than one batch its feature dictionary repeats the first batch's penultimate vectors.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

SR = 16000
SECONDS = 7.0      # two whole 3-s patches (438 frames → patches at 0 and 187)
SEED = 7
MODELS = ("MTT_musicnn", "MSD_musicnn")


def synth_clip(*, seconds: float = SECONDS, sr: int = SR, seed: int = SEED) -> np.ndarray:
    """A deterministic 'band': A-minor pad + bass, kick on the beat, noisy hats on the off-beat (120 BPM).

    → (n,) float32 in [-1, 1], quiet enough that musicnn's float16 log never overflows.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    y = np.zeros(n)
    for f in (220.0, 261.63, 329.63, 440.0):                      # A3 C4 E4 A4 pad with slow tremolo
        y += 0.025 * np.sin(2 * np.pi * f * t) * (0.8 + 0.2 * np.sin(2 * np.pi * 0.5 * t))
    y += 0.03 * np.sin(2 * np.pi * 110.0 * t)                     # bass A2
    beat = 0.5
    for k in range(int(seconds / beat)):
        s = int(k * beat * sr)
        m = min(n - s, int(0.25 * sr))
        tt = np.arange(m) / sr
        y[s:s + m] += 0.2 * np.sin(2 * np.pi * (50 + 100 * np.exp(-tt * 30)) * tt) * np.exp(-tt * 12)   # kick
        h = s + int(beat / 2 * sr)
        if h < n:
            mh = min(n - h, int(0.05 * sr))
            y[h:h + mh] += 0.05 * rng.standard_normal(mh) * np.exp(-np.arange(mh) / sr * 80)         # hat
    return np.clip(0.5 * y, -1, 1).astype(np.float32)  # 0.5: mel power stays below float16's 6.55e4 / 1e4


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "tests/data/musicnn_reference.npz"))
    args = ap.parse_args(argv)

    import soundfile as sf
    from musicnn import configuration
    from musicnn.extractor import batch_data, extractor  # TensorFlow-only environment

    # One batch for all patches: the extractor's loop over later batches appends the FIRST batch's
    # penultimate features again (musicnn 0.1.0), so with BATCH_SIZE 1 only patch 0 would be right.
    configuration.BATCH_SIZE = 64

    y = synth_clip()
    out: dict[str, np.ndarray] = {"sr": np.int64(SR), "seconds": np.float64(SECONDS), "seed": np.int64(SEED),
                                  "audio_sum": np.float64(np.sum(y, dtype=np.float64)),
                                  "audio_abs_sum": np.float64(np.abs(y).sum(dtype=np.float64)),
                                  "audio_head": y[:64].copy()}
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "clip.wav")
        sf.write(wav, y, SR, subtype="FLOAT")
        batch, spec = batch_data(wav, 187, 187)
        if not np.isfinite(batch).all():
            raise SystemExit("the synthetic clip overflows musicnn's float16 log; make it quieter")
        out["logmel_sum"] = np.float64(spec.astype(np.float64).sum())
        out["patch0_frame10"] = batch[0, 10].astype(np.float32)
        for model in MODELS:
            taggram, _, feats = extractor(wav, model=model, input_length=3, extract_features=True)
            key = model.split("_")[0].lower()
            out[f"{key}_taggram"] = np.asarray(taggram, dtype=np.float32)
            out[f"{key}_penultimate"] = np.asarray(feats["penultimate"], dtype=np.float32)
            out[f"{key}_max_pool"] = np.asarray(feats["max_pool"], dtype=np.float32)
            print(f"{model}: taggram {taggram.shape}, penultimate {feats['penultimate'].shape}", file=sys.stderr)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
