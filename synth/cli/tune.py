"""`synth tune`: search a recipe's `tune:` ranges against real data; write the best variant as a recipe."""
from __future__ import annotations

import click

from synth import api
from synth.cli.options import emit, output_options, workspace_option


SATURATED = 0.99  # a two-sample AUC this high on every trial: the search is blind


def _version(v: str | None) -> int | str | None:
    return int(v) if v is not None and v.isdigit() else v


@click.command("tune")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--real", required=True, help="Version or tag whose real rows the search scores against.")
@click.option("--metric", type=click.Choice(["c2st", "tstr"]), default="c2st", show_default=True,
              help="c2st: make the samples hard to tell from real ones (no labels needed); tstr: make a probe "
                   "trained on them accurate on the labeled real rows.")
@click.option("--classifier", type=click.Choice(["logistic", "boosting"]), default="logistic", show_default=True,
              help="The c2st classifier: boosting also sees non-linear differences (a table's joint shape).")
@click.option("--probe", type=click.Choice(["logistic", "svm", "boosting"]), default="logistic", show_default=True,
              help="The tstr probe: pick the one closest to your own model (svm for a kernel model or a network).")
@click.option("--features", default=None, metavar="MODULE:FUNC",
              help="Your own feature function (module:function or file.py:function, one sample's data -> a "
                   "vector) instead of synth's built-in features: score trials as your model sees them.")
@click.option("--trials", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--count-per-trial", type=click.IntRange(20, 1_000_000), default=200, show_default=True,
              help="Samples generated for each trial.")
@click.option("--holdout", default=None,
              help="Version or tag of labeled real rows the search never sees: the before/after figures.")
@click.option("--study", default=None, help="Study name (default: <recipe>-<metric>); rerun it to resume.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the search and of the scoring.")
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False),
              help="Where to write the tuned recipe (default: <recipe>_tuned.yaml beside the recipe).")
@click.option("--workers", "-j", type=click.IntRange(1), default=None, help="Worker processes per trial.")
@click.option("--executor", default="local", show_default=True, help="local, ray, or a registered executor.")
@click.option("--address", default=None, help="Ray cluster address for --executor ray.")
@workspace_option
@output_options
def tune_cmd(recipe: str, real: str, metric: str, classifier: str, probe: str, features: str | None, trials: int,
             count_per_trial: int, holdout: str | None,
             study: str | None, seed: int, out: str | None, workers: int | None, executor: str, address: str | None,
             workspace: str | None, as_json: bool, quiet: bool) -> None:
    """Search the distribution arguments RECIPE's `tune:` block opens (Optuna TPE, seeded, resumable; each
    trial a version tagged tune.<study>.<n>) for the data closest to the real rows of --real; write the best
    as a recipe that extends RECIPE."""
    def progress(t: object) -> None:
        if quiet or as_json:
            return
        if t.score is None:  # type: ignore[attr-defined]
            click.echo(f"trial {t.number}: failed, the search goes on", err=True)  # type: ignore[attr-defined]
        else:
            click.echo(f"trial {t.number}: {metric} {t.score:.4f}  ({t.seconds:.0f} s)")  # type: ignore[attr-defined]

    res = api.tune(recipe, workspace, real=_version(real), metric=metric, trials=trials,
                   count_per_trial=count_per_trial, holdout=_version(holdout), study=study, seed=seed, out=out,
                   workers=workers, executor=executor, executor_options={"address": address} if address else None,
                   on_trial=progress, classifier=classifier, features=features, probe=probe)
    emit(res.as_dict(), lambda: _summary(res), as_json, quiet)


def _summary(res: object) -> str:
    r = res.as_dict()  # type: ignore[attr-defined]
    best = r["best"]
    if best is None:
        return f"study {r['study']}: no trial finished; nothing written"
    lines = [f"study {r['study']} ({r['direction']} {r['metric']}): {len(r['trials'])} trials, best #{best['number']} "
             f"{best['score']:.4f}" + (f" (untuned {r['baseline']:.4f})" if r["baseline"] is not None else "")]
    if r["holdout"]:
        h = r["holdout"]
        before = f"{h['baseline']:.4f}" if h["baseline"] is not None else "-"
        rows = f"{h['rows']} " if h.get("rows") else ""
        lines.append(f"{rows}held-out real rows ({h['metric']}): untuned {before} -> best trial {h['best']:.4f}")
    if r["importances"]:
        top = list(r["importances"].items())
        lines.append("importance: " + ", ".join(f"{k} {v:.2f}" for k, v in top[:8])
                     + (f" (and {len(top) - 8} more: --json)" if len(top) > 8 else ""))
    for path, value in best["overrides"].items():
        lines.append(f"  {path.removeprefix('params.')}: {value}")
    ev = r.get("evidence")
    if ev:
        lines.append(f"on the {ev['rows']} real rows the best trial reads {ev['gained']} right that the untuned recipe "
                     f"misses and misses {ev['lost']} it reads right (sign test p={ev['p']:.2g}, the best of "
                     f"{len(r['trials'])} trials needs p < {ev['alpha']:.2g})")
    if r["recipe"]:
        lines.append(f"wrote {r['recipe']}")
    elif ev and not ev["significant"] and best["score"] > (r["baseline"] or 0):
        lines.append("the gain is within the noise of this many real rows: nothing written (label more real "
                     "rows, or check a candidate on --holdout)")
    else:
        lines.append("no trial beat the untuned recipe: nothing written (widen the tune: ranges or add trials)")
    if r["metric"] == "c2st" and best["score"] >= SATURATED and (r["baseline"] or 0) >= SATURATED:
        lines.append(f"every score is {SATURATED}+: the classifier tells every trial from the real rows, so the "
                     "search has nothing to follow; try --features (what your model sees), --metric tstr, or "
                     "wider ranges")
    return "\n".join(lines)


COMMANDS = [tune_cmd]
