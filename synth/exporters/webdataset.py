"""WebDataset export: POSIX tar shards per split, at least MIN_SHARDS per split (fewer only for a split with
fewer rows) so `DataLoader(num_workers=...)` gives every worker a shard, at most `shard_rows` rows each.
Each sample is `<id>.<ext>` payloads plus `<id>.json` (labels and provenance); masks are `<id>.mask.npy`
(integer instance ids: webdataset decodes .npy as an array whatever image decoding is asked for);
classification adds `<id>.cls` (class index, as webdataset expects, names in classes.json) and
`<id>.class.txt`; pretext targets sit under "ssl" in the .json (packed masks unpacked) next to derived
payloads as `<id>.ssl_<task>_<key>.<ext>` entries (.npy arrays); deterministic bytes (fixed mtime, owner)."""
from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from synth.core.sample import decode_blob
from synth.exporters.pretext import derived_payloads, task_targets
from synth.errors import SynthError
from synth.exporters.records import by_split, inside

MIN_SHARDS = 4  # a typical DataLoader num_workers: webdataset hands each worker whole shards


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    if "/" in name or "\\" in name or name.startswith("."):  # an entry that would unpack outside its folder
        raise SynthError(f"refusing tar entry {name!r}: sample ids and payload names must be plain file names",
                         field="sample_id")
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0o644, 0, 0, "", ""
    tar.addfile(info, io.BytesIO(data))


def export_webdataset(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path,
                      shard_rows: int = 1000) -> dict[str, Any]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shards: dict[str, list[str]] = {}
    splits = by_split(table)
    names = sorted({str(r["labels"]["class"]) for rs in splits.values() for r in rs if "class" in r["labels"]})
    classes = {n: i for i, n in enumerate(names)}
    if names:
        inside(out, "classes.json").write_text(json.dumps(names))
    for split, rs in splits.items():
        for i, chunk in enumerate(shard_chunks(rs, shard_rows)):
            name = f"{split}-{i:06d}.tar"
            with tarfile.open(inside(out, name), "w", format=tarfile.USTAR_FORMAT) as tar:
                for r in chunk:
                    _sample(tar, r, get_blob, classes)
            shards.setdefault(split, []).append(name)
    objects = sorted({str(o["class"]) for rs in splits.values() for r in rs
                      for o in r["labels"].get("objects") or [] if "class" in o})
    return {"splits": {k: len(v) for k, v in splits.items()}, "shards": shards, "classes": names or objects}


def shard_chunks(rows: list[Any], shard_rows: int) -> list[list[Any]]:
    """`rows` in order as consecutive shards of near-equal size: at least MIN_SHARDS (or one per row when
    there are fewer), at most `shard_rows` rows each."""
    n = max(min(len(rows), MIN_SHARDS), -(-len(rows) // shard_rows), 1)
    bounds = [len(rows) * i // n for i in range(n + 1)]
    return [rows[a:b] for a, b in zip(bounds, bounds[1:])]


def _entry(name: str, p: dict[str, Any]) -> str:
    """The tar entry's extension (the part after `<id>.`) of one payload."""
    # webdataset splits the key at the first dot: payload names become the extension's prefix
    suffix = name.replace(".", "_")
    if p.get("kind") == "mask" and "hash" in p:
        return f"{suffix}.npy"
    if "hash" in p:
        ext = p.get("format") or "bin"
        return ext if name in ("image", "audio") else f"{suffix}.{ext}"
    if p.get("kind") == "text":
        return "txt" if name == "text" else f"{suffix}.txt"
    return f"{suffix}.json"


def _ssl(r: dict[str, Any]) -> dict[str, Any]:
    """Each task's targets as the .json carries them, with `entries`: payload key -> this sample's tar entry."""
    out = {task: task_targets(rec) for task, rec in sorted(r["labels"].get("ssl", {}).items())}
    for (task, key), p in derived_payloads(r).items():
        out.setdefault(task, {}).setdefault("entries", {})[key] = _entry(f"ssl.{task}.{key}", p)
    return out


def _sample(tar: tarfile.TarFile, r: dict[str, Any], get_blob: Callable[[str], bytes],
            classes: dict[str, int]) -> None:
    key = r["sample_id"]
    for name, p in sorted(r["payloads"].items()):
        entry = f"{key}.{_entry(name, p)}"
        if p.get("kind") == "mask" and "hash" in p:
            buf = io.BytesIO()
            np.save(buf, decode_blob("mask", get_blob(p["hash"])), allow_pickle=False)
            _add(tar, entry, buf.getvalue())
        elif "hash" in p:
            _add(tar, entry, get_blob(p["hash"]))
        elif p.get("kind") == "text":
            _add(tar, entry, str(p["value"]).encode())
        else:
            _add(tar, entry, json.dumps(p.get("value")).encode())
    meta = {"sample_id": key, "origin": r["origin"], "split": r.get("split"), "labels": r["labels"],
            "source": r.get("source"), "license": r.get("license")}
    if r["labels"].get("ssl"):
        meta["ssl"] = _ssl(r)
    _add(tar, f"{key}.json", json.dumps(meta, sort_keys=True).encode())
    if "class" in r["labels"]:
        _add(tar, f"{key}.cls", str(classes[str(r["labels"]["class"])]).encode())
        _add(tar, f"{key}.class.txt", str(r["labels"]["class"]).encode())
