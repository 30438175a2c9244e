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

docs/config.md describes every key; its tables are generated from the structs below by
``tools/config_doc.py`` (a unit test keeps them in step).
"""

from __future__ import annotations

import re
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import msgspec

from xinlian.consensus.config import Timeouts


class ConfigError(Exception):
    """A configuration file that is missing or invalid."""


DEFAULT_BLOCK_GAS_BUDGET = 40_000_000
"""Gas after which a block this node builds is closed: about 9,500 simple writes (4,195
gas each) or 22,000 evidence digests (1,761 each in a 10,000-digest batch), which 4
validators sharing 2 cores execute in well under the 3 s ``timeout_propose_ms`` (see
docs/consensus.md, "Block size and timeouts")."""

_TIMEOUTS = Timeouts()  # the machine's defaults are the node's: the numbers live there

MiB = 1024 * 1024


def _key(lo: int | None = None, hi: int | None = None, doc: str = "", **more: Any) -> msgspec.Meta:
    """The bounds and the docs/config.md meaning of one key."""
    return msgspec.Meta(ge=lo, le=hi, description=doc, **more)


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A table of ``config.toml``: unknown keys are refused, defaults are the fields'."""


class ApiConfig(_Section, frozen=True):
    """Where and how the REST API listens (``[api]``)."""

    host: Annotated[
        str, _key(doc="address the REST API listens on (`0.0.0.0` for every interface)")
    ] = "127.0.0.1"
    port: Annotated[int, _key(0, 65535, "its port (0: any free port)")] = 8545
    max_body_bytes: Annotated[
        int, _key(1024, 1 << 30, "largest request body; larger bodies are answered `413`")
    ] = 8 * MiB
    max_batch: Annotated[
        int, _key(1, 1_000_000, "most transactions in one `POST /v1/transactions/batch`")
    ] = 10_000
    rate_limit: Annotated[
        int,
        _key(
            1,
            10**7,
            "requests per second allowed to one client address (token bucket); over it the"
            " API answers `429`",
        ),
    ] = 1000
    rate_burst: Annotated[
        int,
        _key(1, 10**7, "the bucket's size: requests a client may send at once after a quiet spell"),
    ] = 2000
    header_timeout_s: Annotated[
        int,
        _key(
            1,
            3600,
            "a new connection must send a complete request head within this time, or it is closed",
        ),
    ] = 10
    body_timeout_s: Annotated[
        int,
        _key(1, 3600, "a request body must arrive within this time, or the API answers `408`"),
    ] = 30
    idle_timeout_s: Annotated[
        int, _key(1, 86_400, "a kept-alive connection with no request for this long is closed")
    ] = 60
    max_connections: Annotated[
        int,
        _key(
            1,
            1_000_000,
            "open API connections at most; at the cap the oldest connection that never sent"
            " a request makes room, else the new one is refused",
        ),
    ] = 800
    max_connections_per_client: Annotated[
        int, _key(1, 1_000_000, "open connections at most from one client address")
    ] = 64
    upload_quota_account_bytes: Annotated[
        int,
        _key(
            0,
            1 << 50,
            "bytes of trace event bodies one account may upload per day (0: no quota); over"
            " it the API answers `429 quota_exceeded`",
        ),
    ] = 256 * MiB
    upload_quota_org_bytes: Annotated[int, _key(0, 1 << 50, "the same per organisation")] = (
        1024 * MiB
    )
    unanchored_retention_s: Annotated[
        int,
        _key(
            1,
            10**9,
            "uploaded event bodies whose events were never anchored on chain are purged"
            " after this many seconds",
        ),
    ] = 86_400


class PeerConfig(msgspec.Struct, frozen=True):
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


_PEERS_MUST = 'p2p.peers must be a list of "<key>@<host>:<port>" strings'
_OBSERVERS_MUST = "p2p.observers must be a list of p2p keys (64 hex digits each, as in p2p.key)"


class P2PConfig(_Section, frozen=True):
    """Where the node listens for other nodes and whom it dials (``[p2p]``)."""

    host: Annotated[
        str,
        _key(doc="address this node listens on for other nodes (`0.0.0.0` on a real host)"),
    ] = "127.0.0.1"
    port: Annotated[int, _key(0, 65535, "its port")] = 26656
    peers: Annotated[
        tuple[PeerConfig, ...],
        _key(
            doc='nodes to dial, each `"<p2p key, 64 hex digits>@<host>:<port>"`; the key is the'
            " peer's `p2p.key` public key, which the connection must prove",
            extra={"must": _PEERS_MUST},
        ),
    ] = ()
    #: Transport keys of non-validator nodes this node lets in (read-only followers such
    #: as a regulator's node): they receive blocks and votes and catch up, never vote.
    observers: Annotated[
        tuple[bytes, ...],
        _key(
            doc="p2p keys (64 hex digits) of non-validator nodes this node lets in: they receive"
            ' blocks and votes and catch up, but never vote (see cli.md, "Adding an observer")',
            extra={"must": _OBSERVERS_MUST},
        ),
    ] = ()


_TIMEOUT_MS = (10, 600_000)


class ConsensusConfig(_Section, frozen=True):
    """BFT timeouts, each growing by ``timeout_delta_ms`` per round (``[consensus]``).

    The defaults are :class:`xinlian.consensus.Timeouts`'s, so they are written once."""

    timeout_propose_ms: Annotated[
        int,
        _key(
            *_TIMEOUT_MS,
            "how long validators wait for the round's proposal before prevoting nil",
        ),
    ] = _TIMEOUTS.propose_ms
    timeout_prevote_ms: Annotated[
        int,
        _key(
            *_TIMEOUT_MS,
            "how long they wait after seeing prevotes of more than two thirds (for anything)"
            " before precommitting",
        ),
    ] = _TIMEOUTS.prevote_ms
    timeout_precommit_ms: Annotated[
        int,
        _key(
            *_TIMEOUT_MS,
            "how long they wait after seeing precommits of more than two thirds (for"
            " anything) before moving to the next round",
        ),
    ] = _TIMEOUTS.precommit_ms
    timeout_delta_ms: Annotated[int, _key(0, 600_000, "added to each timeout per round")] = (
        _TIMEOUTS.propose_delta_ms
    )


class TsaConfig(_Section, frozen=True):
    """The node's RFC 3161 time-stamping authority (``[tsa]``): PEM files (absolute, or
    relative to the node home). ``xinlian init`` generates them; an operator may point at
    their own."""

    cert: Annotated[
        str,
        _key(
            doc="the TSA certificate (extended key usage `timeStamping`, critical), optionally"
            " followed by intermediates",
            min_length=1,
        ),
    ] = "tsa/tsa.pem"
    key: Annotated[
        str, _key(doc="its private key: PEM, RSA or ECDSA, unencrypted", min_length=1)
    ] = "tsa/tsa.key"
    chain: Annotated[str, _key(doc="the issuing chain up to the root", min_length=1)] = "tsa/ca.pem"


class NodeConfig(_Section, frozen=True):
    """Everything a node needs to start: the ``[node]`` keys, the other tables, its home."""

    home: Path
    name: Annotated[str, _key(doc="the node's name in logs and `GET /v1/status`")] = (
        "node0"  # load_config: the home directory's name
    )
    block_interval_ms: Annotated[
        int,
        _key(
            10,
            60_000,
            "pause after a block is committed before the next height starts",
        ),
    ] = 200
    empty_block_interval_ms: Annotated[
        int,
        _key(
            10,
            600_000,
            "how long a proposer with an empty mempool waits for transactions before it"
            " proposes an empty block",
        ),
    ] = 1000
    state_retain: Annotated[
        int,
        _key(
            1,
            10**9,
            "state versions (heights) kept for proofs and historical reads; older versions"
            " are pruned, and a read of one answers `410 Gone`",
        ),
    ] = 1000
    mempool_size: Annotated[
        int,
        _key(
            1,
            10**7,
            "pending transactions held at most; beyond it submissions are refused with"
            " `full` (503)",
        ),
    ] = 200_000
    block_gas_budget: Annotated[
        int,
        _key(
            1_000_000,
            10**12,
            "a block this node builds closes once its transactions used this much gas (the"
            " rest stay pending); keeps execution short against the consensus timeouts (see"
            ' consensus.md, "Block size and timeouts"). It is the builder\'s policy, not a'
            " validity rule",
        ),
    ] = DEFAULT_BLOCK_GAS_BUDGET
    #: Below this many free bytes on the data disk, new client writes are refused (503).
    min_free_bytes: Annotated[
        int,
        _key(
            0,
            1 << 50,
            "below this many free bytes on the data's file system, new client writes are"
            " refused with `503` (consensus goes on); 0 turns the floor off (see"
            " operations.md)",
        ),
    ] = 256 * MiB
    #: ``/readyz`` fails when the node is this many blocks behind its best peer.
    max_lag_blocks: Annotated[
        int,
        _key(
            1,
            10**9,
            "`GET /readyz` fails when this node is more than this many blocks behind its best peer",
        ),
    ] = 10
    api: ApiConfig = msgspec.field(default_factory=ApiConfig)
    p2p: P2PConfig = msgspec.field(default_factory=P2PConfig)
    consensus: ConsensusConfig = msgspec.field(default_factory=ConsensusConfig)
    tsa: TsaConfig = msgspec.field(default_factory=TsaConfig)

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


SECTIONS: dict[str, type[_Section]] = {
    "node": NodeConfig,
    "api": ApiConfig,
    "p2p": P2PConfig,
    "consensus": ConsensusConfig,
    "tsa": TsaConfig,
}
"""The tables of ``config.toml``; any other table is refused."""


class ConfigKey(NamedTuple):
    """One key of ``config.toml`` as its struct field declares it (docs/config.md's rows)."""

    section: str
    name: str
    type: Any
    default: Any
    lo: int | None
    hi: int | None
    meaning: str
    must: str | None


def config_keys() -> Iterator[ConfigKey]:
    """Every key of ``config.toml``, table by table, in declaration order."""
    for section, record in SECTIONS.items():
        hints = typing.get_type_hints(record, include_extras=True)
        for f in msgspec.structs.fields(record):
            if record is NodeConfig and (f.name == "home" or f.name in SECTIONS):
                continue
            hint = hints[f.name]
            meta = next(m for m in hint.__metadata__ if isinstance(m, msgspec.Meta))
            yield ConfigKey(
                section,
                f.name,
                typing.get_args(hint)[0],
                f.default,
                None if meta.ge is None else int(meta.ge),
                None if meta.le is None else int(meta.le),
                meta.description or "",
                (meta.extra or {}).get("must"),
            )


def _must(key: ConfigKey) -> str:
    """What a value of ``key`` must be, in our words."""
    if key.must is not None:
        return key.must
    if key.type is int:
        return f"{key.name} must be an integer between {key.lo} and {key.hi}"
    if key.section == "tsa":
        return f"{key.name} must be a non-empty path string"
    return f"{key.name} must be a string"


_AT = re.compile(r"at `\$\.([a-z0-9_]+)(?:\.([a-z0-9_]+))?")


def _parse_p2p(p2p: dict[str, Any]) -> None:
    """Turn ``[p2p]`` peers and observers from text into their records (in place)."""
    peers = p2p.get("peers", [])
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise ConfigError(_PEERS_MUST)
    observers = p2p.get("observers", [])
    if not isinstance(observers, list) or not all(_is_key_hex(k) for k in observers):
        raise ConfigError(_OBSERVERS_MUST)
    if "peers" in p2p:
        p2p["peers"] = [PeerConfig.parse(p) for p in peers]
    if "observers" in p2p:
        p2p["observers"] = [bytes.fromhex(k) for k in observers]


def load_config(home: Path) -> NodeConfig:
    """Read ``<home>/config.toml`` (defaults for anything missing).

    Every table and key must be one the node knows: a misspelt one is refused, naming it,
    rather than silently taking its default."""
    path = home / "config.toml"
    try:
        doc = tomllib.loads(path.read_text()) if path.exists() else {}
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    known = {(k.section, k.name) for k in config_keys()}
    for section, table in doc.items():
        if section not in SECTIONS:
            where = (
                f"table [{section}]"
                if isinstance(table, dict)
                else f"key {section} (outside any table)"
            )
            known_tables = ", ".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(f"{path}: unknown {where}; known tables: {known_tables}")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key in table:
            if (section, key) not in known:
                raise ConfigError(f"{path}: unknown key [{section}] {key}")
    try:
        _parse_p2p(doc.setdefault("p2p", {}))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    fields = {"home": str(home), "name": home.name, **doc.pop("node", {}), **doc}
    try:
        return msgspec.convert(fields, NodeConfig, dec_hook=_decode_path)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {_explain(doc, fields, str(exc))}") from None


def _decode_path(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def _explain(doc: dict[str, Any], fields: dict[str, Any], error: str) -> str:
    """Our message for a value msgspec refused: which key, what it must be, what it was."""
    at = _AT.search(error)
    if at is not None:
        first, second = at.group(1), at.group(2)
        section, name = (first, second) if first in SECTIONS and second else ("node", first)
        for key in config_keys():
            if (key.section, key.name) == (section, name):
                table = fields if section == "node" else doc.get(section, {})
                return f"[{section}] {_must(key)}, got {table.get(name)!r}"
    return f"invalid configuration ({error})"


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
    api, timeouts = ApiConfig(), ConsensusConfig()
    defaults = NodeConfig(home=Path())
    return (
        "[node]\n"
        f'name = "{name}"\n'
        f"block_interval_ms = {block_interval_ms}\n"
        f"empty_block_interval_ms = {defaults.empty_block_interval_ms}\n"
        f"state_retain = {defaults.state_retain}\n"
        f"block_gas_budget = {defaults.block_gas_budget}\n\n"
        "[api]\n"
        f'host = "{api_host}"\n'
        f"port = {port}\n"
        f"max_body_bytes = {api.max_body_bytes}\n"
        f"max_batch = {api.max_batch}\n"
        f"rate_limit = {api.rate_limit}\n"
        f"rate_burst = {api.rate_burst}\n\n"
        "[p2p]\n"
        f'host = "{p2p_host}"\n'
        f"port = {p2p_port}\n"
        f"peers = [\n{peer_lines}]\n"
        "observers = [\n]\n\n"
        "[consensus]\n"
        f"timeout_propose_ms = {timeouts.timeout_propose_ms}\n"
        f"timeout_prevote_ms = {timeouts.timeout_prevote_ms}\n"
        f"timeout_precommit_ms = {timeouts.timeout_precommit_ms}\n"
        f"timeout_delta_ms = {timeouts.timeout_delta_ms}\n"
    )
