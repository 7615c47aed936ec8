"""Quality of a synthetic table against the real one: column shapes (KS / TV complements), pair trends
(SDMetrics' CorrelationSimilarity and ContingencySimilarity, as its ColumnPairTrends applies them) and train-on-synthetic/test-on-real vs train-on-real (scikit-learn)."""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from synth.errors import SynthError

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


SDM_CORRELATION_THRESHOLD = 0.5  # SDMetrics' QualityReport: a numeric pair counts when |real Pearson| > 0.5
SDM_ASSOCIATION_THRESHOLD = 0.3  # ... any other pair when the real table's Cramer's V > 0.3


def _sdm_bins(values: pd.Series) -> np.ndarray:
    """SDMetrics' ColumnPairTrends discretisation: 10 equal-width bins of the table's own values
    (np.histogram_bin_edges), np.digitize; a missing value lands past the last edge."""
    present = values.dropna().to_numpy()
    edges = np.histogram_bin_edges(present) if len(present) else np.zeros(1)
    return np.digitize(values.to_numpy(), bins=edges)


def _contingency_similarity(real: pd.DataFrame, synth: pd.DataFrame) -> tuple[float, float]:
    """SDMetrics' ContingencySimilarity (1 - total variation distance of the joint frequencies, missing values
    a category of their own) and the real table's Cramer's V that decides whether the pair counts."""
    from scipy.stats.contingency import association
    counts = real.groupby(list(real.columns), dropna=False).size()
    table = counts.unstack(fill_value=0)
    v = float(association(table.to_numpy(), method="cramer")) if min(table.shape) >= 2 else float("nan")
    a, b = counts / len(real), synth.groupby(list(synth.columns), dropna=False).size() / len(synth)
    index = a.index.union(b.index, sort=False).drop_duplicates()
    tvd = float((a.reindex(index, fill_value=0) - b.reindex(index, fill_value=0)).abs().fillna(0).sum()) / 2
    return 1.0 - tvd, v


def pair_trends(real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """SDMetrics' ColumnPairTrends as its QualityReport (0.32) computes it, pair by pair: two continuous
    columns (datetimes as nanoseconds) score CorrelationSimilarity, 1 - |Pearson real - Pearson synthetic| / 2
    on the rows where both are present, and count only when |Pearson real| > 0.5; any other pair scores
    ContingencySimilarity, 1 - TVD of the joint frequencies (a continuous column cut into 10 equal-width bins of
    each table's own range), and counts only when the real pair's Cramer's V > 0.3. A pair with a constant
    column is not scored. Id-like text columns (more distinct values than half the rows) are left out, as
    SDMetrics leaves out id and PII columns."""
    cols = [c for c in real.columns if c in synth.columns
            and (_kind(real[c]) == "numeric" or real[c].nunique() <= max(50, len(real) // 2))]
    num = {c: (_as_float(real[c]), _as_float(synth[c])) for c in cols if _kind(real[c]) == "numeric"}
    binned = {c: (_sdm_bins(r), _sdm_bins(s)) for c, (r, s) in num.items()}
    labels = {c: (_labels(real[c]).to_numpy(), _labels(synth[c]).to_numpy()) for c in cols if c not in num}
    out = {}
    for a, b in combinations(cols, 2):
        if a in num and b in num:
            (ra, sa), (rb, sb) = num[a], num[b]
            if min(ra.nunique(), rb.nunique(), sa.nunique(), sb.nunique()) < 2:
                continue
            r_real = pd.concat([ra, rb], axis=1).dropna().corr().iloc[0, 1]
            r_syn = pd.concat([sa, sb], axis=1).dropna().corr().iloc[0, 1]
            if np.isnan(r_real) or np.isnan(r_syn):
                continue
            out[f"{a}|{b}"] = {"metric": "correlation_similarity", "score": float(1.0 - abs(r_real - r_syn) / 2),
                               "real": float(r_real), "synthetic": float(r_syn),
                               "counted": bool(abs(r_real) > SDM_CORRELATION_THRESHOLD)}
        else:
            (ra, sa), (rb, sb) = (binned[c] if c in binned else labels[c] for c in (a, b))
            if min(len(set(ra)), len(set(rb)), len(set(sa)), len(set(sb))) < 2:
                continue
            score, v = _contingency_similarity(pd.DataFrame({"a": ra, "b": rb}), pd.DataFrame({"a": sa, "b": sb}))
            out[f"{a}|{b}"] = {"metric": "contingency_similarity", "score": score, "real_cramers_v": v,
                               "counted": bool(v > SDM_ASSOCIATION_THRESHOLD)}
    return out


def pair_trends_score(pairs: dict[str, dict[str, Any]], counted_only: bool = True) -> float | None:
    scores = [p["score"] for p in pairs.values() if p.get("counted", True) or not counted_only]
    return float(np.mean(scores)) if scores else None


def _binned(s: pd.Series, edges: np.ndarray | None) -> pd.Series:
    if edges is None:
        return _labels(s)
    values = _as_float(s)
    return pd.Series(np.digitize(values.fillna(0), edges), index=s.index).astype(str).where(values.notna(), "nan")


def pair_trends_complete(real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """synth's own pair trends, shown beside SDMetrics': Pearson on the rows where both values are present
    (SDMetrics reads a missing value as 0, which for a date is 1970 and swamps the correlation), and
    contingency tables of numeric columns cut at the real table's deciles (the same bins on both sides)."""
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


FAMILIES = ("forest", "linear", "boosting")


def _model(family: str, classify: bool, seed: int) -> Any:
    from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                                  RandomForestClassifier, RandomForestRegressor)
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if family == "forest":
        forest = RandomForestClassifier if classify else RandomForestRegressor
        return make_pipeline(SimpleImputer(), forest(n_estimators=100, random_state=seed, n_jobs=1))
    if family == "linear":
        linear = LogisticRegression(max_iter=2000) if classify else Ridge()
        return make_pipeline(SimpleImputer(), StandardScaler(), linear)
    return (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(random_state=seed)


def _fit_score(family: str, classify: bool, seed: int, x: pd.DataFrame, y: pd.Series, x_test: pd.DataFrame,
               y_test: pd.Series) -> float:
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import accuracy_score, r2_score
    model = DummyClassifier() if classify and y.nunique() < 2 else _model(family, classify, seed)
    model.fit(x, y)
    return float((accuracy_score if classify else r2_score)(y_test, model.predict(x_test)))


def ml_efficacy(real: pd.DataFrame, synth: pd.DataFrame, target: str, seed: int = 0, *,
                holdout: pd.DataFrame | None = None, draws: int = 3,
                families: tuple[str, ...] = FAMILIES) -> dict[str, Any]:
    """Train on synthetic, test on real rows the fit did not see (`holdout`; without one, 30% of `real`, which
    the fit did see: optimistic); compare with training on the real rows. Each model family is trained on
    `draws` disjoint parts of the synthetic table (independent draws of the generator): mean and spread."""
    from sklearn.model_selection import train_test_split

    real = real.dropna(subset=[target])
    synth = synth.dropna(subset=[target])
    classify = _kind(real[target]) == "categorical"
    if holdout is not None:
        train, test, tested_on = real, holdout.dropna(subset=[target]), "holdout"
    else:
        train, test = train_test_split(real, test_size=0.3, random_state=seed,
                                       stratify=real[target].astype(str) if classify else None)
        tested_on = "30% split of --real (rows the fit saw: optimistic; pass --holdout)"
    draws = max(1, min(draws, len(synth) // 20))
    # seeded random parts: a table's rows may come sorted (by block, by a column)
    parts = np.array_split(np.random.default_rng(seed).permutation(len(synth)), draws)
    cols = list(_features(pd.concat([train, test, synth]), target).columns)
    y = (lambda f: _labels(f[target])) if classify else (lambda f: _as_float(f[target]))
    x_test, y_test = _features(test, target, cols), y(test)
    models: dict[str, Any] = {}
    # one OpenMP thread: on a busy machine the default team spins and is 30x slower on these small fits
    with threadpool_limits(1):
        for family in families:
            real_score = _fit_score(family, classify, seed, _features(train, target, cols), y(train), x_test, y_test)
            scores = [_fit_score(family, classify, seed, _features(synth.iloc[idx], target, cols),
                                 y(synth.iloc[idx]), x_test, y_test) for idx in parts]
            mean = float(np.mean(scores))
            models[family] = {"train_real": real_score, "train_synthetic": mean,
                              "train_synthetic_std": float(np.std(scores)), "draws": scores,
                              "ratio": mean / real_score if real_score else None}
    main = models.get("boosting") or next(iter(models.values()))
    return {"target": target, "metric": "accuracy" if classify else "r2", "tested_on": tested_on,
            "test_rows": len(test), "synthetic_rows_per_draw": len(parts[0]), "draws": draws, "models": models,
            "train_real": main["train_real"], "train_synthetic": main["train_synthetic"], "ratio": main["ratio"]}


# ---- privacy: how close the synthetic rows sit to the rows the fit saw, against real rows it did not see ----

PRIVACY_REFERENCE_ROWS = 5000  # rows searched for nearest neighbours (a seeded subsample past this)
PRIVACY_QUERY_ROWS = 1000      # rows whose nearest neighbours are looked up
DCR_THRESHOLD = 0.9            # pass: synthetic rows are at least 90% as far from the training rows as new real rows
MIA_THRESHOLD = 0.6            # pass: the membership classifier's AUC stays at or below this


def _row_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One hash per row of normalised values (True == 1 == 1.0; NaN == NaN): exact copies compare equal."""
    norm = pd.DataFrame({c: (_as_float(frame[c]) if _kind(frame[c]) == "numeric" or
                             pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
                             else frame[c].astype(str).where(frame[c].notna(), "\x00nan"))
                         for c in columns})
    return pd.util.hash_pandas_object(norm, index=False).to_numpy()


class _Gower:
    """Gower distance over mixed columns: numeric |a - b| / range (capped at 1), categorical 0 / 1; a missing
    value is at distance 0 from a missing value and 1 from any value. Averaged over the columns."""

    def __init__(self, real: pd.DataFrame, columns: list[str]) -> None:
        self.numeric = [c for c in columns if _kind(real[c]) == "numeric"]
        self.categorical = [c for c in columns if c not in self.numeric]
        self.lo, self.span = {}, {}
        for c in self.numeric:
            values = _numeric(real[c])
            self.lo[c] = float(values.min()) if len(values) else 0.0
            self.span[c] = float(values.max() - values.min()) if len(values) else 1.0
            self.span[c] = self.span[c] or 1.0
        self.codes: dict[str, dict[str, int]] = {}

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        num = np.column_stack([((_as_float(frame[c]) - self.lo[c]) / self.span[c]).fillna(-1e6).to_numpy()
                               for c in self.numeric]).astype(np.float32) if self.numeric \
            else np.zeros((len(frame), 0), np.float32)
        cats = []
        for c in self.categorical:
            table = self.codes.setdefault(c, {})
            cats.append([table.setdefault(v, len(table)) for v in _labels(frame[c]).tolist()])
        cat = np.asarray(cats, dtype=np.int32).T if cats else np.zeros((len(frame), 0), np.int32)
        return num, cat

    def nearest(self, query: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray],
                k: int = 2) -> np.ndarray:
        """The k smallest distances from each query row to the reference rows, ascending."""
        (qn, qc), (rn, rc) = query, ref
        width = qn.shape[1] + qc.shape[1]
        k = min(k, len(rn))
        out = np.empty((len(qn), k), np.float32)
        block = max(1, 4_000_000 // max(len(rn), 1))
        for start in range(0, len(qn), block):
            stop = min(start + block, len(qn))
            d = np.zeros((stop - start, len(rn)), np.float32)
            for j in range(qn.shape[1]):
                d += np.minimum(np.abs(qn[start:stop, j, None] - rn[None, :, j]), 1.0)
            for j in range(qc.shape[1]):
                d += qc[start:stop, j, None] != rc[None, :, j]
            part = np.partition(d, k - 1, axis=1)[:, :k] if k < len(rn) else d
            out[start:stop] = np.sort(part, axis=1)[:, :k]
        return out / max(width, 1)


def _subsample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= n else frame.sample(n, random_state=seed)


def privacy_report(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame | None = None, *,
                   settings: dict[str, Any] | None = None, dcr_threshold: float = DCR_THRESHOLD,
                   mia_threshold: float = MIA_THRESHOLD, seed: int = 0) -> dict[str, Any]:
    """Exact copies, distance to closest record (Gower) of synthetic rows vs real holdout rows, nearest-neighbour
    distance ratio and a membership-inference check. Measured, not proven: this is not differential privacy."""
    columns = [c for c in train.columns if c in synth.columns]
    train_keys = set(_row_keys(train, columns).tolist())
    copies = np.fromiter((k in train_keys for k in _row_keys(synth, columns)), bool, len(synth))
    report: dict[str, Any] = {
        "settings": settings or {},
        "columns": len(columns),
        "exact_copies": {"rate": float(copies.mean()) if len(copies) else 0.0, "rows": int(copies.sum())},
    }
    gower = _Gower(pd.concat([train[columns], holdout[columns]]) if holdout is not None else train[columns],
                   columns)
    ref = gower.encode(_subsample(train[columns], PRIVACY_REFERENCE_ROWS, seed))
    syn_q = gower.encode(_subsample(synth[columns], PRIVACY_QUERY_ROWS, seed + 1))
    syn_d = gower.nearest(syn_q, ref)
    syn_dcr, syn_nndr = syn_d[:, 0], _nndr(syn_d)
    if holdout is None:
        report["dcr"] = {"synthetic_median": float(np.median(syn_dcr)), "ratio": None, "passed": None,
                         "note": "no holdout: pass --holdout (rows the fit did not see) for the DCR ratio and "
                                 "the membership check"}
        report["nndr"] = {"synthetic_median": float(np.median(syn_nndr))}
        report["membership"] = None
        report["passed"] = None
        return report
    hold_keys = _row_keys(holdout, columns)
    report["exact_copies"]["holdout_rate"] = float(np.mean([k in train_keys for k in hold_keys]))
    hold_q = gower.encode(_subsample(holdout[columns], PRIVACY_QUERY_ROWS, seed + 2))
    hold_d = gower.nearest(hold_q, ref)
    hold_dcr, hold_nndr = hold_d[:, 0], _nndr(hold_d)
    ratio = _ratio(syn_dcr, hold_dcr)
    # the share of synthetic rows nearer a training row than a holdout row, with as many of each: 0.5 is ideal
    n = min(len(holdout), len(train), PRIVACY_REFERENCE_ROWS)
    to_train = gower.nearest(syn_q, gower.encode(_subsample(train[columns], n, seed + 3)), 1)[:, 0]
    to_hold = gower.encode(_subsample(holdout[columns], n, seed + 4))
    closer = float(np.mean(to_train < gower.nearest(syn_q, to_hold, 1)[:, 0]))
    report["dcr"] = {"synthetic_median": float(np.median(syn_dcr)), "holdout_median": float(np.median(hold_dcr)),
                     "ratio": ratio, "threshold": dcr_threshold,
                     "passed": bool(ratio is not None and ratio >= dcr_threshold),
                     "closer_to_train_than_holdout": closer}
    report["nndr"] = {"synthetic_median": float(np.median(syn_nndr)), "holdout_median": float(np.median(hold_nndr)),
                      "ratio": _ratio(syn_nndr, hold_nndr)}
    report["membership"] = _membership(gower, train[columns], holdout[columns], synth[columns], seed,
                                       mia_threshold)
    report["passed"] = bool(report["exact_copies"]["rate"] == 0 and report["dcr"]["passed"]
                            and report["membership"]["passed"])
    return report


def _nndr(d: np.ndarray) -> np.ndarray:
    if d.shape[1] < 2:
        return np.ones(len(d))
    return np.divide(d[:, 0], d[:, 1], out=np.zeros(len(d)), where=d[:, 1] > 0)


def _ratio(a: np.ndarray, b: np.ndarray) -> float | None:
    num, den = float(np.median(a)), float(np.median(b))
    if den == 0:  # more than half the holdout rows repeat a training row: compare means
        num, den = float(np.mean(a)), float(np.mean(b))
    return num / den if den > 0 else None


def _membership(gower: _Gower, train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame, seed: int,
                threshold: float) -> dict[str, Any]:
    """Can an attacker who holds the synthetic table tell the rows the fit saw from rows it did not? Members
    (training rows) and non-members (holdout rows), as many of each, described by their distances to the two
    nearest synthetic rows; a logistic regression's cross-validated AUC and the plain closest-distance AUC."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n = min(len(train), len(holdout), PRIVACY_QUERY_ROWS)
    ref = gower.encode(_subsample(synth, PRIVACY_REFERENCE_ROWS, seed + 5))
    inside = gower.nearest(gower.encode(_subsample(train, n, seed + 6)), ref)
    outside = gower.nearest(gower.encode(_subsample(holdout, n, seed + 7)), ref)
    d = np.vstack([inside, outside]).astype(float)
    x = np.column_stack([d, _nndr(d)])
    y = np.r_[np.ones(n), np.zeros(n)]
    distance_auc = float(roc_auc_score(y, -d[:, 0]))
    folds = min(5, n)
    if folds >= 2:
        with threadpool_limits(1):
            p = cross_val_predict(LogisticRegression(max_iter=1000), x, y, method="predict_proba",
                                  cv=StratifiedKFold(folds, shuffle=True, random_state=seed))[:, 1]
        auc = float(roc_auc_score(y, p))
    else:
        auc = distance_auc
    worst = max(auc, distance_auc)
    return {"auc": auc, "distance_auc": distance_auc, "rows_each": n, "threshold": threshold,
            "passed": bool(worst <= threshold)}


def declared_privacy(workspace: Any, version: int | str | None = None,
                     recipe: str | None = None) -> dict[str, Any] | None:
    """The privacy options the version's table blocks record in their labels (what `synth fit` applied)."""
    from synth.store.workspace import Workspace
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    rows = ws.manifest.to_table(version=version, columns=["recipe_name", "labels"]).to_pylist()
    found = [json.loads(r["labels"] or "{}").get("privacy") for r in rows
             if recipe is None or r["recipe_name"] == recipe]
    return next((p for p in found if p), None)


def without_rows(real: pd.DataFrame, holdout: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """`real` less the rows that also appear in `holdout` (the usual call passes the whole table as --real)."""
    columns = [c for c in holdout.columns if c in real.columns]
    if len(columns) != len(real.columns):
        return real, 0
    held = set(_row_keys(holdout, columns).tolist())
    keep = np.fromiter((k not in held for k in _row_keys(real, columns)), bool, len(real))
    return real[keep], int((~keep).sum())


def quality_report(real: pd.DataFrame, synth: pd.DataFrame, target: str | None = None,
                   out_dir: str | Path | None = None, *, holdout: pd.DataFrame | None = None, draws: int = 3,
                   privacy: bool = True, privacy_settings: dict[str, Any] | None = None,
                   dcr_threshold: float = DCR_THRESHOLD, mia_threshold: float = MIA_THRESHOLD) -> dict[str, Any]:
    """Shapes, pair trends, ML efficacy (on `holdout` when given) and the privacy section. `real` is the
    table the recipe was fitted on; rows of it that are also in `holdout` are left out of the training side."""
    dropped = 0
    if holdout is not None:
        real, dropped = without_rows(real, holdout)
        if len(real) < 2:
            raise SynthError("every row of --real is also in the holdout: --real must be the table the recipe "
                             "was fitted on")
    if len(synth) > MAX_ROWS:
        synth = synth.sample(MAX_ROWS, random_state=0)
    if len(real) > MAX_ROWS:
        real = real.sample(MAX_ROWS, random_state=1)
    if holdout is not None and len(holdout) > MAX_ROWS:
        holdout = holdout.sample(MAX_ROWS, random_state=2)
    real, synth = parse_dates(real, synth)
    if holdout is not None:
        _, holdout = parse_dates(real, holdout)
    shapes = column_shapes(real, synth)
    trends, complete = pair_trends(real, synth), pair_trends_complete(real, synth)
    report: dict[str, Any] = {
        "rows": {"real": len(real), "synthetic_scored": len(synth),
                 **({"holdout": len(holdout), "real_rows_also_in_holdout": dropped} if holdout is not None else {})},
        "column_shapes": {"score": float(np.mean(list(shapes.values()))), "columns": shapes},
        "pair_trends": {"score": pair_trends_score(trends), "all_pairs_score": pair_trends_score(trends, False),
                        "definition": "SDMetrics 0.32 ColumnPairTrends (QualityReport): pairs whose real "
                                      "|Pearson| > 0.5 or Cramer's V > 0.3", "pairs": trends},
        "pair_trends_complete": {"score": pair_trends_score(complete), "pairs": complete,
                                 "definition": "synth: every pair; complete-row Pearson, real-decile bins"},
    }
    if target is not None:
        report["ml_efficacy"] = ml_efficacy(real, synth, target, holdout=holdout, draws=draws)
    if privacy:
        report["privacy"] = privacy_report(real, synth, holdout, settings=privacy_settings,
                                           dcr_threshold=dcr_threshold, mia_threshold=mia_threshold)
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
