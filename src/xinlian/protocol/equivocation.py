"""Equivocation records: a validator signed two conflicting messages of one height, round
and step. Nodes keep and serve them (``GET /v1/consensus/equivocations``); clients parse and
check them.
"""

from __future__ import annotations

import msgspec

__all__ = ["Equivocation", "SignedPart"]


class SignedPart(msgspec.Struct, frozen=True):
    """One of two conflicting messages: the bytes its validator signed and the signature."""

    signed: bytes
    signature: bytes
    block_hash: bytes


class Equivocation(msgspec.Struct, frozen=True):
    """A validator signed two conflicting messages of one height, round and step.

    Both parts verify against ``validator`` (the key at ``validator_index`` in the set of
    ``height``), so anyone can check the accusation without trusting this node. The API
    serves it as ``xinlian.codec.to_builtins`` renders it (bytes as hex).
    """

    detected_ms: int
    kind: str  # "proposal", "prevote" or "precommit"
    height: int
    round: int
    validator_index: int
    validator: bytes
    first: SignedPart
    second: SignedPart
