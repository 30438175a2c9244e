"""Driving the BFT state machine with real time, the chain and the network.

The :class:`~xinlian.consensus.Tendermint` machine decides; this module carries out its
effects and feeds it events, all on the node's event loop:

* messages from peers (``node.wire`` channels 1 and 2) become ``ProposalReceived`` /
  ``VoteReceived``; an input the machine rejects is counted against the peer;
* ``ScheduleTimeout`` becomes an event-loop timer;
* ``BuildProposal``, ``ValidateBlock`` and ``Decide`` run ``Chain.prepare_block``,
  ``validate_block`` and ``commit_block`` on the chain thread (one thread, so chain
  mutations are serialised) and answer with ``ProposalBuilt`` / ``BlockValidated`` /
  the next ``StartHeight``;
* signing goes through the node's guarded signer (logged before the message leaves).

Liveness help, as in Tendermint's gossip layer (see docs/consensus.md): every tick the
node re-sends its own messages of a height it is stuck on, relays the prevotes that
justify its valid value, and tells peers its committed height. A node that hears of a
higher committed height fetches the missing certified blocks (``BlockRequest``),
verifies and applies them, and restarts consensus at the next height.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Protocol

import msgspec

from xinlian.codec import CodecError, decode, encode
from xinlian.consensus import (
    BlockValidated,
    BroadcastProposal,
    BroadcastVote,
    BuildProposal,
    ConsensusError,
    Decide,
    ProposalBuilt,
    ProposalEquivocation,
    ProposalReceived,
    Rejected,
    ReportEvidence,
    ScheduleTimeout,
    SignedProposal,
    SignedVote,
    Signer,
    StartHeight,
    Tendermint,
    TendermintConfig,
    TimeoutFired,
    Timeouts,
    ValidateBlock,
    VoteEquivocation,
    VoteReceived,
)
from xinlian.consensus.events import Effect, Event
from xinlian.execution import InvalidBlock
from xinlian.node.chain import Chain, ChainError, PreparedBlock, decode_wire_block
from xinlian.node.config import NodeConfig
from xinlian.node.lockfile import LockFile, LockFileError, Resumption, new_lock, resume_for
from xinlian.node.metrics import NodeMetrics
from xinlian.node.signer import SignerError
from xinlian.node.wire import (
    MAX_BLOCKS_PER_RESPONSE,
    BlockRequest,
    BlockResponse,
    CertifiedBlock,
    Channel,
    NodeStatus,
)
from xinlian.protocol.equivocation import Equivocation, SignedPart
from xinlian.storage import StorageError
from xinlian.sync import LedgerSource
from xinlian.types import BlockHeader, VoteType

log = logging.getLogger("xinlian.consensus")

#: How often the node re-sends, relays and announces its height.
GOSSIP_INTERVAL_S = 0.5
#: How long to wait for a block response before asking another peer.
SYNC_TIMEOUT_S = 10.0
#: A peer one block ahead is normal (it committed first); fetch from it only after
#: consensus has stayed on one height this long.
SYNC_AFTER_S = 2.0


#: How many detected equivocations a node keeps for its API (newest last).
EQUIVOCATIONS_KEPT = 256


class Network(Protocol):
    """What the driver needs from the transport."""

    def broadcast(self, channel: int, payload: bytes) -> int:
        """Send to every connected peer; returns how many."""
        ...

    def send(self, key: bytes, channel: int, payload: bytes) -> bool:
        """Send to one peer; False if not connected."""
        ...

    def report_misbehaviour(self, key: bytes, reason: str, weight: int = 1) -> None:
        """Count a bad message against a peer."""
        ...


class SigningGate(Protocol):
    """Whether this validator may vote at a height (the signer's fence), and what it
    learns of the network's height."""

    def may_sign(self, height: int) -> bool:
        """False: follow consensus at ``height`` without voting."""
        ...

    def observe_network_height(self, height: int) -> None:
        """Another validator committed ``height``."""
        ...


class _HeaderOnly(msgspec.Struct, array_like=True, frozen=True):
    header: BlockHeader
    txs: msgspec.Raw


def now_ms() -> int:
    """Wall-clock milliseconds (read only at the edge)."""
    return int(time.time() * 1000)


class ConsensusDriver:
    """Runs one node's consensus: machine, timers, chain work and peer messages."""

    def __init__(
        self,
        chain: Chain,
        config: NodeConfig,
        metrics: NodeMetrics,
        network: Network,
        public_key: bytes,
        sign: Signer,
        chain_thread: ThreadPoolExecutor,
        *,
        max_frame_bytes: int,
        gate: SigningGate | None = None,
        on_storage_error: Callable[[StorageError], None] | None = None,
        lock_file: LockFile | None = None,
        last_signed: Callable[[], tuple[int, int, int] | None] | None = None,
    ) -> None:
        self.chain = chain
        self.config = config
        self.metrics = metrics
        self.network = network
        self.public_key = public_key
        self._sign = sign
        self._chain_thread = chain_thread
        self._max_frame = max_frame_bytes
        self._gate = gate
        self._on_storage_error = on_storage_error
        self._lock_file = lock_file
        self._last_signed = last_signed
        #: How to take up the first height after a restart (see ``node/lockfile.py``).
        self._resumption: tuple[int, Resumption] | None = None
        c = config.consensus
        self._timeouts = Timeouts(
            propose_ms=c.timeout_propose_ms,
            propose_delta_ms=c.timeout_delta_ms,
            prevote_ms=c.timeout_prevote_ms,
            prevote_delta_ms=c.timeout_delta_ms,
            precommit_ms=c.timeout_precommit_ms,
            precommit_delta_ms=c.timeout_delta_ms,
        )
        self.machine = Tendermint(self._machine_config(chain.height + 1))
        self._prepared: dict[bytes, PreparedBlock] = {}
        self._own: list[tuple[int, Channel, bytes]] = []
        self._stuck_at: tuple[int, int] | None = None
        self._height_since = time.monotonic()
        self._peer_heights: dict[bytes, int] = {}
        self._committing = False
        self._sync_peer: bytes | None = None
        self._sync_unanswered: bytes | None = None
        self._sync_deadline = 0.0
        self._queued_response: bytes | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self.wake_builder: asyncio.Event | None = None
        #: Equivocations seen by this node (bounded; also logged and counted).
        self.equivocations: deque[Equivocation] = deque(maxlen=EQUIVOCATIONS_KEPT)

    # ------------------------------------------------------------------ lifecycle

    def _machine_config(self, height: int) -> TendermintConfig:
        validators = self.chain.validators
        keys = [v.public_key for v in validators.validators]
        index = keys.index(self.public_key) if self.public_key in keys else None
        if index is not None and self._gate is not None and not self._gate.may_sign(height):
            index = None  # fenced: follow this height without voting
        return TendermintConfig(
            chain_id=self.chain.chain_id,
            validators=validators,
            my_index=index,
            sign=self._sign if index is not None else None,
            verify=self.chain.suite.verify,
            hash_block=self._hash_block,
            timeouts=self._timeouts,
        )

    def _hash_block(self, block: bytes) -> bytes:
        try:
            header = msgspec.msgpack.decode(block, type=_HeaderOnly).header
        except (msgspec.DecodeError, msgspec.ValidationError):
            return b""  # no block has this id: the proposal is rejected
        return self.chain.block_hash(header)

    def start(self) -> None:
        """Start consensus at the height after the chain's latest (on the running loop)."""
        self._loop = asyncio.get_running_loop()
        self.wake_builder = asyncio.Event()
        self._running = True
        if self._lock_file is not None and self._last_signed is not None:
            target = self.chain.height + 1
            found = resume_for(target, self._last_signed(), self._lock_file.load())
            self._resumption = (target, found)
        self._spawn(self._ticker(), "consensus-ticker")
        self._start_next()

    def halt(self) -> None:
        """Stop taking part at once (after an unrecoverable local failure)."""
        self._running = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def _storage_failed(self, exc: StorageError) -> None:
        """A local storage failure: the node's own fault, never a peer's; fatal."""
        log.error("storage failure: %s", exc)
        self.halt()
        if self._on_storage_error is not None:
            self._on_storage_error(exc)

    async def stop(self) -> None:
        """Cancel timers and in-flight work (the chain thread finishes its current job)."""
        self._running = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _later(self, delay_s: float, callback: Callable[[], None]) -> None:
        assert self._loop is not None

        def fire() -> None:
            self._timers.discard(handle)
            if self._running:
                callback()

        handle = self._loop.call_later(max(0.0, delay_s), fire)
        self._timers.add(handle)

    # ------------------------------------------------------------------ the machine

    def step(self, event: Event, peer: bytes | None = None) -> None:
        """Feed ``event`` to the machine and carry out the effects."""
        if not self._running:
            return
        try:
            machine, effects = self.machine.step(event)
        except SignerError as exc:  # the guarded signer refused: never sign twice
            log.warning("not signing at height %d: %s", self.machine.height, exc)
            return
        except ConsensusError as exc:
            log.debug("consensus refused %s: %s", type(event).__name__, exc)
            return
        if not self._keep_lock(machine):
            return
        self.machine = machine
        self.metrics.round.set(machine.round)
        for effect in effects:
            self._do(effect, peer)

    def _keep_lock(self, machine: Tendermint) -> bool:
        """Write a new lock to the lock file before the precommit that set it leaves.

        Returns False (and stops the node) when the file cannot be written.
        """
        if self._lock_file is None:
            return True
        record = new_lock(self.machine, machine)
        if record is None:
            return True
        try:
            self._lock_file.save(record)
        except LockFileError as exc:
            self._storage_failed(exc)
            return False
        return True

    def _do(self, effect: Effect, peer: bytes | None) -> None:
        if isinstance(effect, BroadcastVote):
            self._send_own(Channel.VOTE, effect.vote.vote.height, encode(effect.vote))
        elif isinstance(effect, BroadcastProposal):
            p = effect.proposal.proposal
            self._send_own(Channel.PROPOSAL, p.height, encode(effect.proposal))
        elif isinstance(effect, ScheduleTimeout):
            event = TimeoutFired(effect.kind, effect.height, effect.round)
            self._later(effect.duration_ms / 1000, lambda: self.step(event))
        elif isinstance(effect, BuildProposal):
            self._spawn(self._build(effect.height, effect.round), "build")
        elif isinstance(effect, ValidateBlock):
            self._spawn(self._validate(effect), "validate")
        elif isinstance(effect, Decide):
            self._committing = True
            self._spawn(self._commit(effect), "commit")
        elif isinstance(effect, Rejected):
            self.metrics.consensus_rejected.inc()
            if peer is not None:
                self.network.report_misbehaviour(peer, effect.reason)
        elif isinstance(effect, ReportEvidence):
            self.metrics.equivocations.inc()
            found = self._describe(effect.evidence)
            self.equivocations.append(found)
            log.warning(
                "equivocation: validator %d (%s) signed two %ss at height %d round %d",
                found.validator_index,
                found.validator.hex()[:12],
                found.kind,
                found.height,
                found.round,
            )

    def _describe(self, evidence: ProposalEquivocation | VoteEquivocation) -> Equivocation:
        validators = self.machine.config.validators.validators
        if isinstance(evidence, VoteEquivocation):
            a, b = evidence.first, evidence.second
            index, vote = a.validator_index, a.vote
            kind = "prevote" if vote.type == VoteType.PREVOTE else "precommit"
            height, round_ = vote.height, vote.round
            first = SignedPart(a.signed_bytes(), a.signature, a.vote.block_hash)
            second = SignedPart(b.signed_bytes(), b.signature, b.vote.block_hash)
        else:
            p, q = evidence.first, evidence.second
            index, kind = p.proposer_index, "proposal"
            height, round_ = p.proposal.height, p.proposal.round
            first = SignedPart(p.signed_bytes(), p.signature, p.proposal.block_hash)
            second = SignedPart(q.signed_bytes(), q.signature, q.proposal.block_hash)
        key = validators[index].public_key if index < len(validators) else b""
        return Equivocation(now_ms(), kind, height, round_, index, key, first, second)

    def _send_own(self, channel: Channel, height: int, payload: bytes) -> None:
        self._own = [entry for entry in self._own if entry[0] >= height]
        self._own.append((height, channel, payload))
        self.network.broadcast(channel, payload)

    # ------------------------------------------------------------------ chain work

    async def _run_chain(self, fn: Callable[[], PreparedBlock | None]) -> PreparedBlock | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._chain_thread, fn)

    async def _run_chain_work(self, fn: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._chain_thread, fn)

    async def _build(self, height: int, round_: int) -> None:
        wake = self.wake_builder
        assert wake is not None
        deadline = time.monotonic() + self.config.empty_block_interval_ms / 1000
        while len(self.chain.mempool) == 0 and time.monotonic() < deadline:
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), deadline - time.monotonic())
        if self.machine.height != height or self.machine.round != round_:
            return
        try:
            prepared = await self._run_chain(
                lambda: self.chain.prepare_block(height, now_ms(), self.public_key)
            )
        except ChainError as exc:  # the chain moved on (caught up meanwhile)
            log.debug("not building block %d: %s", height, exc)
            return
        except StorageError as exc:
            self._storage_failed(exc)
            return
        assert prepared is not None
        self._prepared[prepared.hash] = prepared
        self.step(ProposalBuilt(height, round_, encode(prepared.block())))

    async def _validate(self, effect: ValidateBlock) -> None:
        def work() -> PreparedBlock:
            return self.chain.validate_block(decode_wire_block(effect.block))

        try:
            prepared = await self._run_chain(work)
        except InvalidBlock as exc:
            log.info("block %s refused: %s", effect.block_hash.hex()[:12], exc)
            self.step(BlockValidated(effect.height, effect.block_hash, False))
            return
        except ChainError as exc:
            log.debug("not validating block %d: %s", effect.height, exc)
            return
        except StorageError as exc:
            self._storage_failed(exc)
            return
        assert prepared is not None
        if prepared.hash != effect.block_hash:
            self.step(BlockValidated(effect.height, effect.block_hash, False))
            return
        self._prepared[prepared.hash] = prepared
        self.step(BlockValidated(effect.height, effect.block_hash, True))

    async def _commit(self, decision: Decide) -> None:
        prepared = self._prepared.get(decision.block_hash)

        def work() -> None:
            nonlocal prepared
            if self.chain.height >= decision.height:
                return  # already committed (caught up meanwhile)
            if prepared is None:
                prepared = self.chain.validate_block(decode_wire_block(decision.block))
            self.chain.commit_block(prepared, decision.commit)

        try:
            await self._run_chain_work(work)
            log.info(
                "committed height %d (round %d, %d bytes)",
                decision.height,
                decision.round,
                len(decision.block),
            )
        except StorageError as exc:
            self._committing = False
            self._storage_failed(exc)
            return
        except Exception:  # a decided block we cannot commit: halt this height, resync
            log.exception("cannot commit decided block %d", decision.height)
        finally:
            self._committing = False
        self._on_committed()

    def _on_committed(self) -> None:
        self._prepared.clear()
        self._announce()
        self._later(self.config.block_interval_ms / 1000, self._start_next)

    def _start_next(self) -> None:
        """Start consensus at the height after the chain's latest, if not started yet."""
        target = self.chain.height + 1
        if self.machine.height >= target or self._committing:
            return
        config = self.machine.config
        if config.validators != self.chain.validators:
            config = self._machine_config(target)
            log.info("validator set changed at height %d", target)
        elif self._gate is not None:
            fresh = self._machine_config(target)
            if fresh.my_index != config.my_index:
                config = fresh  # the signing fence closed or lifted
        resumption = None
        if self._resumption is not None and self._resumption[0] == target:
            resumption = self._resumption[1]
            if not resumption.vote:
                config = replace(config, my_index=None, sign=None)
        self._resumption = None
        if self.machine.height != target - 1:
            machine = Tendermint(config)  # caught up: nothing of the old height applies
        else:
            machine = replace(self.machine, config=config)
            if config is not self.machine.config:
                machine = replace(machine, future=())  # indexes refer to the old set
        self.machine = machine
        self._stuck_at = None
        self._height_since = time.monotonic()
        self.step(StartHeight(target, resumption.resume if resumption is not None else None))

    # ------------------------------------------------------------------ peer messages

    def on_proposal(self, peer: bytes, payload: bytes) -> None:
        """A proposal from ``peer``."""
        try:
            proposal = decode(payload, SignedProposal)
        except CodecError as exc:
            self.network.report_misbehaviour(peer, f"malformed proposal: {exc}")
            return
        self.step(ProposalReceived(proposal), peer)

    def on_vote(self, peer: bytes, payload: bytes) -> None:
        """A vote from ``peer``."""
        try:
            vote = decode(payload, SignedVote)
        except CodecError as exc:
            self.network.report_misbehaviour(peer, f"malformed vote: {exc}")
            return
        self.step(VoteReceived(vote), peer)

    def on_status(self, peer: bytes, payload: bytes) -> None:
        """A peer's committed height: catch up if it is ahead."""
        try:
            status = decode(payload, NodeStatus)
        except CodecError as exc:
            self.network.report_misbehaviour(peer, f"malformed status: {exc}")
            return
        self._peer_heights[peer] = status.height
        if self._gate is not None and any(e.p2p_key == peer for e in self.chain.validator_entries):
            self._gate.observe_network_height(status.height)
        self._maybe_sync()

    def best_peer_height(self) -> int | None:
        """The highest committed height a connected peer reported (None: no reports)."""
        return max(self._peer_heights.values(), default=None)

    def peer_left(self, peer: bytes) -> None:
        """Forget a disconnected peer."""
        self._peer_heights.pop(peer, None)
        if self._sync_peer == peer:
            self._sync_peer = None

    def _maybe_sync(self) -> None:
        if self._committing or not self._peer_heights:
            return
        if self._sync_peer is not None:
            if time.monotonic() < self._sync_deadline:
                return
            self._sync_unanswered = self._sync_peer  # no answer in time: others first
            self._sync_peer = None
        height = self.chain.height
        ahead = sorted(((h, k) for k, h in self._peer_heights.items() if h > height), reverse=True)
        if not ahead:
            return
        stalled = time.monotonic() - self._height_since > SYNC_AFTER_S
        if ahead[0][0] == height + 1 and not stalled:
            return
        # The highest peer first, then the next ones; the one that let the last request
        # time out only when nobody else is ahead.
        ahead.sort(key=lambda item: item[1] == self._sync_unanswered)
        for best, peer in ahead:
            count = min(MAX_BLOCKS_PER_RESPONSE, best - height)
            request = encode(BlockRequest(height + 1, count))
            if self.network.send(peer, Channel.BLOCK_REQUEST, request):
                self._sync_peer = peer
                self._sync_deadline = time.monotonic() + SYNC_TIMEOUT_S
                return
            # Not connected: what it said about its height may be stale (it may have
            # crashed); ask the next peer rather than waiting on one that cannot answer.
            del self._peer_heights[peer]

    async def on_block_request(self, peer: bytes, payload: bytes) -> None:
        """Serve certified blocks to a peer catching up."""
        try:
            request = decode(payload, BlockRequest)
        except CodecError as exc:
            self.network.report_misbehaviour(peer, f"malformed block request: {exc}")
            return
        budget = self._max_frame // 2

        def read() -> bytes:
            source = LedgerSource(self.chain.ledger)
            blocks: list[CertifiedBlock] = []
            size = 0
            last = min(self.chain.height, request.start + request.count - 1)
            for height in range(request.start, last + 1):
                found = source.certified_block(height)
                if found is None:
                    break
                item = CertifiedBlock(*found)
                item_size = len(encode(item))
                if blocks and size + item_size > budget:
                    break
                blocks.append(item)
                size += item_size
            return encode(BlockResponse(blocks))

        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(None, read)
        except StorageError as exc:  # our disk cannot serve the blocks: not the peer's fault
            self._storage_failed(exc)
            return
        self.network.send(peer, Channel.BLOCK_RESPONSE, response)

    async def on_block_response(self, peer: bytes, payload: bytes) -> None:
        """Apply certified blocks a peer sent for our request.

        While a batch is applied the next one is already requested (and kept when it
        arrives), so transfer and re-execution overlap.
        """
        if peer != self._sync_peer or not self._running:
            return  # unsolicited or late: ignore
        if self._committing:  # still applying the previous batch
            if self._queued_response is None:
                self._queued_response = payload
            return
        next_payload: bytes | None = payload
        start_height = self.chain.height
        more = False
        while next_payload is not None:
            try:
                response = decode(next_payload, BlockResponse)
            except CodecError as exc:
                self.network.report_misbehaviour(peer, f"malformed block response: {exc}")
                more = False
                break
            more = self._prefetch(peer, response)
            self._committing = True
            try:
                await self._apply_blocks(response)
            except StorageError as exc:  # our disk, not the peer's block
                self._committing = False
                self._queued_response = None
                self._storage_failed(exc)
                return
            except (ChainError, InvalidBlock) as exc:
                log.warning("catching up from %s stopped: %s", peer.hex()[:12], exc)
                self.network.report_misbehaviour(peer, f"bad certified block: {exc}", 5)
                more = False
            finally:
                self._committing = False
            next_payload, self._queued_response = self._queued_response, None
            if not more:
                next_payload = None
        if not more:
            self._sync_peer = None
        applied = self.chain.height - start_height
        if applied:
            self.metrics.synced_blocks.inc(applied)
            log.info("caught up %d blocks to height %d", applied, self.chain.height)
        if not more:
            if applied:
                self._prepared.clear()
                self._announce()
                self._start_next()
            self._maybe_sync()

    def _prefetch(self, peer: bytes, response: BlockResponse) -> bool:
        """Ask ``peer`` for the blocks after ``response`` if it has more; True if asked."""
        if not response.blocks:
            return False
        last = response.blocks[-1].block.header.height
        best = self._peer_heights.get(peer, 0)
        if best <= last:
            return False
        request = BlockRequest(last + 1, min(MAX_BLOCKS_PER_RESPONSE, best - last))
        if not self.network.send(peer, Channel.BLOCK_REQUEST, encode(request)):
            return False
        self._sync_deadline = time.monotonic() + SYNC_TIMEOUT_S
        return True

    async def _apply_blocks(self, response: BlockResponse) -> None:
        def work() -> None:
            for item in response.blocks:
                height = item.block.header.height
                if height <= self.chain.height:
                    continue
                if height != self.chain.height + 1 or item.commit.height != height:
                    raise ChainError(f"block {height} does not follow {self.chain.height}")
                prepared = self.chain.validate_block(item.block)
                self.chain.commit_block(prepared, item.commit)

        await self._run_chain_work(work)

    # ------------------------------------------------------------------ gossip

    def _announce(self) -> None:
        self.network.broadcast(Channel.STATUS, encode(NodeStatus(self.chain.height)))

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(GOSSIP_INTERVAL_S)
            self._tick()

    def _tick(self) -> None:
        if not self._running:
            return
        self._announce()
        self._maybe_sync()
        machine = self.machine
        position = (machine.height, machine.round)
        if self._stuck_at != position:
            self._stuck_at = position  # progress since the last tick: nothing to repeat
            return
        for height, channel, payload in self._own:
            if height == machine.height:
                self.network.broadcast(channel, payload)
        if machine.valid_value is not None and machine.decision is None:
            # Relay the prevotes that justify our valid value (the proof of lock), so a
            # peer can accept its re-proposal (the paper's Line 28).
            pol = machine.vote_set(machine.valid_round, int(VoteType.PREVOTE))
            for vote in pol.votes_for(machine.valid_value):
                self.network.broadcast(Channel.VOTE, encode(vote))
