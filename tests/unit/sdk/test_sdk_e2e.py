"""End to end: a real node and its REST API in this process, driven through the SDK.

The node runs on its own event loop in a thread, listening on a free 127.0.0.1 port; the
sync client talks to it from the test thread and the async client from another loop.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from xinlian.cli.service import BackgroundNode
from xinlian.node.network import create_network
from xinlian.sdk import (
    ApiError,
    AsyncClient,
    BlockEvent,
    Call,
    Client,
    NotFoundError,
    Refusal,
    Signer,
    VerificationError,
    load_genesis,
)
from xinlian.types import Event, TxStatus


@pytest.fixture(scope="module", params=["ed25519", "sm"])
def network(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BackgroundNode, Path]]:
    root = tmp_path_factory.mktemp(f"net-{request.param}")
    layout = create_network(
        root,
        suite_name=request.param,
        chain_id=f"e2e-{request.param}",
        base_port=0,
        block_interval_ms=20,
    )
    live = BackgroundNode(layout.node_homes[0])
    live.start()
    try:
        yield live, root
    finally:
        live.stop()
        assert live.error is None, live.error


def _client(network: tuple[BackgroundNode, Path], key: str | None = None) -> Client:
    live, root = network
    signer = Signer.from_file(root / "keys" / f"{key}.key") if key else None
    return Client(live.url, key=signer, genesis=root / "genesis.json", timeout=30)


def test_put_wait_and_read_back_with_a_verified_proof(network: tuple[BackgroundNode, Path]) -> None:
    with _client(network, "org1-writer") as c:
        result = c.send("kv", "put", {"key": "e2e/greeting", "value": "你好, world"}, timeout=60)
        assert result.status == "committed" and result.ok, result
        assert result.height is not None and result.height >= 1
        assert result.receipt is not None
        assert result.receipt.status == TxStatus.OK
        assert result.receipt.events == [
            Event("kv.put", {"key": "e2e/greeting", "writer": c.address or ""})
        ]

        entry = c.get_state_entry("kv/e2e/greeting")
        assert entry.verified and entry.value == "你好, world".encode()
        assert entry.height >= result.height
        assert c.get_state("kv/e2e/greeting", height=result.height) == "你好, world".encode()
        assert c.get_state("kv/e2e/greeting", height=0, verify=False) is None
        with pytest.raises(VerificationError, match="before the first block"):
            c.get_state("kv/e2e/greeting", height=0)
        assert c.get_state("kv/e2e/never-written") is None  # verified exclusion

        info = c.get_tx(result.hash)
        assert info.verified and info.committed and info.height == result.height
        assert info.tx is not None and info.tx.target == "kv" and info.tx.method == "put"
        block = c.get_block(result.height)
        assert block.verified and result.hash in block.txs
        assert c.query("kv", "get", {"key": "e2e/greeting"}) == "你好, world"
        events = c.events("kv.put", from_height=result.height, limit=10)
        assert any(e.tx_hash == result.hash for e in events)
        account = c.account(c.address or "")
        assert account.registered and account.org == "org1" and account.nonce >= 1


def test_unknown_key_is_refused_with_a_clear_reason(network: tuple[BackgroundNode, Path]) -> None:
    live, root = network
    suite = load_genesis(root / "genesis.json").suite
    stranger = Signer.generate(suite)
    with Client(live.url, key=stranger) as c:
        with pytest.raises(ApiError) as info:
            c.send("kv", "put", {"key": "x", "value": "y"}, timeout=30)
        assert info.value.refusal is Refusal.UNKNOWN_SENDER
        assert "unknown sender" in info.value.detail
        assert info.value.status == 403
        with pytest.raises(NotFoundError):
            c.get_tx(b"\x42" * 32)


def test_a_call_without_the_role_is_refused_on_admission(
    network: tuple[BackgroundNode, Path],
) -> None:
    with _client(network, "org2-reader") as c:
        assert c.session.signer is not None
        before = c.account(c.session.signer.address).nonce
        with pytest.raises(ApiError, match="lacks role") as info:
            c.send("kv", "put", {"key": "e2e/denied", "value": "no"}, timeout=60)
        assert (info.value.status, info.value.reason) == (403, "permission_denied")
        assert c.account(c.session.signer.address).nonce == before  # not consumed
        assert c.get_state("kv/e2e/denied") is None


def test_batches_commit_in_nonce_order(network: tuple[BackgroundNode, Path]) -> None:
    calls = [Call("kv", "put", {"key": f"e2e/batch/{i}", "value": str(i)}) for i in range(6)]
    with _client(network, "org3-writer") as c:
        results = c.send_many(calls, timeout=60, chunk_size=4)
        assert [r.status for r in results] == ["committed"] * 6
        nonces = [r.nonce for r in results]
        assert nonces == list(range(nonces[0], nonces[0] + 6))
        assert all(r.ok for r in results)
        assert c.get_state("kv/e2e/batch/5") == b"5"


def test_admin_registers_an_account_that_can_then_write(
    network: tuple[BackgroundNode, Path],
) -> None:
    live, root = network
    suite = load_genesis(root / "genesis.json").suite
    newcomer = Signer.generate(suite)
    with _client(network, "org1-admin") as admin:
        reg = admin.send(
            "identity",
            "register_account",
            {"public_key": newcomer.public_key, "name": "newcomer", "roles": ["writer"]},
            timeout=60,
        ).raise_for_status()
        assert reg.receipt is not None and reg.receipt.output == newcomer.address
    with Client(live.url, key=newcomer, genesis=root / "genesis.json") as c:
        assert c.send("kv", "put", {"key": "e2e/new", "value": "1"}, timeout=60).ok
        assert c.account(newcomer.address).roles == ["writer"]


def test_the_async_client_sends_and_follows_blocks(network: tuple[BackgroundNode, Path]) -> None:
    live, root = network
    signer = Signer.from_file(root / "keys" / "org2-writer.key")

    async def main() -> None:
        async with AsyncClient(live.url, key=signer, genesis=root / "genesis.json") as c:
            feed = c.blocks()
            first = await asyncio.wait_for(anext(feed), timeout=30)  # subscribed
            assert isinstance(first, BlockEvent) and first.height >= 1
            sent = await c.send("kv", "put", {"key": "e2e/async", "value": "ws"}, wait=False)

            async def find() -> BlockEvent:
                async for block in feed:
                    if any(ev.tx_hash == sent.hash for ev in block.events):
                        return block
                raise AssertionError("the feed ended")

            block = await asyncio.wait_for(find(), timeout=60)
            await feed.aclose()
            assert block.tx_count >= 1
            info = await c.wait_for(sent.hash, timeout=30)
            assert info.height == block.height and info.verified
            assert await c.get_state("kv/e2e/async") == b"ws"

    asyncio.run(main())


def test_a_wrong_genesis_is_detected(network: tuple[BackgroundNode, Path], tmp_path: Path) -> None:
    live, root = network
    other = create_network(
        tmp_path / "other",
        suite_name=load_genesis(root / "genesis.json").suite,
        chain_id=load_genesis(root / "genesis.json").chain_id,
    )
    with Client(live.url, genesis=other.genesis) as c, pytest.raises(VerificationError):
        c.get_block("latest")
