"""Node configuration: ``<home>/config.toml`` beside ``genesis.json`` and the node key.

A node's home directory::

    config.toml        listen addresses, block interval, limits (this file)
    genesis.json       the chain's genesis document (identical on every node)
    node.key           the validator's key file
    data/              the embedded database

``config.toml``::

    [node]
    name = "node0"
    block_interval_ms = 200
    block_gas_budget = 40000000   # a block this node builds closes after this much gas
    min_free_bytes = 268435456    # below this much free disk, client writes get 503
    max_lag_blocks = 10           # /readyz fails when this far behind the best peer

    [api]
    host = "127.0.0.1"
    port = 8545
    max_body_bytes = 8388608
    max_batch = 10000
    rate_limit = 1000     # requests per second per client address
    rate_burst = 2000
    header_timeout_s = 10      # a request's line and headers must arrive within this
    body_timeout_s = 30        # and its body within this (slowloris)
    idle_timeout_s = 60        # an idle keep-alive connection is closed after this
    max_connections = 800      # open API connections in total
    max_connections_per_client = 64   # ... and from one client address
    upload_quota_account_bytes = 268435456   # off-chain bytes (trace bodies) an account
    upload_quota_org_bytes = 1073741824      # or organisation may store per UTC day
    unanchored_retention_s = 86400           # bodies never anchored are purged after this

    [p2p]
    host = "127.0.0.1"    # listen address for other nodes (0.0.0.0 on a real host)
    port = 26656
    peers = ["<p2p key hex>@10.0.0.2:26656", ...]   # nodes to dial
    observers = ["<p2p key hex>", ...]   # non-validator nodes let in to follow the chain

    [consensus]
    timeout_propose_ms = 3000
    timeout_prevote_ms = 1000
    timeout_precommit_ms = 1000
    timeout_delta_ms = 500   # added per round to each timeout
    [tsa]                 # RFC 3161 time-stamping (evidence); paths relative to home
    cert = "tsa/tsa.pem"  # the TSA certificate (extendedKeyUsage timeStamping, critical)
    key = "tsa/tsa.key"   # its private key (PEM, RSA or ECDSA)
    chain = "tsa/ca.pem"  # the issuing chain up to the root

docs/config.md describes every key (a unit test keeps it in step with this module).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration file that is missing or invalid."""


DEFAULT_BLOCK_GAS_BUDGET = 40_000_000
"""Gas after which a block this node builds is closed: about 9,500 simple writes (4,195
gas each) or 22,000 evidence digests (1,761 each in a 10,000-digest batch), which 4
validators sharing 2 cores execute in well under the 3 s ``timeout_propose_ms`` (see
docs/consensus.md, "Block size and timeouts")."""


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Where and how the REST API listens."""

    host: str = "127.0.0.1"
    port: int = 8545
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 10_000
    #: Requests per second allowed to one client address (token bucket), and its burst.
    rate_limit: int = 1000
    rate_burst: int = 2000
    #: Slow clients: seconds for a request's line and headers, for its body, and an idle
    #: keep-alive connection's lifetime.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    idle_timeout_s: float = 60.0
    #: Open connections in total and from one client address; more are closed at once.
    max_connections: int = 800
    max_connections_per_client: int = 64
    #: Off-chain bytes (trace event bodies) one account, and one organisation, may store
    #: per UTC day; bodies never anchored on chain are purged after the retention.
    upload_quota_account_bytes: int = 256 * 1024 * 1024
    upload_quota_org_bytes: int = 1024 * 1024 * 1024
    unanchored_retention_s: int = 86_400


@dataclass(frozen=True, slots=True)
class PeerConfig:
    """A peer to dial: its Ed25519 transport key and address."""

    public_key: bytes
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> PeerConfig:
        """Parse ``<key hex>@host:port``."""
        key_hex, sep, address = text.partition("@")
        host, colon, port_text = address.rpartition(":")
        try:
            key = bytes.fromhex(key_hex)
            port = int(port_text)
        except ValueError:
            key, port = b"", 0
        if not sep or not colon or not host or len(key) != 32 or not 0 < port < 65536:
            raise ConfigError(f"peer {text!r} must be <64 hex digits of the p2p key>@<host>:<port>")
        return cls(key, host, port)

    def __str__(self) -> str:
        return f"{self.public_key.hex()}@{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class P2PConfig:
    """Where the node listens for other nodes and whom it dials."""

    host: str = "127.0.0.1"
    port: int = 26656
    peers: tuple[PeerConfig, ...] = ()
    #: Transport keys of non-validator nodes this node lets in (read-only followers such
    #: as a regulator's node): they receive blocks and votes and catch up, never vote.
    observers: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class ConsensusConfig:
    """BFT timeouts (each grows by ``timeout_delta_ms`` per round)."""

    timeout_propose_ms: int = 3000
    timeout_prevote_ms: int = 1000
    timeout_precommit_ms: int = 1000
    timeout_delta_ms: int = 500


@dataclass(frozen=True, slots=True)
class TsaConfig:
    """The node's RFC 3161 time-stamping authority: PEM files (absolute, or relative to
    the node home). ``xinlian init`` generates them; an operator may point at their own."""

    cert: str = "tsa/tsa.pem"
    key: str = "tsa/tsa.key"
    chain: str = "tsa/ca.pem"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Everything a node needs to start."""

    home: Path
    name: str = "node0"
    block_interval_ms: int = 200
    empty_block_interval_ms: int = 1000
    state_retain: int = 1000
    mempool_size: int = 200_000
    block_gas_budget: int = DEFAULT_BLOCK_GAS_BUDGET
    #: Below this many free bytes on the data disk, new client writes are refused (503).
    min_free_bytes: int = 256 * 1024 * 1024
    #: ``/readyz`` fails when the node is this many blocks behind its best peer.
    max_lag_blocks: int = 10
    api: ApiConfig = field(default_factory=ApiConfig)
    p2p: P2PConfig = field(default_factory=P2PConfig)
    consensus: ConsensusConfig = field(default_factory=ConsensusConfig)
    tsa: TsaConfig = field(default_factory=TsaConfig)

    def tsa_paths(self) -> tuple[Path, Path, Path]:
        """The TSA certificate, key and chain files (resolved against the home)."""
        return (self.home / self.tsa.cert, self.home / self.tsa.key, self.home / self.tsa.chain)

    @property
    def genesis_path(self) -> Path:
        """The genesis document."""
        return self.home / "genesis.json"

    @property
    def key_path(self) -> Path:
        """The validator key file."""
        return self.home / "node.key"

    @property
    def p2p_key_path(self) -> Path:
        """The node's Ed25519 transport key file (peers pin its public key)."""
        return self.home / "p2p.key"

    @property
    def data_dir(self) -> Path:
        """The embedded database directory."""
        return self.home / "data"


def _int(section: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{key} must be an integer between {lo} and {hi}, got {value!r}")
    return value


def load_config(home: Path) -> NodeConfig:
    """Read ``<home>/config.toml`` (defaults for anything missing)."""
    path = home / "config.toml"
    try:
        doc = tomllib.loads(path.read_text()) if path.exists() else {}
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    node = doc.get("node", {})
    api = doc.get("api", {})
    p2p = doc.get("p2p", {})
    cons = doc.get("consensus", {})
    if not all(isinstance(t, dict) for t in (node, api, p2p, cons)):
        raise ConfigError(f"{path}: [node], [api], [p2p] and [consensus] must be tables")
    tsa = doc.get("tsa", {})
    if not isinstance(tsa, dict) or not all(isinstance(v, str) and v for v in tsa.values()):
        raise ConfigError(f"{path}: [tsa] must be a table of non-empty path strings")
    if unknown := sorted(set(tsa) - {"cert", "key", "chain"}):
        raise ConfigError(f"{path}: unknown [tsa] keys {unknown}; known: cert, key, chain")
    host = api.get("host", "127.0.0.1")
    p2p_host = p2p.get("host", "127.0.0.1")
    if not isinstance(host, str) or not isinstance(p2p_host, str):
        raise ConfigError("api.host and p2p.host must be strings")
    peers = p2p.get("peers", [])
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise ConfigError('p2p.peers must be a list of "<key>@<host>:<port>" strings')
    observers = p2p.get("observers", [])
    if not isinstance(observers, list) or not all(_is_key_hex(k) for k in observers):
        raise ConfigError(
            "p2p.observers must be a list of p2p keys (64 hex digits each, as in p2p.key)"
        )
    return NodeConfig(
        home=home,
        name=str(node.get("name", home.name)),
        block_interval_ms=_int(node, "block_interval_ms", 200, 10, 60_000),
        empty_block_interval_ms=_int(node, "empty_block_interval_ms", 1000, 10, 600_000),
        state_retain=_int(node, "state_retain", 1000, 1, 10**9),
        mempool_size=_int(node, "mempool_size", 200_000, 1, 10**7),
        block_gas_budget=_int(
            node, "block_gas_budget", DEFAULT_BLOCK_GAS_BUDGET, 1_000_000, 10**12
        ),
        min_free_bytes=_int(node, "min_free_bytes", 256 * 1024 * 1024, 0, 1 << 50),
        max_lag_blocks=_int(node, "max_lag_blocks", 10, 1, 10**9),
        api=ApiConfig(
            host=host,
            port=_int(api, "port", 8545, 0, 65535),
            max_body_bytes=_int(api, "max_body_bytes", 8 * 1024 * 1024, 1024, 1 << 30),
            max_batch=_int(api, "max_batch", 10_000, 1, 1_000_000),
            rate_limit=_int(api, "rate_limit", 1000, 1, 10**7),
            rate_burst=_int(api, "rate_burst", 2000, 1, 10**7),
            header_timeout_s=_int(api, "header_timeout_s", 10, 1, 3600),
            body_timeout_s=_int(api, "body_timeout_s", 30, 1, 3600),
            idle_timeout_s=_int(api, "idle_timeout_s", 60, 1, 86_400),
            max_connections=_int(api, "max_connections", 800, 1, 1_000_000),
            max_connections_per_client=_int(api, "max_connections_per_client", 64, 1, 1_000_000),
            upload_quota_account_bytes=_int(
                api, "upload_quota_account_bytes", 256 * 1024 * 1024, 0, 1 << 50
            ),
            upload_quota_org_bytes=_int(
                api, "upload_quota_org_bytes", 1024 * 1024 * 1024, 0, 1 << 50
            ),
            unanchored_retention_s=_int(api, "unanchored_retention_s", 86_400, 1, 10**9),
        ),
        p2p=P2PConfig(
            host=p2p_host,
            port=_int(p2p, "port", 26656, 0, 65535),
            peers=tuple(PeerConfig.parse(p) for p in peers),
            observers=tuple(bytes.fromhex(k) for k in observers),
        ),
        consensus=ConsensusConfig(
            timeout_propose_ms=_int(cons, "timeout_propose_ms", 3000, 10, 600_000),
            timeout_prevote_ms=_int(cons, "timeout_prevote_ms", 1000, 10, 600_000),
            timeout_precommit_ms=_int(cons, "timeout_precommit_ms", 1000, 10, 600_000),
            timeout_delta_ms=_int(cons, "timeout_delta_ms", 500, 0, 600_000),
        ),
        tsa=TsaConfig(**{k: tsa[k] for k in ("cert", "key", "chain") if k in tsa}),
    )


def _is_key_hex(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 64:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def allow_observer(home: Path, key: bytes) -> bool:
    """Add ``key`` to ``[p2p] observers`` in ``home/config.toml`` (keeping the rest of the
    file as written); False if it was there already. The node reads it when it starts."""
    path = home / "config.toml"
    config = load_config(home)
    if key in config.p2p.observers:
        return False
    lines = path.read_text().splitlines(keepends=True)
    entry = f'  "{key.hex()}",\n'
    section = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == "[p2p]" and stripped.replace(" ", "").startswith("observers=["):
            if stripped.endswith("]"):  # one line: rewrite it as a list of one per line
                inner = stripped[stripped.index("[") + 1 : -1].strip().rstrip(",")
                items = [f"  {item.strip()},\n" for item in inner.split(",") if item.strip()]
                lines[i : i + 1] = ["observers = [\n", *items, entry, "]\n"]
            else:  # a list over several lines: add before its closing bracket
                end = next(
                    (j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("]")),
                    i + 1,
                )
                lines.insert(end, entry)
            break
    else:
        at = next(i for i, line in enumerate(lines) if line.strip() == "[p2p]")
        lines.insert(at + 1, f"observers = [\n{entry}]\n")
    path.write_text("".join(lines))
    if key not in load_config(home).p2p.observers:  # never leave a file we cannot read
        raise ConfigError(f"could not add the observer key to {path}")
    return True


def render_config(
    name: str,
    port: int,
    block_interval_ms: int = 200,
    *,
    api_host: str = "127.0.0.1",
    p2p_host: str = "127.0.0.1",
    p2p_port: int = 26656,
    peers: tuple[PeerConfig, ...] = (),
) -> str:
    """Text of a ``config.toml`` for a new node."""
    peer_lines = "".join(f'  "{p}",\n' for p in peers)
    return (
        "[node]\n"
        f'name = "{name}"\n'
        f"block_interval_ms = {block_interval_ms}\n"
        "empty_block_interval_ms = 1000\n"
        "state_retain = 1000\n"
        f"block_gas_budget = {DEFAULT_BLOCK_GAS_BUDGET}\n\n"
        "[api]\n"
        f'host = "{api_host}"\n'
        f"port = {port}\n"
        "max_body_bytes = 8388608\n"
        "max_batch = 10000\n"
        "rate_limit = 1000\n"
        "rate_burst = 2000\n\n"
        "[p2p]\n"
        f'host = "{p2p_host}"\n'
        f"port = {p2p_port}\n"
        f"peers = [\n{peer_lines}]\n"
        "observers = [\n]\n\n"
        "[consensus]\n"
        "timeout_propose_ms = 3000\n"
        "timeout_prevote_ms = 1000\n"
        "timeout_precommit_ms = 1000\n"
        "timeout_delta_ms = 500\n"
    )
