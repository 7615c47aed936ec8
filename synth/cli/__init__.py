"""The `synth` command line. Every command is also a function in `synth.api`."""
from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import click

from synth import __version__, api
from synth.cli.options import echo_described
from synth.cli.options import workspace_option as _ws_option
from synth.errors import SynthError

# command modules contributed by feature areas; each exposes COMMANDS = [click.Command, ...]
COMMAND_MODULES: list[str] = ["synth.cli.images", "synth.cli.export", "synth.cli.ssl", "synth.cli.table",
                              "synth.cli.data", "synth.cli.sweep", "synth.cli.loop", "synth.cli.tune", "synth.cli.review",
                              "synth.cli.predict", "synth.cli.focus", "synth.cli.lock", "synth.cli.recipes"]  # sweep after table: its report group wraps table's




def _version_option(f: Any) -> Any:
    return click.option("--version", "version", default=None, help="Version number or tag (default: latest).")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="synth", message="%(prog)s %(version)s",
                      help="Print synth's version and exit.")
def cli() -> None:
    """synth: labeled synthetic training data from declarative recipes."""


@cli.command()
@click.argument("recipes", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (results and errors).")
def validate(recipes: tuple[str, ...], as_json: bool) -> None:
    """Validate recipe and sweep files: every file is checked, one line per error; exit code 2 if any failed."""
    # imported here so that only this command pays for them; cli may import every layer below it
    from synth.recipe.sweep import load_sweep
    from synth.recipe.yamlio import load as load_yaml

    def check(path: str) -> dict[str, Any]:
        data, _ = load_yaml(path)
        if isinstance(data, dict) and "recipe" in data and "sweep" in data:  # a sweep file, not a recipe
            sw = load_sweep(path)
            return {"recipe": path, "kind": "sweep", "name": sw.name, "variants": len(sw.variants), "ok": True}
        r = api.validate(path)
        return {"recipe": path, "kind": "recipe", "name": r.name, "scene": r.model.scene, "count": r.count,
                "params": len(r.specs), "hash": r.hash, "ok": True}

    results, failed = [], 0
    for path in recipes:
        try:
            result = check(path)
        except SynthError as exc:  # keep going: a user validating recipes/*.yaml wants every error at once
            failed += 1
            result = {"recipe": path, "ok": False, "error": exc.message, "file": exc.file, "line": exc.line,
                      "field": exc.field, "message": str(exc)}
            if not as_json:  # with --json the errors are in the JSON on stdout, nothing else is printed
                click.echo(f"error: {exc}", err=True)
        results.append(result)
        if result["ok"] and not as_json:
            what = (f"sweep, {result['variants']} variants" if result["kind"] == "sweep" else
                    f"{result['scene']}, {result['count']} samples, {result['params']} params, "
                    f"hash {result['hash'][:12]}")
            click.echo(f"ok  {path}  ({what})")
    if as_json:
        click.echo(json.dumps(results, indent=2))
    if failed:
        sys.exit(2)


@cli.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@_ws_option
@click.option("--count", "-n", type=int, default=None, help="Override the recipe's sample count.")
@click.option("--workers", "-j", type=int, default=None, help="Worker processes (default: CPU count).")
@click.option("--message", "-m", default=None, help="Version message.")
@click.option("--executor", default="local", show_default=True,
              help="Where shards render: local (processes on this machine), ray, or a registered executor.")
@click.option("--address", default=None, help="Ray cluster address (auto, ray://host:port) for --executor ray.")
@click.option("--storage-option", "storage_option", multiple=True, metavar="KEY=VALUE",
              help="An fsspec option of an object-store workspace (repeatable; dots nest: "
                   "client_kwargs.endpoint_url=http://host:9000). The AWS_*/GOOGLE_APPLICATION_CREDENTIALS "
                   "environment is read too; both reach Ray workers.")
@click.option("--json", "as_json", is_flag=True, help="Print version, rows and fingerprint as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def generate(recipe: str, workspace: str | None, count: int | None, workers: int | None, message: str | None,
             executor: str, address: str | None, storage_option: tuple[str, ...], as_json: bool,
             quiet: bool) -> None:
    """Generate samples from RECIPE into the workspace as a new version (resumable)."""
    from synth.store.object_store import parse_storage_options

    if workers is not None and workers < 1:
        raise SynthError("--workers must be at least 1", field="--workers")
    storage = parse_storage_options(storage_option) or None
    r = api.validate(recipe)
    if count is not None:
        r = r.with_count(count)
    options = {"address": address} if address else {}
    if quiet or as_json:
        result = api.generate(r, workspace, workers=workers, message=message, executor=executor,
                              executor_options=options, storage_options=storage)
    else:
        from synth.engine.progress import progress_bar
        with progress_bar(f"{r.name}") as advance:
            result = api.generate(r, workspace, workers=workers, message=message, executor=executor,
                                  progress=advance, executor_options=options, storage_options=storage)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    else:
        rate = result.new_rows / result.seconds if result.seconds else 0
        what = f"version {result.version}" if result.new_rows else f"nothing new (version {result.version})"
        tables = ""
        if result.table_rows:  # `count` counts blocks: say how many table rows they hold
            per = r.to_yaml_dict()["params"].get("rows_per_sample")
            tables = f" ({result.table_rows:,} table rows" + (f" in blocks of {per:,}" if isinstance(per, int) else "") + ")"
        click.echo(f"{what}: {result.new_rows} new samples{tables}, {result.rows} rows of {r.name} "
                   f"({rate:.0f} samples/s), fingerprint {result.fingerprint[:16]}")


@cli.command()
@_ws_option
@click.option("--json", "as_json", is_flag=True)
def log(workspace: str | None, as_json: bool) -> None:
    """List manifest versions: number, time, rows, fingerprint, parents, tags and message."""
    versions = api.log(workspace)
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in versions], indent=2))
        return
    for v in reversed(versions):
        tags = f" [{', '.join(v.tags)}]" if v.tags else ""
        parents = ",".join(str(p) for p in v.parents) or "-"
        click.echo(f"v{v.version:<4} {v.timestamp:%Y-%m-%d %H:%M:%S}  {v.rows:>8} rows  {v.fingerprint[:12]}  "
                   f"parents {parents:<6}{tags}  {v.message}")


@cli.command()
@_ws_option
@click.argument("version", required=False)
@click.option("--json", "as_json", is_flag=True)
def show(workspace: str | None, version: str | None, as_json: bool) -> None:
    """Summarise a version: rows, classes, splits, origins, ranges of every sampled param."""
    info = api.show(workspace, version)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    click.echo(f"version {info['version']}  ({info['rows']} rows)  fingerprint {info['fingerprint']}")
    click.echo(f"message  {info['message']}")
    if info["tags"]:
        click.echo(f"tags     {', '.join(info['tags'])}")
    for title in ("recipes", "origins", "splits", "classes"):
        if info[title]:
            click.echo(f"{title:<8} " + ", ".join(f"{k}={v}" for k, v in info[title].items()))
    if info["params"]:
        click.echo("params")
        for key, r in sorted(info["params"].items()):
            if "min" in r:
                click.echo(f"  {key:<32} {r['min']:.6g} .. {r['max']:.6g}")
            elif "values" in r:
                click.echo(f"  {key:<32} " + ", ".join(f"{k}={n}" for k, n in sorted(r["values"].items())))


@cli.command()
@click.argument("sql")
@_ws_option
@_version_option
@click.option("--json", "as_json", is_flag=True)
def query(sql: str, workspace: str | None, version: str | None, as_json: bool) -> None:
    """Run DuckDB SQL over the manifest (table `manifest`)."""
    table = api.query(sql, workspace, version)
    if as_json:
        click.echo(json.dumps(table.to_pylist(), default=str))
        return
    names = table.column_names
    rows = table.to_pylist()
    widths = [max(len(n), *(len(_cell(r[n])) for r in rows)) if rows else len(n) for n in names]
    click.echo("  ".join(n.ljust(w) for n, w in zip(names, widths)))
    for r in rows:
        click.echo("  ".join(_cell(r[n]).ljust(w) for n, w in zip(names, widths)))


def _cell(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def scenes(as_json: bool) -> None:
    """List scenes and each parameter's type, default, bounds and description."""
    from synth.recipe.introspect import describe_scenes
    described = describe_scenes()
    if as_json:
        click.echo(json.dumps(described, indent=2, default=str))
        return
    echo_described(described, "modality", 28)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the recipe format (for editor completion)."""
    click.echo(json.dumps(api.schema(), indent=2))


def _register_modules() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.COMMANDS:
            cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    _register_modules()
    try:
        cli.main(args=argv, prog_name="synth", standalone_mode=False)
    except SynthError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("interrupted: re-run the same command to resume", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted: re-run the same command to resume", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except BrokenPipeError:
        os._exit(0)
    except Exception as exc:  # a full disk or a damaged manifest file: one line, not a traceback
        line = _storage_failure(exc)
        if line is None:
            raise
        click.echo(f"error: {line}", err=True)
        sys.exit(2)


def _storage_failure(exc: BaseException) -> str | None:
    """One line for a write that failed because the disk, the quota or the file size limit is full (an
    OSError's errno, or Lance's "(os error N)"), or for a Lance read of a damaged file that no reader below
    named; None for anything else, which keeps its traceback."""
    import re

    from synth.store.blobs import DISK_FULL, RETRY_AFTER_FREEING

    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen and len(seen) < 8:
        seen.append(e)
        e = e.__cause__ or e.__context__
    for e in seen:
        code = e.errno if isinstance(e, OSError) else None
        found = re.search(r"\(os error (\d+)\)", str(e))
        if code not in DISK_FULL and found:
            code = int(found.group(1))
        if code in DISK_FULL:
            path = (e.filename if isinstance(e, OSError) else None) or _path_being_written(e.__traceback__)
            where = f" while writing {path}" if path else ""
            return f"{DISK_FULL[code]}{where}; {RETRY_AFTER_FREEING}"
    for e in seen:
        text = str(e)
        if "LanceError(IO)" in text or "Encountered corrupt file" in text:
            # Rust adds source locations (", /path/to/file.rs:12:34") that mean nothing to a user
            text = re.sub(r",\s*/\S+\.rs:\d+:\d+", "", text.splitlines()[0] if text else text)
            return (f"reading the workspace failed ({text}): a file of manifest.lance or labels.lance is damaged; "
                    "`synth verify` names a damaged manifest file")
    return None


def _path_being_written(tb: Any) -> str | None:
    """The file a failed write was writing, from the innermost frame that holds it: an open file object
    (Python writers, tarfile) or a Lance dataset URI (Lance's errors name no file)."""
    import io

    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        for name, value in frame.f_locals.items():
            handle = value if isinstance(value, io.IOBase) else getattr(value, "fileobj", None)
            if isinstance(handle, io.IOBase) and isinstance(getattr(handle, "name", None), str):
                return handle.name
            if name in ("dataset_uri", "base_uri", "uri") and isinstance(value, str):
                return value
    return None


if __name__ == "__main__":
    main()
