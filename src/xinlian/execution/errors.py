"""The execution package's exception tree."""


class ExecutionError(Exception):
    """Base of execution errors."""


class InvalidTransaction(ExecutionError):  # noqa: N818 - a domain name, like InvalidBlock
    """A transaction that may not be included in a block (it consumes no nonce).

    ``reason`` is a short code for clients: ``refused`` for the checks against the
    sender's account, or the static rule a call breaks on admission (``unknown_target``,
    ``permission_denied``, ``args_too_large``, ``invalid_args``).
    """

    def __init__(self, message: str, reason: str = "refused") -> None:
        super().__init__(message)
        self.reason = reason


class InvalidBlock(ExecutionError):  # noqa: N818
    """A block that contains an invalid transaction or breaks a block rule."""
