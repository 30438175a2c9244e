"""The node's off-chain store of EPCIS event bodies: quotas and retention.

The chain anchors only an event's hash and summary; the body (the event as captured) is
kept by the node that received it, under ``T/<hash>`` in its local key-value store. That
store is not consensus state, so it needs its own bounds:

* **Quota**: every stored body is charged to the account that sent it and to that
  account's organisation, in bytes per UTC day (bodies already stored cost nothing, so a
  repeated upload is free). A write over either quota is refused whole.
* **Retention**: a body is stored with a deadline; once it passes, :meth:`BodyStore.purge`
  keeps the body if its event is anchored on chain and deletes it otherwise. Bodies whose
  capture never reached a block therefore do not stay for ever.

Local keys::

    T/<hash>                          -> the body (JSON bytes)
    TR/<deadline ms, 8 bytes><hash>   -> b"" (a body awaiting its anchor)
    TQ/a/<address>/<day, 4 bytes>     -> bytes stored that day by the account (8 bytes)
    TQ/o/<org>/<day, 4 bytes>         -> bytes stored that day by the organisation
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xinlian.apps.base import AppError
from xinlian.storage import KVStore, WriteBatch

BODY_PREFIX = b"T/"
RETAIN_PREFIX = b"TR/"
QUOTA_PREFIX = b"TQ/"
DAY_MS = 86_400_000
#: Most bodies one purge pass looks at (the next pass continues).
PURGE_BATCH = 10_000


class QuotaExceeded(AppError):  # noqa: N818 - reads as the condition it reports
    """A write that would take an account or organisation over its daily quota."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Daily quotas in bytes (0: no quota) and the retention of unanchored bodies."""

    account_bytes_per_day: int
    org_bytes_per_day: int
    retention_ms: int


def _u64(raw: bytes | None) -> int:
    return 0 if raw is None else int.from_bytes(raw, "big")


class BodyStore:
    """Event bodies in a node's local store, charged to their senders and purged when
    never anchored."""

    def __init__(self, store: KVStore, limits: BodyLimits) -> None:
        self.store = store
        self.limits = limits
        self._lock = threading.Lock()

    def get(self, digest: bytes) -> bytes | None:
        """The stored body of an event, if this node has it."""
        return self.store.get(BODY_PREFIX + digest)

    def used(self, address: str, org: str, now_ms: int) -> tuple[int, int]:
        """Bytes the account and the organisation stored on the UTC day of ``now_ms``."""
        day = (now_ms // DAY_MS).to_bytes(4, "big")
        return (
            _u64(self.store.get(_quota_key(b"a/", address, day))),
            _u64(self.store.get(_quota_key(b"o/", org, day))),
        )

    def put(
        self,
        bodies: Sequence[tuple[bytes, bytes]],
        address: str,
        org: str,
        now_ms: int,
        *,
        dry_run: bool = False,
    ) -> int:
        """Store ``(hash, body)`` pairs for ``address`` of ``org``; returns the new bytes
        charged. With ``dry_run`` only checks the quotas.

        Raises:
            QuotaExceeded: the new bytes would exceed either daily quota (nothing stored).
        """
        with self._lock:
            fresh = {d: b for d, b in bodies if self.store.get(BODY_PREFIX + d) is None}
            size = sum(len(b) for b in fresh.values())
            day_n = now_ms // DAY_MS
            day = day_n.to_bytes(4, "big")
            account_key = _quota_key(b"a/", address, day)
            org_key = _quota_key(b"o/", org, day)
            account_used = _u64(self.store.get(account_key))
            org_used = _u64(self.store.get(org_key))
            retry = max(1, ((day_n + 1) * DAY_MS - now_ms + 999) // 1000)
            for who, used, quota in (
                (f"account {address}", account_used, self.limits.account_bytes_per_day),
                (f"organisation {org!r}", org_used, self.limits.org_bytes_per_day),
            ):
                if quota and used + size > quota:
                    raise QuotaExceeded(
                        f"{who} has stored {used} of its {quota} bytes today; these "
                        f"{size} bytes of event bodies would exceed it (the quota resets "
                        "at 00:00 UTC)",
                        retry,
                    )
            if dry_run or not fresh:
                return 0
            deadline = (now_ms + self.limits.retention_ms).to_bytes(8, "big")
            batch = WriteBatch()
            for digest, body in fresh.items():
                batch.put(BODY_PREFIX + digest, body)
                batch.put(RETAIN_PREFIX + deadline + digest, b"")
            batch.put(account_key, (account_used + size).to_bytes(8, "big"))
            batch.put(org_key, (org_used + size).to_bytes(8, "big"))
            self.store.write(batch)
            return size

    def purge(self, now_ms: int, anchored: Callable[[bytes], bool]) -> tuple[int, int]:
        """Settle the bodies whose retention ended by ``now_ms``: keep the anchored ones,
        delete the rest, and forget quota days older than yesterday. Returns (kept,
        deleted)."""
        end = RETAIN_PREFIX + (now_ms + 1).to_bytes(8, "big")
        kept = deleted = 0
        batch = WriteBatch()
        with self._lock:
            for n, (key, _) in enumerate(self.store.iterate(RETAIN_PREFIX, end)):
                if n >= PURGE_BATCH:
                    break
                digest = key[len(RETAIN_PREFIX) + 8 :]
                batch.delete(key)
                if anchored(digest):
                    kept += 1
                else:
                    batch.delete(BODY_PREFIX + digest)
                    deleted += 1
            today = now_ms // DAY_MS
            for key, _ in self.store.iterate(QUOTA_PREFIX, _after(QUOTA_PREFIX)):
                if int.from_bytes(key[-4:], "big") < today - 1:
                    batch.delete(key)
            if len(batch):
                self.store.write(batch)
        return kept, deleted


def _quota_key(kind: bytes, name: str, day: bytes) -> bytes:
    return QUOTA_PREFIX + kind + name.encode() + b"/" + day


def _after(prefix: bytes) -> bytes:
    """The first key past every key starting with ``prefix`` (which ends in ``/``)."""
    return prefix[:-1] + bytes([prefix[-1] + 1])
