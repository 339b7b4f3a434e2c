"""Exception types raised by the engine.

Every error a user can cause derives from :class:`BadInputError` and carries a
one-line message that is safe to show in a UI or a terminal.
"""


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class BadInputError(EngineError):
    """The input mesh, labels or settings cannot be used (CLI exit code 2)."""


class MissingDependencyError(EngineError):
    """An optional dependency needed by the requested feature is not installed."""
