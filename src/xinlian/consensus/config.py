"""Static configuration of the BFT machine: validator set, injected crypto, timeouts, limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xinlian.consensus.events import TimeoutKind
from xinlian.consensus.messages import SignStep
from xinlian.consensus.proposer import ProposerSchedule, schedule_for
from xinlian.types.validator import ValidatorSet

Signer = Callable[[int, int, SignStep, bytes], bytes]
"""``sign(height, round, step, payload) -> signature`` with this validator's key.

The node passes its guarded signer (which logs before it signs); it may raise to refuse.
"""

Verifier = Callable[[bytes, bytes, bytes], bool]
"""``verify(public_key, message, signature) -> bool``, normally the chain suite's."""

Hasher = Callable[[bytes], bytes]
"""The block id of a block's bytes (for real blocks: the header hash)."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Timeout durations in milliseconds; each grows by its ``*_delta_ms`` per round.

    Growing timeouts make the rounds of correct validators overlap long enough after
    the network stabilises, whatever the unknown delay bound is (the paper's liveness
    argument).
    """

    propose_ms: int = 3000
    propose_delta_ms: int = 500
    prevote_ms: int = 1000
    prevote_delta_ms: int = 500
    precommit_ms: int = 1000
    precommit_delta_ms: int = 500

    def duration(self, kind: TimeoutKind, round_: int) -> int:
        """The duration of timeout ``kind`` in round ``round_``."""
        if kind is TimeoutKind.PROPOSE:
            return self.propose_ms + self.propose_delta_ms * round_
        if kind is TimeoutKind.PREVOTE:
            return self.prevote_ms + self.prevote_delta_ms * round_
        return self.precommit_ms + self.precommit_delta_ms * round_


@dataclass(frozen=True, slots=True)
class TendermintConfig:
    """What a validator's BFT machine needs that does not change during a run.

    Attributes:
        chain_id: messages for another chain are rejected.
        validators: the validator set (fixed in this version).
        my_index: this node's index in ``validators``; ``None`` for a non-voting observer.
        sign: signs this validator's proposals and votes (required unless observer).
        verify: checks other validators' signatures.
        hash_block: the id of a block's bytes.
        timeouts: timeout durations.
        future_heights: messages up to this many heights ahead are buffered, others dropped.
        future_per_validator: buffered future-height messages kept per validator.
        future_rounds_per_validator: distinct rounds above the current one in which a
            validator's messages are kept (bounds memory against a Byzantine validator
            sending for ever-higher rounds).
        evidence_limit: equivocation records kept in the state.
    """

    chain_id: str
    validators: ValidatorSet
    my_index: int | None
    sign: Signer | None
    verify: Verifier
    hash_block: Hasher
    timeouts: Timeouts = field(default_factory=Timeouts)
    future_heights: int = 1
    future_per_validator: int = 8
    future_rounds_per_validator: int = 2
    evidence_limit: int = 64
    powers: tuple[int, ...] = field(init=False)
    total_power: int = field(init=False)
    schedule: ProposerSchedule = field(init=False)

    def __post_init__(self) -> None:
        powers = tuple(v.power for v in self.validators.validators)
        object.__setattr__(self, "powers", powers)
        object.__setattr__(self, "total_power", sum(powers))
        object.__setattr__(self, "schedule", schedule_for(powers))
        if self.my_index is not None:
            if not 0 <= self.my_index < len(powers):
                raise ValueError(f"my_index {self.my_index} is not in the validator set")
            if self.sign is None:
                raise ValueError("a voting validator needs a sign callable")
