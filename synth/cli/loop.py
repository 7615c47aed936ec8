"""CLI commands that close the loop: `synth gap` (how far synthetic data is from real data, and where)."""
from __future__ import annotations

import json

import click

from synth.cli.options import workspace_option


@click.command("gap")
@click.option("--synthetic", required=True, help="Version number or tag whose synthetic rows are compared.")
@click.option("--real", required=True, help="Version number or tag whose real rows are compared.")
@workspace_option
@click.option("--recipe", default=None, help="Only this recipe's synthetic rows.")
@click.option("--embeddings", default=None, type=click.Path(dir_okay=False),
              help="Your own vectors keyed by sample_id (.parquet, .npz or .npy) instead of synth's features.")
@click.option("--features", default=None, metavar="MODULE:FUNC",
              help="Your own feature function (module:function or file.py:function, one sample's data -> a vector).")
@click.option("--classifier", type=click.Choice(["logistic", "boosting"]), default="logistic", show_default=True,
              help="Classifier of the two-sample test.")
@click.option("--probe", type=click.Choice(["logistic", "svm", "boosting"]), default="logistic", show_default=True,
              help="The TSTR probe (trained on synthetic, scored on real).")
@click.option("--tstr", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Train on synthetic, test on real (auto: when both sides have class labels).")
@click.option("--bins", "n_bins", type=click.IntRange(2, 50), default=5, show_default=True,
              help="Quantile bins per numeric recipe param.")
@click.option("--min-support", type=click.IntRange(1), default=10, show_default=True,
              help="Fewest synthetic samples a param bin needs to be ranked.")
@click.option("--max-samples", type=click.IntRange(20), default=2000, show_default=True,
              help="Cap per side (a seeded random subset above it).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of folds, bootstrap and permutations.")
@click.option("--out", "-o", default=None, type=click.Path(file_okay=False),
              help="Write an HTML report (with PNG figures) into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def gap_cmd(synthetic: str, real: str, workspace: str | None, recipe: str | None, embeddings: str | None,
            features: str | None, classifier: str, probe: str, tstr: str, n_bins: int, min_support: int,
            max_samples: int, seed: int, out: str | None, as_json: bool) -> None:
    """Measure the sim-to-real gap: classifier two-sample AUC, MMD, per-feature KS, TSTR, and the recipe
    parameter bins whose synthetic samples look least real."""
    from synth.loop import format_report, gap
    from synth.store.workspace import Workspace

    report = gap(Workspace.open(workspace), _version(synthetic), _version(real), embeddings=embeddings,
                 recipe=recipe, classifier=classifier, tstr=tstr, n_bins=n_bins, min_support=min_support,
                 max_samples=max_samples, seed=seed, features=features, probe=probe)
    page = None
    if out:
        from synth.report.gap import write_html
        page = write_html(report, out)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "html": str(page) if page else None}, default=str))
        return
    click.echo(format_report(report))
    if page:
        click.echo(f"report: {page}")


def _version(text: str) -> int | str:
    return int(text) if text.isdigit() else text


COMMANDS = [gap_cmd]
