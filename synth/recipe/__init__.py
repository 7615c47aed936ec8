"""Recipes: YAML with line numbers, the recipe model, distributions, the per-sample plan, seeding and
sweep files. `load_recipe` is the way in."""
from __future__ import annotations

from synth.recipe.loader import load_recipe
from synth.recipe.model import Recipe, RecipeModel

__all__ = ["Recipe", "RecipeModel", "load_recipe"]
