"""What the distribution declares: the `pinned` extra pins every rendering library the lock records, at
uv.lock's versions; trdg's broken pins stay out of both installs; the dev install resolves the entry points
to the checkout's top-level `scenes` / `ssl_tasks`; the example recipes are listed and copied."""
from __future__ import annotations

import json
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from synth.cli import main
from synth.engine.lock import RENDERING_LIBRARIES

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKED = {p["name"]: p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
PINNED_ELSEWHERE = {"trdg", "bpy", "blenderproc", "opencv-python"}  # text group, 3d extra; never installed


def test_pinned_extra_is_the_lock():
    pins = {Requirement(r).name: Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["pinned"]}
    assert set(pins) == set(RENDERING_LIBRARIES) - PINNED_ELSEWHERE
    for name, req in pins.items():
        assert str(req.specifier) == f"=={LOCKED[name]}", f"{name}: pyproject says {req}, uv.lock {LOCKED[name]}"


def test_trdg_comes_without_its_pins():
    deps = [Requirement(r).name for r in PYPROJECT["project"]["dependencies"]]
    assert "trdg" not in deps  # pip would pull opencv-python and arabic-reshaper==2.1.3 (yanked) with it
    assert PYPROJECT["dependency-groups"]["text"] == ["trdg==1.8.0"]
    installed = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert "trdg" in installed
    assert not installed & {"opencv-python", "arabic-reshaper", "python-bidi", "wikipedia", "diffimg"}


def test_extras_for_object_storage_and_ray():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert [Requirement(r).name for r in extras["s3"]] == ["s3fs"]
    assert [Requirement(r).name for r in extras["gcs"]] == ["gcsfs"]
    [ray] = [Requirement(r) for r in extras["ray"]]
    assert ray.name == "ray" and ray.extras == {"client", "default"}


def test_dev_install_entry_points_name_the_checkouts_folders():
    dist = metadata.distribution(PYPROJECT["project"]["name"])
    eps = {(ep.group, ep.name): ep.value for ep in dist.entry_points}
    declared = PYPROJECT["tool"]["synth"]["entry-points"]
    for group, names in declared.items():
        for name, target in names.items():
            assert eps[(group, name)] == target  # editable: scenes.shapes:..., as the tests import them
    assert eps[("console_scripts", "synth")] == "synth.cli:main"
    shapes = next(ep for ep in dist.entry_points if ep.group == "synth.scenes" and ep.name == "shapes")
    assert shapes.load().__module__ == "scenes.shapes"


def test_recipes_lists_and_init_copies_with_the_base(tmp_path, capsys):
    main(["recipes", "--json"])
    listed = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert set(listed) == {p.stem for p in (ROOT / "recipes").glob("*.yaml")}
    assert listed["shapes"]["scene"] == "shapes" and listed["shapes_ssl"]["based_on"] == "shapes.yaml"
    main(["init", "shapes_ssl", "--to", str(tmp_path / "mine"), "--json"])
    written = json.loads(capsys.readouterr().out)["files"]
    assert sorted(Path(p).name for p in written) == ["shapes.yaml", "shapes_ssl.yaml"]
    assert (tmp_path / "mine" / "shapes.yaml").read_bytes() == (ROOT / "recipes" / "shapes.yaml").read_bytes()
    with pytest.raises(SystemExit) as exc:  # nothing is overwritten
        main(["init", "shapes", "--to", str(tmp_path / "mine")])
    assert exc.value.code == 2 and "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["init", "../shapes", "--to", str(tmp_path / "mine")])
    assert "NAME" in capsys.readouterr().err
