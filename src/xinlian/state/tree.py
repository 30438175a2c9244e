"""The versioned, authenticated state tree (16-ary Jellyfish-style sparse Merkle tree).

Store layout, every key under the tree's ``prefix`` ``P``:

================================  ==================================================
``P m``                           latest and oldest retained version (8 + 8 bytes)
``P r <version>``                 root reference of a version (empty = empty tree)
``P n <version> <path> ff``       internal node created at ``version``
``P l <version> <key_hash>``      leaf record (key and value) created at ``version``
``P v <key>``                     latest value of ``key`` (flat table for ``get``)
``P x <version>``                 keys of the records that became stale at ``version``
================================  ==================================================

Versions are big-endian 8-byte integers, so each version's new nodes are contiguous.
A node is never modified: an update writes new nodes under the new version and records
the replaced ones in the stale index of that version, so every retained version stays
readable and :meth:`StateTree.prune` can delete what no retained version uses.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping

import msgspec

from xinlian.crypto.proofs import EMPTY_HASH, INTERNAL_PREFIX, LEAF_PREFIX, RADIX
from xinlian.state.cache import NodeCache
from xinlian.state.errors import CorruptStateError, PrunedVersionError, StateError, VersionError
from xinlian.state.node import (
    BLOB_SIZE,
    LEAF_REF_SIZE,
    PATH_END,
    Children,
    HashFn,
    Ref,
    cache_entry,
    check_ref,
    decode_internal,
    decode_leaf,
    decode_refs,
    encode_refs,
    hash_blob,
    path_bytes,
    version_bytes,
)
from xinlian.storage.base import KVStore, WriteBatch
from xinlian.types.proof import StateProof, StateProofStep

#: Default number of internal nodes kept in memory beyond the pinned top levels (about
#: 1 KiB each: a 1,000,000-key state has about 350,000 internal nodes).
DEFAULT_CACHE_NODES = 250_000
#: Depths ``< PIN_DEPTH`` (1 + 16 + 256 nodes) are always cached.
PIN_DEPTH = 3

_ROOTS_CACHED = 64
#: Up to this many changed children, a rebuilt node's hash blob is patched in place.
_SPLICE_MAX = 4
_split_blob = struct.Struct("32s" * RADIX).unpack
_stale_encoder = msgspec.msgpack.Encoder()
_stale_decoder = msgspec.msgpack.Decoder(list[bytes])


def _ref_kh(ref: Ref) -> bytes:
    return ref[40:]


class StateTree:
    """Authenticated key-value state with versions, proofs and pruning.

    Args:
        store: the key-value store (shared with other components; see ``prefix``).
        hash_fn: the chain suite's hash (``suite.hash``), returning 32 bytes.
        prefix: prefix of every store key the tree uses.
        cache_nodes: about how many internal nodes to keep in memory besides the
            pinned top ``PIN_DEPTH`` levels (about 1 KiB each).

    The tree never writes to ``store`` itself: :meth:`apply` and :meth:`prune` stage
    their writes in the caller's :class:`WriteBatch`, which the caller commits
    atomically with the block. Reads see committed data only. One thread writes
    (``apply``/``prune``); reads may run concurrently.
    """

    def __init__(
        self,
        store: KVStore,
        hash_fn: HashFn,
        *,
        prefix: bytes = b"s/",
        cache_nodes: int = DEFAULT_CACHE_NODES,
    ) -> None:
        if len(hash_fn(b"")) != 32:
            raise StateError("the state tree needs a 32-byte hash function")
        self._store = store
        self._hash = hash_fn
        self._prefix = prefix
        self._meta_key = prefix + b"m"
        self._pr = prefix + b"r"
        self._pn = prefix + b"n"
        self._pl = prefix + b"l"
        self._pv = prefix + b"v"
        self._px = prefix + b"x"
        self._cache = NodeCache(cache_nodes, PIN_DEPTH)
        self._roots: dict[int, bytes] = {}

    # ------------------------------------------------------------------ versions

    def _get(self, key: bytes, batch: WriteBatch | None) -> bytes | None:
        if batch is not None:
            data = batch.pending.get(key)
            if data is not None or key in batch.pending:
                return data
        return self._store.get(key)

    def _meta(self, batch: WriteBatch | None = None) -> tuple[int, int] | None:
        data = self._get(self._meta_key, batch)
        if data is None:
            return None
        if len(data) != 16:
            raise CorruptStateError("state metadata record is corrupt")
        return int.from_bytes(data[:8], "big"), int.from_bytes(data[8:], "big")

    @property
    def latest_version(self) -> int | None:
        """The last committed version, or None before the first commit."""
        meta = self._meta()
        return None if meta is None else meta[0]

    @property
    def oldest_version(self) -> int | None:
        """The oldest version still readable (earlier ones were pruned), or None."""
        meta = self._meta()
        return None if meta is None else meta[1]

    def _root_ref(self, version: int | None, batch: WriteBatch | None = None) -> Ref | None:
        meta = self._meta(batch)
        if meta is None:
            if version is None:
                return None
            raise VersionError(f"state version {version} does not exist: nothing committed yet")
        latest, oldest = meta
        if version is None:
            version = latest
        elif version > latest:
            raise VersionError(f"state version {version} is not committed yet (latest is {latest})")
        elif version < oldest:
            raise PrunedVersionError(version, oldest)
        if batch is None:
            cached = self._roots.get(version)
            if cached is not None:
                return cached or None
        data = self._get(self._pr + version_bytes(version), batch)
        if data is None:
            raise CorruptStateError(f"root record of state version {version} is missing")
        ref = check_ref(data)
        if batch is None:
            # Committed root records never change: remember the recent ones.
            if len(self._roots) >= _ROOTS_CACHED:
                self._roots.clear()
            self._roots[version] = data
        return ref

    def root(self, version: int | None = None) -> bytes:
        """The state root at ``version`` (default: latest; the zero hash when empty).

        Raises:
            PrunedVersionError: ``version`` was pruned.
            VersionError: ``version`` is not committed yet.
        """
        ref = self._root_ref(version)
        return EMPTY_HASH if ref is None else ref[:32]

    # ------------------------------------------------------------------ reads

    def _load(self, ref: Ref, depth: int, key_hash: bytes) -> bytes:
        """The cache entry (hash blob + stored bytes) of the internal node ``ref`` found
        at ``depth`` on the path of ``key_hash``."""
        key = self._pn + ref[32:40] + path_bytes(key_hash, depth)
        entry = self._cache.get(key, depth)
        if entry is None:
            data = self._store.get(key)
            if data is None:
                raise CorruptStateError(
                    f"state node (version {int.from_bytes(ref[32:40], 'big')}, depth {depth}) "
                    "is missing; was its version pruned?"
                )
            entry = cache_entry(data)
            self._cache.put(key, depth, entry)
        return entry

    def _leaf_record(self, ref: Ref) -> tuple[bytes, bytes]:
        data = self._store.get(self._pl + ref[32:72])
        if data is None:
            raise CorruptStateError(
                f"state leaf (version {int.from_bytes(ref[32:40], 'big')}) is missing"
            )
        return decode_leaf(data)

    def get(self, key: bytes, version: int | None = None) -> bytes | None:
        """The value of ``key`` at ``version`` (default latest: one store read), or None.

        Raises:
            PrunedVersionError: ``version`` was pruned.
            VersionError: ``version`` is not committed yet.
        """
        if version is None:
            return self._store.get(self._pv + key)
        meta = self._meta()
        if meta is not None and version == meta[0]:
            return self._store.get(self._pv + key)
        ref = self._root_ref(version)
        kh = self._hash(key)
        depth = 0
        while ref is not None and len(ref) != LEAF_REF_SIZE:
            entry = self._load(ref, depth, kh)
            byte = kh[depth >> 1]
            ref = decode_refs(entry[BLOB_SIZE:])[byte & 0x0F if depth & 1 else byte >> 4]
            depth += 1
        if ref is None or ref[40:] != kh:
            return None
        leaf_key, value = self._leaf_record(ref)
        if leaf_key != key:
            raise CorruptStateError("state leaf record holds another key")
        return value

    def prove(self, key: bytes, version: int | None = None) -> tuple[bytes | None, StateProof]:
        """The value of ``key`` at ``version`` (default latest) and its proof.

        The proof verifies with :func:`xinlian.crypto.proofs.verify_state_proof` against
        :meth:`root` of the same version: an inclusion proof if the value is not None,
        an exclusion proof otherwise.

        Raises:
            PrunedVersionError: ``version`` was pruned.
            VersionError: ``version`` is not committed yet.
        """
        ref = self._root_ref(version)
        kh = self._hash(key)
        steps: list[StateProofStep] = []
        depth = 0
        while ref is not None and len(ref) != LEAF_REF_SIZE:
            entry = self._load(ref, depth, kh)
            byte = kh[depth >> 1]
            nib = byte & 0x0F if depth & 1 else byte >> 4
            siblings: list[bytes] = list(_split_blob(entry[:BLOB_SIZE]))
            del siblings[nib]
            steps.append(StateProofStep(nibble=nib, children=siblings))
            ref = decode_refs(entry[BLOB_SIZE:])[nib]
            depth += 1
        if ref is None:
            return None, StateProof(steps=steps, leaf_key_hash=b"", leaf_value_hash=b"")
        leaf_kh = ref[40:]
        leaf_key, value = self._leaf_record(ref)
        proof = StateProof(steps=steps, leaf_key_hash=leaf_kh, leaf_value_hash=self._hash(value))
        if leaf_kh != kh:
            return None, proof
        if leaf_key != key:
            raise CorruptStateError("state leaf record holds another key")
        return value, proof

    def items(self, start: bytes = b"", end: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Latest ``(key, value)`` pairs with ``start <= key < end`` in key order."""
        pv = self._pv
        n = len(pv)
        stop = pv[:-1] + bytes((pv[-1] + 1,)) if end is None else pv + end
        for k, v in self._store.iterate(pv + start, stop):
            yield k[n:], v

    # ------------------------------------------------------------------ writes

    def apply(
        self, version: int, changes: Mapping[bytes, bytes | None], batch: WriteBatch
    ) -> bytes:
        """Apply one block's changes as ``version`` and return the new root.

        Args:
            version: the new version (block height): the latest version plus one, or any
                version for the first apply.
            changes: key to new value, or None to delete; the root depends only on the
                resulting key-value set, never on the order of ``changes``.
            batch: receives every new node, value and index entry; the caller commits
                it before applying the next version (an uncommitted batch may also be
                dropped and the version applied again). Nothing is written to the store.

        Raises:
            VersionError: ``version`` does not follow the latest version.
            StateError: a key or value is not bytes.
        """
        vb = version_bytes(version)
        meta = self._meta(batch)
        if meta is None:
            oldest = version
            base: Ref | None = None
        else:
            latest, oldest = meta
            if version != latest + 1:
                raise VersionError(
                    f"cannot apply state version {version}: the latest version is {latest}, "
                    f"so the next must be {latest + 1}"
                )
            base = self._root_ref(latest, batch)
        update = _Update(self, vb, batch)
        new_root = update.run(base, changes, self._pl, self._pv)
        stale = update.stale
        pending = batch.pending
        pending[self._pr + vb] = b"" if new_root is None else new_root
        pending[self._meta_key] = vb + version_bytes(oldest)
        if stale:
            pending[self._px + vb] = _stale_encoder.encode(stale)
        return EMPTY_HASH if new_root is None else new_root[:32]

    def prune(self, keep_from_version: int, batch: WriteBatch) -> int:
        """Stage deletion of everything only versions ``< keep_from_version`` use.

        Afterwards reading or proving a version before ``keep_from_version`` raises
        :class:`PrunedVersionError`. Returns the number of node and leaf records deleted.

        Raises:
            VersionError: ``keep_from_version`` is after the latest version.
        """
        meta = self._meta(batch)
        if meta is None:
            return 0
        latest, oldest = meta
        if keep_from_version > latest:
            raise VersionError(
                f"cannot prune up to version {keep_from_version}: the latest is {latest}"
            )
        if keep_from_version <= oldest:
            return 0
        pending = batch.pending
        end = self._px + version_bytes(keep_from_version + 1)
        records: dict[bytes, bytes] = dict(self._store.iterate(self._px, end))
        for key, data in pending.items():
            if data is not None and key.startswith(self._px) and key < end:
                records[key] = data
        deleted = 0
        prefix = self._prefix
        pn = self._pn
        path_at = len(pn) + 8
        for key, data in records.items():
            if key in pending and pending[key] is None:
                continue
            for suffix in _stale_decoder.decode(data):
                full = prefix + suffix
                pending[full] = None
                if full.startswith(pn):
                    self._cache.discard(full, len(full) - path_at - 1)
                deleted += 1
            pending[key] = None
        for v in range(oldest, keep_from_version):
            pending[self._pr + version_bytes(v)] = None
        pending[self._meta_key] = version_bytes(latest) + version_bytes(keep_from_version)
        return deleted


class _Update:
    """One batch update of the tree as version ``vb``.

    :meth:`run` makes one recursive pass over the tree in key-hash order and rebuilds
    each touched internal node once; new nodes, leaf records and flat values go to the
    batch. Operation ``i`` (sorted by key hash) is ``khs[i]`` with the new leaf
    reference ``news[i]`` (None deletes). Hot code: attributes are bound to locals.
    """

    __slots__ = (
        "cache",
        "hash",
        "hexes",
        "khs",
        "news",
        "noop",
        "pending",
        "pn",
        "pn_v",
        "prefix_len",
        "stale",
        "store_get",
        "vb",
    )

    def __init__(self, tree: StateTree, vb: bytes, batch: WriteBatch) -> None:
        self.hash = tree._hash
        self.pending = batch.pending
        self.store_get = tree._store.get
        self.cache = tree._cache
        self.pn = tree._pn
        self.pn_v = tree._pn + vb
        self.prefix_len = len(tree._prefix)
        self.vb = vb
        self.stale: list[bytes] = []
        self.noop: set[bytes] = set()
        self.khs: list[bytes] = []
        self.hexes: list[bytes] = []
        self.news: list[Ref | None] = []

    def run(
        self, base: Ref | None, changes: Mapping[bytes, bytes | None], pl: bytes, pv: bytes
    ) -> Ref | None:
        """Apply ``changes`` to the tree rooted at ``base``; return the new root."""
        h = self.hash
        vb = self.vb
        leaf_prefix = LEAF_PREFIX
        key_of: dict[bytes, bytes] = {}  # key hash -> key
        new_of: dict[bytes, Ref | None] = {}  # key hash -> new leaf reference
        for key, value in changes.items():
            if type(key) is not bytes:
                raise StateError(f"state keys must be bytes, got {type(key).__name__}")
            kh = h(key)
            key_of[kh] = key
            if value is None:
                new_of[kh] = None
            elif type(value) is bytes:
                new_of[kh] = h(leaf_prefix + kh + h(value)) + vb + kh
            else:
                raise StateError(f"state values must be bytes or None, got {type(value).__name__}")
        if len(key_of) != len(changes):
            raise StateError("two keys of one update have the same key hash")
        khs = self.khs = sorted(key_of)
        self.hexes = [kh.hex().encode() for kh in khs]
        news = self.news = [new_of[kh] for kh in khs]
        new_root = self.update(base, 0, 0, len(khs)) if khs else base
        # Stage leaf records and the flat table (skipping updates to the same value),
        # each in key order like the nodes: RocksDB inserts sorted runs fastest.
        pending = self.pending
        noop = self.noop
        pl_v = pl + vb
        for kh, new in zip(khs, news, strict=True):
            if new is not None and kh not in noop:
                key = key_of[kh]
                value = changes[key]
                assert value is not None
                pending[pl_v + kh] = len(key).to_bytes(4, "big") + key + value
        unchanged = {key_of[kh] for kh in noop}
        for key in sorted(changes):
            if key not in unchanged:
                pending[pv + key] = changes[key]
        return new_root

    def finish(self, children: Children, depth: int, path: bytes) -> Ref | None:
        """Stage a rebuilt node, or collapse it if it holds one leaf or nothing.

        ``children[0]`` is the node's hash blob (its 16 child hashes), ``children[1:]``
        its child references.
        """
        empties = children.count(None)
        if empties >= RADIX - 1:
            if empties == RADIX:
                return None
            for c in children[1:]:
                if c is not None:
                    if len(c) == LEAF_REF_SIZE:
                        return c  # a lone leaf moves up
                    break
        blob = children[0]
        assert blob is not None
        key = self.pn_v + path
        data = encode_refs(children[1:])
        self.pending[key] = data
        self.cache.put(key, depth, blob + data)
        return self.hash(INTERNAL_PREFIX + blob) + self.vb

    def build(self, depth: int, entries: list[Ref]) -> Ref | None:
        """A fresh subtree at ``depth`` holding the leaves ``entries`` (sorted)."""
        n = len(entries)
        if n == 0:
            return None
        if n == 1:
            return entries[0]
        children: Children = [None] * (RADIX + 1)
        bi = 40 + (depth >> 1)  # the key hash starts at byte 40 of a leaf reference
        odd = depth & 1
        i = 0
        while i < n:
            b = entries[i][bi]
            nib = b & 0x0F if odd else b >> 4
            j = i + 1
            if odd:
                while j < n and entries[j][bi] & 0x0F == nib:
                    j += 1
            else:
                while j < n and entries[j][bi] >> 4 == nib:
                    j += 1
            children[1 + nib] = self.build(depth + 1, entries[i:j])
            i = j
        children[0] = hash_blob(children[1:])
        return self.finish(children, depth, path_bytes(entries[0][40:], depth))

    def merge_leaf(self, ref: Ref, depth: int, lo: int, hi: int) -> Ref | None:
        """Several operations ``lo:hi`` reach the slot of the leaf ``ref``."""
        lkh = ref[40:]
        khs = self.khs
        news = self.news
        entries: list[Ref] = []
        keep = True
        for i in range(lo, hi):
            kh = khs[i]
            new = news[i]
            if kh == lkh:
                if new is not None and new[:32] == ref[:32]:
                    self.noop.add(kh)
                    continue
                keep = False
                if new is not None:
                    entries.append(new)
            elif new is not None:
                entries.append(new)
        if keep:
            if not entries:
                return ref
            entries.append(ref)
            entries.sort(key=_ref_kh)
        else:
            self.stale.append(b"l" + ref[32:])
        return self.build(depth, entries)

    def fetch(self, key: bytes, ref: Ref, depth: int) -> tuple[bytes, list[Ref | None]]:
        """A node missing from the cache, from this batch or the store: its cache entry
        and its child references."""
        data = self.pending.get(key)
        if data is None:
            data = self.store_get(key)
        if data is None:
            raise CorruptStateError(
                f"state node (version {int.from_bytes(ref[32:40], 'big')}, depth {depth}) "
                "is missing; was its version pruned?"
            )
        refs = decode_internal(data)
        return hash_blob(refs) + data, refs

    def update(self, ref: Ref | None, depth: int, lo: int, hi: int) -> Ref | None:
        """The subtree replacing ``ref`` at ``depth`` after operations ``lo:hi``."""
        if hi - lo == 1:
            return self.update_one(ref, depth, lo)
        if ref is None:
            return self.build(depth, [n for n in self.news[lo:hi] if n is not None])
        if len(ref) == LEAF_REF_SIZE:
            return self.merge_leaf(ref, depth, lo, hi)
        # An internal node reached by several operations: load it, recurse into each
        # touched child and rebuild it once. children[0] is the hash blob, patched for
        # each changed child.
        khs = self.khs
        path = self.hexes[lo][:depth] + PATH_END
        key = self.pn + ref[32:40] + path
        cache = self.cache
        entry = cache.take(key, depth)
        if entry is None:
            entry, refs = self.fetch(key, ref, depth)
        else:
            refs = decode_refs(entry[BLOB_SIZE:])
        children: Children = [None, *refs]
        changed: list[int] = []  # nibbles of the children that changed
        update = self.update
        bi = depth >> 1
        odd = depth & 1
        i = lo
        while i < hi:
            b = khs[i][bi]
            nib = b & 0x0F if odd else b >> 4
            j = i + 1
            if odd:
                while j < hi and khs[j][bi] & 0x0F == nib:
                    j += 1
            else:
                while j < hi and khs[j][bi] >> 4 == nib:
                    j += 1
            old = children[1 + nib]
            new = update(old, depth + 1, i, j)
            if new is not old:
                children[1 + nib] = new
                changed.append(nib)
            i = j
        if not changed:
            # Unchanged: back into the cache as most recently used.
            cache.put(key, depth, entry)
            return ref
        # The old node is stale from this version on (and leaves the cache).
        if depth < PIN_DEPTH:
            cache.discard(key, depth)
        self.stale.append(key[self.prefix_len :])
        if len(changed) > _SPLICE_MAX:
            # Many changed children (the top levels): one join beats many splices.
            children[0] = hash_blob(children[1:])
        else:
            blob = entry[:BLOB_SIZE]
            for nib in changed:
                o = nib << 5
                c = children[1 + nib]
                blob = blob[:o] + (EMPTY_HASH if c is None else c[:32]) + blob[o + 32 :]
            children[0] = blob
        return self.finish(children, depth, path)

    def update_one(self, top: Ref | None, depth: int, i: int) -> Ref | None:
        """:meth:`update` for the single operation ``i``, without recursion: walk down to
        the key's slot, then rebuild the nodes on the way back up."""
        kh = self.khs[i]
        hx = self.hexes[i]
        new = self.news[i]
        cache = self.cache
        pn = self.pn
        # Down: the internal nodes on the key's path.
        path_nodes: list[tuple[bytes, int, bytes, bytes, list[Ref | None], int]] = []
        ref = top
        while ref is not None and len(ref) != LEAF_REF_SIZE:
            path = hx[:depth] + PATH_END
            key = pn + ref[32:40] + path
            entry = cache.take(key, depth)
            if entry is None:
                entry, refs = self.fetch(key, ref, depth)
            else:
                refs = decode_refs(entry[BLOB_SIZE:])
            b = kh[depth >> 1]
            nib = b & 0x0F if depth & 1 else b >> 4
            path_nodes.append((key, depth, path, entry, refs, nib))
            ref = refs[nib]
            depth += 1
        # The slot: empty, this key's leaf, or another key's leaf.
        result: Ref | None
        if ref is None:
            result = new
        else:
            lkh = ref[40:]
            if kh == lkh:
                if new is not None and new[:32] == ref[:32]:
                    self.noop.add(kh)
                    result = ref
                else:
                    self.stale.append(b"l" + ref[32:])
                    result = new
            elif new is None:
                result = ref
            else:
                result = self.build(depth, [new, ref] if kh < lkh else [ref, new])
        if result is ref:
            for key, d, _, entry, _, _ in path_nodes:
                cache.put(key, d, entry)
            return top
        # Up: every node on the path changes (or collapses into a lone leaf).
        stale = self.stale
        prefix_len = self.prefix_len
        pending = self.pending
        pn_v = self.pn_v
        vb = self.vb
        h = self.hash
        for key, d, path, entry, refs, nib in reversed(path_nodes):
            if d < PIN_DEPTH:
                cache.discard(key, d)
            stale.append(key[prefix_len:])
            refs[nib] = result
            if result is None or len(result) == LEAF_REF_SIZE:
                empties = refs.count(None)
                if empties == RADIX:
                    continue  # result stays None
                if empties == RADIX - 1:
                    only = next(c for c in refs if c is not None)
                    if len(only) == LEAF_REF_SIZE:
                        result = only  # a lone leaf moves up
                        continue
            o = nib << 5
            child_hash = EMPTY_HASH if result is None else result[:32]
            blob = entry[:o] + child_hash + entry[o + 32 : BLOB_SIZE]
            data = encode_refs(refs)
            node_key = pn_v + path
            pending[node_key] = data
            cache.put(node_key, d, blob + data)
            result = h(INTERNAL_PREFIX + blob) + vb
        return result
