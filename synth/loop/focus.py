"""Focused regeneration: a recipe variant that `extends:` the original and draws the failing slices of a
slices report more often (a mixture with a uniform over a failing numeric bin, a reweighted choice)."""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import SynthError
from synth.recipe import distributions as D
from synth.recipe.loader import load_recipe

HIST_DRAWS = 4000  # draws per histogram of a changed param (before/after)
_BIN = re.compile(r"^\s*[\[(]\s*([^,]+?)\s*,\s*([^,]+?)\s*[\])]\s*$")


def focus(recipe_path: str | Path, slices: list[dict[str, Any]] | str | Path, share: float = 0.5, top: int = 3,
          out: str | Path | None = None, report_dir: str | Path | None = None,
          seed: int | None = None) -> dict[str, Any]:
    """Write `<recipe>_focus.yaml` (or `out`): for each of the first `top` usable slices (worst first), a
    numeric param becomes {mixture: [original (1-share), uniform over the bin (share)]}, a categorical one
    moves `share` of its probability onto the failing value (a `cycle` becomes a `choice` with its value
    frequencies first, so the classes are no longer exactly balanced); a pair slice changes both params. Slices on
    columns that are not recipe params are skipped with a note.

    The variant gets its own `seed` (default: derived from the original's seed and the changes), so its
    samples are new draws: with the original's seed, sample i would repeat sample i of the original in
    every param the focus did not change."""
    if not 0 < share < 1:
        raise SynthError(f"share must be in (0, 1), got {share}", field="--share")
    if top < 1:
        raise SynthError(f"top must be at least 1, got {top}", field="--top")
    recipe_path = Path(recipe_path)
    recipe = load_recipe(recipe_path)
    report = _read_slices(slices)
    overrides: dict[str, D.Distribution] = {}
    changes: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    used = 0
    focused_bins: set[tuple[str, str]] = set()  # (param, bin) already drawn more often
    for item in report:
        if used >= top:
            break
        parts, why = _parts(item)
        if why:
            skipped.append({"column": item.get("column"), "bin": item.get("bin"), "reason": why})
            continue
        planned = []
        parts = [(path, bin_) for path, bin_ in parts if (path, repr(bin_)) not in focused_bins]
        if not parts:  # every half already focused by a slice above it: nothing new to draw
            continue
        for path, bin_ in parts:
            dist = overrides.get(path) or _original(recipe.specs.get(path))
            if dist is None:
                why = f"params.{path} is not a param of recipe {recipe.name}" if path not in recipe.specs \
                    else f"params.{path} is a constant in recipe {recipe.name}: nothing to reweight"
                break
            new, why = _focused(dist, bin_, share)
            if why:
                why = f"params.{path}: {why}"
                break
            planned.append((path, dist, new, bin_))
        if why:
            skipped.append({"column": item.get("column"), "bin": item.get("bin"), "reason": why})
            continue
        used += 1
        for path, dist, new, bin_ in planned:
            focused_bins.add((path, repr(bin_)))
            overrides[path] = new
            changes.append({"param": f"params.{path}", "bin": bin_, "kind": item.get("kind", "param"),
                            "error_rate": item.get("error_rate"), "support": item.get("support"),
                            "before": dist.to_yaml(), "after": new.to_yaml()})
    if not overrides:
        raise SynthError("no slice of the report names a recipe param to focus on"
                         + (f" ({len(skipped)} skipped: {skipped[0]['reason']})" if skipped else ""), field="--slices")
    if seed is None:
        seed = derived_seed(recipe.seed, overrides)
    path = _write(recipe_path, recipe.name, overrides, share, out, seed)
    result: dict[str, Any] = {"recipe": str(path), "seed": seed, "changes": changes, "skipped": skipped}
    if report_dir is not None:
        result["histograms"] = _histograms(recipe, overrides, Path(report_dir), f"{recipe.name}_focus")
    return result


def _read_slices(slices: list[dict[str, Any]] | str | Path) -> list[dict[str, Any]]:
    if isinstance(slices, (str, Path)):
        try:
            slices = json.loads(Path(slices).read_text())
        except (OSError, ValueError) as exc:
            raise SynthError(f"cannot read the slices report {slices}: {exc}", field="--slices") from None
    if isinstance(slices, dict) and isinstance(slices.get("slices"), list):
        slices = slices["slices"]
    if not isinstance(slices, list) or not all(isinstance(s, dict) for s in slices):
        raise SynthError("a slices report is a JSON list of {column, bin, kind, ...}, worst first", field="--slices")
    return slices


def _parts(item: dict[str, Any]) -> tuple[list[tuple[str, Any]], str | None]:
    """(param path, bin) per column of a slice: one, or two for a pair. Read from the report's `where`
    list ({column, lo, hi} or {column, value}, as synth.loop.slices writes it) when present, else from
    `column`/`bin` (a pair: columns and bins joined by ' & ', or `bin` a list). Non-param halves of a pair
    are left out; a slice with no param column at all is skipped."""
    where = item.get("where")
    if isinstance(where, list) and where and all(isinstance(w, dict) and "column" in w for w in where):
        columns = [str(w["column"]) for w in where]
        bins = [{"low": w["lo"], "high": w["hi"]} if "lo" in w and "hi" in w else w.get("value") for w in where]
    else:
        column, bins = str(item.get("column", "")), item.get("bins", item.get("bin"))
        columns = [c.strip() for c in column.split(" & ")] if item.get("kind") == "pair" or " & " in column \
            else [column]
        if len(columns) > 1:
            if isinstance(bins, str):
                bins = [b.strip() for b in bins.split(" & ")]
            if not isinstance(bins, (list, tuple)) or len(bins) != len(columns):
                return [], f"pair slice needs one bin per column, got {bins!r}"
        else:
            bins = [bins]
    parts = [(c.removeprefix("params."), b) for c, b in zip(columns, bins) if c.startswith("params.")]
    if not parts:
        return [], f"{' & '.join(columns)} is not a recipe param (only params.* slices can be focused)"
    return parts, None


def _original(spec: D.Distribution | None) -> D.Distribution | None:
    if spec is None:
        return None
    if isinstance(spec, D.Constant):  # a per-object param is a constant holding its distribution
        return spec.value if isinstance(spec.value, D.Distribution) else None
    return spec


def _numeric_bin(bin_: Any) -> tuple[float, float] | None:
    if isinstance(bin_, dict) and {"low", "high"} <= set(bin_):
        lo, hi = bin_["low"], bin_["high"]
    elif isinstance(bin_, (list, tuple)) and len(bin_) == 2:
        lo, hi = bin_
    elif isinstance(bin_, str) and _BIN.match(bin_):
        lo, hi = _BIN.match(bin_).groups()
    else:
        return None
    try:
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        return None
    return (lo, hi) if lo <= hi else None


def _focused(dist: D.Distribution, bin_: Any, share: float) -> tuple[D.Distribution | None, str | None]:
    """The distribution that draws `bin_` `share` more often, or why it cannot."""
    values = list(dict.fromkeys(dist.values_)) if isinstance(dist, D.Cycle) else dist.values()
    if isinstance(dist, (D.Choice, D.Cycle)) or (values is not None and _numeric_bin(bin_) is None):
        return _reweighted(dist, values or [], bin_, share)
    span = _numeric_bin(bin_)
    support = dist.support()
    if span is None:
        return None, f"bin {bin_!r} is neither a value nor a numeric range [lo, hi)"
    if support is None:
        return None, f"{dist.name} is not numeric"
    lo, hi = max(span[0], support[0]), min(span[1], support[1])
    if lo > hi or (lo == hi and span[0] != span[1]):
        return None, f"bin [{span[0]:g}, {span[1]:g}) lies outside the param's range [{support[0]:g}, {support[1]:g}]"
    if _integer(dist):
        first, last = math.ceil(lo), (math.ceil(hi) - 1 if hi > lo and span[1] == hi else math.floor(hi))
        if first > last:
            return None, f"bin [{span[0]:g}, {span[1]:g}) holds no integer"
        focus_part: D.Distribution = D.RandInt(int(first), int(last))
    else:
        focus_part = D.Uniform(float(lo), float(hi))
    return D.Mixture((dist, focus_part), (round(1 - share, 6), round(share, 6))), None


def _integer(dist: D.Distribution) -> bool:
    if isinstance(dist, D.RandInt):
        return True
    if isinstance(dist, D.Mixture):
        return all(_integer(c) for c in dist.components)
    vals = dist.values()
    return vals is not None and all(isinstance(v, int) and not isinstance(v, bool) for v in vals)


def _reweighted(dist: D.Distribution, values: list[Any], bin_: Any, share: float) \
        -> tuple[D.Distribution | None, str | None]:
    match = [v for v in values if v == bin_ and type(v) is type(bin_)] or [v for v in values if str(v) == str(bin_)]
    span = _numeric_bin(bin_)
    if not match and span is not None:  # a numeric choice binned into a range: every value inside it
        match = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                 and span[0] <= v < span[1]]
    if not match:
        return None, f"{bin_!r} is not a value {dist.name} draws ({', '.join(map(str, values[:8]))})"
    if isinstance(dist, D.Cycle):  # values in turn by index cannot be reweighted: a choice with the same
        unique = list(dict.fromkeys(dist.values_))  # frequencies, then focused (classes no longer exactly even)
        dist = D.Choice(tuple(unique), tuple(dist.values_.count(v) / len(dist.values_) for v in unique))
    if isinstance(dist, D.Choice):
        base = np.asarray(dist.weights or [1.0] * len(dist.values_), float)
        base = base / base.sum()
        hit = np.array([any(v == m and type(v) is type(m) for m in match) for v in dist.values_], float)
        weights = (1 - share) * base + share * hit / hit.sum()
        return D.Choice(dist.values_, tuple(round(float(w), 6) for w in weights)), None
    return D.Mixture((dist, D.Choice(tuple(match))), (round(1 - share, 6), round(share, 6))), None


def derived_seed(seed: int, overrides: dict[str, D.Distribution]) -> int:
    """A seed for the variant from the original's and what changed: the same focus gives the same seed."""
    text = json.dumps({"seed": seed, "focus": {p: d.to_yaml() for p, d in sorted(overrides.items())}},
                      sort_keys=True, default=str)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _write(recipe_path: Path, name: str, overrides: dict[str, D.Distribution], share: float,
           out: str | Path | None, seed: int) -> Path:
    """The variant beside the original (or at `out`), written like `synth tune`'s best recipe; it must load."""
    from ruamel.yaml import YAML

    out = Path(out) if out else recipe_path.with_name(f"{recipe_path.stem}_focus.yaml")
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"extends": os.path.relpath(recipe_path.resolve(), out.resolve().parent), "name": f"{name}_focus",
            "seed": seed, "params": {path: dist.to_yaml() for path, dist in overrides.items()}}
    yaml = YAML()
    yaml.default_flow_style = None
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(f"# written by `synth focus` (share {share:g}): draws the failing slices of {recipe_path.name} "
                 "more often\n")
        yaml.dump(data, fh)
    tmp.replace(out)
    try:
        load_recipe(out)  # what we write must load and validate
    except Exception:
        out.unlink(missing_ok=True)
        raise
    return out


def _draws(dist: D.Distribution) -> list[Any]:
    if isinstance(dist, D.Cycle):  # by index: the values in turn
        return [dist.at(i) for i in range(HIST_DRAWS)]
    rng = np.random.default_rng(0)
    return [dist.sample(rng) for _ in range(HIST_DRAWS)]


def _histograms(recipe: Any, overrides: dict[str, D.Distribution], folder: Path, stem: str) -> list[str]:
    """One PNG per changed param: draws of the original and of the focused distribution, overlaid."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path, after in overrides.items():
        before = _original(recipe.specs[path])
        fig, ax = plt.subplots(figsize=(6, 3.5))
        both = {label: _draws(dist) for label, dist in (("before", before), ("after", after))}
        names = sorted({str(v) for draws in both.values() for v in draws})
        for label, draws in both.items():
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in draws):
                ax.hist(draws, bins=40, alpha=0.5, label=label)
            else:
                counts = [sum(str(v) == n for v in draws) for n in names]
                offset = -0.2 if label == "before" else 0.2
                ax.bar(np.arange(len(names)) + offset, counts, width=0.4, label=label)
                ax.set_xticks(np.arange(len(names)), names)
        ax.set_title(f"params.{path}: {HIST_DRAWS} draws before/after focus")
        ax.legend()
        target = folder / f"{stem}_{path.replace('.', '_')}.png"
        fig.tight_layout()
        fig.savefig(target)
        plt.close(fig)
        written.append(str(target))
    return written
