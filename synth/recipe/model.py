"""Recipes: load YAML (with `extends`), validate against the recipe model and the scene's Params,
and resolve every scene parameter to a distribution keyed by its dotted path."""
from __future__ import annotations

import copy
import hashlib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from synth.recipe import distributions as D
from synth.errors import RecipeError, SynthError, did_you_mean
from synth.codecs.canonical import canonical_json
from synth.core.scene import Scene, get_scene, get_task
from synth.recipe.yamlio import limit

MAX_COUNT = ("SYNTH_MAX_COUNT", 10_000_000)  # README "Guarantees"; planning costs ~2 s and ~40 MB per million


class SSLSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: str = Field(description="Name of a registered pretext task (see `synth ssl-tasks`).")
    params: dict[str, Any] = Field(default_factory=dict, description="The task's parameters.")


class Outputs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payloads: list[str] | None = Field(None, description="Payloads to store (default: all the scene makes).")
    labels: list[str] | None = Field(None, description="Top-level label keys to keep (default: all).")
    image_format: Literal["png", "jpg"] = Field("png", description="Encoding of image payloads.")
    jpeg_quality: int = Field(95, ge=1, le=100, description="JPEG quality when image_format is jpg.")
    audio_format: Literal["wav", "flac"] = Field("wav", description="Encoding of audio payloads (PCM 16).")
    size: tuple[int, int] | None = Field(None, description="Image [width, height]; sets the scene's "
                                                            "width/height params.")

    @field_validator("size")
    @classmethod
    def _positive(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and (v[0] <= 0 or v[1] <= 0):
            raise ValueError("width and height must be positive")
        return v


class RecipeModel(BaseModel):
    """The recipe file format. `synth schema` prints it as JSON Schema."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Recipe name (letters, digits, _.-).")
    description: str = Field("", description="What this recipe is for.")
    extends: str | None = Field(None, description="Path of a base recipe (relative to this file) to override.")
    scene: str = Field(description="Registered scene name (see `synth scenes`).")
    count: int = Field(gt=0, description="Number of samples to generate.")
    seed: int = Field(0, ge=0, lt=2**63, description="Recipe seed; with the sample index and parameter path it "
                                                     "determines every draw.")
    params: dict[str, Any] = Field(default_factory=dict, description="Scene parameters: constants or "
                                   "distributions, nested mappings or dotted paths.")
    outputs: Outputs = Field(default_factory=Outputs)
    split: dict[str, float] = Field(default_factory=lambda: {"train": 1.0},
                                    description="Split fractions, e.g. {train: 0.8, val: 0.1, test: 0.1}.")
    ssl: list[SSLSpec] = Field(default_factory=list, description="Pretext tasks applied to every sample.")
    tune: dict[str, Any] | None = Field(None, description="What `synth tune` may search: parameter path -> a "
                                        "[min, max] range per distribution argument (see synth/recipe/tune.py). "
                                        "Not part of the recipe hash.")

    @field_validator("count")
    @classmethod
    def _count_limit(cls, v: int) -> int:
        check_count(v)
        return v

    @field_validator("split")
    @classmethod
    def _fractions(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("needs at least one split")
        for name, frac in v.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
                raise ValueError(f"split name '{name}' must be an identifier")
            if not 0 <= frac <= 1:
                raise ValueError(f"fraction of '{name}' must be in [0, 1], got {frac}")
        if not math.isclose(sum(v.values()), 1.0, abs_tol=1e-6):
            raise ValueError(f"fractions must sum to 1, got {sum(v.values()):g}")
        return v


def check_count(count: int) -> None:
    """Refuse a count past MAX_COUNT: planning and progress grow with it, so 10^23 would never finish."""
    cap = limit(MAX_COUNT)
    if count > cap:
        raise ValueError(f"count must be at most {cap:,} (raise the limit with {MAX_COUNT[0]}), "
                         f"got {short_repr(count)}")


def short_repr(value: Any) -> str:
    """A value for an error message: a huge integer by its digit count (repr of one past 4300 digits raises,
    and a page of digits helps nobody), a long string cut short."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"an integer of {len(str(abs(value))) if abs(value).bit_length() < 14_000 else 'over 4,000'} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class Recipe:
    """A validated recipe: the model, its scene class and one distribution per parameter path."""

    model: RecipeModel
    scene_cls: type[Scene]
    specs: dict[str, D.Distribution]
    file: str
    lines: dict[tuple[str, ...], tuple[str, int]] = field(default_factory=dict)
    ssl_params: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def count(self) -> int:
        return self.model.count

    @property
    def seed(self) -> int:
        return self.model.seed

    def identity(self) -> dict[str, Any]:
        """Everything that decides a sample's bytes (count and description do not)."""
        return {
            "name": self.model.name,
            "scene": self.model.scene,
            "scene_version": self.scene_cls.version,
            "seed": self.model.seed,
            "params": {p: d.to_yaml() for p, d in sorted(self.specs.items())},
            "outputs": self.model.outputs.model_dump(mode="json"),
            "split": self.model.split,
            "ssl": [s.model_dump(mode="json") for s in self.model.ssl],
        }

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()

    def to_yaml_dict(self) -> dict[str, Any]:
        data = self.model.model_dump(mode="json", exclude={"extends"})
        data["params"] = {p: d.to_yaml() for p, d in sorted(self.specs.items())}
        return data

    def with_count(self, count: int) -> Recipe:
        if count <= 0:
            raise RecipeError(f"count must be a positive integer, got {short_repr(count)}", field="count")
        try:
            check_count(count)
        except ValueError as exc:
            raise RecipeError(str(exc), field="count") from None
        clone = copy.copy(self)
        clone.model = self.model.model_copy(update={"count": count})
        return clone


def _line(lines: dict, path: tuple[str, ...]) -> tuple[str | None, int | None]:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), (None, None))


def build_recipe(data: dict[str, Any], lines: dict, file: str) -> Recipe:
    """The validated Recipe of a parsed (and merged) recipe mapping; `lines` maps key paths to file:line."""
    try:
        model = RecipeModel.model_validate(data)
    except ValidationError as exc:
        raise _model_error(exc, lines, file, RecipeModel, ()) from None
    scene_cls = _scene(model, lines, file)
    params = dict(model.params)
    if model.outputs.size is not None:
        fields = scene_cls.Params.model_fields
        if "width" not in fields or "height" not in fields:
            f, ln = _line(lines, ("outputs", "size"))
            raise RecipeError(f"scene '{model.scene}' has no width/height params", file=f or file, line=ln,
                              field="outputs.size")
        params["width"], params["height"] = model.outputs.size
    specs: dict[str, D.Distribution] = {}
    _flatten(scene_cls.Params, params, ("params",), (), specs, lines, file, model.scene)
    ssl_params = _ssl(model, lines, file)
    return Recipe(model, scene_cls, specs, file, lines, ssl_params)


def _scene(model: RecipeModel, lines: dict, file: str) -> type[Scene]:
    try:
        return get_scene(model.scene)
    except SynthError as exc:
        f, ln = _line(lines, ("scene",))
        raise RecipeError(exc.message, file=f or file, line=ln, field="scene") from None


def _ssl(model: RecipeModel, lines: dict, file: str) -> list[tuple[str, Any]]:
    out = []
    for i, spec in enumerate(model.ssl):
        where = ("ssl", str(i))
        try:
            task_cls = get_task(spec.task)
        except SynthError as exc:
            f, ln = _line(lines, (*where, "task"))
            raise RecipeError(exc.message, file=f or file, line=ln, field=f"ssl[{i}].task") from None
        try:
            task_params = task_cls.Params.model_validate(spec.params)
            check = getattr(task_cls(), "check", None)
            if check is not None:
                check(task_params)
        except ValidationError as exc:
            raise _model_error(exc, lines, file, task_cls.Params, (*where, "params")) from None
        except ValueError as exc:
            f, ln = _line(lines, (*where, "params"))
            raise RecipeError(str(exc), file=f or file, line=ln, field=f"ssl[{i}].params") from None
        scene_modality = None
        scene_cls = get_scene(model.scene)
        scene_modality = getattr(scene_cls, "modality", None)
        if scene_modality and task_cls.modalities and scene_modality not in task_cls.modalities:
            f, ln = _line(lines, (*where, "task"))
            raise RecipeError(f"pretext task '{spec.task}' accepts {', '.join(task_cls.modalities)} samples, "
                              f"but scene '{model.scene}' makes {scene_modality}", file=f or file, line=ln,
                              field=f"ssl[{i}].task")
        out.append((spec.task, task_params))
    return out


def _model_error(exc: ValidationError, lines: dict, file: str, model: type[BaseModel],
                 prefix: tuple[str, ...]) -> RecipeError:
    # an unknown key usually explains the "missing" one next to it (a misspelling): report it first
    err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = tuple(str(p) for p in err["loc"])
    path = (*prefix, *loc)
    f, ln = _line(lines, path)
    dotted = ".".join(path)
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        msg = f"unknown key '{loc[-1]}'{did_you_mean(loc[-1], allowed)}; allowed: {', '.join(allowed)}"
    elif err["type"] == "missing":
        msg = "required key is missing"
    else:
        msg = err["msg"]
        if loc and loc[-1] == "count" and err["type"] == "value_error":  # check_count's message says it all
            msg = msg.removeprefix("Value error, ")
        elif "input" in err and not isinstance(err["input"], (dict, list)):
            msg += f" (got {short_repr(err['input'])})"
        if loc and loc[-1] == "count" and err["type"] in ("greater_than", "int_parsing", "int_type"):
            msg = f"count must be a positive integer (got {short_repr(err.get('input'))})"
    return RecipeError(msg, file=f or file, line=ln, field=dotted)


def _allowed_keys(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    for part in loc:
        fld = model.model_fields.get(part)
        sub = _submodel(fld.annotation) if fld else None
        if sub is None:
            return []
        model = sub
    return sorted(model.model_fields)


# ---------------------------------------------------------------------------------------------
# scene params: flatten, parse distributions, check types and bounds


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        subs = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        return subs[0] if len(subs) == 1 else None
    return None


def _flatten(model: type[BaseModel], params: dict[str, Any], where: tuple[str, ...], prefix: tuple[str, ...],
             specs: dict[str, D.Distribution], lines: dict, file: str, scene: str) -> None:
    for key, value in params.items():
        parts = tuple(key.split("."))
        cur_model, path = model, prefix
        for i, part in enumerate(parts):
            fields = cur_model.model_fields
            if part not in fields:
                f, ln = _line(lines, (*where, key))
                full = ".".join((*path, part))
                raise RecipeError(f"scene '{scene}' has no parameter '{full}'{did_you_mean(part, fields)}; "
                                  f"allowed here: {', '.join(sorted(fields))}", file=f or file, line=ln,
                                  field=".".join((*where, key)))
            path = (*path, part)
            if i < len(parts) - 1:
                sub = _submodel(fields[part].annotation)
                if sub is None:
                    f, ln = _line(lines, (*where, key))
                    raise RecipeError(f"'{'.'.join(path)}' is not a group of parameters", file=f or file, line=ln,
                                      field=".".join((*where, key)))
                cur_model = sub
        fld = cur_model.model_fields[parts[-1]]
        sub = _submodel(fld.annotation)
        if sub is not None and isinstance(value, dict) and not D.is_distribution_spec(value) \
                and not _is_per_instance(fld):
            _flatten(sub, value, (*where, key), path, specs, lines, file, scene)
            continue
        specs[".".join(path)] = _leaf(fld, value, (*where, key), ".".join(path), lines, file, scene)


def _is_per_instance(fld: Any) -> D._PerInstance | None:
    for m in fld.metadata:
        if isinstance(m, D._PerInstance):
            return m
    return None


def _leaf(fld: Any, value: Any, where: tuple[str, ...], dotted: str, lines: dict, file: str,
          scene: str) -> D.Distribution:
    f, ln = _line(lines, where)
    field_name = ".".join(where)

    def fail(msg: str) -> RecipeError:
        return RecipeError(msg, file=f or file, line=ln, field=field_name)

    if not D.is_distribution_spec(value):  # overrides and sweeps bypass the YAML reader's own check
        try:
            D.check_finite_values("constant", [value])
        except D.DistributionError as exc:
            raise fail(str(exc)) from None
    marker = _is_per_instance(fld)
    if marker is not None:  # the scene draws from this distribution per object: keep it whole
        try:
            dist = D._to_distribution(value)
        except D.DistributionError as exc:
            raise fail(str(exc)) from None
        _check_support(dist, marker.low, marker.high, False, fail, dotted, scene)
        return D.Constant(dist)
    adapter = TypeAdapter(typing.Annotated[fld.annotation, *fld.metadata]) if fld.metadata \
        else TypeAdapter(fld.annotation)
    if D.is_distribution_spec(value):
        try:
            dist = D.parse(value)
        except D.DistributionError as exc:
            raise fail(str(exc)) from None
    else:
        try:
            adapter.validate_python(value)
            return D.Constant(value)
        except ValidationError as exc:
            if isinstance(value, dict) and len(value) == 1:
                name = next(iter(value))
                raise fail(f"unknown distribution '{name}'{did_you_mean(name, D.DISTRIBUTIONS)}; "
                           f"known: {', '.join(sorted(D.DISTRIBUTIONS))}") from None
            raise fail(_type_msg(exc, dotted, scene)) from None
    lo, hi = _bounds(fld)
    values = dist.values()
    if values is not None:
        for v in values:
            try:
                adapter.validate_python(v)
            except ValidationError as exc:
                raise fail(f"{dist.name} can draw {short_repr(v)}, which {scene}.{dotted} does not accept: "
                           f"{_type_msg(exc, dotted, scene)}") from None
        return dist
    if _is_int(fld.annotation) and not isinstance(dist, D.RandInt):
        raise fail(f"{scene}.{dotted} is an integer; use randint or choice, not {dist.name}")
    if dist.support() is None:
        raise fail(f"{dist.name} does not give values {scene}.{dotted} accepts")
    _check_support(dist, lo, hi, True, fail, dotted, scene)
    try:
        adapter.validate_python(dist.support()[0] if math.isfinite(dist.support()[0]) else 0.0)
    except ValidationError as exc:
        if not (lo is not None or hi is not None):
            raise fail(_type_msg(exc, dotted, scene)) from None
    return dist


def _check_support(dist: D.Distribution, lo: float | None, hi: float | None, strict_types: bool, fail: Any,
                   dotted: str, scene: str) -> None:
    support = dist.support()
    if support is None or (lo is None and hi is None):
        return
    s_lo, s_hi = support
    if (lo is not None and s_lo < lo) or (hi is not None and s_hi > hi):
        allowed = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
        raise fail(f"{dist.name} reaches [{s_lo:g}, {s_hi:g}], outside the allowed range {allowed} of "
                   f"{scene}.{dotted}" + (" (a normal is unbounded: use truncnormal)" if dist.name == "normal" else ""))


def _bounds(fld: Any) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in fld.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = m.ge
        elif isinstance(m, annotated_types.Gt):
            lo = m.gt  # open bound: a continuous draw equal to it has probability 0
        elif isinstance(m, annotated_types.Le):
            hi = m.le
        elif isinstance(m, annotated_types.Lt):
            hi = m.lt
    return lo, hi


def _is_int(annotation: Any) -> bool:
    return annotation is int


def _type_msg(exc: ValidationError, dotted: str, scene: str) -> str:
    err = exc.errors()[0]
    msg = err["msg"]
    if "input" in err and not isinstance(err["input"], (dict, list)):
        msg += f" (got {short_repr(err['input'])})"
    return f"{scene}.{dotted}: {msg}"
