"""``xinlian init`` (create a network) and ``xinlian up`` (a development network, running)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click

from xinlian.cli.common import fail, status_line
from xinlian.cli.service import install_stop_signals, run_async, running_node
from xinlian.cli.workload import print_blocks, run_workload
from xinlian.node.chain import load_genesis
from xinlian.node.network import DEFAULT_ORGS, NetworkLayout, create_network

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


def _create(
    root: Path, crypto: str, orgs: str, chain_id: str, port: int, block_interval_ms: int
) -> NetworkLayout:
    if root.exists() and not root.is_dir():
        fail(f"{root} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / "genesis.json").exists():
        fail(f"{root} is not empty and holds no network; choose an empty or new directory")
    org_ids = _orgs(orgs)
    with status_line(f"Creating keys and genesis ({crypto}, {len(org_ids)} organisations)…"):
        return create_network(
            root,
            suite_name=crypto,
            chain_id=chain_id,
            orgs=org_ids,
            nodes=1,
            base_port=port,
            block_interval_ms=block_interval_ms,
        )


def _describe(layout: NetworkLayout) -> None:
    click.echo(f"  genesis   {layout.genesis}")
    for home, port in zip(layout.node_homes, layout.api_ports, strict=True):
        click.echo(f"  node home {home}  (REST API port {port})")
    keys = sorted(p.name for p in layout.key_dir.glob("*.key"))
    click.echo(f"  keys      {layout.key_dir}/  ({', '.join(keys)})")


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
    "--port",
    type=click.IntRange(1, 65535),
    default=8545,
    show_default=True,
    help="REST API port of the node.",
)
@click.option(
    "--block-interval-ms",
    type=click.IntRange(10, 60_000),
    default=200,
    show_default=True,
    help="Shortest time between blocks.",
)
def init_cmd(
    directory: Path, crypto: str, orgs: str, chain_id: str, port: int, block_interval_ms: int
) -> None:
    """Create a new network in DIRECTORY (default .xinlian): genesis, keys, node home.

    Each organisation gets admin, writer and reader accounts; a regulator account holds
    the auditor role. Start the node with `xinlian node start --home DIRECTORY/node0`.
    """
    layout = _create(directory, crypto, orgs, chain_id, port, block_interval_ms)
    click.echo(f"Created network {chain_id!r} ({crypto}) in {directory}")
    _describe(layout)
    click.echo("Next:")
    click.echo(f"  xinlian node start --home {layout.node_homes[0]}")
    click.echo(f"  xinlian status --url http://127.0.0.1:{layout.api_ports[0]}")


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
    "--crypto",
    type=SUITES,
    default=None,
    help="Crypto suite for a new network [default: ed25519]; an existing network keeps its own.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="REST API port [default: 8545 for a new network, else the node's config]; "
    "0 picks a free port.",
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
    crypto: str | None,
    port: int | None,
    no_workload: bool,
    max_blocks: int | None,
    duration: float | None,
) -> None:
    """Run a development network: create it if needed, start the node and its API, and
    send a sample workload so you can watch blocks being committed. Ctrl-C stops it.
    """
    genesis_path = directory / "genesis.json"
    if genesis_path.exists():
        try:
            genesis = load_genesis(genesis_path.read_bytes())
        except OSError as exc:
            fail(f"cannot read {genesis_path}: {exc.strerror or exc}")
        if crypto is not None and genesis.suite != crypto:
            click.echo(
                f"note: {directory} holds an existing {genesis.suite} network; "
                f"--crypto {crypto} is ignored",
                err=True,
            )
        click.echo(
            f"Restarting the network in {directory} (chain {genesis.chain_id!r}, {genesis.suite})"
        )
    else:
        layout = _create(
            directory,
            crypto or "ed25519",
            ",".join(DEFAULT_ORGS),
            "xinlian-dev",
            8545 if port in (None, 0) else port,
            200,
        )
        click.echo(f"Created a development network in {directory}")
        _describe(layout)
    home = directory / "node0"
    if not (home / "config.toml").exists():
        fail(f"{home} is not a node home (no config.toml)")
    code = run_async(_up(home, directory / "keys", port, not no_workload, max_blocks, duration))
    if code:
        raise SystemExit(code)


async def _up(
    home: Path,
    key_dir: Path,
    port: int | None,
    workload: bool,
    max_blocks: int | None,
    duration: float | None,
) -> int:
    stop = asyncio.Event()
    remove_signals = install_stop_signals(stop)
    tasks: list[asyncio.Task[None]] = []
    try:
        async with running_node(home, port=port) as running:
            node = running.node
            click.echo(f"Node {node.config.name} is up at height {node.chain.height}")
            click.echo(f"  REST API  {running.url}   (OpenAPI: {running.url}/v1/openapi.json)")
            click.echo(f"  WebSocket ws://{running.host}:{running.port}/v1/ws")
            click.echo(f"  metrics   {running.url}/metrics")
            click.echo(f"  keys      {key_dir}/")
            click.echo(f"  try       XINLIAN_URL={running.url} xinlian status")
            click.echo("Press Ctrl-C to stop.")
            tasks.append(asyncio.create_task(print_blocks(node, stop, click.echo, max_blocks)))
            if workload:
                tasks.append(
                    asyncio.create_task(
                        run_workload(running.url, key_dir, stop, lambda m: click.echo(m, err=True))
                    )
                )
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
        remove_signals()
    click.echo("Stopped cleanly; run `xinlian up` again to continue this chain.", err=True)
    return 0
