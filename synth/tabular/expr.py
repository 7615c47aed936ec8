"""A sandboxed, vectorised expression evaluator for derived table columns: the expression is parsed
with `ast` and only a whitelist of node types, operators and math functions is walked; there is no
attribute access, subscripting, import, lambda or call of anything outside the whitelist. Nothing is ever
passed to eval. Sizes are bounded when the recipe is validated (length, nesting depth, constants, exponents,
function arities), in one linear pass, so an expression that validates cannot hang or crash generation; an
error while evaluating is a SynthError naming the expression (and its column and row where known)."""
from __future__ import annotations

import ast
import operator
import os
from typing import Any, Callable

import numpy as np

from synth.errors import SynthError, did_you_mean

# limits: (environment variable, default); documented in docs_limits_recipes.md
MAX_EXPR_CHARS = ("SYNTH_MAX_EXPR_CHARS", 2000)
MAX_EXPR_DEPTH = ("SYNTH_MAX_EXPR_DEPTH", 200)  # a sum of n terms nests n deep; Python recurses ~1000
MAX_INT_CONSTANT = 2**53  # every integer up to here is exact as a float and fits int64: no silent overflow
MAX_EXPONENT = 64  # a constant exponent; 10**10**10 would need gigabytes, and any float past 10^308 is inf
MAX_TEXT_CONSTANT = 200
_ROWS_SEARCHED = 1000  # rows tried one by one to find the one a failed evaluation stumbled on


class ExpressionError(ValueError):
    """An expression that does not parse, uses something outside the sandbox, or names an unknown column."""


class EvaluationError(SynthError):
    """An expression that validated but failed on the generated values (a text column in arithmetic, ...)."""


def _limit(spec: tuple[str, int]) -> int:
    name, default = spec
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise SynthError(f"{name} must be a positive integer, got {raw[:40]!r}", field=name)
    return int(raw)


def _where(cond: Any, a: Any, b: Any) -> Any:
    return np.where(cond, a, b)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": np.abs, "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log1p": np.log1p, "log10": np.log10,
    "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "clip": np.clip, "where": _where, "min": np.minimum, "max": np.maximum,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float))),
    "isnull": lambda x: _isnull(x),
}
CONSTANTS = {"pi": np.pi, "e": np.e, "true": True, "false": False}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    # float power: integer power overflows silently (10**100 == 0 in int64) and refuses negative exponents
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: np.float_power,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: np.logical_not}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
            ast.Constant, ast.Load, ast.And, ast.Or, *_BINOPS, *_UNARY, *_COMPARE)
ARITY: dict[str, tuple[int, int]] = {name: (1, 1) for name in FUNCTIONS}
ARITY.update({"round": (1, 2), "clip": (3, 3), "where": (3, 3), "min": (2, 2), "max": (2, 2)})
_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)


def _isnull(x: Any) -> Any:
    import pandas as pd
    return pd.isna(x) if not isinstance(x, np.ndarray) or x.dtype == object else np.isnan(x) \
        if x.dtype.kind == "f" else np.zeros(x.shape, bool)


class Expression:
    """A checked expression; `names` are the columns it reads, `evaluate(columns)` runs it on arrays.
    `where` (e.g. "columns.spend.expr") names its place in the recipe in evaluation errors."""

    def __init__(self, source: str, known_columns: set[str] | None = None, where: str | None = None) -> None:
        self.source, self.where = source, where
        if not isinstance(source, str) or not source.strip():
            raise ExpressionError("expression must be a non-empty string")
        max_chars = _limit(MAX_EXPR_CHARS)
        if len(source) > max_chars:
            raise ExpressionError(f"expression longer than {max_chars} characters (raise the limit with "
                                  f"{MAX_EXPR_CHARS[0]})")
        try:
            self.tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"expression {source!r} does not parse: {exc.msg} "
                                  f"(column {exc.offset})") from None
        except (RecursionError, MemoryError, ValueError):  # the parser's own limits on nesting and digits
            raise ExpressionError(f"expression {_short(source)} is nested too deeply or has too long a "
                                  f"number to parse") from None
        self.names = _Checker(source, _limit(MAX_EXPR_DEPTH)).check(self.tree)
        if known_columns is not None:
            unknown = sorted(self.names - known_columns)
            if unknown:
                raise ExpressionError(f"expression {source!r} names unknown column '{unknown[0]}'"
                                      f"{did_you_mean(unknown[0], known_columns)}; known: "
                                      f"{', '.join(sorted(known_columns))}")

    def evaluate(self, columns: dict[str, Any]) -> Any:
        """The expression on `columns` (arrays of one length, or scalars). Raises EvaluationError."""
        try:
            return self._run(columns)
        except SynthError:
            raise
        except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, RecursionError, MemoryError) as exc:
            raise self._failure(columns, exc) from None

    def _run(self, columns: dict[str, Any]) -> Any:
        with np.errstate(all="ignore"):  # log(0), x/0 give inf/nan like a spreadsheet, not a crash
            return _eval(self.tree.body, columns)

    def _failure(self, columns: dict[str, Any], exc: BaseException) -> EvaluationError:
        if isinstance(exc, (RecursionError, MemoryError)):  # no row search: every row would fail the same way
            return EvaluationError(f"expression {_short(self.source)} is too large to evaluate "
                                   f"({type(exc).__name__}); keep {MAX_EXPR_DEPTH[0]} at its default or split "
                                   f"the expression into several derived columns", field=self.where)
        reason = str(exc) if isinstance(exc, ExpressionError) else f"{type(exc).__name__}: {_short(str(exc), 120)}"
        hint = "; text columns take only comparisons (==, !=)" if isinstance(exc, TypeError) else ""
        row = self._failing_row(columns)
        at = f" at row {row} ({self._row_values(columns, row)})" if row is not None else ""
        return EvaluationError(f"expression {_short(self.source)} failed{at}: {reason}{hint}", field=self.where)

    def _failing_row(self, columns: dict[str, Any]) -> int | None:
        """The first row the expression fails on alone, searched in the first rows only: a vectorised error
        does not say which row caused it, and scanning a million rows one by one would take minutes."""
        lengths = {len(v) for k, v in columns.items() if k in self.names and isinstance(v, np.ndarray) and v.ndim}
        if len(lengths) != 1:
            return None
        for i in range(min(lengths.pop(), _ROWS_SEARCHED)):
            row = {k: v[i:i + 1] if isinstance(v, np.ndarray) and v.ndim else v for k, v in columns.items()}
            try:
                self._run(row)
            except Exception:  # noqa: BLE001 - any failure marks the row; the caller reports the first error
                return i
        return None

    def _row_values(self, columns: dict[str, Any], row: int) -> str:
        def plain(v: Any) -> Any:
            return v.item() if isinstance(v, np.generic) else v
        return ", ".join(f"{k}={_short(repr(plain(columns[k][row])), 40)}" for k in sorted(self.names) if k in columns)


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


class _Checker:
    """One linear pass over the tree (an explicit stack, so a deep tree cannot overflow Python's): node types,
    calls and arities, constants, exponents, division by a constant zero, nesting depth; returns the column
    names read. The old check walked the whole tree once per name: quadratic, 30 s for four long columns."""

    def __init__(self, source: str, max_depth: int) -> None:
        self.source, self.max_depth = source, max_depth

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(f"expression {_short(repr(self.source))}: {message}")

    def check(self, tree: ast.Expression) -> set[str]:
        names: set[str] = set()
        stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > self.max_depth:
                raise self.fail(f"nested more than {self.max_depth} levels deep (raise the limit with "
                                f"{MAX_EXPR_DEPTH[0]}, or split it into several derived columns)")
            self._node(node, names)
            children = node.args if isinstance(node, ast.Call) else _operands(node)
            stack.extend((child, depth + 1) for child in children)
        return names

    def _node(self, node: ast.AST, names: set[str]) -> None:
        if not isinstance(node, _ALLOWED):
            what = "attribute access" if isinstance(node, ast.Attribute) else type(node).__name__
            raise self.fail(f"{what} is not allowed; allowed: arithmetic, comparisons, and/or/not, x if c else y, "
                            f"column names, numbers, strings and the functions {', '.join(sorted(FUNCTIONS))}")
        ops = [node.op] if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp)) else \
            list(node.ops) if isinstance(node, ast.Compare) else []
        for op in ops:  # `<<`, `@`, `~`, `in`, `is` are not in the sandbox
            if not isinstance(op, _ALLOWED):
                raise self.fail(f"operator {type(op).__name__} is not allowed; allowed: + - * / // % **, "
                                f"comparisons (== != < <= > >=), and, or, not")
        if isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise self.fail(f"name '{node.id}' is not allowed")
            if node.id not in CONSTANTS:
                names.add(node.id)
        elif isinstance(node, ast.Constant):
            self._constant(node.value)
        elif isinstance(node, ast.BinOp):
            self._binop(node)

    def _call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            called = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise self.fail(f"call of '{called}' is not allowed (keyword arguments neither); allowed functions: "
                            f"{', '.join(sorted(FUNCTIONS))}")
        lo, hi = ARITY[node.func.id]
        if not lo <= len(node.args) <= hi:
            wanted = str(lo) if lo == hi else f"{lo} or {hi}"
            raise self.fail(f"{node.func.id}() takes {wanted} argument{'s' if hi > 1 else ''}, "
                            f"got {len(node.args)}")
        if node.func.id == "round" and len(node.args) == 2:
            digits = _constant_number(node.args[1])
            if not isinstance(digits, int) or not 0 <= digits <= 15:
                raise self.fail("round(x, n) takes a whole number of decimals n from 0 to 15")

    def _constant(self, value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int) and abs(value) > MAX_INT_CONSTANT:
            raise self.fail(f"integer constants are limited to +-{MAX_INT_CONSTANT:,} (exact in a float); "
                            f"write a float such as 1e20 for a larger number")
        if isinstance(value, float) and not np.isfinite(value):
            raise self.fail("a number literal overflows to infinity; constants must be finite")
        if isinstance(value, str) and len(value) > MAX_TEXT_CONSTANT:
            raise self.fail(f"text constants are limited to {MAX_TEXT_CONSTANT} characters")
        if not isinstance(value, (int, float, str)):
            raise self.fail(f"constant {_short(repr(value))} is not allowed; allowed: numbers, strings, true, false")

    def _binop(self, node: ast.BinOp) -> None:
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant) and isinstance(side.value, str):  # "a" * 10**9 eats the memory
                raise self.fail(f"arithmetic on text ({_short(ast.unparse(node))}) is not allowed")
        if isinstance(node.op, _DIVISIONS) and _constant_number(node.right) == 0:
            raise self.fail(f"division by the constant 0 ({_short(ast.unparse(node))})")
        if isinstance(node.op, ast.Pow):
            exponent = _constant_number(node.right)
            if exponent is None and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)
                                        for n in ast.walk(node.right)):
                raise self.fail("a power may not have a power in its exponent (10**10**10 has 10^10 digits)")
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise self.fail(f"constant exponents are limited to +-{MAX_EXPONENT}, got {exponent:g}")


def _operands(node: ast.AST) -> list[ast.AST]:
    """The sub-expressions of a node, leaving out operator and context markers (they have no children)."""
    return [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]


def _constant_number(node: ast.AST) -> float | int | None:
    """The value of a numeric literal, signed (`-3` is a UnaryOp around 3), or None for anything else."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sign * node.value
    return None


def _number(value: Any) -> Any:
    # literals as numpy scalars: 1/0 then gives inf (as a column would) instead of ZeroDivisionError, and
    # int64 arithmetic cannot build the unbounded Python ints that numpy then refuses to convert
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return np.int64(value) if isinstance(value, int) else np.float64(value)


def _arithmetic_operand(node: ast.AST, env: dict[str, Any]) -> Any:
    """A value arithmetic may use: text, alone or in a column, is refused (`plan * 10**6` would repeat every
    string a million times); an object column of numbers (a numeric categorical) becomes floats."""
    value = _eval(node, env)
    if isinstance(value, str):
        raise ExpressionError(f"arithmetic on text ({_short(ast.unparse(node))}) is not allowed")
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        try:
            return value.astype(float)
        except (TypeError, ValueError):
            raise ExpressionError(f"arithmetic on the text column {_short(ast.unparse(node))} is not allowed; "
                                  f"compare it instead (plan == 'pro')") from None
    return value


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return _number(node.value)
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id] if node.id in CONSTANTS else env[node.id]
    if isinstance(node, ast.BinOp):
        left, right = _arithmetic_operand(node.left, env), _arithmetic_operand(node.right, env)
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, env))
    if isinstance(node, ast.BoolOp):
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        result = _eval(node.values[0], env)
        for value in node.values[1:]:
            result = combine(result, _eval(value, env))
        return result
    if isinstance(node, ast.Compare):
        left, result = _eval(node.left, env), True
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, env)
            result = np.logical_and(result, _COMPARE[type(op)](left, right))
            left = right
        return result
    if isinstance(node, ast.IfExp):
        return np.where(_eval(node.test, env), _eval(node.body, env), _eval(node.orelse, env))
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](*(_eval(a, env) for a in node.args))
    raise ExpressionError(f"unsupported node {type(node).__name__}")  # unreachable: _Checker rejects it
