"""The `tune:` block of a recipe: which distribution arguments `synth tune` may move, and within what ranges.

```yaml
tune:
  layout.scale: {uniform: [[0.4, 0.8], [0.7, 1.0]]}   # each argument of the distribution: [min, max]
  stroke_width: {randint: [[0, 1], [1, 4]]}            # ints stay ints
  blur: {uniform: [0, [0.2, 1.5]]}                     # a plain number keeps that argument fixed
  noise: {normal: {mean: [-0.1, 0.1], std: [0.01, 0.2]}}
  glyph_source: {choice: {font: [0, 1], pen: [0, 1]}}  # choice weights, normalised after the draw
  pen_width: [1, 4]                                    # a constant, searched in [min, max]
```
Ordered arguments (`uniform`, `loguniform`, `randint`, `triangular` and truncnormal's low/high) are sorted
after the draw, so a trial never proposes low > high. Every range is checked at load time: the recipe is
built at the corners of each parameter's ranges, so a range that leaves a parameter's bounds is a
validation error that names the tune line."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

from synth.errors import RecipeError

POSITIONAL = {"uniform": 2, "loguniform": 2, "randint": 2, "triangular": 3, "bernoulli": 1}
NAMED = {"normal": ("mean", "std"), "truncnormal": ("mean", "std", "low", "high")}
SORTED = {"uniform": (0, 1), "loguniform": (0, 1), "randint": (0, 1), "triangular": (0, 1, 2),
          "truncnormal": ("low", "high")}
MAX_CORNERS = 16  # recipes built per tuned parameter to check its ranges (2^k corners, k arguments)


@dataclass(frozen=True)
class Dimension:
    """One number the search proposes: `name` is `<param path>:<argument>`."""

    name: str
    low: float
    high: float
    integer: bool


@dataclass
class TunedParam:
    path: str
    kind: str                       # a distribution name, or "const"
    keys: list[Any]                 # argument positions, names, or choice values
    ranges: list[tuple[float, float] | float]  # [min, max], or a fixed number

    def dimensions(self) -> list[Dimension]:
        return [Dimension(self._dim(k), r[0], r[1], _is_int(r) and self.kind != "choice")
                for k, r in zip(self.keys, self.ranges) if isinstance(r, tuple)]

    def _dim(self, key: Any) -> str:
        return self.path if self.kind == "const" else f"{self.path}:{self.kind}.{key}"

    def value(self, point: dict[str, float]) -> Any:
        """The distribution (as recipe YAML) for the proposed numbers in `point`."""
        args = {k: _tidy(point[self._dim(k)]) if isinstance(r, tuple) else r for k, r in zip(self.keys, self.ranges)}
        order = SORTED.get(self.kind, ())
        if order:
            ordered = sorted(args[k] for k in order)
            args.update(zip(order, ordered))
        if self.kind == "const":
            return args[self.path]
        if self.kind == "choice":
            total = sum(max(0.0, w) for w in args.values())
            weights = [max(0.0, w) / total if total > 0 else 1 / len(args) for w in args.values()]
            return {"choice": {"values": list(args), "weights": [round(w, 6) for w in weights]}}
        if self.kind in POSITIONAL:
            vals = [args[k] for k in self.keys]
            return {self.kind: vals[0] if self.kind == "bernoulli" else vals}
        return {self.kind: dict(args)}


@dataclass
class SearchSpace:
    params: list[TunedParam]

    def dimensions(self) -> list[Dimension]:
        return [d for p in self.params for d in p.dimensions()]

    def overrides(self, point: dict[str, float]) -> dict[str, Any]:
        """Recipe overrides (`params.<path>` -> distribution) for one proposed point."""
        return {f"params.{p.path}": p.value(point) for p in self.params}


def parse_tune(block: Any, lines: dict, file: str) -> SearchSpace:
    """The search space a `tune:` mapping declares; a RecipeError with file:line for anything malformed."""
    if not isinstance(block, dict) or not block:
        f, ln = lines.get(("tune",), (file, None))
        raise RecipeError("'tune' maps parameter paths to the ranges a search may use, e.g. "
                          "{layout.scale: {uniform: [[0.4, 0.8], [0.7, 1.0]]}}", file=f, line=ln, field="tune")
    return SearchSpace([_param(str(path), spec, lines, file) for path, spec in block.items()])


def check_ranges(space: SearchSpace, rebuild: Callable[[dict[str, Any]], Any], lines: dict, file: str) -> None:
    """Build the recipe at the corners of each tuned parameter's ranges: a corner the recipe rejects
    (a bound left, an unknown parameter, a bad distribution) is an error on the tune line."""
    for param in space.params:
        dims = param.dimensions()
        corners = itertools.islice(itertools.product(*[(d.low, d.high) for d in dims]), MAX_CORNERS)
        for corner in corners:
            point = dict(zip((d.name for d in dims), corner))
            try:
                rebuild({f"params.{param.path}": param.value(point)})
            except RecipeError as exc:
                f, ln = _where(lines, param.path, file)
                raise RecipeError(f"a range reaches {param.value(point)!r}, which the recipe rejects: {exc.message}",
                                  file=f, line=ln, field=f"tune.{param.path}") from None


def _param(path: str, spec: Any, lines: dict, file: str) -> TunedParam:
    f, ln = _where(lines, path, file)

    def fail(msg: str) -> RecipeError:
        return RecipeError(msg, file=f, line=ln, field=f"tune.{path}")

    if isinstance(spec, list):
        return TunedParam(path, "const", [path], [_range(spec, fail, "the constant")])
    if not isinstance(spec, dict) or len(spec) != 1:
        raise fail("give [min, max] for a constant, or one distribution with a range per argument, "
                   "e.g. {uniform: [[0.1, 0.3], [0.5, 0.9]]}")
    kind, args = next(iter(spec.items()))
    if kind in POSITIONAL:
        n = POSITIONAL[kind]
        items = [args] if kind == "bernoulli" else args
        if not isinstance(items, list) or len(items) != n:
            raise fail(f"{kind} takes {n} argument{'s' if n > 1 else ''}: a [min, max] range or a number for each")
        return TunedParam(path, kind, list(range(n)), [_arg(a, fail, f"{kind} argument {i}") for i, a in enumerate(items)])
    if kind in NAMED:
        names = NAMED[kind]
        if not isinstance(args, dict) or set(args) - set(names) or len(args) != len(names):
            raise fail(f"{kind} takes {{{', '.join(names)}}}, each a [min, max] range or a number")
        return TunedParam(path, kind, list(names), [_arg(args[k], fail, f"{kind}.{k}") for k in names])
    if kind == "choice":
        if not isinstance(args, dict) or len(args) < 2:
            raise fail("choice takes {value: [min weight, max weight], ...} with at least two values")
        ranges = [_arg(w, fail, f"the weight of {v!r}") for v, w in args.items()]
        if any((r[0] if isinstance(r, tuple) else r) < 0 for r in ranges):
            raise fail("choice weights must be >= 0")
        return TunedParam(path, "choice", list(args), ranges)
    allowed = sorted([*POSITIONAL, *NAMED, "choice"])
    raise fail(f"cannot tune '{kind}'; tunable: {', '.join(allowed)}, or [min, max] for a constant")


def _arg(value: Any, fail: Callable[[str], RecipeError], what: str) -> tuple[float, float] | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, list)):
        raise fail(f"{what}: give a number or a [min, max] range, got {value!r}")
    return _range(value, fail, what) if isinstance(value, list) else value


def _range(value: Any, fail: Callable[[str], RecipeError], what: str) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise fail(f"{what}: a range is [min, max] with two numbers, got {value!r}")
    lo, hi = value
    if not lo <= hi:
        raise fail(f"{what}: min {lo} is above max {hi}")
    return (lo, hi)


def _tidy(x: float) -> float:
    """Proposals rounded to 6 significant digits: the recipe a study writes stays readable, and the trial
    renders exactly what is written."""
    return x if isinstance(x, int) else float(f"{x:.6g}")


def _is_int(r: tuple[float, float]) -> bool:
    return all(isinstance(v, int) for v in r)


def _where(lines: dict, path: str, file: str) -> tuple[str, int | None]:
    for key in (("tune", path), ("tune",)):
        if key in lines:
            return lines[key]
    return file, None
