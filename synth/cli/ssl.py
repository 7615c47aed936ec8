"""CLI for pretext tasks: `synth ssl-tasks` lists them, `synth ssl apply` labels a manifest version."""
from __future__ import annotations

import json
from typing import Any

import click

from synth.cli.options import echo_described, workspace_option, emit, output_options

from synth.errors import SynthError


def parse_params(values: tuple[str, ...]) -> dict[str, Any]:
    """`--params` as one JSON object, or repeated k=v pairs whose values are read as JSON when they
    parse (numbers, booleans, lists) and as strings otherwise."""
    out: dict[str, Any] = {}
    for value in values:
        text = value.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SynthError(f"not valid JSON: {exc.msg} at column {exc.colno}", field="--params") from None
            out.update(parsed)
            continue
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            raise SynthError(f"expected a JSON object or key=value, got {value!r}", field="--params")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def describe_tasks() -> list[dict[str, Any]]:
    from synth import api
    return api.ssl_tasks()


@click.command("ssl-tasks")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def ssl_tasks(as_json: bool) -> None:
    """List pretext tasks, the modalities they accept and each parameter's type, default and bounds."""
    described = describe_tasks()
    if as_json:
        click.echo(json.dumps(described, indent=2, default=str))
        return
    echo_described(described, "modalities", 20)


@click.group("ssl")
def ssl() -> None:
    """Self-supervised pretext labels on stored data."""


@ssl.command("apply")
@click.option("--task", "-t", required=True, help="Pretext task (see `synth ssl-tasks`).")
@click.option("--params", "-p", "params", multiple=True, help="JSON object or key=value; repeatable.")
@click.option("--version", "version", default=None, help="Version number or tag to label (default: latest).")
@workspace_option
@click.option("--workers", "-j", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--image-format", type=click.Choice(["png", "jpg"]), default="png", show_default=True,
              help="Encoding of derived image payloads.")
@click.option("--message", "-m", default=None, help="Version message.")
@output_options
def ssl_apply(task: str, params: tuple[str, ...], version: str | None, workspace: str | None, workers: int,
              image_format: str, message: str | None, as_json: bool, quiet: bool) -> None:
    """Compute TASK's labels for every row of a version and commit them as a new version
    (a re-run with the same inputs changes nothing and commits nothing)."""
    from synth.core.scene import get_task
    from synth.data.pretext import apply_to_version, parse_params as check_params
    from synth.store.workspace import Workspace

    if workers < 1:
        raise SynthError("--workers must be at least 1", field="--workers")
    values = parse_params(params)
    check_params(get_task(task), values)  # bad task or params fail before the workspace is touched
    ws = Workspace.open(workspace)
    result = apply_to_version(ws, task, values, version=version, workers=workers, message=message,
                              image_format=image_format)
    if as_json or quiet:
        emit(result.as_dict(), "", as_json, quiet)
        return
    skipped = f", {result.skipped} rows without a matching payload left as they were" if result.skipped else ""
    if result.committed:
        click.echo(f"version {result.version}: {task} labels on {result.labelled} rows of version "
                   f"{result.source_version}{skipped} ({result.labelled / max(result.seconds, 1e-9):.0f} rows/s), "
                   f"fingerprint {result.fingerprint[:16]}")
    else:
        click.echo(f"nothing new: version {result.version} already holds these {task} labels "
                   f"(fingerprint {result.fingerprint[:16]})")


COMMANDS = [ssl_tasks, ssl]
