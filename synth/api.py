"""The Python API: every CLI verb as a function (`synth generate` is `api.generate`, `synth import images` is
`api.import_images`, `synth labels correct` is `api.labels_correct`); tests/test_api.py checks none is missing."""
from __future__ import annotations

import json
import os
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
    if isinstance(workspace, Workspace):
        return workspace
    return Workspace.open(None if workspace is None else str(workspace), create=create)


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
    from synth.engine.executors import make_executor
    from synth.engine.generate import generate as _generate
    from synth.store.workspace import Workspace

    r = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    if count is not None:
        r = r.with_count(count)
    cap = count_cap()
    if cap is not None and r.count > cap:
        r = r.with_count(cap)
    ex = make_executor(executor, max(1, workers or os.cpu_count() or 1), executor_options)
    try:
        connect = getattr(ex, "connect", None)
        if connect is not None:  # a cluster that cannot be reached fails before a workspace folder is made
            connect()
        ws = workspace if isinstance(workspace, Workspace) else \
            Workspace.open(None if workspace is None else str(workspace), create=True,
                           storage_options=storage_options)
        return _generate(r, ws, workers=workers, message=message, executor=ex, progress=progress)
    finally:
        ex.close()


COUNT_CAP_ENV = "SYNTH_COUNT_CAP"  # caps every generate's count: smoke runs of docs and scripts (tests/test_readme.py)


def count_cap() -> int | None:
    """The cap SYNTH_COUNT_CAP puts on generated samples (None: no cap); a bad value is a SynthError."""
    import os

    from synth.errors import SynthError
    text = os.environ.get(COUNT_CAP_ENV)
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise SynthError(f"{COUNT_CAP_ENV}={text!r}: must be a positive integer", field=COUNT_CAP_ENV)
    return int(text)


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
         on_trial: Callable[[Any], None] | None = None, classifier: str = "logistic",
         features: str | None = None, probe: str = "logistic") -> Any:
    """Search the recipe's `tune:` ranges against the real rows of `real` (`synth tune`); returns a
    TuneResult and writes the best recipe to `out` (default: <recipe>_tuned.yaml beside it). `classifier`:
    the c2st classifier (logistic or boosting); `probe`: the TSTR probe (logistic, svm or boosting);
    `features`: your own feature function (`module:function` or `file.py:function`) instead of the
    modality's built-in features."""
    from synth.loop.samples import row_ids
    from synth.loop.tune import make_objective, tune as _tune

    ws = _ws(workspace)
    objective = make_objective(metric, ws, real, seed=seed, classifier=classifier, features=features, probe=probe)
    # a version holds every row imported before it: the holdout leaves out the rows the search scores on
    check = make_objective("tstr" if metric == "tstr" else "c2st", ws, holdout, seed=seed, classifier=classifier,
                           features=features, probe=probe, exclude=row_ids(ws, real, "real")) \
        if holdout is not None else None
    return _tune(recipe, ws, objective, trials=trials, count_per_trial=count_per_trial, study=study, seed=seed,
                 workers=workers, executor=executor, executor_options=executor_options, out=out, holdout=check,
                 on_trial=on_trial)


# -- every other CLI verb: `synth <verb>` is `api.<verb>` (`synth labels correct` is `api.labels_correct`,
#    `synth import images` is `api.import_images`); tests/test_api.py checks that none is missing.

def scenes() -> list[dict[str, Any]]:
    """Every scene and each parameter's path, type, default, bounds, allowed values and description."""
    from synth.recipe.introspect import describe_scenes
    return describe_scenes()


def ssl_tasks() -> list[dict[str, Any]]:
    """Every pretext task: version, the modalities it accepts, its docstring and its params."""
    from synth.core.scene import get_task, task_names
    from synth.recipe.introspect import describe_model, summary_line

    out = []
    for name in task_names():
        cls = get_task(name)
        out.append({"name": name, "version": cls.version, "modalities": list(cls.modalities),
                    "doc": summary_line(__import__(cls.__module__, fromlist=["x"]).__doc__),
                    "params": describe_model(cls.Params)})
    return out


def preview(recipe: str | Path | None = None, out: str | Path = "sheet.png", *, count: int = 16, columns: int = 4,
            tile: int = 320, workspace: str | Workspace | None = None, version: int | str | None = None) -> int:
    """Contact sheet of a recipe's first `count` samples (rendered in a temporary workspace) or, without a
    recipe, of a version's first rows; returns the number of tiles written to `out`."""
    import tempfile

    from synth.errors import SynthError
    from synth.report.preview import write_sheet

    if (recipe is None) == (version is None and workspace is None):
        raise SynthError("give a recipe to render, or a workspace version to preview (not both)", field="preview")
    if recipe is None:
        return write_sheet(_ws(workspace), version, count, out, columns, tile)
    validate(recipe)  # bad recipes fail here, before any work
    with tempfile.TemporaryDirectory(prefix="synth-preview-") as tmp:
        res = generate(recipe, tmp, count=count, workers=1)
        return write_sheet(open_workspace(tmp), res.version, count, out, columns, tile)


def _import(kind: str, workspace: str | Workspace | None, args: tuple[Any, ...], *, link: bool, unlabeled: bool,
            license: str | None, note: str | None, source: str | None, split: str | dict[str, float] | None,
            message: str | None) -> Any:
    """Scan and validate the input first, then create the workspace if needed and commit (as the CLI does)."""
    from synth.data.importer import UNLABELED_KINDS, ImportOptions, SCANNERS, import_items
    from synth.data.splits import parse_fractions
    from synth.errors import SynthError

    fractions = parse_fractions(split) if isinstance(split, str) else split
    opts = ImportOptions(link=link, license=license, note=note, source=source, message=message,
                         unlabeled=unlabeled, **({"split": fractions} if fractions else {}))
    if link and kind in ("table", "text"):
        raise SynthError("link applies to file payloads (images, coco, audio)", field="--link")
    if unlabeled and kind not in UNLABELED_KINDS:
        raise SynthError(f"unlabeled applies to {', '.join(UNLABELED_KINDS)}", field="--unlabeled")
    items, skipped = SCANNERS[kind](*args, **({"unlabeled": True} if unlabeled else {}))
    return import_items(_ws(workspace, create=True), kind, items, skipped, opts)


def import_images(folder: str | Path, workspace: str | Workspace | None = None, *, labels: str | Path | None = None,
                  link: bool = False, unlabeled: bool = False, license: str | None = None, note: str | None = None,
                  source: str | None = None, split: str | dict[str, float] | None = None,
                  message: str | None = None) -> Any:
    """`synth import images`: a class-per-folder tree (or `labels` CSV/JSON, or `unlabeled`) as real rows in a
    new version; exact duplicates are skipped. Returns an ImportResult (version, added, duplicates)."""
    return _import("images", workspace, (folder, labels), link=link, unlabeled=unlabeled, license=license,
                   note=note, source=source, split=split, message=message)


def import_coco(annotations: str | Path, images: str | Path, workspace: str | Workspace | None = None, *,
                link: bool = False, license: str | None = None, note: str | None = None, source: str | None = None,
                split: str | dict[str, float] | None = None, message: str | None = None) -> Any:
    """`synth import coco`: a COCO instances file and its images (boxes, polygons, keypoints)."""
    return _import("coco", workspace, (annotations, images), link=link, unlabeled=False, license=license,
                   note=note, source=source, split=split, message=message)


def import_table(file: str | Path, workspace: str | Workspace | None = None, *, label: str | None = None,
                 license: str | None = None, note: str | None = None, source: str | None = None,
                 split: str | dict[str, float] | None = None, message: str | None = None) -> Any:
    """`synth import table`: the rows of a CSV or Parquet file (`label`: the target column)."""
    return _import("table", workspace, (file, label), link=False, unlabeled=False, license=license, note=note,
                   source=source, split=split, message=message)


def import_text(file: str | Path, workspace: str | Workspace | None = None, *, text_field: str = "text",
                unlabeled: bool = False, license: str | None = None, note: str | None = None,
                source: str | None = None, split: str | dict[str, float] | None = None,
                message: str | None = None) -> Any:
    """`synth import text`: a JSONL file of texts; other fields become labels (`label` -> class)."""
    return _import("text", workspace, (file, text_field), link=False, unlabeled=unlabeled, license=license,
                   note=note, source=source, split=split, message=message)


def import_audio(folder: str | Path, workspace: str | Workspace | None = None, *, labels: str | Path | None = None,
                 link: bool = False, unlabeled: bool = False, license: str | None = None, note: str | None = None,
                 source: str | None = None, split: str | dict[str, float] | None = None,
                 message: str | None = None) -> Any:
    """`synth import audio`: audio files with clip labels or timed events (`labels` CSV, or class folders)."""
    return _import("audio", workspace, (folder, labels), link=link, unlabeled=unlabeled, license=license,
                   note=note, source=source, split=split, message=message)


def mix(sources: list[str], workspace: str | Workspace | None = None, *, ratio: str | dict[str, float] | None = None,
        max_rows: int | None = None, stratify: str | None = None, allow_synthetic_test: bool = False,
        balance: list[str] | None = None, balance_target: int | None = None, max_repeat: int = 3,
        message: str | None = None) -> Any:
    """`synth mix --from real:2 --from synthetic:1 --ratio real=1,synthetic=3`: a deterministic training view
    as a new version (sources as NAME:VERSION). Returns a MixResult."""
    from synth.data.mix import mix as _mix
    return _mix(_ws(workspace), list(sources), ratio, max_rows=max_rows, stratify=stratify, message=message,
                allow_synthetic_test=allow_synthetic_test, balance=balance, balance_target=balance_target,
                max_repeat=max_repeat)


def split(workspace: str | Workspace | None = None, *, fractions: str | dict[str, float] = "train=0.8,val=0.1,test=0.1",
          group_key: str = "sample_id", real_only: tuple[str, ...] = ("test",), message: str | None = None) -> Any:
    """`synth split`: splits by a hash of `group_key` as a new version; `real_only` splits keep real rows only."""
    from synth.data import splits
    parsed = splits.parse_fractions(fractions) if isinstance(fractions, str) else dict(fractions)
    return splits.assign_splits(_ws(workspace), parsed, group_key=group_key, real_only=tuple(real_only),
                                message=message)


def check_splits(workspace: str | Workspace | None = None, version: int | str | None = None) -> Any:
    """`synth split --check`: groups in two splits, and synthetic rows in real-only splits (a SplitCheck)."""
    from synth.data.splits import check
    return check(_ws(workspace), version)


def diff(a: int | str, b: int | str, workspace: str | Workspace | None = None,
         other: str | Workspace | None = None) -> dict[str, Any]:
    """`synth diff A B`: rows added, removed, changed, labels changed, split moves (B may be in `other`)."""
    from synth.store.diff import diff as _diff
    return _diff(_ws(workspace), a, b, _ws(other) if other is not None else None)


def tag(name: str, version: int | str | None = None, workspace: str | Workspace | None = None) -> int:
    """`synth tag NAME [V]`: name a version (default latest); returns its number."""
    from synth.errors import SynthError
    if name == "latest" or name.lstrip("v").isdigit():
        raise SynthError(f"tag '{name}' is not allowed: not a number, not 'latest'", field="NAME")
    return _ws(workspace).manifest.tag(name, version)


def labels_correct(sample: str, workspace: str | Workspace | None = None, *, set: dict[str, Any] | None = None,
                   labels: dict[str, Any] | None = None, parents: list[str] | None = None, note: str | None = None,
                   author: str | None = None, message: str | None = None) -> int:
    """`synth labels correct`: set label paths (`{"class": "7"}`) or replace the whole label object of one
    sample, as a new version of its label lineage; returns the version."""
    from synth.data.corrections import Correction, commit_corrections, resolve_changes
    from synth.errors import SynthError
    if not set and labels is None:
        raise SynthError("give set={path: value} or labels={...}", field="--set")
    ws = _ws(workspace)
    items = resolve_changes(ws, [Correction(sample, {"__replace__": labels, "__set__": dict(set or {})},
                                            parents, note)])
    return commit_corrections(ws, items, message=message or f"correct labels of {sample}", author=author)


def labels_import(csv_file: str | Path, workspace: str | Workspace | None = None, *, author: str | None = None,
                  message: str | None = None) -> int:
    """`synth labels import`: corrections from a CSV (a review file) as one version; returns the version."""
    from synth.data.corrections import commit_corrections, read_corrections_csv, resolve_changes
    ws = _ws(workspace)
    items = resolve_changes(ws, read_corrections_csv(csv_file))
    return commit_corrections(ws, items, message=message or f"import {len(items)} label corrections", author=author)


def labels_history(sample: str, workspace: str | Workspace | None = None,
                   version: int | str | None = None) -> list[dict[str, Any]]:
    """`synth labels history`: a sample's label chain, oldest first (`current` marks the label in force)."""
    from synth.store.lineage import history
    return history(_ws(workspace), sample, version)


def verify(workspace: str | Workspace | None = None, version: int | str | None = None, *, repair: bool = False) -> Any:
    """`synth verify`: re-hash every blob of a version and check the manifest's history (a VerifyReport,
    `.ok`); `repair` first sets the record of a lost version file aside."""
    from synth.store.verify import repair as repair_history, verify as _verify
    ws = _ws(workspace)
    repaired = repair_history(ws) if repair else None
    report = _verify(ws, version)
    report.repaired = repaired
    return report


def sweep(sweep_file: str | Path, workspace: str | Workspace | None = None, *, count: int | None = None,
          workers: int | None = None, executor: str = "local", executor_options: dict[str, Any] | None = None,
          on_variant: Callable[[Any], None] | None = None) -> list[Any]:
    """`synth sweep SWEEP.yaml`: generate every variant not yet tagged; one VariantOutcome per variant."""
    from synth.data.sweep import run_sweep
    from synth.recipe.sweep import load_sweep
    return run_sweep(load_sweep(str(sweep_file), count=count), _ws(workspace, create=True), workers=workers, executor=executor,
                     executor_options=executor_options, on_variant=on_variant)


def sweep_status(name: str | None = None, workspace: str | Workspace | None = None) -> list[dict[str, Any]]:
    """`synth sweep status`: every variant of the workspace's sweeps: state, version, rows, overrides."""
    from synth.data.sweep import status
    return status(_ws(workspace), name)


def report(version: int | str | None = None, out: str | Path = "report", workspace: str | Workspace | None = None,
           *, samples: int = 8) -> Path:
    """`synth report [VERSION] -o DIR`: the static HTML dataset card; returns the path of index.html."""
    from synth.report.card import write_report
    return write_report(_ws(workspace), version, out, samples=samples)


def report_table(real: str | Path, workspace: str | Workspace | None = None, *, version: int | str | None = None,
                 recipe: str | None = None, synthetic: str | Path | None = None, target: str | None = None,
                 out: str | Path | None = "reports/table") -> dict[str, Any]:
    """`synth report table`: column-shape, pair-trend and train-synthetic/test-real scores of a synthetic table
    (a version's table blocks, or the file `synthetic`) against the real one."""
    from synth.data.tables import declared_target, load_table
    from synth.errors import SynthError
    from synth.report.table import quality_report
    from synth.tabular.fit import read_table

    real_frame = read_table(real)
    ws = None if synthetic else _ws(workspace)
    synth_frame = read_table(synthetic) if synthetic else load_table(ws, version, recipe)
    if target is None and ws is not None:
        target = declared_target(ws, version, recipe)
    if target is not None and target not in real_frame.columns:
        raise SynthError(f"target '{target}' is not a column of {real}", field="target")
    return quality_report(real_frame, synth_frame, target=target, out_dir=out)


def fit(real: str | Path, output: str | Path, *, name: str | None = None, rows_per_sample: int = 10_000,
        target: str | None = None, max_rows: int = 200_000, max_bytes: int | str | None = None,
        privacy: dict[str, Any] | None = None, tune: int = 0) -> dict[str, Any]:
    """`synth fit real.csv -o recipe.yaml`: fit marginals, copula correlation and missing rates of a real table
    into an editable table recipe written to `output`; returns the recipe as a dict. `privacy`: options as
    `synth fit --privacy ...` takes them (`synth.tabular.fit.privacy_settings`); `tune` > 0: a `tune:` block
    over that many marginals (`synth fit --tune K`)."""
    from synth.tabular.fit import recipe_from_scan, scan_table, write_recipe
    scan = scan_table(real, max_rows, max_bytes=max_bytes)
    recipe = recipe_from_scan(scan, real, name=name, rows_per_sample=rows_per_sample, target=target,
                              privacy=privacy, tune=tune)
    write_recipe(recipe, output)
    return recipe


def ssl(task: str, params: dict[str, Any] | None = None, workspace: str | Workspace | None = None, *,
        version: int | str | None = None, workers: int = 1, message: str | None = None) -> Any:
    """`synth ssl apply` (the same as `ssl_apply`)."""
    return ssl_apply(task, params, workspace, version=version, workers=workers, message=message)


def label_issues(model: str, workspace: str | Workspace | None = None, *, version: int | str | None = None,
                 out: str | Path | None = None, top: int | None = None) -> list[Any]:
    """`synth label-issues`: likely label errors (Cleanlab) from `model`'s imported probabilities, most likely
    first; with `out`, also the review file that `labels_import` takes back."""
    from synth.loop.label_issues import label_issues as _issues, write_review
    issues = _issues(_ws(workspace), model, version)[:top]
    if out is not None:
        write_review(issues, out)
    return issues


def similar(to: str | list[str], workspace: str | Workspace | None = None, *, pool: int | str | None = None,
            k: int = 10, origin: str = "real", embeddings: str | None = None, tag: str | None = None,
            label_studio: str | Path | None = None) -> dict[str, Any]:
    """`synth similar`: the k nearest pool rows of each query (sample ids, a file of ids, or a saved slice),
    optionally saved as slice `tag` and written as Label Studio tasks."""
    from synth.core.names import check_name
    from synth.loop.similar import export_label_studio, read_queries, similar as _similar

    if tag:
        check_name(tag, "--tag")
    ws = _ws(workspace)
    queries = list(to) if isinstance(to, list) else read_queries(ws, to)
    found = _similar(ws, queries, pool, k=k, origin=origin, embeddings_model=embeddings)
    result: dict[str, Any] = {"neighbours": [n.as_dict() for n in found]}
    if tag:
        ids = sorted({n.sample_id for n in found})
        ws.fs.makedirs(ws.path("slices"), exist_ok=True)
        with ws.fs.open(ws.path("slices", f"{tag}.json"), "w") as fh:
            fh.write(json.dumps({"name": tag, "kind": "similar", "query": to if isinstance(to, str) else ",".join(to),
                                 "sample_ids": ids}))
        result["tag"] = tag
    if label_studio:
        result["label_studio"] = str(export_label_studio(ws, found, label_studio))
    return result


def predictions_import(file: str | Path, model: str, workspace: str | Workspace | None = None, *,
                       version: int | str | None = None, replace: bool = False) -> dict[str, Any]:
    """`synth predictions import`: a model's predictions (CSV, Parquet, JSONL) keyed by sample id, as a version."""
    from synth.data.predictions import import_predictions
    return import_predictions(_ws(workspace), file, model, version=version, replace=replace)


def predictions_list(workspace: str | Workspace | None = None) -> list[dict[str, Any]]:
    """`synth predictions list`: model, the version its ids refer to, rows, classes."""
    from synth.data.predictions import list_predictions
    return list_predictions(_ws(workspace))


def slices(model: str, workspace: str | Workspace | None = None, *, version: int | str | None = None,
           by: list[str] | None = None, min_support: int = 20, n_bins: int = 5, pairs: bool = True,
           tag: str | None = None) -> list[dict[str, Any]]:
    """`synth slices`: recipe-parameter, metadata and label bins ranked by error lift, worst first; `tag`
    saves the worst as slices/<tag>.json and tags the version."""
    from synth.core.names import check_name
    from synth.loop.slices import public, record_slice, slice_report
    if tag:
        check_name(tag, "--tag")
    ws = _ws(workspace)
    found, context = slice_report(ws, model, version, by=by, min_support=min_support, pairs=pairs, n_bins=n_bins)
    if tag:
        record_slice(ws, tag, found, context, min_support)
    return public(found)


def focus(recipe: str | Path, slices: str | Path | list[dict[str, Any]], *, share: float = 0.5, top: int = 3,
          out: str | Path | None = None, report_dir: str | Path | None = None) -> dict[str, Any]:
    """`synth focus`: a recipe variant (extends `recipe`) drawing the failing slices more often."""
    from synth.loop.focus import focus as _focus
    return _focus(recipe, slices, share=share, top=top, out=out, report_dir=report_dir)


def lock(recipes: list[str | Path], lock_file: str | Path = "synth.lock", *, count: int | None = None,
         workers: int = 1, cache: bool = True) -> list[Any]:
    """`synth lock RECIPE...`: record what the recipes render to in the lock file (LockOutcome per recipe)."""
    from synth.engine.lock import CACHE_DIR, lock as _lock
    path = Path(lock_file)
    return _lock([str(r) for r in recipes], path, count, workers, path.resolve().parent / CACHE_DIR if cache else None)


def lock_check(lock_file: str | Path = "synth.lock", recipes: list[str | Path] | None = None, *, workers: int = 1,
               cache: bool = True) -> list[Any]:
    """`synth lock --check`: render the locked recipes again; an outcome with status "changed" names why."""
    from synth.engine.lock import CACHE_DIR, check
    path = Path(lock_file)
    return check(path, [str(r) for r in recipes or []], workers, path.resolve().parent / CACHE_DIR if cache else None)


def recipes() -> list[dict[str, Any]]:
    """`synth recipes`: the example recipes synth ships (name, scene, count, description)."""
    from synth.recipe.examples import list_examples
    return list_examples()


def init(name: str, dest: str | Path = ".", *, overwrite: bool = False) -> list[Path]:
    """`synth init NAME`: copy an example recipe (and the recipes it builds on) into `dest`."""
    from synth.recipe.examples import copy_example
    return copy_example(name, Path(dest), overwrite)


def sample(recipe: str | Path, rows: int, output: str | Path, *, csv_escape: bool = True) -> dict[str, Any]:
    """`synth sample RECIPE -n ROWS -o out.csv`: the first ROWS rows of a table recipe straight to a CSV or
    Parquet file, with no workspace."""
    from synth.exporters.tabular import sample_file
    return sample_file(str(recipe), rows, str(output), csv_escape=csv_escape)


report_card = report  # `synth report card` is `synth report`
sweep_run = sweep    # `synth sweep run` is `synth sweep`
