"""The Python SDK of Xinlian: build and sign transactions, talk to a node, verify proofs.

It depends only on ``xinlian.types``, ``xinlian.codec`` and ``xinlian.crypto`` (and on
httpx/aiohttp), so applications can use it without the node.

- :class:`Client` (blocking) and :class:`AsyncClient` (asyncio, plus a WebSocket block
  feed) wrap the REST API: ``send``, ``send_many``, ``get_tx``, ``wait_for``,
  ``get_block``, ``get_state`` (proof-verified), ``query``, ``account``, ``events``.
- :class:`Signer` builds and signs transactions offline; their hash is known before
  sending.
- :mod:`xinlian.sdk.verify` checks commit certificates, Merkle proofs and state proofs
  offline against a trusted validator set.
- Every error is a :class:`XinlianError` (see :mod:`xinlian.sdk.errors`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xinlian.sdk.aio import AsyncClient
    from xinlian.sdk.client import DEFAULT_URL, Client, default_url
    from xinlian.sdk.errors import (
        ApiError,
        NotFoundError,
        Refusal,
        ResponseError,
        TransportError,
        TxFailedError,
        TxTimeoutError,
        VerificationError,
        XinlianError,
    )
    from xinlian.sdk.models import (
        AccountInfo,
        BlockEvent,
        BlockInfo,
        Call,
        EquivocationInfo,
        EventPage,
        EventRecord,
        NodeStatus,
        ReceiptInfo,
        Simulation,
        StateEntry,
        TxInfo,
        TxProof,
        TxResult,
    )
    from xinlian.sdk.signer import (
        DEFAULT_EXPIRY_BLOCKS,
        DEFAULT_GAS_LIMIT,
        SignedTx,
        Signer,
        encode_call_args,
        load_key,
        read_key_file,
        transaction_hash,
    )
    from xinlian.sdk.verify import (
        load_genesis,
        validator_set_from_genesis,
        verify_commit,
        verify_receipt_proof,
        verify_state_proof,
        verify_tx_inclusion,
        verify_tx_proof,
    )

#: Public name -> the module that defines it. Imported on first use, so ``import
#: xinlian.sdk`` (and the CLI's start-up) does not load httpx, aiohttp and the verifiers
#: until a program touches them.
_LAZY = {
    "AsyncClient": "xinlian.sdk.aio",
    "DEFAULT_URL": "xinlian.sdk.client",
    "Client": "xinlian.sdk.client",
    "default_url": "xinlian.sdk.client",
    "ApiError": "xinlian.sdk.errors",
    "NotFoundError": "xinlian.sdk.errors",
    "Refusal": "xinlian.sdk.errors",
    "ResponseError": "xinlian.sdk.errors",
    "TransportError": "xinlian.sdk.errors",
    "TxFailedError": "xinlian.sdk.errors",
    "TxTimeoutError": "xinlian.sdk.errors",
    "VerificationError": "xinlian.sdk.errors",
    "XinlianError": "xinlian.sdk.errors",
    "AccountInfo": "xinlian.sdk.models",
    "BlockEvent": "xinlian.sdk.models",
    "BlockInfo": "xinlian.sdk.models",
    "Call": "xinlian.sdk.models",
    "EquivocationInfo": "xinlian.sdk.models",
    "EventPage": "xinlian.sdk.models",
    "EventRecord": "xinlian.sdk.models",
    "NodeStatus": "xinlian.sdk.models",
    "ReceiptInfo": "xinlian.sdk.models",
    "Simulation": "xinlian.sdk.models",
    "StateEntry": "xinlian.sdk.models",
    "TxInfo": "xinlian.sdk.models",
    "TxProof": "xinlian.sdk.models",
    "TxResult": "xinlian.sdk.models",
    "DEFAULT_EXPIRY_BLOCKS": "xinlian.sdk.signer",
    "DEFAULT_GAS_LIMIT": "xinlian.sdk.signer",
    "SignedTx": "xinlian.sdk.signer",
    "Signer": "xinlian.sdk.signer",
    "encode_call_args": "xinlian.sdk.signer",
    "load_key": "xinlian.sdk.signer",
    "read_key_file": "xinlian.sdk.signer",
    "transaction_hash": "xinlian.sdk.signer",
    "load_genesis": "xinlian.sdk.verify",
    "validator_set_from_genesis": "xinlian.sdk.verify",
    "verify_commit": "xinlian.sdk.verify",
    "verify_receipt_proof": "xinlian.sdk.verify",
    "verify_state_proof": "xinlian.sdk.verify",
    "verify_tx_inclusion": "xinlian.sdk.verify",
    "verify_tx_proof": "xinlian.sdk.verify",
}

__all__ = [
    "DEFAULT_EXPIRY_BLOCKS",
    "DEFAULT_GAS_LIMIT",
    "DEFAULT_URL",
    "AccountInfo",
    "ApiError",
    "AsyncClient",
    "BlockEvent",
    "BlockInfo",
    "Call",
    "Client",
    "EquivocationInfo",
    "EventPage",
    "EventRecord",
    "NodeStatus",
    "NotFoundError",
    "ReceiptInfo",
    "Refusal",
    "ResponseError",
    "SignedTx",
    "Signer",
    "Simulation",
    "StateEntry",
    "TransportError",
    "TxFailedError",
    "TxInfo",
    "TxProof",
    "TxResult",
    "TxTimeoutError",
    "VerificationError",
    "XinlianError",
    "default_url",
    "encode_call_args",
    "load_genesis",
    "load_key",
    "read_key_file",
    "transaction_hash",
    "validator_set_from_genesis",
    "verify_commit",
    "verify_receipt_proof",
    "verify_state_proof",
    "verify_tx_inclusion",
    "verify_tx_proof",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
