"""Quality of a synthetic table against the real one: column shapes (KS / TV complements), pair trends
(correlation and contingency similarity) and train-on-synthetic/test-on-real vs train-on-real (scikit-learn)."""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

MAX_ROWS = 50_000  # scores on a fixed subsample: they converge long before a million rows


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "numeric"
    if pd.api.types.is_numeric_dtype(s) and s.nunique() > 15:
        return "numeric"
    return "categorical"


def _as_float(s: pd.Series) -> pd.Series:
    """Numbers, booleans and datetimes as floats on the same index; NaN where missing (NaT included)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        values = s.to_numpy(dtype="datetime64[ns]")
        return pd.Series(np.where(np.isnat(values), np.nan, values.astype("int64").astype(float)), index=s.index)
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float")
    return pd.to_numeric(s, errors="coerce").astype(float)


def _numeric(s: pd.Series) -> np.ndarray:
    return _as_float(s).dropna().to_numpy()


def _labels(s: pd.Series) -> pd.Series:
    """Category labels that compare across dtypes: True == 1 == 1.0, whatever CSV or Parquet made of them."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        values = _as_float(s)
        return values.map(lambda v: "nan" if np.isnan(v) else f"{v:g}")
    return s.astype(str).where(s.notna(), "nan")


def _tv(a: pd.Series, b: pd.Series) -> float:
    pa_, pb = _labels(a).value_counts(normalize=True), _labels(b).value_counts(normalize=True)
    return 0.5 * float(pa_.subtract(pb, fill_value=0).abs().sum())


def parse_dates(real: pd.DataFrame, synth: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CSV keeps dates as text: where either side holds dates, parse both, so they are scored as datetimes."""
    from synth.tabular.fit import _is_text, _looks_like_dates
    real, synth = real.copy(), synth.copy()
    for col in real.columns:
        if col not in synth.columns:
            continue
        sides = (real[col], synth[col])
        if any(pd.api.types.is_datetime64_any_dtype(s) or (_is_text(s) and _looks_like_dates(s.dropna()))
               for s in sides):
            real[col], synth[col] = (pd.to_datetime(s, errors="coerce", format="mixed") for s in sides)
    return real, synth


def column_shapes(real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, float]:
    scores = {}
    for col in real.columns:
        if col not in synth.columns:
            scores[col] = 0.0
        elif _kind(real[col]) == "numeric":
            a, b = _numeric(real[col]), _numeric(synth[col])
            scores[col] = 1.0 - float(stats.ks_2samp(a, b).statistic) if len(a) and len(b) else 0.0
        else:
            scores[col] = 1.0 - _tv(real[col].dropna(), synth[col].dropna())
    return scores


def _binned(s: pd.Series, edges: np.ndarray | None) -> pd.Series:
    if edges is None:
        return _labels(s)
    values = _as_float(s)
    return pd.Series(np.digitize(values.fillna(0), edges), index=s.index).astype(str).where(values.notna(), "nan")


def pair_trends(real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, dict[str, Any]]:
    # ids and free text have no trend worth scoring: keep numeric and low-cardinality columns
    cols = [c for c in real.columns if c in synth.columns and (_kind(real[c]) == "numeric" or real[c].nunique() <= 50)]
    kinds = {c: _kind(real[c]) for c in cols}
    edges = {c: (np.unique(np.quantile(_numeric(real[c]), np.linspace(0.1, 0.9, 9))) if kinds[c] == "numeric"
                 else None) for c in cols}
    out = {}
    for a, b in combinations(cols, 2):
        if kinds[a] == kinds[b] == "numeric":  # datetimes included, as seconds
            r_real = _as_float(real[a]).corr(_as_float(real[b]))
            r_syn = _as_float(synth[a]).corr(_as_float(synth[b]))
            score = 1.0 - abs(np.nan_to_num(r_real) - np.nan_to_num(r_syn)) / 2
            out[f"{a}|{b}"] = {"metric": "correlation_similarity", "score": float(score),
                               "real": float(np.nan_to_num(r_real)), "synthetic": float(np.nan_to_num(r_syn))}
        else:
            jr = pd.crosstab(_binned(real[a], edges[a]), _binned(real[b], edges[b]), normalize=True)
            js = pd.crosstab(_binned(synth[a], edges[a]), _binned(synth[b], edges[b]), normalize=True)
            tv = 0.5 * float(jr.stack().subtract(js.stack(), fill_value=0).abs().sum())
            out[f"{a}|{b}"] = {"metric": "contingency_similarity", "score": 1.0 - tv}
    return out


def _features(frame: pd.DataFrame, target: str, columns: list[str] | None = None) -> pd.DataFrame:
    x = frame.drop(columns=[target]).copy()
    for c in x.columns:
        if pd.api.types.is_datetime64_any_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]):
            x[c] = _as_float(x[c])  # NaT stays missing, which the gradient boosting models handle
    x = pd.get_dummies(x, dummy_na=False, dtype=float)
    x = x.drop(columns=[c for c in x.columns if x[c].dtype == object])
    return x.reindex(columns=columns, fill_value=0.0) if columns is not None else x


def ml_efficacy(real: pd.DataFrame, synth: pd.DataFrame, target: str, seed: int = 0) -> dict[str, Any]:
    """Train on synthetic, test on a real hold-out; compare with training on the real rest."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split

    real = real.dropna(subset=[target])
    synth = synth.dropna(subset=[target])
    classify = _kind(real[target]) == "categorical"
    train, test = train_test_split(real, test_size=0.3, random_state=seed,
                                   stratify=real[target].astype(str) if classify else None)
    cols = list(_features(pd.concat([real, synth]), target).columns)
    model_cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    metric = accuracy_score if classify else r2_score
    y = (lambda f: _labels(f[target])) if classify else (lambda f: _as_float(f[target]))
    scores = {}
    # one OpenMP thread: on a busy machine the default team spins and is 30x slower on these small fits
    with threadpool_limits(1):
        for name, frame in (("train_real", train), ("train_synthetic", synth)):
            model = model_cls(random_state=seed).fit(_features(frame, target, cols), y(frame))
            scores[name] = float(metric(y(test), model.predict(_features(test, target, cols))))
    return {"target": target, "metric": "accuracy" if classify else "r2", **scores,
            "ratio": scores["train_synthetic"] / scores["train_real"] if scores["train_real"] else None}


def quality_report(real: pd.DataFrame, synth: pd.DataFrame, target: str | None = None,
                   out_dir: str | Path | None = None) -> dict[str, Any]:
    if len(synth) > MAX_ROWS:
        synth = synth.core.sample(MAX_ROWS, random_state=0)
    if len(real) > MAX_ROWS:
        real = real.sample(MAX_ROWS, random_state=1)
    real, synth = parse_dates(real, synth)
    shapes = column_shapes(real, synth)
    trends = pair_trends(real, synth)
    report: dict[str, Any] = {
        "rows": {"real": len(real), "synthetic_scored": len(synth)},
        "column_shapes": {"score": float(np.mean(list(shapes.values()))), "columns": shapes},
        "pair_trends": {"score": float(np.mean([t["score"] for t in trends.values()])) if trends else None,
                        "pairs": trends},
    }
    if target is not None:
        report["ml_efficacy"] = ml_efficacy(real, synth, target)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, indent=2))
        report["files"] = [str(out / "report.json"), *_plots(real, synth, shapes, out)]
    return report


def _plots(real: pd.DataFrame, synth: pd.DataFrame, shapes: dict[str, float], out: Path) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, len(shapes) * 0.4), 4))
    ax.bar(list(shapes), list(shapes.values()), color="tab:blue")
    ax.set_ylim(0, 1)
    ax.set_ylabel("column shape score")
    ax.tick_params(axis="x", rotation=90)
    fig.tight_layout()
    fig.savefig(out / "column_shapes.png", dpi=80)
    plt.close(fig)
    numeric = [c for c in real.columns if c in synth.columns and _kind(real[c]) == "numeric"
               and not pd.api.types.is_datetime64_any_dtype(real[c])]
    files = [str(out / "column_shapes.png")]
    if len(numeric) >= 2:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
        for ax, frame, title in ((axes[0], real, "real"), (axes[1], synth, "synthetic")):
            im = ax.imshow(frame[numeric].apply(pd.to_numeric, errors="coerce").corr().to_numpy(), vmin=-1, vmax=1,
                           cmap="coolwarm")
            ax.set_title(f"{title}: correlation")
            ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=axes, shrink=0.8)
        fig.savefig(out / "correlations.png", dpi=80)
        plt.close(fig)
        files.append(str(out / "correlations.png"))
    return files
