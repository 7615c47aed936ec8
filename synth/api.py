"""The Python API: the same verbs as the CLI (`synth validate`, `synth generate`, ...)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from typing import TYPE_CHECKING

from synth.recipe import Recipe, RecipeModel, load_recipe

if TYPE_CHECKING:  # heavy modules (Lance, DuckDB) load on first use, so `synth validate` starts fast
    import pyarrow as pa

    from synth.engine.generate import GenerateResult
    from synth.store.manifest import VersionInfo
    from synth.store.workspace import Workspace


def _ws(workspace: str | Workspace | None, create: bool = False) -> Workspace:
    from synth.store.workspace import Workspace
    return workspace if isinstance(workspace, Workspace) else Workspace.open(workspace, create=create)


def validate(path: str | Path, overrides: dict[str, Any] | None = None) -> Recipe:
    return load_recipe(path, overrides)


def open_workspace(root: str | None = None, *, create: bool = False,
                   storage_options: dict[str, Any] | None = None) -> Workspace:
    from synth.store.workspace import Workspace
    return Workspace.open(root, create=create, storage_options=storage_options)


def generate(recipe: str | Path | Recipe, workspace: str | Workspace | None = None, *, count: int | None = None,
             workers: int | None = None, message: str | None = None, executor: str = "local",
             progress: Callable[[int, int], None] | None = None,
             storage_options: dict[str, Any] | None = None,
             executor_options: dict[str, Any] | None = None) -> GenerateResult:
    from synth.engine.generate import generate as _generate
    from synth.store.workspace import Workspace

    r = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    if count is not None:
        r = r.with_count(count)
    ws = workspace if isinstance(workspace, Workspace) else \
        Workspace.open(workspace, create=True, storage_options=storage_options)
    return _generate(r, ws, workers=workers, message=message, executor=executor, progress=progress,
                     executor_options=executor_options)


def log(workspace: str | Workspace | None = None) -> list[VersionInfo]:
    return _ws(workspace).manifest.versions()


def query(sql: str, workspace: str | Workspace | None = None, version: int | str | None = None) -> pa.Table:
    """DuckDB SQL over the manifest, which is visible as the table `manifest`."""
    import duckdb

    manifest = _ws(workspace).manifest.dataset(version)
    con = duckdb.connect()
    con.register("manifest", manifest.to_table())
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        from synth.errors import SynthError
        raise SynthError(f"query failed: {str(exc).splitlines()[0]}", field="SQL") from None
    finally:
        con.close()


def show(workspace: str | Workspace | None = None, version: int | str | None = None) -> dict[str, Any]:
    """Summary of a version: rows, classes, splits, origins and the range of every sampled param."""
    import duckdb

    ws = _ws(workspace)
    v = ws.manifest.resolve(version)
    table = ws.manifest.to_table(v, columns=["split", "origin", "scene", "recipe_name", "params", "labels"])
    info = ws.manifest.version_info(v)
    con = duckdb.connect()
    con.register("m", table)
    splits = dict(con.execute("select split, count(*) from m group by 1 order by 1").fetchall())
    origins = dict(con.execute("select origin, count(*) from m group by 1 order by 1").fetchall())
    recipes = dict(con.execute("select coalesce(recipe_name, '-'), count(*) from m group by 1 order by 1").fetchall())
    classes = _classes(con)
    con.close()
    return {"version": v, "message": info.message, "fingerprint": info.fingerprint, "rows": table.num_rows,
            "parents": info.parents, "tags": info.tags, "splits": splits, "origins": origins, "recipes": recipes,
            "classes": classes, "params": _param_ranges(table.column("params").to_pylist())}


def _classes(con: Any) -> dict[str, int]:
    rows = con.execute("""
        with objs as (select unnest(json_extract(labels, '$.objects[*].class')) ->> '$' as cls from m
                      where json_extract(labels, '$.objects') is not null),
             flat as (select labels ->> '$.class' as cls from m where labels ->> '$.class' is not null)
        select cls, count(*) from (select cls from objs union all select cls from flat)
        group by 1 order by 2 desc, 1""").fetchall()
    return {str(k): int(n) for k, n in rows}


def _param_ranges(params_json: list[str | None]) -> dict[str, Any]:
    ranges: dict[str, Any] = {}
    for text in params_json:
        if not text:
            continue
        for key, value in json.loads(text).items():
            r = ranges.setdefault(key, {"min": None, "max": None, "values": {}})
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                r["min"] = value if r["min"] is None else min(r["min"], value)
                r["max"] = value if r["max"] is None else max(r["max"], value)
            elif isinstance(value, (str, bool)):
                r["values"][str(value)] = r["values"].get(str(value), 0) + 1
    for r in ranges.values():
        if not r["values"]:
            del r["values"]
        if r["min"] is None:
            del r["min"], r["max"]
    return ranges


def schema() -> dict[str, Any]:
    return RecipeModel.model_json_schema()


def ssl_apply(task: str, params: Any = None, workspace: str | Workspace | None = None, *,
              version: int | str | None = None, workers: int = 1, message: str | None = None) -> Any:
    """Compute pretext labels for the rows of a stored version (real data too); commits a new version
    unless nothing changes."""
    from synth.data.pretext import apply_to_version
    return apply_to_version(_ws(workspace), task, params, version=version, workers=workers, message=message)


def export(out: str | Path, fmt: str | tuple[str, ...], workspace: str | Workspace | None = None, *,
           version: int | str | None = None, shard_rows: int = 1000, recipe: str | None = None,
           single_file: bool = False, kinds: tuple[str, ...] | None = None, overwrite: bool = False,
           csv_escape: bool = True) -> dict[str, Any]:
    """Export a version (labels as current at that version) as `fmt` (see `synth export --help`). OUT must be
    missing, empty or an earlier synth export (replaced whole) unless `overwrite`; CSV cells that would run
    as spreadsheet formulas are prefixed with `'` unless `csv_escape=False`."""
    from synth.exporters.dispatch import export_version
    return export_version(_ws(workspace), fmt, out, version, shard_rows=shard_rows, recipe=recipe,
                          single_file=single_file, kinds=kinds, overwrite=overwrite, csv_escape=csv_escape)


def gap(synthetic: int | str | None, real: int | str | None, workspace: str | Workspace | None = None,
        **options: Any) -> Any:
    """The sim-to-real gap between a version's synthetic rows and a version's real rows (`synth gap`);
    options as `synth.loop.gap.gap`."""
    from synth.loop.gap import gap as _gap
    return _gap(_ws(workspace), synthetic, real, **options)


def tune(recipe: str | Path, workspace: str | Workspace | None = None, *, real: int | str | None,
         metric: str = "c2st", trials: int = 20, count_per_trial: int = 200, holdout: int | str | None = None,
         study: str | None = None, seed: int = 0, out: str | Path | None = None, workers: int | None = None,
         executor: str = "local", executor_options: dict[str, Any] | None = None,
         on_trial: Callable[[Any], None] | None = None) -> Any:
    """Search the recipe's `tune:` ranges against the real rows of `real` (`synth tune`); returns a
    TuneResult and writes the best recipe to `out` (default: <recipe>_tuned.yaml beside it)."""
    from synth.loop.tune import make_objective, tune as _tune

    ws = _ws(workspace)
    objective = make_objective(metric, ws, real, seed=seed)
    check = make_objective("tstr" if metric == "tstr" else "c2st", ws, holdout, seed=seed) if holdout is not None \
        else None
    return _tune(recipe, ws, objective, trials=trials, count_per_trial=count_per_trial, study=study, seed=seed,
                 workers=workers, executor=executor, executor_options=executor_options, out=out, holdout=check,
                 on_trial=on_trial)
