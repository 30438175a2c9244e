"""The sample workload of ``xinlian up`` and the live block feed it prints.

Every second each organisation's writer puts a key in the ``kv`` app, and every few
seconds the first organisation's admin registers a new account, all through the SDK
against the node's REST API, so the user sees transactions flow into blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import click

from xinlian.cli.common import short
from xinlian.node.chain import CommittedBlock
from xinlian.node.runtime import Node
from xinlian.sdk import AsyncClient, Signer, XinlianError, read_key_file

#: Seconds between rounds of sample transactions.
TICK = 1.0
#: Every this many rounds the admin registers an account.
REGISTER_EVERY = 5


def _signers(key_dir: Path, suffix: str) -> list[tuple[str, Signer]]:
    out: list[tuple[str, Signer]] = []
    for path in sorted(key_dir.glob(f"*-{suffix}.key")):
        try:
            keypair, name = read_key_file(path)
        except XinlianError:
            continue
        out.append((name, Signer(keypair)))
    return out


async def run_workload(
    url: str, key_dir: Path, stop: asyncio.Event, say: Callable[[str], None]
) -> None:
    """Send sample transactions until ``stop`` is set (errors are reported, not fatal)."""
    writers = _signers(key_dir, "writer")
    admins = _signers(key_dir, "admin")
    if not writers:
        say(f"workload: no *-writer.key files in {key_dir}; not sending transactions")
        return
    clients = [(name, AsyncClient(url, key=signer)) for name, signer in writers]
    admin = (admins[0][0], AsyncClient(url, key=admins[0][1])) if admins else None
    suite = writers[0][1].suite.name
    round_ = 0
    run_id = time.strftime("%H%M%S")
    try:
        while not stop.is_set():
            for name, client in clients:
                org = name.removesuffix("-writer")
                key = f"demo/{org}/{run_id}-{round_}"
                try:
                    await client.send(
                        "kv",
                        "put",
                        {"key": key, "value": f"hello from {org} #{round_}"},
                        wait=False,
                    )
                except XinlianError as exc:
                    say(f"workload: {name}: {exc}")
                    client.reset_nonce()
            if admin is not None and round_ % REGISTER_EVERY == 0:
                fresh = Signer.generate(suite)
                try:
                    await admin[1].send(
                        "identity",
                        "register_account",
                        {
                            "public_key": fresh.public_key,
                            "name": f"demo-{run_id}-{round_}",
                            "roles": ["reader"],
                        },
                        wait=False,
                    )
                except XinlianError as exc:
                    say(f"workload: {admin[0]}: {exc}")
                    admin[1].reset_nonce()
            round_ += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=TICK)
    finally:
        for _, client in clients:
            await client.aclose()
        if admin is not None:
            await admin[1].aclose()


def describe_block(block: CommittedBlock) -> list[str]:
    """Lines describing a committed block and what its transactions did."""
    header = block.header
    n = len(block.txs)
    txs = f"{n} tx{'s' if n != 1 else ''}"
    lines = [
        click.style(f"block {header.height}", bold=True)
        + f"  {txs}  hash {short(block.hash)}  state {short(header.state_root)}"
    ]
    for env, receipt in zip(block.txs, block.result.receipts, strict=False):
        tx = env.stx.tx
        mark = (
            click.style("ok", fg="green")
            if receipt.status == 0
            else click.style("failed", fg="red")
        )
        detail = (
            ", ".join(
                f"{ev.type} " + " ".join(f"{k}={v}" for k, v in sorted(ev.attributes.items()))
                for ev in receipt.events
            )
            or receipt.error
        )
        lines.append(f"  {mark} {tx.target}.{tx.method} by {env.sender_address[:10]}…  {detail}")
    return lines


async def print_blocks(
    node: Node, stop: asyncio.Event, say: Callable[[str], None], max_blocks: int | None = None
) -> None:
    """Print every committed block until ``stop`` is set; with ``max_blocks``, set ``stop``
    after that many blocks."""
    queue = node.subscribe()
    seen = 0
    try:
        while not stop.is_set():
            getter = asyncio.ensure_future(queue.get())
            stopper = asyncio.ensure_future(stop.wait())
            done, pending = await asyncio.wait(
                {getter, stopper}, return_when=asyncio.FIRST_COMPLETED
            )
            for fut in pending:
                fut.cancel()
            if getter not in done:
                break
            for line in describe_block(getter.result()):
                say(line)
            seen += 1
            if max_blocks is not None and seen >= max_blocks:
                stop.set()
    finally:
        node.unsubscribe(queue)
