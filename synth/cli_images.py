"""CLI commands for image datasets: `synth export --format coco|yolo` and `synth preview`."""
from __future__ import annotations

import json
from pathlib import Path

import click
import cv2
import numpy as np

from .errors import SynthError


@click.command("export")
@click.argument("out", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["coco", "yolo", "yolo-seg"]), required=True)
@click.option("--version", "version", type=int, default=None, help="Manifest version (default: latest).")
@click.option("--workspace", "-w", default=".", show_default=True)
def export_cmd(out: str, fmt: str, version: int | None, workspace: str) -> None:
    """Export a manifest version as COCO instances or a YOLO layout."""
    from . import api
    from .exporters.coco import export_coco
    from .exporters.yolo import export_yolo
    ws = api.open_workspace(workspace)
    table = ws.manifest.to_table(version=version)
    if fmt == "coco":
        coco = export_coco(table, ws.store.get, out)
        click.echo(f"wrote {len(coco['images'])} images, {len(coco['annotations'])} annotations to {out}")
    else:
        res = export_yolo(table, ws.store.get, out, task="segment" if fmt == "yolo-seg" else "detect")
        click.echo(f"wrote {res['images']} images, {len(res['classes'])} classes to {out}")


@click.command("preview")
@click.argument("recipe", required=False, type=click.Path())
@click.option("-n", "count", type=int, default=16, show_default=True)
@click.option("-o", "out", type=click.Path(), default="sheet.png", show_default=True)
@click.option("--version", "version", type=int, default=None, help="Preview a manifest version instead of a recipe.")
@click.option("--workspace", "-w", default=".", show_default=True)
def preview_cmd(recipe: str | None, count: int, out: str, version: int | None, workspace: str) -> None:
    """Render a contact sheet with labels and sampled params drawn on."""
    from . import api
    from .preview import contact_sheet
    from .sample import decode_blob
    if recipe is None and version is None:
        raise SynthError("give a RECIPE or --version V", field="preview")
    if recipe is not None:
        import tempfile
        workspace = tempfile.mkdtemp(prefix="synth-preview-")
        version = api.generate(recipe, workspace=workspace, count=count, workers=1).version
    ws = api.open_workspace(workspace)
    tiles = []
    for r in ws.manifest.to_table(version=version).slice(0, count).to_pylist():
        pays = json.loads(r["payloads"])
        image = decode_blob("image", ws.store.get(pays["image"]["hash"]))
        mask = decode_blob("mask", ws.store.get(pays["mask"]["hash"])) if "mask" in pays else None
        tiles.append((image, json.loads(r["labels"]), mask, json.loads(r["params"])))
    if not tiles:
        raise SynthError("nothing to preview: the version has no rows", field="preview")
    sheet = contact_sheet(tiles)
    cv2.imwrite(str(Path(out)), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    click.echo(f"wrote {out} ({len(tiles)} tiles)")


COMMANDS = [export_cmd, preview_cmd]
