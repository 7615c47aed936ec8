"""Recipe loading under hostile input ("Nothing lost, nothing escapes"): alias bombs, devices, secrets named by
`extends`, huge counts and numbers, NaN and infinity, and `synth validate` over many files. Each case ends in
one clean error line naming the file (and line, field where known) with exit code 2, and never hangs."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from synth.cli import main
from synth.errors import RecipeError
from synth.recipe import load_recipe
from synth.recipe.yamlio import loads

ROOT = Path(__file__).resolve().parents[2]
GOOD = "name: ok\nscene: shapes\ncount: 3\nparams:\n  width: 64\n  height: 64\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8))


def synth(*args: object, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_clean(err: str, lines: int = 1) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == lines and err.startswith("error: "), err


def test_billion_laughs_is_refused_quickly(tmp_path, capsys):
    (tmp_path / "bomb.yaml").write_text(BOMB)
    start = time.monotonic()
    code, _, err = synth("validate", tmp_path / "bomb.yaml", capsys=capsys)
    assert time.monotonic() - start < 10
    assert code == 2 and "SYNTH_MAX_RECIPE_NODES" in err and "bomb.yaml:" in err
    assert_clean(err)


def test_recursive_alias_is_refused():
    with pytest.raises(RecipeError, match="recursive alias|YAML"):
        loads("a: &a [1, *a]\n", "r.yaml")


def test_node_limit_can_be_raised(monkeypatch):
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    monkeypatch.setenv("SYNTH_MAX_RECIPE_NODES", "50")
    with pytest.raises(RecipeError, match="more than 50 YAML values"):
        loads(text, "r.yaml")
    monkeypatch.setenv("SYNTH_MAX_RECIPE_NODES", "500")
    assert len(loads(text, "r.yaml")[0]["b"]) == 10


def test_deep_nesting_is_refused():
    with pytest.raises(RecipeError, match="nested"):
        loads("a: " + "[" * 5000 + "]" * 5000 + "\n", "r.yaml")


def test_oversized_recipe_is_refused_and_limit_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "description: '" + "x" * 2000 + "'\n")
    monkeypatch.setenv("SYNTH_MAX_RECIPE_BYTES", "1000")
    with pytest.raises(RecipeError, match="larger than 1,000 bytes.*SYNTH_MAX_RECIPE_BYTES"):
        load_recipe(path)
    monkeypatch.setenv("SYNTH_MAX_RECIPE_BYTES", "100000")
    assert load_recipe(path).name == "ok"


def test_device_as_recipe_does_not_hang(capsys):
    code, _, err = synth("validate", "/dev/zero", capsys=capsys)
    assert code == 2 and "not a regular file" in err
    assert_clean(err)


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/shadow", "/etc/passwd", "secret.txt", "folder.yaml",
                                    "/dev/null"])
def test_extends_takes_only_regular_yaml_files(tmp_path, capsys, target):
    (tmp_path / "secret.txt").write_text("TOP-SECRET-LINE: hunter2\n")
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "r.yaml").write_text(f"extends: {target}\nname: x\n")
    start = time.monotonic()
    code, _, err = synth("validate", tmp_path / "r.yaml", capsys=capsys)
    assert time.monotonic() - start < 10
    assert code == 2 and "r.yaml:1: extends:" in err
    assert "TOP-SECRET" not in err and "root:" not in err and "hunter2" not in err
    assert_clean(err)


def test_extends_of_a_non_recipe_never_echoes_its_content(tmp_path):
    (tmp_path / "secret.yaml").write_bytes(b"\xff\xfeTOP-SECRET\n")
    (tmp_path / "r.yaml").write_text("extends: secret.yaml\nname: x\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(tmp_path / "r.yaml")
    assert "TOP-SECRET" not in str(info.value) and "not UTF-8" in str(info.value)


@pytest.mark.parametrize("count, message", [
    ("100000000000000000000000", "count must be at most 10,000,000"),
    ("1" * 5000, "integer of 5,000 digits"),
    ("1" * 4000, "count must be at most"),
])
def test_huge_count_is_refused_without_traceback(tmp_path, capsys, count, message):
    (tmp_path / "r.yaml").write_text(GOOD.replace("count: 3", f"count: {count}"))
    code, _, err = synth("validate", tmp_path / "r.yaml", capsys=capsys)
    assert code == 2 and message in err and "r.yaml:3" in err, err
    assert len(err) < 400  # the digits are not echoed
    assert_clean(err)


def test_count_limit_can_be_raised(tmp_path, monkeypatch):
    (tmp_path / "r.yaml").write_text(GOOD.replace("count: 3", "count: 2000"))
    monkeypatch.setenv("SYNTH_MAX_COUNT", "1000")
    with pytest.raises(RecipeError, match="SYNTH_MAX_COUNT"):
        load_recipe(tmp_path / "r.yaml")
    monkeypatch.setenv("SYNTH_MAX_COUNT", "5000")
    recipe = load_recipe(tmp_path / "r.yaml")
    assert recipe.count == 2000
    with pytest.raises(RecipeError, match="at most 5,000"):
        recipe.with_count(10**30)


def test_huge_param_integer_is_refused(tmp_path):
    (tmp_path / "r.yaml").write_text(GOOD + "  num_objects: {randint: [1, " + "9" * 400 + "]}\n")
    with pytest.raises(RecipeError, match="randint") as info:
        load_recipe(tmp_path / "r.yaml")
    assert "9" * 40 not in str(info.value)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e999", ".NaN"])
def test_non_finite_numbers_are_refused(tmp_path, capsys, value):
    (tmp_path / "r.yaml").write_text(GOOD + f"  border_margin: {{uniform: [{value}, 0.2]}}\n")
    code, _, err = synth("validate", tmp_path / "r.yaml", capsys=capsys)
    assert code == 2 and "r.yaml:7" in err and "finite" in err, err
    assert_clean(err)


def test_non_finite_override_is_refused(tmp_path):
    (tmp_path / "r.yaml").write_text(GOOD)
    for bad in ({"uniform": [float("nan"), 0.2]}, float("inf"), {"choice": [0.1, float("nan")]}):
        with pytest.raises(RecipeError, match="finite"):
            load_recipe(tmp_path / "r.yaml", {"params.border_margin": bad})


def test_non_finite_table_params_are_refused():
    from pydantic import ValidationError

    from synth.tabular.spec import CategoricalColumn, NumericColumn
    for bad in ({"params": {"loc": float("nan")}}, {"params": {"scale": float("inf")}}, {"max": float("inf")}):
        with pytest.raises(ValidationError, match="finite"):
            NumericColumn(**bad)
    with pytest.raises(ValidationError, match="finite"):
        CategoricalColumn(values=["a", "b"], weights=[1.0, float("nan")])


def test_validate_checks_every_file_and_sweeps(tmp_path, capsys):
    (tmp_path / "bad1.yaml").write_text(GOOD + "lightning: 3\n")
    (tmp_path / "bad2.yaml").write_text(GOOD.replace("count: 3", "count: 0"))
    files = [ROOT / "recipes" / "shapes.yaml", tmp_path / "bad1.yaml", ROOT / "recipes" / "sweep_lighting.yaml",
             tmp_path / "bad2.yaml", ROOT / "recipes" / "sweep_shapes.yaml"]
    code, out, err = synth("validate", *files, capsys=capsys)
    assert code == 2
    assert_clean(err, lines=2)
    assert "bad1.yaml:7" in err and "bad2.yaml:3" in err
    assert out.count("ok  ") == 3 and "sweep_lighting.yaml  (sweep, 9 variants)" in out


def test_validate_json_reports_errors(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text(GOOD + "lightning: 3\n")
    code, out, _ = synth("validate", "--json", ROOT / "recipes" / "shapes.yaml", tmp_path / "bad.yaml",
                         capsys=capsys)
    results = json.loads(out)
    assert code == 2 and [r["ok"] for r in results] == [True, False]
    assert results[1]["line"] == 7 and "unknown key 'lightning'" in results[1]["error"]
    assert results[0]["hash"] and results[0]["scene"] == "shapes"


def test_validate_all_good_exits_0(capsys):
    code, out, err = synth("validate", ROOT / "recipes" / "shapes.yaml", ROOT / "recipes" / "sweep_shapes.yaml",
                           capsys=capsys)
    assert code == 0 and not err and out.count("ok  ") == 2
