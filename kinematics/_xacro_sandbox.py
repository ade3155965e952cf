"""The xacro sandbox: runs the maintained ``xacro`` package on untrusted input, in a child
process started by :mod:`kinematics._xacro`.

This module imports only the standard library (plus ``xacro`` and ``yaml`` in the child) so
that the child starts fast and runs with a memory cap; it is executed as a script
(``python -I -P _xacro_sandbox.py``), reads one JSON request on stdin and writes one JSON
reply on stdout. Its expression checker (:func:`evaluate`) is importable for tests.

What the hooks enforce, on top of the child's wall-time and memory caps:

- **No code:** every ``${...}`` and ``$(eval ...)`` expression is parsed with :mod:`ast` and
  checked before anything runs: no name or attribute starting with ``_`` anywhere in the
  tree; no lambda, comprehension, generator, walrus, star-argument or ``await``; calls only
  of the functions xacro documents (``math``, the ``python`` builtins it exposes except
  ``type``/``vars``, ``xacro.*``) and of plain-data methods of str/list/dict (``format``
  only with plain fields). The checked tree is then evaluated by a small interpreter (never
  :func:`eval`), which refuses a power, repetition, shift or concatenation *before*
  computing it when the result would pass :data:`MAX_INT_BITS` or :data:`MAX_VALUE`.
- **No reads outside the package:** every file xacro opens (the top file, ``include``,
  ``xacro.load_yaml``) must resolve (``realpath``: symlinks followed) inside one of the
  allowed roots (the description's package and the ``package_dirs``); ``$(env ...)`` is
  refused and ``$(optenv NAME default)`` gives its default (environment variables are not
  read).
- **Bounded work:** macro nesting (:data:`MAX_MACRO_DEPTH`), macro calls
  (:data:`MAX_MACRO_CALLS`), elements processed (:data:`MAX_ELEMENTS`), the size of every
  evaluated text (:data:`MAX_VALUE`) and of the output (``max_bytes``), and the deadline,
  checked at every expression, element and macro call.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import json
import math
import operator
import os
import re
import stat
import string
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

#: Largest string, list, tuple, dict or set an expression (or evaluated text) may build.
MAX_VALUE = 1 << 20
#: Largest integer an expression may build, in bits (about 4,900 decimal digits).
MAX_INT_BITS = 1 << 14
#: Largest field width or precision in a format (``'%9999d'``, ``'{:>9999}'``).
MAX_WIDTH = 10_000
#: Largest argument of ``math.factorial``/``comb``/``perm``.
MAX_FACTORIAL = 10_000
#: Deepest macro nesting (a macro calling a macro ...).
MAX_MACRO_DEPTH = 100
#: Most macro calls in one expansion (the doubling bomb is refused here).
MAX_MACRO_CALLS = 2_000
#: Most XML elements evaluated in one expansion.
MAX_ELEMENTS = 100_000

_PACKAGE_XML_NAME = re.compile(rb"<name>\s*([^<\s]+)\s*</name>")
#: How deep below each ``package_dirs`` entry packages are looked for.
SEARCH_DEPTH = 3
#: Most folders looked at below one ``package_dirs`` entry.
SEARCH_FOLDERS = 20_000


class Refused(Exception):
    """A sandbox rule was broken; ``message`` names the cap or the path."""


# --------------------------------------------------------------------------- expressions

_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.Subscript,
    ast.Slice, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
    ast.keyword, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.FormattedValue,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
    ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor, ast.UAdd, ast.USub, ast.Not, ast.Invert,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot,
)
_WHAT = {ast.Lambda: "a lambda", ast.ListComp: "a comprehension",
         ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
         ast.GeneratorExp: "a generator", ast.NamedExpr: "an assignment (:=)",
         ast.Starred: "a star argument", ast.Await: "await", ast.Yield: "yield",
         ast.YieldFrom: "yield", ast.MatMult: "the @ operator"}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
    ast.Invert: operator.invert,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
#: Plain-data methods an expression may call, by the type that has them.
_METHODS: dict[type, frozenset[str]] = {
    str: frozenset((
        "split", "rsplit", "strip", "lstrip", "rstrip", "upper", "lower", "title",
        "capitalize", "swapcase", "casefold", "startswith", "endswith", "find", "rfind",
        "index", "rindex", "count", "isdigit", "isnumeric", "isdecimal", "isalpha",
        "isalnum", "isspace", "islower", "isupper", "partition", "rpartition", "splitlines",
        "removeprefix", "removesuffix", "replace", "join", "format", "zfill", "ljust",
        "rjust", "center")),
    list: frozenset(("index", "count")),
    tuple: frozenset(("index", "count")),
    dict: frozenset(("get", "keys", "values", "items")),
    int: frozenset(("bit_length", "is_integer")),
    float: frozenset(("is_integer",)),
}
#: Builtins xacro exposes that an expression may call (``type`` and ``vars`` are not).
_BUILTINS = frozenset((
    "list", "dict", "map", "len", "str", "float", "int", "bool", "min", "max", "round",
    "abs", "all", "any", "complex", "divmod", "enumerate", "filter", "frozenset", "hash",
    "isinstance", "issubclass", "ord", "repr", "reversed", "slice", "set", "sum", "tuple",
    "zip", "sorted", "range"))
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
_FIELD = re.compile(r"\d*|[A-Za-z]\w*")
_PERCENT = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")

#: Callables an expression may call, by identity (filled by :func:`allow`).
_ALLOWED: dict[int, Any] = {}


def allow(*funcs: Any) -> None:
    """Let expressions call these exact objects."""
    for f in funcs:
        _ALLOWED[id(f)] = f


allow(*(getattr(builtins, n) for n in _BUILTINS))
allow(*(v for k, v in vars(math).items() if not k.startswith("_") and callable(v)))


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(text: str, limit: int) -> str:
    """``text`` cut to its last ``limit`` characters (paths: the file name survives)."""
    return text if len(text) <= limit else "…" + text[len(text) - limit + 1:]


def _check_tree(tree: ast.AST, text: str) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            what = _WHAT.get(type(node), f"{type(node).__name__}")
            raise Refused(f"expression ${{{_short(text)}}}: {what} is not allowed in a "
                          "description (only arithmetic, comparisons, conditionals, literals, "
                          "properties and xacro's functions)")
        name = (node.id if isinstance(node, ast.Name) else
                node.attr if isinstance(node, ast.Attribute) else
                node.arg if isinstance(node, ast.keyword) else None)
        if name is not None and name.startswith("_"):
            raise Refused(f"expression ${{{_short(text)}}}: the name {name!r} is not allowed "
                          "(names and attributes starting with '_' are refused)")


def _sized(value: Any, what: str) -> Any:
    """``value``, refused when larger than the caps."""
    if isinstance(value, _SIZED) and len(value) > MAX_VALUE:
        raise Refused(f"{what} builds a value of {len(value)} items/characters, more than the "
                      f"cap of {MAX_VALUE} (MAX_VALUE)")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise Refused(f"{what} builds an integer of {value.bit_length()} bits, more than the "
                      f"cap of {MAX_INT_BITS} bits (MAX_INT_BITS)")
    return value


def _bits(x: Any) -> int:
    return abs(x).bit_length() if isinstance(x, int) else 0


def _too_big(n: float, what: str, cap: int, unit: str, name: str) -> Refused:
    return Refused(f"{what} would build {n:.3g} {unit}, more than the cap of {cap} {unit} "
                   f"({name}); refused before computing")


def _check_widths(fmt: str, what: str) -> None:
    for run in re.findall(r"\d+", fmt):
        if len(run) > 6 or int(run) > MAX_WIDTH:
            raise Refused(f"{what}: format width/precision {_short(run, 30)} is larger than the "
                          f"cap of {MAX_WIDTH} (MAX_WIDTH)")


def _binary(op: type, a: Any, b: Any, what: str) -> Any:
    if op is ast.Pow and isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        n = b * (_bits(a) - 1) if b < (1 << 40) else math.inf
        if n > MAX_INT_BITS:
            raise _too_big(n, f"{what}: {a if _bits(a) < 64 else 'an integer'} ** {b}",
                           MAX_INT_BITS, "bits", "MAX_INT_BITS")
    elif op is ast.Mult:
        for x, y in ((a, b), (b, a)):
            if isinstance(x, (str, bytes, list, tuple)) and isinstance(y, int) and y > 0:
                if len(x) * y > MAX_VALUE:
                    raise _too_big(len(x) * y, f"{what}: repetition ×{y}", MAX_VALUE, "items",
                                   "MAX_VALUE")
        if isinstance(a, int) and isinstance(b, int) and _bits(a) + _bits(b) > MAX_INT_BITS:
            raise _too_big(_bits(a) + _bits(b), f"{what}: product", MAX_INT_BITS, "bits",
                           "MAX_INT_BITS")
    elif op is ast.LShift and isinstance(a, int) and isinstance(b, int) and a and b > 0:
        if b > MAX_INT_BITS or _bits(a) + b > MAX_INT_BITS:
            raise _too_big(_bits(a) + b, f"{what}: shift", MAX_INT_BITS, "bits",
                           "MAX_INT_BITS")
    elif op is ast.Add and isinstance(a, _SIZED) and isinstance(b, _SIZED):
        if len(a) + len(b) > MAX_VALUE:
            raise _too_big(len(a) + len(b), f"{what}: concatenation", MAX_VALUE, "items",
                           "MAX_VALUE")
    elif op is ast.Mod and isinstance(a, str):
        for m in _PERCENT.finditer(a):
            if "*" in m.group(0):
                raise Refused(f"{what}: '*' widths in %-formats are not allowed")
            _check_widths(m.group(0), what)
    return _sized(_BINARY[op](a, b), what)


def _check_format_string(fmt: str, what: str) -> None:
    for _literal, field, spec, _conv in string.Formatter().parse(fmt):
        if field is not None and not _FIELD.fullmatch(field):
            raise Refused(f"{what}: format field {{{_short(field, 40)}}} is not allowed (only "
                          "plain names and positions)")
        if spec:
            if "{" in spec:
                raise Refused(f"{what}: nested format fields are not allowed")
            _check_widths(spec, what)


def _call(func: Any, args: list[Any], kwargs: dict[str, Any], what: str) -> Any:
    bound = getattr(func, "__self__", None)
    name = getattr(func, "__name__", "?")
    if id(func) not in _ALLOWED:
        if bound is None or isinstance(bound, type(math)) or not any(
                isinstance(bound, t) and name in m for t, m in _METHODS.items()):
            raise Refused(f"{what}: calling {_short(repr(func), 60)} is not allowed (only "
                          "xacro's documented functions: math, python builtins, xacro.*)")
        if isinstance(bound, str):
            _check_str_method(bound, name, args, what)
    for x in [*args, *kwargs.values()]:
        if isinstance(x, range) and len(x) > MAX_VALUE:
            raise _too_big(len(x), f"{what}: a range", MAX_VALUE, "items", "MAX_VALUE")
        if callable(x) and id(x) not in _ALLOWED:
            raise Refused(f"{what}: passing {_short(repr(x), 60)} as a function is not "
                          "allowed")
    if func is range:
        try:
            n = len(range(*args))
        except (TypeError, ValueError, OverflowError) as exc:
            raise Refused(f"{what}: range{tuple(args)}: {exc}") from None
        if n > MAX_VALUE:
            raise _too_big(n, f"{what}: range", MAX_VALUE, "items", "MAX_VALUE")
    elif func in (math.factorial, math.comb, math.perm):
        if any(isinstance(a, int) and abs(a) > MAX_FACTORIAL for a in args):
            raise Refused(f"{what}: {name}{tuple(args)!s:.60}: arguments above the cap of "
                          f"{MAX_FACTORIAL} (MAX_FACTORIAL)")
    elif func is sum and len(args) > 1 and not isinstance(args[1], (int, float, complex)):
        raise Refused(f"{what}: sum() with a non-numeric start is not allowed")
    return _sized(func(*args, **kwargs), what)


def _check_str_method(s: str, name: str, args: list[Any], what: str) -> None:
    if name == "format":
        _check_format_string(s, what)
    elif name in ("zfill", "ljust", "rjust", "center"):
        if args and isinstance(args[0], int) and args[0] > MAX_VALUE:
            raise _too_big(args[0], f"{what}: {name}", MAX_VALUE, "characters", "MAX_VALUE")
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        old, new = args[0], args[1]
        count = s.count(old) if old else len(s) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            count = min(count, args[2])
        n = len(s) + count * (len(new) - len(old))
        if n > MAX_VALUE:
            raise _too_big(n, f"{what}: replace", MAX_VALUE, "characters", "MAX_VALUE")
    elif name == "join" and args:
        items = args[0]
        if isinstance(items, (list, tuple)):
            n = sum(len(x) for x in items if isinstance(x, str)) + len(s) * max(len(items) - 1,
                                                                                0)
            if n > MAX_VALUE:
                raise _too_big(n, f"{what}: join", MAX_VALUE, "characters", "MAX_VALUE")
        elif not isinstance(items, (str, dict, set, frozenset)):
            raise Refused(f"{what}: join() takes a list, tuple or string here")


class _Interpreter:
    """Evaluates a checked expression tree; ``lookup(name)`` resolves names."""

    def __init__(self, lookup: Callable[[str], Any], text: str,
                 tick: Callable[[], None] | None):
        self.lookup = lookup
        self.what = f"expression ${{{_short(text, 80)}}}"
        self.tick = tick

    def ev(self, node: ast.AST) -> Any:  # noqa: C901 - one branch per node type
        if self.tick is not None:
            self.tick()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            try:
                return self.lookup(node.id)
            except KeyError:
                raise NameError(f"name '{node.id}' is not defined") from None
        if isinstance(node, ast.Attribute):
            return self.attribute(self.ev(node.value), node.attr)
        if isinstance(node, ast.Subscript):
            return self.ev(node.value)[self.ev(node.slice)]
        if isinstance(node, ast.Slice):
            return slice(*(None if x is None else self.ev(x)
                           for x in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.BinOp):
            return _binary(type(node.op), self.ev(node.left), self.ev(node.right), self.what)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self.ev(node.operand))
        if isinstance(node, ast.BoolOp):
            value: Any = None
            for v in node.values:
                value = self.ev(v)
                if (not value) if isinstance(node.op, ast.And) else value:
                    return value
            return value
        if isinstance(node, ast.Compare):
            left = self.ev(node.left)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self.ev(right_node)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.ev(node.body) if self.ev(node.test) else self.ev(node.orelse)
        if isinstance(node, ast.Call):
            func = self.ev(node.func)
            args = [self.ev(a) for a in node.args]
            kwargs = {k.arg: self.ev(k.value) for k in node.keywords if k.arg is not None}
            return _call(func, args, kwargs, self.what)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.ev(e) for e in node.elts]
            kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
            return kind(items)
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise Refused(f"{self.what}: ** in a dict display is not allowed")
            return {self.ev(k): self.ev(v)  # type: ignore[arg-type]
                    for k, v in zip(node.keys, node.values, strict=True)}
        if isinstance(node, ast.JoinedStr):
            return _sized("".join(str(self.ev(v)) for v in node.values), self.what)
        if isinstance(node, ast.FormattedValue):
            value = self.ev(node.value)
            if node.conversion != -1:
                convert: dict[int, Callable[[Any], str]] = {115: str, 114: repr, 97: ascii}
                value = convert[node.conversion](value)
            spec = "" if node.format_spec is None else str(self.ev(node.format_spec))
            _check_widths(spec, self.what)
            return format(value, spec)
        raise Refused(f"{self.what}: {type(node).__name__} is not allowed")  # pragma: no cover

    def attribute(self, obj: Any, attr: str) -> Any:
        kinds: Any = _namespaces()
        if kinds and isinstance(obj, kinds[0]):  # xacro namespace (math, python, xacro, ns)
            try:
                return obj[attr]
            except KeyError:
                raise NameError(f"name '{attr}' is not defined") from None
        for t, names in _METHODS.items():
            if isinstance(obj, t) and attr in names:
                return getattr(obj, attr)
        if kinds and isinstance(obj, kinds[1]) and not hasattr(dict, attr):
            return getattr(obj, attr)  # yaml dict: dotted key access
        raise Refused(f"{self.what}: attribute {attr!r} of a {type(obj).__name__} is not "
                      "allowed")


def _namespaces() -> tuple[type, type] | tuple[()]:
    mod = sys.modules.get("xacro")
    if mod is None:
        return ()
    return mod.NameSpace, mod.YamlDictWrapper


def evaluate(text: str, lookup: Callable[[str], Any],
             tick: Callable[[], None] | None = None) -> Any:
    """Check ``text`` (a Python expression as xacro writes it) and evaluate it.

    Raises:
        Refused: A rule is broken (the message names it); NameError etc. as Python would.
    """
    return _Interpreter(lookup, text, tick).ev(_checked(text))


@functools.lru_cache(maxsize=4096)
def _checked(text: str) -> ast.expr:
    """The checked tree of an expression (cached: macros evaluate the same text often)."""
    try:
        tree = ast.parse(text.strip(), "<expression>", "eval")
    except SyntaxError as exc:
        raise SyntaxError(f"invalid expression ${{{_short(text)}}}: {exc.msg}") from None
    _check_tree(tree, text)
    return tree.body


# ------------------------------------------------------------------------- files, packages

def package_root(top: str) -> str:
    """The description's package: the nearest folder at or above ``top``'s folder holding a
    ``package.xml``, else ``top``'s folder (realpaths)."""
    folder = os.path.dirname(os.path.realpath(top))
    d = folder
    while True:
        if os.path.isfile(os.path.join(d, "package.xml")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return folder
        d = parent


def inside(path: str, roots: Iterable[str]) -> bool:
    real = os.path.realpath(path)
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class PackageIndex:
    """Finds package folders below the caller's ``package_dirs`` (built lazily, once)."""

    def __init__(self, package_dirs: Any):
        self.explicit: dict[str, str] = {}
        self.roots: list[str] = []
        if isinstance(package_dirs, dict):
            self.explicit = {str(k): os.path.realpath(os.path.expanduser(v))
                             for k, v in package_dirs.items()}
        elif package_dirs is not None:
            self.roots = [os.path.realpath(os.path.expanduser(d)) for d in package_dirs]
        self._index: list[dict[str, str]] | None = None

    def folders(self) -> list[str]:
        return [*self.explicit.values(), *self.roots]

    def searched(self) -> str:
        if self.explicit:
            return ("searched the package_dirs mapping "
                    f"{_names(sorted(self.explicit), 300)}")
        if not self.roots:
            return "no package_dirs were given"
        return f"searched package_dirs {_names(self.roots, 300)}"

    def _build(self) -> list[dict[str, str]]:
        out = []
        for root in self.roots:
            names: dict[str, str] = {}
            level, seen = [root], 0
            for depth in range(SEARCH_DEPTH + 1):
                below: list[str] = []
                for folder in level:
                    declared = _package_xml_name(folder)
                    if declared is not None:
                        names.setdefault(declared, folder)
                    names.setdefault(os.path.basename(folder), folder)
                    if declared is not None and depth > 0:
                        continue  # ROS packages do not nest
                    if depth < SEARCH_DEPTH and seen < SEARCH_FOLDERS:
                        with contextlib.suppress(OSError):
                            subs = sorted(e.path for e in os.scandir(folder)
                                          if e.is_dir() and not e.name.startswith("."))
                            seen += len(subs)
                            below.extend(subs)
                level = below
            out.append(names)
        return out

    def find(self, package: str) -> str | None:
        if package in self.explicit:
            return self.explicit[package]
        if self._index is None:
            self._index = self._build()
        for names in self._index:
            if package in names:
                return names[package]
        return None


def _package_xml_name(folder: str) -> str | None:
    try:
        with open(os.path.join(folder, "package.xml"), "rb") as f:
            head = f.read(1 << 20)
    except OSError:
        return None
    m = _PACKAGE_XML_NAME.search(head)
    return m.group(1).decode("utf-8", "replace") if m else None


def _names(names: Iterable[object], limit: int = 200) -> str:
    items = [_short(repr(n), 60) for n in names]
    shown: list[str] = []
    used = 2
    for item in items:
        if shown and used + len(item) + 2 > limit:
            break
        shown.append(item)
        used += len(item) + 2
    rest = len(items) - len(shown)
    return "[" + ", ".join(shown) + (f", … (+{rest} more)" if rest else "") + "]"


# ------------------------------------------------------------------------------ the child

class _PackageNotFound(Exception):
    def __init__(self, package: str):
        super().__init__(package)
        self.package = package


class _Failure(Exception):
    """The reply's error: message, file, line."""

    def __init__(self, message: str, where: str, line: int | None = None):
        super().__init__(message)
        self.message, self.where, self.line = message, where, line


def _causes(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend([getattr(e, "exc", None), e.__cause__, e.__context__])


class _Sandbox:
    def __init__(self, request: dict[str, Any]):
        import xacro
        from xacro import substitution_args as sa

        self.xacro, self.sa = xacro, sa
        self.top: str = request["top"]
        self.cap: int = request["max_bytes"]
        self.deadline: float = request["deadline"]
        self.max_seconds: float = request["max_seconds"]
        self.index = PackageIndex(request["package_dirs"])
        self.roots = [package_root(self.top), *self.index.folders()]
        self.macro_calls = 0
        self.elements = 0
        self.ticks = 0

    # -- caps
    def tick(self) -> None:
        self.ticks += 1
        if self.ticks & 255 == 0 and time.time() > self.deadline:
            self.timeout()

    def timeout(self) -> None:
        raise Refused(f"xacro expansion took longer than the time cap of {self.max_seconds:g} s "
                      "(max_seconds=, environment variable KINEMATICS_XACRO_MAX_SECONDS)")

    def check_path(self, path: str, what: str) -> str:
        real = os.path.realpath(path)
        if not inside(real, self.roots):
            shown = repr(_tail(path, 160))
            if real != os.path.normpath(path):
                shown += f" (real path {_tail(real, 120)!r})"
            roots = "[" + ", ".join(repr(_tail(r, 100)) for r in self.roots[:4]) + (
                ", …]" if len(self.roots) > 4 else "]")
            raise Refused(f"{what} {shown} lies outside the description's package and the "
                          f"package_dirs {roots}; a description may only read files inside "
                          "them: pass the folder in package_dirs if you trust it")
        return real

    def read(self, path: str, what: str) -> bytes:
        """The bytes of a regular file inside the roots (never blocks on a FIFO)."""
        real = self.check_path(path, what)
        try:
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as e:
            raise OSError(e.errno, e.strerror, path) from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise Refused(f"{what} {_short(path, 200)!r} is not a regular file")
            data = f.read(self.cap + 1) if st.st_size <= self.cap else b""
        if st.st_size > self.cap or len(data) > self.cap:
            raise _Failure(f"xacro input is {max(st.st_size, len(data))} bytes, more than the "
                           f"cap of {self.cap} bytes; raise it with max_bytes= or the "
                           "environment variable KINEMATICS_URDF_MAX_BYTES", path)
        return data

    # -- hooks
    def install(self) -> None:
        xacro, sa = self.xacro, self.sa
        original_parse = xacro.parse
        original_eval_text = xacro.eval_text
        original_macro_call = xacro.handle_macro_call
        original_eval_all = xacro.eval_all
        original_load_yaml = xacro.load_yaml

        def parse(inp: Any, filename: str | None = None) -> Any:
            if inp is None and filename is not None:
                path = os.path.join(xacro.root_dir, filename)
                try:
                    data = self.read(path, "xacro file")
                except OSError as e:
                    xacro.filestack.pop()  # as xacro does: the error is not "in" this file
                    raise xacro.XacroException(f"{e.strerror}: {e.filename}", exc=e) from None
                _check_doctype(data, filename)
                return original_parse(data.decode("utf-8"), filename)
            return original_parse(inp, filename)

        def safe_eval(expr: str, symbols: Any, _locals: Any = None) -> Any:
            return evaluate(expr, symbols.__getitem__, self.tick)

        def eval_text(text: Any, symbols: Any) -> Any:
            if time.time() > self.deadline:
                self.timeout()
            return _sized(original_eval_text(text, symbols), "evaluated text")

        def handle_macro_call(node: Any, macros: Any, symbols: Any) -> Any:
            if node.tagName.startswith("xacro:"):
                self.macro_calls += 1
                if self.macro_calls > MAX_MACRO_CALLS:
                    raise Refused(f"more than {MAX_MACRO_CALLS} macro calls (the cap "
                                  "MAX_MACRO_CALLS; a macro bomb?)")
                if len(xacro.macrostack) >= MAX_MACRO_DEPTH:
                    raise Refused(f"macros nested deeper than the cap of {MAX_MACRO_DEPTH} "
                                  "(MAX_MACRO_DEPTH; a recursive macro?)")
                if time.time() > self.deadline:
                    self.timeout()
            return original_macro_call(node, macros, symbols)

        def eval_all(node: Any, macros: Any, symbols: Any) -> Any:
            self.elements += 1
            if self.elements > MAX_ELEMENTS:
                raise Refused(f"more than {MAX_ELEMENTS} XML elements evaluated (the cap "
                              "MAX_ELEMENTS)")
            if self.elements & 1023 == 0 and time.time() > self.deadline:
                self.timeout()
            return original_eval_all(node, macros, symbols)

        def load_yaml(filename: str) -> Any:
            path = xacro.abs_filename_spec(filename)
            self.read(path, "xacro.load_yaml file")  # inside, regular, within the size cap
            value = original_load_yaml(path)
            _check_yaml(value, path)
            return value

        def find(package: str) -> str:
            path = self.index.find(package)
            if path is None:
                raise _PackageNotFound(package)
            return path

        def env(name: str) -> str:
            raise Refused(f"$(env {_short(str(name), 60)}): environment variables are not read "
                          "when loading a description; pass the value as a xacro argument")

        def optenv(name: str, default: str = "") -> str:
            return default  # environment variables are not read: always the default

        def sub_eval(s: str, context: dict[str, Any]) -> str:
            args = context.setdefault("arg", {})

            def arg(name: str) -> Any:
                return sa.convert_value(sa._eval_arg(name, args=args), "auto")

            def dirname() -> str:
                return sa._eval_dirname(context.get("filename"))

            functions = {"arg": arg, "dirname": dirname, **sa._eval_dict}
            allow(arg, dirname)

            def lookup(name: str) -> Any:
                if name in functions:
                    return functions[name]
                return sa.convert_value(args[name], "auto")

            return str(evaluate(s, lookup, self.tick))

        box = self

        class _Glob:
            """``glob.glob`` for include patterns, whose fixed part must lie inside the roots
            (listing folders elsewhere would tell which files exist there)."""

            @staticmethod
            def glob(pattern: str, **kwargs: Any) -> list[str]:
                import glob as glob_module

                fixed = re.split(r"[*?[]", pattern, maxsplit=1)[0]
                box.check_path(os.path.dirname(fixed) or ".", "xacro include pattern folder")
                return [p for p in glob_module.glob(pattern, **kwargs)
                        if inside(p, box.roots)]

        xacro.glob = _Glob
        # the real open() inside load_yaml is reached only after check_path above
        xacro.parse = parse
        xacro.safe_eval = safe_eval
        xacro.eval_text = eval_text
        xacro.handle_macro_call = handle_macro_call
        xacro.eval_all = eval_all
        sa._eval_find = find
        sa._eval_env = env
        sa._eval_optenv = optenv
        sa._eval = sub_eval
        sa._eval_dict.update(find=find, env=env, optenv=optenv)
        g = xacro._global_symbols
        dict.__setitem__(g["xacro"], "load_yaml", load_yaml)
        g["load_yaml"] = load_yaml
        allow(load_yaml, find, env, optenv)
        # what xacro exposes: math (directly and as math.*), the python builtins listed in
        # _BUILTINS (python.*, some directly, some through deprecation wrappers), xacro.*
        allow(*(v for v in g["math"].values() if callable(v)))
        allow(*(g["python"][n] for n in _BUILTINS if n in g["python"]))
        allow(*(g["xacro"][k] for k in ("abs_filename", "dotify", "arg", "message", "warning",
                                        "error", "print_location", "fatal", "tokenize")))
        allow(*(g[k] for k in ("sorted", "range", "abs_filename", "dotify", *g["math"])
                if k in g and callable(g[k])))

    # -- run
    def expand(self, mappings: dict[str, str]) -> str:
        xacro = self.xacro
        self.check_path(self.top, "xacro file")
        try:
            doc = xacro.process_file(self.top, mappings=mappings, verbosity=0)
        except _Failure:
            raise
        except Exception as exc:
            raise self.failure(exc, mappings) from None
        _resolve_assets(doc, self.index)
        text = str(doc.toprettyxml(indent="  "))
        size = len(text.encode("utf-8"))
        if size > self.cap:
            raise _Failure(f"xacro output is {size} bytes, more than the cap of {self.cap} "
                           "bytes; raise it with max_bytes= or the environment variable "
                           "KINEMATICS_URDF_MAX_BYTES", self.top)
        return text

    def failure(self, exc: BaseException, given: dict[str, str]) -> _Failure:
        from xml.parsers import expat

        where, context = self.where()
        for cause in _causes(exc):
            if isinstance(cause, _Failure):
                return cause
            if isinstance(cause, Refused):
                return _Failure(f"xacro refused: {cause}{context}", where)
            if isinstance(cause, MemoryError):
                return _Failure("xacro expansion ran out of its memory cap (environment "
                                f"variable KINEMATICS_XACRO_MAX_MEMORY){context}", where)
            if isinstance(cause, RecursionError):
                return _Failure("xacro expansion nested deeper than the recursion cap "
                                f"(Python's recursion limit){context}", where)
        if isinstance(exc, expat.ExpatError):
            return _Failure(f"malformed XML in xacro input: {expat.ErrorString(exc.code)}"
                            f"{context}", where, exc.lineno)
        for cause in _causes(exc):
            if isinstance(cause, _PackageNotFound):
                return _Failure(
                    f"xacro: package {cause.package!r} not found (needed by "
                    f"$(find {cause.package}) or find()){context}; {self.index.searched()}; "
                    "pass the package's folder, or a folder holding it, in package_dirs",
                    where)
            if isinstance(cause, self.sa.ArgException):
                arg = str(cause.args[0]) if cause.args else "?"
                return _Failure(
                    f"xacro argument {arg!r} is required but not given{context}; pass "
                    f"xacro_args={{{arg!r}: ...}} (given: {_names(sorted(given))})", where)
        message = " ".join(str(exc).split()) or type(exc).__name__
        return _Failure(f"xacro could not expand the file: {_short(message, 300)}{context}",
                        where)

    def where(self) -> tuple[str, str]:
        xacro = self.xacro
        files = [f for f in (xacro.filestack or []) if f]
        macros = [m.body.getAttribute("name") for m in (xacro.macrostack or [])
                  if getattr(m, "body", None) is not None]
        context = ""
        if macros:
            inner = macros[::-1]
            called = f", called from {_names(inner[1:], 150)}" if len(inner) > 1 else ""
            context += f" (in macro {_short(repr(inner[0]), 80)}{called})"
        if len(files) > 1:
            context += f" (included from {_names(files[-2::-1], 150)})"
        return (files[-1] if files else self.top), context


def _check_yaml(value: Any, path: str) -> None:
    """Refuse YAML whose aliases expand to more than :data:`MAX_VALUE` items and characters
    (a "billion laughs" in YAML), or that refers to itself."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(v: Any) -> int:
        if isinstance(v, str):
            return len(v) + 1
        if not isinstance(v, (list, dict)):
            return 1
        if id(v) in sizes:
            return sizes[id(v)]
        if id(v) in busy:
            raise Refused(f"YAML file {_short(path, 200)!r} refers to itself (a recursive "
                          "alias)")
        busy.add(id(v))
        items = [*v.keys(), *v.values()] if isinstance(v, dict) else v
        n = 1
        for item in items:
            n += size(item)
            if n > MAX_VALUE:
                raise Refused(f"YAML file {_short(path, 200)!r} expands to more than "
                              f"{MAX_VALUE} items and characters (the cap MAX_VALUE; aliases "
                              "repeated?)")
        busy.discard(id(v))
        sizes[id(v)] = n
        return n

    size(value)


def _check_doctype(data: bytes, filename: str) -> None:
    """Refuse a DOCTYPE/entity before xacro's minidom sees it."""
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise _Failure("DOCTYPE declarations are not allowed in xacro/URDF (entities are "
                       "never expanded); remove the <!DOCTYPE ...> block", filename,
                       parser.CurrentLineNumber)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    with contextlib.suppress(expat.ExpatError):  # syntax errors: xacro reports them
        parser.Parse(data, True)


def _resolve_assets(doc: Any, index: PackageIndex) -> None:
    """``package://pkg/rest`` in ``<mesh filename>`` and ``<texture filename>`` → absolute
    path, when pkg is found."""
    for tag in ("mesh", "texture"):
        for el in doc.getElementsByTagName(tag):
            name = el.getAttribute("filename")
            if not name.startswith("package://"):
                continue
            package, _, rest = name[len("package://"):].partition("/")
            folder = index.find(package) if package else None
            if folder is not None:
                el.setAttribute("filename", os.path.join(folder, rest) if rest else folder)


def _limit_memory(cap: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time cap still holds
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def main() -> None:
    request = json.loads(sys.stdin.read())
    sys.path[:] = [p for p in request["sys_path"] if p and os.path.isabs(p)]
    sys.setrecursionlimit(4000)
    reply: dict[str, Any]
    try:
        import xacro  # noqa: F401

        box = _Sandbox(request)
        box.install()
        _limit_memory(request["max_memory"])
        reply = {"text": box.expand(request["args"])}
    except _Failure as f:
        reply = {"error": f.message, "where": f.where, "line": f.line}
    except MemoryError:
        reply = {"error": "xacro expansion ran out of its memory cap (environment variable "
                          "KINEMATICS_XACRO_MAX_MEMORY)", "where": request["top"], "line": None}
    except RecursionError:
        reply = {"error": "xacro expansion nested deeper than the recursion cap",
                 "where": request["top"], "line": None}
    sys.stdout.write(json.dumps(reply))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
