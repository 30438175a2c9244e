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

from xinlian.protocol.contracts import POLICIES, contract_address, is_contract_address

NAME = "contracts"
DEPLOYER_ROLE = "deployer"

__all__ = [
    "DEPLOYER_ROLE",
    "NAME",
    "POLICIES",
    "ContractMeta",
    "MethodAbi",
    "Param",
    "code_key",
    "contract_address",
    "is_contract_address",
    "meta_key",
    "policy_key",
    "storage_prefix",
    "upgrade_key",
]


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
