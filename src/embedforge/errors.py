"""The exceptions embedforge raises.

Every error derives from :class:`EmbedforgeError`; each subclass also derives
from the matching builtin, so callers can catch either (``except KeyError``
still catches an unknown word).  Messages name the input, what was expected,
what was received and, where there is one, the fix.
"""

from __future__ import annotations

__all__ = [
    "ConnectionLostError",
    "CorpusError",
    "DatasetError",
    "DuplicateKeyError",
    "EmbedforgeError",
    "FormatError",
    "InvalidParameterError",
    "MissingDependencyError",
    "NotFittedError",
    "UnknownKeyError",
]


class EmbedforgeError(Exception):
    """Base class of every error raised by embedforge."""


class InvalidParameterError(EmbedforgeError, ValueError):
    """A hyper-parameter or argument is outside its allowed values."""


class UnknownKeyError(EmbedforgeError, KeyError):
    """A key (word, node id, document id) is not in the vocabulary."""

    def __str__(self) -> str:  # KeyError would repr() the message and add quotes
        return str(self.args[0]) if self.args else ""


class DuplicateKeyError(EmbedforgeError, ValueError):
    """A key (document id) that must be new is already present; the message names it."""


class FormatError(EmbedforgeError, ValueError):
    """A file is truncated, corrupt, or not in the format it claims to be."""


class CorpusError(EmbedforgeError, ValueError):
    """A training corpus is missing, unreadable, empty or has no usable words."""


class NotFittedError(EmbedforgeError, RuntimeError):
    """A model was used before ``fit`` was called."""


class DatasetError(EmbedforgeError, OSError):
    """A named data set could not be found, downloaded or verified."""


class ConnectionLostError(EmbedforgeError, ConnectionError):
    """The connection to a database server was lost (server restarted, connection terminated).

    Raised by a write whose connection broke, and by a read that could not
    reconnect; the message names the server (password hidden), says whether
    the interrupted batch was written, and the next call reconnects.
    """


class MissingDependencyError(EmbedforgeError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""
