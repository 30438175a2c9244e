"""The guarded signer never equivocates, across restarts, crashes and damaged records."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from xinlian.codec import encode
from xinlian.consensus import SignStep
from xinlian.crypto import get_suite
from xinlian.node.signer import (
    LEGACY_KEY,
    DoubleSignError,
    FencedError,
    GuardedSigner,
    RegressionError,
    SignerError,
    open_signer,
)
from xinlian.node.signlog import COMPACT_BYTES, MAGIC, OsFileOps, SignedRecord, frame, parse
from xinlian.storage import MemoryStore, WriteBatch
from xinlian.types import Vote, VoteType

SUITE = get_suite("ed25519")
KEY = SUITE.keypair_from_private(bytes(range(32)))


def sign_bytes(m: bytes) -> bytes:
    return SUITE.sign(KEY.private_key, m)


def signer(path: Path, **kwargs: object) -> GuardedSigner:
    return open_signer(path, sign_bytes, SUITE.hash, **kwargs)  # type: ignore[arg-type]


def vote(height: int, round_: int, block: bytes, kind: VoteType = VoteType.PREVOTE) -> bytes:
    return encode(Vote("c", int(kind), height, round_, block))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "signing.log"


def test_signs_and_verifies(path: Path) -> None:
    s = signer(path)
    payload = vote(1, 0, b"\x01" * 32)
    sig = s.sign(1, 0, SignStep.PREVOTE, payload)
    assert SUITE.verify(KEY.public_key, payload, sig)
    last = s.last()
    assert last is not None and last.position == (1, 0, 1)
    assert s.fence is None


def test_same_payload_again_returns_the_same_signature(path: Path) -> None:
    s = signer(path)
    payload = vote(5, 2, b"\x01" * 32)
    assert s.sign(5, 2, SignStep.PREVOTE, payload) == s.sign(5, 2, SignStep.PREVOTE, payload)


def test_conflicting_payload_is_refused(path: Path) -> None:
    s = signer(path)
    s.sign(5, 2, SignStep.PREVOTE, vote(5, 2, b"\x01" * 32))
    with pytest.raises(DoubleSignError, match="different prevote at height 5, round 2"):
        s.sign(5, 2, SignStep.PREVOTE, vote(5, 2, b"\x02" * 32))


@pytest.mark.parametrize(
    ("height", "round_", "step"),
    [(4, 9, SignStep.PRECOMMIT), (5, 1, SignStep.PRECOMMIT), (5, 2, SignStep.PROPOSAL)],
)
def test_earlier_positions_are_refused(
    path: Path, height: int, round_: int, step: SignStep
) -> None:
    s = signer(path)
    s.sign(5, 2, SignStep.PREVOTE, vote(5, 2, b"\x01" * 32))
    with pytest.raises(RegressionError, match="already signed at height 5, round 2, prevote"):
        s.sign(height, round_, step, b"anything")


def test_later_positions_are_allowed(path: Path) -> None:
    s = signer(path)
    s.sign(5, 2, SignStep.PREVOTE, vote(5, 2, b"\x01" * 32))
    s.sign(5, 2, SignStep.PRECOMMIT, vote(5, 2, b"\x01" * 32, VoteType.PRECOMMIT))
    s.sign(5, 3, SignStep.PROPOSAL, b"proposal")
    s.sign(6, 0, SignStep.PREVOTE, vote(6, 0, b""))


def test_survives_restart_and_keeps_refusing(path: Path) -> None:
    s = signer(path)
    first = s.sign(7, 0, SignStep.PRECOMMIT, vote(7, 0, b"\x01" * 32, VoteType.PRECOMMIT))
    s.close()
    s = signer(path, ledger_height=6)
    assert s.fence is None
    with pytest.raises(DoubleSignError):
        s.sign(7, 0, SignStep.PRECOMMIT, vote(7, 0, b"\x02" * 32, VoteType.PRECOMMIT))
    assert s.sign(7, 0, SignStep.PRECOMMIT, vote(7, 0, b"\x01" * 32, VoteType.PRECOMMIT)) == first


def test_the_record_does_not_live_in_the_database(path: Path) -> None:
    """The old guard wrote W/last to the node's database; the new one writes only its
    file, so rolling the database back cannot roll the guard back."""
    store = MemoryStore()
    s = signer(path, store=store)
    s.sign(3, 0, SignStep.PREVOTE, b"A")
    assert store.get(LEGACY_KEY) is None
    assert list(store.iterate(b"")) == []
    loaded = parse(path.read_bytes())
    assert loaded.status == "ok" and loaded.record is not None
    assert loaded.record.position == (3, 0, 1)


# ---------------------------------------------------------------- damaged files


def _three_records(path: Path) -> tuple[bytes, int]:
    """A file with records at heights 1, 2 and 3; returns its bytes and where the last
    record starts."""
    s = signer(path)
    for h in (1, 2, 3):
        s.sign(h, 0, SignStep.PREVOTE, b"A%d" % h)
    s.close()
    data = path.read_bytes()
    last = SignedRecord(3, 0, 1, SUITE.hash(b"A3"), sign_bytes(b"A3"))
    return data, len(data) - len(frame(last))


def test_tail_cut_at_every_offset_of_the_last_record_recovers_the_one_before(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data, start = _three_records(path)
    for cut in range(start, len(data)):
        path.write_bytes(data[:cut])
        s = signer(path, ledger_height=1)
        last = s.last()
        assert last is not None and last.position == (2, 0, 1), cut
        assert s.fence is None, cut
        # The cut record never left the node: height 3 may be signed (with anything).
        s.sign(3, 0, SignStep.PREVOTE, b"B3")
        with pytest.raises(DoubleSignError):
            s.sign(3, 0, SignStep.PREVOTE, b"C3")
        with pytest.raises(RegressionError):
            s.sign(2, 0, SignStep.PREVOTE, b"B2")
        s.close()
        assert parse(path.read_bytes()).status == "ok", cut  # tail repaired
    assert "cut short" in caplog.text


def test_every_flipped_byte_fences_signing(path: Path) -> None:
    data, _ = _three_records(path)
    for i in range(len(data)):
        damaged = bytearray(data)
        damaged[i] ^= 0x01
        path.write_bytes(bytes(damaged))
        s = signer(path, ledger_height=3)
        assert s.fence is not None and "damaged" in s.fence, i
        for h in (2, 3):  # refused (fenced, or below an intact record before the damage)
            with pytest.raises(SignerError):
                s.sign(h, 0, SignStep.PREVOTE, b"X%d" % h)
        for h in (4, 5):
            with pytest.raises(FencedError, match="waiting to learn the network's height"):
                s.sign(h, 0, SignStep.PREVOTE, b"X%d" % h)
        s.close()
        for aside in path.parent.glob("signing.log.damaged-*"):
            assert aside.read_bytes() == bytes(damaged)  # kept for investigation
            aside.unlink()


def test_missing_file_with_history_fences_until_the_network_is_passed(path: Path) -> None:
    now = [100.0]
    s = signer(path, ledger_height=40, clock=lambda: now[0])
    assert s.fence is not None and "no signing record" in s.fence
    with pytest.raises(FencedError):
        s.sign(41, 0, SignStep.PROPOSAL, b"P")
    s.observe_network_height(42)  # another validator committed 42: we may have voted at 43
    assert s.floor == 43
    assert not s.may_sign(43) and s.may_sign(44)
    with pytest.raises(FencedError, match="resumes above height 43"):
        s.sign(43, 0, SignStep.PREVOTE, b"V")
    now[0] += 1.0
    s.observe_network_height(45)  # a higher report soon after raises the floor
    with pytest.raises(FencedError, match="resumes above height 46"):
        s.sign(44, 0, SignStep.PREVOTE, b"V")
    now[0] += 5.0
    s.observe_network_height(48)  # settled: the network's progress does not move it
    assert s.floor == 46
    s.sign(47, 0, SignStep.PREVOTE, b"V")
    assert s.fence is None
    s.close()
    reopened = signer(path, ledger_height=46)
    assert reopened.fence is None
    last = reopened.last()
    assert last is not None and last.position == (47, 0, 1)


def test_the_floor_never_goes_below_the_ledger(path: Path) -> None:
    s = signer(path, ledger_height=40)
    s.observe_network_height(10)  # a lagging peer
    assert not s.may_sign(41) and s.may_sign(42)


def test_restart_while_fenced_stays_fenced(path: Path) -> None:
    signer(path, ledger_height=40).close()
    s = signer(path, ledger_height=40)
    assert s.fence is not None


def test_missing_file_on_a_fresh_node_is_a_fresh_start(path: Path) -> None:
    s = signer(path, ledger_height=0)
    assert s.fence is None
    s.sign(1, 0, SignStep.PROPOSAL, b"P")


def test_file_from_an_older_copy_is_caught_by_the_ledger(path: Path) -> None:
    s = signer(path)
    s.sign(5, 0, SignStep.PRECOMMIT, b"A5")
    old = path.read_bytes()
    s.sign(8, 1, SignStep.PRECOMMIT, b"A8")
    s.sign(9, 0, SignStep.PREVOTE, b"A9")
    s.close()
    path.write_bytes(old)
    s = signer(path, ledger_height=8, ledger_signed=(8, 1, 2))
    assert s.fence is not None and "older" in s.fence
    with pytest.raises(FencedError):
        s.sign(9, 0, SignStep.PREVOTE, b"B9")
    s.observe_network_height(9)
    with pytest.raises(FencedError):
        s.sign(10, 0, SignStep.PREVOTE, b"B10")
    s.sign(11, 0, SignStep.PREVOTE, b"B11")


def test_sole_validator_without_peers_signs_after_its_ledger(path: Path) -> None:
    s = signer(path, ledger_height=12)
    s.release_fence_alone(12)
    with pytest.raises(FencedError):
        s.sign(12, 0, SignStep.PREVOTE, b"V")
    s.sign(13, 0, SignStep.PROPOSAL, b"P")
    assert s.fence is None


# ---------------------------------------------------------------- migration


def test_migrates_the_record_kept_in_the_database(path: Path) -> None:
    store = MemoryStore()
    batch = WriteBatch()
    legacy = SignedRecord(9, 1, 2, SUITE.hash(b"A9"), sign_bytes(b"A9"))
    batch.put(LEGACY_KEY, encode(legacy))
    store.write(batch)
    s = signer(path, store=store, ledger_height=8)
    assert s.fence is None and s.last() == legacy
    assert store.get(LEGACY_KEY) is None
    with pytest.raises(DoubleSignError):
        s.sign(9, 1, SignStep.PRECOMMIT, b"B9")
    assert s.sign(9, 1, SignStep.PRECOMMIT, b"A9") == legacy.signature
    assert parse(path.read_bytes()).record == legacy


def test_database_record_newer_than_the_file_fences(path: Path) -> None:
    s = signer(path)
    s.sign(3, 0, SignStep.PREVOTE, b"A3")
    s.close()
    store = MemoryStore()
    batch = WriteBatch()
    batch.put(LEGACY_KEY, encode(SignedRecord(9, 0, 1, SUITE.hash(b"A9"), b"sig")))
    store.write(batch)
    assert signer(path, store=store, ledger_height=8).fence is not None
    assert store.get(LEGACY_KEY) is not None  # kept while it is the better evidence


# ---------------------------------------------------------------- write ordering


class RecordingFs(OsFileOps):
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_fsync = False

    def open_new(self, path: Path) -> int:
        self.calls.append(f"open_new {path.name}")
        return super().open_new(path)

    def write(self, fd: int, data: bytes) -> None:
        self.calls.append("write")
        super().write(fd, data)

    def fsync(self, fd: int) -> None:
        if self.fail_fsync:
            raise OSError(28, "No space left on device")
        self.calls.append("fsync")
        super().fsync(fd)

    def replace(self, src: Path, dst: Path) -> None:
        self.calls.append(f"replace {src.name} {dst.name}")
        super().replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        self.calls.append("fsync_dir")
        super().fsync_dir(path)


def test_new_file_is_synced_and_its_directory_too(path: Path) -> None:
    fs = RecordingFs()
    signer(path, fs=fs)
    assert fs.calls == [
        "open_new signing.log.tmp",
        "write",
        "fsync",
        "replace signing.log.tmp signing.log",
        "fsync_dir",
    ]
    assert path.read_bytes() == MAGIC


def test_signature_is_released_only_after_the_record_is_synced(path: Path) -> None:
    fs = RecordingFs()
    released: list[str] = []

    def sign(m: bytes) -> bytes:
        fs.calls.append("sign")
        return sign_bytes(m)

    s = open_signer(path, sign, SUITE.hash, fs=fs)
    fs.calls.clear()
    s.sign(1, 0, SignStep.PREVOTE, b"A")
    released.append("returned")
    assert fs.calls == ["sign", "write", "fsync"]


def test_a_failed_sync_releases_no_signature_and_stops_signing(path: Path) -> None:
    fs = RecordingFs()
    s = open_signer(path, sign_bytes, SUITE.hash, fs=fs)
    s.sign(1, 0, SignStep.PREVOTE, b"A")
    fs.fail_fsync = True
    with pytest.raises(SignerError, match="cannot write the signing file"):
        s.sign(2, 0, SignStep.PREVOTE, b"A2")
    fs.fail_fsync = False
    with pytest.raises(SignerError, match="cannot write the signing file"):
        s.sign(3, 0, SignStep.PREVOTE, b"A3")
    last = s.last()
    assert last is not None and last.position == (1, 0, 1)


def test_the_file_is_compacted_and_keeps_its_last_record(path: Path) -> None:
    s = signer(path)
    h = 0
    while path.stat().st_size <= COMPACT_BYTES:
        h += 1
        s.sign(h, 0, SignStep.PREVOTE, b"A%d" % h)
    s.sign(h + 1, 0, SignStep.PREVOTE, b"last")
    s.close()
    assert path.stat().st_size < 1024
    reopened = signer(path, ledger_height=h)
    last = reopened.last()
    assert reopened.fence is None and last is not None and last.position == (h + 1, 0, 1)


def test_killed_signer_never_double_signs_after_restart(tmp_path: Path) -> None:
    """A child signs successive positions and prints each signature as it returns; it is
    killed mid-run. Whatever it printed, a restarted signer refuses conflicting payloads
    at every printed position."""
    file = tmp_path / "signing.log"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from xinlian.crypto import get_suite
        from xinlian.consensus import SignStep
        from xinlian.node.signer import open_signer
        suite = get_suite("ed25519")
        key = suite.keypair_from_private(bytes(range(32)))
        s = open_signer(Path({str(file)!r}), lambda m: suite.sign(key.private_key, m),
                        suite.hash)
        for h in range(1, 100000):
            s.sign(h, 0, SignStep.PREVOTE, b"A%d" % h)
            print(h, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    printed = [int(proc.stdout.readline()) for _ in range(20)]
    proc.kill()
    proc.wait(timeout=30)
    s = signer(file, ledger_height=1)
    last = s.last()
    assert last is not None and last.height >= printed[-1]
    with pytest.raises((DoubleSignError, RegressionError)):
        s.sign(printed[-1], 0, SignStep.PREVOTE, b"B")
    assert s.sign(last.height, 0, SignStep.PREVOTE, b"A%d" % last.height) == last.signature


def test_a_restart_in_the_middle_of_a_height_may_still_vote_there(path: Path) -> None:
    """Heights below the last record are decided; at its height the validator votes again
    (from the next round on: ``node.lockfile.resume_for``), and above it freely."""
    s = signer(path)
    s.sign(4, 2, SignStep.PREVOTE, b"V")
    s.close()
    s = signer(path, ledger_height=3)
    last = s.last()
    assert last is not None and (last.height, last.round) == (4, 2)
    assert not s.may_sign(3) and s.may_sign(4) and s.may_sign(5)
