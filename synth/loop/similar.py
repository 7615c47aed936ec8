"""Similar samples: the nearest neighbours of some samples (failures, a slice) in a pool version, by the
gap's feature extractor or a model's embeddings; exact search for small pools, a Lance vector index
(IVF-PQ, built on demand and kept in the workspace) for large ones. The neighbours can be exported as
Label Studio tasks, so a team labels exactly the real samples that look like the failures."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from synth.errors import SynthError
from synth.loop.features import extractor_for
from synth.loop.samples import load_side
from synth.store.workspace import Workspace

INDEX_FROM = 50_000  # pool rows from which the Lance vector index is used instead of an exact search


@dataclass
class Neighbour:
    query: str
    sample_id: str
    distance: float
    rank: int

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "sample_id": self.sample_id, "distance": round(self.distance, 6),
                "rank": self.rank}


def similar(ws: Workspace, queries: Sequence[str], pool: int | str | None, *, k: int = 10,
            origin: str = "real", embeddings_model: str | None = None, index_from: int = INDEX_FROM,
            max_pool: int = 1_000_000) -> list[Neighbour]:
    """For every query sample id, its `k` nearest `origin` rows of version `pool` (queries themselves
    excluded). Vectors: `embeddings_model`'s embeddings (from `synth predictions import`), else the
    modality's built-in features, standardised."""
    if k < 1:
        raise SynthError("k must be at least 1", field="-k")
    if not queries:
        raise SynthError("no samples to search from", field="--to")
    pool_ids, pool_vecs, query_vecs = _vectors(ws, list(queries), pool, origin, embeddings_model, max_pool)
    keep = np.array([sid not in set(queries) for sid in pool_ids])
    pool_ids = [sid for sid, kp in zip(pool_ids, keep) if kp]
    pool_vecs = pool_vecs[keep]
    if not pool_ids:
        raise SynthError(f"version {pool} holds no {origin} rows besides the queries", field="--pool")
    k = min(k, len(pool_ids))
    if len(pool_ids) >= index_from:
        found = _indexed(ws, pool_ids, pool_vecs, query_vecs, k)
    else:
        found = _exact(pool_vecs, query_vecs, k)
    return [Neighbour(q, pool_ids[j], float(d), r + 1) for q, row in zip(queries, found)
            for r, (j, d) in enumerate(row)]


def _vectors(ws: Workspace, queries: list[str], pool: int | str | None, origin: str, model: str | None,
             max_pool: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    side = load_side(ws, pool, origin, name="pool", max_samples=max_pool)
    if model is not None:
        from synth.data.predictions import load_predictions

        preds, _ = load_predictions(ws, model)
        if "embedding" not in preds.column_names:
            raise SynthError(f"model '{model}' has no embeddings", field="--embeddings")
        vec = {s: e for s, e in zip(preds.column("sample_id").to_pylist(), preds.column("embedding").to_pylist())
               if e is not None}
        missing = [q for q in queries + side.ids if q not in vec]
        if missing:
            raise SynthError(f"{len(missing)} samples have no embedding from model '{model}' (e.g. {missing[0]})",
                             field="--embeddings")
        return side.ids, np.array([vec[s] for s in side.ids], float), np.array([vec[q] for q in queries], float)
    q_data = _query_data(ws, queries, side.modality)
    X = extractor_for(side.modality).fit_transform(side.data + q_data)
    mean, std = X[:len(side.ids)].mean(axis=0), X[:len(side.ids)].std(axis=0) + 1e-9
    X = (X - mean) / std
    return side.ids, X[:len(side.ids)], X[len(side.ids):]


def _query_data(ws: Workspace, queries: list[str], modality: str) -> list[Any]:
    """The queries' decoded payloads, wherever they are in the newest version (synthetic or real)."""
    found: dict[str, Any] = {}
    for origin in ("synthetic", "real"):
        try:
            side = load_side(ws, None, origin)
        except SynthError:
            continue
        found.update({sid: d for sid, d in zip(side.ids, side.data) if sid in set(queries)})
    missing = [q for q in queries if q not in found]
    if missing:
        raise SynthError(f"{len(missing)} query samples are not in the workspace (e.g. {missing[0]})", field="--to")
    return [found[q] for q in queries]


def _exact(pool: np.ndarray, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    out = []
    for q in queries:
        d = np.sqrt(((pool - q) ** 2).sum(axis=1))
        order = np.lexsort((np.arange(len(d)), d))[:k]  # ties: the earlier pool row, so results are stable
        out.append([(int(j), float(d[j])) for j in order])
    return out


def _indexed(ws: Workspace, ids: list[str], pool: np.ndarray, queries: np.ndarray,
             k: int) -> list[list[tuple[int, float]]]:
    """Lance's IVF-PQ index over the pool, cached in the workspace by the pool's content."""
    import lance

    key = hashlib.sha256(("\n".join(ids)).encode() + pool.astype(np.float32).tobytes()).hexdigest()[:16]
    uri = ws.path("vectors", f"{key}.lance")
    try:
        ds = lance.dataset(uri)
    except (ValueError, OSError, FileNotFoundError):
        dim = pool.shape[1]
        table = pa.table({"row": pa.array(range(len(ids)), pa.int64()),
                          "vector": pa.FixedSizeListArray.from_arrays(pa.array(pool.astype(np.float32).ravel()), dim)})
        ds = lance.write_dataset(table, uri, mode="overwrite")
        ds.create_index("vector", index_type="IVF_PQ", num_partitions=max(1, int(np.sqrt(len(ids)) // 4)),
                        num_sub_vectors=_sub_vectors(dim))
    out = []
    for q in queries:
        hits = ds.to_table(nearest={"column": "vector", "q": q.astype(np.float32), "k": k, "nprobes": 20,
                                    "refine_factor": 10}).to_pylist()
        out.append([(int(h["row"]), float(np.sqrt(h["_distance"]))) for h in hits])
    return out


def _sub_vectors(dim: int) -> int:
    for n in (16, 8, 4, 2, 1):
        if dim % n == 0:
            return n
    return 1


def read_queries(ws: Workspace, to: str) -> list[str]:
    """`--to`: a file of sample ids (one a line), a comma list, or a saved slice name."""
    path = Path(to)
    if path.is_file():
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    saved = ws.path("slices", f"{to}.json")
    if ws.fs.exists(saved):
        record = json.loads(ws.fs.cat_file(saved))
        return list(record.get("sample_ids") or [])
    return [s.strip() for s in to.split(",") if s.strip()]


def export_label_studio(ws: Workspace, neighbours: Sequence[Neighbour], out: str | Path) -> Path:
    """Label Studio's task import format: OUT/tasks.json (one task per distinct neighbour, its image under
    OUT/images/, the query and distance in the task's data) to load with `label-studio` local files."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    table = ws.manifest.to_table(None, columns=["sample_id", "payloads"]).to_pylist()
    payloads = {r["sample_id"]: json.loads(r["payloads"] or "{}") for r in table}
    tasks, seen = [], set()
    for n in neighbours:
        if n.sample_id in seen:
            continue
        seen.add(n.sample_id)
        image = payloads.get(n.sample_id, {}).get("image")
        data: dict[str, Any] = {"sample_id": n.sample_id, "similar_to": n.query, "distance": round(n.distance, 6)}
        if image and "hash" in image:
            name = f"{n.sample_id}.{image.get('format') or 'png'}"
            (out / "images" / name).write_bytes(ws.store.get(image["hash"]))
            data["image"] = f"images/{name}"
        tasks.append({"data": data})
    (out / "tasks.json").write_text(json.dumps(tasks, indent=1))
    return out / "tasks.json"
