"""The synchronous client.

::

    from xinlian.sdk import Client, Signer

    with Client("http://127.0.0.1:8545", key=Signer.from_file("keys/org1-writer.key")) as c:
        result = c.send("kv", "put", {"key": "a", "value": "b"})   # waits for the block
        print(result.height, result.receipt.status)
        print(c.get_state("kv/a"))                                 # b'b', proof verified

A client is not meant to be shared between threads (it tracks nonces); use one per
thread, or :meth:`Client.send_many` for many transactions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from xinlian.crypto import CryptoSuite, KeyPair
from xinlian.sdk.errors import TransportError, XinlianError
from xinlian.sdk.models import (
    AccountInfo,
    BlockInfo,
    Call,
    EquivocationInfo,
    EventPage,
    EventRecord,
    NodeStatus,
    Simulation,
    StateEntry,
    TxInfo,
    TxResult,
)
from xinlian.sdk.session import Op, Request, Response, Session, Sleep, as_hash
from xinlian.sdk.signer import DEFAULT_EXPIRY_BLOCKS, DEFAULT_GAS_LIMIT, Signer
from xinlian.sdk.verify import load_genesis
from xinlian.types import ValidatorSet
from xinlian.types.genesis import Genesis

if TYPE_CHECKING:  # imported where used: it loads cryptography's X.509 (CLI start-up)
    from xinlian.sdk import evidence as ev

__all__ = ["DEFAULT_URL", "Client", "default_url"]

T = TypeVar("T")

#: The node address used when none is given and ``XINLIAN_URL`` is not set.
DEFAULT_URL = "http://127.0.0.1:8545"


def default_url() -> str:
    """``$XINLIAN_URL`` or :data:`DEFAULT_URL`."""
    return os.environ.get("XINLIAN_URL") or DEFAULT_URL


def make_session(
    key: KeyPair | Signer | None,
    genesis: Genesis | str | Path | None,
    gas_limit: int,
    expiry_blocks: int,
) -> Session:
    """The shared client state for the given options (used by both clients)."""
    signer = key if isinstance(key, Signer) or key is None else Signer(key)
    trusted = load_genesis(genesis) if isinstance(genesis, (str, Path)) else genesis
    return Session(signer=signer, genesis=trusted, gas_limit=gas_limit, expiry_blocks=expiry_blocks)


def request_kwargs(req: Request) -> dict[str, Any]:
    """httpx keyword arguments of a request."""
    kwargs: dict[str, Any] = {}
    if req.params:
        kwargs["params"] = dict(req.params)
    if req.json is not None:
        kwargs["json"] = req.json
    headers: dict[str, str] = dict(req.headers or {})
    if req.content is not None:
        kwargs["content"] = req.content
        if req.content_type:
            headers["content-type"] = req.content_type
    if headers:
        kwargs["headers"] = headers
    return kwargs


class Client:
    """A blocking client of one node's REST API.

    Args:
        url: the node's base URL (default ``$XINLIAN_URL`` or ``http://127.0.0.1:8545``).
        key: the account key that signs transactions (a ``KeyPair`` or ``Signer``); None
            for a read-only client.
        genesis: a trusted genesis document (record or path). With it the client checks
            it talks to that chain and verifies commits against the genesis validators;
            without it, it trusts the validator set the node reports on first use.
        timeout: per-request timeout in seconds.
        gas_limit: default gas limit of calls.
        expiry_blocks: blocks past the current height that transactions stay valid.
        transport: an httpx transport (tests use ``httpx.MockTransport``).
        headers: extra HTTP headers sent with every request.

    The chain id and crypto suite are read from ``/v1/status`` on first use.
    """

    def __init__(
        self,
        url: str | None = None,
        key: KeyPair | Signer | None = None,
        *,
        genesis: Genesis | str | Path | None = None,
        timeout: float = 10.0,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        expiry_blocks: int = DEFAULT_EXPIRY_BLOCKS,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        self.session = make_session(key, genesis, gas_limit, expiry_blocks)
        # A plain-http node never uses TLS (redirects are not followed), so skip loading
        # the system's CA bundle (a tenth of a second of every CLI call).
        plain = self.url.startswith("http://")
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers=dict(headers or {}),
            verify=not plain,
        )

    # PLUMBING

    def _request(self, req: Request) -> Response:
        try:
            r = self._http.request(req.method, req.path, **request_kwargs(req))
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot reach {self.url}: {exc}") from None
        return Response.from_bytes(r.status_code, r.content)

    def _run(self, op: Op[T]) -> T:
        try:
            action = next(op)
            while True:
                if isinstance(action, Sleep):
                    time.sleep(action.seconds)
                    action = op.send(None)
                else:
                    try:
                        resp = self._request(action)
                    except XinlianError as exc:
                        action = op.throw(exc)  # let the operation react (nonce tracking)
                    else:
                        action = op.send(resp)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            op.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def signer(self) -> Signer | None:
        """The signing account, if any."""
        return self.session.signer

    @property
    def address(self) -> str | None:
        """The signing account's address, if any."""
        return self.session.signer.address if self.session.signer else None

    # NODE

    def status(self) -> NodeStatus:
        """The node's chain, height and latest block (``GET /v1/status``)."""
        return self._run(self.session.status())

    def chain(self) -> tuple[str, CryptoSuite]:
        """The chain's id and crypto suite (read from the node once, then remembered)."""
        return self._run(self.session.chain())

    def health(self) -> int:
        """The node's height if it is healthy (``GET /healthz``)."""
        return self._run(self.session.health())

    def genesis(self) -> Genesis:
        """The chain's genesis document as the node serves it."""
        return self._run(self.session.genesis_doc())

    def validators(self) -> ValidatorSet:
        """The current validator set as the node reports it."""
        return self._run(self.session.validators())

    def equivocations(self) -> list[EquivocationInfo]:
        """Validators the node caught signing two conflicting messages, each checked
        here (``verified``, or ``problem`` naming the check that failed)."""
        return self._run(self.session.equivocations())

    # READS

    def account(self, address: str) -> AccountInfo:
        """An account's next nonce and registration record."""
        return self._run(self.session.account(address))

    def get_block(self, height: int | str = "latest", *, verify: bool = True) -> BlockInfo:
        """A block's header, commit certificate and transaction ids; with ``verify``, the
        commit is checked against the trusted validator set."""
        return self._run(self.session.get_block(height, verify))

    def get_block_by_hash(self, block_hash: bytes, *, verify: bool = True) -> BlockInfo:
        """A block by its hash."""
        return self._run(self.session.get_block_by_hash(block_hash, verify))

    def get_state(
        self, key: str | bytes, height: int | None = None, *, verify: bool = True
    ) -> bytes | None:
        """The value of a full state key (``"kv/mykey"``), None if absent.

        With ``verify`` (the default) the proof is checked against the header's state root
        and the header's commit certificate against the trusted validator set; a failure
        raises ``VerificationError``.
        """
        return self._run(self.session.get_state(key, height, verify))

    def get_state_entry(
        self, key: str | bytes, height: int | None = None, *, verify: bool = True
    ) -> StateEntry:
        """Like :meth:`get_state` but returns the value with its height, header and proof."""
        return self._run(self.session.get_state_entry(key, height, verify))

    def query(self, target: str, method: str, args: Mapping[str, Any] | bytes | None = None) -> Any:
        """Run a read-only app method (``query("kv", "get", {"key": "a"})``)."""
        return self._run(self.session.query(target, method, args))

    def events_page(
        self, type: str, *, from_height: int = 0, limit: int = 100, cursor: str | None = None
    ) -> EventPage:
        """One page of events of a type; continue with ``cursor=page.next`` until it is
        None (pages inside a height too)."""
        return self._run(self.session.events_page(type, from_height, limit, cursor))

    def events(self, type: str, *, from_height: int = 0, limit: int = 100) -> list[EventRecord]:
        """Events of one type (``"kv.put"``) from a height on."""
        return self._run(self.session.events(type, from_height, limit))

    # TRANSACTIONS

    def send(
        self,
        target: str,
        method: str,
        args: Mapping[str, Any] | bytes | None = None,
        *,
        gas_limit: int | None = None,
        wait: bool = True,
        timeout: float = 30.0,
        verify: bool = True,
    ) -> TxResult:
        """Sign and submit a call; with ``wait`` (default) return once it is committed.

        Raises:
            ApiError: the node refused it (``reason`` says why).
            TxTimeoutError: ``wait`` and not committed within ``timeout`` seconds.
        """
        return self._run(
            self.session.send(
                target, method, args, gas_limit=gas_limit, wait=wait, timeout=timeout, verify=verify
            )
        )

    def simulate(
        self,
        target: str,
        method: str,
        args: Mapping[str, Any] | bytes | None = None,
        *,
        sender: str | bytes | None = None,
        nonce: int | None = None,
        gas_limit: int | None = None,
    ) -> Simulation:
        """Run a call against the latest committed state without committing anything and
        return the receipt it would get (``POST /v1/transactions/simulate``).

        Without ``sender`` the call is signed with the client's key and the nonce
        :meth:`send` would use; with ``sender`` (an address, or a public key as bytes) it
        is simulated unsigned. ``result.ok`` tells whether it would succeed,
        ``result.reason`` why not.
        """
        return self._run(
            self.session.simulate(
                target, method, args, sender=sender, nonce=nonce, gas_limit=gas_limit
            )
        )

    def simulate_signed(self, raw: bytes) -> Simulation:
        """Simulate a signed transaction (its canonical bytes, e.g. ``SignedTx.raw``)."""
        return self._run(self.session.simulate_signed(raw))

    def send_many(
        self,
        calls: Sequence[Call],
        *,
        wait: bool = True,
        timeout: float = 60.0,
        verify: bool = True,
        chunk_size: int = 1000,
    ) -> list[TxResult]:
        """Sign calls with consecutive nonces and submit them through the batch endpoint;
        one result per call, in order (refused calls have ``status == "refused"``)."""
        return self._run(
            self.session.send_many(
                calls, wait=wait, timeout=timeout, verify=verify, chunk_size=chunk_size
            )
        )

    def get_tx(self, tx_hash: bytes | str, *, verify: bool = True) -> TxInfo:
        """A transaction by hash (bytes or hex): pending, or committed with its receipt and
        a verified inclusion proof. Raises ``NotFoundError`` if unknown."""
        return self._run(self.session.get_tx(as_hash(tx_hash), verify))

    def wait_for(
        self, tx_hash: bytes | str, *, timeout: float = 30.0, verify: bool = True
    ) -> TxInfo:
        """Wait until a transaction is committed (polling with backoff).

        Raises:
            TxTimeoutError: not committed within ``timeout`` seconds.
        """
        return self._run(self.session.wait_for(as_hash(tx_hash), timeout, verify))

    def reset_nonce(self) -> None:
        """Forget tracked nonces; the next send reads the nonce from the node."""
        self.session.reset_nonce()

    # EVIDENCE (see xinlian.sdk.evidence)

    def anchor_evidence(
        self,
        digests: Sequence[bytes],
        *,
        category: str,
        submitter_ref: str = "",
        parent: bytes | None = None,
        meta: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        progress: Callable[[int], None] | None = None,
    ) -> list[TxResult]:
        """Anchor digests in as many ``evidence.anchor`` transactions as the chain's size
        limit needs and wait for them; one result per transaction."""
        from xinlian.sdk import evidence as ev

        return self._run(
            ev.anchor_op(
                self.session,
                digests,
                category=category,
                submitter_ref=submitter_ref,
                parent=parent,
                meta=meta,
                timeout=timeout,
                progress=progress,
            )
        )

    def get_evidence(self, digest: bytes) -> dict[str, Any] | None:
        """Where a digest was first anchored (bytes as hex), or None."""
        from xinlian.sdk import evidence as ev

        return self._run(ev.get_op(digest))

    def evidence_custody(self, digest: bytes) -> list[dict[str, Any]]:
        """The chain of custody of a digest: its record, its parent's, ..."""
        from xinlian.sdk import evidence as ev

        return self._run(ev.custody_op(digest))

    def evidence_receipt(self, digest: bytes) -> ev.EvidenceReceipt:
        """The offline-verifiable receipt of an anchored digest (parsed, not verified:
        use ``xinlian.sdk.evidence.verify_receipt``)."""
        from xinlian.sdk import evidence as ev

        return self._run(ev.receipt_op(digest))

    def evidence_timestamp(self, digest: bytes, *, nonce: bool = True) -> bytes:
        """An RFC 3161 ``TimeStampResp`` (DER) for an anchored digest; genTime is the
        block time. Verify it with ``openssl ts -verify``."""
        from xinlian.sdk import evidence as ev

        return self._run(ev.timestamp_op(self.session, digest, nonce=nonce))

    def evidence_by_submitter(
        self, address: str, start: int = 0, limit: int = 100
    ) -> dict[str, Any]:
        """Batches an account anchored, oldest first: ``{"total", "batches"}``."""
        from xinlian.sdk import evidence as ev

        return self._run(ev.by_submitter_op(self.session, address, start, limit))

    def evidence_by_category(
        self, category: str, from_ms: int, to_ms: int, limit: int = 100, cursor: str = ""
    ) -> dict[str, Any]:
        """Batches of a category with block time in ``[from_ms, to_ms]``:
        ``{"batches", "next"}``."""
        from xinlian.sdk import evidence as ev

        return self._run(ev.by_category_op(self.session, category, from_ms, to_ms, limit, cursor))
