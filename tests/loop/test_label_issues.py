"""Label issues on a planted answer: 5% of real digit labels flipped on purpose; confident learning ranks
them first, and the review file goes back in as label corrections with their history."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from synth import api
from synth.data.corrections import commit_corrections, read_corrections_csv, resolve_changes
from synth.data.importer import ImportOptions, import_data
from synth.errors import SynthError
from synth.loop.label_issues import rank_label_issues, write_review
from synth.store import lineage


def flipped_digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = load_digits()
    rng = np.random.default_rng(seed)
    given = d.target.copy()
    flips = rng.choice(len(given), size=len(given) // 20, replace=False)
    given[flips] = (given[flips] + rng.integers(1, 10, len(flips))) % 10
    probs = cross_val_predict(LogisticRegression(max_iter=2000), d.data / 16, given, cv=5, method="predict_proba")
    return d.target, given, probs, flips


def test_planted_flips_rank_first() -> None:
    truth, given, probs, flips = flipped_digits()
    ids = [f"s{i:04d}" for i in range(len(given))]
    issues = rank_label_issues(ids, [str(g) for g in given], probs, [str(c) for c in range(10)])
    top = {int(it.sample_id[1:]) for it in issues[: len(given) // 10]}
    recall = len(top & set(flips)) / len(flips)
    assert recall >= 0.8, recall
    assert [it.rank for it in issues] == list(range(1, len(issues) + 1))
    first = issues[0]
    assert first.self_confidence <= issues[-1].self_confidence
    assert first.suggested == str(truth[int(first.sample_id[1:])])  # the model's label is the true one


def test_bad_inputs() -> None:
    probs = np.full((12, 2), 0.5)
    with pytest.raises(SynthError, match="not among the model's classes"):
        rank_label_issues([str(i) for i in range(12)], ["a"] * 11 + ["z"], probs, ["a", "b"])
    with pytest.raises(SynthError, match="no row is labeled b"):
        rank_label_issues([str(i) for i in range(12)], ["a"] * 12, probs, ["a", "b"])
    with pytest.raises(SynthError, match="at least"):
        rank_label_issues(["1"], ["a"], probs[:1], ["a", "b"])


def test_the_review_file_goes_back_as_corrections(tmp_path: Path) -> None:
    d = load_digits()
    for i in range(60):
        folder = tmp_path / "real" / str(d.target[i])
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{i}.png"), (d.images[i] / 16 * 255).astype(np.uint8))
    ws = api.open_workspace(str(tmp_path / "ws"), create=True)
    import_data(ws, "images", tmp_path / "real", options=ImportOptions(split={"train": 1.0}))
    rows = ws.manifest.to_table(None, columns=["sample_id", "labels"]).to_pylist()
    ids = [r["sample_id"] for r in rows]
    given = [json.loads(r["labels"])["class"] for r in rows]
    probs = np.full((len(ids), 10), 0.01)
    for i, g in enumerate(given):
        probs[i, int(g)] = 0.91
    probs[0] = 0.01  # the model is sure row 0 is a 9-or-other digit: an issue
    probs[0, (int(given[0]) + 1) % 10] = 0.91
    issues = rank_label_issues(ids, given, probs, [str(c) for c in range(10)])
    assert issues and issues[0].sample_id == ids[0]
    path = write_review(issues, tmp_path / "review.csv")
    with path.open() as fh:
        review = list(csv.DictReader(fh))
    assert review[0]["class"] == str((int(given[0]) + 1) % 10)
    for extra in review[1:]:  # the reviewer keeps the others: their label cells are cleared
        extra["class"] = ""
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, list(review[0]))
        w.writeheader()
        w.writerows(review)
    items = resolve_changes(ws, read_corrections_csv(path))
    assert [c.sample_id for c in items] == [ids[0]]
    commit_corrections(ws, items, message="label issues reviewed")
    hist = lineage.history(ws, ids[0])
    assert hist[-1]["labels"]["class"] == review[0]["class"] and hist[-1]["note"].startswith("label-issues")
