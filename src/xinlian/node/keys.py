"""Key files for the node and the CLI, in the format :mod:`xinlian.protocol.keyfile`
defines (one JSON document per key, readable only by its owner)."""

from __future__ import annotations

from pathlib import Path

from xinlian.crypto import KeyPair
from xinlian.protocol import ProtocolError
from xinlian.protocol.keyfile import read_key_file, write_key_file


class KeyFileError(Exception):
    """A key file that is missing, unreadable or inconsistent."""


def write_key(path: Path, keypair: KeyPair, name: str) -> None:
    """Write ``keypair`` to ``path`` with mode 0600 (refuses to overwrite)."""
    write_key_file(path, keypair, name)


def read_key(path: Path) -> tuple[KeyPair, str]:
    """Load a key file; checks that the public key matches the private key.

    Raises:
        KeyFileError: which file, what is wrong, what to do.
    """
    try:
        return read_key_file(path)
    except ProtocolError as exc:
        raise KeyFileError(str(exc)) from None
