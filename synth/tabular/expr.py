"""A sandboxed, vectorised expression evaluator for derived table columns: the expression is parsed
with `ast` and only a whitelist of node types, operators and math functions is walked; there is no
attribute access, subscripting, import, lambda or call of anything outside the whitelist."""
from __future__ import annotations

import ast
import operator
from typing import Any, Callable

import numpy as np


class ExpressionError(ValueError):
    """An expression that does not parse, uses something outside the sandbox, or names an unknown column."""


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
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: np.power,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: np.logical_not}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
            ast.Constant, ast.Load, ast.And, ast.Or, *_BINOPS, *_UNARY, *_COMPARE)


def _isnull(x: Any) -> Any:
    import pandas as pd
    return pd.isna(x) if not isinstance(x, np.ndarray) or x.dtype == object else np.isnan(x) \
        if x.dtype.kind == "f" else np.zeros(x.shape, bool)


class Expression:
    """A checked expression; `names` are the columns it reads, `evaluate(columns)` runs it on arrays."""

    def __init__(self, source: str, known_columns: set[str] | None = None) -> None:
        self.source = source
        if not isinstance(source, str) or not source.strip():
            raise ExpressionError("expression must be a non-empty string")
        if len(source) > 2000:
            raise ExpressionError("expression longer than 2000 characters")
        try:
            self.tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"expression {source!r} does not parse: {exc.msg} "
                                  f"(column {exc.offset})") from None
        self.names = self._check(self.tree)
        if known_columns is not None:
            unknown = sorted(self.names - known_columns)
            if unknown:
                from synth.errors import did_you_mean
                raise ExpressionError(f"expression {source!r} names unknown column '{unknown[0]}'"
                                      f"{did_you_mean(unknown[0], known_columns)}; known: "
                                      f"{', '.join(sorted(known_columns))}")

    def _check(self, tree: ast.AST) -> set[str]:
        names: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                what = "attribute access" if isinstance(node, ast.Attribute) else type(node).__name__
                raise ExpressionError(f"expression {self.source!r}: {what} is not allowed; allowed: "
                                      f"arithmetic, comparisons, and/or/not, x if c else y, column names, "
                                      f"numbers, strings and the functions {', '.join(sorted(FUNCTIONS))}")
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                    called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                    raise ExpressionError(f"expression {self.source!r}: call of '{called}' is not allowed; "
                                          f"allowed functions: {', '.join(sorted(FUNCTIONS))}")
            elif isinstance(node, ast.Name):
                if node.id.startswith("_"):
                    raise ExpressionError(f"expression {self.source!r}: name '{node.id}' is not allowed")
                if node.id not in CONSTANTS and not _is_call_target(tree, node):
                    names.add(node.id)
            elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
                raise ExpressionError(f"expression {self.source!r}: constant {node.value!r} is not allowed")
        return names

    def evaluate(self, columns: dict[str, Any]) -> Any:
        with np.errstate(all="ignore"):  # log(0), x/0 give inf/nan like a spreadsheet, not a crash
            return _eval(self.tree.body, columns)


def _is_call_target(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id] if node.id in CONSTANTS else env[node.id]
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env), _eval(node.right, env)
        if isinstance(left, str) or isinstance(right, str):  # "a" * 10**9 would eat the memory
            raise ExpressionError(f"arithmetic on text ({ast.unparse(node)}) is not allowed")
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
    raise ExpressionError(f"unsupported node {type(node).__name__}")  # unreachable: _check rejects it
