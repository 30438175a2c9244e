"""``xinlian contract``: deploy, call and query contracts, read their events and code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from xinlian.cli.common import (
    echo_json,
    fail,
    json_option,
    make_client,
    parse_args_json,
    status_line,
    url_option,
)
from xinlian.cli.tx import NO_SIMULATE_HELP, _receipt_lines, result_json, simulate_or_fail
from xinlian.codec import to_builtins
from xinlian.protocol.contracts import POLICIES, is_contract_address
from xinlian.sdk import TxResult
from xinlian.sdk.contracts import client_source, events, get_code, get_info, query


@click.group("contract")
def contract_group() -> None:
    """Deploy Python contracts, call and query them, read their events.

    \b
      xinlian contract deploy --key keys/developer.key examples/contracts/token.py \\
          --init '{"name": "Bolt", "symbol": "BLT", "total": 1000000}'
      xinlian contract call --key keys/developer.key <address> transfer \\
          --args '{"to": "<address>", "amount": 5}'
      xinlian contract query <address> balance_of --args '{"owner": "<address>"}'
      xinlian contract events <address> Transfer
      xinlian contract info <address>
      xinlian contract client <address> > token_client.py

    \b
    Upgrading a contract deployed with --upgrade-policy governance:
      xinlian contract propose-upgrade --key keys/org1-admin.key <address> token_v2.py
      (admins of the other organisations vote: xinlian tx send ... governance vote)
      xinlian contract upgrade --key keys/developer.key <address> token_v2.py
    """


def _key_option(fn: Any) -> Any:
    return click.option(
        "--key",
        "key",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        required=True,
        help="Key file of the sending account.",
    )(fn)


def _gas_option(fn: Any) -> Any:
    return click.option(
        "--gas", "gas", type=click.IntRange(1, 2**63), default=None, help="Gas limit."
    )(fn)


def _address(value: str) -> str:
    value = value.lower()
    if not is_contract_address(value):
        fail(f"{value!r} is not a contract address ('c' and 40 hex digits)")
    return value


def _show(result: TxResult, as_json: bool, title: str) -> None:
    if as_json:
        echo_json(result_json(result))
    else:
        click.echo(f"{title}  tx {result.hash.hex()}  block {result.height}")
        if result.receipt is not None:
            for line in _receipt_lines(result.receipt):
                click.echo(line)
    if result.receipt is not None and not result.receipt.ok:
        raise click.exceptions.Exit(1)


@contract_group.command("deploy")
@_key_option
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--init", "init", default=None, help="Arguments of init as JSON (or @file).")
@click.option(
    "--upgrade-policy",
    type=click.Choice(POLICIES),
    default="immutable",
    show_default=True,
    help="'governance' lets governance approve new code later.",
)
@_gas_option
@click.option("--no-simulate", is_flag=True, help=NO_SIMULATE_HELP)
@url_option
@json_option
def deploy_cmd(
    key: Path,
    source: Path,
    init: str | None,
    upgrade_policy: str,
    gas: int | None,
    no_simulate: bool,
    url: str,
    as_json: bool,
) -> None:
    """Deploy the contract in SOURCE (the key needs the deployer role).

    The deployment is simulated first: a contract the checker refuses, a missing role or
    a failing init stops here with the reason, before it costs a block (--no-simulate
    skips this). Check a contract offline with ``xinlian contract check SOURCE``.
    """
    text = _read_source(source)
    args = parse_args_json(init)
    call = {"source": text, "init": args, "upgrade_policy": upgrade_policy}
    with make_client(url, key=key) as client:
        if not no_simulate:
            simulate_or_fail(client, "contracts", "deploy", call, gas or 5_000_000)
        with status_line("deploying"):
            result = client.send("contracts", "deploy", call, gas_limit=gas or 5_000_000)
    if result.receipt is not None and result.receipt.ok and not as_json:
        click.echo(f"contract {result.receipt.output}")
    _show(result, as_json, "deployed" if result.ok else "deploy failed")


@contract_group.command("check")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
def check_cmd(source: Path, as_json: bool) -> None:
    """Run the deploy-time checker on SOURCE offline (no node needed): print each problem
    with its line, or the methods it exports. Exits with status 1 if it would be refused."""
    from xinlian.contracts import checker
    from xinlian.contracts.errors import ContractRejected
    from xinlian.contracts.runtime import compile_source

    text = _read_source(source)
    found = checker.problems(text)
    methods: list[checker.MethodSpec] = []
    if not found:
        try:
            methods = compile_source(text).methods
        except ContractRejected as exc:
            found = [exc]
    if as_json:
        echo_json(
            {
                "ok": not found,
                "problems": [{"line": e.line, "message": _problem_text(e)} for e in found],
                "methods": [
                    {"name": m.name, "params": m.params, "returns": m.returns, "view": m.readonly}
                    for m in methods
                ],
            }
        )
    else:
        for problem in found:
            where = f"{source}:{problem.line}" if problem.line else str(source)
            click.echo(f"{where}: {_problem_text(problem)}")
        if not found:
            click.echo(f"{source}: ok, {len(methods)} methods")
            for m in methods:
                params = ", ".join(f"{n}: {t}" for n, t in m.params)
                kind = "view  " if m.readonly else "export"
                click.echo(f"  {kind} {m.name}({params}) -> {m.returns}")
    if found:
        n = len(found)
        fail(f"{n} problem{'s' if n != 1 else ''}: a node would refuse this contract")


def _problem_text(exc: Exception) -> str:
    """A checker refusal without its ``contract refused: line N:`` prefix."""
    text = str(exc).removeprefix("contract refused: ")
    line = getattr(exc, "line", 0)
    return text.removeprefix(f"line {line}: ") if line else text


@contract_group.command("call")
@_key_option
@click.argument("address")
@click.argument("method")
@click.option("--args", "args", default=None, help="Arguments as JSON, @file.json or -.")
@_gas_option
@click.option("--no-simulate", is_flag=True, help=NO_SIMULATE_HELP)
@url_option
@json_option
def call_cmd(
    key: Path,
    address: str,
    method: str,
    args: str | None,
    gas: int | None,
    no_simulate: bool,
    url: str,
    as_json: bool,
) -> None:
    """Call METHOD of the contract at ADDRESS in a transaction and wait for it (simulated
    first, see ``deploy``)."""
    address = _address(address)
    values = parse_args_json(args)
    with make_client(url, key=key) as client:
        if not no_simulate:
            simulate_or_fail(client, address, method, values, gas)
        with status_line(f"calling {method}"):
            result = client.send(address, method, values, gas_limit=gas)
    _show(result, as_json, method)


@contract_group.command("query")
@click.argument("address")
@click.argument("method")
@click.option("--args", "args", default=None, help="Arguments as JSON, @file.json or -.")
@url_option
def query_cmd(address: str, method: str, args: str | None, url: str) -> None:
    """Run the @view METHOD of the contract at ADDRESS (no transaction); print JSON."""
    address = _address(address)
    with make_client(url) as client:
        result = query(client, address, method, parse_args_json(args))
    click.echo(json.dumps(to_builtins(result), indent=2, ensure_ascii=False))


@contract_group.command("events")
@click.argument("address")
@click.argument("name")
@click.option("--from-height", type=click.IntRange(0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@url_option
@json_option
def events_cmd(
    address: str, name: str, from_height: int, limit: int, url: str, as_json: bool
) -> None:
    """Events called NAME that the contract at ADDRESS emitted."""
    address = _address(address)
    with make_client(url) as client:
        found = events(client, address, name, from_height=from_height, limit=limit)
    if as_json:
        echo_json(
            [
                {
                    "height": e.height,
                    "tx_hash": e.tx_hash.hex(),
                    "type": e.type,
                    "attributes": e.attributes,
                }
                for e in found
            ]
        )
        return
    if not found:
        click.echo("no events")
    for e in found:
        attrs = " ".join(f"{k}={v}" for k, v in sorted(e.attributes.items()) if k != "contract")
        click.echo(f"{e.height:>8}  {e.tx_hash.hex()[:16]}…  {name}  {attrs}")


@contract_group.command("info")
@click.argument("address")
@click.option("--source", "show_source", is_flag=True, help="Print the source instead.")
@url_option
@json_option
def info_cmd(address: str, show_source: bool, url: str, as_json: bool) -> None:
    """A contract's owner, code hash, version, upgrade policy and methods."""
    address = _address(address)
    with make_client(url) as client:
        if show_source:
            click.echo(get_code(client, address), nl=False)
            return
        info = get_info(client, address)
    if as_json:
        echo_json(info)
        return
    click.echo(f"contract  {info.address}")
    click.echo(f"owner     {info.owner}")
    click.echo(f"code      {info.code_hash.hex()}  (version {info.version}, {info.policy})")
    click.echo(f"created   block {info.created}")
    for m in info.methods:
        params = ", ".join(f"{n}: {t}" for n, t in m.params)
        kind = "view  " if m.readonly else "export"
        click.echo(f"  {kind} {m.name}({params}) -> {m.returns}")


@contract_group.command("client")
@click.argument("address")
@click.option("--class-name", default=None, help="Name of the generated class.")
@url_option
def client_cmd(address: str, class_name: str | None, url: str) -> None:
    """Print a typed Python client class for the contract at ADDRESS."""
    address = _address(address)
    with make_client(url) as client:
        info = get_info(client, address)
    click.echo(client_source(info, class_name), nl=False)


def _read_source(source: Path) -> str:
    try:
        return source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {source}: {exc}")


@contract_group.command("propose-upgrade")
@_key_option
@click.argument("address")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@url_option
@json_option
def propose_upgrade_cmd(key: Path, address: str, source: Path, url: str, as_json: bool) -> None:
    """Propose to governance that the contract at ADDRESS may take the code in SOURCE
    (the key is an organisation admin's; the proposer's organisation votes yes)."""
    from xinlian.codec import encode_args

    address = _address(address)
    text = _read_source(source)
    with make_client(url, key=key) as client:
        code_hash = client.chain()[1].hash(text.encode())
        params = encode_args({"address": address, "code_hash": code_hash})
        result = client.send(
            "governance", "propose", {"action": "approve_contract_upgrade", "params": params}
        )
    if not as_json and result.ok and result.receipt is not None:
        click.echo(f"code hash {code_hash.hex()}: proposal {result.receipt.output}")
    _show(result, as_json, "proposed")


@contract_group.command("upgrade")
@_key_option
@click.argument("address")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_gas_option
@url_option
@json_option
def upgrade_cmd(
    key: Path, address: str, source: Path, gas: int | None, url: str, as_json: bool
) -> None:
    """Replace the code of the contract at ADDRESS with SOURCE (the owner's key; needs a
    passed governance approval of SOURCE's hash)."""
    address = _address(address)
    text = _read_source(source)
    with make_client(url, key=key) as client, status_line("upgrading"):
        result = client.send(
            "contracts", "upgrade", {"address": address, "source": text}, gas_limit=gas or 5_000_000
        )
    _show(result, as_json, "upgraded" if result.ok else "upgrade failed")
