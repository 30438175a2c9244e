"""The asynchronous client: the same methods as :class:`~xinlian.sdk.client.Client`,
awaited, plus a WebSocket subscription to committed blocks.

::

    async with AsyncClient(url, key=signer) as c:
        result = await c.send("kv", "put", {"key": "a", "value": "b"})
        async for block in c.blocks():
            print(block.height, block.tx_count)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx

from xinlian.crypto import CryptoSuite, KeyPair
from xinlian.sdk import evidence as ev
from xinlian.sdk.client import default_url, make_session, request_kwargs
from xinlian.sdk.errors import ResponseError, TransportError, XinlianError
from xinlian.sdk.models import (
    AccountInfo,
    BlockEvent,
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
from xinlian.sdk.session import Op, Request, Response, Sleep, as_hash
from xinlian.sdk.signer import DEFAULT_EXPIRY_BLOCKS, DEFAULT_GAS_LIMIT, Signer
from xinlian.sdk.wire import parse_block_event
from xinlian.types import ValidatorSet
from xinlian.types.genesis import Genesis

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient:
    """An asyncio client of one node's REST API; arguments as for ``Client``.

    Use it as an async context manager, or call :meth:`aclose` when done.
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
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        self.session = make_session(key, genesis, gas_limit, expiry_blocks)
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=timeout, transport=transport, headers=self._headers
        )

    # PLUMBING

    async def _request(self, req: Request) -> Response:
        try:
            r = await self._http.request(req.method, req.path, **request_kwargs(req))
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot reach {self.url}: {exc}") from None
        return Response.from_bytes(r.status_code, r.content)

    async def _run(self, op: Op[T]) -> T:
        try:
            action = next(op)
            while True:
                if isinstance(action, Sleep):
                    await asyncio.sleep(action.seconds)
                    action = op.send(None)
                else:
                    try:
                        resp = await self._request(action)
                    except XinlianError as exc:
                        action = op.throw(exc)  # let the operation react (nonce tracking)
                    else:
                        action = op.send(resp)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            op.close()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def signer(self) -> Signer | None:
        """The signing account, if any."""
        return self.session.signer

    @property
    def address(self) -> str | None:
        """The signing account's address, if any."""
        return self.session.signer.address if self.session.signer else None

    # NODE

    async def status(self) -> NodeStatus:
        """The node's chain, height and latest block (``GET /v1/status``)."""
        return await self._run(self.session.status())

    async def chain(self) -> tuple[str, CryptoSuite]:
        """The chain's id and crypto suite (read from the node once, then remembered)."""
        return await self._run(self.session.chain())

    async def health(self) -> int:
        """The node's height if it is healthy (``GET /healthz``)."""
        return await self._run(self.session.health())

    async def genesis(self) -> Genesis:
        """The chain's genesis document as the node serves it."""
        return await self._run(self.session.genesis_doc())

    async def validators(self) -> ValidatorSet:
        """The current validator set as the node reports it."""
        return await self._run(self.session.validators())

    async def equivocations(self) -> list[EquivocationInfo]:
        """Validators the node caught signing two conflicting messages, each checked
        here (``verified``, or ``problem`` naming the check that failed)."""
        return await self._run(self.session.equivocations())

    # READS

    async def account(self, address: str) -> AccountInfo:
        """An account's next nonce and registration record."""
        return await self._run(self.session.account(address))

    async def get_block(self, height: int | str = "latest", *, verify: bool = True) -> BlockInfo:
        """A block's header, commit certificate and transaction ids (commit verified)."""
        return await self._run(self.session.get_block(height, verify))

    async def get_block_by_hash(self, block_hash: bytes, *, verify: bool = True) -> BlockInfo:
        """A block by its hash."""
        return await self._run(self.session.get_block_by_hash(block_hash, verify))

    async def get_state(
        self, key: str | bytes, height: int | None = None, *, verify: bool = True
    ) -> bytes | None:
        """The value of a full state key, None if absent; proof and commit verified."""
        return await self._run(self.session.get_state(key, height, verify))

    async def get_state_entry(
        self, key: str | bytes, height: int | None = None, *, verify: bool = True
    ) -> StateEntry:
        """The value of a state key with its height, header and proof."""
        return await self._run(self.session.get_state_entry(key, height, verify))

    async def query(
        self, target: str, method: str, args: Mapping[str, Any] | bytes | None = None
    ) -> Any:
        """Run a read-only app method."""
        return await self._run(self.session.query(target, method, args))

    async def events_page(
        self, type: str, *, from_height: int = 0, limit: int = 100, cursor: str | None = None
    ) -> EventPage:
        """One page of events of a type; continue with ``cursor=page.next`` until it is
        None (pages inside a height too)."""
        return await self._run(self.session.events_page(type, from_height, limit, cursor))

    async def events(
        self, type: str, *, from_height: int = 0, limit: int = 100
    ) -> list[EventRecord]:
        """Events of one type from a height on."""
        return await self._run(self.session.events(type, from_height, limit))

    # TRANSACTIONS

    async def send(
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
        """Sign and submit a call; with ``wait`` return once it is committed."""
        return await self._run(
            self.session.send(
                target, method, args, gas_limit=gas_limit, wait=wait, timeout=timeout, verify=verify
            )
        )

    async def simulate(
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
        return await self._run(
            self.session.simulate(
                target, method, args, sender=sender, nonce=nonce, gas_limit=gas_limit
            )
        )

    async def simulate_signed(self, raw: bytes) -> Simulation:
        """Simulate a signed transaction (its canonical bytes, e.g. ``SignedTx.raw``)."""
        return await self._run(self.session.simulate_signed(raw))

    async def send_many(
        self,
        calls: Sequence[Call],
        *,
        wait: bool = True,
        timeout: float = 60.0,
        verify: bool = True,
        chunk_size: int = 1000,
    ) -> list[TxResult]:
        """Sign calls with consecutive nonces and submit them in batches."""
        return await self._run(
            self.session.send_many(
                calls, wait=wait, timeout=timeout, verify=verify, chunk_size=chunk_size
            )
        )

    async def get_tx(self, tx_hash: bytes | str, *, verify: bool = True) -> TxInfo:
        """A transaction by hash, with a verified inclusion proof once committed."""
        return await self._run(self.session.get_tx(as_hash(tx_hash), verify))

    async def wait_for(
        self, tx_hash: bytes | str, *, timeout: float = 30.0, verify: bool = True
    ) -> TxInfo:
        """Wait until a transaction is committed (polling with backoff, bounded)."""
        return await self._run(self.session.wait_for(as_hash(tx_hash), timeout, verify))

    def reset_nonce(self) -> None:
        """Forget tracked nonces; the next send reads the nonce from the node."""
        self.session.reset_nonce()

    # EVIDENCE (see xinlian.sdk.evidence)

    async def anchor_evidence(
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
        return await self._run(
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

    async def get_evidence(self, digest: bytes) -> dict[str, Any] | None:
        """Where a digest was first anchored (bytes as hex), or None."""
        return await self._run(ev.get_op(digest))

    async def evidence_custody(self, digest: bytes) -> list[dict[str, Any]]:
        """The chain of custody of a digest: its record, its parent's, ..."""
        return await self._run(ev.custody_op(digest))

    async def evidence_receipt(self, digest: bytes) -> ev.EvidenceReceipt:
        """The offline-verifiable receipt of an anchored digest (parsed, not verified:
        use ``xinlian.sdk.evidence.verify_receipt``)."""
        return await self._run(ev.receipt_op(digest))

    async def evidence_timestamp(self, digest: bytes, *, nonce: bool = True) -> bytes:
        """An RFC 3161 ``TimeStampResp`` (DER) for an anchored digest; genTime is the
        block time. Verify it with ``openssl ts -verify``."""
        return await self._run(ev.timestamp_op(self.session, digest, nonce=nonce))

    async def evidence_by_submitter(
        self, address: str, start: int = 0, limit: int = 100
    ) -> dict[str, Any]:
        """Batches an account anchored, oldest first: ``{"total", "batches"}``."""
        return await self._run(ev.by_submitter_op(self.session, address, start, limit))

    async def evidence_by_category(
        self, category: str, from_ms: int, to_ms: int, limit: int = 100, cursor: str = ""
    ) -> dict[str, Any]:
        """Batches of a category with block time in ``[from_ms, to_ms]``:
        ``{"batches", "next"}``."""
        return await self._run(
            ev.by_category_op(self.session, category, from_ms, to_ms, limit, cursor)
        )

    # SUBSCRIPTIONS

    def ws_url(self) -> str:
        """The WebSocket URL of the block feed."""
        base = self.url
        if base.startswith("https://"):
            base = "wss://" + base.removeprefix("https://")
        elif base.startswith("http://"):
            base = "ws://" + base.removeprefix("http://")
        return base + "/v1/ws"

    async def blocks(self) -> AsyncGenerator[BlockEvent, None]:
        """Committed blocks as the node pushes them over ``/v1/ws``, from now on.

        The iterator ends when the node closes the connection; a broken connection raises
        ``TransportError``. Close it (``aclose()``, or leave an ``async for``) to unsubscribe.
        """
        timeout = aiohttp.ClientTimeout(total=None, connect=self._timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout, headers=self._headers) as http,
                http.ws_connect(self.ws_url(), heartbeat=30.0) as ws,
            ):
                async for msg in ws:
                    if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        try:
                            doc = json.loads(msg.data)
                        except ValueError:
                            raise ResponseError("ws: a message is not JSON") from None
                        if isinstance(doc, dict) and doc.get("type") == "block":
                            yield parse_block_event(doc)
                    elif msg.type == aiohttp.WSMsgType.ERROR:
                        raise TransportError(f"block feed broke: {ws.exception()}")
        except aiohttp.ClientError as exc:
            raise TransportError(f"cannot subscribe at {self.ws_url()}: {exc}") from None
