"""Property tests of the state tree against a from-scratch reference computation.

The reference below rebuilds the root from the key-value set alone, following the
hashing rules of the design (16-ary tree over ``sha256(key)``, single-leaf subtrees
collapsed). The key pool holds clusters of keys whose hashes share 2 and 4 leading
nibbles, so deep paths, splits and collapses on deletion all occur.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.crypto.proofs import verify_state_proof
from xinlian.state import EMPTY_HASH, PrunedVersionError, StateTree
from xinlian.state.node import decode_internal
from xinlian.storage import MemoryStore, WriteBatch


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def nibble(h: bytes, depth: int) -> int:
    b = h[depth // 2]
    return b >> 4 if depth % 2 == 0 else b & 15


def reference_root(items: dict[bytes, bytes]) -> bytes:
    """The state root of ``items`` computed directly from the definition."""

    def sub(entries: list[tuple[bytes, bytes]], depth: int) -> bytes:
        if not entries:
            return bytes(32)
        if len(entries) == 1:
            kh, vh = entries[0]
            return sha(b"\x00" + kh + vh)
        groups: list[list[tuple[bytes, bytes]]] = [[] for _ in range(16)]
        for e in entries:
            groups[nibble(e[0], depth)].append(e)
        return sha(b"\x01" + b"".join(sub(g, depth + 1) for g in groups))

    return sub([(sha(k), sha(v)) for k, v in items.items()], 0)


def _cluster(prefix_nibbles: int, size: int, seed: int) -> list[bytes]:
    """``size`` keys whose hashes share their first ``prefix_nibbles`` nibbles."""
    rng = random.Random(seed)
    target = None
    found: list[bytes] = []
    i = 0
    while len(found) < size:
        key = b"c%d/%d/%d" % (seed, rng.randrange(1 << 30), i)
        i += 1
        h = sha(key).hex()[:prefix_nibbles]
        if target is None:
            target = h
        if h == target:
            found.append(key)
    return found


POOL: list[bytes] = (
    _cluster(4, 5, 1)
    + _cluster(3, 5, 2)
    + _cluster(2, 6, 3)
    + _cluster(1, 6, 4)
    + [b"key/%d" % i for i in range(14)]
    + [b""]
)

keys = st.sampled_from(POOL)
values = st.binary(min_size=0, max_size=3)
block = st.dictionaries(keys, st.none() | values, max_size=12)


def apply_model(model: dict[bytes, bytes], changes: dict[bytes, bytes | None]) -> None:
    for k, v in changes.items():
        if v is None:
            model.pop(k, None)
        else:
            model[k] = v


def commit(
    tree: StateTree, store: MemoryStore, version: int, changes: Mapping[bytes, bytes | None]
) -> bytes:
    batch = WriteBatch()
    root = tree.apply(version, changes, batch)
    store.write(batch)
    return root


def count_records(store: MemoryStore, prefix: bytes) -> int:
    return sum(1 for _ in store.iterate(prefix, prefix + b"\xff"))


@settings(max_examples=150, deadline=None)
@given(blocks=st.lists(block, min_size=1, max_size=8), data=st.data())
def test_roots_match_reference_and_proofs_verify(
    blocks: list[dict[bytes, bytes | None]], data: st.DataObject
) -> None:
    store = MemoryStore()
    tree = StateTree(store, sha, cache_nodes=data.draw(st.sampled_from([0, 3, 1000])))
    model: dict[bytes, bytes] = {}
    history: list[tuple[bytes, dict[bytes, bytes]]] = []
    for version, changes in enumerate(blocks, start=1):
        if data.draw(st.booleans()):
            # An attempt whose batch is dropped must leave no trace.
            tree.apply(version, data.draw(block), WriteBatch())
        root = commit(tree, store, version, changes)
        apply_model(model, changes)
        assert root == reference_root(model)
        assert tree.root() == root
        assert tree.latest_version == version
        history.append((root, dict(model)))
    # Every key of the pool, present or absent, at every version.
    for version, (root, snapshot) in enumerate(history, start=1):
        assert tree.root(version) == root
        for key in POOL:
            value, proof = tree.prove(key, version)
            assert value == snapshot.get(key)
            assert tree.get(key, version) == snapshot.get(key)
            assert verify_state_proof(sha, root, key, value, proof)
            wrong = b"\xffwrong" if value is None else None
            assert not verify_state_proof(sha, root, key, wrong, proof)
    for key in POOL:
        assert tree.get(key) == model.get(key)
    assert dict(tree.items()) == model


@settings(max_examples=100, deadline=None)
@given(blocks=st.lists(block, min_size=1, max_size=6), data=st.data())
def test_root_ignores_order_and_block_boundaries(
    blocks: list[dict[bytes, bytes | None]], data: st.DataObject
) -> None:
    model: dict[bytes, bytes] = {}
    a_store = MemoryStore()
    a = StateTree(a_store, sha)
    for version, changes in enumerate(blocks):
        commit(a, a_store, version, changes)
        apply_model(model, changes)
    # The final set in one block, in a random insertion order.
    items = list(model.items())
    order = data.draw(st.permutations(range(len(items))))
    b_store = MemoryStore()
    b = StateTree(b_store, sha)
    root_b = commit(b, b_store, 0, {items[i][0]: items[i][1] for i in order})
    # The same final set split differently across versions, with detours.
    c_store = MemoryStore()
    c = StateTree(c_store, sha, cache_nodes=0)
    cut = data.draw(st.integers(0, len(items)))
    detour = {k: b"tmp" for k in data.draw(st.lists(keys, max_size=6))}
    commit(c, c_store, 7, {**dict(items[:cut]), **detour})
    commit(c, c_store, 8, {k: None for k in detour})
    root_c = commit(c, c_store, 9, dict(items))
    assert a.root() == root_b == root_c == reference_root(model)


@settings(max_examples=60, deadline=None)
@given(initial=st.dictionaries(keys, values, min_size=1, max_size=25), data=st.data())
def test_deleting_everything_gives_the_zero_root(
    initial: dict[bytes, bytes], data: st.DataObject
) -> None:
    store = MemoryStore()
    tree = StateTree(store, sha)
    commit(tree, store, 0, dict(initial))
    remaining = list(initial)
    version = 0
    while remaining:
        n = data.draw(st.integers(1, len(remaining)))
        version += 1
        commit(tree, store, version, {k: None for k in remaining[:n]})
        remaining = remaining[n:]
        assert tree.root() == reference_root({k: initial[k] for k in remaining})
    assert tree.root() == EMPTY_HASH
    # Once older versions are pruned, no node or leaf record is left.
    batch = WriteBatch()
    tree.prune(version, batch)
    store.write(batch)
    assert count_records(store, b"s/n") == 0
    assert count_records(store, b"s/l") == 0
    assert count_records(store, b"s/v") == 0


@settings(max_examples=80, deadline=None)
@given(blocks=st.lists(block, min_size=2, max_size=8), data=st.data())
def test_prune_keeps_exactly_what_retained_versions_use(
    blocks: list[dict[bytes, bytes | None]], data: st.DataObject
) -> None:
    store = MemoryStore()
    tree = StateTree(store, sha, cache_nodes=data.draw(st.sampled_from([0, 1000])))
    roots = []
    snapshots = []
    model: dict[bytes, bytes] = {}
    for version, changes in enumerate(blocks):
        roots.append(commit(tree, store, version, changes))
        apply_model(model, changes)
        snapshots.append(dict(model))
    last = len(blocks) - 1
    keep = data.draw(st.integers(0, last))
    batch = WriteBatch()
    tree.prune(keep, batch)
    store.write(batch)
    assert tree.oldest_version == keep
    for version in range(keep):
        try:
            tree.prove(POOL[0], version)
        except PrunedVersionError as exc:
            assert f"version {version} was pruned" in str(exc)
            assert f"oldest retained version is {keep}" in str(exc)
        else:
            raise AssertionError("a pruned version was still readable")
    for version in range(keep, last + 1):
        for key in POOL:
            value, proof = tree.prove(key, version)
            assert value == snapshots[version].get(key)
            assert verify_state_proof(sha, roots[version], key, value, proof)
    # No garbage: the records left are exactly those of the retained versions.
    live_n: set[bytes] = set()
    live_l: set[bytes] = set()
    for version in range(keep, last + 1):
        raw = store.get(b"s/r" + version.to_bytes(8, "big"))
        assert raw is not None
        if raw:
            _collect(store, raw, 0, bytes(32), live_n, live_l)
    stored_n = {k for k, _ in store.iterate(b"s/n", b"s/o")}
    stored_l = {k for k, _ in store.iterate(b"s/l", b"s/m")}
    assert stored_n == live_n
    assert stored_l == live_l


def _collect(
    store: MemoryStore, ref: bytes, depth: int, kh: bytes, nodes: set[bytes], leaves: set[bytes]
) -> None:
    """Store keys of every node and leaf reachable from ``ref`` (on path ``kh``)."""
    if len(ref) == 72:
        leaves.add(b"s/l" + ref[32:72])
        return
    whole = depth // 2
    key = b"s/n" + ref[32:40] + kh.hex()[:depth].encode() + b"\xff"
    nodes.add(key)
    data = store.get(key)
    assert data is not None, "a node of a retained version is missing"
    for nib, child in enumerate(decode_internal(data)):
        if child is None:
            continue
        sub = bytearray(kh)
        if depth % 2 == 0:
            sub[whole] = (nib << 4) | (sub[whole] & 0x0F)
        else:
            sub[whole] = (sub[whole] & 0xF0) | nib
        _collect(store, child, depth + 1, bytes(sub), nodes, leaves)
