"""`synth recipes` lists the example recipes synth ships; `synth init NAME` copies one to start from."""
from __future__ import annotations

import json
from pathlib import Path

import click

from synth.cli.options import emit, output_options


@click.command("recipes")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def recipes_command(as_json: bool) -> None:
    """List the example recipes shipped with synth (name, scene, count, description)."""
    from synth.recipe.examples import list_examples

    examples = list_examples()
    if as_json:
        click.echo(json.dumps(examples, indent=2))
        return
    for e in examples:
        if e["kind"] == "sweep":
            what = f"sweep of {e['based_on']}"
        else:
            what = e["scene"] or f"extends {e['based_on']}"
            what += f", {e['count']} samples" if e["count"] else ""
        click.echo(f"{e['name']:<18} {what:<32} {e['description'][:80]}")
    click.echo("copy one to start from: synth init NAME [--to FOLDER]")


@click.command("init")
@click.argument("name")
@click.option("--to", "dest", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to copy into (created if missing).")
@click.option("--overwrite", is_flag=True, help="Replace files of the same name in the folder.")
@output_options
def init_command(name: str, dest: str, overwrite: bool, as_json: bool, quiet: bool) -> None:
    """Copy the example recipe NAME (see `synth recipes`), with the recipes it builds on, into a folder."""
    from synth.recipe.examples import copy_example

    written = copy_example(name, Path(dest), overwrite)
    emit({"name": name, "files": [str(p) for p in written]},
         lambda: "\n".join(f"wrote {p}" for p in written) + f"\nnext: synth generate {written[0]} -n 16",
         as_json, quiet)


COMMANDS = [recipes_command, init_command]
