"""The sandbox-escape and resource-exhaustion corpus.

Every attempt must be refused at deploy time (``INVALID_ARGS``, "contract refused: ...")
or stopped at run time (``FAILED`` / ``OUT_OF_GAS``) with a clear message; afterwards the
same executor keeps serving transactions and queries, and the attack wrote nothing.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from xinlian.types import TxStatus

HEADER = "from contract import Map, Value, call, call_app, ctx, emit, export, require, view\n"
FOOTER = "\n\n@view\ndef ok() -> int:\n    return 41 + 1\n"


def _wrap(body: str) -> str:
    return f"{HEADER}\n\n@export\ndef attack() -> None:\n{textwrap.indent(body, '    ')}{FOOTER}"


# (id, function body or whole source, expected message)
REFUSED: list[tuple[str, str, str]] = [
    (
        "subclasses-walk",
        "x = ().__class__.__bases__[0].__subclasses__()",
        "names starting with '_' are refused",
    ),
    ("class-attr", "x = [].__class__", "'__class__'"),
    ("func-globals", "x = attack.__globals__", "'__globals__'"),
    ("func-code", "x = attack.__code__", "'__code__'"),
    ("builtins-name", "x = __builtins__", "'__builtins__'"),
    ("dunder-import", "__import__('os')", "'__import__'"),
    ("import-os", "import os", "only 'from contract import ...'"),
    ("from-os", "from os import system", "import of 'os'"),
    ("import-sys", "import sys", "only 'from contract import ...'"),
    ("relative-import", "from . import contract", "only 'contract' may be imported"),
    ("contract-alias", "from contract import ctx as c", "aliased"),
    ("contract-unknown", "from contract import os", "'contract' has no name 'os'"),
    ("eval", "eval('1+1')", "name 'eval' is not available"),
    ("exec", "exec('x = 1')", "name 'exec' is not available"),
    ("compile", "compile('1', 'f', 'eval')", "name 'compile' is not available"),
    ("open", "open('/etc/passwd')", "name 'open' is not available"),
    ("getattr", "getattr(1, 'real')", "name 'getattr' is not available"),
    ("setattr", "setattr(ctx, 'sender', 'x')", "name 'setattr' is not available"),
    ("type", "type(1)", "name 'type' is not available"),
    ("globals", "globals()", "name 'globals' is not available"),
    ("locals", "locals()", "name 'locals' is not available"),
    ("vars", "vars()", "name 'vars' is not available"),
    ("dir", "dir()", "name 'dir' is not available"),
    ("breakpoint", "breakpoint()", "name 'breakpoint' is not available"),
    ("print", "print('x')", "name 'print' is not available"),
    ("memoryview", "memoryview(b'x')", "name 'memoryview' is not available"),
    ("bytearray", "bytearray(10)", "name 'bytearray' is not available"),
    ("object", "object()", "name 'object' is not available"),
    ("format-string-attr", "x = '{0.__class__}'.format(1)", "attribute 'format'"),
    ("format-map", "x = '{a}'.format_map({'a': 1})", "attribute 'format_map'"),
    ("fstring-attr", "x = f'{ctx.__class__}'", "'__class__'"),
    ("fstring-spec-width", "x = f'{1:>{10**9}}'", "format specs in f-strings"),
    ("gi-frame", "x = [(i for i in [1]).gi_frame]", "attribute 'gi_frame'"),
    ("generator-def", "yield 1", "generators ('yield')"),
    ("try-except-leak", "try:\n    x = 1\nexcept Exception as e:\n    y = e", "'try'"),
    ("raise", "raise ValueError('x')", "'raise' is not allowed"),
    ("assert", "assert False", "'assert' is not allowed"),
    ("with", "with ctx:\n    pass", "'with' is not allowed"),
    ("lambda", "f = lambda: 1", "lambdas are not allowed"),
    ("float", "x = 1.5", "floats are not allowed"),
    ("complex", "x = 1j", "complex numbers are not allowed"),
    ("true-division", "x = 1 / 2", "true division"),
    ("set-literal", "x = {1, 2}", "sets are not allowed"),
    ("set-comprehension", "x = {i for i in range(3)}", "set comprehensions"),
    ("global", "global balances", "'global' is not allowed"),
    ("walrus", "x = (y := 5)", "':=' is not allowed"),
    ("star-args", "x = max(*[1, 2])", "'*' unpacking"),
    ("double-star", "x = dict(**{'a': 1})", "'**' unpacking"),
    ("match", "match 1:\n    case _:\n        pass", "'match' is not allowed"),
    ("ellipsis", "x = ...", "'...' is not allowed"),
    ("attr-assign", "ctx.sender = 'x'", "assignment target must be a name"),
    ("attr-delete", "del ctx.sender", "'del' only removes items"),
    ("forge-gas-helper", "_xg(-10**9)", "names starting with '__' or '_x' are reserved"),
    ("name-dunder", "x = __name__", "names starting with '__' or '_x' are reserved"),
    ("method-dunder", "x = 'a'.__len__()", "'__len__'"),
    ("dict-attr", "x = ctx.__dict__", "'__dict__'"),
    ("mro", "x = int.mro()", "attribute 'mro'"),
    ("nested-def", "def inner():\n    return 1", "nested functions are not allowed"),
    ("is-identity", "x = 1 is 1", "'is' only compares with None"),
    ("chr", "x = chr(65)", "name 'chr' is not available"),
]

REFUSED_SOURCES: list[tuple[str, str, str]] = [
    ("class", "class A:\n    pass\n" + FOOTER, "classes are not allowed"),
    ("async", "async def f():\n    pass\n" + FOOTER, "async code is not allowed"),
    ("decorator", "@staticmethod\ndef f() -> int:\n    return 1\n" + FOOTER, "name 'staticmethod'"),
    ("varargs", "@export\ndef f(*a: int) -> None:\n    pass\n" + FOOTER, "plain positional"),
    ("no-annotation", "@export\ndef f(a) -> None:\n    pass\n" + FOOTER, "needs a type"),
    ("module-loop", "for i in range(3):\n    pass\n" + FOOTER, "module level holds only"),
    ("no-exports", "def f() -> int:\n    return 1\n", "exports no methods"),
    ("syntax", "def f(:\n", "syntax error"),
    ("nul-byte", "x = 1\x00" + FOOTER, "NUL"),
    ("too-big", "x = 1\n" * 9000 + FOOTER, "limit 49152"),
    ("deep-nesting", "x = " + "[" * 150 + "1" + "]" * 150 + FOOTER, "nested deeper than 60"),
    ("parser-bomb", "x = " + "(" * 300 + "1" + ")" * 300 + FOOTER, "too many nested"),
    ("default-expr", "@export\ndef f(a: int = len([1])) -> None:\n    pass\n", "literals"),
]

# (id, function body, expected message); run with a large gas limit.
STOPPED: list[tuple[str, str, str]] = [
    ("huge-power", "x = 2 ** 10 ** 8", "power exceeds the 4096-bit integer limit"),
    ("huge-power-3", "x = 3 ** 4000", "exceeds the 4096-bit limit"),
    ("big-mult", "x = 2 ** 4000\ny = x * x", "exceeds the 4096-bit limit"),
    ("negative-power", "x = 2 ** -1", "negative exponent"),
    ("str-repeat", "s = 'a' * (10 ** 9)", "repetition would make"),
    ("bytes-repeat", "b = b'x' * (2 ** 40)", "repetition would make"),
    ("list-repeat", "x = [0] * (10 ** 7)", "repetition would make"),
    ("doubling", "s = 'ab'\nfor i in range(40):\n    s = s + s", "exceeds the 262144 limit"),
    ("concat-big", "x = 'a' * 200000\ny = x + x", "exceeds the 262144 limit"),
    ("shift", "x = 1 << (10 ** 9)", "shift exceeds"),
    ("recursion", "attack()", "call depth exceeds 64"),
    ("infinite-loop", "while True:\n    pass", "out of gas"),
    ("busy-comprehension", "x = [0 for i in range(10 ** 12)]", "out of gas"),
    ("range-to-list", "x = list(range(10 ** 9))", "more than 65536 items"),
    ("sum-bomb", "x = sum(range(10 ** 12))", "more than 65536 items"),
    ("max-bomb", "x = max(range(10 ** 12))", "more than 65536 items"),
    ("extend-bomb", "x = []\nx.extend(range(10 ** 9))", "more than 65536 items"),
    ("iadd-bomb", "x = []\nx += range(10 ** 9)", "more than 65536 items"),
    ("join-bomb", "x = ''.join(['x' * 200000] * 100)", "join would make"),
    ("replace-bomb", "x = ('a' * 1000).replace('', 'b' * 1000)", "replace would make"),
    ("deep-compare", "x = []\nfor i in range(100):\n    x = [x]\ny = x == x", "nested deeper"),
    ("cyclic-compare", "a = []\na.append(a)\nb = [1]\nc = a == b", "nested deeper"),
    ("deep-tuple-hash", "t = ()\nfor i in range(100000):\n    t = (t, 1)", "nested deeper"),
    ("print-function", "x = f'{attack}'", "only data"),
    ("str-of-ctx", "x = str(ctx)", "only data"),
    ("percent-format", "v = 5\nx = '%s' % v", "'%' formatting is not allowed"),
    ("int-parse-bomb", "x = int('9' * 5000)", "int() of text longer than 4200"),
    ("to-bytes-bomb", "x = (1).to_bytes(10 ** 9, 'big')", "to_bytes length"),
    ("bytes-alloc", "x = bytes(10 ** 9)", "bytes(n) needs"),
    ("from-bytes-bomb", "x = int.from_bytes(b'\\xff' * 100000, 'big')", "bit"),
    ("dict-growth", "d = {}\nfor i in range(100000):\n    d[str(i)] = i", "65536-item limit"),
    ("append-forever", "x = []\nwhile True:\n    x.append(1)", "65536-item limit"),
    ("bound-method-escape", "f = 'x'.join", "must be called directly"),
    ("map-iteration", "m = Map('m')\nfor k in m:\n    pass", "storage maps cannot be iterated"),
    ("key-error-leak", "x = {}[1]", "KeyError at line 6"),
    ("zero-division", "x = 1 // 0", "ZeroDivisionError at line 6"),
    ("codec-bomb", "x = b'x'.decode('zlib_codec')", "encoding must be one of"),
    ("punycode", "x = (b'a' * 100000).decode('punycode')", "encoding must be one of"),
    ("idna-kw", "x = 'a'.encode(encoding='idna')", "encoding must be one of"),
    ("str-codec", "x = str(b'x', 'zlib_codec')", "encoding must be one of"),
    ("store-huge-int", "Value('v').set(2 ** 70)", "does not fit 64 bits"),
    ("store-huge-value", "m = Map('m')\nm['k'] = ['x' * 200000] * 10", "over the limit"),
    ("declare-twice", "a = Map('a')\nb = Map('a')", "declared twice"),
    ("self-call-loop", "call(ctx.address, 'attack')", "nested deeper than 8"),
    ("app-write-with-role", "call_app('kv', 'put', key='k', value='v')", "may not call kv.put"),
    ("app-deploy", "call_app('contracts', 'deploy', source='')", "no built-in app method"),
    ("event-spoof-contract", "emit('E', contract='c' + '0' * 40)", "set by the runtime"),
    ("event-too-big", "emit('E', data='x' * 5000)", "longer than 1024"),
    ("require-object", "require(False, attack)", "require's message must be a str"),
    ("isinstance-host", "x = isinstance(1, ctx)", "isinstance takes"),
    ("reversed-host", "x = reversed(ctx)", "reversed() takes"),
    ("sort-deep", "x = []\nfor i in range(50):\n    x = [x]\ny = sorted([x, x])", "nested deeper"),
    ("in-deep", "x = []\nfor i in range(50):\n    x = [x]\ny = x in [x]", "nested deeper"),
    (
        "values-in-deep",
        "x = []\nfor i in range(50):\n    x = [x]\ny = x in {'k': x}.values()",
        "nested deeper",
    ),
    ("sort-key", "x = [2, 1]\nx.sort(key=len)", "list.sort(key=...) is not available"),
    ("method-on-function", "x = attack.count(1)", "this value has no method 'count'"),
]


@pytest.mark.parametrize(("case", "body", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_at_deploy(cw: Any, case: str, body: str, message: str) -> None:
    _refused(cw, _wrap(body), message)


@pytest.mark.parametrize(
    ("case", "source", "message"), REFUSED_SOURCES, ids=[c[0] for c in REFUSED_SOURCES]
)
def test_whole_source_refused_at_deploy(cw: Any, case: str, source: str, message: str) -> None:
    _refused(cw, source, message)


@pytest.mark.parametrize(("case", "body", "message"), STOPPED, ids=[c[0] for c in STOPPED])
def test_stopped_at_run_time(cw: Any, case: str, body: str, message: str) -> None:
    address = cw.deploy(_wrap(body))
    before = dict(cw.state)
    receipt = cw.call("dev_a", address, "attack", {}, gas_limit=4_000_000)
    assert receipt.status in (
        TxStatus.FAILED,
        TxStatus.OUT_OF_GAS,
        TxStatus.PERMISSION_DENIED,
        TxStatus.UNKNOWN_TARGET,
    ), receipt
    assert message in receipt.error, receipt.error
    assert receipt.events == []
    changed = {k for k in set(before) | set(cw.state) if before.get(k) != cw.state.get(k)}
    assert changed == {b"nonce/" + cw.helpers.address("dev_a").encode()}
    _still_serving(cw, address)


def _refused(cw: Any, source: str, message: str) -> None:
    receipt = cw.deploy_receipt(source)
    assert receipt.status == TxStatus.INVALID_ARGS, receipt
    assert receipt.error.startswith("contract refused"), receipt.error
    assert message in receipt.error, receipt.error
    _still_serving(cw, cw.deploy(_wrap("pass")))


def _still_serving(cw: Any, address: str) -> None:
    assert cw.query(address, "ok", {}) == 42
    assert cw.call("writer_a", "kv", "put", {"key": "alive", "value": "yes"}).status == 0


def test_the_corpus_has_at_least_fifty_attempts() -> None:
    assert len(REFUSED) + len(REFUSED_SOURCES) + len(STOPPED) >= 50
    ids = [c[0] for c in REFUSED + REFUSED_SOURCES + STOPPED]
    assert len(ids) == len(set(ids))
