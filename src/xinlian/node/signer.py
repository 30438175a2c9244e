"""The validator's signer with double-sign protection (a write-ahead signing log).

Before a vote or proposal signature leaves the node, the signer records what it signed
at (height, round, step) in the node's store with a synced write. After a restart at any
moment it therefore never signs two different things for one (height, round, step), nor
anything for an earlier one:

* same (height, round, step), same payload: the stored signature is returned again
  (so a restarted node can re-send what it had sent);
* same (height, round, step), different payload: refused (``DoubleSignError``);
* an earlier (height, round, step) than the last signed: refused (``RegressionError``).

Steps order as proposal < prevote < precommit within a round.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import IntEnum

from msgspec import Struct

from xinlian.codec import decode, encode
from xinlian.storage import KVStore, WriteBatch
from xinlian.types.ints import U64

_LAST = b"W/last"


class Step(IntEnum):
    """What is being signed within a round, in protocol order."""

    PROPOSAL = 0
    PREVOTE = 1
    PRECOMMIT = 2


class SignedRecord(Struct, array_like=True, frozen=True):
    """The last thing signed: its position, the signed bytes' hash and the signature."""

    height: U64
    round: U64
    step: U64
    payload_hash: bytes
    signature: bytes


class SignerError(Exception):
    """Base of the signer's refusals."""


class DoubleSignError(SignerError):
    """A different payload was already signed at this height, round and step."""


class RegressionError(SignerError):
    """The position is earlier than what was last signed."""


class GuardedSigner:
    """Signs consensus messages for one validator key, never equivocating.

    Args:
        store: where the signing log lives (synced writes; shared with the node's data).
        sign: signs bytes with the validator key.
        hash_fn: the suite hash, used to compare payloads.
    """

    def __init__(
        self, store: KVStore, sign: Callable[[bytes], bytes], hash_fn: Callable[[bytes], bytes]
    ) -> None:
        self._store = store
        self._sign = sign
        self._hash = hash_fn
        self._lock = threading.Lock()

    def last(self) -> SignedRecord | None:
        """The last record signed, if any."""
        raw = self._store.get(_LAST)
        return None if raw is None else decode(raw, SignedRecord)

    def sign(self, height: int, round_: int, step: Step, payload: bytes) -> bytes:
        """Sign ``payload`` at (height, round, step), durably logging it first."""
        payload_hash = self._hash(payload)
        with self._lock:
            last = self.last()
            position = (height, round_, int(step))
            if last is not None:
                last_position = (last.height, last.round, last.step)
                if position == last_position:
                    if last.payload_hash == payload_hash:
                        return last.signature
                    raise DoubleSignError(
                        f"refusing to sign a different {step.name.lower()} at height "
                        f"{height}, round {round_}: one was already signed"
                    )
                if position < last_position:
                    raise RegressionError(
                        f"refusing to sign at height {height}, round {round_}, "
                        f"{step.name.lower()}: already signed at height {last.height}, "
                        f"round {last.round}, {Step(last.step).name.lower()}"
                    )
            signature = self._sign(payload)
            batch = WriteBatch()
            batch.put(
                _LAST, encode(SignedRecord(height, round_, int(step), payload_hash, signature))
            )
            self._store.write(batch, sync=True)  # durable before the signature is used
            return signature
