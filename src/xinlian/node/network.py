"""Creating a network: genesis, organisations, accounts, keys and node directories."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from xinlian.crypto import get_suite
from xinlian.node.config import render_config
from xinlian.node.keys import write_key
from xinlian.types.genesis import (
    ChainParams,
    Genesis,
    GenesisAccount,
    GenesisOrg,
    GenesisValidator,
)

DEFAULT_ORGS = ("org1", "org2", "org3")
#: Accounts made for each organisation: (suffix, roles).
ORG_ACCOUNTS = (("admin", ["admin"]), ("writer", ["writer"]), ("reader", ["reader"]))


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


def create_network(
    root: Path,
    *,
    suite_name: str = "ed25519",
    chain_id: str = "xinlian-dev",
    orgs: tuple[str, ...] = DEFAULT_ORGS,
    nodes: int = 1,
    base_port: int = 8545,
    block_interval_ms: int = 200,
    time_ms: int | None = None,
) -> NetworkLayout:
    """Write a genesis with ``orgs`` (admin, writer and reader accounts each, plus a
    regulator with the auditor role and a developer with the contract deployer role),
    ``nodes`` validator homes and every key file."""
    if (root / "genesis.json").exists():
        raise NetworkExistsError(
            f"{root} already holds a network (genesis.json exists); "
            "choose another directory or remove it"
        )
    if not orgs:
        raise ValueError("a network needs at least one organisation")
    if nodes < 1:
        raise ValueError("a network needs at least one node")
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
    homes: list[Path] = []
    validators: list[GenesisValidator] = []
    ports: list[int] = []
    for i in range(nodes):
        home = root / f"node{i}"
        kp = suite.generate()
        write_key(home / "node.key", kp, f"node{i}")
        validators.append(GenesisValidator(f"node{i}", kp.public_key.hex(), 1))
        port = base_port + i
        (home / "config.toml").write_text(render_config(f"node{i}", port, block_interval_ms))
        homes.append(home)
        ports.append(port)
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
    return NetworkLayout(root, root / "genesis.json", homes, key_dir, ports)
