"""The chain: genesis, building and committing blocks, and the read side the API serves.

It ties storage, state, ledger, execution and mempool together for one node. Everything
a block changes (transactions, receipts, indexes, state nodes and values, the new height)
goes to storage in one atomic, synced batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from xinlian.apps import builtin_apps
from xinlian.codec import decode, encode
from xinlian.crypto import CryptoSuite, get_suite
from xinlian.crypto.merkle import merkle_root
from xinlian.execution import BlockResult, Executor, InvalidTransaction, Mode
from xinlian.execution.executor import nonce_key
from xinlian.ledger import Ledger, NotFound
from xinlian.mempool import Mempool, MempoolError
from xinlian.state import StateTree
from xinlian.storage import KVStore, WriteBatch
from xinlian.types import (
    BlockHeader,
    Commit,
    CommitSig,
    StateProof,
    TxEnvelope,
    Validator,
    ValidatorSet,
    Vote,
    VoteType,
)
from xinlian.types.genesis import Genesis


class ChainError(Exception):
    """Base of chain errors (bad genesis, mismatched data directory, ...)."""


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    """A block just committed, for subscribers (WebSocket, metrics)."""

    header: BlockHeader
    hash: bytes
    txs: list[TxEnvelope]
    result: BlockResult


def load_genesis(raw: bytes) -> Genesis:
    """Parse and check a genesis JSON document."""
    try:
        genesis = msgspec.json.decode(raw, type=Genesis)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ChainError(f"invalid genesis document: {exc}") from None
    if not genesis.validators:
        raise ChainError("genesis has no validators")
    get_suite(genesis.suite)
    return genesis


def validator_set(genesis: Genesis) -> ValidatorSet:
    """The validator set the genesis document names."""
    return ValidatorSet(
        [Validator(bytes.fromhex(v.public_key), v.power, v.name) for v in genesis.validators]
    )


class Chain:
    """One node's view of the chain, with block production for a local validator."""

    def __init__(self, store: KVStore, genesis: Genesis, *, state_retain: int = 1000) -> None:
        self.store = store
        self.genesis = genesis
        self.suite: CryptoSuite = get_suite(genesis.suite)
        self.chain_id = genesis.chain_id
        self.genesis_hash = self.suite.hash(encode(genesis))
        self.validators = validator_set(genesis)
        self.validators_hash = self.suite.hash(encode(self.validators))
        self.state = StateTree(store, self.suite.hash, prefix=b"S/")
        self.ledger = Ledger(store, self.suite.hash)
        self.executor = Executor(genesis.chain_id, self.suite, genesis.params, builtin_apps())
        self.state_retain = state_retain
        self._commit_lock = threading.Lock()
        self._listeners: list[Callable[[CommittedBlock], None]] = []
        self._init_genesis()
        self.mempool = Mempool(self.next_nonce, admit=self._admit)

    # GENESIS

    def _init_genesis(self) -> None:
        stored = self.ledger.genesis_json()
        genesis_json = msgspec.json.encode(self.genesis)
        if stored is not None:
            if self.suite.hash(encode(load_genesis(stored))) != self.genesis_hash:
                raise ChainError("this data directory belongs to a different genesis")
            return
        batch = WriteBatch()
        changes = self.executor.genesis_changes(self.genesis)
        self.state.apply(0, changes, batch)
        self.ledger.stage_genesis(genesis_json, batch)
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

    # ADMISSION

    def _admit(self, env: TxEnvelope) -> None:
        try:
            self.executor.check_admission(self.state.get, env, self.height + 1)
        except InvalidTransaction as exc:
            raise MempoolError("refused", str(exc)) from None

    # BLOCKS

    def subscribe(self, listener: Callable[[CommittedBlock], None]) -> None:
        """Call ``listener`` (from the committing thread) after each committed block."""
        self._listeners.append(listener)

    def produce_block(self, height: int, time_ms: int, proposer_key: bytes) -> CommittedBlock:
        """Build a block from the mempool, execute it, sign it and commit it atomically.

        ``proposer_key`` is the local validator's private key; a single-validator set signs
        its own precommit, which is the block's commit certificate.
        """
        with self._commit_lock:
            if height != self.height + 1:
                raise ChainError(f"asked to produce height {height}, next is {self.height + 1}")
            prev = self.last_header()
            prev_hash = self.genesis_hash if prev is None else self.suite.hash(encode(prev))
            if prev is not None and time_ms <= prev.time_ms:
                time_ms = prev.time_ms + 1
            envs = self.mempool.reap(self.genesis.params.max_block_txs)
            result = self.executor.execute_block(self.state.get, height, time_ms, envs, Mode.BUILD)
            batch = WriteBatch()
            state_root = self.state.apply(height, result.changes, batch)
            tx_hashes = [env.hash for env in result.txs]
            receipts_bytes = [encode(r) for r in result.receipts]
            keypair = self.suite.keypair_from_private(proposer_key)
            header = BlockHeader(
                chain_id=self.chain_id,
                height=height,
                time_ms=time_ms,
                prev_hash=prev_hash,
                tx_root=merkle_root(self.suite.hash, tx_hashes),
                state_root=state_root,
                receipts_root=merkle_root(self.suite.hash, receipts_bytes),
                validators_hash=self.validators_hash,
                next_validators_hash=self.validators_hash,
                proposer=keypair.public_key,
            )
            block_hash = self.suite.hash(encode(header))
            commit = self._sign_commit(height, block_hash, proposer_key, keypair.public_key)
            self.ledger.stage_block(
                header,
                block_hash,
                commit,
                [e.raw for e in result.txs],
                tx_hashes,
                result.receipts,
                batch,
            )
            if height > self.state_retain:
                self.state.prune(height - self.state_retain, batch)
            self.store.write(batch, sync=True)
            self.mempool.update(result.txs, [env for env, _ in result.dropped], height + 1)
        block = CommittedBlock(header, block_hash, result.txs, result)
        for listener in self._listeners:
            listener(block)
        return block

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
