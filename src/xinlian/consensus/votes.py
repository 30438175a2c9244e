"""Tallying votes by voting power.

A :class:`VoteSet` holds the votes of one height, round and type. A repeated identical
vote is a duplicate. A different second vote from the same validator is an equivocation:
the caller reports it, and the first vote stays the validator's vote. The set counts power
so that no validator is counted twice:

* ``power`` (the paper's "2f+1 votes for anything") counts each validator once, by its
  first vote;
* ``power_for(h)`` counts each validator at most once *for h*. A conflicting vote for
  ``h`` is counted towards ``h`` only when the caller allows it (``count_conflict``: the
  machine does so for a block that already has support, so a commit certificate that
  contains an equivocator's precommit still counts). Signatures for ``h`` are what make a
  quorum for ``h``; quorum intersection keeps two blocks from both reaching more than two
  thirds unless more than a third of the power is Byzantine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from xinlian.consensus.messages import SignedVote


def is_quorum(power: int, total: int) -> bool:
    """More than two thirds of ``total`` (the paper's 2f + 1 with n = 3f + 1)."""
    return power * 3 > total * 2


def exceeds_one_third(power: int, total: int) -> bool:
    """More than one third of ``total`` (the paper's f + 1: at least one honest voter)."""
    return power * 3 > total


class AddOutcome(Enum):
    """What happened to a vote offered to a :class:`VoteSet`."""

    ADDED = "added"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class VoteSet:
    """Votes of one (height, round, type), tallied by power. Immutable: ``add`` copies.

    Attributes:
        total_power: the validator set's total power (the thresholds' base).
        votes: the first vote of each validator, by validator index.
        power_by_hash: counted power per block hash (``b""`` is nil).
        power: power of the validators that voted (each once).
        conflicting: conflicting votes counted for their block, by (index, block hash).
    """

    total_power: int
    votes: Mapping[int, SignedVote]
    power_by_hash: Mapping[bytes, int]
    power: int
    conflicting: Mapping[tuple[int, bytes], SignedVote]

    @classmethod
    def empty(cls, total_power: int) -> VoteSet:
        """A set with no votes."""
        return cls(total_power, {}, {}, 0, {})

    def add(
        self, vote: SignedVote, power: int, count_conflict: bool = False
    ) -> tuple[VoteSet, AddOutcome, SignedVote | None]:
        """Offer ``vote`` (already verified) from a validator with ``power``.

        Args:
            vote: the signed vote.
            power: its validator's voting power.
            count_conflict: count a conflicting vote towards its own block hash.

        Returns:
            The new set, the outcome, and on a conflict the validator's first vote.
        """
        index = vote.validator_index
        block_hash = vote.vote.block_hash
        existing = self.votes.get(index)
        by_hash = dict(self.power_by_hash)
        if existing is not None:
            if existing.vote == vote.vote or (index, block_hash) in self.conflicting:
                return self, AddOutcome.DUPLICATE, None
            if not count_conflict:
                return self, AddOutcome.CONFLICT, existing
            conflicting = dict(self.conflicting)
            conflicting[(index, block_hash)] = vote
            by_hash[block_hash] = by_hash.get(block_hash, 0) + power
            updated = VoteSet(self.total_power, self.votes, by_hash, self.power, conflicting)
            return updated, AddOutcome.CONFLICT, existing
        votes = dict(self.votes)
        votes[index] = vote
        by_hash[block_hash] = by_hash.get(block_hash, 0) + power
        updated = VoteSet(self.total_power, votes, by_hash, self.power + power, self.conflicting)
        return updated, AddOutcome.ADDED, None

    def power_for(self, block_hash: bytes) -> int:
        """Counted power of votes for ``block_hash`` (``b""`` for nil)."""
        return self.power_by_hash.get(block_hash, 0)

    def has_quorum_for(self, block_hash: bytes) -> bool:
        """More than two thirds of the power voted for ``block_hash``."""
        return is_quorum(self.power_for(block_hash), self.total_power)

    def has_quorum_any(self) -> bool:
        """More than two thirds of the power voted, for anything (the paper's ``∗``)."""
        return is_quorum(self.power, self.total_power)

    def quorum_hash(self) -> bytes | None:
        """The block hash (or ``b""`` for nil) holding more than two thirds, if any.

        Only possible for two hashes at once if more than a third of the power
        equivocated; the smallest hash is returned then, for determinism.
        """
        found = [h for h, p in self.power_by_hash.items() if is_quorum(p, self.total_power)]
        return min(found) if found else None

    def votes_for(self, block_hash: bytes) -> list[SignedVote]:
        """The counted votes for ``block_hash``, one per validator, by validator index."""
        chosen = {i: v for i, v in self.votes.items() if v.vote.block_hash == block_hash}
        for (index, hash_), vote in self.conflicting.items():
            if hash_ == block_hash:
                chosen[index] = vote
        return [chosen[i] for i in sorted(chosen)]
