"""The OpenAPI 3.0 description of the REST API, built as data.

Schemathesis fuzzes the server from this document in the tests, so every route, parameter
and response status the server can give is declared here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from xinlian import __version__
from xinlian.apps.evidence import CATEGORIES

HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
U64 = {"type": "integer", "minimum": 0}


BINARY = {"type": "string", "format": "binary"}
TIMESTAMP_REPLY = {
    "200": {
        "description": "A DER TimeStampResp (status granted) with the token",
        "content": {"application/timestamp-reply": {"schema": BINARY}},
    }
}
#: RFC 3161 requests are always answered with a TimeStampResp: refusals too (status
#: rejection with a PKIFailureInfo), since RFC 3161 clients cannot read problem documents.
TIMESTAMP_ANSWER = {
    "200": {
        "description": (
            "A DER TimeStampResp: status granted with the token, or status rejection with "
            "the PKIFailureInfo bit (badAlg, badRequest, badDataFormat, unacceptedPolicy, "
            "unacceptedExtension, systemFailure) and a status string '<reason>: <detail>'"
        ),
        "content": {"application/timestamp-reply": {"schema": BINARY}},
    }
}
TIMESTAMP_QUERY = {
    "required": True,
    "content": {"application/timestamp-query": {"schema": BINARY}},
}


def _qparam(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], status: str = "200", text: str = "OK") -> dict[str, Any]:
    return {status: {"description": text, "content": {"application/json": {"schema": schema}}}}


def _problems(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "Problem",
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
        for code in codes
    }


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required is not None:
        out["required"] = required
    return out


SCHEMAS: dict[str, Any] = {
    "Problem": _obj(
        {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "reason": {"type": "string"},
            "instance": {"type": "string"},
        },
        ["title", "status", "detail"],
    ),
    "Header": _obj(
        {
            "chain_id": {"type": "string"},
            "height": U64,
            "time_ms": U64,
            "prev_hash": HEX,
            "tx_root": HEX,
            "state_root": HEX,
            "receipts_root": HEX,
            "validators_hash": HEX,
            "next_validators_hash": HEX,
            "proposer": HEX,
        }
    ),
    "Commit": _obj(
        {
            "height": U64,
            "round": U64,
            "block_hash": HEX,
            "signatures": {
                "type": "array",
                "items": _obj({"validator_index": U64, "signature": HEX}),
            },
        }
    ),
    "SignedPart": _obj(
        {
            "signed": {
                **HEX,
                "description": "Canonical bytes of the vote or proposal body the validator signed",
            },
            "signature": HEX,
            "block_hash": HEX,
        },
        ["signed", "signature", "block_hash"],
    ),
    "MerkleProof": _obj({"index": U64, "size": U64, "siblings": {"type": "array", "items": HEX}}),
    "Event": _obj(
        {
            "type": {"type": "string"},
            "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        }
    ),
    "Receipt": _obj(
        {
            "tx_hash": HEX,
            "status": {"type": "integer"},
            "gas_used": U64,
            "events": {"type": "array", "items": _ref("Event")},
            "error": {"type": "string"},
            "output": HEX,
        }
    ),
    "Block": _obj(
        {
            "height": U64,
            "hash": HASH,
            "header": _ref("Header"),
            "commit": _ref("Commit"),
            "txs": {"type": "array", "items": HASH},
        },
        ["height", "hash", "header", "commit", "txs"],
    ),
}

HASH_PARAM = {"name": "hash", "in": "path", "required": True, "schema": {"type": "string"}}
DIGEST_PARAM = {"name": "digest", "in": "path", "required": True, "schema": {"type": "string"}}
ADDRESS_PARAM = {"name": "address", "in": "path", "required": True, "schema": {"type": "string"}}


_STR = {"type": "string"}
_ID = {"type": "string", "minLength": 1, "maxLength": 512}
_QUERY_INT = {"type": "integer", "minimum": 0}


def _param(name: str, where: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


#: The trace app's routes (GS1 EPCIS 2.0 capture and queries).
TRACE_PATHS: dict[str, Any] = {
    "/v1/trace/validate": {
        "post": {
            "summary": "Validate an EPCIS 2.0 document; its events' CBV 2.0 hashes",
            "operationId": "traceValidate",
            "requestBody": _json_body({"type": "object"}),
            "responses": {
                **_ok(_obj({"valid": {"type": "boolean"}, "events": {"type": "array"}})),
                **_problems(400, 413, 415),
            },
        }
    },
    "/v1/trace/documents": {
        "post": {
            "summary": "Store the event bodies of a valid EPCIS document off chain",
            "description": (
                "A signed upload: X-Xinlian-Signature is the sender's signature (its "
                "transaction key and suite) over the canonical encoding of UploadAuth "
                "[chain_id, request path, X-Xinlian-Time, suite hash of the body]; the time "
                "must be within 300 s of the node's clock. The sender must be an active "
                "writer or admin; the new bytes count against its account's and its "
                "organisation's daily quotas (429 quota_exceeded). Bodies whose events are "
                "never anchored are purged after the node's retention time."
            ),
            "operationId": "traceStoreDocument",
            "parameters": [
                _param("X-Xinlian-Key", "header", HEX, True),
                _param("X-Xinlian-Time", "header", {"type": "string", "pattern": "^[0-9]+$"}, True),
                _param("X-Xinlian-Signature", "header", HEX, True),
            ],
            "requestBody": _json_body(_obj({"document": {"type": "object"}}, ["document"])),
            "responses": {
                **_ok(_obj({"hashes": {"type": "array", "items": _STR}}, ["hashes"])),
                **_problems(400, 401, 403, 413, 415, 429),
            },
        }
    },
    "/v1/trace/capture": {
        "post": {
            "summary": "EPCIS capture: a document and its signed trace.capture transaction",
            "operationId": "traceCapture",
            "requestBody": _json_body(
                _obj({"document": {"type": "object"}, "tx": HEX}, ["document", "tx"])
            ),
            "responses": {
                **_ok(
                    _obj({"capture_id": HASH, "hashes": {"type": "array"}}, ["capture_id"]),
                    "202",
                    "Accepted into the mempool",
                ),
                **_problems(400, 403, 409, 413, 415, 429, 503),
            },
        }
    },
    "/v1/trace/capture/{capture_id}": {
        "get": {
            "summary": "A capture's status",
            "operationId": "traceCaptureStatus",
            "parameters": [_param("capture_id", "path", _STR, True)],
            "responses": {
                **_ok(_obj({"capture_id": HASH, "status": _STR}, ["capture_id", "status"])),
                **_problems(400, 404),
            },
        }
    },
    "/v1/trace/events": {
        "get": {
            "summary": "Events naming an item (EPCIS query: MATCH_anyEPC, EQ_bizStep, time)",
            "operationId": "traceQueryEvents",
            "parameters": [
                _param("epc", "query", _ID, True),
                _param("bizStep", "query", _STR, False),
                _param("start", "query", _QUERY_INT, False),
                _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, False),
                _param("GE_eventTime", "query", _QUERY_INT, False),
                _param("LT_eventTime", "query", _QUERY_INT, False),
            ],
            "responses": {
                **_ok(_obj({"id": _STR, "events": {"type": "array"}}, ["id", "events"])),
                **_problems(400),
            },
        }
    },
    "/v1/trace/events/{hash}": {
        "get": {
            "summary": "An anchored event with its body and on-chain proof",
            "operationId": "traceGetEvent",
            "parameters": [_param("hash", "path", _STR, True)],
            "responses": {
                **_ok(_obj({"hash": _STR, "proof": {"type": "object"}}, ["hash", "proof"])),
                **_problems(400, 404),
            },
        }
    },
    "/v1/trace/history": {
        "get": {
            "summary": "An item's history upstream, downstream (recall) or both",
            "operationId": "traceHistory",
            "parameters": [
                _param("id", "query", _ID, True),
                _param(
                    "direction",
                    "query",
                    {"type": "string", "enum": ["upstream", "downstream", "both"]},
                    False,
                ),
                _param(
                    "max_events",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 20000},
                    False,
                ),
                _param("proofs", "query", {"type": "string", "enum": ["0", "1"]}, False),
            ],
            "responses": {
                **_ok(
                    _obj(
                        {"id": _STR, "events": {"type": "array"}, "truncated": {"type": "boolean"}},
                        ["id", "events", "truncated"],
                    )
                ),
                **_problems(400),
            },
        }
    },
}


@lru_cache(maxsize=1)
def openapi_spec() -> dict[str, Any]:
    """The OpenAPI document (cached; it does not change while a node runs)."""
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "operationId": "healthz",
                "responses": _ok(
                    _obj({"status": {"type": "string"}, "height": {"type": "integer"}})
                ),
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: serves current answers (503 with reasons if not)",
                "operationId": "readyz",
                "responses": _ok(
                    _obj({"status": {"type": "string"}, "height": {"type": "integer"}})
                ),
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "operationId": "metrics",
                "responses": {
                    "200": {
                        "description": "Metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/v1/status": {
            "get": {
                "summary": "Chain and node status",
                "operationId": "status",
                "responses": _ok(
                    _obj(
                        {
                            "chain_id": {"type": "string"},
                            "suite": {"type": "string"},
                            "genesis_hash": HASH,
                            "height": {"type": "integer"},
                            "state_root": HEX,
                            "mempool_size": U64,
                            "consensus": _obj(
                                {
                                    "height": U64,
                                    "round": U64,
                                    "voting": {"type": "boolean"},
                                    "validators": U64,
                                    "peers": {"type": "array", "items": HEX},
                                }
                            ),
                        }
                    )
                ),
            }
        },
        "/v1/genesis": {
            "get": {
                "summary": "Genesis document",
                "operationId": "genesis",
                "responses": _ok({"type": "object"}),
            }
        },
        "/v1/validators": {
            "get": {
                "summary": "Validator set (of the next block, or of a committed height)",
                "operationId": "validators",
                "parameters": [
                    {
                        "name": "height",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                        "description": "The set that signed this block (0 or absent: next).",
                    }
                ],
                "responses": {
                    **_ok(_obj({"validators": {"type": "array"}, "hash": HASH})),
                    **_problems(400, 404),
                },
            }
        },
        "/v1/consensus/equivocations": {
            "get": {
                "summary": "Equivocations this node detected (two conflicting signed messages)",
                "operationId": "equivocations",
                "responses": _ok(
                    _obj(
                        {
                            "equivocations": {
                                "type": "array",
                                "items": _obj(
                                    {
                                        "detected_ms": U64,
                                        "kind": {
                                            "type": "string",
                                            "enum": ["proposal", "prevote", "precommit"],
                                        },
                                        "height": U64,
                                        "round": U64,
                                        "validator_index": U64,
                                        "validator": HEX,
                                        "first": _ref("SignedPart"),
                                        "second": _ref("SignedPart"),
                                    }
                                ),
                            }
                        }
                    )
                ),
            }
        },
        "/v1/validators/changes": {
            "get": {
                "summary": "Certified validator-set changes since genesis",
                "operationId": "validatorChanges",
                "responses": _ok(
                    _obj(
                        {
                            "changes": {
                                "type": "array",
                                "items": _obj(
                                    {
                                        "height": U64,
                                        "header": _ref("Header"),
                                        "commit": _ref("Commit"),
                                        "validators": {"type": "array"},
                                    }
                                ),
                            }
                        }
                    )
                ),
            }
        },
        "/v1/transactions": {
            "post": {
                "summary": "Submit a signed transaction",
                "operationId": "submitTransaction",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _obj({"tx": HEX}, ["tx"])}},
                },
                "responses": {
                    **_ok(_obj({"hash": HASH}), "202", "Accepted into the mempool"),
                    **_problems(400, 403, 409, 413, 415, 503),
                },
            }
        },
        "/v1/transactions/batch": {
            "post": {
                "summary": "Submit many signed transactions",
                "operationId": "submitBatch",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj({"txs": {"type": "array", "items": HEX}}, ["txs"])
                        }
                    },
                },
                "responses": {
                    **_ok(_obj({"accepted": U64, "results": {"type": "array"}})),
                    **_problems(400, 413, 415),
                },
            }
        },
        "/v1/transactions/simulate": {
            "post": {
                "summary": "Run a transaction on the latest state without committing it",
                "description": (
                    "Give a signed transaction as tx, or an unsigned call: the sender as "
                    "sender (public key) or address, target, method, args and optionally "
                    "nonce (default: the next committed one), gas_limit and expiry. The "
                    "answer is the receipt it would get as the next block's first "
                    "transaction; nothing is kept. outcome is ok, failed (it would be in a "
                    "block with a failed receipt) or refused (a node would not accept it; "
                    "refused says why). Simulations use at most gas_cap gas (capped is "
                    "true when that cap, not the call's limit, stopped it)."
                ),
                "operationId": "simulateTransaction",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj(
                                {
                                    "tx": HEX,
                                    "sender": HEX,
                                    "address": {"type": "string"},
                                    "target": {"type": "string"},
                                    "method": {"type": "string"},
                                    "args": {"oneOf": [HEX, {"type": "object"}]},
                                    "nonce": U64,
                                    "gas_limit": {"type": "integer", "minimum": 1},
                                    "expiry": U64,
                                }
                            )
                        }
                    },
                },
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "outcome": {"type": "string", "enum": ["ok", "failed", "refused"]},
                                "height": {**U64, "nullable": True},
                                "hash": {**HASH, "nullable": True},
                                "signed": {"type": "boolean"},
                                "sender_address": {"type": "string", "nullable": True},
                                "nonce": {**U64, "nullable": True},
                                "gas_limit": {**U64, "nullable": True},
                                "gas_cap": U64,
                                "capped": {"type": "boolean"},
                                "refused": {"type": "string", "nullable": True},
                                "code": {"type": "string", "nullable": True},
                                "receipt": {**SCHEMAS["Receipt"], "nullable": True},
                            },
                            ["outcome", "signed", "capped", "refused", "receipt"],
                        )
                    ),
                    **_problems(400, 413, 415, 503),
                },
            }
        },
        "/v1/transactions/{hash}": {
            "get": {
                "summary": "A transaction with receipt and proofs",
                "operationId": "getTransaction",
                "parameters": [HASH_PARAM],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "hash": HASH,
                                "status": {"type": "string", "enum": ["pending", "committed"]},
                                "receipt": _ref("Receipt"),
                            },
                            ["hash", "status"],
                        )
                    ),
                    **_problems(400, 404),
                },
            }
        },
        "/v1/blocks/{height}": {
            "get": {
                "summary": "A block by height or 'latest'",
                "operationId": "getBlock",
                "parameters": [
                    {"name": "height", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {**_ok(_ref("Block")), **_problems(400, 404)},
            }
        },
        "/v1/blocks/by-hash/{hash}": {
            "get": {
                "summary": "A block by hash",
                "operationId": "getBlockByHash",
                "parameters": [HASH_PARAM],
                "responses": {**_ok(_ref("Block")), **_problems(400, 404)},
            }
        },
        "/v1/state/{key}": {
            "get": {
                "summary": "A state value with its Merkle proof",
                "operationId": "getState",
                "parameters": [
                    {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "height",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0},
                    },
                    {
                        "name": "encoding",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["utf8", "hex"]},
                    },
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "key": HEX,
                                "height": U64,
                                "value": {"type": "string", "nullable": True},
                                "proof": {"type": "object"},
                                "state_root": HEX,
                            }
                        )
                    ),
                    **_problems(400, 404, 410),
                },
            }
        },
        "/v1/query": {
            "post": {
                "summary": "Run a read-only app method",
                "operationId": "query",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj(
                                {
                                    "target": {"type": "string"},
                                    "method": {"type": "string"},
                                    "args": {"oneOf": [HEX, {"type": "object"}]},
                                },
                                ["target", "method"],
                            )
                        }
                    },
                },
                # 503: the query workers are all busy (queries never run on the event loop).
                "responses": {**_ok(_obj({"result": {}})), **_problems(400, 415, 503)},
            }
        },
        "/v1/accounts/{address}": {
            "get": {
                "summary": "An account and its next nonce",
                "operationId": "getAccount",
                "parameters": [
                    {
                        "name": "address",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "address": HEX,
                                "nonce": U64,
                                "account": {"type": "object", "nullable": True},
                            }
                        )
                    ),
                    **_problems(400),
                },
            }
        },
        "/v1/events": {
            "get": {
                "summary": "Events by type",
                "operationId": "getEvents",
                "parameters": [
                    {"name": "type", "in": "query", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "from_height",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "description": (
                            "Continue from this position: the 'next' of the previous page, "
                            "<height>.<tx index>.<event index> (overrides from_height)."
                        ),
                        "schema": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"},
                    },
                ],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "events": {"type": "array"},
                                "next": {"type": "string", "nullable": True},
                            },
                            ["events", "next"],
                        )
                    ),
                    **_problems(400),
                },
            }
        },
        "/v1/evidence": {
            "get": {
                "summary": "Batches anchored by an account, or of a category in a time range",
                "operationId": "listEvidence",
                "parameters": [
                    _qparam("submitter", {"type": "string"}),
                    _qparam("start", U64),
                    _qparam("category", {"type": "string", "enum": list(CATEGORIES)}),
                    _qparam("from_ms", U64),
                    _qparam("to_ms", U64),
                    _qparam("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    _qparam("cursor", {"type": "string"}),
                ],
                "responses": {
                    **_ok(_obj({"batches": {"type": "array"}}, ["batches"])),
                    **_problems(400),
                },
            }
        },
        "/v1/evidence/{digest}": {
            "get": {
                "summary": "Where a digest was first anchored",
                "operationId": "getEvidence",
                "parameters": [DIGEST_PARAM],
                "responses": {**_ok({"type": "object"}), **_problems(400, 404)},
            }
        },
        "/v1/evidence/{digest}/custody": {
            "get": {
                "summary": "Chain of custody of an anchored digest",
                "operationId": "getEvidenceCustody",
                "parameters": [DIGEST_PARAM],
                "responses": {
                    **_ok(_obj({"custody": {"type": "array"}}, ["custody"])),
                    **_problems(400, 404),
                },
            }
        },
        "/v1/evidence/{digest}/receipt": {
            "get": {
                "summary": "Offline-verifiable evidence receipt (version 2)",
                "operationId": "getEvidenceReceipt",
                "parameters": [DIGEST_PARAM],
                "responses": {
                    **_ok(
                        _obj(
                            {"version": {"type": "integer"}, "digest": HASH},
                            ["version", "digest"],
                        )
                    ),
                    **_problems(400, 404, 409),
                },
            }
        },
        **TRACE_PATHS,
        "/v1/evidence/{digest}/timestamp": {
            "get": {
                "summary": "RFC 3161 time-stamp token of an anchored digest (genTime: block time)",
                "operationId": "getEvidenceTimestamp",
                "parameters": [DIGEST_PARAM],
                "responses": {**TIMESTAMP_REPLY, **_problems(400, 404, 503)},
            },
            "post": {
                "summary": "Answer an RFC 3161 TimeStampReq for an anchored digest",
                "operationId": "postEvidenceTimestamp",
                "parameters": [DIGEST_PARAM],
                "requestBody": TIMESTAMP_QUERY,
                "responses": {**TIMESTAMP_ANSWER, **_problems(400, 413, 415)},
            },
        },
        "/v1/tsa": {
            "post": {
                "summary": "RFC 3161 over HTTP: stamp the request's imprint if it is anchored",
                "operationId": "postTsa",
                "requestBody": TIMESTAMP_QUERY,
                "responses": {**TIMESTAMP_ANSWER, **_problems(413, 415)},
            }
        },
        "/v1/contracts/{address}": {
            "get": {
                "summary": "A contract's owner, code hash, version, policy and methods",
                "operationId": "getContract",
                "parameters": [ADDRESS_PARAM],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "address": {"type": "string"},
                                "owner": {"type": "string"},
                                "code_hash": HEX,
                                "version": U64,
                                "policy": {"type": "string"},
                                "created": U64,
                                "methods": {"type": "array", "items": {"type": "object"}},
                            },
                            ["address", "owner", "code_hash", "version", "methods"],
                        )
                    ),
                    **_problems(400, 404),
                },
            }
        },
        "/v1/contracts/{address}/code": {
            "get": {
                "summary": "A contract's current source",
                "operationId": "getContractCode",
                "parameters": [ADDRESS_PARAM],
                "responses": {
                    **_ok(
                        _obj(
                            {
                                "address": {"type": "string"},
                                "code_hash": HEX,
                                "source": {"type": "string"},
                            },
                            ["address", "code_hash", "source"],
                        )
                    ),
                    **_problems(400, 404),
                },
            }
        },
        "/v1/contracts/{address}/events": {
            "get": {
                "summary": "Events a contract emitted under one name",
                "operationId": "getContractEvents",
                "parameters": [
                    ADDRESS_PARAM,
                    {"name": "name", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "from_height", "in": "query", "schema": U64},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {
                    **_ok(_obj({"events": {"type": "array"}}, ["events"])),
                    **_problems(400),
                },
            }
        },
        "/v1/contracts/{address}/query": {
            "post": {
                "summary": "Run a @view method of a contract without a transaction",
                "operationId": "queryContract",
                "parameters": [ADDRESS_PARAM],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj(
                                {"method": {"type": "string"}, "args": {"type": "object"}},
                                ["method"],
                            )
                        }
                    },
                },
                "responses": {
                    **_ok(_obj({"result": {}}, ["result"])),
                    **_problems(400, 413, 415, 503),
                },
            }
        },
    }
    # Any operation may be refused by the per-client rate limit.
    for item in paths.values():
        for operation in item.values():
            operation["responses"].update(_problems(429))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Xinlian node API",
            "version": __version__,
            "description": "REST API of a Xinlian node. Bytes are lowercase hex. Errors "
            "are application/problem+json. A WebSocket at /v1/ws pushes "
            "every committed block with its events.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
