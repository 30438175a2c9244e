"""Key files: one JSON document per key, readable only by its owner.

Format::

    {"suite": "ed25519", "name": "org1-admin", "private_key": "<hex>",
     "public_key": "<hex>", "address": "<hex>"}
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from xinlian.crypto import KeyPair, address_of, get_suite
from xinlian.sdk.errors import XinlianError
from xinlian.sdk.signer import read_key_file


class KeyFileError(Exception):
    """A key file that is missing, unreadable or inconsistent."""


def write_key(path: Path, keypair: KeyPair, name: str) -> None:
    """Write ``keypair`` to ``path`` with mode 0600 (refuses to overwrite)."""
    suite = get_suite(keypair.suite)
    doc = {
        "suite": keypair.suite,
        "name": name,
        "private_key": keypair.private_key.hex(),
        "public_key": keypair.public_key.hex(),
        "address": address_of(suite, keypair.public_key),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")


def read_key(path: Path) -> tuple[KeyPair, str]:
    """Load a key file; checks that the public key matches the private key.

    Raises:
        KeyFileError: with the SDK's message (which file, what is wrong, what to do).
    """
    try:
        return read_key_file(path)
    except XinlianError as exc:
        raise KeyFileError(str(exc)) from None
