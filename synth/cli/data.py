"""CLI commands for real data and versions: import, mix, split, diff, tag, labels, verify."""
from __future__ import annotations

import json
from typing import Any

import click

from synth.cli.options import emit, output_options
from synth.cli.options import workspace_option as _ws_option

from synth.errors import SynthError


def _ws(workspace: str | None, create: bool = False) -> Any:
    from synth.store.workspace import Workspace
    return Workspace.open(workspace, create=create)




def _json_option(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(f)


def _import_options(f: Any) -> Any:
    for opt in reversed([
        click.option("--license", "license_", default=None, help="Licence of the data (recorded per row)."),
        click.option("--note", default=None, help="Free-text note recorded per row."),
        click.option("--source", default=None, help="Source path/URL to record (default: each file's path)."),
        click.option("--split", "split", default="train=0.8,val=0.1,test=0.1", show_default=True,
                     help="Split fractions, assigned by a hash of the sample id."),
        click.option("--message", "-m", default=None, help="Version message."),
        _ws_option, output_options]):
        f = opt(f)
    return f


def _run_import(kind: str, workspace: str | None, as_json: bool, quiet: bool, link: bool, license_: str | None,
                note: str | None, source: str | None, split: str, message: str | None, *args: Any,
                **kwargs: Any) -> None:
    from synth.data.importer import ImportOptions, SCANNERS, import_items
    from synth.data.splits import parse_fractions

    opts = ImportOptions(link=link, license=license_, note=note, source=source, message=message,
                         split=parse_fractions(split))
    if link and kind in ("table", "text"):
        raise SynthError("--link applies to file payloads", field="--link")
    items, skipped = SCANNERS[kind](*args, **kwargs)  # validates everything before the workspace is touched
    ws = _ws(workspace, create=True)
    res = import_items(ws, kind, items, skipped, opts)
    where = f"version {res.version}" if res.added else f"nothing new (version {res.version})"
    emit(res.as_dict(), f"{where}: imported {res.added} real {kind} samples, {res.duplicates} exact duplicates "
         "not added" + (f", {res.skipped} other files skipped" if res.skipped else ""), as_json, quiet)


@click.group("import")
def import_group() -> None:
    """Import real data as a new version (origin=real)."""


@import_group.command("images")
@click.argument("folder", type=click.Path())
@click.option("--labels", "labels_file", default=None, help="CSV (file,label) or JSON {file: label}; default: "
              "class-per-folder layout FOLDER/<class>/<image>.")
@click.option("--link", is_flag=True, help="Reference files in place instead of copying them into the store.")
@click.option("--unlabeled", is_flag=True,
              help="Rows without labels (any folder layout): for gap, tune --metric c2st, similar, pretext tasks.")
@_import_options
def import_images(folder: str, labels_file: str | None, link: bool, unlabeled: bool, **kw: Any) -> None:
    """Import a folder of images."""
    _run_import("images", kw.pop("workspace"), kw.pop("as_json"), kw.pop("quiet"), link, *_common(kw), folder, labels_file,
                unlabeled=unlabeled)


@import_group.command("coco")
@click.argument("annotations", type=click.Path())
@click.option("--images", "images_dir", required=True, help="Folder the COCO file_name paths are relative to.")
@click.option("--link", is_flag=True, help="Reference files in place instead of copying them into the store.")
@_import_options
def import_coco(annotations: str, images_dir: str, link: bool, **kw: Any) -> None:
    """Import a COCO instances file and its images (boxes, polygons, keypoints)."""
    _run_import("coco", kw.pop("workspace"), kw.pop("as_json"), kw.pop("quiet"), link, *_common(kw), annotations, images_dir)


@import_group.command("table")
@click.argument("file", type=click.Path())
@click.option("--label", default=None, help="Column that is the target.")
@_import_options
def import_table(file: str, label: str | None, **kw: Any) -> None:
    """Import rows of a CSV or Parquet file."""
    _run_import("table", kw.pop("workspace"), kw.pop("as_json"), kw.pop("quiet"), False, *_common(kw), file, label)


@import_group.command("text")
@click.argument("file", type=click.Path())
@click.option("--text-field", default="text", show_default=True)
@click.option("--unlabeled", is_flag=True,
              help="Rows without labels (any folder layout): for gap, tune --metric c2st, similar, pretext tasks.")
@_import_options
def import_text(file: str, text_field: str, unlabeled: bool, **kw: Any) -> None:
    """Import a JSONL file of texts; other fields become labels (label -> class)."""
    _run_import("text", kw.pop("workspace"), kw.pop("as_json"), kw.pop("quiet"), False, *_common(kw), file, text_field,
                unlabeled=unlabeled)


@import_group.command("audio")
@click.argument("folder", type=click.Path())
@click.option("--labels", "labels_file", default=None, help="CSV file,label[,onset_s,offset_s]; default: "
              "class-per-folder layout.")
@click.option("--link", is_flag=True, help="Reference files in place instead of copying them into the store.")
@click.option("--unlabeled", is_flag=True,
              help="Rows without labels (any folder layout): for gap, tune --metric c2st, similar, pretext tasks.")
@_import_options
def import_audio(folder: str, labels_file: str | None, link: bool, unlabeled: bool, **kw: Any) -> None:
    """Import audio files with clip labels or timed events."""
    _run_import("audio", kw.pop("workspace"), kw.pop("as_json"), kw.pop("quiet"), link, *_common(kw), folder, labels_file,
                unlabeled=unlabeled)


def _common(kw: dict[str, Any]) -> tuple[Any, ...]:
    return kw["license_"], kw["note"], kw["source"], kw["split"], kw["message"]


@click.command("mix")
@click.option("--from", "sources", multiple=True, required=True,
              help="NAME:VERSION, NAME = real, synthetic, a recipe name or all; VERSION a number or tag.")
@click.option("--ratio", default=None, help="e.g. real=1,synthetic=3 (default: everything from each source).")
@click.option("--max", "max_rows", type=int, default=None, help="At most N rows in total.")
@click.option("--stratify", default=None, help="Label path to stratify by, e.g. class.")
@click.option("--allow-synthetic-test", is_flag=True,
              help="Keep synthetic rows in real-only splits (test by default); without it they move to train.")
@click.option("--balance", default=None, help="Balance over the cross product of axes, e.g. label,params.size:4 "
              "(label = labels.class; params.<path>[:bins] numeric in quantile bins, default 4; a column or label path).")
@click.option("--balance-target", type=int, default=None, help="Rows per balanced cell (default: the median cell size).")
@click.option("--max-repeat", type=int, default=3, show_default=True,
              help="Most copies of a row when up-sampling a small cell.")
@click.option("--message", "-m", default=None)
@_ws_option
@output_options
def mix_cmd(sources: tuple[str, ...], ratio: str | None, max_rows: int | None, stratify: str | None,
            allow_synthetic_test: bool, balance: str | None, balance_target: int | None, max_repeat: int,
            message: str | None, workspace: str | None, as_json: bool, quiet: bool) -> None:
    """Build a training view from sources in a ratio, as a new version (parents: the source versions).
    Test is real-only by default: synthetic rows in test (or the real-only splits of the last `synth
    split`) are moved to train, unless --allow-synthetic-test."""
    from synth.data.mix import mix
    axes = [a for a in (balance or "").split(",") if a.strip()] or None
    res = mix(_ws(workspace), list(sources), ratio, max_rows=max_rows, stratify=stratify, message=message,
              allow_synthetic_test=allow_synthetic_test, balance=axes, balance_target=balance_target,
              max_repeat=max_repeat)
    policy = (f"; {res.moved_to_train} synthetic rows moved from {'/'.join(res.real_only)} to train "
              f"({'/'.join(res.real_only)} is real-only)" if res.moved_to_train else "") if res.real_only \
        else "; synthetic rows allowed in every split"
    emit(res.as_dict(), lambda: f"version {res.version}: {res.rows} rows ("
         + ", ".join(f"{k}={v}" + (f" ({res.table_rows[k]} table rows)" if res.table_rows else "")
                     for k, v in res.taken.items())
         + (f"; {res.duplicates} duplicates across sources dropped" if res.duplicates else "") + policy + ")"
         + (f"; balanced {len(res.balance['cells'])} cells to {res.balance['target']} rows each "
            f"({res.balance['repeated']} repeated rows)" if res.balance else ""),
         as_json, quiet)


@click.command("split")
@click.option("--fractions", default="train=0.8,val=0.1,test=0.1", show_default=True)
@click.option("--group-key", default="sample_id", show_default=True,
              help="Rows sharing it share a split: a column (sample_id, source, recipe_name, ...) or "
                   "labels.PATH / params.PATH.")
@click.option("--real-only", default="test", show_default=True,
              help="Splits that hold real rows only (comma list, empty for none).")
@click.option("--check", "check_only", is_flag=True, help="Only report leaks (exit 1 if any).")
@click.option("--version", "version", default=None, help="For --check: version number or tag.")
@click.option("--message", "-m", default=None)
@_ws_option
@output_options
def split_cmd(fractions: str, group_key: str, real_only: str, check_only: bool, version: str | None,
              message: str | None, workspace: str | None, as_json: bool, quiet: bool) -> None:
    """Assign splits by a hash of a group key (a new version), or --check for leakage."""
    from synth.data import splits
    ws = _ws(workspace)
    if check_only:
        rep = splits.check(ws, version)
        if as_json:
            click.echo(json.dumps(rep.as_dict()))
        elif not quiet:
            for leak in rep.leaking_groups:
                click.echo(f"leak: group {leak['group']} is in {', '.join(leak['splits'])} ({leak['rows']} rows)")
            if rep.leaking_total > len(rep.leaking_groups):
                click.echo(f"... and {rep.leaking_total - len(rep.leaking_groups)} more leaking groups")
            if rep.leaking_total:
                click.echo(f"{rep.leaking_total} leaking group(s) in total")
            for s, n in rep.synthetic_in.items():
                if n:
                    click.echo(f"policy: {n} synthetic rows in real-only split {s}")
            if rep.hint:
                click.echo(f"to fix: {rep.hint}")
            click.echo(f"version {rep.version}: " + ("no leaks" if rep.ok else "problems found"))
        raise SystemExit(0 if rep.ok else 1)
    only = tuple(s for s in real_only.split(",") if s)
    res = splits.assign_splits(ws, splits.parse_fractions(fractions), group_key=group_key, real_only=only,
                               message=message)
    parts = ", ".join(f"{s}: " + "/".join(f"{o} {n}" for o, n in sorted(c.items())) for s, c in sorted(res.counts.items()))
    emit(res.as_dict(), f"version {res.version}: {parts}", as_json, quiet)


@click.command("diff")
@click.argument("a")
@click.argument("b")
@_ws_option
@_json_option
def diff_cmd(a: str, b: str, workspace: str | None, as_json: bool) -> None:
    """Compare two versions (number or tag; PATH@VERSION names another workspace)."""
    from synth.store.diff import diff
    ws = _ws(workspace)
    other = None
    va, vb = a, b
    for spec in (a, b):
        if "@" in spec:
            path, _, ver = spec.rpartition("@")
            other = _ws(path)
            if spec is a:
                va = ver
            else:
                vb = ver
    if "@" in a and "@" in b:
        ws = _ws(a.rpartition("@")[0])
        other = _ws(b.rpartition("@")[0])
    res = diff(ws, va, vb, other)
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(f"v{res['a']} -> v{res['b']}: rows {res['rows']['a']} -> {res['rows']['b']}; +{res['added']} added, "
               f"-{res['removed']} removed, {res['changed']} changed, {res['labels_changed']} labels changed, "
               f"{res['split_moved']} moved split")
    for title in ("splits", "classes"):
        if res[title]:
            click.echo(f"{title}: " + ", ".join(f"{k} {c['a']}->{c['b']}" for k, c in res[title].items()))


@click.command("tag")
@click.argument("name")
@click.argument("version", required=False)
@_ws_option
@output_options
def tag_cmd(name: str, version: str | None, workspace: str | None, as_json: bool, quiet: bool) -> None:
    """Name a version (default: latest); the name works wherever --version is accepted."""
    if not name or name.lstrip("v").isdigit() or name == "latest" or any(c in name for c in " /:@\\"):
        raise SynthError(f"tag '{name}' is not allowed: not a number, not 'latest', no spaces, /, :, @", field="NAME")
    v = _ws(workspace).manifest.tag(name, version)
    emit({"version": v, "tag": name}, f"tagged version {v} as {name}", as_json, quiet)


@click.group("labels")
def labels_group() -> None:
    """Label lineage: corrections as a DAG, current labels are its leaves."""


@labels_group.command("correct")
@click.argument("sample")
@click.option("--set", "sets", multiple=True, help="PATH=VALUE (JSON or text), e.g. class=cat or objects.0.class=dog.")
@click.option("--labels", "whole", default=None, help="Replace the whole label object (JSON).")
@click.option("--parents", default=None, help="Label ids this revises, ; separated (default: current leaves).")
@click.option("--note", default=None)
@click.option("--author", default=None)
@click.option("--message", "-m", default=None)
@_ws_option
@output_options
def labels_correct(sample: str, sets: tuple[str, ...], whole: str | None, parents: str | None, note: str | None,
                   author: str | None, message: str | None, workspace: str | None, as_json: bool,
                   quiet: bool) -> None:
    """Correct one sample's labels as a new version."""
    from synth.data.corrections import Correction, commit_corrections, parse_value, resolve_changes
    if not sets and whole is None:
        raise SynthError("give --set PATH=VALUE or --labels JSON", field="--set")
    changes = {}
    for s in sets:
        key, eq, value = s.partition("=")
        if not eq or not key:
            raise SynthError(f"'{s}' is not PATH=VALUE", field="--set")
        changes[key] = parse_value(value)
    replace = None
    if whole is not None:
        try:
            replace = json.loads(whole)
        except ValueError as exc:
            raise SynthError(f"not JSON: {exc}", field="--labels") from None
    ws = _ws(workspace)
    items = resolve_changes(ws, [Correction(sample, {"__replace__": replace, "__set__": changes},
                                                            parents.split(";") if parents else None, note)])
    v = commit_corrections(ws, items, message=message or f"correct labels of {sample}", author=author)
    emit({"version": v, "sample_id": sample, "labels": items[0].labels},
         lambda: f"version {v}: labels of {sample} -> {json.dumps(items[0].labels, sort_keys=True)}", as_json, quiet)


@labels_group.command("import")
@click.argument("csv_file", type=click.Path())
@click.option("--author", default=None)
@click.option("--message", "-m", default=None)
@_ws_option
@output_options
def labels_import(csv_file: str, author: str | None, message: str | None, workspace: str | None, as_json: bool,
                  quiet: bool) -> None:
    """Append corrections from a CSV (sample_id + labels JSON or label-path columns) as one version."""
    from synth.data.corrections import commit_corrections, read_corrections_csv, resolve_changes
    ws = _ws(workspace)
    items = resolve_changes(ws, read_corrections_csv(csv_file))
    v = commit_corrections(ws, items, message=message or f"import {len(items)} label corrections",
                                   author=author)
    emit({"version": v, "corrections": len(items)}, f"version {v}: {len(items)} corrections", as_json, quiet)


@labels_group.command("history")
@click.argument("sample")
@click.option("--version", "version", default=None)
@_ws_option
@_json_option
def labels_history(sample: str, version: str | None, workspace: str | None, as_json: bool) -> None:
    """Show a sample's label chain, oldest first; * marks the current label."""
    from synth.store import lineage
    nodes = lineage.history(_ws(workspace), sample, version)
    if as_json:
        click.echo(json.dumps(nodes, indent=2))
        return
    for n in nodes:
        mark = "*" if n["current"] else ("leaf" if n["leaf"] else " ")
        origin = f"v{n['version']}" if n["version"] is not None else "orig"
        parents = ",".join(p[:12] for p in n["parents"]) or "-"
        click.echo(f"{mark:<4} {n['label_id'][:29]:<29} {origin:<5} parents {parents:<14} "
                   f"{json.dumps(n['labels'], sort_keys=True)}" + (f"  ({n['note']})" if n["note"] else ""))


@click.command("verify")
@click.option("--version", "version", default=None, help="Version number or tag (default: latest).")
@click.option("--repair", is_flag=True, help="If a version file was lost, set its record aside and delete the "
              "tags pointing at it, so commits can go on (they refuse until then); then verify.")
@_ws_option
@_json_option
def verify_cmd(version: str | None, repair: bool, workspace: str | None, as_json: bool) -> None:
    """Re-hash every blob a version references and check the manifest and its history; exit 1 on any problem."""
    from synth.store.verify import repair as repair_history, verify
    ws = _ws(workspace)
    repaired = repair_history(ws) if repair else None
    rep = verify(ws, version)
    rep.repaired = repaired
    if as_json:
        click.echo(json.dumps(rep.as_dict(), indent=2))
    else:
        if repaired is not None:
            lost = ", ".join(map(str, repaired["lost_versions"])) or "none"
            tags = ", ".join(f"{t} (v{v})" for t, v in repaired["tags_deleted"].items()) or "none"
            click.echo(f"repair: lost versions {lost}" + (f" (records moved to {repaired['set_aside']})"
                       if repaired["set_aside"] else "") + f"; tags deleted: {tags}")
        for m in rep.missing:
            click.echo(f"missing  {m['hash'][:16]}  sample(s) {', '.join(m['sample_ids'])} payload {m['payload']}")
        for c in rep.corrupt:
            click.echo(f"corrupt  {c['hash'][:16]}  sample(s) {', '.join(c['sample_ids'])} payload {c['payload']}")
        for p in rep.problems:
            click.echo(f"problem  {p}")
        click.echo(f"version {rep.version}: {rep.rows} rows, {rep.blobs} blobs checked, {len(rep.missing)} missing, "
                   f"{len(rep.corrupt)} corrupt, {len(rep.problems)} manifest problems")
    raise SystemExit(0 if rep.ok else 1)


COMMANDS = [import_group, mix_cmd, split_cmd, diff_cmd, tag_cmd, labels_group, verify_cmd]
