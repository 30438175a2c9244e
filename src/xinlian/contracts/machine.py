"""The run-time half of the sandbox: the ``_x*`` helpers instrumented code calls, the
guarded builtins, and the checks on sizes and nesting.

One :class:`Machine` serves one transaction or query (shared by nested contract calls):
it charges the transaction's gas meter and counts the contract call depth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from xinlian.contracts.errors import ContractFault
from xinlian.contracts.limits import (
    CGAS,
    MAX_BYTES,
    MAX_CALL_DEPTH,
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_NESTING,
)


class Meter(Protocol):
    """The gas meter of the transaction (``execution.gas.GasMeter``)."""

    def charge(self, amount: int) -> None:
        """Add ``amount``; raise when over the limit."""
        ...


_SCALARS = (int, str, bytes, bool, type(None))
_CONTAINERS = (list, tuple, dict)
_INTLIKE = (int, bool)


def fault(message: str) -> ContractFault:
    """A run-time stop with ``message``."""
    return ContractFault(message)


class HostObject:
    """Base of objects the runtime hands to contracts (storage, ctx, safe types).

    ``_xm`` calls their allowed methods directly; their state lives in slots whose names
    start with ``_``, which contract code cannot name.
    """

    __slots__ = ()


class Machine:
    """Gas, limits and call depth for one transaction's contract code."""

    __slots__ = ("_charge", "base", "depth", "meter")

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self._charge = meter.charge
        self.depth = 0
        #: The builtins and helpers of contract modules, built once per machine.
        self.base: dict[str, Any] | None = None

    def reset(self, meter: Meter) -> None:
        """Serve a new transaction or query with ``meter``."""
        self.meter = meter
        self._charge = meter.charge
        self.depth = 0
        if self.base is not None:
            self.base["_xg"] = meter.charge

    # GAS

    def g(self, steps: int) -> None:
        """Charge a block of ``steps`` syntax nodes."""
        self._charge(steps * CGAS.step)

    def enter(self, steps: int) -> None:
        """A contract function starts: charge it and count the depth."""
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            self.depth -= 1
            raise fault(f"call depth exceeds {MAX_CALL_DEPTH} (recursion too deep)")
        self._charge(CGAS.call + steps * CGAS.step)

    def leave(self) -> None:
        """A contract function returns (or unwinds)."""
        self.depth -= 1

    # SIZES

    def s(self, value: Any) -> Any:
        """Check the size of a produced value and charge for it; return it."""
        # Charged before the limits are checked: the value was built either way.
        t = type(value)
        if t is int:
            bits = value.bit_length()
            if bits > 64:
                self._charge((bits >> 6) * CGAS.int_word)
                if bits > MAX_INT_BITS:
                    raise fault(f"integer of {bits} bits exceeds the {MAX_INT_BITS}-bit limit")
        elif t is str or t is bytes:
            n = len(value)
            if n > 64:
                self._charge((n >> 4) * CGAS.byte)
                if n > MAX_BYTES:
                    raise fault(f"{t.__name__} of {n} items exceeds the {MAX_BYTES} limit")
        elif t is list or t is dict or t is tuple:
            n = len(value)
            self._charge(n * CGAS.item)
            if n > MAX_ITEMS:
                raise fault(f"{t.__name__} of {n} items exceeds the {MAX_ITEMS}-item limit")
        return value

    def deep(self, value: Any) -> int:
        """Refuse containers nested deeper than ``MAX_NESTING`` (or cyclic); charge per item.

        Returns an upper estimate of the value's printed size.
        """
        if type(value) not in _CONTAINERS:
            return _scalar_size(value)
        stack: list[tuple[Any, int]] = [(value, 1)]
        size = 0
        convert = 0  # big ints print in quadratic time
        while stack:
            item, depth = stack.pop()
            if depth > MAX_NESTING:
                raise fault(f"value nested deeper than {MAX_NESTING} levels (or cyclic)")
            children = item.items() if type(item) is dict else item
            self._charge((1 + len(item)) * CGAS.deep)
            size += 2 + 2 * len(item)
            if type(item) is dict:
                for key, child in children:
                    if type(key) is tuple:
                        size += 2 + sum(_scalar_size(k) + 2 for k in key)
                    else:
                        size += _scalar_size(key)
                    if type(child) in _CONTAINERS:
                        stack.append((child, depth + 1))
                    else:
                        one = _scalar_size(child)
                        size += one
                        if one > 24 and type(child) is int:
                            convert += one * one
            else:
                for child in children:
                    if type(child) in _CONTAINERS:
                        stack.append((child, depth + 1))
                    else:
                        one = _scalar_size(child)
                        size += one
                        if one > 24 and type(child) is int:
                            convert += one * one
        # Comparing, printing or sorting the value touches every byte of it once.
        self._charge((size >> 6) + (convert >> 12))
        return size

    def tup(self, value: tuple[Any, ...]) -> tuple[Any, ...]:
        """A tuple display: bound the nesting of tuples (they are hashed as dict keys)."""
        for item in value:
            if type(item) is tuple:
                self.deep(value)
                break
        return value

    def items(self, iterable: Any) -> list[Any] | tuple[Any, ...]:
        """Materialise ``iterable`` charging per item and bounding the count."""
        t = type(iterable)
        if t is list or t is tuple:
            self._charge(len(iterable) * CGAS.iteration)
            return iterable  # type: ignore[no-any-return]
        if isinstance(iterable, HostObject):
            raise fault("storage objects cannot be iterated")
        out: list[Any] = []
        charge = self._charge
        for item in iterable:
            charge(CGAS.iteration)
            out.append(item)
            if len(out) > MAX_ITEMS:
                raise fault(f"more than {MAX_ITEMS} items")
        return out

    def it(self, iterable: Any, steps: int) -> Iterator[Any]:
        """A comprehension's iterable: charge ``steps`` per item."""
        if isinstance(iterable, HostObject):
            raise fault("storage objects cannot be iterated")
        charge = self._charge
        cost = steps * CGAS.step
        for item in iterable:
            charge(cost)
            yield item

    # OPERATORS

    def add(self, a: Any, b: Any) -> Any:
        """``a + b``."""
        r = a + b
        if type(r) is int and -(2**63) <= r < 2**64:
            return r
        return self.s(r)

    def sub(self, a: Any, b: Any) -> Any:
        """``a - b``."""
        r = a - b
        if type(r) is int and -(2**63) <= r < 2**64:
            return r
        return self.s(r)

    def mul(self, a: Any, b: Any) -> Any:
        """``a * b``; sequence repetition is sized before it is built."""
        ta, tb = type(a), type(b)
        if ta in _INTLIKE and tb in _INTLIKE:
            self._charge(_mul_cost(a, b))
            return self.s(a * b)
        seq, n = (a, b) if tb in _INTLIKE else (b, a)
        if type(n) in _INTLIKE and type(seq) in (str, bytes, list, tuple) and n > 0:
            limit = MAX_BYTES if type(seq) in (str, bytes) else MAX_ITEMS
            if len(seq) * n > limit:
                raise fault(
                    f"repetition would make {len(seq) * n} items, over the limit of {limit}"
                )
        return self.s(a * b)

    def floordiv(self, a: Any, b: Any) -> Any:
        """``a // b``: long division costs the product of the operands' sizes."""
        if type(a) in _INTLIKE and type(b) in _INTLIKE:
            self._charge(_mul_cost(a, b))
        return a // b

    def divmod(self, a: Any, b: Any) -> Any:
        """``divmod(a, b)``."""
        if type(a) in _INTLIKE and type(b) in _INTLIKE:
            self._charge(_mul_cost(a, b))
        return divmod(a, b)

    def rshift(self, a: Any, b: Any) -> Any:
        """``a >> b``."""
        return self.s(a >> b)

    def band(self, a: Any, b: Any) -> Any:
        """``a & b``."""
        return self.s(a & b)

    def bxor(self, a: Any, b: Any) -> Any:
        """``a ^ b``."""
        return self.s(a ^ b)

    def pow(self, a: Any, b: Any) -> Any:
        """``a ** b`` on integers: sized before computing; no negative exponents."""
        if type(a) not in _INTLIKE or type(b) not in _INTLIKE:
            raise fault("'**' takes integers")
        if b < 0:
            raise fault("negative exponent (would make a float)")
        bits = abs(a).bit_length()
        if bits > 1 and (bits - 1) * b + 1 > MAX_INT_BITS:
            raise fault(f"power exceeds the {MAX_INT_BITS}-bit integer limit")
        if bits > 1:
            words = ((bits * b) >> 6) + 1  # the result's size: squarings up to it
            self._charge((words * words) >> _MUL_SHIFT)
        return self.s(a**b)

    def lshift(self, a: Any, b: Any) -> Any:
        """``a << b``: sized before computing."""
        if (
            type(a) in _INTLIKE
            and type(b) in _INTLIKE
            and a
            and b > 0
            and abs(a).bit_length() + b > MAX_INT_BITS
        ):
            raise fault(f"shift exceeds the {MAX_INT_BITS}-bit integer limit")
        return self.s(a << b)

    def mod(self, a: Any, b: Any) -> Any:
        """``a % b``; '%'-formatting of str and bytes is refused."""
        if type(a) in (str, bytes):
            raise fault("'%' formatting is not allowed; use f-strings")
        if type(a) in _INTLIKE and type(b) in _INTLIKE:
            self._charge(_mul_cost(a, b))
        return self.s(a % b)

    def bor(self, a: Any, b: Any) -> Any:
        """``a | b`` (ints, dict merge: each key of ``b`` is looked up in the copy of ``a``)."""
        if type(b) is dict:
            self.merge_cost(b)
        return self.s(a | b)

    def merge_cost(self, other: dict[Any, Any]) -> None:
        """Charge merging ``other`` into a dict: each key hashed and compared once."""
        size = 0
        for key in other:
            if type(key) is str or type(key) is bytes:
                size += len(key)
            elif type(key) is tuple:
                size += self.compare_weight(key) << 6
        self._charge(len(other) + (size >> 4))

    def iadd(self, a: Any, b: Any) -> Any:
        """``a += b``: lists extend in place."""
        if type(a) is list:
            extra = self.items(b)
            if len(a) + len(extra) > MAX_ITEMS:
                raise fault(f"list would exceed the {MAX_ITEMS}-item limit")
            a += extra
            return a
        return self.add(a, b)

    def imul(self, a: Any, b: Any) -> Any:
        """``a *= b``."""
        return self.mul(a, b)

    def ior(self, a: Any, b: Any) -> Any:
        """``a |= b``: dicts update in place."""
        if type(a) is dict:
            self.m(a, "update", b)
            return a
        return self.bor(a, b)

    # COMPARISONS

    def _cmp_check(self, a: Any, b: Any) -> None:
        ta, tb = type(a), type(b)
        if ta in _SCALARS and tb in _SCALARS:
            if (ta is str or ta is bytes) and len(a) > 256:
                self._charge(len(a) >> 6)
            if (tb is str or tb is bytes) and len(b) > 256:
                self._charge(len(b) >> 6)
            return
        self.deep(a)
        self.deep(b)

    def ceq(self, a: Any, b: Any) -> bool:
        """``a == b``."""
        self._cmp_check(a, b)
        return bool(a == b)

    def cne(self, a: Any, b: Any) -> bool:
        """``a != b``."""
        self._cmp_check(a, b)
        return bool(a != b)

    def clt(self, a: Any, b: Any) -> bool:
        """``a < b``."""
        self._cmp_check(a, b)
        return bool(a < b)

    def cle(self, a: Any, b: Any) -> bool:
        """``a <= b``."""
        self._cmp_check(a, b)
        return bool(a <= b)

    def cgt(self, a: Any, b: Any) -> bool:
        """``a > b``."""
        self._cmp_check(a, b)
        return bool(a > b)

    def cge(self, a: Any, b: Any) -> bool:
        """``a >= b``."""
        self._cmp_check(a, b)
        return bool(a >= b)

    def cin(self, a: Any, b: Any) -> bool:
        """``a in b``: a dict lookup, a substring search or a scan comparing with each item."""
        tb = type(b)
        if tb is dict:
            self.key_cost(a)
            return a in b
        if isinstance(b, HostObject):
            return a in b  # type: ignore[operator]
        if tb is str or tb is bytes:
            if type(a) is tb:
                self._charge(search_cost(len(b), len(a)))
            else:  # an int in bytes: a scan
                self._charge(len(b) >> 4)
            return a in b
        if tb is range:
            return type(a) in _INTLIKE and a in b
        if tb in (list, tuple):
            self._charge(len(b) * self.compare_weight(a))
            return a in b
        values = self.items(b)
        self._charge(len(values) * self.compare_weight(a))
        return a in values

    def cnotin(self, a: Any, b: Any) -> bool:
        """``a not in b``."""
        return not self.cin(a, b)

    def chain(self, left: Any, ops: tuple[str, ...], *rights: Callable[[], Any]) -> bool:
        """A chained comparison ``a < b <= c``: operands evaluated once, left to right."""
        for op, thunk in zip(ops, rights, strict=True):
            right = thunk()
            if not _CMPS[op](self, left, right):
                return False
            left = right
        return True

    # ITEMS AND METHODS

    def k(self, key: Any) -> Any:
        """A key about to be stored in a dict (display, comprehension, ``d[k] = v``, ...).

        Only keys whose hash a contract cannot predict or repeat may enter a dict: ``str``
        and ``bytes`` (hashed by the interpreter with its per-process secret seed), and
        ``bool`` / ``None`` (three values, too few to collide). ``int`` hashes are the
        value modulo 2**61-1, so int keys could be chosen to collide and make every dict
        operation scan the whole table. Tuples are refused too: a tuple's hash mixes its
        items' hashes, and distinct items can share one (``'ab'`` and ``b'ab'``; a str
        stored one, two or four bytes per character hashes its raw buffer), so 8-item
        tuples of such look-alikes give 3**8 distinct keys with a single hash, secret seed
        or not. At most four str/bytes values share a hash: harmless.
        """
        t = type(key)
        if t is str or t is bytes:
            if len(key) > 64:
                self._charge(len(key) >> 4)
            return key
        if key is None or t is bool:
            return key
        raise fault(
            f"dict keys are str, bytes, bool or None (not {_type_name(key)}): "
            "use str(k) for numbers and a joined str for several parts"
        )

    def key_cost(self, key: Any) -> None:
        """Charge a dict lookup of ``key``: hashing it and comparing it with a stored key."""
        t = type(key)
        if t is str or t is bytes:
            if len(key) > 64:
                self._charge(len(key) >> 4)
        elif t is tuple:
            self._charge(len(key) * self.compare_weight(key))

    def compare_weight(self, value: Any) -> int:
        """An upper bound, in gas, of comparing ``value`` with anything once (at least 1):
        an equality test stops at the smaller operand, and sizes differ before contents."""
        t = type(value)
        if t is str or t is bytes:
            return 1 + (len(value) >> 6)
        if t is int:
            return 1 + (int(value).bit_length() >> 9)
        if t in _CONTAINERS:
            return 1 + (self.deep(value) >> 6)
        return 1

    def gi(self, obj: Any, key: Any) -> Any:
        """``obj[key]`` (not a slice)."""
        if type(obj) is dict:
            self.key_cost(key)
        return obj[key]

    def si(self, obj: Any, key: Any, value: Any) -> None:
        """``obj[key] = value``."""
        t = type(obj)
        if t is dict:
            if key not in obj:
                self.k(key)
                if len(obj) >= MAX_ITEMS:
                    raise fault(f"dict would exceed the {MAX_ITEMS}-item limit")
            else:
                self.key_cost(key)
        elif t is list and type(key) is slice:
            value = self.items(value)
            if len(obj) + len(value) > MAX_ITEMS:
                raise fault(f"list would exceed the {MAX_ITEMS}-item limit")
            self._charge(len(obj) >> 4)  # the items after the slice move
        obj[key] = value

    def delete(self, obj: Any, key: Any) -> None:
        """``del obj[key]`` (a list moves the items after ``key``)."""
        t = type(obj)
        if t is list:
            self._charge(len(obj) >> 4)
        elif t is dict:
            self.key_cost(key)
        del obj[key]

    def aug(self, obj: Any, key: Any, op: str, value: Any) -> None:
        """``obj[key] op= value``."""
        self.si(obj, key, self.binop(op, self.gi(obj, key), value))

    def binop(self, op: str, a: Any, b: Any) -> Any:
        """The operator called ``op`` (as the instrumenter names it)."""
        return _OPS[op](self, a, b)

    def m(self, obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        """``obj.name(*args, **kwargs)`` for the allowed method names."""
        if isinstance(obj, HostObject):
            method = getattr(obj, name, None)
            if method is None:
                raise fault(f"{type(obj).__name__} has no method {name!r}")
            return method(*args, **kwargs)
        t = type(obj)
        if name == "sort" and "key" in kwargs:
            raise fault("list.sort(key=...) is not available; use sorted(x, key=f)")
        if name in ("encode", "decode") and kwargs:
            check_encoding(kwargs.get("encoding", "utf-8"), kwargs.get("errors", "strict"))
        guard = _GUARDS.get((t, name))
        if guard is None:
            if t not in _METHOD_TYPES or not hasattr(obj, name):
                raise fault(f"{_type_name(obj)} has no method {name!r}")
        else:
            args = guard(self, obj, args)
        self._charge(CGAS.method)
        self._method_cost(t, obj, name, args)
        result = getattr(obj, name)(*args, **kwargs)
        if (t is list or t is dict) and len(obj) > MAX_ITEMS:
            raise fault(f"{t.__name__} exceeds the {MAX_ITEMS}-item limit")
        if t is dict:
            if name == "items":
                self._charge(2 * len(obj) * CGAS.item)
                return [self.tup(pair) for pair in result]
            if name in ("keys", "values"):
                # Lists, not views: views compare and combine as sets ('d.keys() | e.keys()'
                # is a set, iterated in hash order), which contracts must not see.
                self._charge(len(obj) * CGAS.item)
                return list(result)
        return self.s(result)

    def _method_cost(self, t: type, obj: Any, name: str, args: tuple[Any, ...]) -> None:
        """Charge the work a method of a built-in value does beyond its call (run before it)."""
        charge = self._charge
        for arg in args:  # every argument is read at least once
            ta = type(arg)
            if ta is str or ta is bytes:
                if len(arg) > 64:
                    charge(len(arg) >> 4)
            elif ta is tuple:  # startswith(("a", "b")) compares with each
                size = 0
                for item in arg:
                    if type(item) is str or type(item) is bytes:
                        size += len(item)
                charge(len(arg) + (size >> 4))
        if t is str or t is bytes:
            n = len(obj)
            if n > 64:
                charge(n >> 4)
            if name in _SEARCH_METHODS and args and type(args[0]) is t:
                charge(search_cost(n, len(args[0]), name in _REVERSE_SEARCH))
            elif name in _STRIP_METHODS and args and type(args[0]) is t:
                charge((n * len(args[0])) >> 6)  # each stripped item looked up in the set
        elif t is list:
            if name in _LINEAR_LIST_METHODS:
                charge(len(obj) >> 4)
            if name in _COMPARING_LIST_METHODS and args:
                charge(len(obj) * self.compare_weight(args[0]))
        elif t is tuple:
            if name in _COMPARING_LIST_METHODS and args:
                charge(len(obj) * self.compare_weight(args[0]))
        elif t is dict:
            if name in ("get", "pop") and args:
                self.key_cost(args[0])
            elif name == "setdefault" and args:
                if args[0] in obj:
                    self.key_cost(args[0])
                else:
                    self.k(args[0])
            elif name == "clear":
                charge(len(obj) >> 4)

    def a(self, obj: Any, name: str) -> Any:
        """``obj.name`` not directly called: host objects only."""
        if not isinstance(obj, HostObject):
            raise fault(f"{name!r} of a {_type_name(obj)} must be called directly: x.{name}(...)")
        try:
            return getattr(obj, name)
        except AttributeError:
            raise fault(f"{type(obj).__name__} has no attribute {name!r}") from None

    def fmt(self, value: Any, conversion: int) -> str:
        """An f-string value: data only (printing a function would leak an address)."""
        self._charge(CGAS.method)
        size = self.deep(value)
        if type(value) is int and size > 24:  # decimal conversion is quadratic
            self._charge((size * size) >> 12)
        if size > MAX_BYTES:
            raise fault(f"formatted value would exceed {MAX_BYTES} characters")
        _require_data(value)
        text = ascii(value) if conversion == 97 else repr(value) if conversion == 114 else None
        if text is None:
            text = value if type(value) is str else str(value)
        return self.s(text)  # type: ignore[no-any-return]


#: Long multiplication and division of two integers of ``a`` and ``b`` 64-bit words cost
#: about ``a * b`` word operations; one gas covers ``2 ** _MUL_SHIFT`` of them.
_MUL_SHIFT = 3


def _mul_cost(a: int, b: int) -> int:
    """Gas of multiplying or dividing ``a`` and ``b`` beyond the per-node price."""
    wa = (abs(a).bit_length() >> 6) + 1
    wb = (abs(b).bit_length() >> 6) + 1
    return (wa * wb) >> _MUL_SHIFT


def search_cost(n: int, m: int, reverse: bool = False) -> int:
    """Gas of searching a needle of ``m`` items in a haystack of ``n``.

    CPython's forward string search runs the two-way algorithm (linear) when the haystack
    is long (30,000 items, or 2,500 with a needle of 100 or more) and the needle has at
    least 6 items; otherwise, and for every reverse search (``rfind``, ``rsplit``, ...),
    it runs a simpler loop that compares up to ``n * m`` items on adversarial input
    (``'a' * 98 + 'ba'`` searched in ``'a' * 29000``). Gas follows that worst case.
    """
    if m <= 1 or n == 0:
        return n >> 4
    linear = (n >= 30000 and m >= 6) or (n >= 2500 and m >= 100)
    if linear and not reverse:
        return (n + m) >> 3
    return ((n + m) >> 4) + ((n * min(m, n)) >> 6)


def _scalar_size(value: Any) -> int:
    t = type(value)
    if t is str:
        return 10 * len(value) + 2  # worst case of repr/ascii escapes (\U0001f600)
    if t is bytes:
        return 4 * len(value) + 3
    if t is int:
        return value.bit_length() // 3 + 2  # type: ignore[no-any-return]
    return 5


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__name__ if t in _METHOD_TYPES or t in _SCALARS else "this value"


def _require_data(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        t = type(item)
        if t in _SCALARS:
            continue
        if t is list or t is tuple:
            stack.extend(item)
        elif t is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            raise fault("only data (int, str, bytes, bool, None, list, tuple, dict) can be printed")


def _guard_join(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(args) != 1:
        raise fault("join takes one argument")
    parts = m.items(args[0])
    total = len(obj) * len(parts)
    for part in parts:
        if type(part) in (str, bytes):
            total += len(part)
    if total > MAX_BYTES:
        raise fault(f"join would make {total} characters, over the limit of {MAX_BYTES}")
    return (parts,)


def _guard_replace(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(args) not in (2, 3) or type(args[0]) is not type(obj) or type(args[1]) is not type(obj):
        raise fault("replace takes (old, new[, count]) of the same type")
    old, new = args[0], args[1]
    m.g(search_cost(len(obj), len(old)))  # before counting: the count is a search too
    count = len(obj) + 1 if not old else obj.count(old)
    if len(args) == 3 and type(args[2]) is int and args[2] >= 0:
        count = min(count, args[2])
    total = len(obj) + count * max(0, len(new) - len(old))
    if total > MAX_BYTES:
        raise fault(f"replace would make {total} characters, over the limit of {MAX_BYTES}")
    return args


def _guard_extend(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(args) != 1:
        raise fault("extend takes one argument")
    extra = m.items(args[0])
    if len(obj) + len(extra) > MAX_ITEMS:
        raise fault(f"list would exceed the {MAX_ITEMS}-item limit")
    return (extra,)


def _guard_grow(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(obj) >= MAX_ITEMS:
        raise fault(f"{type(obj).__name__} would exceed the {MAX_ITEMS}-item limit")
    return args


def _guard_update(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(args) != 1:
        raise fault("update takes one argument")
    other = args[0]
    if type(other) is not dict:
        other = dict(m.items(other))
        for key in other:
            m.k(key)
    m.merge_cost(other)
    if len(obj) + len(other) > MAX_ITEMS:
        raise fault(f"dict would exceed the {MAX_ITEMS}-item limit")
    return (other,)


def _guard_compare_arg(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if args:
        m.deep(args[0])  # bounds its nesting before any comparison recurses into it
    return args


def _guard_sort(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if args:
        raise fault("sort takes keyword arguments only (reverse); use sorted(x, key=f)")
    rounds = max(1, len(obj).bit_length())
    size = m.deep(obj)
    m.g(len(obj) * rounds + (size >> 6) * rounds)  # each item is compared ~log2(n) times
    return args


def _guard_to_bytes(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    length = args[0] if args else 1
    if type(length) is not int or not 0 <= length <= MAX_BYTES:
        raise fault(f"to_bytes length must be 0-{MAX_BYTES}")
    return args


#: Text encodings a contract may use: linear, table-free codecs only (no idna/punycode,
#: whose decoders have had super-linear cases, and no bytes-to-bytes codecs).
ENCODINGS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1"})
ERROR_MODES = frozenset({"strict", "replace", "ignore"})


def check_encoding(encoding: Any, errors: Any = "strict") -> None:
    """Refuse encodings and error modes outside the small deterministic set."""
    if type(encoding) is not str or encoding.lower() not in ENCODINGS:
        raise fault(f"encoding must be one of {sorted(ENCODINGS)}")
    if type(errors) is not str or errors not in ERROR_MODES:
        raise fault(f"errors must be one of {sorted(ERROR_MODES)}")


def _guard_codec(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(args) > 2:
        raise fault("encode/decode take (encoding, errors)")
    check_encoding(*(args or ("utf-8",)))
    return args


def _guard_copy(m: Machine, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    m.s(obj)
    return args


_Guard = Callable[[Machine, Any, tuple[Any, ...]], tuple[Any, ...]]
_GUARDS: dict[tuple[type, str], _Guard] = {
    (str, "join"): _guard_join,
    (bytes, "join"): _guard_join,
    (str, "replace"): _guard_replace,
    (bytes, "replace"): _guard_replace,
    (list, "extend"): _guard_extend,
    (list, "append"): _guard_grow,
    (list, "insert"): _guard_grow,
    (dict, "setdefault"): _guard_grow,
    (dict, "update"): _guard_update,
    (list, "index"): _guard_compare_arg,
    (list, "count"): _guard_compare_arg,
    (list, "remove"): _guard_compare_arg,
    (tuple, "index"): _guard_compare_arg,
    (tuple, "count"): _guard_compare_arg,
    (list, "sort"): _guard_sort,
    (list, "copy"): _guard_copy,
    (dict, "copy"): _guard_copy,
    (dict, "items"): _guard_copy,
    (int, "to_bytes"): _guard_to_bytes,
    (str, "encode"): _guard_codec,
    (bytes, "decode"): _guard_codec,
    (bool, "to_bytes"): _guard_to_bytes,
}
_METHOD_TYPES = frozenset({str, bytes, list, dict, int, bool, tuple})
#: List methods that move or visit every item (charged per 16 items).
_LINEAR_LIST_METHODS = frozenset({"insert", "pop", "remove", "index", "count", "reverse", "clear"})
#: List and tuple methods that compare their argument with every item.
_COMPARING_LIST_METHODS = frozenset({"index", "count", "remove"})
#: str and bytes methods that search their first argument in the value.
_SEARCH_METHODS = frozenset(
    {
        "find",
        "rfind",
        "index",
        "count",
        "split",
        "rsplit",
        "replace",
        "partition",
        "rpartition",
    }
)
_REVERSE_SEARCH = frozenset({"rfind", "rsplit", "rpartition"})
_STRIP_METHODS = frozenset({"strip", "lstrip", "rstrip"})

_OPS: dict[str, Callable[[Machine, Any, Any], Any]] = {
    "add": Machine.iadd,
    "sub": Machine.sub,
    "mul": Machine.imul,
    "pow": Machine.pow,
    "lshift": Machine.lshift,
    "mod": Machine.mod,
    "or": Machine.ior,
    "floordiv": Machine.floordiv,
    "rshift": Machine.rshift,
    "and": Machine.band,
    "xor": Machine.bxor,
}
_CMPS: dict[str, Callable[[Machine, Any, Any], bool]] = {
    "eq": Machine.ceq,
    "ne": Machine.cne,
    "lt": Machine.clt,
    "le": Machine.cle,
    "gt": Machine.cgt,
    "ge": Machine.cge,
    "in": Machine.cin,
    "notin": Machine.cnotin,
}


def helpers(machine: Machine) -> dict[str, Any]:
    """The ``_x*`` names instrumented code calls, bound to ``machine``."""
    m = machine
    table: dict[str, Any] = {
        "_xg": m.meter.charge,
        "_xenter": m.enter,
        "_xleave": m.leave,
        "_xs": m.s,
        "_xtup": m.tup,
        "_xit": m.it,
        "_xm": m.m,
        "_xa": m.a,
        "_xsi": m.si,
        "_xdel": m.delete,
        "_xaug": m.aug,
        "_xfmt": m.fmt,
        "_xadd": m.add,
        "_xsub": m.sub,
        "_xmul": m.mul,
        "_xpow": m.pow,
        "_xlshift": m.lshift,
        "_xmod": m.mod,
        "_xor": m.bor,
        "_xceq": m.ceq,
        "_xcne": m.cne,
        "_xclt": m.clt,
        "_xcle": m.cle,
        "_xcgt": m.cgt,
        "_xcge": m.cge,
        "_xcin": m.cin,
        "_xcnotin": m.cnotin,
        "_xchain": m.chain,
        "_xiadd": m.iadd,
        "_xisub": m.sub,
        "_ximul": m.imul,
        "_xipow": m.pow,
        "_xilshift": m.lshift,
        "_ximod": m.mod,
        "_xior": m.ior,
        "_xfloordiv": m.floordiv,
        "_xrshift": m.rshift,
        "_xand": m.band,
        "_xxor": m.bxor,
        "_xifloordiv": m.floordiv,
        "_xirshift": m.rshift,
        "_xiand": m.band,
        "_xixor": m.bxor,
        "_xk": m.k,
        "_xgi": m.gi,
    }
    return table


# SAFE BUILTINS


class SafeType(HostObject):
    """A data type offered to contracts: callable like the type, usable in ``isinstance``."""

    __slots__ = ("_build", "_m", "_type")

    def __init__(self, machine: Machine, tp: type, build: Callable[..., Any]) -> None:
        self._m = machine
        self._type = tp
        self._build = build

    def __call__(self, *args: Any) -> Any:
        return self._m.s(self._build(*args))

    @property
    def python_type(self) -> type:
        """The Python type this stands for (host side only: contracts cannot name it)."""
        return self._type

    @property
    def storable(self) -> bool:
        """True for the types a typed ``Value`` or ``Map`` may hold."""
        return self._type in (int, str, bytes, bool, list, dict)

    def from_bytes(self, data: Any, byteorder: str = "big", signed: bool = False) -> int:
        """``int.from_bytes``."""
        if self._type is not int or type(data) is not bytes:
            raise fault("from_bytes is int.from_bytes(bytes, byteorder)")
        self._m.s(data)
        return self._m.s(int.from_bytes(data, byteorder, signed=bool(signed)))  # type: ignore[arg-type, no-any-return]

    def fromhex(self, text: Any) -> bytes:
        """``bytes.fromhex``."""
        if self._type is not bytes or type(text) is not str:
            raise fault("fromhex is bytes.fromhex(str)")
        self._m.s(text)
        return bytes.fromhex(text)


def builtins(machine: Machine) -> dict[str, Any]:
    """The builtins a contract sees (``__builtins__`` of its module)."""
    m = machine

    def to_int(value: Any = 0, base: Any = None) -> int:
        if type(value) in (str, bytes):
            if len(value) > 4200:
                raise fault("int() of text longer than 4200 characters")
            m.g((len(value) * len(value)) >> 12)  # decimal conversion is quadratic
        return int(value) if base is None else int(value, base)

    def to_str(value: Any = "", encoding: Any = None) -> str:
        if encoding is not None:
            if type(value) is not bytes:
                raise fault("str(bytes, encoding) decodes bytes")
            check_encoding(encoding)
            return value.decode(encoding)
        return m.fmt(value, -1)

    def to_bytes(value: Any = b"", encoding: Any = None) -> bytes:
        if type(value) in _INTLIKE:
            if not 0 <= value <= MAX_BYTES:
                raise fault(f"bytes(n) needs 0 <= n <= {MAX_BYTES}")
            return bytes(value)
        if type(value) is str:
            check_encoding("utf-8" if encoding is None else encoding)
            return value.encode("utf-8" if encoding is None else encoding)
        if type(value) is bytes:
            return value
        return bytes(m.items(value))

    def to_list(value: Any = ()) -> list[Any]:
        return list(m.items(value))

    def to_tuple(value: Any = ()) -> tuple[Any, ...]:
        return m.tup(tuple(m.items(value)))

    def to_dict(value: Any = (), **kwargs: Any) -> dict[str, Any]:
        if type(value) is dict:  # its keys were checked when they went in
            out = dict(value)
        else:
            out = {}
            for pair in m.items(value):
                key, item = pair
                out[m.k(key)] = item
        out.update(kwargs)
        return out

    types = {
        "int": SafeType(m, int, to_int),
        "str": SafeType(m, str, to_str),
        "bytes": SafeType(m, bytes, to_bytes),
        "bool": SafeType(m, bool, bool),
        "list": SafeType(m, list, to_list),
        "tuple": SafeType(m, tuple, to_tuple),
        "dict": SafeType(m, dict, to_dict),
    }

    def is_instance(value: Any, kinds: Any) -> bool:
        wanted = kinds if type(kinds) is tuple else (kinds,)
        m.g(len(wanted))  # a tuple of kinds is checked one by one, here and in C
        real: list[type] = []
        for kind in wanted:
            if not isinstance(kind, SafeType):
                raise fault("isinstance takes int, str, bytes, bool, list, tuple or dict")
            real.append(kind._type)
        return isinstance(value, tuple(real))

    def total(values: Any, start: Any = 0) -> Any:
        acc = start
        values = m.items(values)
        m.g(len(values))  # one addition per item, beyond reading it
        for value in values:
            acc = m.add(acc, value)
        return acc

    def _ordered(args: tuple[Any, ...]) -> list[Any] | tuple[Any, ...]:
        values = m.items(args[0]) if len(args) == 1 else args
        if not values:
            raise fault("max()/min() of an empty sequence")
        m.deep(values)
        return values

    def keyed(values: Any, key: Any) -> list[Any]:
        # Keys are computed here and their nesting checked before any comparison.
        keys = [key(v) for v in values]
        m.deep(keys)
        return keys

    def maximum(*args: Any, key: Any = None) -> Any:
        values = _ordered(args)
        if key is None:
            return max(values)
        keys = keyed(values, key)
        return values[max(range(len(values)), key=keys.__getitem__)]

    def minimum(*args: Any, key: Any = None) -> Any:
        values = _ordered(args)
        if key is None:
            return min(values)
        keys = keyed(values, key)
        return values[min(range(len(values)), key=keys.__getitem__)]

    def ordered(values: Any, key: Any = None, reverse: Any = False) -> list[Any]:
        out = list(m.items(values))
        rounds = max(1, len(out).bit_length())
        m.g(len(out) * rounds)
        if key is None:
            m.g((m.deep(out) >> 6) * rounds)  # each item is compared ~log2(n) times
            out.sort(reverse=bool(reverse))
            return out
        keys = keyed(out, key)
        m.g((m.deep(keys) >> 6) * rounds)
        order = sorted(range(len(out)), key=keys.__getitem__, reverse=bool(reverse))
        return [out[i] for i in order]

    def enum(values: Any, start: Any = 0) -> Iterator[tuple[int, Any]]:
        if isinstance(values, HostObject):
            raise fault("storage objects cannot be iterated")
        for i, value in enumerate(values, start):
            m.g(3)  # the pair, its check and this generator's own step
            yield m.tup((i, value))

    def zipped(*iterables: Any) -> Iterator[tuple[Any, ...]]:
        if any(isinstance(it, HostObject) for it in iterables):
            raise fault("storage objects cannot be iterated")
        for row in zip(*iterables, strict=False):
            m.g(1 + len(iterables))
            yield m.tup(row)

    def backwards(values: Any) -> Iterator[Any]:
        if type(values) not in (list, tuple, str, bytes, range):
            raise fault("reversed() takes a list, tuple, str, bytes or range")
        out: Iterator[Any] = reversed(values)
        return out

    def every(values: Iterable[Any]) -> bool:
        return all(m.it(values, 1))

    def some(values: Iterable[Any]) -> bool:
        return any(m.it(values, 1))

    def length(value: Any) -> int:
        if isinstance(value, HostObject):
            raise fault("storage objects have no length")
        return len(value)

    return {
        **types,
        "abs": abs,
        "all": every,
        "any": some,
        "divmod": m.divmod,
        "enumerate": enum,
        "isinstance": is_instance,
        "len": length,
        "max": maximum,
        "min": minimum,
        "range": range,
        "reversed": backwards,
        "sorted": ordered,
        "sum": total,
        "zip": zipped,
        "True": True,
        "False": False,
        "None": None,
    }
