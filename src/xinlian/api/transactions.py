"""Transaction routes: submit one, submit a batch, simulate one, look one up with its
proofs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web

from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.request import NODE, json_body, json_response, parse_hex
from xinlian.api.views import commit_json, header_json, receipt_json, tx_json
from xinlian.apps.identity import account_key, load_account
from xinlian.codec import CodecError, encode_args, to_builtins
from xinlian.crypto import address_of
from xinlian.mempool import MempoolError, decode_envelope
from xinlian.node.chain import Chain, EnvelopeFactory, Simulation
from xinlian.node.runtime import now_ms
from xinlian.protocol import Refusal
from xinlian.types import TxEnvelope, TxStatus


def _submit_problem(exc: MempoolError) -> Problem:
    """The problem document of a refusal: its code's one status (``protocol.HTTP_STATUS``)."""
    return Problem(exc.reason.status, "Transaction refused", str(exc), exc.reason.value)


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
            out.append({"error": {"reason": r.reason.value, "detail": str(r)}})
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


# SIMULATION

#: The most gas one simulation may use: a call with a higher limit runs with this instead.
#: About one second of a tight contract loop on the 2-core development machine; the
#: simulation holds the interpreter meanwhile, so this bounds what a client can take from
#: block production (a block's own budget is 40 million gas).
SIMULATE_MAX_GAS = 10_000_000
#: Simulations running at once (in worker threads); more are answered 503 at once.
SIMULATE_CONCURRENCY = 2
_simulating = threading.BoundedSemaphore(SIMULATE_CONCURRENCY)
_U64 = 2**64 - 1
_SIMULATE_FIELDS = frozenset(
    {"tx", "sender", "address", "target", "method", "args", "nonce", "gas_limit", "expiry"}
)


def _optional_int(doc: dict[str, Any], name: str, lo: int, hi: int) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise bad_request(f"{name} must be an integer from {lo} to {hi}", "bad_body")
    return value


def _call_args(value: Any) -> bytes:
    if isinstance(value, str):
        return parse_hex(value, "args")
    if isinstance(value, dict):
        try:
            return encode_args(value)
        except CodecError as exc:
            raise bad_request(f"args: {exc}", "bad_args") from None
    raise bad_request("args must be a JSON object or hex of canonical args", "bad_args")


def _unsigned(chain: Chain, doc: dict[str, Any]) -> EnvelopeFactory | str:
    """The envelope of an unsigned call, built from the sender's next nonce in the state
    the simulation reads unless the request gives one; or why a node would refuse the
    sender."""
    target, method = doc.get("target"), doc.get("method")
    if not isinstance(target, str) or not target or not isinstance(method, str) or not method:
        raise bad_request(
            "an unsigned call needs target and method (non-empty strings)", "bad_body"
        )
    args = _call_args(doc.get("args", {}))
    nonce = _optional_int(doc, "nonce", 0, _U64)
    gas_limit = _optional_int(doc, "gas_limit", 1, _U64)
    expiry = _optional_int(doc, "expiry", 0, _U64)
    sender_hex, address = doc.get("sender"), doc.get("address")
    if (sender_hex is None) == (address is None):
        raise bad_request(
            'give the sender as "sender" (public key, hex) or "address" (40 hex digits), '
            'or a signed transaction as "tx"',
            "bad_body",
        )
    if sender_hex is not None:
        if not isinstance(sender_hex, str):
            raise bad_request("sender must be the hex of a public key", "bad_body")
        sender = parse_hex(sender_hex, "sender", chain.suite.public_key_size)
    else:
        if not isinstance(address, str):
            raise bad_request("address must be 40 hex digits", "bad_body")
        address = address.lower()
        parse_hex(address, "address", 20)
        record = load_account(chain.state.get(b"identity/" + account_key(address)))
        if record is None:
            return f"unknown sender {address}: the address is not registered to any organisation"
        sender = record.public_key
    if gas_limit is None:
        gas_limit = min(chain.genesis.params.max_gas_per_tx, SIMULATE_MAX_GAS)
    if expiry is None:
        expiry = chain.height + 1000
    address = address_of(chain.suite, sender)

    def build(nonce_of: Callable[[str], int]) -> TxEnvelope:
        return chain.unsigned_envelope(
            sender,
            nonce=nonce_of(address) if nonce is None else nonce,
            target=target,
            method=method,
            args=args,
            gas_limit=gas_limit,
            expiry=expiry,
        )

    return build


def simulation_json(sim: Simulation, signed: bool) -> dict[str, Any]:
    """The answer of ``POST /v1/transactions/simulate``."""
    tx = sim.env.stx.tx
    receipt = sim.receipt
    outcome = "refused"
    if receipt is not None:
        outcome = "ok" if receipt.status == TxStatus.OK else "failed"
    capped = (
        receipt is not None
        and receipt.status == TxStatus.OUT_OF_GAS
        and tx.gas_limit > SIMULATE_MAX_GAS
    )
    return {
        "outcome": outcome,
        "height": sim.height,
        "hash": sim.env.hash.hex(),
        "signed": signed,
        "sender_address": sim.env.sender_address,
        "nonce": tx.nonce,
        "gas_limit": tx.gas_limit,
        "gas_cap": SIMULATE_MAX_GAS,
        "capped": capped,
        "refused": sim.refused,
        "code": None if sim.reason is None else sim.reason.value,
        "receipt": None if receipt is None else receipt_json(receipt),
    }


def _refusal_json(detail: str) -> dict[str, Any]:
    """An unsigned simulation whose ``address`` names no registered account."""
    return {
        "outcome": "refused",
        "hash": None,
        "signed": False,
        "gas_cap": SIMULATE_MAX_GAS,
        "capped": False,
        "refused": detail,
        "code": Refusal.UNKNOWN_SENDER.value,
        "receipt": None,
    }


async def simulate_tx(request: web.Request) -> web.Response:
    """Run a signed or unsigned transaction against the latest committed state and return
    the receipt it would get, committing nothing."""
    node = request.app[NODE]
    chain = node.chain
    doc = await json_body(request)
    unknown = sorted(set(doc) - _SIMULATE_FIELDS)
    if unknown:
        raise bad_request(
            f"unknown field(s) {', '.join(unknown)}; expected {sorted(_SIMULATE_FIELDS)}",
            "bad_body",
        )
    if "tx" in doc:
        others = sorted(set(doc) - {"tx"})
        if others:
            raise bad_request(
                f"a signed transaction carries its own call; drop {', '.join(others)}",
                "bad_body",
            )
        raw_hex = doc["tx"]
        if not isinstance(raw_hex, str):
            raise bad_request("tx must be the hex of a signed transaction", "bad_body")
        raw = parse_hex(raw_hex, "tx")
        try:
            env: TxEnvelope | EnvelopeFactory | str = decode_envelope(
                chain.suite, chain.chain_id, raw, chain.genesis.params.max_tx_bytes
            )
        except MempoolError as exc:
            raise _submit_problem(exc) from None
        signed = True
    else:
        env = _unsigned(chain, doc)  # a sender key of the suite's size: checked there
        signed = False
    if isinstance(env, str):
        return json_response(_refusal_json(env))
    if not _simulating.acquire(blocking=False):
        problem = Problem(
            503,
            "Service Unavailable",
            f"{SIMULATE_CONCURRENCY} simulations are already running; retry shortly",
            "busy",
        ).response(request.path)
        problem.headers["Retry-After"] = "1"
        return problem
    try:
        sim = await asyncio.get_running_loop().run_in_executor(
            None, chain.simulate, env, now_ms(), SIMULATE_MAX_GAS
        )
    finally:
        _simulating.release()
    return json_response(simulation_json(sim, signed))
