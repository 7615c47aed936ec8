"""`synth preview`: a contact sheet of a recipe's first samples or a version's first rows."""
from __future__ import annotations

import click

from synth.cli.options import emit, output_options
from synth.cli.options import workspace_option as _ws_option

from synth.errors import SynthError

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
    n = api.preview(recipe, out, count=count, columns=columns, tile=tile, version=version,
                    workspace=workspace if recipe is None else None)
    emit({"sheet": out, "tiles": n}, f"wrote {out} ({n} tiles)", as_json, quiet)


COMMANDS = [preview_cmd]
