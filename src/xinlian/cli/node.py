"""``xinlian node``: run a node."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from xinlian.cli.common import fail
from xinlian.cli.service import install_stop_signals, run_async, running_node
from xinlian.node.chain import CommittedBlock
from xinlian.node.config import ConfigError, load_config
from xinlian.node.network import add_node
from xinlian.node.runtime import move_data_aside, running_pid
from xinlian.node.signlog import SignLogError
from xinlian.storage import StorageCorruptionError, StorageError, StorageLockedError


@click.group("node")
def node_group() -> None:
    """Run a node."""


@node_group.command("start")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The node's home (config.toml, genesis.json, node.key, data/).",
)
@click.option("--host", default=None, help="Listen address of the REST API [default: config].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="REST API port [default: config]; 0 picks a free port.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="Logging verbosity.",
)
@click.option("--quiet", is_flag=True, help="Do not print a line per committed block.")
@click.option(
    "--resync",
    is_flag=True,
    help="Move the database aside to data.damaged-<time> (kept, never deleted) and start "
    "empty, catching up from the peers; the signing record is kept.",
)
def start_cmd(
    home: Path, host: str | None, port: int | None, log_level: str, quiet: bool, resync: bool
) -> None:
    """Run the node of HOME with its REST API until Ctrl-C or SIGTERM."""
    if not (home / "config.toml").exists() and not (home / "genesis.json").exists():
        fail(
            f"{home} is not a node home (no config.toml or genesis.json); create one with "
            "`xinlian init`"
        )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if resync:
        pid = running_pid(home)
        if pid is not None:
            fail(f"node at {home} is already running (pid {pid}); stop it before --resync")
        aside = move_data_aside(load_config(home))
        if aside is not None:
            click.echo(f"moved the database to {aside}; starting empty and catching up", err=True)
    try:
        code = run_async(_start(home, host, port, quiet, resync))
    except StorageError as exc:
        _storage_failure(home, exc)
    except SignLogError as exc:
        fail(f"{exc}; the node did not start (it signs nothing without its signing record)")
    if code:
        sys.exit(code)


def _storage_failure(home: Path, exc: StorageError) -> None:
    """Print one ``error:`` line and what the operator can do; exit 1."""
    if isinstance(exc, StorageLockedError):
        pid = running_pid(home)
        if pid is not None:
            fail(f"node at {home} is already running (pid {pid}); stop it first")
        fail(f"node at {home} cannot start: {exc}")
    click.echo(f"error: {exc}", err=True)
    if isinstance(exc, StorageCorruptionError):
        click.echo(
            "hint: the node did not start, and changed nothing. Either restore "
            f"{home}/data from a backup, or re-sync from the peers with `xinlian node start "
            f"--home {home} --resync` (the damaged data is moved aside and kept; the signing "
            "record stays), or leave it as it is for investigation. See docs/operations.md.",
            err=True,
        )
    else:
        click.echo(
            "hint: nothing half-written was kept; free space or fix the disk, then start "
            "the node again (it resumes from its last committed block). See "
            "docs/operations.md.",
            err=True,
        )
    sys.exit(1)


async def _start(
    home: Path, host: str | None, port: int | None, quiet: bool, resync: bool = False
) -> int:
    stop = asyncio.Event()
    remove_signals = install_stop_signals(stop)
    try:
        async with running_node(home, host=host, port=port, resync=resync) as running:
            node = running.node
            click.echo(
                f"{node.config.name}: chain {node.chain.chain_id!r} "
                f"({node.chain.suite.name}) at height {node.chain.height}"
            )
            click.echo(f"REST API on {running.url}; Ctrl-C to stop")
            queue = node.subscribe()
            waiter = asyncio.create_task(_first(stop.wait(), node.failed.wait()))
            try:
                while not stop.is_set():
                    getter = asyncio.create_task(queue.get())
                    done, _ = await asyncio.wait(
                        {getter, waiter}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if getter not in done:
                        getter.cancel()
                        break
                    if not quiet:
                        click.echo(_block_line(getter.result()))
            finally:
                waiter.cancel()
                node.unsubscribe(queue)
            click.echo("stopping…", err=True)
    finally:
        remove_signals()
    if node.fatal_error is not None:
        raise StorageError(node.fatal_error)
    click.echo("stopped", err=True)
    return 0


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    """Return when the first of ``waits`` finishes (cancelling the others)."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _block_line(block: CommittedBlock) -> str:
    failed = sum(1 for r in block.result.receipts if r.status != 0)
    extra = f" ({failed} failed)" if failed else ""
    return f"block {block.header.height}  {len(block.txs)} txs{extra}  {block.hash.hex()[:16]}…"


@node_group.command("add")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".xinlian"),
    show_default=True,
    help="The network directory (genesis.json and node homes).",
)
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="REST API port.")
@click.option("--p2p-port", type=click.IntRange(1, 65535), required=True, help="Node port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option(
    "--observer",
    is_flag=True,
    help="A read-only follower: let it in through the existing nodes' configs; it never votes.",
)
def add_cmd(directory: Path, port: int, p2p_port: int, host: str, observer: bool) -> None:
    """Make a home for a new node of the network in --dir (keys, genesis, peers).

    The node becomes a validator when a governance proposal adds it; until then the
    validators refuse its connections. With --observer it is a read-only follower: the
    existing nodes' configs let its key in, and it never votes.
    """
    try:
        new = add_node(directory, api_port=port, p2p_port=p2p_port, host=host, observer=observer)
    except (ValueError, OSError, ConfigError) as exc:
        fail(str(exc))
    click.echo(f"Created {new.home} for {new.name}")
    click.echo(f"  signing key {new.public_key.hex()}")
    click.echo(f"  p2p key     {new.p2p_key.hex()}")
    if observer:
        click.echo("It is an observer: the nodes of this directory now list its p2p key in")
        click.echo("[p2p] observers. Restart those that are running, then start it:")
        click.echo(f"  xinlian node start --home {new.home}")
        click.echo("(On other machines, add the key to each validator's [p2p] observers.)")
        return
    click.echo("Next: an organisation admin proposes it, the others vote, then start it:")
    click.echo(f"  xinlian governance add-validator --node-home {new.home} --key <admin key file>")
    click.echo("  xinlian governance vote <id> --key <another organisation's admin key file>")
    click.echo(f"  xinlian node start --home {new.home}")
