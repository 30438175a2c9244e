"""Integer widths for record fields; decoding rejects values outside them."""

from typing import Annotated

from msgspec import Meta

U64 = Annotated[int, Meta(ge=0)]  # msgpack caps it at 2**64 - 1
U32 = Annotated[int, Meta(ge=0, le=2**32 - 1)]
Nibble = Annotated[int, Meta(ge=0, le=15)]
