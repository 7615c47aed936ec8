"""A version's table blocks read back as one DataFrame, in (recipe, sample index) order."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from synth.errors import SynthError
from synth.store.workspace import Workspace
from synth.tabular.blocks import decode_block


def _rows(workspace: Any, version: int | str | None, recipe: str | None, column: str) -> tuple[Any, list[dict]]:
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    rows = ws.manifest.to_table(version=version, columns=["recipe_name", "index", column]).to_pylist()
    rows = [r for r in rows if recipe is None or r["recipe_name"] == recipe]
    return ws, sorted(rows, key=lambda r: (r["recipe_name"] or "", r["index"]))


def declared_target(workspace: Any, version: int | str | None = None, recipe: str | None = None) -> str | None:
    """The target column the version's table blocks declare in their labels, if they agree on one."""
    _, rows = _rows(workspace, version, recipe, "labels")
    names = {json.loads(r["labels"] or "{}").get("target") for r in rows}
    return names.pop() if len(names) == 1 else None


def load_table(workspace: Any, version: int | str | None = None, recipe: str | None = None) -> pd.DataFrame:
    """Concatenate the table blocks of a version (optionally of one recipe) in (recipe, index) order."""
    ws, rows = _rows(workspace, version, recipe, "payloads")
    blocks = []
    for row in rows:
        payload = json.loads(row["payloads"] or "{}").get("table")
        if payload and payload.get("kind") == "bytes":
            blocks.append(decode_block(ws.store.get(payload["hash"]), payload.get("format") or "parquet"))
    if not blocks:
        raise SynthError(f"version {version if version is not None else 'latest'} holds no table blocks"
                         + (f" of recipe '{recipe}'" if recipe else ""), field="version")
    return pd.concat(blocks, ignore_index=True)
