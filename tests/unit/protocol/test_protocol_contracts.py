"""The contract address rule: fixed vectors (computed before the rule moved here) and the
node's and the SDK's names for it giving the same address."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.contracts import contract_address as node_contract_address
from xinlian.contracts import is_contract_address as node_is_contract_address
from xinlian.crypto import get_suite
from xinlian.protocol.contracts import POLICIES, contract_address, is_contract_address
from xinlian.sdk.contracts import contract_address as sdk_contract_address
from xinlian.sdk.contracts import is_contract_address as sdk_is_contract_address

# Computed with contracts/records.py and sdk/contracts.py before they were merged.
VECTORS = [
    ("ed25519", "a" * 40, 0, "cc07557ebb0b17b44b6c31a761533a5b11c1bd74d"),
    ("ed25519", "deployer", 1, "cce5d7f65d8d3803a8ac9d4b904f5008860aeff63"),
    ("ed25519", "x" + "0" * 39, 2**63 - 1, "ccdbec1f658a898702f5d99b37e5634b9ad110b08"),
    ("sm", "a" * 40, 0, "c9c945fa1054dfd06b2f8bb354ea8b85997ba25b3"),
    ("sm", "deployer", 1, "c4bb62e1f4894dc0ac4217d7aa0a4fd9790380462"),
    ("sm", "x" + "0" * 39, 2**63 - 1, "cba93cdc61170ef01d5451b3dbdc3ac2d7af48644"),
]


@pytest.mark.parametrize(("suite", "deployer", "nonce", "address"), VECTORS)
def test_contract_address_vectors(suite: str, deployer: str, nonce: int, address: str) -> None:
    assert contract_address(get_suite(suite), deployer, nonce) == address
    assert is_contract_address(address)


@settings(max_examples=50, deadline=None)
@given(
    suite=st.sampled_from(["ed25519", "sm"]),
    deployer=st.text(max_size=50),
    nonce=st.integers(min_value=0, max_value=2**64 - 1),
)
def test_node_and_sdk_derive_the_same_address(suite: str, deployer: str, nonce: int) -> None:
    s = get_suite(suite)
    address = contract_address(s, deployer, nonce)
    assert node_contract_address(s, deployer, nonce) == address
    assert sdk_contract_address(s, deployer, nonce) == address
    assert len(address) == 41 and is_contract_address(address)


@settings(max_examples=100, deadline=None)
@given(value=st.text(alphabet="c0123456789abcdefABx", max_size=45))
def test_node_and_sdk_agree_on_address_shape(value: str) -> None:
    expected = is_contract_address(value)
    assert node_is_contract_address(value) is expected
    assert sdk_is_contract_address(value) is expected


def test_address_shape_refuses_upper_case_and_wrong_length() -> None:
    good = VECTORS[0][3]
    assert not is_contract_address(good.upper())
    assert not is_contract_address(good[:-1])
    assert not is_contract_address("d" + good[1:])
    assert POLICIES == ("immutable", "governance")
