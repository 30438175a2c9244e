"""Evidence storage on the client side: hash files, anchor digests, fetch and verify receipts.

An *evidence receipt* (format version 2, see ``docs/data-formats.md``) is a JSON document
that proves, without any node, that a digest was anchored in a final block: the digest's
Merkle path to its batch root, the anchoring transaction and its path to the header's
``tx_root``, the transaction's receipt (whose ``evidence.anchored`` event carries the batch
root) and its path to ``receipts_root``, the header, the commit certificate and the
validator set that signed it, with the chain id, suite and genesis hash. When that set is
not the genesis set, ``validator_changes`` carries every certified validator-set change
from genesis up to the block (each change's header, its commit certificate by the set then
in force, and the new set), so the verifier can follow them from its trust anchor.
Version 1 (the same without ``validator_changes``) is still read.

::

    from xinlian.sdk import Client, Signer, load_genesis
    from xinlian.sdk.evidence import anchor, fetch_receipt, hash_file, verify_receipt

    digest = hash_file("contract.pdf", "ed25519")
    with Client(url, key=Signer.from_file("org1-writer.key")) as c:
        anchor(c, [digest], category="judicial", submitter_ref="case 2024-17")
        receipt = fetch_receipt(c, digest)
    # ... later, anywhere, offline:
    verify_receipt(receipt, load_genesis("genesis.json"), Path("contract.pdf"))

:func:`verify_receipt` raises :class:`~xinlian.sdk.errors.VerificationError` whose message
starts with ``check <name> failed:`` naming the check (see :data:`CHECKS`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from cryptography import x509

from xinlian.codec import CodecError, decode, encode, to_builtins
from xinlian.crypto import CryptoSuite, address_of
from xinlian.crypto.merkle import merkle_root, merkle_root_from_proof
from xinlian.crypto.timestamp import (
    TimeStampError,
    TokenInfo,
    make_request,
    read_token,
    response_status,
    verify_token,
)
from xinlian.sdk.errors import (
    ApiError,
    NotFoundError,
    ResponseError,
    VerificationError,
    XinlianError,
)
from xinlian.sdk.models import Call, TxResult
from xinlian.sdk.session import Op, Request, Session, _call, _get
from xinlian.sdk.verify import (
    ValidatorChange,
    block_hash,
    follow_validator_changes,
    genesis_hash,
    load_genesis,
    suite_of,
    validator_set_from_genesis,
    validator_set_hash,
    verify_commit,
    verify_receipt_proof,
    verify_tx_proof,
)
from xinlian.sdk.wire import parse_problem, record_from_json
from xinlian.types import (
    BlockHeader,
    Commit,
    MerkleProof,
    Receipt,
    SignedTransaction,
    TxStatus,
    Validator,
    ValidatorSet,
)
from xinlian.types.evidence import AnchorArgs
from xinlian.types.genesis import Genesis

if TYPE_CHECKING:
    from xinlian.sdk.client import Client

__all__ = [
    "CATEGORIES",
    "CHECKS",
    "RECEIPT_KIND",
    "RECEIPT_VERSION",
    "EvidenceReceipt",
    "ValidatorChange",
    "VerifiedEvidence",
    "anchor",
    "anchor_calls",
    "anchor_gas",
    "anchor_op",
    "by_category",
    "by_category_op",
    "by_submitter",
    "by_submitter_op",
    "custody",
    "custody_op",
    "fetch_receipt",
    "follow_validator_changes",
    "get_evidence",
    "get_op",
    "hash_file",
    "hash_stream",
    "load_receipt",
    "receipt_op",
    "timestamp",
    "timestamp_op",
    "verify_receipt",
    "verify_timestamp",
]

RECEIPT_VERSION = 2
#: Receipt versions this SDK reads.
READABLE_VERSIONS = (1, 2)
RECEIPT_KIND = "xinlian.evidence.receipt"
CATEGORIES = ("judicial", "registration", "enforcement", "other")
APP = "evidence"
EVENT_ANCHORED = "evidence.anchored"
#: The checks of :func:`verify_receipt`, in the order they run.
CHECKS = (
    "format",
    "genesis",
    "file digest",
    "batch path",
    "transaction",
    "tx proof",
    "receipt",
    "receipt proof",
    "header",
    "validator changes",
    "validator set",
    "commit signatures",
)
CHUNK = 1 << 20
#: Most digests one ``evidence.anchor`` call may carry (the app's limit).
MAX_DIGESTS_PER_TX = 100_000
#: Bytes a digest takes in a transaction (msgpack bin8 header + 32 bytes).
_DIGEST_WIRE = 34
#: Room left in each transaction for everything but the digests.
_TX_OVERHEAD = 1024


# HASHING


def hash_stream(
    chunks: Iterable[bytes], hash_name: str, progress: Callable[[int], None] | None = None
) -> bytes:
    """The suite hash (``"sha256"`` or ``"sm3"``) of a stream of chunks."""
    h = hashlib.new(hash_name)
    for chunk in chunks:
        h.update(chunk)
        if progress is not None:
            progress(len(chunk))
    return h.digest()


def _suite_hash_name(suite: CryptoSuite | str) -> str:
    if isinstance(suite, str):
        return {"ed25519": "sha256", "sm": "sm3"}.get(suite, suite)
    return suite.hash_name


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def hash_file(
    path: str | os.PathLike[str],
    suite: CryptoSuite | str,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Hash a file in 1 MiB chunks with the chain suite's hash (SHA-256 for ``ed25519``,
    SM3 for ``sm``; a suite object or its name). ``progress(n)`` is called per chunk."""
    try:
        return hash_stream(_chunks(Path(path)), _suite_hash_name(suite), progress)
    except OSError as exc:
        raise XinlianError(f"cannot read {path}: {exc.strerror or exc}") from None


# RECEIPT MODEL


def _validators_json(items: Any, path: str) -> ValidatorSet:
    if not isinstance(items, list):
        raise TypeError(f"{path} must be a list")
    return ValidatorSet(
        [record_from_json(Validator, v, f"{path}[{i}]") for i, v in enumerate(items)]
    )


def _change_json(doc: Any, path: str) -> ValidatorChange:
    if not isinstance(doc, dict):
        raise TypeError(f"{path} must be an object")
    return ValidatorChange(
        header=record_from_json(BlockHeader, doc["header"], f"{path}.header"),
        commit=record_from_json(Commit, doc["commit"], f"{path}.commit"),
        validators=_validators_json(doc["validators"], f"{path}.validators"),
    )


@dataclass(frozen=True, slots=True)
class EvidenceReceipt:
    """A parsed evidence receipt (see the module docstring); ``to_json`` gives the
    document, ``from_json`` reads one strictly."""

    chain_id: str
    suite: str
    genesis_hash: bytes
    digest: bytes
    batch_root: bytes
    batch_proof: MerkleProof
    tx_raw: bytes
    tx_hash: bytes
    height: int
    tx_index: int
    tx_proof: MerkleProof
    receipt: Receipt
    receipt_proof: MerkleProof
    block_hash: bytes
    header: BlockHeader
    commit: Commit
    validators: ValidatorSet
    validator_changes: tuple[ValidatorChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The version-2 JSON document (bytes as lowercase hex)."""
        return {
            "version": RECEIPT_VERSION,
            "kind": RECEIPT_KIND,
            "chain_id": self.chain_id,
            "suite": self.suite,
            "genesis_hash": self.genesis_hash.hex(),
            "digest": self.digest.hex(),
            "batch": {"root": self.batch_root.hex(), "proof": to_builtins(self.batch_proof)},
            "transaction": {
                "hash": self.tx_hash.hex(),
                "raw": self.tx_raw.hex(),
                "height": self.height,
                "index": self.tx_index,
                "proof": to_builtins(self.tx_proof),
            },
            "receipt": {
                "record": to_builtins(self.receipt),
                "proof": to_builtins(self.receipt_proof),
            },
            "block": {
                "hash": self.block_hash.hex(),
                "header": to_builtins(self.header),
                "commit": to_builtins(self.commit),
            },
            "validators": [to_builtins(v) for v in self.validators.validators],
            "validator_changes": [c.to_json() for c in self.validator_changes],
        }

    def dumps(self) -> bytes:
        """The JSON document as indented UTF-8 bytes (what ``xinlian evidence receipt``
        writes)."""
        return msgspec.json.format(msgspec.json.encode(self.to_json()), indent=2) + b"\n"

    @classmethod
    def from_json(cls, doc: Any) -> EvidenceReceipt:
        """Parse a receipt document; raises ``VerificationError`` (check ``format``) if it
        is not a version-1 or version-2 evidence receipt."""
        try:
            return _parse(doc)
        except (ResponseError, KeyError, TypeError, ValueError) as exc:
            raise _fail("format", f"not a valid evidence receipt: {exc}") from None


def _hexf(doc: Mapping[str, Any], key: str) -> bytes:
    value = doc[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a hex string")
    return bytes.fromhex(value)


def _intf(doc: Mapping[str, Any], key: str) -> int:
    value = doc[key]
    if type(value) is not int or value < 0:
        raise TypeError(f"{key} must be a non-negative integer")
    return value


def _strf(doc: Mapping[str, Any], key: str) -> str:
    value = doc[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _parse(doc: Any) -> EvidenceReceipt:
    if not isinstance(doc, dict):
        raise TypeError("a receipt is a JSON object")
    version = doc.get("version")
    if version not in READABLE_VERSIONS:
        raise ValueError(
            f"unsupported version {version!r}; this SDK reads versions {list(READABLE_VERSIONS)}"
        )
    if doc.get("kind") != RECEIPT_KIND:
        raise ValueError(f"kind must be {RECEIPT_KIND!r}")
    batch, tx, rc, block = doc["batch"], doc["transaction"], doc["receipt"], doc["block"]
    changes = doc["validator_changes"] if version >= 2 else []
    if not isinstance(changes, list):
        raise TypeError("validator_changes must be a list")
    return EvidenceReceipt(
        chain_id=_strf(doc, "chain_id"),
        suite=_strf(doc, "suite"),
        genesis_hash=_hexf(doc, "genesis_hash"),
        digest=_hexf(doc, "digest"),
        batch_root=_hexf(batch, "root"),
        batch_proof=record_from_json(MerkleProof, batch["proof"], "batch.proof"),
        tx_raw=_hexf(tx, "raw"),
        tx_hash=_hexf(tx, "hash"),
        height=_intf(tx, "height"),
        tx_index=_intf(tx, "index"),
        tx_proof=record_from_json(MerkleProof, tx["proof"], "transaction.proof"),
        receipt=record_from_json(Receipt, rc["record"], "receipt.record"),
        receipt_proof=record_from_json(MerkleProof, rc["proof"], "receipt.proof"),
        block_hash=_hexf(block, "hash"),
        header=record_from_json(BlockHeader, block["header"], "block.header"),
        commit=record_from_json(Commit, block["commit"], "block.commit"),
        validators=_validators_json(doc["validators"], "validators"),
        validator_changes=tuple(
            _change_json(c, f"validator_changes[{i}]") for i, c in enumerate(changes)
        ),
    )


def load_receipt(source: str | os.PathLike[str] | bytes | Mapping[str, Any]) -> EvidenceReceipt:
    """Read a receipt from a path, JSON bytes or a parsed document."""
    if isinstance(source, Mapping):
        return EvidenceReceipt.from_json(dict(source))
    if isinstance(source, bytes):
        raw = source
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise XinlianError(f"cannot read receipt {source!s}: {exc.strerror or exc}") from None
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise _fail("format", f"the receipt is not JSON: {exc}") from None
    return EvidenceReceipt.from_json(doc)


# OFFLINE VERIFICATION


@dataclass(frozen=True, slots=True)
class VerifiedEvidence:
    """What a verified receipt proves."""

    digest: bytes
    chain_id: str
    height: int
    time_ms: int
    block_hash: bytes
    tx_hash: bytes
    batch_root: bytes
    batch_index: int
    batch_size: int
    submitter: str
    category: str
    submitter_ref: str
    parent: bytes | None
    meta: dict[str, str]
    signed_power: int
    total_power: int


def _fail(check: str, detail: str) -> VerificationError:
    return VerificationError(f"check {check} failed: {detail}")


def verify_receipt(
    receipt: EvidenceReceipt | Mapping[str, Any] | bytes | str | os.PathLike[str],
    genesis: Genesis | str | os.PathLike[str],
    data: bytes | str | os.PathLike[str] | None = None,
    *,
    digest: bytes | None = None,
) -> VerifiedEvidence:
    """Verify an evidence receipt offline against a trusted genesis document.

    Args:
        receipt: the receipt (parsed, a JSON document, its bytes or a path).
        genesis: the chain's genesis (record or path): the trust anchor.
        data: the file's contents (bytes) or its path (hashed streaming); or
        digest: the digest itself, instead of ``data``.

    Returns:
        What the receipt proves (block height and time, submitter, category, ...).

    Raises:
        VerificationError: ``check <name> failed: ...`` naming the first failed check
            (one of :data:`CHECKS`).
    """
    if (data is None) == (digest is None):
        raise XinlianError("give exactly one of data (file bytes or path) and digest")
    r = receipt if isinstance(receipt, EvidenceReceipt) else load_receipt(receipt)
    trusted = genesis if isinstance(genesis, Genesis) else load_genesis(Path(genesis))
    # genesis: the receipt is for the chain the verifier trusts.
    suite = suite_of(trusted)
    if r.chain_id != trusted.chain_id or r.suite != trusted.suite:
        raise _fail(
            "genesis",
            f"receipt is for chain {r.chain_id!r} ({r.suite}), "
            f"the genesis is of {trusted.chain_id!r} ({trusted.suite})",
        )
    if r.genesis_hash != genesis_hash(trusted):
        raise _fail("genesis", "the receipt's genesis hash is not the hash of this genesis")
    # file digest
    if digest is None:
        assert data is not None
        digest = suite.hash(data) if isinstance(data, bytes) else hash_file(data, suite)
    if digest != r.digest:
        raise _fail(
            "file digest",
            f"the file's {suite.hash_name} digest {digest.hex()} is not the receipt's "
            f"{r.digest.hex()}",
        )
    # batch path: digest -> batch root
    if merkle_root_from_proof(suite.hash, digest, r.batch_proof) != r.batch_root:
        raise _fail("batch path", "the digest's Merkle path does not reach the batch root")
    # transaction: its hash, signature, and its arguments anchor this digest in this batch
    args, sender = _check_transaction(suite, r, digest)
    # tx proof: the transaction is in the block
    if r.tx_proof.index != r.tx_index:
        raise _fail("tx proof", "the proof is for another position in the block")
    try:
        verify_tx_proof(suite, r.header, r.tx_hash, r.tx_proof)
    except VerificationError as exc:
        raise _fail("tx proof", str(exc)) from None
    # receipt: the call succeeded and its event carries the batch root
    _check_receipt(r)
    # receipt proof
    if r.receipt_proof.index != r.tx_index:
        raise _fail("receipt proof", "the proof is for another position in the block")
    try:
        verify_receipt_proof(suite, r.header, r.receipt, r.receipt_proof)
    except VerificationError as exc:
        raise _fail("receipt proof", str(exc)) from None
    # header
    header = r.header
    if header.chain_id != trusted.chain_id or header.height != r.height:
        raise _fail("header", f"header is of chain {header.chain_id!r} at {header.height}")
    if block_hash(suite, header) != r.block_hash:
        raise _fail("header", "the header does not hash to the receipt's block hash")
    if r.commit.block_hash != r.block_hash or r.commit.height != header.height:
        raise _fail("header", "the commit certificate is for another block")
    # validator changes: from the genesis set, follow each certified change
    try:
        in_force = follow_validator_changes(
            suite,
            trusted.chain_id,
            validator_set_from_genesis(trusted),
            r.validator_changes,
            header.height,
        )
    except VerificationError as exc:
        raise _fail("validator changes", str(exc)) from None
    # validator set: the set that signed is the one the header names, and is trusted
    if validator_set_hash(suite, r.validators) != header.validators_hash:
        raise _fail("validator set", "the receipt's validator set is not the one the header names")
    if r.validators != in_force:
        raise _fail(
            "validator set",
            "the signing validator set is not the genesis set"
            + (" followed through the receipt's certified changes" if r.validator_changes else "")
            + f" (the set in force at height {header.height})",
        )
    # commit signatures: more than 2/3 of the voting power signed this block
    try:
        signed = verify_commit(suite, header, r.commit, r.validators)
    except VerificationError as exc:
        raise _fail("commit signatures", str(exc)) from None
    return VerifiedEvidence(
        digest=digest,
        chain_id=header.chain_id,
        height=header.height,
        time_ms=header.time_ms,
        block_hash=r.block_hash,
        tx_hash=r.tx_hash,
        batch_root=r.batch_root,
        batch_index=r.batch_proof.index,
        batch_size=r.batch_proof.size,
        submitter=sender,
        category=args.category,
        submitter_ref=args.submitter_ref,
        parent=args.parent,
        meta=dict(args.meta),
        signed_power=signed,
        total_power=r.validators.total_power,
    )


def _check_transaction(
    suite: CryptoSuite, r: EvidenceReceipt, digest: bytes
) -> tuple[AnchorArgs, str]:
    if suite.hash(r.tx_raw) != r.tx_hash:
        raise _fail("transaction", "the raw transaction does not hash to the receipt's tx hash")
    try:
        stx = decode(r.tx_raw, SignedTransaction)
    except CodecError as exc:
        raise _fail("transaction", str(exc)) from None
    tx = stx.tx
    if not suite.verify(tx.sender, encode(tx), stx.signature):
        raise _fail("transaction", "the sender's signature on the transaction is invalid")
    if tx.chain_id != r.chain_id or tx.target != APP or tx.method != "anchor":
        raise _fail(
            "transaction", f"it is {tx.target}.{tx.method} on {tx.chain_id!r}, not evidence.anchor"
        )
    try:
        args = decode(tx.args, AnchorArgs)
    except CodecError as exc:
        raise _fail("transaction", f"arguments: {exc}") from None
    i = r.batch_proof.index
    if (
        r.batch_proof.size != len(args.digests)
        or i >= len(args.digests)
        or args.digests[i] != digest
    ):
        raise _fail("transaction", "its arguments do not hold the digest at the batch position")
    if merkle_root(suite.hash, args.digests) != r.batch_root:
        raise _fail("transaction", "its digests do not form the receipt's batch root")
    return args, address_of(suite, tx.sender)


def _check_receipt(r: EvidenceReceipt) -> None:
    rc = r.receipt
    if rc.tx_hash != r.tx_hash:
        raise _fail("receipt", "the receipt is for another transaction")
    if rc.status != TxStatus.OK:
        raise _fail("receipt", f"the transaction failed (status {rc.status}: {rc.error})")
    roots = [e.attributes.get("batch_root") for e in rc.events if e.type == EVENT_ANCHORED]
    if r.batch_root.hex() not in roots:
        raise _fail("receipt", "no evidence.anchored event carries the batch root")


def verify_timestamp(
    token: bytes | str | os.PathLike[str],
    ca: bytes | str | os.PathLike[str],
    data: bytes | str | os.PathLike[str] | None = None,
    *,
    digest: bytes | None = None,
    hash_name: str | None = None,
) -> TokenInfo:
    """Verify an RFC 3161 time-stamp response offline (what ``openssl ts -verify`` checks):
    the token stamps the file's digest (or ``digest``), is signed by a time-stamping
    certificate, and chains to the TSA CA ``ca`` (PEM bytes or path).

    ``hash_name`` defaults to the token's imprint algorithm (SHA-256 or SM3).

    Raises:
        TimeStampError: ``check <name> failed: ...`` (see ``TOKEN_CHECKS``).
    """
    if (data is None) == (digest is None):
        raise XinlianError("give exactly one of data (file bytes or path) and digest")
    try:
        der = token if isinstance(token, bytes) else Path(token).read_bytes()
        pem = ca if isinstance(ca, bytes) else Path(ca).read_bytes()
        roots = x509.load_pem_x509_certificates(pem)
    except OSError as exc:
        raise XinlianError(f"cannot read: {exc}") from None
    except ValueError as exc:
        raise XinlianError(f"the CA file is not PEM certificates: {exc}") from None
    if digest is None:
        assert data is not None
        name = hash_name or read_token(der).hash_name
        if name not in ("sha256", "sm3"):
            raise XinlianError(f"unsupported imprint hash {name}")
        digest = hash_stream([data], name) if isinstance(data, bytes) else hash_file(data, name)
    return verify_token(der, digest, roots)


# NODE OPERATIONS
#
# Each is a sans-I/O operation (see ``xinlian.sdk.session``) that the blocking ``Client``
# and the ``AsyncClient`` both run: the functions below take a ``Client``; the
# ``AsyncClient`` has the same methods, awaited (``anchor_evidence``, ``evidence_receipt``...).


def anchor_calls(
    digests: Sequence[bytes],
    *,
    category: str,
    submitter_ref: str = "",
    parent: bytes | None = None,
    meta: Mapping[str, str] | None = None,
    max_tx_bytes: int = 65536,
    max_gas: int = 10_000_000,
) -> list[Call]:
    """Split digests into ``evidence.anchor`` calls that fit ``max_tx_bytes`` (the chain's
    limit) and the app's 100,000 digests per call, each with a gas limit sized to its
    batch. Duplicates are dropped."""
    if category not in CATEGORIES:
        raise XinlianError(f"unknown category {category!r}; categories are {list(CATEGORIES)}")
    for i, d in enumerate(digests):
        if not isinstance(d, bytes) or len(d) != 32:
            raise XinlianError(f"digests[{i}] is not a 32-byte digest")
    unique = list(dict.fromkeys(digests))
    meta_d = dict(meta or {})
    room = max_tx_bytes - _TX_OVERHEAD - len(encode(meta_d)) - len(submitter_ref.encode())
    per_tx = max(1, min(MAX_DIGESTS_PER_TX, room // _DIGEST_WIRE))
    calls: list[Call] = []
    for start in range(0, len(unique), per_tx):
        chunk = unique[start : start + per_tx]
        args = {
            "digests": chunk,
            "category": category,
            "submitter_ref": submitter_ref,
            "parent": parent,
            "meta": meta_d,
        }
        gas = min(max_gas, anchor_gas(len(chunk)))
        calls.append(Call(APP, "anchor", args, gas))
    return calls


def anchor_gas(count: int) -> int:
    """A gas limit that covers anchoring ``count`` new digests in one transaction
    (intrinsic gas for its bytes, the batch tree, and one index write per digest)."""
    return 100_000 + 10 * (count * _DIGEST_WIRE + _TX_OVERHEAD) + 2_000 * count


def anchor_op(
    session: Session,
    digests: Sequence[bytes],
    *,
    category: str,
    submitter_ref: str = "",
    parent: bytes | None = None,
    meta: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    progress: Callable[[int], None] | None = None,
) -> Op[list[TxResult]]:
    """Anchor digests in as many transactions as the chain's size limit needs and wait
    for them; one result per transaction. ``progress(n)`` gets digests sent so far."""
    params = (yield from session.genesis_doc()).params
    calls = anchor_calls(
        digests,
        category=category,
        submitter_ref=submitter_ref,
        parent=parent,
        meta=meta,
        max_tx_bytes=params.max_tx_bytes,
        max_gas=params.max_gas_per_tx,
    )
    results: list[TxResult] = []
    # Requests of at most ~2 MB of transactions (the API's body limit is 8 MB by default;
    # the JSON carries them as hex), but at least one transaction each.
    step = max(1, (2 << 20) // params.max_tx_bytes)
    for start in range(0, len(calls), step):
        group = calls[start : start + step]
        sent = yield from session.send_many(group, wait=True, timeout=timeout, chunk_size=step)
        results.extend(sent)
        if progress is not None:
            progress(sum(len(c.args["digests"]) for c in group if isinstance(c.args, Mapping)))
    return results


def _path(digest: bytes, tail: str = "") -> str:
    if len(digest) != 32:
        raise XinlianError(f"a digest is 32 bytes, got {len(digest)}")
    return f"/v1/evidence/{digest.hex()}{tail}"


def receipt_op(digest: bytes) -> Op[EvidenceReceipt]:
    """``GET /v1/evidence/{digest}/receipt``, parsed (not verified)."""
    body = yield from _get(_path(digest, "/receipt"))
    try:
        return EvidenceReceipt.from_json(body)
    except VerificationError as exc:
        raise ResponseError(str(exc)) from None


def get_op(digest: bytes) -> Op[dict[str, Any] | None]:
    """Where a digest was first anchored (bytes as hex), or None if it is not."""
    try:
        body = yield from _get(_path(digest))
    except NotFoundError:
        return None
    if not isinstance(body, dict):
        raise ResponseError("evidence record: expected an object")
    return body


def custody_op(digest: bytes) -> Op[list[dict[str, Any]]]:
    """The chain of custody: the digest's record, its parent's, ... (empty if unknown)."""
    try:
        body = yield from _get(_path(digest, "/custody"))
    except NotFoundError:
        return []
    if not isinstance(body, dict) or not isinstance(body.get("custody"), list):
        raise ResponseError("custody: expected {'custody': [...]}")
    return list(body["custody"])


def by_submitter_op(
    session: Session, address: str, start: int = 0, limit: int = 100
) -> Op[dict[str, Any]]:
    """Batches an account anchored, oldest first: ``{"total", "batches"}``."""
    result = yield from session.query(
        APP, "by_submitter", {"address": address, "start": start, "limit": limit}
    )
    if not isinstance(result, dict) or not isinstance(result.get("batches"), list):
        raise ResponseError("evidence.by_submitter: expected {'total', 'batches'}")
    return result


def by_category_op(
    session: Session, category: str, from_ms: int, to_ms: int, limit: int = 100, cursor: str = ""
) -> Op[dict[str, Any]]:
    """Batches of a category with block time in ``[from_ms, to_ms]``, oldest first:
    ``{"batches", "next"}`` (pass ``next`` as ``cursor`` for the following page)."""
    args = {"category": category, "from_ms": from_ms, "to_ms": to_ms}
    result = yield from session.query(
        APP, "by_category", {**args, "limit": limit, "cursor": cursor}
    )
    if not isinstance(result, dict) or not isinstance(result.get("batches"), list):
        raise ResponseError("evidence.by_category: expected {'batches', 'next'}")
    return result


#: HTTP statuses the JSON routes give for the reasons in a TSA's rejection text.
_REJECTION_STATUS = {"not_found": 404, "too_large": 413, "tsa_unavailable": 503}


def _raise_rejection(der: bytes) -> None:
    """Raise the node's refusal if ``der`` is a ``TimeStampResp`` with status rejection
    (its status text is ``<reason>: <detail>``); return for anything else."""
    try:
        status = response_status(der)
    except TimeStampError:
        return  # read_token reports the malformed answer
    if status.status in ("granted", "granted_with_mods"):
        return
    reason, sep, detail = status.text.partition(": ")
    if not sep or " " in reason:
        reason, detail = "", status.text
    code = _REJECTION_STATUS.get(reason, 400)
    cls = NotFoundError if code == 404 else ApiError
    raise cls(code, reason or status.status, detail or status.status, "Time-stamp refused")


def timestamp_op(session: Session, digest: bytes, *, nonce: bool = True) -> Op[bytes]:
    """An RFC 3161 time-stamp response (DER ``TimeStampResp``) for an anchored digest.

    With ``nonce`` it POSTs a ``TimeStampReq`` with a fresh random nonce and checks the
    answer carries it, else it GETs the token; either way it checks the token is granted
    and stamps ``digest``. Verify the token itself with ``openssl ts -verify`` against
    the TSA's CA certificate.
    """
    want: int | None = None
    if nonce:
        _, suite = yield from session.chain()
        want = int.from_bytes(os.urandom(8), "big")
        try:
            query = make_request(suite.hash_name, digest, want)
        except TimeStampError as exc:
            raise XinlianError(str(exc)) from None
        req = Request(
            "POST",
            _path(digest, "/timestamp"),
            content=query,
            content_type="application/timestamp-query",
        )
    else:
        req = Request("GET", _path(digest, "/timestamp"))
    resp = yield from _call(req)
    if resp.status >= 400:
        raise parse_problem(resp.status, resp.body, resp.text)
    _raise_rejection(resp.content)
    try:
        info = read_token(resp.content)
    except TimeStampError as exc:
        raise ResponseError(f"the node's time-stamp answer: {exc}") from None
    if info.digest != digest or info.nonce != want:
        raise ResponseError("the time-stamp token is for another digest or request")
    return resp.content


def anchor(
    client: Client,
    digests: Sequence[bytes],
    *,
    category: str,
    submitter_ref: str = "",
    parent: bytes | None = None,
    meta: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    progress: Callable[[int], None] | None = None,
) -> list[TxResult]:
    """Anchor digests (see :func:`anchor_op`); one result per transaction."""
    return client._run(
        anchor_op(
            client.session,
            digests,
            category=category,
            submitter_ref=submitter_ref,
            parent=parent,
            meta=meta,
            timeout=timeout,
            progress=progress,
        )
    )


def fetch_receipt(client: Client, digest: bytes) -> EvidenceReceipt:
    """The receipt of an anchored digest (``GET /v1/evidence/{digest}/receipt``); parse
    only: verify it with :func:`verify_receipt`."""
    return client._run(receipt_op(digest))


def get_evidence(client: Client, digest: bytes) -> dict[str, Any] | None:
    """The first anchor of a digest as the node reports it (bytes as hex), or None."""
    return client._run(get_op(digest))


def custody(client: Client, digest: bytes) -> list[dict[str, Any]]:
    """The chain of custody of a digest (see :func:`custody_op`)."""
    return client._run(custody_op(digest))


def by_submitter(client: Client, address: str, start: int = 0, limit: int = 100) -> dict[str, Any]:
    """Batches an account anchored (see :func:`by_submitter_op`)."""
    return client._run(by_submitter_op(client.session, address, start, limit))


def by_category(
    client: Client, category: str, from_ms: int, to_ms: int, limit: int = 100, cursor: str = ""
) -> dict[str, Any]:
    """Batches of a category in a time range (see :func:`by_category_op`)."""
    return client._run(by_category_op(client.session, category, from_ms, to_ms, limit, cursor))


def timestamp(client: Client, digest: bytes, *, nonce: bool = True) -> bytes:
    """An RFC 3161 time-stamp response for an anchored digest (see :func:`timestamp_op`)."""
    return client._run(timestamp_op(client.session, digest, nonce=nonce))
