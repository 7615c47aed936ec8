"""Running a sweep: each variant of a sweep file generated as a tagged version, resumable; the sweep's
record kept in the workspace for `synth sweep status` and the report."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable

from synth.codecs.canonical import canonical_json
from synth.engine.executors import Executor, make_executor
from synth.engine.generate import generate
from synth.errors import SynthError
from synth.recipe.sweep import SWEEPS_DIR, Sweep, Variant
from synth.store.manifest import count_by


@dataclass
class VariantOutcome:
    variant: Variant
    version: int
    new_rows: int
    skipped: bool


def run_sweep(sweep: Sweep, ws: Any, *, workers: int | None = None, executor: str = "local",
              executor_options: dict[str, Any] | None = None,
              on_variant: Callable[[VariantOutcome], None] | None = None) -> list[VariantOutcome]:
    """Generate every variant not yet tagged; a killed sweep re-run resumes the variant it was in."""
    save_record(ws, sweep.record())
    workers = max(1, workers or os.cpu_count() or 1)
    with make_executor(executor, workers, executor_options) as ex:  # one Ray connection for all variants
        return _run_variants(sweep, ws, workers, ex, on_variant)


def _run_variants(sweep: Sweep, ws: Any, workers: int, ex: Executor,
                  on_variant: Callable[[VariantOutcome], None] | None) -> list[VariantOutcome]:
    outcomes = []
    for variant in sweep.variants:
        tags = _tags(ws)
        if variant.tag in tags:
            outcome = VariantOutcome(variant, tags[variant.tag], 0, True)
        else:
            message = f"sweep {sweep.name} {variant.id}: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in variant.overrides.items())
            extra = {"sweep": sweep.name, "variant": variant.id, "overrides": canonical_json(variant.overrides)}
            result = generate(variant.recipe, ws, workers=workers, message=message, executor=ex, extra=extra)
            version = result.version if result.new_rows else _committed(ws, sweep.name, variant.id, result.version)
            ws.manifest.tag(variant.tag, version)
            outcome = VariantOutcome(variant, version, result.new_rows, False)
        outcomes.append(outcome)
        if on_variant:
            on_variant(outcome)
    return outcomes


def _tags(ws: Any) -> dict[str, int]:
    if not ws.manifest.exists():
        return {}
    return {name: t["version"] for name, t in ws.manifest.dataset().tags.list().items()}


def _committed(ws: Any, sweep: str, variant: str, latest: int) -> int:
    """The version a variant committed before the driver died between commit and tag (else the latest:
    its rows were already in the workspace, e.g. from a plain generate of the same recipe)."""
    ds = ws.manifest.dataset()
    for v in reversed(ds.versions()):
        txn = ds.read_transaction(v["version"])
        props = dict(txn.transaction_properties or {}) if txn is not None else {}
        if props.get("sweep") == sweep and props.get("variant") == variant:
            return v["version"]
    return latest


def save_record(ws: Any, record: dict[str, Any]) -> None:
    folder = ws.path(SWEEPS_DIR)
    ws.fs.makedirs(folder, exist_ok=True)
    final = f"{folder}/{record['name']}.json"
    tmp = f"{folder}/.tmp-{record['name']}.json"
    with ws.fs.open(tmp, "w") as fh:
        fh.write(json.dumps(record, indent=1))
    ws.fs.mv(tmp, final)


def load_records(ws: Any, name: str | None = None) -> list[dict[str, Any]]:
    folder = ws.path(SWEEPS_DIR)
    if not ws.fs.exists(folder):
        return []
    records = []
    for file in sorted(ws.fs.ls(folder, detail=False)):
        base = file.rstrip("/").rsplit("/", 1)[-1]
        if base.endswith(".json") and not base.startswith(".tmp-"):
            record = json.loads(ws.fs.cat_file(file))
            if name is None or record["name"] == name:
                records.append(record)
    return records


def status(ws: Any, name: str | None = None) -> list[dict[str, Any]]:
    """One row per variant of every recorded sweep (or the named one): state, version, rows, overrides."""
    records = load_records(ws, name)
    if name is not None and not records:
        known = [r["name"] for r in load_records(ws)]
        raise SynthError(f"no sweep named '{name}' in this workspace; sweeps: {', '.join(known) or 'none'}",
                         field="sweep")
    tags = _tags(ws)
    counts: dict[str, int] = {}
    if ws.manifest.exists():
        counts = count_by(ws.manifest.to_table(columns=["recipe_hash"]), "recipe_hash")
    out = []
    for record in records:
        for v in record["variants"]:
            done = v["tag"] in tags
            out.append({"sweep": record["name"], "variant": v["id"], "state": "done" if done else "pending",
                        "version": tags.get(v["tag"]), "rows": counts.get(v["recipe_hash"], 0) if done else 0,
                        "overrides": v["overrides"]})
    return out
