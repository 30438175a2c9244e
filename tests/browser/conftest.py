"""Browser fixtures: a live single-validator node with sample data, and Debian's chromium
driven by Playwright (never Playwright's own browser download)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import serving

from xinlian.node.network import NetworkLayout, create_network
from xinlian.node.runtime import Node
from xinlian.sdk import Call, Client, Signer
from xinlian.sdk import trace as sdk_trace
from xinlian.sdk.contracts import bind, deploy
from xinlian.sdk.evidence import anchor
from xinlian.sdk.trace_sample import food_chain

CHROMIUM = os.environ.get("XINLIAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = Path(__file__).resolve().parents[2] / "examples" / "contracts" / "token.py"
ROLE_ORG = {
    "producer": "org1",
    "inspector": "org2",
    "processor": "org2",
    "distributor": "org3",
    "retailer": "org3",
}


@dataclass
class Explorer:
    """The node's URL and the keys of the sample data the pages and searches look for."""

    url: str
    layout: NetworkLayout
    keys: dict[str, str] = field(default_factory=dict)
    node: Node | None = None


def _client(layout: NetworkLayout, url: str, name: str) -> Client:
    signer = Signer.from_file(layout.key_dir / f"{name}.key")
    return Client(url, key=signer, genesis=layout.genesis, timeout=30)


def _populate(layout: NetworkLayout, url: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    with _client(layout, url, "org1-writer") as c:
        digests = [hashlib.sha256(b"explorer file %d" % i).digest() for i in range(3)]
        (sent,) = anchor(c, digests, category="registration", submitter_ref="B-19")
        assert sent.receipt is not None and sent.receipt.ok, sent
        keys.update(digest=digests[1].hex(), tx=sent.hash.hex(), account=c.address or "")
        keys["height"] = str(sent.height)
        # Several transactions in one block: real Merkle paths with siblings.
        calls = [Call("kv", "put", {"key": f"explorer/{i}", "value": "v"}) for i in range(6)]
        sent_many = c.send_many(calls)
        assert all(r.receipt is not None and r.receipt.ok for r in sent_many), sent_many
        last = sent_many[-1]
        assert c.get_tx(last.hash).index > 0, "the batch did not share a block"
        keys.update(kv_tx=last.hash.hex(), kv_height=str(last.height))
    with _client(layout, url, "developer") as dev, _client(layout, url, "org2-writer") as bob:
        address, result = deploy(dev, TOKEN.read_text(), {"name": "T", "symbol": "T", "total": 99})
        assert result.receipt is not None and result.receipt.ok, result
        moved = bind(dev, address).transfer(to=bob.address, amount=7)  # type: ignore[attr-defined]
        keys.update(contract=address, call_tx=moved.hash.hex())
    chain = food_chain(19, lots=1, jars_per_case=2, cases=1, orgs=ROLE_ORG)
    roles: dict[str, set[str]] = defaultdict(set)
    prefixes: dict[str, set[str]] = defaultdict(set)
    for p in chain.parties:
        roles[p.org].add(p.role)
        prefixes[p.org].add(p.prefix)
    with _client(layout, url, "regulator") as c:
        for org in sorted(roles):
            r = sdk_trace.set_participant(c, org, sorted(roles[org]), sorted(prefixes[org]))
            assert r.receipt is not None and r.receipt.ok, r
    for p in chain.parties:
        with _client(layout, url, f"{p.org}-admin") as c:
            for location, name in p.locations:
                r = sdk_trace.register_location(c, location, name)
                assert r.receipt is not None and r.receipt.ok, r
    for capture in chain.captures:
        with _client(layout, url, f"{capture.org}-writer") as c:
            (r,) = sdk_trace.capture(c, capture.document)
            assert r.receipt is not None and r.receipt.ok, (capture.label, r)
    keys.update(epc=chain.lots[0], digital_link=chain.consumer_scan)
    return keys


@contextmanager
def _serving(layout: NetworkLayout) -> Iterator[tuple[str, Node]]:
    """Run the network's single node with its API on a free port; yield its URL and it."""
    with serving(layout) as live:
        yield live.url, live.node


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Explorer]:
    """A development network (1 validator, 50 ms blocks) served on a free port, with an
    evidence batch, a token contract and a captured sample supply chain."""
    root = tmp_path_factory.mktemp("explorer")
    layout = create_network(root / "net", nodes=1, block_interval_ms=50)
    with _serving(layout) as (url, node):
        yield Explorer(url, layout, _populate(layout, url), node)


@pytest.fixture(scope="module")
def sm_explorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Explorer]:
    """Like ``explorer`` on an ``sm`` chain (SM2, SM3), with one block of six kv writes."""
    root = tmp_path_factory.mktemp("sm-explorer")
    layout = create_network(root / "net", suite_name="sm", nodes=1, block_interval_ms=50)
    with _serving(layout) as (url, node), _client(layout, url, "org1-writer") as c:
        calls = [Call("kv", "put", {"key": f"sm/{i}", "value": "v"}) for i in range(6)]
        sent = c.send_many(calls)
        assert all(r.receipt is not None and r.receipt.ok for r in sent), sent
        last = sent[-1]
        keys = {"kv_tx": last.hash.hex(), "kv_height": str(last.height)}
        yield Explorer(url, layout, keys, node)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright; missing chromium fails in CI, skips elsewhere."""
    if shutil.which(CHROMIUM) is None:
        message = (
            f"chromium not found at {CHROMIUM}: install it with "
            "`apt-get install -y chromium` (Playwright's browser download is not used)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go (also copied to $XINLIAN_SCREENSHOTS when it is set)."""
    return tmp_path_factory.mktemp("explorer-screenshots")
