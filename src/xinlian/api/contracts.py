"""Contract routes: metadata and interface, source, events, and read-only queries.

Deploying and calling are transactions (``POST /v1/transactions`` with target
``contracts`` or the contract's address); these routes serve the read side.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from xinlian.api.problems import bad_request, not_found
from xinlian.api.queries import QUERIES
from xinlian.api.request import NODE, int_param, json_body, json_response
from xinlian.codec import CodecError, encode_args, to_builtins
from xinlian.contracts import NAME, ContractMeta, is_contract_address
from xinlian.execution import QueryError
from xinlian.node.runtime import Node


def _address(request: web.Request) -> str:
    address = request.match_info["address"].lower()
    if not is_contract_address(address):
        raise bad_request(
            f"{address[:80]!r} is not a contract address ('c' and 40 hex digits)", "bad_address"
        )
    return address


def _query(node: Node, target: str, method: str, args: dict[str, Any]) -> Any:
    try:
        return node.chain.query(target, method, encode_args(args))
    except (QueryError, CodecError) as exc:
        raise bad_request(str(exc), "bad_query") from None


def _meta(node: Node, address: str) -> ContractMeta:
    meta = _query(node, NAME, "get", {"address": address})
    if meta is None:
        raise not_found(f"no contract at {address}")
    assert isinstance(meta, ContractMeta)
    return meta


def meta_json(meta: ContractMeta) -> dict[str, Any]:
    """A contract's metadata as JSON (bytes as hex)."""
    out: dict[str, Any] = to_builtins(meta)
    return out


async def get_contract(request: web.Request) -> web.Response:
    """A contract's owner, code hash, version, upgrade policy and exported methods."""
    node = request.app[NODE]
    return json_response(meta_json(_meta(node, _address(request))))


async def get_contract_code(request: web.Request) -> web.Response:
    """A contract's current source."""
    node = request.app[NODE]
    address = _address(request)
    meta = _meta(node, address)
    source = _query(node, NAME, "code", {"address": address})
    return json_response(
        {"address": address, "code_hash": meta.code_hash.hex(), "source": source or ""}
    )


async def query_contract(request: web.Request) -> web.Response:
    """Run a ``@view`` method of a contract on the latest state."""
    node = request.app[NODE]
    address = _address(request)
    doc = await json_body(request)
    method, args = doc.get("method"), doc.get("args", {})
    if not isinstance(method, str) or not isinstance(args, dict):
        raise bad_request('body must be {"method": str, "args": {...}}', "bad_body")

    def run() -> Any:  # contract code: in a worker thread, never on the event loop
        return to_builtins(_query(node, address, method, args))

    return json_response({"result": await request.app[QUERIES].run(run)})


async def contract_events(request: web.Request) -> web.Response:
    """Events one contract emitted under one name, from a height on."""
    node = request.app[NODE]
    address = _address(request)
    name = request.query.get("name", "")
    if not (0 < len(name) <= 64 and name.isascii() and name.replace("_", "a").isalnum()):
        raise bad_request(
            "query parameter name (1-64 letters, digits or _) is required", "bad_param"
        )
    from_height = int_param(request, "from_height", 0, 0, 2**63 - 1)
    limit = int_param(request, "limit", 100, 1, 1000)
    found = [
        {"height": h, "tx_hash": tx_hash.hex(), "type": ev.type, "attributes": ev.attributes}
        for h, tx_hash, ev in node.chain.ledger.events(f"{address}.{name}", from_height, limit)
    ]
    return json_response({"events": found})


__all__ = ["contract_events", "get_contract", "get_contract_code", "query_contract"]
