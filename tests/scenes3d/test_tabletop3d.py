"""tabletop3d: labels agree with the Cycles render (boxes, masks, poses, depth), replay is exact,
and the render subprocess never outlives its owner."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import recipe_params
from pydantic import ValidationError

import scenes.tabletop3d as tabletop
from synth.sample import Sample

RECIPE = "tabletop3d"


@pytest.fixture(scope="module")
def scene():
    s = tabletop.Tabletop3DScene()
    yield s
    s.close()


@pytest.fixture(scope="module")
def samples(scene) -> list[tuple[dict, Sample]]:
    out = []
    for index in range(2):
        params, rng = recipe_params(RECIPE, index)
        out.append((params, scene.render(tabletop.Tabletop3DParams.model_validate(params), rng)))
    return out


def _objects(samples):
    for _, sample in samples:
        for obj in sample.labels["objects"]:
            yield sample, obj


def test_render_has_all_payloads_and_visible_objects(samples):
    for params, sample in samples:
        h, w = params["height"], params["width"]
        assert sample.payloads["image"].data.shape == (h, w, 3)
        assert sample.payloads["image"].data.dtype == np.uint8
        assert sample.payloads["depth"].data.dtype == np.float32
        assert sample.payloads["mask"].data.shape == sample.payloads["class_mask"].data.shape == (h, w)
        assert sample.labels["objects"], "the recipe's camera must see at least one object"
        drawn = len(sample.labels["objects"]) + len(sample.labels["hidden_objects"])
        assert drawn == params["objects"]["count"]
        json.loads(sample.labels_json())  # labels are JSON


def test_box_is_bounds_of_mask_and_class_mask_matches(samples):
    for sample, obj in _objects(samples):
        inst = sample.payloads["mask"].data == obj["instance_id"]
        ys, xs = np.nonzero(inst)
        assert obj["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert obj["visible_pixels"] == len(xs)
        assert 0 < obj["visibility"] <= 1
        assert np.all(sample.payloads["class_mask"].data[inst] == obj["category_id"])
        assert sample.labels["class_names"][str(obj["category_id"])] == obj["class"]


def _project(points_obj: np.ndarray, obj: dict, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    R, t = np.asarray(obj["pose"]["R"]), np.asarray(obj["pose"]["t"])
    cam = points_obj @ R.T + t
    return (cam @ K.T)[:, :2] / cam[:, 2:3], cam[:, 2]


def test_pose_and_intrinsics_project_onto_the_mask(samples):
    checked = 0
    for sample, obj in _objects(samples):
        K = np.asarray(sample.labels["camera"]["K"])
        inst = sample.payloads["mask"].data == obj["instance_id"]
        # the projected 3D box encloses the visible box (1 px of antialiasing slack)
        uv, _ = _project(np.asarray(obj["bbox3d"]), obj, K)
        x0, y0, x1, y1 = obj["box"]
        assert uv[:, 0].min() - 1.5 <= x0 and x1 <= uv[:, 0].max() + 1.5
        assert uv[:, 1].min() - 1.5 <= y0 and y1 <= uv[:, 1].max() + 1.5
        # a convex object's centre projects inside its silhouette; when it is barely occluded,
        # that pixel (or a neighbour, at these tiny sizes) is on its visible mask
        if obj["class"] in ("cube", "sphere", "cylinder", "cone") and obj["visibility"] > 0.9:
            uv, _ = _project(np.zeros((1, 3)), obj, K)
            col, row = int(round(uv[0, 0])), int(round(uv[0, 1]))
            assert inst[max(row - 1, 0):row + 2, max(col - 1, 0):col + 2].any()
            checked += 1
    assert checked >= 1


def test_depth_on_mask_is_within_object_distance_range(samples):
    import cv2
    for sample, obj in _objects(samples):
        inst = (sample.payloads["mask"].data == obj["instance_id"]).astype(np.uint8)
        core = cv2.erode(inst, np.ones((3, 3), np.uint8)).astype(bool)  # edges mix object and background
        if not core.any():
            continue
        _, z = _project(np.asarray(obj["bbox3d"]), obj, np.eye(3))
        depth = sample.payloads["depth"].data[core]
        assert z.min() - 0.01 <= depth.min() and depth.max() <= z.max() + 0.01


def test_background_depth_is_zero_and_object_depth_positive(samples):
    for _, sample in samples:
        depth = sample.payloads["depth"].data
        assert np.all(depth >= 0) and np.all(depth[sample.payloads["mask"].data > 0] > 0)


def test_same_params_same_labels_and_pixels_in_a_fresh_process(samples):
    """Cycles on CPU with a fixed seed, one Blender build and one machine gives bit-identical pixels,
    whatever the thread count and whether the Blender process is reused or new (OIDN included)."""
    params, first = samples[0]
    fresh = tabletop.Tabletop3DScene()
    fresh.close()  # the module's shared render process: the next render starts a new one
    _, rng = recipe_params(RECIPE, 0)
    again = fresh.render(tabletop.Tabletop3DParams.model_validate(params), rng)
    assert again.labels_json() == first.labels_json()
    for name, payload in first.payloads.items():
        assert payload.encode()[0] == again.payloads[name].encode()[0], name


def test_different_samples_differ(samples):
    (_, a), (_, b) = samples
    assert a.labels_json() != b.labels_json()
    assert not np.array_equal(a.payloads["image"].data, b.payloads["image"].data)


def _render_in_pool_worker(index: int) -> int:
    params, rng = recipe_params(RECIPE, index)
    tabletop.Tabletop3DScene().render(tabletop.Tabletop3DParams.model_validate(params), rng)
    return tabletop._server().pid


def _state(pid: int) -> str | None:
    """'Z' for a zombie, another letter for a live process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def test_pool_worker_exit_reaps_render_process():
    with multiprocessing.get_context("fork").Pool(1) as pool:
        server_pid = pool.apply(_render_in_pool_worker, (1,))
        assert _state(server_pid) not in (None, "Z")
        pool.close()
        pool.join()
    assert _state(server_pid) is None  # exited with os._exit and reaped: no zombie, no hang


def test_render_process_exits_when_its_owner_is_killed(tmp_path):
    script = ("import sys; sys.path.insert(0, 'tests/scenes3d'); import tabletop3d_owner")
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    server_pid = int(owner.stdout.readline())
    assert _state(server_pid) not in (None, "Z")
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 30
    while _state(server_pid) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.1)
    # end-of-file on its pipe makes it os._exit; reaping an orphan is then init's job
    assert _state(server_pid) in (None, "Z")


@pytest.mark.parametrize("change, field, words", [
    ({"objects": {"count": 0}}, "objects.count", "greater than or equal to 1"),
    ({"width": 0}, "width", "greater than or equal to 1"),
    ({"height": 0}, "height", "greater than or equal to 1"),
    ({"objects": {"classes": ["cubee"]}}, "objects.classes", "did you mean 'cube'"),
    ({"objects": {"classes": ["pyramid"]}}, "objects.classes", "allowed: cube, cylinder"),
    ({"lights": {"energy_min": -5.0}}, "lights.energy_min", "greater than or equal to 0"),
    ({"lights": {"types": ["spot"]}}, "lights.types", "unknown light type 'spot'"),
    ({"objects": {"size_min": 0.5, "size_max": 0.1}}, "objects", "size_min (0.5) must not exceed"),
])
def test_bad_params_are_rejected_with_the_field_named(change, field, words):
    with pytest.raises(ValidationError) as err:
        tabletop.Tabletop3DParams.model_validate(change)
    text = str(err.value)
    assert words in text
    assert field.split(".")[-1] in text


def test_missing_3d_extra_gives_install_instructions():
    # `sys.modules[name] = None` is Python's own way of making `import name` fail as if absent
    code = ("import sys; sys.modules['bpy'] = None\n"
            "from synth.compat.blenderproc_compat import import_blenderproc\n"
            "from synth.errors import SynthError\n"
            "try:\n    import_blenderproc()\nexcept SynthError as e:\n    print(e); sys.exit(e.exit_code)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "uv sync --extra 3d" in done.stdout and "pip install 'synth[3d]'" in done.stdout


def test_recipes_validate():
    for name in ("tabletop3d", "tabletop3d_dr"):
        for index in range(4):
            params, _ = recipe_params(name, index)
            tabletop.Tabletop3DParams.model_validate(params)
