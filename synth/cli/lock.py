"""`synth lock RECIPE... [-n N]` records what recipes render to; `synth lock --check` says what changed."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from synth.cli.options import emit, output_options
from synth.errors import SynthError


@click.command("lock")
@click.argument("recipes", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--count", "-n", type=int, default=None,
              help="Samples per recipe (default: the locked count, or 32 for a new recipe).")
@click.option("--check", "check_only", is_flag=True,
              help="Render again and compare with the lock file; exit 1 naming each recipe that changed.")
@click.option("--lock", "lock_file", default="synth.lock", show_default=True, type=click.Path(dir_okay=False),
              help="The lock file; recipe paths in it are relative to its folder.")
@click.option("--workers", "-j", type=int, default=1, show_default=True, help="Worker processes per recipe.")
@click.option("--no-cache", is_flag=True,
              help="Render every recipe, even one whose recipe hash, count, libraries and code are cached.")
@output_options
def lock_command(recipes: tuple[str, ...], count: int | None, check_only: bool, lock_file: str, workers: int,
                 no_cache: bool, as_json: bool, quiet: bool) -> None:
    """Lock what RECIPEs render to (recipe hash, scene/task and library versions, count, fingerprint and
    each sample's params and payload hashes) in synth.lock, or check that they still do (--check).

    Rendered results are cached in .synth-cache/lock/ next to the lock file, keyed by recipe hash, count,
    library versions and synth's code, so an unchanged recipe is not rendered again."""
    from synth.engine.lock import CACHE_DIR, check, lock

    if workers < 1:
        raise SynthError("--workers must be at least 1", field="--workers")
    if count is not None and count < 1:
        raise SynthError("--count must be at least 1", field="--count")
    path = Path(lock_file)
    cache = None if no_cache else path.resolve().parent / CACHE_DIR
    if check_only:
        if count is not None:
            raise SynthError("--check renders the locked count; -n is for writing the lock", field="--count")
        outcomes = check(path, list(recipes), workers, cache)
    else:
        outcomes = lock(list(recipes), path, count, workers, cache)
    changed = [o for o in outcomes if o.status == "changed"]

    def text() -> str:
        lines = []
        for o in outcomes:
            how = "cached" if o.cached else "rendered"
            if o.status == "changed":
                lines.append(f"changed  {o.recipe}: " + "; ".join(o.reasons))
            else:
                lines.append(f"{o.status:<8} {o.recipe}  ({o.count} samples, {how}, fingerprint {o.fingerprint[:16]})"
                             + "".join(f"\n         note: {n} (same bytes)" for n in o.notes))
        if check_only:
            lines.append(f"{len(changed)} of {len(outcomes)} recipes changed" +
                         (f": if intended, `synth lock {' '.join(o.recipe for o in changed)}` records them"
                          if changed else ""))
        else:
            lines.append(f"wrote {path}")
        return "\n".join(lines)

    emit({"lock": str(path), "check": check_only, "changed": len(changed),
          "recipes": [o.as_dict() for o in outcomes]}, text, as_json, quiet and not changed)
    if changed:
        sys.exit(1)


COMMANDS = [lock_command]
