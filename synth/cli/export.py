"""`synth export`: any version in any client format. `export-table` and `export-text` are hidden,
deprecated spellings of `export --format csv|parquet|jsonl`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from synth import api
from synth.cli.options import emit, output_options, workspace_option
from synth.errors import SynthError

FORMAT_HELP = ("coco, yolo (boxes), yolo-seg (polygons), hf (Parquet + card), webdataset (tar shards), "
               "csv / parquet / jsonl (tables, text, and one row per sample for the rest), audio (clips + "
               "metadata.csv); OCR words: coco-text, icdar2015, paddleocr (det + rec), doctr, ocr-crops (word crops + "
               "labels.txt), sroie (key fields: company, date, address, total).")


def _listed(values: list[Any], most: int = 12) -> str:
    shown = ", ".join(str(v) for v in values[:most])
    return shown + (f", ... ({len(values)} in all)" if len(values) > most else "") if values else "none"


def _summary(fmt: str, out: str, res: dict[str, Any]) -> str:
    """One line a person reads; `--json` prints `res` whole."""
    parts = []
    for k, v in res.items():
        if k in ("version", "files") or isinstance(v, dict):
            continue
        parts.append(f"{k.replace('_', ' ')} {_listed(v) if isinstance(v, (list, tuple)) else v}")
    for k in ("splits", "shards"):
        if isinstance(res.get(k), dict):
            counts = {s: len(n) if isinstance(n, list) else n for s, n in res[k].items()}
            parts.append(f"{k} " + ", ".join(f"{s}={n}" for s, n in counts.items()))
    rest = "; ".join(parts)
    return f"wrote {fmt} export of version {res['version']} to {out}" + (f": {rest}" if rest else "")


@click.command("export")
@click.argument("out", type=click.Path())
@click.option("--format", "fmt", required=True, help=FORMAT_HELP)
@click.option("--version", "version", default=None, help="Version number or tag (default: latest).")
@click.option("--shard-rows", type=click.IntRange(1, 10_000_000), default=1000, show_default=True,
              help="Most rows per hf/webdataset shard (webdataset also makes at least 4 shards per split, "
                   "fewer only for a split with fewer rows, so DataLoader workers each get one).")
@click.option("--recipe", default=None, help="csv/parquet/jsonl: only rows of this recipe.")
@click.option("--single-file", is_flag=True,
              help="csv/parquet/jsonl: every split into the one file OUT (e.g. out.csv), not OUT/<split>.<format>.")
@click.option("--overwrite", is_flag=True,
              help="Replace OUT even if it is not an earlier synth export (its files are deleted). Without it, "
                   "OUT must be missing, empty or an earlier synth export.")
@click.option("--no-csv-escape", "no_csv_escape", is_flag=True,
              help="Write CSV cells starting with = + - @ tab or CR as they are (by default they are prefixed "
                   "with ' so spreadsheets do not run them as formulas; numbers are never escaped).")
@workspace_option
@output_options
def export_cmd(out: str, fmt: str, version: str | None, shard_rows: int, recipe: str | None, single_file: bool,
               overwrite: bool, no_csv_escape: bool, workspace: str | None, as_json: bool, quiet: bool) -> None:
    """Export a version (labels as current at that version) to OUT: COCO, YOLO, Hugging Face Parquet + card,
    WebDataset tar shards, CSV/Parquet/JSONL (generated tables as their own columns, utterances as
    text + entity spans, other samples one row each), an audio folder with metadata.csv, or OCR word labels
    (COCO-Text, ICDAR 2015, PaddleOCR, docTR, word crops, SROIE key fields)."""
    res = api.export(out, fmt, workspace, version=version, shard_rows=shard_rows, recipe=recipe,
                     single_file=single_file, overwrite=overwrite, csv_escape=not no_csv_escape)
    emit(res, lambda: _summary(fmt, out, res), as_json, quiet)


@click.command("export-table", hidden=True)
@workspace_option
@click.option("--version", "version", default=None)
@click.option("--recipe", default=None)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@output_options
def export_table(workspace: str | None, version: str | None, recipe: str | None, output: str, as_json: bool,
                 quiet: bool) -> None:
    """Deprecated: `synth export OUT.csv --format csv --single-file`."""
    fmt = Path(output).suffix.lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise SynthError(f"output must end in .csv or .parquet, got {output}", field="--output")
    res = api.export(output, fmt, workspace, version=version, recipe=recipe, single_file=True, kinds=("table",))
    emit(res, lambda: f"wrote {output}: {sum(res['splits'].values())} rows x {res['columns']} columns", as_json, quiet)
    click.echo(f"note: export-table is deprecated; use `synth export {output} --format {fmt} --single-file`", err=True)


@click.command("export-text", hidden=True)
@click.argument("workspace", type=click.Path(file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--version", "version", default=None)
@click.option("--format", "formats", type=click.Choice(["jsonl", "parquet"]), multiple=True,
              default=("jsonl", "parquet"), show_default=True)
@output_options
def export_text(workspace: str, out_dir: str, version: str | None, formats: tuple[str, ...], as_json: bool,
                quiet: bool) -> None:
    """Deprecated: `synth export OUT --format jsonl` (or parquet)."""
    res = api.export(out_dir, tuple(dict.fromkeys(formats)), workspace, version=version, kinds=("utterances",))
    files = res["files"]
    emit({"files": files}, lambda: "\n".join(files), as_json, quiet)
    click.echo(f"note: export-text is deprecated; use `synth export {out_dir} --format {formats[0]} -w {workspace}`",
               err=True)


COMMANDS = [export_cmd, export_table, export_text]
