"""eSpeak NG speech for the demo's vocals: a ctypes binding of espeakng-loader's libespeak-ng.

``speak(text, voice='en+m3' | 'bn+f2' | …)`` returns float32 (n,) at SAMPLE_RATE. ``reset_speech()``
unloads the library so the next call starts from eSpeak's initial state (render_track does this once
per track, which makes a track's vocals independent of what the process spoke before).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from core.audio import SAMPLE_RATE
from core.errors import SongscapeError


class _Espeak:
    """Per-process binding of espeakng-loader's libespeak-ng (synchronous mode, callback collects int16)."""

    _lock = threading.Lock()
    _inst: "_Espeak | None" = None

    def __init__(self):
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        AUDIO_OUTPUT_SYNCHRONOUS = 2
        self.sr = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if self.sr <= 0:
            raise SongscapeError(f"eSpeak NG failed to initialise (returned {self.sr}) with data at "
                                 f"{espeakng_loader.get_data_path()}. Reinstall espeakng-loader.")
        self._chunks: list[np.ndarray] = []
        cb_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

        def _cb(wav, n, _events):
            if n > 0 and wav:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._cb = cb_type(_cb)  # keep a reference: ctypes callbacks must outlive their use
        lib.espeak_SetSynthCallback(self._cb)
        # eSpeak keeps state between utterances (pitch flutter index, noise generators), so the same
        # call could give slightly different samples depending on what was spoken before. A constant
        # F0 (the melody replaces the pitch anyway) and re-seeded generators make every call a pure
        # function of its arguments.
        lib.espeak_ng_SetConstF0.argtypes = [ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self._libc = ctypes.CDLL(None)

    @classmethod
    def get(cls) -> "_Espeak":
        with cls._lock:
            if cls._inst is None:
                cls._inst = cls()
            return cls._inst

    @classmethod
    def reset(cls) -> None:
        """Unload the library so the next call starts from its initial state (~15 ms).

        Some of eSpeak's synthesis state lives in C statics that no API call resets; without a
        reload the same text can come out a few samples different depending on what was spoken
        before in this process. render_track() resets once per track, so a track's audio does not
        depend on which worker rendered it, or after which other track.
        """
        import _ctypes

        with cls._lock:
            inst, cls._inst = cls._inst, None
            if inst is not None:
                inst.lib.espeak_Terminate()
                _ctypes.dlclose(inst.lib._handle)

    def speak(self, text: str, *, voice: str, rate: int = 160, pitch: int = 50, f0: int = 120) -> np.ndarray:
        """Speech for ``text`` as float32 at SAMPLE_RATE, shape (n,); monotone at ``f0`` Hz."""
        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SongscapeError(f"eSpeak NG has no voice '{voice}'. Use e.g. 'en+m3' or 'bn+f2'.")
            self.lib.espeak_SetParameter(1, int(np.clip(rate, 80, 450)), 0)  # espeakRATE
            self.lib.espeak_SetParameter(3, int(np.clip(pitch, 0, 99)), 0)  # espeakPITCH (also shifts formants)
            self.lib.espeak_ng_SetConstF0(int(f0))
            self.lib.espeak_ng_SetRandSeed(12345)
            self._libc.srand(12345)
            self._chunks = []
            data = text.encode("utf-8")
            espeakCHARS_UTF8 = 1
            self.lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, espeakCHARS_UTF8, None, None)
            y = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        y = y.astype(np.float32) / 32768.0
        if self.sr != SAMPLE_RATE:
            import soxr

            y = soxr.resample(y, self.sr, SAMPLE_RATE).astype(np.float32)
        return y


def speak(text: str, *, voice: str, rate: int = 160, pitch: int = 50, f0: int = 120) -> np.ndarray:
    """eSpeak NG speech for ``text`` with ``voice`` ('en+m3', 'bn+f2', …), monotone at ``f0`` Hz.
    Returns float32 (n,) at SAMPLE_RATE. Deterministic for a given sequence of calls after
    ``reset_speech()`` (eSpeak carries a little state from one utterance to the next)."""
    return _Espeak.get().speak(text, voice=voice, rate=rate, pitch=pitch, f0=f0)


def reset_speech() -> None:
    """Unload eSpeak NG so the next ``speak`` starts from its initial state (see _Espeak.reset)."""
    _Espeak.reset()
