"""Shared helpers for unit tests: deterministic keys, a genesis, signed transactions and a
dict-backed chain ``World`` that executes blocks with the built-in apps.

Test modules reach the helpers through fixtures (``helpers``, ``world``) rather than by
importing this file, so they never depend on which ``conftest`` module is importable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.apps import builtin_apps, identity
from xinlian.codec import decode, encode, encode_args
from xinlian.crypto import KeyPair, address_of, get_suite
from xinlian.execution import BlockResult, Executor, Mode
from xinlian.execution.executor import nonce_key
from xinlian.execution.gas import intrinsic_gas
from xinlian.types import Receipt, SignedTransaction, Transaction, TxEnvelope
from xinlian.types.genesis import (
    ChainParams,
    Genesis,
    GenesisAccount,
    GenesisOrg,
    GenesisValidator,
)

SUITE = get_suite("ed25519")
CHAIN_ID = "xinlian-test"
GENESIS_TIME_MS = 1_700_000_000_000
DEFAULT_GAS = 1_000_000
DEFAULT_EXPIRY = 1_000_000

#: (name, org, roles) of the accounts in the default genesis.
DEFAULT_ACCOUNTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("admin_a", "a", ("admin",)),
    ("writer_a", "a", ("writer",)),
    ("reader_a", "a", ("reader",)),
    ("plain_a", "a", ()),
    ("admin_b", "b", ("admin",)),
    ("writer_b", "b", ("writer",)),
    ("admin_c", "c", ("admin",)),
)


def keypair(name: str) -> KeyPair:
    """A deterministic ed25519 key pair derived from ``name``."""
    return SUITE.keypair_from_private(hashlib.sha256(name.encode()).digest())


def address(name: str) -> str:
    """Address of the deterministic key called ``name``."""
    return address_of(SUITE, keypair(name).public_key)


def sign_tx(
    kp: KeyPair,
    *,
    target: str = "kv",
    method: str = "put",
    args: dict[str, Any] | bytes | None = None,
    nonce: int = 0,
    gas_limit: int = DEFAULT_GAS,
    expiry: int = DEFAULT_EXPIRY,
    chain_id: str = CHAIN_ID,
    sender: bytes | None = None,
) -> TxEnvelope:
    """Build and sign a transaction; the envelope is what admission would produce."""
    if args is None:
        args = {"key": "k", "value": "v"}
    raw_args = args if isinstance(args, bytes) else encode_args(args)
    tx = Transaction(
        chain_id=chain_id,
        sender=kp.public_key if sender is None else sender,
        nonce=nonce,
        target=target,
        method=method,
        args=raw_args,
        gas_limit=gas_limit,
        expiry=expiry,
    )
    stx = SignedTransaction(tx, SUITE.sign(kp.private_key, encode(tx)))
    raw = encode(stx)
    return TxEnvelope(stx, raw, SUITE.hash(raw), address_of(SUITE, tx.sender))


def make_genesis(
    orgs: Iterable[str] = ("a", "b", "c"),
    accounts: Iterable[tuple[str, str, Sequence[str]]] = DEFAULT_ACCOUNTS,
    params: ChainParams | None = None,
) -> Genesis:
    """A genesis with the given organisations and accounts (keys from ``keypair``)."""
    return Genesis(
        chain_id=CHAIN_ID,
        suite="ed25519",
        time_ms=GENESIS_TIME_MS,
        orgs=[GenesisOrg(o, f"Org {o.upper()}") for o in orgs],
        accounts=[
            GenesisAccount(name, keypair(name).public_key.hex(), org, list(roles))
            for name, org, roles in accounts
        ],
        validators=[GenesisValidator("val0", keypair("val0").public_key.hex(), 10)],
        params=ChainParams() if params is None else params,
    )


def apply_changes(state: dict[bytes, bytes], changes: dict[bytes, bytes | None]) -> None:
    """Apply a block's state changes to a dict-backed state."""
    for key, value in changes.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value


class World:
    """An executor over a dict-backed state with the built-in apps, at some height."""

    def __init__(self, genesis: Genesis | None = None, extra_apps: dict[str, Any] | None = None):
        self.genesis = make_genesis() if genesis is None else genesis
        apps = {**builtin_apps(), **(extra_apps or {})}
        self.executor = Executor(self.genesis.chain_id, SUITE, self.genesis.params, apps)
        self.state: dict[bytes, bytes] = {}
        apply_changes(self.state, self.executor.genesis_changes(self.genesis))
        self.height = 0
        self.time_ms = self.genesis.time_ms
        self._pending: dict[str, int] = {}

    def read(self, key: bytes) -> bytes | None:
        """The committed value of a full state key."""
        return self.state.get(key)

    def nonce(self, name: str) -> int:
        """The committed next nonce of the key called ``name``."""
        raw = self.state.get(nonce_key(address(name)))
        return 0 if raw is None else decode(raw, int)

    def tx(
        self,
        name: str,
        target: str = "kv",
        method: str = "put",
        args: dict[str, Any] | bytes | None = None,
        *,
        nonce: int | None = None,
        **kw: Any,
    ) -> TxEnvelope:
        """A signed transaction from ``name``; without ``nonce``, the next unused one
        (counting transactions built since the last ``run``)."""
        if nonce is None:
            nonce = self.nonce(name) + self._pending.get(name, 0)
            self._pending[name] = self._pending.get(name, 0) + 1
        return sign_tx(keypair(name), target=target, method=method, args=args, nonce=nonce, **kw)

    def tx_with_call_gas(
        self, name: str, target: str, method: str, args: dict[str, Any], call_gas: int
    ) -> TxEnvelope:
        """A transaction whose gas limit leaves exactly ``call_gas`` after intrinsic gas."""
        nonce = self.nonce(name) + self._pending.get(name, 0)
        gas_limit = 0
        for _ in range(10):
            env = sign_tx(
                keypair(name),
                target=target,
                method=method,
                args=args,
                nonce=nonce,
                gas_limit=gas_limit,
            )
            want = intrinsic_gas(len(env.raw)) + call_gas
            if want == gas_limit:
                self._pending[name] = self._pending.get(name, 0) + 1
                return env
            gas_limit = want
        raise AssertionError("gas limit did not converge")

    def execute(
        self,
        txs: Sequence[TxEnvelope],
        mode: Mode = Mode.VALIDATE,
        height: int | None = None,
        *,
        gas_budget: int | None = None,
    ) -> BlockResult:
        """Execute a block at the next height without applying it."""
        h = self.height + 1 if height is None else height
        return self.executor.execute_block(
            self.read, h, self.time_ms + 1000, txs, mode, gas_budget=gas_budget
        )

    def run(
        self, txs: Sequence[TxEnvelope], mode: Mode = Mode.VALIDATE, height: int | None = None
    ) -> BlockResult:
        """Execute a block at the next height (or ``height``) and apply its changes."""
        self._pending.clear()
        result = self.execute(txs, mode, height)
        apply_changes(self.state, result.changes)
        self.height = self.height + 1 if height is None else height
        self.time_ms += 1000
        return result

    def call(
        self,
        name: str,
        target: str,
        method: str,
        args: dict[str, Any] | bytes | None = None,
        **kw: Any,
    ) -> Receipt:
        """Run one transaction in its own block and return its receipt."""
        result = self.run([self.tx(name, target, method, args, **kw)])
        assert not result.dropped
        (receipt,) = result.receipts
        return receipt

    def query(self, target: str, method: str, args: dict[str, Any]) -> Any:
        """Run a read-only query on the committed state."""
        return self.executor.query(
            self.read, target, method, encode_args(args), self.height, self.time_ms
        )

    def account(self, addr: str) -> identity.Account | None:
        """The identity record of ``addr``."""
        return identity.load_account(self.state.get(b"identity/" + identity.account_key(addr)))

    def org(self, org_id: str) -> identity.Org | None:
        """The identity record of organisation ``org_id``."""
        return identity.load_org(self.state.get(b"identity/" + identity.org_key(org_id)))


@pytest.fixture
def world() -> World:
    """A fresh chain with organisations a, b, c and the default accounts."""
    return World()


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    """The helper functions and constants of this module."""
    return SimpleNamespace(
        SUITE=SUITE,
        CHAIN_ID=CHAIN_ID,
        DEFAULT_ACCOUNTS=DEFAULT_ACCOUNTS,
        World=World,
        address=address,
        apply_changes=apply_changes,
        keypair=keypair,
        make_genesis=make_genesis,
        sign_tx=sign_tx,
    )
