"""The genesis document: who the members are and how the chain starts."""

from msgspec import Struct, field


class GenesisOrg(Struct, frozen=True, forbid_unknown_fields=True):
    """A member organisation."""

    id: str
    name: str


class GenesisAccount(Struct, frozen=True, forbid_unknown_fields=True):
    """An account that exists from the start: its key (hex), organisation and roles."""

    name: str
    public_key: str
    org: str
    roles: list[str]


class GenesisValidator(Struct, frozen=True, forbid_unknown_fields=True):
    """A validator of the first block: its signing key (hex), power and display name.

    ``p2p_key`` is the node's Ed25519 transport key (hex) that peers pin in mutual TLS;
    empty means "the signing key", which only an ``ed25519`` chain allows.
    """

    name: str
    public_key: str
    power: int
    p2p_key: str = ""


class ChainParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Consensus-relevant limits every node must agree on."""

    max_block_txs: int = 20000
    max_block_bytes: int = 16 * 1024 * 1024
    max_tx_bytes: int = 65536
    max_gas_per_tx: int = 10_000_000


class Genesis(Struct, frozen=True, forbid_unknown_fields=True):
    """The first state of a chain. Its canonical hash identifies the chain.

    Stored as JSON (``genesis.json``) with keys as hex strings; see docs/data-formats.md.
    """

    chain_id: str
    suite: str
    time_ms: int
    orgs: list[GenesisOrg]
    accounts: list[GenesisAccount]
    validators: list[GenesisValidator]
    params: ChainParams = field(default_factory=ChainParams)
