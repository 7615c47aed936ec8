"""Describe registered scenes and tasks: every parameter's path, type, default, bounds, description."""
from __future__ import annotations

import types
import typing
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
                    "allowed": _allowed(fld.annotation), "description": fld.description or ""})
    return out


def _allowed(annotation: Any) -> list[Any] | None:
    """The values a `Literal[...]` parameter (or an optional one) takes; None for any other type."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [v for a in typing.get_args(annotation) for v in (_allowed(a) or [])]
        return found or None
    return None


ABBREVIATIONS = ("e.g", "i.e", "et al", "etc", "vs", "cf")  # a full stop after these ends no sentence


def summary_line(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph, whole however many lines it spans."""
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    for i, ch in enumerate(paragraph):
        if ch == "." and (i + 1 == len(paragraph) or paragraph[i + 1] == " ") \
                and not paragraph[:i].endswith(ABBREVIATIONS):
            return paragraph[:i + 1]
    return paragraph


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
        doc = summary_line(cls.__module__ and __import__(cls.__module__, fromlist=["x"]).__doc__)
        out.append({"name": name, "version": cls.version, "modality": cls.modality, "doc": doc,
                    "params": describe_model(cls.Params)})
    return out
