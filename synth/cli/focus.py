"""CLI command `synth focus`: a recipe variant that draws the failing slices of a slices report more often."""
from __future__ import annotations

from typing import Any

import click

from synth.cli.options import emit, output_options


@click.command("focus")
@click.argument("recipe", type=click.Path(exists=True, dir_okay=False))
@click.option("--slices", "slices", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Slices report (JSON list, worst first) of {column, bin, kind, support, error_rate, lift}.")
@click.option("--share", default=0.5, show_default=True, type=float,
              help="Probability moved onto each failing bin or value (0 < share < 1).")
@click.option("--top", default=3, show_default=True, type=int, help="How many of the worst usable slices to focus on.")
@click.option("--output", "-o", "out", default=None, help="Path of the variant (default <recipe>_focus.yaml beside it).")
@click.option("--report-dir", default=None, help="Write before/after histograms (PNG) of each changed param here.")
@click.option("--seed", default=None, type=click.IntRange(0, 2**63 - 1),
              help="Seed of the variant (default: derived from RECIPE's seed and the changes, so its samples "
                   "are new draws, not replays of the original's).")
@output_options
def focus_cmd(recipe: str, slices: str, share: float, top: int, out: str | None, report_dir: str | None,
              seed: int | None, as_json: bool, quiet: bool) -> None:
    """Write a recipe variant (extends RECIPE) that draws the failing slices more often."""
    from synth.loop.focus import focus

    res = focus(recipe, slices, share=share, top=top, out=out, report_dir=report_dir,
                seed=seed)
    emit(res, lambda: _text(res), as_json, quiet)


def _text(res: dict[str, Any]) -> str:
    lines = [f"wrote {res['recipe']}: {len(res['changes'])} param(s) focused, seed {res['seed']}"]
    lines += [f"  {c['param']} bin {c['bin']}: {c['before']} -> {c['after']}" for c in res["changes"]]
    lines += [f"  skipped {s['column']}: {s['reason']}" for s in res["skipped"]]
    lines += [f"  histogram {h}" for h in res.get("histograms", [])]
    return "\n".join(lines)


COMMANDS = [focus_cmd]
