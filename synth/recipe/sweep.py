"""Domain-randomization sweeps: expand a sweep file (grid, zip, random, sobol) into recipe variants and
generate each into the workspace as a version tagged `<sweep>.<variant>`, skipping finished ones."""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synth.recipe import distributions as D
from synth.errors import RecipeError
from synth.recipe.loader import checked_recipe_path, load_recipe
from synth.recipe.model import Recipe, _model_error
from synth.codecs.canonical import canonical_json
from synth.core.seeding import rng_for
from synth.recipe.yamlio import load

SWEEPS_DIR = "sweeps"  # in the workspace: one JSON record per sweep (variants, overrides, recipe hashes)


class SweepModel(BaseModel):
    """The sweep file format."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", description="Sweep name (letters, digits, _-); "
                      "variant versions are tagged <name>.<variant>.")
    description: str = Field("", description="What the sweep compares.")
    recipe: str = Field(description="Path of the base recipe, relative to the sweep file.")
    mode: Literal["grid", "zip", "random", "sobol"] = Field("grid", description="grid: every combination; zip: "
                                                            "the i-th value of every list; random/sobol: n draws.")
    sweep: dict[str, Any] = Field(description="Dotted recipe field -> list of values (grid, zip) or a "
                                  "distribution / list to draw from (random, sobol).")
    n: int | None = Field(None, gt=0, description="Number of variants in random and sobol modes.")
    count: int | None = Field(None, gt=0, description="Samples per variant (default: the recipe's count).")
    seeds: Literal["common", "independent"] = Field("common", description="common: every variant uses the "
                                                    "recipe seed, so sample i differs only in the swept fields; "
                                                    "independent: a seed per variant.")
    seed: int = Field(0, ge=0, description="Seed of the random/sobol draws of variant values.")


@dataclass
class Variant:
    sweep: str
    id: str
    overrides: dict[str, Any]
    recipe: Recipe

    @property
    def tag(self) -> str:
        return f"{self.sweep}.{self.id}"  # Lance refs allow only [A-Za-z0-9._-]

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "tag": self.tag, "overrides": self.overrides, "recipe_hash": self.recipe.hash,
                "recipe": self.recipe.name}


@dataclass
class Sweep:
    model: SweepModel
    file: str
    variants: list[Variant]
    warnings: list[str]

    @property
    def name(self) -> str:
        return self.model.name

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "mode": self.model.mode, "seeds": self.model.seeds,
                "swept": list(self.model.sweep), "variants": [v.record() for v in self.variants]}


# ---------------------------------------------------------------------------------------------
# loading and expanding


def load_sweep(path: str | Path, count: int | None = None) -> Sweep:
    """Load and validate a sweep file and every variant's recipe. Raises RecipeError (exit code 2)."""
    path = Path(path)
    data, lines = load(path)
    file = str(path)
    if not isinstance(data, dict):
        raise RecipeError("a sweep file is a mapping (name, recipe, mode, sweep, ...)", file=file, line=1)
    try:
        model = SweepModel.model_validate(data)
    except ValidationError as exc:
        raise _model_error(exc, {k: (file, v) for k, v in lines.items()}, file, SweepModel, ()) from None
    recipe_path = path.parent / model.recipe
    where = _Where(file, lines)
    checked_recipe_path(recipe_path, file, lines.get(("recipe",)), "recipe")  # never /dev/zero or /etc/shadow
    if not model.sweep:
        raise where.error(("sweep",), "sweep over at least one recipe field, e.g. params.size: [0.1, 0.2]")
    if model.seeds == "independent" and "seed" in model.sweep:
        raise where.error(("sweep", "seed"), "seeds: independent sets the seed per variant; do not sweep it too")
    base = load_recipe(recipe_path)
    warnings: list[str] = []
    combos = _expand(model, where, warnings, recipe_path)
    fixed = {"count": count or model.count} if (count or model.count) else {}
    variants = []
    width = len(str(max(len(combos) - 1, 1)))
    for i, overrides in enumerate(combos):
        digest = hashlib.sha256(canonical_json(overrides).encode()).hexdigest()
        extra = {k: v for k, v in fixed.items() if k not in overrides}  # a swept count wins
        if model.seeds == "independent":  # keyed by the overrides, so adding variants keeps the others' seeds
            extra["seed"] = (base.seed + int(digest[:15], 16)) % 2**63
        recipe = _variant_recipe(recipe_path, {**overrides, **extra}, where, overrides)
        variants.append(Variant(model.name, f"v{i:0{width}d}-{digest[:6]}", overrides, recipe))
    return Sweep(model, file, variants, warnings)


@dataclass
class _Where:
    file: str
    lines: dict[tuple[str, ...], int]

    def error(self, key: tuple[str, ...], message: str) -> RecipeError:
        line = self.lines.get(key) or self.lines.get(key[:1])
        return RecipeError(message, file=self.file, line=line, field=".".join(key))


def _variant_recipe(recipe_path: Path, overrides: dict[str, Any], where: _Where,
                    swept: dict[str, Any]) -> Recipe:
    try:
        return load_recipe(recipe_path, overrides)
    except RecipeError as exc:
        # point at the sweep key the recipe validator complained about, keeping its message
        key = next((k for k in swept if exc.field and (exc.field == k or exc.field.startswith(k + "."))),
                   next(iter(swept)))
        raise where.error(("sweep", key), f"{exc.message} (value {swept.get(key)!r}, from {recipe_path.name})") \
            from None


def _expand(model: SweepModel, where: _Where, warnings: list[str], recipe_path: Path) -> list[dict[str, Any]]:
    keys = list(model.sweep)
    if model.mode in ("grid", "zip"):
        if model.n is not None:
            raise where.error(("n",), f"n is for random and sobol modes; {model.mode} takes every listed value")
        lists = []
        for key in keys:
            values = model.sweep[key]
            if not isinstance(values, list) or not values:
                raise where.error(("sweep", key), f"{model.mode} mode takes a non-empty list of values, "
                                  f"got {values!r}")
            lists.append(values)
        if model.mode == "grid":
            return [dict(zip(keys, combo)) for combo in itertools.product(*lists)]
        lengths = {k: len(v) for k, v in zip(keys, lists)}
        if len(set(lengths.values())) > 1:
            raise where.error(("sweep",), "zip mode needs lists of equal length, got "
                              + ", ".join(f"{k}: {n}" for k, n in lengths.items()))
        return [dict(zip(keys, combo)) for combo in zip(*lists)]
    if model.n is None:
        raise where.error(("mode",), f"{model.mode} mode needs n, the number of variants")
    dists = {key: _sweep_distribution(model.sweep[key], ("sweep", key), where, model.mode) for key in keys}
    for key, spec in model.sweep.items():
        if key.startswith("params.") and isinstance(spec, dict):  # the whole range against the param's bounds
            _variant_recipe(recipe_path, {key: spec}, where, {key: spec})
    if model.mode == "random":
        return [{k: _plain(d.sample(rng_for(model.seed, i, "sweep." + k))) for k, d in dists.items()}
                for i in range(model.n)]
    return _sobol(model, dists, warnings)


def _sweep_distribution(value: Any, key: tuple[str, ...], where: _Where, mode: str) -> D.Distribution:
    if isinstance(value, list):
        if not value:
            raise where.error(key, "an empty list has nothing to draw")
        return D.Choice(tuple(value))
    if not D.is_distribution_spec(value):
        raise where.error(key, f"{mode} mode takes a distribution such as {{uniform: [0, 1]}} or a list of values "
                          f"to choose from, got {value!r}")
    try:
        dist = D.parse(value)
    except D.DistributionError as exc:
        raise where.error(key, str(exc)) from None
    if mode == "sobol" and not isinstance(dist, (D.Uniform, D.RandInt, D.Choice)):
        raise where.error(key, f"sobol mode maps its points through uniform, loguniform, randint or choice, "
                          f"not {dist.name}")
    return dist


def _sobol(model: SweepModel, dists: dict[str, D.Distribution], warnings: list[str]) -> list[dict[str, Any]]:
    from scipy.stats import qmc

    n = model.n or 1
    if n & (n - 1):
        rounded = 1 << (n - 1).bit_length()
        # Sobol points are balanced only in blocks of 2^m; we round up rather than break the balance
        warnings.append(f"sobol n={n} is not a power of two: rounded up to {rounded}")
        n = rounded
    points = qmc.Sobol(d=len(dists), scramble=True, seed=model.seed).random(n)
    return [{k: _plain(_from_unit(d, float(u))) for (k, d), u in zip(dists.items(), row)} for row in points]


def _from_unit(dist: D.Distribution, u: float) -> Any:
    """Map u in [0, 1) through the distribution's inverse CDF."""
    if isinstance(dist, D.LogUniform):
        return math.exp(math.log(dist.low) + u * (math.log(dist.high) - math.log(dist.low)))
    if isinstance(dist, D.Uniform):
        return dist.low + u * (dist.high - dist.low)
    if isinstance(dist, D.RandInt):
        return min(dist.high, dist.low + int(u * (dist.high - dist.low + 1)))
    assert isinstance(dist, D.Choice)
    values = list(dist.values_)
    cum = itertools.accumulate(dist.weights or [1.0] * len(values))
    total = sum(dist.weights or [1.0] * len(values))
    return next((v for v, c in zip(values, cum) if u * total < c), values[-1])


def _plain(value: Any) -> Any:
    if isinstance(value, float):  # 4 significant digits: readable overrides, and a sweep needs no more
        value = float(f"{value:.4g}")
    return json.loads(canonical_json(value))  # numpy scalars -> JSON types, so overrides hash the same
