"""The sync and async clients against an in-memory fake of the REST API (httpx.MockTransport).

The fake follows the API contract closely enough to exercise nonce tracking, retries,
waiting, verification and error mapping; the real node is exercised end to end in
``test_sdk_e2e.py``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import httpx
import msgspec
import pytest

from xinlian.codec import decode, encode, to_builtins
from xinlian.crypto import address_of, get_suite
from xinlian.crypto.merkle import merkle_proof, merkle_root
from xinlian.crypto.proofs import EMPTY_HASH, state_leaf_hash
from xinlian.sdk import (
    ApiError,
    AsyncClient,
    Call,
    Client,
    NotFoundError,
    Refusal,
    ResponseError,
    Signer,
    TransportError,
    TxFailedError,
    TxTimeoutError,
    VerificationError,
    XinlianError,
)
from xinlian.sdk.wire import parse_problem, record_from_json
from xinlian.types import (
    BlockHeader,
    Commit,
    CommitSig,
    Event,
    Receipt,
    SignedTransaction,
    StateProof,
    TxStatus,
    Validator,
    ValidatorSet,
    Vote,
)
from xinlian.types.genesis import Genesis, GenesisOrg, GenesisValidator

SUITE = get_suite("ed25519")
CHAIN = "fake-chain"
URL = "http://fake-node"


def _problem(status: int, reason: str, detail: str) -> httpx.Response:
    body = {"type": "about:blank", "title": "x", "status": status, "detail": detail}
    if reason:
        body["reason"] = reason
    return httpx.Response(
        status, content=json.dumps(body), headers={"content-type": "application/problem+json"}
    )


class FakeNode:
    """A single-validator chain in memory, speaking the REST API's JSON."""

    def __init__(self, *, commit_after_polls: int = 1) -> None:
        self.vkey = SUITE.generate()
        self.vs = ValidatorSet([Validator(self.vkey.public_key, 1, "node0")])
        self.vs_hash = SUITE.hash(encode(self.vs))
        self.genesis = Genesis(
            chain_id=CHAIN,
            suite="ed25519",
            time_ms=0,
            orgs=[GenesisOrg("org1", "ORG1")],
            accounts=[],
            validators=[GenesisValidator("node0", self.vkey.public_key.hex(), 1)],
        )
        self.genesis_hash = SUITE.hash(encode(self.genesis))
        self.registered: set[str] = set()
        self.nonces: dict[str, int] = {}
        self.pending: dict[bytes, tuple[SignedTransaction, bytes]] = {}
        self.committed: dict[bytes, tuple[int, int]] = {}
        self.blocks: list[dict[str, Any]] = []
        self.state: dict[bytes, bytes] = {}
        self.commit_after_polls = commit_after_polls
        self.polls = 0
        self.log: list[str] = []
        self.tamper: set[str] = set()
        self.down = False

    @property
    def height(self) -> int:
        return len(self.blocks)

    def register(self, signer: Signer) -> None:
        self.registered.add(signer.address)

    # CHAIN

    def _state_root(self) -> bytes:
        assert len(self.state) <= 1, "the fake proves at most one key"
        for k, v in self.state.items():
            return state_leaf_hash(SUITE.hash, SUITE.hash(k), SUITE.hash(v))
        return EMPTY_HASH

    def commit_block(self) -> None:
        txs = sorted(self.pending.items(), key=lambda kv: kv[1][0].tx.nonce)
        self.pending.clear()
        height = self.height + 1
        receipts = []
        for tx_hash, (stx, _) in txs:
            sender = address_of(SUITE, stx.tx.sender)
            self.nonces[sender] = stx.tx.nonce + 1
            args = msgspec.msgpack.decode(stx.tx.args)
            if stx.tx.method == "put":
                self.state[b"kv/" + args["key"].encode()] = args["value"].encode()
                receipts.append(
                    Receipt(tx_hash, 0, 1500, [Event("kv.put", {"key": args["key"]})], "", b"")
                )
            elif stx.tx.method == "echo":
                receipts.append(Receipt(tx_hash, 0, 1200, [], "", encode(args)))
            else:
                receipts.append(Receipt(tx_hash, int(TxStatus.UNKNOWN_TARGET), 1100, [], "no", b""))
        hashes = [h for h, _ in txs]
        raws = [raw for _, (_, raw) in txs]
        header = BlockHeader(
            CHAIN,
            height,
            1000 * height,
            self.genesis_hash,
            merkle_root(SUITE.hash, hashes),
            self._state_root(),
            merkle_root(SUITE.hash, [encode(r) for r in receipts]),
            self.vs_hash,
            self.vs_hash,
            self.vkey.public_key,
        )
        bh = SUITE.hash(encode(header))
        sig = SUITE.sign(self.vkey.private_key, encode(Vote(CHAIN, 2, height, 0, bh)))
        commit = Commit(height, 0, bh, [CommitSig(0, sig)])
        self.blocks.append(
            {
                "header": header,
                "hash": bh,
                "commit": commit,
                "hashes": hashes,
                "raws": raws,
                "receipts": receipts,
                "state": dict(self.state),
            }
        )
        for i, h in enumerate(hashes):
            self.committed[h] = (height, i)

    # HTTP

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        self.log.append(f"{request.method} {path}")
        parts = path.strip("/").split("/")
        if path == "/healthz":
            return httpx.Response(200, json={"status": "ok", "height": self.height})
        if path == "/v1/status":
            return httpx.Response(200, json=self._status())
        if path == "/v1/validators":
            return httpx.Response(
                200,
                json={"validators": to_builtins(self.vs.validators), "hash": self.vs_hash.hex()},
            )
        if parts[:2] == ["v1", "accounts"]:
            addr = parts[2]
            account = {
                "address": addr,
                "public_key": "",
                "name": "a",
                "org": "org1",
                "roles": ["writer"],
                "active": True,
            }
            return httpx.Response(
                200,
                json={
                    "address": addr,
                    "nonce": self.nonces.get(addr, 0),
                    "account": account if addr in self.registered else None,
                },
            )
        if path == "/v1/transactions" and request.method == "POST":
            raw = bytes.fromhex(json.loads(request.content)["tx"])
            err = self._admit(raw)
            return err or httpx.Response(202, json={"hash": SUITE.hash(raw).hex()})
        if path == "/v1/transactions/batch":
            assert request.headers["content-type"] == "application/msgpack"
            raws = msgspec.msgpack.decode(request.content, type=list[bytes])
            results: list[dict[str, Any]] = []
            for raw in raws:
                err = self._admit(raw)
                if err is None:
                    results.append({"hash": SUITE.hash(raw).hex()})
                else:
                    doc = json.loads(err.content)
                    results.append({"error": {"reason": doc["reason"], "detail": doc["detail"]}})
            accepted = sum(1 for r in results if "hash" in r)
            return httpx.Response(200, json={"accepted": accepted, "results": results})
        if parts[:2] == ["v1", "transactions"]:
            return self._get_tx(bytes.fromhex(parts[2]))
        if parts[:2] == ["v1", "blocks"]:
            height = self.height if parts[2] == "latest" else int(parts[2])
            if not 1 <= height <= self.height:
                return _problem(404, "not_found", f"no block {height}")
            return httpx.Response(200, json=self._block_json(height))
        if parts[:2] == ["v1", "state"]:
            assert request.url.params["encoding"] == "hex"
            return self._get_state(bytes.fromhex(parts[2]), request.url.params.get("height"))
        if path == "/v1/query":
            doc = json.loads(request.content)
            args = msgspec.msgpack.decode(bytes.fromhex(doc["args"]))
            value = self.state.get(b"kv/" + args["key"].encode())
            return httpx.Response(200, json={"result": value.decode() if value else None})
        if path == "/v1/events":  # two events in height 1, one per page
            second = request.url.params.get("cursor") == "1.0.1"
            return httpx.Response(
                200,
                json={
                    "events": [
                        {
                            "height": 1,
                            "index": 0,
                            "event_index": int(second),
                            "tx_hash": "ab" * 32,
                            "type": request.url.params["type"],
                            "attributes": {"key": "b" if second else "a"},
                        }
                    ],
                    "next": None if second else "1.0.1",
                },
            )
        return _problem(404, "not_found", path)

    def _status(self) -> dict[str, Any]:
        last = self.blocks[-1] if self.blocks else None
        return {
            "chain_id": CHAIN,
            "suite": "ed25519",
            "genesis_hash": self.genesis_hash.hex(),
            "height": self.height,
            "latest_block_hash": last["hash"].hex() if last else None,
            "latest_time_ms": 0,
            "state_root": self._state_root().hex(),
            "mempool_size": len(self.pending),
            "node": "node0",
            "validator": self.vkey.public_key.hex(),
            "version": "test",
        }

    def _admit(self, raw: bytes) -> httpx.Response | None:
        stx = decode(raw, SignedTransaction)
        tx = stx.tx
        if tx.chain_id != CHAIN:
            return _problem(400, "wrong_chain", "wrong chain")
        if not SUITE.verify(tx.sender, encode(tx), stx.signature):
            return _problem(400, "bad_signature", "bad signature")
        sender = address_of(SUITE, tx.sender)
        if SUITE.hash(raw) in self.pending:
            return _problem(409, "duplicate", "already pending")
        if tx.nonce < self.nonces.get(sender, 0):
            return _problem(400, "nonce_too_low", f"nonce {tx.nonce} used")
        if any(
            address_of(SUITE, s.tx.sender) == sender and s.tx.nonce == tx.nonce
            for s, _ in self.pending.values()
        ):
            return _problem(409, "nonce_taken", "nonce taken")
        if sender not in self.registered:
            return _problem(403, "unknown_sender", f"unknown sender {sender}: not registered")
        if tx.expiry < self.height + 1:
            return _problem(400, "expired", "expired")
        self.pending[SUITE.hash(raw)] = (stx, raw)
        return None

    def _block_json(self, height: int) -> dict[str, Any]:
        b = self.blocks[height - 1]
        commit = b["commit"]
        if "commit_sig" in self.tamper:
            sig = bytearray(commit.signatures[0].signature)
            sig[0] ^= 1
            commit = Commit(commit.height, 0, commit.block_hash, [CommitSig(0, bytes(sig))])
        return {
            "height": height,
            "hash": b["hash"].hex(),
            "header": to_builtins(b["header"]),
            "commit": to_builtins(commit),
            "txs": [h.hex() for h in b["hashes"]],
        }

    def _get_tx(self, tx_hash: bytes) -> httpx.Response:
        if tx_hash in self.pending:
            self.polls += 1
            if self.polls >= self.commit_after_polls:
                self.polls = 0
                self.commit_block()
            else:
                return httpx.Response(200, json={"hash": tx_hash.hex(), "status": "pending"})
        if tx_hash not in self.committed:
            return _problem(404, "not_found", "no such transaction")
        height, index = self.committed[tx_hash]
        b = self.blocks[height - 1]
        receipt = b["receipts"][index]
        if "receipt" in self.tamper:
            receipt = Receipt(
                receipt.tx_hash,
                receipt.status,
                receipt.gas_used + 1,
                receipt.events,
                receipt.error,
                receipt.output,
            )
        return httpx.Response(
            200,
            json={
                "hash": tx_hash.hex(),
                "status": "committed",
                "height": height,
                "index": index,
                "tx": {},
                "raw": b["raws"][index].hex(),
                "receipt": to_builtins(receipt),
                "proof": {
                    "block_hash": b["hash"].hex(),
                    "header": to_builtins(b["header"]),
                    "commit": self._block_json(height)["commit"],
                    "tx_proof": to_builtins(merkle_proof(SUITE.hash, b["hashes"], index)),
                    "receipt_proof": to_builtins(
                        merkle_proof(SUITE.hash, [encode(r) for r in b["receipts"]], index)
                    ),
                },
            },
        )

    def _get_state(self, key: bytes, height_param: str | None) -> httpx.Response:
        height = self.height if height_param is None else int(height_param)
        state = self.blocks[height - 1]["state"] if height else {}
        value = state.get(key)
        if "state_value" in self.tamper and value is not None:
            value = value + b"!"
        if state:
            ((k, v),) = state.items()
            proof = StateProof([], SUITE.hash(k), SUITE.hash(v))
            root = state_leaf_hash(SUITE.hash, SUITE.hash(k), SUITE.hash(v))
        else:
            proof, root = StateProof([], b"", b""), EMPTY_HASH
        header = self.blocks[height - 1]["header"] if height else None
        return httpx.Response(
            200,
            json={
                "key": key.hex(),
                "height": height,
                "value": None if value is None else value.hex(),
                "proof": to_builtins(proof),
                "state_root": root.hex(),
                "header": to_builtins(header) if header else None,
                "block_hash": self.blocks[height - 1]["hash"].hex() if height else None,
            },
        )


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def writer(node: FakeNode) -> Signer:
    signer = Signer.generate()
    node.register(signer)
    return signer


def _client(node: FakeNode, key: Signer | None = None, **kw: Any) -> Client:
    return Client(URL, key=key, transport=httpx.MockTransport(node.handler), **kw)


def test_send_waits_for_the_receipt_and_tracks_the_nonce(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as c:
        first = c.send("kv", "put", {"key": "a", "value": "1"})
        assert first.status == "committed" and first.ok
        assert first.nonce == 0 and first.height == 1 and first.index == 0
        assert first.receipt is not None
        assert first.receipt.events == [Event("kv.put", {"key": "a"})]
        second = c.send("kv", "echo", {"x": [1, "two", b"\x03"]})
        assert second.nonce == 1
        assert second.receipt is not None and second.receipt.output == {"x": [1, "two", b"\x03"]}
        assert first.raise_for_status() is first
    # The nonce was read from the node once, then tracked locally.
    assert node.log.count(f"GET /v1/accounts/{writer.address}") == 1


def test_a_failed_receipt_raises_only_when_asked(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as c:
        result = c.send("kv", "nope")
        assert not result.ok
        assert result.receipt is not None and result.receipt.status == TxStatus.UNKNOWN_TARGET
        with pytest.raises(TxFailedError, match="status 5"):
            result.raise_for_status()


def test_no_wait_returns_the_precomputed_hash(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as c:
        result = c.send("kv", "put", {"key": "a", "value": "1"}, wait=False)
        assert result.status == "pending" and result.receipt is None
        assert result.hash in node.pending
        info = c.wait_for(result.hash.hex(), timeout=5)
        assert info.committed and info.verified and info.height == 1
        assert info.tx is not None and info.tx.nonce == 0
        assert c.get_tx(result.hash).receipt == info.receipt


def test_get_state_is_verified_against_a_certified_header(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as c:
        c.send("kv", "put", {"key": "k", "value": "hello"})
        assert c.get_state("kv/k") == b"hello"
        entry = c.get_state_entry(b"kv/k")
        assert entry.verified and entry.text == "hello" and entry.height == 1
        assert c.get_state("kv/other") is None  # exclusion proof, verified
        assert c.query("kv", "get", {"key": "k"}) == "hello"


def test_lies_are_caught(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as c:
        c.send("kv", "put", {"key": "k", "value": "hello"})
    node.tamper = {"state_value"}
    with _client(node) as c:
        with pytest.raises(VerificationError, match="state proof"):
            c.get_state("kv/k")
        assert c.get_state("kv/k", verify=False) == b"hello!"
    node.tamper = {"commit_sig"}
    with _client(node) as c:
        with pytest.raises(VerificationError, match="bad precommit signature"):
            c.get_state("kv/k")
        with pytest.raises(VerificationError, match="bad precommit signature"):
            c.get_block(1)
        assert not c.get_block(1, verify=False).verified
    node.tamper = {"receipt"}
    with _client(node) as c, pytest.raises(VerificationError, match="receipt"):
        c.get_tx(next(iter(node.committed)))


def test_state_before_the_first_block_cannot_be_verified(node: FakeNode) -> None:
    with _client(node) as c:
        with pytest.raises(VerificationError, match="before the first block"):
            c.get_state("kv/x")
        assert c.get_state("kv/x", verify=False) is None


def test_blocks_are_certified(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as c:
        sent = c.send("kv", "put", {"key": "a", "value": "1"})
        block = c.get_block("latest")
        assert block.verified and block.height == 1 and block.txs == [sent.hash]
        assert c.get_block(1).hash == block.hash
        with pytest.raises(NotFoundError):
            c.get_block(7)
        with pytest.raises(XinlianError, match="start at 1"):
            c.get_block(0)


def test_unknown_sender_is_refused_with_a_reason(node: FakeNode) -> None:
    stranger = Signer.generate()
    with _client(node, stranger) as c, pytest.raises(ApiError) as info:
        c.send("kv", "put", {"key": "a", "value": "1"})
    assert info.value.reason == Refusal.UNKNOWN_SENDER and info.value.reason == "unknown_sender"
    assert info.value.refusal is Refusal.UNKNOWN_SENDER
    assert "unknown sender" in info.value.detail
    assert info.value.status == 403


def test_stale_nonce_is_corrected_and_retried(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as a, _client(node, writer) as b:
        a.send("kv", "put", {"key": "a", "value": "1"})
        b.send("kv", "put", {"key": "a", "value": "2"})  # b learned nonce 1
        a.send("kv", "put", {"key": "a", "value": "3"}, wait=False)  # a uses 1: too low
        assert node.nonces[writer.address] == 2
        pending = next(iter(node.pending.values()))[0]
        assert pending.tx.nonce == 2
        # b tracked nonce 2, which a's pending transaction holds: nonce_taken, then 3.
        r = b.send("kv", "put", {"key": "a", "value": "4"}, wait=False)
        assert r.nonce == 3


def test_wait_for_is_bounded(writer: Signer) -> None:
    node = FakeNode(commit_after_polls=10**9)
    node.register(writer)
    with _client(node, writer) as c:
        with pytest.raises(TxTimeoutError) as info:
            c.send("kv", "put", {"key": "a", "value": "1"}, timeout=0.3)
        assert info.value.last_status == "pending"
        assert isinstance(info.value, TimeoutError)
        with pytest.raises(TxTimeoutError, match="unknown"):
            c.wait_for(b"\x01" * 32, timeout=0.2)
        with pytest.raises(NotFoundError):
            c.get_tx(b"\x01" * 32)


def test_send_many_uses_the_batch_endpoint(node: FakeNode, writer: Signer) -> None:
    calls = [Call("kv", "echo", {"i": i}) for i in range(7)]
    with _client(node, writer) as c:
        results = c.send_many(calls, chunk_size=3)
    assert [r.status for r in results] == ["committed"] * 7
    assert [r.nonce for r in results] == list(range(7))
    assert [r.receipt.output for r in results if r.receipt] == [{"i": i} for i in range(7)]
    assert node.log.count("POST /v1/transactions/batch") == 3


def test_send_many_reports_refusals_and_stops(node: FakeNode) -> None:
    stranger = Signer.generate()
    with _client(node, stranger) as c:
        results = c.send_many([Call("kv", "echo", {"i": i}) for i in range(4)], chunk_size=2)
    assert [r.status for r in results] == ["refused"] * 4
    assert results[0].error is not None and results[0].error.reason is Refusal.UNKNOWN_SENDER
    assert results[0].error.status == 403  # the refusal's own status, not a blanket 400
    assert results[3].error is not None and results[3].error.reason == "not_sent"
    with pytest.raises(ApiError):
        results[0].raise_for_status()


def test_transport_errors_and_garbage_are_typed(node: FakeNode, writer: Signer) -> None:
    node.down = True
    with _client(node, writer) as c, pytest.raises(TransportError, match="cannot reach"):
        c.status()
    garbage = httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>"))
    with Client(URL, transport=garbage) as c, pytest.raises(ResponseError):
        c.status()
    wrong = httpx.MockTransport(lambda r: httpx.Response(200, json={"chain_id": 5}))
    with Client(URL, transport=wrong) as c, pytest.raises(ResponseError, match="chain_id"):
        c.status()
    with _client(node) as c, pytest.raises(XinlianError, match="no key"):
        c.send("kv", "put", {})
    commit = {"height": 1, "round": 0, "block_hash": "ab", "signatures": []}
    assert record_from_json(Commit, commit).block_hash == b"\xab"
    for bad, message in [
        ({**commit, "height": True}, "integer"),
        ({**commit, "block_hash": "zz"}, "not a hex"),
        ({**commit, "signatures": {}}, "list"),
        ({"height": 1}, "missing field"),
    ]:
        with pytest.raises(ResponseError, match=message):
            record_from_json(Commit, bad)
    with pytest.raises(ResponseError, match="out of range"):
        record_from_json(_Bounded, {"n": -1})
    assert record_from_json(_Bounded, {"n": 5}) == _Bounded(5)


class _Bounded(msgspec.Struct, frozen=True):
    n: Annotated[int, msgspec.Meta(ge=0, le=10)]


def test_a_trusted_genesis_pins_the_chain(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer, genesis=node.genesis) as c:
        assert c.send("kv", "put", {"key": "a", "value": "1"}).ok
        assert c.get_state("kv/a") == b"1"
    assert "GET /v1/validators" not in node.log  # the genesis names the validators
    other = Genesis(CHAIN, "ed25519", 1, node.genesis.orgs, [], node.genesis.validators)
    with (
        _client(node, writer, genesis=other) as c,
        pytest.raises(VerificationError, match="genesis"),
    ):
        c.status()


def test_status_account_and_events(node: FakeNode, writer: Signer) -> None:
    with _client(node, writer) as c:
        st = c.status()
        assert (st.chain_id, st.suite, st.height) == (CHAIN, "ed25519", 0)
        assert st.genesis_hash == node.genesis_hash
        acct = c.account(writer.address)
        assert acct.registered and acct.roles == ["writer"] and acct.nonce == 0
        assert not c.account("00" * 20).registered
        (ev,) = c.events("kv.put", from_height=0, limit=5)
        assert ev.type == "kv.put" and ev.attributes == {"key": "a"}
        page = c.events_page("kv.put", limit=1)
        assert [e.attributes["key"] for e in page.events] == ["a"] and page.next == "1.0.1"
        page = c.events_page("kv.put", limit=1, cursor=page.next)
        assert [e.attributes["key"] for e in page.events] == ["b"] and page.next is None
        assert c.health() == 0
        assert c.validators() == node.vs


def test_the_async_client_behaves_the_same(node: FakeNode, writer: Signer) -> None:
    async def main() -> None:
        transport = httpx.MockTransport(node.handler)
        async with AsyncClient(URL, key=writer, transport=transport) as c:
            r = await c.send("kv", "put", {"key": "z", "value": "9"})
            assert r.ok and r.height == 1
            assert await c.get_state("kv/z") == b"9"
            many = await c.send_many([Call("kv", "echo", {"i": 1}), Call("kv", "echo", {"i": 2})])
            assert [m.nonce for m in many] == [1, 2]
            assert (await c.get_block("latest")).verified
            assert (await c.status()).height == 2
            assert c.ws_url() == "ws://fake-node/v1/ws"
            node.down = True
            with pytest.raises(TransportError):
                await c.health()

    asyncio.run(main())


def test_refusal_reasons_parse_into_the_enum_and_unknown_ones_stay_strings() -> None:
    expired = parse_problem(400, {"reason": "expired", "detail": "expired at height 3"})
    assert expired.reason is Refusal.EXPIRED and expired.refusal is Refusal.EXPIRED
    newer = parse_problem(400, {"reason": "quota_exceeded", "detail": "over quota"})
    assert newer.reason == "quota_exceeded" and newer.refusal is None  # a newer node's code
    assert "quota_exceeded: over quota" in str(newer)
    other = parse_problem(400, {"reason": "bad_body", "detail": "no tx"})
    assert other.reason == "bad_body" and other.refusal is None
