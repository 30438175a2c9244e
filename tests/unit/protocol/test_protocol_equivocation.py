"""The equivocation record a node serves is the one the SDK parses, field for field."""

from __future__ import annotations

from xinlian.codec import to_builtins
from xinlian.protocol.equivocation import Equivocation, SignedPart
from xinlian.sdk.wire import parse_equivocations


def test_node_record_round_trips_through_the_sdk_parser() -> None:
    record = Equivocation(
        1_700_000_000_123,
        "prevote",
        9,
        2,
        1,
        b"\x11" * 32,
        SignedPart(b"body-1", b"\x01" * 64, b"\xa1" * 32),
        SignedPart(b"body-2", b"\x02" * 64, b"\xa2" * 32),
    )
    (parsed,) = parse_equivocations({"equivocations": [to_builtins(record)]})
    assert (parsed.detected_ms, parsed.kind, parsed.height, parsed.round) == (
        record.detected_ms,
        record.kind,
        record.height,
        record.round,
    )
    assert (parsed.validator_index, parsed.validator) == (1, b"\x11" * 32)
    for mine, theirs in ((parsed.first, record.first), (parsed.second, record.second)):
        assert (mine.signed, mine.signature, mine.block_hash) == (
            theirs.signed,
            theirs.signature,
            theirs.block_hash,
        )
    assert not parsed.verified
