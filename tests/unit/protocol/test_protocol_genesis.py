"""Genesis: the node and the SDK now apply the same checks, with their own error types."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinlian.node.chain import ChainError
from xinlian.node.chain import load_genesis as node_load_genesis
from xinlian.node.network import create_network
from xinlian.protocol import ProtocolError
from xinlian.protocol.blocks import validator_set_hash
from xinlian.protocol.genesis import (
    genesis_hash,
    genesis_validator_set,
    genesis_validators,
    parse_genesis,
)
from xinlian.sdk import XinlianError
from xinlian.sdk import verify as sdk_verify

BAD = [
    (b"{not json", "invalid genesis document"),
    (b'{"validators": []}', "invalid genesis document"),
]


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    layout = create_network(tmp_path_factory.mktemp("net"), nodes=2, time_ms=1_000)
    return layout.genesis.read_bytes()


def test_node_and_sdk_read_the_same_genesis(raw: bytes) -> None:
    genesis = parse_genesis(raw)
    assert node_load_genesis(raw) == genesis == sdk_verify.load_genesis(raw)
    suite = sdk_verify.suite_of(genesis)
    assert sdk_verify.genesis_hash(genesis) == genesis_hash(suite, genesis)
    vset = genesis_validator_set(genesis)
    assert sdk_verify.validator_set_from_genesis(genesis) == vset
    assert [e.validator() for e in genesis_validators(genesis)] == vset.validators
    assert validator_set_hash(suite, vset) == sdk_verify.validator_set_hash(suite, vset)


def test_a_genesis_without_validators_is_refused_by_both(raw: bytes) -> None:
    empty = raw.replace(raw[raw.index(b'"validators"') :], b'"validators":[]}')
    with pytest.raises(ProtocolError, match=r"^genesis has no validators$"):
        parse_genesis(empty)
    with pytest.raises(ChainError, match=r"^genesis has no validators$"):
        node_load_genesis(empty)
    # The SDK used to accept it; it now refuses what a node refuses.
    with pytest.raises(XinlianError, match=r"^genesis has no validators$"):
        sdk_verify.load_genesis(empty)


@pytest.mark.parametrize(("doc", "message"), BAD)
def test_garbage_is_refused_by_both(doc: bytes, message: str) -> None:
    with pytest.raises(ChainError, match=message):
        node_load_genesis(doc)
    with pytest.raises(XinlianError, match=message):
        sdk_verify.load_genesis(doc)


def test_a_missing_file_is_a_clear_sdk_error(tmp_path: Path) -> None:
    with pytest.raises(XinlianError, match=r"^cannot read genesis"):
        sdk_verify.load_genesis(tmp_path / "nope.json")
