"""The guarded signer never equivocates, across restarts and crashes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from xinlian.codec import encode
from xinlian.crypto import get_suite
from xinlian.node.signer import DoubleSignError, GuardedSigner, RegressionError, Step
from xinlian.storage import MemoryStore
from xinlian.storage.rocks import RocksStore
from xinlian.types import Vote, VoteType

SUITE = get_suite("ed25519")
KEY = SUITE.keypair_from_private(bytes(range(32)))


def signer(store: object) -> GuardedSigner:
    return GuardedSigner(store, lambda m: SUITE.sign(KEY.private_key, m), SUITE.hash)  # type: ignore[arg-type]


def vote(height: int, round_: int, block: bytes, kind: VoteType = VoteType.PREVOTE) -> bytes:
    return encode(Vote("c", int(kind), height, round_, block))


def test_signs_and_verifies() -> None:
    s = signer(MemoryStore())
    payload = vote(1, 0, b"\x01" * 32)
    sig = s.sign(1, 0, Step.PREVOTE, payload)
    assert SUITE.verify(KEY.public_key, payload, sig)
    last = s.last()
    assert last is not None and (last.height, last.round, last.step) == (1, 0, 1)


def test_same_payload_again_returns_the_same_signature() -> None:
    s = signer(MemoryStore())
    payload = vote(5, 2, b"\x01" * 32)
    assert s.sign(5, 2, Step.PREVOTE, payload) == s.sign(5, 2, Step.PREVOTE, payload)


def test_conflicting_payload_is_refused() -> None:
    s = signer(MemoryStore())
    s.sign(5, 2, Step.PREVOTE, vote(5, 2, b"\x01" * 32))
    with pytest.raises(DoubleSignError, match="different prevote at height 5, round 2"):
        s.sign(5, 2, Step.PREVOTE, vote(5, 2, b"\x02" * 32))


@pytest.mark.parametrize(
    ("height", "round_", "step"),
    [(4, 9, Step.PRECOMMIT), (5, 1, Step.PRECOMMIT), (5, 2, Step.PROPOSAL)],
)
def test_earlier_positions_are_refused(height: int, round_: int, step: Step) -> None:
    s = signer(MemoryStore())
    s.sign(5, 2, Step.PREVOTE, vote(5, 2, b"\x01" * 32))
    with pytest.raises(RegressionError, match="already signed at height 5, round 2, prevote"):
        s.sign(height, round_, step, b"anything")


def test_later_positions_are_allowed() -> None:
    s = signer(MemoryStore())
    s.sign(5, 2, Step.PREVOTE, vote(5, 2, b"\x01" * 32))
    s.sign(5, 2, Step.PRECOMMIT, vote(5, 2, b"\x01" * 32, VoteType.PRECOMMIT))
    s.sign(5, 3, Step.PROPOSAL, b"proposal")
    s.sign(6, 0, Step.PREVOTE, vote(6, 0, b""))


def test_survives_restart(tmp_path: Path) -> None:
    store = RocksStore(tmp_path / "db")
    signer(store).sign(7, 0, Step.PRECOMMIT, vote(7, 0, b"\x01" * 32, VoteType.PRECOMMIT))
    store.close()
    store = RocksStore(tmp_path / "db")
    try:
        with pytest.raises(DoubleSignError):
            signer(store).sign(7, 0, Step.PRECOMMIT, vote(7, 0, b"\x02" * 32, VoteType.PRECOMMIT))
    finally:
        store.close()


def test_killed_signer_never_double_signs_after_restart(tmp_path: Path) -> None:
    """A child signs successive positions and prints each signature as it returns; it is
    killed mid-run. Whatever it printed, a restarted signer refuses conflicting payloads
    at every printed position."""
    script = textwrap.dedent(f"""
        import sys
        from xinlian.crypto import get_suite
        from xinlian.node.signer import GuardedSigner, Step
        from xinlian.storage.rocks import RocksStore
        suite = get_suite("ed25519")
        key = suite.keypair_from_private(bytes(range(32)))
        s = GuardedSigner(RocksStore({str(tmp_path / "db")!r}),
                          lambda m: suite.sign(key.private_key, m), suite.hash)
        for h in range(1, 100000):
            s.sign(h, 0, Step.PREVOTE, b"A%d" % h)
            print(h, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    printed = [int(proc.stdout.readline()) for _ in range(20)]
    proc.kill()
    proc.wait(timeout=30)
    store = RocksStore(tmp_path / "db")
    try:
        s = signer(store)
        last = s.last()
        assert last is not None and last.height >= printed[-1]
        with pytest.raises((DoubleSignError, RegressionError)):
            s.sign(printed[-1], 0, Step.PREVOTE, b"B")
        assert s.sign(last.height, 0, Step.PREVOTE, b"A%d" % last.height) == last.signature
    finally:
        store.close()
