"""The running node: drives the block producer with real time, admits transactions.

The producer state machine (``xinlian.consensus``) decides *when*; this module carries out
its effects: it reads the clock, sleeps, and runs block production in a worker thread so
the event loop keeps serving the API. Signature checks of submitted transactions run in a
thread pool (libsodium and OpenSSL release the GIL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from xinlian.consensus import BlockCommitted, DevProducer, ProduceBlock, ScheduleTick, Tick
from xinlian.crypto import KeyPair
from xinlian.mempool import MempoolError, decode_envelope
from xinlian.node.chain import Chain, ChainError, CommittedBlock, load_genesis
from xinlian.node.config import NodeConfig
from xinlian.node.keys import read_key
from xinlian.node.metrics import NodeMetrics
from xinlian.storage import KVStore, open_store
from xinlian.types import TxEnvelope

log = logging.getLogger("xinlian.node")

#: Result of submitting one raw transaction: its hash, or the refusal.
SubmitResult = bytes | MempoolError


def now_ms() -> int:
    """Wall-clock milliseconds (read only here, at the edge)."""
    return int(time.time() * 1000)


class Node:
    """A validator node in development mode: one chain, one producer, one mempool."""

    def __init__(self, config: NodeConfig, *, store: KVStore | None = None) -> None:
        self.config = config
        try:
            genesis_raw = config.genesis_path.read_bytes()
        except OSError as exc:
            raise ChainError(f"cannot read genesis {config.genesis_path}: {exc}") from None
        self.genesis = load_genesis(genesis_raw)
        self.key: KeyPair = read_key(config.key_path)[0]
        if self.key.suite != self.genesis.suite:
            raise ChainError(f"node key is {self.key.suite}, chain uses {self.genesis.suite}")
        self.store = store if store is not None else open_store(Path(config.data_dir))
        self.chain = Chain(self.store, self.genesis, state_retain=config.state_retain)
        self.chain.mempool.max_txs = config.mempool_size
        self.metrics = NodeMetrics()
        self.metrics.height.set(self.chain.height)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify")
        self._producer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="produce")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[asyncio.Queue[CommittedBlock]] = set()
        self.started_ms = now_ms()
        self.chain.subscribe(self._on_block)

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

    async def submit(self, raws: Sequence[bytes]) -> list[SubmitResult]:
        """Admit raw signed transactions; one result per input, in order."""
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
        admitted = sum(1 for r in results if isinstance(r, bytes))
        self.metrics.txs_admitted.inc(admitted)
        for r in results:
            if isinstance(r, MempoolError):
                self.metrics.txs_rejected.labels(r.reason).inc()
        self.metrics.mempool_size.set(len(self.chain.mempool))
        if admitted:
            self._wake.set()
        return results

    # BLOCKS

    def _on_block(self, block: CommittedBlock) -> None:
        m = self.metrics
        m.height.set(block.header.height)
        m.blocks.inc()
        m.txs_committed.inc(len(block.txs))
        m.txs_failed.inc(sum(1 for r in block.result.receipts if r.status != 0))
        m.block_txs.observe(len(block.txs))
        m.mempool_size.set(len(self.chain.mempool))
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish, block)

    def _publish(self, block: CommittedBlock) -> None:
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

    def _produce(self, height: int, time_ms: int) -> CommittedBlock:
        started = time.perf_counter()
        block = self.chain.produce_block(height, time_ms, self.key.private_key)
        self.metrics.block_seconds.observe(time.perf_counter() - started)
        return block

    async def _run_producer(self) -> None:
        last = self.chain.last_header()
        state = DevProducer(
            height=self.chain.height,
            last_time_ms=last.time_ms if last else self.genesis.time_ms,
            interval_ms=self.config.block_interval_ms,
            empty_interval_ms=self.config.empty_block_interval_ms,
        )
        loop = asyncio.get_running_loop()
        while True:
            state, effects = state.step(Tick(now_ms(), len(self.chain.mempool)))
            for effect in effects:
                if isinstance(effect, ProduceBlock):
                    block = await loop.run_in_executor(
                        self._producer_thread, self._produce, effect.height, effect.time_ms
                    )
                    state, more = state.step(
                        BlockCommitted(block.header.height, block.header.time_ms)
                    )
                    effects.extend(more)
                elif isinstance(effect, ScheduleTick):
                    self._wake.clear()
                    delay = max(0.0, (effect.at_ms - now_ms()) / 1000)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def start(self) -> None:
        """Start producing blocks in the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run_producer(), name="producer")

    async def stop(self) -> None:
        """Stop producing, wait for an in-flight block, and close the store."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._producer_thread.shutdown(wait=True)
        self._pool.shutdown(wait=True)
        self.store.close()
