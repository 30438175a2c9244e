"""State tree API: versions, reads, batches, pruning and errors."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from xinlian.crypto.proofs import verify_state_proof
from xinlian.state import (
    EMPTY_HASH,
    CorruptStateError,
    PrunedVersionError,
    StateError,
    StateTree,
    VersionError,
)
from xinlian.storage import MemoryStore, WriteBatch
from xinlian.storage.rocks import RocksStore


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def commit(
    tree: StateTree,
    store: MemoryStore | RocksStore,
    version: int,
    changes: Mapping[bytes, bytes | None],
) -> bytes:
    batch = WriteBatch()
    root = tree.apply(version, changes, batch)
    store.write(batch)
    return root


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def tree(store: MemoryStore) -> StateTree:
    return StateTree(store, sha)


def test_fresh_tree(tree: StateTree) -> None:
    assert tree.latest_version is None
    assert tree.oldest_version is None
    assert tree.root() == EMPTY_HASH
    assert tree.get(b"k") is None
    value, proof = tree.prove(b"k")
    assert value is None
    assert verify_state_proof(sha, EMPTY_HASH, b"k", None, proof)
    with pytest.raises(VersionError, match="nothing committed"):
        tree.root(0)


def test_apply_stages_only_into_the_batch(tree: StateTree, store: MemoryStore) -> None:
    batch = WriteBatch()
    root = tree.apply(1, {b"a": b"1", b"b": b"2"}, batch)
    assert root != EMPTY_HASH
    assert list(store.iterate(b"")) == []  # nothing written by apply
    assert tree.latest_version is None
    assert all(k.startswith(b"s/") for k in batch.pending)
    store.write(batch)
    assert tree.latest_version == 1
    assert tree.root() == root
    assert tree.get(b"a") == b"1"


def test_versions_and_history(tree: StateTree, store: MemoryStore) -> None:
    r1 = commit(tree, store, 5, {b"a": b"1", b"b": b"2"})
    r2 = commit(tree, store, 6, {b"a": b"10", b"c": b"3"})
    r3 = commit(tree, store, 7, {b"b": None})
    assert (tree.oldest_version, tree.latest_version) == (5, 7)
    assert [tree.root(v) for v in (5, 6, 7)] == [r1, r2, r3]
    assert tree.get(b"a", 5) == b"1"
    assert tree.get(b"a", 6) == b"10"
    assert tree.get(b"b", 6) == b"2"
    assert tree.get(b"b", 7) is None
    assert tree.get(b"b") is None
    assert tree.get(b"c", 5) is None
    for version, root in ((5, r1), (6, r2), (7, r3)):
        for key in (b"a", b"b", b"c", b"d"):
            value, proof = tree.prove(key, version)
            assert value == tree.get(key, version)
            assert verify_state_proof(sha, root, key, value, proof)
    with pytest.raises(VersionError, match="not committed yet"):
        tree.get(b"a", 8)
    with pytest.raises(VersionError, match="not committed yet"):
        tree.prove(b"a", 8)


def test_empty_changes_record_the_version(tree: StateTree, store: MemoryStore) -> None:
    r1 = commit(tree, store, 1, {b"a": b"1"})
    assert commit(tree, store, 2, {}) == r1
    assert tree.latest_version == 2
    assert tree.root(2) == r1
    assert commit(tree, store, 3, {b"missing": None}) == r1


def test_empty_value_is_not_absence(tree: StateTree, store: MemoryStore) -> None:
    root = commit(tree, store, 1, {b"a": b""})
    assert tree.get(b"a") == b""
    value, proof = tree.prove(b"a")
    assert value == b""
    assert verify_state_proof(sha, root, b"a", b"", proof)
    assert not verify_state_proof(sha, root, b"a", None, proof)


def test_same_value_update_writes_no_new_leaf(tree: StateTree, store: MemoryStore) -> None:
    r1 = commit(tree, store, 1, {b"a": b"1", b"b": b"2"})
    batch = WriteBatch()
    assert tree.apply(2, {b"a": b"1"}, batch) == r1
    assert not any(k.startswith((b"s/l", b"s/n", b"s/x")) for k in batch.pending)


def test_version_must_follow(tree: StateTree, store: MemoryStore) -> None:
    commit(tree, store, 3, {b"a": b"1"})
    for bad in (3, 2, 5):
        with pytest.raises(VersionError, match="the next must be 4"):
            tree.apply(bad, {}, WriteBatch())
    with pytest.raises(StateError):
        tree.apply(-1, {}, WriteBatch())


def test_uncommitted_batch_can_be_dropped_or_chained(tree: StateTree, store: MemoryStore) -> None:
    commit(tree, store, 1, {b"k%d" % i: b"v" for i in range(50)})
    tree.apply(2, {b"k%d" % i: b"dropped" for i in range(0, 50, 2)}, WriteBatch())
    root2 = commit(tree, store, 2, {b"k1": b"kept"})
    assert tree.get(b"k0") == b"v"
    assert tree.get(b"k1") == b"kept"
    # Two versions staged in one batch before it is written.
    batch = WriteBatch()
    tree.apply(3, {b"k3": b"three"}, batch)
    root4 = tree.apply(4, {b"k4": b"four", b"k3": None}, batch)
    store.write(batch)
    assert tree.latest_version == 4
    assert tree.root() == root4
    assert tree.root(2) == root2
    expected = {b"k%d" % i: b"v" for i in range(50)}
    expected.update({b"k1": b"kept", b"k4": b"four"})
    del expected[b"k3"]
    ref_store = MemoryStore()
    reference = StateTree(ref_store, sha)
    assert commit(reference, ref_store, 0, expected) == root4


def test_bad_keys_and_values(tree: StateTree) -> None:
    with pytest.raises(StateError, match="keys must be bytes"):
        tree.apply(1, {"text": b"1"}, WriteBatch())  # type: ignore[dict-item]
    with pytest.raises(StateError, match="values must be bytes"):
        tree.apply(1, {b"k": "text"}, WriteBatch())  # type: ignore[dict-item]
    with pytest.raises(StateError):
        StateTree(MemoryStore(), lambda data: hashlib.sha1(data).digest())


def test_prune(tree: StateTree, store: MemoryStore) -> None:
    roots = [
        commit(tree, store, v, {b"k%d" % (v % 7): b"%d" % v, b"fixed": b"x"}) for v in range(10)
    ]
    batch = WriteBatch()
    deleted = tree.prune(6, batch)
    assert deleted > 0
    store.write(batch)
    assert tree.oldest_version == 6
    for v in range(6):
        with pytest.raises(PrunedVersionError, match=f"version {v} was pruned"):
            tree.root(v)
        with pytest.raises(PrunedVersionError, match="oldest retained version is 6"):
            tree.prove(b"fixed", v)
        with pytest.raises(PrunedVersionError):
            tree.get(b"fixed", v)
    for v in range(6, 10):
        assert tree.root(v) == roots[v]
        value, proof = tree.prove(b"fixed", v)
        assert verify_state_proof(sha, roots[v], b"fixed", value, proof)
    assert tree.prune(3, WriteBatch()) == 0  # already pruned further
    with pytest.raises(VersionError, match="latest is 9"):
        tree.prune(10, WriteBatch())
    assert isinstance(PrunedVersionError(1, 2), StateError)


def test_prune_in_the_same_batch_as_apply(tree: StateTree, store: MemoryStore) -> None:
    for v in range(5):
        commit(tree, store, v, {b"a": b"%d" % v, b"b%d" % v: b"x"})
    batch = WriteBatch()
    root = tree.apply(5, {b"a": b"5"}, batch)
    tree.prune(5, batch)  # keep only the version being committed
    store.write(batch)
    assert tree.oldest_version == 5
    assert tree.root() == root
    # Only the latest version's records remain: one leaf per key, no stale index.
    leaves = list(store.iterate(b"s/l", b"s/m"))
    assert len(leaves) == 6
    assert list(store.iterate(b"s/x", b"s/y")) == []
    assert len(list(store.iterate(b"s/r", b"s/s"))) == 1
    for key in [b"a"] + [b"b%d" % v for v in range(5)]:
        value, proof = tree.prove(key)
        assert verify_state_proof(sha, root, key, value, proof)


def test_items_and_prefix_isolation(store: MemoryStore) -> None:
    one = StateTree(store, sha, prefix=b"s1/")
    two = StateTree(store, sha, prefix=b"s2/")
    batch = WriteBatch()
    one.apply(1, {b"app/a": b"1", b"app/b": b"2", b"other": b"3"}, batch)
    two.apply(1, {b"app/a": b"x"}, batch)
    batch.put(b"ledger/0", b"block")
    store.write(batch)
    assert list(one.items()) == [(b"app/a", b"1"), (b"app/b", b"2"), (b"other", b"3")]
    assert list(one.items(b"app/", b"app0")) == [(b"app/a", b"1"), (b"app/b", b"2")]
    assert list(two.items()) == [(b"app/a", b"x")]
    assert one.root() != two.root()


def test_missing_node_is_reported(tree: StateTree, store: MemoryStore) -> None:
    commit(tree, store, 1, {b"k%d" % i: b"v" for i in range(40)})
    fresh = StateTree(store, sha, cache_nodes=0)  # nothing cached: reads hit the store
    batch = WriteBatch()
    for key, _ in store.iterate(b"s/n", b"s/o"):
        batch.delete(key)
    store.write(batch)
    with pytest.raises(CorruptStateError, match="missing"):
        fresh.prove(b"k1")
    with pytest.raises(CorruptStateError, match="missing"):
        fresh.apply(2, {b"k1": b"w"}, WriteBatch())


def test_state_on_rocksdb_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db"
    store = RocksStore(path)
    tree = StateTree(store, sha)
    roots = [
        commit(tree, store, v, {b"k%d" % i: b"%d-%d" % (v, i) for i in range(v * 20, v * 20 + 60)})
        for v in range(4)
    ]
    store.close()
    store = RocksStore(path)
    try:
        again = StateTree(store, sha)
        assert again.latest_version == 3
        assert [again.root(v) for v in range(4)] == roots
        for key in (b"k0", b"k70", b"k119", b"k500"):
            for v in range(4):
                value, proof = again.prove(key, v)
                assert verify_state_proof(sha, roots[v], key, value, proof)
        root4 = commit(again, store, 4, {b"k0": None, b"new": b"n"})
        assert again.get(b"k0") is None
        assert again.get(b"new") == b"n"
        value, proof = again.prove(b"new")
        assert verify_state_proof(sha, root4, b"new", b"n", proof)
    finally:
        store.close()


def test_node_cache_stays_bounded(store: MemoryStore) -> None:
    tree = StateTree(store, sha, cache_nodes=50)
    for v in range(30):
        commit(tree, store, v, {b"k%d" % (v * 40 + i): b"v" for i in range(40)})
        commit_root = tree.root()
        value, proof = tree.prove(b"k5")
        assert verify_state_proof(sha, commit_root, b"k5", value, proof)
    cache = tree._cache
    # Replaced top-level nodes leave the pinned part; the rest is bounded by 50.
    assert cache.pinned_count <= 1 + 16 + 256
    assert len(cache) - cache.pinned_count <= 50


GARBAGE_CHECK = """
import gc, hashlib
from xinlian.state import StateTree
from xinlian.storage import MemoryStore, WriteBatch

def sha(data):
    return hashlib.sha256(data).digest()

store = MemoryStore()
tree = StateTree(store, sha)
for version, changes in ((0, {b"k%d" % i: b"v" for i in range(300)}),
                         (1, {b"k%d" % i: b"w" for i in range(0, 300, 3)})):
    if version == 1:
        gc.collect()
        gc.disable()
    batch = WriteBatch()
    tree.apply(version, changes, batch)
    store.write(batch)
tree.prove(b"k3")
print(gc.collect())
"""


def test_apply_leaves_no_cyclic_garbage() -> None:
    # Cycles would keep each block's batch alive until a slow full collection. Checked in
    # a fresh interpreter: other tests' background threads make garbage of their own.
    out = subprocess.run(
        [sys.executable, "-c", GARBAGE_CHECK], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0", out.stdout + out.stderr


def test_batch_entries_are_staged_in_key_order(tree: StateTree, store: MemoryStore) -> None:
    # RocksDB inserts sorted runs about twice as fast as random order.
    commit(tree, store, 0, {b"k%d" % i: b"v" for i in range(500)})
    batch = WriteBatch()
    tree.apply(1, {b"k%d" % i: b"w%d" % i for i in range(0, 1000, 3)}, batch)
    for section in (b"s/n", b"s/l", b"s/v"):
        keys = [k for k in batch.pending if k.startswith(section)]
        assert len(keys) > 50
        assert keys == sorted(keys), section


def test_unchanged_nodes_stay_cached(store: MemoryStore) -> None:
    tree = StateTree(store, sha)
    commit(tree, store, 0, {b"k%d" % i: b"v" for i in range(2000)})
    before = len(tree._cache)
    assert before > 100
    # Deleting absent keys and rewriting equal values walk the tree but change nothing.
    commit(tree, store, 1, {b"absent%d" % i: None for i in range(200)})
    commit(tree, store, 2, {b"k%d" % i: b"v" for i in range(0, 2000, 7)})
    assert len(tree._cache) == before
