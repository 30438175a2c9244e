"""The SDK checks an accusation of equivocation itself: both signatures, one step, height
and round, two different blocks, and the accused key in the set that signs that height."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from xinlian.codec import encode
from xinlian.crypto import get_suite
from xinlian.node.keys import read_key
from xinlian.protocol.equivocation import Equivocation, SignedPart
from xinlian.sdk import AsyncClient, Client
from xinlian.sdk.verify import equivocation_problem
from xinlian.types import Validator, ValidatorSet, Vote

SUITE = get_suite("ed25519")
CHAIN = "xinlian-dev"
KP = SUITE.generate()
OTHER = SUITE.generate()
SET = ValidatorSet([Validator(KP.public_key, 1, "v0"), Validator(OTHER.public_key, 1, "v1")])


def _vote(block_hash: bytes, height: int = 5, round_: int = 0, type_: int = 1) -> bytes:
    return encode(Vote(CHAIN, type_, height, round_, block_hash))


def _msg(body: bytes, block_hash: bytes, key: bytes = KP.private_key) -> tuple[bytes, bytes, bytes]:
    return (body, SUITE.sign(key, body), block_hash)


A, B = b"\x0a" * 32, b"\x0b" * 32
GOOD = [_msg(_vote(A), A), _msg(_vote(B), B)]


def _problem(messages: list[tuple[bytes, bytes, bytes]], **kw: Any) -> str:
    args: dict[str, Any] = {
        "kind": "prevote",
        "height": 5,
        "round_": 0,
        "validator_index": 0,
        "validator": KP.public_key,
        "validators": SET,
    }
    args.update(kw)
    return equivocation_problem(SUITE, CHAIN, messages=messages, **args)


def test_a_real_equivocation_holds() -> None:
    assert _problem(GOOD) == ""


def _proposal(block_hash: bytes, pol_round: int = -1) -> bytes:
    return msgspec.msgpack.encode([CHAIN, 32, 5, 0, block_hash, pol_round])


def test_a_proposal_equivocation_holds() -> None:
    assert _problem([_msg(_proposal(A), A), _msg(_proposal(B), B)], kind="proposal") == ""


@pytest.mark.parametrize(
    ("messages", "kw", "expected"),
    [
        ([GOOD[0], (GOOD[1][0], b"\x00" * 64, B)], {}, "message 2's signature does not verify"),
        ([GOOD[0], _msg(_vote(B), B, OTHER.private_key)], {}, "signature does not verify"),
        ([GOOD[0], _msg(_vote(A, round_=1), A)], {}, "at height 5, round 0"),
        (
            [_msg(_proposal(A, -1), A), _msg(_proposal(A, 0), A)],
            {"kind": "proposal"},
            "no conflict",
        ),
        ([GOOD[0], _msg(_vote(B, height=6), B)], {}, "at height 5, round 0"),
        ([GOOD[0], _msg(_vote(B, type_=2), B)], {}, "is not a prevote of this chain"),
        ([GOOD[0], _msg(_vote(B), A)], {}, "names another block"),
        ([GOOD[0], GOOD[0]], {}, "two different signed bodies"),
        ([GOOD[0], _msg(b"\xc1junk", B)], {}, "not a canonical body"),
        (GOOD, {"validator_index": 1}, "is not validator 1"),
        (GOOD, {"validator_index": 7}, "is not validator 7"),
        (GOOD, {"kind": "vote"}, "unknown kind"),
        (GOOD, {"kind": "precommit"}, "is not a precommit"),
    ],
)
def test_each_broken_accusation_is_refused_by_name(
    messages: list[tuple[bytes, bytes, bytes]], kw: dict[str, Any], expected: str
) -> None:
    assert expected in _problem(messages, **kw)


def _accuse(live_node: Any, height: int, forge: bool) -> None:
    kp = read_key(live_node.layout.node_homes[0] / "node.key")[0]
    parts = []
    for block_hash in (b"\x0c" * 32, b"\x0d" * 32):
        body = encode(Vote(CHAIN, 2, height, 3, block_hash))
        signature = b"\x00" * 64 if forge else SUITE.sign(kp.private_key, body)
        parts.append(SignedPart(body, signature, block_hash))
    live_node.node.driver.equivocations.append(
        Equivocation(1, "precommit", height, 3, 0, kp.public_key, *parts)
    )


async def test_the_clients_check_what_the_node_lists(live_node: Any) -> None:
    _accuse(live_node, 2, forge=False)  # a committed height: set from its certified header
    _accuse(live_node, 10**9, forge=False)  # a future height: the current set
    _accuse(live_node, 3, forge=True)
    with Client(live_node.url, genesis=live_node.layout.genesis) as client:
        found = {(e.height, e.round): e for e in client.equivocations()}
    assert found[(2, 3)].verified and found[(2, 3)].problem == ""
    assert found[(10**9, 3)].verified
    assert not found[(3, 3)].verified
    assert "signature does not verify" in found[(3, 3)].problem
    async with AsyncClient(live_node.url) as aclient:
        again = {(e.height, e.round): e.verified for e in await aclient.equivocations()}
    assert again[(2, 3)] and not again[(3, 3)]
