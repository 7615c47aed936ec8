"""CLI commands for sweeps and reports: `synth sweep SWEEP.yaml`, `synth sweep status`, `synth report`."""
from __future__ import annotations

import json
from typing import Any

import click

from synth.cli.options import workspace_option, emit, output_options

from synth.errors import SynthError


class _DefaultGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to a default subcommand:
    `synth sweep FILE` is `synth sweep run FILE`, `synth report 3` is `synth report card 3`."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@click.group("sweep", cls=_DefaultGroup, default="run")
def sweep_group() -> None:
    """Run a domain-randomization sweep (`synth sweep SWEEP.yaml`) or show its state (`synth sweep status`)."""


@sweep_group.command("run")
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@workspace_option
@click.option("--count", "-n", type=int, default=None, help="Samples per variant (overrides the sweep file).")
@click.option("--workers", "-j", type=int, default=None, help="Worker processes (default: CPU count).")
@click.option("--executor", default="local", show_default=True,
              help="Where shards render: local (processes on this machine), ray, or a registered executor.")
@click.option("--address", default=None, help="Ray cluster address (auto, ray://host:port) for --executor ray.")
@output_options
def run_cmd(sweep_file: str, workspace: str | None, count: int | None, workers: int | None, executor: str,
            address: str | None, as_json: bool, quiet: bool) -> None:
    """Generate every variant of SWEEP_FILE not yet in the workspace, each a version tagged <sweep>.<variant>.
    With --json: one JSON object per variant, as each finishes."""
    from synth import api
    from synth.data.sweep import VariantOutcome, run_sweep
    from synth.recipe.sweep import load_sweep

    if count is not None and count < 1:
        raise SynthError(f"--count must be a positive integer, got {count}", field="--count")
    if workers is not None and workers < 1:
        raise SynthError("--workers must be at least 1", field="--workers")
    sweep = load_sweep(sweep_file, count=count)
    for note in sweep.warnings:
        click.echo(f"warning: {sweep_file}: {note}", err=True)
    ws = api.open_workspace(workspace, create=True)

    def report(o: VariantOutcome) -> None:
        if as_json:
            click.echo(json.dumps({"tag": o.variant.tag, "version": o.version, "new_rows": o.new_rows,
                                   "skipped": o.skipped, "overrides": o.variant.overrides}))
            return
        if quiet:
            return
        what = f"done already (version {o.version})" if o.skipped else f"version {o.version}, {o.new_rows} new samples"
        click.echo(f"{o.variant.tag}  {_overrides(o.variant.overrides)}  {what}")

    options = {"address": address} if address else {}
    run_sweep(sweep, ws, workers=workers, executor=executor, executor_options=options, on_variant=report)


@sweep_group.command("status")
@click.argument("name", required=False)
@workspace_option
@click.option("--json", "as_json", is_flag=True)
def status_cmd(name: str | None, workspace: str | None, as_json: bool) -> None:
    """Table of every variant of the workspace's sweeps (or sweep NAME): state, version, rows, overrides."""
    from synth import api
    from synth.data.sweep import status

    rows = status(api.open_workspace(workspace), name)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    if not rows:
        click.echo("no sweeps in this workspace")
        return
    table = [[r["sweep"], r["variant"], r["state"], "-" if r["version"] is None else str(r["version"]),
              str(r["rows"]), _overrides(r["overrides"])] for r in rows]
    header = ["sweep", "variant", "state", "version", "rows", "overrides"]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    done = sum(r["state"] == "done" for r in rows)
    click.echo(f"{done}/{len(rows)} variants done")


def _overrides(overrides: dict[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in overrides.items())


@click.group("report", cls=_DefaultGroup, default="card")
def report_group() -> None:
    """Reports: `synth report [VERSION] -o DIR` writes the HTML dataset card; `synth report table` scores a
    synthetic table against the real one."""


@report_group.command("card")
@click.argument("version", required=False)
@click.option("-o", "--out", "out", type=click.Path(file_okay=False), default="report", show_default=True)
@workspace_option
@click.option("--samples", type=int, default=8, show_default=True, help="Tiles per scene contact sheet.")
@output_options
def report_cmd(version: str | None, out: str, workspace: str | None, samples: int, as_json: bool,
               quiet: bool) -> None:
    """Write a static HTML dataset card for VERSION (number or tag, default latest) to OUT/index.html."""
    from synth import api
    from synth.report.card import write_report

    if samples < 1:
        raise SynthError(f"--samples must be at least 1, got {samples}", field="--samples")
    path = write_report(api.open_workspace(workspace), version, out, samples=samples)
    emit({"report": str(path)}, f"wrote {path}", as_json, quiet)


def _table_report() -> None:
    # `synth report table` (synth.cli.table) lives in the same `report` group as the dataset card
    from synth.cli.table import report_table
    report_group.add_command(report_table)


_table_report()
COMMANDS = [sweep_group, report_group]
