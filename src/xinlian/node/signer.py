"""The validator's signer with double-sign protection.

Before a vote or proposal signature leaves the node, the signer appends what it signed
at (height, round, step) to the signing record, a small checksummed file of its own
outside the ledger database (:mod:`xinlian.node.signlog`), and fsyncs it. After a
restart at any moment it therefore never signs two different things for one
(height, round, step), nor anything for an earlier one:

* same (height, round, step), same payload: the stored signature is returned again
  (so a restarted node can re-send what it had sent);
* same (height, round, step), different payload: refused (``DoubleSignError``);
* an earlier (height, round, step) than the last signed: refused (``RegressionError``).

Steps order as proposal < prevote < precommit within a round.

When the record cannot be trusted to be the latest (the file is missing or damaged while
the node has history, or it is older than a precommit of this validator that the ledger
holds), the signer is *fenced*: it signs nothing (``FencedError``) until it has learned
the network's committed height from the other validators and the chain has moved past
it. Until then the node follows consensus without voting. The highest height heard in
the first :data:`FENCE_SETTLE_S` seconds counts (every peer reports its height every half
second, so one lagging peer does not set it too low).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from xinlian.codec import CodecError, decode
from xinlian.consensus.messages import SignStep
from xinlian.node.signlog import FileOps, SignedRecord, SignLog, SignLogError
from xinlian.storage import KVStore, WriteBatch

__all__ = [
    "DoubleSignError",
    "FencedError",
    "GuardedSigner",
    "RegressionError",
    "SignedRecord",
    "SignerError",
    "open_signer",
]

log = logging.getLogger("xinlian.signer")

#: How long after the first report of the network's height higher reports still raise
#: the fence (afterwards the network's progress would keep it ahead for ever).
FENCE_SETTLE_S = 3.0

#: Where versions before the signing file kept the last record (in the node's database).
LEGACY_KEY = b"W/last"


class SignerError(Exception):
    """Base of the signer's refusals."""


class DoubleSignError(SignerError):
    """A different payload was already signed at this height, round and step."""


class RegressionError(SignerError):
    """The position is earlier than what was last signed."""


class FencedError(SignerError):
    """The signing record may be missing history: nothing is signed until the node has
    caught up with the network (see the module text)."""


def _describe(position: tuple[int, int, int]) -> str:
    height, round_, step = position
    return f"height {height}, round {round_}, {SignStep(step).name.lower()}"


class GuardedSigner:
    """Signs consensus messages for one validator key, never equivocating.

    Args:
        signlog: the signing record, already loaded (see :func:`open_signer`).
        sign: signs bytes with the validator key.
        hash_fn: the suite hash, used to compare payloads.
        last: the last record in ``signlog``.
        fence: why signing is fenced, or None.
        min_floor: with a fence, never sign at or below this height (what the node's
            own ledger shows it may have signed).
    """

    def __init__(
        self,
        signlog: SignLog,
        sign: Callable[[bytes], bytes],
        hash_fn: Callable[[bytes], bytes],
        *,
        last: SignedRecord | None = None,
        fence: str | None = None,
        min_floor: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = signlog
        self._clock = clock
        self._learned_at: float | None = None
        self._sign = sign
        self._hash = hash_fn
        self._lock = threading.Lock()
        self._last = last
        self._fence = fence
        #: With a fence: signing is allowed only above this height, once it is known.
        self._floor: int | None = None
        self._min_floor = min_floor

    @property
    def path(self) -> Path:
        """The signing record file."""
        return self._log.path

    def last(self) -> SignedRecord | None:
        """The last record signed, if any."""
        return self._last

    @property
    def fence(self) -> str | None:
        """Why signing is fenced (None when it is not)."""
        return self._fence

    @property
    def floor(self) -> int | None:
        """With a fence, the height the network must pass before this node signs (None
        while it is not known yet)."""
        return self._floor

    def may_sign(self, height: int) -> bool:
        """Whether this validator may vote at ``height``: not below its last record
        (those heights are decided; a restarted node follows them without voting), and
        not fenced there (exact positions are checked when signing)."""
        with self._lock:
            if self._last is not None and height < self._last.height:
                return False
            return self._fence is None or (self._floor is not None and height > self._floor)

    def observe_network_height(self, height: int) -> None:
        """Another validator says it committed ``height``: while fenced, signing waits
        until the chain is past it (and past the height after it, which this node may
        have voted on before it lost its record)."""
        with self._lock:
            if self._fence is None:
                return
            now = self._clock()
            if self._learned_at is None:
                self._learned_at = now
            elif now - self._learned_at > FENCE_SETTLE_S:
                return  # settled: the floor is fixed
            floor = max(height + 1, self._min_floor)
            if self._floor is None or floor > self._floor:
                first = self._floor is None
                self._floor = floor
                if first:
                    log.warning(
                        "signing fence: the network is at height %d; this validator "
                        "follows without voting and signs again from height %d",
                        height,
                        floor + 1,
                    )

    def release_fence_alone(self, ledger_height: int) -> None:
        """The node is the only validator and has no peers: nobody else can hold a
        conflicting message, so it signs again from the height after its ledger's."""
        with self._lock:
            if self._fence is not None and self._floor is None:
                self._floor = max(ledger_height, self._min_floor - 1)
                log.warning(
                    "signing fence: sole validator without peers; signing from height %d",
                    self._floor + 1,
                )

    def sign(self, height: int, round_: int, step: SignStep, payload: bytes) -> bytes:
        """Sign ``payload`` at (height, round, step), durably recording it first.

        Raises:
            DoubleSignError, RegressionError, FencedError: refused (see the module text).
            SignerError: the record could not be written, so nothing is signed.
        """
        payload_hash = self._hash(payload)
        position = (height, round_, int(step))
        with self._lock:
            last = self._last
            if last is not None:
                if position == last.position:
                    if last.payload_hash == payload_hash:
                        return last.signature
                    raise DoubleSignError(
                        f"refusing to sign a different {step.name.lower()} at height "
                        f"{height}, round {round_}: one was already signed"
                    )
                if position < last.position:
                    raise RegressionError(
                        f"refusing to sign at {_describe(position)}: already signed at "
                        f"{_describe(last.position)}"
                    )
            if self._fence is not None:
                if self._floor is None:
                    raise FencedError(
                        f"refusing to sign at height {height}: {self._fence}; waiting to "
                        "learn the network's height from the other validators"
                    )
                if height <= self._floor:
                    raise FencedError(
                        f"refusing to sign at height {height}: {self._fence}; signing "
                        f"resumes above height {self._floor}"
                    )
            signature = self._sign(payload)
            record = SignedRecord(height, round_, int(step), payload_hash, signature)
            try:
                self._log.append(record)  # durable before the signature is used
            except SignLogError as exc:
                raise SignerError(str(exc)) from exc
            self._last = record
            log.debug(
                "signed %s at height %d round %d: %s",
                step.name.lower(),
                height,
                round_,
                payload_hash.hex(),
            )
            if self._fence is not None:
                log.warning("signing fence lifted: signed at %s", _describe(position))
                self._fence = None
            return signature

    def close(self) -> None:
        """Close the signing record."""
        self._log.close()


def open_signer(
    path: Path,
    sign: Callable[[bytes], bytes],
    hash_fn: Callable[[bytes], bytes],
    *,
    store: KVStore | None = None,
    ledger_height: int = 0,
    has_history: bool | None = None,
    ledger_signed: tuple[int, int, int] | None = None,
    force_fence: str | None = None,
    fs: FileOps | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> GuardedSigner:
    """Load the signing record at ``path`` and decide whether signing must be fenced.

    Args:
        path: the signing record file (created when missing).
        sign: signs bytes with the validator key.
        hash_fn: the suite hash.
        store: the node's database, where older versions kept the record (``W/last``):
            it is moved into the file on the first start.
        ledger_height: the node's committed height.
        has_history: whether the node ran before (its database existed before this
            start), so a missing record means a lost one; default: ``ledger_height > 0``.
        ledger_signed: the latest position the ledger shows this validator signed (its
            precommit in the last commit certificate), if any.
        force_fence: fence signing for this reason whatever the file says (re-sync).
        fs: file-system calls (tests inject failures and record their order).
        clock: monotonic seconds (for the fence's settling time).
    """
    signlog = SignLog(path, fs)
    found = signlog.load()
    record = found.record
    fence: str | None = force_fence
    legacy_raw = store.get(LEGACY_KEY) if store is not None else None
    legacy = _legacy_record(legacy_raw)
    if found.status == "missing" and legacy is not None:
        signlog.append(legacy)
        record = legacy
        log.warning("moved the signing record from the database to %s", path)
    elif found.status == "damaged":
        log.error("signing record %s is damaged: %s", path, found.detail)
        fence = fence or f"the signing record {path} was damaged ({found.detail})"
    elif found.status == "torn":
        log.warning(
            "signing record %s: %s (a crash in the middle of a write); using the record "
            "before it%s",
            path,
            found.detail,
            "" if record is None else f" ({_describe(record.position)})",
        )
    history = ledger_height > 0 if has_history is None else has_history
    if record is None and fence is None and (history or legacy_raw is not None):
        fence = (
            f"no signing record in {path} although this node ran before (height {ledger_height})"
        )
    if (
        fence is None
        and legacy is not None
        and record is not None
        and legacy.position > record.position
    ):
        fence = f"the signing record {path} is older than the one in the database"
    if (
        fence is None
        and ledger_signed is not None
        and (record is None or record.position < ledger_signed)
    ):
        fence = (
            f"the signing record {path} is older than this validator's precommit at "
            f"{_describe(ledger_signed)} in the ledger (a file from an older copy?)"
        )
    if fence is None and legacy_raw is not None and store is not None:
        batch = WriteBatch()
        batch.delete(LEGACY_KEY)
        store.write(batch, sync=True)
    if fence is not None:
        log.error("signing is fenced: %s", fence)
    return GuardedSigner(
        signlog,
        sign,
        hash_fn,
        last=record,
        fence=fence,
        min_floor=max(ledger_height + 1, ledger_signed[0] + 1 if ledger_signed else 0),
        clock=clock,
    )


def _legacy_record(raw: bytes | None) -> SignedRecord | None:
    if raw is None:
        return None
    try:
        return decode(raw, SignedRecord)
    except CodecError:
        log.error("the signing record in the database (W/last) does not decode")
        return None
