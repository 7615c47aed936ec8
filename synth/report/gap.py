"""The gap report as HTML: the headline figures, real vs synthetic histograms of the features that differ
most, a realism curve per recipe parameter, and contact sheets of the least and the most realistic
synthetic images beside their nearest real ones. Reads a GapReport (duck-typed: `as_dict()` and
`extras`), so this room needs nothing from synth.loop above it."""
from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from synth.report.preview import contact_sheet

MAX_CURVES = 12


def write_html(report: Any, out: str | Path) -> Path:
    """Write index.html and its PNGs into the folder `out` (created; files of the same names replaced)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    d = report.as_dict()
    extras = getattr(report, "extras", {}) or {}
    figures: list[tuple[str, str]] = []

    top = extras.get("top_features") or []
    if top:
        cols = min(3, len(top))
        rows = math.ceil(len(top) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
        for ax, (name, syn, real) in zip(axes.ravel(), top):
            bins = np.histogram_bin_edges(np.concatenate([syn, real]), bins=20)
            ax.hist(real, bins=bins, alpha=0.5, density=True, label="real", color="tab:blue")
            ax.hist(syn, bins=bins, alpha=0.5, density=True, label="synthetic", color="tab:orange")
            ax.set_title(name, fontsize=9)
        for ax in axes.ravel()[len(top):]:
            ax.axis("off")
        axes[0, 0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "features.png", dpi=90)
        plt.close(fig)
        figures.append(("features.png", "Features that differ most (KS), real vs synthetic"))

    curves = _curves_by_spread(d["param_curves"])[:MAX_CURVES]
    if curves:
        cols = min(3, len(curves))
        rows = math.ceil(len(curves) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3 * rows), squeeze=False)
        overall = float(np.mean([e["realism"] for c in d["param_curves"].values() for e in c])) if curves else 0.5
        for ax, (param, entries) in zip(axes.ravel(), curves):
            x = np.arange(len(entries))
            y = np.array([e["realism"] for e in entries])
            err = np.array([[e["realism"] - e["realism_ci"][0], e["realism_ci"][1] - e["realism"]] for e in entries]).T
            colours = ["tab:red" if not e["ranked"] else "tab:green" for e in entries]
            ax.errorbar(x, y, yerr=err, fmt="-", color="grey", zorder=1)
            ax.scatter(x, y, c=colours, zorder=2, s=18)
            ax.axhline(overall, color="k", lw=0.5, ls=":")
            ax.set_xticks(x, [str(e["bin"])[:14] for e in entries], rotation=40, ha="right", fontsize=7)
            ax.set_title(param, fontsize=9)
            ax.set_ylabel("P(real)", fontsize=8)
        for ax in axes.ravel()[len(curves):]:
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(out / "params.png", dpi=90)
        plt.close(fig)
        figures.append(("params.png", "Realism per parameter bin (mean out-of-fold P(real), 95% CI; red: below "
                        "the minimum support)"))

    examples = extras.get("examples") or {}
    for key, title in (("least_real", "Least realistic synthetic images (left) and their nearest real ones"),
                       ("most_real", "Most realistic synthetic images (left) and their nearest real ones")):
        pairs = [e for e in examples.get(key, []) if "synthetic" in e]
        if not pairs:
            continue
        tiles = []
        for e in pairs:
            tiles.append((_rgb(e["synthetic"]), e.get("synthetic_labels") or {}, None,
                          {"P(real)": round(e["realism"], 3), **(e.get("params") or {})}))
            tiles.append((_rgb(e["real"]), e.get("real_labels") or {}, None, {"nearest real": e["real_id"][:12]}))
        sheet = contact_sheet(tiles, columns=4, tile=160)
        name = f"{key}.png"
        import cv2
        cv2.imwrite(str(out / name), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        figures.append((name, title))

    (out / "gap.json").write_text(json.dumps(d, indent=2, default=str))
    (out / "index.html").write_text(_page(d, figures))
    return out / "index.html"


def _curves_by_spread(curves: dict[str, list[dict[str, Any]]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Params whose realism varies most across their bins first."""
    def spread(entries: list[dict[str, Any]]) -> float:
        ranked = [e["realism"] for e in entries if e["ranked"]] or [e["realism"] for e in entries]
        return max(ranked) - min(ranked)
    return sorted(curves.items(), key=lambda kv: (-spread(kv[1]), kv[0]))


def _rgb(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    return arr[..., :3] if arr.shape[2] >= 3 else np.repeat(arr[..., :1], 3, axis=2)


def _page(d: dict[str, Any], figures: list[tuple[str, str]]) -> str:
    e = html.escape
    s, r = d["synthetic"], d["real"]
    head = [f"<h1>Sim-to-real gap</h1><p>synthetic v{s['version']} ({s['used']} of {s['rows']} {e(s['modality'])} "
            f"samples) vs real v{r['version']} ({r['used']} of {r['rows']})</p>", "<table>",
            f"<tr><th>C2ST AUC</th><td>{d['auc']:.3f} [{d['auc_ci'][0]:.3f}, {d['auc_ci'][1]:.3f}] "
            f"(0.5 = indistinguishable)</td></tr>",
            f"<tr><th>MMD²</th><td>{d['mmd']:.4g}, p = {d['mmd_p']:.3g}</td></tr>",
            f"<tr><th>KS</th><td>{d['ks_significant']} of {d['ks_tested']} features differ (Bonferroni p &lt; 0.05)"
            "</td></tr>"]
    if d["tstr"]:
        t = d["tstr"]
        head.append(f"<tr><th>TSTR accuracy</th><td>{t['accuracy']:.3f} [{t['ci'][0]:.3f}, {t['ci'][1]:.3f}] on "
                    f"{t['support']} real samples</td></tr>")
    head.append("</table>")
    rank = ["<h2>Where the gap is (least real first)</h2><table><tr><th>#</th><th>param</th><th>bin</th><th>n</th>"
            "<th>P(real)</th><th>95% CI</th><th>lift</th>" + ("<th>real error</th>" if d["tstr"] else "") + "</tr>"]
    for p in d["params"][:30]:
        rank.append(f"<tr><td>{p['rank']}</td><td>{e(p['param'])}</td><td>{e(str(p['bin']))}</td><td>{p['support']}"
                    f"</td><td>{p['realism']:.3f}</td><td>[{p['realism_ci'][0]:.3f}, {p['realism_ci'][1]:.3f}]</td>"
                    f"<td>{p['lift']:+.3f}</td>"
                    + (f"<td>{p['real_error']:.3f} (n={p['real_support']})</td>" if d["tstr"] else "") + "</tr>")
    rank.append("</table>")
    figs = [f"<h2>{e(title)}</h2><img src=\"{name}\" alt=\"{e(title)}\">" for name, title in figures]
    notes = [f"<p class=note>{e(n)}</p>" for n in d["notes"]]
    style = ("<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left}"
             "img{max-width:100%}.note{color:#666}</style>")
    return ("<!doctype html><html><head><meta charset=utf-8><title>synth gap</title>" + style + "</head><body>"
            + "".join(head + rank + figs + notes) + "</body></html>")
