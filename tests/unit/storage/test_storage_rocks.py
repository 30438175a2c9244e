"""RocksDB-specific behaviour: persistence, locking, bad input, and crash atomicity."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from xinlian.storage import StorageError, WriteBatch
from xinlian.storage.rocks import RocksStore


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "db"
    store = RocksStore(path)
    batch = WriteBatch()
    for i in range(100):
        batch.put(b"k%03d" % i, b"v%d" % i)
    store.write(batch)
    batch = WriteBatch()
    batch.delete(b"k050")
    store.write(batch, sync=False)
    store.close()
    with RocksStore(path) as again:
        assert again.get(b"k000") == b"v0"
        assert again.get(b"k050") is None
        assert len(list(again.iterate(b"k"))) == 99


def test_second_open_in_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with RocksStore(path), pytest.raises(StorageError, match="locked"):
        RocksStore(path)


def test_open_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from xinlian.storage.rocks import RocksStore
                store = RocksStore(Path({str(path)!r}))
                print("open", flush=True)
                sys.stdin.read()
                store.close()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StorageError, match="locked by another process"):
            RocksStore(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    with RocksStore(path):  # released once the holder exits
        pass


def test_missing_database_without_create(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open"):
        RocksStore(tmp_path / "absent", create=False)


def test_path_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"x")
    with pytest.raises(StorageError):
        RocksStore(target)


def test_bad_batch_writes_nothing(tmp_path: Path) -> None:
    with RocksStore(tmp_path / "db") as store:
        batch = WriteBatch()
        batch.put(b"b", b"2")
        batch.pending[b"c"] = "not bytes"  # type: ignore[assignment]
        with pytest.raises(StorageError):
            store.write(batch)
        assert store.get(b"b") is None


def test_close_during_iteration(tmp_path: Path) -> None:
    store = RocksStore(tmp_path / "db")
    batch = WriteBatch()
    for i in range(10):
        batch.put(bytes([i]), b"v")
    store.write(batch)
    it = store.iterate(b"")
    assert next(it) == (b"\x00", b"v")
    store.close()
    with pytest.raises(StorageError):
        next(it)


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from xinlian.storage import WriteBatch
    from xinlian.storage.rocks import RocksStore

    store = RocksStore(Path(sys.argv[1]))
    raw = store.get(b"counter")
    n = 0 if raw is None else int(raw)
    print("ready", flush=True)
    while True:
        n += 1
        batch = WriteBatch()
        for i in range(50):
            batch.put(b"item/%02d" % i, b"%d" % n)
        batch.put(b"counter", b"%d" % n)
        if n > 1:
            batch.delete(b"gone/%d" % (n - 1))
        batch.put(b"gone/%d" % n, b"x")
        store.write(batch, sync=True)
    """
)


def _check_consistent(path: Path) -> int:
    with RocksStore(path) as store:
        raw = store.get(b"counter")
        if raw is None:
            assert list(store.iterate(b"")) == []
            return 0
        n = int(raw)
        values = {store.get(b"item/%02d" % i) for i in range(50)}
        assert values == {b"%d" % n}, f"torn batch: counter {n}, items {sorted(map(repr, values))}"
        assert [k for k, _ in store.iterate(b"gone/", b"gone0")] == [b"gone/%d" % n]
        return n


@pytest.mark.slow
def test_sigkill_leaves_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "db"
    rng = random.Random(os.getpid())
    last = 0
    for _round in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()
        n = _check_consistent(path)
        assert n >= last  # synced batches never disappear
        last = n
    assert last > 0
