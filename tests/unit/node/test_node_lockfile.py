"""The consensus lock file and how a restarted validator takes up its height.

Together with the signing record it keeps Tendermint's lock across a restart: a validator
that precommitted a block resumes at the next round still locked on it, and re-proposes it.
Without it a network whose validators all restarted after precommitting halted for ever
(each refused to sign again in the round it had signed in).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.unit.conftest import keypair, make_genesis

from xinlian.consensus import Resume, SignStep
from xinlian.node.chain import Chain
from xinlian.node.config import NodeConfig
from xinlian.node.driver import ConsensusDriver
from xinlian.node.lockfile import LockFile, LockRecord, Resumption, resume_for
from xinlian.node.metrics import NodeMetrics
from xinlian.node.wire import Channel
from xinlian.storage import MemoryStore

VALIDATOR = keypair("val0")
RECORD = LockRecord(7, 2, b"\x11" * 32, b"block bytes")


class Network:
    def __init__(self) -> None:
        self.broadcasts: list[tuple[int, bytes]] = []

    def broadcast(self, channel: int, payload: bytes) -> int:
        self.broadcasts.append((channel, payload))
        return 1

    def send(self, key: bytes, channel: int, payload: bytes) -> bool:
        return False

    def report_misbehaviour(self, key: bytes, reason: str, weight: int = 1) -> None:
        raise AssertionError(f"no peer to blame: {reason}")


class RecordingLockFile(LockFile):
    """A real lock file that also notes each save and how many votes had left by then."""

    def __init__(self, path: Path, network: Network) -> None:
        super().__init__(path)
        self.network = network
        self.saves: list[tuple[LockRecord, int]] = []

    def save(self, record: LockRecord) -> None:
        super().save(record)
        votes = sum(1 for channel, _ in self.network.broadcasts if channel == Channel.VOTE)
        self.saves.append((record, votes))


def make_driver(
    home: Path, last_signed: tuple[int, int, int] | None
) -> tuple[ConsensusDriver, Network, RecordingLockFile]:
    chain = Chain(MemoryStore(), make_genesis())
    network = Network()
    suite = chain.suite

    def sign(_h: int, _r: int, _s: SignStep, payload: bytes) -> bytes:
        return suite.sign(VALIDATOR.private_key, payload)

    lock_file = RecordingLockFile(home / "consensus.lock", network)
    driver = ConsensusDriver(
        chain,
        NodeConfig(home=home, block_interval_ms=10, empty_block_interval_ms=20),
        NodeMetrics(),
        network,
        VALIDATOR.public_key,
        sign,
        ThreadPoolExecutor(max_workers=1),
        max_frame_bytes=1 << 20,
        lock_file=lock_file,
        last_signed=lambda: last_signed,
    )
    return driver, network, lock_file


async def until(cond: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- the file


def test_a_saved_lock_reads_back(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "consensus.lock")
    assert lock.load().status == "missing"
    lock.save(RECORD)
    loaded = lock.load()
    assert (loaded.status, loaded.record) == ("ok", RECORD)
    assert not (tmp_path / "consensus.lock.tmp").exists()


def test_every_damaged_byte_or_cut_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "consensus.lock"
    LockFile(path).save(RECORD)
    good = path.read_bytes()
    for i in range(len(good)):
        path.write_bytes(good[:i] + bytes([good[i] ^ 0x40]) + good[i + 1 :])
        assert LockFile(path).load().status == "damaged", f"flipped byte {i}"
    for cut in range(len(good)):
        path.write_bytes(good[:cut])
        assert LockFile(path).load().status == "damaged", f"cut at {cut}"


# ---------------------------------------------------------------- where to resume


def test_nothing_signed_at_the_height_starts_it_afresh(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "consensus.lock")
    lock.save(RECORD)
    assert resume_for(8, (7, 5, 2), lock.load()) == Resumption(None)
    assert resume_for(8, None, lock.load()) == Resumption(None)


def test_signed_at_the_height_resumes_at_the_next_round_with_the_lock(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "consensus.lock")
    lock.save(RECORD)
    found = resume_for(7, (7, 3, 1), lock.load())
    assert found == Resumption(Resume(4, RECORD.locked_value, 2, RECORD.block))


def test_a_lock_of_another_height_is_not_a_lock(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "consensus.lock")
    lock.save(RECORD)
    assert resume_for(9, (9, 0, 2), lock.load()) == Resumption(Resume(1))


def test_a_damaged_lock_file_means_no_vote_at_that_height(tmp_path: Path) -> None:
    path = tmp_path / "consensus.lock"
    path.write_bytes(b"garbage")
    assert resume_for(7, (7, 0, 2), LockFile(path).load()) == Resumption(Resume(1), vote=False)


# ---------------------------------------------------------------- the driver


async def test_the_lock_is_durable_before_the_precommit_leaves(tmp_path: Path) -> None:
    driver, _, lock_file = make_driver(tmp_path, None)
    driver.start()
    try:
        await until(lambda: driver.chain.height >= 2)
    finally:
        await driver.stop()
    assert [r.height for r, _ in lock_file.saves][:2] == [1, 2]
    for record, votes_before in lock_file.saves[:2]:
        # Two votes per earlier height had left; this height's precommit had not.
        assert 2 * (record.height - 1) <= votes_before < 2 * record.height
        commit = driver.chain.ledger.commit(record.height)
        assert (commit.round, commit.block_hash) == (record.locked_round, record.locked_value)


async def test_a_restarted_validator_re_proposes_and_commits_its_locked_block(
    tmp_path: Path,
) -> None:
    first, _, first_lock = make_driver(tmp_path / "a", None)
    (tmp_path / "a").mkdir()
    first.start()
    try:
        await until(lambda: first.chain.height >= 1)
    finally:
        await first.stop()
    record = first_lock.saves[0][0]
    assert record.height == 1 and record.block

    # The same validator, restarted before height 1 was stored: its signing record says it
    # precommitted in that round, and its lock file holds the block.
    home = tmp_path / "b"
    home.mkdir()
    LockFile(home / "consensus.lock").save(record)
    second, _, _ = make_driver(home, (1, record.locked_round, int(SignStep.PRECOMMIT)))
    second.start()
    try:
        await until(lambda: second.chain.height >= 1)
    finally:
        await second.stop()
    commit = second.chain.ledger.commit(1)
    assert commit.block_hash == record.locked_value  # the very block it was locked on
    assert commit.round == record.locked_round + 1


async def test_a_damaged_lock_file_keeps_the_validator_from_voting_at_that_height(
    tmp_path: Path,
) -> None:
    (tmp_path / "consensus.lock").write_bytes(b"not a lock file")
    driver, network, _ = make_driver(tmp_path, (1, 0, int(SignStep.PRECOMMIT)))
    driver.start()
    try:
        assert driver.machine.height == 1
        assert driver.machine.config.my_index is None
        assert not [p for c, p in network.broadcasts if c in (Channel.VOTE, Channel.PROPOSAL)]
    finally:
        await driver.stop()
