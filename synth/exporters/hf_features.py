"""Hugging Face `datasets` features written without importing `datasets`: each feature in its JSON form
(`Features.to_dict()`), the Arrow type that stores it, the card's YAML form, and typed columns for the
label kinds synth knows (classes, objects, masks, OCR words, key fields, entity spans, sound events) and
for the sampled recipe parameters (`params.<path>`)."""
from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa

from synth.exporters.pretext import BLOB

Feature = dict[str, Any]


def value(dtype: str) -> Feature:
    return {"dtype": dtype, "_type": "Value"}


def class_label(names: list[str]) -> Feature:
    return {"names": list(names), "_type": "ClassLabel"}


def listed(feature: Feature, length: int | None = None) -> Feature:
    return {"feature": feature, "_type": "List", **({"length": length} if length else {})}


def sequence(fields: dict[str, Feature]) -> Feature:
    """`datasets.Sequence` of a dict: a dict of lists (one list per field, the layout of COCO-style hubs)."""
    return {name: listed(f) for name, f in fields.items()}


_ARROW = {"string": pa.string(), "bool": pa.bool_(), "int32": pa.int32(), "int64": pa.int64(),
          "float32": pa.float32(), "float64": pa.float64()}


def arrow_type(feature: Feature) -> pa.DataType:
    """The Arrow type `datasets` stores a feature as (ClassLabel: int64; Image/Audio: {bytes, path})."""
    kind = feature.get("_type")
    if kind == "Value":
        return _ARROW[feature["dtype"]]
    if kind == "ClassLabel":
        return pa.int64()
    if kind in ("Image", "Audio"):
        return BLOB
    if kind == "List":
        inner = arrow_type(feature["feature"])
        return pa.list_(inner, feature["length"]) if feature.get("length") else pa.list_(inner)
    if kind is None:
        return pa.struct([(name, arrow_type(f)) for name, f in feature.items()])
    raise ValueError(f"no Arrow type for feature {feature}")


def yaml_features(features: dict[str, Feature]) -> list[dict[str, Any]]:
    """The card's `dataset_info.features` list, as `datasets.Features._to_yaml_list` writes it."""
    def simplify(f: dict[str, Any]) -> dict[str, Any]:
        inner = f.get("list")
        if isinstance(inner, dict) and list(inner) == ["dtype"]:
            f["list"] = inner["dtype"]
        elif isinstance(inner, dict) and list(inner) == ["struct"]:
            f["list"] = inner["struct"]
        return f

    def inner(f: Feature) -> dict[str, Any]:
        f = dict(f)
        kind = f.pop("_type", None)
        if kind == "List":
            return simplify({"list": inner(f.pop("feature")), **f})
        if kind == "Value":
            return f
        if kind == "ClassLabel":
            return {"dtype": {"class_label": {"names": {str(i): n for i, n in enumerate(f["names"])}}}}
        if kind:
            return {"dtype": kind.lower()}
        return {"struct": [{"name": name, **inner(sub)} for name, sub in f.items()]}

    return inner(dict(features))["struct"]


def card_yaml(data: dict[str, Any]) -> str:
    from ruamel.yaml import YAML
    yaml = YAML()  # round-trip dumper: keys keep their order (`datasets` reads a feature's kind from its first key)
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


# ---- typed label columns -------------------------------------------------------------------------------

def _names(values: Any) -> list[str]:
    return sorted({str(v) for v in values if v is not None})


def word_quad(word: dict[str, Any]) -> list[list[float]] | None:
    if word.get("quad"):
        return [[float(x), float(y)] for x, y in word["quad"]]
    if word.get("box"):
        x0, y0, x1, y1 = (float(v) for v in word["box"])
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return None


def _area(obj: dict[str, Any]) -> float:
    if obj.get("area") is not None:
        return float(obj["area"])
    poly = obj.get("polygon") or obj.get("quad")
    if poly:
        from synth.exporters.coco import _polygon_area
        return _polygon_area(poly)
    x0, y0, x1, y1 = obj["box"]
    return float((x1 - x0) * (y1 - y0))


class LabelColumns:
    """The typed columns of the label kinds present in `rows` (all splits, so every split has one schema);
    each column's feature and its value for one row. What no column holds stays in `labels_json`."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        labels = [r["labels"] for r in rows]
        self.features: dict[str, Feature] = {}
        self.classes = _names(lab.get("class") for lab in labels if "class" in lab)
        if self.classes:
            self.features["label"] = class_label(self.classes)
        self.objects = _names(o.get("class") for lab in labels for o in lab.get("objects") or [])
        if any("objects" in lab for lab in labels):
            self.features["objects"] = sequence({
                "bbox": listed(value("float32"), 4), "category": class_label(self.objects),
                "area": value("float32"), "iscrowd": value("int64"), "instance_id": value("int64")})
        if any(lab.get("words") for lab in labels):
            self.features["words"] = sequence({"quad": listed(listed(value("float32"), 2), 4),
                                               "text": value("string")})
        if any(isinstance(lab.get("transcript"), str) for lab in labels):
            self.features["transcript"] = value("string")
        self.fields = _names(k for lab in labels if isinstance(lab.get("fields"), dict) for k in lab["fields"])
        if self.fields:
            self.features["fields"] = {k: value("string") for k in self.fields}
        self.intents = _names(lab.get("intent") for lab in labels if isinstance(lab.get("intent"), str))
        if self.intents:
            self.features["intent"] = class_label(self.intents)
        self.entities = _names(s[2] for lab in labels for s in _spans(lab))
        if any("spans" in lab for lab in labels):
            self.features["entities"] = sequence({"start": value("int32"), "end": value("int32"),
                                                  "label": class_label(self.entities)})
        self.events = _names(e.get("class") for lab in labels for e in _events(lab))
        if any(_events(lab) for lab in labels):
            self.features["events"] = sequence({"label": class_label(self.events), "onset_s": value("float32"),
                                                "offset_s": value("float32")})

    def values(self, labels: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        f = self.features
        if "label" in f:
            cls = labels.get("class")
            out["label"] = None if cls is None else self.classes.index(str(cls))
        if "objects" in f:
            objs = [o for o in labels.get("objects") or [] if o.get("box") is not None and o.get("class") is not None]
            out["objects"] = {
                "bbox": [[float(o["box"][0]), float(o["box"][1]), float(o["box"][2] - o["box"][0]),
                          float(o["box"][3] - o["box"][1])] for o in objs],
                "category": [self.objects.index(str(o["class"])) for o in objs],
                "area": [_area(o) for o in objs], "iscrowd": [0 for _ in objs],
                "instance_id": [o.get("instance_id") for o in objs]}
        if "words" in f:
            words = [(w, word_quad(w)) for w in labels.get("words") or []]
            words = [(w, q) for w, q in words if q is not None]
            out["words"] = {"quad": [q for _, q in words], "text": [str(w.get("text", "")) for w, _ in words]}
        if "transcript" in f:
            t = labels.get("transcript")
            out["transcript"] = t if isinstance(t, str) else None
        if "fields" in f:
            given = labels.get("fields") if isinstance(labels.get("fields"), dict) else {}
            out["fields"] = {k: _field_text(given.get(k)) for k in self.fields}
        if "intent" in f:
            it = labels.get("intent")
            out["intent"] = self.intents.index(it) if isinstance(it, str) else None
        if "entities" in f:
            spans = _spans(labels)
            out["entities"] = {"start": [int(s[0]) for s in spans], "end": [int(s[1]) for s in spans],
                               "label": [self.entities.index(str(s[2])) for s in spans]}
        if "events" in f:
            ev = _events(labels)
            out["events"] = {"label": [self.events.index(str(e["class"])) for e in ev],
                             "onset_s": [float(e["onset_s"]) for e in ev],
                             "offset_s": [float(e["offset_s"]) for e in ev]}
        return out


def _field_text(field: Any) -> str | None:
    if isinstance(field, dict):
        return None if field.get("text") is None else str(field["text"])
    return None if field is None else str(field)


def _spans(labels: dict[str, Any]) -> list[list[Any]]:
    spans = labels.get("spans")
    return [s for s in spans if isinstance(s, (list, tuple)) and len(s) >= 3] if isinstance(spans, list) else []


def _events(labels: dict[str, Any]) -> list[dict[str, Any]]:
    ev = labels.get("events")
    return [e for e in ev if isinstance(e, dict) and "class" in e and "onset_s" in e and "offset_s" in e] \
        if isinstance(ev, list) else []


# ---- sampled parameters --------------------------------------------------------------------------------

def _scalar_dtype(values: list[Any]) -> str | None:
    """The one Value dtype all non-null values share (int and float together: float64), or None."""
    present = [v for v in values if v is not None]
    if not present:
        return "string"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int64"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "float64"
    if all(isinstance(v, str) for v in present):
        return "string"
    return None


class ParamColumns:
    """`params.<path>`: each sampled parameter as a typed column; one that is not a scalar of one type
    (a distribution left for the scene to draw, a list, mixed types) as JSON text."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        paths = sorted({k for r in rows for k in (r.get("params") or {})})
        self.dtypes: dict[str, str | None] = {
            p: _scalar_dtype([(r.get("params") or {}).get(p) for r in rows]) for p in paths}
        self.features = {f"params.{p}": value(d or "string") for p, d in self.dtypes.items()}

    def values(self, params: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for p, d in self.dtypes.items():
            v = (params or {}).get(p)
            if v is not None and d is None:
                v = json.dumps(v, sort_keys=True)
            elif v is not None and d == "float64":
                v = float(v)
            out[f"params.{p}"] = v
        return out
