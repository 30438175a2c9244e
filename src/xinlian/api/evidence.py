"""Evidence routes: an anchored digest's record, its chain of custody and its receipt."""

from __future__ import annotations

import asyncio

from aiohttp import web

from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.request import NODE, json_response, parse_hex
from xinlian.apps.evidence import NAME, DigestRecord, digest_key
from xinlian.codec import CodecError, decode, encode_args, to_builtins
from xinlian.crypto.merkle import merkle_proof, merkle_root
from xinlian.execution import QueryError
from xinlian.node.runtime import Node
from xinlian.sdk.evidence import EvidenceReceipt
from xinlian.types.evidence import AnchorArgs


def _digest(request: web.Request) -> bytes:
    return parse_hex(request.match_info["digest"].lower(), "digest", 32)


def _query(node: Node, method: str, digest: bytes) -> object:
    try:
        return node.chain.query(NAME, method, encode_args({"digest": digest}))
    except (QueryError, CodecError) as exc:
        raise bad_request(str(exc), "bad_query") from None


async def get_evidence(request: web.Request) -> web.Response:
    """Where a digest was first anchored."""
    digest = _digest(request)
    record = _query(request.app[NODE], "get", digest)
    if record is None:
        raise not_found(f"digest {digest.hex()} is not anchored")
    return json_response(to_builtins(record))


async def get_custody(request: web.Request) -> web.Response:
    """The chain of custody of a digest (the digest, its parent, ...)."""
    digest = _digest(request)
    chain = _query(request.app[NODE], "custody", digest)
    if not chain:
        raise not_found(f"digest {digest.hex()} is not anchored")
    return json_response({"custody": to_builtins(chain)})


def build_receipt(node: Node, digest: bytes) -> EvidenceReceipt:
    """The evidence receipt of an anchored digest, from the ledger and state."""
    chain = node.chain
    raw = chain.state.get(b"evidence/" + digest_key(digest))
    if raw is None:
        raise not_found(f"digest {digest.hex()} is not anchored")
    where = decode(raw, DigestRecord)
    record = chain.ledger.tx(where.batch)
    args = decode(record.tx.tx.args, AnchorArgs)
    suite = chain.suite
    header = chain.ledger.header(record.height)
    if header.validators_hash != chain.validators_hash:
        raise Problem(
            409,
            "Conflict",
            f"block {record.height} was signed by an earlier validator set; receipts "
            "across validator-set changes are not supported yet",
            "validator_set_changed",
        )
    _, tx_proof = chain.ledger.tx_proof(where.batch)
    _, receipt_proof = chain.ledger.receipt_proof(where.batch)
    return EvidenceReceipt(
        chain_id=chain.chain_id,
        suite=suite.name,
        genesis_hash=chain.genesis_hash,
        digest=digest,
        batch_root=merkle_root(suite.hash, args.digests),
        batch_proof=merkle_proof(suite.hash, args.digests, where.index),
        tx_raw=record.raw,
        tx_hash=where.batch,
        height=record.height,
        tx_index=record.index,
        tx_proof=tx_proof,
        receipt=record.receipt,
        receipt_proof=receipt_proof,
        block_hash=chain.ledger.block(record.height).hash,
        header=header,
        commit=chain.ledger.commit(record.height),
        validators=chain.validators,
    )


async def get_receipt(request: web.Request) -> web.Response:
    """The self-contained, offline-verifiable receipt of an anchored digest."""
    # Recomputing a large batch's Merkle tree takes up to ~0.2 s: keep it off the event loop.
    node, digest = request.app[NODE], _digest(request)
    receipt = await asyncio.get_running_loop().run_in_executor(None, build_receipt, node, digest)
    return json_response(receipt.to_json())
