"""The ``kv`` app: a simple authenticated key-value register for any writer.

State layout (under ``kv/``): ``<key utf-8>`` -> value (UTF-8 text). Each write emits a
``kv.put`` or ``kv.delete`` event naming the key and the writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from msgspec import Struct

from xinlian.apps.base import CallContext, Method, Role, StateView, require
from xinlian.types import Event, TxStatus
from xinlian.types.genesis import Genesis

NAME = "kv"
MAX_KEY = 256
MAX_VALUE = 16384
#: Largest encoded arguments of ``put`` (key, value and the map's framing).
MAX_PUT_ARGS = MAX_KEY + MAX_VALUE + 32


class PutArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``kv.put``."""

    key: str
    value: str


class KeyArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments naming one key."""

    key: str


def _check_key(key: str) -> bytes:
    raw = key.encode()
    require(0 < len(raw) <= MAX_KEY, f"key must be 1-{MAX_KEY} bytes", TxStatus.INVALID_ARGS)
    return raw


def check_put(args: PutArgs) -> None:
    """The static rules of ``put`` (also checked on admission)."""
    _check_key(args.key)
    require(
        len(args.value.encode()) <= MAX_VALUE,
        f"value larger than {MAX_VALUE} bytes",
        TxStatus.INVALID_ARGS,
    )


def check_key(args: KeyArgs) -> None:
    """The static rule of a key argument (also checked on admission)."""
    _check_key(args.key)


def put(ctx: CallContext, args: PutArgs) -> None:
    """Set ``key`` to ``value``."""
    check_put(args)
    ctx.state.put(args.key.encode(), args.value.encode())
    ctx.emit(Event("kv.put", {"key": args.key, "writer": ctx.sender_address}))


def delete(ctx: CallContext, args: KeyArgs) -> None:
    """Remove ``key``; fails if it does not exist."""
    key = _check_key(args.key)
    require(ctx.state.get(key) is not None, f"no key {args.key!r}", TxStatus.INVALID_ARGS)
    ctx.state.delete(key)
    ctx.emit(Event("kv.delete", {"key": args.key, "writer": ctx.sender_address}))


def get(ctx: CallContext, args: KeyArgs) -> str | None:
    """Read ``key``."""
    value = ctx.state.get(_check_key(args.key))
    return None if value is None else value.decode()


class KvApp:
    """Key-value writes by accounts with the writer role."""

    name = NAME
    methods: ClassVar[Mapping[str, Method]] = {
        "put": Method(put, PutArgs, Role.WRITER, max_args=MAX_PUT_ARGS, check=check_put),
        "delete": Method(delete, KeyArgs, Role.WRITER, max_args=MAX_KEY + 16, check=check_key),
        "get": Method(get, KeyArgs, Role.READER, readonly=True),
    }

    def init_genesis(self, state: StateView, genesis: Genesis) -> None:
        """The register starts empty."""
