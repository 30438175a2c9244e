"""The chain: genesis, building and committing blocks, and the read side the API serves.

It ties storage, state, ledger, execution and mempool together for one node. Everything
a block changes (transactions, receipts, indexes, state nodes and values, the new height)
goes to storage in one atomic, synced batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from xinlian.apps import builtin_apps
from xinlian.apps.governance import VALIDATORS_KEY, load_validators
from xinlian.codec import CodecError, decode, encode
from xinlian.crypto import CryptoSuite, address_of, get_suite
from xinlian.crypto.merkle import merkle_root
from xinlian.execution import BlockResult, Executor, InvalidBlock, InvalidTransaction, Mode
from xinlian.execution.executor import nonce_key
from xinlian.ledger import Ledger, NotFound
from xinlian.mempool import Mempool, MempoolError, decode_envelope
from xinlian.protocol import ProtocolError, Refusal
from xinlian.protocol.blocks import CertificateError, block_hash, validator_set_hash, verify_commit
from xinlian.protocol.genesis import genesis_hash, genesis_validators, parse_genesis
from xinlian.state import StateError, StateTree
from xinlian.storage import KVStore, WriteBatch
from xinlian.types import (
    Block,
    BlockHeader,
    Commit,
    CommitSig,
    Receipt,
    SignedTransaction,
    StateProof,
    Transaction,
    TxEnvelope,
    ValidatorEntry,
    ValidatorSet,
    Vote,
    VoteType,
)
from xinlian.types.genesis import Genesis


class ChainError(Exception):
    """Base of chain errors (bad genesis, mismatched data directory, ...)."""


@dataclass(frozen=True, slots=True)
class PreparedBlock:
    """An executed block not yet committed: its header, hash, results and staged writes."""

    header: BlockHeader
    hash: bytes
    result: BlockResult
    batch: WriteBatch
    #: The validator set from the next height on, when this block changes it.
    next_validators: list[ValidatorEntry] | None = None
    #: Seconds spent building or validating (executing) it on this node.
    work_s: float = 0.0

    def block(self) -> Block:
        """The block to send to other validators."""
        return Block(self.header, [env.stx for env in self.result.txs])


#: Builds the envelope of a call from the sender's next nonce (given a nonce reader).
EnvelopeFactory = Callable[[Callable[[str], int]], TxEnvelope]


@dataclass(frozen=True, slots=True)
class Simulation:
    """What a transaction would do in the next block (see :meth:`Chain.simulate`).

    Attributes:
        height: the committed height whose state the simulation read.
        env: the transaction simulated.
        receipt: the receipt it would get, or None when it would be refused.
        refused: why a node would refuse it (it could not be in a block), else None.
        reason: the refusal's code, as admission answers it (``expired``,
            ``unknown_sender``, ``permission_denied``, ``invalid_args``, ...), else None.
    """

    height: int
    env: TxEnvelope
    receipt: Receipt | None
    refused: str | None
    reason: Refusal | None = None


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    """A block just committed, for subscribers (WebSocket, metrics)."""

    header: BlockHeader
    hash: bytes
    txs: list[TxEnvelope]
    result: BlockResult
    #: Seconds this node spent on the block: building or validating it (execution) plus
    #: writing it (the ``xinlian_block_commit_seconds`` metric); consensus waits excluded.
    seconds: float = 0.0


class _BlockParts(msgspec.Struct, array_like=True, frozen=True):
    header: msgspec.Raw
    txs: list[msgspec.Raw]


@dataclass(frozen=True, slots=True)
class WireBlock:
    """A block as received: the header decoded, each transaction still its raw bytes.

    Validating it needs no re-encoding: a transaction already in the mempool is found by
    the hash of its bytes, any other is decoded strictly and its signature checked.
    """

    header: BlockHeader
    txs: list[bytes]


def decode_wire_block(raw: bytes) -> WireBlock:
    """Split a block's bytes into its header (decoded strictly: canonical bytes only) and
    its transactions' bytes.

    Raises:
        InvalidBlock: not a block, or a header that is not canonically encoded.
    """
    try:
        parts = msgspec.msgpack.decode(raw, type=_BlockParts)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InvalidBlock(f"not a block: {exc}") from None
    try:
        header = decode(bytes(parts.header), BlockHeader)
    except CodecError as exc:
        raise InvalidBlock(f"block header: {exc}") from None
    return WireBlock(header, [bytes(tx) for tx in parts.txs])


def load_genesis(raw: bytes) -> Genesis:
    """Parse and check a genesis JSON document (:func:`xinlian.protocol.genesis.parse_genesis`)."""
    try:
        return parse_genesis(raw)
    except ProtocolError as exc:
        raise ChainError(str(exc)) from None


def validator_set(entries: list[ValidatorEntry]) -> ValidatorSet:
    """The header form of a validator set (without transport keys)."""
    return ValidatorSet([e.validator() for e in entries])


class Chain:
    """One node's view of the chain, with block production for a local validator."""

    def __init__(
        self,
        store: KVStore,
        genesis: Genesis,
        *,
        state_retain: int = 1000,
        block_gas_budget: int | None = None,
    ) -> None:
        self.store = store
        self.genesis = genesis
        self.suite: CryptoSuite = get_suite(genesis.suite)
        self.chain_id = genesis.chain_id
        self.genesis_hash = genesis_hash(self.suite, genesis)
        self.state = StateTree(store, self.suite.hash, prefix=b"S/")
        self.ledger = Ledger(store, self.suite.hash)
        self.executor = Executor(genesis.chain_id, self.suite, genesis.params, builtin_apps())
        self.state_retain = state_retain
        #: Blocks this node builds stop once their transactions used this much gas.
        self.block_gas_budget = block_gas_budget
        self._commit_lock = threading.Lock()
        self._listeners: list[Callable[[CommittedBlock], None]] = []
        self._init_genesis()
        self._set_validators(load_validators(self.state.get(VALIDATORS_KEY)))
        self.mempool = Mempool(self.next_nonce, admit=self._admit)

    def _set_validators(self, entries: list[ValidatorEntry]) -> None:
        if not entries:
            raise ChainError("the state holds no validator set")
        #: The validator set of the next block, with transport keys.
        self.validator_entries = entries
        self.validators = validator_set(entries)
        self.validators_hash = validator_set_hash(self.suite, self.validators)

    # GENESIS

    def _init_genesis(self) -> None:
        stored = self.ledger.genesis_json()
        genesis_json = msgspec.json.encode(self.genesis)
        if stored is not None:
            if genesis_hash(self.suite, load_genesis(stored)) != self.genesis_hash:
                raise ChainError("this data directory belongs to a different genesis")
            return
        batch = WriteBatch()
        changes = self.executor.genesis_changes(self.genesis)
        self.state.apply(0, changes, batch)
        self.ledger.stage_genesis(genesis_json, batch)
        first = validator_set(genesis_validators(self.genesis))
        self.ledger.stage_validator_set(validator_set_hash(self.suite, first), first, batch)
        self.store.write(batch, sync=True)

    # READS

    @property
    def height(self) -> int:
        """Latest committed height."""
        return self.ledger.height()

    def last_header(self) -> BlockHeader | None:
        """Header of the latest block, or None before the first block."""
        h = self.height
        return None if h <= 0 else self.ledger.header(h)

    def next_nonce(self, address: str) -> int:
        """The sender's next nonce in committed state."""
        raw = self.state.get(nonce_key(address))
        return 0 if raw is None else decode(raw, int)

    def state_root(self, height: int | None = None) -> bytes:
        """State root after ``height`` (latest by default)."""
        return self.state.root(self.height if height is None else height)

    def prove_state(
        self, key: bytes, height: int | None = None
    ) -> tuple[int, bytes | None, StateProof]:
        """Value of ``key`` with its proof against the state root of ``height``."""
        at = self.height if height is None else height
        if not 0 <= at <= self.height:
            raise NotFound(f"no state at height {at} (latest is {self.height})")
        value, proof = self.state.prove(key, at)
        return at, value, proof

    def query(self, target: str, method: str, args: bytes) -> Any:
        """Run a read-only app method on the latest state."""
        header = self.last_header()
        return self.executor.query(
            self.state.get, target, method, args, self.height, header.time_ms if header else 0
        )

    # SIMULATION

    def unsigned_envelope(
        self,
        sender: bytes,
        *,
        nonce: int,
        target: str,
        method: str,
        args: bytes,
        gas_limit: int,
        expiry: int,
    ) -> TxEnvelope:
        """An envelope of an unsigned call, for :meth:`simulate` only.

        The signature is zero bytes of the suite's signature size, so the encoded size, and
        with it the intrinsic gas, is what the signed transaction's will be.
        """
        if len(sender) != self.suite.public_key_size:
            raise ChainError(
                f"sender must be a public key of the {self.suite.name} suite "
                f"({self.suite.public_key_size} bytes)"
            )
        tx = Transaction(self.chain_id, sender, nonce, target, method, args, gas_limit, expiry)
        stx = SignedTransaction(tx, bytes(self.suite.signature_size))
        raw = encode(stx)
        return TxEnvelope(stx, raw, self.suite.hash(raw), address_of(self.suite, sender))

    def simulate(
        self, tx: TxEnvelope | EnvelopeFactory, time_ms: int, gas_cap: int | None = None
    ) -> Simulation:
        """Run a transaction against the latest committed state as the next block would,
        and keep nothing: no state, nonce, ledger or mempool change.

        ``tx`` is an envelope, or a function building one from the sender's next nonce
        (an unsigned call without a nonce): it is called with a nonce reader of the same
        committed state the simulation reads.

        Reads are pinned to one committed height. If a block is committed while the call
        runs (the latest-height reads may then have seen the new block), it runs again
        under the commit lock, so the answer always reflects one consistent state.
        """
        height = self.height
        try:
            result = self._simulate_at(height, tx, time_ms, gas_cap)
        except StateError:  # that version was pruned meanwhile
            pass
        else:
            if self.height == height:
                return result
        with self._commit_lock:
            return self._simulate_at(self.height, tx, time_ms, gas_cap)

    def _simulate_at(
        self, height: int, tx: TxEnvelope | EnvelopeFactory, time_ms: int, gas_cap: int | None
    ) -> Simulation:
        def read(key: bytes) -> bytes | None:
            return self.state.get(key, height)

        def nonce_of(address: str) -> int:
            raw = read(nonce_key(address))
            return 0 if raw is None else decode(raw, int)

        env = tx if isinstance(tx, TxEnvelope) else tx(nonce_of)
        nonce, gap = env.stx.tx.nonce, self.mempool.max_nonce_gap
        committed = nonce_of(env.sender_address)
        if nonce > committed + gap:  # the mempool would refuse it
            return Simulation(
                height,
                env,
                None,
                f"nonce {nonce} is more than {gap} ahead of {committed}",
                Refusal.NONCE_TOO_HIGH,
            )
        header = self.ledger.header(height) if height > 0 else None
        if header is not None and time_ms <= header.time_ms:
            time_ms = header.time_ms + 1
        try:
            receipt = self.executor.simulate(read, env, height + 1, time_ms, gas_cap=gas_cap)
        except InvalidTransaction as exc:
            return Simulation(height, env, None, str(exc), exc.refusal)
        return Simulation(height, env, receipt, None)

    # ADMISSION

    def _admit(self, env: TxEnvelope) -> TxEnvelope:
        try:
            return self.executor.admit(self.state.get, env, self.height + 1)
        except InvalidTransaction as exc:
            raise MempoolError(exc.refusal, str(exc)) from None

    # BLOCKS

    def subscribe(self, listener: Callable[[CommittedBlock], None]) -> None:
        """Call ``listener`` (from the committing thread) after each committed block."""
        self._listeners.append(listener)

    def prepare_block(self, height: int, time_ms: int, proposer: bytes) -> PreparedBlock:
        """Build and execute the next block from the mempool, without committing it.

        The result holds the header (with the state and receipts roots after execution)
        and the staged writes; :meth:`commit_block` makes it permanent once certified.
        """
        started = time.perf_counter()
        with self._commit_lock:
            self._expect_next(height)
            prev = self.last_header()
            if prev is not None and time_ms <= prev.time_ms:
                time_ms = prev.time_ms + 1
            params = self.genesis.params
            envs = self.mempool.reap(params.max_block_txs, params.max_block_bytes)
            result = self.executor.execute_block(
                self.state.get, height, time_ms, envs, Mode.BUILD, gas_budget=self.block_gas_budget
            )
            prepared = self._seal(height, time_ms, proposer, result)
        return replace(prepared, work_s=time.perf_counter() - started)

    def validate_block(self, block: Block | WireBlock) -> PreparedBlock:
        """Check a block proposed by another validator and execute it (before voting).

        Raises:
            InvalidBlock: naming the rule the block breaks (wrong height, chain, parent,
                time, proposer or validator set, a bad or unadmissible transaction, or
                roots that differ from this node's execution).
        """
        header = block.header
        started = time.perf_counter()
        with self._commit_lock:
            self._expect_next(header.height, error=InvalidBlock)
            prev, prev_hash = self._parent()
            checks = (
                (header.chain_id == self.chain_id, f"chain id {header.chain_id!r}"),
                (header.prev_hash == prev_hash, "previous block hash does not match"),
                (prev is None or header.time_ms > prev.time_ms, "time does not increase"),
                (header.validators_hash == self.validators_hash, "unknown validator set"),
                (
                    any(v.public_key == header.proposer for v in self.validators.validators),
                    "proposer is not a validator",
                ),
                (
                    len(block.txs) <= self.genesis.params.max_block_txs,
                    f"more than {self.genesis.params.max_block_txs} transactions",
                ),
            )
            for ok, reason in checks:
                if not ok:
                    raise InvalidBlock(f"block {header.height}: {reason}")
            raws = block.txs if isinstance(block, WireBlock) else [encode(stx) for stx in block.txs]
            # The executor enforces max_block_bytes; refusing here first saves checking
            # the signatures of an oversized block.
            size = sum(len(raw) for raw in raws)
            if size > self.genesis.params.max_block_bytes:
                raise InvalidBlock(
                    f"block {header.height}: {size} bytes of transactions, more than "
                    f"{self.genesis.params.max_block_bytes}"
                )
            envs = [self._envelope(raw) for raw in raws]
            result = self.executor.execute_block(
                self.state.get, header.height, header.time_ms, envs, Mode.VALIDATE
            )
            prepared = self._seal(header.height, header.time_ms, header.proposer, result)
            for field in ("tx_root", "state_root", "receipts_root", "next_validators_hash"):
                if getattr(prepared.header, field) != getattr(header, field):
                    raise InvalidBlock(
                        f"block {header.height}: {field} differs from this node's execution"
                    )
        return replace(prepared, work_s=time.perf_counter() - started)

    def _envelope(self, raw: bytes) -> TxEnvelope:
        pending = self.mempool.get(self.suite.hash(raw))
        if pending is not None:  # signature already checked on admission
            return pending
        try:
            return decode_envelope(self.suite, self.chain_id, raw, self.genesis.params.max_tx_bytes)
        except MempoolError as exc:
            raise InvalidBlock(f"transaction {self.suite.hash(raw).hex()}: {exc}") from None

    def block_hash(self, header: BlockHeader) -> bytes:
        """A block's id (:func:`xinlian.protocol.blocks.block_hash` in this chain's suite)."""
        return block_hash(self.suite, header)

    def _parent(self) -> tuple[BlockHeader | None, bytes]:
        """The latest header (None before block 1) and the hash the next block links to."""
        prev = self.last_header()
        return prev, self.genesis_hash if prev is None else self.block_hash(prev)

    def _expect_next(self, height: int, error: type[Exception] = ChainError) -> None:
        if height != self.height + 1:
            raise error(f"block for height {height}, but the next height is {self.height + 1}")

    def _seal(
        self, height: int, time_ms: int, proposer: bytes, result: BlockResult
    ) -> PreparedBlock:
        _, prev_hash = self._parent()
        batch = WriteBatch()
        state_root = self.state.apply(height, result.changes, batch)
        next_entries: list[ValidatorEntry] | None = None
        next_hash = self.validators_hash
        raw_next = result.changes.get(VALIDATORS_KEY)
        if raw_next is not None:
            next_entries = load_validators(raw_next)
            next_hash = validator_set_hash(self.suite, validator_set(next_entries))
            if next_hash == self.validators_hash:
                next_entries = None
        tx_hashes = [env.hash for env in result.txs]
        header = BlockHeader(
            chain_id=self.chain_id,
            height=height,
            time_ms=time_ms,
            prev_hash=prev_hash,
            tx_root=merkle_root(self.suite.hash, tx_hashes),
            state_root=state_root,
            receipts_root=merkle_root(self.suite.hash, [encode(r) for r in result.receipts]),
            validators_hash=self.validators_hash,
            next_validators_hash=next_hash,
            proposer=proposer,
        )
        return PreparedBlock(header, self.block_hash(header), result, batch, next_entries)

    def commit_block(self, prepared: PreparedBlock, commit: Commit) -> CommittedBlock:
        """Write a prepared block with its commit certificate in one atomic, synced batch.

        Raises:
            ChainError: the certificate does not prove the block final, or the block is
                not the next one.
        """
        header = prepared.header
        try:
            verify_commit(self.suite, header, commit, self.validators)
        except CertificateError as exc:
            raise ChainError(f"block {header.height} is not final: {exc}") from None
        result = prepared.result
        started = time.perf_counter()
        with self._commit_lock:
            self._expect_next(header.height)
            batch = prepared.batch
            self.ledger.stage_block(
                header,
                prepared.hash,
                commit,
                [e.raw for e in result.txs],
                [e.hash for e in result.txs],
                result.receipts,
                batch,
            )
            next_entries = prepared.next_validators
            if next_entries is not None:
                self.ledger.stage_validator_set(
                    header.next_validators_hash, validator_set(next_entries), batch
                )
                self.ledger.stage_validator_change(header.height, batch)
            if header.height > self.state_retain:
                self.state.prune(header.height - self.state_retain, batch)
            self.store.write(batch, sync=True)
            if next_entries is not None:
                self._set_validators(next_entries)
            self.mempool.update(result.txs, [env for env, _ in result.dropped], header.height + 1)
        seconds = prepared.work_s + (time.perf_counter() - started)
        block = CommittedBlock(header, prepared.hash, result.txs, result, seconds)
        for listener in self._listeners:
            listener(block)
        return block

    def produce_block(self, height: int, time_ms: int, proposer_key: bytes) -> CommittedBlock:
        """Development mode: prepare the next block, sign its precommit and commit it.

        ``proposer_key`` is the local validator's private key; a single-validator set signs
        its own precommit, which is the block's commit certificate.
        """
        keypair = self.suite.keypair_from_private(proposer_key)
        prepared = self.prepare_block(height, time_ms, keypair.public_key)
        commit = self._sign_commit(height, prepared.hash, proposer_key, keypair.public_key)
        return self.commit_block(prepared, commit)

    def _sign_commit(
        self, height: int, block_hash: bytes, private_key: bytes, public_key: bytes
    ) -> Commit:
        index = next(
            (i for i, v in enumerate(self.validators.validators) if v.public_key == public_key),
            None,
        )
        if index is None:
            raise ChainError("this node's key is not in the validator set")
        vote = Vote(self.chain_id, int(VoteType.PRECOMMIT), height, 0, block_hash)
        signature = self.suite.sign(private_key, encode(vote))
        return Commit(height, 0, block_hash, [CommitSig(index, signature)])
