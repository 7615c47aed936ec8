"""Export any version in any format, always with the labels current at that version."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SynthError
from ..workspace import Workspace
from .blobs import blob_getter
from .lineage import current_table

FORMATS = ("coco", "yolo", "yolo-seg", "hf", "webdataset", "csv", "jsonl", "audio")


def export_version(ws: Workspace, fmt: str, out: str | Path, version: int | str | None = None,
                   shard_rows: int = 1000) -> dict[str, Any]:
    if fmt not in FORMATS:
        from ..errors import did_you_mean
        raise SynthError(f"unknown export format '{fmt}'{did_you_mean(fmt, FORMATS)}; allowed: {', '.join(FORMATS)}",
                         field="--format")
    v = ws.manifest.resolve(version)
    table = current_table(ws, v)
    if fmt in ("coco", "yolo", "yolo-seg"):
        from ..cli_images import _image_rows
        _image_rows(table, "export")
    get = blob_getter(ws, table)
    if fmt == "coco":
        from ..exporters.coco import export_coco
        coco = export_coco(table, get, out)
        return {"version": v, "images": len(coco["images"]), "annotations": len(coco["annotations"])}
    if fmt in ("yolo", "yolo-seg"):
        from ..exporters.yolo import export_yolo
        res = export_yolo(table, get, out, task="segment" if fmt == "yolo-seg" else "detect")
        return {"version": v, **res}
    if fmt == "hf":
        from ..exporters.hf import export_hf
        return {"version": v, **export_hf(table, get, out, shard_rows=shard_rows,
                                          version_note=f" from version {v} ({ws.manifest.fingerprint(v)[:16]})")}
    if fmt == "webdataset":
        from ..exporters.webdataset import export_webdataset
        return {"version": v, **export_webdataset(table, get, out, shard_rows=shard_rows)}
    if fmt == "audio":
        from ..exporters.audio import export_audio
        return {"version": v, **export_audio(table, get, out)}
    from ..exporters.tabular import export_tabular
    return {"version": v, **export_tabular(table, out, fmt)}
