"""Running contract methods: compile once per code hash, instantiate per call, meter.

A call instantiates the contract module afresh (its module body runs with new globals),
so nothing survives between calls except what the contract wrote to storage. The module
sees only the guarded builtins, the ``_x*`` helpers and the contract API below.
"""

from __future__ import annotations

import ast
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType, TracebackType
from typing import Any, Protocol

from xinlian.apps.base import CallError, StateView
from xinlian.codec import CodecError, decode, encode, encode_args
from xinlian.contracts import checker
from xinlian.contracts.errors import ContractFault
from xinlian.contracts.instrument import compile_contract
from xinlian.contracts.limits import (
    CGAS,
    MAX_BYTES,
    MAX_CONTRACT_CALLS,
    MAX_ITEMS,
    MAX_NAME,
    MAX_NESTING,
)
from xinlian.contracts.machine import (
    HostObject,
    Machine,
    Meter,
    SafeType,
    builtins,
    fault,
    helpers,
)
from xinlian.contracts.records import ContractMeta, MethodAbi, code_key, meta_key, storage_prefix
from xinlian.storage import StorageError
from xinlian.types import Event, TxStatus

_MIN_INT = -(2**63)
_MAX_INT = 2**64 - 1
MAX_EVENT_ATTRS = 16
MAX_EVENT_VALUE = 1024
MAX_MESSAGE = 256


class ContractHost(Protocol):
    """What execution hands the runtime: the call context plus contract services.

    ``state`` is the metered view of the ``contracts`` app's keys.
    """

    @property
    def sender_address(self) -> str:
        """The transaction's sender (empty for a query)."""
        ...

    @property
    def height(self) -> int:
        """The block height."""
        ...

    @property
    def time_ms(self) -> int:
        """The block time."""
        ...

    @property
    def tx_hash(self) -> bytes:
        """The transaction hash (empty for a query)."""
        ...

    @property
    def state(self) -> StateView:
        """Metered access to the ``contracts`` app's keys."""
        ...

    @property
    def meter(self) -> Meter:
        """The transaction's gas meter."""
        ...

    @property
    def nonce(self) -> int:
        """The transaction's nonce (addresses of deployed contracts derive from it)."""
        ...

    def emit(self, event: Event) -> None:
        """Record an event in the receipt (charged)."""
        ...

    def read_raw(self, key: bytes) -> bytes | None:
        """Unmetered read of a ``contracts`` key (code loading is charged a fixed price)."""
        ...

    def call_app(self, caller: str, app: str, method: str, args: bytes, readonly: bool) -> Any:
        """Call a built-in app method on behalf of contract ``caller``."""
        ...


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked and instrumented contract."""

    code: CodeType
    methods: list[checker.MethodSpec]
    filename: str


def compile_source(source: str) -> Compiled:
    """Check and compile ``source``; raise ``ContractRejected`` with the reason."""
    tree = checker.parse(source)
    methods = checker.check(tree)
    filename = "<contract>"
    code = compile_contract(tree, filename)
    assert isinstance(code, CodeType)
    return Compiled(code, methods, filename)


def abi_of(methods: list[checker.MethodSpec]) -> list[MethodAbi]:
    """The stored interface of the exported methods."""
    from xinlian.contracts.records import Param

    return [
        MethodAbi(m.name, [Param(n, t) for n, t in m.params], m.returns, m.readonly, m.required)
        for m in methods
    ]


class _CodeCache:
    """Compiled contracts by code hash (a code hash names exactly one source).

    Whether a call hits or misses never changes its result or gas (a call is charged a
    fixed load price); it only saves recompiling, which costs about 7 µs per source byte.
    Deploy and upgrade put the new code in; the cache holds up to ``size`` contracts or
    ``max_bytes`` of source, least recently used out first.
    """

    def __init__(self, size: int = 1024, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._items: OrderedDict[bytes, tuple[Compiled, int]] = OrderedDict()
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, code_hash: bytes, load: Callable[[], str]) -> Compiled:
        """The compiled code of ``code_hash``, compiling ``load()`` on a miss."""
        with self._lock:
            found = self._items.get(code_hash)
            if found is not None:
                self._items.move_to_end(code_hash)
                return found[0]
        source = load()
        compiled = compile_source(source)
        self.put(code_hash, compiled, len(source))
        return compiled

    def put(self, code_hash: bytes, compiled: Compiled, size: int) -> None:
        """Remember ``compiled`` (of a source of ``size`` characters)."""
        with self._lock:
            if code_hash in self._items:
                return
            self._items[code_hash] = (compiled, size)
            self._bytes += size
            while len(self._items) > self._size or self._bytes > self._max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped


CODE_CACHE = _CodeCache()


# DATA


def check_data(value: Any, what: str, depth: int = 0) -> Any:
    """Return ``value`` as canonical-encodable data (tuples become lists) or fault."""
    if depth > MAX_NESTING:
        raise fault(f"{what}: nested deeper than {MAX_NESTING} levels")
    t = type(value)
    if t is int:
        if not _MIN_INT <= value <= _MAX_INT:
            raise fault(f"{what}: integer {value} does not fit 64 bits (stored values must)")
        return value
    if value is None or t in (str, bytes, bool):
        return value
    if t is list or t is tuple:
        return [check_data(v, what, depth + 1) for v in value]
    if t is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise fault(f"{what}: map keys must be str")
            out[key] = check_data(item, what, depth + 1)
        return out
    raise fault(f"{what}: values of this type cannot be stored or returned")


def _encode_data(value: Any, what: str) -> bytes:
    raw = encode(check_data(value, what))
    if len(raw) > MAX_BYTES:
        raise fault(f"{what}: {len(raw)} bytes, over the limit of {MAX_BYTES}")
    return raw


def _encode_key(key: Any) -> bytes:
    t = type(key)
    if t is tuple:
        if not key or len(key) > 8 or any(type(k) not in (str, int, bytes, bool) for k in key):
            raise fault("a composite map key is a tuple of 1-8 str, int, bytes or bool")
    elif t not in (str, int, bytes, bool):
        raise fault("map keys are str, int, bytes, bool or a tuple of them")
    parts = key if t is tuple else (key,)
    if sum(len(k) for k in parts if type(k) in (str, bytes)) > 1024:
        raise fault("map key longer than 1024 bytes")
    raw = _encode_data(key, "map key")
    if len(raw) > 1024:
        raise fault("map key longer than 1024 bytes")
    return raw


@lru_cache(maxsize=4096)
def _name_ok(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and all(
        ch.isascii() and (ch.isalnum() or ch == "_") for ch in name
    )


def _check_name(name: Any, what: str) -> str:
    if type(name) is not str or not _name_ok(name):
        raise fault(f"{what} must be 1-{MAX_NAME} ASCII letters, digits or _")
    return name


@lru_cache(maxsize=512)
def _annotation(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _matches(value: Any, node: ast.expr) -> bool:
    if isinstance(node, ast.BinOp):
        return _matches(value, node.left) or _matches(value, node.right)
    if isinstance(node, ast.Constant):
        return value is None
    if isinstance(node, ast.Subscript):
        base = node.value
        assert isinstance(base, ast.Name)
        if not _matches(value, base):
            return False
        inner = node.slice
        if base.id == "list" and not isinstance(inner, ast.Tuple):
            return all(_matches(v, inner) for v in value)
        if base.id == "dict" and isinstance(inner, ast.Tuple) and len(inner.elts) == 2:
            return all(_matches(v, inner.elts[1]) for v in value.values())
        return True
    assert isinstance(node, ast.Name)
    expected = {"int": int, "str": str, "bytes": bytes, "bool": bool, "list": list, "dict": dict}
    tp = expected[node.id]
    if tp is int and type(value) is bool:
        return False
    return type(value) is tp


# THE CONTRACT API


class _Block(HostObject):
    __slots__ = ("height", "time")

    def __init__(self, height: int, time_ms: int) -> None:
        self.height = height
        self.time = time_ms


class _Ctx(HostObject):
    """``ctx``: who calls, which contract, which block, which transaction."""

    __slots__ = ("address", "block", "origin", "sender", "tx_hash")

    def __init__(self, sender: str, origin: str, address: str, block: _Block, tx: str) -> None:
        self.sender = sender
        self.origin = origin
        self.address = address
        self.block = block
        self.tx_hash = tx


class _Storage(HostObject):
    __slots__ = ("_inst", "_key", "_kind", "_name")

    def __init__(self, inst: _Instance, name: Any, what: str, kind: Any = None) -> None:
        self._name = _check_name(name, f"{what} name")
        if kind is not None and not (isinstance(kind, SafeType) and kind.storable):
            raise fault(f"{what} kind must be int, str, bytes, bool, list or dict")
        self._kind: type | None = None if kind is None else kind.python_type
        if self._name in inst.declared:
            raise fault(f"storage name {self._name!r} is declared twice")
        if len(inst.declared) >= 256:
            raise fault("more than 256 storage declarations")
        inst.declared.add(self._name)
        self._inst = inst
        self._key = storage_prefix(inst.address) + self._name.encode()

    def _read(self, key: bytes) -> Any:
        raw = self._inst.host.state.get(key)
        if raw is None:
            return _MISSING
        return decode(raw, Any)

    def _write(self, key: bytes, value: Any) -> None:
        if self._inst.readonly:
            raise fault("a view method cannot write storage")
        kind = self._kind
        if kind is not None and (
            type(value) is not kind and not (kind is list and type(value) is tuple)
        ):
            raise fault(f"{self._name!r} holds {kind.__name__} values, not {_data_type(value)}")
        self._inst.host.state.put(key, _encode_data(value, f"value of {self._name!r}"))

    def _delete(self, key: bytes) -> None:
        if self._inst.readonly:
            raise fault("a view method cannot write storage")
        self._inst.host.state.delete(key)


_MISSING = object()


def _data_type(value: Any) -> str:
    t = type(value)
    return t.__name__ if t in (int, str, bytes, bool, list, dict, tuple) else "this value"


class Value(_Storage):
    """``Value(name, default=None, kind=None)``: one persistent value; with ``kind`` (int,
    str, bytes, bool, list or dict) writes of other types stop the call."""

    __slots__ = ("_default",)

    def __init__(self, inst: _Instance, name: Any, default: Any = None, kind: Any = None) -> None:
        super().__init__(inst, name, "Value", kind)
        self._default = default

    def get(self) -> Any:
        """The stored value, or the default."""
        found = self._read(self._key)
        return self._default if found is _MISSING else found

    def set(self, value: Any) -> None:
        """Store ``value`` (data only; integers within 64 bits)."""
        self._write(self._key, value)


class Map(_Storage):
    """``Map(name, kind=None)``: a persistent mapping; ``m[k]``, ``m[k] = v``, ``del m[k]``,
    ``k in m``; with ``kind`` its values must be of that type."""

    __slots__ = ()

    def __init__(self, inst: _Instance, name: Any, kind: Any = None) -> None:
        super().__init__(inst, name, "Map", kind)

    def _entry(self, key: Any) -> bytes:
        return self._key + b"/" + _encode_key(key)

    def get(self, key: Any, default: Any = None) -> Any:
        """The value at ``key``, or ``default``."""
        found = self._read(self._entry(key))
        return default if found is _MISSING else found

    def __getitem__(self, key: Any) -> Any:
        found = self._read(self._entry(key))
        if found is _MISSING:
            raise fault(f"map {self._name!r} has no such key")
        return found

    def __setitem__(self, key: Any, value: Any) -> None:
        self._write(self._entry(key), value)

    def __delitem__(self, key: Any) -> None:
        entry = self._entry(key)
        if self._read(entry) is _MISSING:
            raise fault(f"map {self._name!r} has no such key")
        self._delete(entry)

    def __contains__(self, key: Any) -> bool:
        return self._read(self._entry(key)) is not _MISSING

    def __iter__(self) -> Any:
        raise fault("storage maps cannot be iterated (keep a list of keys in a Value)")


class _Instance:
    """One instantiation of a contract module for one call."""

    __slots__ = ("address", "call_depth", "declared", "host", "machine", "readonly", "runtime")

    def __init__(
        self,
        runtime: ContractRuntime,
        host: ContractHost,
        machine: Machine,
        address: str,
        readonly: bool,
        call_depth: int,
    ) -> None:
        self.runtime = runtime
        self.host = host
        self.machine = machine
        self.address = address
        self.readonly = readonly
        self.call_depth = call_depth
        self.declared: set[str] = set()

    def globals(self, sender: str, base: dict[str, Any]) -> dict[str, Any]:
        host = self.host

        def require(condition: Any, message: Any = "requirement failed") -> None:
            if not condition:
                if type(message) is not str:
                    raise fault("require's message must be a str")
                raise ContractFault(message[:MAX_MESSAGE])

        def emit(name: Any, /, **attributes: Any) -> None:
            _check_name(name, "event name")
            if len(attributes) > MAX_EVENT_ATTRS:
                raise fault(f"an event has at most {MAX_EVENT_ATTRS} attributes")
            if "contract" in attributes:
                raise fault("the event attribute 'contract' is set by the runtime")
            attrs = {"contract": self.address}
            for key, value in attributes.items():
                text = _event_text(value)
                if len(text) > MAX_EVENT_VALUE:
                    raise fault(f"event attribute {key!r} longer than {MAX_EVENT_VALUE}")
                attrs[key] = text
            host.emit(Event(f"{self.address}.{name}", attrs))

        def call(address: Any, method: Any, /, **kwargs: Any) -> Any:
            if type(address) is not str or type(method) is not str:
                raise fault("call(address, method, **args) takes str address and method")
            if self.call_depth + 1 > MAX_CONTRACT_CALLS:
                raise fault(f"contract calls nested deeper than {MAX_CONTRACT_CALLS}")
            self.machine.g(CGAS.contract_call)
            self.machine.deep(kwargs)
            raw = _encode_data(kwargs, "call arguments")
            return self.runtime.invoke(
                host,
                address,
                method,
                raw,
                sender=self.address,
                readonly=self.readonly,
                machine=self.machine,
                call_depth=self.call_depth + 1,
            )

        def call_app(app: Any, method: Any, /, **kwargs: Any) -> Any:
            if type(app) is not str or type(method) is not str:
                raise fault("call_app(app, method, **args) takes str app and method")
            self.machine.g(CGAS.app_call)
            self.machine.deep(kwargs)
            raw = _encode_data(kwargs, "call arguments")
            result = host.call_app(self.address, app, method, raw, self.readonly)
            return self.machine.s(_plain(result))

        def sha256(data: Any) -> bytes:
            if type(data) is not bytes:
                raise fault("sha256 takes bytes")
            self.machine.g(30 + len(data) // 8)
            return hashlib.sha256(data).digest()

        ctx = _Ctx(
            sender,
            host.sender_address,
            self.address,
            _Block(host.height, host.time_ms),
            host.tx_hash.hex(),
        )
        return {
            **base,
            "__name__": "contract",
            "export": _identity,
            "view": _identity,
            "Value": lambda name, default=None, kind=None: Value(self, name, default, kind),
            "Map": lambda name, kind=None: Map(self, name, kind),
            "require": require,
            "emit": emit,
            "ctx": ctx,
            "call": call,
            "call_app": call_app,
            "sha256": sha256,
        }


def _identity(fn: Any) -> Any:
    return fn


def _event_text(value: Any) -> str:
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is bytes:
        return value.hex()  # type: ignore[no-any-return]
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if value is None:
        return ""
    raise fault("event attributes are str, bytes, int, bool or None")


def _plain(value: Any) -> Any:
    """A built-in app's result as contract data (records become dicts, bytes stay bytes)."""
    import msgspec

    if isinstance(value, msgspec.Struct):
        return {f: _plain(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _fault_line(tb: TracebackType | None, filename: str) -> int:
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class ContractRuntime:
    """Runs methods of deployed contracts against a host's state."""

    def load_meta(self, host: ContractHost, address: str) -> ContractMeta | None:
        """A contract's metadata (a metered read)."""
        raw = host.state.get(meta_key(address))
        return None if raw is None else decode(raw, ContractMeta)

    def compiled(self, host: ContractHost, code_hash: bytes) -> Compiled:
        """The compiled code of ``code_hash`` (read from state on a cache miss)."""

        def load() -> str:
            raw = host.read_raw(code_key(code_hash))
            if raw is None:
                raise ContractFault(f"code {code_hash.hex()} is missing from state")
            return raw.decode()

        return CODE_CACHE.get(code_hash, load)

    def invoke(
        self,
        host: ContractHost,
        address: str,
        method: str,
        args: bytes,
        *,
        sender: str,
        readonly: bool,
        view_only: bool = False,
        machine: Machine | None = None,
        call_depth: int = 0,
    ) -> Any:
        """Call ``method`` of the contract at ``address`` with canonical ``args``.

        ``readonly`` forbids storage writes; ``view_only`` (queries) also refuses methods
        not marked ``@view``. Returns the method's result as canonical-encodable data.
        """
        meta = self.load_meta(host, address)
        if meta is None:
            raise CallError(f"no contract at {address}", TxStatus.UNKNOWN_TARGET)
        spec = next((m for m in meta.methods if m.name == method and m.name != "init"), None)
        if spec is None and method == "init":
            raise CallError(
                f"init of {address} runs only once, when the contract is deployed",
                TxStatus.PERMISSION_DENIED,
            )
        if spec is None or (view_only and not spec.readonly):
            kind = "view method" if view_only else "method"
            names = sorted(
                m.name for m in meta.methods if (m.readonly or not view_only) and m.name != "init"
            )
            raise CallError(
                f"contract {address} has no {kind} {method!r}; {kind}s are {names}",
                TxStatus.UNKNOWN_TARGET,
            )
        kwargs = self._arguments(spec, args, f"{address}.{method}")
        return self.run(
            host,
            meta,
            method,
            kwargs,
            sender=sender,
            readonly=readonly or spec.readonly,
            machine=machine,
            call_depth=call_depth,
        )

    def run(
        self,
        host: ContractHost,
        meta: ContractMeta,
        method: str,
        kwargs: dict[str, Any],
        *,
        sender: str,
        readonly: bool,
        machine: Machine | None = None,
        call_depth: int = 0,
        compiled: Compiled | None = None,
    ) -> Any:
        """Instantiate the contract and run ``method(**kwargs)``; with ``method`` empty, only
        instantiate it (deploy does, so a module body that fails is refused at once)."""
        if machine is None:
            machine = _machine_for(host.meter)
        machine.g(CGAS.load)
        if compiled is None:
            compiled = self.compiled(host, meta.code_hash)
        inst = _Instance(self, host, machine, meta.address, readonly, call_depth)
        base = _machine_base(machine)
        depth = machine.depth
        try:
            env = inst.globals(sender, base)
            exec(compiled.code, env)
            if not method:
                return None
            fn = env.get(method)
            if not callable(fn):
                raise fault(f"{method!r} is no longer a function after the module ran")
            result = fn(**kwargs)
        except CallError:
            raise
        except RecursionError:
            raise fault("recursion too deep") from None
        except (MemoryError, StorageError):
            # The limits bound what a contract allocates, so this is the machine, not the
            # contract; a storage error is the node's disk. A receipt saying so could
            # differ from other nodes'. Stop instead.
            raise
        except Exception as exc:
            line = _fault_line(exc.__traceback__, compiled.filename)
            where = f" at line {line}" if line else ""
            raise fault(
                f"{type(exc).__name__}{where} in {meta.address}.{method or '<module>'}"
            ) from None
        finally:
            machine.depth = depth
        machine.deep(result)  # checking and encoding the result visit all of it
        return check_data(result, f"result of {method}")

    def _arguments(self, spec: MethodAbi, args: bytes, where: str) -> dict[str, Any]:
        try:
            kwargs = decode(args, dict[str, Any]) if args else {}
            encode_args(kwargs)  # refuses floats, integers beyond 64 bits, non-str keys
        except CodecError as exc:
            raise CallError(f"bad arguments for {where}: {exc}", TxStatus.INVALID_ARGS) from None
        names = [p.name for p in spec.params]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise CallError(
                f"{where} has no parameter(s) {unknown}; parameters are {names}",
                TxStatus.INVALID_ARGS,
            )
        missing = [n for n in names[: spec.required] if n not in kwargs]
        if missing:
            raise CallError(f"{where} is missing argument(s) {missing}", TxStatus.INVALID_ARGS)
        for param in spec.params:
            if param.name in kwargs and not _matches(kwargs[param.name], _annotation(param.type)):
                raise CallError(
                    f"argument {param.name!r} of {where} must be {param.type}",
                    TxStatus.INVALID_ARGS,
                )
        if len(kwargs) > MAX_ITEMS:
            raise CallError("too many arguments", TxStatus.INVALID_ARGS)
        return kwargs


_LOCAL = threading.local()


def _machine_for(meter: Meter) -> Machine:
    """This thread's machine, reset for a new transaction or query (building the guarded
    builtins and helpers once per thread rather than once per call)."""
    machine: Machine | None = getattr(_LOCAL, "machine", None)
    if machine is None:
        machine = _LOCAL.machine = Machine(meter)
    else:
        machine.reset(meter)
    return machine


def _machine_base(machine: Machine) -> dict[str, Any]:
    if machine.base is None:
        machine.base = {"__builtins__": builtins(machine), **helpers(machine)}
    return machine.base
