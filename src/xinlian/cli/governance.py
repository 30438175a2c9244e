"""``xinlian governance``: consortium decisions by vote of member organisations.

A proposal passes when admins of more than two thirds of the member organisations voted
for it (the proposer's organisation votes yes by proposing). Validator changes take
effect from the block after the one in which the proposal passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from xinlian.apps.governance import (
    AddValidatorParams,
    SetPowerParams,
    ValidatorKeyParams,
)
from xinlian.cli.common import (
    echo_json,
    fail,
    genesis_option,
    json_option,
    make_client,
    status_line,
    url_option,
)
from xinlian.codec import encode, to_builtins
from xinlian.node.keys import KeyFileError, read_key
from xinlian.sdk import XinlianError

KEY_OPTION = click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Key file of an organisation admin.",
)


@click.group("governance")
def governance_group() -> None:
    """Propose and vote on consortium changes (validators, organisations, roles)."""


def _send(url: str, genesis: Path | None, key: Path, method: str, args: dict[str, Any]) -> Any:
    try:
        with (
            make_client(url, genesis, key) as client,
            status_line(f"sending governance.{method} and waiting for its block…"),
        ):
            result = client.send("governance", method, args)
    except XinlianError as exc:
        fail(str(exc))
    receipt = result.receipt
    assert receipt is not None
    if not receipt.ok:
        fail(f"governance.{method} failed: {receipt.error or receipt.status.name}")
    return receipt.output


def _propose(
    url: str, genesis: Path | None, key: Path, action: str, params: object, as_json: bool
) -> None:
    pid = _send(url, genesis, key, "propose", {"action": action, "params": encode(params)})
    if as_json:
        echo_json({"id": pid, "action": action})
        return
    click.echo(f"proposal {pid} ({action}) opened; your organisation voted yes")
    click.echo(f"other organisations' admins vote with: xinlian governance vote {pid} --key …")


@governance_group.command("add-validator")
@KEY_OPTION
@click.option(
    "--node-home",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Home of the node to make a validator (its node.key and p2p.key are read).",
)
@click.option("--power", type=click.IntRange(1, 1_000_000), default=1, show_default=True)
@click.option("--name", default=None, help="Display name [default: the home's name].")
@url_option
@genesis_option
@json_option
def add_validator_cmd(
    key: Path,
    node_home: Path,
    power: int,
    name: str | None,
    url: str,
    genesis: Path | None,
    as_json: bool,
) -> None:
    """Propose to make the node of NODE_HOME a validator."""
    try:
        signing = read_key(node_home / "node.key")[0]
        p2p = read_key(node_home / "p2p.key")[0]
    except KeyFileError as exc:
        fail(str(exc))
    if p2p.suite != "ed25519":
        fail(f"{node_home / 'p2p.key'} must be an ed25519 key")
    params = AddValidatorParams(signing.public_key, p2p.public_key, power, name or node_home.name)
    _propose(url, genesis, key, "add_validator", params, as_json)


@governance_group.command("remove-validator")
@KEY_OPTION
@click.option("--public-key", required=True, help="The validator's signing key (hex).")
@url_option
@genesis_option
@json_option
def remove_validator_cmd(
    key: Path, public_key: str, url: str, genesis: Path | None, as_json: bool
) -> None:
    """Propose to remove a validator."""
    _propose(url, genesis, key, "remove_validator", ValidatorKeyParams(_hex(public_key)), as_json)


@governance_group.command("set-power")
@KEY_OPTION
@click.option("--public-key", required=True, help="The validator's signing key (hex).")
@click.option("--power", type=click.IntRange(1, 1_000_000), required=True)
@url_option
@genesis_option
@json_option
def set_power_cmd(
    key: Path, public_key: str, power: int, url: str, genesis: Path | None, as_json: bool
) -> None:
    """Propose a validator's new voting power."""
    _propose(url, genesis, key, "set_power", SetPowerParams(_hex(public_key), power), as_json)


@governance_group.command("vote")
@click.argument("proposal_id", type=click.IntRange(1))
@KEY_OPTION
@url_option
@genesis_option
@json_option
def vote_cmd(proposal_id: int, key: Path, url: str, genesis: Path | None, as_json: bool) -> None:
    """Vote yes on PROPOSAL_ID for your organisation."""
    status = _send(url, genesis, key, "vote", {"id": proposal_id})
    if as_json:
        echo_json({"id": proposal_id, "status": status})
    else:
        click.echo(f"proposal {proposal_id}: {status}")


@governance_group.command("show")
@click.argument("proposal_id", type=click.IntRange(1))
@url_option
@json_option
def show_cmd(proposal_id: int, url: str, as_json: bool) -> None:
    """Show a proposal and who voted for it."""
    try:
        with make_client(url) as client:
            proposal = client.query("governance", "get_proposal", {"id": proposal_id})
    except XinlianError as exc:
        fail(str(exc))
    if proposal is None:
        fail(f"no proposal {proposal_id}")
    doc = to_builtins(proposal)
    if as_json:
        echo_json(doc)
        return
    if isinstance(doc, list):  # array-encoded record: id, proposer, org, action, ...
        click.echo(f"proposal {doc[0]}: {doc[3]} by {doc[2]}  status {doc[6]}")
        click.echo(f"  yes: {', '.join(doc[5]) or '-'}")
    else:
        click.echo(str(doc))


@governance_group.command("validators")
@url_option
@json_option
def validators_cmd(url: str, as_json: bool) -> None:
    """List the validators of the next block."""
    try:
        with make_client(url) as client:
            vs = client.validators()
    except XinlianError as exc:
        fail(str(exc))
    if as_json:
        echo_json([to_builtins(v) for v in vs.validators])
        return
    for v in vs.validators:
        click.echo(f"{v.name:<12} power {v.power:<6} {v.public_key.hex()}")


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        fail(f"{text!r} is not hex")
