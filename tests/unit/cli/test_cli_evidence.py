"""``xinlian evidence`` end to end: anchor a folder, fetch a receipt, verify it offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from xinlian.cli.main import cli


def _run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, result.output
    return result


def test_anchor_dir_receipt_verify_and_tamper(live_node: Any, tmp_path: Path) -> None:
    folder = tmp_path / "case"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"cli evidence a")
    (folder / "sub" / "b.bin").write_bytes(bytes(range(256)) * 5000)
    key = str(live_node.layout.key_dir / "org2-writer.key")
    genesis = str(live_node.layout.genesis)
    url = ["--url", live_node.url]
    out = _run(
        "evidence", "anchor-dir", str(folder), "--key", key, "--category", "judicial",
        "--ref", "case 42", "--meta", "court=HZ", "--json", *url,
    )  # fmt: skip
    doc = json.loads(out.stdout)
    assert [Path(f["file"]).name for f in doc["files"]] == ["a.txt", "b.bin"]
    assert all(t["ok"] for t in doc["transactions"])
    digest = doc["files"][1]["digest"]

    got = _run("evidence", "get", digest, *url)
    assert "judicial" in got.output and "court = HZ" in got.output
    receipt = tmp_path / "b.receipt.json"
    _run("evidence", "receipt", digest, "-o", str(receipt), *url)
    assert json.loads(receipt.read_text())["version"] == 2

    target = folder / "sub" / "b.bin"
    ok = _run("evidence", "verify", str(target), "--receipt", str(receipt), "--genesis", genesis)
    assert ok.stdout.startswith("OK:") and "signed by  1 of 1" in ok.output
    as_json = _run(
        "evidence", "verify", str(target), "--receipt", str(receipt), "--genesis", genesis, "--json"
    )
    assert json.loads(as_json.stdout)["category"] == "judicial"

    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF
    target.write_bytes(bytes(data))
    bad = _run(
        "evidence", "verify", str(target), "--receipt", str(receipt), "--genesis", genesis, code=1
    )
    assert "check file digest failed" in bad.output

    doc2 = json.loads(receipt.read_text())
    doc2["block"]["header"]["time_ms"] += 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc2))
    data[1000] ^= 0xFF  # the original file again: only the header is wrong now
    (folder / "a2.txt").write_bytes(bytes(data))
    bad = _run(
        "evidence", "verify", str(folder / "a2.txt"), "--receipt", str(forged),
        "--genesis", genesis, code=1,
    )  # fmt: skip
    assert "check header failed" in bad.output


def test_anchor_files_and_errors(live_node: Any, tmp_path: Path) -> None:
    f = tmp_path / "one.txt"
    f.write_bytes(b"cli single file")
    url = ["--url", live_node.url]
    key = str(live_node.layout.key_dir / "org1-writer.key")
    out = _run("evidence", "anchor", str(f), "--key", key, *url)
    assert "1 files, 1 distinct digests in 1 transactions" in out.output
    reader = str(live_node.layout.key_dir / "org1-reader.key")
    denied = _run("evidence", "anchor", str(f), "--key", reader, *url, code=1)
    assert "error:" in denied.output and "writer" in denied.output
    missing = _run("evidence", "get", "00" * 32, *url, code=1)
    assert "is not anchored" in missing.output
    bad_meta = _run("evidence", "anchor", str(f), "--key", key, "--meta", "nokey", *url, code=1)
    assert "KEY=VALUE" in bad_meta.output


def test_timestamp_custody_and_list(live_node: Any, tmp_path: Path) -> None:
    import shutil
    import subprocess

    doc_file = tmp_path / "seized.img"
    doc_file.write_bytes(b"seized media image" * 1000)
    copy = tmp_path / "copy.img"
    copy.write_bytes(b"working copy" * 1000)
    key = str(live_node.layout.key_dir / "org3-writer.key")
    url = ["--url", live_node.url]
    out = _run("evidence", "anchor", str(doc_file), "--key", key, "--category", "enforcement",
               "--json", *url)  # fmt: skip
    parent = json.loads(out.stdout)["files"][0]["digest"]
    out = _run("evidence", "anchor", str(copy), "--key", key, "--category", "enforcement",
               "--parent", parent, "--json", *url)  # fmt: skip
    child = json.loads(out.stdout)["files"][0]["digest"]

    chain = _run("evidence", "custody", child, "--json", *url)
    assert [c["digest"] for c in json.loads(chain.stdout)["custody"]] == [child, parent]
    assert parent in _run("evidence", "custody", child, *url).output
    _run("evidence", "custody", "ab" * 32, *url, code=1)

    token = tmp_path / "copy.tsr"
    got = _run("evidence", "timestamp", str(copy), "-o", str(token), *url)
    assert "genTime" in got.output and child in got.output
    if shutil.which("openssl"):
        done = subprocess.run(
            ["openssl", "ts", "-verify", "-data", str(copy), "-in", str(token),
             "-CAfile", str(live_node.layout.root / "tsa-ca.pem")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert "Verification: OK" in done.stdout, done.stderr
    ca = str(live_node.layout.root / "tsa-ca.pem")
    ok = _run("evidence", "verify-timestamp", str(copy), "--token", str(token), "--ca", ca)
    assert ok.output.startswith("OK:") and "genTime" in ok.output
    bad = _run("evidence", "verify-timestamp", str(doc_file), "--token", str(token), "--ca", ca,
               code=1)  # fmt: skip
    assert "check imprint failed" in bad.output
    info = json.loads(
        _run("evidence", "timestamp", child, "-o", str(token), "--no-nonce", "--json", *url).stdout
    )
    assert info["digest"] == child and info["hash"] == "sha256"
    bad = _run("evidence", "timestamp", "cd" * 32, "-o", str(token), *url, code=1)
    assert "not anchored" in bad.output
    _run("evidence", "timestamp", "nothex", "-o", str(token), *url, code=1)

    address = json.loads((live_node.layout.key_dir / "org3-writer.key").read_text())["address"]
    mine = json.loads(_run("evidence", "list", "--submitter", address, "--json", *url).stdout)
    assert mine["total"] >= 2 and mine["batches"][-1]["category"] == "enforcement"
    listed = _run("evidence", "list", "--category", "enforcement", "--json", *url)
    assert any(b["parent"] == parent for b in json.loads(listed.stdout)["batches"])
    assert "batches" in _run("evidence", "list", "--category", "enforcement", "--from",
                             "2020-01-01", "--to", "2020-01-02", *url).output  # fmt: skip
    _run("evidence", "list", *url, code=1)
    _run("evidence", "list", "--category", "judicial", "--from", "yesterday", *url, code=1)
