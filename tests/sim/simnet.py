"""A deterministic whole-network simulator for the Tendermint state machine.

Every validator runs :class:`xinlian.consensus.Tendermint` in one process on virtual time.
A seeded network delays, drops, duplicates, reorders and partitions messages until the
global stabilisation time (GST); after it every message arrives within ``delta_ms``.
Byzantine validators run the same machine but tamper with what they send (see
``BEHAVIOURS``). Each sim node plays the node layer: it builds and validates blocks of a
trivial application, re-gossips its own messages of the current height, and sends the
decided proposal and precommits to a peer it sees lagging behind (a stand-in for sync).

Invariants are checked after every event: no two honest nodes decide different blocks at
one height, every decision carries a valid commit certificate, honest nodes' app state
(a hash chain over decided blocks) is equal at each height, and no honest validator ever
signs two different messages at one (height, round, step). Each validator signs through
the node's guarded signer (its signing record in an in-memory file system); a scenario
may crash and restart validators with their storage rolled back some heights, and with
their signing record lost. ``run`` then checks progress:
all honest nodes reach the target height within a bound after the network heals.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from xinlian.codec import encode
from xinlian.consensus import (
    BlockValidated,
    BroadcastProposal,
    BroadcastVote,
    BuildProposal,
    Decide,
    ProposalBuilt,
    ProposalReceived,
    Rejected,
    ReportEvidence,
    ScheduleTimeout,
    SignedProposal,
    SignedVote,
    SignStep,
    StartHeight,
    Tendermint,
    TendermintConfig,
    TimeoutFired,
    Timeouts,
    ValidateBlock,
    VoteReceived,
)
from xinlian.consensus.events import Effect, Event
from xinlian.consensus.messages import PROPOSAL_TYPE, Proposal
from xinlian.crypto.suite import get_suite
from xinlian.node.lockfile import Loaded as LockLoaded
from xinlian.node.lockfile import LockRecord, new_lock, resume_for
from xinlian.node.signer import GuardedSigner, SignerError, open_signer
from xinlian.types import Commit, Validator, ValidatorSet, Vote, VoteType

CHAIN = "sim-chain"
SUITE = get_suite("ed25519")
GENESIS_APP_HASH = b"\x00" * 32
SIM_TIMEOUTS = Timeouts(
    propose_ms=300,
    propose_delta_ms=100,
    prevote_ms=120,
    prevote_delta_ms=60,
    precommit_ms=120,
    precommit_delta_ms=60,
)
GOSSIP_MS = 250

HONEST = "honest"
SILENT = "silent"  # withholds every message (crashed or mute)
EQUIVOCATE = "equivocate"  # proposes two different blocks to different peers
CONFLICT = "conflict"  # votes for two different blocks (or a block and nil)
INVALID = "invalid"  # proposes blocks the application rejects
FUTURE = "future"  # floods messages for future heights and rounds, and bad signatures
BEHAVIOURS = (HONEST, SILENT, EQUIVOCATE, CONFLICT, INVALID, FUTURE)

Message = SignedProposal | SignedVote


class InvariantError(AssertionError):
    """A safety or liveness property of the network failed."""


# ---------------------------------------------------------------- keys and cached crypto


@lru_cache(maxsize=64)
def private_key(index: int) -> bytes:
    """The deterministic signing key of validator ``index``."""
    return hashlib.sha256(b"xinlian-sim-validator-%d" % index).digest()


@lru_cache(maxsize=64)
def public_key(index: int) -> bytes:
    """The public key of validator ``index``."""
    return SUITE.keypair_from_private(private_key(index)).public_key


@lru_cache(maxsize=200_000)
def raw_sign(index: int, payload: bytes) -> bytes:
    """Validator ``index``'s Ed25519 signature (cached: signing is deterministic)."""
    return SUITE.sign(private_key(index), payload)


@lru_cache(maxsize=400_000)
def cached_verify(key: bytes, message: bytes, signature: bytes) -> bool:
    """Real Ed25519 verification, memoised across nodes and seeds."""
    return SUITE.verify(key, message, signature)


def block_hash(block: bytes) -> bytes:
    """The sim application's block id."""
    return hashlib.sha256(block).digest()


# ---------------------------------------------------------------- the trivial application


def make_block(height: int, proposer: int, counter: int, prev_app: bytes, tag: bytes) -> bytes:
    """A block: its height, proposer, a counter, the app hash it builds on, and a tag."""
    return b"%d|%d|%d|%s|%s" % (height, proposer, counter, prev_app.hex().encode(), tag)


def block_is_valid(block: bytes, height: int, prev_app: bytes) -> bool:
    """What honest nodes accept: well-formed, this height, on our app state, tagged ok."""
    parts = block.split(b"|")
    if len(parts) != 5:
        return False
    try:
        ok_height = int(parts[0]) == height
    except ValueError:
        return False
    return ok_height and parts[3] == prev_app.hex().encode() and parts[4] == b"ok"


def next_app_hash(prev_app: bytes, block: bytes) -> bytes:
    """The app state after applying ``block``: a hash chain."""
    return hashlib.sha256(prev_app + block).digest()


# ---------------------------------------------------------------- scenario and results


@dataclass(frozen=True)
class Scenario:
    """One network setup; a seed fills in the randomness.

    Attributes:
        powers: voting power per validator (its length is the network size).
        byzantine: behaviour per validator index (others are honest).
        drop, duplicate: per-message probabilities before GST.
        max_latency_ms: latency bound before GST; ``delta_ms`` after it.
        gst_ms: when the network stabilises (no drops, bounded delay).
        partition: groups that cannot talk to each other from ``partition_from_ms``
            until ``heal_ms``.
        partition_from_ms: when the partition starts.
        heal_ms: when the partition heals (``None``: never).
        target_height: progress goal for every honest node.
        progress_bound_ms: virtual time after stabilisation to reach the goal.
        expect_progress: ``False`` for scenarios that must halt (and stay safe).
        run_ms: how long to run when no progress is expected.
        restarts: ``(validator, at_ms, rollback, lose_record)``: at ``at_ms`` the
            validator crashes and restarts with its storage ``rollback`` heights behind
            what it had decided, and with its signing record deleted if ``lose_record``.
        guarded: validators sign through the guarded signer (False only to show that
            the double-sign check catches a validator without it).
    """

    powers: tuple[int, ...] = (1, 1, 1, 1)
    byzantine: tuple[tuple[int, str], ...] = ()
    drop: float = 0.15
    duplicate: float = 0.05
    max_latency_ms: int = 300
    delta_ms: int = 40
    gst_ms: int = 2_000
    partition: tuple[frozenset[int], ...] = ()
    partition_from_ms: int = 0
    heal_ms: int | None = None
    target_height: int = 4
    progress_bound_ms: int = 30_000
    expect_progress: bool = True
    run_ms: int = 10_000
    restarts: tuple[tuple[int, int, int, bool], ...] = ()
    guarded: bool = True

    @property
    def n(self) -> int:
        """Number of validators."""
        return len(self.powers)

    def behaviour(self, index: int) -> str:
        """The behaviour of validator ``index``."""
        return dict(self.byzantine).get(index, HONEST)

    def stable_ms(self) -> int:
        """When the network is synchronous and whole."""
        heal = 0 if not self.partition else (self.heal_ms if self.heal_ms is not None else -1)
        if heal < 0:
            return -1
        return max(self.gst_ms, heal)


@dataclass
class SimResult:
    """What a run produced."""

    seed: int
    heights: dict[int, int]  # honest node -> last decided height
    final: dict[int, bytes]  # height -> the block hash honest nodes decided
    decided_at: dict[int, int]  # height -> virtual time of its first honest decision
    end_ms: int
    events: int
    messages: int
    rejected: int
    evidence: int
    max_round: int


# ---------------------------------------------------------------- nodes


@dataclass
class Deliver:
    """A message arriving from ``sender``."""

    sender: int
    message: Message


@dataclass
class GossipTick:
    """Time to re-send this node's own messages and help lagging peers."""


@dataclass
class Committed:
    """The node finished committing ``height`` (in its life ``epoch``: a restart makes
    what the crashed node had queued stale)."""

    height: int
    epoch: int = 0


@dataclass
class Restart:
    """The node crashes and restarts with rolled-back storage."""

    rollback: int
    lose_record: bool


Item = Event | Deliver | GossipTick | Committed | Restart


class MemoryFiles:
    """An in-memory file system for the signing record (``signlog.FileOps``)."""

    def __init__(self) -> None:
        self.files: dict[Path, bytearray] = {}
        self.fds: dict[int, Path] = {}

    def read(self, path: Path) -> bytes | None:
        data = self.files.get(path)
        return None if data is None else bytes(data)

    def open_append(self, path: Path) -> int:
        fd = len(self.fds) + 3
        self.fds[fd] = path
        return fd

    def open_new(self, path: Path) -> int:
        self.files[path] = bytearray()
        return self.open_append(path)

    def write(self, fd: int, data: bytes) -> None:
        self.files[self.fds[fd]] += data

    def fsync(self, fd: int) -> None:
        pass

    def truncate(self, fd: int, size: int) -> None:
        del self.files[self.fds[fd]][size:]

    def close(self, fd: int) -> None:
        self.fds.pop(fd, None)

    def replace(self, src: Path, dst: Path) -> None:
        self.files[dst] = self.files.pop(src)
        for fd, path in self.fds.items():
            if path == src:
                self.fds[fd] = dst

    def fsync_dir(self, path: Path) -> None:
        pass


@dataclass
class SimNode:
    """A validator: its consensus machine plus the node layer the sim stands in for."""

    sim: Simulator
    index: int
    behaviour: str
    machine: Tendermint
    app: dict[int, bytes] = field(default_factory=lambda: {0: GENESIS_APP_HASH})
    decided: dict[int, Decide] = field(default_factory=dict)
    own: list[tuple[int, int | None, Message]] = field(default_factory=list)
    lagging: dict[int, int] = field(default_factory=dict)
    counter: int = 0
    restarted: bool = False
    epoch: int = 0
    #: The node's consensus lock file (kept across restarts, as ``consensus.lock`` is).
    lock: LockRecord | None = None

    @property
    def honest(self) -> bool:
        """Whether this node follows the protocol."""
        return self.behaviour == HONEST

    def handle(self, item: Item) -> None:
        """Process one queued item."""
        if self.behaviour == SILENT:
            return
        if isinstance(item, Deliver):
            self._on_deliver(item)
        elif isinstance(item, GossipTick):
            self._on_gossip()
        elif isinstance(item, Committed):
            if item.epoch == self.epoch:
                self._start(item.height + 1)
        elif isinstance(item, Restart):
            self._restart(item)
        else:
            self.step(item)

    def step(self, event: Event) -> None:
        """Feed the machine and carry out its effects (as the node's driver does, an
        event whose signature the guarded signer refuses is dropped)."""
        try:
            machine, effects = self.machine.step(event)
        except SignerError:
            self.sim.refused_signatures += 1
            return
        self._keep_lock(machine)
        self.machine = machine
        for effect in effects:
            self._do(effect)

    def _keep_lock(self, machine: Tendermint) -> None:
        """Write a new lock before its precommit leaves (as the driver does)."""
        record = new_lock(self.machine, machine)
        if record is not None:
            self.lock = record

    def _start(self, height: int) -> None:
        """Start ``height``, voting only where the guarded signer allows it (elsewhere
        the node follows without voting, as the node's driver does)."""
        sim = self.sim
        voting = not sim.scenario.guarded or sim.signers[self.index].may_sign(height)
        if (self.machine.config.my_index is not None) != voting:
            self.machine = replace(self.machine, config=sim.machine_config(self.index, voting))
        resume = None
        if voting and sim.scenario.guarded:  # as the node's driver does after a restart
            last = sim.signers[self.index].last()
            lock = LockLoaded("missing") if self.lock is None else LockLoaded("ok", self.lock)
            resume = resume_for(height, None if last is None else last.position, lock).resume
        self.step(StartHeight(height, resume))

    def _restart(self, item: Restart) -> None:
        """Crash and restart: decisions above the rolled-back height are lost, the
        machine starts afresh, the signing record survives unless it is lost too."""
        sim = self.sim
        top = max(self.decided, default=0)
        keep = max(0, top - item.rollback)
        self.decided = {h: d for h, d in self.decided.items() if h <= keep}
        self.app = {h: a for h, a in self.app.items() if h <= keep}
        self.own = []
        self.lagging = {}
        self.restarted = True
        self.epoch += 1
        if item.lose_record:
            sim.files[self.index].files.clear()
            self.lock = None
        sim.signers[self.index] = sim.open_signer(self.index, keep, ran=True)
        self.machine = Tendermint(sim.machine_config(self.index, True))
        self._start(keep + 1)

    # -------------------------------------------------------------- inputs

    def _on_deliver(self, item: Deliver) -> None:
        message = item.message
        height = (
            message.proposal.height if isinstance(message, SignedProposal) else message.vote.height
        )
        if height < self.machine.height and height in self.decided:
            self.lagging[item.sender] = height
        if isinstance(message, SignedProposal):
            self.step(ProposalReceived(message))
        else:
            self.step(VoteReceived(message))

    def _on_gossip(self) -> None:
        sim = self.sim
        height = self.machine.height
        if self.restarted:
            # A stand-in for the node's status messages and block sync: peers hear this
            # node's height and send it the decisions it lacks; it learns theirs.
            for peer in sim.nodes:
                if peer is not self and peer.honest:
                    sim.signers[self.index].observe_network_height(max(peer.decided, default=0))
                    if height in peer.decided:
                        peer.lagging[self.index] = height
        for msg_height, to, message in self.own:
            if msg_height == height:
                sim.broadcast(self.index, message, to)
        machine = self.machine
        if self.honest and machine.valid_value is not None and machine.decision is None:
            # Relay the proof-of-lock (2f+1 prevotes) of our valid value, as Tendermint's
            # gossip does, so others can accept its re-proposal (Line 28).
            pol = machine.vote_set(machine.valid_round, int(VoteType.PREVOTE))
            for vote in pol.votes_for(machine.valid_value):
                if vote.validator_index != self.index:
                    sim.broadcast(self.index, vote, None)
        for peer, behind in sorted(self.lagging.items()):
            decision = self.decided.get(behind)
            if decision is None:
                continue
            sim.send(self.index, peer, decision.proposal)
            commit = decision.commit
            vote = Vote(CHAIN, int(VoteType.PRECOMMIT), behind, commit.round, commit.block_hash)
            for sig in commit.signatures:
                sim.send(self.index, peer, SignedVote(vote, sig.validator_index, sig.signature))
        self.lagging.clear()
        if self.behaviour == FUTURE:
            self._spam()
        sim.schedule(GOSSIP_MS + sim.rng.randrange(50), self.index, GossipTick())

    # -------------------------------------------------------------- effects

    def _do(self, effect: Effect) -> None:
        sim = self.sim
        if isinstance(effect, BroadcastVote):
            self._send_vote(effect.vote)
        elif isinstance(effect, BroadcastProposal):
            self._send_proposal(effect.proposal)
        elif isinstance(effect, ScheduleTimeout):
            event = TimeoutFired(effect.kind, effect.height, effect.round)
            sim.schedule(effect.duration_ms, self.index, event)
        elif isinstance(effect, BuildProposal):
            self.counter += 1
            tag = b"bad" if self.behaviour == INVALID else b"ok"
            prev = self.app[effect.height - 1]
            block = make_block(effect.height, self.index, self.counter, prev, tag)
            built = ProposalBuilt(effect.height, effect.round, block)
            sim.schedule(1 + sim.rng.randrange(10), self.index, built)
        elif isinstance(effect, ValidateBlock):
            prev = self.app.get(effect.height - 1)
            valid = prev is not None and block_is_valid(effect.block, effect.height, prev)
            result = BlockValidated(effect.height, effect.block_hash, valid)
            sim.schedule(1 + sim.rng.randrange(10), self.index, result)
        elif isinstance(effect, Decide):
            self._commit(effect)
        elif isinstance(effect, Rejected):
            sim.rejected += 1
        elif isinstance(effect, ReportEvidence):
            sim.evidence += 1

    def _commit(self, decision: Decide) -> None:
        sim = self.sim
        self.decided[decision.height] = decision
        self.app[decision.height] = next_app_hash(self.app[decision.height - 1], decision.block)
        if self.honest:
            sim.on_decide(self, decision)
        sim.schedule(1 + sim.rng.randrange(5), self.index, Committed(decision.height, self.epoch))

    def _remember(self, message: Message, height: int, to: int | None) -> None:
        self.own = [entry for entry in self.own if entry[0] >= height]
        self.own.append((height, to, message))
        self.sim.broadcast(self.index, message, to)

    def _send_vote(self, signed: SignedVote) -> None:
        vote = signed.vote
        if self.behaviour != CONFLICT:
            self._remember(signed, vote.height, None)
            return
        # Conflicting votes: the honest vote to some peers, another vote to the others,
        # and now and then both to one peer.
        rng = self.sim.rng
        other_hash = rng.choice([b"", rng.randbytes(32), *self._known_hashes()])
        if other_hash == vote.block_hash:
            other_hash = rng.randbytes(32)
        other = self._signed_vote(
            Vote(vote.chain_id, vote.type, vote.height, vote.round, other_hash)
        )
        for peer in self.sim.peers(self.index):
            first = signed if rng.random() < 0.5 else other
            self._remember(first, vote.height, peer)
            if rng.random() < 0.2:
                self._remember(other if first is signed else signed, vote.height, peer)

    def _send_proposal(self, signed: SignedProposal) -> None:
        p = signed.proposal
        if self.behaviour != EQUIVOCATE:
            self._remember(signed, p.height, None)
            return
        # An equivocating proposer: a second, different block for half of the peers.
        self.counter += 1
        block = make_block(p.height, self.index, self.counter, self.app[p.height - 1], b"ok")
        body = Proposal(CHAIN, PROPOSAL_TYPE, p.height, p.round, block_hash(block), p.pol_round)
        other = SignedProposal(body, self.index, raw_sign(self.index, encode(body)), block)
        for peer in self.sim.peers(self.index):
            self._remember(signed if peer % 2 else other, p.height, peer)

    def _known_hashes(self) -> list[bytes]:
        return [p.proposal.block_hash for p in self.machine.proposals.values()]

    def _signed_vote(self, vote: Vote) -> SignedVote:
        return SignedVote(vote, self.index, raw_sign(self.index, encode(vote)))

    def _spam(self) -> None:
        """Messages for future heights and rounds, bad signatures, unknown validators."""
        rng = self.sim.rng
        height = self.machine.height
        for _ in range(3):
            vote = Vote(
                CHAIN,
                rng.choice([1, 2]),
                height + rng.choice([0, 1, 2, 5]),
                rng.randrange(50),
                rng.choice([b"", rng.randbytes(32)]),
            )
            signed = self._signed_vote(vote)
            self.sim.broadcast(self.index, signed, None)
        bad = SignedVote(Vote(CHAIN, 1, height, 0, b""), self.index, b"\x01" * 64)
        self.sim.broadcast(self.index, bad, None)
        stranger = SignedVote(Vote(CHAIN, 1, height, 0, b""), self.sim.scenario.n, b"\x01" * 64)
        self.sim.broadcast(self.index, stranger, None)


# ---------------------------------------------------------------- the simulator


class Simulator:
    """A seeded network of :class:`SimNode` on virtual time."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 0
        self.queue: list[tuple[int, int, int, Item]] = []
        self.seq = 0
        self.messages = 0
        self.rejected = 0
        self.evidence = 0
        self.final: dict[int, bytes] = {}
        self.final_app: dict[int, bytes] = {}
        self.decided_at: dict[int, int] = {}
        self.validators = ValidatorSet(
            [Validator(public_key(i), p, f"v{i}") for i, p in enumerate(scenario.powers)]
        )
        #: Every message each validator signed: (validator, height, round, step) -> bytes.
        self.signed: dict[tuple[int, int, int, int], bytes] = {}
        self.refused_signatures = 0
        self.files = [MemoryFiles() for _ in range(scenario.n)]
        self.signers = [self.open_signer(i, 0, ran=False) for i in range(scenario.n)]
        self.nodes = [self._make_node(i) for i in range(scenario.n)]

    def open_signer(self, index: int, ledger_height: int, *, ran: bool) -> GuardedSigner:
        """Validator ``index``'s guarded signer over its signing record (``ran``: its
        database existed before, even if rolled back to nothing)."""
        return open_signer(
            Path(f"/sim/{index}/signing.log"),
            lambda payload: raw_sign(index, payload),
            SUITE.hash,
            ledger_height=ledger_height,
            has_history=ran,
            fs=self.files[index],
            clock=lambda: self.now / 1000,
        )

    def machine_config(self, index: int, voting: bool) -> TendermintConfig:
        """The machine's config for validator ``index`` (an observer when not voting)."""

        def sign(height: int, round_: int, step: SignStep, payload: bytes) -> bytes:
            if self.scenario.guarded:
                signature = self.signers[index].sign(height, round_, step, payload)
            else:
                signature = raw_sign(index, payload)
            self.witness(index, height, round_, int(step), payload)
            return signature

        return TendermintConfig(
            chain_id=CHAIN,
            validators=self.validators,
            my_index=index if voting else None,
            sign=sign if voting else None,
            verify=cached_verify,
            hash_block=block_hash,
            timeouts=SIM_TIMEOUTS,
        )

    def _make_node(self, index: int) -> SimNode:
        config = self.machine_config(index, True)
        return SimNode(self, index, self.scenario.behaviour(index), Tendermint(config))

    def witness(self, index: int, height: int, round_: int, step: int, payload: bytes) -> None:
        """Every signature an honest validator makes: never two different messages at
        one (height, round, step)."""
        if self.scenario.behaviour(index) != HONEST:
            return
        first = self.signed.setdefault((index, height, round_, step), payload)
        if first != payload:
            raise InvariantError(
                f"seed {self.seed}: validator {index} signed two different messages at "
                f"height {height}, round {round_}, step {step}"
            )

    # -------------------------------------------------------------- network

    def peers(self, index: int) -> list[int]:
        """Every other validator."""
        return [i for i in range(self.scenario.n) if i != index]

    def schedule(self, delay_ms: int, node: int, item: Item) -> None:
        """Queue ``item`` for ``node`` after ``delay_ms``."""
        self.seq += 1
        heapq.heappush(self.queue, (self.now + delay_ms, self.seq, node, item))

    def broadcast(self, sender: int, message: Message, to: int | None) -> None:
        """Send to one peer, or to all peers when ``to`` is ``None``."""
        for peer in self.peers(sender) if to is None else [to]:
            self.send(sender, peer, message)

    def _partitioned(self, a: int, b: int) -> bool:
        sc = self.scenario
        if not sc.partition or self.now < sc.partition_from_ms:
            return False
        if sc.heal_ms is not None and self.now >= sc.heal_ms:
            return False
        return not any(a in group and b in group for group in sc.partition)

    def send(self, sender: int, receiver: int, message: Message) -> None:
        """The network: partitions, drops, duplicates and random delays (reordering)."""
        sc = self.scenario
        if self._partitioned(sender, receiver):
            return
        rng = self.rng
        stable = self.now >= sc.gst_ms
        if not stable and rng.random() < sc.drop:
            return
        copies = 2 if rng.random() < sc.duplicate else 1
        bound = sc.delta_ms if stable else sc.max_latency_ms
        for _ in range(copies):
            self.messages += 1
            self.schedule(1 + rng.randrange(bound), receiver, Deliver(sender, message))

    # -------------------------------------------------------------- invariants

    def on_decide(self, node: SimNode, decision: Decide) -> None:
        """Check a fresh honest decision against every invariant."""
        check_certificate(self.validators, decision)
        height = decision.height
        self.decided_at.setdefault(height, self.now)
        agreed = self.final.setdefault(height, decision.block_hash)
        if agreed != decision.block_hash:
            raise InvariantError(
                f"seed {self.seed}: fork at height {height}: node {node.index} decided "
                f"{decision.block_hash.hex()[:12]}, another honest node {agreed.hex()[:12]}"
            )
        app = self.final_app.setdefault(height, node.app[height])
        if app != node.app[height]:
            raise InvariantError(f"seed {self.seed}: app state differs at height {height}")

    def honest_nodes(self) -> list[SimNode]:
        """The nodes that follow the protocol."""
        return [n for n in self.nodes if n.honest]

    def lowest_honest_height(self) -> int:
        """The lowest height every honest node has decided."""
        return min(max(n.decided, default=0) for n in self.honest_nodes())

    # -------------------------------------------------------------- run

    def run(self, stop: Callable[[Simulator], bool] | None = None) -> SimResult:
        """Run until the goal (or the scenario's time bound); check progress if expected."""
        sc = self.scenario
        stable = sc.stable_ms()
        deadline = sc.run_ms if not sc.expect_progress else stable + sc.progress_bound_ms
        for node in self.nodes:
            self.schedule(self.rng.randrange(20), node.index, StartHeight(1))
            self.schedule(GOSSIP_MS + self.rng.randrange(50), node.index, GossipTick())
        for index, at_ms, rollback, lose_record in sc.restarts:
            self.schedule(at_ms, index, Restart(rollback, lose_record))
        events = 0
        while self.queue:
            at, _, index, item = heapq.heappop(self.queue)
            if at > deadline:
                break
            self.now = at
            self.nodes[index].handle(item)
            events += 1
            if stop is not None and stop(self):
                break
            if sc.expect_progress and self.lowest_honest_height() >= sc.target_height:
                break
        reached = self.lowest_honest_height()
        if sc.expect_progress and reached < sc.target_height:
            raise InvariantError(
                f"seed {self.seed}: no progress: honest nodes reached {reached}, "
                f"target {sc.target_height}, by {self.now} ms (stable from {stable} ms)"
            )
        return SimResult(
            seed=self.seed,
            heights={n.index: max(n.decided, default=0) for n in self.honest_nodes()},
            final=dict(self.final),
            decided_at=dict(self.decided_at),
            end_ms=self.now,
            events=events,
            messages=self.messages,
            rejected=self.rejected,
            evidence=self.evidence,
            max_round=max(n.machine.round for n in self.honest_nodes()),
        )


def check_certificate(validators: ValidatorSet, decision: Decide) -> None:
    """A decision's commit: over 2/3 of power, good signatures, no validator twice."""
    commit: Commit = decision.commit
    if commit.height != decision.height or commit.block_hash != decision.block_hash:
        raise InvariantError("commit certificate names another height or block")
    if block_hash(decision.block) != decision.block_hash:
        raise InvariantError("decided block does not match its hash")
    message = encode(
        Vote(CHAIN, int(VoteType.PRECOMMIT), commit.height, commit.round, commit.block_hash)
    )
    seen: set[int] = set()
    power = 0
    for sig in commit.signatures:
        index = sig.validator_index
        if index in seen or not 0 <= index < len(validators.validators):
            raise InvariantError(f"commit certificate repeats or invents validator {index}")
        seen.add(index)
        validator = validators.validators[index]
        if not cached_verify(validator.public_key, message, sig.signature):
            raise InvariantError(f"bad precommit signature from validator {index}")
        power += validator.power
    if power * 3 <= validators.total_power * 2:
        raise InvariantError(
            f"commit certificate carries {power} of {validators.total_power} power"
        )


def simulate(scenario: Scenario, seed: int) -> SimResult:
    """Run ``scenario`` with ``seed``; raises ``InvariantError`` on any failure."""
    return Simulator(scenario, seed).run()
