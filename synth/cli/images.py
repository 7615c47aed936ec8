"""`synth preview`: a contact sheet of a recipe's first samples or a version's first rows."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from synth.cli.options import emit, output_options
from synth.cli.options import workspace_option as _ws_option

from synth.errors import SynthError
from synth.exporters.records import require_images

FORMATS = ("coco", "yolo", "yolo-seg")




@click.command("preview")
@click.argument("recipe", required=False, type=click.Path(dir_okay=False))
@click.option("-n", "count", type=click.IntRange(1, 256), default=16, show_default=True, help="Tiles.")
@click.option("-o", "out", type=click.Path(dir_okay=False), default="sheet.png", show_default=True)
@click.option("--columns", type=click.IntRange(1, 16), default=4, show_default=True)
@click.option("--tile", "tile", type=click.IntRange(64, 2048), default=320, show_default=True, help="Tile size in pixels.")
@click.option("--version", "version", default=None, help="Preview a manifest version (number or tag) instead of a recipe.")
@_ws_option
@output_options
def preview_cmd(recipe: str | None, count: int, out: str, columns: int, tile: int, version: str | None,
                workspace: str | None, as_json: bool, quiet: bool) -> None:
    """Contact sheet of RECIPE's first N samples (or a manifest version's first N rows) with labels and
    the sampled params drawn on."""
    from synth import api
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
    emit({"sheet": out, "tiles": n}, f"wrote {out} ({n} tiles)", as_json, quiet)


def _write_sheet(ws: Any, version: Any, count: int, out: str, columns: int, tile: int) -> int:
    import cv2

    from synth.report.preview import contact_sheet
    from synth.core.sample import decode_blob
    table = ws.manifest.to_table(version=version)
    table = table.sort_by("index").slice(0, count) if "index" in table.column_names else table.slice(0, count)
    require_images(table, "preview")
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


COMMANDS = [preview_cmd]
