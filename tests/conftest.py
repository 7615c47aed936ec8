"""Shared fixtures: a fresh workspace folder per test and the repo's recipes folder."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"


@pytest.fixture
def ws_path(tmp_path: Path) -> str:
    return str(tmp_path / "ws")


@pytest.fixture
def write_recipe(tmp_path: Path):
    """Write a recipe text to a file in tmp_path and return its path."""
    def write(text: str, name: str = "recipe.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return write
