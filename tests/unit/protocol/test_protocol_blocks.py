"""Block ids and validator-set hashes: fixed vectors (computed before the rule moved here),
and the node, the ledger and the SDK naming the same block and set the same way."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.crypto import CryptoError, get_suite
from xinlian.node.chain import Chain, load_genesis
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.protocol import ProtocolError
from xinlian.protocol.blocks import (
    CertificateError,
    block_hash,
    block_id,
    validator_set_hash,
    verify_commit,
)
from xinlian.sdk import verify as sdk_verify
from xinlian.storage import MemoryStore
from xinlian.types import BlockHeader, Commit, Validator, ValidatorSet

HEADER = BlockHeader(
    "xinlian-test",
    7,
    1_700_000_000_000,
    b"\x01" * 32,
    b"\x02" * 32,
    b"\x03" * 32,
    b"\x04" * 32,
    b"\x05" * 32,
    b"\x06" * 32,
    b"\x07" * 32,
)
VSET = ValidatorSet([Validator(b"\xaa" * 32, 10, "alpha"), Validator(b"\xbb" * 32, 5, "beta")])

# Computed with sdk/verify.py (and the same inline rule in node/chain.py) before the move.
VECTORS = {
    "ed25519": (
        "f6ef8704fde72e14ca60908f52555618cd38f9d874e04a7e23c180d2fd3b4a50",
        "b5a5a7a4804e21f6e04f048b0c129046165c47b3df9ac95511c19a27feabddc6",
    ),
    "sm": (
        "57a4bf3b9bf065bc053b776efec0228d776aac54d0fc1ee19f7fef36a1e1842a",
        "3e0f03227802880fcf7acb95ad660296d233080f3abd275170290f32564cc1e0",
    ),
}


@pytest.mark.parametrize("suite", sorted(VECTORS))
def test_block_id_and_validator_set_hash_vectors(suite: str) -> None:
    s = get_suite(suite)
    block, vset = VECTORS[suite]
    assert block_hash(s, HEADER).hex() == block
    assert block_id(s.hash, HEADER).hex() == block
    assert sdk_verify.block_hash(s, HEADER).hex() == block
    assert validator_set_hash(s, VSET).hex() == vset
    assert sdk_verify.validator_set_hash(s, VSET).hex() == vset


_bytes32 = st.binary(min_size=32, max_size=32)


@settings(max_examples=30, deadline=None)
@given(
    suite=st.sampled_from(sorted(VECTORS)),
    height=st.integers(min_value=0, max_value=2**64 - 1),
    roots=st.lists(_bytes32, min_size=7, max_size=7),
)
def test_every_caller_names_a_header_the_same(suite: str, height: int, roots: list[bytes]) -> None:
    s = get_suite(suite)
    header = BlockHeader("c", height, height // 2, *roots)
    expected = block_hash(s, header)
    assert block_id(s.hash, header) == expected
    assert sdk_verify.block_hash(s, header) == expected


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    layout = create_network(tmp_path_factory.mktemp("net"), nodes=1, time_ms=1_000)
    node = Chain(MemoryStore(), load_genesis(layout.genesis.read_bytes()))
    node.produce_block(1, 2_000, read_key(layout.node_homes[0] / "node.key")[0].private_key)
    return node


def test_node_ledger_and_sdk_agree_on_a_real_block(chain: Chain) -> None:
    header = chain.ledger.header(1)
    expected = block_hash(chain.suite, header)
    assert chain.block_hash(header) == expected
    assert chain.ledger.block(1).hash == expected
    assert sdk_verify.block_hash(chain.suite, header) == expected
    assert chain.ledger.commit(1).block_hash == expected
    assert header.validators_hash == validator_set_hash(chain.suite, chain.validators)
    assert chain.validators_hash == sdk_verify.validator_set_hash(chain.suite, chain.validators)
    assert verify_commit(chain.suite, header, chain.ledger.commit(1), chain.validators) > 0


def test_a_certificate_for_another_block_is_refused(chain: Chain) -> None:
    header = chain.ledger.header(1)
    commit = chain.ledger.commit(1)
    forged = Commit(commit.height, commit.round, b"\x00" * 32, commit.signatures)
    with pytest.raises(CertificateError, match="not for this header") as info:
        verify_commit(chain.suite, header, forged, chain.validators)
    # Callers that caught it as a crypto error before the move still do.
    assert isinstance(info.value, CryptoError) and isinstance(info.value, ProtocolError)
    with pytest.raises(sdk_verify.VerificationError, match="not for this header"):
        sdk_verify.verify_commit(chain.suite, header, forged, chain.validators)
