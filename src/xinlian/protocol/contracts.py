"""The contract address rule (consensus-critical: every node and client derives the same).

A deploy by ``deployer`` with transaction ``nonce`` creates the contract at
``"c"`` + the first 20 bytes of the suite hash of ``encode(["xinlian/contract", deployer,
nonce])``, in lowercase hex.
"""

from __future__ import annotations

from xinlian.codec import encode
from xinlian.crypto import CryptoSuite

__all__ = ["POLICIES", "contract_address", "is_contract_address"]

#: The upgrade policies a deploy may choose.
POLICIES = ("immutable", "governance")


def contract_address(suite: CryptoSuite, deployer: str, nonce: int) -> str:
    """The address of the contract ``deployer`` creates with transaction ``nonce``."""
    return "c" + suite.hash(encode(["xinlian/contract", deployer, nonce]))[:20].hex()


def is_contract_address(value: str) -> bool:
    """True for strings shaped like a contract address (``c`` and 40 lowercase hex digits)."""
    return len(value) == 41 and value[0] == "c" and all(c in "0123456789abcdef" for c in value[1:])
