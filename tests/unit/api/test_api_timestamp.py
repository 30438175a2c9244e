"""RFC 3161 time-stamp tokens from a live node, checked by ``openssl ts -verify``."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from xinlian.crypto.timestamp import TimeStampError, make_request, response_status
from xinlian.sdk import Client, Signer
from xinlian.sdk.evidence import anchor, verify_timestamp

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _tsq_for(digest: bytes) -> bytes:
    return make_request("sha256", digest, None)


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "ts", *map(str, args)], capture_output=True, text=True, check=False
    )


def _verify(live_node: Any, data: Path, token: Path, *extra: str | Path) -> str:
    home = live_node.layout.node_homes[0]
    done = _openssl(
        "-verify",
        *(extra or ("-data", data)),
        "-in",
        token,
        "-CAfile",
        live_node.layout.root / "tsa-ca.pem",
        "-untrusted",
        home / "tsa" / "tsa.pem",
    )
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def anchored(live_node: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, int]:
    path = tmp_path_factory.mktemp("ts") / "deed.pdf"
    path.write_bytes(b"%PDF-1.7 deed of house 42\n" * 500)
    digest = hashlib.sha256(path.read_bytes()).digest()
    key = Signer.from_file(live_node.layout.key_dir / "org1-writer.key")
    with Client(live_node.url, key=key, timeout=30) as c:
        (sent,) = anchor(c, [digest], category="registration")
        assert sent.receipt is not None and sent.receipt.ok
        block = c.get_block(sent.height)
    return path, digest, block.header.time_ms


def test_get_token_verifies_with_openssl_and_tampered_data_fails(
    live_node: Any, anchored: tuple[Path, bytes, int], tmp_path: Path
) -> None:
    path, digest, time_ms = anchored
    r = httpx.get(f"{live_node.url}/v1/evidence/{digest.hex()}/timestamp", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "application/timestamp-reply"
    token = tmp_path / "token.tsr"
    token.write_bytes(r.content)
    assert "Verification: OK" in _verify(live_node, path, token)
    text = _openssl("-reply", "-in", token, "-text").stdout
    assert "Status: Granted." in text and "Hash Algorithm: sha256" in text
    assert "Policy OID: 2.25.318606632316832012635998812283245433906" in text
    # genTime is the block time of the anchoring block, to the millisecond (DER drops a
    # fraction's trailing zeros: .340 is printed .34, and .000 not at all).
    import datetime as dt

    when = dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC)
    fraction = f".{time_ms % 1000:03d}".rstrip("0").rstrip(".")
    assert f"{when:%H:%M:%S}{fraction} {when:%Y} GMT" in text
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    tampered.write_bytes(bytes(data))
    out = _verify(live_node, tampered, token)
    assert "Verification: FAILED" in out and "message imprint mismatch" in out
    # The SDK's offline check agrees with openssl.
    ca = live_node.layout.root / "tsa-ca.pem"
    assert verify_timestamp(token, ca, path).gen_time_ms == time_ms
    with pytest.raises(TimeStampError, match=r"^check imprint failed"):
        verify_timestamp(token, ca, tampered)
    # Another CA does not vouch for this TSA.
    other = tmp_path / "other-ca.pem"
    from xinlian.crypto.timestamp import make_tsa_ca, write_pem_certs

    write_pem_certs(other, make_tsa_ca("other")[1])
    done = _openssl("-verify", "-data", path, "-in", token, "-CAfile", other)
    assert "Verification: FAILED" in done.stdout + done.stderr


@pytest.mark.parametrize("route", ["evidence", "tsa"])
def test_openssl_query_with_nonce(
    live_node: Any, anchored: tuple[Path, bytes, int], tmp_path: Path, route: str
) -> None:
    path, digest, _ = anchored
    query = tmp_path / "req.tsq"
    done = _openssl("-query", "-data", path, "-sha256", "-cert", "-out", query)
    assert done.returncode == 0, done.stderr
    url = (
        f"{live_node.url}/v1/evidence/{digest.hex()}/timestamp"
        if route == "evidence"
        else f"{live_node.url}/v1/tsa"
    )
    r = httpx.post(
        url,
        content=query.read_bytes(),
        headers={"content-type": "application/timestamp-query"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    token = tmp_path / "resp.tsr"
    token.write_bytes(r.content)
    # -queryfile checks the imprint and the nonce of this very request.
    assert "Verification: OK" in _verify(live_node, path, token, "-queryfile", query)
    assert "Verification: OK" in _verify(live_node, path, token)


def _rejection(r: httpx.Response, tmp_path: Path) -> str:
    """The ``openssl ts -reply -text`` reading of a refusal, checked to be an RFC 3161
    rejection (DER TimeStampResp, HTTP 200, application/timestamp-reply)."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/timestamp-reply"
    reply = tmp_path / "rejected.tsr"
    reply.write_bytes(r.content)
    done = _openssl("-reply", "-in", reply, "-text")
    assert done.returncode == 0, done.stderr
    assert "Status: Rejected." in done.stdout and "TST info:\nNot included." in done.stdout
    return done.stdout


def test_get_refusals_are_problem_documents(
    live_node: Any, anchored: tuple[Path, bytes, int]
) -> None:
    never = hashlib.sha256(b"never anchored").digest()
    r = httpx.get(f"{live_node.url}/v1/evidence/{never.hex()}/timestamp", timeout=30)
    assert r.status_code == 404 and "not anchored" in r.json()["detail"]


def test_rfc3161_refusals_are_rejections_openssl_reads(
    live_node: Any, anchored: tuple[Path, bytes, int], tmp_path: Path
) -> None:
    path, digest, _ = anchored
    base = f"{live_node.url}/v1/evidence"
    tsa = f"{live_node.url}/v1/tsa"
    headers = {"content-type": "application/timestamp-query"}
    other = tmp_path / "other.txt"
    other.write_bytes(b"not on chain")
    query = tmp_path / "q.tsq"
    _openssl("-query", "-data", other, "-sha256", "-out", query)

    def post(url: str, content: bytes) -> str:
        return _rejection(httpx.post(url, content=content, headers=headers, timeout=30), tmp_path)

    # A file that is not anchored: no token.
    text = post(tsa, query.read_bytes())
    never = hashlib.sha256(b"not on chain").hexdigest()
    assert f"Status description: not_found: digest {never} is not anchored" in text
    assert "Failure info: transaction not permitted or supported" in text
    # Its imprint is not the digest in the path.
    text = post(f"{base}/{digest.hex()}/timestamp", query.read_bytes())
    assert "Status description: imprint_mismatch: " in text
    assert "Failure info: transaction not permitted or supported" in text
    # Not DER.
    text = post(tsa, b"\x30\x03\x02\x01")
    assert "Status description: bad_timestamp_query: bad TimeStampReq" in text
    assert "Failure info: the data submitted has the wrong format" in text
    # Over the size limit.
    text = post(tsa, b"\x00" * 5000)
    assert "Status description: too_large: a TimeStampReq is at most 4096 bytes" in text
    assert "Failure info: the data submitted has the wrong format" in text
    # Hash algorithms this chain does not anchor.
    for alg in ("-sha1", "-sha512"):
        q = tmp_path / f"{alg}.tsq"
        _openssl("-query", "-data", path, alg, "-out", q)
        text = post(tsa, q.read_bytes())
        assert "Failure info: unrecognized or unsupported algorithm identifier" in text
    # A policy this TSA does not stamp under.
    policy = tmp_path / "policy.tsq"
    _openssl("-query", "-data", path, "-sha256", "-tspolicy", "1.2.3.4", "-out", policy)
    text = post(tsa, policy.read_bytes())
    assert "Status description: unaccepted_policy: unaccepted policy 1.2.3.4" in text
    assert "Failure info: the requested TSA policy is not supported by the TSA" in text
    # Not sent as a TimeStampReq at all: a problem document.
    r = httpx.post(f"{base}/{digest.hex()}/timestamp", content=b"{}")
    assert r.status_code == 415 and r.json()["reason"] == "media_type"


def test_sm_chain_token_has_an_sm3_imprint_that_openssl_verifies(
    live_sm_node: Any, tmp_path: Path
) -> None:
    path = tmp_path / "record.txt"
    path.write_bytes(b"enforcement record on an sm chain\n" * 50)
    digest = hashlib.new("sm3", path.read_bytes()).digest()
    key = Signer.from_file(live_sm_node.layout.key_dir / "org1-writer.key")
    with Client(live_sm_node.url, key=key, timeout=30) as c:
        (sent,) = anchor(c, [digest], category="enforcement")
        assert sent.receipt is not None and sent.receipt.ok
        token = tmp_path / "sm.tsr"
        token.write_bytes(c.evidence_timestamp(digest))
    assert "Hash Algorithm: sm3" in _openssl("-reply", "-in", token, "-text").stdout
    assert "Verification: OK" in _verify(live_sm_node, path, token)
    ca = live_sm_node.layout.root / "tsa-ca.pem"
    assert verify_timestamp(token, ca, path).hash_name == "sm3"
    path.write_bytes(path.read_bytes() + b"x")
    assert "Verification: FAILED" in _verify(live_sm_node, path, token)


async def test_node_without_a_usable_tsa_answers_503(tmp_path: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from xinlian.api import create_app
    from xinlian.node.config import load_config
    from xinlian.node.network import create_network
    from xinlian.node.runtime import Node

    layout = create_network(tmp_path / "net", nodes=1)
    home = layout.node_homes[0]
    (home / "tsa" / "tsa.key").unlink()
    node = Node(load_config(home))
    try:
        async with TestClient(TestServer(create_app(node))) as client:
            resp = await client.get(f"/v1/evidence/{'ab' * 32}/timestamp")
            doc = await resp.json(content_type="application/problem+json")
            assert resp.status == 503 and doc["reason"] == "tsa_unavailable"
            assert "tsa.key" in doc["detail"]
            # An RFC 3161 request gets a rejection with systemFailure.
            query = _tsq_for(hashlib.sha256(b"x").digest())
            resp = await client.post(
                "/v1/tsa", data=query, headers={"content-type": "application/timestamp-query"}
            )
            assert resp.status == 200
            status = response_status(await resp.read())
            assert status.status == "rejection" and status.fail_info == ("system_failure",)
            assert status.text.startswith("tsa_unavailable: no time-stamping: ")
            assert (await client.get("/healthz")).status == 200  # the rest still works
    finally:
        await node.stop()
