"""The ``sm`` suite: SM2 signatures, SM3 hashing and SM4-GCM (Chinese national standards).

- **SM3** (GB/T 32905) through ``hashlib`` (the system OpenSSL).
- **SM2** signatures (GB/T 32918.2) through the system OpenSSL 3 ``libcrypto`` via ctypes,
  with the standard default distinguishing ID ``1234567812345678`` in the Z value, so the
  signatures verify with ``openssl pkeyutl -verify -digest sm3 -pkeyopt
  distid:1234567812345678``.
- **SM4-GCM** (GB/T 32907, RFC 8998) through ``cryptography``.

Encodings inside Xinlian: a private key is the 32-byte big-endian scalar ``d`` with
``1 <= d <= n - 2``; a public key is the 65-byte uncompressed point ``04 || X || Y``; a
signature is the fixed 64 bytes ``r || s`` (each 32-byte big-endian). OpenSSL speaks DER,
see :func:`signature_to_der` and :func:`signature_from_der`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
from collections import OrderedDict
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from xinlian.crypto import _openssl
from xinlian.crypto.suite import CryptoError, KeyPair

__all__ = [
    "DEFAULT_ID",
    "SM",
    "N",
    "P",
    "SMSuite",
    "public_key_to_der",
    "public_key_to_pem",
    "signature_from_der",
    "signature_to_der",
    "sm3",
    "sm4_ecb_encrypt_block",
]

#: The default SM2 distinguishing ID of GB/T 35276 / GM/T 0009.
DEFAULT_ID: Final = b"1234567812345678"

# The recommended SM2 curve (GB/T 32918.5): y^2 = x^3 + a x + b over F_p, order N, h = 1.
P: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B: Final = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123

_NONCE: Final = 12
_TAG: Final = 16
_PUBLIC_CACHE: Final = 4096
_PRIVATE_CACHE: Final = 64

_SM3: Final = hashlib.new("sm3")


def sm3(data: bytes) -> bytes:
    """The 32-byte SM3 digest of ``data``."""
    h = _SM3.copy()
    h.update(data)
    return h.digest()


def sm4_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with SM4 (no mode); for known-answer tests only."""
    if len(key) != 16 or len(block) != 16:
        raise CryptoError("SM4 takes a 16-byte key and a 16-byte block")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def _der_int(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")
    return b"\x02" + bytes([len(body)]) + body


def signature_to_der(signature: bytes) -> bytes:
    """Convert a 64-byte ``r || s`` signature to DER ``SEQUENCE{INTEGER r, INTEGER s}``."""
    if len(signature) != 64:
        raise CryptoError("an SM2 signature is 64 bytes r || s")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    body = _der_int(r) + _der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def _read_der_int(der: bytes, pos: int) -> tuple[int, int]:
    if pos + 2 > len(der) or der[pos] != 0x02:
        raise CryptoError("DER signature: expected INTEGER")
    length = der[pos + 1]
    start, end = pos + 2, pos + 2 + length
    if length == 0 or length > 33 or end > len(der):
        raise CryptoError("DER signature: bad INTEGER length")
    body = der[start:end]
    if body[0] & 0x80:
        raise CryptoError("DER signature: negative INTEGER")
    if length > 1 and body[0] == 0 and not body[1] & 0x80:
        raise CryptoError("DER signature: non-minimal INTEGER")
    return int.from_bytes(body, "big"), end


def signature_from_der(der: bytes) -> bytes:
    """Convert a strict DER ``SEQUENCE{r, s}`` SM2 signature to the 64-byte ``r || s``.

    Raises ``CryptoError`` for malformed DER or ``r``, ``s`` outside ``[1, n - 1]``.
    """
    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise CryptoError("DER signature: expected one short-form SEQUENCE")
    r, pos = _read_der_int(der, 2)
    s, pos = _read_der_int(der, pos)
    if pos != len(der):
        raise CryptoError("DER signature: trailing bytes")
    if not (0 < r < N and 0 < s < N):
        raise CryptoError("DER signature: r or s out of range")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _on_curve(public_key: bytes) -> bool:
    if len(public_key) != 65 or public_key[0] != 4:
        return False
    x = int.from_bytes(public_key[1:33], "big")
    y = int.from_bytes(public_key[33:], "big")
    if x >= P or y >= P:
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def public_key_to_der(public_key: bytes) -> bytes:
    """DER SubjectPublicKeyInfo (id-ecPublicKey, curve SM2 1.2.156.10197.1.301)."""
    if not _on_curve(public_key):
        raise CryptoError("not an SM2 public key (65-byte uncompressed point on the curve)")
    return _openssl.SPKI_PREFIX + public_key


def public_key_to_pem(public_key: bytes) -> str:
    """PEM ``PUBLIC KEY`` of an SM2 public key, as ``openssl pkey -pubin`` reads it."""
    b64 = base64.b64encode(public_key_to_der(public_key)).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


class _KeyCache:
    """A bounded, thread-safe LRU of loaded OpenSSL keys.

    Entries are :class:`_openssl.PKey` objects; an evicted key is only freed once no
    thread still holds it, because the C object lives as long as its Python wrapper.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[bytes, _openssl.PKey] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> _openssl.PKey | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: bytes, value: _openssl.PKey) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _check_private(private_key: bytes) -> None:
    if not isinstance(private_key, bytes) or len(private_key) != 32:
        raise CryptoError("an SM2 private key is a 32-byte big-endian scalar")
    d = int.from_bytes(private_key, "big")
    if not 1 <= d <= N - 2:
        raise CryptoError("an SM2 private key must lie in [1, n - 2]")


class SMSuite:
    """SM2 (default ID) signatures, SM3 hashing and SM4-GCM encryption."""

    name = "sm"
    hash_name = "sm3"
    public_key_size = 65
    signature_size = 64

    def __init__(
        self, public_cache: int = _PUBLIC_CACHE, private_cache: int = _PRIVATE_CACHE
    ) -> None:
        """Create a suite whose loaded-key caches hold at most the given number of keys."""
        self._public = _KeyCache(max(1, public_cache))
        self._private = _KeyCache(max(1, private_cache))

    # -- hashing ---------------------------------------------------------------------

    def hash(self, data: bytes) -> bytes:
        """SM3 of ``data``."""
        h = _SM3.copy()
        h.update(data)
        return h.digest()

    # -- keys ------------------------------------------------------------------------

    def generate(self) -> KeyPair:
        """A new key pair with ``d`` drawn uniformly from ``[1, n - 2]`` by the OS CSPRNG."""
        d = secrets.randbelow(N - 2) + 1
        return self.keypair_from_private(d.to_bytes(32, "big"))

    def keypair_from_private(self, private_key: bytes) -> KeyPair:
        """Derive the 65-byte public point from a 32-byte scalar; ``CryptoError`` if invalid."""
        key = self._private_key(private_key)
        try:
            public = key.public_point()
        except _openssl.OpenSSLError as exc:
            raise CryptoError(str(exc)) from None
        return KeyPair(self.name, bytes(private_key), public)

    def _private_key(self, private_key: bytes) -> _openssl.PKey:
        _check_private(private_key)
        key = self._private.get(private_key)
        if key is None:
            try:
                key = _openssl.load_sm2_private(private_key)
            except _openssl.OpenSSLError as exc:
                raise CryptoError(str(exc)) from None
            if key is None:
                raise CryptoError("OpenSSL rejected the SM2 private key")
            self._private.put(bytes(private_key), key)
        return key

    def _public_key(self, public_key: bytes) -> _openssl.PKey | None:
        key = self._public.get(public_key)
        if key is None:
            if not _on_curve(public_key):
                return None
            key = _openssl.load_sm2_public(public_key)
            if key is None:
                return None
            self._public.put(bytes(public_key), key)
        return key

    # -- signatures ------------------------------------------------------------------

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """SM2 signature (SM3, ID ``1234567812345678``) as 64 bytes ``r || s``."""
        return self.sign_with_id(private_key, message, DEFAULT_ID)

    def sign_with_id(self, private_key: bytes, message: bytes, ident: bytes) -> bytes:
        """SM2 signature with an explicit distinguishing ID (for interop and tests)."""
        key = self._private_key(private_key)
        try:
            der = _openssl.digest_sign(key, bytes(message), bytes(ident))
        except _openssl.OpenSSLError as exc:
            raise CryptoError(str(exc)) from None
        return signature_from_der(der)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """True only for a valid SM2 signature under the default ID; never raises on bad input."""
        return self.verify_with_id(public_key, message, signature, DEFAULT_ID)

    def verify_with_id(
        self, public_key: bytes, message: bytes, signature: bytes, ident: bytes
    ) -> bool:
        """Like :meth:`verify` with an explicit distinguishing ID.

        Returns False for a key that is not a 65-byte uncompressed point on the curve, a
        signature that is not 64 bytes, ``r`` or ``s`` outside ``[1, n - 1]``, or any
        signature that does not verify. Raises ``CryptoError`` only if OpenSSL itself is
        unusable.
        """
        try:
            if len(public_key) != 65 or len(signature) != 64 or len(ident) >= 8192:
                return False
            public_key, message, signature = bytes(public_key), bytes(message), bytes(signature)
            ident = bytes(ident)
        except TypeError:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < N and 0 < s < N):
            return False
        try:
            key = self._public_key(public_key)
            if key is None:
                return False
            return _openssl.digest_verify(key, message, signature_to_der(signature), ident)
        except _openssl.OpenSSLError as exc:
            raise CryptoError(str(exc)) from None

    # -- symmetric encryption --------------------------------------------------------

    def encrypt(self, key: bytes, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        """SM4-GCM with a random 96-bit nonce: nonce || ciphertext || 16-byte tag."""
        if not isinstance(key, bytes) or len(key) != 16:
            raise CryptoError("an SM4 key is 16 bytes")
        nonce = os.urandom(_NONCE)
        try:
            enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
            enc.authenticate_additional_data(associated_data)
            body = enc.update(plaintext) + enc.finalize()
        except (TypeError, ValueError) as exc:
            raise CryptoError(f"SM4-GCM encryption failed: {exc}") from None
        return nonce + body + enc.tag

    def decrypt(self, key: bytes, ciphertext: bytes, associated_data: bytes = b"") -> bytes:
        """Reverse ``encrypt``; raises ``CryptoError`` if the data, key or tag is wrong."""
        if not isinstance(key, bytes) or len(key) != 16:
            raise CryptoError("an SM4 key is 16 bytes")
        if len(ciphertext) < _NONCE + _TAG:
            raise CryptoError("ciphertext too short")
        nonce, body, tag = ciphertext[:_NONCE], ciphertext[_NONCE:-_TAG], ciphertext[-_TAG:]
        try:
            dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
            dec.authenticate_additional_data(associated_data)
            return dec.update(body) + dec.finalize()
        except InvalidTag:
            raise CryptoError("decryption failed: wrong key or tampered data") from None
        except (TypeError, ValueError) as exc:
            raise CryptoError(f"SM4-GCM decryption failed: {exc}") from None


SM = SMSuite()
