"""The consensus driver: a one-validator chain commits on its own; peers' garbage is
counted against them; a node that hears of a higher height fetches certified blocks,
checks them and moves consensus past them."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.unit.conftest import keypair, make_genesis

from xinlian.codec import encode
from xinlian.consensus import SignStep
from xinlian.node.chain import Chain
from xinlian.node.config import NodeConfig
from xinlian.node.driver import ConsensusDriver
from xinlian.node.metrics import NodeMetrics
from xinlian.node.wire import BlockRequest, BlockResponse, CertifiedBlock, Channel, NodeStatus
from xinlian.storage import MemoryStore
from xinlian.types import Vote

PEER = b"\x05" * 32
VALIDATOR = keypair("val0")


class FakeNetwork:
    def __init__(self) -> None:
        self.broadcasts: list[tuple[int, bytes]] = []
        self.sent: list[tuple[bytes, int, bytes]] = []
        self.reports: list[tuple[bytes, str]] = []
        #: Peers that are not connected: sending to them fails.
        self.gone: set[bytes] = set()

    def broadcast(self, channel: int, payload: bytes) -> int:
        self.broadcasts.append((channel, payload))
        return 1

    def requested(self) -> list[bytes]:
        """The peers asked for blocks, in order."""
        return [key for key, channel, _ in self.sent if channel == Channel.BLOCK_REQUEST]

    def send(self, key: bytes, channel: int, payload: bytes) -> bool:
        if key in self.gone:
            return False
        self.sent.append((key, channel, payload))
        return True

    def report_misbehaviour(self, key: bytes, reason: str, weight: int = 1) -> None:
        self.reports.append((key, reason))


def make_driver(tmp_path: Path, key: bytes | None = None) -> tuple[ConsensusDriver, FakeNetwork]:
    chain = Chain(MemoryStore(), make_genesis())
    net = FakeNetwork()
    suite = chain.suite
    private = VALIDATOR.private_key if key is None else key

    def sign(_h: int, _r: int, _s: SignStep, payload: bytes) -> bytes:
        return suite.sign(private, payload)

    config = NodeConfig(home=tmp_path, block_interval_ms=10, empty_block_interval_ms=20)
    driver = ConsensusDriver(
        chain,
        config,
        NodeMetrics(),
        net,
        suite.keypair_from_private(private).public_key,
        sign,
        ThreadPoolExecutor(max_workers=1),
        max_frame_bytes=1 << 20,
    )
    return driver, net


async def until(cond: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_single_validator_commits_and_announces(tmp_path: Path) -> None:
    driver, net = make_driver(tmp_path)
    driver.start()
    try:
        await until(lambda: driver.chain.height >= 3)
    finally:
        await driver.stop()
    statuses = [decode_status(p) for c, p in net.broadcasts if c == Channel.STATUS]
    assert statuses and max(statuses) >= 1
    commit = driver.chain.ledger.commit(1)
    assert [s.validator_index for s in commit.signatures] == [0]


def decode_status(payload: bytes) -> int:
    from xinlian.codec import decode

    return decode(payload, NodeStatus).height


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("on_vote", "malformed vote"),
        ("on_proposal", "malformed proposal"),
        ("on_status", "malformed status"),
    ],
)
async def test_malformed_messages_count_against_the_peer(
    tmp_path: Path, handler: str, message: str
) -> None:
    driver, net = make_driver(tmp_path, key=keypair("observer").private_key)
    driver.start()
    try:
        getattr(driver, handler)(PEER, b"\x93\x01garbage")
        assert net.reports and net.reports[-1][0] == PEER and message in net.reports[-1][1]
        await driver.on_block_request(PEER, b"\xc1")
        assert "malformed block request" in net.reports[-1][1]
    finally:
        await driver.stop()


async def test_a_vote_with_a_bad_signature_is_rejected_and_reported(tmp_path: Path) -> None:
    driver, net = make_driver(tmp_path, key=keypair("observer").private_key)
    driver.start()
    try:
        from xinlian.consensus import SignedVote

        vote = Vote(driver.chain.chain_id, 1, 1, 0, b"")
        driver.on_vote(PEER, encode(SignedVote(vote, 0, b"\x01" * 64)))
        assert net.reports and "signature" in net.reports[-1][1]
    finally:
        await driver.stop()


async def test_catching_up_from_a_peer(tmp_path: Path) -> None:
    # A validator that is ahead: its chain commits a few blocks on its own.
    ahead, _ = make_driver(tmp_path / "ahead")
    ahead.start()
    try:
        await until(lambda: ahead.chain.height >= 4)
    finally:
        await ahead.stop()
    top = ahead.chain.height
    # An observer (not a validator) hears of it and asks for the blocks.
    behind, net = make_driver(tmp_path / "behind", key=keypair("observer").private_key)
    behind.start()
    try:
        behind.on_status(PEER, encode(NodeStatus(top)))
        key, channel, payload = net.sent[-1]
        assert (key, channel) == (PEER, Channel.BLOCK_REQUEST)
        from xinlian.codec import decode

        request = decode(payload, BlockRequest)
        assert (request.start, request.count) == (1, top)
        # Unsolicited answers (from another peer) are ignored.
        served = FakeNetwork()
        ahead.network = served
        await ahead.on_block_request(PEER, payload)
        (_, _, response) = served.sent[-1]
        await behind.on_block_response(b"\x09" * 32, response)
        assert behind.chain.height == 0
        # A tampered certificate is refused and reported; nothing is applied.
        good = decode(response, BlockResponse)
        first = good.blocks[0]
        bad_commit = first.commit.__class__(
            first.commit.height, first.commit.round, first.commit.block_hash, []
        )
        tampered = BlockResponse([CertifiedBlock(first.block, bad_commit), *good.blocks[1:]])
        behind.on_status(PEER, encode(NodeStatus(top)))
        await behind.on_block_response(PEER, encode(tampered))
        assert behind.chain.height == 0
        assert "bad certified block" in net.reports[-1][1]
        # The real answer is applied; consensus moves on to the next height.
        behind._sync_peer = PEER
        await behind.on_block_response(PEER, response)
        assert behind.chain.height == top
        assert behind.chain.state_root() == ahead.chain.state_root()
        assert behind.machine.height == top + 1
    finally:
        await behind.stop()


async def test_catch_up_fetches_the_next_batch_while_applying_one(tmp_path: Path) -> None:
    from xinlian.codec import decode

    ahead, _ = make_driver(tmp_path / "ahead")
    for height in range(1, 101):
        ahead.chain.produce_block(height, 2_000_000 + height, VALIDATOR.private_key)
    behind, net = make_driver(tmp_path / "behind", key=keypair("observer").private_key)
    served = FakeNetwork()
    ahead.network = served
    behind.start()
    try:
        behind.on_status(PEER, encode(NodeStatus(100)))
        first = decode(net.sent[-1][2], BlockRequest)
        assert (first.start, first.count) == (1, 64)
        await ahead.on_block_request(PEER, net.sent[-1][2])
        await behind.on_block_response(PEER, served.sent[-1][2])
        # The second request left before the first batch was applied.
        second = decode(net.sent[-1][2], BlockRequest)
        assert (second.start, second.count) == (65, 36)
        assert behind.chain.height == 64 and behind.machine.height <= 1
        await ahead.on_block_request(PEER, net.sent[-1][2])
        await behind.on_block_response(PEER, served.sent[-1][2])
        assert behind.chain.height == 100
        assert behind.chain.state_root() == ahead.chain.state_root()
        assert behind.machine.height == 101  # consensus restarted after the last batch
    finally:
        await behind.stop()


async def test_catch_up_skips_a_peer_that_is_no_longer_connected(tmp_path: Path) -> None:
    # Three peers told us they are at height 3; the one preferred first (the highest key)
    # has since crashed without a goodbye. Catch-up must ask another, not wait forever.
    crashed, live, other = b"\xff" * 32, b"\x07" * 32, b"\x06" * 32
    behind, net = make_driver(tmp_path, key=keypair("observer").private_key)
    net.gone.add(crashed)
    behind.start()
    try:
        for peer in (crashed, live, other):
            behind.on_status(peer, encode(NodeStatus(3)))
        assert net.requested() == [live]
        assert crashed not in behind._peer_heights
        assert behind._sync_peer == live
    finally:
        await behind.stop()


async def test_a_departed_sync_peer_is_replaced_at_once(tmp_path: Path) -> None:
    first, second = b"\x08" * 32, b"\x07" * 32
    behind, net = make_driver(tmp_path, key=keypair("observer").private_key)
    behind.start()
    try:
        behind.on_status(first, encode(NodeStatus(5)))
        behind.on_status(second, encode(NodeStatus(5)))
        assert net.requested() == [first]
        # While the request to ``first`` is outstanding nobody else is asked ...
        behind.on_status(second, encode(NodeStatus(5)))
        assert net.requested() == [first]
        # ... but once it disconnects, the next status sends the request elsewhere,
        # without waiting for the request to time out.
        net.gone.add(first)
        behind.peer_left(first)
        assert behind._sync_peer is None and first not in behind._peer_heights
        behind.on_status(second, encode(NodeStatus(5)))
        assert net.requested() == [first, second]
    finally:
        await behind.stop()


async def test_a_sync_peer_that_does_not_answer_in_time_is_asked_last(tmp_path: Path) -> None:
    silent, other = b"\x08" * 32, b"\x07" * 32
    behind, net = make_driver(tmp_path, key=keypair("observer").private_key)
    behind.start()
    try:
        behind.on_status(silent, encode(NodeStatus(5)))
        behind.on_status(other, encode(NodeStatus(5)))
        assert net.requested() == [silent]
        behind._sync_deadline = 0.0  # the request timed out unanswered
        behind.on_status(silent, encode(NodeStatus(5)))
        assert net.requested() == [silent, other]
        # Still ahead alone (the other caught up... or left): the silent one is asked again.
        behind.peer_left(other)
        behind._sync_deadline = 0.0
        behind.on_status(silent, encode(NodeStatus(5)))
        assert net.requested() == [silent, other, silent]
    finally:
        await behind.stop()


async def test_conflicting_votes_are_kept_as_checkable_evidence(tmp_path: Path) -> None:
    from xinlian.consensus import SignedVote
    from xinlian.types import VoteType

    driver, _ = make_driver(tmp_path, key=keypair("observer").private_key)
    suite = driver.chain.suite
    driver.start()
    try:
        signed = []
        for block_hash in (b"\x01" * 32, b"\x02" * 32):
            vote = Vote(driver.chain.chain_id, int(VoteType.PREVOTE), 1, 0, block_hash)
            sig = suite.sign(VALIDATOR.private_key, encode(vote))
            signed.append(SignedVote(vote, 0, sig))
            driver.on_vote(PEER, encode(signed[-1]))
        driver.on_vote(PEER, encode(signed[1]))  # the same conflict again: recorded once
        (found,) = driver.equivocations
        assert (found.kind, found.height, found.round, found.validator_index) == (
            "prevote",
            1,
            0,
            0,
        )
        assert found.validator == VALIDATOR.public_key
        assert {found.first.block_hash, found.second.block_hash} == {b"\x01" * 32, b"\x02" * 32}
        for part in (found.first, found.second):
            assert suite.verify(found.validator, part.signed, part.signature)
        assert driver.metrics.equivocations._value.get() == 1
    finally:
        await driver.stop()
