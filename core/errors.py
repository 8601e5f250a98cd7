"""One exception hierarchy. Every message says what was expected, what came, and how to fix it."""

from __future__ import annotations


class SongscapeError(Exception):
    """Base class of every error Songscape raises on purpose."""


class ParameterError(SongscapeError, ValueError):
    """A parameter is outside its allowed range or of the wrong kind."""

    def __init__(self, name: str, *, value, expected: str, fix: str = ""):
        self.name, self.value, self.expected = name, value, expected
        msg = f"Parameter '{name}' must be {expected}; got {value!r}."
        if fix:
            msg += f" {fix}"
        super().__init__(msg)


class SchemaError(SongscapeError, ValueError):
    """A table or file does not have the columns or types Songscape needs."""


class AudioDecodeError(SongscapeError):
    """An audio file could not be read (missing, empty, truncated, unsupported)."""


class ArtifactError(SongscapeError):
    """A cached artifact (features, model, projection) is missing, corrupt or incompatible."""


class DatasetNotFoundError(SongscapeError, KeyError):
    """No dataset of that name exists in the workspace."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""
