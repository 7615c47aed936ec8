"""Label issues: Cleanlab's confident learning on a model's predicted probabilities finds the rows whose
given label the model most confidently contradicts; the review file goes back in as label corrections
(`synth labels import`), so every fixed label keeps its history."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from synth.errors import SynthError
from synth.store.lineage import current_table
from synth.store.workspace import Workspace

MIN_ROWS = 10


@dataclass
class Issue:
    sample_id: str
    given: str
    suggested: str
    self_confidence: float   # the model's probability of the given label: low = likely wrong
    rank: int

    def as_dict(self) -> dict[str, Any]:
        return {"sample_id": self.sample_id, "given": self.given, "suggested": self.suggested,
                "self_confidence": round(self.self_confidence, 6), "rank": self.rank}


def rank_label_issues(sample_ids: Sequence[str], given: Sequence[str], probs: np.ndarray,
                      classes: Sequence[str]) -> list[Issue]:
    """Cleanlab's `find_label_issues` (confident learning), ranked by self-confidence: most likely error
    first. `probs[i, k]` is the model's probability of `classes[k]` for row i."""
    from cleanlab.filter import find_label_issues

    probs = np.asarray(probs, dtype=float)
    if len(sample_ids) < MIN_ROWS:
        raise SynthError(f"{len(sample_ids)} labeled rows with predictions; label issues need at least {MIN_ROWS}",
                         field="--predictions")
    index = {c: k for k, c in enumerate(classes)}
    unknown = sorted({g for g in given if g not in index})
    if unknown:
        raise SynthError(f"labels {', '.join(unknown[:5])} are not among the model's classes "
                         f"({', '.join(classes)})", field="--predictions")
    labels = np.array([index[g] for g in given])
    missing = [c for k, c in enumerate(classes) if not (labels == k).any()]
    if missing:  # cleanlab needs every class among the given labels to estimate its noise
        raise SynthError(f"no row is labeled {', '.join(missing)}: give the predictions of the rows of every class",
                         field="--predictions")
    # n_jobs=1: cleanlab forks workers otherwise, and a fork of a process that loaded Lance is unsafe
    ranked = find_label_issues(labels=labels, pred_probs=probs, return_indices_ranked_by="self_confidence",
                               n_jobs=1)
    return [Issue(str(sample_ids[i]), str(given[i]), str(classes[int(np.argmax(probs[i]))]),
                  float(probs[i, labels[i]]), rank + 1) for rank, i in enumerate(ranked)]


def label_issues(ws: Workspace, model: str, version: int | str | None = None) -> list[Issue]:
    """The label issues of the rows `model` predicted, against the labels current at `version`."""
    from synth.data.predictions import load_predictions

    preds, meta = load_predictions(ws, model, version)
    classes = [str(c) for c in meta.get("classes") or []]
    if not classes or "probs" not in preds.column_names:
        raise SynthError(f"model '{model}' has no class probabilities (prob_<class> columns): label issues need "
                         "them", field="--predictions")
    rows = current_table(ws, meta.get("for_version"), columns=["sample_id", "labels"]).to_pylist()
    label_of = {r["sample_id"]: json.loads(r["labels"] or "{}").get("class") for r in rows}
    ids, given, probs = [], [], []
    for sid, p in zip(preds.column("sample_id").to_pylist(), preds.column("probs").to_pylist()):
        cls = label_of.get(sid)
        if cls is None or p is None:
            continue  # unlabeled rows have no label to be wrong
        ids.append(sid)
        given.append(str(cls))
        probs.append(p)
    if not ids:
        raise SynthError(f"none of the rows model '{model}' predicted has a class label", field="--predictions")
    return rank_label_issues(ids, given, np.array(probs), classes)


def write_review(issues: Sequence[Issue], path: str | Path) -> Path:
    """A CSV a person edits and `synth labels import` takes back: `class` holds the suggested label; clear it
    to keep the given one. review_* columns are information and are not applied."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample_id", "class", "note", "review_rank", "review_given", "review_self_confidence"])
        for it in issues:
            w.writerow([it.sample_id, it.suggested, f"label-issues: given {it.given}, model confidence "
                        f"{it.self_confidence:.3f}", it.rank, it.given, f"{it.self_confidence:.6f}"])
    tmp.replace(path)
    return path
