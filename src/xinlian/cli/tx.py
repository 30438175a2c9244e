"""``xinlian tx``: send transactions and look them up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from xinlian.cli.common import (
    convert_args,
    echo_json,
    fail,
    genesis_option,
    json_option,
    make_client,
    parse_args_json,
    progress_bar,
    progress_over,
    read_text,
    status_line,
    url_option,
)
from xinlian.codec import to_builtins
from xinlian.crypto import CryptoSuite, address_of
from xinlian.sdk import ApiError, Call, Client, ReceiptInfo, Simulation, TxInfo, TxResult
from xinlian.sdk.session import as_hash

ARGS_HELP = (
    'Arguments as a JSON object, @FILE or - (stdin). Strings "hex:<hex>" are sent as '
    'bytes; "str:<text>" sends <text> literally. Example: \'{"key": "a", "value": "b"}\''
)


@click.group("tx")
def tx_group() -> None:
    """Send transactions and look them up."""


def _receipt_lines(receipt: ReceiptInfo) -> list[str]:
    status = (
        click.style("OK", fg="green") if receipt.ok else click.style(receipt.status.name, fg="red")
    )
    lines = [f"  status   {status}   gas used {receipt.gas_used}"]
    if receipt.error:
        lines.append(f"  error    {receipt.error}")
    for ev in receipt.events:
        attrs = " ".join(f"{k}={v}" for k, v in sorted(ev.attributes.items()))
        lines.append(f"  event    {ev.type} {attrs}")
    if receipt.output is not None:
        lines.append(f"  output   {json.dumps(to_builtins(receipt.output), ensure_ascii=False)}")
    return lines


def result_json(result: TxResult) -> dict[str, Any]:
    """JSON form of a send result."""
    return {
        "hash": result.hash.hex(),
        "status": result.status,
        "nonce": result.nonce,
        "height": result.height,
        "index": result.index,
        "receipt": result.receipt.to_json() if result.receipt else None,
        "error": (
            None
            if result.error is None
            else {"reason": result.error.reason, "detail": result.error.detail}
        ),
    }


NO_SIMULATE_HELP = "Send without simulating first (a failing call then costs a block)."


def simulate_or_fail(
    client: Client,
    target: str,
    method: str,
    args: Any,
    gas_limit: int | None,
) -> Simulation:
    """Simulate the call the client is about to send; stop with the reason if it would
    fail or be refused (the caller sends it only when this returns)."""
    with status_line(f"simulating {target}.{method}…"):
        sim = client.simulate(target, method, args, gas_limit=gas_limit)
    if sim.capped:
        click.echo(
            "note: the simulation stopped at the node's gas cap, below this call's limit; "
            "sending it without a forecast",
            err=True,
        )
    elif not sim.ok:
        detail = sim.reason
        fail(
            f"not sent: the simulation says it would fail: {detail} (send it anyway with "
            "--no-simulate)"
        )
    return sim


def simulation_lines(sim: Simulation) -> list[str]:
    """Human-readable lines of a simulation."""
    if sim.receipt is None:
        return [
            f"  outcome  {click.style('REFUSED', fg='red')}",
            f"  reason   {sim.refused}",
        ]
    lines = [f"  state    after block {sim.height}   nonce {sim.nonce}   gas limit {sim.gas_limit}"]
    lines.extend(_receipt_lines(sim.receipt))
    if sim.capped:
        lines.append("  note     stopped at the node's simulation gas cap, below the call's limit")
    return lines


@tx_group.command("simulate")
@click.option(
    "--key",
    "key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key file of the sending account (the call is signed, as send would sign it).",
)
@click.option(
    "--sender",
    default=None,
    help="Address of the sending account instead of --key (the call is simulated unsigned).",
)
@click.option("--target", required=True, help="App or contract to call (kv, identity, ...).")
@click.option("--method", required=True, help="Method to call (put, register_account, ...).")
@click.option("--args", "args_text", default=None, help=ARGS_HELP)
@click.option(
    "--gas-limit", type=click.IntRange(1), default=None, help="Gas limit [default: 1000000]."
)
@click.option(
    "--nonce", type=click.IntRange(0), default=None, help="Nonce [default: the next one]."
)
@url_option
@genesis_option
@json_option
def simulate_cmd(
    key: Path | None,
    sender: str | None,
    target: str,
    method: str,
    args_text: str | None,
    gas_limit: int | None,
    nonce: int | None,
    url: str,
    genesis: Path | None,
    as_json: bool,
) -> None:
    """Run a call against the latest committed state without committing anything and
    show the receipt it would get.

    Give the sender as --key (signed) or --sender ADDRESS (unsigned, no key needed).
    Exits with status 1 if the call would fail or be refused.
    """
    if (key is None) == (sender is None):
        fail("give the sender as --key FILE or --sender ADDRESS (one of them)")
    if sender is not None:
        sender = sender.lower()
        if len(sender) != 40 or any(c not in "0123456789abcdef" for c in sender):
            fail(f"--sender must be an address of 40 hex digits, got {sender[:60]!r}")
    args = parse_args_json(args_text)
    with make_client(url, genesis, key) as client:
        sim = client.simulate(target, method, args, sender=sender, nonce=nonce, gas_limit=gas_limit)
    if as_json:
        echo_json(sim.to_json())
    else:
        title = {"ok": "would succeed", "failed": "would fail", "refused": "would be refused"}
        click.echo(f"simulated {target}.{method}: {title[sim.outcome]}  (nothing was committed)")
        for line in simulation_lines(sim):
            click.echo(line)
    if not sim.ok:
        raise SystemExit(1)


@tx_group.command("send")
@click.option(
    "--key",
    "key",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Key file of the sending account.",
)
@click.option("--target", required=True, help="App or contract to call (kv, identity, ...).")
@click.option("--method", required=True, help="Method to call (put, register_account, ...).")
@click.option("--args", "args_text", default=None, help=ARGS_HELP)
@click.option(
    "--gas-limit", type=click.IntRange(1), default=None, help="Gas limit [default: 1000000]."
)
@click.option("--no-wait", is_flag=True, help="Return once the node accepted it.")
@click.option("--no-simulate", is_flag=True, help=NO_SIMULATE_HELP)
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the commit.",
)
@url_option
@genesis_option
@json_option
def send_cmd(
    key: Path,
    target: str,
    method: str,
    args_text: str | None,
    gas_limit: int | None,
    no_wait: bool,
    no_simulate: bool,
    timeout: float,
    url: str,
    genesis: Path | None,
    as_json: bool,
) -> None:
    """Sign a call with KEY and send it; by default wait until it is committed.

    The call is simulated first: if it would fail or be refused it is not sent and the
    reason is printed (--no-simulate skips this). Exits with status 1 if the simulation
    or the node refuses it or its receipt reports failure.
    """
    args = parse_args_json(args_text)
    with make_client(url, genesis, key) as client:
        if not no_simulate:
            simulate_or_fail(client, target, method, args, gas_limit)
        if no_wait:
            result = client.send(target, method, args, gas_limit=gas_limit, wait=False)
        else:
            with status_line(f"sending {target}.{method} and waiting for its block…"):
                result = client.send(target, method, args, gas_limit=gas_limit, timeout=timeout)
    if as_json:
        echo_json(result_json(result))
    else:
        click.echo(f"transaction {result.hash.hex()}  (nonce {result.nonce})")
        if result.receipt is None:
            click.echo("  accepted; look it up with: xinlian tx get " + result.hash.hex())
        else:
            click.echo(
                f"  committed in block {result.height} at index {result.index} (proof verified)"
            )
            for line in _receipt_lines(result.receipt):
                click.echo(line)
    if result.receipt is not None and not result.receipt.ok:
        fail(f"the transaction failed: {result.receipt.error or result.receipt.status.name}")


def tx_json(info: TxInfo, suite: CryptoSuite) -> dict[str, Any]:
    """JSON form of a looked-up transaction."""
    doc: dict[str, Any] = {"hash": info.hash.hex(), "status": info.status}
    if not info.committed:
        return doc
    assert info.tx is not None and info.receipt is not None and info.proof is not None
    doc.update(
        {
            "height": info.height,
            "index": info.index,
            "tx": to_builtins(info.tx),
            "sender_address": address_of(suite, info.tx.sender),
            "signature": info.signature.hex(),
            "raw": info.raw.hex(),
            "receipt": info.receipt.to_json(),
            "block_hash": info.proof.block_hash.hex(),
            "verified": info.verified,
        }
    )
    return doc


@tx_group.command("get")
@click.argument("tx_hash", metavar="HASH")
@click.option("--no-verify", is_flag=True, help="Do not check the inclusion proof.")
@url_option
@genesis_option
@json_option
def get_cmd(tx_hash: str, no_verify: bool, url: str, genesis: Path | None, as_json: bool) -> None:
    """Look a transaction up by its HASH (hex): pending, or committed with its receipt."""
    with make_client(url, genesis) as client:
        info = client.get_tx(as_hash(tx_hash), verify=not no_verify)
        _, suite = client.chain()
    if as_json:
        echo_json(tx_json(info, suite))
        return
    click.echo(f"transaction {info.hash.hex()}")
    if not info.committed:
        click.echo(f"  {info.status}: waiting in the mempool")
        return
    assert info.tx is not None and info.receipt is not None
    tx = info.tx
    click.echo(
        f"  block    {info.height} index {info.index}"
        + ("  (inclusion proof and commit verified)" if info.verified else "")
    )
    click.echo(
        f"  call     {tx.target}.{tx.method}  nonce {tx.nonce}  gas limit "
        f"{tx.gas_limit}  expiry {tx.expiry}"
    )
    click.echo(f"  sender   {address_of(suite, tx.sender)}")
    for line in _receipt_lines(info.receipt):
        click.echo(line)


def _read_calls(path: Path) -> list[Call]:
    text = read_text(path, "calls file (a JSON array or JSON lines)")
    docs: list[Any] = []
    stripped = text.strip()
    invalid = f"{path} must hold a JSON array or JSON lines of calls: invalid JSON at line"
    if stripped.startswith("["):
        try:
            docs = json.loads(stripped)
        except json.JSONDecodeError as exc:
            fail(f"{invalid} {exc.lineno}")
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except json.JSONDecodeError:
                    fail(f"{invalid} {n}")
    calls: list[Call] = []
    for i, doc in enumerate(docs):
        where = f"{path} call {i + 1}"
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("target"), str)
            or not isinstance(doc.get("method"), str)
        ):
            fail(f'{where}: expected {{"target": ..., "method": ..., "args": {{...}}}}')
        gas = doc.get("gas_limit")
        if gas is not None and (not isinstance(gas, int) or gas < 1):
            fail(f"{where}: gas_limit must be a positive integer")
        calls.append(
            Call(doc["target"], doc["method"], convert_args(doc.get("args", {}), where), gas)
        )
    return calls


@tx_group.command("batch")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Key file of the sending account.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Transactions per batch request.",
)
@click.option("--no-wait", is_flag=True, help="Do not wait for the commits.")
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    default=120.0,
    show_default=True,
    help="Seconds to wait for all commits.",
)
@url_option
@genesis_option
@json_option
def batch_cmd(
    file: Path,
    key: Path,
    chunk_size: int,
    no_wait: bool,
    timeout: float,
    url: str,
    genesis: Path | None,
    as_json: bool,
) -> None:
    """Send many calls from FILE (JSON lines or an array of {"target", "method", "args"})
    with consecutive nonces, through the batch endpoint, showing progress."""
    calls = _read_calls(file)
    if not calls:
        fail(f"{file} holds no calls")
    results: list[TxResult] = []
    with make_client(url, genesis, key) as client:
        with progress_bar(length=len(calls), label="sending") as bar:
            for start in range(0, len(calls), chunk_size):
                chunk = calls[start : start + chunk_size]
                results.extend(client.send_many(chunk, wait=False, chunk_size=chunk_size))
                bar.update(len(chunk))
                if any(r.error for r in results):
                    break
        results.extend(
            TxResult(
                hash=b"",
                status="refused",
                nonce=-1,
                error=ApiError(0, "not_sent", "an earlier transaction was refused"),
            )
            for _ in range(len(calls) - len(results))
        )
        accepted = [i for i, r in enumerate(results) if r.status == "pending"]
        if accepted and not no_wait:
            with status_line(f"waiting for {len(accepted)} transactions to commit…"):
                last = client.wait_for(results[accepted[-1]].hash, timeout=timeout)
            del last
            with progress_over(accepted, label="fetching receipts") as indexes:
                for i in indexes:
                    info = client.get_tx(results[i].hash)
                    results[i] = TxResult(
                        results[i].hash,
                        info.status,
                        results[i].nonce,
                        info.height,
                        info.index,
                        info.receipt,
                    )
    refused = [r for r in results if r.status == "refused"]
    failed = [r for r in results if r.receipt is not None and not r.receipt.ok]
    committed = [r for r in results if r.status == "committed"]
    if as_json:
        echo_json([result_json(r) for r in results])
    else:
        click.echo(
            f"{len(calls)} calls: {len(committed)} committed "
            f"({len(failed)} failed), {len(results) - len(committed) - len(refused)} "
            f"pending, {len(refused)} refused"
        )
        for r in refused[:5]:
            if r.error is not None:
                click.echo(f"  refused: {r.error.reason}: {r.error.detail}")
    if refused or failed:
        raise SystemExit(1)
