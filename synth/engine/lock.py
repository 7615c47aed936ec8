"""Regression locks: what N samples of each recipe rendered to (recipe, scene/task and library versions,
fingerprint, each sample's params and payload hashes), written to a lock file and checked against a fresh
render, with a cache keyed by recipe hash so an unchanged recipe is not rendered again."""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import platform
import shutil
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from synth.codecs.canonical import canonical_json
from synth.core.scene import get_task
from synth.errors import SynthError
from synth.recipe import Recipe, load_recipe

FORMAT = 1
DEFAULT_LOCK = "synth.lock"
DEFAULT_COUNT = 32
CACHE_DIR = ".synth-cache/lock"  # next to the lock file: inside the clone, never in the user's home
# distributions whose version can change a rendered byte; the ones not installed are left out
# (pyproject's `pinned` extra pins the same ones, except trdg and the 3d extra's, which are pinned anyway,
# and opencv-python, which should not be there at all: a GUI build's cv2 beside the headless one)
RENDERING_LIBRARIES = ("numpy", "scipy", "pillow", "opencv-python-headless", "opencv-python", "imagecodecs",
                       "scikit-image", "trdg", "faker", "nlpaug", "audiomentations", "librosa", "soxr",
                       "soundfile", "fonttools", "bpy", "blenderproc")


def library_versions() -> dict[str, str]:
    """Python, this package and every rendering library installed, with their versions."""
    out = {"python": platform.python_version()}
    for dist in sorted({*RENDERING_LIBRARIES, *_own_distributions()}):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _own_distributions() -> list[str]:
    # the distribution that installed the `synth` package, whatever it is called on the index
    return metadata.packages_distributions().get("synth", [])


def code_digest(recipe: Recipe) -> str:
    """sha256 of synth's own files and of the modules of the recipe's scene and pretext tasks: a cache
    entry made by other rendering code is not reused."""
    package = Path(__file__).resolve().parents[1]  # synth/
    files = {p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    for cls in (recipe.scene_cls, *(get_task(name) for name, _ in recipe.ssl_params)):
        source = inspect.getsourcefile(cls)
        if source:
            files.add(Path(source))
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _short(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:16]


def render_entry(recipe: Recipe, count: int, work_dir: Path, workers: int = 1) -> dict[str, Any]:
    """Render `count` samples of `recipe` into a scratch workspace under `work_dir` (removed afterwards)
    and describe them: the fingerprint `synth generate -n COUNT` gives, and each sample's content."""
    from synth.engine.generate import generate
    from synth.store.workspace import Workspace

    recipe = recipe.with_count(count)
    scratch = work_dir / f"render-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        ws = Workspace.open(str(scratch), create=True)
        result = generate(recipe, ws, workers=workers, message="synth lock")
        table = ws.manifest.to_table(columns=["index", "params", "payloads", "labels", "split"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    samples = []
    for row in sorted(table.to_pylist(), key=lambda r: r["index"]):
        payloads = json.loads(row["payloads"] or "{}")
        samples.append({
            "index": row["index"], "params": json.loads(row["params"] or "{}"),
            "payloads": {k: (p["hash"][:16] if isinstance(p, dict) and p.get("hash") else _short(p))
                         for k, p in sorted(payloads.items())},
            "labels": _short(json.loads(row["labels"] or "null")), "split": row["split"]})
    return {"name": recipe.name, "recipe_hash": recipe.hash, "recipe": recipe.identity(), "count": count,
            "scene": {"name": recipe.model.scene, "version": recipe.scene_cls.version},
            "tasks": {name: get_task(name).version for name, _ in recipe.ssl_params},
            "libraries": library_versions(), "fingerprint": result.fingerprint, "samples": samples}


# ---------------------------------------------------------------------------------------------
# the lock file and the cache

def read_lock(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"format": FORMAT, "recipes": {}}
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise SynthError(f"{path} is not a synth lock file (not JSON: {str(exc).splitlines()[0]})",
                         file=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("recipes"), dict):
        raise SynthError(f"{path} is not a synth lock file of format {FORMAT}", file=str(path))
    return data


def write_lock(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)  # a reader never sees half a lock file


class Cache:
    """Rendered entries by (recipe hash, count, library versions, rendering code), as JSON files."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    @staticmethod
    def key(recipe: Recipe, count: int) -> str:
        return _short({"recipe_hash": recipe.hash, "count": count, "libraries": library_versions(),
                       "code": code_digest(recipe)})

    def get(self, key: str) -> dict[str, Any] | None:
        if self.root is None:
            return None
        try:
            return json.loads((self.root / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None  # missing or damaged: render again

    def put(self, key: str, entry: dict[str, Any]) -> None:
        if self.root is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{key}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(entry, sort_keys=True))
        tmp.replace(self.root / f"{key}.json")


@dataclass
class LockOutcome:
    recipe: str
    status: str  # locked | ok | changed
    cached: bool
    count: int
    fingerprint: str
    reasons: list[str] = field(default_factory=list)
    first_difference: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # what differs without changing a byte or a version

    def as_dict(self) -> dict[str, Any]:
        return {"recipe": self.recipe, "status": self.status, "cached": self.cached, "count": self.count,
                "fingerprint": self.fingerprint, "reasons": self.reasons, "first_difference": self.first_difference,
                "notes": self.notes}


def _key(recipe_path: str, lock_path: Path) -> str:
    return Path(os.path.relpath(os.path.abspath(recipe_path), lock_path.resolve().parent)).as_posix()


def _entry(recipe_path: Path, count: int, cache: Cache, work_dir: Path, workers: int) -> tuple[dict[str, Any], bool]:
    recipe = load_recipe(recipe_path)
    key = Cache.key(recipe, count)
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    entry = render_entry(recipe, count, work_dir, workers)
    cache.put(key, entry)
    return entry, False


def lock(recipes: list[str], lock_path: Path, count: int | None = None, workers: int = 1,
         cache_dir: Path | None = None) -> list[LockOutcome]:
    """Render and record `recipes` (all recipes already in the lock when none are given) and write the
    lock file; recipes already locked keep their count unless `count` is given."""
    data = read_lock(lock_path)
    entries: dict[str, Any] = data["recipes"]
    keys = [_key(r, lock_path) for r in recipes] or sorted(entries)
    if not keys:
        raise SynthError(f"no recipes given and {lock_path} locks none: `synth lock RECIPE...`", field="RECIPE")
    base = lock_path.resolve().parent
    cache = Cache(cache_dir)
    outcomes = []
    for key in keys:
        n = count or entries.get(key, {}).get("count") or DEFAULT_COUNT
        entry, cached = _entry(base / key, n, cache, cache_dir or base, workers)
        entries[key] = entry
        outcomes.append(LockOutcome(key, "locked", cached, n, entry["fingerprint"]))
    write_lock(lock_path, {"format": FORMAT, "recipes": dict(sorted(entries.items()))})
    return outcomes


def check(lock_path: Path, recipes: list[str] | None = None, workers: int = 1,
          cache_dir: Path | None = None) -> list[LockOutcome]:
    """Render every locked recipe (or those named) again at its locked count and compare with the lock."""
    if not lock_path.exists():
        raise SynthError(f"no lock file {lock_path}: write one with `synth lock RECIPE...`", file=str(lock_path))
    entries = read_lock(lock_path)["recipes"]
    keys = [_key(r, lock_path) for r in recipes or []] or sorted(entries)
    base = lock_path.resolve().parent
    cache = Cache(cache_dir)
    outcomes = []
    for key in keys:
        old = entries.get(key)
        if old is None:
            outcomes.append(LockOutcome(key, "changed", False, 0, "", [f"not in {lock_path.name}: run "
                                                                       f"`synth lock {key}`"]))
            continue
        if not (base / key).is_file():
            outcomes.append(LockOutcome(key, "changed", False, old["count"], "", ["the recipe file is gone"]))
            continue
        new, cached = _entry(base / key, old["count"], cache, cache_dir or base, workers)
        reasons, first, notes = compare(old, new)
        outcomes.append(LockOutcome(key, "changed" if reasons else "ok", cached, old["count"], new["fingerprint"],
                                    reasons, first, notes))
    return outcomes


# ---------------------------------------------------------------------------------------------
# what changed

def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _flat(value: Any, prefix: str = "", depth: int = 8) -> dict[str, Any]:
    """Nested dicts as {"a.b": value}, down to `depth` levels (a distribution stays one value)."""
    if isinstance(value, dict) and value and depth > 0:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k), depth - 1))
        return out
    return {prefix: value}


def _changed_fields(old: Any, new: Any) -> list[str]:
    a, b = _flat(old, depth=2), _flat(new, depth=2)
    return [f"{k}: {_show(a.get(k))} -> {_show(b.get(k))}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def compare(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None, list[str]]:
    """Why `new` differs from the locked `old` (empty when it does not), its first differing sample (index,
    what differs: a param, a payload, the labels or the split; the old and new value), and notes.

    A rendering library installed on one side only (bpy in the locked environment, not in a text-only
    pip install) is a note when the bytes are the same: the recipe evidently does not use it. A library
    whose version moved is a reason either way."""
    reasons, notes = [], []
    if old.get("recipe_hash") != new["recipe_hash"]:
        fields = _changed_fields(old.get("recipe", {}), new["recipe"])
        reasons.append("recipe changed" + (f" ({'; '.join(fields[:3])}{'; ...' if len(fields) > 3 else ''})"
                                           if fields else ""))
    if old.get("scene") != new["scene"]:
        reasons.append(f"scene {new['scene']['name']} version {old.get('scene', {}).get('version')} -> "
                       f"{new['scene']['version']}")
    for name in sorted(set(old.get("tasks", {})) | set(new["tasks"])):
        if old.get("tasks", {}).get(name) != new["tasks"].get(name):
            reasons.append(f"pretext task {name} version {old.get('tasks', {}).get(name)} -> {new['tasks'].get(name)}")
    for lib in sorted(set(old.get("libraries", {})) | set(new["libraries"])):
        was, now = old.get("libraries", {}).get(lib), new["libraries"].get(lib)
        if was != now:
            (reasons if was and now else notes).append(f"library {lib} {was or 'not installed'} -> "
                                                       f"{now or 'not installed'}")
    first = first_difference(old.get("samples", []), new["samples"])
    if old.get("fingerprint") != new["fingerprint"]:
        where = ""
        if first is not None:
            where = f": first differing sample {first['index']}, {first['what']} {_show(first['old'])} -> " \
                    f"{_show(first['new'])}"
        elif old.get("recipe_hash") != new["recipe_hash"]:
            where = ": every sample's content is the same, only the recipe's identity (sample ids) moved"
        reasons = [*reasons, *notes]  # with other bytes, a library that came or went may be why
        notes = []
        reasons.append(f"bytes changed (fingerprint {old.get('fingerprint', '')[:12]} -> {new['fingerprint'][:12]})"
                       f"{where}")
    elif reasons:
        reasons.append("bytes unchanged: `synth lock` records the new versions")
    return reasons, first, notes


def first_difference(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, Any] | None:
    for a, b in zip(old, new):
        for what, x, y in _sample_fields(a, b):
            if x != y:
                return {"index": b["index"], "what": what, "old": x, "new": y}
    if len(old) != len(new):
        return {"index": min(len(old), len(new)), "what": "sample", "old": len(old) > len(new) or None,
                "new": len(new) > len(old) or None}
    return None


def _sample_fields(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    pa, pb = _flat(a.get("params", {})), _flat(b.get("params", {}))
    out = [(f"param {k}", pa.get(k), pb.get(k)) for k in sorted(set(pa) | set(pb))]
    out += [(f"payload {k}", a.get("payloads", {}).get(k), b["payloads"].get(k))
            for k in sorted(set(a.get("payloads", {})) | set(b["payloads"]))]
    return out + [("labels", a.get("labels"), b["labels"]), ("split", a.get("split"), b["split"])]
