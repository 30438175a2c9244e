"""Deploy-time instrumentation: the checked tree is rewritten so that running it charges
gas and enforces limits without the interpreter's tracing.

What is rewritten (helpers are named ``_x*``, which contract source can never name):

* every block of statements starts with ``_xg(n)``: ``n`` is the number of syntax nodes of
  the block's straight-line statements (compound statements count their header), so one
  pass through a block, or one loop iteration, costs the same on every node and version;
* every function body becomes ``_xenter(n); try: body finally: _xleave()``: a call costs
  ``call + n`` and the contract call depth is bounded;
* arithmetic goes through helpers that refuse results beyond the size limits *before*
  computing them where the size is predictable (``**``, ``*``, ``<<``) and charge big
  integers by their sizes (``* // % divmod``), except ``+ - // >> &`` with a small int
  literal on the right (their result cannot grow and their work is linear);
* comparisons go through helpers that bound the nesting of compared containers, except
  ``== != < <= > >=`` with a literal int, str, bytes, bool or None on either side;
* method calls ``x.m(...)`` become ``_xm(x, "m", ...)``, which guards the few methods that
  can grow or explode values (``join``, ``replace``, ``extend``, ...) and charges per call;
* ``x[k]``, ``x[k] = v``, ``x[k] op= v`` and ``del x[k]`` go through helpers that charge
  dict lookups by key size and bound container sizes; keys entering a dict (``d[k] = v``,
  displays, comprehensions) go through ``_xk``, which admits only key types whose hashes
  contracts cannot choose; slices are charged by the size of the copy;
* comprehension iterables are wrapped to charge per item; tuple displays and f-string
  values are checked; annotations, decorators and ``from contract import`` are removed.
"""

from __future__ import annotations

import ast
from typing import cast

from xinlian.contracts.errors import ContractRejected
from xinlian.contracts.limits import CGAS

_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Pow: "pow",
    ast.LShift: "lshift",
    ast.Mod: "mod",
    ast.BitOr: "or",
    ast.FloorDiv: "floordiv",
    ast.RShift: "rshift",
    ast.BitAnd: "and",
    ast.BitXor: "xor",
}
_ALLOPS = _BINOPS
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.In: "in",
    ast.NotIn: "notin",
}


def _small_int(node: ast.expr) -> bool:
    """An int literal (not bool) below 2**16: with it, ``+ - %`` cannot grow values fast."""
    return (
        isinstance(node, ast.Constant) and type(node.value) is int and -(2**16) < node.value < 2**16
    )


def _scalar_literal(node: ast.expr) -> bool:
    """A short literal compared with anything cannot recurse into nested containers, and
    costs at most its own (short) length to compare."""
    if not isinstance(node, ast.Constant):
        return False
    value = node.value
    if isinstance(value, str | bytes):
        return len(value) <= 64
    return value is None or type(value) in (int, bool)


# Operators that need no helper when the right operand is a small int literal: the result
# is an int at most a bit longer or a TypeError, and the work is linear in the left operand
# (at most 4,096 bits). Not '%': 'text % 5' formats, and '%0999999999d' % 5 is a gigabyte.
_SAFE_WITH_SMALL_INT = (ast.Add, ast.Sub, ast.FloorDiv, ast.RShift, ast.BitAnd)


def _name(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _call(helper: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_name(helper), args=list(args), keywords=[])


def _charge(weight: int) -> ast.stmt:
    # _xg is the gas meter's own charge(): one call per block, no extra frame.
    return ast.Expr(value=_call("_xg", ast.Constant(weight * CGAS.step)))


def _weight(node: ast.AST) -> int:
    """Syntax nodes of ``node`` outside nested statement blocks."""
    if isinstance(node, ast.If | ast.While):
        return 1 + _weight(node.test)
    if isinstance(node, ast.For):
        return 1 + _weight(node.target) + _weight(node.iter)
    if isinstance(node, ast.FunctionDef):
        return 1 + sum(_weight(d) for d in node.args.defaults)
    return sum(1 for _ in ast.walk(node))


def block_weight(body: list[ast.stmt]) -> int:
    """The gas steps charged on entering ``body``."""
    return max(1, sum(_weight(stmt) for stmt in body))


class _Instrumenter(ast.NodeTransformer):
    def _body(self, body: list[ast.stmt], extra: int = 0) -> list[ast.stmt]:
        weight = block_weight(body) + extra
        out: list[ast.stmt] = [_charge(weight)]
        for stmt in body:
            result = self.visit(stmt)
            if result is None:
                continue
            if isinstance(result, list):
                out.extend(cast(list[ast.stmt], result))
            else:
                out.append(cast(ast.stmt, result))
        return out

    # STATEMENTS

    def visit_Module(self, node: ast.Module) -> ast.Module:
        node.body = self._body(node.body)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        weight = block_weight(node.body)
        node.decorator_list = []
        node.returns = None
        for arg in node.args.args:
            arg.annotation = None
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        body = self._body(node.body)[1:]  # the entry charge replaces the block charge
        node.body = [
            ast.Expr(value=_call("_xenter", ast.Constant(weight))),
            ast.Try(
                body=body,
                handlers=[],
                orelse=[],
                finalbody=[ast.Expr(value=_call("_xleave"))],
            ),
        ]
        return node

    def visit_If(self, node: ast.If) -> ast.If:
        node.test = self.visit(node.test)
        node.body = self._body(node.body)
        if node.orelse:
            node.orelse = self._body(node.orelse)
        return node

    def visit_For(self, node: ast.For) -> ast.For:
        node.iter = self.visit(node.iter)
        node.body = self._body(node.body, extra=1)
        if node.orelse:
            node.orelse = self._body(node.orelse)
        return node

    def visit_While(self, node: ast.While) -> ast.While:
        test_weight = _weight(node.test)
        node.test = self.visit(node.test)
        node.body = self._body(node.body, extra=test_weight)
        if node.orelse:
            node.orelse = self._body(node.orelse)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | None:
        if node.value is None:
            return None
        assign = ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)
        return self.visit_Assign(assign)

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        (target,) = node.targets
        value = self.visit(node.value)
        if isinstance(target, ast.Subscript):
            call = _call("_xsi", self.visit(target.value), self.visit(target.slice), value)
            return ast.Expr(value=call)
        node.value = value
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        op = _ALLOPS.get(type(node.op))
        if op is None:  # pragma: no cover - the checker refuses the others
            raise ContractRejected(f"operator {type(node.op).__name__} is not allowed")
        value = self.visit(node.value)
        target = node.target
        if isinstance(target, ast.Subscript):
            call = _call(
                "_xaug", self.visit(target.value), self.visit(target.slice), ast.Constant(op), value
            )
            return ast.Expr(value=call)
        assert isinstance(target, ast.Name)
        if isinstance(node.op, _SAFE_WITH_SMALL_INT) and _small_int(node.value):
            node.value = value
            return node
        load = _name(target.id)
        return ast.Assign(
            targets=[ast.Name(id=target.id, ctx=ast.Store())],
            value=_call("_xi" + op, load, value),
        )

    # EXPRESSIONS

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        left, right = self.visit(node.left), self.visit(node.right)
        op = _BINOPS.get(type(node.op))
        if op is None or (isinstance(node.op, _SAFE_WITH_SMALL_INT) and _small_int(node.right)):
            node.left, node.right = left, right
            return node
        return _call("_x" + op, left, right)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        if len(node.ops) > 1:  # a < b < c: each operand evaluated once, lazily
            no_args = ast.arguments(
                posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
            )
            thunks: list[ast.expr] = [
                ast.Lambda(args=no_args, body=self.visit(c)) for c in node.comparators
            ]
            ops = ast.Tuple(
                elts=[ast.Constant(_CMPOPS[type(op)]) for op in node.ops], ctx=ast.Load()
            )
            return _call("_xchain", self.visit(node.left), ops, *thunks)
        simple = _scalar_literal(node.left) or _scalar_literal(node.comparators[0])
        left = self.visit(node.left)
        right = self.visit(node.comparators[0])
        op = _CMPOPS.get(type(node.ops[0]))
        if op is None or (simple and op not in ("in", "notin")):  # is None, x == 0, ...
            node.left, node.comparators = left, [right]
            return node
        return _call("_xc" + op, left, right)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        args = [self.visit(a) for a in node.args]
        keywords = [ast.keyword(arg=k.arg, value=self.visit(k.value)) for k in node.keywords]
        if isinstance(node.func, ast.Attribute):
            return ast.Call(
                func=_name("_xm"),
                args=[self.visit(node.func.value), ast.Constant(node.func.attr), *args],
                keywords=keywords,
            )
        node.func = self.visit(node.func)
        node.args, node.keywords = args, keywords
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        # Only reached for attribute loads that are not called directly (x.m(...) is
        # rewritten by visit_Call): a bound method of a built-in value must not escape
        # its guard, so the helper allows plain attribute loads on host objects only.
        return _call("_xa", self.visit(node.value), ast.Constant(node.attr))

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            if isinstance(node.slice, ast.Slice):
                return _call("_xs", node)  # a slice copies: charge by its size
            return _call("_xgi", node.value, node.slice)  # a dict lookup hashes and compares
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.expr:
        # Keys go through _xk: only key types whose hashes cannot be chosen to collide.
        node.keys = [None if k is None else _call("_xk", self.visit(k)) for k in node.keys]
        node.values = [self.visit(v) for v in node.values]
        return node

    def visit_Delete(self, node: ast.Delete) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for target in node.targets:
            assert isinstance(target, ast.Subscript)
            call = _call("_xdel", self.visit(target.value), self.visit(target.slice))
            out.append(ast.Expr(value=call))
        return out

    def visit_Tuple(self, node: ast.Tuple) -> ast.expr:
        if not isinstance(node.ctx, ast.Load):
            return node
        node.elts = [self.visit(e) for e in node.elts]
        if not node.elts:
            return node
        return _call("_xtup", node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        self.generic_visit(node)
        return _call("_xs", node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.FormattedValue:
        value = self.visit(node.value)
        node.value = _call("_xfmt", value, ast.Constant(node.conversion))
        node.conversion = -1
        return node

    def _comprehension(self, node: ast.ListComp | ast.DictComp | ast.GeneratorExp) -> None:
        if isinstance(node, ast.DictComp):
            per_item = _weight(node.key) + _weight(node.value)
        else:
            per_item = _weight(node.elt)
        for gen in node.generators:
            per_item += 1 + sum(_weight(c) for c in gen.ifs)
        for gen in node.generators:
            gen.iter = _call("_xit", self.visit(gen.iter), ast.Constant(per_item))
            gen.ifs = [self.visit(c) for c in gen.ifs]
        if isinstance(node, ast.DictComp):
            node.key = _call("_xk", self.visit(node.key))
            node.value = self.visit(node.value)
        else:
            node.elt = self.visit(node.elt)

    def visit_ListComp(self, node: ast.ListComp) -> ast.expr:
        self._comprehension(node)
        return _call("_xs", node)

    def visit_DictComp(self, node: ast.DictComp) -> ast.expr:
        self._comprehension(node)
        return _call("_xs", node)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.expr:
        self._comprehension(node)
        return node


def instrument(tree: ast.Module) -> ast.Module:
    """Rewrite a checked tree in place (see the module docstring) and return it."""
    out = _Instrumenter().visit(tree)
    assert isinstance(out, ast.Module)
    return ast.fix_missing_locations(out)


def compile_contract(tree: ast.Module, filename: str) -> object:
    """Instrument ``tree`` and compile it to a code object."""
    try:
        return compile(instrument(tree), filename, "exec", dont_inherit=True, optimize=0)
    except (RecursionError, MemoryError, ValueError, SyntaxError) as exc:
        raise ContractRejected(f"contract cannot be compiled: {type(exc).__name__}") from None
