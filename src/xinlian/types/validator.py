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


class ValidatorEntry(Struct, array_like=True, frozen=True):
    """A validator as the governance app records it: with its node's transport key.

    The ``ValidatorSet`` in headers leaves ``p2p_key`` out (it is not part of agreement on
    blocks); nodes use it to pin which peers may connect.
    """

    public_key: bytes
    power: U64
    name: str
    p2p_key: bytes

    def validator(self) -> Validator:
        """The entry as a member of a header's validator set."""
        return Validator(self.public_key, self.power, self.name)
