"""Pretrained musicnn taggers (Pons & Serra, "musicnn: pre-trained convolutional neural networks for
music audio tagging", 2019) run in PyTorch from the checkpoints the ``musicnn`` package ships.

The ``musicnn`` wheel (ISC licence) holds trained TensorFlow 1 checkpoints; its own code needs
TensorFlow 1 and an old numpy, so Songscape installs the wheel's files without its dependencies
(``make run`` / ``make test`` do it) and never imports it: the folder is found with
``importlib.util.find_spec``, the checkpoints are read by ``checkpoint.py`` and the networks are
re-implemented in ``model.py``.

Input (as musicnn's extractor): 16 kHz mono → power mel spectrogram (n_fft 512, hop 256, 96 Slaney
mel bands, librosa's defaults otherwise, zero-padded centred frames) → float16 → ``log10(10000·x + 1)``
→ non-overlapping 3-s patches of 187 frames. A clip shorter than one patch is repeat-padded (how
the models were trained); the frames after the last whole patch are dropped.

    MODELS: Registry of MusicnnModel (checkpoint folder, tags, trained on …)
    checkpoint_dir(model) -> Path                   raises ArtifactError saying how to install
    missing_reason() -> str                         "" when the checkpoints are installed
    log_mel(y) -> (T, 96) float32;  patches(mel) -> (n_patches, 187, 96)
    top_tags(probs, *, model, n) -> [(tag, probability), …]
    embed_clip(y, *, model, device=None) -> {"embedding", "tags", "taggram", "penultimate"}   (embed.py)

This module and ``checkpoint.py`` do not import torch; ``model.py`` and ``embed.py`` do.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ArtifactError, ParameterError
from core.registry import Registry

SR = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187      # librosa.time_to_frames(3 s, sr=16000, n_fft=512, hop=256) + 1
PATCH_HOP = 187         # the extractor's default: patches do not overlap
BN_EPS = 1e-3           # tf.compat.v1.layers.batch_normalization's default epsilon

MTT_LABELS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano", "ambient",
    "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing", "vocals", "no vocals",
    "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man",
    "classic", "choir", "voice", "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello",
    "no voice", "weird", "country", "metal", "female voice", "choral")
MSD_LABELS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
    "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
    "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient",
    "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening",
    "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House",
    "happy")

_INSTALL = "run `make run` or `make test` (they install it), or `pip install --no-deps musicnn==0.1.0`"


@dataclass(frozen=True)
class MusicnnModel:
    name: str               # checkpoint folder inside the musicnn package
    arch: str               # "musicnn" | "vgg"
    labels: tuple
    trained_on: str
    embedding_dim: int      # per patch: penultimate dense layer (musicnn) or flattened pool5 (vgg)


MODELS: Registry = Registry("musicnn model")
_MTT = ("MagnaTagATune (about 26k 29-s clips of Magnatune's independent catalogue, 50 tags); "
        "it has not heard Million Song Dataset previews")
_MSD = ("the Million Song Dataset's 30-s 7digital previews with Last.fm tags (50 tags): commercial pop, rock, "
        "electronic…; tracks from the MSD were in its training data")
MODELS.add("MTT_musicnn", MusicnnModel("MTT_musicnn", "musicnn", MTT_LABELS, _MTT, 200))
MODELS.add("MSD_musicnn", MusicnnModel("MSD_musicnn", "musicnn", MSD_LABELS, _MSD, 200))
MODELS.add("MTT_vgg", MusicnnModel("MTT_vgg", "vgg", MTT_LABELS, _MTT, 256))
MODELS.add("MSD_vgg", MusicnnModel("MSD_vgg", "vgg", MSD_LABELS, _MSD, 256))


def package_dir() -> Path | None:
    """The installed ``musicnn`` package folder, found without importing it (it imports TensorFlow)."""
    try:
        spec = importlib.util.find_spec("musicnn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def missing_reason(model: str = "MTT_musicnn") -> str:
    """'' when the checkpoint of ``model`` is installed, else why not and how to get it."""
    root = package_dir()
    if root is None:
        return f"musicnn's pretrained checkpoints are not installed ({_INSTALL})"
    if not (root / model / ".index").exists():
        return f"{root} has no '{model}' checkpoint; reinstall musicnn 0.1.0 ({_INSTALL})"
    return ""


def checkpoint_dir(model: str) -> Path:
    """``<musicnn>/<model>/``: the checkpoint prefix is this folder + '' (files '.index', '.data-…')."""
    MODELS.get(model)
    why = missing_reason(model)
    if why:
        raise ArtifactError(f"Pretrained model '{model}' is unavailable: {why}.")
    return package_dir() / model


# ------------------------------------------------------------------------------------------ input
def log_mel(y: np.ndarray) -> np.ndarray:
    """musicnn's input representation of 16 kHz mono audio. (n_samples,) → (n_frames, 96) float32.

    As musicnn's extractor: librosa power mel spectrogram (centred frames, zero padding), rounded to
    float16, then ``log10(10000·x + 1)`` in float16. Where float16 would overflow (x > 6.55, i.e.
    very loud tonal bins; the extractor returns inf there) the log is taken in float32 instead.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                         pad_mode="constant").T
    m16 = mel.astype(np.float16)
    with np.errstate(over="ignore"):
        out = np.log10(10000 * m16 + 1)
    out = out.astype(np.float32)
    bad = ~np.isfinite(out)
    if bad.any():
        out[bad] = np.log10(10000 * m16[bad].astype(np.float32) + 1)
    return out


def patches(mel: np.ndarray, *, n_frames: int = PATCH_FRAMES, hop: int = PATCH_HOP) -> np.ndarray:
    """Cut (T, 96) into (n_patches, n_frames, 96); T < n_frames is repeat-padded to one patch."""
    mel = np.asarray(mel, dtype=np.float32)
    if len(mel) == 0:
        raise ParameterError("mel", value="0 frames", expected="a spectrogram of at least one frame",
                             fix="The clip is empty; check its file, offset and duration.")
    if len(mel) < n_frames:
        reps = -(-n_frames // len(mel))
        mel = np.concatenate([mel] * reps, axis=0)[:n_frames]
    starts = range(0, len(mel) - n_frames + 1, hop)
    return np.stack([mel[s:s + n_frames] for s in starts])


def top_tags(probs: np.ndarray, *, model: str = "MTT_musicnn", n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` most likely tags of a (50,) probability vector: [(tag, probability), …], best first."""
    labels = MODELS.get(model).labels
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if len(probs) != len(labels):
        raise ParameterError("probs", value=f"{len(probs)} values",
                             expected=f"{len(labels)} tag probabilities of {model}",
                             fix="Pass the matching model's tags feature (musicnn_mtt_tags ↔ MTT_musicnn, …).")
    order = np.argsort(-probs, kind="stable")[:max(0, int(n))]
    return [(labels[i], float(probs[i])) for i in order]
