"""Argument record of ``evidence.anchor``: part of the receipt format, so it lives here
where the app that decodes it and the SDK that re-reads it offline can both import it."""

from msgspec import Struct


class AnchorArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``evidence.anchor`` (every field is required; ``parent`` may be nil)."""

    digests: list[bytes]
    category: str
    submitter_ref: str
    parent: bytes | None
    meta: dict[str, str]
