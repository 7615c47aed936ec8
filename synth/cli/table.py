"""Table commands: `synth fit` (real table -> editable recipe), `synth report table` (quality of a synthetic
version against the real table)."""
from __future__ import annotations

import json

import click

from synth.cli.options import emit, output_options, workspace_option

from synth.errors import SynthError


@click.command("fit")
@click.argument("real", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Recipe YAML to write.")
@click.option("--name", default=None, help="Recipe name (default: <file>_twin).")
@click.option("--rows-per-sample", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Rows in each generated block.")
@click.option("--target", default=None, help="Column the recipe declares as the target (labels and report use it).")
@click.option("--max-rows", default=200_000, show_default=True, type=click.IntRange(2, None),  # MAX_SAMPLE_ROWS
              help="Rows of the seeded uniform sample that marginals and the copula are fitted on.")
@click.option("--max-bytes", default=None, metavar="SIZE",
              help="Refuse a larger input file, e.g. 500M or 20G (default 10G, env SYNTH_MAX_TABLE_BYTES).")
@output_options
def fit_command(real: str, output: str, name: str | None, rows_per_sample: int, target: str | None,
                max_rows: int, max_bytes: str | None, as_json: bool, quiet: bool) -> None:
    """Fit marginals, copula correlation and missing rates of REAL (CSV or Parquet) into a table recipe.

    \b
    REAL is read once, in chunks, so memory stays bounded whatever its length:
    - row count, missing rates, numeric min/max and rounding, and category weights
      are exact, counted over every row;
    - marginals and the copula are fitted on a uniform sample of at most --max-rows
      rows, drawn with a fixed seed: the same file always gives the same recipe.
    CSV must be UTF-8 with unique column names; files over --max-bytes are refused.
    """
    from synth.tabular.fit import recipe_from_scan, scan_table, write_recipe
    scan = scan_table(real, max_rows, max_bytes=max_bytes)
    recipe = recipe_from_scan(scan, real, name=name, rows_per_sample=rows_per_sample, target=target)
    write_recipe(recipe, output)
    cols = recipe["params"]["columns"]
    if as_json or quiet:
        emit({"recipe": output, "columns": cols, "correlated_pairs": len(recipe["params"]["correlation"]),
              "target": target, "rows": scan.rows, "sample_rows": len(scan.sample)}, "", as_json, quiet)
        return
    sampled = f" (fitted on a sample of {len(scan.sample):,} of {scan.rows:,} rows)" if scan.sampled else ""
    click.echo(f"wrote {output}: {len(cols)} columns, {len(recipe['params']['correlation'])} correlated pairs"
               + (f", target {target}" if target else "") + sampled)
    for col, spec in cols.items():
        detail = spec.get("dist") or spec["type"]
        click.echo(f"  {col}: {spec['type']} ({detail})" + (f", missing {spec['missing']:.1%}" if "missing" in spec
                                                            else ""))


@click.group("report")
def report_group() -> None:
    """Quality reports."""


@report_group.command("table")
@click.option("--real", required=True, type=click.Path(dir_okay=False), help="The real table (CSV or Parquet).")
@workspace_option
@click.option("--version", "version", default=None, help="Version number or tag (default: latest).")
@click.option("--recipe", default=None, help="Only blocks of this recipe.")
@click.option("--synthetic", default=None, type=click.Path(dir_okay=False),
              help="Score this CSV/Parquet file instead of a workspace version.")
@click.option("--target", default=None, help="Column for train-synthetic/test-real vs train-real accuracy "
                                            "(default: the target the version's recipe declares).")
@click.option("-o", "--out", default="reports/table", show_default=True, help="Folder for report.json and PNGs.")
def report_table(real: str, workspace: str | None, version: str | None, recipe: str | None,
                 synthetic: str | None, target: str | None, out: str) -> None:
    """Column-shape, pair-trend and ML-efficacy scores of a synthetic table against the real one."""
    from synth.tabular.fit import read_table
    from synth.report.table import quality_report
    from synth.data.tables import declared_target, load_table
    real_frame = read_table(real)
    synth = read_table(synthetic) if synthetic else load_table(workspace, _version(version), recipe)
    if target is None and not synthetic:
        target = declared_target(workspace, _version(version), recipe)
    if target is not None and target not in real_frame.columns:
        raise SynthError(f"target '{target}' is not a column of {real}", field="target")
    report = quality_report(real_frame, synth, target=target, out_dir=out)
    click.echo(f"column shapes  {report['column_shapes']['score']:.3f}")
    if report["pair_trends"]["score"] is not None:
        click.echo(f"pair trends    {report['pair_trends']['score']:.3f}")
    if "ml_efficacy" in report:
        ml = report["ml_efficacy"]
        click.echo(f"{ml['metric']}: train-real {ml['train_real']:.3f}  train-synthetic {ml['train_synthetic']:.3f}")
    click.echo(f"wrote {', '.join(report['files'])}")
    click.echo(json.dumps({k: report[k]["score"] for k in ("column_shapes", "pair_trends")}))


def _version(version: str | None) -> int | str | None:
    return int(version) if version is not None and version.isdigit() else version


COMMANDS = [fit_command, report_group]
REPORT_COMMANDS = [report_table]  # for a `report` group the lead may already own
