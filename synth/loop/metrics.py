"""What `synth slices` ranks by: a failure rate over any subset of the predicted rows, with a 95% interval.

- `error` / `accuracy`: a class prediction against labels.class; the share wrong, Wilson interval
  (accuracy is reported as 1 - that share; the ranking is the same).
- `wer`: a predicted transcript against labels.transcript (or labels.text); word error rate (word-level
  Levenshtein distance over the reference's words, capped at 1 per row), the slice's mean with a normal
  interval.
- `map50`: predicted boxes ({bbox: [x1, y1, x2, y2], class, score}) against labels.objects (box, class);
  COCO-style mAP at IoU 0.5 (greedy matching per image by score, 101-point interpolated precision, the
  mean over the classes with ground truth in the slice); the failure rate is 1 - mAP, its interval a
  seeded bootstrap over the slice's images.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np

from synth.errors import SynthError
from synth.loop.stats import wilson

METRICS = ("error", "accuracy", "wer", "map50")
BOOTSTRAP = 200      # resamples of a slice's images for the mAP interval
IOU = 0.5
RECALL_POINTS = np.linspace(0, 1, 101)


class Failure:
    """Per-row data of one metric; `rate(weights)` is the failure rate of the rows weighted by `weights`
    (0/1 for a slice, counts for a bootstrap resample) and `interval(mask)` its 95% interval."""
    metric: str = "error"
    binary = True       # per-row 0/1 failures: a slice also reports its error count

    def __init__(self, wrong: np.ndarray) -> None:
        self.wrong = wrong.astype(float)

    def rate(self, mask: np.ndarray) -> float:
        n = mask.sum()
        return float(self.wrong[mask].mean()) if n else 0.0

    def interval(self, mask: np.ndarray) -> tuple[float, float]:
        return wilson(int(self.wrong[mask].sum()), int(mask.sum()))

    def value(self, rate: float) -> float:
        """The metric as users read it (accuracy, mAP) from the failure rate."""
        return rate

    def errors(self, mask: np.ndarray) -> int | None:
        return int(self.wrong[mask].sum())


class Accuracy(Failure):
    metric = "accuracy"

    def value(self, rate: float) -> float:
        return 1.0 - rate


class WordErrors(Failure):
    metric = "wer"
    binary = False

    def interval(self, mask: np.ndarray) -> tuple[float, float]:
        x = self.wrong[mask]
        if len(x) < 2:
            return (0.0, 1.0)
        half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
        return (max(0.0, x.mean() - half), min(1.0, x.mean() + half))

    def errors(self, mask: np.ndarray) -> int | None:
        return None


class BoxFailure(Failure):
    """1 - mAP@0.5 over the rows of a slice."""
    metric = "map50"
    binary = False

    def __init__(self, truth: list[list[dict[str, Any]]], predicted: list[list[dict[str, Any]]], seed: int = 0) -> None:
        self.n = len(truth)
        self.seed = seed
        classes = sorted({str(o["class"]) for objs in truth for o in objs})
        self.gt = np.zeros((len(classes), self.n))                  # ground-truth boxes per class and row
        index = {c: k for k, c in enumerate(classes)}
        per_class: list[list[tuple[float, int, bool]]] = [[] for _ in classes]   # (score, row, true positive)
        for row, (objs, preds) in enumerate(zip(truth, predicted)):
            for o in objs:
                self.gt[index[str(o["class"])], row] += 1
            for c, hits in _match(objs, preds).items():
                if c in index:  # a class with no ground truth anywhere has no AP to lower
                    per_class[index[c]].extend((score, row, tp) for score, tp in hits)
        self.preds = []
        for entries in per_class:
            entries.sort(key=lambda e: (-e[0], e[1]))
            self.preds.append((np.array([e[1] for e in entries], int), np.array([e[2] for e in entries], float)))
        self.wrong = np.zeros(self.n)  # unused: rates come from the boxes

    def _map(self, weights: np.ndarray) -> float:
        aps = []
        for k, (rows, tp) in enumerate(self.preds):
            n_gt = float(self.gt[k] @ weights)
            if n_gt == 0:
                continue
            w = weights[rows]
            tp_c, fp_c = np.cumsum(w * tp), np.cumsum(w * (1 - tp))
            if not len(tp_c):
                aps.append(0.0)
                continue
            recall = tp_c / n_gt
            seen = tp_c + fp_c
            precision = np.divide(tp_c, seen, out=np.zeros_like(tp_c), where=seen > 0)
            envelope = np.maximum.accumulate(precision[::-1])[::-1]
            at = np.searchsorted(recall, RECALL_POINTS, side="left")
            aps.append(float(np.where(at < len(envelope), envelope[np.minimum(at, len(envelope) - 1)], 0.0).mean()))
        return float(np.mean(aps)) if aps else float("nan")

    def rate(self, mask: np.ndarray) -> float:
        m = self._map(mask.astype(float))
        return 0.0 if np.isnan(m) else 1.0 - m

    def interval(self, mask: np.ndarray) -> tuple[float, float]:
        rows = np.flatnonzero(mask)
        if len(rows) < 2:
            return (0.0, 1.0)
        rng = np.random.default_rng([self.seed, len(rows), int(rows[0]), int(rows[-1])])
        rates = []
        for _ in range(BOOTSTRAP):
            weights = np.bincount(rng.choice(rows, len(rows)), minlength=self.n).astype(float)
            m = self._map(weights)
            if not np.isnan(m):
                rates.append(1.0 - m)
        if not rates:
            return (0.0, 1.0)
        return (float(np.percentile(rates, 2.5)), float(np.percentile(rates, 97.5)))

    def value(self, rate: float) -> float:
        return 1.0 - rate

    def errors(self, mask: np.ndarray) -> int | None:
        return None


def _iou(a: list[float], b: list[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _match(truth: list[dict[str, Any]], preds: list[dict[str, Any]]) -> dict[str, list[tuple[float, bool]]]:
    """Per class, each prediction's (score, true positive): by score, each takes the unmatched ground-truth
    box of its class with the highest IoU >= 0.5 (COCO's greedy matching within an image)."""
    out: dict[str, list[tuple[float, bool]]] = {}
    taken: set[int] = set()
    order = sorted(range(len(preds)), key=lambda i: (-float(preds[i].get("score", 1.0)), i))
    for i in order:
        p = preds[i]
        c = str(p["class"])
        best, best_iou = None, IOU
        for j, o in enumerate(truth):
            if j in taken or str(o["class"]) != c:
                continue
            iou = _iou(p["bbox"], o["box"])
            if iou >= best_iou:
                best, best_iou = j, iou
        if best is not None:
            taken.add(best)
        out.setdefault(c, []).append((float(p.get("score", 1.0)), best is not None))
    return out


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference's word count (1 when the reference is empty
    and the hypothesis is not)."""
    ref, hyp = reference.split(), hypothesis.split()
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


def truth_of(metric: str) -> Callable[[dict[str, Any]], Any]:
    """The label a metric compares with, from a row's labels (None: the row has none)."""
    if metric in ("error", "accuracy"):
        return lambda labels: labels.get("class")
    if metric == "wer":
        return lambda labels: next((labels[k] for k in ("transcript", "text") if isinstance(labels.get(k), str)), None)
    return lambda labels: labels.get("objects") if isinstance(labels.get("objects"), list) else None


def failure_for(metric: str, truths: list[Any], predictions: list[str], boxes: list[str | None]) -> Failure:
    if metric in ("error", "accuracy"):
        wrong = np.array([str(p) != str(t) for p, t in zip(predictions, truths)], bool)
        return (Accuracy if metric == "accuracy" else Failure)(wrong)
    if metric == "wer":
        return WordErrors(np.array([min(1.0, word_error_rate(str(t), str(p))) for p, t in zip(predictions, truths)]))
    if any(b is None for b in boxes):
        raise SynthError(f"{sum(b is None for b in boxes)} predicted rows have no boxes: --metric map50 needs a "
                         "detector's boxes for every row (an image with none: [])", field="--metric")
    truth = [[o for o in objs if isinstance(o, dict) and "box" in o and "class" in o] for objs in truths]
    return BoxFailure(truth, [json.loads(b) for b in boxes])
