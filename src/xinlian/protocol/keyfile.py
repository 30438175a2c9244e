"""The account key-file format: one JSON document per key, readable only by its owner.

Format::

    {"suite": "ed25519", "name": "org1-admin", "private_key": "<hex>",
     "public_key": "<hex>", "address": "<hex>"}

Nodes, the CLI and the SDK read and write key files with these functions; every failure
is a :class:`ProtocolError` naming the file, what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from xinlian.crypto import CryptoError, KeyPair, address_of, get_suite
from xinlian.protocol.errors import ProtocolError

__all__ = ["read_key_file", "write_key_file"]

#: What to do about a file that is not an account key file.
_KEY_FILE_HINT = (
    "account key files are JSON written by `xinlian keys new` or `xinlian init` "
    "(suite, name, private_key, public_key)"
)


def write_key_file(path: Path, keypair: KeyPair, name: str) -> None:
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


def read_key_file(path: str | Path) -> tuple[KeyPair, str]:
    """Load a key file written by ``xinlian keys new`` or ``xinlian init``.

    Returns the key pair and the key's name. The file is JSON:
    ``{"suite", "name", "private_key" (hex), "public_key" (hex), "address"}``.

    Raises:
        ProtocolError: the file is missing or unreadable, is not a key file, or its keys
            do not match; the message names the file, what is wrong and what to do.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ProtocolError(
            f"no key file at {p}; check the path, or create a key with "
            f"`xinlian keys new NAME --out {p}`"
        ) from None
    except IsADirectoryError:
        raise ProtocolError(f"{p} is a directory, not a key file") from None
    except OSError as exc:
        raise ProtocolError(f"cannot read key file {p}: {exc.strerror or exc}") from None
    if data.lstrip().startswith(b"-----BEGIN"):
        raise ProtocolError(
            f"{p} is a PEM key (such as a TSA certificate key), not an account key; "
            + _KEY_FILE_HINT
        )
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError(f"{p} is not a key file (not JSON); {_KEY_FILE_HINT}") from None
    if not isinstance(doc, dict):
        raise ProtocolError(f"{p} is not a key file (not a JSON object); {_KEY_FILE_HINT}")
    missing = [f for f in ("suite", "private_key") if not isinstance(doc.get(f), str)]
    if missing:
        fields = " and ".join(f'"{f}"' for f in missing)
        raise ProtocolError(f"{p} is not a key file: it has no {fields} text; {_KEY_FILE_HINT}")
    try:
        suite = get_suite(doc["suite"])
    except CryptoError:
        raise ProtocolError(
            f"{p}: unknown crypto suite {doc['suite']!r} (expected ed25519 or sm)"
        ) from None
    try:
        private = bytes.fromhex(doc["private_key"])
    except ValueError:
        raise ProtocolError(f"{p}: private_key is not hex; the key file is damaged") from None
    try:
        keypair = suite.keypair_from_private(private)
    except (CryptoError, ValueError) as exc:
        raise ProtocolError(
            f"{p}: private_key is not a valid {suite.name} key ({exc}); the key file is damaged"
        ) from None
    public = doc.get("public_key")
    if public:
        try:
            matches = bytes.fromhex(str(public)) == keypair.public_key
        except ValueError:
            matches = False
        if not matches:
            raise ProtocolError(
                f"{p}: public_key does not match private_key; the key file is damaged"
            )
    return keypair, str(doc.get("name", p.stem))
