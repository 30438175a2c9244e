"""Read routes: health, metrics, status, genesis, validators, blocks, state, queries, events."""

from __future__ import annotations

import msgspec
from aiohttp import web

from xinlian import __version__
from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.queries import QUERIES
from xinlian.api.request import NODE, int_param, json_body, json_response, parse_hex
from xinlian.api.spec import openapi_spec
from xinlian.api.views import block_json, commit_json, header_json
from xinlian.apps.identity import account_key, load_account
from xinlian.codec import CodecError, encode_args, to_builtins
from xinlian.execution import QueryError
from xinlian.state import PrunedVersionError, VersionError


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    node = request.app[NODE]
    return web.Response(
        body=node.metrics.render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.0 description of this API."""
    return json_response(openapi_spec())


async def status(request: web.Request) -> web.Response:
    """Chain and node status."""
    node = request.app[NODE]
    chain = node.chain
    header = chain.last_header()
    return json_response(
        {
            "chain_id": chain.chain_id,
            "suite": chain.suite.name,
            "genesis_hash": chain.genesis_hash.hex(),
            "height": chain.height,
            "latest_block_hash": chain.block_hash(header).hex() if header else None,
            "latest_time_ms": header.time_ms if header else node.genesis.time_ms,
            "state_root": chain.state_root().hex(),
            "mempool_size": len(chain.mempool),
            "node": node.config.name,
            "validator": node.key.public_key.hex(),
            "version": __version__,
            "consensus": node.consensus_status(),
        }
    )


async def equivocations(request: web.Request) -> web.Response:
    """Validators this node caught signing two conflicting messages (with both)."""
    return json_response({"equivocations": request.app[NODE].equivocations()})


async def genesis(request: web.Request) -> web.Response:
    """The genesis document."""
    node = request.app[NODE]
    return json_response(msgspec.to_builtins(node.genesis))


async def validators(request: web.Request) -> web.Response:
    """The validator set of the next block, or with ``?height=H`` the set that signed H."""
    chain = request.app[NODE].chain
    height = int_param(request, "height", 0, 0, 2**63 - 1)
    if height == 0:
        vs, vs_hash = chain.validators, chain.validators_hash
    else:
        if height > chain.height:
            raise not_found(f"no block at height {height}; the chain is at {chain.height}")
        vs_hash = chain.ledger.header(height).validators_hash
        vs = chain.ledger.validator_set(vs_hash)
    return json_response(
        {"validators": [to_builtins(v) for v in vs.validators], "hash": vs_hash.hex()}
    )


async def validator_changes(request: web.Request) -> web.Response:
    """Every block that changed the validator set: its header and commit certificate (by
    the old set) and the new set its ``next_validators_hash`` names, in height order. A
    client that trusts the genesis set follows these to trust any later set."""
    ledger = request.app[NODE].chain.ledger
    changes = []
    for height in ledger.validator_changes():
        header = ledger.header(height)
        new = ledger.validator_set(header.next_validators_hash)
        changes.append(
            {
                "height": height,
                "header": header_json(header),
                "commit": commit_json(ledger.commit(height)),
                "validators": [to_builtins(v) for v in new.validators],
            }
        )
    return json_response({"changes": changes})


async def get_block(request: web.Request) -> web.Response:
    """A block by height or ``latest``."""
    chain = request.app[NODE].chain
    which = request.match_info["height"]
    if which == "latest":
        height = chain.height
    elif which.isascii() and which.isdigit() and len(which) <= 19:
        height = int(which)
    else:
        raise bad_request(
            f"height must be a non-negative integer or 'latest', got {which[:40]!r}", "bad_param"
        )
    if height < 1 or height > chain.height:
        raise not_found(f"no block at height {height}; the chain is at {chain.height}")
    return json_response(block_json(chain.ledger.block(height)))


async def get_block_by_hash(request: web.Request) -> web.Response:
    """A block by its hash."""
    chain = request.app[NODE].chain
    block_hash = parse_hex(request.match_info["hash"], "block hash", 32)
    return json_response(block_json(chain.ledger.block(chain.ledger.height_of(block_hash))))


async def get_state(request: web.Request) -> web.Response:
    """A state value with its proof against the state root at a height."""
    chain = request.app[NODE].chain
    key_text = request.match_info["key"]
    encoding = request.query.get("encoding", "utf8")
    if encoding == "hex":
        key = parse_hex(key_text, "key")
    elif encoding == "utf8":
        key = key_text.encode()
    else:
        raise bad_request("encoding must be utf8 or hex", "bad_param")
    if not key or len(key) > 1024:
        raise bad_request("key must be 1-1024 bytes", "bad_param")
    height = int_param(request, "height", chain.height, 0, 2**63 - 1)
    try:
        at, value, proof = chain.prove_state(key, height)
    except PrunedVersionError as exc:
        raise Problem(410, "Gone", str(exc), "pruned") from None
    except VersionError as exc:
        raise not_found(str(exc)) from None
    header = chain.ledger.header(at) if at > 0 else None
    return json_response(
        {
            "key": key.hex(),
            "height": at,
            "value": None if value is None else value.hex(),
            "proof": to_builtins(proof),
            "state_root": chain.state_root(at).hex(),
            "header": header_json(header) if header else None,
            "block_hash": chain.block_hash(header).hex() if header else None,
        }
    )


async def query(request: web.Request) -> web.Response:
    """Run a read-only app method."""
    doc = await json_body(request)
    target, method, args = doc.get("target"), doc.get("method"), doc.get("args", {})
    if not isinstance(target, str) or not isinstance(method, str):
        raise bad_request('body must be {"target": str, "method": str, "args": ...}', "bad_body")
    if isinstance(args, str):
        raw_args = parse_hex(args, "args")
    elif isinstance(args, dict):
        try:
            raw_args = encode_args(args)
        except CodecError as exc:
            raise bad_request(str(exc), "bad_args") from None
    else:
        raise bad_request("args must be hex of canonical args or a JSON object", "bad_args")
    chain = request.app[NODE].chain

    def run() -> object:  # may run contract code: in a worker thread, not on the event loop
        try:
            return to_builtins(chain.query(target, method, raw_args))
        except QueryError as exc:
            raise bad_request(str(exc), "bad_query") from None

    return json_response({"result": await request.app[QUERIES].run(run)})


async def account(request: web.Request) -> web.Response:
    """An account record and its next nonce."""
    chain = request.app[NODE].chain
    address = request.match_info["address"].lower()
    parse_hex(address, "address", 20)
    record = load_account(chain.state.get(b"identity/" + account_key(address)))
    return json_response(
        {
            "address": address,
            "nonce": chain.next_nonce(address),
            "account": None if record is None else to_builtins(record),
        }
    )


#: Largest height, transaction index and event index a cursor may name.
_CURSOR_MAX = (2**63 - 1, 2**32 - 1, 2**16 - 1)


def parse_cursor(text: str) -> tuple[int, int, int]:
    """An events cursor ``<height>.<tx index>.<event index>`` (from a ``next`` answer)."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 19 for p in parts):
        raise bad_request(
            "cursor must be <height>.<tx index>.<event index> (the 'next' of an answer)",
            "bad_param",
        )
    values = (int(parts[0]), int(parts[1]), int(parts[2]))
    if any(v > hi for v, hi in zip(values, _CURSOR_MAX, strict=True)):
        raise bad_request("cursor is out of range", "bad_param")
    return values


async def events(request: web.Request) -> web.Response:
    """Events of one type, from a height (or a cursor) on, oldest first.

    Each event carries its position (``height``, ``index``: the transaction's index in the
    block, ``event_index``: the event's index in its receipt). When more events follow,
    ``next`` is the cursor to ask for the next page with (``cursor=...``), so a height
    holding more events than ``limit`` is read in full."""
    chain = request.app[NODE].chain
    event_type = request.query.get("type")
    if not event_type or len(event_type) > 128 or "\x00" in event_type:
        raise bad_request("query parameter type (1-128 characters) is required", "bad_param")
    from_height = int_param(request, "from_height", 0, 0, 2**63 - 1)
    limit = int_param(request, "limit", 100, 1, 1000)
    cursor = request.query.get("cursor")
    start = parse_cursor(cursor) if cursor is not None else (from_height, 0, 0)
    page = list(chain.ledger.events_page(event_type, start, limit + 1))
    found = [
        {
            "height": at[0],
            "index": at[1],
            "event_index": at[2],
            "tx_hash": tx_hash.hex(),
            "type": ev.type,
            "attributes": ev.attributes,
        }
        for at, tx_hash, ev in page[:limit]
    ]
    following = page[limit][0] if len(page) > limit else None
    return json_response(
        {"events": found, "next": None if following is None else ".".join(map(str, following))}
    )
