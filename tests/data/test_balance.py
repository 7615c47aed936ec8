"""`mix(balance=...)`: rows balanced over the cross product of axes, each cell down-sampled to the target
or repeated up to max_repeat copies; seeded by (seed, sample_id), so deterministic and order-free."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from synth.codecs.canonical import canonical_json
from synth.data.mix import balance_rows, mix
from synth.errors import SynthError
from synth.store.commit import commit
from synth.store.manifest import rows_to_table
from synth.store.workspace import Workspace


def planted(ws: Workspace, counts: dict[str, int]) -> None:
    """Synthetic rows of classes in the given counts, each with a numeric param `size` spread over [0, 1)."""
    rows, i = [], 0
    for cls, n in counts.items():
        for j in range(n):
            sid = hashlib.sha256(f"{cls}:{j}".encode()).hexdigest()[:24]
            rows.append({"sample_id": sid, "origin": "synthetic", "recipe_name": "planted", "recipe_hash": "p" * 8,
                         "index": i, "seed": i, "params": canonical_json({"size": (j % 10) / 10}),
                         "scene": "planted", "scene_version": "1", "labels": canonical_json({"class": cls}),
                         "payloads": canonical_json({}), "width": 1, "height": 1, "split": "train",
                         "group_key": sid, "source": None, "license": None, "note": None})
            i += 1
    commit(ws, rows_to_table(rows), "planted", operation="generate")


@pytest.fixture
def ws(tmp_path) -> Workspace:
    ws = Workspace.open(str(tmp_path / "ws"), create=True)
    planted(ws, {"a": 80, "b": 15, "c": 5})
    return ws


def rows_of(ws: Workspace) -> list[dict]:
    return ws.manifest.to_table(columns=["sample_id", "labels", "params", "row_hash"]).to_pylist()


def test_planted_imbalance_is_balanced_within_the_repeat_cap(ws: Workspace) -> None:
    res = mix(ws, ["synthetic"], balance=["label"])
    cells = {c["cell"]["label"]: (c["before"], c["after"]) for c in res.balance["cells"]}
    assert res.balance["target"] == 15  # the median cell
    assert cells == {"a": (80, 15), "b": (15, 15), "c": (5, 15)}
    rows = rows_of(ws)
    assert Counter(json.loads(r["labels"])["class"] for r in rows) == {"a": 15, "b": 15, "c": 15}
    ids = [r["sample_id"] for r in rows]
    assert len(set(ids)) == len(ids) == res.rows == 45
    assert sum("~r" in i for i in ids) == 10 == res.balance["repeated"]
    assert len({r["row_hash"] for r in rows}) == len(rows)  # repeats have their own row hash
    assert res.as_dict()["balance"]["cells"]


def test_repeat_cap_limits_small_cells(ws: Workspace) -> None:
    res = mix(ws, ["synthetic"], balance=["label"], balance_target=30, max_repeat=2)
    cells = {c["cell"]["label"]: c["after"] for c in res.balance["cells"]}
    assert cells == {"a": 30, "b": 30, "c": 10}


def test_balance_is_deterministic_and_order_free() -> None:
    ids = [f"id{i}" for i in range(40)]
    cells = [("x",) if i < 30 else ("y",) for i in range(40)]
    one, target, _ = balance_rows(ids, cells, None, 3)
    perm = list(reversed(range(40)))
    two, _, _ = balance_rows([ids[i] for i in perm], [cells[i] for i in perm], None, 3)
    assert target == 20
    assert sorted((ids[i], r) for i, r in one) == sorted((ids[perm[i]], r) for i, r in two)
    other, _, _ = balance_rows(ids, cells, None, 3, seed=1)
    assert {ids[i] for i, _ in one} != {ids[i] for i, _ in other}


def test_same_mix_twice_gives_the_same_rows(tmp_path) -> None:
    chosen = []
    for name in ("w1", "w2"):
        ws = Workspace.open(str(tmp_path / name), create=True)
        planted(ws, {"a": 80, "b": 15, "c": 5})
        mix(ws, ["synthetic"], balance=["label"])
        chosen.append(sorted(r["sample_id"] for r in rows_of(ws)))
    assert chosen[0] == chosen[1]


def test_two_axes(ws: Workspace) -> None:
    res = mix(ws, ["synthetic"], balance=["label", "params.size:2"])
    cells = {(c["cell"]["label"], c["cell"]["params.size:2"]): (c["before"], c["after"]) for c in res.balance["cells"]}
    assert len(cells) == 6
    target = res.balance["target"]
    for before, after in cells.values():
        assert after == min(target, before * 3)
    assert res.rows == sum(a for _, a in cells.values())


def test_bad_axes_are_refused(ws: Workspace) -> None:
    with pytest.raises(SynthError, match="bins"):
        mix(ws, ["synthetic"], balance=["label:3"])
    with pytest.raises(SynthError, match="max-repeat"):
        mix(ws, ["synthetic"], balance=["label"], max_repeat=0)


def test_cli_balance(ws: Workspace, capsys) -> None:
    from synth import cli
    try:
        cli.main(["mix", "--from", "synthetic", "-w", ws.root, "--balance", "label,params.size:2", "--max-repeat", "2",
                  "--json"])
    except SystemExit as exc:
        assert not exc.code
    res = json.loads(capsys.readouterr().out)
    assert res["balance"]["axes"] == ["label", "params.size:2"] and res["balance"]["max_repeat"] == 2
