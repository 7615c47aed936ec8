"""Slices: where a model fails, in recipe-parameter and metadata terms. Every bin of every sampled param
(synthetic rows), of every metadata and label column, and of pairs of the worst single bins gets its error
rate with a Wilson interval, its support and its lift over the overall rate; bins whose interval lies
above the overall rate rank first, so a tiny bin that happens to be all wrong does not. Besides class
errors, slices rank by word error rate (transcripts) or 1 - mAP@0.5 (boxes): synth.loop.metrics."""
from __future__ import annotations

import json
from itertools import combinations
from typing import Any

import numpy as np

from synth.core.names import check_name
from synth.data.predictions import load_predictions
from synth.errors import SynthError
from synth.loop.gap import param_bins
from synth.loop.metrics import METRICS, Failure, failure_for, truth_of
from synth.store.lineage import current_table
from synth.store.workspace import Workspace

METADATA_COLUMNS = ("origin", "split", "source", "recipe_name")
PAIR_TOP = 6          # pairs are formed from the best single slices of this many different columns
MAX_CATEGORIES = 20   # a column with more distinct values is not sliced (ids, free text)


def slices(ws: Workspace, model: str, version: int | str | None = None, by: list[str] | None = None,
           min_support: int = 20, pairs: bool = True, metric: str = "error", n_bins: int = 5) -> list[dict[str, Any]]:
    """Slices of a model's predictions at a version, worst first (see the module docstring). Each:
    column, bin, kind (param | metadata | pair), support, metric, value (the metric: error rate, accuracy,
    WER, mAP@0.5), errors (a count, for error/accuracy), error_rate (the failure rate ranked by: error,
    1 - accuracy, WER, 1 - mAP), ci (of error_rate), lift, significant, where."""
    found, _ = slice_report(ws, model, version, by, min_support, pairs, metric, n_bins)
    return public(found)


def slice_report(ws: Workspace, model: str, version: int | str | None = None, by: list[str] | None = None,
                 min_support: int = 20, pairs: bool = True, metric: str = "error",
                 n_bins: int = 5) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ranked slices (with their row masks under `_rows`) and the context: version, model, for_version,
    overall support, errors, error_rate, ci and the sample ids the masks index."""
    if metric not in METRICS:
        raise SynthError(f"unknown metric '{metric}'; allowed: {', '.join(METRICS)}", field="--metric")
    if min_support < 1:
        raise SynthError(f"min_support is {min_support}; it must be at least 1", field="--min-support")
    v = ws.manifest.resolve(version)
    preds, record = load_predictions(ws, model, v)
    ids, failure, rows = _joined(ws, v, preds, metric)
    everything = np.ones(len(ids), bool)
    overall = failure.rate(everything)
    candidates = _bins(rows, by, n_bins)
    singles = _merge_identical([s for s in (_stat(c, failure, overall) for c in candidates)
                                if s["support"] >= min_support])
    _rank(singles)
    found = list(singles)
    if pairs:
        found += _pairs(singles, failure, overall, min_support)
    _rank(found)
    context = {"version": v, "model": model, "for_version": record["for_version"], "support": len(ids),
               "metric": metric, "errors": failure.errors(everything), "error_rate": overall,
               "value": failure.value(overall), "ci": list(failure.interval(everything)), "ids": ids}
    return found, context


def _joined(ws: Workspace, version: int, preds: Any, metric: str) -> tuple[np.ndarray, Failure, list[dict[str, Any]]]:
    """Sample ids, the metric's per-row failures, and the manifest rows (params and labels parsed) of the
    predicted samples that have the label the metric needs (labels.class, a transcript, objects)."""
    table = current_table(ws, version, columns=["sample_id", "params", "labels", *METADATA_COLUMNS])
    by_id = {r["sample_id"]: r for r in table.to_pylist()}
    truth_for = truth_of(metric)
    ids, truths, predicted, boxes, rows = [], [], [], [], []
    for sid, pred, box in zip(preds.column("sample_id").to_pylist(), preds.column("prediction").to_pylist(),
                              preds.column("boxes").to_pylist()):
        row = by_id.get(sid)
        if row is None:
            continue
        labels = json.loads(row["labels"] or "{}")
        truth = truth_for(labels) if isinstance(labels, dict) else None
        if truth is None:
            continue
        ids.append(sid)
        truths.append(truth)
        predicted.append(pred)
        boxes.append(box)
        rows.append({**row, "params": json.loads(row["params"] or "{}"), "labels": labels})
    if not ids:
        needs = {"error": "a class label (labels.class)", "accuracy": "a class label (labels.class)",
                 "wer": "a transcript (labels.transcript or labels.text)",
                 "map50": "ground-truth objects (labels.objects)"}[metric]
        raise SynthError(f"none of the {preds.num_rows} predicted samples has {needs} at version {version}; "
                         f"--metric {metric} compares predictions with it", field="--predictions")
    return np.array(ids, dtype=object), failure_for(metric, truths, predicted, boxes), rows


def _wanted(column: str, by: list[str] | None) -> bool:
    if not by:
        return True
    short = column.split(".", 1)[1] if column.startswith("params.") else None
    return column in by or (short is not None and short in by)


def _bins(rows: list[dict[str, Any]], by: list[str] | None, n_bins: int) -> list[dict[str, Any]]:
    """Candidate bins over all joined rows: params of synthetic rows, then metadata and scalar label keys."""
    n = len(rows)
    out: list[dict[str, Any]] = []
    synthetic = np.array([r["origin"] == "synthetic" for r in rows])
    if synthetic.any():
        idx = np.flatnonzero(synthetic)
        for b in param_bins([rows[i]["params"] for i in idx], n_bins=n_bins, max_categories=MAX_CATEGORIES):
            column = f"params.{b['param']}"
            if b.get("skipped") or not _wanted(column, by):
                continue
            mask = np.zeros(n, bool)
            mask[idx] = b["rows"]
            where = {"column": column, "lo": b["lo"], "hi": b["hi"], "closed": b["bin"].endswith("]")} \
                if b["kind"] == "range" else {"column": column, "value": b["bin"]}
            out.append({"column": column, "bin": b["bin"], "kind": "param", "rows": mask, "where": [where]})
    label_keys = sorted({k for r in rows for k, v in r["labels"].items() if isinstance(v, (str, int, bool))})
    columns = [(c, [r.get(c) for r in rows]) for c in METADATA_COLUMNS] + \
        [(f"labels.{k}", [r["labels"].get(k) for r in rows]) for k in label_keys]
    for column, values in columns:
        if not _wanted(column, by):
            continue
        text = np.array([None if v is None else str(v) for v in values], dtype=object)
        distinct = sorted({v for v in text if v is not None})
        if len(distinct) < 2 or len(distinct) > MAX_CATEGORIES:
            continue
        for value in distinct:
            out.append({"column": column, "bin": value, "kind": "metadata", "rows": text == value,
                        "where": [{"column": column, "value": value}]})
    if by:
        unknown = [b for b in by if not any(_wanted(c["column"], [b]) for c in out)]
        if unknown:
            raise SynthError(f"nothing to slice by {', '.join(unknown)}: not a sampled param, metadata or label "
                             f"column with 2 to {MAX_CATEGORIES} values", field="--by")
    return out


def _merge_identical(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One slice per set of rows: bins of different columns that hold exactly the same rows (a digit's
    `params.text.literal`, `labels.class` and `labels.transcript`) are one slice, named by a recipe param
    where one is among them (what `focus` can act on), the others listed under `same_as`."""
    groups: dict[bytes, list[dict[str, Any]]] = {}
    for s in found:
        groups.setdefault(np.packbits(s["_rows"]).tobytes(), []).append(s)
    out = []
    for group in groups.values():
        group.sort(key=lambda s: (s["kind"] != "param", s["column"], str(s["bin"])))
        keep = group[0]
        if len(group) > 1:
            keep["same_as"] = [f"{s['column']}={s['bin']}" for s in group[1:]]
        out.append(keep)
    return out


def _stat(candidate: dict[str, Any], failure: Failure, overall: float) -> dict[str, Any]:
    mask = candidate["rows"]
    n = int(mask.sum())
    rate = failure.rate(mask) if n else 0.0
    lo, hi = failure.interval(mask) if n else (0.0, 1.0)
    lo, hi = min(lo, rate), max(hi, rate)  # rounding can put a 0% or 100% rate a hair outside its interval
    return {"column": candidate["column"], "bin": candidate["bin"], "kind": candidate["kind"], "support": n,
            "metric": failure.metric, "value": failure.value(rate), "errors": failure.errors(mask),
            "error_rate": rate, "ci": [lo, hi], "lift": rate / overall if overall > 0 else 0.0,
            "significant": bool(n and lo > overall), "where": candidate["where"], "_rows": mask}


def _rank(found: list[dict[str, Any]]) -> None:
    """Significant slices (interval above the overall rate) first, then by lift, support, name."""
    found.sort(key=lambda s: (not s["significant"], -s["lift"], -s["support"], s["column"], s["bin"]))


def _pairs(singles: list[dict[str, Any]], failure: Failure, overall: float, min_support: int) -> list[dict[str, Any]]:
    top, columns = [], set()
    for s in singles:  # ranked: the best bin of each of the first PAIR_TOP columns
        if s["column"] not in columns:
            columns.add(s["column"])
            top.append(s)
        if len(top) == PAIR_TOP:
            break
    out = []
    for a, b in combinations(top, 2):
        pair = {"column": f"{a['column']} & {b['column']}", "bin": f"{a['bin']} & {b['bin']}", "kind": "pair",
                "rows": a["_rows"] & b["_rows"], "where": a["where"] + b["where"]}
        s = _stat(pair, failure, overall)
        # a pair no worse than one of its halves only repeats that half: keep interactions only
        if s["support"] >= min_support and s["error_rate"] > max(a["error_rate"], b["error_rate"]):
            out.append(s)
    return out


def public(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slices without their row masks (for JSON)."""
    return [{k: v for k, v in s.items() if not k.startswith("_")} for s in found]


def save_slice(ws: Workspace, name: str, model: str, version: int | str | None = None, *,
               by: list[str] | None = None, min_support: int = 20, pairs: bool = True,
               n_bins: int = 5) -> dict[str, Any]:
    """Record the worst slice as `slices/<name>.json` in the workspace and tag the version as `name`."""
    check_name(name, "tag name")
    found, context = slice_report(ws, model, version, by, min_support, pairs, "error", n_bins)
    return record_slice(ws, name, found, context, min_support)


def record_slice(ws: Workspace, name: str, found: list[dict[str, Any]], context: dict[str, Any],
                 min_support: int = 20) -> dict[str, Any]:
    """Write `slices/<name>.json` (the worst slice's definition, the model, the version and the matching
    sample ids) and tag the version as `name`."""
    check_name(name, "tag name")
    if not found:
        raise SynthError(f"no slice has at least {min_support} samples; lower --min-support", field="--tag")
    worst = found[0]
    record = {"name": name, "model": context["model"], "version": context["version"],
              "for_version": context["for_version"], "overall_error_rate": context["error_rate"],
              "slice": public([worst])[0], "sample_ids": sorted(context["ids"][worst["_rows"]].tolist())}
    folder = ws.path("slices")
    ws.fs.makedirs(folder, exist_ok=True)
    tmp = f"{folder}/.{name}.tmp.json"
    with ws.fs.open(tmp, "w") as fh:
        fh.write(json.dumps(record, sort_keys=True))
    ws.fs.mv(tmp, f"{folder}/{name}.json")
    ws.manifest.tag(name, context["version"])
    return record


def format_slices(found: list[dict[str, Any]], top: int = 20) -> str:
    """A terminal table of the first `top` slices."""
    if not found:
        return "no slice reaches the minimum support"
    metric = found[0].get("metric", "error")
    rate = {"error": "rate", "accuracy": "acc", "wer": "WER", "map50": "mAP50"}[metric]
    head = f"{'#':>3}  {'slice':<48} {'support':>7} {'errors':>6} {rate:>6} {'95% CI':>15} {'lift':>5}"
    lines = [head, "-" * len(head)]
    for i, s in enumerate(found[:top], 1):
        name = f"{s['column']} = {s['bin']}"
        name = name if len(name) <= 48 else name[:45] + "..."
        lo, hi = s["ci"]
        if metric in ("accuracy", "map50"):  # shown as the metric, the interval turned round with it
            lo, hi = 1 - hi, 1 - lo
        mark = "*" if s["significant"] else " "
        errors = "-" if s["errors"] is None else s["errors"]
        lines.append(f"{i:>3}{mark} {name:<48} {s['support']:>7} {errors:>6} {s['value']:>6.2f} "
                     f"{f'[{lo:.2f}, {hi:.2f}]':>15} {s['lift']:>5.2f}")
        if s.get("same_as"):
            lines.append(f"      (the same rows as {', '.join(s['same_as'][:3])})")
    lines.append("* the interval lies beyond the overall figure; lift = the slice's failure rate "
                 + ("(1 - " + rate + ") " if metric in ("accuracy", "map50") else "") + "over the overall one")
    return "\n".join(lines)
