"""Column specs of a declared table, as a recipe writes them: numeric (any scipy.stats distribution),
categorical, boolean, datetime, identifier, Faker text, derived (expression); plus correlation and target."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import stats

from synth.tabular.expr import Expression


class _Spec(BaseModel):
    # allow_inf_nan=False: a NaN or infinite param, bound or weight would give an all-NaN column
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class MissingWhen(_Spec):
    expr: str = Field(..., description="Condition on other columns, e.g. \"age > 60\" (missing at random).")
    rate: float = Field(..., ge=0, le=1, description="Chance a value is missing where the condition holds.")

    @field_validator("expr")
    @classmethod
    def _parses(cls, v: str) -> str:
        Expression(v)
        return v


class _Column(_Spec):
    missing: float = Field(0.0, ge=0, le=1, description="Missing completely at random: chance a value is null.")
    missing_when: MissingWhen | None = Field(None, description="Missing at random: null more often where expr holds.")
    dtype: str | None = Field(None, description="pandas dtype the column is written with (int64, float64, bool, "
                                                "category, str, datetime64[ns], Int64, ...), as `synth fit` read "
                                                "it; a nullable int or bool where values can be missing.")

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                pd.api.types.pandas_dtype(v)
            except (TypeError, ValueError):
                raise ValueError(f"'{v}' is not a pandas dtype (e.g. int64, float64, bool, category, str, "
                                 f"datetime64[ns], Int64, boolean)") from None
        return v


class MixtureComponent(_Spec):
    weight: float = Field(..., gt=0, description="Share of the rows this normal component draws.")
    loc: float = Field(..., description="Its mean.")
    scale: float = Field(..., gt=0, description="Its standard deviation.")


class NumericColumn(_Column):
    type: Literal["numeric"] = "numeric"
    dist: str = Field("norm", description="Name of a scipy.stats distribution (norm, lognorm, gamma, beta, ...), "
                                          "'mixture' (normal components) or 'empirical' (quantiles).")
    params: dict[str, float] = Field(default_factory=dict, description="Its shape, loc and scale arguments.")
    components: list[MixtureComponent] | None = Field(None, description="dist: mixture: the normal components "
                                                                        "(weights are normalised).")
    quantiles: list[float] | None = Field(None, min_length=2, description="dist: empirical: the values at evenly "
                                                                          "spaced probabilities 0, 1/(k-1), ..., 1; "
                                                                          "drawn by linear interpolation.")
    min: float | None = Field(None, description="Lower bound: the distribution is truncated there.")
    max: float | None = Field(None, description="Upper bound: the distribution is truncated there.")
    round: int | None = Field(None, ge=0, le=12, description="Decimals kept; 0 gives integers.")

    @model_validator(mode="after")
    def _frozen_distribution(self) -> NumericColumn:
        if self.dist == "mixture" and not self.components:
            raise ValueError("dist: mixture needs components: [{weight, loc, scale}, ...]")
        if self.dist == "empirical" and (not self.quantiles or any(b < a for a, b in zip(self.quantiles,
                                                                                          self.quantiles[1:]))):
            raise ValueError("dist: empirical needs quantiles: an ascending list of at least 2 values")
        self.frozen()
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self

    def frozen(self) -> Any:
        if self.dist == "mixture":
            return NormalMixture([(c.weight, c.loc, c.scale) for c in self.components or []])
        if self.dist == "empirical":
            return Empirical(self.quantiles or [])
        family = getattr(stats, self.dist, None)
        if not isinstance(family, (stats.rv_continuous, stats.rv_discrete)):
            raise ValueError(f"'{self.dist}' is not a scipy.stats distribution (e.g. norm, lognorm, gamma, beta, "
                             f"expon, uniform, weibull_min, poisson), 'mixture' or 'empirical'")
        try:
            frozen = family(**self.params)
            with np.errstate(all="ignore"):
                median = float(frozen.ppf(0.5))
        except TypeError as exc:
            raise ValueError(f"{self.dist}: bad params {self.params}: {exc}") from None
        if not np.isfinite(median):  # scipy answers nan for arguments outside its domain (scale <= 0, s < 0)
            raise ValueError(f"{self.dist}: params {self.params} are outside the distribution's domain "
                             "(scale and shape arguments must be positive)")
        return frozen


class NormalMixture:
    """A mixture of normals with the cdf/ppf of a frozen scipy distribution; ppf by interpolation on a grid
    of 4,097 points (error far below any recorded rounding)."""

    def __init__(self, components: list[tuple[float, float, float]]) -> None:
        w = np.asarray([c[0] for c in components], dtype=float)
        self.w, self.loc = w / w.sum(), np.asarray([c[1] for c in components], dtype=float)
        self.scale = np.asarray([c[2] for c in components], dtype=float)
        self.grid = np.linspace((self.loc - 8 * self.scale).min(), (self.loc + 8 * self.scale).max(), 4097)
        self.grid_cdf = self.cdf(self.grid)

    def cdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        return (stats.norm.cdf((x[..., None] - self.loc) / self.scale) * self.w).sum(axis=-1)

    def ppf(self, u: Any) -> Any:
        return np.interp(u, self.grid_cdf, self.grid)


class Empirical:
    """Linear interpolation between quantiles at evenly spaced probabilities, as a frozen distribution."""

    def __init__(self, quantiles: list[float]) -> None:
        self.q = np.asarray(quantiles, dtype=float)
        self.p = np.linspace(0.0, 1.0, len(self.q))

    def cdf(self, x: Any) -> Any:
        """Right-continuous: at a value many quantiles share (a spike), the share of rows at or below it."""
        x = np.asarray(x, dtype=float)
        last = np.searchsorted(self.q, x, side="right") - 1
        at = np.where(last >= 0, self.p[np.clip(last, 0, None)], 0.0)
        return np.maximum(np.interp(x, self.q, self.p), at)

    def below(self, x: float) -> float:
        """The share of rows strictly below x (where truncation at min starts: a spike at min is kept)."""
        return float(self.cdf(x - 1e-9 * max(1.0, abs(x))))

    def ppf(self, u: Any) -> Any:
        return np.interp(u, self.p, self.q)


class CategoricalColumn(_Column):
    type: Literal["categorical"] = "categorical"
    values: list[Any] = Field(..., min_length=1, description="Categories, in the order the copula ranks them.")
    weights: list[float] | None = Field(None, description="Relative frequencies (default: equal).")

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("values"), dict):  # {a: 0.5, b: 0.5}
            data = {**data, "weights": list(data["values"].values()), "values": list(data["values"])}
        return data

    @model_validator(mode="after")
    def _weights(self) -> CategoricalColumn:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"{len(self.values)} values need {len(self.values)} weights")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 and not all zero")
        return self


class BooleanColumn(_Column):
    type: Literal["boolean"] = "boolean"
    p: float = Field(0.5, ge=0, le=1, description="Chance of true.")


class DatetimeColumn(_Column):
    type: Literal["datetime"] = "datetime"
    start: dt.date = Field(..., description="First day (YYYY-MM-DD).")
    end: dt.date = Field(..., description="Last day, included.")
    month_weights: list[float] | None = Field(None, min_length=12, max_length=12,
                                              description="Seasonality: relative weight of Jan..Dec.")
    weekday_weights: list[float] | None = Field(None, min_length=7, max_length=7,
                                                description="Relative weight of Mon..Sun.")
    trend: float = Field(0.0, ge=-10, le=10, description="Growth: the last day is e^trend times as likely as the first.")
    time_of_day: bool = Field(False, description="Add a uniform time of day (else dates at midnight).")
    format: str | None = Field(None, max_length=64, description="strftime format of dates stored as text (e.g. "
                                                                "%Y-%m-%d): the column is written as that text.")

    @model_validator(mode="after")
    def _range(self) -> DatetimeColumn:
        if self.start > self.end:
            raise ValueError(f"start ({self.start}) is after end ({self.end})")
        for name in ("month_weights", "weekday_weights"):
            w = getattr(self, name)
            if w is not None and (any(x < 0 for x in w) or sum(w) <= 0):
                raise ValueError(f"{name} must be >= 0 and not all zero")
        return self


class IdColumn(_Column):
    type: Literal["id"] = "id"
    prefix: str = Field("", max_length=32, description="Text before the random part.")
    digits: int = Field(16, ge=4, le=32, description="Random hex digits (16 = 64 bits: collisions negligible).")


class FakerColumn(_Column):
    type: Literal["faker"] = "faker"
    provider: str = Field(..., description="Faker provider method: name, email, city, company, phone_number, ...")
    locale: str = Field("en_US", description="Faker locale.")
    pool: int = Field(0, ge=0, le=1_000_000, description="0: one Faker call per row; N: draw rows from N "
                                                         "Faker values (Faker costs ~0.2 ms a call).")

    @model_validator(mode="after")
    def _provider(self) -> FakerColumn:
        from faker import Faker
        try:
            fake = Faker(self.locale)
        except AttributeError:
            raise ValueError(f"unknown Faker locale '{self.locale}'") from None
        if self.provider.startswith("_") or self.provider.startswith("seed") or \
                not callable(getattr(fake, self.provider, None)):
            raise ValueError(f"'{self.provider}' is not a Faker provider (e.g. name, email, city, company)")
        return self


class DerivedColumn(_Column):
    type: Literal["derived"] = "derived"
    expr: str = Field(..., description="Expression of earlier columns, e.g. \"income / 12\".")
    round: int | None = Field(None, ge=0, le=12, description="Decimals kept; 0 gives integers.")

    @field_validator("expr")
    @classmethod
    def _parses(cls, v: str) -> str:
        Expression(v)
        return v


Column = Annotated[Union[NumericColumn, CategoricalColumn, BooleanColumn, DatetimeColumn, IdColumn, FakerColumn,
                         DerivedColumn], Field(discriminator="type")]
COPULA_TYPES = (NumericColumn, CategoricalColumn, BooleanColumn, DatetimeColumn)


class Logistic(_Spec):
    intercept: float = Field(0.0, description="Log-odds when every term is 0.")
    terms: dict[str, float] = Field(..., description="Expression -> coefficient, e.g. {tenure_months: -0.05, "
                                                     "\"plan == 'pro'\": -0.8}.")


class TargetSpec(_Spec):
    name: str = Field("target", description="Target column name. With neither rule nor logistic, a declared "
                                            "column of that name is the target (as `synth fit --target` writes).")
    rule: str | None = Field(None, description="Expression giving the target (e.g. \"spend > 100\").")
    logistic: Logistic | None = Field(None, description="Bernoulli(sigmoid(intercept + sum coef * term)).")

    @model_validator(mode="after")
    def _at_most_one(self) -> TargetSpec:
        if self.rule is not None and self.logistic is not None:
            raise ValueError("target takes one of 'rule' or 'logistic', not both")
        for source in [self.rule] if self.rule else list(self.logistic.terms) if self.logistic else []:
            Expression(source)
        return self

    @property
    def generated(self) -> bool:
        """True when the target is computed (rule or logistic), False when it names a declared column."""
        return self.rule is not None or self.logistic is not None


class PrivacySettings(_Spec):
    """What `synth fit --privacy` did to the fit; a record for the report (generation does not read it)."""
    clip_quantile: float | None = Field(None, ge=0, lt=0.5, description="Numeric and date ranges cut to the "
                                                                        "q and 1-q quantiles: tails never drawn.")
    correlation_noise: float | None = Field(None, ge=0, le=1, description="Std of the Gaussian noise added to "
                                                                          "each copula correlation.")
    min_category_count: int | None = Field(None, ge=1, description="Categories seen fewer times were merged "
                                                                   "into 'other' (text) or dropped (numbers).")
    smoothing: float | None = Field(None, ge=0, le=1, description="Continuous columns fitted on values plus "
                                                              "seeded Gaussian noise of this many stds.")
    seed: int | None = Field(None, description="Seed of the correlation noise and the smoothing noise.")


class CorrelationMatrix(_Spec):
    columns: list[str] = Field(..., min_length=2, description="Columns the matrix rows/cols refer to.")
    matrix: list[list[float]] = Field(..., description="Symmetric, unit diagonal, positive semi-definite.")


Correlation = Union[list[tuple[str, str, float]], CorrelationMatrix]
