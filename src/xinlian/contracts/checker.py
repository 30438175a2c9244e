"""Deploy-time check of contract source: a small, deterministic subset of Python.

The checker walks the syntax tree and refuses, with the line and the reason, anything
outside the subset the runtime can meter and contain. Allowed:

* module level: ``from contract import ...``, assignments, function definitions
  (``@export`` / ``@view`` or plain helpers) and a docstring;
* statements: assignment (to names, tuples of names and subscripts), augmented
  assignment, ``if``, ``for``, ``while``, ``break``, ``continue``, ``pass``, ``return``,
  ``del x[k]`` and expression statements;
* expressions: int, str, bytes, bool and None literals, lists, tuples, dicts, list and dict
  comprehensions, generator expressions, arithmetic except ``/`` and ``@``, comparisons
  (``is`` only with ``None``), boolean logic, conditional expressions,
  subscripts and slices, calls, f-strings without format specs, and a fixed list of
  attribute names (methods of str, bytes, list, dict and int, and the contract API).

Refused, with the reason given in the error: imports of anything but ``contract``, names
starting with ``__`` or ``_x`` (the runtime's), attributes starting with ``_``, reflection
builtins (``getattr``, ``type``, ``eval``, ...), classes, lambdas, nested functions,
``global``/``nonlocal``, ``try``/``raise``/``assert``/``with``, generators (``yield``),
``async``, floats and complex numbers, true division, sets (unordered), ``*``/``**``
unpacking, walrus, ``match`` and format specs in f-strings.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from xinlian.contracts.errors import ContractRejected
from xinlian.contracts.limits import MAX_DECLARATIONS, MAX_NAME, MAX_SOURCE_BYTES

#: Names the contract API provides (``from contract import ...``).
API_NAMES = frozenset(
    {"export", "view", "Value", "Map", "require", "emit", "ctx", "call", "call_app", "sha256"}
)
#: Builtins a contract may use (the runtime provides guarded versions).
SAFE_BUILTINS = frozenset(
    {
        "abs",
        "all",
        "any",
        "bool",
        "bytes",
        "dict",
        "divmod",
        "enumerate",
        "int",
        "isinstance",
        "len",
        "list",
        "max",
        "min",
        "range",
        "reversed",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
        "True",
        "False",
        "None",
    }
)
#: Names refused anywhere, even as local variables, because they name escape hatches.
FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "globals",
        "locals",
        "vars",
        "dir",
        "type",
        "object",
        "super",
        "breakpoint",
        "input",
        "print",
        "help",
        "memoryview",
        "bytearray",
        "classmethod",
        "staticmethod",
        "property",
        "id",
        "hash",
        "iter",
        "next",
        "aiter",
        "anext",
        "callable",
        "exit",
        "quit",
        "float",
        "complex",
        "set",
        "frozenset",
        "format",
        "repr",
        "ascii",
        "chr",
        "ord",
        "pow",
        "round",
        "map",
        "filter",
        "slice",
        "issubclass",
        "copyright",
        "credits",
        "license",
        "Ellipsis",
        "NotImplemented",
        "BaseException",
        "Exception",
    }
)
#: Attribute names a contract may use: the contract API and plain data methods.
ALLOWED_ATTRS = frozenset(
    {
        # contract API
        "sender",
        "origin",
        "address",
        "block",
        "height",
        "time",
        "tx_hash",
        "get",
        "set",
        # str / bytes
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "rsplit",
        "find",
        "rfind",
        "index",
        "count",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "islower",
        "isupper",
        "encode",
        "decode",
        "hex",
        "fromhex",
        "join",
        "replace",
        "partition",
        "rpartition",
        "removeprefix",
        "removesuffix",
        # list
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "reverse",
        "sort",
        "copy",
        "clear",
        # dict
        "keys",
        "values",
        "items",
        "setdefault",
        "update",
        # int
        "bit_length",
        "to_bytes",
        "from_bytes",
    }
)
#: Type names allowed in exported methods' annotations.
ABI_TYPES = frozenset({"int", "str", "bytes", "bool", "list", "dict"})

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module,
    ast.FunctionDef,
    ast.arguments,
    ast.arg,
    ast.Return,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.For,
    ast.While,
    ast.If,
    ast.Expr,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.ImportFrom,
    ast.alias,
    ast.Delete,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.IfExp,
    ast.Dict,
    ast.List,
    ast.Tuple,
    ast.ListComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.comprehension,
    ast.Compare,
    ast.Call,
    ast.keyword,
    ast.FormattedValue,
    ast.JoinedStr,
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Del,
    ast.And,
    ast.Or,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.LShift,
    ast.RShift,
    ast.BitOr,
    ast.BitXor,
    ast.BitAnd,
    ast.Invert,
    ast.Not,
    ast.UAdd,
    ast.USub,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Is,
    ast.IsNot,
    ast.In,
    ast.NotIn,
)

_WHY: dict[type[ast.AST], str] = {
    ast.Import: "only 'from contract import ...' is allowed",
    ast.ClassDef: "classes are not allowed (no reflection); use functions and dicts",
    ast.Lambda: "lambdas are not allowed; define a module-level function",
    ast.AsyncFunctionDef: "async code is not allowed",
    ast.Await: "async code is not allowed",
    ast.AsyncFor: "async code is not allowed",
    ast.AsyncWith: "async code is not allowed",
    ast.Global: "'global' is not allowed: contract state lives in Value and Map storage",
    ast.Nonlocal: "'nonlocal' is not allowed",
    ast.Try: "'try' is not allowed: a failure reverts the whole call",
    ast.Raise: "'raise' is not allowed; use require(condition, message)",
    ast.Assert: "'assert' is not allowed; use require(condition, message)",
    ast.With: "'with' is not allowed",
    ast.Yield: "generators ('yield') are not allowed",
    ast.YieldFrom: "generators ('yield from') are not allowed",
    ast.Set: "sets are not allowed (unordered iteration); use a dict or a sorted list",
    ast.SetComp: "set comprehensions are not allowed (unordered iteration)",
    ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Match: "'match' is not allowed",
    ast.Div: "true division '/' makes floats; use '//' (integer division)",
    ast.MatMult: "'@' is not allowed",
}
if hasattr(ast, "TryStar"):  # Python 3.11+
    _WHY[ast.TryStar] = "'try' is not allowed: a failure reverts the whole call"

MAX_AST_DEPTH = 60


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """An exported method: name, parameters (name, type), return type, read-only flag."""

    name: str
    params: list[tuple[str, str]]
    returns: str
    readonly: bool
    required: int


def _refuse(node: ast.AST | None, message: str) -> ContractRejected:
    return ContractRejected(message, getattr(node, "lineno", 0))


def parse(source: str) -> ast.Module:
    """Parse contract source, refusing oversize or unparsable text."""
    if not isinstance(source, str):
        raise ContractRejected("source must be text")
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise ContractRejected(f"source is {size} bytes, limit {MAX_SOURCE_BYTES}")
    if "\x00" in source:
        raise ContractRejected("source contains a NUL character")
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractRejected("source is not valid UTF-8 text") from None
    try:
        return ast.parse(source, filename="<contract>", mode="exec")
    except SyntaxError as exc:
        raise ContractRejected(f"syntax error: {exc.msg}", exc.lineno or 0) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ContractRejected(f"source cannot be parsed: {type(exc).__name__}") from None


def _check_depth(tree: ast.Module) -> None:
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_AST_DEPTH:
            raise _refuse(node, f"code nested deeper than {MAX_AST_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_name(node: ast.AST, name: str) -> None:
    if name.startswith(("__", "_x")):
        raise _refuse(node, f"name {name!r}: names starting with '__' or '_x' are reserved")
    if name in FORBIDDEN_NAMES:
        raise _refuse(node, f"name {name!r} is not available to contracts")
    if len(name) > MAX_NAME:
        raise _refuse(node, f"name longer than {MAX_NAME} characters")


def _check_abi_type(node: ast.expr | None, where: str) -> str:
    if node is None:
        raise _refuse(None, f"{where} needs a type annotation (int, str, bytes, bool, ...)")
    ok = True
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            ok = ok and sub.id in ABI_TYPES
        elif isinstance(sub, ast.Constant):
            ok = ok and sub.value is None
        elif not isinstance(sub, (ast.Subscript, ast.BinOp, ast.BitOr, ast.Tuple, ast.Load)):
            ok = False
    if not ok:
        raise _refuse(
            node,
            f"{where}: annotation {ast.unparse(node)!r} is not int, str, bytes, bool, "
            "list[...], dict[...], None or a union of them",
        )
    return ast.unparse(node)


def _check_node(node: ast.AST) -> None:
    why = _WHY.get(type(node))
    if why is not None:
        raise _refuse(node, why)
    if not isinstance(node, _ALLOWED_NODES):
        raise _refuse(node, f"{type(node).__name__} is not allowed in contracts")
    if isinstance(node, ast.Name):
        _check_name(node, node.id)
    elif isinstance(node, ast.arg):
        _check_name(node, node.arg)
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise _refuse(node, f"attribute {node.attr!r}: names starting with '_' are refused")
        if node.attr not in ALLOWED_ATTRS:
            raise _refuse(node, f"attribute {node.attr!r} is not available to contracts")
        if not isinstance(node.ctx, ast.Load):
            raise _refuse(node, "assigning or deleting attributes is not allowed")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, float):
            raise _refuse(node, "floats are not allowed (not deterministic); use integers")
        if isinstance(node.value, complex):
            raise _refuse(node, "complex numbers are not allowed")
        if node.value is Ellipsis:
            raise _refuse(node, "'...' is not allowed")
    elif isinstance(node, ast.Compare):
        if len(node.ops) > 1 and any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            raise _refuse(node, "'is' cannot be chained")
        if isinstance(node.ops[0], (ast.Is, ast.IsNot)) and not (
            isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value is None
        ):
            raise _refuse(node, "'is' only compares with None; use '=='")
    elif isinstance(node, ast.FormattedValue):
        if node.format_spec is not None:
            raise _refuse(node, "format specs in f-strings are not allowed")
    elif isinstance(node, ast.comprehension):
        if node.is_async:
            raise _refuse(node, "async comprehensions are not allowed")
    elif isinstance(node, ast.keyword):
        if node.arg is None:
            raise _refuse(node, "'**' unpacking is not allowed")
        _check_name(node, node.arg)
    elif isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _refuse(node, "'**' unpacking is not allowed")
    elif isinstance(node, ast.arguments):
        if node.vararg or node.kwarg or node.kwonlyargs or node.posonlyargs:
            raise _refuse(node, "only plain positional parameters are allowed")
        for default in node.defaults:
            if not isinstance(default, ast.Constant):
                raise _refuse(default, "parameter defaults must be literals")
    elif isinstance(node, ast.ImportFrom):
        if node.module != "contract" or node.level != 0:
            raise _refuse(node, f"import of {node.module!r}: only 'contract' may be imported")
        for alias in node.names:
            if alias.name not in API_NAMES or alias.asname is not None:
                raise _refuse(node, f"'contract' has no name {alias.name!r} (or aliased)")
    elif isinstance(node, ast.Delete):
        if not all(isinstance(t, ast.Subscript) for t in node.targets):
            raise _refuse(node, "'del' only removes items: del x[key]")
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if isinstance(node, ast.Assign) and len(targets) != 1:
            raise _refuse(node, "chained assignment 'a = b = c' is not allowed")
        for target in targets:
            _check_target(target, allow_subscript=not isinstance(node, ast.For))


def _check_target(target: ast.expr, *, allow_subscript: bool) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, ast.Subscript) and allow_subscript:
        return
    if isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            if not isinstance(elt, ast.Name):
                raise _refuse(elt, "unpacking assigns to plain names only")
        return
    raise _refuse(target, "assignment target must be a name, names or x[key]")


def check(tree: ast.Module) -> list[MethodSpec]:
    """Check ``tree`` and return the exported methods, or raise ``ContractRejected``."""
    _check_depth(tree)
    for node in ast.walk(tree):
        _check_node(node)
    methods: list[MethodSpec] = []
    functions = 0
    for index, stmt in enumerate(tree.body):
        if isinstance(stmt, ast.FunctionDef):
            functions += 1
            spec = _check_function(stmt)
            if spec is not None:
                methods.append(spec)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.ImportFrom, ast.Pass)) or (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
            and index == 0
        ):
            continue
        else:
            raise _refuse(
                stmt,
                "module level holds only imports, assignments and function definitions",
            )
    if functions > MAX_DECLARATIONS:
        raise ContractRejected(f"more than {MAX_DECLARATIONS} functions")
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ContractRejected("an exported method is defined twice")
    if not methods:
        raise ContractRejected("the contract exports no methods (mark them @export or @view)")
    return methods


def _check_function(fn: ast.FunctionDef) -> MethodSpec | None:
    for inner in ast.walk(fn):
        if inner is not fn and isinstance(inner, ast.FunctionDef):
            raise _refuse(inner, "nested functions are not allowed; define it at module level")
    kinds = []
    for deco in fn.decorator_list:
        if not (isinstance(deco, ast.Name) and deco.id in ("export", "view")):
            raise _refuse(deco, "only @export and @view decorators are allowed")
        kinds.append(deco.id)
    if len(kinds) > 1:
        raise _refuse(fn, "use one of @export or @view")
    if not kinds:
        return None
    params = [
        (a.arg, _check_abi_type(a.annotation, f"parameter {a.arg!r} of {fn.name}"))
        for a in fn.args.args
    ]
    returns = "None" if fn.returns is None else _check_abi_type(fn.returns, f"{fn.name} result")
    required = len(params) - len(fn.args.defaults)
    return MethodSpec(fn.name, params, returns, kinds[0] == "view", required)


def problems(source: str) -> list[ContractRejected]:
    """Every refusal :func:`check` could raise for ``source``, in line order, instead of
    only the first (for ``xinlian contract check``): each node, each module-level
    statement and each function is checked on its own. Empty when the source passes."""
    try:
        tree = parse(source)
        _check_depth(tree)
    except ContractRejected as exc:
        return [exc]
    found: list[ContractRejected] = []
    # Operators and contexts carry no line: report them at the nearest enclosing one.
    lines: dict[int, int] = {}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0) or lines.get(id(node), 0)
        for child in ast.iter_child_nodes(node):
            lines[id(child)] = getattr(child, "lineno", 0) or line
        try:
            _check_node(node)
        except ContractRejected as exc:
            if not exc.line and line:
                text = str(exc).removeprefix("contract refused: ")
                exc = ContractRejected(text, line)
            found.append(exc)
    for index, stmt in enumerate(tree.body):
        end = stmt.end_lineno or stmt.lineno
        if any(stmt.lineno <= problem.line <= end for problem in found):
            continue  # already reported inside this statement
        try:
            if isinstance(stmt, ast.FunctionDef):
                _check_function(stmt)
            elif not (
                isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.ImportFrom, ast.Pass))
                or (
                    isinstance(stmt, ast.Expr)
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                    and index == 0
                )
            ):
                raise _refuse(
                    stmt, "module level holds only imports, assignments and function definitions"
                )
        except ContractRejected as exc:
            found.append(exc)
    if not found:
        try:
            check(tree)
        except ContractRejected as exc:
            found.append(exc)
    unique: dict[str, ContractRejected] = {}
    for problem in found:
        unique.setdefault(str(problem), problem)
    return sorted(unique.values(), key=lambda e: e.line)
