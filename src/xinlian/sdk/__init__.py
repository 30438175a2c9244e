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

from xinlian.sdk.aio import AsyncClient
from xinlian.sdk.client import DEFAULT_URL, Client, default_url
from xinlian.sdk.errors import (
    ApiError,
    NotFoundError,
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
    "ResponseError",
    "SignedTx",
    "Signer",
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
