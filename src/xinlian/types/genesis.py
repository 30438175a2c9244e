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
    """Consensus-relevant limits every node must agree on.

    ``max_tx_bytes`` leaves room for one evidence batch of 100,000 digests (34 bytes each
    on the wire, about 3.4 MB); intrinsic gas (10 per byte) prices a large transaction, and
    ``max_gas_per_tx`` covers such a batch (about 177 million gas: bytes, hashing and one
    index write per digest). ``max_block_bytes`` bounds the sum of a block's transaction
    bytes, so a block holds at most two such batches whatever ``max_block_txs`` says.
    """

    max_block_txs: int = 20000
    max_tx_bytes: int = 3_670_016
    max_gas_per_tx: int = 250_000_000
    max_block_bytes: int = 8_388_608


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
