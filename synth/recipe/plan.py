"""Per-sample parameter draws: each parameter path of each sample gets its own seeded stream."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from synth.recipe import distributions as D
from synth.errors import RecipeError
from synth.recipe.model import Recipe
from synth.core.seeding import rng_for


@dataclass
class Draw:
    index: int
    params: Any                 # the scene's validated Params instance
    recorded: dict[str, Any]    # dotted path -> concrete value (JSON-ready), as stored in the manifest


class Plan:
    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self._paths = sorted(recipe.specs)
        self._scene = recipe.scene_cls()  # for check(); scenes start renderers lazily, so this is cheap

    def params_for(self, index: int) -> Draw:
        nested: dict[str, Any] = {}
        recorded: dict[str, Any] = {}
        seed = self.recipe.seed
        for path in self._paths:
            dist = self.recipe.specs[path]
            if isinstance(dist, D.Constant):
                value = dist.value
            elif isinstance(dist, D.Cycle):
                value = dist.at(index)
            else:
                value = dist.sample(rng_for(seed, index, "params." + path))
            recorded[path] = value.to_yaml() if isinstance(value, D.Distribution) else value
            node = nested
            parts = path.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        scene_cls = self.recipe.scene_cls
        try:
            params = scene_cls.Params.model_validate(nested)
            self._scene.check(params)
        except ValidationError as exc:
            err = exc.errors()[0]
            dotted = ".".join(str(p) for p in err["loc"])
            file, line = self._where(dotted)
            msg = err["msg"].removeprefix("Value error, ")
            where = f"params.{dotted}" if dotted else "params"
            raise RecipeError(f"sample {index}: {msg}", file=file, line=line, field=where) from None
        except ValueError as exc:
            file, line = self._where("")
            raise RecipeError(f"{exc}", file=file, line=line, field="params") from None
        return Draw(index, params, recorded)

    def _where(self, dotted: str) -> tuple[str, int | None]:
        """File and line of a param (nested or dotted spelling), else of the `params:` key."""
        for key, (file, line) in self.recipe.lines.items():
            if key[:1] == ("params",) and dotted and ".".join(key[1:]) == dotted:
                return file, line
        file, line = self.recipe.lines.get(("params",), (self.recipe.file, None))
        return file, line


def sample_id(recipe_hash: str, index: int) -> str:
    return hashlib.sha256(f"{recipe_hash}:{index}".encode()).hexdigest()[:24]


def assign_split(group_key: str, fractions: dict[str, float]) -> str:
    """Split by a hash of the group key: stable when data is added, the same on every machine."""
    u = int(hashlib.sha256(group_key.encode()).hexdigest()[:13], 16) / float(1 << 52)
    acc = 0.0
    names = list(fractions)
    for name in names:
        acc += fractions[name]
        if u < acc:
            return name
    return names[-1]
