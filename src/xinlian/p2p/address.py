"""Where to dial a peer and which key must answer there."""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC_KEY_SIZE = 32


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """A peer to dial: ``host``, ``port`` and the raw 32-byte Ed25519 key it must present."""

    host: str
    port: int
    public_key: bytes

    def __post_init__(self) -> None:
        if len(self.public_key) != PUBLIC_KEY_SIZE:
            raise ValueError("a peer's public key is a raw 32-byte Ed25519 key")
        if not 0 < self.port < 65536:
            raise ValueError(f"port {self.port} outside 1..65535")

    def __str__(self) -> str:
        return f"{self.public_key.hex()[:12]}@{self.host}:{self.port}"
