"""The key-file format: the node, the CLI's path and the SDK read one file the same way and
keep the same messages (only the error type differs by package)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xinlian.crypto import get_suite
from xinlian.node.keys import KeyFileError, read_key, write_key
from xinlian.protocol import ProtocolError
from xinlian.protocol.keyfile import read_key_file, write_key_file
from xinlian.sdk import XinlianError
from xinlian.sdk.signer import read_key_file as sdk_read_key_file


@pytest.mark.parametrize("suite", ["ed25519", "sm"])
def test_one_file_read_three_ways(suite: str, tmp_path: Path) -> None:
    pair = get_suite(suite).keypair_from_private(bytes(range(1, 33)))
    write_key(tmp_path / "a.key", pair, "alice")
    write_key_file(tmp_path / "b.key", pair, "alice")
    assert (tmp_path / "a.key").read_bytes() == (tmp_path / "b.key").read_bytes()
    assert (tmp_path / "a.key").stat().st_mode & 0o777 == 0o600
    expected = read_key_file(tmp_path / "a.key")
    assert expected[1] == "alice" and expected[0].public_key == pair.public_key
    assert read_key(tmp_path / "a.key") == expected == sdk_read_key_file(tmp_path / "a.key")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no key file at"),
        (b"-----BEGIN PRIVATE KEY-----\n", "is a PEM key"),
        (b"[1]", "is not a key file (not a JSON object)"),
        (b"{}", 'it has no "suite" and "private_key" text'),
        (json.dumps({"suite": "rsa", "private_key": "00"}).encode(), "unknown crypto suite"),
        (json.dumps({"suite": "ed25519", "private_key": "zz"}).encode(), "is not hex"),
    ],
)
def test_same_messages_everywhere(content: bytes | None, message: str, tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    if content is not None:
        path.write_bytes(content)
    errors: list[str] = []
    for read, error in (
        (read_key_file, ProtocolError),
        (read_key, KeyFileError),
        (sdk_read_key_file, XinlianError),
    ):
        with pytest.raises(error) as info:
            read(path)
        errors.append(str(info.value))
    assert message in errors[0]
    assert errors[0] == errors[1] == errors[2]
