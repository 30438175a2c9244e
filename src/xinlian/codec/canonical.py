"""The canonical msgpack encoding and its strict decoder."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeAlias, TypeVar, cast

import msgspec

T = TypeVar("T")

#: A value allowed inside transaction arguments: no floats, no unordered sets.
ArgValue: TypeAlias = "int | str | bytes | bool | list[ArgValue] | dict[str, ArgValue] | None"

MAX_INT = 2**64 - 1
MIN_INT = -(2**63)
MAX_DEPTH = 32

# "sorted", not "deterministic": map-shaped records (app arguments) must encode with their
# field names sorted, exactly like a dict built by ``encode_args``; array-like records are
# unaffected.
_encoder = msgspec.msgpack.Encoder(order="sorted")


class CodecError(ValueError):
    """Bytes that are not the canonical encoding of the expected type."""


def encode(value: object) -> bytes:
    """Return the canonical bytes of a record, list, map or scalar."""
    return _encoder.encode(value)


@lru_cache(maxsize=256)
def _decoder(tp: Any) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(tp)


def decode(data: bytes, tp: type[T]) -> T:
    """Decode canonical bytes into ``tp``.

    Raises:
        CodecError: the bytes are malformed, do not match ``tp``, or are a valid but
            non-canonical encoding (for example an integer in a longer form than needed,
            map keys out of order, or trailing data).
    """
    name = getattr(tp, "__name__", tp)
    try:
        value: T = _decoder(cast(Any, tp)).decode(data)
    except UnicodeDecodeError:  # msgspec before 0.23: a msgpack str that is not UTF-8
        raise CodecError(f"cannot decode {name}: {_BAD_UTF8}") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CodecError(f"cannot decode {name}: {_reason(exc)}") from None
    except RecursionError:  # msgspec's nesting limit, reachable through Any-typed values
        raise CodecError(f"cannot decode {name}: nested too deeply") from None
    if _encoder.encode(value) != data:
        raise CodecError(
            f"not the canonical encoding of {name} "
            "(re-encoding differs: non-minimal integer, unsorted map, extra fields "
            "or trailing bytes)"
        )
    return value


_BAD_UTF8 = "a string is not valid UTF-8"


def _reason(exc: msgspec.MsgspecError) -> str:
    """Our own wording for the failures callers act on; msgspec's text for the rest.

    msgspec's messages change between releases (0.23 reports bad UTF-8 as a DecodeError
    with new wording), so the reasons a client may test for are spelled here.
    """
    text = str(exc)
    if "utf-8" in text.lower():
        return _BAD_UTF8
    if isinstance(exc, msgspec.DecodeError) and "truncated" in text.lower():
        return "the data ends early (truncated)"
    return text


def _check_arg(value: object, depth: int, path: str) -> None:
    if depth > MAX_DEPTH:
        raise CodecError(f"{path}: nested deeper than {MAX_DEPTH}")
    if value is None or isinstance(value, (bool, str, bytes)):
        return
    if isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise CodecError(f"{path}: integer {value} outside the 64-bit range")
        return
    if isinstance(value, float):
        raise CodecError(f"{path}: floats are not allowed (non-deterministic); use integers")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_arg(item, depth + 1, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CodecError(f"{path}: map keys must be strings, got {type(key).__name__}")
            _check_arg(item, depth + 1, f"{path}.{key}")
        return
    raise CodecError(f"{path}: values of type {type(value).__name__} are not allowed")


def encode_args(args: dict[str, Any]) -> bytes:
    """Encode call arguments canonically, refusing floats, big integers and odd types."""
    if not isinstance(args, dict):
        raise CodecError("arguments must be a map of names to values")
    _check_arg(args, 0, "args")
    return encode(args)


def decode_args(data: bytes, tp: type[T]) -> T:
    """Decode call arguments into an app's argument record (strict and canonical)."""
    return decode(data, tp)


def to_builtins(value: object) -> Any:
    """Convert records to JSON-friendly builtins: named fields, bytes as hex strings."""
    if isinstance(value, msgspec.Struct):
        return {f: to_builtins(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [to_builtins(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_builtins(v) for k, v in value.items()}
    return value
