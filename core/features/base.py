"""Containers and registries of the feature step (re-exported by core.features)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from core.errors import ParameterError
from core.features import musicnn
from core.features.lyrics import LyricsConfig
from core.features.spectral import SpectralConfig
from core.features.tabular import TabularConfig
from core.registry import Registry

FEATURES_VERSION = "1"  # bump when any feature's numbers change: every cached feature is rebuilt


@dataclass
class FeatureSet:
    """One feature for every track of a dataset. Row i ↔ dataset.tracks.iloc[i]."""

    name: str
    X: np.ndarray                  # (n_tracks, *shape) float32; invalid rows are zeros
    valid: np.ndarray              # (n_tracks,) bool
    track_ids: np.ndarray          # (n_tracks,) str
    fingerprint: str
    config: dict
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """Per-track shape."""
        return tuple(self.X.shape[1:])

    @property
    def n_valid(self) -> int:
        return int(self.valid.sum())


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    label: str
    kind: str                      # its group in extract.GROUPS: "audio" | "lyrics" | "tabular" | "musicnn_mtt" | …
    shape: tuple                   # per-track shape at the default config (tabular: (n_columns,) → (-1,))
    help: str = ""
    on_demand: bool = False        # True: computed when asked for by name, left out of "extract every feature"


@dataclass(frozen=True)
class FeatureConfig:
    """All feature parameters. ``chunk_size`` only sets how often partial audio results are saved."""

    spectral: SpectralConfig = field(default_factory=SpectralConfig)
    lyrics: LyricsConfig = field(default_factory=LyricsConfig)
    tabular: TabularConfig = field(default_factory=TabularConfig)
    chunk_size: int = 32

    def __post_init__(self):
        if int(self.chunk_size) < 1:
            raise ParameterError("chunk_size", value=self.chunk_size, expected="a positive int")

    def to_dict(self) -> dict:
        return asdict(self)


FEATURES: Registry = Registry("feature")
_S = SpectralConfig().shapes()


def _add(name: str, label: str, kind: str, shape: tuple, help: str, on_demand: bool = False) -> None:
    FEATURES.add(name, FeatureSpec(name=name, label=label, kind=kind, shape=tuple(shape), help=help,
                                   on_demand=on_demand))


_add("mfcc_stats", "MFCC mean + std (80-D)", "audio", _S["mfcc_stats"],
     "Mean and standard deviation over time of 40 MFCCs (reports 002, 003).")
_add("mfcc20_stats", "MFCC-20 mean + std (40-D)", "audio", _S["mfcc20_stats"],
     "Mean and standard deviation over time of the first 20 MFCCs.")
_add("mfcc_frames", "MFCC frames (40×430)", "audio", _S["mfcc_frames"],
     "40 MFCCs, hop-512 frames average-pooled by 3: 30 s → 430 frames (report 004).")
_add("logmel", "Log-mel spectrogram (128×256)", "audio", _S["logmel"],
     "128-band log-mel in [0, 1] (dB re the clip max, 80 dB range), pooled by 5: 30 s → 256 frames (reports 002, 003).")
_add("audio_stack", "MFCC + chroma + contrast (39×130)", "audio", _S["audio_stack"],
     "20 MFCCs, 12 chroma, 7 spectral-contrast bands, pooled by 10 to 130 frames (report 001).")
_add("chroma_stats", "Chroma mean + std (24-D)", "audio", _S["chroma_stats"],
     "Mean and standard deviation of the 12 pitch classes.")
_add("contrast_stats", "Spectral contrast mean + std (14-D)", "audio", _S["contrast_stats"],
     "Mean and standard deviation of 7 octave-band spectral contrasts.")
_add("spectral_stats", "Spectral statistics (15-D)", "audio", _S["spectral_stats"],
     "Centroid, bandwidth, roll-off, flatness, RMS, zero-crossing rate, onset strength (mean + std) "
     "and tempo: the direct spectral features of report 003.")
_add("lyrics", "Lyrics TF-IDF → SVD (64-D)", "lyrics", (LyricsConfig().n_components,),
     "Script-aware word + character n-gram TF-IDF reduced by TruncatedSVD and L2-normalized (reports 001, 002).")
_add("lyrics_tfidf", "Lyrics TF-IDF (5000-D)", "lyrics", (LyricsConfig().max_features,),
     "Word 1–2-gram TF-IDF, dense, zero-padded to max_features columns (report 000).")
_add("tabular", "Tabular audio features (z-scored)", "tabular", (-1,),
     "The numeric columns of the track table (danceability, energy, tempo, …), z-scored (report 000).")


def _add_musicnn(kind: str, model: str, short: str) -> None:
    m = musicnn.MODELS.get(model)
    note = (f" Pretrained network, trained on {m.trained_on}. Needs musicnn's checkpoints (installed by "
            "`make run`); on a CPU it is slower than the spectral pass, so it is computed only when asked for.")
    _add(kind, f"musicnn {short} embedding ({2 * m.embedding_dim}-D)", kind, (2 * m.embedding_dim,),
         f"musicnn's penultimate layer ({m.embedding_dim}-D) on 3-s patches of a 16 kHz mel spectrogram, averaged "
         f"and max-pooled over the clip (Pons & Serra, 'musicnn', 2019).{note}", on_demand=True)
    _add(f"{kind}_tags", f"musicnn {short} tag probabilities ({len(m.labels)}-D)", kind, (len(m.labels),),
         f"The probability of each of musicnn's {len(m.labels)} {short} tags ({', '.join(m.labels[:6])}, …), "
         f"averaged over 3-s patches.{note}", on_demand=True)


_add_musicnn("musicnn_mtt", "MTT_musicnn", "MagnaTagATune")
_add_musicnn("musicnn_msd", "MSD_musicnn", "Million Song Dataset")
