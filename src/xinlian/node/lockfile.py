"""The consensus lock file: what a validator has locked on, kept across restarts.

Tendermint's safety rests on locks: a validator that precommitted block ``v`` at round
``r`` is locked on ``v`` and prevotes nothing else at later rounds of that height until a
newer proof of lock frees it. A restarted validator that forgot its lock could help a
different block to a decision after another node already committed ``v``. And one that
restarts in the middle of a height cannot sign again in the rounds it already signed in
(its signing record refuses), so it must take the height up at the next round.

So before a precommit that sets a lock leaves the node, the driver writes the lock and
the locked block here (a new file, fsynced, renamed over the old one, directory fsynced),
and on start-up :func:`resume_for` turns this file and the signing record into the
:class:`~xinlian.consensus.Resume` that starts the machine.

Layout::

    file = MAGIC  sha256(body)[:8]  body
    body = the canonical encoding of a ``LockRecord``

A file that is missing or fails its check is not trusted: if the validator signed at the
height being resumed, it then follows that height without voting (it cannot prove it was
not locked), and votes again from the next height on.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from msgspec import Struct

from xinlian.codec import CodecError, decode, encode
from xinlian.consensus import Resume, Tendermint
from xinlian.storage import StorageError
from xinlian.types.ints import U64

log = logging.getLogger("xinlian.consensus")

MAGIC = b"XLLOCK\x00\x01"
_CHECK_BYTES = 8


class LockRecord(Struct, array_like=True, frozen=True):
    """A lock at one height: the locked block's hash, the round of the lock and the block."""

    height: U64
    locked_round: U64
    locked_value: bytes
    block: bytes


class LockFileError(StorageError):
    """The lock could not be written (the disk refused): the precommit must not leave."""


def _frame(record: LockRecord) -> bytes:
    body = encode(record)
    return MAGIC + hashlib.sha256(body).digest()[:_CHECK_BYTES] + body


def _parse(data: bytes) -> LockRecord | None:
    """The record in ``data``, or None when the bytes are not an intact lock file."""
    head = len(MAGIC) + _CHECK_BYTES
    if len(data) < head or data[: len(MAGIC)] != MAGIC:
        return None
    body = data[head:]
    if hashlib.sha256(body).digest()[:_CHECK_BYTES] != data[len(MAGIC) : head]:
        return None
    try:
        return decode(body, LockRecord)
    except CodecError:
        return None


@dataclass(frozen=True, slots=True)
class Loaded:
    """What reading the lock file found: ``status`` is "missing", "ok" or "damaged"."""

    status: str
    record: LockRecord | None = None


class LockFile:
    """The lock file at ``path`` (written atomically, read once at start-up)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Loaded:
        """Read the file: missing, intact (with its record) or damaged."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Loaded("missing")
        except OSError as exc:
            log.error("cannot read the consensus lock file %s: %s", self.path, exc)
            return Loaded("damaged")
        record = _parse(data)
        return Loaded("damaged") if record is None else Loaded("ok", record)

    def save(self, record: LockRecord) -> None:
        """Replace the file with ``record``, durably, before the caller goes on.

        Raises:
            LockFileError: the file could not be written and synced.
        """
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(_frame(record))
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise LockFileError(f"cannot write the consensus lock file {self.path}: {exc}") from exc


def new_lock(before: Tendermint, after: Tendermint) -> LockRecord | None:
    """The lock to write when a step took the machine from ``before`` to ``after``: its
    height, round, value and block when the lock changed, else None."""
    if after.locked_value is None or after.locked_round < 0:
        return None
    if (after.height, after.locked_round, after.locked_value) == (
        before.height,
        before.locked_round,
        before.locked_value,
    ):
        return None
    block = b""
    if after.valid_value == after.locked_value and after.valid_block is not None:
        block = after.valid_block
    else:
        proposal = after.proposal_for(after.locked_round, after.locked_value)
        if proposal is not None:
            block = proposal.block
    return LockRecord(after.height, after.locked_round, after.locked_value, block)


@dataclass(frozen=True, slots=True)
class Resumption:
    """How to start a height after a restart.

    Attributes:
        resume: what to hand the machine (None: start the height afresh at round 0).
        vote: False when this validator must follow the height without voting (it signed
            at this height but its lock file is missing or damaged).
    """

    resume: Resume | None
    vote: bool = True


def resume_for(height: int, last_signed: tuple[int, int, int] | None, lock: Loaded) -> Resumption:
    """Where to take up ``height``, given the last signed (height, round, step) and the lock.

    A validator that signed nothing at ``height`` starts it afresh. One that did resumes
    at the round after the last one it signed in, locked as the lock file says; if that
    file cannot be trusted it does not vote at this height.
    """
    if last_signed is None or last_signed[0] != height:
        return Resumption(None)
    first_round = last_signed[1] + 1
    record = lock.record
    if lock.status == "damaged":
        log.error(
            "the consensus lock file is damaged and this validator signed at height %d: "
            "following that height without voting (it cannot show it was not locked)",
            height,
        )
        return Resumption(Resume(first_round), vote=False)
    if record is None or record.height != height:
        return Resumption(Resume(first_round))
    log.info(
        "resuming height %d at round %d, locked on %s since round %d",
        height,
        first_round,
        record.locked_value.hex()[:12],
        record.locked_round,
    )
    return Resumption(
        Resume(first_round, record.locked_value, record.locked_round, record.block or None)
    )
