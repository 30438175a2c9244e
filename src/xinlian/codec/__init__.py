"""Canonical byte encoding.

Everything that is hashed or signed is encoded with msgpack as produced by
:func:`encode`: records are fixed-order arrays, maps have their keys sorted, integers use
their shortest form, and there are no floats. :func:`decode` accepts exactly those bytes:
it decodes and re-encodes, and rejects input whose re-encoding differs, so a value has one
encoding and one hash.
"""

from xinlian.codec.canonical import (
    ArgValue,
    CodecError,
    decode,
    decode_args,
    encode,
    encode_args,
    to_builtins,
)

__all__ = [
    "ArgValue",
    "CodecError",
    "decode",
    "decode_args",
    "encode",
    "encode_args",
    "to_builtins",
]
