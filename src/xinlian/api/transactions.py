"""Transaction routes: submit one, submit a batch, look one up with its proofs."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.request import NODE, json_body, json_response, parse_hex
from xinlian.api.views import commit_json, header_json, receipt_json, tx_json
from xinlian.codec import to_builtins
from xinlian.mempool import MempoolError

_REASON_STATUS = {
    "full": 503,
    "duplicate": 409,
    "nonce_taken": 409,
    "too_large": 413,
    "args_too_large": 413,
    "permission_denied": 403,
}


def _submit_problem(exc: MempoolError) -> Problem:
    status = _REASON_STATUS.get(exc.reason, 400 if exc.reason != "refused" else 403)
    title = "Transaction refused"
    return Problem(status, title, str(exc), exc.reason)


# HANDLERS


async def submit_tx(request: web.Request) -> web.Response:
    """Submit one signed transaction (hex of its canonical bytes)."""
    doc = await json_body(request)
    raw_hex = doc.get("tx")
    if not isinstance(raw_hex, str):
        raise bad_request('body must be {"tx": "<hex of the signed transaction>"}', "bad_body")
    raw = parse_hex(raw_hex, "tx")
    (result,) = await request.app[NODE].submit([raw])
    if isinstance(result, MempoolError):
        raise _submit_problem(result)
    return json_response({"hash": result.hex()}, status=202)


async def submit_batch(request: web.Request) -> web.Response:
    """Submit many signed transactions; one result per transaction, in order."""
    node = request.app[NODE]
    raws: list[bytes]
    if request.content_type == "application/msgpack":
        try:
            raws = msgspec.msgpack.decode(await request.read(), type=list[bytes])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise bad_request(f"body must be a msgpack array of bin: {exc}", "bad_body") from None
    else:
        doc = await json_body(request)
        txs = doc.get("txs")
        if not isinstance(txs, list) or not all(isinstance(t, str) for t in txs):
            raise bad_request('body must be {"txs": ["<hex>", ...]}', "bad_body")
        raws = [parse_hex(t, f"txs[{i}]") for i, t in enumerate(txs)]
    if len(raws) > node.config.api.max_batch:
        raise Problem(
            413,
            "Payload Too Large",
            f"batch of {len(raws)} transactions; limit {node.config.api.max_batch}",
            "batch_too_large",
        )
    results = await node.submit(raws)
    out: list[dict[str, Any]] = []
    accepted = 0
    for r in results:
        if isinstance(r, MempoolError):
            out.append({"error": {"reason": r.reason, "detail": str(r)}})
        else:
            accepted += 1
            out.append({"hash": r.hex()})
    return json_response({"accepted": accepted, "results": out})


async def get_tx(request: web.Request) -> web.Response:
    """A transaction with its receipt and proofs, or its pending status."""
    node = request.app[NODE]
    chain = node.chain
    tx_hash = parse_hex(request.match_info["hash"], "transaction hash", 32)
    if not chain.ledger.has_tx(tx_hash):
        if tx_hash in chain.mempool:
            return json_response({"hash": tx_hash.hex(), "status": "pending"})
        raise not_found(f"no transaction {tx_hash.hex()} (neither committed nor pending)")
    record = chain.ledger.tx(tx_hash)
    _, tx_proof = chain.ledger.tx_proof(tx_hash)
    _, receipt_proof = chain.ledger.receipt_proof(tx_hash)
    header = chain.ledger.header(record.height)
    return json_response(
        {
            "hash": tx_hash.hex(),
            "status": "committed",
            "height": record.height,
            "index": record.index,
            "tx": tx_json(record.tx),
            "raw": record.raw.hex(),
            "receipt": receipt_json(record.receipt),
            "proof": {
                "block_hash": chain.block_hash(header).hex(),
                "header": header_json(header),
                "commit": commit_json(chain.ledger.commit(record.height)),
                "tx_proof": to_builtins(tx_proof),
                "receipt_proof": to_builtins(receipt_proof),
            },
        }
    )
