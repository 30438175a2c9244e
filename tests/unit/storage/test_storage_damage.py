"""A damaged database is an error, never silent loss.

Each test damages a stopped (or crashed) store the way a crash or a bad disk can, then
reopens it: the store either recovers exactly what was written, or raises our
``StorageCorruptionError`` with a message saying what was found.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xinlian.storage import StorageCorruptionError, StorageError, WriteBatch
from xinlian.storage.rocks import RocksStore

N = 200


def _value(i: int, tag: bytes) -> bytes:
    return tag + b"%05d" % i + b"." * 60


def _write(store: RocksStore, tag: bytes, n: int = N) -> None:
    for i in range(n):
        batch = WriteBatch()
        batch.put(b"k%05d" % i, _value(i, tag))
        store.write(batch, sync=True)


def _crash_image(tmp_path: Path, name: str = "crashed") -> Path:
    """The files of a store that was killed after N synced writes (copied while open)."""
    live_path = tmp_path / "live"
    live = RocksStore(live_path)
    _write(live, b"A")
    image = tmp_path / name
    shutil.copytree(live_path, image, ignore=shutil.ignore_patterns("LOCK"))
    live.close()
    return image


def _stopped_store(tmp_path: Path) -> Path:
    """A store stopped cleanly with its data flushed to table (SST) files."""
    path = tmp_path / "stopped"
    store = RocksStore(path)
    _write(store, b"A")
    store.flush()
    store.close()
    return path


def _read_all(path: Path) -> dict[bytes, bytes]:
    with RocksStore(path, create=False) as store:
        found = dict(store.iterate(b""))
        for i in range(N):  # point reads check their blocks too
            store.get(b"k%05d" % i)
        return found


def _expected(tag: bytes = b"A") -> dict[bytes, bytes]:
    return {b"k%05d" % i: _value(i, tag) for i in range(N)}


def test_crash_image_recovers_exactly(tmp_path: Path) -> None:
    assert _read_all(_crash_image(tmp_path)) == _expected()


@pytest.mark.parametrize("cut", [1, 7, 30, 50, 81])
def test_wal_cut_inside_a_record_is_an_error(tmp_path: Path, cut: int) -> None:
    image = _crash_image(tmp_path)
    wal = max(image.glob("*.log"))
    data = wal.read_bytes()
    wal.write_bytes(data[: len(data) - cut])
    with pytest.raises(StorageCorruptionError, match=r"the database at .* is damaged"):
        RocksStore(image)


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_wal_flipped_byte_is_an_error(tmp_path: Path, where: float) -> None:
    image = _crash_image(tmp_path)
    wal = max(image.glob("*.log"))
    data = bytearray(wal.read_bytes())
    data[int(len(data) * where)] ^= 0x40
    wal.write_bytes(bytes(data))
    with pytest.raises(StorageCorruptionError, match=r"the database at .* is damaged"):
        RocksStore(image)


def test_older_wal_of_a_stopped_node_recovers_exactly(tmp_path: Path) -> None:
    """Copying an older WAL into a stopped store never brings old values back."""
    live_path = tmp_path / "live"
    live = RocksStore(live_path)
    _write(live, b"O")
    older = tmp_path / "older"
    shutil.copytree(live_path, older, ignore=shutil.ignore_patterns("LOCK"))
    _write(live, b"A")
    live.close()
    for wal in live_path.glob("*.log"):
        wal.unlink()
    for wal in older.glob("*.log"):
        shutil.copy(wal, live_path / wal.name)
    assert _read_all(live_path) == _expected()


def test_deleted_current_file_is_named(tmp_path: Path) -> None:
    path = _stopped_store(tmp_path)
    (path / "CURRENT").unlink()
    with pytest.raises(StorageCorruptionError, match="has lost its CURRENT file"):
        RocksStore(path)  # create=True must not start an empty database over the data
    assert any(path.glob("*.sst"))  # nothing was removed


def test_garbage_current_file_is_an_error(tmp_path: Path) -> None:
    path = _stopped_store(tmp_path)
    (path / "CURRENT").write_bytes(b"garbage\n")
    with pytest.raises(StorageCorruptionError, match=r"the database at .* is damaged"):
        RocksStore(path)


def test_missing_table_file_is_an_error(tmp_path: Path) -> None:
    path = _stopped_store(tmp_path)
    next(path.glob("*.sst")).unlink()
    with pytest.raises(StorageCorruptionError, match=r"the database at .*"):
        RocksStore(path)


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_replaced_table_file_is_an_error(tmp_path: Path, kind: str) -> None:
    path = _stopped_store(tmp_path)
    sst = next(path.glob("*.sst"))
    size = sst.stat().st_size
    sst.write_bytes(bytes(range(256)) * (size // 256 + 1) if kind == "garbage" else b"x" * 100)
    with pytest.raises(StorageCorruptionError, match=r"the database at .* is damaged"):
        RocksStore(path)


def test_flipped_bytes_in_a_table_file_never_read_back_silently(tmp_path: Path) -> None:
    """A flipped byte anywhere in a table file: reading everything back either gives
    exactly what was written or raises our error (block checksums), never other data
    and never fewer keys."""
    path = _stopped_store(tmp_path)
    sst = next(path.glob("*.sst"))
    original = sst.read_bytes()
    errors = 0
    for offset in range(0, len(original), max(1, len(original) // 32)):
        damaged = bytearray(original)
        damaged[offset] ^= 0x10
        sst.write_bytes(bytes(damaged))
        try:
            found = _read_all(path)
        except StorageCorruptionError:
            errors += 1
            continue
        except StorageError as exc:  # only our damage subclass may come out
            pytest.fail(f"offset {offset}: not classified as damage: {exc}")
        assert found == _expected(), offset
    assert errors > 0
