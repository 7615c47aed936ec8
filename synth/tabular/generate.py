"""Vectorised sampling of a declared table: one Gaussian copula couples the numeric, categorical, boolean and
datetime columns; ids, Faker text, derived columns, the target and missing values follow, all from one rng."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from synth.errors import did_you_mean
from synth.tabular.expr import Expression
from synth.tabular.spec import (COPULA_TYPES, BooleanColumn, CategoricalColumn, CorrelationMatrix, DatetimeColumn,
                   DerivedColumn, FakerColumn, IdColumn, NumericColumn, TargetSpec)


def correlation_matrix(spec: Any, names: list[str]) -> np.ndarray:
    """The copula correlation over `names` (the copula columns, in order); unnamed pairs are 0."""
    index = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))

    def where(col: str) -> int:
        if col not in index:
            raise ValueError(f"correlation names column '{col}'{did_you_mean(col, index)}, which is not a declared "
                             f"numeric, categorical, boolean or datetime column; those are: {', '.join(names)}")
        return index[col]

    if isinstance(spec, CorrelationMatrix):
        m = np.asarray(spec.matrix, dtype=float)
        if m.shape != (len(spec.columns), len(spec.columns)):
            raise ValueError(f"correlation matrix is {m.shape[0]}x{m.shape[1] if m.ndim == 2 else '?'} "
                             f"but names {len(spec.columns)} columns")
        idx = [where(c) for c in spec.columns]
        r[np.ix_(idx, idx)] = m
    elif spec:
        for a, b, value in spec:
            i, j = where(a), where(b)
            if i == j:
                raise ValueError(f"correlation pairs '{a}' with itself")
            r[i, j] = r[j, i] = value
    if not np.allclose(r, r.T) or not np.allclose(np.diag(r), 1) or np.abs(r).max() > 1 + 1e-12:
        raise ValueError("correlation matrix must be symmetric with a unit diagonal and entries in [-1, 1]")
    smallest = float(np.linalg.eigvalsh(r).min()) if len(r) else 0.0
    if smallest < -1e-8:
        raise ValueError(f"correlation matrix is not positive semi-definite (smallest eigenvalue {smallest:.3f}); "
                         f"these correlations cannot hold together")
    return r


def _matrix_root(r: np.ndarray) -> np.ndarray:
    # eigen-decomposition rather than Cholesky: a singular but valid (PSD) matrix must work too
    w, v = np.linalg.eigh(r)
    return v * np.sqrt(np.clip(w, 0, None))


class TableModel:
    """A validated table spec, ready to sample blocks of rows."""

    def __init__(self, columns: dict[str, Any], correlation: Any = None, target: TargetSpec | None = None) -> None:
        if not columns:
            raise ValueError("a table needs at least one column")
        self.columns, self.target = columns, target
        self.copula = [n for n, c in columns.items() if isinstance(c, COPULA_TYPES)]
        self.root = _matrix_root(correlation_matrix(correlation, self.copula))
        self.derived: dict[str, Expression] = {}
        known = {n for n, c in columns.items() if not isinstance(c, DerivedColumn)}
        for name, col in columns.items():
            if isinstance(col, DerivedColumn):
                self.derived[name] = _expr(col.expr, known, f"columns.{name}.expr")
                known.add(name)
        self.target_exprs: list[tuple[Expression, float]] = []
        if target is not None and not target.generated and target.name not in columns:
            raise ValueError(f"target '{target.name}' has no rule or logistic model and is not a declared column"
                             f"{did_you_mean(target.name, columns)}; declared: {', '.join(columns)}")
        if target is not None and target.generated:
            if target.name in columns:
                raise ValueError(f"target '{target.name}' has the name of a declared column")
            terms = [(target.rule, 1.0)] if target.rule else list(target.logistic.terms.items())
            self.target_exprs = [(_expr(src, known, f"target '{target.name}'"), w) for src, w in terms]
            known.add(target.name)
        self.missing_exprs = {n: _expr(c.missing_when.expr, known, f"columns.{n}.missing_when")
                              for n, c in columns.items() if c.missing_when is not None}
        self._day_tables = {n: _day_table(c) for n, c in columns.items() if isinstance(c, DatetimeColumn)}

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        u = special.ndtr(rng.standard_normal((n, len(self.copula))) @ self.root.T) if self.copula else None
        data: dict[str, Any] = {}
        for name, col in self.columns.items():
            if name in self.copula:
                data[name] = self._from_uniform(name, col, u[:, self.copula.index(name)], rng)
            elif isinstance(col, IdColumn):
                data[name] = _ids(col, n, rng)
            elif isinstance(col, FakerColumn):
                data[name] = _faker(col, n, rng)
            else:
                data[name] = _round(np.asarray(self.derived[name].evaluate(data), dtype=float)
                                    * np.ones(n), col.round)
        if self.target is not None and self.target.generated:
            data[self.target.name] = self._target(data, n, rng)
        self._missing(data, n, rng)
        for name, col in self.columns.items():
            if col.dtype is not None:
                data[name] = typed(data[name], col)
        return pd.DataFrame({k: _column_array(v) for k, v in data.items()})

    def _from_uniform(self, name: str, col: Any, u: np.ndarray, rng: np.random.Generator) -> Any:
        if isinstance(col, NumericColumn):
            frozen = col.frozen()
            lo = getattr(frozen, "below", frozen.cdf)(col.min) if col.min is not None else 0.0
            hi = frozen.cdf(col.max) if col.max is not None else 1.0
            x = frozen.ppf(np.clip(lo + u * (hi - lo), 1e-12, 1 - 1e-12))
            x = np.clip(x, col.min if col.min is not None else -np.inf, col.max if col.max is not None else np.inf)
            return _round(x, col.round)
        if isinstance(col, CategoricalColumn):
            w = np.asarray(col.weights if col.weights is not None else [1.0] * len(col.values), dtype=float)
            cum = np.cumsum(w / w.sum())
            idx = np.minimum(np.searchsorted(cum, u, side="right"), len(col.values) - 1)
            return np.asarray(col.values, dtype=object)[idx]
        if isinstance(col, BooleanColumn):
            return u > 1.0 - col.p  # a high latent value means true: positive correlation reads naturally
        days, cum = self._day_tables[name]
        picked = days[np.minimum(np.searchsorted(cum, u, side="right"), len(days) - 1)]
        if col.time_of_day:
            return picked + (rng.random(len(u)) * 86400).astype("timedelta64[s]")
        return picked

    def _target(self, data: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
        if self.target.rule:
            return np.asarray(self.target_exprs[0][0].evaluate(data)) * np.ones(n, dtype=bool)
        logit = np.full(n, self.target.logistic.intercept)
        for expr, weight in self.target_exprs:
            logit = logit + weight * np.nan_to_num(np.asarray(expr.evaluate(data), dtype=float))
        return rng.random(n) < special.expit(logit)

    def _missing(self, data: dict[str, Any], n: int, rng: np.random.Generator) -> None:
        masks = {}
        for name, col in self.columns.items():
            mask = rng.random(n) < col.missing if col.missing > 0 else np.zeros(n, bool)
            if name in self.missing_exprs:
                cond = np.asarray(self.missing_exprs[name].evaluate(data), dtype=bool) * np.ones(n, bool)
                mask |= cond & (rng.random(n) < col.missing_when.rate)
            masks[name] = mask
        for name, mask in masks.items():  # conditions read the complete columns, so blank them after
            if mask.any():
                data[name] = _with_nulls(data[name], mask)


def _expr(source: str, known: set[str], where: str) -> Expression:
    try:
        return Expression(source, known, where=where)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _round(x: np.ndarray, decimals: int | None) -> np.ndarray:
    if decimals is None:
        return x
    x = np.round(x, decimals)
    return x.astype(np.int64) if decimals == 0 and np.isfinite(x).all() else x


def _day_table(col: DatetimeColumn) -> tuple[np.ndarray, np.ndarray]:
    days = np.arange(np.datetime64(col.start, "D"), np.datetime64(col.end, "D") + 1).astype("datetime64[s]")
    w = np.ones(len(days))
    if col.month_weights is not None:
        months = days.astype("datetime64[M]").astype(int) % 12
        w *= np.asarray(col.month_weights)[months]
    if col.weekday_weights is not None:
        weekday = (days.astype("datetime64[D]").astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        w *= np.asarray(col.weekday_weights)[weekday]
    if col.trend:
        w *= np.exp(col.trend * np.linspace(0, 1, len(days)))
    if w.sum() <= 0:
        raise ValueError(f"datetime {col.start}..{col.end}: the weights leave no day with positive weight")
    return days, np.cumsum(w / w.sum())


def _ids(col: IdColumn, n: int, rng: np.random.Generator) -> np.ndarray:
    width = (col.digits + 1) // 2
    raw = rng.bytes(n * width)
    return np.asarray([col.prefix + raw[i * width:(i + 1) * width].hex()[:col.digits] for i in range(n)],
                      dtype=object)


def _faker(col: FakerColumn, n: int, rng: np.random.Generator) -> np.ndarray:
    from faker import Faker
    fake = Faker(col.locale)
    fake.seed_instance(int(rng.integers(0, 2**63 - 1)))  # a Faker instance seed, never the global one
    method = getattr(fake, col.provider)
    if col.pool and col.pool < n:
        pool = np.asarray([str(method()) for _ in range(col.pool)], dtype=object)
        return pool[rng.integers(0, col.pool, n)]
    return np.asarray([str(method()) for _ in range(n)], dtype=object)


def _with_nulls(values: Any, mask: np.ndarray) -> Any:
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return np.where(mask, np.nan, arr)
    if arr.dtype.kind in "iu":
        return pd.Series(arr).astype("Int64").mask(mask)
    if arr.dtype.kind == "b":
        return pd.Series(arr).astype("boolean").mask(mask)
    if arr.dtype.kind == "M":
        return np.where(mask, np.datetime64("NaT"), arr)
    out = arr.astype(object)
    out[mask] = None
    return out


def typed(values: Any, col: Any) -> pd.Series:
    """The column in the dtype the recipe records (the real table's): whole-number floats stay floats, 0/1
    integers stay integers, categories keep their spelling and order, text dates keep their format. Where the
    spec lets values be missing, an int or bool dtype becomes its nullable twin (Int64, boolean) so every
    block of a recipe has the same dtype whatever its draw."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    dtype = pd.api.types.pandas_dtype(col.dtype)
    nullable = col.missing > 0 or col.missing_when is not None or bool(s.isna().any())
    if isinstance(dtype, pd.CategoricalDtype):
        cats = list(col.values) if isinstance(col, CategoricalColumn) else None
        return pd.Series(pd.Categorical(s.astype(object).where(s.notna(), None), categories=cats))
    if isinstance(col, DatetimeColumn) and col.format and dtype.kind != "M":
        return pd.to_datetime(s).dt.strftime(col.format).astype(dtype)
    if dtype.kind == "M":
        stamps = pd.to_datetime(s)
        tz = getattr(dtype, "tz", None)
        return stamps.dt.tz_localize(tz).astype(dtype) if tz is not None else stamps.astype(dtype)
    if isinstance(dtype, np.dtype) and dtype.kind in "iub" and nullable:
        dtype = pd.api.types.pandas_dtype("boolean" if dtype.kind == "b" else
                                          f"{'U' if dtype.kind == 'u' else ''}Int{dtype.itemsize * 8}")
    if dtype.kind in "iu" and s.dtype.kind == "f":
        s = s.round()
    return s.astype(dtype)


def _column_array(values: Any) -> Any:
    if isinstance(values, pd.Series):
        return values.array
    return values

