"""The sim-to-real gap: how far a synthetic version is from a real one (C2ST AUC, MMD, per-feature KS,
TSTR), and where in the recipe's parameter space the synthetic samples look least real."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from synth.errors import SynthError
from synth.loop.features import extractor_for, load_embeddings, load_feature_function
from synth.loop.samples import Side, load_side
from synth.loop.stats import Z95, c2st, ks_features, mmd_test, standardize, wilson
from synth.loop.stats import tstr as train_synthetic_test_real
from synth.store.workspace import Workspace

MIN_SAMPLES = 20
"""Fewest samples a side may have: below this no figure of the gap means anything."""
KS_REPORTED = 20
EXAMPLES = 8


@dataclass
class GapReport:
    """The result of `gap`: `as_dict()` is the JSON face; `extras` holds what the HTML report draws
    (feature values of the worst KS features, and the most/least realistic synthetic samples with their
    nearest real ones) and is not serialised."""
    synthetic: dict[str, Any]
    real: dict[str, Any]
    features: dict[str, Any]
    auc: float
    auc_ci: tuple[float, float]
    auc_folds: list[float]
    classifier: str
    mmd: float
    mmd_p: float
    mmd_info: dict[str, Any]
    ks: list[dict[str, Any]]
    ks_tested: int
    ks_significant: int             # features whose Bonferroni-adjusted KS p < 0.05
    tstr: dict[str, Any] | None
    params: list[dict[str, Any]]
    param_curves: dict[str, list[dict[str, Any]]]
    min_support: int
    seed: int
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"synthetic": self.synthetic, "real": self.real, "features": self.features,
                "auc": self.auc, "auc_ci": list(self.auc_ci), "auc_folds": self.auc_folds,
                "classifier": self.classifier, "mmd": self.mmd, "mmd_p": self.mmd_p, **self.mmd_info,
                "ks": self.ks, "ks_tested": self.ks_tested,
                "ks_significant": self.ks_significant,
                "tstr": self.tstr, "params": self.params, "param_curves": self.param_curves,
                "min_support": self.min_support, "seed": self.seed, "notes": self.notes}


def gap(ws: Workspace | str, synthetic: int | str | None, real: int | str | None, *,
        embeddings: str | Path | None = None, recipe: str | None = None, classifier: str = "logistic",
        folds: int = 5, n_permutations: int = 200, n_bins: int = 5, min_support: int = 10,
        max_categories: int = 20, tstr: str = "auto", max_samples: int = 2000, seed: int = 0,
        feature_params: dict[str, Any] | None = None, features: str | None = None,
        probe: str = "logistic") -> GapReport:
    """Measure the gap between the synthetic rows of version `synthetic` and the real rows of version
    `real` (numbers or tags; None: latest) of one workspace.

    Features: the modality's default extractor (`feature_params` go to its `__init__`) or the vectors in
    `embeddings` keyed by sample id, or the user's function `features` (`module:function` or
    `file.py:function`, one sample's data -> a vector). `recipe` keeps only that recipe's synthetic rows;
    each side is capped at `max_samples` (a seeded subset). TSTR runs when both sides carry `labels["class"]`
    (`tstr`="auto"), always ("on": an error if it cannot) or never ("off"), with the probe `probe`
    (`synth.loop.stats.make_probe`). Parameter bins with
    fewer than `min_support` synthetic samples are not ranked. Fixed seeds throughout: the same inputs
    give the same report."""
    if tstr not in ("auto", "on", "off"):
        raise SynthError(f"tstr must be auto, on or off, not '{tstr}'", field="--tstr")
    ws = ws if isinstance(ws, Workspace) else Workspace.open(ws)
    syn = load_side(ws, synthetic, "synthetic", recipe=recipe, max_samples=max_samples, seed=seed)
    rea = load_side(ws, real, "real", max_samples=max_samples, seed=seed)
    if syn.modality != rea.modality:
        raise SynthError(f"the sides hold different modalities: synthetic version {syn.version} holds "
                         f"{syn.modality}, real version {rea.version} holds {rea.modality}", field="--real")
    for side in (syn, rea):
        if len(side) < MIN_SAMPLES:
            raise SynthError(f"the {side.name} side has {len(side)} samples; the gap needs at least {MIN_SAMPLES} "
                             "on each side", field=f"--{side.name}")
    classes = _tstr_classes(syn, rea, tstr)
    if embeddings is not None and features is not None:
        raise SynthError("give --embeddings or --features, not both", field="--features")
    if embeddings is not None:
        X = load_embeddings(embeddings, syn.ids + rea.ids)
        names = [f"dim_{k}" for k in range(X.shape[1])]
        feats = {"embeddings": str(embeddings), "dims": X.shape[1]}
    elif features is not None:
        own = load_feature_function(features)
        X = own.fit_transform(syn.data + rea.data)
        names = list(own.get_feature_names_out())
        feats = {"extractor": features, "dims": X.shape[1]}
    else:
        extractor = extractor_for(syn.modality, **(feature_params or {}))
        X = extractor.fit_transform(syn.data + rea.data)
        names = list(extractor.get_feature_names_out())
        feats = {"extractor": type(extractor).__name__, "params": dict(vars(extractor)), "dims": X.shape[1]}
        feats["params"] = {k: v for k, v in feats["params"].items() if not k.endswith("_")}
    is_real = np.r_[np.zeros(len(syn)), np.ones(len(rea))].astype(int)
    X_probe = None
    if classes is not None and embeddings is None and syn.modality == "table" \
            and (syn.class_column or rea.class_column):
        X_probe = table_probe_features(syn, rea, load_feature_function(features) if features
                                       else extractor_for("table", **(feature_params or {})))
    return analyse(X, names, is_real, syn, rea, feats, classes=classes, classifier=classifier, folds=folds,
                   n_permutations=n_permutations, n_bins=n_bins, min_support=min_support,
                   max_categories=max_categories, seed=seed, X_probe=X_probe, probe=probe)


def table_probe_features(syn: Side, rea: Side, extractor: Any) -> np.ndarray:
    """Table rows as the TSTR probe sees them (through `extractor`, refitted here): without the class column
    (on either side), so the probe learns the class from the other columns instead of reading it off."""
    rows = [{k: v for k, v in row.items() if k not in (syn.class_column, rea.class_column)}
            for row in syn.data + rea.data]
    return extractor.fit_transform(rows)


def _tstr_classes(syn: Side, rea: Side, mode: str) -> tuple[list[str], list[str]] | None:
    if mode == "off":
        return None
    ys, yr = syn.classes(), rea.classes()
    missing = [side for side, y in (("synthetic", ys), ("real", yr)) if any(c is None for c in y)]
    if missing:
        if mode == "on":
            raise SynthError(f"TSTR needs labels[\"class\"] on every row; the {' and '.join(missing)} side(s) lack "
                             "it on some rows", field="--tstr")
        return None
    only_syn, only_real = sorted(set(ys) - set(yr)), sorted(set(yr) - set(ys))
    if only_syn or only_real:
        raise SynthError("TSTR needs one label set on both sides: "
                         + "; ".join(part for part in (
                             f"only in synthetic: {', '.join(only_syn)}" if only_syn else "",
                             f"only in real: {', '.join(only_real)}" if only_real else "") if part)
                         + " (pass tstr='off' / --tstr off to measure the gap without it)", field="labels.class")
    return [str(c) for c in ys], [str(c) for c in yr]


def analyse(X: np.ndarray, names: Sequence[str], is_real: np.ndarray, syn: Side, rea: Side, feats: dict[str, Any],
            *, classes: tuple[list[str], list[str]] | None, classifier: str = "logistic", folds: int = 5,
            n_permutations: int = 200, n_bins: int = 5, min_support: int = 10, max_categories: int = 20,
            seed: int = 0, X_probe: np.ndarray | None = None, probe: str = "logistic") -> GapReport:
    """Every statistic of the report from one feature matrix (synthetic rows first, then real); the TSTR
    probe reads `X_probe` instead where given (tables: the features without the class column)."""
    X = np.asarray(X, np.float64)
    if not np.isfinite(X).all():
        raise SynthError("features hold NaN or infinite values")
    Z = standardize(X)
    S, R = is_real == 0, is_real == 1
    test = c2st(X, is_real, classifier=classifier, folds=folds, seed=seed)
    mmd = mmd_test(Z[S], Z[R], n_permutations=n_permutations, seed=seed)
    ks = ks_features(X[S], X[R], names)
    P = X if X_probe is None else np.asarray(X_probe, np.float64)
    probe = train_synthetic_test_real(P[S], classes[0], P[R], classes[1], seed=seed,
                                      probe=probe) if classes is not None else None
    nearest = _nearest(Z[S], Z[R])
    realism = test.oof[S]
    bins = param_bins(syn.params, n_bins=n_bins, max_categories=max_categories)
    curves, ranked = _param_table(bins, realism, nearest, probe.correct if probe is not None else None, min_support)
    notes = syn.notes + rea.notes
    skipped = sorted({b["param"] for b in bins if b.get("skipped")})
    if skipped:
        notes.append(f"params with more than {max_categories} distinct non-numeric values not binned: "
                     + ", ".join(skipped))
    report = GapReport(
        synthetic=_side_info(syn), real=_side_info(rea), features=feats, auc=test.auc, auc_ci=test.ci,
        auc_folds=test.fold_aucs, classifier=classifier, mmd=mmd.mmd2, mmd_p=mmd.p,
        mmd_info={"mmd_bandwidth": mmd.bandwidth, "mmd_permutations": mmd.permutations, "mmd_used": list(mmd.used)},
        ks=ks[:KS_REPORTED], ks_tested=len(ks),
        ks_significant=sum(1 for k in ks if k["p_adj"] < 0.05), tstr=probe.as_dict() if probe is not None else None, params=ranked,
        param_curves=curves, min_support=min_support, seed=seed, notes=notes)
    top = [names.index(r["feature"]) for r in ks[:6]]
    report.extras = {"top_features": [(names[j], X[S][:, j], X[R][:, j]) for j in top],
                     "modality": syn.modality, "examples": _examples(syn, rea, realism, nearest)}
    return report


def _side_info(side: Side) -> dict[str, Any]:
    return {"version": side.version, "modality": side.modality, "rows": side.total, "used": len(side)}


def _nearest(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """For each row of A, the index of its nearest row of B (Euclidean, standardised features)."""
    from sklearn.neighbors import NearestNeighbors
    return NearestNeighbors(n_neighbors=1).fit(B).kneighbors(A, return_distance=False)[:, 0]


# -- where the gap is -------------------------------------------------------------------------------

def param_bins(params: Sequence[dict[str, Any]], *, n_bins: int = 5, max_categories: int = 20) -> list[dict[str, Any]]:
    """One entry per bin of every sampled param (one whose value varies over the rows): numeric params in
    up to `n_bins` quantile bins (or one bin per value when there are no more values than bins), the
    others one bin per value. Each entry: param, bin (a label), kind, order, lo/hi (numeric), rows (mask)."""
    keys = sorted({k for p in params for k in p})
    out: list[dict[str, Any]] = []
    for key in keys:
        raw = [p.get(key) for p in params]
        present = np.array([v is not None for v in raw])
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw if v is not None) and present.any():
            values = np.array([float(v) if v is not None else np.nan for v in raw])
            distinct = np.unique(values[present])
            if len(distinct) < 2:
                continue
            if len(distinct) <= n_bins:
                for order, d in enumerate(distinct):
                    out.append({"param": key, "bin": _fmt(d), "kind": "value", "order": order, "lo": float(d),
                                "hi": float(d), "rows": present & (values == d)})
                continue
            edges = np.unique(np.quantile(values[present], np.linspace(0, 1, n_bins + 1)))
            which = np.searchsorted(edges[1:-1], values, side="right")
            for order in range(len(edges) - 1):
                lo, hi = edges[order], edges[order + 1]
                close = "]" if order == len(edges) - 2 else ")"
                out.append({"param": key, "bin": f"[{_fmt(lo)}, {_fmt(hi)}{close}", "kind": "range", "order": order,
                            "lo": float(lo), "hi": float(hi), "rows": present & (which == order)})
            continue
        labels = [json.dumps(v, sort_keys=True) if not isinstance(v, str) else v for v in raw]
        distinct_labels = sorted(set(labels))
        if len(distinct_labels) < 2:
            continue
        if len(distinct_labels) > max_categories:
            out.append({"param": key, "skipped": True})
            continue
        arr = np.array(labels, dtype=object)
        for order, value in enumerate(distinct_labels):
            out.append({"param": key, "bin": value, "kind": "value", "order": order, "rows": arr == value})
    return out


def _param_table(bins: list[dict[str, Any]], realism: np.ndarray, nearest: np.ndarray, correct: np.ndarray | None,
                 min_support: int) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Per bin: support, mean out-of-fold P(real) of its synthetic samples with a 95% interval, its
    difference from all synthetic samples, and (with TSTR) the probe's error on the real samples nearest
    to them. Returns the curves (per param, in bin order) and the ranking (least real first)."""
    overall = float(realism.mean())
    curves: dict[str, list[dict[str, Any]]] = {}
    for b in bins:
        if b.get("skipped"):
            continue
        rows = b["rows"]
        n = int(rows.sum())
        if n == 0:
            continue
        r = realism[rows]
        half = Z95 * float(r.std(ddof=1)) / math.sqrt(n) if n > 1 else 1.0
        mean = float(r.mean())
        entry = {"param": b["param"], "bin": b["bin"], "kind": b["kind"], "order": b["order"], "support": n,
                 "realism": mean, "realism_ci": [max(0.0, mean - half), min(1.0, mean + half)],
                 "lift": mean - overall, "ranked": n >= min_support}
        if "lo" in b:
            entry["lo"], entry["hi"] = b["lo"], b["hi"]
        if correct is not None:
            near = np.unique(nearest[rows])
            wrong = int((~correct[near]).sum())
            entry["real_error"] = wrong / len(near)
            entry["real_error_ci"] = list(wilson(wrong, len(near)))
            entry["real_support"] = int(len(near))
        curves.setdefault(b["param"], []).append(entry)
    ranked = sorted((e for c in curves.values() for e in c if e["ranked"]),
                    key=lambda e: (e["realism"], e["param"], e["order"]))
    for i, e in enumerate(ranked, start=1):
        e["rank"] = i
    return curves, ranked


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _examples(syn: Side, rea: Side, realism: np.ndarray, nearest: np.ndarray) -> dict[str, list[dict[str, Any]]]:
    """The most and the least realistic synthetic samples, each with its nearest real sample (images only
    carry their pixels; other modalities their ids)."""
    order = np.argsort(realism, kind="stable")
    picks = {"least_real": order[:EXAMPLES], "most_real": order[::-1][:EXAMPLES]}
    out: dict[str, list[dict[str, Any]]] = {}
    for key, idx in picks.items():
        out[key] = [{"synthetic_id": syn.ids[i], "real_id": rea.ids[nearest[i]], "realism": float(realism[i]),
                     "params": syn.params[i], "synthetic_labels": syn.labels[i], "real_labels": rea.labels[nearest[i]],
                     **({"synthetic": syn.data[i], "real": rea.data[nearest[i]]} if syn.modality == "image" else {})}
                    for i in idx]
    return out


# -- terminal ---------------------------------------------------------------------------------------

def format_report(report: GapReport, top: int = 10) -> str:
    """The report as a plain-text table for the terminal."""
    s, r = report.synthetic, report.real
    lines = [f"synthetic v{s['version']} ({s['used']} of {s['rows']} {s['modality']} samples)  vs  "
             f"real v{r['version']} ({r['used']} of {r['rows']})",
             f"features    {report.features.get('extractor') or report.features.get('embeddings')} "
             f"({report.features['dims']} dims)",
             f"C2ST AUC    {report.auc:.3f}  95% CI [{report.auc_ci[0]:.3f}, {report.auc_ci[1]:.3f}]  "
             f"({report.classifier}, {len(report.auc_folds)} folds; 0.5 = indistinguishable, 1.0 = fully apart)",
             f"MMD²        {report.mmd:.4g}  p = {report.mmd_p:.3g}  ({report.mmd_info['mmd_permutations']} permutations)"]
    if report.tstr is not None:
        t = report.tstr
        lines.append(f"TSTR        accuracy {t['accuracy']:.3f}  95% CI [{t['ci'][0]:.3f}, {t['ci'][1]:.3f}]  "
                     f"on {t['support']} real samples, {len(t['classes'])} classes")
        worst = sorted(t["per_class"].items(), key=lambda kv: (kv[1]["accuracy"] is None, kv[1]["accuracy"] or 0))
        lines.append("  worst classes  " + ", ".join(f"{c}={v['accuracy']:.2f} (n={v['support']})"
                                                     for c, v in worst[:5] if v["accuracy"] is not None))
    else:
        lines.append("TSTR        not run (a side has no class labels, or it was turned off)")
    lines.append("")
    lines.append(f"features that differ most (KS, {report.ks_tested} tested)")
    lines.append(f"  {'feature':<24} {'KS':>6} {'p_adj':>9} {'synthetic':>10} {'real':>10}")
    for k in report.ks[:top]:
        lines.append(f"  {k['feature'][:24]:<24} {k['statistic']:>6.3f} {k['p_adj']:>9.2g} "
                     f"{k['mean_synthetic']:>10.4g} {k['mean_real']:>10.4g}")
    lines.append("")
    tstr_cols = report.tstr is not None
    lines.append(f"where the gap is: param bins, least real first (support >= {report.min_support}; realism = mean "
                 "out-of-fold P(real) of the bin's synthetic samples)")
    head = f"  {'#':>3} {'param':<28} {'bin':<22} {'n':>5} {'realism':>8} {'95% CI':>15} {'lift':>7}"
    lines.append(head + (f" {'real err':>8} {'n real':>6}" if tstr_cols else ""))
    for e in report.params[:top]:
        line = (f"  {e['rank']:>3} {e['param'][:28]:<28} {str(e['bin'])[:22]:<22} {e['support']:>5} "
                f"{e['realism']:>8.3f} [{e['realism_ci'][0]:.3f},{e['realism_ci'][1]:.3f}] {e['lift']:>+7.3f}")
        if tstr_cols:
            line += f" {e['real_error']:>8.3f} {e['real_support']:>6}"
        lines.append(line)
    if not report.params:
        lines.append("  (no sampled params with enough support)")
    for note in report.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)
