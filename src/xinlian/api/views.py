"""JSON shapes of records served by the API (bytes as lowercase hex)."""

from __future__ import annotations

from typing import Any

from xinlian.codec import to_builtins
from xinlian.ledger import BlockRecord
from xinlian.types import BlockHeader, Commit, Receipt, SignedTransaction


def header_json(header: BlockHeader) -> dict[str, Any]:
    """A header with named fields."""
    out: dict[str, Any] = to_builtins(header)
    return out


def commit_json(commit: Commit) -> dict[str, Any]:
    """A commit certificate."""
    out: dict[str, Any] = to_builtins(commit)
    return out


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """A receipt; ``output`` stays hex (canonical bytes)."""
    out: dict[str, Any] = to_builtins(receipt)
    return out


def tx_json(stx: SignedTransaction) -> dict[str, Any]:
    """A signed transaction's fields."""
    body: dict[str, Any] = to_builtins(stx.tx)
    body["signature"] = stx.signature.hex()
    return body


def block_json(record: BlockRecord) -> dict[str, Any]:
    """A block: header, hash, commit and its transaction hashes."""
    return {
        "height": record.header.height,
        "hash": record.hash.hex(),
        "header": header_json(record.header),
        "commit": commit_json(record.commit),
        "txs": [h.hex() for h in record.tx_hashes],
    }
