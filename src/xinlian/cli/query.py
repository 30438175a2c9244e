"""``xinlian query``: read state (with proofs), call read-only methods, inspect accounts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from xinlian.cli.common import (
    HEX_PREFIX,
    echo_json,
    fail,
    genesis_option,
    json_option,
    make_client,
    parse_args_json,
    short,
    show_value,
    url_option,
)
from xinlian.cli.tx import ARGS_HELP
from xinlian.codec import to_builtins
from xinlian.crypto import address_of, get_suite
from xinlian.sdk import read_key_file

_ADDRESS = re.compile(r"^(0x)?[0-9a-fA-F]{40}$")


@click.group("query")
def query_group() -> None:
    """Read state with proofs, call read-only methods, look up accounts."""


@query_group.command("state")
@click.argument("key")
@click.option(
    "--height",
    type=click.IntRange(0),
    default=None,
    help="Read the state after this block [default: latest].",
)
@click.option("--no-verify", is_flag=True, help="Do not check the proof (not recommended).")
@url_option
@genesis_option
@json_option
def state_cmd(
    key: str, height: int | None, no_verify: bool, url: str, genesis: Path | None, as_json: bool
) -> None:
    """Read the full state KEY (e.g. kv/mykey; "hex:..." for a binary key), checking its
    proof against a certified block header."""
    raw_key: bytes
    if key.startswith(HEX_PREFIX):
        try:
            raw_key = bytes.fromhex(key[len(HEX_PREFIX) :])
        except ValueError:
            fail(f"{key!r} is not valid hex after 'hex:'")
    else:
        raw_key = key.encode("utf-8")
    if not raw_key:
        fail("the key is empty")
    with make_client(url, genesis) as client:
        entry = client.get_state_entry(raw_key, height, verify=not no_verify)
    if as_json:
        echo_json(
            {
                "key": entry.key.hex(),
                "key_text": entry.key.decode("utf-8", errors="replace"),
                "height": entry.height,
                "value": None if entry.value is None else entry.value.hex(),
                "value_text": entry.text,
                "state_root": entry.state_root.hex(),
                "block_hash": entry.block_hash.hex(),
                "verified": entry.verified,
            }
        )
        return
    click.echo(f"{key} = {show_value(entry.value)}")
    if entry.verified:
        what = "absence" if entry.value is None else "value"
        click.echo(
            click.style("verified", fg="green")
            + f": the {what} is proven against state root {short(entry.state_root)} of "
            f"block {entry.height} ({short(entry.block_hash)}), whose commit is signed by "
            "more than 2/3 of the validators' power"
        )
    else:
        click.echo(
            click.style("not verified", fg="yellow")
            + f" (state after block {entry.height}, as the node reports it)"
        )


@query_group.command("call")
@click.argument("target")
@click.argument("method")
@click.option("--args", "args_text", default=None, help=ARGS_HELP)
@url_option
@json_option
def call_cmd(target: str, method: str, args_text: str | None, url: str, as_json: bool) -> None:
    """Run the read-only METHOD of TARGET (e.g. `kv get --args '{"key": "a"}'`)."""
    args = parse_args_json(args_text)
    with make_client(url) as client:
        result = client.query(target, method, args)
    if as_json or not isinstance(result, str):
        click.echo(json.dumps(to_builtins(result), indent=2, ensure_ascii=False))
    else:
        click.echo(result)


def _address(text: str) -> str:
    if _ADDRESS.match(text):
        return text.lower().removeprefix("0x")
    path = Path(text)
    if path.is_file():
        keypair, _ = read_key_file(path)
        return address_of(get_suite(keypair.suite), keypair.public_key)
    fail(f"{text!r} is neither an address (40 hex digits) nor a key file")


@query_group.command("account")
@click.argument("address")
@url_option
@json_option
def account_cmd(address: str, url: str, as_json: bool) -> None:
    """Show the account ADDRESS (40 hex digits, or a key file): nonce, organisation, roles."""
    addr = _address(address)
    with make_client(url) as client:
        info = client.account(addr)
    if as_json:
        doc: dict[str, Any] = {
            "address": info.address,
            "nonce": info.nonce,
            "registered": info.registered,
        }
        if info.registered:
            doc.update(
                {
                    "public_key": (info.public_key or b"").hex(),
                    "name": info.name,
                    "org": info.org,
                    "roles": info.roles,
                    "active": info.active,
                }
            )
        echo_json(doc)
        return
    click.echo(f"account {info.address}")
    click.echo(f"  next nonce {info.nonce}")
    if not info.registered:
        click.echo("  not registered (its transactions are refused)")
        return
    click.echo(f"  name       {info.name}")
    click.echo(f"  org        {info.org}")
    click.echo(f"  roles      {', '.join(info.roles) or '(none)'}")
    click.echo(f"  active     {'yes' if info.active else 'no (deactivated)'}")
