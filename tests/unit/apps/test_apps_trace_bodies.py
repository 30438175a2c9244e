"""The off-chain body store: per-account and per-organisation daily quotas, retention."""

from __future__ import annotations

import pytest

from xinlian.apps.trace.bodies import DAY_MS, BodyLimits, BodyStore, QuotaExceeded
from xinlian.storage.memory import MemoryStore

NOON = 20_000 * DAY_MS + DAY_MS // 2


def _store(account: int = 1000, org: int = 1500, retention_ms: int = 60_000) -> BodyStore:
    return BodyStore(MemoryStore(), BodyLimits(account, org, retention_ms))


def _body(n: int, size: int) -> tuple[bytes, bytes]:
    return n.to_bytes(32, "big"), b"x" * size


def test_an_account_over_its_daily_quota_is_refused_and_nothing_is_stored() -> None:
    bodies = _store()
    assert bodies.put([_body(1, 600)], "alice", "org1", NOON) == 600
    with pytest.raises(QuotaExceeded, match="account alice has stored 600 of its 1000") as info:
        bodies.put([_body(2, 300), _body(3, 300)], "alice", "org1", NOON)
    assert info.value.retry_after_s == DAY_MS // 2 // 1000
    assert bodies.get(_body(2, 0)[0]) is None and bodies.get(_body(3, 0)[0]) is None
    assert bodies.used("alice", "org1", NOON) == (600, 600)
    # A body already stored costs nothing; the next UTC day starts afresh.
    assert bodies.put([_body(1, 600)], "alice", "org1", NOON) == 0
    assert bodies.put([_body(2, 900)], "alice", "org1", NOON + DAY_MS) == 900


def test_the_organisation_quota_covers_all_its_accounts() -> None:
    bodies = _store()
    bodies.put([_body(1, 800)], "alice", "org1", NOON)
    with pytest.raises(QuotaExceeded, match="organisation 'org1' has stored 800 of its 1500"):
        bodies.put([_body(2, 800)], "bob", "org1", NOON)
    assert bodies.put([_body(3, 800)], "carol", "org2", NOON) == 800  # another organisation
    # A dry run checks without storing or charging.
    with pytest.raises(QuotaExceeded):
        bodies.put([_body(4, 800)], "bob", "org1", NOON, dry_run=True)
    assert bodies.put([_body(4, 700)], "bob", "org1", NOON, dry_run=True) == 0
    assert bodies.get(_body(4, 0)[0]) is None
    assert bodies.used("bob", "org1", NOON) == (0, 800)


def test_zero_means_no_quota() -> None:
    bodies = _store(account=0, org=0)
    assert bodies.put([_body(1, 100_000)], "alice", "org1", NOON) == 100_000


def test_bodies_never_anchored_are_purged_after_the_retention() -> None:
    bodies = _store(retention_ms=60_000)
    anchored_digest, orphan_digest = _body(1, 0)[0], _body(2, 0)[0]
    bodies.put([_body(1, 10), _body(2, 10)], "alice", "org1", NOON)
    late = _body(3, 10)
    bodies.put([late], "alice", "org1", NOON + 30_000)
    anchored = {anchored_digest}
    assert bodies.purge(NOON + 59_999, anchored.__contains__) == (0, 0)  # not yet due
    assert bodies.purge(NOON + 60_000, anchored.__contains__) == (1, 1)
    assert bodies.get(anchored_digest) == b"x" * 10
    assert bodies.get(orphan_digest) is None
    assert bodies.get(late[0]) == b"x" * 10  # its retention runs until NOON + 90 s
    assert bodies.purge(NOON + 90_000, anchored.__contains__) == (0, 1)
    assert bodies.get(late[0]) is None
    # Settled bodies are not looked at again; old quota days are forgotten.
    assert bodies.purge(NOON + 3 * DAY_MS, anchored.__contains__) == (0, 0)
    assert bodies.get(anchored_digest) == b"x" * 10
    assert bodies.used("alice", "org1", NOON) == (0, 0)
