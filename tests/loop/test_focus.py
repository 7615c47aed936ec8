"""The mixture distribution, and `synth focus`: a recipe variant that draws the failing slices more often."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synth import api
from synth.errors import RecipeError, SynthError
from synth.loop.focus import focus
from synth.recipe import distributions as D
from synth.recipe.loader import load_recipe
from synth.store.workspace import Workspace

MIX = {"mixture": {"components": [{"uniform": [0.08, 0.3]}, {"uniform": [0.25, 0.3]}], "weights": [0.5, 0.5]}}

SHAPES = """
name: tiny
scene: shapes
count: 40
seed: 3
params:
  width: 48
  height: 48
  num_objects: 3
  size: {uniform: [0.08, 0.3]}
  texture: {choice: {solid: 0.6, noise: 0.2, stripes: 0.1, checker: 0.1}}
  background: {brightness: {uniform: [0.1, 0.9]}}
"""


def test_mixture_samples_from_the_one_stream() -> None:
    m = D.parse(MIX)
    a = [m.sample(np.random.default_rng(5)) for _ in range(3)]
    assert a == [m.sample(np.random.default_rng(5)) for _ in range(3)]
    draws = np.array([m.sample(rng) for rng in [np.random.default_rng(0)] for _ in range(4000)])
    in_bin = ((draws >= 0.25) & (draws < 0.3)).mean()
    assert 0.5 < in_bin < 0.65  # 0.5 + 0.5 * 0.05 / 0.22
    assert m.support() == (0.08, 0.3)


def test_mixture_yaml_round_trip() -> None:
    m = D.parse(MIX)
    assert m.to_yaml() == MIX and D.parse(m.to_yaml()) == m
    mixed = D.parse({"mixture": {"components": [{"randint": [1, 3]}, 7], "weights": [1, 1]}})
    assert mixed.values() == [1, 2, 3, 7] and D.parse(mixed.to_yaml()) == mixed


@pytest.mark.parametrize("spec, msg", [
    ({"mixture": {"components": [{"uniform": [0, 1]}], "weights": [-1]}}, "weights must be >= 0"),
    ({"mixture": {"components": [{"uniform": [0, 1]}], "weights": [0]}}, "not all zero"),
    ({"mixture": {"components": [{"uniform": [0, 1]}], "weights": [1, 2]}}, "1 components need 1 weights"),
    ({"mixture": {"components": [{"uniform": [1, 0]}]}}, "component 0"),
    ({"mixture": {"components": []}}, "non-empty"),
    ({"mixture": {"components": [{"cycle": [1, 2]}]}}, "cycle"),
    ({"mixture": {"components": [1], "wieghts": [1]}}, "did you mean"),
])
def test_mixture_validation(spec, msg) -> None:
    with pytest.raises(D.DistributionError, match=msg):
        D.parse(spec)


def test_mixture_support_checked_against_param_bounds(write_recipe) -> None:
    path = write_recipe(SHAPES.replace("size: {uniform: [0.08, 0.3]}",
                                       "size: {mixture: {components: [{uniform: [0.08, 0.3]}, {uniform: [0.5, 1.5]}]}}"))
    with pytest.raises(RecipeError, match="outside the allowed range"):
        load_recipe(path)


def fraction(ws_path: str, count: int | None = None) -> tuple[float, float, float]:
    """Objects of size in [0.25, 0.3), objects with stripes, samples with background.brightness in [0.2, 0.3)."""
    ws = Workspace.open(ws_path)
    t = ws.manifest.to_table(columns=["labels", "params"]).to_pylist()
    objects = [o for r in t for o in json.loads(r["labels"])["objects"]]
    size = np.mean([0.25 <= o["radius"] / 48 < 0.3 for o in objects])
    stripes = np.mean([o["texture"] == "stripes" for o in objects])
    bright = np.mean([0.2 <= json.loads(r["params"])["background.brightness"] < 0.3 for r in t])
    return size, stripes, bright


def test_focus_draws_the_failing_bin_more_often(write_recipe, tmp_path: Path) -> None:
    recipe = write_recipe(SHAPES, "tiny.yaml")
    slices = [{"column": "params.size", "bin": "[0.25, 0.3)", "kind": "param", "support": 30, "error_rate": 0.5},
              {"column": "labels.class", "bin": "circle", "kind": "metadata"},
              {"column": "params.texture", "bin": "stripes", "kind": "param"},
              {"column": "params.background.brightness", "bin": {"low": 0.2, "high": 0.3}, "kind": "param"}]
    res = focus(recipe, slices, share=0.5, top=3, report_dir=tmp_path / "report")
    assert res["recipe"] == str(tmp_path / "tiny_focus.yaml")
    assert [c["param"] for c in res["changes"]] == ["params.size", "params.texture", "params.background.brightness"]
    assert res["skipped"] and "not a recipe param" in res["skipped"][0]["reason"]
    assert all(Path(p).stat().st_size > 0 for p in res["histograms"])
    variant = load_recipe(res["recipe"])
    assert variant.name == "tiny_focus" and isinstance(variant.specs["size"].value, D.Mixture)
    texture = variant.specs["texture"].value
    assert dict(zip(texture.values_, texture.weights))["stripes"] == pytest.approx(0.55)

    api.generate(recipe, str(tmp_path / "before"), workers=1)
    api.generate(res["recipe"], str(tmp_path / "after"), workers=1)
    before, after = fraction(str(tmp_path / "before")), fraction(str(tmp_path / "after"))
    assert after[0] > before[0] + 0.2   # ~0.23 -> ~0.6 of the objects
    assert after[1] > before[1] + 0.2   # 0.1 -> 0.55
    assert after[2] > before[2] + 0.2   # 0.125 -> ~0.56 of the samples


def test_pair_slice_changes_both_params(write_recipe) -> None:
    recipe = write_recipe(SHAPES.replace("num_objects: 3", "num_objects: {randint: [1, 4]}"), "tiny.yaml")
    res = focus(recipe, [{"column": "params.num_objects & params.texture", "bin": "[3, 5) & noise",
                          "kind": "pair"}])
    after = {c["param"]: c["after"] for c in res["changes"]}
    assert after["params.num_objects"] == {"mixture": {"components": [{"randint": [1, 4]}, {"randint": [3, 4]}],
                                                       "weights": [0.5, 0.5]}}
    assert after["params.texture"]["choice"]["weights"][1] == pytest.approx(0.6)


def test_slices_report_where_entries_are_used(write_recipe) -> None:
    """The report of synth.loop.slices: a pair names both halves in `where`; a metadata half is left out."""
    recipe = write_recipe(SHAPES, "tiny.yaml")
    pair = {"column": "params.size & origin", "bin": "[0.25, 0.3) & synthetic", "kind": "pair",
            "where": [{"column": "params.size", "lo": 0.25, "hi": 0.3, "closed": False},
                      {"column": "origin", "value": "synthetic"}]}
    res = focus(recipe, [pair, {"column": "params.texture", "bin": "checker", "kind": "param",
                                "where": [{"column": "params.texture", "value": "checker"}]}])
    assert [c["param"] for c in res["changes"]] == ["params.size", "params.texture"]
    assert res["changes"][0]["after"]["mixture"]["components"][1] == {"uniform": [0.25, 0.3]}


def test_only_non_param_slices_is_an_error(write_recipe) -> None:
    recipe = write_recipe(SHAPES, "tiny.yaml")
    with pytest.raises(SynthError, match="no slice"):
        focus(recipe, [{"column": "origin", "bin": "real", "kind": "metadata"}])
    with pytest.raises(SynthError, match="share"):
        focus(recipe, [{"column": "params.size", "bin": "[0.25, 0.3)"}], share=1.0)


def test_cli_focus(write_recipe, tmp_path: Path, capsys) -> None:
    from synth.cli.focus import focus_cmd
    from click.testing import CliRunner

    recipe = write_recipe(SHAPES, "tiny.yaml")
    report = tmp_path / "slices.json"
    report.write_text(json.dumps([{"column": "params.size", "bin": [0.25, 0.3], "kind": "param"}]))
    out = tmp_path / "v" / "focused.yaml"
    result = CliRunner().invoke(focus_cmd, [str(recipe), "--slices", str(report), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["recipe"] == str(out) and load_recipe(out).name == "tiny_focus"


def test_variant_draws_new_samples_not_replays(write_recipe, tmp_path: Path) -> None:
    """With the original's seed, sample i of the variant would repeat sample i of the original in every
    param focus did not change; the variant gets its own seed (stable for the same focus, or --seed)."""
    recipe = write_recipe(SHAPES, "tiny.yaml")
    slices = [{"column": "params.texture", "bin": "stripes", "kind": "param"}]
    first = focus(recipe, slices, out=tmp_path / "a.yaml")
    again = focus(recipe, slices, out=tmp_path / "b.yaml")
    assert first["seed"] == again["seed"] != 3 and load_recipe(first["recipe"]).seed == first["seed"]
    assert focus(recipe, slices, out=tmp_path / "c.yaml", seed=11)["seed"] == 11
    api.generate(recipe, str(tmp_path / "orig"), workers=1)
    api.generate(first["recipe"], str(tmp_path / "var"), workers=1)

    def brightness(ws: str) -> list[float]:
        rows = Workspace.open(ws).manifest.to_table(None).sort_by("index").to_pylist()
        return [json.loads(r["params"])["background.brightness"] for r in rows]

    assert not set(brightness(str(tmp_path / "orig"))) & set(brightness(str(tmp_path / "var")))


def test_cycle_param_becomes_a_focused_choice(write_recipe, tmp_path: Path) -> None:
    """A class drawn by `cycle` (digits) cannot sit in a mixture: it becomes a choice with the cycle's
    frequencies, then the failing class gets `share` more (once: the pair repeating it adds only texture)."""
    recipe = write_recipe(SHAPES.replace("num_objects: 3", "num_objects: {cycle: [1, 2, 3, 3]}"), "tiny.yaml")
    res = focus(recipe, [{"column": "params.num_objects", "bin": "1", "kind": "param"},
                         {"column": "params.num_objects & params.texture", "bin": "1 & noise", "kind": "pair"}],
                share=0.5, report_dir=tmp_path / "report")
    assert all(Path(p).stat().st_size > 0 for p in res["histograms"])
    choice = load_recipe(res["recipe"]).specs["num_objects"]
    assert isinstance(choice, D.Choice) and list(choice.values_) == [1, 2, 3]
    weights = dict(zip(choice.values_, choice.weights))
    assert weights[1] == pytest.approx(0.5 * 0.25 + 0.5)   # 0.25 -> 0.625
    assert weights[3] == pytest.approx(0.5 * 0.5)
    assert [c["param"] for c in res["changes"]] == ["params.num_objects", "params.texture"]


def test_a_bin_already_focused_is_not_stacked_again(write_recipe) -> None:
    """Pairs repeat the worst single bins: each (param, bin) is focused once; a pair adds only its new half,
    and a slice adding nothing new does not use up --top."""
    recipe = write_recipe(SHAPES, "tiny.yaml")
    size = {"column": "params.size", "lo": 0.25, "hi": 0.3, "closed": True}
    res = focus(recipe, [{"column": "params.size", "bin": "[0.25, 0.3]", "kind": "param", "where": [size]},
                         {"column": "params.size & labels.class", "bin": "[0.25, 0.3] & circle", "kind": "pair",
                          "where": [size, {"column": "labels.class", "value": "circle"}]},
                         {"column": "params.size & params.texture", "bin": "[0.25, 0.3] & noise", "kind": "pair",
                          "where": [size, {"column": "params.texture", "value": "noise"}]}], top=2)
    assert [c["param"] for c in res["changes"]] == ["params.size", "params.texture"]
    assert load_recipe(res["recipe"]).specs["size"].value.to_yaml()["mixture"]["components"][0] == {"uniform": [0.08, 0.3]}
