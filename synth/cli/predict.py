"""CLI commands for model predictions: `synth predictions import|list` and `synth slices` (where a model fails)."""
from __future__ import annotations

import json
from typing import Any

import click

from synth.cli.options import emit, output_options, workspace_option


def _ws(workspace: str | None) -> Any:
    from synth.store.workspace import Workspace
    return Workspace.open(workspace)


def _version(text: str | None) -> int | str | None:
    return int(text) if text is not None and text.isdigit() else text


@click.group("predictions")
def predictions_group() -> None:
    """Model predictions as versioned data, keyed by sample id."""


@predictions_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--model", required=True, help="Name of the model (letters, digits, '_', '-', '.').")
@click.option("--version", "version", default=None, help="Version or tag whose sample ids the file uses "
              "(default: latest).")
@click.option("--replace", is_flag=True, help="Replace this model's predictions for that version.")
@workspace_option
@output_options
def import_cmd(file: str, model: str, version: str | None, replace: bool, workspace: str | None, as_json: bool,
               quiet: bool) -> None:
    """Import predictions (CSV, Parquet or JSONL: sample_id, prediction, optional prob_<class>, boxes,
    embedding) as a new version. Files over 2 GiB are refused (SYNTH_MAX_PREDICTIONS_BYTES raises it)."""
    from synth.data.predictions import import_predictions

    res = import_predictions(_ws(workspace), file, model, version=_version(version), replace=replace)
    unknown = f", {res['unknown']} unknown sample ids left out" if res["unknown"] else ""
    emit(res, f"version {res['version']}: {'replaced' if res['replaced'] else 'imported'} {res['rows']} predictions "
         f"of {model} for version {res['for_version']}{unknown}", as_json, quiet)


@predictions_group.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def list_cmd(workspace: str | None, as_json: bool) -> None:
    """List imported predictions: model, the version their ids refer to, rows, classes."""
    from synth.data.predictions import list_predictions

    records = list_predictions(_ws(workspace))

    def text() -> str:
        if not records:
            return "no predictions imported"
        return "\n".join(f"{r['model']:<24} for v{r['for_version']:<5} imported in v{r['version']:<5} "
                         f"{r['rows']:>7} rows  classes: {', '.join(r['classes']) or '-'}" for r in records)
    emit(records, text, as_json, False)


@click.command("slices")
@click.option("--predictions", "model", required=True, help="Model whose predictions are sliced.")
@click.option("--version", "version", default=None, help="Version or tag (default: latest).")
@click.option("--by", default=None, help="Only these params/columns, comma-separated (e.g. size,split).")
@click.option("--min-support", type=click.IntRange(1), default=20, show_default=True,
              help="Fewest samples a slice needs to be ranked.")
@click.option("--bins", "n_bins", type=click.IntRange(2, 50), default=5, show_default=True,
              help="Quantile bins per numeric recipe param.")
@click.option("--no-pairs", is_flag=True, help="Leave out pairs of slices.")
@click.option("--metric", type=click.Choice(["error", "accuracy", "wer", "map50"]), default="error", show_default=True,
              help="Class error or accuracy (labels.class), word error rate (labels.transcript), mAP@0.5 of boxes "
                   "(labels.objects).")
@click.option("--top", type=click.IntRange(1), default=20, show_default=True, help="Rows of the table.")
@click.option("--tag", default=None, help="Save the worst slice as slices/NAME.json and tag the version NAME.")
@click.option("--output", "-o", "out", default=None, type=click.Path(file_okay=False),
              help="Write an HTML report (forest plot, a curve per param, the table) into this folder.")
@workspace_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the slices as a JSON list, worst first.")
def slices_cmd(model: str, version: str | None, by: str | None, min_support: int, n_bins: int, no_pairs: bool,
               metric: str, top: int, tag: str | None, out: str | None, workspace: str | None, as_json: bool, quiet: bool) -> None:
    """Rank recipe-parameter, metadata and label bins by error lift over the overall error rate (or by
    accuracy, word error rate or mAP@0.5 with --metric)."""
    from synth.core.names import check_name
    from synth.loop.slices import format_slices, public, record_slice, slice_report

    if tag:
        check_name(tag, "--tag")  # refused before any work
    ws = _ws(workspace)
    columns = [c.strip() for c in by.split(",") if c.strip()] if by else None
    report, context = slice_report(ws, model, _version(version), by=columns, min_support=min_support,
                                   pairs=not no_pairs, metric=metric, n_bins=n_bins)
    saved = record_slice(ws, tag, report, context, min_support) if tag else None
    found = public(report)
    page = None
    if out:
        from synth.report.slices import write_html
        page = write_html(found, context, out)
    if as_json:
        click.echo(json.dumps(found, default=str))
        return
    if quiet:
        return
    click.echo(format_slices(found, top))
    if page:
        click.echo(f"report: {page}")
    if saved:
        click.echo(f"saved the worst slice ({len(saved['sample_ids'])} samples) as slices/{tag}.json; "
                   f"tagged version {saved['version']} as {tag}")


COMMANDS = [predictions_group, slices_cmd]
