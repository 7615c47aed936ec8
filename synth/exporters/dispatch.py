"""Export any version in any format, always with the labels current at that version."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from synth.errors import SynthError
from synth.store.workspace import Workspace
from synth.exporters.records import require_images
from synth.store.payloads import blob_getter
from synth.store.lineage import current_table

FORMATS = ("coco", "yolo", "yolo-seg", "hf", "webdataset", "csv", "parquet", "jsonl", "audio")


def export_version(ws: Workspace, fmt: str, out: str | Path, version: int | str | None = None,
                   shard_rows: int = 1000, recipe: str | None = None, single_file: bool = False,
                   kinds: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Write version `version` (default: latest) as `fmt` under `out`; returns a summary with "version".
    csv/parquet/jsonl take `recipe` (only its rows), `single_file` (every split into the file `out`) and
    `kinds` (refuse a version whose rows are not of these kinds: table, utterances, samples)."""
    if fmt not in FORMATS:
        from synth.errors import did_you_mean
        raise SynthError(f"unknown export format '{fmt}'{did_you_mean(fmt, FORMATS)}; allowed: {', '.join(FORMATS)}",
                         field="--format")
    v = ws.manifest.resolve(version)
    table = current_table(ws, v)
    if fmt in ("coco", "yolo", "yolo-seg"):
        require_images(table, "export")
    get = blob_getter(ws, table)
    if fmt == "coco":
        from synth.exporters.coco import export_coco
        coco = export_coco(table, get, out)
        return {"version": v, "images": len(coco["images"]), "annotations": len(coco["annotations"])}
    if fmt in ("yolo", "yolo-seg"):
        from synth.exporters.yolo import export_yolo
        res = export_yolo(table, get, out, task="segment" if fmt == "yolo-seg" else "detect")
        return {"version": v, **res}
    if fmt == "hf":
        from synth.exporters.hf import export_hf
        return {"version": v, **export_hf(table, get, out, shard_rows=shard_rows,
                                          version_note=f" from version {v} ({ws.manifest.fingerprint(v)[:16]})")}
    if fmt == "webdataset":
        from synth.exporters.webdataset import export_webdataset
        return {"version": v, **export_webdataset(table, get, out, shard_rows=shard_rows)}
    if fmt == "audio":
        from synth.exporters.audio import export_audio
        return {"version": v, **export_audio(table, get, out)}
    from synth.exporters.tabular import export_tabular
    return {"version": v, **export_tabular(table, get, out, fmt, recipe=recipe, single_file=single_file,
                                                       **({"kinds": kinds} if kinds else {}))}
