"""``xinlian init`` (create a network) and ``xinlian up`` (a local network, running)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

import click

from xinlian.cli.cluster import (
    ClusterError,
    NodeProcess,
    busy_ports,
    node_processes,
    start_all,
    stop_all,
)
from xinlian.cli.common import fail, short, status_line
from xinlian.cli.service import install_stop_signals, run_async
from xinlian.cli.workload import run_workload
from xinlian.node.chain import load_genesis
from xinlian.node.keys import KeyFileError, read_key
from xinlian.node.network import DEFAULT_ORGS, NetworkLayout, create_network, default_chain_id
from xinlian.sdk import AsyncClient, XinlianError

SUITES = click.Choice(["ed25519", "sm"])


def _orgs(text: str) -> tuple[str, ...]:
    orgs = tuple(o.strip() for o in text.split(",") if o.strip())
    if not orgs:
        fail("--orgs needs at least one organisation id, e.g. --orgs org1,org2,org3")
    for org in orgs:
        if not org.isidentifier() or len(org) > 64:
            fail(
                f"organisation id {org!r} must be 1-64 letters, digits or _ (not starting "
                "with a digit)"
            )
    if len(set(orgs)) != len(orgs):
        fail("--orgs lists an organisation twice")
    return orgs


def _free_ports(count: int) -> list[tuple[int, int]]:
    """``count`` (API, p2p) port pairs that are free on 127.0.0.1 right now."""
    socks: list[socket.socket] = []
    try:
        for _ in range(2 * count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        numbers = [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()
    return [(numbers[2 * i], numbers[2 * i + 1]) for i in range(count)]


def _create(
    root: Path,
    crypto: str,
    orgs: str,
    chain_id: str,
    port: int,
    block_interval_ms: int,
    *,
    nodes: int = 1,
    p2p_port: int = 26656,
    hosts: list[str] | None = None,
) -> NetworkLayout:
    if root.exists() and not root.is_dir():
        fail(f"{root} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / "genesis.json").exists():
        fail(f"{root} is not empty and holds no network; choose an empty or new directory")
    org_ids = _orgs(orgs)
    if hosts is not None and len(hosts) != nodes:
        fail(f"--hosts lists {len(hosts)} addresses for {nodes} nodes; give one per node")
    ports = _free_ports(nodes) if port == 0 else None
    with status_line(
        f"Creating keys and genesis ({crypto}, {len(org_ids)} organisations, {nodes} nodes)…"
    ):
        return create_network(
            root,
            suite_name=crypto,
            chain_id=chain_id,
            orgs=org_ids,
            nodes=nodes,
            base_port=port,
            p2p_base_port=p2p_port,
            hosts=hosts,
            ports=ports,
            block_interval_ms=block_interval_ms,
        )


def _describe(layout: NetworkLayout) -> None:
    click.echo(f"  genesis   {layout.genesis}")
    for home, url, p2p in zip(layout.node_homes, layout.api_urls(), layout.p2p_ports, strict=True):
        click.echo(f"  node home {home}  (REST API {url}, p2p port {p2p})")
    keys = sorted(p.name for p in layout.key_dir.glob("*.key"))
    click.echo(f"  keys      {layout.key_dir}/  ({', '.join(keys)})")


def _hosts(text: str | None) -> list[str] | None:
    if text is None:
        return None
    hosts = [h.strip() for h in text.split(",") if h.strip()]
    for host in hosts:
        if any(c in host for c in " /@:"):
            fail(f"--hosts entry {host!r} is not a host name or IPv4 address")
    return hosts


@click.command("init")
@click.argument(
    "directory", type=click.Path(file_okay=False, path_type=Path), default=Path(".xinlian")
)
@click.option(
    "--crypto",
    type=SUITES,
    default="ed25519",
    show_default=True,
    help="Crypto suite of the chain (sm: SM2/SM3/SM4).",
)
@click.option(
    "--orgs",
    default=",".join(DEFAULT_ORGS),
    show_default=True,
    help="Comma-separated member organisation ids.",
)
@click.option(
    "--chain-id",
    default=None,
    help="The chain's id [default: xinlian-dev for ed25519, xinlian-dev-sm for sm].",
)
@click.option(
    "--nodes",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Number of validator nodes.",
)
@click.option(
    "--hosts",
    default=None,
    help="Comma-separated address of each node's machine (one per node); nodes then listen "
    "on all interfaces and dial each other there. Default: all on 127.0.0.1.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8545,
    show_default=True,
    help="REST API port of the first node (nodes on one host count up from it).",
)
@click.option(
    "--p2p-port",
    type=click.IntRange(1, 65535),
    default=26656,
    show_default=True,
    help="Node-to-node port of the first node (nodes on one host count up from it).",
)
@click.option(
    "--block-interval-ms",
    type=click.IntRange(10, 60_000),
    default=200,
    show_default=True,
    help="Pause after each block before the next height starts.",
)
def init_cmd(
    directory: Path,
    crypto: str,
    orgs: str,
    chain_id: str | None,
    nodes: int,
    hosts: str | None,
    port: int,
    p2p_port: int,
    block_interval_ms: int,
) -> None:
    """Create a new network in DIRECTORY (default .xinlian): genesis, keys, node homes.

    Each organisation gets admin, writer and reader accounts; a regulator account holds
    the auditor role. Each node home (config.toml, genesis.json, node.key, p2p.key) can
    be copied to its own machine; start it there with `xinlian node start --home HOME`.
    """
    chain_id = chain_id or default_chain_id(crypto)
    layout = _create(
        directory,
        crypto,
        orgs,
        chain_id,
        port,
        block_interval_ms,
        nodes=nodes,
        p2p_port=p2p_port,
        hosts=_hosts(hosts),
    )
    click.echo(f"Created network {chain_id!r} ({crypto}, {nodes} nodes) in {directory}")
    _describe(layout)
    click.echo("Next:")
    if nodes == 1 and hosts is None:
        click.echo(f"  xinlian node start --home {layout.node_homes[0]}")
    elif hosts is None:
        click.echo(f"  xinlian up --dir {directory}        (all nodes on this machine)")
    else:
        click.echo("  copy each node home to its machine, then on each run:")
        click.echo("  xinlian node start --home <node home>")
    click.echo(f"  xinlian status --url {layout.api_urls()[0]}")


@click.command("up")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".xinlian"),
    show_default=True,
    help="Network directory; created on first use, reused (with its data) after.",
)
@click.option(
    "--nodes",
    type=click.IntRange(1, 32),
    default=None,
    help="Validators of a new network [default: 4]; an existing network keeps its own.",
)
@click.option(
    "--crypto",
    type=SUITES,
    default=None,
    help="Crypto suite for a new network [default: ed25519]; an existing network keeps its own.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="REST API port of the first node of a new network [default: 8545, then 8546, …]; "
    "0 picks free ports. An existing network keeps its ports.",
)
@click.option("--no-workload", is_flag=True, help="Do not send sample transactions.")
@click.option(
    "--blocks",
    "max_blocks",
    type=click.IntRange(1),
    default=None,
    help="Exit after this many blocks.",
)
@click.option(
    "--duration",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Exit after this many seconds.",
)
def up_cmd(
    directory: Path,
    nodes: int | None,
    crypto: str | None,
    port: int | None,
    no_workload: bool,
    max_blocks: int | None,
    duration: float | None,
) -> None:
    """Run a local network: create it if needed (4 validators by default), start every
    node in its own process, and send a sample workload so you can watch blocks being
    committed. Ctrl-C stops every node cleanly; run it again to continue the chain.
    """
    genesis_path = directory / "genesis.json"
    genesis_path_existed = genesis_path.exists()
    if genesis_path_existed:
        try:
            genesis = load_genesis(genesis_path.read_bytes())
        except OSError as exc:
            fail(f"cannot read {genesis_path}: {exc.strerror or exc}")
        for given, name, kept in (
            (crypto, "--crypto", genesis.suite),
            (nodes, "--nodes", len(genesis.validators)),
        ):
            if given is not None and given != kept:
                click.echo(
                    f"note: {directory} holds an existing network; {name} {given} is ignored",
                    err=True,
                )
        chain_id = genesis.chain_id
        click.echo(f"Restarting the network in {directory} (chain {chain_id!r}, {genesis.suite})")
    else:
        chain_id = default_chain_id(crypto or "ed25519")
        layout = _create(
            directory,
            crypto or "ed25519",
            ",".join(DEFAULT_ORGS),
            chain_id,
            8545 if port is None else port,
            200,
            nodes=4 if nodes is None else nodes,
        )
        click.echo(f"Created a local network of {len(layout.node_homes)} nodes in {directory}")
        _describe(layout)
    processes = node_processes(directory)
    if not processes:
        fail(f"{directory} holds no node homes (node0/config.toml, …)")
    with network_lock(directory, chain_id, processes[0].url):
        busy = busy_ports(processes)
        if busy:
            fail(
                f"{busy[0]} is in use{f' (and {len(busy) - 1} more)' if len(busy) > 1 else ''}"
                "; is another network or node running? Stop it, or give this network other "
                "ports"
            )
        first = None if genesis_path_existed else 1  # a new chain: show it from block 1
        run = _up(processes, directory, not no_workload, max_blocks, duration, first)
        code = run_async(run)
    if code:
        raise SystemExit(code)


#: The file in a network directory that ``xinlian up`` holds while it runs.
LOCK_FILE = "up.lock"


@contextlib.contextmanager
def network_lock(directory: Path, chain_id: str, url: str) -> Iterator[None]:
    """Hold ``directory/up.lock`` while the block runs; refuse if another ``xinlian up``
    holds it, naming that network.

    The lock is an exclusive ``flock`` that the operating system drops when its process
    ends, so the file a crashed run leaves behind never blocks the next one; the file's
    content (pid, chain, URL) only serves the message.
    """
    path = directory / LOCK_FILE
    try:
        handle = path.open("a+")
    except OSError as exc:
        fail(f"cannot create {path}: {exc.strerror or exc}")
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            fail(_running_elsewhere(directory, handle.read()))
        handle.seek(0)
        handle.truncate()
        info = {"pid": os.getpid(), "chain_id": chain_id, "url": url}
        handle.write(json.dumps(info) + "\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()  # the OS drops the lock when the file closes


def _running_elsewhere(directory: Path, text: str) -> str:
    try:
        info = json.loads(text)
        details = (
            f" (chain {info['chain_id']!r}, REST API {info['url']}, "
            f"`xinlian up` process {int(info['pid'])})"
        )
    except (ValueError, KeyError, TypeError):
        details = ""
    return (
        f"the network in {directory} is already running{details}; stop it first (Ctrl-C "
        "in its terminal), or use it: it is up"
    )


async def _roles(processes: list[NodeProcess], directory: Path) -> dict[str, str]:
    """Each node's role: ``validator`` if its signing key is in the validator set the
    first node reports (the genesis set if it cannot answer), else ``observer``."""
    keys: dict[str, bytes] = {}
    for node in processes:
        with contextlib.suppress(KeyFileError):
            keys[node.name] = read_key(node.home / "node.key")[0].public_key
    try:
        async with AsyncClient(processes[0].url) as client:
            current = {v.public_key for v in (await client.validators()).validators}
    except XinlianError:
        genesis = load_genesis((directory / "genesis.json").read_bytes())
        current = {bytes.fromhex(v.public_key) for v in genesis.validators}
    return {n.name: "validator" if keys.get(n.name) in current else "observer" for n in processes}


def _count(roles: dict[str, str]) -> str:
    parts = []
    for role in ("validator", "observer"):
        n = sum(1 for r in roles.values() if r == role)
        if n or role == "validator":
            parts.append(f"{n} {role}{'s' if n != 1 else ''}")
    return ", ".join(parts)


async def _up(
    processes: list[NodeProcess],
    directory: Path,
    workload: bool,
    max_blocks: int | None,
    duration: float | None,
    first_height: int | None = None,
) -> int:
    key_dir = directory / "keys"
    stop = asyncio.Event()
    remove_signals = install_stop_signals(stop)
    tasks: list[asyncio.Task[None]] = []
    try:
        with status_line(f"Starting {len(processes)} node processes…"):
            await start_all(processes)
    except ClusterError as exc:
        remove_signals()
        fail(str(exc))
    try:
        url = processes[0].url
        roles = await _roles(processes, directory)
        click.echo(f"Network is up: {_count(roles)}")
        for node in processes:
            role = "  (observer)" if roles[node.name] == "observer" else ""
            click.echo(
                f"  {node.name:<6} REST API {node.url}  p2p {node.p2p}  log {node.log_path}{role}"
            )
        click.echo(
            f"  OpenAPI   {url}/v1/openapi.json   WebSocket {url.replace('http', 'ws')}/v1/ws"
        )
        click.echo(f"  metrics   {url}/metrics")
        click.echo(f"  explorer  {url}/explorer/")
        click.echo(f"  keys      {key_dir}/")
        click.echo(f"  try       XINLIAN_URL={url} xinlian status")
        click.echo("Press Ctrl-C to stop.")
        tasks.append(asyncio.create_task(_print_blocks(url, stop, max_blocks, first_height)))
        if workload:
            tasks.append(
                asyncio.create_task(
                    run_workload(url, key_dir, stop, lambda m: click.echo(m, err=True))
                )
            )
        tasks.append(asyncio.create_task(_watch(processes, stop)))
        if duration is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=duration)
            stop.set()
        else:
            await stop.wait()
        click.echo("Stopping…", err=True)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        tasks.clear()
        for result in results:
            if isinstance(result, Exception):
                click.echo(f"warning: {type(result).__name__}: {result}", err=True)
    finally:
        for task in tasks:
            task.cancel()
        await stop_all(processes)
        remove_signals()
    click.echo("Stopped cleanly; run `xinlian up` again to continue this chain.", err=True)
    return 0


async def _watch(processes: list[NodeProcess], stop: asyncio.Event) -> None:
    """Report a node process that dies (the rest keep going while a quorum is up)."""
    reported: set[str] = set()
    while not stop.is_set():
        for node in processes:
            if not node.alive() and node.name not in reported:
                reported.add(node.name)
                click.echo(f"warning: {node.name} exited: {node.last_error()}", err=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def _show_event(kind: str, attributes: Mapping[str, str]) -> None:
    attrs = " ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
    click.echo(f"  {kind} {attrs}")


async def _print_blocks(
    url: str, stop: asyncio.Event, max_blocks: int | None, first_height: int | None = None
) -> None:
    """Print every block the first node commits, from its WebSocket feed.

    The feed starts when the subscription does, and a busy machine may commit the first
    blocks before that: with ``first_height``, blocks from there up to the first one pushed
    are fetched over REST and printed first, so none is skipped.
    """
    seen = 0
    next_height = first_height

    def show(height: int, tx_count: int, block_hash: bytes) -> None:
        nonlocal seen
        click.echo(
            click.style(f"block {height}", bold=True)
            + f"  {tx_count} tx{'s' if tx_count != 1 else ''}  hash {short(block_hash)}"
        )
        seen += 1
        if max_blocks is not None and seen >= max_blocks:
            stop.set()

    async with AsyncClient(url) as client:
        feed = client.blocks()
        try:
            while not stop.is_set():
                getter = asyncio.ensure_future(anext(feed))
                stopper = asyncio.ensure_future(stop.wait())
                done, pending = await asyncio.wait(
                    {getter, stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                for fut in pending:
                    fut.cancel()
                # Let a cancelled ``anext`` finish unwinding: closing the feed while it is
                # still running raises "aclose(): asynchronous generator is already running".
                await asyncio.gather(*pending, return_exceptions=True)
                if getter not in done:
                    break
                try:
                    block = getter.result()
                except (StopAsyncIteration, XinlianError) as exc:
                    click.echo(f"warning: block feed ended: {exc}", err=True)
                    break
                while next_height is not None and next_height < block.height:
                    if stop.is_set():
                        return
                    missed = await client.get_block(next_height, verify=False)
                    show(missed.height, len(missed.txs), missed.hash)
                    shown = 0
                    for tx_hash in missed.txs:
                        receipt = (await client.get_tx(tx_hash, verify=False)).receipt
                        for tx_event in receipt.events if receipt is not None else []:
                            if shown < 20:
                                _show_event(tx_event.type, tx_event.attributes)
                            shown += 1
                    next_height += 1
                if stop.is_set() or (next_height is not None and block.height < next_height):
                    continue
                next_height = block.height + 1
                show(block.height, block.tx_count, block.hash)
                for ev in block.events[:20]:
                    _show_event(ev.type, ev.attributes)
        finally:
            await feed.aclose()
