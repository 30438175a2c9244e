"""``Client.simulate`` and ``AsyncClient.simulate`` against a live node."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from xinlian.sdk import AsyncClient, Client, Signer, XinlianError


def _signer(live_node: Any, name: str) -> Signer:
    return Signer.from_file(live_node.layout.key_dir / f"{name}.key")


def test_simulate_then_send_gets_the_same_receipt(live_node: Any) -> None:
    writer = _signer(live_node, "org1-writer")
    with Client(live_node.url, key=writer) as c:
        nonce = c.account(writer.address).nonce
        sim = c.simulate("kv", "put", {"key": "sdk/sim", "value": "1"})
        assert sim.ok and sim.outcome == "ok" and sim.signed and sim.reason == ""
        assert sim.nonce == nonce and sim.receipt is not None
        assert c.account(writer.address).nonce == nonce  # nothing committed
        sent = c.send("kv", "put", {"key": "sdk/sim", "value": "1"}, timeout=30)
        assert sent.nonce == nonce  # simulating used no nonce
        assert sent.receipt == sim.receipt


def test_simulate_without_a_key(live_node: Any) -> None:
    writer, reader = _signer(live_node, "org1-writer"), _signer(live_node, "org1-reader")
    with Client(live_node.url) as c:
        by_address = c.simulate("kv", "put", {"key": "a", "value": "b"}, sender=writer.address)
        by_key = c.simulate("kv", "put", {"key": "a", "value": "b"}, sender=writer.public_key)
        assert by_address.ok and not by_address.signed
        assert by_key.receipt == by_address.receipt
        denied = c.simulate("kv", "put", {"key": "a", "value": "b"}, sender=reader.address)
        assert not denied.ok and denied.outcome == "refused" and denied.receipt is None
        assert denied.code == "permission_denied"
        assert "lacks role 'writer' for kv.put" in denied.reason
        refused = c.simulate("kv", "put", {}, sender="00" * 20)
        assert refused.outcome == "refused" and refused.receipt is None
        assert refused.reason.startswith("a node would refuse it: unknown sender")
        with pytest.raises(XinlianError, match="this client has no key"):
            c.simulate("kv", "put", {})


def test_the_async_client_simulates_too(live_node: Any) -> None:
    writer = _signer(live_node, "org1-writer")

    async def run() -> tuple[Any, Any]:
        async with AsyncClient(live_node.url, key=writer) as c:
            signed = await c.simulate("kv", "nope", {})
            unsigned = await c.simulate("kv", "nope", {}, sender=writer.address)
            return signed, unsigned

    signed, unsigned = asyncio.run(run())
    for sim in (signed, unsigned):
        assert sim.outcome == "refused" and sim.receipt is None
        assert sim.code == "unknown_target"
        assert "no method 'nope'" in sim.reason


def test_an_sm_chain_simulates_signed_and_unsigned_alike(live_sm_node: Any) -> None:
    writer = _signer(live_sm_node, "org1-writer")
    args = {"key": "sm/sim", "value": "1"}
    with Client(live_sm_node.url, key=writer) as c:
        signed = c.simulate("kv", "put", args)
        unsigned = c.simulate("kv", "put", args, sender=writer.address)
        assert signed.ok and unsigned.ok
        assert signed.receipt is not None and unsigned.receipt is not None
        assert signed.receipt.gas_used == unsigned.receipt.gas_used
        assert signed.receipt.events == unsigned.receipt.events
        sent = c.send("kv", "put", args, timeout=30)
        # SM2 signatures are randomised: send signs afresh, so only the hash differs.
        assert sent.receipt is not None and sent.receipt.tx_hash == sent.hash
        assert sent.receipt.tx_hash != signed.receipt.tx_hash
        assert dataclasses.replace(sent.receipt, tx_hash=b"") == dataclasses.replace(
            signed.receipt, tx_hash=b""
        )
