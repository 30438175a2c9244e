"""The kv app: writes by writers, reads by readers, limits, events, gas."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.apps import kv
from xinlian.codec import encode
from xinlian.execution import GAS
from xinlian.execution.gas import intrinsic_gas
from xinlian.types import Event, TxStatus


def put(world: Any, who: str, key: str, value: str) -> Any:
    return world.call(who, "kv", "put", {"key": key, "value": value})


def test_put_get_overwrite_delete(world: Any, helpers: SimpleNamespace) -> None:
    assert put(world, "writer_a", "fruit", "apple").status == TxStatus.OK
    assert world.query("kv", "get", {"key": "fruit"}) == "apple"
    assert world.read(b"kv/fruit") == b"apple"
    assert put(world, "writer_a", "fruit", "pear").status == TxStatus.OK
    assert world.query("kv", "get", {"key": "fruit"}) == "pear"
    r = world.call("writer_a", "kv", "delete", {"key": "fruit"})
    assert r.status == TxStatus.OK
    assert r.events == [Event("kv.delete", {"key": "fruit", "writer": helpers.address("writer_a")})]
    assert world.query("kv", "get", {"key": "fruit"}) is None
    assert b"kv/fruit" not in world.state


def test_put_event_names_key_and_writer(world: Any, helpers: SimpleNamespace) -> None:
    r = put(world, "writer_b", "k", "v")
    assert r.events == [Event("kv.put", {"key": "k", "writer": helpers.address("writer_b")})]


def test_any_writer_may_overwrite(world: Any) -> None:
    put(world, "writer_a", "shared", "a")
    assert put(world, "writer_b", "shared", "b").status == TxStatus.OK
    assert world.query("kv", "get", {"key": "shared"}) == "b"


def test_unicode_key_and_value(world: Any) -> None:
    assert put(world, "writer_a", "钥匙", "信链 ✓").status == TxStatus.OK
    assert world.query("kv", "get", {"key": "钥匙"}) == "信链 ✓"
    assert world.read("kv/钥匙".encode()) == "信链 ✓".encode()


def test_delete_missing_key(world: Any) -> None:
    r = world.call("writer_a", "kv", "delete", {"key": "ghost"})
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "no key 'ghost'")


@pytest.mark.parametrize(
    ("key", "ok"),
    [("", False), ("k" * 256, True), ("k" * 257, False), ("é" * 128, True), ("é" * 129, False)],
)
def test_key_length_is_counted_in_utf8_bytes(world: Any, key: str, ok: bool) -> None:
    r = put(world, "writer_a", key, "v")
    if ok:
        assert r.status == TxStatus.OK
    else:
        assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "key must be 1-256 bytes")


def test_value_limit(world: Any) -> None:
    assert put(world, "writer_a", "big", "v" * kv.MAX_VALUE).status == TxStatus.OK
    r = put(world, "writer_a", "bigger", "v" * (kv.MAX_VALUE + 1))
    assert (r.status, r.error) == (TxStatus.INVALID_ARGS, "value larger than 16384 bytes")
    r = put(world, "writer_a", "wide", "é" * (kv.MAX_VALUE // 2 + 1))
    assert r.status == TxStatus.INVALID_ARGS
    assert world.read(b"kv/bigger") is None


def test_empty_value_is_stored(world: Any) -> None:
    assert put(world, "writer_a", "empty", "").status == TxStatus.OK
    assert world.query("kv", "get", {"key": "empty"}) == ""


def test_roles(world: Any) -> None:
    assert put(world, "reader_a", "k", "v").status == TxStatus.PERMISSION_DENIED
    assert put(world, "plain_a", "k", "v").status == TxStatus.PERMISSION_DENIED
    assert put(world, "admin_c", "k", "v").status == TxStatus.OK
    r = world.call("reader_a", "kv", "delete", {"key": "k"})
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error.endswith("lacks role 'writer' for kv.delete")
    assert world.read(b"kv/k") == b"v"


def test_delete_gas(world: Any, helpers: SimpleNamespace) -> None:
    put(world, "writer_a", "k", "value")
    env = world.tx("writer_a", "kv", "delete", {"key": "k"})
    (r,) = world.run([env]).receipts
    event_size = len(
        encode(Event("kv.delete", {"key": "k", "writer": helpers.address("writer_a")}))
    )
    assert r.gas_used == (
        intrinsic_gas(len(env.raw))
        + GAS.read
        + GAS.read_byte * len("value")
        + GAS.delete
        + GAS.event
        + GAS.event_byte * event_size
    )


def test_methods_table() -> None:
    app = kv.KvApp()
    assert app.name == "kv"
    assert {n: (m.role, m.readonly) for n, m in app.methods.items()} == {
        "put": ("writer", False),
        "delete": ("writer", False),
        "get": ("reader", True),
    }
