"""Parameter distributions as written in recipes (`{uniform: [0, 1]}`), each validating its arguments,
reporting its support and serialising back to the same YAML."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from synth.errors import did_you_mean


class DistributionError(ValueError):
    """Bad arguments for a distribution; the recipe loader adds file and line."""


@dataclass(frozen=True)
class Distribution:
    name: ClassVar[str]
    arg_names: ClassVar[tuple[str, ...]]
    defaults: ClassVar[dict[str, Any]] = {}

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def support(self) -> tuple[float, float] | None:
        """Closed numeric interval the draws can fall in, or None for non-numeric choices."""
        return None

    def values(self) -> list[Any] | None:
        """The finite set of possible values, where there is one."""
        return None

    def to_yaml(self) -> dict[str, Any]:
        return {self.name: [getattr(self, k) for k in self.arg_names]}

    @classmethod
    def from_args(cls, args: Any) -> Distribution:
        if isinstance(args, dict):
            unknown = set(args) - set(cls.arg_names)
            if unknown:
                key = sorted(unknown)[0]
                raise DistributionError(f"{cls.name}: unknown argument '{key}'{did_you_mean(key, cls.arg_names)};"
                                        f" allowed: {', '.join(cls.arg_names)}")
            kwargs = {**cls.defaults, **args}
        elif isinstance(args, list):
            required = [a for a in cls.arg_names if a not in cls.defaults]
            if not len(required) <= len(args) <= len(cls.arg_names):
                raise DistributionError(f"{cls.name} takes {_arity(cls)} arguments "
                                        f"[{', '.join(cls.arg_names)}], got {len(args)}")
            kwargs = {**cls.defaults, **dict(zip(cls.arg_names, args))}
        else:
            kwargs = {**cls.defaults, **({cls.arg_names[0]: args} if cls.arg_names else {})}
        missing = [a for a in cls.arg_names if a not in kwargs]
        if missing:
            raise DistributionError(f"{cls.name}: missing argument '{missing[0]}'; needs {', '.join(cls.arg_names)}")
        try:
            return cls(**kwargs)
        except TypeError as exc:  # wrong argument types surface as TypeError from __post_init__ checks
            raise DistributionError(f"{cls.name}: {exc}") from None


def _arity(cls: type[Distribution]) -> str:
    n_req = len([a for a in cls.arg_names if a not in cls.defaults])
    return str(n_req) if n_req == len(cls.arg_names) else f"{n_req} to {len(cls.arg_names)}"


def _number(dist: str, arg: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not is_finite_number(value):
        raise DistributionError(f"{dist}: '{arg}' must be a finite number, got {_short(value)}")
    return value


def _check_weights(kind: str, weights: Any, n: int, what: str) -> None:
    """`weights` is a list of n finite numbers >= 0, not all zero (one per value or component)."""
    if not isinstance(weights, list) or len(weights) != n:
        raise DistributionError(f"{kind}: {n} {what} need {n} weights")
    for w in weights:
        _number(kind, "weights", w)
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise DistributionError(f"{kind}: weights must be >= 0 and not all zero")


def is_finite_number(value: Any) -> bool:
    """True for an int or float a draw can use: NaN and infinities make all-NaN columns, and an int past
    float range (10^400) makes math.isfinite raise OverflowError."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_finite_values(dist: str, values: Any) -> None:
    """Refuse non-finite numbers among choice/cycle values (nested lists too): a drawn NaN spreads silently."""
    stack = list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and not is_finite_number(v):
            raise DistributionError(f"{dist}: values must be finite numbers, got {_short(v)}")


def _short(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return "an integer too large to use"  # repr of one past 4300 digits raises
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Constant(Distribution):
    value: Any
    name: ClassVar[str] = "const"
    arg_names: ClassVar[tuple[str, ...]] = ("value",)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.value

    def support(self) -> tuple[float, float] | None:
        if isinstance(self.value, (int, float)) and not isinstance(self.value, bool):
            return (self.value, self.value)
        return None

    def values(self) -> list[Any]:
        return [self.value]

    def to_yaml(self) -> Any:
        return self.value.to_yaml() if isinstance(self.value, Distribution) else self.value


@dataclass(frozen=True)
class Uniform(Distribution):
    low: float
    high: float
    name: ClassVar[str] = "uniform"
    arg_names: ClassVar[tuple[str, ...]] = ("low", "high")

    def __post_init__(self) -> None:
        _number(self.name, "low", self.low), _number(self.name, "high", self.high)
        if self.low > self.high:
            raise DistributionError(f"{self.name}: low ({self.low}) must not exceed high ({self.high})")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class LogUniform(Uniform):
    name: ClassVar[str] = "loguniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.low <= 0:
            raise DistributionError(f"{self.name}: low must be > 0, got {self.low}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


@dataclass(frozen=True)
class Normal(Distribution):
    mean: float
    std: float
    name: ClassVar[str] = "normal"
    arg_names: ClassVar[tuple[str, ...]] = ("mean", "std")

    def __post_init__(self) -> None:
        _number(self.name, "mean", self.mean), _number(self.name, "std", self.std)
        if self.std < 0:
            raise DistributionError(f"{self.name}: std must be >= 0, got {self.std}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.normal(self.mean, self.std))

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf) if self.std > 0 else (self.mean, self.mean)


@dataclass(frozen=True)
class TruncNormal(Distribution):
    mean: float
    std: float
    low: float
    high: float
    name: ClassVar[str] = "truncnormal"
    arg_names: ClassVar[tuple[str, ...]] = ("mean", "std", "low", "high")

    def __post_init__(self) -> None:
        for a in self.arg_names:
            _number(self.name, a, getattr(self, a))
        if self.std <= 0:
            raise DistributionError(f"{self.name}: std must be > 0, got {self.std}")
        if self.low >= self.high:
            raise DistributionError(f"{self.name}: low ({self.low}) must be below high ({self.high})")

    def sample(self, rng: np.random.Generator) -> float:
        from scipy.special import ndtr, ndtri  # the normal CDF and its inverse

        a, b = (self.low - self.mean) / self.std, (self.high - self.mean) / self.std
        # inverse-CDF with one uniform draw: one draw per sample keeps streams aligned
        u = rng.uniform(ndtr(a), ndtr(b))
        return float(np.clip(self.mean + self.std * ndtri(u), self.low, self.high))

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Triangular(Distribution):
    low: float
    mode: float
    high: float
    name: ClassVar[str] = "triangular"
    arg_names: ClassVar[tuple[str, ...]] = ("low", "mode", "high")

    def __post_init__(self) -> None:
        for a in self.arg_names:
            _number(self.name, a, getattr(self, a))
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise DistributionError(f"{self.name}: needs low <= mode <= high and low < high, "
                                    f"got [{self.low}, {self.mode}, {self.high}]")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class RandInt(Distribution):
    """Integers from low to high, both included."""
    low: int
    high: int
    name: ClassVar[str] = "randint"
    arg_names: ClassVar[tuple[str, ...]] = ("low", "high")

    def __post_init__(self) -> None:
        for a in self.arg_names:
            v = getattr(self, a)
            if isinstance(v, bool) or not isinstance(v, int):
                raise DistributionError(f"{self.name}: '{a}' must be an integer, got {_short(v)}")
            if not -2**63 <= v < 2**63:  # numpy draws 64-bit integers; past that it raises mid-plan
                raise DistributionError(f"{self.name}: '{a}' must be within [-2^63, 2^63), got {_short(v)}")
        if self.low > self.high:
            raise DistributionError(f"{self.name}: low ({self.low}) must not exceed high ({self.high})")

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high, endpoint=True))

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def values(self) -> list[int] | None:
        return list(range(self.low, self.high + 1)) if self.high - self.low < 10_000 else None


@dataclass(frozen=True)
class Bernoulli(Distribution):
    p: float
    name: ClassVar[str] = "bernoulli"
    arg_names: ClassVar[tuple[str, ...]] = ("p",)

    def __post_init__(self) -> None:
        _number(self.name, "p", self.p)
        if not 0 <= self.p <= 1:
            raise DistributionError(f"{self.name}: p must be in [0, 1], got {self.p}")

    def sample(self, rng: np.random.Generator) -> bool:
        return bool(rng.random() < self.p)

    def values(self) -> list[bool]:
        return [False, True]

    def to_yaml(self) -> dict[str, Any]:
        return {self.name: self.p}


@dataclass(frozen=True)
class Choice(Distribution):
    values_: tuple[Any, ...]
    weights: tuple[float, ...] | None = None
    name: ClassVar[str] = "choice"
    arg_names: ClassVar[tuple[str, ...]] = ("values", "weights")

    @classmethod
    def from_args(cls, args: Any) -> Choice:
        if isinstance(args, list):
            values, weights = args, None
        elif isinstance(args, dict) and "values" in args:
            unknown = set(args) - {"values", "weights"}
            if unknown:
                raise DistributionError(f"choice: unknown argument '{sorted(unknown)[0]}'; allowed: values, weights")
            values, weights = args["values"], args.get("weights")
        elif isinstance(args, dict):  # {a: 0.7, b: 0.3}
            values, weights = list(args), list(args.values())
        else:
            raise DistributionError("choice takes a list of values, {values: [...], weights: [...]} "
                                    "or a mapping value -> weight")
        if not isinstance(values, list) or not values:
            raise DistributionError("choice: needs a non-empty list of values")
        check_finite_values("choice", values)
        if weights is not None:
            _check_weights("choice", weights, len(values), "values")
        return cls(tuple(values), tuple(float(w) for w in weights) if weights is not None else None)

    def __post_init__(self) -> None:
        if self.weights is not None:
            cdf = np.cumsum(np.asarray(self.weights, dtype=float))
            object.__setattr__(self, "_cdf", cdf / cdf[-1])

    def sample(self, rng: np.random.Generator) -> Any:
        # the same draws as rng.choice(n, p=...) (one uniform integer, or a uniform against the CDF),
        # without its argument checks: this runs for every object of every sample
        if self.weights is None:
            return self.values_[int(rng.integers(0, len(self.values_)))]
        return self.values_[int(self._cdf.searchsorted(rng.random(), side="right"))]

    def values(self) -> list[Any]:
        return [v for v, w in zip(self.values_, self.weights or [1] * len(self.values_)) if w > 0]

    def support(self) -> tuple[float, float] | None:
        vals = self.values()
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            return (min(vals), max(vals))
        return None

    def to_yaml(self) -> dict[str, Any]:
        if self.weights is None:
            return {self.name: list(self.values_)}
        return {self.name: {"values": list(self.values_), "weights": list(self.weights)}}


@dataclass(frozen=True)
class Cycle(Distribution):
    """Values in turn by sample index (`index % len(values)`): exactly balanced classes, no randomness."""
    values_: tuple[Any, ...]
    name: ClassVar[str] = "cycle"
    arg_names: ClassVar[tuple[str, ...]] = ("values",)

    @classmethod
    def from_args(cls, args: Any) -> Cycle:
        if isinstance(args, dict) and set(args) == {"values"}:
            args = args["values"]
        if not isinstance(args, list) or not args:
            raise DistributionError("cycle takes a non-empty list of values")
        check_finite_values("cycle", args)
        return cls(tuple(args))

    def at(self, index: int) -> Any:
        return self.values_[index % len(self.values_)]

    def sample(self, rng: np.random.Generator) -> Any:
        raise TypeError("cycle depends on the sample index: call at(index)")

    def values(self) -> list[Any]:
        return list(self.values_)

    def support(self) -> tuple[float, float] | None:
        return Choice(self.values_).support()

    def to_yaml(self) -> dict[str, Any]:
        return {self.name: list(self.values_)}


@dataclass(frozen=True)
class Mixture(Distribution):
    """A weighted mixture: `{mixture: {components: [{uniform: [0, 1]}, {uniform: [0.25, 0.3]}], weights: [0.5, 0.5]}}`.
    One sample draws the component index, then that component, from the same stream; the support is the
    span of the components' supports, so the recipe's bounds check sees every component."""
    components: tuple[Distribution, ...]
    weights: tuple[float, ...]
    name: ClassVar[str] = "mixture"
    arg_names: ClassVar[tuple[str, ...]] = ("components", "weights")

    @classmethod
    def from_args(cls, args: Any) -> Mixture:
        if not isinstance(args, dict) or "components" not in args:
            raise DistributionError("mixture takes {components: [<dist>, ...], weights: [w, ...]}")
        unknown = set(args) - set(cls.arg_names)
        if unknown:
            key = sorted(unknown)[0]
            raise DistributionError(f"mixture: unknown argument '{key}'{did_you_mean(key, cls.arg_names)}; "
                                    "allowed: components, weights")
        specs, weights = args["components"], args.get("weights")
        if not isinstance(specs, list) or not specs:
            raise DistributionError("mixture: needs a non-empty list of components")
        components = []
        for i, spec in enumerate(specs):
            try:
                dist = parse(spec)
            except DistributionError as exc:
                raise DistributionError(f"mixture: component {i}: {exc}") from None
            if isinstance(dist, Cycle):  # cycle depends on the sample index, not on the stream
                raise DistributionError(f"mixture: component {i}: cycle cannot be a mixture component")
            components.append(dist)
        if weights is None:
            weights = [1.0] * len(components)
        _check_weights("mixture", weights, len(components), "components")
        return cls(tuple(components), tuple(float(w) for w in weights))

    def __post_init__(self) -> None:
        cdf = np.cumsum(np.asarray(self.weights, dtype=float))
        object.__setattr__(self, "_cdf", cdf / cdf[-1])

    def _active(self) -> list[Distribution]:
        return [c for c, w in zip(self.components, self.weights) if w > 0]

    def sample(self, rng: np.random.Generator) -> Any:
        index = int(self._cdf.searchsorted(rng.random(), side="right"))
        return self.components[min(index, len(self.components) - 1)].sample(rng)

    def support(self) -> tuple[float, float] | None:
        supports = [c.support() for c in self._active()]
        if any(s is None for s in supports):
            return None
        return (min(s[0] for s in supports), max(s[1] for s in supports))

    def values(self) -> list[Any] | None:
        out: list[Any] = []
        for c in self._active():
            vals = c.values()
            if vals is None:
                return None
            out.extend(v for v in vals if not any(v == o and type(v) is type(o) for o in out))
        return out

    def to_yaml(self) -> dict[str, Any]:
        return {self.name: {"components": [c.to_yaml() for c in self.components], "weights": list(self.weights)}}


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    d.name: d for d in (Constant, Uniform, LogUniform, Normal, TruncNormal, Triangular, RandInt, Bernoulli, Choice,
                        Cycle, Mixture)
}


def is_distribution_spec(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def parse(value: Any) -> Distribution:
    """A recipe value: `{name: args}` becomes that distribution, anything else a constant."""
    if is_distribution_spec(value):
        name, args = next(iter(value.items()))
        if name == "const":
            check_finite_values("const", [args])
            return Constant(args)
        return DISTRIBUTIONS[name].from_args(args)
    return Constant(value)


class _PerInstance:
    """Marks a scene field whose value is a distribution the scene samples once per object/event."""

    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        self.low, self.high = low, high


def _to_distribution(value: Any) -> Distribution:
    return value if isinstance(value, Distribution) else parse(value)


def per_instance(low: float | None = None, high: float | None = None) -> Any:
    """Type for a scene param that stays a distribution: the scene draws from it per object, with the
    render stream, and records each draw in the labels. `low`/`high` bound the support."""
    from typing import Annotated

    from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

    return Annotated[
        Any,
        _PerInstance(low, high),
        BeforeValidator(_to_distribution),
        PlainSerializer(lambda d: d.to_yaml(), return_type=Any),
        WithJsonSchema({"description": "a constant or a distribution such as {uniform: [a, b]}, "
                                       "drawn once per object"}),
    ]
