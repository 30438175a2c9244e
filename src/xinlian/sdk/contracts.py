"""Contracts on the client side: deploy, call, query, events, and typed clients.

::

    from xinlian.sdk import Client, Signer
    from xinlian.sdk.contracts import bind, deploy

    with Client(url, key=Signer.from_file("keys/developer.key")) as c:
        address, _ = deploy(c, open("token.py").read(),
                            init={"name": "Bolt", "symbol": "BLT", "total": 10**6})
        token = bind(c, address)              # methods generated from the contract's ABI
        token.transfer(to=bob, amount=5)      # a transaction (waits; raises on failure)
        token.balance_of(owner=bob)           # a @view: a query, no transaction

:func:`client_source` writes the same interface as a typed Python class to keep in a
project (``xinlian contract client ADDRESS > token_client.py``); :class:`AsyncContract`
is the asyncio counterpart of the bound object.
"""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xinlian.codec import decode
from xinlian.protocol.contracts import POLICIES, contract_address, is_contract_address
from xinlian.sdk.errors import ResponseError, XinlianError
from xinlian.sdk.models import EventRecord, TxResult
from xinlian.sdk.session import Op, Request, _call, _get, _ok
from xinlian.sdk.wire import parse_events

if TYPE_CHECKING:
    from xinlian.sdk.aio import AsyncClient
    from xinlian.sdk.client import Client

__all__ = [
    "AsyncContract",
    "Contract",
    "ContractInfo",
    "MethodInfo",
    "abind",
    "adeploy",
    "bind",
    "client_source",
    "contract_address",
    "deploy",
    "get_code",
    "get_info",
    "is_contract_address",
]

_PY_TYPES: dict[str, type] = {
    "int": int,
    "str": str,
    "bytes": bytes,
    "bool": bool,
    "list": list,
    "dict": dict,
}


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """An exported contract method: parameters (name, type), return type, view flag and
    how many leading parameters are required."""

    name: str
    params: list[tuple[str, str]]
    returns: str
    readonly: bool
    required: int


@dataclass(frozen=True, slots=True)
class ContractInfo:
    """``GET /v1/contracts/{address}``."""

    address: str
    owner: str
    code_hash: bytes
    version: int
    policy: str
    created: int
    methods: list[MethodInfo]

    def method(self, name: str) -> MethodInfo:
        """The exported method ``name``; ``XinlianError`` if there is none."""
        for m in self.methods:
            if m.name == name:
                return m
        raise XinlianError(
            f"contract {self.address} has no method {name!r}; "
            f"methods are {sorted(m.name for m in self.methods)}"
        )


def _check_address(address: str) -> str:
    if not is_contract_address(address):
        raise XinlianError(f"{address!r} is not a contract address ('c' and 40 hex digits)")
    return address


def parse_info(body: Any) -> ContractInfo:
    """Parse a contract's metadata from the API's JSON."""
    try:
        methods = [
            MethodInfo(
                m["name"],
                [(p["name"], p["type"]) for p in m["params"]],
                m["returns"],
                bool(m["readonly"]),
                int(m["required"]),
            )
            for m in body["methods"]
        ]
        return ContractInfo(
            body["address"],
            body["owner"],
            bytes.fromhex(body["code_hash"]),
            int(body["version"]),
            body["policy"],
            int(body["created"]),
            methods,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ResponseError(f"malformed contract metadata: {exc!r}") from None


# OPERATIONS (sans I/O, driven by Client or AsyncClient)


def info_op(address: str) -> Op[ContractInfo]:
    """``GET /v1/contracts/{address}``."""
    return parse_info((yield from _get(f"/v1/contracts/{_check_address(address)}")))


def code_op(address: str) -> Op[str]:
    """``GET /v1/contracts/{address}/code``: the current source."""
    body = yield from _get(f"/v1/contracts/{_check_address(address)}/code")
    if not isinstance(body, dict) or not isinstance(body.get("source"), str):
        raise ResponseError("contract code: no source")
    source: str = body["source"]
    return source


def query_op(address: str, method: str, args: Mapping[str, Any] | None) -> Op[Any]:
    """``POST /v1/contracts/{address}/query``: run a ``@view`` method (JSON result:
    bytes come back as hex)."""
    payload = {"method": method, "args": dict(args or {})}
    path = f"/v1/contracts/{_check_address(address)}/query"
    body = _ok((yield from _call(Request("POST", path, json=payload))))
    if not isinstance(body, dict) or "result" not in body:
        raise ResponseError("contract query: no result")
    return body["result"]


def events_op(address: str, name: str, from_height: int, limit: int) -> Op[list[EventRecord]]:
    """``GET /v1/contracts/{address}/events``: events ``name`` of one contract."""
    params = {"name": name, "from_height": str(from_height), "limit": str(limit)}
    return parse_events(
        (yield from _get(f"/v1/contracts/{_check_address(address)}/events", params))
    )


# SYNCHRONOUS FUNCTIONS


def _deploy_args(source: str, init: Mapping[str, Any] | None, policy: str) -> dict[str, Any]:
    if not isinstance(source, str) or not source.strip():
        raise XinlianError("contract source must be non-empty text")
    if policy not in POLICIES:
        raise XinlianError(f"upgrade_policy must be one of {list(POLICIES)}, not {policy!r}")
    return {"source": source, "init": dict(init or {}), "upgrade_policy": policy}


def _deployed(result: TxResult) -> str:
    result.raise_for_status()
    if result.receipt is None:
        raise XinlianError("deploy was sent without waiting; its address is not known yet")
    return decode(result.receipt.output_raw, str)


def deploy(
    client: Client,
    source: str,
    init: Mapping[str, Any] | None = None,
    *,
    upgrade_policy: str = "immutable",
    gas_limit: int | None = None,
) -> tuple[str, TxResult]:
    """Deploy ``source`` (the key needs the ``deployer`` role); returns the contract's
    address and the transaction's result. Raises ``TxFailedError`` if refused."""
    args = _deploy_args(source, init, upgrade_policy)
    result = client.send("contracts", "deploy", args, gas_limit=gas_limit or 5_000_000)
    return _deployed(result), result


def get_info(client: Client, address: str) -> ContractInfo:
    """A contract's metadata and interface."""
    return client._run(info_op(address))


def get_code(client: Client, address: str) -> str:
    """A contract's current source."""
    return client._run(code_op(address))


def query(client: Client, address: str, method: str, args: Mapping[str, Any] | None = None) -> Any:
    """Run a ``@view`` method without a transaction."""
    return client._run(query_op(address, method, args))


def events(
    client: Client, address: str, name: str, *, from_height: int = 0, limit: int = 100
) -> list[EventRecord]:
    """Events called ``name`` that the contract emitted."""
    return client._run(events_op(address, name, from_height, limit))


# TYPED CLIENTS


def _signature(method: MethodInfo) -> inspect.Signature:
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=tp,
            default=inspect.Parameter.empty if i < method.required else None,
        )
        for i, (name, tp) in enumerate(method.params)
    ]
    return inspect.Signature(params, return_annotation=method.returns)


def _check_call(info: ContractInfo, method: MethodInfo, kwargs: Mapping[str, Any]) -> None:
    names = [n for n, _ in method.params]
    unknown = sorted(set(kwargs) - set(names))
    if unknown:
        raise XinlianError(f"{method.name}() has no parameter(s) {unknown}; it takes {names}")
    missing = [n for n in names[: method.required] if n not in kwargs]
    if missing:
        raise XinlianError(f"{method.name}() is missing argument(s) {missing}")
    for name, tp in method.params:
        expected = _PY_TYPES.get(tp.split("[")[0].strip())
        if name in kwargs and expected is not None and "|" not in tp:
            value = kwargs[name]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise XinlianError(
                    f"argument {name!r} of {method.name}() must be {tp}, got {type(value).__name__}"
                )


class Contract:
    """A deployed contract bound to a ``Client``: one Python method per exported method.

    ``@view`` methods run as queries and return their result; the others send a
    transaction, wait for it, raise ``TxFailedError`` if it failed and return the
    ``TxResult`` (its ``receipt.output`` is the method's return value).
    """

    def __init__(self, client: Client, info: ContractInfo) -> None:
        self.client = client
        self.info = info
        self.address = info.address
        for method in info.methods:
            setattr(self, method.name, self._make(method))

    def _make(self, method: MethodInfo) -> Callable[..., Any]:
        def invoke(**kwargs: Any) -> Any:
            _check_call(self.info, method, kwargs)
            if method.readonly:
                return query(self.client, self.address, method.name, kwargs)
            return self.client.send(self.address, method.name, kwargs).raise_for_status()

        invoke.__name__ = method.name
        invoke.__signature__ = _signature(method)  # type: ignore[attr-defined]
        invoke.__doc__ = f"{'Query' if method.readonly else 'Call'} {method.name}."
        return invoke

    def events(self, name: str, *, from_height: int = 0, limit: int = 100) -> list[EventRecord]:
        """Events called ``name`` this contract emitted."""
        return events(self.client, self.address, name, from_height=from_height, limit=limit)


def bind(client: Client, address: str) -> Contract:
    """Fetch a contract's interface and return an object with one method per export."""
    return Contract(client, get_info(client, address))


class AsyncContract:
    """The asyncio counterpart of :class:`Contract` (methods are coroutines)."""

    def __init__(self, client: AsyncClient, info: ContractInfo) -> None:
        self.client = client
        self.info = info
        self.address = info.address
        for method in info.methods:
            setattr(self, method.name, self._make(method))

    def _make(self, method: MethodInfo) -> Callable[..., Awaitable[Any]]:
        async def invoke(**kwargs: Any) -> Any:
            _check_call(self.info, method, kwargs)
            if method.readonly:
                return await self.client._run(query_op(self.address, method.name, kwargs))
            result = await self.client.send(self.address, method.name, kwargs)
            return result.raise_for_status()

        invoke.__name__ = method.name
        invoke.__signature__ = _signature(method)  # type: ignore[attr-defined]
        return invoke

    async def events(
        self, name: str, *, from_height: int = 0, limit: int = 100
    ) -> list[EventRecord]:
        """Events called ``name`` this contract emitted."""
        return await self.client._run(events_op(self.address, name, from_height, limit))


async def abind(client: AsyncClient, address: str) -> AsyncContract:
    """Fetch a contract's interface and return an :class:`AsyncContract`."""
    return AsyncContract(client, await client._run(info_op(address)))


async def adeploy(
    client: AsyncClient,
    source: str,
    init: Mapping[str, Any] | None = None,
    *,
    upgrade_policy: str = "immutable",
    gas_limit: int | None = None,
) -> tuple[str, TxResult]:
    """Asyncio :func:`deploy`."""
    args = _deploy_args(source, init, upgrade_policy)
    result = await client.send("contracts", "deploy", args, gas_limit=gas_limit or 5_000_000)
    return _deployed(result), result


def client_source(info: ContractInfo, class_name: str | None = None) -> str:
    """Python source of a typed client class for the contract ``info`` describes.

    The class wraps a ``Client``; each exported method becomes a method with keyword
    parameters annotated as in the contract, views returning their result type and the
    others returning ``TxResult``.
    """
    name = class_name or "ContractClient"
    if not name.isidentifier() or keyword.iskeyword(name):
        raise XinlianError(f"class name {name!r} is not a Python identifier")
    lines = [
        f'"""Typed client of contract {info.address} (code hash {info.code_hash.hex()},',
        f'version {info.version}). Generated by xinlian.sdk.contracts.client_source."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "from xinlian.sdk import Client, TxResult",
        "from xinlian.sdk.contracts import query",
        "",
        f'ADDRESS = "{info.address}"',
        "",
        "",
        f"class {name}:",
        f'    """Contract {info.address}."""',
        "",
        "    def __init__(self, client: Client, address: str = ADDRESS) -> None:",
        "        self.client = client",
        "        self.address = address",
    ]
    for m in info.methods:
        params = []
        for i, (pname, ptype) in enumerate(m.params):
            default = "" if i < m.required else " = None"
            params.append(f"{pname}: {ptype}{default}")
        sig = ", ".join(["self", "*", *params]) if params else "self"
        args = "{" + ", ".join(f'"{p}": {p}' for p, _ in m.params) + "}"
        returns = m.returns if m.readonly else "TxResult"
        lines += ["", f"    def {m.name}({sig}) -> {returns}:"]
        if m.readonly:
            lines += [
                f'        """Query {m.name} (a @view)."""',
                f'        result: Any = query(self.client, self.address, "{m.name}", {args})',
                "        return result  # type: ignore[no-any-return]",
            ]
        else:
            lines += [
                f'        """Send {m.name} and wait; raises TxFailedError if it fails."""',
                f'        return self.client.send(self.address, "{m.name}", {args})'
                ".raise_for_status()",
            ]
    return "\n".join(lines) + "\n"
