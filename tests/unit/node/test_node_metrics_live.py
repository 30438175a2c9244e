"""Every metric docs/api.md advertises is served, and moves under load unless the docs
name the only condition under which it moves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from xinlian.sdk import Call, Client, Signer

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
ROW = re.compile(r"^\| `(xinlian_[a-z0-9_]+)(?:\{[a-z_]+\})?` \| (\w+) \| [^|]+ \| ([^|]+) \|$")


def documented() -> dict[str, tuple[str, str]]:
    """Metric name (as documented, counters with ``_total``) -> (type, when it moves)."""
    rows = {}
    for line in API_DOC.read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3).strip())
    return rows


def scrape(url: str) -> dict[str, float]:
    """Documented name -> a number that changes when the metric moves: a gauge's value,
    a counter's total over its labels, a histogram's count (``name``) and sum
    (``name:sum``). ``_created`` timestamps are left out."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name.endswith("_created"):
            continue
        if family.type == "counter":
            out[family.name + "_total"] = sum(
                s.value for s in family.samples if s.name.endswith("_total")
            )
        elif family.type == "histogram":
            out[family.name] = sum(s.value for s in family.samples if s.name.endswith("_count"))
            out[family.name + ":sum"] = sum(
                s.value for s in family.samples if s.name.endswith("_sum")
            )
        else:
            out[family.name] = sum(s.value for s in family.samples)
    return out


def test_the_docs_list_exactly_the_served_metrics(live_node: Any) -> None:
    served = {name for name in scrape(live_node.url) if ":" not in name}
    assert documented(), "no metrics table found in docs/api.md"
    assert served == set(documented())


def test_every_advertised_metric_moves_under_load(live_node: Any) -> None:
    url, keys = live_node.url, live_node.layout.key_dir
    before = scrape(url)
    gapped = Signer.from_file(keys / "org3-writer.key")
    writer = Signer.from_file(keys / "org2-writer.key")
    developer = Signer.from_file(keys / "developer.key")
    with Client(url, key=gapped, timeout=30) as c:
        nonce = c.account(gapped.address).nonce
        # A nonce one ahead waits in the mempool until the gap is filled.
        ahead = gapped.build(
            chain_id=c.chain()[0],
            nonce=nonce + 1,
            target="kv",
            method="put",
            args={"key": "metrics/ahead", "value": "1"},
            expiry=10**9,
            gas_limit=200_000,
        )
        r = httpx.post(f"{url}/v1/transactions", json={"tx": ahead.raw.hex()}, timeout=30)
        assert r.status_code == 202, r.text
        during = scrape(url)
        # The same bytes again: refused as a duplicate.
        r = httpx.post(f"{url}/v1/transactions", json={"tx": ahead.raw.hex()}, timeout=30)
        assert r.status_code == 409 and r.json()["reason"] == "duplicate"
        with Client(url, key=writer, timeout=30) as w:
            results = w.send_many(
                [Call("kv", "put", {"key": f"metrics/{i}", "value": str(i)}) for i in range(40)],
                timeout=60,
            )
            assert all(r.ok for r in results)
        # A call admission cannot judge: the contract checker refuses it when it runs.
        with Client(url, key=developer, timeout=30) as dev:
            source = "from contract import export\n\n@export\ndef f() -> int:\n    return 1.5\n"
            failed = dev.send(
                "contracts",
                "deploy",
                {"source": source, "init": {}, "upgrade_policy": "immutable"},
                gas_limit=5_000_000,
                timeout=60,
            )
            assert failed.receipt is not None and not failed.receipt.ok
        gap = c.send("kv", "put", {"key": "metrics/gap", "value": "0"}, timeout=60)
        assert gap.nonce == nonce
        c.wait_for(ahead.hash, timeout=60)
    after = scrape(url)
    assert during["xinlian_mempool_size"] >= 1
    assert after["xinlian_block_commit_seconds:sum"] > before["xinlian_block_commit_seconds:sum"]
    still: list[str] = []
    for name, (_, moves) in documented().items():
        if moves.startswith("only "):
            assert name in after  # served, and documented as conditional
            continue
        moved = after[name] != before[name] or during[name] != before[name]
        if not moved:
            still.append(name)
    assert still == [], f"advertised as moving under load but did not: {still}"
