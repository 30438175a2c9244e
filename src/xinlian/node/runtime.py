"""The running node: chain, mempool, consensus driver, transport and admission.

Consensus is Tendermint BFT for any number of validators (a single-validator network
runs the same code with a set of one; it opens no network port). Signature checks of
submitted transactions run in a thread pool (libsodium and OpenSSL release the GIL);
block building, validation and commits run on one chain thread so the event loop keeps
serving the API and the network. Admitted transactions are gossiped to the peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from xinlian.codec import CodecError, decode, encode, to_builtins
from xinlian.consensus.messages import SignStep
from xinlian.crypto import KeyPair, get_suite
from xinlian.ledger import Ledger, NotFound
from xinlian.mempool import MempoolError, decode_envelope
from xinlian.node.chain import Chain, ChainError, CommittedBlock, load_genesis
from xinlian.node.config import NodeConfig
from xinlian.node.driver import ConsensusDriver
from xinlian.node.keys import read_key
from xinlian.node.lockfile import LockFile
from xinlian.node.metrics import NodeMetrics
from xinlian.node.signer import GuardedSigner, open_signer
from xinlian.node.wire import MAX_TX_BATCH, Channel, TxBatch
from xinlian.p2p import PeerAddress, Transport, TransportConfig, TransportIdentity
from xinlian.storage import KVStore, StorageError, open_store
from xinlian.types import TxEnvelope

log = logging.getLogger("xinlian.node")

#: Result of submitting one raw transaction: its hash, or the refusal.
SubmitResult = bytes | MempoolError

#: The validator's signing record, in the node home beside ``data/`` (never inside it:
#: ``data/`` may be restored from a backup or moved aside by ``--resync``).
SIGNING_FILE = "signing.log"
#: The consensus lock kept across restarts (``node/lockfile.py``).
LOCK_FILE = "consensus.lock"

#: The running node's process id, in the node home (removed when it stops).
PID_FILE = "node.pid"

#: The highest height this node committed (and so may have acknowledged to clients),
#: in the node home, rewritten at most once per :data:`MARK_INTERVAL_S`.
HEIGHT_MARK_FILE = "committed.height"
MARK_INTERVAL_S = 1.0
#: Free disk space is read at most this often (admission checks it on every write).
DISK_CHECK_INTERVAL_S = 1.0

#: Admitted transactions are gossiped in batches at most this often.
TX_GOSSIP_DELAY_S = 0.02
TX_GOSSIP_BYTES = 1 << 20


def now_ms() -> int:
    """Wall-clock milliseconds (read only here, at the edge)."""
    return int(time.time() * 1000)


def running_pid(home: Path) -> int | None:
    """The process id of the node running from ``home``, if one is alive."""
    try:
        pid = int((home / PID_FILE).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def move_data_aside(config: NodeConfig) -> Path | None:
    """Move the node's database to ``data.damaged-<time>`` beside it (never deleting it)
    so the node starts empty and catches up from its peers; the signing record stays.

    Returns:
        Where the data went, or None when there was none.
    """
    data = Path(config.data_dir)
    if not data.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        aside = data.with_name(f"{data.name}.damaged-{stamp}" + (f".{n}" if n else ""))
        if not aside.exists():
            data.rename(aside)
            return aside
    raise ChainError(f"too many damaged copies of {data} beside it")


def disk_free_bytes(path: Path) -> int | None:
    """Free bytes on the file system holding ``path`` (None if it cannot be read)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _warn_fixed_hash_seed() -> None:
    """Contracts may key dicts by str and bytes because their hashes are seeded per process
    and unknown to a contract's author (docs/adr/0008-gas-bounds-time.md); a fixed seed
    makes colliding keys computable, so a contract call could take far more time than its
    gas pays for."""
    seed = os.environ.get("PYTHONHASHSEED", "random")
    if seed not in ("", "random"):
        log.warning(
            "PYTHONHASHSEED=%s fixes Python's string hashing: a contract's dict keys could "
            "then be chosen to collide and stall this node; unset PYTHONHASHSEED",
            seed,
        )


class Node:
    """A member node: one chain, its mempool, consensus and (with peers) the transport."""

    def __init__(
        self, config: NodeConfig, *, store: KVStore | None = None, resync: bool = False
    ) -> None:
        self.config = config
        _warn_fixed_hash_seed()
        try:
            genesis_raw = config.genesis_path.read_bytes()
        except OSError as exc:
            raise ChainError(f"cannot read genesis {config.genesis_path}: {exc}") from None
        self.genesis = load_genesis(genesis_raw)
        self.key: KeyPair = read_key(config.key_path)[0]
        if self.key.suite != self.genesis.suite:
            raise ChainError(f"node key is {self.key.suite}, chain uses {self.genesis.suite}")
        self.p2p_identity = self._p2p_identity()
        self.store = store if store is not None else open_store(Path(config.data_dir))
        existed = Ledger(self.store, get_suite(self.genesis.suite).hash).genesis_json() is not None
        self.chain = Chain(
            self.store,
            self.genesis,
            state_retain=config.state_retain,
            block_gas_budget=config.block_gas_budget,
        )
        self.chain.mempool.max_txs = config.mempool_size
        self.metrics = NodeMetrics()
        self.metrics.height.set(self.chain.height)
        self.signer: GuardedSigner = open_signer(
            config.home / SIGNING_FILE,
            lambda payload: self.chain.suite.sign(self.key.private_key, payload),
            self.chain.suite.hash,
            store=self.store,
            ledger_height=self.chain.height,
            has_history=existed or self.chain.height > 0,
            ledger_signed=self._ledger_signed(),
            force_fence="the node was re-synced (--resync): its data was damaged"
            if resync
            else None,
        )
        #: Why the node stopped itself (an unrecoverable storage error), or None.
        self.fatal_error: str | None = None
        self.failed = asyncio.Event()
        #: The height this node's own records say it reached before (its committed-height
        #: mark, or the height it last signed at, less one); while the ledger is below,
        #: the database lost blocks and the node is not ready.
        self.own_record_height = self._own_record_height()
        if self.chain.height < self.own_record_height:
            log.error(
                "the database is behind this node's own record: it holds height %d, but the "
                "node had reached height %d before (blocks were lost: a damaged or restored "
                "database, or a re-sync); it catches up from its peers and reports not ready "
                "until it is past height %d",
                self.chain.height,
                self.own_record_height,
                self.own_record_height,
            )
        self._mark_written = 0.0
        self._disk_checked = 0.0
        self._disk_free: int | None = None
        self.last_commit_ms: int | None = None
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify")
        self._chain_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain")
        self.max_frame_bytes = self.genesis.params.max_block_bytes + (2 << 20)
        self.transport: Transport | None = None
        self.driver: ConsensusDriver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[asyncio.Queue[CommittedBlock]] = set()
        self._gossip_out: list[bytes] = []
        self._gossip_handle: asyncio.TimerHandle | None = None
        self.started_ms = now_ms()
        self.chain.subscribe(self._on_block)

    def _own_record_height(self) -> int:
        mark = 0
        with contextlib.suppress(OSError, ValueError):
            mark = int((self.config.home / HEIGHT_MARK_FILE).read_text().strip())
        last = self.signer.last()
        return max(mark, last.height - 1 if last is not None else 0)

    def _write_mark(self, height: int) -> None:
        """Record ``height`` in the committed-height mark (on the chain thread); the mark
        never goes down."""
        height = max(height, self.own_record_height)
        path = self.config.home / HEIGHT_MARK_FILE
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "w") as f:
                f.write(f"{height}\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write %s: %s", path, exc)

    def disk_free(self) -> int | None:
        """Free bytes on the data disk (read at most once a second)."""
        now = time.monotonic()
        if now - self._disk_checked >= DISK_CHECK_INTERVAL_S:
            self._disk_checked = now
            self._disk_free = disk_free_bytes(Path(self.config.data_dir))
            if self._disk_free is not None:
                self.metrics.disk_free.set(self._disk_free)
        return self._disk_free

    def write_refusal(self) -> str | None:
        """Why new client writes are refused now (None: they are accepted)."""
        if self.fatal_error is not None:
            return f"the node has stopped: {self.fatal_error}"
        free = self.disk_free()
        if free is not None and free < self.config.min_free_bytes:
            return (
                f"the node's disk is nearly full ({free} bytes free, below the floor of "
                f"{self.config.min_free_bytes}); writes resume when space is freed"
            )
        return None

    def health(self) -> str | None:
        """Why the node is unhealthy (it cannot write), or None."""
        if self.fatal_error is not None:
            return self.fatal_error
        return None

    def not_ready(self) -> list[str]:
        """Why the node should not serve clients as current (empty: ready)."""
        reasons: list[str] = []
        if self.fatal_error is not None:
            reasons.append(self.fatal_error)
        height = self.chain.height
        if height < self.own_record_height:
            reasons.append(
                f"behind its own record: at height {height}, but it had reached height "
                f"{self.own_record_height} before"
            )
        best = self.driver.best_peer_height() if self.driver is not None else None
        lag = max(0, best - height) if best is not None else 0
        self.metrics.lag.set(lag)
        if lag > self.config.max_lag_blocks:
            reasons.append(
                f"{lag} blocks behind its best peer (the limit is {self.config.max_lag_blocks})"
            )
        if self.transport is not None and not self.transport.connected_peers():
            reasons.append("no peers connected")
        return reasons

    def _ledger_signed(self) -> tuple[int, int, int] | None:
        """The latest position the ledger shows this validator signed: its precommit in
        the commit certificate of the latest block, if it is there."""
        height = self.chain.height
        if height <= 0:
            return None
        try:
            ledger = self.chain.ledger
            header = ledger.header(height)
            commit = ledger.commit(height)
            validators = ledger.validator_set(header.validators_hash).validators
        except NotFound:
            return None
        keys = [v.public_key for v in validators]
        if self.key.public_key not in keys:
            return None
        index = keys.index(self.key.public_key)
        if any(sig.validator_index == index for sig in commit.signatures):
            return (height, commit.round, int(SignStep.PRECOMMIT))
        return None

    def fail(self, exc: StorageError) -> None:
        """Stop on an unrecoverable storage error (the node's own fault, never a peer's):
        consensus stops at once, nothing more is written, and ``failed`` is set so the
        process ends with the reason."""
        if self.fatal_error is not None:
            return
        free = disk_free_bytes(self.config.data_dir)
        space = "" if free is None else f" ({free} bytes free on its file system)"
        self.fatal_error = f"storage failure in {self.config.data_dir}{space}: {exc}"
        log.critical("stopping: %s", self.fatal_error)
        if self.driver is not None:
            self.driver.halt()
        self.failed.set()

    def _p2p_identity(self) -> TransportIdentity:
        path = self.config.p2p_key_path
        if path.exists():
            keypair = read_key(path)[0]
            if keypair.suite != "ed25519":
                raise ChainError(f"{path} must hold an ed25519 transport key")
            return TransportIdentity.from_seed(keypair.private_key)
        if self.key.suite == "ed25519":
            return TransportIdentity.from_seed(self.key.private_key)
        raise ChainError(f"no transport key at {path} (a {self.key.suite} node needs one)")

    # TRANSACTIONS

    def _check(self, raw: bytes) -> TxEnvelope | MempoolError:
        try:
            return decode_envelope(
                self.chain.suite, self.chain.chain_id, raw, self.genesis.params.max_tx_bytes
            )
        except MempoolError as exc:
            return exc

    def _check_many(self, raws: Sequence[bytes]) -> list[TxEnvelope | MempoolError]:
        return [self._check(raw) for raw in raws]

    async def submit(self, raws: Sequence[bytes], *, gossip: bool = True) -> list[SubmitResult]:
        """Admit raw signed transactions; one result per input, in order.

        Admitted transactions are passed on to the peers unless ``gossip`` is False
        (they came from a peer, and every validator is connected to every other).
        """
        loop = asyncio.get_running_loop()
        if len(raws) <= 4:
            checked = self._check_many(raws)
        else:
            half = len(raws) // 2
            parts = await asyncio.gather(
                loop.run_in_executor(self._pool, self._check_many, raws[:half]),
                loop.run_in_executor(self._pool, self._check_many, raws[half:]),
            )
            checked = parts[0] + parts[1]
        results: list[SubmitResult] = []
        admitted: list[bytes] = []
        for item in checked:
            if isinstance(item, MempoolError):
                results.append(item)
                continue
            try:
                self.chain.mempool.add(item)
            except MempoolError as exc:
                results.append(exc)
                continue
            results.append(item.hash)
            admitted.append(item.raw)
        self.metrics.txs_admitted.inc(len(admitted))
        for r in results:
            if isinstance(r, MempoolError):
                self.metrics.txs_rejected.labels(r.reason).inc()
        self.metrics.mempool_size.set(len(self.chain.mempool))
        if admitted:
            if gossip:
                self._gossip(admitted)
            if self.driver is not None and self.driver.wake_builder is not None:
                self.driver.wake_builder.set()
        return results

    def _gossip(self, raws: list[bytes]) -> None:
        if self.transport is None or self._loop is None:
            return
        self._gossip_out.extend(raws)
        if self._gossip_handle is None:
            self._gossip_handle = self._loop.call_later(TX_GOSSIP_DELAY_S, self._flush_gossip)

    def _flush_gossip(self) -> None:
        self._gossip_handle = None
        out, self._gossip_out = self._gossip_out, []
        transport = self.transport
        if transport is None:
            return
        batch: list[bytes] = []
        size = 0
        for raw in out:
            if batch and (len(batch) >= MAX_TX_BATCH or size + len(raw) > TX_GOSSIP_BYTES):
                transport.broadcast(Channel.TXS, encode(TxBatch(batch)))
                batch, size = [], 0
            batch.append(raw)
            size += len(raw)
        if batch:
            transport.broadcast(Channel.TXS, encode(TxBatch(batch)))

    # NETWORK

    async def _on_message(self, peer: bytes, channel: int, payload: bytes) -> None:
        driver = self.driver
        if driver is None:
            return
        if channel == Channel.PROPOSAL:
            driver.on_proposal(peer, payload)
        elif channel == Channel.VOTE:
            driver.on_vote(peer, payload)
        elif channel == Channel.TXS:
            try:
                batch = decode(payload, TxBatch)
            except CodecError as exc:
                if self.transport is not None:
                    self.transport.report_misbehaviour(peer, f"malformed transactions: {exc}")
                return
            await self.submit(batch.txs, gossip=False)
        elif channel == Channel.STATUS:
            driver.on_status(peer, payload)
        elif channel == Channel.BLOCK_REQUEST:
            await driver.on_block_request(peer, payload)
        elif channel == Channel.BLOCK_RESPONSE:
            await driver.on_block_response(peer, payload)
        elif self.transport is not None:
            self.transport.report_misbehaviour(peer, f"unknown channel {channel}")

    def _on_peer_left(self, peer: bytes) -> None:
        if self.driver is not None:
            self.driver.peer_left(peer)

    def _allowed_keys(self) -> set[bytes]:
        validators = {e.p2p_key for e in self.chain.validator_entries}
        return (validators | set(self.config.p2p.observers)) - {self.p2p_identity.public_key}

    def _needs_network(self) -> bool:
        return bool(self.config.p2p.peers) or len(self.chain.validator_entries) > 1

    # BLOCKS

    def _on_block(self, block: CommittedBlock) -> None:
        m = self.metrics
        m.height.set(block.header.height)
        m.blocks.inc()
        m.txs_committed.inc(len(block.txs))
        m.txs_failed.inc(sum(1 for r in block.result.receipts if r.status != 0))
        m.block_txs.observe(len(block.txs))
        m.block_seconds.observe(block.seconds)
        m.mempool_size.set(len(self.chain.mempool))
        self.last_commit_ms = now_ms()
        m.last_commit.set(self.last_commit_ms / 1000)
        now = time.monotonic()
        if now - self._mark_written >= MARK_INTERVAL_S:
            self._mark_written = now
            self._write_mark(block.header.height)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish, block)

    def _publish(self, block: CommittedBlock) -> None:
        if self.transport is not None:
            allowed = self._allowed_keys()
            if allowed != set(self.transport.allowed_keys()):
                self.transport.set_allowed_keys(allowed)  # governance changed the validators
            self.metrics.peers.set(len(self.transport.connected_peers()))
        best = self.driver.best_peer_height() if self.driver is not None else None
        self.metrics.lag.set(max(0, best - block.header.height) if best is not None else 0)
        self.disk_free()
        for queue in list(self._subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()  # a slow subscriber loses the oldest block
            queue.put_nowait(block)

    def subscribe(self) -> asyncio.Queue[CommittedBlock]:
        """A queue receiving every committed block (bounded; slow readers lose old ones)."""
        queue: asyncio.Queue[CommittedBlock] = asyncio.Queue(maxsize=256)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[CommittedBlock]) -> None:
        """Stop delivering blocks to ``queue``."""
        self._subscribers.discard(queue)

    def consensus_status(self) -> dict[str, object]:
        """Where consensus is: height and round in progress, whether this node votes,
        the validator count and the connected peers (for status pages)."""
        driver, transport = self.driver, self.transport
        machine = driver.machine if driver is not None else None
        return {
            "height": machine.height if machine is not None else 0,
            "round": machine.round if machine is not None else 0,
            "voting": machine is not None and machine.config.my_index is not None,
            "validators": len(self.chain.validators.validators),
            "peers": sorted(k.hex() for k in transport.connected_peers()) if transport else [],
        }

    def equivocations(self) -> list[Any]:
        """The equivocations this node has seen, newest last: each with both signed
        messages, so a reader can verify them against the validator's key."""
        if self.driver is None:
            return []
        return [to_builtins(e) for e in self.driver.equivocations]

    # LIFECYCLE

    async def start(self) -> None:
        """Open the transport (when there are peers) and start consensus."""
        self._loop = asyncio.get_running_loop()
        with contextlib.suppress(OSError):
            (self.config.home / PID_FILE).write_text(f"{os.getpid()}\n")
        p2p = self.config.p2p
        if self._needs_network():
            self.transport = Transport(
                self.p2p_identity,
                p2p.host,
                p2p.port,
                self._allowed_keys(),
                self._on_message,
                peers=[PeerAddress(p.host, p.port, p.public_key) for p in p2p.peers],
                config=TransportConfig(
                    channels=frozenset(int(c) for c in Channel),
                    max_frame_size=self.max_frame_bytes,
                ),
                on_disconnect=self._on_peer_left,
            )
            await self.transport.start()
        network = self.transport if self.transport is not None else _Alone()
        self.driver = ConsensusDriver(
            self.chain,
            self.config,
            self.metrics,
            network,
            self.key.public_key,
            self.signer.sign,
            self._chain_thread,
            max_frame_bytes=self.max_frame_bytes,
            gate=self.signer,
            on_storage_error=self.fail,
            lock_file=LockFile(self.config.home / LOCK_FILE),
            last_signed=self._last_signed,
        )
        if not self._needs_network():
            self.signer.release_fence_alone(self.chain.height)
        self.driver.start()

    def _last_signed(self) -> tuple[int, int, int] | None:
        last = self.signer.last()
        return None if last is None else (last.height, last.round, last.step)

    async def stop(self) -> None:
        """Stop consensus and the transport, wait for in-flight chain work, close the store."""
        if self._gossip_handle is not None:
            self._gossip_handle.cancel()
        if self.driver is not None:
            await self.driver.stop()
        if self.transport is not None:
            await self.transport.stop()
        self._chain_thread.shutdown(wait=True)
        self._pool.shutdown(wait=True)
        if self.fatal_error is None:  # the chain thread is done: no other writer
            with contextlib.suppress(StorageError):
                self._write_mark(self.chain.height)
        try:
            self.signer.close()
            try:
                self.store.close()
            except StorageError:
                if self.fatal_error is None:  # after a failure, closing fails the same way
                    raise
        finally:
            if running_pid(self.config.home) == os.getpid():
                with contextlib.suppress(OSError):
                    (self.config.home / PID_FILE).unlink()


class _Alone:
    """The network of a single-validator chain without peers: nobody to talk to."""

    def broadcast(self, channel: int, payload: bytes) -> int:
        return 0

    def send(self, key: bytes, channel: int, payload: bytes) -> bool:
        return False

    def report_misbehaviour(self, key: bytes, reason: str, weight: int = 1) -> None:
        log.warning("misbehaviour from %s: %s", key.hex()[:12], reason)
