"""Validators and validator sets."""

from msgspec import Struct

from xinlian.types.ints import U64


class Validator(Struct, array_like=True, frozen=True):
    """A member node allowed to sign blocks, with its voting power."""

    public_key: bytes
    power: U64
    name: str


class ValidatorSet(Struct, array_like=True, frozen=True):
    """An ordered set of validators; its hash goes into block headers."""

    validators: list[Validator]

    @property
    def total_power(self) -> int:
        """Sum of all voting power."""
        return sum(v.power for v in self.validators)

    def quorum(self) -> int:
        """Smallest power that is more than two thirds of the total."""
        return self.total_power * 2 // 3 + 1
