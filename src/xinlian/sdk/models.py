"""Records the clients return: typed views of the node's JSON answers.

Hashes, keys and values are ``bytes`` here (the JSON carries them as hex); headers,
commits, receipts and proofs are the core records of :mod:`xinlian.types`, so they can
be verified with :mod:`xinlian.sdk.verify`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xinlian.codec import to_builtins
from xinlian.sdk.errors import ApiError, TxFailedError
from xinlian.types import (
    BlockHeader,
    Commit,
    Event,
    MerkleProof,
    Receipt,
    StateProof,
    Transaction,
    TxStatus,
)

__all__ = [
    "AccountInfo",
    "BlockEvent",
    "BlockInfo",
    "Call",
    "EventRecord",
    "NodeStatus",
    "ReceiptInfo",
    "StateEntry",
    "TxInfo",
    "TxProof",
    "TxResult",
]


@dataclass(frozen=True, slots=True)
class Call:
    """One call for :meth:`Client.send_many`.

    Attributes:
        target: the app or contract.
        method: the method.
        args: a map of arguments, canonical argument bytes, or None.
        gas_limit: the call's gas limit (None: the client's default).
    """

    target: str
    method: str
    args: Mapping[str, Any] | bytes | None = None
    gas_limit: int | None = None


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """``GET /v1/status``: which chain the node serves and how far it is."""

    chain_id: str
    suite: str
    genesis_hash: bytes
    height: int
    latest_block_hash: bytes
    latest_time_ms: int
    state_root: bytes
    mempool_size: int
    node: str
    validator: Any
    version: str
    #: height and round in progress, whether the node votes, validator count, peer keys
    consensus: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReceiptInfo:
    """A transaction's receipt with its output decoded.

    Attributes:
        tx_hash: the transaction's hash.
        status: the outcome; anything but ``TxStatus.OK`` rolled the call's writes back.
        gas_used: gas charged.
        events: events the call emitted.
        error: why the call failed (empty when it succeeded).
        output: the call's return value decoded from msgpack (None when it returned
            nothing).
        output_raw: the return value's canonical bytes.
    """

    tx_hash: bytes
    status: TxStatus
    gas_used: int
    events: list[Event]
    error: str
    output: Any
    output_raw: bytes

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return self.status == TxStatus.OK

    def to_receipt(self) -> Receipt:
        """The core record (whose canonical bytes are a leaf of the receipts tree)."""
        return Receipt(
            self.tx_hash,
            int(self.status),
            self.gas_used,
            list(self.events),
            self.error,
            self.output_raw,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form (bytes as hex, status by name)."""
        return {
            "tx_hash": self.tx_hash.hex(),
            "status": self.status.name,
            "gas_used": self.gas_used,
            "events": [{"type": e.type, "attributes": dict(e.attributes)} for e in self.events],
            "error": self.error,
            "output": to_builtins(self.output),
        }


@dataclass(frozen=True, slots=True)
class TxProof:
    """A self-contained proof that a transaction and its receipt are in a final block.

    Verify it with :func:`xinlian.sdk.verify.verify_tx_inclusion` and a trusted validator
    set.
    """

    block_hash: bytes
    header: BlockHeader
    commit: Commit
    tx_proof: MerkleProof
    receipt_proof: MerkleProof


@dataclass(frozen=True, slots=True)
class Simulation:
    """What a transaction would do in the next block (``POST /v1/transactions/simulate``).

    Nothing was committed: the node ran the call on the latest committed state and threw
    the result away.

    Attributes:
        outcome: ``"ok"`` (it would succeed), ``"failed"`` (it would be in a block with a
            failed receipt, its nonce and gas spent) or ``"refused"`` (a node would not
            accept it at all; ``refused`` says why).
        height: the committed height whose state the call ran on (None when refused before
            running, e.g. an unknown sender address).
        hash: the transaction's hash (for an unsigned call, that of a zero signature).
        signed: whether a signed transaction was simulated.
        sender_address: the sender's address.
        nonce: the nonce simulated.
        gas_limit: the gas limit simulated.
        capped: the call ran out of the node's simulation gas cap, below its own limit:
            its outcome under the real limit is unknown.
        refused: why a node would refuse it, else None.
        receipt: the receipt it would get, else None.
        code: the refusal's code as admission answers it (``permission_denied``,
            ``unknown_target``, ``invalid_args``, ``args_too_large``, ``refused``, ...),
            else None.
    """

    outcome: str
    height: int | None
    hash: bytes | None
    signed: bool
    sender_address: str | None
    nonce: int | None
    gas_limit: int | None
    capped: bool
    refused: str | None
    receipt: ReceiptInfo | None
    code: str | None = None

    @property
    def ok(self) -> bool:
        """True when the call would succeed."""
        return self.outcome == "ok"

    @property
    def reason(self) -> str:
        """Why it would not succeed (empty when it would)."""
        if self.refused is not None:
            return f"a node would refuse it: {self.refused}"
        if self.receipt is not None and not self.receipt.ok:
            return f"{self.receipt.status.name}: {self.receipt.error}"
        return ""

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form (bytes as hex, receipt status by name)."""
        return {
            "outcome": self.outcome,
            "height": self.height,
            "hash": None if self.hash is None else self.hash.hex(),
            "signed": self.signed,
            "sender_address": self.sender_address,
            "nonce": self.nonce,
            "gas_limit": self.gas_limit,
            "capped": self.capped,
            "refused": self.refused,
            "code": self.code,
            "receipt": None if self.receipt is None else self.receipt.to_json(),
        }


@dataclass(frozen=True, slots=True)
class TxResult:
    """What became of a sent transaction.

    Attributes:
        hash: the transaction's id (known before sending).
        status: ``"committed"``, ``"pending"`` (sent without waiting) or ``"refused"``
            (only in :meth:`Client.send_many` results; ``error`` says why).
        nonce: the nonce it was sent with.
        height: the block that holds it, once committed.
        index: its position in that block.
        receipt: its receipt, once committed.
        error: the node's refusal, for ``"refused"``.
    """

    hash: bytes
    status: str
    nonce: int
    height: int | None = None
    index: int | None = None
    receipt: ReceiptInfo | None = None
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        """True when committed with a successful receipt."""
        return self.receipt is not None and self.receipt.ok

    def raise_for_status(self) -> TxResult:
        """Return self if committed successfully; raise ``TxFailedError`` if the receipt
        reports failure and the ``ApiError`` if the node refused it."""
        if self.error is not None:
            raise self.error
        if self.receipt is not None and not self.receipt.ok:
            raise TxFailedError(self.hash, int(self.receipt.status), self.receipt.error)
        return self


@dataclass(frozen=True, slots=True)
class TxInfo:
    """``GET /v1/transactions/{hash}``.

    Attributes:
        hash: the transaction's id.
        status: ``"committed"`` or ``"pending"``.
        height, index: where it was committed (None while pending).
        tx: the decoded body (None while pending).
        signature: the sender's signature (empty while pending).
        raw: the signed transaction's canonical bytes (empty while pending).
        receipt: its receipt (None while pending).
        proof: the inclusion proof served with it (None while pending).
        verified: True when the client checked ``raw`` against ``hash``, both Merkle
            proofs against the header, and the header's commit certificate against the
            trusted validator set.
    """

    hash: bytes
    status: str
    height: int | None = None
    index: int | None = None
    tx: Transaction | None = None
    signature: bytes = b""
    raw: bytes = b""
    receipt: ReceiptInfo | None = None
    proof: TxProof | None = None
    verified: bool = False

    @property
    def committed(self) -> bool:
        """True once the transaction is in a block."""
        return self.status == "committed"


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """``GET /v1/blocks/...``: a header, its commit certificate and its transaction ids.

    ``verified`` is True when the client checked that ``hash`` is the header's hash and
    that the commit certificate carries more than 2/3 of the trusted validators' power.
    """

    height: int
    hash: bytes
    header: BlockHeader
    commit: Commit
    txs: list[bytes]
    verified: bool = False


@dataclass(frozen=True, slots=True)
class StateEntry:
    """A state value with its proof (``GET /v1/state/{key}``).

    Attributes:
        key: the full state key (``b"kv/mykey"``).
        value: the value, or None when the key is absent.
        height: the height whose state was read.
        state_root: the state root after that height.
        header: the header of that height (None at height 0).
        block_hash: that header's hash.
        proof: the inclusion or exclusion proof.
        verified: True when the client checked the proof against the header's state root
            and the header's commit certificate against the trusted validator set.
    """

    key: bytes
    value: bytes | None
    height: int
    state_root: bytes
    header: BlockHeader | None
    block_hash: bytes
    proof: StateProof
    verified: bool = False

    @property
    def text(self) -> str | None:
        """The value decoded as UTF-8 (None when absent)."""
        return None if self.value is None else self.value.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """``GET /v1/accounts/{address}``: the nonce and, if registered, the account record."""

    address: str
    nonce: int
    registered: bool
    public_key: bytes | None = None
    name: str = ""
    org: str = ""
    roles: list[str] = field(default_factory=list)
    active: bool = False


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event with where it happened."""

    height: int
    tx_hash: bytes
    type: str
    attributes: dict[str, str]


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of ``GET /v1/events``: the events and, when more follow, the cursor to
    ask for the next page with (``None`` at the end)."""

    events: list[EventRecord]
    next: str | None


@dataclass(frozen=True, slots=True)
class BlockEvent:
    """A committed block as pushed over the WebSocket (``/v1/ws``)."""

    height: int
    hash: bytes
    time_ms: int
    tx_count: int
    events: list[EventRecord]


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """One of two conflicting messages: the canonical body signed, and the signature."""

    signed: bytes
    signature: bytes
    block_hash: bytes


@dataclass(frozen=True, slots=True)
class EquivocationInfo:
    """``GET /v1/consensus/equivocations``: a validator the node says signed two
    conflicting messages (``kind`` is ``proposal``, ``prevote`` or ``precommit``).

    ``verified`` is True when the client checked it: both bodies are of ``kind``, this
    chain, ``height`` and ``round`` with different blocks, both signatures verify for
    ``validator``, and that key is validator ``validator_index`` of the set that signs
    ``height``. Otherwise ``problem`` says which check failed.
    """

    kind: str
    height: int
    round: int
    validator_index: int
    validator: bytes
    first: SignedMessage
    second: SignedMessage
    detected_ms: int
    verified: bool = False
    problem: str = "not checked"
