"""CLI commands for text datasets: `synth export-text` writes utterances as JSONL/Parquet."""
from __future__ import annotations

import click

from .exporters.text import export_workspace


@click.command("export-text")
@click.argument("workspace", type=click.Path(file_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--version", "version", default=None, help="Manifest version number or tag (default: latest).")
@click.option("--format", "formats", type=click.Choice(["jsonl", "parquet"]), multiple=True,
              default=("jsonl", "parquet"), show_default=True, help="Repeat for several formats.")
def export_text(workspace: str, out_dir: str, version: str | None, formats: tuple[str, ...]) -> None:
    """Export utterance rows (intent, text, entity spans) to OUT_DIR/<split>.jsonl|.parquet,
    loadable with datasets.load_dataset("parquet", data_files={"train": "OUT_DIR/train.parquet", ...})."""
    ver: int | str | None = int(version) if version is not None and version.isdigit() else version
    for path in export_workspace(workspace, out_dir, ver, tuple(formats)):
        click.echo(str(path))


COMMANDS = [export_text]
