"""Slice metrics with known answers: word error rate by hand, mAP@0.5 against pycocotools' COCOeval on the
same boxes, and a planted failing param region ranked first by WER and by mAP."""
from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from synth.data.predictions import import_predictions
from synth.errors import SynthError
from synth.loop.metrics import BoxFailure, word_error_rate
from synth.loop.slices import format_slices, slices
from synth.store.workspace import Workspace
from tests.loop.conftest import add_synthetic

N = 240


@pytest.mark.parametrize("ref, hyp, wer", [("a b c", "a b c", 0.0), ("a b c", "a x c", 1 / 3),
                                           ("a b c d", "a c d", 0.25), ("a b", "a b c d", 1.0),
                                           ("", "", 0.0), ("", "x", 1.0), ("one two", "", 1.0)])
def test_word_error_rate(ref: str, hyp: str, wer: float) -> None:
    assert word_error_rate(ref, hyp) == pytest.approx(wer)


def random_detections(seed: int, images: int = 30) -> tuple[list[list[dict]], list[list[dict]]]:
    """Ground truth of 3 classes and noisy detections: shifted copies (some below IoU 0.5), misses, wrong
    classes, spurious boxes (scored lower, as a detector would); scores are continuous draws: no ties."""
    rng = np.random.default_rng(seed)
    truth, preds = [], []
    for _ in range(images):
        objs, dets = [], []
        for _ in range(rng.integers(0, 5)):
            x, y, w, h = rng.uniform(0, 80), rng.uniform(0, 80), rng.uniform(5, 30), rng.uniform(5, 30)
            c = str(rng.choice(["cat", "dog", "fox"]))
            objs.append({"box": [x, y, x + w, y + h], "class": c})
            if rng.random() < 0.8:
                dx, dy = rng.normal(0, 0.25 * w), rng.normal(0, 0.25 * h)
                dc = c if rng.random() < 0.85 else str(rng.choice(["cat", "dog", "fox"]))
                dets.append({"bbox": [x + dx, y + dy, x + dx + w, y + dy + h], "class": dc, "score": float(0.4 + 0.6 * rng.random())})
        for _ in range(rng.integers(0, 3)):
            x, y = rng.uniform(0, 80), rng.uniform(0, 80)
            dets.append({"bbox": [x, y, x + 10, y + 10], "class": str(rng.choice(["cat", "dog", "fox"])),
                         "score": float(0.5 * rng.random())})
        truth.append(objs)
        preds.append(dets)
    return truth, preds


def coco_map50(truth: list[list[dict]], preds: list[list[dict]]) -> float:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    classes = sorted({o["class"] for objs in truth for o in objs} | {d["class"] for ds in preds for d in ds})
    cat = {c: i + 1 for i, c in enumerate(classes)}
    gt = {"images": [{"id": i + 1, "width": 200, "height": 200} for i in range(len(truth))],
          "categories": [{"id": i, "name": c} for c, i in cat.items()], "annotations": []}
    for i, objs in enumerate(truth):
        for o in objs:
            x1, y1, x2, y2 = o["box"]
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": i + 1, "category_id": cat[o["class"]],
                                      "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    dets = [{"image_id": i + 1, "category_id": cat[d["class"]], "score": d["score"],
             "bbox": [d["bbox"][0], d["bbox"][1], d["bbox"][2] - d["bbox"][0], d["bbox"][3] - d["bbox"][1]]}
            for i, ds in enumerate(preds) for d in ds]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(dets), "bbox")
        ev.params.iouThrs = np.array([0.5])
        ev.params.areaRng, ev.params.areaRngLbl = [[0, 1e10]], ["all"]
        ev.params.maxDets = [100]
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval["precision"][0, :, :, 0, 0]  # recall points x classes
    per_class = [precision[:, k].mean() for k in range(precision.shape[1]) if (precision[:, k] > -1).all()]
    return float(np.mean(per_class))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map50_agrees_with_pycocotools(seed: int) -> None:
    truth, preds = random_detections(seed)
    ours = 1 - BoxFailure(truth, preds).rate(np.ones(len(truth), bool))
    assert ours == pytest.approx(coco_map50(truth, preds), abs=1e-9)
    assert 0.2 < ours < 0.95  # the planted noise makes it neither trivial nor zero


def test_map50_extremes_and_interval() -> None:
    truth = [[{"box": [0, 0, 10, 10], "class": "a"}] for _ in range(20)]
    perfect = [[{"bbox": [0, 0, 10, 10], "class": "a", "score": 0.9}] for _ in range(20)]
    shifted = [[{"bbox": [6, 6, 16, 16], "class": "a", "score": 0.9}] for _ in range(20)]  # IoU 0.09
    everything = np.ones(20, bool)
    assert BoxFailure(truth, perfect).rate(everything) == 0.0
    assert BoxFailure(truth, shifted).rate(everything) == 1.0
    half = BoxFailure(truth, perfect[:10] + shifted[10:])
    lo, hi = half.interval(everything)
    assert lo < half.rate(everything) < hi and half.interval(everything) == (lo, hi)  # seeded: the same twice


def planted_rows(ws: Workspace, tmp_path: Path, kind: str) -> Path:
    """N synthetic rows with a param `blur` ~ U(0, 1); the model fails where blur > 0.8 (and rarely elsewhere):
    a wrong transcript (kind 'wer') or a box off its object (kind 'map50')."""
    rng = np.random.default_rng(4)
    params = [{"blur": float(rng.uniform(0, 1)), "angle": float(rng.uniform(-5, 5))} for _ in range(N)]
    words = ["total", "cash", "change", "tax", "date", "store"]
    if kind == "wer":
        labels = [{"transcript": " ".join(rng.choice(words, 4))} for _ in range(N)]
    else:
        labels = []
        for _ in range(N):
            x, y = rng.uniform(0, 40, 2)
            labels.append({"objects": [{"box": [x, y, x + 12, y + 12], "class": str(rng.choice(["a", "b"]))}]})
    add_synthetic(ws, [np.full((8, 8), i % 256, np.uint8) for i in range(N)], params, labels)
    table = ws.manifest.to_table(columns=["sample_id", "index"]).sort_by("index")
    path = tmp_path / f"{kind}.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample_id", "prediction", "boxes"])
        for sid, i in zip(table.column("sample_id").to_pylist(), table.column("index").to_pylist()):
            bad = params[i]["blur"] > 0.8 or rng.random() < 0.05
            if kind == "wer":
                said = labels[i]["transcript"].split()
                if bad:
                    said[1:3] = ["x"]
                w.writerow([sid, " ".join(said), ""])
            else:
                o = labels[i]["objects"][0]
                shift = 8 if bad else 0
                box = [o["box"][0] + shift, o["box"][1] + shift, o["box"][2] + shift, o["box"][3] + shift]
                w.writerow([sid, "", json.dumps([{"bbox": box, "class": o["class"], "score": 0.5 + i / 1000}])])
    return path


@pytest.mark.parametrize("kind", ["wer", "map50"])
def test_planted_region_ranks_first(ws: Workspace, tmp_path: Path, kind: str) -> None:
    import_predictions(ws, planted_rows(ws, tmp_path, kind), "m")
    found = slices(ws, "m", metric=kind, min_support=20, pairs=False)
    first = found[0]
    assert first["column"] == "params.blur" and first["where"][0]["lo"] > 0.7 and first["significant"]
    assert first["metric"] == kind and first["errors"] is None
    others = [s for s in found if s["column"] == "params.blur" and s["where"][0]["hi"] < 0.75]
    if kind == "wer":
        assert first["value"] > 0.3 and all(s["value"] < 0.2 for s in others)
    else:
        assert first["value"] < 0.3 and all(s["value"] > 0.7 for s in others)
    assert "mAP50" in format_slices(found) if kind == "map50" else "WER" in format_slices(found)


def test_metric_needs_its_labels(ws: Workspace, tmp_path: Path) -> None:
    import_predictions(ws, planted_rows(ws, tmp_path, "wer"), "m")
    with pytest.raises(SynthError, match="ground-truth objects"):
        slices(ws, "m", metric="map50")
    with pytest.raises(SynthError, match="unknown metric"):
        slices(ws, "m", metric="f1")


def test_accuracy_ranks_as_error_does(ws: Workspace, tmp_path: Path) -> None:
    from tests.loop.test_slices import planted

    _, path = planted(ws, tmp_path)
    import_predictions(ws, path, "m")
    error, accuracy = slices(ws, "m", pairs=False), slices(ws, "m", metric="accuracy", pairs=False)
    assert [(s["column"], s["bin"]) for s in error] == [(s["column"], s["bin"]) for s in accuracy]
    assert accuracy[0]["value"] == pytest.approx(1 - error[0]["error_rate"])
