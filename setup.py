"""Packages and entry points, which depend on the kind of install (pyproject.toml holds everything else).

A wheel or sdist installs the repository's top-level `scenes/` and `ssl_tasks/` as `synth.scenes` and
`synth.ssl_tasks` (generic top-level names would clash with other projects in site-packages) and ships
`recipes/` as `synth.example_recipes`; the entry points name those modules. An editable install (the
repository's own venv, `make setup`) keeps `scenes` and `ssl_tasks` top-level, as the tests, benchmarks and
users' own plugins in the checkout import them. deps/build_backend.py tells this file which one it builds.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent
PLUGIN_PACKAGES = ("scenes", "ssl_tasks")
editable = os.environ.get("SYNTH_BUILD_LAYOUT") == "editable"

plugins = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["synth"]["entry-points"]
if editable:
    packages = find_packages(include=["synth", "synth.*", *PLUGIN_PACKAGES, *(f"{p}.*" for p in PLUGIN_PACKAGES)])
    package_dir: dict[str, str] = {}
    entry_points = {group: [f"{name} = {target}" for name, target in eps.items()] for group, eps in plugins.items()}
else:
    packages = [*find_packages(include=["synth", "synth.*"]), *(f"synth.{p}" for p in PLUGIN_PACKAGES),
                "synth.example_recipes"]
    package_dir = {**{f"synth.{p}": p for p in PLUGIN_PACKAGES}, "synth.example_recipes": "recipes"}
    entry_points = {group: [f"{name} = synth.{target}" for name, target in eps.items()]
                    for group, eps in plugins.items()}

entry_points["console_scripts"] = ["synth = synth.cli:main"]
setup(packages=packages, package_dir=package_dir, entry_points=entry_points,
      package_data={"synth": ["data/*.txt"], "synth.example_recipes": ["*.yaml"]},
      include_package_data=False)
