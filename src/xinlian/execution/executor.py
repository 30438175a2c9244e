"""Applying transactions: checks, dispatch to apps, metering, receipts, rollback.

For each transaction, in order:

1. *Admission checks* (``InvalidTransaction`` if any fails; the transaction cannot be in a
   block): chain id, expiry, gas limit bounds, known and active sender of an active
   member organisation, nonce.
2. *Nonce*: consumed from here on, whatever the call's outcome.
3. *Permission*: the target app and method exist and the sender holds the method's role.
   A target shaped like a contract address goes to the contract runtime instead
   (``xinlian.contracts``); any active account may call a contract.
4. *Call*: arguments decoded strictly, the method runs with metered state access.
5. *Receipt*: on success the writes join the block; on failure they are dropped and the
   receipt says why. Gas used is recorded either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import msgspec

from xinlian.apps import identity
from xinlian.apps.base import App, CallError, Role
from xinlian.codec import CodecError, decode, encode
from xinlian.contracts import NAME as CONTRACTS
from xinlian.contracts import RUNTIME, ContractsApp, is_contract_address
from xinlian.contracts.limits import MAX_BYTES
from xinlian.crypto import CryptoSuite
from xinlian.execution.errors import (
    ArgsTooLarge,
    ExecutionError,
    Expired,
    GasLimitOutOfBounds,
    InactiveSender,
    InvalidArgs,
    InvalidBlock,
    InvalidTransaction,
    NonceMismatch,
    PermissionDenied,
    TxTooLarge,
    UnknownSender,
    UnknownTarget,
    WrongChain,
)
from xinlian.execution.gas import GAS, GasMeter, intrinsic_gas
from xinlian.execution.overlay import AppState, BlockOverlay, Reader, TxOverlay
from xinlian.protocol import Refusal
from xinlian.types import Event, Receipt, SignedTransaction, TxEnvelope, TxStatus
from xinlian.types.genesis import ChainParams, Genesis

NONCE_PREFIX = b"nonce/"
#: Largest encoded arguments of a call to a contract (the runtime's largest value, plus
#: room for the map around it); the mempool refuses larger calls.
CONTRACT_MAX_ARGS = MAX_BYTES + 4096
#: Gas a contract query (a @view without a transaction) may use: it runs in an API thread.
QUERY_GAS = 2_000_000


class Mode(Enum):
    """BUILD drops transactions that fail admission checks; VALIDATE rejects the block."""

    BUILD = "build"
    VALIDATE = "validate"


class QueryError(ExecutionError):
    """A read-only query that cannot be answered (unknown app/method, bad args, refused)."""


@dataclass(slots=True)
class BlockResult:
    """What executing a block produced."""

    txs: list[TxEnvelope] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    dropped: list[tuple[TxEnvelope, str]] = field(default_factory=list)
    changes: dict[bytes, bytes | None] = field(default_factory=dict)


def nonce_key(address: str) -> bytes:
    """State key holding the next nonce of ``address``."""
    return NONCE_PREFIX + address.encode()


class _Context:
    """The ``CallContext`` handed to app methods."""

    __slots__ = (
        "events",
        "executor",
        "height",
        "meter",
        "nonce",
        "overlay",
        "sender",
        "sender_address",
        "state",
        "suite",
        "time_ms",
        "tx_hash",
    )

    def __init__(
        self,
        *,
        sender: bytes,
        sender_address: str,
        height: int,
        time_ms: int,
        tx_hash: bytes,
        suite: CryptoSuite,
        state: AppState,
        meter: GasMeter,
        nonce: int = 0,
        overlay: TxOverlay | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.nonce = nonce
        self.overlay = overlay
        self.executor = executor
        self.sender = sender
        self.sender_address = sender_address
        self.height = height
        self.time_ms = time_ms
        self.tx_hash = tx_hash
        self.suite = suite
        self.state = state
        self.meter = meter
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        # EVENT GAS: per byte of the event's canonical encoding.
        self.meter.charge(GAS.event + GAS.event_byte * len(encode(event)))
        self.events.append(event)

    def charge(self, gas: int) -> None:
        self.meter.charge(gas)

    # Services for the contract runtime (``contracts.ContractHost``).

    def read_raw(self, key: bytes) -> bytes | None:
        """Unmetered read of a ``contracts`` key (the runtime charges code loads itself)."""
        assert self.overlay is not None
        return self.overlay.get(CONTRACTS.encode() + b"/" + key)

    def call_app(self, caller: str, app: str, method: str, args: bytes, readonly: bool) -> Any:
        """A contract calls a built-in app: read-only methods, or writes needing no role."""
        assert self.executor is not None and self.overlay is not None
        target = self.executor.apps.get(app)
        fn = None if target is None or app == CONTRACTS else target.methods.get(method)
        if target is None or fn is None:
            raise CallError(f"no built-in app method {app}.{method}", TxStatus.UNKNOWN_TARGET)
        if not fn.readonly and (readonly or fn.role is not None):
            raise CallError(
                f"a contract may not call {app}.{method} (it needs role "
                f"{fn.role.value if fn.role else None!r} or this call is read-only)",
                TxStatus.PERMISSION_DENIED,
            )
        decoded: Any
        try:
            decoded = decode(args, fn.args_type)
        except CodecError as exc:
            raise CallError(
                f"bad arguments for {app}.{method}: {exc}", TxStatus.INVALID_ARGS
            ) from None
        sub = _Context(
            sender=b"",
            sender_address=caller,
            height=self.height,
            time_ms=self.time_ms,
            tx_hash=self.tx_hash,
            suite=self.suite,
            state=AppState(self.overlay, app, writable=not (readonly or fn.readonly)),
            meter=self.meter,
            overlay=self.overlay,
            executor=self.executor,
        )
        sub.events = self.events
        return fn.fn(sub, decoded)


class Executor:
    """Runs transactions against a state reader with a fixed set of apps."""

    def __init__(
        self, chain_id: str, suite: CryptoSuite, params: ChainParams, apps: dict[str, App]
    ) -> None:
        self.chain_id = chain_id
        self.suite = suite
        self.params = params
        # Execution hosts the contract runtime: its system app is always present.
        self.apps = dict(apps)
        self.apps.setdefault(CONTRACTS, ContractsApp())

    def genesis_changes(self, genesis: Genesis) -> dict[bytes, bytes | None]:
        """The state writes of the genesis document (no gas limit)."""
        block = BlockOverlay(lambda _key: None)
        tx = TxOverlay(block, GasMeter(2**62))
        for app in self.apps.values():
            app.init_genesis(AppState(tx, app.name), genesis)
        tx.commit()
        return block.changes

    def execute_block(
        self,
        read: Reader,
        height: int,
        time_ms: int,
        txs: Sequence[TxEnvelope],
        mode: Mode,
        *,
        gas_budget: int | None = None,
    ) -> BlockResult:
        """Execute ``txs`` in order on top of ``read`` (the state after the previous block).

        ``gas_budget`` (building only) stops the block once its receipts have used that
        much gas; the transactions after it stay pending. It is the proposer's policy for
        keeping a block's execution time, and so every validator's, short against the
        consensus timeouts; it is not a validity rule (validators check the byte and
        count limits of the chain parameters only).
        """
        block = BlockOverlay(read)
        result = BlockResult(changes=block.changes)
        size = 0
        gas_used = 0
        for env in txs:
            if gas_budget is not None and mode is Mode.BUILD and gas_used >= gas_budget:
                break
            # BLOCK SIZE: a builder stops before the limit (the rest stays pending);
            # a validator refuses a block over it.
            size += len(env.raw)
            if size > self.params.max_block_bytes:
                if mode is Mode.VALIDATE:
                    raise InvalidBlock(
                        f"transactions total more than {self.params.max_block_bytes} bytes"
                    )
                break
            try:
                receipt = self._execute_tx(block, height, time_ms, env)
            except InvalidTransaction as exc:
                if mode is Mode.VALIDATE:
                    raise InvalidBlock(f"transaction {env.hash.hex()}: {exc}") from None
                result.dropped.append((env, str(exc)))
                continue
            result.txs.append(env)
            result.receipts.append(receipt)
            gas_used += receipt.gas_used
        return result

    def check_admission(self, read: Reader, env: TxEnvelope, height: int) -> int:
        """Run the admission checks against committed state; returns the sender's next nonce.

        The mempool calls this on arrival so that doomed transactions are refused early
        with a clear reason; nonces ahead of the state are allowed there.
        """
        block = BlockOverlay(read)
        self._admit(block, env, height)
        return self._nonce(block, env.sender_address)

    def simulate(
        self,
        read: Reader,
        env: TxEnvelope,
        height: int,
        time_ms: int,
        *,
        gas_cap: int | None = None,
    ) -> Receipt:
        """The receipt ``env`` would get as the first transaction of block ``height``.

        Runs the same admission checks as :meth:`admit` and the same call as
        :meth:`execute_block` on a throwaway
        overlay of ``read``: nothing is written anywhere. A nonce ahead of the committed
        one is simulated as if the transactions before it (pending in the mempool) had
        only consumed their nonces; a nonce already used is refused. ``gas_cap`` bounds the
        work: a call with a higher limit runs with the cap instead (admission still checks
        the real limit), so running out of gas under the cap says nothing about the limit.

        Raises:
            InvalidTransaction: the transaction could not be in a block (the reason says
                why: unknown sender, gas limit out of bounds, used nonce, ...).
        """
        block = BlockOverlay(read)
        expected = self._nonce(block, env.sender_address)
        nonce = env.stx.tx.nonce
        if nonce < expected:
            raise NonceMismatch(f"nonce {nonce} is already used; the next is {expected}")
        if nonce > expected:
            block.changes[nonce_key(env.sender_address)] = encode(nonce)
        tx = env.stx.tx
        # The mempool's call rules too (role, argument size and shape): what it would
        # refuse, simulation refuses with the same reason.
        account = self._admit(block, env, height)
        args = self._check_call(account, env)
        if args is not None:
            env = env._replace(args=args)
        if gas_cap is not None and tx.gas_limit > gas_cap:
            capped = msgspec.structs.replace(tx, gas_limit=gas_cap)
            env = env._replace(stx=SignedTransaction(capped, env.stx.signature))
        return self._execute_tx(block, height, time_ms, env)

    def admit(self, read: Reader, env: TxEnvelope, height: int) -> TxEnvelope:
        """Everything the mempool checks before it accepts and gossips a transaction.

        The admission checks of :meth:`check_admission`, then the call's static rules
        against the latest state: the target method exists, the sender holds its role,
        the encoded arguments are within the method's ``max_args``, decode into its
        argument record and pass its ``check``. Returns the envelope with the decoded
        arguments, which execution then reuses.

        Raises:
            InvalidTransaction: with ``reason`` naming the rule (see its docstring).
        """
        block = BlockOverlay(read)
        account = self._admit(block, env, height)
        args = self._check_call(account, env)
        return env if args is None else env._replace(args=args)

    def _check_call(self, account: identity.Account, env: TxEnvelope) -> Any:
        tx = env.stx.tx
        if is_contract_address(tx.target):
            if len(tx.args) > CONTRACT_MAX_ARGS:
                raise ArgsTooLarge(
                    f"arguments of {tx.target}.{tx.method} are {len(tx.args)} bytes, "
                    f"limit {CONTRACT_MAX_ARGS}"
                )
            return None
        try:
            _, method = self._resolve(tx.target, tx.method)
        except CallError as exc:
            raise UnknownTarget(str(exc)) from None
        if method.role is not None and not _has_role(account, method.role):
            raise PermissionDenied(
                f"account {env.sender_address} lacks role "
                f"{method.role.value!r} for {tx.target}.{tx.method}"
            )
        if len(tx.args) > method.max_args:
            raise ArgsTooLarge(
                f"arguments of {tx.target}.{tx.method} are {len(tx.args)} bytes, "
                f"limit {method.max_args}"
            )
        try:
            args = decode(tx.args, method.args_type)
            if method.check is not None:
                method.check(args)
        except (CodecError, CallError) as exc:
            raise InvalidArgs(f"bad arguments for {tx.target}.{tx.method}: {exc}") from None
        return args

    def _nonce(self, block: BlockOverlay, address: str) -> int:
        raw = block.get(nonce_key(address))
        return 0 if raw is None else decode(raw, int)

    def _admit(self, block: BlockOverlay, env: TxEnvelope, height: int) -> identity.Account:
        tx = env.stx.tx
        if tx.chain_id != self.chain_id:
            raise WrongChain(f"chain id {tx.chain_id!r} is not this chain's ({self.chain_id!r})")
        if tx.expiry < height:
            raise Expired(f"expired at height {tx.expiry} (now {height})")
        if len(env.raw) > self.params.max_tx_bytes:
            raise TxTooLarge(
                f"transaction is {len(env.raw)} bytes, limit {self.params.max_tx_bytes}"
            )
        if tx.gas_limit > self.params.max_gas_per_tx:
            raise GasLimitOutOfBounds(
                f"gas limit {tx.gas_limit} above the chain's maximum {self.params.max_gas_per_tx}"
            )
        need = intrinsic_gas(len(env.raw))
        if tx.gas_limit < need:
            raise GasLimitOutOfBounds(f"gas limit {tx.gas_limit} below the intrinsic gas {need}")
        raw_account = block.get(b"identity/" + identity.account_key(env.sender_address))
        account = identity.load_account(raw_account)
        if account is None:
            raise UnknownSender(
                f"unknown sender {env.sender_address}: the key is not "
                "registered to any organisation"
            )
        if not account.active:
            raise InactiveSender(f"sender {env.sender_address} is deactivated")
        org = identity.load_org(block.get(b"identity/" + identity.org_key(account.org)))
        if org is None or not org.active:
            raise InactiveSender(
                f"sender {env.sender_address} belongs to organisation {account.org!r}, "
                "which is not an active member"
            )
        return account

    def _execute_tx(
        self, block: BlockOverlay, height: int, time_ms: int, env: TxEnvelope
    ) -> Receipt:
        tx = env.stx.tx
        account = self._admit(block, env, height)
        expected = self._nonce(block, env.sender_address)
        if tx.nonce != expected:
            too_high = Refusal.NONCE_TOO_HIGH if tx.nonce > expected else None
            raise NonceMismatch(f"nonce {tx.nonce}, expected {expected}", too_high)
        # NONCE: consumed whatever happens next.
        block.changes[nonce_key(env.sender_address)] = encode(expected + 1)
        meter = GasMeter(tx.gas_limit, intrinsic_gas(len(env.raw)))
        overlay = TxOverlay(block, meter)
        if is_contract_address(tx.target):
            return self._call_contract(env, height, time_ms, overlay, meter)
        try:
            app, method = self._resolve(tx.target, tx.method)
            if method.role is not None and not _has_role(account, method.role):
                raise CallError(
                    f"account {env.sender_address} lacks role "
                    f"{method.role.value!r} for {tx.target}.{tx.method}",
                    TxStatus.PERMISSION_DENIED,
                )
            # Decoded once on admission to this node's mempool (same bytes, same record).
            args = env.args
            if args is None:
                try:
                    args = decode(tx.args, method.args_type)
                except CodecError as exc:
                    raise CallError(
                        f"bad arguments for {tx.target}.{tx.method}: {exc}",
                        TxStatus.INVALID_ARGS,
                    ) from None
            ctx = _Context(
                sender=tx.sender,
                sender_address=env.sender_address,
                height=height,
                time_ms=time_ms,
                tx_hash=env.hash,
                suite=self.suite,
                state=AppState(overlay, app.name),
                meter=meter,
                nonce=tx.nonce,
                overlay=overlay,
                executor=self,
            )
            output = method.fn(ctx, args)
            out_bytes = _charged_output(meter, output)
        except CallError as exc:
            return Receipt(env.hash, int(exc.status), meter.used, [], str(exc), b"")
        overlay.commit()
        return Receipt(env.hash, int(TxStatus.OK), meter.used, ctx.events, "", out_bytes)

    def _call_contract(
        self, env: TxEnvelope, height: int, time_ms: int, overlay: TxOverlay, meter: GasMeter
    ) -> Receipt:
        tx = env.stx.tx
        ctx = _Context(
            sender=tx.sender,
            sender_address=env.sender_address,
            height=height,
            time_ms=time_ms,
            tx_hash=env.hash,
            suite=self.suite,
            state=AppState(overlay, CONTRACTS),
            meter=meter,
            nonce=tx.nonce,
            overlay=overlay,
            executor=self,
        )
        try:
            output = RUNTIME.invoke(
                ctx, tx.target, tx.method, tx.args, sender=env.sender_address, readonly=False
            )
            out_bytes = _charged_output(meter, output)
        except CallError as exc:
            return Receipt(env.hash, int(exc.status), meter.used, [], str(exc), b"")
        overlay.commit()
        return Receipt(env.hash, int(TxStatus.OK), meter.used, ctx.events, "", out_bytes)

    def _resolve(self, target: str, method_name: str) -> tuple[App, Any]:
        app = self.apps.get(target)
        if app is None:
            raise CallError(
                f"unknown target {target!r}; built-in apps are {sorted(self.apps)}",
                TxStatus.UNKNOWN_TARGET,
            )
        method = app.methods.get(method_name)
        if method is None or method.readonly:
            raise CallError(
                f"{target} has no method {method_name!r}; methods are "
                f"{sorted(n for n, m in app.methods.items() if not m.readonly)}",
                TxStatus.UNKNOWN_TARGET,
            )
        return app, method

    def query(
        self, read: Reader, target: str, method_name: str, args: bytes, height: int, time_ms: int
    ) -> Any:
        """Run a read-only method without a transaction and return its result.

        ``target`` is a built-in app or a contract address (its ``@view`` methods).
        """
        if is_contract_address(target):
            return self._query_contract(read, target, method_name, args, height, time_ms)
        app = self.apps.get(target)
        if app is None:
            raise QueryError(f"unknown target {target!r}")
        method = app.methods.get(method_name)
        if method is None or not method.readonly:
            raise QueryError(
                f"{target} has no query {method_name!r}; queries are "
                f"{sorted(n for n, m in app.methods.items() if m.readonly)}"
            )
        decoded: Any
        try:
            decoded = decode(args, method.args_type)
        except CodecError as exc:
            raise QueryError(f"bad arguments: {exc}") from None
        meter = GasMeter(self.params.max_gas_per_tx)
        overlay = TxOverlay(BlockOverlay(read), meter)
        ctx = _Context(
            sender=b"",
            sender_address="",
            height=height,
            time_ms=time_ms,
            tx_hash=b"",
            suite=self.suite,
            state=AppState(overlay, app.name, writable=False),
            meter=meter,
            overlay=overlay,
            executor=self,
        )
        try:
            return method.fn(ctx, decoded)
        except CallError as exc:
            raise QueryError(str(exc)) from None

    def _query_contract(
        self, read: Reader, address: str, method: str, args: bytes, height: int, time_ms: int
    ) -> Any:
        meter = GasMeter(min(self.params.max_gas_per_tx, QUERY_GAS))
        overlay = TxOverlay(BlockOverlay(read), meter)
        ctx = _Context(
            sender=b"",
            sender_address="",
            height=height,
            time_ms=time_ms,
            tx_hash=b"",
            suite=self.suite,
            state=AppState(overlay, CONTRACTS, writable=False),
            meter=meter,
            overlay=overlay,
            executor=self,
        )
        try:
            return RUNTIME.invoke(
                ctx, address, method, args, sender="", readonly=True, view_only=True
            )
        except CallError as exc:
            raise QueryError(str(exc)) from None


def _charged_output(meter: GasMeter, output: Any) -> bytes:
    """The call's output as stored in its receipt, charged per byte (OUTPUT GAS)."""
    out_bytes = b"" if output is None else encode(output)
    if out_bytes:
        meter.charge(GAS.output_byte * len(out_bytes))
    return out_bytes


def _has_role(account: identity.Account, role: Role) -> bool:
    return role.value in account.roles or Role.ADMIN.value in account.roles
