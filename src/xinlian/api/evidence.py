"""Evidence routes: an anchored digest's record, its chain of custody, its receipt and
its RFC 3161 time-stamp token."""

from __future__ import annotations

import asyncio

from aiohttp import web

from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.request import NODE, int_param, json_response, parse_hex
from xinlian.apps.evidence import NAME, DigestRecord, digest_key
from xinlian.codec import CodecError, decode, encode_args, to_builtins
from xinlian.crypto.merkle import merkle_proof, merkle_root_from_proof
from xinlian.crypto.timestamp import (
    MAX_REQUEST_BYTES,
    POLICY_OID,
    TimeStampError,
    TsaIdentity,
    load_tsa,
    parse_request,
    rejection,
    serial_number,
    stamp,
)
from xinlian.execution import QueryError
from xinlian.ledger import NotFound
from xinlian.node.chain import Chain
from xinlian.node.runtime import Node
from xinlian.sdk.evidence import EvidenceReceipt, ValidatorChange
from xinlian.types import ValidatorSet
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


def _validator_set(chain: Chain, set_hash: bytes, height: int) -> ValidatorSet:
    try:
        return chain.ledger.validator_set(set_hash)
    except NotFound:
        raise Problem(
            409,
            "Conflict",
            f"the validator set {set_hash.hex()[:16]}… in force at height {height} is not "
            "known to this node",
            "validator_set_unknown",
        ) from None


async def list_evidence(request: web.Request) -> web.Response:
    """Batches anchored by an account (``?submitter=ADDRESS&start=&limit=``) or of a
    category in a time range (``?category=&from_ms=&to_ms=&limit=&cursor=``)."""
    q = request.query
    submitter, category = q.get("submitter"), q.get("category")
    if (submitter is None) == (category is None):
        raise bad_request("give exactly one of submitter and category", "bad_param")
    limit = int_param(request, "limit", 100, 1, 100)
    for name in ("start", "from_ms", "to_ms"):  # refused when malformed, even if unused
        int_param(request, name, 0, 0, 2**62)
    args: dict[str, object]
    if submitter is not None:
        if not 0 < len(submitter) <= 128:
            raise bad_request("submitter is an account address", "bad_param")
        args = {"address": submitter, "start": int_param(request, "start", 0, 0, 2**62)}
        method = "by_submitter"
    else:
        assert category is not None
        if "from_ms" not in q or "to_ms" not in q:
            raise bad_request("category needs from_ms and to_ms (at most 366 days)", "bad_param")
        args = {
            "category": category,
            "from_ms": int_param(request, "from_ms", 0, 0, 2**62),
            "to_ms": int_param(request, "to_ms", 0, 0, 2**62),
            "cursor": q.get("cursor", "")[:64],
        }
        method = "by_category"
    try:
        result = request.app[NODE].chain.query(NAME, method, encode_args({**args, "limit": limit}))
    except (QueryError, CodecError) as exc:
        raise bad_request(str(exc), "bad_query") from None
    return json_response(to_builtins(result))


def build_receipt(node: Node, digest: bytes) -> EvidenceReceipt:
    """The evidence receipt of an anchored digest, from the ledger and state, with the
    certified validator-set changes from genesis up to its block."""
    chain = node.chain
    raw = chain.state.get(b"evidence/" + digest_key(digest))
    if raw is None:
        raise not_found(f"digest {digest.hex()} is not anchored")
    where = decode(raw, DigestRecord)
    record = chain.ledger.tx(where.batch)
    args = decode(record.tx.tx.args, AnchorArgs)
    suite = chain.suite
    header = chain.ledger.header(record.height)
    steps = []
    for h in [h for h in chain.ledger.validator_changes() if h < record.height]:
        step = chain.ledger.header(h)
        steps.append(
            ValidatorChange(
                step,
                chain.ledger.commit(h),
                _validator_set(chain, step.next_validators_hash, h + 1),
            )
        )
    # One pass over the batch tree: the path, and the root recomputed from it.
    batch_proof = merkle_proof(suite.hash, args.digests, where.index)
    batch_root = merkle_root_from_proof(suite.hash, digest, batch_proof)
    assert batch_root is not None
    _, tx_proof = chain.ledger.tx_proof(where.batch)
    _, receipt_proof = chain.ledger.receipt_proof(where.batch)
    return EvidenceReceipt(
        chain_id=chain.chain_id,
        suite=suite.name,
        genesis_hash=chain.genesis_hash,
        digest=digest,
        batch_root=batch_root,
        batch_proof=batch_proof,
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
        validators=_validator_set(chain, header.validators_hash, record.height),
        validator_changes=tuple(steps),
    )


async def get_receipt(request: web.Request) -> web.Response:
    """The self-contained, offline-verifiable receipt of an anchored digest."""
    # Recomputing a large batch's Merkle tree takes up to ~0.2 s: keep it off the event loop.
    node, digest = request.app[NODE], _digest(request)
    receipt = await asyncio.get_running_loop().run_in_executor(None, build_receipt, node, digest)
    return json_response(receipt.to_json())


# RFC 3161 TIME-STAMP TOKENS

#: The node's TSA, or why it has none (loaded once when the API starts).
TSA: web.AppKey[TsaIdentity | TimeStampError] = web.AppKey(
    "tsa",
    TsaIdentity | TimeStampError,  # type: ignore[arg-type]
)
TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"


def load_node_tsa(node: Node) -> TsaIdentity | TimeStampError:
    """The node's TSA identity from the ``[tsa]`` files of its config, or the error that
    makes time-stamping unavailable (the rest of the API works without it)."""
    try:
        return load_tsa(*node.config.tsa_paths())
    except TimeStampError as exc:
        return exc


def _tsa(request: web.Request) -> TsaIdentity:
    tsa = request.app[TSA]
    if isinstance(tsa, TimeStampError):
        raise Problem(503, "Service Unavailable", f"no time-stamping: {tsa}", "tsa_unavailable")
    return tsa


def issue_token(
    node: Node, tsa: TsaIdentity, digest: bytes, nonce: int | None = None, certs: bool = True
) -> bytes:
    """A DER ``TimeStampResp`` stamping ``digest`` with the time of the block in which it
    was first anchored. Only digests in committed state get one, and a committed block
    is final (it has its commit certificate)."""
    chain = node.chain
    raw = chain.state.get(b"evidence/" + digest_key(digest))
    if raw is None:
        raise not_found(f"digest {digest.hex()} is not anchored in a final block")
    where = decode(raw, DigestRecord)
    height = chain.ledger.tx(where.batch).height
    header = chain.ledger.header(height)
    serial = serial_number(
        chain.genesis_hash, where.batch, digest, b"" if nonce is None else str(nonce).encode()
    )
    return stamp(
        tsa,
        hash_name=chain.suite.hash_name,
        digest=digest,
        time_ms=header.time_ms,
        serial=serial,
        nonce=nonce,
        include_certs=certs,
    )


def _reply(token: bytes) -> web.Response:
    return web.Response(body=token, content_type=TIMESTAMP_REPLY)


async def get_timestamp(request: web.Request) -> web.Response:
    """An RFC 3161 time-stamp token (``TimeStampResp`` DER, with the TSA certificate) for
    an anchored digest; genTime is the block time."""
    digest = _digest(request)
    return _reply(issue_token(request.app[NODE], _tsa(request), digest))


class _Rejected(Exception):  # noqa: N818 - the RFC 3161 status it becomes
    """A refused TimeStampReq: answered as a ``TimeStampResp`` with status rejection."""

    def __init__(self, reason: str, detail: str, fail_info: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.fail_info = fail_info


async def _read_query(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        raise _Rejected(
            "too_large", f"a TimeStampReq is at most {MAX_REQUEST_BYTES} bytes", "bad_data_format"
        )
    body = await request.content.read(MAX_REQUEST_BYTES + 1)
    if len(body) > MAX_REQUEST_BYTES:
        raise _Rejected(
            "too_large", f"a TimeStampReq is at most {MAX_REQUEST_BYTES} bytes", "bad_data_format"
        )
    return body


def _grant(request: web.Request, body: bytes, digest: bytes | None) -> bytes:
    """The granted ``TimeStampResp`` for a TimeStampReq, or ``_Rejected`` saying why not."""
    node, tsa = request.app[NODE], request.app[TSA]
    if isinstance(tsa, TimeStampError):
        raise _Rejected("tsa_unavailable", f"no time-stamping: {tsa}", "system_failure")
    try:
        req = parse_request(body)
    except TimeStampError as exc:
        raise _Rejected("bad_timestamp_query", f"bad TimeStampReq: {exc}", exc.fail_info) from None
    want = node.chain.suite.hash_name
    if req.hash_name != want:
        raise _Rejected(
            "bad_alg",
            f"the request's imprint is {req.hash_name}; this chain anchors {want} digests",
            "bad_alg",
        )
    if digest is not None and req.digest != digest:
        raise _Rejected(
            "imprint_mismatch",
            "the request's message imprint is not the digest in the path",
            "bad_request",
        )
    if req.policy is not None and req.policy != POLICY_OID:
        raise _Rejected(
            "unaccepted_policy",
            f"unaccepted policy {req.policy}; this TSA stamps under {POLICY_OID}",
            "unaccepted_policy",
        )
    try:
        return issue_token(node, tsa, req.digest, req.nonce, req.cert_req)
    except Problem as problem:
        if problem.status != 404:
            raise
        raise _Rejected("not_found", problem.detail, "bad_request") from None


async def _answer_query(request: web.Request, digest: bytes | None) -> web.Response:
    """Answer a TimeStampReq the RFC 3161 way: always a DER ``TimeStampResp`` (HTTP 200),
    ``granted`` with the token, or ``rejection`` with the PKIFailureInfo bit and a status
    string ``<reason>: <detail>`` (the reason is the code the JSON routes would give).
    Only a body that is not sent as a TimeStampReq at all gets a problem document (415)."""
    if request.content_type != TIMESTAMP_QUERY:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"send an RFC 3161 TimeStampReq as {TIMESTAMP_QUERY}, not {request.content_type}",
            "media_type",
        )
    try:
        body = await _read_query(request)
        return _reply(_grant(request, body, digest))
    except _Rejected as refused:
        return _reply(rejection(f"{refused.reason}: {refused.detail}", refused.fail_info))


async def post_timestamp(request: web.Request) -> web.Response:
    """Answer an RFC 3161 ``TimeStampReq`` (DER, ``application/timestamp-query``, as
    ``openssl ts -query`` writes) for the digest in the path: its nonce and certReq are
    honoured."""
    return await _answer_query(request, _digest(request))


async def post_tsa(request: web.Request) -> web.Response:
    """The same as plain RFC 3161 over HTTP: the digest is the request's imprint."""
    return await _answer_query(request, None)
