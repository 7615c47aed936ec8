"""Fixtures for the 3D scene tests: params drawn from the repo's recipes, renders shared per module."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML

from synth.distributions import parse
from synth.seeding import RENDER_STREAM, rng_for

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def recipe_params(name: str, index: int) -> tuple[dict[str, Any], np.random.Generator]:
    """Concrete params of sample `index` of a recipe (one seeded stream per param path, as the engine
    draws them) and that sample's render stream."""
    recipe = YAML(typ="safe").load((RECIPES / f"{name}.yaml").read_text())
    params: dict[str, Any] = {}
    for path, value in recipe["params"].items():
        node = params
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = parse(value).sample(rng_for(recipe["seed"], index, path))
    return params, rng_for(recipe["seed"], index, RENDER_STREAM)
