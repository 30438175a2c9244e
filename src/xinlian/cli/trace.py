"""``xinlian trace``: validate, hash and capture EPCIS 2.0 documents; item history; setup.

Expected failures print ``error: ...``; an invalid EPCIS document prints one line per
problem (``<field>: <reason>``) and exits with status 1.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import click

from xinlian.cli.common import (
    echo_json,
    fail,
    iso_time,
    json_option,
    make_client,
    read_json,
    url_option,
)
from xinlian.gs1.epcis import EpcisError, FieldProblem, namespaces_of
from xinlian.gs1.eventhash import event_hash
from xinlian.sdk import load_genesis
from xinlian.sdk import trace as sdk_trace
from xinlian.sdk.trace_sample import SampleChain, food_chain

#: Which organisation of a development network (``xinlian up``) plays each role in the demo.
DEMO_ORGS = {
    "producer": "org1",
    "inspector": "org2",
    "processor": "org2",
    "distributor": "org3",
    "retailer": "org3",
}


@click.group("trace")
def trace_group() -> None:
    """Product traceability with GS1 EPCIS 2.0 events.

    \b
      xinlian trace sample out/                       # a food chain as EPCIS documents
      xinlian trace validate out/01-farm-harvest.json # hashes, or field: reason errors
      xinlian trace capture out/01-farm-harvest.json --key keys/org1-writer.key
      xinlian trace history https://id.gs1.org/01/09520123456788/21/J1 --direction upstream
      xinlian trace demo --keys .xinlian/keys          # the whole chain on a dev network
    """


def _key(fn: Any) -> Any:
    return click.option(
        "--key", type=click.Path(dir_okay=False, path_type=Path), required=True,
        help="Key file of the account that signs.",
    )(fn)  # fmt: skip


def _read_doc(path: Path) -> Any:
    return read_json(path, "EPCIS 2.0 document (JSON)")


def problem_lines(problems: list[FieldProblem]) -> list[str]:
    """One readable line per problem, ``<JSON path>: <reason>``.

    A schema refusal of a whole object quotes the object itself; such a line says what
    is wrong in words instead, and is left out when a problem inside that object already
    says more precisely what is wrong.
    """
    lines: list[str] = []
    fields = [p.field for p in problems]
    for p in problems:
        where = p.field or "(document)"
        reason = " ".join(p.reason.split())
        if reason.startswith(("{", "[")):
            prefix = p.field
            if any(
                f != prefix and (not prefix or f.startswith((prefix + ".", prefix + "[")))
                for f in fields
            ):
                continue
            kind = "object" if reason.startswith("{") else "list"
            reason = f"this {kind} matches none of the forms the EPCIS 2.0 schema allows here"
        elif len(reason) > MAX_REASON:
            reason = reason[: MAX_REASON - 1] + "…"
        lines.append(f"{where}: {reason}")
    return lines


#: Longest reason shown on a problem line (values quoted in reasons can be long).
MAX_REASON = 200


def _plan(doc: Any, source: Path) -> sdk_trace.CapturePlan:
    try:
        return sdk_trace.plan_capture(doc)
    except EpcisError as exc:
        lines = problem_lines(exc.problems)
        for line in lines:
            click.echo(line, err=True)
        n = len(lines)
        fail(f"{source} is not a valid EPCIS 2.0 document ({n} problem{'s' if n != 1 else ''})")


@trace_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def validate_cmd(file: Path, as_json: bool) -> None:
    """Validate an EPCIS 2.0 document offline and print its events' CBV 2.0 hashes."""
    plan = _plan(_read_doc(file), file)
    rows = [
        {"index": e.index, "type": e.type, "biz_step": e.biz_step, "hash": h}
        for e, h in zip(plan.events, plan.hashes, strict=True)
    ]
    if as_json:
        echo_json({"valid": True, "events": rows})
        return
    for row in rows:
        click.echo(f"{row['index']:>4}  {row['type']:<20} {row['biz_step']:<16} {row['hash']}")


@trace_group.command("capture")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_key
@url_option
@json_option
def capture_cmd(files: tuple[Path, ...], key: Path, url: str, as_json: bool) -> None:
    """Capture EPCIS documents: bodies to the node, event hashes on chain."""
    docs = [(path, _read_doc(path)) for path in files]
    for path, doc in docs:  # every document is checked before anything is sent
        _plan(doc, path)
    out: list[dict[str, Any]] = []
    with make_client(url, key=key) as c:
        for path, doc in docs:
            for result in sdk_trace.capture(c, doc):
                _capture_row(out, path, result, as_json)
    if as_json:
        echo_json(out)
    if not all(r["ok"] for r in out):
        fail("some captures failed")


def _capture_row(out: list[dict[str, Any]], path: Path, result: Any, as_json: bool) -> None:
    receipt = result.receipt
    ok = receipt is not None and receipt.ok
    error = receipt.error if receipt else "no receipt"
    out.append(
        {"file": str(path), "capture_id": result.hash.hex(), "ok": ok,
         "height": result.height, "error": error}
    )  # fmt: skip
    if not as_json:
        state = "ok" if ok else f"FAILED: {error}"
        click.echo(f"{path}: capture {result.hash.hex()[:16]} at {result.height}: {state}")


@trace_group.command("history")
@click.argument("item")
@click.option("--direction", type=click.Choice(["upstream", "downstream", "both"]),
              default="both", show_default=True)  # fmt: skip
@click.option("--max-events", default=5000, show_default=True)
@url_option
@json_option
def history_cmd(item: str, direction: str, max_events: int, url: str, as_json: bool) -> None:
    """An item's history: what it was made from and packed in (upstream), what was made
    from it and where that went (downstream, for recalls)."""
    with make_client(url) as c:
        h = sdk_trace.history(c, item, direction, max_events=max_events)
    if not h["events"]:
        fail(
            f"no anchored event names {item}; check the identifier (a GS1 Digital Link, "
            "EPC URN or 88.x.y id of a captured item)"
        )
    if as_json:
        echo_json(h)
        return
    click.echo(f"{h['id']} ({direction}): {len(h['items'])} items, {len(h['events'])} events")
    for i in h["items"]:
        click.echo(f"  [{i['relation']:<9}] {i['id']}")
    for e in h["events"]:
        place = e["biz_location"] or e["read_point"]
        flag = " ERROR DECLARED" if e["error"] else ""
        click.echo(
            f"  {iso_time(e['time_ms'])}  {e['org']:<12} {e['type']:<20} {e['biz_step']:<15} "
            f"{place}  tx {e['anchor']['tx_hash'][:12]}@{e['anchor']['height']}{flag}"
        )
    if h["truncated"]:
        click.echo("  (truncated: raise --max-events)")


@trace_group.command("event")
@click.argument("event_hash")
@click.option("--genesis", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Trusted genesis.json: verify the proof offline against it.")  # fmt: skip
@url_option
@json_option
def event_cmd(event_hash: str, genesis: Path | None, url: str, as_json: bool) -> None:
    """An anchored event with its body, checking the body against its hash (and, with
    --genesis, the whole proof: transaction, block inclusion and commit signatures)."""
    with make_client(url) as c:
        doc = sdk_trace.event(c, event_hash)
    body = doc.get("body")
    checked = body is not None and event_hash_matches(body, doc["hash_uri"])
    proven = None
    if genesis is not None:
        proven = sdk_trace.verify_event(doc, load_genesis(genesis))
    if as_json:
        echo_json({**doc, "body_verified": checked, "proof_verified": proven is not None})
        return
    if proven is not None:
        click.echo(f"proof verified: final at height {proven.height}, signed by "
                   f"{proven.submitter}")  # fmt: skip
    click.echo(f"{doc['hash_uri']}\n  {doc['type']} {doc['biz_step']} by {doc['org']}")
    click.echo(f"  anchored in tx {doc['anchor']['tx_hash']} at height {doc['anchor']['height']}")
    click.echo("  body: " + ("matches the hash" if checked else "not stored on this node"))
    if body is not None and not checked:
        fail("the stored body does not match the anchored hash")


def event_hash_matches(body: Any, uri: str) -> bool:
    """Whether an event body (with its ``@context``) hashes to ``uri``."""
    return isinstance(body, dict) and event_hash(body, namespaces_of(body)) == uri


#: Default seeds: ``trace demo`` and ``trace sample`` make different items, so a sample's
#: documents can be captured on a network where the demo already ran.
DEMO_SEED = 1
SAMPLE_SEED = 2


@trace_group.command("sample")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=SAMPLE_SEED, show_default=True,
              help=f"Makes serials reproducible; trace demo uses {DEMO_SEED}.")  # fmt: skip
@click.option("--lots", default=2, show_default=True, help="Harvested tomato lots.")
def sample_cmd(out: Path, seed: int, lots: int) -> None:
    """Write a sample food chain (farm, inspector, processor, distributor, retailer) as
    EPCIS documents, with setup.json naming participants, locations and transactions,
    and which key of a development network captures each document."""
    chain = food_chain(seed, lots=lots)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create the folder {out}: {exc.strerror or exc}")
    role_of = {p.org: p.role for p in chain.parties}
    captures: list[dict[str, str]] = []
    for n, c in enumerate(chain.captures, 1):
        path = out / f"{n:02d}-{c.org}-{c.label}.json"
        path.write_text(json.dumps(c.document, indent=2))
        dev_key = f"{DEMO_ORGS[role_of[c.org]]}-writer.key"
        captures.append({"file": path.name, "org": c.org, "role": role_of[c.org],
                         "dev_network_key": dev_key})  # fmt: skip
    setup = {
        "participants": [
            {"org": p.org, "role": p.role, "gs1_prefix": p.prefix, "ii_prefix": p.ii_prefix,
             "locations": [{"id": i, "name": n} for i, n in p.locations]}
            for p in chain.parties
        ],
        "transactions": [{"id": t, "kind": k, "opener": o, "parties": ps}
                         for t, k, o, ps in chain.transactions],
        "captures": captures,
        "consumer_scan": chain.consumer_scan,
    }  # fmt: skip
    (out / "setup.json").write_text(json.dumps(setup, indent=2))
    click.echo(f"wrote {len(chain.captures)} documents ({chain.event_count} events) to {out}")
    click.echo(f"a consumer scans {chain.consumer_scan}")
    click.echo(
        "On a development network where `xinlian trace demo` registered the participants "
        "and locations, capture them in order:"
    )
    for row in captures:
        key = f".xinlian/keys/{row['dev_network_key']}"
        click.echo(f"  xinlian trace capture {out / row['file']} --key {key}")


@trace_group.command("participant")
@click.argument("org")
@click.option("--role", "roles", multiple=True, required=True, help="Trace role (repeatable).")
@click.option("--prefix", "prefixes", multiple=True, help="GS1 company prefix (repeatable).")
@click.option("--ii-prefix", "ii_prefixes", multiple=True, help="88.<industry>.<enterprise>.")
@_key
@url_option
def participant_cmd(org: str, roles: tuple[str, ...], prefixes: tuple[str, ...],
                    ii_prefixes: tuple[str, ...], key: Path, url: str) -> None:  # fmt: skip
    """Register ORG as a trace participant (a regulator's key)."""
    with make_client(url, key=key) as c:
        r = sdk_trace.set_participant(c, org, list(roles), list(prefixes), list(ii_prefixes))
    _report(r.receipt, f"participant {org}: {', '.join(roles)}")


@trace_group.command("location")
@click.argument("location")
@click.argument("name")
@_key
@url_option
def location_cmd(location: str, name: str, key: Path, url: str) -> None:
    """Register a location (GLN, SGLN or Digital Link) of the key's organisation."""
    with make_client(url, key=key) as c:
        r = sdk_trace.register_location(c, location, name)
    _report(r.receipt, f"location {location} ({name})")


def _report(receipt: Any, what: str, *, seed: int | None = None) -> None:
    if receipt is None or not receipt.ok:
        error = receipt.error if receipt else "no receipt"
        hint = ""
        if seed is not None and "already anchored" in error:
            hint = f"; this seed ran here before: run the demo with another --seed (not {seed})"
        fail(f"{what}: {error}{hint}")
    click.echo(f"{what}: ok")


@trace_group.command("demo")
@click.option("--keys", "keys", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".xinlian/keys"), show_default=True,
              help="Key directory of a dev network (regulator.key, orgN-*.key).")  # fmt: skip
@click.option("--seed", default=DEMO_SEED, show_default=True,
              help="Makes serials reproducible; run again with another seed.")  # fmt: skip
@url_option
def demo_cmd(keys: Path, seed: int, url: str) -> None:
    """Run the sample food chain on a development network: register participants and
    locations, capture every document, then show what a consumer's scan reveals."""
    chain = food_chain(seed, orgs=DEMO_ORGS)
    _demo_setup(chain, keys, url)
    for c in chain.captures:
        with make_client(url, key=keys / f"{c.org}-writer.key") as client:
            for r in sdk_trace.capture(client, c.document):
                _report(r.receipt, f"{c.org} captures {c.label}", seed=seed)
    with make_client(url) as client:
        h = sdk_trace.history(client, chain.consumer_scan, "upstream")
    lots = [i["id"] for i in h["items"] if i["relation"] == "made_from"]
    certified = [e for e in h["events"] if e["biz_step"] == "inspecting"]
    click.echo(f"consumer scan {chain.consumer_scan}:")
    click.echo(f"  {len(h['events'])} events, made from {len(lots)} lots, "
               f"{len(certified)} inspection certificate(s)")  # fmt: skip
    for lot in lots:
        click.echo(f"  made from {lot}")


def _demo_setup(chain: SampleChain, keys: Path, url: str) -> None:
    roles: dict[str, set[str]] = defaultdict(set)
    prefixes: dict[str, set[str]] = defaultdict(set)
    for p in chain.parties:
        roles[p.org].add(p.role)
        prefixes[p.org].add(p.prefix)
    with make_client(url, key=keys / "regulator.key") as c:
        for org in sorted(roles):
            r = sdk_trace.set_participant(c, org, sorted(roles[org]), sorted(prefixes[org]))
            _report(r.receipt, f"participant {org}")
    for p in chain.parties:
        with make_client(url, key=keys / f"{p.org}-admin.key") as c:
            for location, name in p.locations:
                r = sdk_trace.register_location(c, location, name)
                _report(r.receipt, f"location {name}")
