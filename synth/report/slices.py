"""The slices report as HTML: the overall figure, a forest plot of the worst slices (failure rate and its
interval against the overall rate), one curve per sliced parameter (failure rate per bin with its
interval band), and the table. Reads the public slices list and the context of synth.loop.slices."""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

MAX_FOREST = 20
MAX_CURVES = 8
TITLES = {"error": "error rate", "accuracy": "error rate (1 - accuracy)", "wer": "word error rate",
          "map50": "1 - mAP@0.5"}


def write_html(found: list[dict[str, Any]], context: dict[str, Any], out: str | Path) -> Path:
    """Write index.html and its PNGs into the folder `out` (created; files of the same names replaced)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metric = context.get("metric", "error")
    overall = float(context["error_rate"])
    figures: list[tuple[str, str]] = []

    top = found[:MAX_FOREST]
    if top:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(top) + 1.2))
        ys = list(range(len(top)))[::-1]
        rates = [s["error_rate"] for s in top]
        ax.errorbar(rates, ys, xerr=[[r - s["ci"][0] for r, s in zip(rates, top)],
                                     [s["ci"][1] - r for r, s in zip(rates, top)]],
                    fmt="o", color="#c0392b", ecolor="#999", capsize=3)
        ax.axvline(overall, color="#333", linestyle="--", label=f"overall {overall:.3f}")
        ax.set_yticks(ys, [_short(f"{s['column']} = {s['bin']}", 60) for s in top], fontsize=8)
        ax.set_xlabel(f"{TITLES[metric]} (95% interval)")
        ax.set_xlim(0, 1)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "forest.png", dpi=100)
        plt.close(fig)
        figures.append(("forest.png", f"The {len(top)} worst slices, worst at the top"))

    curves: dict[str, list[dict[str, Any]]] = {}
    for s in found:
        if s["kind"] == "param" and "lo" in s["where"][0]:
            curves.setdefault(s["column"], []).append(s)
    ranked = sorted(curves, key=lambda c: -max(s["lift"] for s in curves[c]))[:MAX_CURVES]
    for i, column in enumerate(ranked):
        bins = sorted(curves[column], key=lambda s: s["where"][0]["lo"])
        mids = [(s["where"][0]["lo"] + s["where"][0]["hi"]) / 2 for s in bins]
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot(mids, [s["error_rate"] for s in bins], "o-", color="#c0392b")
        ax.fill_between(mids, [s["ci"][0] for s in bins], [s["ci"][1] for s in bins], color="#c0392b", alpha=0.15)
        ax.axhline(overall, color="#333", linestyle="--", linewidth=1)
        ax.set_title(column, fontsize=9)
        ax.set_xlabel("bin centre")
        ax.set_ylabel(TITLES[metric], fontsize=8)
        fig.tight_layout()
        name = f"param_{i}.png"
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        figures.append((name, f"{column}: {TITLES[metric]} per bin (band: 95% interval; dashed: overall)"))

    (out / "index.html").write_text(_page(found, context, figures))
    return out / "index.html"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def _fmt(x: Any) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else (f"{x:.3f}" if isinstance(x, float) else str(x))


def _page(found: list[dict[str, Any]], context: dict[str, Any], figures: list[tuple[str, str]]) -> str:
    e = html.escape
    metric = context.get("metric", "error")
    rows = "".join(
        f"<tr><td>{i}</td><td>{e(str(s['column']))}</td><td>{e(str(s['bin']))}</td><td>{s['support']}</td>"
        f"<td>{_fmt(s['errors'])}</td><td>{_fmt(s['value'])}</td><td>[{s['ci'][0]:.3f}, {s['ci'][1]:.3f}]</td>"
        f"<td>{s['lift']:.2f}</td><td>{'yes' if s['significant'] else ''}</td>"
        f"<td>{e(', '.join(s.get('same_as', [])))}</td></tr>"
        for i, s in enumerate(found, 1))
    figs = "".join(f'<figure><img src="{e(name)}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>'
                   for name, caption in figures)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>slices of {e(str(context['model']))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}} table{{border-collapse:collapse;font-size:0.85em}}
td,th{{border:1px solid #ccc;padding:0.2em 0.5em;text-align:left}} figure{{display:inline-block;margin:0.5em;
max-width:100%}} img{{max-width:100%}} figcaption{{font-size:0.8em;color:#555;max-width:40em}}</style></head>
<body><h1>Where {e(str(context['model']))} fails</h1>
<p>Version {context['version']} (predictions for version {context['for_version']}): {context['support']} predicted
rows, overall {e(TITLES[metric])} {context['error_rate']:.3f} [{context['ci'][0]:.3f}, {context['ci'][1]:.3f}].
Slices are bins of recipe params (synthetic rows), label and metadata columns (real rows) and pairs of the
worst; "significant" means the slice's interval lies above the overall rate.</p>
{figs}
<h2>All slices, worst first</h2>
<table><tr><th>#</th><th>column</th><th>bin</th><th>support</th><th>errors</th><th>{e(metric)}</th>
<th>95% interval (failure rate)</th><th>lift</th><th>significant</th><th>same rows as</th></tr>{rows}</table>
</body></html>
"""
