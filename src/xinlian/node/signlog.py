"""The signing record: an append-only, checksummed file outside the ledger database.

The double-sign guard must never go backwards with the ledger (a damaged write-ahead log
rolls the database back silently on some settings, and an operator may restore ``data/``
from a backup). So what the validator last signed lives in its own small file in the
node home, written and fsynced before any signature leaves the node.

Layout (all integers big-endian)::

    file    = MAGIC record*
    record  = length:u32  ~length:u32  body[length]  sha256(length ‖ ~length ‖ body)[:8]
    body    = the canonical encoding of a ``SignedRecord``

The length is stored with its complement so that a flipped bit in it is recognised as
damage, never mistaken for a short (torn) tail. Positions strictly increase along the
file. When the file outgrows :data:`COMPACT_BYTES` it is rewritten with its last record
only (a new file fsynced, renamed over the old one, and the directory fsynced).

Reading classifies the file as

* ``missing``: no file;
* ``ok``: every record intact (the last one is the record to use, or none);
* ``torn``: the last record is cut short at the end of the file, which is what a crash in
  the middle of an append leaves (the record was never fsynced, so its signature never
  left the node); the record before it is used and the tail is cut off;
* ``damaged``: anything else (bad magic, a checksum or length that does not match,
  positions out of order, a record that does not decode). Nothing in it is trusted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from msgspec import Struct

from xinlian.codec import CodecError, decode, encode
from xinlian.storage import StorageError
from xinlian.types.ints import U64

log = logging.getLogger("xinlian.signer")

MAGIC = b"XLSIGN\x00\x01"
#: A record holds two hashes, a signature and three integers: far below this.
MAX_RECORD_BYTES = 4096
#: Rewrite the file with its last record once it is larger than this.
COMPACT_BYTES = 64 * 1024
_HEADER = struct.Struct(">II")
_CHECK_BYTES = 8


class SignedRecord(Struct, array_like=True, frozen=True):
    """What was signed at one position: (height, round, step), the payload's hash and the
    signature."""

    height: U64
    round: U64
    step: U64
    payload_hash: bytes
    signature: bytes

    @property
    def position(self) -> tuple[int, int, int]:
        """(height, round, step), ordered as the protocol proceeds."""
        return (self.height, self.round, self.step)


class SignLogError(StorageError):
    """The signing record cannot be written (the disk refused): nothing may be signed."""


class FileOps(Protocol):
    """The file-system calls the signing record makes (injected in tests)."""

    def read(self, path: Path) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        ...

    def open_append(self, path: Path) -> int:
        """Open an existing file for appending; returns a descriptor."""
        ...

    def open_new(self, path: Path) -> int:
        """Create (or empty) a file for writing; returns a descriptor."""
        ...

    def write(self, fd: int, data: bytes) -> None:
        """Write all of ``data``."""
        ...

    def fsync(self, fd: int) -> None:
        """Make the file's data durable."""
        ...

    def truncate(self, fd: int, size: int) -> None:
        """Cut the file to ``size`` bytes."""
        ...

    def close(self, fd: int) -> None:
        """Close the descriptor."""
        ...

    def replace(self, src: Path, dst: Path) -> None:
        """Rename ``src`` over ``dst`` atomically."""
        ...

    def fsync_dir(self, path: Path) -> None:
        """Make the directory's entries (a new or renamed file) durable."""
        ...


class OsFileOps:
    """:class:`FileOps` on the real file system."""

    def read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def open_append(self, path: Path) -> int:
        return os.open(path, os.O_WRONLY | os.O_APPEND)

    def open_new(self, path: Path) -> int:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)

    def write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def truncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def close(self, fd: int) -> None:
        os.close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def frame(record: SignedRecord) -> bytes:
    """One record as it is stored in the file."""
    body = encode(record)
    head = _HEADER.pack(len(body), len(body) ^ 0xFFFFFFFF)
    return head + body + hashlib.sha256(head + body).digest()[:_CHECK_BYTES]


@dataclass(frozen=True, slots=True)
class Loaded:
    """What reading the signing file found."""

    status: str  # "missing", "ok", "torn" or "damaged"
    record: SignedRecord | None
    detail: str = ""
    #: Bytes of the file that hold intact records (the torn tail starts here).
    good_bytes: int = 0


def parse(data: bytes) -> Loaded:
    """Classify the bytes of a signing file (see the module text)."""
    if len(data) < len(MAGIC):
        if MAGIC.startswith(data):
            return Loaded("torn", None, "the file header is cut short", 0)
        return Loaded("damaged", None, "not a signing file (bad header)")
    if data[: len(MAGIC)] != MAGIC:
        return Loaded("damaged", None, "not a signing file (bad header)")
    offset = len(MAGIC)
    last: SignedRecord | None = None
    count = 0
    while offset < len(data):
        rest = len(data) - offset
        if rest < _HEADER.size:
            return Loaded("torn", last, f"record {count + 1} is cut short", offset)
        length, complement = _HEADER.unpack_from(data, offset)
        if length ^ 0xFFFFFFFF != complement or length > MAX_RECORD_BYTES:
            return Loaded("damaged", last, f"record {count + 1} has a damaged length")
        end = offset + _HEADER.size + length + _CHECK_BYTES
        if end > len(data):
            return Loaded("torn", last, f"record {count + 1} is cut short", offset)
        body_end = end - _CHECK_BYTES
        check = hashlib.sha256(data[offset:body_end]).digest()[:_CHECK_BYTES]
        if check != data[body_end:end]:
            return Loaded("damaged", last, f"record {count + 1} fails its checksum")
        try:
            record = decode(data[offset + _HEADER.size : body_end], SignedRecord)
        except CodecError:
            return Loaded("damaged", last, f"record {count + 1} does not decode")
        if last is not None and record.position <= last.position:
            return Loaded("damaged", last, f"record {count + 1} does not follow the one before")
        last = record
        count += 1
        offset = end
    return Loaded("ok", last, f"{count} record(s)", offset)


def _aside(path: Path) -> Path:
    """A new name beside ``path`` for a damaged file kept for investigation."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        aside = path.with_name(f"{path.name}.damaged-{stamp}" + (f".{n}" if n else ""))
        if not aside.exists():
            return aside
    raise SignLogError(f"too many damaged copies of {path} beside it")


class SignLog:
    """The signing record file of one validator.

    :meth:`load` must be called first; it repairs a torn tail and, when the file is
    missing or damaged, starts a new one (a damaged file is kept beside it, renamed).
    :meth:`append` returns only once the record is durable.
    """

    def __init__(self, path: Path, fs: FileOps | None = None) -> None:
        self.path = Path(path)
        self._fs: FileOps = fs if fs is not None else OsFileOps()
        self._fd: int | None = None
        self._size = 0
        self._broken: str | None = None

    def load(self) -> Loaded:
        """Read the file, repair a torn tail, and open it for appending.

        Raises:
            SignLogError: the file or its directory cannot be read or written.
        """
        try:
            return self._load()
        except OSError as exc:
            raise SignLogError(f"cannot use the signing file {self.path}: {exc}") from exc

    def _load(self) -> Loaded:
        data = self._fs.read(self.path)
        if data is None:
            found = Loaded("missing", None, "no signing file")
            self._create(None)
            return found
        found = parse(data)
        if found.status == "damaged":
            aside = _aside(self.path)
            self._fs.replace(self.path, aside)
            self._create(found.record)  # the intact records before the damage still bind
            return Loaded("damaged", found.record, f"{found.detail}; kept as {aside}")
        if found.status == "torn" and found.good_bytes < len(MAGIC):
            self._create(None)
            return found
        self._fd = self._fs.open_append(self.path)
        self._size = len(data)
        if found.status == "torn":
            self._fs.truncate(self._fd, found.good_bytes)
            self._fs.fsync(self._fd)
            self._size = found.good_bytes
        return found

    def _create(self, record: SignedRecord | None) -> None:
        """Write a new file holding ``record`` (or no record) and make it durable:
        temporary file, fsync, rename, fsync of the directory."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = MAGIC + (frame(record) if record is not None else b"")
        fd = self._fs.open_new(tmp)
        try:
            self._fs.write(fd, data)
            self._fs.fsync(fd)
        finally:
            self._fs.close(fd)
        self._fs.replace(tmp, self.path)
        self._fs.fsync_dir(self.path.parent)
        if self._fd is not None:
            self._fs.close(self._fd)
        self._fd = self._fs.open_append(self.path)
        self._size = len(data)

    def append(self, record: SignedRecord) -> None:
        """Add ``record`` durably (written and fsynced before returning).

        Raises:
            SignLogError: the write failed; the log refuses every later append (the
                file's tail is unknown until the node restarts and reads it).
        """
        if self._broken is not None:
            raise SignLogError(self._broken)
        if self._fd is None:
            raise SignLogError("the signing file is not open")
        try:
            if self._size > COMPACT_BYTES:
                self._create(record)
                return
            data = frame(record)
            self._fs.write(self._fd, data)
            self._fs.fsync(self._fd)
            self._size += len(data)
        except OSError as exc:
            self._broken = f"cannot write the signing file {self.path}: {exc}"
            raise SignLogError(self._broken) from exc

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._fs.close(fd)
