"""Records the contracts app stores, and the state key layout.

State layout (under ``contracts/``)::

    meta/<address>                 -> ContractMeta
    code/<code hash>               -> source (UTF-8)
    policy/<address>               -> "immutable" | "governance"   (read by governance)
    upgrade/<address>              -> approved code hash            (written by governance)
    s/<address>/<name>             -> a Value's canonical bytes
    s/<address>/<name>/<enc(key)>  -> a Map entry's canonical bytes
"""

from __future__ import annotations

from msgspec import Struct

from xinlian.codec import encode
from xinlian.crypto import CryptoSuite

NAME = "contracts"
POLICIES = ("immutable", "governance")
DEPLOYER_ROLE = "deployer"


class Param(Struct, array_like=True, frozen=True):
    """A parameter of an exported method: its name and type annotation."""

    name: str
    type: str


class MethodAbi(Struct, array_like=True, frozen=True):
    """An exported method as clients see it."""

    name: str
    params: list[Param]
    returns: str
    readonly: bool
    required: int


class ContractMeta(Struct, array_like=True, frozen=True):
    """A deployed contract: owner, current code, upgrade policy and interface."""

    address: str
    owner: str
    code_hash: bytes
    version: int
    policy: str
    created: int
    methods: list[MethodAbi]


def meta_key(address: str) -> bytes:
    """Key (within the app) of a contract's metadata."""
    return b"meta/" + address.encode()


def code_key(code_hash: bytes) -> bytes:
    """Key of a source text by its hash."""
    return b"code/" + code_hash


def policy_key(address: str) -> bytes:
    """Key of a contract's upgrade policy."""
    return b"policy/" + address.encode()


def upgrade_key(address: str) -> bytes:
    """Key of the code hash governance approved as the next version of a contract."""
    return b"upgrade/" + address.encode()


def storage_prefix(address: str) -> bytes:
    """Prefix of a contract's own storage."""
    return b"s/" + address.encode() + b"/"


def contract_address(suite: CryptoSuite, deployer: str, nonce: int) -> str:
    """The address of the contract ``deployer`` creates with transaction ``nonce``."""
    return "c" + suite.hash(encode(["xinlian/contract", deployer, nonce]))[:20].hex()


def is_contract_address(target: str) -> bool:
    """True for strings shaped like a contract address (``c`` and 40 hex digits)."""
    return (
        len(target) == 41
        and target[0] == "c"
        and all(ch in "0123456789abcdef" for ch in target[1:])
    )
