"""The ``evidence`` app: anchor digests of files and records, in Merkle batches.

One ``anchor`` call is one *batch*: a list of digests (each the chain suite's hash of a
file or record: SHA-256 on ``ed25519`` chains, SM3 on ``sm`` chains) with one category,
submitter reference, optional parent evidence and small metadata. The batch is identified
by its transaction hash; its Merkle root (RFC 6962 shape over the digests, see
:mod:`xinlian.crypto.merkle`) goes into the ``evidence.anchored`` event, so the receipt of
the transaction binds every digest of the batch to the block.

State layout (under ``evidence/``; ``<n>`` is 8-byte big-endian, ``<day>`` is the block
time in whole UTC days since the epoch as 4-byte big-endian)::

    d/<digest>                 -> DigestRecord(batch tx hash, index in the batch)
    b/<tx hash>                -> Batch
    s/<address>/n              -> number of batches anchored by the account
    s/<address>/<n>            -> tx hash of its n-th batch
    c/<category>/<day>/n       -> number of batches of the category that day
    c/<category>/<day>/<n>     -> tx hash of that day's n-th batch

Duplicates: a digest that appears twice in one call is refused; a digest that is already
anchored may be anchored again (it stays in the new batch's Merkle tree and the new
transaction proves it too), but its index record keeps the *first* anchor, which is the
one ``get`` and receipts report. The event's ``new`` attribute counts digests anchored for
the first time.

The parent (chain of custody) must itself be anchored; ``custody`` follows the links.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from msgspec import Struct

from xinlian.apps.base import CallContext, Method, Role, StateView, require
from xinlian.codec import decode, encode
from xinlian.crypto.merkle import merkle_root
from xinlian.types import Event, TxStatus
from xinlian.types.evidence import AnchorArgs
from xinlian.types.genesis import Genesis

NAME = "evidence"
CATEGORIES = ("judicial", "registration", "enforcement", "other")
DIGEST_SIZE = 32
#: Most digests one call may carry (the default ``max_tx_bytes`` has room for them).
MAX_DIGESTS = 100_000
MAX_SUBMITTER_REF = 128
MAX_META_ENTRIES = 16
MAX_META_KEY = 64
MAX_META_VALUE = 256
#: Longest chain of custody ``custody`` follows.
MAX_CUSTODY = 64
#: Widest time range of one ``by_category`` query, in days.
MAX_QUERY_DAYS = 366
MAX_QUERY_LIMIT = 100
DAY_MS = 86_400_000
#: Gas per digest for hashing it into the batch tree (state writes are metered apart).
GAS_PER_DIGEST = 100
#: Largest encoded arguments of ``anchor``: the digests (each 2 bytes of framing), the
#: reference, the metadata and the map around them.
MAX_ANCHOR_ARGS = (
    MAX_DIGESTS * (DIGEST_SIZE + 2)
    + MAX_SUBMITTER_REF
    + MAX_META_ENTRIES * (MAX_META_KEY + MAX_META_VALUE + 6)
    + DIGEST_SIZE
    + 256
)
EVENT_ANCHORED = "evidence.anchored"


class DigestArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments naming one digest."""

    digest: bytes


class SubmitterArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``evidence.by_submitter``: batches ``start`` .. ``start + limit - 1``."""

    address: str
    start: int
    limit: int


class CategoryArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``evidence.by_category``: batches with block time in
    ``[from_ms, to_ms]``; ``cursor`` is ``""`` or the ``next`` of a previous answer."""

    category: str
    from_ms: int
    to_ms: int
    limit: int
    cursor: str


class DigestRecord(Struct, array_like=True, frozen=True):
    """Where a digest was first anchored: its batch (transaction hash) and position."""

    batch: bytes
    index: int


class Batch(Struct, array_like=True, frozen=True):
    """One anchored batch."""

    root: bytes
    count: int
    height: int
    time_ms: int
    submitter: str
    category: str
    submitter_ref: str
    parent: bytes | None
    meta: dict[str, str]


def digest_key(digest: bytes) -> bytes:
    """State key (within the app) of a digest's index record."""
    return b"d/" + digest


def batch_key(tx_hash: bytes) -> bytes:
    """State key (within the app) of a batch."""
    return b"b/" + tx_hash


def _n(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _submitter_prefix(address: str) -> bytes:
    return b"s/" + address.encode() + b"/"


def _category_prefix(category: str, day: int) -> bytes:
    return b"c/" + category.encode() + b"/" + day.to_bytes(4, "big") + b"/"


def _count(state: StateView, key: bytes) -> int:
    raw = state.get(key)
    return 0 if raw is None else decode(raw, int)


def _append(state: StateView, prefix: bytes, value: bytes) -> None:
    n = _count(state, prefix + b"n")
    state.put(prefix + _n(n), value)
    state.put(prefix + b"n", encode(n + 1))


def _check_digest(digest: bytes, what: str = "digest") -> None:
    require(
        len(digest) == DIGEST_SIZE,
        f"{what} must be {DIGEST_SIZE} bytes (the chain's hash size), got {len(digest)}",
        TxStatus.INVALID_ARGS,
    )


def _check_category(category: str) -> None:
    require(
        category in CATEGORIES,
        f"unknown category {category!r}; categories are {list(CATEGORIES)}",
        TxStatus.INVALID_ARGS,
    )


def check_anchor(args: AnchorArgs) -> None:
    """The static rules of ``anchor`` before any gas is charged (also checked on
    admission): digest count, category, submitter reference and metadata sizes."""
    count = len(args.digests)
    require(
        0 < count <= MAX_DIGESTS,
        f"give 1-{MAX_DIGESTS} digests, got {count}",
        TxStatus.INVALID_ARGS,
    )
    _check_category(args.category)
    require(
        len(args.submitter_ref.encode()) <= MAX_SUBMITTER_REF,
        f"submitter_ref longer than {MAX_SUBMITTER_REF} bytes",
        TxStatus.INVALID_ARGS,
    )
    require(
        len(args.meta) <= MAX_META_ENTRIES,
        f"meta has {len(args.meta)} entries; at most {MAX_META_ENTRIES}",
        TxStatus.INVALID_ARGS,
    )
    for name, value in args.meta.items():
        require(
            0 < len(name.encode()) <= MAX_META_KEY and len(value.encode()) <= MAX_META_VALUE,
            f"meta keys are 1-{MAX_META_KEY} bytes and values at most {MAX_META_VALUE}",
            TxStatus.INVALID_ARGS,
        )


def anchor(ctx: CallContext, args: AnchorArgs) -> dict[str, Any]:
    """Anchor a batch of digests; returns the batch root, count and new count."""
    check_anchor(args)
    count = len(args.digests)
    ctx.charge(GAS_PER_DIGEST * count)
    for i, digest in enumerate(args.digests):
        _check_digest(digest, f"digests[{i}]")
    require(
        len(set(args.digests)) == count,
        "a digest appears twice in this batch",
        TxStatus.INVALID_ARGS,
    )
    state = ctx.state
    if args.parent is not None:
        _check_digest(args.parent, "parent")
        require(
            state.get(digest_key(args.parent)) is not None,
            f"parent evidence {args.parent.hex()} is not anchored",
            TxStatus.INVALID_ARGS,
        )
    root = merkle_root(ctx.suite.hash, args.digests)
    new = 0
    for index, digest in enumerate(args.digests):
        key = digest_key(digest)
        if state.get(key) is None:
            state.put(key, encode(DigestRecord(ctx.tx_hash, index)))
            new += 1
    batch = Batch(
        root,
        count,
        ctx.height,
        ctx.time_ms,
        ctx.sender_address,
        args.category,
        args.submitter_ref,
        args.parent,
        dict(sorted(args.meta.items())),
    )
    state.put(batch_key(ctx.tx_hash), encode(batch))
    _append(state, _submitter_prefix(ctx.sender_address), ctx.tx_hash)
    _append(state, _category_prefix(args.category, ctx.time_ms // DAY_MS), ctx.tx_hash)
    ctx.emit(
        Event(
            EVENT_ANCHORED,
            {
                "batch_root": root.hex(),
                "count": str(count),
                "new": str(new),
                "category": args.category,
                "submitter": ctx.sender_address,
            },
        )
    )
    return {"batch_root": root, "count": count, "new": new}


def _batch_json(state: StateView, tx_hash: bytes) -> dict[str, Any]:
    raw = state.get(batch_key(tx_hash))
    require(raw is not None, f"batch {tx_hash.hex()} is missing")
    assert raw is not None
    b = decode(raw, Batch)
    return {
        "tx_hash": tx_hash,
        "root": b.root,
        "count": b.count,
        "height": b.height,
        "time_ms": b.time_ms,
        "submitter": b.submitter,
        "category": b.category,
        "submitter_ref": b.submitter_ref,
        "parent": b.parent,
        "meta": b.meta,
    }


def _record(state: StateView, digest: bytes) -> dict[str, Any] | None:
    raw = state.get(digest_key(digest))
    if raw is None:
        return None
    rec = decode(raw, DigestRecord)
    batch = _batch_json(state, rec.batch)
    return {"digest": digest, "index": rec.index, **batch}


def get(ctx: CallContext, args: DigestArgs) -> dict[str, Any] | None:
    """The first anchor of a digest: batch (tx hash), index, height, time, submitter..."""
    _check_digest(args.digest)
    return _record(ctx.state, args.digest)


def custody(ctx: CallContext, args: DigestArgs) -> list[dict[str, Any]]:
    """The chain of custody: the digest's record, then its parent's, and so on (at most
    ``MAX_CUSTODY`` records; empty if the digest is not anchored)."""
    _check_digest(args.digest)
    out: list[dict[str, Any]] = []
    digest: bytes | None = args.digest
    seen: set[bytes] = set()
    while digest is not None and digest not in seen and len(out) < MAX_CUSTODY:
        seen.add(digest)
        record = _record(ctx.state, digest)
        if record is None:
            break
        out.append(record)
        digest = record["parent"]
    return out


def _check_limit(limit: int) -> None:
    require(
        0 < limit <= MAX_QUERY_LIMIT, f"limit must be 1-{MAX_QUERY_LIMIT}", TxStatus.INVALID_ARGS
    )


def by_submitter(ctx: CallContext, args: SubmitterArgs) -> dict[str, Any]:
    """Batches anchored by an account, oldest first: ``{"total", "batches"}``."""
    _check_limit(args.limit)
    require(args.start >= 0, "start must be >= 0", TxStatus.INVALID_ARGS)
    prefix = _submitter_prefix(args.address.lower())
    total = _count(ctx.state, prefix + b"n")
    batches = []
    for n in range(args.start, min(total, args.start + args.limit)):
        tx_hash = ctx.state.get(prefix + _n(n))
        if tx_hash is not None:
            batches.append(_batch_json(ctx.state, tx_hash))
    return {"total": total, "batches": batches}


def by_category(ctx: CallContext, args: CategoryArgs) -> dict[str, Any]:
    """Batches of a category whose block time is in ``[from_ms, to_ms]``, oldest first:
    ``{"batches", "next"}`` (``next`` is the cursor of the following page, or ``""``)."""
    _check_category(args.category)
    _check_limit(args.limit)
    require(0 <= args.from_ms <= args.to_ms, "need 0 <= from_ms <= to_ms", TxStatus.INVALID_ARGS)
    first, last = args.from_ms // DAY_MS, args.to_ms // DAY_MS
    require(
        last - first < MAX_QUERY_DAYS,
        f"the time range spans more than {MAX_QUERY_DAYS} days",
        TxStatus.INVALID_ARGS,
    )
    day, n = first, 0
    if args.cursor:
        try:
            day_text, n_text = args.cursor.split(":")
            day, n = int(day_text), int(n_text)
        except ValueError:
            require(
                False, "cursor must be '<day>:<n>' from a previous answer", TxStatus.INVALID_ARGS
            )
        require(first <= day <= last and n >= 0, "cursor outside the range", TxStatus.INVALID_ARGS)
    batches: list[dict[str, Any]] = []
    while day <= last:
        prefix = _category_prefix(args.category, day)
        total = _count(ctx.state, prefix + b"n")
        while n < total:
            if len(batches) >= args.limit:
                return {"batches": batches, "next": f"{day}:{n}"}
            tx_hash = ctx.state.get(prefix + _n(n))
            n += 1
            if tx_hash is None:
                continue
            batch = _batch_json(ctx.state, tx_hash)
            if args.from_ms <= batch["time_ms"] <= args.to_ms:
                batches.append(batch)
        day, n = day + 1, 0
    return {"batches": batches, "next": ""}


class EvidenceApp:
    """Evidence anchoring by writers; queries by anyone who may read."""

    name = NAME
    methods: ClassVar[Mapping[str, Method]] = {
        "anchor": Method(
            anchor, AnchorArgs, Role.WRITER, max_args=MAX_ANCHOR_ARGS, check=check_anchor
        ),
        "get": Method(get, DigestArgs, Role.READER, readonly=True),
        "custody": Method(custody, DigestArgs, Role.READER, readonly=True),
        "by_submitter": Method(by_submitter, SubmitterArgs, Role.READER, readonly=True),
        "by_category": Method(by_category, CategoryArgs, Role.READER, readonly=True),
    }

    def init_genesis(self, state: StateView, genesis: Genesis) -> None:
        """No evidence at genesis."""
