"""Describe registered scenes and tasks: every parameter's path, type, default, bounds, description."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from synth.recipe.model import _bounds, _is_per_instance, _submodel
from synth.core.scene import get_scene, scene_names


def describe_model(model: type[BaseModel], prefix: str = "") -> list[dict[str, Any]]:
    out = []
    for name, fld in model.model_fields.items():
        path = f"{prefix}{name}"
        sub = _submodel(fld.annotation)
        if sub is not None:
            out.extend(describe_model(sub, path + "."))
            continue
        per = _is_per_instance(fld)
        lo, hi = (per.low, per.high) if per else _bounds(fld)
        default = fld.get_default(call_default_factory=True)
        if hasattr(default, "to_yaml"):
            default = default.to_yaml()
        type_name = "distribution/object" if per else _type_name(fld.annotation)
        bounds = "" if lo is None and hi is None else f"{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}"
        out.append({"path": path, "type": type_name, "default": default, "bounds": bounds,
                    "description": fld.description or ""})
    return out


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "")


def describe_scenes() -> list[dict[str, Any]]:
    out = []
    for name in scene_names():
        try:
            cls = get_scene(name)
        except Exception as exc:  # a scene whose optional extra is missing still gets listed
            out.append({"name": name, "version": "?", "modality": "?", "doc": f"(unavailable: {exc})", "params": []})
            continue
        doc = (cls.__module__ and __import__(cls.__module__, fromlist=["x"]).__doc__ or "").strip().split("\n")[0]
        out.append({"name": name, "version": cls.version, "modality": cls.modality, "doc": doc,
                    "params": describe_model(cls.Params)})
    return out
