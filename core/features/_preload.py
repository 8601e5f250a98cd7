"""Imported once by the extraction forkserver: pay librosa's import there, not in every worker."""

from core.features import _worker

try:
    _worker.warm()
except Exception:  # noqa: BLE001 - a failed warm-up only costs time in the workers
    pass
