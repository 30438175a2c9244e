"""The protocol package's one exception tree."""


class ProtocolError(ValueError):
    """Bytes, a document or a file that does not follow one of the shared rules."""
