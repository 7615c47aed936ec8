"""Options and output helpers shared by every CLI module, so each flag means the same everywhere."""
from __future__ import annotations

from typing import Any

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
            click.echo(f"  {p['path']:<{path_width}} {p['type']:<22} = {p['default']}{bounds}  {p['description']}")
        click.echo("")
