"""Minimal ctypes bindings to the system OpenSSL 3 ``libcrypto`` for SM2 signatures.

Only what the ``sm`` suite needs: loading SM2 keys from their raw encodings, SM2 sign and
verify with SM3 and an explicit distinguishing ID (``EVP_PKEY_CTX_set1_id``), and reading
a key's public point. ``cryptography`` cannot load SM2 keys, hence ctypes.

Every OpenSSL object created here is freed here: key handles are owned by :class:`PKey`
(freed when the last Python reference goes), and per-call contexts are freed in
``finally`` blocks. ctypes releases the GIL during each foreign call, so verification in a
thread pool runs in parallel. Failed calls leave errors on OpenSSL's per-thread error
queue; they are cleared so the queue never grows.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any, Final

__all__ = [
    "OpenSSLError",
    "PKey",
    "digest_sign",
    "digest_verify",
    "load_sm2_private",
    "load_sm2_public",
    "version",
]


class OpenSSLError(Exception):
    """libcrypto is missing, too old, or an OpenSSL call failed unexpectedly."""


_EVP_PKEY_SM2: Final = 1172
# SubjectPublicKeyInfo prefix: id-ecPublicKey with the SM2 curve (1.2.156.10197.1.301),
# followed by the 65-byte uncompressed point.
SPKI_PREFIX: Final = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")
# RFC 5915 ECPrivateKey without the optional public key (OpenSSL derives it), with the
# SM2 curve as parameters: prefix || 32-byte scalar || suffix.
_ECPRIV_PREFIX: Final = bytes.fromhex("30310201010420")
_ECPRIV_SUFFIX: Final = bytes.fromhex("a00a06082a811ccf5501822d")
_MAX_DER_SIG: Final = 80  # SEQUENCE{INTEGER r, INTEGER s} for 256-bit n is at most 72

_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_cp = ctypes.c_char_p


class _Lib:
    """The loaded library with argument and result types declared."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("crypto")
        candidates = [p for p in (path, "libcrypto.so.3") if p]
        lib: ctypes.CDLL | None = None
        errors: list[str] = []
        for candidate in candidates:
            try:
                lib = ctypes.CDLL(candidate)
                break
            except OSError as exc:
                errors.append(str(exc))
        if lib is None:
            raise OpenSSLError(f"cannot load the system libcrypto: {'; '.join(errors)}")
        try:
            lib.OpenSSL_version_num.restype = ctypes.c_ulong
            lib.OpenSSL_version_num.argtypes = []
            num = int(lib.OpenSSL_version_num())
        except AttributeError as exc:
            raise OpenSSLError(f"libcrypto at {candidates[0]} is not OpenSSL 3") from exc
        if num < 0x30000000:
            raise OpenSSLError(f"SM2 support needs OpenSSL >= 3.0, found {num:#x}")
        self.version_num = num
        self._declare(lib)
        self.lib = lib
        md = lib.EVP_MD_fetch(None, b"SM3", None)
        if not md:
            lib.ERR_clear_error()
            raise OpenSSLError("this OpenSSL has no SM3 digest")
        self.sm3: int = int(md)

    @staticmethod
    def _declare(lib: ctypes.CDLL) -> None:
        def fn(name: str, restype: Any, *argtypes: Any) -> None:
            f = getattr(lib, name)
            f.restype = restype
            f.argtypes = list(argtypes)

        fn("ERR_clear_error", None)
        fn("ERR_peek_error", ctypes.c_ulong)
        fn("EVP_MD_fetch", _vp, _vp, _cp, _cp)
        fn("EVP_PKEY_free", None, _vp)
        fn("EVP_PKEY_is_a", ctypes.c_int, _vp, _cp)
        fn("d2i_PrivateKey", _vp, ctypes.c_int, _vp, ctypes.POINTER(_cp), ctypes.c_long)
        fn("d2i_PUBKEY", _vp, _vp, ctypes.POINTER(_cp), ctypes.c_long)
        fn(
            "EVP_PKEY_get_octet_string_param",
            ctypes.c_int,
            _vp,
            _cp,
            _cp,
            _sz,
            ctypes.POINTER(_sz),
        )
        fn("EVP_PKEY_CTX_new", _vp, _vp, _vp)
        fn("EVP_PKEY_CTX_free", None, _vp)
        fn("EVP_PKEY_CTX_set1_id", ctypes.c_int, _vp, _cp, ctypes.c_int)
        fn("EVP_MD_CTX_new", _vp)
        fn("EVP_MD_CTX_free", None, _vp)
        fn("EVP_MD_CTX_set_pkey_ctx", None, _vp, _vp)
        fn("EVP_DigestSignInit", ctypes.c_int, _vp, _vp, _vp, _vp, _vp)
        fn("EVP_DigestVerifyInit", ctypes.c_int, _vp, _vp, _vp, _vp, _vp)
        fn("EVP_DigestSign", ctypes.c_int, _vp, _cp, ctypes.POINTER(_sz), _cp, _sz)
        fn("EVP_DigestVerify", ctypes.c_int, _vp, _cp, _sz, _cp, _sz)


_lib: _Lib | None = None
_lib_error: OpenSSLError | None = None
_lib_lock = threading.Lock()


def _get() -> _Lib:
    global _lib, _lib_error  # noqa: PLW0603 - lazy one-time load
    if _lib is not None:
        return _lib
    with _lib_lock:
        if _lib is None and _lib_error is None:
            try:
                _lib = _Lib()
            except OpenSSLError as exc:
                _lib_error = exc
        if _lib is None:
            assert _lib_error is not None
            raise _lib_error
        return _lib


def pending_errors() -> bool:
    """True if this thread's OpenSSL error queue is not empty (used by tests)."""
    return bool(_get().lib.ERR_peek_error() != 0)


def version() -> int:
    """``OpenSSL_version_num()`` of the loaded libcrypto; raises ``OpenSSLError`` if absent."""
    return _get().version_num


class PKey:
    """An owned ``EVP_PKEY *`` of type SM2, freed when this object is collected.

    Concurrent read-only use (signing, verifying) from several threads is safe; the key is
    never mutated after loading.
    """

    __slots__ = ("_free", "ptr")

    def __init__(self, ptr: int) -> None:
        self.ptr = ptr
        self._free = _get().lib.EVP_PKEY_free

    def __del__(self) -> None:
        ptr, self.ptr = self.ptr, 0
        if ptr:
            self._free(ptr)

    def public_point(self) -> bytes:
        """The 65-byte uncompressed public point ``04 || X || Y``."""
        lib = _get().lib
        buf = ctypes.create_string_buffer(65)
        out = _sz(0)
        if lib.EVP_PKEY_get_octet_string_param(self.ptr, b"pub", buf, 65, ctypes.byref(out)) != 1:
            lib.ERR_clear_error()
            raise OpenSSLError("cannot read the public point of an SM2 key")
        if out.value != 65 or buf.raw[0] != 4:
            raise OpenSSLError("unexpected public point encoding from OpenSSL")
        return buf.raw


def _checked_sm2(ptr: int | None) -> PKey | None:
    lib = _get().lib
    if not ptr:
        lib.ERR_clear_error()
        return None
    key = PKey(ptr)
    if lib.EVP_PKEY_is_a(ptr, b"SM2") != 1:
        lib.ERR_clear_error()
        return None
    return key


def load_sm2_private(scalar: bytes) -> PKey | None:
    """Load a 32-byte big-endian SM2 private scalar; None if OpenSSL rejects it.

    The caller checks the range ``1 <= d <= n - 2`` first; OpenSSL derives the public point.
    """
    if len(scalar) != 32:
        return None
    der = _ECPRIV_PREFIX + scalar + _ECPRIV_SUFFIX
    p = _cp(der)
    return _checked_sm2(_get().lib.d2i_PrivateKey(_EVP_PKEY_SM2, None, ctypes.byref(p), len(der)))


def load_sm2_public(point: bytes) -> PKey | None:
    """Load a 65-byte uncompressed SM2 point; None if it is malformed or not on the curve."""
    if len(point) != 65 or point[0] != 4:
        return None
    der = SPKI_PREFIX + point
    p = _cp(der)
    return _checked_sm2(_get().lib.d2i_PUBKEY(None, ctypes.byref(p), len(der)))


def _init(mctx: int, pctx: int, key: PKey, ident: bytes, sign: bool) -> bool:
    g = _get()
    lib = g.lib
    if lib.EVP_PKEY_CTX_set1_id(pctx, ident, len(ident)) <= 0:
        return False
    lib.EVP_MD_CTX_set_pkey_ctx(mctx, pctx)
    init = lib.EVP_DigestSignInit if sign else lib.EVP_DigestVerifyInit
    return bool(init(mctx, None, g.sm3, None, key.ptr) == 1)


def digest_sign(key: PKey, message: bytes, ident: bytes) -> bytes:
    """SM2-sign ``message`` (Z with ``ident``, SM3); returns the DER ``SEQUENCE{r, s}``."""
    lib = _get().lib
    mctx = lib.EVP_MD_CTX_new()
    pctx = lib.EVP_PKEY_CTX_new(key.ptr, None)
    try:
        if not mctx or not pctx or not _init(mctx, pctx, key, ident, sign=True):
            raise OpenSSLError("cannot initialise SM2 signing")
        sig = ctypes.create_string_buffer(_MAX_DER_SIG)
        n = _sz(_MAX_DER_SIG)
        if lib.EVP_DigestSign(mctx, sig, ctypes.byref(n), message, len(message)) != 1:
            raise OpenSSLError("SM2 signing failed")
        return sig.raw[: n.value]
    finally:
        # The MD context does not own a context set with EVP_MD_CTX_set_pkey_ctx.
        lib.EVP_MD_CTX_free(mctx)
        lib.EVP_PKEY_CTX_free(pctx)
        lib.ERR_clear_error()


def digest_verify(key: PKey, message: bytes, der_signature: bytes, ident: bytes) -> bool:
    """Verify a DER SM2 signature over ``message`` with ``ident``; never raises on bad input."""
    lib = _get().lib
    mctx = lib.EVP_MD_CTX_new()
    pctx = lib.EVP_PKEY_CTX_new(key.ptr, None)
    try:
        if not mctx or not pctx or not _init(mctx, pctx, key, ident, sign=False):
            raise OpenSSLError("cannot initialise SM2 verification")
        rc = lib.EVP_DigestVerify(mctx, der_signature, len(der_signature), message, len(message))
        return bool(rc == 1)
    finally:
        lib.EVP_MD_CTX_free(mctx)
        lib.EVP_PKEY_CTX_free(pctx)
        lib.ERR_clear_error()
