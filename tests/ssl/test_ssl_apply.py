"""`synth ssl apply` on stored versions (synthetic and real rows), recipes with an `ssl:` block,
`synth ssl-tasks`, and bad input: exit code 2 and no new version."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from ssl_tasks.jigsaw import permutation_set
from synth.codecs.masks import unpack_mask
from synth import api, cli
from synth.store.manifest import rows_to_table
from synth.core.sample import Payload, decode_blob, image, row

from tests.conftest import RECIPES


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    if "synth.cli.ssl" not in cli.COMMAND_MODULES:  # until the lead registers the module in synth/cli.py
        cli.COMMAND_MODULES.append("synth.cli.ssl")
    try:
        cli.main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _versions(ws: str) -> list[int]:
    return [v.version for v in api.log(ws)]


@pytest.fixture(scope="module")
def shapes_ws(tmp_path_factory) -> str:
    ws = str(tmp_path_factory.mktemp("ssl") / "ws")
    api.generate(RECIPES / "shapes.yaml", ws, count=6, workers=1)
    return ws


def test_apply_labels_rows_and_rerun_is_a_no_op(shapes_ws, capsys):
    args = ["ssl", "apply", "--task", "jigsaw", "-p", "n_permutations=100", "-p", "crop_size=150",
            "-p", "tile_size=40", "-w", shapes_ws, "--json"]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    first = json.loads(out)
    assert first["committed"] and first["labelled"] == 6 and first["source_version"] == 1
    ws = api.open_workspace(shapes_ws)
    table = ws.manifest.to_table(first["version"]).to_pylist()
    perms, sha = permutation_set(100)
    for r in table:
        label = json.loads(r["labels"])["ssl"]["jigsaw"]
        refs = json.loads(r["payloads"])
        assert label["permutation_set_sha256"] == sha == refs["ssl.jigsaw.permutation_set"]["hash"]
        np.testing.assert_array_equal(decode_blob("array", ws.store.get(sha)), perms)
        source = decode_blob("image", ws.store.get(refs["image"]["hash"]))
        tiles = decode_blob("array", ws.store.get(refs["ssl.jigsaw.tiles"]["hash"]))
        restored = np.empty_like(tiles)
        restored[label["permutation"]] = tiles
        for k, (x0, y0, x1, y1) in enumerate(label["tile_boxes"]):
            np.testing.assert_array_equal(restored[k], source[y0:y1, x0:x1])
    before = _versions(shapes_ws)
    code, out, _ = run_cli(args, capsys)
    again = json.loads(out)
    assert code == 0 and not again["committed"] and again["fingerprint"] == first["fingerprint"]
    assert _versions(shapes_ws) == before
    # labelling the older version again with the same params is also nothing new
    code, out, _ = run_cli([*args, "--version", "1"], capsys)
    assert code == 0 and not json.loads(out)["committed"] and _versions(shapes_ws) == before


@pytest.mark.parametrize("args,message", [
    (["--task", "jigsw"], "did you mean 'jigsaw'"),
    (["--task", "mlm"], "accepts text samples, but no row"),
    (["--task", "mae", "-p", "mask_ratio=1.5"], "mask_ratio: Input should be less than 1"),
    (["--task", "mae", "-p", "mask_ratio=0"], "mask_ratio: Input should be greater than 0"),
    (["--task", "jigsaw", "-p", '{"n_permutations": 500}'], "n_permutations: Input should be 100 or 1000"),
    (["--task", "patch_position"], "needs at least 398x398"),
    (["--task", "jigsaw", "-p", "{not json"], "--params: not valid JSON"),
])
def test_bad_input_exits_2_and_commits_nothing(shapes_ws, capsys, args, message):
    before = _versions(shapes_ws)
    code, out, err = run_cli(["ssl", "apply", *args, "-w", shapes_ws], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert err.startswith("error: ")
    assert _versions(shapes_ws) == before


def _commit_real(ws_path: str, payloads: list[dict[str, Payload]]) -> None:
    """Rows as an import of real data would commit them: blobs in the store, origin 'real'."""
    ws = api.open_workspace(ws_path, create=True)
    rows = []
    for i, named in enumerate(payloads):
        refs = {}
        for name, p in named.items():
            if p.inline:
                refs[name] = {"kind": p.kind, "value": p.data}
            else:
                data, ext = p.encode()
                refs[name] = {"kind": p.kind, "hash": ws.store.put(data), "format": ext}
        sid = hashlib.sha256(f"real-{i}".encode()).hexdigest()[:16]
        rows.append({"sample_id": sid, "origin": "real", "labels": "{}", "payloads": json.dumps(refs),
                     "source": "camera-roll", "split": "train", "group_key": sid})
    ws.manifest.commit(rows_to_table(rows), "import real", operation="import")


def test_real_images_get_mae_labels(tmp_path, capsys):
    ws = str(tmp_path / "real")
    rng = np.random.default_rng(5)
    _commit_real(ws, [{"image": image(rng.integers(0, 256, (64 + 16 * i, 96, 3), dtype=np.uint8))} for i in range(3)])
    code, out, err = run_cli(["ssl", "apply", "--task", "mae", "-w", ws, "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    for r, h in zip(api.open_workspace(ws).manifest.to_table(result["version"]).to_pylist(), (64, 80, 96)):
        label = json.loads(r["labels"])["ssl"]["mae"]
        mask = unpack_mask(label["mask_hex"], label["grid"])
        assert label["grid"] == [h // 16, 6]
        assert r["origin"] == "real" and int(mask.sum()) == round(0.75 * mask.size) == label["num_masked"]


def test_real_table_rows_use_the_version_as_pool(tmp_path, capsys):
    ws = str(tmp_path / "rows")
    rng = np.random.default_rng(8)
    values = [{"age": int(a), "city": c} for a, c in zip(rng.integers(18, 80, 30), rng.choice(["Oslo", "Lima"], 30))]
    _commit_real(ws, [{"row": row(v)} for v in values])
    code, out, err = run_cli(["ssl", "apply", "--task", "vime", "-p", "mask_prob=0.5", "-w", ws, "--json"], capsys)
    assert code == 0, err
    rows = api.open_workspace(ws).manifest.to_table(json.loads(out)["version"]).to_pylist()
    changed = 0
    for r, original in zip(rows, values):
        label = json.loads(r["labels"])["ssl"]["vime"]
        new = json.loads(r["payloads"])["ssl.vime.row"]["value"]
        assert label["pool"] == {"source": "version", "rows": 30}
        assert label["mask"] == [int(new[c] != original[c]) for c in label["columns"]]
        for c in label["columns"]:
            assert new[c] in [v[c] for v in values]
        changed += sum(label["mask"])
    assert changed > 0


def test_recipe_ssl_block_same_bytes_with_one_and_two_workers(tmp_path):
    one = api.generate(RECIPES / "shapes_ssl.yaml", str(tmp_path / "a"), count=10, workers=1)
    two = api.generate(RECIPES / "shapes_ssl.yaml", str(tmp_path / "b"), count=10, workers=2)
    assert one.fingerprint == two.fingerprint
    rows = api.open_workspace(str(tmp_path / "a")).manifest.to_table().to_pylist()
    for r in rows:
        ssl = json.loads(r["labels"])["ssl"]
        assert set(ssl) == {"patch_position", "mae", "jigsaw", "rotation"}
        assert all(v["task"] == k and "seed" in v and "params" in v for k, v in ssl.items())


def test_ssl_tasks_lists_every_task_with_params(capsys):
    code, out, _ = run_cli(["ssl-tasks", "--json"], capsys)
    assert code == 0
    listed = {t["name"]: t for t in json.loads(out)}
    assert {"patch_position", "jigsaw", "rotation", "mae", "blockwise_mask", "simmim", "mlm", "specaugment",
            "wav2vec_mask", "vime", "scarf", "simclr_views", "cpc"} <= set(listed)
    mae = {p["path"]: p for p in listed["mae"]["params"]}
    assert mae["mask_ratio"]["default"] == 0.75 and mae["patch_size"]["default"] == 16
    code, out, _ = run_cli(["ssl-tasks"], capsys)
    assert "n_permutations" in out and "jigsaw  (v1, image, 3d)" in out
