"""The per-sample producer: draws a sample's params, renders it, applies the recipe's pretext tasks,
stores its payloads and returns its manifest row. One lives in every rendering process."""
from __future__ import annotations

from typing import Any

from synth.codecs.canonical import canonical_json
from synth.core.sample import Sample
from synth.core.scene import get_task
from synth.core.seeding import RENDER_STREAM, rng_for, sample_seed
from synth.errors import RecipeError
from synth.recipe.model import Recipe
from synth.recipe.plan import Plan, assign_split, sample_id
from synth.store.blobs import Store
from synth.store.rows import row_hash


class Producer:
    """Renders one sample index of a recipe into a manifest row; lives once per worker process."""

    def __init__(self, recipe: Recipe, store: Store) -> None:
        self.recipe = recipe
        self.plan = Plan(recipe)
        self.scene = recipe.scene_cls()
        self.store = store
        self.hash = recipe.hash
        self.tasks = [(name, _task(name), params) for name, params in recipe.ssl_params]

    def close(self) -> None:
        """Stop the scene's renderer, if it runs one (a Blender render server)."""
        if hasattr(self.scene, "close"):
            self.scene.close()

    def rows(self, indices: list[int]) -> list[dict[str, Any]]:
        """Rows of a shard; returns only once every blob they name is in the store."""
        out = [self.row(i) for i in indices]
        self.store.flush()
        return out

    def render(self, index: int) -> Sample:
        draw = self.plan.params_for(index)
        sample = self.scene.render(draw.params, rng_for(self.recipe.seed, index, RENDER_STREAM))
        sample.params = draw.recorded
        for name, task, params in self.tasks:
            task.apply(sample, params, rng_for(self.recipe.seed, index, f"ssl.{name}"))
        return sample

    def row(self, index: int) -> dict[str, Any]:
        sample = self.render(index)
        out = self.recipe.model.outputs
        payloads = self._store_payloads(sample, out)
        labels = sample.labels if out.labels is None else {k: v for k, v in sample.labels.items() if k in out.labels}
        sid = sample_id(self.hash, index)
        width, height = sample.width, sample.height
        if width is None and "image" in sample.payloads:
            height, width = sample.payloads["image"].data.shape[:2]
        row = {
            "sample_id": sid, "origin": "synthetic", "recipe_name": self.recipe.name, "recipe_hash": self.hash,
            "index": index, "seed": sample_seed(self.recipe.seed, index),
            "params": canonical_json(sample.params), "scene": self.recipe.model.scene,
            "scene_version": self.recipe.scene_cls.version, "labels": canonical_json(labels),
            "payloads": canonical_json(payloads), "width": width, "height": height,
            "split": assign_split(sid, self.recipe.model.split), "group_key": sid,
            "source": None, "license": None, "note": None,
        }
        row["row_hash"] = row_hash(row)  # here, in parallel, rather than in the driver at commit time
        return row

    def _store_payloads(self, sample: Sample, out: Any) -> dict[str, Any]:
        wanted = out.payloads
        if wanted is not None:
            missing = [p for p in wanted if p not in sample.payloads]
            if missing:
                raise RecipeError(f"outputs.payloads names {', '.join(missing)}, but scene "
                                  f"'{self.recipe.model.scene}' makes: {', '.join(sorted(sample.payloads))}",
                                  file=self.recipe.file, field="outputs.payloads")
        stored: dict[str, Any] = {}
        for name, payload in sample.payloads.items():
            if wanted is not None and name not in wanted and not name.startswith("ssl."):
                continue
            if payload.inline:
                stored[name] = {"kind": payload.kind, "value": payload.inline_json()}
                continue
            fmt = out.audio_format if payload.kind == "audio" and payload.format is None else None
            if fmt:
                payload.format = fmt
            data, ext = payload.encode(out.image_format, out.jpeg_quality)
            digest = self.store.put_later(data)  # remote stores upload in the background; flushed per shard
            stored[name] = {"kind": payload.kind, "hash": digest, "format": ext}
        return stored


def _task(name: str) -> Any:
    return get_task(name)()
