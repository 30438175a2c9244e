"""Contract tests every ``KVStore`` backend must pass (in-memory and RocksDB)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinlian.storage import KVStore, MemoryStore, StorageError, WriteBatch, open_store
from xinlian.storage.rocks import RocksStore

Factory = Callable[[], KVStore]


@pytest.fixture(params=["memory", "rocks"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """A factory of fresh, empty stores of one backend; closes them afterwards."""
    made: list[KVStore] = []
    counter = iter(range(1_000_000))

    def factory() -> KVStore:
        store: KVStore
        if request.param == "memory":
            store = MemoryStore()
        else:
            store = RocksStore(tmp_path / f"db{next(counter)}")
        made.append(store)
        return store

    yield factory
    for store in made:
        store.close()


def _write(store: KVStore, items: dict[bytes, bytes | None]) -> None:
    batch = WriteBatch()
    for k, v in items.items():
        if v is None:
            batch.delete(k)
        else:
            batch.put(k, v)
    store.write(batch)


def test_get_missing_is_none(make_store: Factory) -> None:
    store = make_store()
    assert store.get(b"nope") is None


def test_put_get_delete(make_store: Factory) -> None:
    store = make_store()
    _write(store, {b"a": b"1", b"b": b"", b"c": b"3"})
    assert store.get(b"a") == b"1"
    assert store.get(b"b") == b""  # an empty value is a value, not absence
    _write(store, {b"a": None, b"c": b"33"})
    assert store.get(b"a") is None
    assert store.get(b"c") == b"33"
    assert store.get(b"b") == b""


def test_batch_last_operation_on_a_key_wins(make_store: Factory) -> None:
    store = make_store()
    batch = WriteBatch()
    batch.put(b"k", b"1")
    batch.delete(b"k")
    batch.put(b"j", b"x")
    batch.put(b"j", b"y")
    store.write(batch)
    assert store.get(b"k") is None
    assert store.get(b"j") == b"y"


def test_empty_batch_and_unsynced_write(make_store: Factory) -> None:
    store = make_store()
    store.write(WriteBatch())
    batch = WriteBatch()
    batch.put(b"x", b"1")
    store.write(batch, sync=False)
    assert store.get(b"x") == b"1"


def test_batch_is_applied_as_a_whole(make_store: Factory) -> None:
    store = make_store()
    batch = WriteBatch()
    for i in range(500):
        batch.put(b"key%03d" % i, b"v%d" % i)
    assert store.get(b"key000") is None  # nothing visible before write
    store.write(batch)
    assert [store.get(b"key%03d" % i) for i in range(500)] == [b"v%d" % i for i in range(500)]


def test_iterate_order_and_bounds(make_store: Factory) -> None:
    store = make_store()
    keys = [b"", b"a", b"a\x00", b"ab", b"b", b"b\xff", b"c", b"\xff\xff"]
    _write(store, {k: k + b"!" for k in keys})
    assert [k for k, _ in store.iterate(b"")] == keys
    assert [k for k, _ in store.iterate(b"", reverse=True)] == keys[::-1]
    assert [k for k, _ in store.iterate(b"a", b"b")] == [b"a", b"a\x00", b"ab"]
    assert [k for k, _ in store.iterate(b"a", b"b", reverse=True)] == [b"ab", b"a\x00", b"a"]
    assert [k for k, _ in store.iterate(b"a\x01", b"b\xff")] == [b"ab", b"b"]
    assert [k for k, _ in store.iterate(b"a\x01", b"b\xff", reverse=True)] == [b"b", b"ab"]
    assert list(store.iterate(b"b", b"b")) == []
    assert list(store.iterate(b"c", b"a")) == []
    assert list(store.iterate(b"d", b"e", reverse=True)) == []
    assert dict(store.iterate(b"c")) == {b"c": b"c!", b"\xff\xff": b"\xff\xff!"}


def test_iterate_skips_deleted(make_store: Factory) -> None:
    store = make_store()
    _write(store, {b"p1": b"1", b"p2": b"2", b"p3": b"3"})
    _write(store, {b"p2": None})
    assert list(store.iterate(b"p", b"q")) == [(b"p1", b"1"), (b"p3", b"3")]
    assert list(store.iterate(b"p", b"q", reverse=True)) == [(b"p3", b"3"), (b"p1", b"1")]


def test_closed_store_raises(make_store: Factory) -> None:
    store = make_store()
    _write(store, {b"a": b"1"})
    store.close()
    with pytest.raises(StorageError):
        store.get(b"a")
    with pytest.raises(StorageError):
        _write(store, {b"b": b"2"})
    with pytest.raises(StorageError):
        list(store.iterate(b""))
    store.close()  # closing twice is harmless


_key = st.binary(min_size=0, max_size=6)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=st.lists(st.dictionaries(_key, st.none() | st.binary(max_size=4), max_size=12), max_size=6),
    start=_key,
    end=st.none() | _key,
    reverse=st.booleans(),
)
def test_matches_a_dict_model(
    make_store: Factory,
    ops: list[dict[bytes, bytes | None]],
    start: bytes,
    end: bytes | None,
    reverse: bool,
) -> None:
    store = make_store()
    model: dict[bytes, bytes] = {}
    for batch in ops:
        _write(store, batch)
        for k, v in batch.items():
            if v is None:
                model.pop(k, None)
            else:
                model[k] = v
    for k in list(model)[:5]:
        assert store.get(k) == model[k]
    expected = sorted((k, v) for k, v in model.items() if k >= start and (end is None or k < end))
    if reverse:
        expected.reverse()
    assert list(store.iterate(start, end, reverse=reverse)) == expected


def test_open_store(tmp_path: Path) -> None:
    mem = open_store(None)
    assert isinstance(mem, MemoryStore)
    disk = open_store(tmp_path / "db")
    try:
        assert isinstance(disk, RocksStore)
    finally:
        disk.close()
