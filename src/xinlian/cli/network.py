"""``xinlian init`` (create a network) and ``xinlian up`` (a local network, running)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import click

from xinlian.cli.cluster import ClusterError, NodeProcess, node_processes, start_all, stop_all
from xinlian.cli.common import fail, short, status_line
from xinlian.cli.service import install_stop_signals, run_async
from xinlian.cli.workload import run_workload
from xinlian.node.chain import load_genesis
from xinlian.node.network import DEFAULT_ORGS, NetworkLayout, create_network
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
@click.option("--chain-id", default="xinlian-dev", show_default=True, help="The chain's id.")
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
    chain_id: str,
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
    if genesis_path.exists():
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
        click.echo(
            f"Restarting the network in {directory} (chain {genesis.chain_id!r}, "
            f"{genesis.suite}, {len(genesis.validators)} validators)"
        )
    else:
        layout = _create(
            directory,
            crypto or "ed25519",
            ",".join(DEFAULT_ORGS),
            "xinlian-dev",
            8545 if port is None else port,
            200,
            nodes=4 if nodes is None else nodes,
        )
        click.echo(f"Created a local network of {len(layout.node_homes)} nodes in {directory}")
        _describe(layout)
    processes = node_processes(directory)
    if not processes:
        fail(f"{directory} holds no node homes (node0/config.toml, …)")
    code = run_async(_up(processes, directory / "keys", not no_workload, max_blocks, duration))
    if code:
        raise SystemExit(code)


async def _up(
    processes: list[NodeProcess],
    key_dir: Path,
    workload: bool,
    max_blocks: int | None,
    duration: float | None,
) -> int:
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
        click.echo(f"Network is up: {len(processes)} validators")
        for node in processes:
            click.echo(f"  {node.name:<6} REST API {node.url}  p2p {node.p2p}  log {node.log_path}")
        click.echo(
            f"  OpenAPI   {url}/v1/openapi.json   WebSocket {url.replace('http', 'ws')}/v1/ws"
        )
        click.echo(f"  metrics   {url}/metrics")
        click.echo(f"  explorer  {url}/explorer/")
        click.echo(f"  keys      {key_dir}/")
        click.echo(f"  try       XINLIAN_URL={url} xinlian status")
        click.echo("Press Ctrl-C to stop.")
        tasks.append(asyncio.create_task(_print_blocks(url, stop, max_blocks)))
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


async def _print_blocks(url: str, stop: asyncio.Event, max_blocks: int | None) -> None:
    """Print every block the first node commits, from its WebSocket feed."""
    seen = 0
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
                n = block.tx_count
                click.echo(
                    click.style(f"block {block.height}", bold=True)
                    + f"  {n} tx{'s' if n != 1 else ''}  hash {short(block.hash)}"
                )
                for ev in block.events[:20]:
                    attrs = " ".join(f"{k}={v}" for k, v in sorted(ev.attributes.items()))
                    click.echo(f"  {ev.type} {attrs}")
                seen += 1
                if max_blocks is not None and seen >= max_blocks:
                    stop.set()
        finally:
            await feed.aclose()
