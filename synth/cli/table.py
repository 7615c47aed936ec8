"""Table commands: `synth fit` (real table -> editable recipe), `synth report table` (quality and privacy of a
synthetic version against the real table and a holdout), `synth sample` (recipe -> file, no workspace)."""
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
@click.option("--holdout-fraction", default=0.0, show_default=True, type=float, metavar="F",
              help="Hold out this share of rows (seeded): they are not fitted, and are written beside the recipe "
                   "as <recipe>.holdout.csv|parquet for `synth report table --holdout`.")
@click.option("--privacy", is_flag=True, help="Every privacy option below at its default (clip 0.01, "
                                              "noise 0.05, min count 10, smoothing 0.3). Not differential privacy.")
@click.option("--clip-quantile", type=float, default=None, metavar="Q",
              help="Cut numeric and date ranges to the Q and 1-Q quantiles: extreme values are never drawn.")
@click.option("--correlation-noise", type=float, default=None, metavar="S",
              help="Add Gaussian noise of std S to each copula correlation (seeded).")
@click.option("--min-category-count", type=int, default=None, metavar="K",
              help="Merge text categories seen fewer than K times into 'other' (numeric ones are dropped).")
@click.option("--smoothing", type=float, default=None, metavar="S",
              help="Fit continuous columns on their values plus seeded Gaussian noise of S stds.")
@click.option("--tune", "tune", type=click.IntRange(0, 1000), default=0, show_default=True, metavar="K",
              help="Add a tune: block for `synth tune`: loc and scale of the K numeric marginals that fit worst.")
@output_options
def fit_command(real: str, output: str, name: str | None, rows_per_sample: int, target: str | None,
                max_rows: int, max_bytes: str | None, holdout_fraction: float, privacy: bool,
                clip_quantile: float | None, correlation_noise: float | None, min_category_count: int | None,
                smoothing: float | None, tune: int, as_json: bool, quiet: bool) -> None:
    """Fit marginals, copula correlation and missing rates of REAL (CSV or Parquet) into a table recipe.

    \b
    REAL is read once, in chunks, so memory stays bounded whatever its length:
    - row count, missing rates, numeric min/max and rounding, and category weights
      are exact, counted over every row;
    - marginals and the copula are fitted on a uniform sample of at most --max-rows
      rows, drawn with a fixed seed: the same file always gives the same recipe.
    Each column's dtype is recorded, so generated tables export with the real dtypes.
    CSV must be UTF-8 with unique column names; files over --max-bytes are refused.
    """
    from synth.tabular.fit import HoldoutWriter, holdout_path, privacy_settings, recipe_from_scan, scan_table, \
        write_recipe
    settings = privacy_settings(privacy, clip_quantile, correlation_noise, min_category_count, smoothing)
    writer = HoldoutWriter(holdout_path(output, real)) if holdout_fraction else None
    try:
        scan = scan_table(real, max_rows, max_bytes=max_bytes, holdout_fraction=holdout_fraction, holdout=writer)
        recipe = recipe_from_scan(scan, real, name=name, rows_per_sample=rows_per_sample, target=target,
                                  privacy=settings, tune=tune)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    write_recipe(recipe, output)
    cols = recipe["params"]["columns"]
    held = {"holdout": str(writer.path), "holdout_rows": writer.rows} if writer is not None else {}
    if as_json or quiet:
        emit({"recipe": output, "columns": cols, "correlated_pairs": len(recipe["params"]["correlation"]),
              "target": target, "rows": scan.rows, "sample_rows": len(scan.sample),
              "privacy": recipe["params"].get("privacy"), "tune": recipe.get("tune"), **held}, "", as_json, quiet)
        return
    sampled = f" (fitted on a sample of {len(scan.sample):,} of {scan.rows:,} rows)" if scan.sampled else ""
    click.echo(f"wrote {output}: {len(cols)} columns, {len(recipe['params']['correlation'])} correlated pairs"
               + (f", target {target}" if target else "") + sampled)
    if held:
        click.echo(f"held out {held['holdout_rows']:,} rows (not fitted): {held['holdout']}")
    if recipe["params"].get("privacy"):
        click.echo("privacy: " + ", ".join(f"{k} {v}" for k, v in recipe["params"]["privacy"].items()))
    for col, spec in cols.items():
        detail = spec.get("dist") or spec["type"]
        click.echo(f"  {col}: {spec['type']} ({detail})" + (f", missing {spec['missing']:.1%}" if "missing" in spec
                                                            else ""))


@click.group("report")
def report_group() -> None:
    """Quality reports."""


@report_group.command("table")
@click.option("--real", required=True, type=click.Path(dir_okay=False),
              help="The table the recipe was fitted on (CSV or Parquet); rows also in --holdout are left out.")
@click.option("--holdout", default=None, type=click.Path(dir_okay=False),
              help="Real rows the fit did not see (`synth fit --holdout-fraction` writes them): TSTR is scored "
                   "on them and privacy is measured against them.")
@workspace_option
@click.option("--version", "version", default=None, help="Version number or tag (default: latest).")
@click.option("--recipe", default=None, help="Only blocks of this recipe.")
@click.option("--synthetic", default=None, type=click.Path(dir_okay=False),
              help="Score this CSV/Parquet file instead of a workspace version.")
@click.option("--fitted", default=None, type=click.Path(dir_okay=False),
              help="With --synthetic: the recipe YAML that made it, for the privacy options it records.")
@click.option("--target", default=None, help="Column for train-synthetic/test-real vs train-real accuracy "
                                            "(default: the target the version's recipe declares).")
@click.option("--draws", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Disjoint parts of the synthetic table each model is trained on (mean and spread).")
@click.option("--dcr-threshold", default=0.9, show_default=True, type=float,
              help="Privacy pass: median DCR of synthetic rows / of holdout rows must be at least this.")
@click.option("--mia-threshold", default=0.6, show_default=True, type=float,
              help="Privacy pass: the membership classifier's AUC must be at most this.")
@click.option("-o", "--out", default="reports/table", show_default=True, help="Folder for report.json and PNGs.")
@output_options
def report_table(real: str, holdout: str | None, workspace: str | None, version: str | None, recipe: str | None,
                 synthetic: str | None, fitted: str | None, target: str | None, draws: int, dcr_threshold: float,
                 mia_threshold: float, out: str, as_json: bool, quiet: bool) -> None:
    """Column shapes, pair trends, train-synthetic/test-real by model family, and privacy (exact copies,
    distance to closest record against a holdout, NNDR, membership inference) of a synthetic table."""
    from synth.tabular.fit import read_table
    from synth.report.table import declared_privacy, quality_report
    from synth.data.tables import declared_target, load_table
    real_frame = read_table(real)
    holdout_frame = read_table(holdout) if holdout else None
    if holdout_frame is not None and list(holdout_frame.columns) != list(real_frame.columns):
        raise SynthError(f"the holdout's columns differ from --real's ({', '.join(map(str, real_frame.columns))})",
                         file=holdout, field="--holdout")
    synth = read_table(synthetic) if synthetic else load_table(workspace, _version(version), recipe)
    if target is None and not synthetic:
        target = declared_target(workspace, _version(version), recipe)
    if target is not None and target not in real_frame.columns:
        raise SynthError(f"target '{target}' is not a column of {real}", field="target")
    settings = _fitted_privacy(fitted) if synthetic else declared_privacy(workspace, _version(version), recipe)
    report = quality_report(real_frame, synth, target=target, out_dir=out, holdout=holdout_frame, draws=draws,
                            privacy_settings=settings, dcr_threshold=dcr_threshold, mia_threshold=mia_threshold)
    if as_json or quiet:  # the whole report, as report.json holds it
        emit(report, "", as_json, quiet)
        return
    click.echo(f"column shapes  {report['column_shapes']['score']:.3f}")
    if report["pair_trends"]["score"] is not None:
        click.echo(f"pair trends    {report['pair_trends']['score']:.3f}  (SDMetrics' ColumnPairTrends; "
                   f"{report['pair_trends_complete']['score']:.3f} on complete rows, real-decile bins)")
    if "ml_efficacy" in report:
        _echo_efficacy(report["ml_efficacy"])
    _echo_privacy(report["privacy"])
    click.echo(f"wrote {', '.join(report['files'])}")
    click.echo(json.dumps({k: report[k]["score"] for k in ("column_shapes", "pair_trends")}))


def _echo_efficacy(ml: dict) -> None:
    click.echo(f"{ml['metric']} on {ml['tested_on']} ({ml['test_rows']} rows), synthetic: mean ± std of "
               f"{ml['draws']} draws of {ml['synthetic_rows_per_draw']} rows")
    for family, m in ml["models"].items():
        click.echo(f"  {family:<9} train-real {m['train_real']:.3f}  train-synthetic {m['train_synthetic']:.3f} "
                   f"± {m['train_synthetic_std']:.3f}")


def _echo_privacy(p: dict) -> None:
    copies = p["exact_copies"]
    baseline = f" (holdout rows that repeat a training row: {copies['holdout_rate']:.1%})" \
        if "holdout_rate" in copies else ""
    click.echo("privacy (measured on this table; not differential privacy)")
    click.echo(f"  exact copies    {copies['rate']:.1%} of synthetic rows{baseline}")
    dcr = p["dcr"]
    if dcr["ratio"] is None:
        click.echo(f"  DCR             median {dcr['synthetic_median']:.3f} (Gower) to the real rows; "
                   f"{dcr['note']}")
    else:
        click.echo(f"  DCR ratio       {dcr['ratio']:.2f} = median synthetic→train {dcr['synthetic_median']:.3f} / "
                   f"holdout→train {dcr['holdout_median']:.3f}  {'pass' if dcr['passed'] else 'FAIL'} "
                   f"(>= {dcr['threshold']})")
        nndr = p["nndr"]
        click.echo(f"  NNDR            median {nndr['synthetic_median']:.2f} synthetic, "
                   f"{nndr['holdout_median']:.2f} holdout")
        m = p["membership"]
        click.echo(f"  membership AUC  {m['auc']:.2f} classifier, {m['distance_auc']:.2f} closest distance "
                   f"(0.5: cannot tell training rows from holdout rows)  {'pass' if m['passed'] else 'FAIL'} "
                   f"(<= {m['threshold']})")
    settings = {k: v for k, v in (p.get("settings") or {}).items() if k != "seed"}
    click.echo("  fit options     " + (", ".join(f"{k} {v}" for k, v in settings.items()) if settings
                                     else "none (synth fit --privacy was off)"))


def _fitted_privacy(path: str | None) -> dict | None:
    if path is None:
        return None
    from synth.recipe.yamlio import load
    data, _ = load(path)
    params = data.get("params") if isinstance(data, dict) else None
    return params.get("privacy") if isinstance(params, dict) else None


def _version(version: str | None) -> int | str | None:
    return int(version) if version is not None and version.isdigit() else version


@click.command("sample")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("-n", "--rows", required=True, type=click.IntRange(1, 100_000_000), help="Rows to write.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="out.csv or out.parquet.")
@click.option("--no-csv-escape", "no_csv_escape", is_flag=True,
              help="Write CSV cells starting with = + - @ tab or CR as they are (as `synth export`).")
@output_options
def sample_command(recipe: str, rows: int, output: str, no_csv_escape: bool, as_json: bool, quiet: bool) -> None:
    """Write ROWS rows of a table RECIPE straight to a CSV or Parquet file, with no workspace.

    \b
    The rows are the first ROWS of what `synth generate RECIPE -n BLOCKS` and
    `synth export OUT --single-file` write (BLOCKS = ROWS / rows_per_sample,
    rounded up): same seeds, same bytes for a whole number of blocks.
    """
    from synth.exporters.tabular import sample_file
    res = sample_file(recipe, rows, output, csv_escape=not no_csv_escape)
    emit(res, f"wrote {output}: {res['rows']:,} rows, {res['columns']} columns of {res['recipe']} "
              f"({res['blocks']} blocks)", as_json, quiet)


COMMANDS = [fit_command, report_group, sample_command]
REPORT_COMMANDS = [report_table]  # for a `report` group the lead may already own
