"""CLI commands for image datasets: `synth export --format coco|yolo|yolo-seg` and `synth preview`."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from .errors import SynthError

FORMATS = ("coco", "yolo", "yolo-seg")


def _ws_option(f: Any) -> Any:
    return click.option("--workspace", "-w", default=None, envvar="SYNTH_WORKSPACE",
                        help="Workspace folder or URL (default ./workspace, env SYNTH_WORKSPACE).")(f)


def _image_rows(table: Any, what: str) -> None:
    if table.num_rows == 0:
        raise SynthError(f"nothing to {what}: the version has no rows", field="--version")
    missing = [r["sample_id"] for r in table.select(["sample_id", "payloads"]).to_pylist()
               if "image" not in json.loads(r["payloads"] or "{}")]
    if missing:
        raise SynthError(f"cannot {what} {len(missing)} rows without an 'image' payload (e.g. {missing[0]}); "
                         "image exports need an image dataset", field="--version")


@click.command("export")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--format", "fmt", required=True,
              help=f"Output layout: {', '.join(FORMATS)} (yolo = detection boxes, yolo-seg = polygons).")
@click.option("--version", "version", default=None, help="Manifest version number or tag (default: latest).")
@_ws_option
def export_cmd(out: str, fmt: str, version: str | None, workspace: str | None) -> None:
    """Export a manifest version of an image dataset as COCO instances or a YOLO layout into OUT."""
    from . import api
    from .errors import did_you_mean
    from .exporters.coco import export_coco
    from .exporters.yolo import export_yolo
    if fmt not in FORMATS:
        raise SynthError(f"unknown export format '{fmt}'{did_you_mean(fmt, FORMATS)}; allowed: {', '.join(FORMATS)}",
                         field="--format")
    ws = api.open_workspace(workspace)
    table = ws.manifest.to_table(version=version)
    _image_rows(table, "export")
    if fmt == "coco":
        coco = export_coco(table, ws.store.get, out)
        click.echo(f"wrote {len(coco['images'])} images, {len(coco['annotations'])} annotations, "
                   f"{len(coco['categories'])} categories to {out}/annotations.json")
    else:
        res = export_yolo(table, ws.store.get, out, task="segment" if fmt == "yolo-seg" else "detect")
        click.echo(f"wrote {res['images']} images, {len(res['classes'])} classes to {out}/data.yaml")


@click.command("preview")
@click.argument("recipe", required=False, type=click.Path(dir_okay=False))
@click.option("-n", "count", type=click.IntRange(1, 256), default=16, show_default=True, help="Tiles.")
@click.option("-o", "out", type=click.Path(dir_okay=False), default="sheet.png", show_default=True)
@click.option("--columns", type=click.IntRange(1, 16), default=4, show_default=True)
@click.option("--tile", "tile", type=click.IntRange(64, 2048), default=320, show_default=True, help="Tile size in pixels.")
@click.option("--version", "version", default=None, help="Preview a manifest version (number or tag) instead of a recipe.")
@_ws_option
def preview_cmd(recipe: str | None, count: int, out: str, columns: int, tile: int, version: str | None,
                workspace: str | None) -> None:
    """Contact sheet of RECIPE's first N samples (or a manifest version's first N rows) with labels and
    the sampled params drawn on."""
    from . import api
    if recipe is None and version is None:
        raise SynthError("give a RECIPE to render, or --version V to preview a workspace version", field="preview")
    if recipe is not None and version is not None:
        raise SynthError("give either a RECIPE or --version, not both", field="preview")
    if recipe is not None:
        api.validate(recipe)  # bad recipes fail here, before any work
        with tempfile.TemporaryDirectory(prefix="synth-preview-") as tmp:
            res = api.generate(recipe, workspace=tmp, count=count, workers=1)
            n = _write_sheet(api.open_workspace(tmp), res.version, count, out, columns, tile)
    else:
        n = _write_sheet(api.open_workspace(workspace), version, count, out, columns, tile)
    click.echo(f"wrote {out} ({n} tiles)")


def _write_sheet(ws: Any, version: Any, count: int, out: str, columns: int, tile: int) -> int:
    import cv2

    from .preview import contact_sheet
    from .sample import decode_blob
    table = ws.manifest.to_table(version=version)
    table = table.sort_by("index").slice(0, count) if "index" in table.column_names else table.slice(0, count)
    _image_rows(table, "preview")
    tiles = []
    for r in table.select(["payloads", "labels", "params"]).to_pylist():
        pays = json.loads(r["payloads"])
        image = decode_blob("image", ws.store.get(pays["image"]["hash"]))
        mask = decode_blob("mask", ws.store.get(pays["mask"]["hash"])) if "mask" in pays else None
        tiles.append((image, json.loads(r["labels"] or "{}"), mask, json.loads(r["params"] or "{}")))
    sheet = contact_sheet(tiles, columns=min(columns, len(tiles)), tile=tile)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise SynthError(f"could not write {out}: use a .png or .jpg name", field="-o")
    return len(tiles)


COMMANDS = [export_cmd, preview_cmd]
