"""Errors of the state package: one tree rooted at :class:`StateError`."""

from __future__ import annotations


class StateError(Exception):
    """Base of state errors: bad arguments, unknown versions, corrupt nodes."""


class VersionError(StateError):
    """A version that cannot be applied or read (out of order, not yet committed)."""


class PrunedVersionError(VersionError):
    """The requested version was pruned: its nodes are gone, only later versions remain."""

    def __init__(self, version: int, oldest: int) -> None:
        super().__init__(
            f"state version {version} was pruned; the oldest retained version is {oldest}"
        )
        self.version = version
        self.oldest = oldest


class CorruptStateError(StateError):
    """A node or record that should exist is missing or cannot be decoded."""
