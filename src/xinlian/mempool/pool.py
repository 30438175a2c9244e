"""Admission, per-sender nonce ordering, limits, duplicate rejection and re-check.

Admission is two steps so the expensive one can run in worker threads:

* :func:`decode_envelope` is stateless: size limit, strict canonical decoding, chain id and
  the signature, checked once here and never again on this node.
* :meth:`Mempool.add` is stateful and fast: duplicates, nonce against the committed
  state, per-sender and total limits. It holds a lock, so threads may call it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from xinlian.codec import CodecError, decode, encode
from xinlian.crypto import CryptoSuite, address_of
from xinlian.protocol import Refusal
from xinlian.types import SignedTransaction, TxEnvelope

#: Every this many heights, ``update`` re-checks all senders, not only those in the block.
EXPIRY_SWEEP_BLOCKS = 16


class MempoolError(Exception):
    """A transaction refused on admission; ``reason`` is its code for clients (a
    :class:`~xinlian.protocol.Refusal`, whose value is the wire string)."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode_envelope(suite: CryptoSuite, chain_id: str, raw: bytes, max_bytes: int) -> TxEnvelope:
    """Decode and authenticate one signed transaction; raises ``MempoolError``."""
    if len(raw) > max_bytes:
        raise MempoolError(Refusal.TOO_LARGE, f"transaction is {len(raw)} bytes, limit {max_bytes}")
    try:
        stx = decode(raw, SignedTransaction)
    except CodecError as exc:
        raise MempoolError(Refusal.MALFORMED, str(exc)) from None
    tx = stx.tx
    if tx.chain_id != chain_id:
        raise MempoolError(Refusal.WRONG_CHAIN, f"chain id {tx.chain_id!r} is not {chain_id!r}")
    if len(tx.sender) != suite.public_key_size:
        raise MempoolError(
            Refusal.BAD_SIGNATURE,
            f"sender is not a {suite.name} public key ({suite.public_key_size} bytes)",
        )
    if not suite.verify(tx.sender, encode(tx), stx.signature):
        raise MempoolError(Refusal.BAD_SIGNATURE, "signature does not verify for the sender's key")
    return TxEnvelope(stx, raw, suite.hash(raw), address_of(suite, tx.sender))


class _Sender:
    __slots__ = ("txs",)

    def __init__(self) -> None:
        self.txs: dict[int, TxEnvelope] = {}


class Mempool:
    """Pending transactions, grouped by sender and ordered by nonce.

    Args:
        state_nonce: returns the sender's next nonce in committed state.
        admit: optional extra check against committed state (unknown sender, expiry, the
            sender's role for the method, argument size and shape); raises
            ``MempoolError`` to refuse. It may return a replacement envelope (the same
            transaction with its decoded arguments) that the pool keeps instead.
        max_txs: total capacity; further transactions are refused with ``full``.
        max_bytes: total size of pending transactions; beyond it, ``full`` too.
        max_per_sender: most pending transactions of one sender.
        max_nonce_gap: how far ahead of the committed nonce a transaction may be.
    """

    def __init__(
        self,
        state_nonce: Callable[[str], int],
        *,
        admit: Callable[[TxEnvelope], TxEnvelope | None] | None = None,
        max_txs: int = 200_000,
        max_bytes: int = 1 << 30,
        max_per_sender: int = 10_000,
        max_nonce_gap: int = 10_000,
    ) -> None:
        self._state_nonce = state_nonce
        self._admit = admit
        self.max_txs = max_txs
        self.max_bytes = max_bytes
        self._bytes = 0
        self.max_per_sender = max_per_sender
        self.max_nonce_gap = max_nonce_gap
        self._lock = threading.Lock()
        self._by_hash: dict[bytes, TxEnvelope] = {}
        self._senders: OrderedDict[str, _Sender] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> TxEnvelope | None:
        """The pending transaction with this hash, if any (already authenticated)."""
        return self._by_hash.get(tx_hash)

    def add(self, env: TxEnvelope) -> None:
        """Admit an authenticated transaction or raise ``MempoolError``."""
        tx = env.stx.tx
        with self._lock:
            if env.hash in self._by_hash:
                raise MempoolError(Refusal.DUPLICATE, "transaction is already pending")
            next_nonce = self._state_nonce(env.sender_address)
            if tx.nonce < next_nonce:
                raise MempoolError(
                    Refusal.NONCE_TOO_LOW,
                    f"nonce {tx.nonce} already used; the sender's next nonce is {next_nonce}",
                )
            if tx.nonce > next_nonce + self.max_nonce_gap:
                raise MempoolError(
                    Refusal.NONCE_TOO_HIGH,
                    f"nonce {tx.nonce} is more than {self.max_nonce_gap} ahead of {next_nonce}",
                )
            sender = self._senders.get(env.sender_address)
            if sender is not None:
                if tx.nonce in sender.txs:
                    raise MempoolError(
                        Refusal.NONCE_TAKEN,
                        f"another transaction with nonce {tx.nonce} from this sender is pending",
                    )
                if len(sender.txs) >= self.max_per_sender:
                    raise MempoolError(
                        Refusal.SENDER_LIMIT,
                        f"sender already has {self.max_per_sender} pending transactions",
                    )
            if len(self._by_hash) >= self.max_txs:
                raise MempoolError(Refusal.FULL, f"mempool is full ({self.max_txs} transactions)")
            if self._bytes + len(env.raw) > self.max_bytes:
                raise MempoolError(
                    Refusal.FULL, f"mempool is full ({self.max_bytes} bytes pending)"
                )
            if self._admit is not None:
                env = self._admit(env) or env
            if sender is None:
                sender = self._senders[env.sender_address] = _Sender()
            sender.txs[tx.nonce] = env
            self._by_hash[env.hash] = env
            self._bytes += len(env.raw)

    def reap(self, limit: int, max_bytes: int | None = None) -> list[TxEnvelope]:
        """Up to ``limit`` executable transactions of at most ``max_bytes`` raw bytes in
        all: per sender, consecutive nonces from the committed one; senders take turns one
        transaction at a time (round robin, in order of arrival), so one busy sender cannot
        fill a block alone. A sender whose next transaction does not fit stops there."""
        out: list[TxEnvelope] = []
        budget = max_bytes if max_bytes is not None else -1
        with self._lock:
            cursors = [
                (sender.txs, self._state_nonce(address))
                for address, sender in self._senders.items()
            ]
            while cursors and len(out) < limit:
                alive: list[tuple[dict[int, TxEnvelope], int]] = []
                for txs, nonce in cursors:
                    env = txs.get(nonce)
                    if env is None:
                        continue
                    if budget >= 0:
                        if len(env.raw) > budget:
                            continue
                        budget -= len(env.raw)
                    out.append(env)
                    if len(out) >= limit:
                        break
                    alive.append((txs, nonce + 1))
                cursors = alive
        return out

    def update(
        self, committed: Iterable[TxEnvelope], dropped: Iterable[TxEnvelope] = (), height: int = 0
    ) -> None:
        """After a commit: remove committed and dropped transactions, then any whose nonce
        the state has passed or whose expiry is below ``height`` (re-check)."""
        with self._lock:
            touched: set[str] = set()
            for env in (*committed, *dropped):
                self._remove(env)
                touched.add(env.sender_address)
            if height % EXPIRY_SWEEP_BLOCKS == 0:
                touched.update(self._senders)  # now and then, re-check every sender
            for address in touched:
                sender = self._senders.get(address)
                if sender is None:
                    continue
                nonce = self._state_nonce(address)
                for stale in [
                    e for n, e in sender.txs.items() if n < nonce or e.stx.tx.expiry < height
                ]:
                    self._remove(stale)

    def _remove(self, env: TxEnvelope) -> None:
        if self._by_hash.pop(env.hash, None) is None:
            return
        self._bytes -= len(env.raw)
        sender = self._senders.get(env.sender_address)
        if sender is not None:
            sender.txs.pop(env.stx.tx.nonce, None)
            if not sender.txs:
                del self._senders[env.sender_address]

    def pending(self, limit: int = 100) -> list[TxEnvelope]:
        """Some pending transactions (for status pages)."""
        with self._lock:
            return list(self._by_hash.values())[:limit]
