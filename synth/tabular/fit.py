"""`synth fit`: read a real table and write a readable table recipe whose marginals (best scipy distribution
by KS statistic, or empirical for categoricals), copula correlation, datetimes and missing rates reproduce it."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synth.errors import SynthError, did_you_mean

CANDIDATES = ("norm", "lognorm", "gamma", "expon", "weibull_min", "beta", "uniform")
MAX_FIT_ROWS = 5000  # distribution fitting on a subsample: KS choice is stable and fitting stays fast
MAX_CATEGORIES = 50


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise SynthError(f"no such file: {path}", file=str(path))
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SynthError(f"cannot read the table: {exc}", file=str(path)) from None
    if frame.empty or len(frame.columns) == 0:
        raise SynthError("the table has no rows; fitting needs at least 2", file=str(path))
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise SynthError(f"column '{empty[0]}' is all nulls: nothing to fit; drop it or fill it", file=str(path),
                         field=str(empty[0]))
    return frame


def fit_numeric(values: np.ndarray) -> dict[str, Any]:
    """The candidate scipy distribution with the smallest KS statistic, and its parameters."""
    sample = values if len(values) <= MAX_FIT_ROWS else np.random.default_rng(0).choice(values, MAX_FIT_ROWS,
                                                                                         replace=False)
    lo, hi = float(values.min()), float(values.max())
    best: tuple[float, str, dict[str, float]] | None = None
    for name in CANDIDATES:
        family = getattr(stats, name)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if name == "beta":  # beta lives on [loc, loc+scale]: pin it just outside the data's range
                    pad = (hi - lo) * 1e-3 + 1e-9
                    args = family.fit(sample, floc=lo - pad, fscale=hi - lo + 2 * pad)
                elif name == "uniform":
                    args = (lo, hi - lo)
                else:
                    args = family.fit(sample)
                ks = stats.kstest(sample, family(*args).cdf).statistic
        except (ValueError, RuntimeError, FloatingPointError):
            continue
        if np.isfinite(ks) and (best is None or ks < best[0]):
            names = [*(family.shapes.split(", ") if family.shapes else []), "loc", "scale"]
            best = (float(ks), name, {k: float(round(v, 6)) for k, v in zip(names, args)})
    if best is None:
        return {"dist": "norm", "params": {"loc": float(values.mean()), "scale": float(values.std() or 1.0)}}
    return {"dist": best[1], "params": best[2], "ks": round(best[0], 4)}


def _decimals(values: np.ndarray) -> int | None:
    for d in range(0, 7):
        if np.allclose(values, np.round(values, d), atol=1e-9, rtol=0):
            return d
    return None


def fit_column(series: pd.Series) -> dict[str, Any]:
    s = series.dropna()
    spec: dict[str, Any]
    if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s) and set(s.unique()) <= {0, 1}
                                          and s.nunique() == 2 and pd.api.types.is_integer_dtype(s)):
        spec = {"type": "boolean", "p": round(float(s.astype(bool).mean()), 6)}
    elif pd.api.types.is_numeric_dtype(s) and s.nunique() > 15:
        values = s.to_numpy(dtype=float)
        fitted = fit_numeric(values)
        spec = {"type": "numeric", "dist": fitted["dist"], "params": fitted["params"],
                "min": float(values.min()), "max": float(values.max())}
        decimals = _decimals(values)
        if decimals is not None:
            spec["round"] = decimals
    elif pd.api.types.is_datetime64_any_dtype(s) or (_is_text(s) and _looks_like_dates(s)):
        spec = _fit_datetime(pd.to_datetime(s, errors="coerce").dropna())
    else:
        counts = s.value_counts(normalize=True, sort=False)
        if len(counts) > MAX_CATEGORIES and len(counts) > 0.5 * len(s):
            spec = {"type": "id", "digits": 16}  # high-cardinality text: an identifier, not a category
        else:
            order = sorted(counts.index, key=_sort_key)
            spec = {"type": "categorical", "values": [_plain(v) for v in order],
                    "weights": [round(float(counts[v]), 6) for v in order]}
    rate = float(series.isna().mean())
    if rate > 0:
        spec["missing"] = round(rate, 6)
    return spec


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float, np.number)) else (1, str(v))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _looks_like_dates(s: pd.Series) -> bool:
    head = s.astype(str).head(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(head, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95 and head.str.contains(r"\d{4}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}").mean() > 0.95)


def _fit_datetime(d: pd.Series) -> dict[str, Any]:
    months = d.dt.month.value_counts().reindex(range(1, 13), fill_value=0).to_numpy(dtype=float)
    weekdays = d.dt.day_of_week.value_counts().reindex(range(7), fill_value=0).to_numpy(dtype=float)
    spec = {"type": "datetime", "start": d.min().date().isoformat(), "end": d.max().date().isoformat(),
            "month_weights": [round(float(x / max(months.sum(), 1)), 6) for x in months],
            "weekday_weights": [round(float(x / max(weekdays.sum(), 1)), 6) for x in weekdays],
            "time_of_day": bool((d.dt.normalize() != d).any())}
    return spec


def normal_scores(series: pd.Series, spec: dict[str, Any]) -> np.ndarray:
    """Each value's position under its fitted marginal, as a standard normal score (NaN where missing)."""
    out = np.full(len(series), np.nan)
    ok = series.notna().to_numpy()
    s = series[ok]
    if spec["type"] in ("numeric", "datetime"):
        values = s.to_numpy(dtype=float) if spec["type"] == "numeric" else \
            pd.to_datetime(s, errors="coerce").astype("int64").to_numpy(dtype=float)
        ranks = stats.rankdata(values)  # ranks: the copula sees only the order, whatever the marginal
        out[ok] = stats.norm.ppf(ranks / (len(ranks) + 1))
    elif spec["type"] == "boolean":
        p = spec["p"]
        u = np.where(s.astype(bool).to_numpy(), 1 - p / 2, (1 - p) / 2)  # mid-point of each interval
        out[ok] = stats.norm.ppf(u)
    elif spec["type"] == "categorical":
        w = np.asarray(spec["weights"]) / sum(spec["weights"])
        mids = dict(zip(spec["values"], np.cumsum(w) - w / 2))
        out[ok] = stats.norm.ppf(np.clip(s.map(lambda v: mids.get(_plain(v), 0.5)).to_numpy(dtype=float),
                                         1e-6, 1 - 1e-6))
    return out


def fit_correlation(frame: pd.DataFrame, specs: dict[str, dict[str, Any]]) -> list[list[Any]]:
    names = [n for n, s in specs.items() if s["type"] in ("numeric", "categorical", "boolean", "datetime")]
    if len(names) < 2:
        return []
    z = pd.DataFrame({n: normal_scores(frame[n], specs[n]) for n in names})
    r = z.corr().fillna(0.0).to_numpy().copy()
    np.fill_diagonal(r, 1.0)
    r = nearest_correlation(np.round(r, 3))
    pairs = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(r[i, j]) >= 0.01:
                pairs.append([names[i], names[j], float(round(r[i, j], 4))])
    return pairs


def nearest_correlation(r: np.ndarray) -> np.ndarray:
    """Clip negative eigenvalues (pairwise-complete estimates and rounding can leave some) and rescale."""
    w, v = np.linalg.eigh(r)
    if w.min() >= 1e-6:
        return r
    fixed = (v * np.clip(w, 1e-4, None)) @ v.T
    d = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(d, d)
    return np.round(fixed, 4) * 0.999 + np.eye(len(r)) * 0.001  # shrink a hair: stays PSD after rounding


def fit_recipe(path: str | Path, name: str | None = None, rows_per_sample: int = 10_000,
               target: str | None = None) -> dict[str, Any]:
    frame = read_table(path)
    if len(frame) < 2:
        raise SynthError("the table has 1 row; fitting needs at least 2", file=str(path))
    if target is not None and target not in frame.columns:
        raise SynthError(f"target '{target}' is not a column of {Path(path).name}{did_you_mean(target, frame.columns)}"
                         f"; columns: {', '.join(map(str, frame.columns))}", file=str(path), field="--target")
    specs = {str(c): fit_column(frame[c]) for c in frame.columns}
    count = max(1, int(np.ceil(len(frame) / rows_per_sample)))
    recipe: dict[str, Any] = {
        "name": name or Path(path).stem.replace("-", "_") + "_twin",
        "description": f"Twin of {Path(path).name} ({len(frame)} rows x {len(frame.columns)} columns), fitted by "
                       f"synth fit: marginals by KS among {', '.join(CANDIDATES)}; Gaussian copula correlation.",
        "scene": "table",
        "count": count,
        "seed": 1,
        "params": {"rows_per_sample": min(rows_per_sample, len(frame)), "columns": specs,
                   "correlation": fit_correlation(frame, specs)},
    }
    if target is not None:  # the column stays in the copula; the recipe names it as the label to predict
        recipe["params"]["target"] = {"name": target}
    return recipe


def write_recipe(recipe: dict[str, Any], out: str | Path) -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def flow(obj: Any, depth: int) -> Any:
        # columns one per line as flow mappings, so a 20-column recipe stays readable and editable
        if isinstance(obj, dict):
            m = CommentedMap((k, flow(v, depth + 1)) for k, v in obj.items())
            if depth >= 3:
                m.fa.set_flow_style()
            return m
        if isinstance(obj, list):
            seq = CommentedSeq(flow(v, depth + 1) for v in obj)
            if depth >= 3 or all(not isinstance(v, (dict, list)) for v in obj):
                seq.fa.set_flow_style()
            return seq
        return obj

    yaml = YAML()
    yaml.width = 4096
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        yaml.dump(flow(recipe, 0), fh)


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s)
