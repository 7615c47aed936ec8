"""Train straight from a workspace, without exporting: PyTorch datasets over a stored version.

    from torch.utils.data import DataLoader
    from synth.torch import SynthDataset
    ds = SynthDataset("workspace", version="v3", split="train", transform=my_transform)
    loader = DataLoader(ds, batch_size=32, shuffle=True, num_workers=2)

An item is a dict: `sample_id`, `split`, `origin`, every payload decoded (`image`: HxWxC uint8 RGB,
`mask`: HxW integer ids, `audio`: float32 samples with `sample_rate`, `array`: the stored array, other
blobs as bytes), `labels` (the label object current at that version), `params` (the sampled values) and
the typed labels torch code wants: `label` (int index into `ds.classes`) when the sample has a class,
`boxes` (float32 N x 4, xyxy pixels) and `box_labels` (int64 indices into `ds.classes`) when it has
objects. `transform(item)` may return anything `DataLoader` collates.

Blobs are read from the workspace's store (a local folder or any fsspec URL), each checked against its
sha256; linked imports are read from their URI. `SynthIterableDataset` streams the same items, each
worker of each rank (torch.distributed, or RANK/WORLD_SIZE) reading its own share.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from synth.errors import SynthError

COLUMNS = ["sample_id", "index", "origin", "split", "labels", "payloads", "params"]


class _Rows:
    """The rows of one version (labels as current at it), and the lazily opened workspace to read blobs."""

    def __init__(self, workspace: Any, version: int | str | None, split: str | list[str] | None,
                 transform: Callable[[dict[str, Any]], Any] | None, decode: bool,
                 storage_options: dict[str, Any] | None) -> None:
        from synth.store.lineage import current_table
        from synth.store.workspace import Workspace

        ws = workspace if isinstance(workspace, Workspace) else \
            Workspace.open(str(workspace), storage_options=storage_options)
        self._root, self._options = ws.root, storage_options
        self.version = ws.manifest.resolve(version)
        table = current_table(ws, self.version, columns=COLUMNS)
        rows = sorted(table.to_pylist(), key=lambda r: (r["split"] or "", r["index"] or 0, r["sample_id"]))
        splits = sorted({r["split"] for r in rows})
        self.classes = _classes(rows)  # from every split, so `label` means the same in train and val
        if split is not None:
            wanted = [split] if isinstance(split, str) else list(split)
            unknown = [s for s in wanted if s not in splits]
            if unknown:
                raise SynthError(f"version {self.version} has no split {', '.join(unknown)}; it has "
                                 f"{', '.join(splits) or 'no rows'}", field="split")
            rows = [r for r in rows if r["split"] in wanted]
        self.rows = rows
        self.transform, self.decode = transform, decode
        self._store: Any = None
        self._pid = 0

    def read(self, p: dict[str, Any]) -> bytes:
        """A blob's bytes from the store (or the URI of a linked import), checked against its sha256. Only
        the blob store is touched here, never the Lance manifest, so forked DataLoader workers are safe."""
        if self._store is None or self._pid != os.getpid():  # each DataLoader worker opens its own
            from synth.store.blobs import Store
            self._store, self._pid = Store(self._root, self._options or {}), os.getpid()
        digest = p["hash"]
        if self._store.exists(digest) or not p.get("uri"):
            data = self._store.get(digest)
        else:
            import fsspec
            with fsspec.open(p["uri"], "rb") as fh:
                data = fh.read()
        if hashlib.sha256(data).hexdigest() != digest:
            raise SynthError(f"blob {digest} is corrupt: its bytes no longer match their sha256 "
                             "(run `synth verify` to list every damaged sample)")
        return data

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_store": None}

    def item(self, i: int) -> Any:
        r = self.rows[i]
        labels = json.loads(r["labels"] or "{}")
        out: dict[str, Any] = {"sample_id": r["sample_id"], "split": r["split"], "origin": r["origin"],
                               "labels": labels, "params": json.loads(r["params"] or "{}")}
        for name, p in json.loads(r["payloads"] or "{}").items():
            out.update(self._payload(name, p))
        index = {c: k for k, c in enumerate(self.classes)}
        if labels.get("class") is not None:
            out["label"] = index[str(labels["class"])]
        objects = [o for o in labels.get("objects") or [] if o.get("box") is not None]
        if "objects" in labels:
            out["boxes"] = torch.tensor([o["box"] for o in objects], dtype=torch.float32).reshape(-1, 4)
            out["box_labels"] = torch.tensor([index[str(o["class"])] for o in objects], dtype=torch.int64)
        return self.transform(out) if self.transform is not None else out

    def _payload(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        from synth.core.sample import decode_blob

        if "hash" not in p:  # stored inline
            return {name: p.get("value")}
        data = self.read(p)
        if not self.decode:
            return {name: data}
        value = decode_blob(p["kind"], data)
        if p["kind"] == "audio":
            samples, rate = value
            return {name: np.ascontiguousarray(samples, dtype=np.float32), f"{name}_sample_rate": int(rate)}
        return {name: value}


def _classes(rows: list[dict[str, Any]]) -> list[str]:
    """Every class name of the rows (sample classes and object classes), sorted: the index `label` uses."""
    found: set[str] = set()
    for r in rows:
        labels = json.loads(r["labels"] or "{}")
        if labels.get("class") is not None:
            found.add(str(labels["class"]))
        found.update(str(o["class"]) for o in labels.get("objects") or [] if o.get("class") is not None)
    return sorted(found, key=lambda c: (len(c), c) if c.isdigit() else (1 << 30, c))


class SynthDataset(Dataset):
    """Map-style: `ds[i]` is the i-th row of `split` (all splits if None) of `version` (default latest),
    ordered by split, then sample index. `decode=False` gives payloads as the stored bytes."""

    def __init__(self, workspace: Any = None, version: int | str | None = None, split: str | list[str] | None = None,
                 transform: Callable[[dict[str, Any]], Any] | None = None, *, decode: bool = True,
                 storage_options: dict[str, Any] | None = None) -> None:
        self._rows = _Rows(workspace, version, split, transform, decode, storage_options)
        self.version, self.classes = self._rows.version, self._rows.classes

    def __len__(self) -> int:
        return len(self._rows.rows)

    def __getitem__(self, i: int) -> Any:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._rows.item(i % len(self))


def shard_position() -> tuple[int, int]:
    """(this reader's shard, how many shards): one per DataLoader worker of each distributed rank."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    else:
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    info = get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * workers + worker, world * workers


class SynthIterableDataset(IterableDataset):
    """Streaming: each DataLoader worker of each rank yields every n-th row (n = workers x world size), so
    together they read each row once per epoch. `shuffle` reorders the rows each epoch from
    `seed` + epoch (call `set_epoch`), the same order on every rank."""

    def __init__(self, workspace: Any = None, version: int | str | None = None, split: str | list[str] | None = None,
                 transform: Callable[[dict[str, Any]], Any] | None = None, *, shuffle: bool = False, seed: int = 0,
                 decode: bool = True, storage_options: dict[str, Any] | None = None) -> None:
        self._rows = _Rows(workspace, version, split, transform, decode, storage_options)
        self.version, self.classes = self._rows.version, self._rows.classes
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self._rows.rows)

    def order(self) -> np.ndarray:
        n = len(self._rows.rows)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n)

    def __iter__(self) -> Iterator[Any]:
        shard, shards = shard_position()
        for i in self.order()[shard::shards]:
            yield self._rows.item(int(i))
