"""The node's start-up checks."""

from __future__ import annotations

import pytest


def test_a_fixed_hash_seed_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fixed PYTHONHASHSEED would let contract authors compute colliding str keys."""
    from xinlian.node.runtime import _warn_fixed_hash_seed

    monkeypatch.setenv("PYTHONHASHSEED", "0")
    with caplog.at_level("WARNING", logger="xinlian.node"):
        _warn_fixed_hash_seed()
    assert "PYTHONHASHSEED=0 fixes Python's string hashing" in caplog.text
    caplog.clear()
    monkeypatch.delenv("PYTHONHASHSEED")
    _warn_fixed_hash_seed()
    assert caplog.text == ""
