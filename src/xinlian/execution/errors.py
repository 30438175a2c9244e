"""The execution package's exception tree."""


class ExecutionError(Exception):
    """Base of execution errors."""


class InvalidTransaction(ExecutionError):  # noqa: N818 - a domain name, like InvalidBlock
    """A transaction that may not be included in a block (it consumes no nonce)."""


class InvalidBlock(ExecutionError):  # noqa: N818
    """A block that contains an invalid transaction or breaks a block rule."""
