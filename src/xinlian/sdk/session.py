"""The client logic, written once for the sync and the async client (sans-I/O).

Each operation is a generator that yields :class:`Request` (send this HTTP request and
give me the :class:`Response`) or :class:`Sleep` (pause this long) and finally returns its
result. :class:`~xinlian.sdk.client.Client` drives the generators with blocking I/O and
:class:`~xinlian.sdk.aio.AsyncClient` with ``await``, so both behave identically.

A :class:`Session` holds what a client learns and tracks: the chain's id and suite, the
trusted validator set, the next nonce of each sender, the latest height seen, and the
heights whose headers it has already certified.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias, TypeVar

import msgspec

from xinlian.crypto import CryptoError, CryptoSuite, get_suite
from xinlian.protocol import Refusal
from xinlian.sdk.errors import (
    ApiError,
    ResponseError,
    TransportError,
    TxTimeoutError,
    VerificationError,
    XinlianError,
)
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
from xinlian.sdk.signer import (
    DEFAULT_EXPIRY_BLOCKS,
    DEFAULT_GAS_LIMIT,
    SignedTx,
    Signer,
    encode_call_args,
)
from xinlian.sdk.verify import (
    block_hash,
    equivocation_problem,
    follow_validator_changes,
    genesis_hash,
    validator_set_from_genesis,
    validator_set_hash,
    verify_commit,
    verify_state_proof,
    verify_tx_inclusion,
)
from xinlian.sdk.wire import (
    parse_account,
    parse_block,
    parse_equivocations,
    parse_event_page,
    parse_events,
    parse_genesis,
    parse_problem,
    parse_simulation,
    parse_state,
    parse_status,
    parse_tx,
    parse_validator_changes,
    parse_validators,
)
from xinlian.types import BlockHeader, ValidatorSet
from xinlian.types.genesis import Genesis

__all__ = ["Op", "Request", "Response", "Session", "Sleep", "as_hash"]

T = TypeVar("T")

#: Refusals after which a send is retried with a corrected nonce.
_NONCE_REASONS = frozenset({Refusal.NONCE_TOO_LOW, Refusal.NONCE_TAKEN})
_SEND_ATTEMPTS = 4
#: How long a height seen from the node is used to compute expiries before re-reading it.
_HEIGHT_TTL = 5.0
_CERTIFIED_CACHE = 256
_POLL_START = 0.05
_POLL_MAX = 1.0
_POLL_FACTOR = 1.6


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request to make (``path`` relative to the node's base URL)."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP response: status, JSON body (None if not JSON) and the text."""

    status: int
    body: Any
    text: str = ""
    #: The raw body when it is not JSON (binary answers such as RFC 3161 tokens).
    content: bytes = b""

    @classmethod
    def from_bytes(cls, status: int, content: bytes) -> Response:
        """Parse a body that should be JSON (kept as text, and as bytes, when it is not)."""
        body: Any = None
        if content:
            try:
                body = msgspec.json.decode(content)
            except msgspec.DecodeError:
                body = None
        raw = content if body is None else b""
        return cls(status, body, content[:2000].decode("utf-8", errors="replace"), raw)


@dataclass(frozen=True, slots=True)
class Sleep:
    """Pause for ``seconds``."""

    seconds: float


Action: TypeAlias = Request | Sleep
#: An operation: yields actions, receives responses (None after a Sleep), returns T.
Op: TypeAlias = Generator[Action, Response | None, T]


def _call(req: Request) -> Op[Response]:
    resp = yield req
    if resp is None:  # pragma: no cover - a driver bug
        raise TransportError("no response")
    return resp


def _ok(resp: Response) -> Any:
    if resp.status >= 400:
        raise parse_problem(resp.status, resp.body, resp.text)
    if resp.body is None:
        raise ResponseError(f"expected a JSON answer, got HTTP {resp.status}: {resp.text[:200]!r}")
    return resp.body


def _get(path: str, params: Mapping[str, str] | None = None) -> Op[Any]:
    resp = yield from _call(Request("GET", path, params))
    return _ok(resp)


def as_hash(value: bytes | str) -> bytes:
    """A transaction or block hash given as bytes or as hex (``0x`` prefix allowed)."""
    if isinstance(value, bytes):
        return value
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise XinlianError(f"not a hex hash: {value!r}") from None


def _state_key(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


class Session:
    """What a client knows and tracks; its methods are operations (see module doc).

    Args:
        signer: the account that signs transactions (None: read-only client).
        genesis: a trusted genesis document. With it, the client checks that the node
            serves that chain and verifies commit certificates against the genesis
            validators; without it, the validator set is taken from the node on first use
            (trust on first use).
        gas_limit: default gas limit of calls.
        expiry_blocks: how many blocks past the current height transactions stay valid.
    """

    def __init__(
        self,
        *,
        signer: Signer | None = None,
        genesis: Genesis | None = None,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        expiry_blocks: int = DEFAULT_EXPIRY_BLOCKS,
    ) -> None:
        self.signer = signer
        self.genesis = genesis
        self.gas_limit = gas_limit
        self.expiry_blocks = expiry_blocks
        self.chain_id: str | None = genesis.chain_id if genesis else None
        self.suite: CryptoSuite | None = None
        self._validators: ValidatorSet | None = None
        self._known_sets: dict[bytes, ValidatorSet] = {}
        if genesis is not None:
            self.suite = _suite(genesis.suite)
            self._validators = validator_set_from_genesis(genesis)
        self._connected = False
        self._nonces: dict[str, int] = {}
        self._height = 0
        self._height_at = -_HEIGHT_TTL
        self._certified: OrderedDict[int, bytes] = OrderedDict()

    # CHAIN

    def _seen_height(self, height: int) -> None:
        if height >= self._height:
            self._height = height
            self._height_at = time.monotonic()

    def _learn(self, st: NodeStatus) -> None:
        if self.genesis is not None:
            if st.chain_id != self.genesis.chain_id:
                raise VerificationError(
                    f"node serves chain {st.chain_id!r}, the trusted "
                    f"genesis is of {self.genesis.chain_id!r}"
                )
            expected = genesis_hash(self.genesis)
            if st.genesis_hash != expected:
                raise VerificationError(
                    "node's genesis hash differs from the trusted "
                    f"genesis ({st.genesis_hash.hex()[:16]}… vs "
                    f"{expected.hex()[:16]}…)"
                )
        self.chain_id = st.chain_id
        self.suite = _suite(st.suite)
        self._connected = True
        self._seen_height(st.height)

    def status(self) -> Op[NodeStatus]:
        """``GET /v1/status``; also learns the chain id and suite."""
        st = parse_status((yield from _get("/v1/status")))
        self._learn(st)
        return st

    def _chain(self) -> Op[tuple[str, CryptoSuite]]:
        if not self._connected or self.chain_id is None or self.suite is None:
            yield from self.status()
        assert self.chain_id is not None and self.suite is not None
        return self.chain_id, self.suite

    def chain(self) -> Op[tuple[str, CryptoSuite]]:
        """The chain's id and crypto suite (read from ``/v1/status`` once)."""
        return (yield from self._chain())

    def health(self) -> Op[int]:
        """``GET /healthz``; returns the node's height."""
        body = yield from _get("/healthz")
        height = body.get("height") if isinstance(body, dict) else None
        if not isinstance(height, int):
            raise ResponseError("healthz: no height")
        self._seen_height(height)
        return height

    def genesis_doc(self) -> Op[Genesis]:
        """``GET /v1/genesis``."""
        return parse_genesis((yield from _get("/v1/genesis")))

    def validators(self) -> Op[ValidatorSet]:
        """``GET /v1/validators``; checks that the set hashes to the hash the node gives."""
        _, suite = yield from self._chain()
        vs, claimed = parse_validators((yield from _get("/v1/validators")))
        if claimed and validator_set_hash(suite, vs) != claimed:
            raise ResponseError("validator set does not hash to the hash the node claims")
        return vs

    def equivocations(self) -> Op[list[EquivocationInfo]]:
        """``GET /v1/consensus/equivocations``, each accusation checked here (see
        :class:`EquivocationInfo`): the set that signs a committed height is the one its
        certified header names (followed from the trusted set); for the height in
        progress, the node's current set."""
        chain_id, suite = yield from self._chain()
        found = parse_equivocations((yield from _get("/v1/consensus/equivocations")))
        latest = (yield from self.status()).height if found else 0
        sets: dict[int, ValidatorSet] = {}  # by height (0: the set of the next block)
        out: list[EquivocationInfo] = []
        for item in found:
            at = item.height if 1 <= item.height <= latest else 0
            if at not in sets:
                if at:
                    block = yield from self.get_block(at)
                    sets[at] = yield from self.validators_for(block.header)
                else:
                    sets[at] = yield from self.validators()
            validators = sets[at]
            problem = equivocation_problem(
                suite,
                chain_id,
                item.kind,
                item.height,
                item.round,
                item.validator_index,
                item.validator,
                [(m.signed, m.signature, m.block_hash) for m in (item.first, item.second)],
                validators,
            )
            out.append(replace(item, verified=not problem, problem=problem))
        return out

    def trusted_validators(self) -> Op[ValidatorSet]:
        """The validator set commits are checked against (genesis, or first seen)."""
        if self._validators is None:
            self._validators = yield from self.validators()
        return self._validators

    def validators_for(self, header: BlockHeader) -> Op[ValidatorSet]:
        """The trusted validator set that must have signed ``header``.

        The genesis (or first-seen) set is trusted; a later set is trusted when certified
        validator-set changes (``/v1/validators/changes``) lead to it from a trusted one.
        Without a genesis document a set the changes do not reach is taken from the node
        on first use (``/v1/validators?height=``), like the first set.
        """
        _, suite = yield from self._chain()
        trusted = yield from self.trusted_validators()
        if not self._known_sets:
            self._known_sets[validator_set_hash(suite, trusted)] = trusted
        found = self._known_sets.get(header.validators_hash)
        if found is not None:
            return found
        changes = parse_validator_changes((yield from _get("/v1/validators/changes")))
        chain_id, _ = yield from self._chain()
        try:
            follow_validator_changes(suite, chain_id, trusted, changes)
        except VerificationError:
            if self.genesis is not None:
                raise
            # Trust on first use started from a later set: the history before it is not
            # checked (pin a genesis file to check it).
        else:
            for change in changes:
                self._known_sets[validator_set_hash(suite, change.validators)] = change.validators
        found = self._known_sets.get(header.validators_hash)
        if found is None and self.genesis is None:
            vs, claimed = parse_validators(
                (yield from _get(f"/v1/validators?height={header.height}"))
            )
            if validator_set_hash(suite, vs) == claimed == header.validators_hash:
                self._known_sets[claimed] = found = vs
        if found is None:
            raise VerificationError(
                f"block {header.height} is signed by a validator set that certified changes "
                "from the trusted set do not lead to"
            )
        return found

    def _certify(self, header: BlockHeader, hash_: bytes) -> Op[None]:
        """Check that ``header`` (whose hash is ``hash_``) is final: fetch its commit
        certificate unless this height was certified before."""
        _, suite = yield from self._chain()
        if block_hash(suite, header) != hash_:
            raise VerificationError(
                f"block hash of height {header.height} does not match its header"
            )
        if self._certified.get(header.height) == hash_:
            return
        block = parse_block((yield from _get(f"/v1/blocks/{header.height}")))
        if block.hash != hash_:
            raise VerificationError(f"node serves two different blocks at height {header.height}")
        yield from self._check_block(block)

    def _check_block(self, block: BlockInfo) -> Op[None]:
        chain_id, suite = yield from self._chain()
        if block.header.chain_id != chain_id:
            raise VerificationError(
                f"block of chain {block.header.chain_id!r}, expected {chain_id!r}"
            )
        if block.header.height != block.height:
            raise VerificationError("block height differs from its header's height")
        if block_hash(suite, block.header) != block.hash:
            raise VerificationError(f"block {block.height}: hash does not match its header")
        vs = yield from self.validators_for(block.header)
        verify_commit(suite, block.header, block.commit, vs)
        self._remember(block.height, block.hash)

    def _remember(self, height: int, hash_: bytes) -> None:
        self._certified[height] = hash_
        self._certified.move_to_end(height)
        while len(self._certified) > _CERTIFIED_CACHE:
            self._certified.popitem(last=False)

    # READS

    def account(self, address: str) -> Op[AccountInfo]:
        """``GET /v1/accounts/{address}``."""
        return parse_account((yield from _get(f"/v1/accounts/{address}")))

    def get_block(self, ref: int | str = "latest", verify: bool = True) -> Op[BlockInfo]:
        """``GET /v1/blocks/{height|latest}``, certified against the validator set."""
        if isinstance(ref, int) and ref < 1:
            raise XinlianError("block heights start at 1")
        block = parse_block((yield from _get(f"/v1/blocks/{ref}")))
        self._seen_height(block.height)
        if isinstance(ref, int) and block.height != ref:
            raise VerificationError(f"asked for block {ref}, node sent {block.height}")
        if verify:
            yield from self._check_block(block)
            block = replace(block, verified=True)
        return block

    def get_block_by_hash(self, hash_: bytes, verify: bool = True) -> Op[BlockInfo]:
        """``GET /v1/blocks/by-hash/{hash}``."""
        block = parse_block((yield from _get(f"/v1/blocks/by-hash/{hash_.hex()}")))
        if block.hash != hash_:
            raise VerificationError("node sent a block with another hash")
        if verify:
            yield from self._check_block(block)
            block = replace(block, verified=True)
        return block

    def get_state_entry(
        self, key: str | bytes, height: int | None = None, verify: bool = True
    ) -> Op[StateEntry]:
        """``GET /v1/state/{key}``: the value with its proof, verified against a certified
        header unless ``verify`` is False."""
        raw_key = _state_key(key)
        params = {"encoding": "hex"}
        if height is not None:
            params["height"] = str(height)
        entry = parse_state((yield from _get(f"/v1/state/{raw_key.hex()}", params)))
        if entry.key != raw_key:
            raise ResponseError("node answered for another key")
        if height is not None and entry.height != height:
            raise VerificationError(f"asked for height {height}, node answered for {entry.height}")
        if not verify:
            return entry
        _, suite = yield from self._chain()
        header = entry.header
        if header is None:
            raise VerificationError(
                f"no certified header at height {entry.height}: state "
                "before the first block cannot be verified"
            )
        if header.height != entry.height or header.state_root != entry.state_root:
            raise VerificationError("the state root does not match the header's")
        yield from self._certify(header, entry.block_hash)
        verify_state_proof(suite, header, raw_key, entry.value, entry.proof)
        return replace(entry, verified=True)

    def get_state(
        self, key: str | bytes, height: int | None = None, verify: bool = True
    ) -> Op[bytes | None]:
        """The value of a state key (None if absent), verified unless ``verify`` is False."""
        entry = yield from self.get_state_entry(key, height, verify)
        return entry.value

    def query(
        self, target: str, method: str, args: Mapping[str, Any] | bytes | None = None
    ) -> Op[Any]:
        """``POST /v1/query``: run a read-only method; returns its JSON result."""
        payload = {"target": target, "method": method, "args": encode_call_args(args).hex()}
        resp = yield from _call(Request("POST", "/v1/query", json=payload))
        body = _ok(resp)
        if not isinstance(body, dict) or "result" not in body:
            raise ResponseError("query: no result")
        return body["result"]

    def events(self, type: str, from_height: int = 0, limit: int = 100) -> Op[list[EventRecord]]:
        """``GET /v1/events``: events of one type from a height on."""
        params = {"type": type, "from_height": str(from_height), "limit": str(limit)}
        return parse_events((yield from _get("/v1/events", params)))

    def events_page(
        self, type: str, from_height: int = 0, limit: int = 100, cursor: str | None = None
    ) -> Op[EventPage]:
        """``GET /v1/events`` one page at a time: pass the previous page's ``next`` as
        ``cursor`` to continue (also inside a height holding more than ``limit``)."""
        params = {"type": type, "from_height": str(from_height), "limit": str(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        return parse_event_page((yield from _get("/v1/events", params)))

    # TRANSACTIONS

    def get_tx(self, hash_: bytes, verify: bool = True) -> Op[TxInfo]:
        """``GET /v1/transactions/{hash}``; a committed transaction's proof is verified
        unless ``verify`` is False. Raises ``NotFoundError`` if the node does not know it."""
        info = parse_tx((yield from _get(f"/v1/transactions/{hash_.hex()}")))
        if info.hash != hash_:
            raise ResponseError("node answered for another transaction")
        if verify and info.committed:
            info = yield from self._verify_tx(info)
        return info

    def _verify_tx(self, info: TxInfo) -> Op[TxInfo]:
        chain_id, suite = yield from self._chain()
        assert info.proof is not None and info.receipt is not None
        if suite.hash(info.raw) != info.hash:
            raise VerificationError("the transaction's bytes do not hash to its id")
        if info.proof.header.height != info.height:
            raise VerificationError("the proof's header is not of the transaction's height")
        if info.proof.tx_proof.index != info.index:
            raise VerificationError("the proof is not for the transaction's position")
        vs = yield from self.validators_for(info.proof.header)
        verify_tx_inclusion(suite, vs, info.raw, info.receipt.to_receipt(), info.proof, chain_id)
        self._remember(info.proof.header.height, info.proof.block_hash)
        return replace(info, verified=True)

    def wait_for(self, hash_: bytes, timeout: float = 30.0, verify: bool = True) -> Op[TxInfo]:
        """Poll until the transaction is committed (backing off up to 1 s between polls).

        Raises:
            TxTimeoutError: not committed within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        delay = _POLL_START
        last = "unknown"
        while True:
            resp = yield from _call(Request("GET", f"/v1/transactions/{hash_.hex()}"))
            if resp.status == 404:
                last = "unknown"
            else:
                info = parse_tx(_ok(resp))
                if info.committed:
                    if info.hash != hash_:
                        raise ResponseError("node answered for another transaction")
                    if info.height is not None:
                        self._seen_height(info.height)
                    return (yield from self._verify_tx(info)) if verify else info
                last = info.status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TxTimeoutError(hash_, timeout, last)
            yield Sleep(min(delay, remaining))
            delay = min(delay * _POLL_FACTOR, _POLL_MAX)

    def signed_post(self, path: str, body: Any) -> Op[Any]:
        """``POST`` a JSON body that makes the node store bytes, signed by this client's
        key (see ``Signer.sign_upload``)."""
        chain_id, _ = yield from self._chain()
        content = msgspec.json.encode(body)
        headers = self._signer().sign_upload(
            chain_id=chain_id, path=path, body=content, time_ms=int(time.time() * 1000)
        )
        resp = yield from _call(
            Request("POST", path, content=content, content_type="application/json",
                    headers=headers)
        )  # fmt: skip
        return _ok(resp)

    def _signer(self) -> Signer:
        if self.signer is None:
            raise XinlianError("this client has no key: pass key= to send transactions")
        return self.signer

    def _next_nonce(self, address: str) -> Op[int]:
        nonce = self._nonces.get(address)
        if nonce is None:
            nonce = (yield from self.account(address)).nonce
            self._nonces[address] = nonce
        return nonce

    def reset_nonce(self) -> None:
        """Forget the tracked nonces (the next send reads them from the node)."""
        self._nonces.clear()

    def _expiry(self) -> Op[int]:
        if time.monotonic() - self._height_at > _HEIGHT_TTL:
            yield from self.health()
        return self._height + self.expiry_blocks

    def build(
        self,
        target: str,
        method: str,
        args: Mapping[str, Any] | bytes | None,
        *,
        nonce: int,
        expiry: int,
        gas_limit: int | None = None,
    ) -> Op[SignedTx]:
        """Sign a call with the client's key for this chain."""
        chain_id, suite = yield from self._chain()
        signer = self._signer()
        if signer.suite.name != suite.name:
            raise XinlianError(
                f"the key is a {signer.suite.name} key; this chain uses {suite.name}"
            )
        return signer.build(
            chain_id=chain_id,
            nonce=nonce,
            target=target,
            method=method,
            args=args,
            expiry=expiry,
            gas_limit=self.gas_limit if gas_limit is None else gas_limit,
        )

    def _submit(self, stx: SignedTx) -> Op[ApiError | None]:
        req = Request("POST", "/v1/transactions", json={"tx": stx.raw.hex()})
        resp = yield from _call(req)
        if resp.status >= 400:
            return parse_problem(resp.status, resp.body, resp.text)
        body = _ok(resp)
        claimed = body.get("hash") if isinstance(body, dict) else None
        if claimed != stx.hash.hex():
            raise ResponseError(f"node reports hash {claimed!r}, expected {stx.hash.hex()}")
        return None

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
    ) -> Op[TxResult]:
        """Sign and submit one call; with ``wait``, return once it is committed.

        The nonce is read from the node once and then tracked; a refusal because of a
        stale nonce is retried with a corrected one. Other refusals raise ``ApiError``
        (``reason`` tells why, e.g. ``Refusal.UNKNOWN_SENDER``, equal to the string
        ``"unknown_sender"``).
        """
        signer = self._signer()
        address = signer.address
        yield from self._chain()  # learns the chain (and the height) before signing
        error: ApiError | None = None
        for _ in range(_SEND_ATTEMPTS):
            nonce = yield from self._next_nonce(address)
            expiry = yield from self._expiry()
            stx = yield from self.build(
                target, method, args, nonce=nonce, expiry=expiry, gas_limit=gas_limit
            )
            try:
                error = yield from self._submit(stx)
            except XinlianError:
                self._nonces.pop(address, None)  # unknown outcome: re-read next time
                raise
            if error is None or error.reason == Refusal.DUPLICATE:
                self._nonces[address] = nonce + 1
                break
            if error.reason == Refusal.NONCE_TAKEN:
                self._nonces[address] = nonce + 1
            elif error.reason == Refusal.NONCE_TOO_LOW:
                self._nonces.pop(address, None)
            else:
                raise error
        else:
            assert error is not None
            raise error
        if not wait:
            return TxResult(hash=stx.hash, status="pending", nonce=nonce)
        try:
            info = yield from self.wait_for(stx.hash, timeout, verify)
        except TxTimeoutError:
            self._nonces.pop(address, None)  # it may have been dropped
            raise
        return TxResult(
            hash=stx.hash,
            status="committed",
            nonce=nonce,
            height=info.height,
            index=info.index,
            receipt=info.receipt,
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
    ) -> Op[Simulation]:
        """``POST /v1/transactions/simulate``: the receipt a call would get, committing
        nothing.

        Without ``sender`` the call is signed with the client's key (nonce: the tracked
        one, as :meth:`send` would use). With ``sender`` (an address as 40 hex digits, or
        a public key as bytes) it is simulated unsigned, so no key is needed; ``nonce``
        defaults to the sender's next committed nonce.
        """
        if sender is None:
            signer = self._signer()
            yield from self._chain()
            if nonce is None:
                nonce = yield from self._next_nonce(signer.address)
            expiry = yield from self._expiry()
            stx = yield from self.build(
                target, method, args, nonce=nonce, expiry=expiry, gas_limit=gas_limit
            )
            return (yield from self.simulate_signed(stx.raw))
        payload: dict[str, Any] = {
            "target": target,
            "method": method,
            "args": encode_call_args(args).hex(),
            "gas_limit": self.gas_limit if gas_limit is None else gas_limit,
        }
        if isinstance(sender, bytes):
            payload["sender"] = sender.hex()
        else:
            payload["address"] = sender
        if nonce is not None:
            payload["nonce"] = nonce
        resp = yield from _call(Request("POST", "/v1/transactions/simulate", json=payload))
        return parse_simulation(_ok(resp))

    def simulate_signed(self, raw: bytes) -> Op[Simulation]:
        """Simulate a signed transaction given as its canonical bytes."""
        req = Request("POST", "/v1/transactions/simulate", json={"tx": raw.hex()})
        resp = yield from _call(req)
        return parse_simulation(_ok(resp))

    def send_many(
        self,
        calls: Sequence[Call],
        *,
        wait: bool = True,
        timeout: float = 60.0,
        verify: bool = True,
        chunk_size: int = 1000,
    ) -> Op[list[TxResult]]:
        """Sign calls with consecutive nonces and submit them in batches.

        Returns one result per call, in order. A refused call has status ``"refused"``
        and its ``error``; calls after a batch with refusals are not sent (their nonces
        would wait behind a gap) and are reported refused with reason ``"not_sent"``.
        With ``wait``, waits until every accepted call is committed.
        """
        signer = self._signer()
        address = signer.address
        yield from self._chain()
        results: list[TxResult] = []
        accepted: list[int] = []
        stop: ApiError | None = None
        for start in range(0, len(calls), max(1, chunk_size)):
            chunk = calls[start : start + max(1, chunk_size)]
            if stop is not None:
                results.extend(_not_sent(stop, len(chunk)))
                continue
            outcome: list[TxResult] = []
            for _ in range(_SEND_ATTEMPTS):
                outcome = yield from self._send_chunk(address, chunk)
                errs = [r.error for r in outcome if r.error is not None]
                if errs and len(errs) == len(outcome) and errs[0].reason in _NONCE_REASONS:
                    self._nonces.pop(address, None)
                    continue  # every call refused for a stale nonce: re-read and retry
                break
            for r in outcome:
                if r.error is None:
                    accepted.append(len(results))
                results.append(r)
            refused = [r.error for r in outcome if r.error is not None]
            if refused:
                self._nonces.pop(address, None)
                stop = ApiError(
                    0,
                    "not_sent",
                    f"an earlier transaction of this batch was refused ({refused[0].reason})",
                )
        if not wait or not accepted:
            return results
        deadline = time.monotonic() + timeout
        # Same sender, consecutive nonces: once the last is committed, so are the others.
        for i in reversed(accepted):
            remaining = max(0.0, deadline - time.monotonic())
            try:
                info = yield from self.wait_for(results[i].hash, remaining, verify)
            except TxTimeoutError as exc:
                self._nonces.pop(address, None)
                raise TxTimeoutError(exc.tx_hash, timeout, exc.last_status) from None
            results[i] = replace(
                results[i],
                status="committed",
                height=info.height,
                index=info.index,
                receipt=info.receipt,
            )
        return results

    def _send_chunk(self, address: str, chunk: Sequence[Call]) -> Op[list[TxResult]]:
        first = yield from self._next_nonce(address)
        expiry = yield from self._expiry()
        signed: list[SignedTx] = []
        for offset, call in enumerate(chunk):
            stx = yield from self.build(
                call.target,
                call.method,
                call.args,
                nonce=first + offset,
                expiry=expiry,
                gas_limit=call.gas_limit,
            )
            signed.append(stx)
        req = Request(
            "POST",
            "/v1/transactions/batch",
            content=msgspec.msgpack.encode([s.raw for s in signed]),
            content_type="application/msgpack",
        )
        try:
            resp = yield from _call(req)
        except XinlianError:
            self._nonces.pop(address, None)
            raise
        body = _ok(resp)
        items = body.get("results") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) != len(signed):
            raise ResponseError("batch: expected one result per transaction")
        out: list[TxResult] = []
        for stx, item in zip(signed, items, strict=True):
            if isinstance(item, dict) and "error" in item:
                err = item["error"] if isinstance(item["error"], dict) else {}
                reason = Refusal.parse(str(err.get("reason", "")))
                if reason == Refusal.DUPLICATE:
                    out.append(TxResult(hash=stx.hash, status="pending", nonce=stx.nonce))
                    continue
                out.append(
                    TxResult(
                        hash=stx.hash,
                        status="refused",
                        nonce=stx.nonce,
                        error=ApiError(
                            reason.status if isinstance(reason, Refusal) else 400,
                            reason,
                            str(err.get("detail", "")),
                        ),
                    )
                )
            elif isinstance(item, dict) and item.get("hash") == stx.hash.hex():
                out.append(TxResult(hash=stx.hash, status="pending", nonce=stx.nonce))
            else:
                raise ResponseError(f"batch: unexpected result {item!r}")
        accepted = sum(1 for r in out if r.error is None)
        if accepted == len(out):
            self._nonces[address] = first + len(out)
        return out


def _not_sent(cause: ApiError, n: int) -> list[TxResult]:
    return [TxResult(hash=b"", status="refused", nonce=-1, error=cause) for _ in range(n)]


def _suite(name: str) -> CryptoSuite:
    try:
        return get_suite(name)
    except CryptoError as exc:
        raise ResponseError(str(exc)) from None
