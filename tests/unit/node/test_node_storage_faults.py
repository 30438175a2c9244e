"""Storage faults are the node's own: it stops loudly, never blames a peer, never signs
twice, and `xinlian node start` says what it found and what the operator can do."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.unit.conftest import keypair, make_genesis
from tests.unit.node.test_node_driver import PEER, VALIDATOR, FakeNetwork, until

from xinlian.cli.main import cli
from xinlian.codec import decode, encode
from xinlian.consensus import SignStep
from xinlian.node.chain import Chain
from xinlian.node.config import NodeConfig, load_config
from xinlian.node.driver import ConsensusDriver
from xinlian.node.metrics import NodeMetrics
from xinlian.node.network import create_network
from xinlian.node.runtime import PID_FILE, SIGNING_FILE, Node, move_data_aside
from xinlian.node.signer import DoubleSignError, RegressionError
from xinlian.node.wire import BlockRequest, NodeStatus
from xinlian.storage import MemoryStore, StorageError, WriteBatch
from xinlian.storage.rocks import RocksStore


class FullDisk:
    """A KVStore that refuses writes once ``budget`` writes have been made (ENOSPC)."""

    def __init__(self, budget: int | None = None) -> None:
        self.inner = MemoryStore()
        self.budget = budget
        self.failures = 0

    def get(self, key: bytes) -> bytes | None:
        return self.inner.get(key)

    def write(self, batch: WriteBatch, *, sync: bool = True) -> None:
        if self.budget is not None:
            if self.budget <= 0:
                self.failures += 1
                raise StorageError("write failed: [Errno 28] No space left on device")
            self.budget -= 1
        self.inner.write(batch, sync=sync)

    def iterate(
        self, start: bytes, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        return self.inner.iterate(start, end, reverse=reverse)

    def close(self) -> None:
        self.inner.close()


def driver_on(
    store: FullDisk, tmp_path: Path, private: bytes, failures: list[StorageError]
) -> tuple[ConsensusDriver, FakeNetwork]:
    chain = Chain(store, make_genesis())
    net = FakeNetwork()

    def sign(_h: int, _r: int, _s: SignStep, payload: bytes) -> bytes:
        return chain.suite.sign(private, payload)

    driver = ConsensusDriver(
        chain,
        NodeConfig(home=tmp_path, block_interval_ms=10, empty_block_interval_ms=20),
        NodeMetrics(),
        net,
        chain.suite.keypair_from_private(private).public_key,
        sign,
        ThreadPoolExecutor(max_workers=1),
        max_frame_bytes=1 << 20,
        on_storage_error=failures.append,
    )
    return driver, net


async def test_a_full_disk_while_catching_up_bans_no_peer(tmp_path: Path) -> None:
    ahead, _ = driver_on(FullDisk(), tmp_path / "ahead", VALIDATOR.private_key, [])
    for height in range(1, 101):
        ahead.chain.produce_block(height, 2_000_000 + height, VALIDATOR.private_key)
    served = FakeNetwork()
    ahead.network = served
    failures: list[StorageError] = []
    disk = FullDisk()
    behind, net = driver_on(disk, tmp_path / "behind", keypair("observer").private_key, failures)
    disk.budget = 10  # genesis is written; ten blocks fit, the eleventh does not
    behind.start()
    try:
        behind.on_status(PEER, encode(NodeStatus(100)))
        await ahead.on_block_request(PEER, net.sent[-1][2])
        first_response = served.sent[-1][2]
        await behind.on_block_response(PEER, first_response)
        # The next batch was requested before the failure; its answer arrives too.
        assert decode(net.sent[-1][2], BlockRequest).start == 65
        await ahead.on_block_request(PEER, net.sent[-1][2])
        await behind.on_block_response(PEER, served.sent[-1][2])
        behind.on_status(PEER, encode(NodeStatus(100)))
    finally:
        await behind.stop()
    assert net.reports == []  # nobody blamed for our disk
    assert behind.chain.height == 10
    assert len(failures) == 1 and "No space left on device" in str(failures[0])
    assert disk.failures == 1  # stopped at the first failure: nothing more written


async def test_a_full_disk_at_commit_stops_consensus(tmp_path: Path) -> None:
    failures: list[StorageError] = []
    disk = FullDisk()
    driver, net = driver_on(disk, tmp_path, VALIDATOR.private_key, failures)
    disk.budget = 3
    driver.start()
    try:
        await until(lambda: bool(failures))
        await asyncio.sleep(0.1)
    finally:
        await driver.stop()
    assert driver.chain.height == 3
    assert disk.failures == 1
    assert net.reports == []


@pytest.fixture
def home(tmp_path: Path) -> Path:
    layout = create_network(tmp_path / "net", nodes=1, block_interval_ms=20)
    return layout.node_homes[0]


async def test_node_stops_with_the_path_and_cause(home: Path) -> None:
    config = load_config(home)
    disk = FullDisk(budget=4)
    node = Node(config, store=disk)  # type: ignore[arg-type]
    await node.start()
    try:
        await asyncio.wait_for(node.failed.wait(), 30)
        height = node.chain.height
        await asyncio.sleep(0.1)
    finally:
        await node.stop()
    assert node.fatal_error is not None
    assert str(config.data_dir) in node.fatal_error
    assert "No space left on device" in node.fatal_error
    assert height == 3 and disk.failures == 1


def _stop_cleanly(home: Path, blocks: int = 3) -> None:
    async def run() -> None:
        node = Node(load_config(home))
        await node.start()
        try:
            while node.chain.height < blocks:
                await asyncio.sleep(0.02)
        finally:
            await node.stop()

    asyncio.run(run())


def test_start_on_a_database_without_current_says_what_to_do(home: Path) -> None:
    _stop_cleanly(home)
    (home / "data" / "CURRENT").unlink()
    result = CliRunner().invoke(cli, ["node", "start", "--home", str(home)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "has lost its CURRENT file" in errors[0]
    assert "--resync" in result.output and "backup" in result.output
    assert "Traceback" not in result.output
    assert any((home / "data").glob("*.sst"))  # nothing removed


def test_start_on_a_damaged_table_says_what_to_do(home: Path) -> None:
    _stop_cleanly(home)
    sst = next((home / "data").glob("*.sst"))
    sst.write_bytes(b"not a table" * 100)
    result = CliRunner().invoke(cli, ["node", "start", "--home", str(home)])
    assert result.exit_code == 1
    assert result.output.count("error:") == 1 and "is damaged" in result.output
    assert "--resync" in result.output and "Traceback" not in result.output


def test_start_while_the_node_runs_names_its_pid(home: Path) -> None:
    holder = RocksStore(home / "data")
    (home / PID_FILE).write_text(f"{os.getpid()}\n")
    try:
        result = CliRunner().invoke(cli, ["node", "start", "--home", str(home)])
    finally:
        holder.close()
    assert result.exit_code == 1
    assert f"error: node at {home} is already running (pid {os.getpid()})" in result.output
    assert "Traceback" not in result.output


def test_resync_moves_the_data_aside_and_keeps_the_signing_record(home: Path) -> None:
    _stop_cleanly(home)
    record = (home / SIGNING_FILE).read_bytes()
    aside = move_data_aside(load_config(home))
    assert aside is not None and (aside / "CURRENT").exists()
    assert not (home / "data").exists()
    node = Node(load_config(home))
    try:
        assert node.chain.height == 0
        last = node.signer.last()
        assert last is not None and last.height >= 3
        assert (home / SIGNING_FILE).read_bytes() == record
        # What was signed before the re-sync is never signed differently afterwards.
        with pytest.raises((DoubleSignError, RegressionError)):
            node.signer.sign(last.height, last.round, SignStep(last.step), b"other")
        with pytest.raises(RegressionError):
            node.signer.sign(1, 0, SignStep.PREVOTE, b"other")
    finally:
        node.store.close()
        node.signer.close()


def test_lost_signing_record_fences_a_node_with_history(home: Path) -> None:
    _stop_cleanly(home)
    (home / SIGNING_FILE).unlink()
    node = Node(load_config(home))
    try:
        assert node.chain.height >= 3
        assert node.signer.fence is not None
        assert not node.signer.may_sign(node.chain.height + 1)
    finally:
        node.store.close()
        node.signer.close()


def test_signing_record_older_than_the_ledger_fences(home: Path) -> None:
    _stop_cleanly(home, blocks=2)
    old = (home / SIGNING_FILE).read_bytes()
    _stop_cleanly(home, blocks=5)
    (home / SIGNING_FILE).write_bytes(old)
    node = Node(load_config(home))
    try:
        assert node.signer.fence is not None and "older" in node.signer.fence
    finally:
        node.store.close()
        node.signer.close()


class UnreadableDisk(FullDisk):
    """Reads of blocks fail (a damaged table file)."""

    def get(self, key: bytes) -> bytes | None:
        if key.startswith(b"L/h/") or key.startswith(b"L/b/"):
            raise StorageError("reading block failed: Corruption: block checksum mismatch")
        return self.inner.get(key)


async def test_a_damaged_table_while_serving_a_peer_is_our_failure(tmp_path: Path) -> None:
    failures: list[StorageError] = []
    disk = UnreadableDisk()
    driver, net = driver_on(disk, tmp_path, keypair("observer").private_key, failures)
    driver.chain.produce_block(1, 2_000_001, VALIDATOR.private_key)
    driver.start()
    try:
        assert failures == []
        await driver.on_block_request(PEER, encode(BlockRequest(1, 1)))
    finally:
        await driver.stop()
    assert len(failures) == 1 and "checksum mismatch" in str(failures[0])
    assert net.reports == [] and net.sent == []


def test_an_unwritable_signing_record_stops_the_start_with_a_message(home: Path) -> None:
    (home / SIGNING_FILE).mkdir()  # a directory where the file belongs
    result = CliRunner().invoke(cli, ["node", "start", "--home", str(home)])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot use the signing file")
    assert "Traceback" not in result.output


def test_a_validator_restarted_in_the_middle_of_a_height_goes_on(home: Path) -> None:
    """Killed after signing its proposal (and prevote) for the next height: restarted, it
    joins the next round of that height, never re-signs the old positions, and the
    (single-validator) chain goes on."""
    _stop_cleanly(home, blocks=2)

    async def run() -> tuple[int, int]:
        node = Node(load_config(home))
        height = node.chain.height
        node.signer.sign(height + 1, 0, SignStep.PROPOSAL, b"a block that was never committed")
        node.signer.sign(height + 1, 0, SignStep.PREVOTE, b"a prevote for it")
        await node.start()
        try:
            await asyncio.wait_for(_until_height(node, height + 2), 30)
            return height, node.chain.ledger.commit(height + 1).round
        finally:
            await node.stop()

    _, round_ = asyncio.run(run())
    assert round_ >= 1  # decided in a later round than the one signed before the "crash"


async def _until_height(node: Node, height: int) -> None:
    while node.chain.height < height:
        await asyncio.sleep(0.02)


COUNTER = """
from contract import Value, export

count = Value("count", 0)


@export
def bump() -> int:
    count.set(count.get() + 1)
    return count.get()
"""


def test_a_storage_failure_inside_a_contract_is_not_a_failed_receipt() -> None:
    """A read error under a contract is the node's disk, not the contract: it must stop
    the block (and the node), never become a 'failed' receipt that other nodes would not
    write, which would make an honest peer's block look invalid."""
    from tests.unit.conftest import DEFAULT_ACCOUNTS, World

    from xinlian.types import TxStatus

    world = World(make_genesis(accounts=(*DEFAULT_ACCOUNTS, ("dev_a", "a", ("deployer",)))))
    args = {"source": COUNTER, "init": {}, "upgrade_policy": "immutable"}
    receipt = world.call("dev_a", "contracts", "deploy", args)
    assert receipt.status == TxStatus.OK, receipt.error
    contract = decode(receipt.output, str)
    readable = world.read

    def damaged(key: bytes) -> bytes | None:
        if key.startswith(b"contracts/s/"):
            raise StorageError("reading failed: Corruption: block checksum mismatch")
        return readable(key)

    world.read = damaged  # type: ignore[method-assign]
    with pytest.raises(StorageError, match="checksum mismatch"):
        world.call("dev_a", contract, "bump", {})
