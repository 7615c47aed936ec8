"""Table scene: declared marginals (KS), copula correlations, MCAR/MAR rates, target, determinism, sandbox,
and bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats

from scenes.table import TableParams, TableScene, decode_block
from synth.tabular.expr import Expression, ExpressionError

SCENE = TableScene()

SPEC = {
    "rows_per_sample": 10_000,
    "columns": {
        "id": {"type": "id", "prefix": "C", "digits": 10},
        "age": {"type": "numeric", "dist": "norm", "params": {"loc": 40, "scale": 10}},
        "income": {"type": "numeric", "dist": "gamma", "params": {"a": 3, "scale": 15000}, "missing": 0.1},
        "score": {"type": "numeric", "dist": "beta", "params": {"a": 2, "b": 5}},
        "plan": {"type": "categorical", "values": {"basic": 0.5, "plus": 0.3, "pro": 0.2}},
        "member": {"type": "boolean", "p": 0.3, "missing_when": {"expr": "age > 50", "rate": 0.6}},
        "signup": {"type": "datetime", "start": "2023-01-01", "end": "2023-12-31",
                   "month_weights": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4]},
        "monthly": {"type": "derived", "expr": "income / 12 + where(plan == 'pro', 10, 0)", "round": 2},
    },
    "correlation": [["age", "income", 0.6], ["age", "score", -0.4], ["income", "score", -0.2]],
    "target": {"name": "churn", "logistic": {"intercept": -1.0, "terms": {"age": -0.03, "plan == 'pro'": 1.5}}},
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    sample = SCENE.render(TableParams.model_validate(SPEC), np.random.default_rng(42))
    return decode_block(sample.payloads["table"].encode()[0], "parquet")


def normal_scores(x: pd.Series) -> np.ndarray:
    r = stats.rankdata(x.to_numpy(dtype=float))
    return stats.norm.ppf(r / (len(r) + 1))


def test_numeric_columns_follow_their_declared_marginals(frame):
    for name, dist in [("age", stats.norm(40, 10)), ("income", stats.gamma(3, scale=15000)),
                       ("score", stats.beta(2, 5))]:
        values = frame[name].dropna()
        assert stats.kstest(values, dist.cdf).pvalue > 0.001, name
    # the test can fail: a wrong marginal is rejected
    assert stats.kstest(frame["age"], stats.norm(42, 10).cdf).pvalue < 0.001


def test_categorical_and_boolean_frequencies(frame):
    freq = frame["plan"].value_counts(normalize=True)
    assert freq["basic"] == pytest.approx(0.5, abs=0.02) and freq["pro"] == pytest.approx(0.2, abs=0.02)
    assert frame["member"].dropna().mean() == pytest.approx(0.3, abs=0.02)
    dec = frame["signup"].dt.month == 12
    assert dec.mean() == pytest.approx(4 * 31 / (365 + 3 * 31), abs=0.02)


def test_copula_correlations_within_005_on_10k_rows(frame):
    complete = frame[["age", "income", "score"]].dropna()
    z = {c: normal_scores(complete[c]) for c in complete}
    for a, b, r in SPEC["correlation"]:
        assert np.corrcoef(z[a], z[b])[0, 1] == pytest.approx(r, abs=0.05), (a, b)


def test_mcar_rate_within_bounds_and_mar_depends_on_its_column(frame):
    n, rate = len(frame), frame["income"].isna().mean()
    bound = 4 * np.sqrt(0.1 * 0.9 / n)
    assert abs(rate - 0.1) < bound
    old = frame["age"] > 50
    assert frame.loc[old, "member"].isna().mean() == pytest.approx(0.6, abs=0.05)
    assert frame.loc[~old, "member"].isna().sum() == 0


def test_derived_and_target(frame):
    ok = frame["income"].notna()
    expected = np.round(frame.loc[ok, "income"] / 12 + np.where(frame.loc[ok, "plan"] == "pro", 10, 0), 2)
    assert np.allclose(frame.loc[ok, "monthly"], expected)
    assert frame.groupby("plan")["churn"].mean()["pro"] > frame.groupby("plan")["churn"].mean()["basic"] + 0.2
    assert frame["id"].str.match(r"^C[0-9a-f]{10}$").all() and frame["id"].is_unique


def test_same_rng_same_bytes_and_blocks_differ():
    params = TableParams.model_validate({**SPEC, "rows_per_sample": 500})
    a = TableScene().render(params, np.random.default_rng(1)).payloads["table"].encode()[0]
    b = TableScene().render(params, np.random.default_rng(1)).payloads["table"].encode()[0]
    c = TableScene().render(params, np.random.default_rng(2)).payloads["table"].encode()[0]
    assert a == b and a != c


def test_csv_blocks():
    params = TableParams.model_validate({**SPEC, "rows_per_sample": 50, "format": "csv"})
    data, ext = SCENE.render(params, np.random.default_rng(0)).payloads["table"].encode()
    assert ext == "csv"
    assert list(decode_block(data, "csv").columns) == [*SPEC["columns"], "churn"]


@pytest.mark.parametrize("source", ["__import__('os').system('true')", "age.__class__", "open('/etc/passwd').read()",
                                    "open('/etc/passwd')", "[x for x in age]", "(lambda: 1)()", "age[0]",
                                    "__builtins__", "eval('1')", "'a' * 10**9"])
def test_sandbox_rejects_imports_attributes_and_file_reads(source):
    with pytest.raises(ExpressionError):
        Expression(source, {"age"}).evaluate({"age": np.arange(3)})


def test_sandbox_allows_math():
    e = Expression("where(age > 1, log(age) * 2, -1) + max(age, 2) ** 2", {"age"})
    assert np.allclose(e.evaluate({"age": np.array([1.0, 4.0])}), [-1 + 4, np.log(4) * 2 + 16])


def check(spec_changes: dict) -> None:
    SCENE.check(TableParams.model_validate({**SPEC, **spec_changes}))


def test_correlation_not_psd_is_rejected():
    bad = [["age", "income", 0.9], ["age", "score", 0.9], ["income", "score", -0.9]]
    with pytest.raises(ValueError, match="not positive semi-definite"):
        check({"correlation": bad})


def test_correlation_with_unknown_column_is_rejected():
    with pytest.raises(ValueError, match=r"correlation names column 'agee' \(did you mean 'age'\?\)"):
        check({"correlation": [["agee", "income", 0.3]]})


def test_expression_that_fails_to_parse_or_names_unknown_column():
    with pytest.raises(ValidationError, match="does not parse"):
        TableParams.model_validate({**SPEC, "columns": {**SPEC["columns"],
                                                        "bad": {"type": "derived", "expr": "income / "}}})
    with pytest.raises(ValueError, match="unknown column 'incme'"):
        check({"columns": {**SPEC["columns"], "bad": {"type": "derived", "expr": "incme / 12"}}})


def test_unknown_distribution_is_rejected():
    with pytest.raises(ValidationError, match="'gausian' is not a scipy.stats distribution"):
        TableParams.model_validate({"columns": {"x": {"type": "numeric", "dist": "gausian"}}})
