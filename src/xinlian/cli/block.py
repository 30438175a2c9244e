"""``xinlian block`` and ``xinlian status``: blocks and the node's state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from xinlian.cli.common import echo_json, fail, genesis_option, json_option, make_client, url_option


def _time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")


@click.group("block")
def block_group() -> None:
    """Look at blocks."""


@block_group.command("get")
@click.argument("height", default="latest")
@click.option("--no-verify", is_flag=True, help="Do not check the commit certificate.")
@url_option
@genesis_option
@json_option
def get_cmd(height: str, no_verify: bool, url: str, genesis: Path | None, as_json: bool) -> None:
    """Show the block at HEIGHT (a number or `latest`, the default) and check its commit."""
    ref: int | str
    if height == "latest":
        ref = "latest"
    else:
        try:
            ref = int(height)
        except ValueError:
            fail(f"height must be a number or 'latest', not {height!r}")
        if ref < 1:
            fail("block heights start at 1")
    with make_client(url, genesis) as client:
        block = client.get_block(ref, verify=not no_verify)
    if as_json:
        echo_json(
            {
                "height": block.height,
                "hash": block.hash,
                "header": block.header,
                "commit": block.commit,
                "txs": block.txs,
                "verified": block.verified,
            }
        )
        return
    h = block.header
    click.echo(f"block {block.height}  {block.hash.hex()}")
    click.echo(f"  time          {_time(h.time_ms)}")
    click.echo(f"  chain         {h.chain_id}")
    click.echo(f"  previous      {h.prev_hash.hex()}")
    click.echo(f"  state root    {h.state_root.hex()}")
    click.echo(f"  tx root       {h.tx_root.hex()}")
    click.echo(f"  receipts root {h.receipts_root.hex()}")
    click.echo(f"  proposer      {h.proposer.hex()}")
    sigs = len(block.commit.signatures)
    check = "verified" if block.verified else "not verified"
    click.echo(
        f"  commit        round {block.commit.round}, {sigs} signature"
        f"{'s' if sigs != 1 else ''} ({check})"
    )
    click.echo(f"  transactions  {len(block.txs)}")
    for tx_hash in block.txs:
        click.echo(f"    {tx_hash.hex()}")


@click.command("status")
@url_option
@json_option
def status_cmd(url: str, as_json: bool) -> None:
    """Show the node's chain, height, latest block and mempool."""
    with make_client(url) as client:
        st = client.status()
    if as_json:
        echo_json(
            {
                "chain_id": st.chain_id,
                "suite": st.suite,
                "genesis_hash": st.genesis_hash,
                "height": st.height,
                "latest_block_hash": st.latest_block_hash,
                "latest_time_ms": st.latest_time_ms,
                "state_root": st.state_root,
                "mempool_size": st.mempool_size,
                "node": st.node,
                "validator": st.validator,
                "version": st.version,
                "url": client.url,
            }
        )
        return
    click.echo(f"node      {st.node} at {client.url} (version {st.version})")
    click.echo(f"chain     {st.chain_id}  ({st.suite}, genesis {st.genesis_hash.hex()[:16]}…)")
    click.echo(f"height    {st.height}  at {_time(st.latest_time_ms)}")
    if st.latest_block_hash:
        click.echo(f"latest    {st.latest_block_hash.hex()}")
    click.echo(f"state     {st.state_root.hex()}")
    click.echo(f"mempool   {st.mempool_size} pending")
    cons = st.consensus
    if cons:
        role = "voting" if cons.get("voting") else "not a validator"
        click.echo(
            f"consensus height {cons.get('height')} round {cons.get('round')}  ({role}, "
            f"{cons.get('validators')} validators, {len(cons.get('peers', []))} peers connected)"
        )
