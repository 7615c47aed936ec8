"""`synth report`: a static HTML dataset card for one manifest version, with matplotlib plots of counts,
sampled params and label statistics, a contact sheet per scene and a side-by-side table of sweep variants."""
from __future__ import annotations

import html
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import SynthError

SECTIONS = [("summary", "Summary"), ("counts", "Counts"), ("params", "Sampled parameters"),
            ("labels", "Label statistics"), ("contact-sheets", "Contact sheets"), ("sweep", "Sweep variants")]
MAX_BARS = 30          # categorical plots keep the most frequent values
MAX_COLUMNS = 16       # table rows: plot the first columns only
MAX_BLOCKS = 4         # table blocks read for column shapes (each can hold 10k rows)

CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px;color:#222}
nav a{margin-right:12px} h2{border-bottom:1px solid #ccc;padding-top:12px} table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;max-width:480px;overflow-wrap:anywhere} th{background:#f4f4f4;overflow-wrap:normal}
.grid{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start} .grid figure{margin:0;display:table}
.grid figure img{display:block} figcaption{display:table-caption;caption-side:bottom;font-size:12px;color:#555;overflow-wrap:anywhere}
img.sheet{max-width:100%} img.thumb{height:96px} .muted{color:#777} code{font-size:12px}"""


@dataclass
class Page:
    """The HTML being written and the folder its images go to."""

    out: Path
    parts: list[str] = field(default_factory=list)
    n_images: int = 0

    def add(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, fig: Any, caption: str) -> None:
        import matplotlib.pyplot as plt

        name = f"img/plot-{self.n_images:03d}.png"
        self.n_images += 1
        fig.savefig(self.out / name, dpi=80, bbox_inches="tight")
        plt.close(fig)
        self.add(f'<figure><img src="{name}" alt="{_e(caption)}"><figcaption>{_e(caption)}</figcaption></figure>')

    def image(self, rgb: np.ndarray, css: str, alt: str) -> str:
        import cv2

        name = f"img/image-{self.n_images:03d}.png"
        self.n_images += 1
        cv2.imwrite(str(self.out / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        return f'<img class="{css}" src="{name}" alt="{_e(alt)}">'


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _table(header: list[str], rows: list[list[Any]], raw: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else _e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


# ---------------------------------------------------------------------------------------------
# entry point


def write_report(ws: Any, version: int | str | None, out: str | os.PathLike, *, samples: int = 8) -> Path:
    import matplotlib
    matplotlib.use("Agg")  # files only; never a display

    v = ws.manifest.resolve(version)
    table = ws.manifest.to_table(v)
    if table.num_rows == 0:
        raise SynthError(f"version {v} has no rows to report on", field="VERSION")
    out = Path(out)
    (out / "img").mkdir(parents=True, exist_ok=True)
    rows = table.to_pylist()
    for r in rows:
        r["labels"] = json.loads(r["labels"] or "{}")
        r["params"] = json.loads(r["params"] or "{}")
        r["payloads"] = json.loads(r["payloads"] or "{}")
    info = ws.manifest.version_info(v)
    page = Page(out)
    nav = " ".join(f'<a href="#{sid}">{_e(title)}</a>' for sid, title in SECTIONS)
    page.add(f"<!doctype html><html lang=en><head><meta charset=utf-8><title>synth report: version {v}</title>"
             f'<link rel="icon" href="data:,"><style>{CSS}</style></head><body>'
             f"<h1>Dataset card: version {v}</h1><nav>{nav}</nav>")
    for sid, title, writer in ((sid, title, _WRITERS[sid]) for sid, title in SECTIONS):
        page.add(f'<section id="{sid}"><h2>{_e(title)}</h2>')
        writer(page, rows, ws=ws, version=v, info=info, samples=samples)
        page.add("</section>")
    page.add("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(page.parts), encoding="utf-8")
    return index


# ---------------------------------------------------------------------------------------------
# sections


def _summary(page: Page, rows: list[dict], *, info: Any, **_: Any) -> None:
    recipes = Counter((r["recipe_name"] or "-", r["scene"] or "-", r["origin"]) for r in rows)
    page.add(_table(["version", "rows", "fingerprint", "parents", "tags", "message"],
                    [[info.version, len(rows), info.fingerprint, ", ".join(map(str, info.parents)) or "-",
                      ", ".join(info.tags) or "-", info.message]]))
    page.add(_table(["recipe", "scene", "origin", "rows"], [[*k, n] for k, n in sorted(recipes.items())]))


def _classes(row: dict) -> list[str]:
    labels = row["labels"]
    out = [str(o["class"]) for o in labels.get("objects") or [] if isinstance(o, dict) and "class" in o]
    if "class" in labels:
        out.append(str(labels["class"]))
    out += [str(e["class"]) for e in labels.get("events") or [] if isinstance(e, dict) and "class" in e]
    return out


def _counts(page: Page, rows: list[dict], **_: Any) -> None:
    page.add('<div class="grid">')
    for title, counter in (("class", Counter(c for r in rows for c in _classes(r))),
                           ("split", Counter(r["split"] for r in rows)),
                           ("origin", Counter(r["origin"] for r in rows))):
        if counter:
            page.figure(_bars(counter, title), f"count per {title} ({sum(counter.values())} in all)")
        else:
            page.add(f'<p class="muted">no {title} labels</p>')
    page.add("</div>")


def _params(page: Page, rows: list[dict], **_: Any) -> None:
    values: dict[str, list[Any]] = {}
    for r in rows:
        for key, value in r["params"].items():
            values.setdefault(key, []).append(value)
    varying = {k: v for k, v in sorted(values.items()) if len({_key(x) for x in v}) > 1}
    # a distribution that stays in params is drawn per object (size, rotation of every shape): not a constant
    per_object = {k: v[0] for k, v in sorted(values.items()) if k not in varying and _is_distribution(v[0])}
    constant = {k: v[0] for k, v in sorted(values.items()) if k not in varying and k not in per_object}
    if not values:
        page.add('<p class="muted">no sampled parameters (real data only)</p>')
        return
    page.add(f"<p>{len(varying)} parameters vary across the rows; {len(per_object)} are drawn per object; "
             f"{len(constant)} are constant.</p>" '<div class="grid">')
    for key, vals in varying.items():
        page.figure(_histogram(vals, key), f"{key} ({len(vals)} draws)")
    unplotted = []
    for key, spec in per_object.items():
        drawn = _object_values(rows, key)
        if drawn:
            page.figure(_histogram(drawn, key), f"{key}: {len(drawn)} draws, one per object")
        else:
            unplotted.append([key, json.dumps(spec), "drawn per object; the labels do not record the values"])
    page.add("</div>")
    if unplotted:
        page.add(_table(["per-object parameter", "distribution", ""], unplotted))
    if constant:
        page.add(_table(["constant parameter", "value"], [[k, json.dumps(v)] for k, v in constant.items()]))


def _is_distribution(value: Any) -> bool:
    from synth.report.preview import _is_distribution as is_dist
    return isinstance(value, dict) and is_dist(value)


def _object_values(rows: list[dict], key: str) -> list[Any]:
    """The per-object values of parameter `key` recorded in the labels' objects (`object_class` is
    recorded as `class`)."""
    name = key.rsplit(".", 1)[-1]
    for field_ in dict.fromkeys((name, name.removeprefix("object_"))):
        found = [o[field_] for r in rows for o in r["labels"].get("objects") or []
                 if isinstance(o, dict) and o.get(field_) is not None]
        if found:
            return found
    return []


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _labels(page: Page, rows: list[dict], *, ws: Any, **_: Any) -> None:
    stats = _label_stats(rows)
    shown = 0
    for title, series in stats.items():
        if not any(len(v) for v in series.values()):
            continue
        shown += 1
        page.add(f"<h3>{_e(title)}</h3><div class=\"grid\">")
        for name, vals in series.items():
            if len(vals):
                page.figure(_histogram(vals, name), f"{name}: n={len(vals)}, mean {np.mean(vals):.3g}, "
                                                    f"min {np.min(vals):.3g}, max {np.max(vals):.3g}")
        page.add("</div>")
    absent = [t for t, s in stats.items() if not any(len(v) for v in s.values())]
    if absent:
        page.add(f'<p class="muted">not in this version: {_e(", ".join(absent))}</p>')
    if not shown:
        page.add('<p class="muted">no label statistics apply to this version</p>')
    _column_shapes(page, rows, ws)


def _label_stats(rows: list[dict]) -> dict[str, dict[str, list[float]]]:
    boxes_w, boxes_h, per_image, lengths, words, durations, per_clip = [], [], [], [], [], [], []
    for r in rows:
        labels = r["labels"]
        objects = [o for o in labels.get("objects") or [] if isinstance(o, dict)]
        if "objects" in labels:
            per_image.append(len(objects))
        for o in objects:
            if o.get("box"):
                x0, y0, x1, y1 = o["box"]
                boxes_w.append(x1 - x0)
                boxes_h.append(y1 - y0)
        text = labels.get("transcript", labels.get("text"))  # OCR/ASR transcript, or an utterance's text
        if isinstance(text, str):
            lengths.append(len(text))
            words.append(len(text.split()))
        if isinstance(labels.get("events"), list):
            per_clip.append(len(labels["events"]))
            durations += [e["offset_s"] - e["onset_s"] for e in labels["events"] if "onset_s" in e]
    return {"objects": {"objects per image": per_image, "box width (px)": boxes_w, "box height (px)": boxes_h},
            "transcripts": {"transcript length (chars)": lengths, "words per transcript": words},
            "audio events": {"event duration (s)": durations, "events per clip": per_clip}}


def _column_shapes(page: Page, rows: list[dict], ws: Any) -> None:
    """Per-column distributions of table samples: inline `row` payloads and stored table blocks."""
    columns: dict[str, list[Any]] = {}
    n_blocks = 0
    for r in rows:
        for p in r["payloads"].values():
            if p.get("kind") == "row" and isinstance(p.get("value"), dict):
                for k, v in p["value"].items():
                    columns.setdefault(k, []).append(v)
            elif p.get("kind") == "bytes" and p.get("format") in ("parquet", "csv") and n_blocks < MAX_BLOCKS:
                from synth.tabular.blocks import decode_block
                n_blocks += 1
                frame = decode_block(ws.store.get(p["hash"]), p["format"])
                for k in frame.columns:
                    columns.setdefault(str(k), []).extend(frame[k].dropna().tolist())
    if not columns:
        page.add('<p class="muted">no table rows: column shapes do not apply</p>')
        return
    page.add(f"<h3>column shapes</h3><p>{len(columns)} columns" + (f" from the first {n_blocks} table blocks"
             if n_blocks else "") + (f", the first {MAX_COLUMNS} plotted" if len(columns) > MAX_COLUMNS else "")
             + '</p><div class="grid">')
    for name, vals in list(columns.items())[:MAX_COLUMNS]:
        vals = [_plain(v) for v in vals if v is not None]
        distinct = len(set(vals))
        note = f", top {MAX_BARS} of {distinct} distinct values" if distinct > MAX_BARS and \
            not all(isinstance(v, float) for v in vals) else ""
        page.figure(_histogram(vals, name), f"column {name} ({len(vals)} values{note})")
    page.add("</div>")


def _plain(value: Any) -> Any:
    """numpy / pandas scalars (from table blocks) as Python numbers or strings."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value)


def _contact_sheets(page: Page, rows: list[dict], *, ws: Any, samples: int, **_: Any) -> None:
    from synth.report.preview import contact_sheet
    from synth.core.sample import decode_blob

    by_scene: dict[str, list[dict]] = {}
    for r in rows:
        by_scene.setdefault(r["scene"] or r["origin"], []).append(r)
    for scene, scene_rows in sorted(by_scene.items()):
        picks = [scene_rows[int(i)] for i in np.linspace(0, len(scene_rows) - 1, min(samples, len(scene_rows)))]
        page.add(f"<h3>{_e(scene)}</h3>")
        images = [r for r in picks if r["payloads"].get("image", {}).get("hash")]
        if images:
            tiles = []
            for r in images:
                pays = r["payloads"]
                image = decode_blob("image", ws.store.get(pays["image"]["hash"]))
                mask = decode_blob("mask", ws.store.get(pays["mask"]["hash"])) if pays.get("mask", {}).get("hash") \
                    else None
                tiles.append((image, r["labels"], mask, r["params"]))
            page.add(page.image(contact_sheet(tiles), "sheet", f"contact sheet of {scene}"))
        elif any(r["payloads"].get("audio", {}).get("hash") for r in picks):
            page.figure(_waveforms(ws, picks), f"{scene}: waveforms with labelled events")
        else:  # text or table scenes: show what each sample holds
            page.add(_table(["index", "split", "sample"], [[r["index"], r["split"], _describe(r)] for r in picks]))


def _waveforms(ws: Any, rows: list[dict]) -> Any:
    import matplotlib.pyplot as plt

    from synth.core.sample import decode_blob

    rows = [r for r in rows if r["payloads"].get("audio", {}).get("hash")]
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.1 * len(rows) + 0.4), squeeze=False)
    for ax, r in zip(axes[:, 0], rows):
        samples, sr = decode_blob("audio", ws.store.get(r["payloads"]["audio"]["hash"]))
        mono = samples if samples.ndim == 1 else samples.mean(axis=1)
        step = max(1, len(mono) // 4000)  # a few thousand points draw the envelope well enough
        ax.plot(np.arange(0, len(mono), step) / sr, mono[::step], lw=0.5, color="#333")
        for e in r["labels"].get("events") or []:
            if "onset_s" in e:
                ax.axvspan(e["onset_s"], e["offset_s"], alpha=0.25, color="#dd8452")
                ax.text(e["onset_s"], 0.8, str(e.get("class", "")), fontsize=7, transform=ax.get_xaxis_transform())
        ax.set_yticks([])
        ax.set_ylabel(f"#{r['index']}", fontsize=8)
    axes[-1, 0].set_xlabel("seconds")
    return fig


def _describe(row: dict) -> str:
    labels = row["labels"]
    for key in ("transcript", "text"):
        if isinstance(labels.get(key), str):
            return labels[key][:200]
    inline = {k: p.get("value") for k, p in row["payloads"].items() if "value" in p}
    return json.dumps(inline or labels, sort_keys=True)[:200]


def _sweep(page: Page, rows: list[dict], *, ws: Any, version: int, **_: Any) -> None:
    from synth.data.sweep import load_records

    by_hash: dict[str, list[dict]] = {}
    for r in rows:
        by_hash.setdefault(r["recipe_hash"], []).append(r)
    shown = False
    for record in load_records(ws):
        variants = [v for v in record["variants"] if v["recipe_hash"] in by_hash]
        if not variants:
            continue
        shown = True
        page.add(f"<h3>sweep {_e(record['name'])}</h3><p>mode {_e(record['mode'])}, seeds "
                 f"{_e(record['seeds'])}, {len(variants)} of {len(record['variants'])} variants in this version</p>")
        header = ["variant", *record["swept"], "rows", *_variant_stats([]).keys(), "first sample"]
        body = []
        for v in variants:
            vrows = sorted(by_hash[v["recipe_hash"]], key=lambda r: r["index"])
            thumb = _thumb(page, ws, vrows[0], v["id"])
            body.append([_e(v["id"]), *(_e(json.dumps(v["overrides"].get(k))) for k in record["swept"]),
                         len(vrows), *(_e(s) for s in _variant_stats(vrows).values()), thumb])
        page.add(_table(header, body, raw=True))
    if not shown:
        page.add('<p class="muted">this version holds no sweep variants</p>')


def _variant_stats(rows: list[dict]) -> dict[str, str]:
    stats = _label_stats(rows)
    out = {}
    for name in ("objects per image", "box width (px)", "transcript length (chars)", "event duration (s)"):
        vals = next(s[name] for s in stats.values() if name in s)
        out[f"mean {name}"] = f"{np.mean(vals):.3g}" if vals else "-"
    out["classes"] = str(len({c for r in rows for c in _classes(r)}))
    return out


def _thumb(page: Page, ws: Any, row: dict, alt: str) -> str:
    from synth.core.sample import decode_blob

    digest = row["payloads"].get("image", {}).get("hash")
    if not digest:
        return _e(_describe(row)[:80])
    image = decode_blob("image", ws.store.get(digest))
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return page.image(image[..., :3], "thumb", alt)


_WRITERS = {"summary": _summary, "counts": _counts, "params": _params, "labels": _labels,
            "contact-sheets": _contact_sheets, "sweep": _sweep}


# ---------------------------------------------------------------------------------------------
# plots


def _bars(counter: Counter, title: str) -> Any:
    import matplotlib.pyplot as plt

    items = counter.most_common(MAX_BARS)
    names = [_short(str(k), MAX_TICK) for k, _ in items]
    longest = max((len(n) for n in names), default=1)
    # one bar per 0.3 inch at least, so the tick labels (rotated, anchored at their right end) never overlap
    fig, ax = plt.subplots(figsize=(max(3.2, 0.3 * len(items) + 1), 2.2 + 0.06 * longest))
    ax.bar(range(len(items)), [n for _, n in items], color="#4c72b0")
    ax.set_xticks(range(len(items)), names, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_title(_short(title, 40), fontsize=9)
    return fig


def _histogram(values: list[Any], title: str) -> Any:
    """A histogram for numbers, a bar chart of value counts for anything else."""
    import matplotlib.pyplot as plt

    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numeric) < len(values) or not numeric:
        return _bars(Counter(_short(v) for v in values), title)
    fig, ax = plt.subplots(figsize=(3.2, 2.4))
    distinct = len(set(numeric))
    ax.hist(numeric, bins=min(30, max(1, distinct)), color="#55a868")
    ax.set_title(_short(title, 40), fontsize=9)
    ax.tick_params(labelsize=8)
    return fig


MAX_TICK = 18  # characters of a category label under a bar


def _short(value: Any, limit: int = 24) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit - 1] + "…"
