"""Traceability on the client side: validate EPCIS 2.0 documents, compute their CBV 2.0
event hashes, capture them, and read history.

::

    from xinlian.sdk import Client, Signer
    from xinlian.sdk import trace

    with Client(url, key=Signer.from_file("farm-writer.key")) as c:
        results = trace.capture(c, epcis_document)     # bodies to the node, hashes on chain
        h = trace.history(c, "https://id.gs1.org/01/09520123456788/21/J1", "upstream")

The hashes signed into the transaction are computed here, with the same code the node
uses (:mod:`xinlian.gs1`), so a client never signs what it has not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xinlian.codec import CodecError, decode, encode
from xinlian.crypto import address_of
from xinlian.gs1.epcis import EpcisError, EventSummary, FieldProblem, namespaces_of, parse_document
from xinlian.gs1.eventhash import event_hash, hash_uri
from xinlian.sdk.errors import ResponseError, VerificationError, XinlianError
from xinlian.sdk.models import TxProof, TxResult
from xinlian.sdk.session import Request, _call, _ok
from xinlian.sdk.session import _get as _session_get
from xinlian.sdk.verify import suite_of, validator_set_from_genesis, verify_tx_inclusion
from xinlian.sdk.wire import record_from_json
from xinlian.types import BlockHeader, Commit, MerkleProof, Receipt, SignedTransaction, TxStatus
from xinlian.types.genesis import Genesis
from xinlian.types.trace import CaptureArgs, EventAnchor

if TYPE_CHECKING:
    from xinlian.sdk.client import Client

__all__ = [
    "APP",
    "CapturePlan",
    "EpcisError",
    "FieldProblem",
    "VerifiedEvent",
    "agree",
    "anchor_of",
    "capture",
    "capture_gas",
    "event",
    "history",
    "item_events",
    "open_transaction",
    "plan_capture",
    "register_location",
    "set_participant",
    "split_document",
    "store_document",
    "transaction",
    "verify_event",
]

APP = "trace"


def anchor_of(summary: EventSummary) -> EventAnchor:
    """The on-chain anchor of a validated event."""
    return EventAnchor(
        hash=summary.hash,
        type=summary.type,
        time_ms=summary.time_ms,
        action=summary.action,
        biz_step=summary.biz_step,
        disposition=summary.disposition,
        read_point=summary.read_point,
        biz_location=summary.biz_location,
        parent=summary.parent,
        epcs=summary.epcs,
        classes=summary.classes,
        inputs=summary.inputs,
        outputs=summary.outputs,
        biz_transactions=sorted({bt for _, bt in summary.biz_transactions}),
        error_reason=summary.error_reason,
        corrective=summary.corrective,
    )


@dataclass(frozen=True, slots=True)
class CapturePlan:
    """A validated document: its events' summaries and the ``trace.capture`` arguments."""

    events: list[EventSummary]
    args: CaptureArgs

    @property
    def hashes(self) -> list[str]:
        """The events' CBV 2.0 hash URIs, in document order."""
        return [hash_uri(e.hash) for e in self.events]

    def raw_args(self) -> bytes:
        """The canonical argument bytes of the ``trace.capture`` call."""
        return encode(self.args)


def plan_capture(document: Mapping[str, Any]) -> CapturePlan:
    """Validate an EPCIS document and build its capture arguments.

    Raises:
        EpcisError: the document is invalid (``problems`` names each field and reason).
    """
    events = parse_document(document)
    return CapturePlan(events, CaptureArgs([anchor_of(e) for e in events]))


def capture_gas(plan: CapturePlan) -> int:
    """A gas limit that covers the capture (writes and indexes per event)."""
    ids = sum(
        len(a.epcs) + len(a.classes) + len(a.inputs) + len(a.outputs) + 1 for a in plan.args.events
    )
    return min(10_000_000, 200_000 + 12 * len(plan.raw_args()) + 4_000 * ids)


def store_document(client: Client, document: Mapping[str, Any]) -> list[str]:
    """Give the node the event bodies of a document (validated there too); returns the
    hash URIs the node computed. The request is signed with the client's key (a writer
    of a trace participant): the node charges the bytes to the account's quota."""
    body = client._run(client.session.signed_post("/v1/trace/documents", {"document": document}))
    hashes = body.get("hashes") if isinstance(body, dict) else None
    if not isinstance(hashes, list):
        raise ResponseError(f"unexpected answer from /v1/trace/documents: {body!r}")
    return [str(h) for h in hashes]


#: Room for a capture's arguments in one transaction: captures are split at this size so
#: that each stays small to gossip and well inside any chain's ``max_tx_bytes``.
MAX_ARGS_BYTES = 60_000


def split_document(
    document: Mapping[str, Any], max_args_bytes: int = MAX_ARGS_BYTES
) -> list[dict[str, Any]]:
    """Cut a document whose capture would not fit one transaction into documents (same
    header and ``@context``) whose captures do, keeping the event order."""
    plan = plan_capture(document)
    events = list(document["epcisBody"]["eventList"])
    parts: list[dict[str, Any]] = []
    start, size = 0, 16
    for i, anchor in enumerate(plan.args.events):
        need = len(encode(anchor)) + 8
        if size + need > max_args_bytes and i > start:
            parts.append(_with_events(document, events[start:i]))
            start, size = i, 16
        size += need
    parts.append(_with_events(document, events[start:]))
    return parts


def _with_events(document: Mapping[str, Any], events: list[Any]) -> dict[str, Any]:
    return {**document, "epcisBody": {**document["epcisBody"], "eventList": events}}


def capture(
    client: Client, document: Mapping[str, Any], *, wait: bool = True, timeout: float = 30.0
) -> list[TxResult]:
    """Validate a document, store its bodies on the node and anchor its hashes on chain,
    in as many transactions as it needs (one per :data:`MAX_ARGS_BYTES` of anchors).

    Raises:
        EpcisError: the document is invalid (nothing is sent).
        ResponseError: the node computed other hashes than this client.
        ApiError: the node refused a transaction.
    """
    results = []
    for part in split_document(document):
        plan = plan_capture(part)
        stored = store_document(client, part)
        if stored != plan.hashes:
            raise ResponseError(f"the node computed hashes {stored}, this client {plan.hashes}")
        results.append(
            client.send(
                APP, "capture", plan.raw_args(), gas_limit=capture_gas(plan), wait=wait,
                timeout=timeout,
            )
        )  # fmt: skip
    return results


def _post(path: str, body: Any) -> Any:
    resp = yield from _call(Request("POST", path, json=body))
    return _ok(resp)


def _get(path: str, params: Mapping[str, str]) -> Any:
    return (yield from _session_get(path, params))


# SETUP AND COLLABORATION


def set_participant(
    client: Client,
    org: str,
    roles: list[str],
    gs1_prefixes: list[str],
    ii_prefixes: list[str] | None = None,
) -> TxResult:
    """Register an organisation as a trace participant (needs a regulator's key)."""
    args = {"org": org, "roles": roles, "gs1_prefixes": gs1_prefixes,
            "ii_prefixes": ii_prefixes or []}  # fmt: skip
    return client.send(APP, "set_participant", args)


def register_location(client: Client, location: str, name: str) -> TxResult:
    """Register a location of the key's organisation (needs an admin key)."""
    return client.send(APP, "register_location", {"id": location, "name": name})


def open_transaction(
    client: Client, bt_id: str, kind: str, parties: list[str], ref: str = ""
) -> TxResult:
    """Open a business transaction (``po``, ``desadv``, ``recadv``...) with parties."""
    args = {"id": bt_id, "kind": kind, "parties": parties, "ref": ref}
    return client.send(APP, "open_transaction", args)


def agree(client: Client, bt_id: str, status: str) -> TxResult:
    """Agree to move a business transaction to ``status``."""
    return client.send(APP, "agree", {"id": bt_id, "status": status})


# READS


def event(client: Client, event_hash: str) -> dict[str, Any]:
    """An anchored event: summary, anchor, body (if the node has it) and on-chain proof."""
    from urllib.parse import quote

    result: dict[str, Any] = client._run(_get(f"/v1/trace/events/{quote(event_hash, '')}", {}))
    return result


def item_events(client: Client, item: str, *, start: int = 0, limit: int = 100) -> dict[str, Any]:
    """The events naming an item (any identifier form), oldest first."""
    params = {"epc": item, "start": str(start), "limit": str(limit)}
    result: dict[str, Any] = client._run(_get("/v1/trace/events", params))
    return result


def history(
    client: Client, item: str, direction: str = "both", *, max_events: int = 5000
) -> dict[str, Any]:
    """An item's history upstream (made from), downstream (made into) or both."""
    params = {"id": item, "direction": direction, "max_events": str(max_events)}
    result: dict[str, Any] = client._run(_get("/v1/trace/history", params))
    return result


def transaction(client: Client, bt_id: str) -> dict[str, Any] | None:
    """A business transaction with its status, votes and linked events (None if unknown)."""
    result: dict[str, Any] | None = client.query(APP, "transaction", {"id": bt_id})
    return result


# OFFLINE VERIFICATION


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    """What :func:`verify_event` proved: the event with this hash was anchored at
    ``index`` of transaction ``tx_hash``, signed by ``submitter``, in the final block at
    ``height`` (block time ``time_ms``)."""

    hash_uri: str
    tx_hash: bytes
    index: int
    submitter: str
    height: int
    time_ms: int


def verify_event(
    doc: Mapping[str, Any], genesis: Genesis, body: Mapping[str, Any] | None = None
) -> VerifiedEvent:
    """Verify an event answer of ``GET /v1/trace/events/{hash}`` (or one event of a
    history with ``proofs=1``, given its ``proof``) without trusting the node.

    Checks, in order: the body (``doc["body"]`` or ``body``) hashes to the claimed CBV 2.0
    hash; the proof's transaction is a ``trace.capture`` signed by its sender whose
    arguments carry that hash at the claimed index; the transaction and its successful
    receipt are in a block whose header is certified by the genesis validators.

    Raises:
        VerificationError: ``check <name> failed: ...``.
    """
    suite = suite_of(genesis)

    def check(name: str, ok: bool, why: str) -> None:
        if not ok:
            raise VerificationError(f"check {name} failed: {why}")

    try:
        claimed = bytes.fromhex(str(doc["hash"]))
        proof = doc["proof"]
        index = int(doc["anchor"]["index"])
        raw = bytes.fromhex(proof["tx_raw"])
        receipt = record_from_json(Receipt, proof["receipt"])
        tx_proof = TxProof(
            block_hash=bytes.fromhex(proof["block_hash"]),
            header=record_from_json(BlockHeader, proof["header"]),
            commit=record_from_json(Commit, proof["commit"]),
            tx_proof=record_from_json(MerkleProof, proof["tx_proof"]),
            receipt_proof=record_from_json(MerkleProof, proof["receipt_proof"]),
        )
    except (KeyError, TypeError, ValueError, XinlianError) as exc:
        raise VerificationError(f"check format failed: {exc}") from None
    event_body = body if body is not None else doc.get("body")
    check("body", isinstance(event_body, Mapping), "no event body to check")
    assert event_body is not None
    uri = event_hash(event_body, namespaces_of(event_body))
    check("body", uri == hash_uri(claimed), f"the body hashes to {uri}, not {hash_uri(claimed)}")
    try:
        stx = decode(raw, SignedTransaction)
        args = decode(stx.tx.args, CaptureArgs)
    except CodecError as exc:
        raise VerificationError(f"check transaction failed: {exc}") from None
    tx = stx.tx
    check("transaction", (tx.target, tx.method) == (APP, "capture"), "not a trace.capture")
    check("transaction", suite.verify(tx.sender, encode(tx), stx.signature), "bad signature")
    check(
        "transaction",
        0 <= index < len(args.events) and args.events[index].hash == claimed,
        f"event {index} of the transaction is not {hash_uri(claimed)}",
    )
    check("receipt", receipt.status == TxStatus.OK, f"the capture failed: {receipt.error}")
    try:
        tx_hash = verify_tx_inclusion(
            suite, validator_set_from_genesis(genesis), raw, receipt, tx_proof, genesis.chain_id
        )
    except VerificationError as exc:
        raise VerificationError(f"check inclusion failed: {exc}") from None
    return VerifiedEvent(
        hash_uri=uri,
        tx_hash=tx_hash,
        index=index,
        submitter=address_of(suite, tx.sender),
        height=tx_proof.header.height,
        time_ms=tx_proof.header.time_ms,
    )
