"""Creating a network: genesis, organisations, accounts, keys and node directories."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from xinlian.crypto import get_suite
from xinlian.crypto.timestamp import issue_tsa_cert, make_tsa_ca, write_pem_certs, write_pem_key
from xinlian.node.config import PeerConfig, allow_observer, load_config, render_config
from xinlian.node.keys import read_key, write_key
from xinlian.types.genesis import (
    ChainParams,
    Genesis,
    GenesisAccount,
    GenesisOrg,
    GenesisValidator,
)

DEFAULT_ORGS = ("org1", "org2", "org3")
#: Chain id of a development network of each crypto suite: different, so a transaction
#: signed for one can never be replayed on the other.
DEV_CHAIN_IDS = {"ed25519": "xinlian-dev", "sm": "xinlian-dev-sm"}


def default_chain_id(suite_name: str) -> str:
    """The development chain id of ``suite_name`` (``xinlian-dev``, ``xinlian-dev-sm``)."""
    return DEV_CHAIN_IDS.get(suite_name, f"xinlian-dev-{suite_name}")


#: Accounts made for each organisation: (suffix, roles).
ORG_ACCOUNTS = (("admin", ["admin"]), ("writer", ["writer"]), ("reader", ["reader"]))


#: The network's TSA CA certificate and its private key (PEM), in the network directory.
TSA_CA_CERT = "tsa-ca.pem"
TSA_CA_KEY = "tsa-ca.key"


def tsa_ca_key_path(root: Path) -> Path:
    """Where the TSA CA's private key of the network in ``root`` is: ``root/tsa-ca.key``,
    or ``root/keys/tsa-ca.key`` in networks made before it moved out of the account keys."""
    path = root / TSA_CA_KEY
    legacy = root / "keys" / TSA_CA_KEY
    return legacy if not path.exists() and legacy.exists() else path


class NetworkExistsError(Exception):
    """The output directory already holds a network."""


@dataclass(frozen=True, slots=True)
class NetworkLayout:
    """Where ``create_network`` put things."""

    root: Path
    genesis: Path
    node_homes: list[Path]
    key_dir: Path
    api_ports: list[int]
    p2p_ports: list[int]
    hosts: list[str]

    def api_urls(self) -> list[str]:
        """Each node's REST API base URL."""
        return [f"http://{h}:{p}" for h, p in zip(self.hosts, self.api_ports, strict=True)]


def write_node_tsa(
    home: Path, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, name: str
) -> None:
    """Issue a node's RFC 3161 TSA certificate: ``tsa/tsa.key``, ``tsa/tsa.pem`` and the
    CA in ``tsa/ca.pem`` (the defaults of ``[tsa]`` in config.toml)."""
    key, cert = issue_tsa_cert(ca_key, ca_cert, name)
    write_pem_key(home / "tsa" / "tsa.key", key)
    write_pem_certs(home / "tsa" / "tsa.pem", cert)
    write_pem_certs(home / "tsa" / "ca.pem", ca_cert)


def create_network(
    root: Path,
    *,
    suite_name: str = "ed25519",
    chain_id: str | None = None,
    orgs: tuple[str, ...] = DEFAULT_ORGS,
    nodes: int = 1,
    base_port: int = 8545,
    p2p_base_port: int = 26656,
    hosts: list[str] | None = None,
    ports: list[tuple[int, int]] | None = None,
    block_interval_ms: int = 200,
    time_ms: int | None = None,
) -> NetworkLayout:
    """Write a genesis with ``orgs`` (admin, writer and reader accounts each, plus a
    regulator with the auditor role and a developer with the contract deployer role),
    ``nodes`` validator homes and every key file, and
    a TSA CA (``tsa-ca.pem``; its PEM key beside it in ``tsa-ca.key``, not among the
    account keys) that issues each node's RFC 3161 time-stamping certificate.

    Without ``hosts`` every node runs on 127.0.0.1 with consecutive ports. With ``hosts``
    (one address per node) the nodes listen on all interfaces and dial each other at
    those addresses; nodes sharing a host get consecutive ports. ``ports`` gives each
    node's (API, p2p) ports explicitly instead. ``chain_id`` defaults to the suite's
    development id (:func:`default_chain_id`).
    """
    chain_id = chain_id or default_chain_id(suite_name)
    if (root / "genesis.json").exists():
        raise NetworkExistsError(
            f"{root} already holds a network (genesis.json exists); "
            "choose another directory or remove it"
        )
    if not orgs:
        raise ValueError("a network needs at least one organisation")
    if nodes < 1:
        raise ValueError("a network needs at least one node")
    if hosts is not None and len(hosts) != nodes:
        raise ValueError(f"--hosts names {len(hosts)} hosts for {nodes} nodes")
    if ports is not None and len(ports) != nodes:
        raise ValueError(f"{len(ports)} port pairs for {nodes} nodes")
    node_hosts = hosts if hosts is not None else ["127.0.0.1"] * nodes
    listen = "127.0.0.1" if hosts is None else "0.0.0.0"
    suite = get_suite(suite_name)
    key_dir = root / "keys"
    accounts: list[GenesisAccount] = []
    for org in orgs:
        for suffix, roles in ORG_ACCOUNTS:
            name = f"{org}-{suffix}"
            kp = suite.generate()
            write_key(key_dir / f"{name}.key", kp, name)
            accounts.append(GenesisAccount(name, kp.public_key.hex(), org, roles))
    kp = suite.generate()
    write_key(key_dir / "regulator.key", kp, "regulator")
    accounts.append(GenesisAccount("regulator", kp.public_key.hex(), orgs[0], ["auditor"]))
    kp = suite.generate()
    write_key(key_dir / "developer.key", kp, "developer")
    accounts.append(GenesisAccount("developer", kp.public_key.hex(), orgs[0], ["deployer"]))
    tsa_ca_key, tsa_ca = make_tsa_ca(f"{chain_id} TSA CA")
    write_pem_key(root / TSA_CA_KEY, tsa_ca_key)
    write_pem_certs(root / TSA_CA_CERT, tsa_ca)
    homes: list[Path] = []
    validators: list[GenesisValidator] = []
    api_ports: list[int] = []
    p2p_ports: list[int] = []
    p2p_keys: list[bytes] = []
    transport = get_suite("ed25519")
    for i in range(nodes):
        home = root / f"node{i}"
        kp = suite.generate()
        write_key(home / "node.key", kp, f"node{i}")
        p2p = transport.generate()
        write_key(home / "p2p.key", p2p, f"node{i}-p2p")
        p2p_keys.append(p2p.public_key)
        validators.append(
            GenesisValidator(f"node{i}", kp.public_key.hex(), 1, p2p.public_key.hex())
        )
        same_host = node_hosts[:i].count(node_hosts[i])
        api_port, p2p_port = (
            ports[i] if ports is not None else (base_port + same_host, p2p_base_port + same_host)
        )
        api_ports.append(api_port)
        p2p_ports.append(p2p_port)
        write_node_tsa(home, tsa_ca_key, tsa_ca, f"{chain_id} node{i} TSA")
        homes.append(home)
    for i, home in enumerate(homes):
        peers = tuple(
            PeerConfig(p2p_keys[j], node_hosts[j], p2p_ports[j]) for j in range(nodes) if j != i
        )
        (home / "config.toml").write_text(
            render_config(
                f"node{i}",
                api_ports[i],
                block_interval_ms,
                api_host=listen,
                p2p_host=listen,
                p2p_port=p2p_ports[i],
                peers=peers,
            )
        )
    genesis = Genesis(
        chain_id=chain_id,
        suite=suite_name,
        time_ms=int(time.time() * 1000) if time_ms is None else time_ms,
        orgs=[GenesisOrg(org, org.upper()) for org in orgs],
        accounts=accounts,
        validators=validators,
        params=ChainParams(),
    )
    text = json.dumps(msgspec.to_builtins(genesis), indent=2) + "\n"
    (root / "genesis.json").write_text(text)
    for home in homes:
        (home / "genesis.json").write_text(text)
    return NetworkLayout(
        root, root / "genesis.json", homes, key_dir, api_ports, p2p_ports, list(node_hosts)
    )


@dataclass(frozen=True, slots=True)
class NewNode:
    """A node home made for an existing network (not yet a validator)."""

    home: Path
    name: str
    public_key: bytes
    p2p_key: bytes
    api_port: int
    p2p_port: int


def add_node(
    root: Path,
    *,
    api_port: int,
    p2p_port: int,
    host: str = "127.0.0.1",
    observer: bool = False,
) -> NewNode:
    """Make ``root/node<N>`` for the network in ``root``: keys, genesis and a config that
    dials every existing node of ``root`` (their homes hold their ``p2p.key``).

    The node joins consensus once a governance proposal ``add_validator`` with its keys
    passes; until then the validators refuse its connections. With ``observer`` the
    existing nodes' configs list its p2p key in ``[p2p] observers`` instead, so (once
    restarted) they let it in to follow the chain without voting.
    """
    genesis_path = root / "genesis.json"
    if not genesis_path.exists():
        raise ValueError(f"{root} holds no network (no genesis.json)")
    genesis = msgspec.json.decode(genesis_path.read_bytes(), type=Genesis)
    existing = sorted(
        (p for p in root.glob("node*") if (p / "config.toml").exists()),
        key=lambda p: (len(p.name), p.name),
    )
    index = 0
    while (root / f"node{index}").exists():
        index += 1
    name = f"node{index}"
    peers: list[PeerConfig] = []
    for home in existing:
        config = load_config(home)
        p2p_file = home / "p2p.key"
        if not p2p_file.exists():
            continue
        peer_host = "127.0.0.1" if config.p2p.host in ("0.0.0.0", "") else config.p2p.host
        peers.append(PeerConfig(read_key(p2p_file)[0].public_key, peer_host, config.p2p.port))
    home = root / name
    kp = get_suite(genesis.suite).generate()
    write_key(home / "node.key", kp, name)
    p2p = get_suite("ed25519").generate()
    write_key(home / "p2p.key", p2p, f"{name}-p2p")
    (home / "genesis.json").write_bytes(genesis_path.read_bytes())
    ca_key_path, ca_path = tsa_ca_key_path(root), root / TSA_CA_CERT
    if ca_key_path.exists() and ca_path.exists():  # the network's TSA CA issues its cert
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
        if isinstance(ca_key, ec.EllipticCurvePrivateKey):
            write_node_tsa(home, ca_key, ca_cert, f"{genesis.chain_id} {name} TSA")
    (home / "config.toml").write_text(
        render_config(
            name, api_port, api_host=host, p2p_host=host, p2p_port=p2p_port, peers=tuple(peers)
        )
    )
    if observer:
        for existing_home in existing:
            allow_observer(existing_home, p2p.public_key)
    return NewNode(home, name, kp.public_key, p2p.public_key, api_port, p2p_port)
