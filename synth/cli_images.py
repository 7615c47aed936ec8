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
@click.option("--format", "fmt", type=click.Choice(["coco", "yolo", "yolo-seg", "hf", "webdataset", "csv", "jsonl",
                                                    "audio"]), required=True)
@click.option("--version", "version", default=None, help="Version number or tag (default: latest).")
@click.option("--shard-rows", type=int, default=1000, show_default=True, help="Rows per hf/webdataset shard.")
@click.option("--workspace", "-w", default=None, envvar="SYNTH_WORKSPACE",
              help="Workspace folder or URL (default ./workspace, env SYNTH_WORKSPACE).")
def export_cmd(out: str, fmt: str, version: str | None, shard_rows: int, workspace: str | None) -> None:
    """Export a version (labels as current at that version): COCO, YOLO, Hugging Face Parquet + card,
    WebDataset tar shards, CSV/JSONL (tables, text) or an audio folder with metadata.csv."""
    from . import api
    from .data.export import export_version
    res = export_version(api.open_workspace(workspace), fmt, out, version, shard_rows=shard_rows)
    click.echo(f"wrote {fmt} export of version {res.pop('version')} to {out}: {json.dumps(res)[:200]}")


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
