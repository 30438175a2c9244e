"""The app interface: methods, roles, the call context and errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from xinlian.crypto import CryptoSuite
from xinlian.types import Event, TxStatus
from xinlian.types.genesis import Genesis


class Role(StrEnum):
    """Roles an account may hold within its organisation."""

    ADMIN = "admin"
    WRITER = "writer"
    READER = "reader"
    AUDITOR = "auditor"
    VALIDATOR = "validator"
    DEPLOYER = "deployer"  # may deploy contracts; granted by governance only


class AppError(Exception):
    """Base of the apps package's errors."""


class CallError(AppError):
    """A call refused by an app (bad arguments, missing permission, failed requirement)."""

    def __init__(self, message: str, status: TxStatus = TxStatus.FAILED) -> None:
        super().__init__(message)
        self.status = status


def require(condition: bool, message: str, status: TxStatus = TxStatus.FAILED) -> None:
    """Raise ``CallError(message)`` unless ``condition`` holds; reverts the call's writes."""
    if not condition:
        raise CallError(message, status)


class StateView(Protocol):
    """Metered key-value access to the state, scoped to one app's key prefix."""

    def get(self, key: bytes) -> bytes | None:
        """Read a key of this app."""
        ...

    def put(self, key: bytes, value: bytes) -> None:
        """Write a key of this app."""
        ...

    def delete(self, key: bytes) -> None:
        """Delete a key of this app."""
        ...

    def app_state(self, app: str) -> StateView:
        """The view of another system app's keys (governance uses it to apply decisions)."""
        ...


class CallContext(Protocol):
    """What a method sees: the caller, the block, metered state and an event sink."""

    sender: bytes
    sender_address: str
    height: int
    time_ms: int
    tx_hash: bytes
    suite: CryptoSuite
    state: StateView

    def emit(self, event: Event) -> None:
        """Record an event in the transaction's receipt."""
        ...

    def charge(self, gas: int) -> None:
        """Charge extra gas for app-specific work."""
        ...


#: Largest encoded arguments of a method that declares no limit of its own.
DEFAULT_MAX_ARGS = 4096


@dataclass(frozen=True, slots=True)
class Method:
    """An exported app method.

    Attributes:
        fn: ``fn(ctx, args) -> output`` where output is canonical-encodable or None.
        args_type: the msgspec record the transaction's argument bytes decode into.
        role: role the sender needs in its organisation (None: any active account).
        readonly: True for queries that may run without a transaction.
        max_args: most bytes the encoded arguments may have. The mempool refuses a larger
            call (``args_too_large``) before it reaches a block; each app declares it next
            to its argument records.
        check: optional static check of the decoded arguments (sizes and formats that need
            no state), raising ``CallError``. The mempool runs it on admission and the
            method runs it again, so one function states each rule once.
    """

    fn: Callable[[Any, Any], Any]
    args_type: type
    role: Role | None
    readonly: bool = False
    max_args: int = DEFAULT_MAX_ARGS
    check: Callable[[Any], None] | None = None


class App(Protocol):
    """A built-in application."""

    name: str
    methods: ClassVar[Mapping[str, Method]]

    def init_genesis(self, state: StateView, genesis: Genesis) -> None:
        """Write the app's initial state from the genesis document."""
        ...
