"""``xinlian evidence``: anchor files, look evidence up, get and verify receipts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from xinlian.cli.common import (
    echo_json,
    fail,
    json_option,
    make_client,
    progress_bar,
    status_line,
    url_option,
)
from xinlian.crypto.timestamp import read_token
from xinlian.sdk import load_genesis
from xinlian.sdk.evidence import (
    CATEGORIES,
    anchor,
    by_category,
    by_submitter,
    custody,
    fetch_receipt,
    get_evidence,
    hash_file,
    timestamp,
    verify_receipt,
    verify_timestamp,
)
from xinlian.sdk.session import as_hash


@click.group("evidence")
def evidence_group() -> None:
    """Anchor file digests, look them up, fetch and verify receipts offline.

    \b
      xinlian evidence anchor --key keys/org1-writer.key contract.pdf
      xinlian evidence receipt <digest> -o contract.receipt.json
      xinlian evidence verify contract.pdf --receipt contract.receipt.json \\
          --genesis genesis.json
      xinlian evidence timestamp contract.pdf -o contract.tsr
      openssl ts -verify -data contract.pdf -in contract.tsr -CAfile tsa-ca.pem
    """


def _key_option(fn: Any) -> Any:
    return click.option(
        "--key",
        "key",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="Key file of an account with the writer role.",
    )(fn)


def _anchor_options(fn: Any) -> Any:
    fn = click.option(
        "--meta",
        "meta",
        multiple=True,
        metavar="KEY=VALUE",
        help="Metadata entry (repeatable, at most 16).",
    )(fn)
    fn = click.option("--parent", default=None, help="Digest (hex) of the parent evidence.")(fn)
    fn = click.option("--ref", "ref", default="", help="Submitter reference (case number...).")(fn)
    fn = click.option(
        "--category",
        type=click.Choice(CATEGORIES),
        default="other",
        show_default=True,
        help="Evidence category.",
    )(fn)
    return fn


def _parse_meta(items: tuple[str, ...]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--meta {item!r}: expected KEY=VALUE")
        meta[key] = value
    return meta


def _hash_files(files: list[Path], suite_name: str) -> list[bytes]:
    total = sum(f.stat().st_size for f in files)
    digests: list[bytes] = []
    with progress_bar(length=total, label="hashing") as bar:
        for f in files:
            digests.append(hash_file(f, suite_name, bar.update))
    return digests


def _anchor_files(
    files: list[Path],
    key: Path,
    category: str,
    ref: str,
    parent: str | None,
    meta: tuple[str, ...],
    url: str,
    as_json: bool,
) -> None:
    if not files:
        fail("no files to anchor")
    meta_d = _parse_meta(meta)
    parent_b = as_hash(parent) if parent else None
    with make_client(url, None, key) as client:
        _, suite = client.chain()
        digests = _hash_files(files, suite.name)
        unique = len(set(digests))
        with progress_bar(length=unique, label="anchoring") as bar:
            results = anchor(
                client,
                digests,
                category=category,
                submitter_ref=ref,
                parent=parent_b,
                meta=meta_d,
                progress=bar.update,
            )
    failed = [r for r in results if r.receipt is None or not r.receipt.ok]
    txs = [
        {"hash": r.hash.hex(), "height": r.height, "ok": bool(r.receipt and r.receipt.ok)}
        for r in results
    ]
    if as_json:
        echo_json(
            {
                "files": [
                    {"file": str(f), "digest": d.hex()} for f, d in zip(files, digests, strict=True)
                ],
                "transactions": txs,
            }
        )
    else:
        for f, d in zip(files, digests, strict=True):
            click.echo(f"{d.hex()}  {f}")
        for r in results:
            state = "OK" if r.receipt and r.receipt.ok else r.status.upper()
            state = "FAILED" if state == "COMMITTED" else state
            click.echo(f"transaction {r.hash.hex()}  block {r.height}  {state}")
        click.echo(f"{len(files)} files, {unique} distinct digests in {len(results)} transactions")
    if failed:
        first = failed[0]
        if first.receipt is None:  # refused on admission (the node said why)
            fail(f"transaction {first.hash.hex()} was refused: {first.error or first.status}")
        fail(f"transaction {first.hash.hex()} failed: {first.receipt.error}")


@evidence_group.command("anchor")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@_key_option
@_anchor_options
@url_option
@json_option
def anchor_cmd(
    files: tuple[Path, ...],
    key: Path,
    category: str,
    ref: str,
    parent: str | None,
    meta: tuple[str, ...],
    url: str,
    as_json: bool,
) -> None:
    """Hash FILES locally (streaming; files never leave this machine) and anchor their
    digests, in as many transactions as the chain's size limit needs."""
    _anchor_files(list(files), key, category, ref, parent, meta, url, as_json)


@evidence_group.command("anchor-dir")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_key_option
@_anchor_options
@url_option
@json_option
def anchor_dir_cmd(
    directory: Path,
    key: Path,
    category: str,
    ref: str,
    parent: str | None,
    meta: tuple[str, ...],
    url: str,
    as_json: bool,
) -> None:
    """Anchor every file under DIRECTORY (recursively, in path order)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    _anchor_files(files, key, category, ref, parent, meta, url, as_json)


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


@evidence_group.command("get")
@click.argument("digest")
@url_option
@json_option
def get_cmd(digest: str, url: str, as_json: bool) -> None:
    """Where DIGEST (hex) was first anchored."""
    with make_client(url) as client:
        record = get_evidence(client, as_hash(digest))
    if record is None:
        fail(f"digest {digest} is not anchored")
    if as_json:
        echo_json(record)
        return
    click.echo(f"digest     {record['digest']}")
    click.echo(f"block      {record['height']}  at {_when(record['time_ms'])}")
    click.echo(
        f"tx         {record['tx_hash']}  (batch index {record['index']} of {record['count']})"
    )
    click.echo(f"submitter  {record['submitter']}  ref {record['submitter_ref']!r}")
    click.echo(f"category   {record['category']}")
    if record.get("parent"):
        click.echo(f"parent     {record['parent']}")
    for k, v in sorted(record.get("meta", {}).items()):
        click.echo(f"meta       {k} = {v}")


@evidence_group.command("receipt")
@click.argument("digest")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the receipt here (default: stdout).",
)
@url_option
def receipt_cmd(digest: str, output: Path | None, url: str) -> None:
    """Fetch the offline-verifiable receipt of DIGEST (hex)."""
    with make_client(url) as client:
        receipt = fetch_receipt(client, as_hash(digest))
    data = receipt.dumps()
    if output is None:
        click.echo(data.decode(), nl=False)
    else:
        output.write_bytes(data)
        click.echo(
            f"receipt of {receipt.digest.hex()} (block {receipt.height}) written to {output}"
        )


@evidence_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--receipt",
    "receipt",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The receipt JSON.",
)
@click.option(
    "--genesis",
    "genesis",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The chain's genesis.json (the trust anchor).",
)
@json_option
def verify_cmd(file: Path, receipt: Path, genesis: Path, as_json: bool) -> None:
    """Verify FILE against a receipt, offline: no node, no network.

    Checks the file digest, the batch Merkle path, the transaction and its proof, the
    receipt and its proof, the header, the validator set and more than two thirds of
    valid validator signatures. Exits with status 1 naming the check that failed.
    """
    with status_line(f"verifying {file}…"):
        got = verify_receipt(receipt, load_genesis(genesis), file)
    if as_json:
        doc: dict[str, Any] = {
            "verified": True,
            "digest": got.digest.hex(),
            "chain_id": got.chain_id,
            "height": got.height,
            "time_ms": got.time_ms,
            "block_hash": got.block_hash.hex(),
            "tx_hash": got.tx_hash.hex(),
            "submitter": got.submitter,
            "category": got.category,
            "submitter_ref": got.submitter_ref,
            "signed_power": got.signed_power,
            "total_power": got.total_power,
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    click.echo(f"OK: {file} was anchored on chain {got.chain_id!r}")
    click.echo(f"  digest     {got.digest.hex()}")
    click.echo(f"  block      {got.height} at {_when(got.time_ms)} ({got.block_hash.hex()[:16]}…)")
    click.echo(
        f"  tx         {got.tx_hash.hex()} (batch index {got.batch_index} of {got.batch_size})"
    )
    click.echo(f"  submitter  {got.submitter}  category {got.category}  ref {got.submitter_ref!r}")
    click.echo(f"  signed by  {got.signed_power} of {got.total_power} voting power")


def _subject_digest(subject: str, client: Any) -> bytes:
    """A hex digest, or the digest of an existing file (hashed with the chain's hash)."""
    path = Path(subject)
    if path.is_file():
        _, suite = client.chain()
        return hash_file(path, suite.name)
    digest = bytes.fromhex(subject) if _is_hex(subject) else b""
    if len(digest) != 32:
        fail(f"{subject!r} is neither a file nor a 64-digit hex digest")
    return digest


def _is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)


@evidence_group.command("timestamp")
@click.argument("subject", metavar="FILE|DIGEST")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the DER TimeStampResp (.tsr) here.",
)
@click.option(
    "--no-nonce", is_flag=True, help="GET the token instead of sending a request with a nonce."
)
@url_option
@json_option
def timestamp_cmd(subject: str, output: Path, no_nonce: bool, url: str, as_json: bool) -> None:
    """Get an RFC 3161 time-stamp token for an anchored FILE (hashed locally) or DIGEST.

    The node's TSA signs it with genTime = the time of the block that anchored the
    digest; only digests final on chain get one. Anyone verifies it with OpenSSL and the
    TSA's CA certificate (tsa-ca.pem of the network):

    \b
      openssl ts -verify -data FILE -in token.tsr -CAfile tsa-ca.pem
    """
    with make_client(url) as client:
        digest = _subject_digest(subject, client)
        token = timestamp(client, digest, nonce=not no_nonce)
    output.write_bytes(token)
    info = read_token(token)
    if as_json:
        echo_json(
            {
                "digest": info.digest.hex(),
                "hash": info.hash_name,
                "gen_time_ms": info.gen_time_ms,
                "serial": info.serial,
                "policy": info.policy,
                "tsa": info.tsa,
                "output": str(output),
            }
        )
        return
    click.echo(f"time-stamp token written to {output}")
    click.echo(f"  digest     {info.digest.hex()} ({info.hash_name})")
    click.echo(f"  genTime    {_when(info.gen_time_ms)}")
    click.echo(f"  serial     {info.serial:#x}")
    click.echo(f"  TSA        {info.tsa}")


@evidence_group.command("custody")
@click.argument("digest")
@url_option
@json_option
def custody_cmd(digest: str, url: str, as_json: bool) -> None:
    """The chain of custody of DIGEST: the evidence, its parent, its parent's parent..."""
    with make_client(url) as client:
        items = custody(client, as_hash(digest))
    if not items:
        fail(f"digest {digest} is not anchored")
    if as_json:
        echo_json({"custody": items})
        return
    for depth, item in enumerate(items):
        click.echo(
            f"{'  ' * depth}{item['digest']}  block {item['height']} at {_when(item['time_ms'])}"
            f"  {item['category']}  by {item['submitter']}  ref {item['submitter_ref']!r}"
        )


def _parse_when(text: str, end: bool) -> int:
    """Milliseconds since the epoch of an ISO date or date-time (UTC unless given)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            when = dt.datetime.combine(day, dt.time.max if end else dt.time.min, dt.UTC)
        else:
            when = dt.datetime.fromisoformat(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
    except ValueError:
        fail(f"{text!r} is not an ISO date (2024-05-01) or date-time (2024-05-01T12:00)")
    return int(when.timestamp() * 1000)


def _echo_batches(batches: list[dict[str, Any]]) -> None:
    for b in batches:
        click.echo(
            f"{b['tx_hash']}  block {b['height']} at {_when(b['time_ms'])}  {b['count']} "
            f"digests  {b['category']}  by {b['submitter']}  ref {b['submitter_ref']!r}"
        )


@evidence_group.command("list")
@click.option("--submitter", default=None, help="Address of the anchoring account.")
@click.option("--category", type=click.Choice(CATEGORIES), default=None)
@click.option("--from", "from_", default=None, help="Start date (ISO, UTC) with --category.")
@click.option("--to", "to", default=None, help="End date (ISO, UTC; inclusive) with --category.")
@click.option("--limit", type=click.IntRange(1, 100), default=100, show_default=True)
@click.option("--start", type=click.IntRange(0), default=0, help="First batch (--submitter).")
@click.option("--cursor", default="", help="The 'next' cursor of a previous --category page.")
@url_option
@json_option
def list_cmd(
    submitter: str | None,
    category: str | None,
    from_: str | None,
    to: str | None,
    limit: int,
    start: int,
    cursor: str,
    url: str,
    as_json: bool,
) -> None:
    """Batches anchored by an account (--submitter) or of a category in a time range
    (--category with --from/--to, at most 366 days), oldest first."""
    if (submitter is None) == (category is None):
        fail("give exactly one of --submitter and --category")
    with make_client(url) as client:
        if submitter is not None:
            page = by_submitter(client, submitter, start, limit)
            footer = f"{len(page['batches'])} of {page['total']} batches"
        else:
            assert category is not None
            now = dt.datetime.now(dt.UTC)
            to_ms = _parse_when(to, True) if to else int(now.timestamp() * 1000)
            from_ms = _parse_when(from_, False) if from_ else to_ms - 30 * 86_400_000
            page = by_category(client, category, max(0, from_ms), to_ms, limit, cursor)
            footer = f"{len(page['batches'])} batches" + (
                f"; more with --cursor {page['next']}" if page["next"] else ""
            )
    if as_json:
        echo_json(page)
        return
    _echo_batches(page["batches"])
    click.echo(footer)


@evidence_group.command("verify-timestamp")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--token",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The RFC 3161 time-stamp response (.tsr).",
)
@click.option(
    "--ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The TSA CA certificate(s), PEM (the network's tsa-ca.pem).",
)
@json_option
def verify_timestamp_cmd(file: Path, token: Path, ca: Path, as_json: bool) -> None:
    """Verify FILE against an RFC 3161 token, offline (the checks of
    `openssl ts -verify -data FILE -in TOKEN -CAfile CA`). Exits with status 1 naming the
    check that failed."""
    info = verify_timestamp(token, ca, file)
    if as_json:
        echo_json(
            {
                "verified": True,
                "digest": info.digest.hex(),
                "hash": info.hash_name,
                "gen_time_ms": info.gen_time_ms,
                "serial": info.serial,
                "tsa": info.tsa,
            }
        )
        return
    click.echo(f"OK: {file} was time-stamped by {info.tsa}")
    click.echo(f"  genTime  {_when(info.gen_time_ms)}")
    click.echo(f"  digest   {info.digest.hex()} ({info.hash_name})")
