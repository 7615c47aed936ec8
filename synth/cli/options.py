"""Options and output helpers shared by every CLI module, so each flag means the same everywhere."""
from __future__ import annotations

import json
from typing import Any, Callable

import click


def workspace_option(f: Any) -> Any:
    return click.option("--workspace", "-w", default=None, envvar="SYNTH_WORKSPACE",
                        help="Workspace folder or URL (default ./workspace, env SYNTH_WORKSPACE).")(f)


def echo_described(items: list[dict[str, Any]], kinds_key: str, path_width: int) -> None:
    """Print scenes or pretext tasks with each parameter's type, default, bounds and description."""
    for item in items:
        kinds = item[kinds_key]
        kinds = ", ".join(kinds) if isinstance(kinds, (list, tuple)) else kinds
        click.echo(f"{item['name']}  (v{item['version']}, {kinds})  {item['doc']}")
        for p in item["params"]:
            bounds = f" [{p['bounds']}]" if p["bounds"] else ""
            if p.get("allowed"):
                bounds += " {" + " | ".join(str(v) for v in p["allowed"]) + "}"
            click.echo(f"  {p['path']:<{path_width}} {p['type']:<22} = {p['default']}{bounds}  {p['description']}")
        click.echo("")


def output_options(f: Any) -> Any:
    """`--json` (the result as one JSON object on stdout) and `-q/--quiet` (nothing but errors), the same
    on every command that writes."""
    f = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")(f)
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)


def emit(result: Any, text: str | Callable[[], str], as_json: bool, quiet: bool) -> None:
    """Print a command's result: JSON, nothing, or the human line(s) `text` (a string, or a function
    that makes it, so quiet runs skip the formatting)."""
    if as_json:
        click.echo(json.dumps(result, default=str))
    elif not quiet:
        click.echo(text() if callable(text) else text)
