"""Scene `tabletop3d`: objects dropped with physics on a table, rendered by Blender Cycles via BlenderProc,
with RGB, instance/class masks, depth, visible boxes, visibility, 6D poses and camera matrices."""
from __future__ import annotations

import colorsys
import math
import os
from collections.abc import Mapping
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import Field, field_validator, model_validator

from synth.render3d.render_server import RenderServer
from synth.errors import did_you_mean
from synth import Sample, array, image, mask
from synth import Scene, SceneParams

# Class ids are fixed across recipes (0 = background and table), so class masks are comparable.
CLASSES = ("cube", "cylinder", "cone", "sphere", "torus", "monkey", "extrusion", "loft")
CLASS_IDS = {name: i + 1 for i, name in enumerate(CLASSES)}
TEXTURES = ("noise", "voronoi", "checker", "wave", "magic")
LIGHT_TYPES = ("point", "area", "sun")
# Blender -> OpenCV camera axes (Blender cameras look down -Z with +Y up; OpenCV: +Z forward, +Y down).
_BLENDER_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])


def _check_names(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    if not values:
        raise ValueError(f"at least one {what} is needed; allowed: {', '.join(allowed)}")
    for v in values:
        if v not in allowed:
            raise ValueError(f"unknown {what} '{v}'{did_you_mean(v, allowed)}; allowed: {', '.join(allowed)}")
    return values


def _check_range(lo: float, hi: float, name: str) -> None:
    if lo > hi:
        raise ValueError(f"{name}_min ({lo}) must not exceed {name}_max ({hi})")


class ObjectParams(SceneParams):
    count: int = Field(4, ge=1, le=40, description="Number of labelled objects dropped on the table.")
    classes: list[str] = Field(list(CLASSES), description=f"Shapes to draw from: {', '.join(CLASSES)}.")
    size_min: float = Field(0.12, gt=0, le=2, description="Smallest object size (largest extent), metres.")
    size_max: float = Field(0.25, gt=0, le=2, description="Largest object size, metres.")
    distractors: int = Field(0, ge=0, le=40, description="Extra objects (labelled distractor=true).")
    spread_m: float = Field(0.35, gt=0, le=5, description="Half-width of the square the objects drop over.")

    _classes = field_validator("classes")(lambda v: _check_names(v, CLASSES, "object class"))

    @model_validator(mode="after")
    def _ranges(self) -> ObjectParams:
        _check_range(self.size_min, self.size_max, "size")
        return self


class MaterialParams(SceneParams):
    roughness_min: float = Field(0.2, ge=0, le=1, description="Principled BSDF roughness, lower bound.")
    roughness_max: float = Field(0.8, ge=0, le=1, description="Principled BSDF roughness, upper bound.")
    metallic_min: float = Field(0.0, ge=0, le=1, description="Metallic, lower bound.")
    metallic_max: float = Field(0.3, ge=0, le=1, description="Metallic, upper bound.")
    texture_probability: float = Field(0.3, ge=0, le=1, description="Chance an object gets a procedural texture.")
    textures: list[str] = Field(list(TEXTURES), description=f"Procedural textures: {', '.join(TEXTURES)}.")
    texture_scale_max: float = Field(10.0, gt=0, le=200, description="Largest procedural texture scale.")

    _textures = field_validator("textures")(lambda v: _check_names(v, TEXTURES, "texture"))

    @model_validator(mode="after")
    def _ranges(self) -> MaterialParams:
        _check_range(self.roughness_min, self.roughness_max, "roughness")
        _check_range(self.metallic_min, self.metallic_max, "metallic")
        return self


class TableParams(SceneParams):
    size_m: float = Field(2.0, gt=0.1, le=50, description="Table side length, metres.")
    texture_probability: float = Field(0.5, ge=0, le=1, description="Chance the table gets a texture.")


class LightParams(SceneParams):
    count: int = Field(2, ge=1, le=8, description="Number of lights.")
    types: list[str] = Field(["point", "area"], description="Light types to draw from: point, area, sun.")
    radius_min: float = Field(2.0, gt=0, le=100, description="Light distance from the table centre, lower bound.")
    radius_max: float = Field(4.0, gt=0, le=100, description="Light distance, upper bound.")
    elevation_min_deg: float = Field(30, ge=0, le=90, description="Light elevation above the table, lower bound.")
    elevation_max_deg: float = Field(80, ge=0, le=90, description="Light elevation, upper bound.")
    energy_min: float = Field(300, ge=0, description="Light energy (W; W/m² for sun), lower bound.")
    energy_max: float = Field(900, ge=0, description="Light energy, upper bound.")
    kelvin_min: float = Field(3500, ge=1000, le=20000, description="Colour temperature, lower bound.")
    kelvin_max: float = Field(7000, ge=1000, le=20000, description="Colour temperature, upper bound.")

    _types = field_validator("types")(lambda v: _check_names(v, LIGHT_TYPES, "light type"))

    @model_validator(mode="after")
    def _ranges(self) -> LightParams:
        for name in ("radius", "energy", "kelvin"):
            _check_range(getattr(self, f"{name}_min"), getattr(self, f"{name}_max"), name)
        _check_range(self.elevation_min_deg, self.elevation_max_deg, "elevation")
        return self


class WorldParams(SceneParams):
    strength: float = Field(0.3, ge=0, le=20, description="World background light strength.")
    color: list[float] = Field([0.8, 0.85, 1.0], min_length=3, max_length=3, description="Background RGB, 0..1.")


class CameraParams(SceneParams):
    radius: float = Field(1.6, gt=0.1, le=50, description="Camera distance from the point of interest, metres.")
    elevation_deg: float = Field(45, ge=5, le=89, description="Camera elevation above the table.")
    azimuth_deg: float = Field(0, ge=-360, le=360, description="Camera azimuth around the point of interest.")
    look_at_jitter_m: float = Field(0.05, ge=0, le=5, description="Std-dev of the look-at point's jitter.")
    focal_mm: float = Field(35, ge=5, le=300, description="Focal length on a 36 mm sensor.")
    dof: bool = Field(False, description="Depth of field, focused on the point of interest.")
    fstop: float = Field(2.8, gt=0.1, le=64, description="Aperture f-number when dof is on.")


class RenderParams(SceneParams):
    samples: int = Field(16, ge=1, le=4096, description="Cycles samples per pixel (maximum, adaptive).")
    noise_threshold: float = Field(0.05, ge=0, le=1, description="Adaptive sampling threshold; 0 = off.")
    denoiser: Literal["none", "intel", "optix"] = Field("intel", description="Denoiser (intel = OIDN on CPU).")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Cycles sampling seed.")
    device: Literal["cpu", "cuda", "optix"] = Field("cpu", description="Cycles device.")
    threads: int = Field(0, ge=0, le=256, description="CPU render threads; 0 = this worker's share of the cores.")


class PhysicsParams(SceneParams):
    enabled: bool = Field(True, description="Drop the objects with rigid-body physics (reproducible: same "
                          "spec, same rest poses; off = objects stay at their drawn drop poses, in the air).")
    min_time_s: float = Field(1.0, ge=0.1, le=30, description="Simulated seconds before checking for rest.")
    max_time_s: float = Field(4.0, ge=0.1, le=60, description="Simulated seconds at most (rolling shapes "
                              "may not come to rest before it).")


class Tabletop3DParams(SceneParams):
    width: int = Field(128, ge=1, le=4096, description="Image width, pixels.")
    height: int = Field(128, ge=1, le=4096, description="Image height, pixels.")
    objects: ObjectParams = Field(default_factory=ObjectParams, description="What lies on the table.")
    material: MaterialParams = Field(default_factory=MaterialParams, description="Object materials.")
    table: TableParams = Field(default_factory=TableParams, description="The table.")
    lights: LightParams = Field(default_factory=LightParams, description="Lights on a shell.")
    world: WorldParams = Field(default_factory=WorldParams, description="World background.")
    camera: CameraParams = Field(default_factory=CameraParams, description="Camera on a spherical shell.")
    render: RenderParams = Field(default_factory=RenderParams, description="Cycles settings.")
    physics: PhysicsParams = Field(default_factory=PhysicsParams, description="Rigid-body drop.")


class Tabletop3DScene(Scene):
    """Draws every random value from `rng` into a plain spec, renders it in a BlenderProc subprocess
    (see synth.render3d.render_server) started on first use and reused, and derives the labels.

    Not `isolated`: Blender never loads in the calling process, so the engine may render this scene in
    its driver process with --workers 1. The render subprocess stops on `close()` (the engine's pool
    workers call it before os._exit) or when this scene object is garbage-collected or its process exits.
    """

    name = "tabletop3d"
    version = "1"
    modality = "image"
    Params = Tabletop3DParams
    isolated = False

    def __init__(self) -> None:
        self._server: RenderServer | None = None

    def render(self, params: Tabletop3DParams, rng: np.random.Generator) -> Sample:
        spec = draw_spec(params, rng)
        result = self.server.call(render_request(spec))
        labels = build_labels(spec, result)
        depth = np.where(result["depth"] < 1e9, result["depth"], 0.0).astype(np.float32)
        return Sample(
            payloads={"image": image(result["rgb"]), "mask": mask(labels.pop("_instance_mask")),
                      "class_mask": mask(labels.pop("_class_mask")), "depth": array(depth)},
            labels=labels, params=params.model_dump(), width=params.width, height=params.height)

    @property
    def server(self) -> RenderServer:
        if self._server is None:
            self._server = RenderServer("synth.render3d.blender_scene:render_tabletop")
        return self._server

    def close(self) -> None:
        """Stop the render subprocess (and reap it); a later render starts a new one."""
        if self._server is not None:
            self._server.close()
            self._server = None


def render_request(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as sent to Blender, with the thread count resolved for this machine. Cycles' result does
    not depend on it (tests/scenes3d checks this), so it stays out of the drawn, recorded spec."""
    render = dict(spec["render"], threads=cycles_threads(spec["render"]["threads"]))
    return dict(spec, render=render)


def cycles_threads(requested: int, environ: Mapping[str, str] = os.environ, cpus: int | None = None) -> int:
    """Cycles CPU threads: the recipe's number, or else this worker's share of the cores.

    Each engine worker runs its own Blender; with every Blender on all cores, N workers would run N x
    cores threads. The engine exports its worker count as SYNTH_WORKERS.
    """
    if requested > 0:
        return requested
    try:
        workers = max(1, int(environ.get("SYNTH_WORKERS", "1")))
    except ValueError:
        workers = 1
    cpus = cpus or len(os.sched_getaffinity(0))
    return max(1, cpus // workers)


# --- drawing the scene ------------------------------------------------------------------------------
def draw_spec(p: Tabletop3DParams, rng: np.random.Generator) -> dict[str, Any]:
    """All random choices of one sample, in a fixed order, as plain JSON-able values."""
    objects = _draw_objects(p, rng)
    table_material = _draw_material(p.material, rng, p.table.texture_probability)
    lights = [_draw_light(p.lights, rng) for _ in range(p.lights.count)]
    camera = _draw_camera(p.camera, rng)
    return {"width": p.width, "height": p.height, "objects": objects, "lights": lights, "camera": camera,
            "table": {"size_m": p.table.size_m, "material": table_material},
            "world": {"color": list(p.world.color), "strength": p.world.strength},
            "render": p.render.model_dump(), "physics": p.physics.model_dump()}


def _draw_objects(p: Tabletop3DParams, rng: np.random.Generator) -> list[dict[str, Any]]:
    o = p.objects
    out: list[dict[str, Any]] = []
    z = 0.02
    for i in range(o.count + o.distractors):
        cls = str(o.classes[int(rng.integers(len(o.classes)))])
        size = float(rng.uniform(o.size_min, o.size_max))
        # unit shapes span [-1, 1]; 1.8 bounds the monkey's half-extent; stacking bounding spheres
        # vertically guarantees that nothing overlaps before the drop
        radius = 0.9 * size
        z += radius
        out.append({
            "name": f"obj_{i + 1:03d}", "instance_id": i + 1, "class": cls, "category_id": CLASS_IDS[cls],
            "distractor": i >= o.count, "size_m": size, "scale": [size / 2] * 3,
            "location": [float(rng.uniform(-o.spread_m, o.spread_m)), float(rng.uniform(-o.spread_m, o.spread_m)), z],
            "rotation": [float(a) for a in rng.uniform(0, 2 * math.pi, 3)],
            "mesh": _draw_mesh(cls, rng), "material": _draw_material(p.material, rng, p.material.texture_probability),
        })
        z += radius + 0.02
    return out


def _draw_mesh(cls: str, rng: np.random.Generator) -> dict[str, Any]:
    if cls in ("cube", "cylinder", "cone", "sphere", "monkey"):
        return {"kind": "primitive", "shape": cls, "smooth": cls in ("sphere", "monkey")}
    if cls == "torus":
        minor = float(rng.uniform(0.15, 0.35))
        return {"kind": "data", "smooth": True, "minor_radius": minor, **torus_mesh(1.0 - minor, minor)}
    if cls == "extrusion":
        sides = int(rng.integers(3, 9))
        inner = float(rng.uniform(0.4, 1.0))  # 1.0 = convex polygon, lower = star
        return {"kind": "data", "smooth": False, "sides": sides, "inner_radius": inner,
                **extrusion_mesh(sides, inner, float(rng.uniform(0.3, 1.0)))}
    radii = [float(r) for r in rng.uniform(0.3, 1.0, int(rng.integers(3, 6)))]
    return {"kind": "data", "smooth": True, "profile_radii": radii, **loft_mesh(radii)}


def _draw_material(m: MaterialParams, rng: np.random.Generator, texture_probability: float) -> dict[str, Any]:
    base = _hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.2, 1.0), rng.uniform(0.2, 1.0))
    out: dict[str, Any] = {"base_color": base, "roughness": float(rng.uniform(m.roughness_min, m.roughness_max)),
                           "metallic": float(rng.uniform(m.metallic_min, m.metallic_max)), "texture": None}
    if rng.uniform() < texture_probability:
        out["texture"] = {"kind": str(m.textures[int(rng.integers(len(m.textures)))]),
                          "scale": float(rng.uniform(1.0, max(1.0, m.texture_scale_max))),
                          "color2": _hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, 1))}
    return out


def _draw_light(lp: LightParams, rng: np.random.Generator) -> dict[str, Any]:
    kind = str(lp.types[int(rng.integers(len(lp.types)))])
    radius = float(rng.uniform(lp.radius_min, lp.radius_max))
    elevation = math.radians(rng.uniform(lp.elevation_min_deg, lp.elevation_max_deg))
    azimuth = float(rng.uniform(0, 2 * math.pi))
    kelvin = float(rng.uniform(lp.kelvin_min, lp.kelvin_max))
    energy = float(rng.uniform(lp.energy_min, lp.energy_max))
    if kind == "sun":  # a sun's energy is irradiance (W/m²); a few W/m² match hundreds of W of point light
        energy /= 200.0
    return {"type": kind, "location": _on_shell(radius, elevation, azimuth), "energy": energy,
            "kelvin": kelvin, "color": blackbody_rgb(kelvin), "size_m": float(rng.uniform(0.2, 1.0))}


def _draw_camera(c: CameraParams, rng: np.random.Generator) -> dict[str, Any]:
    look_at = [float(v) for v in rng.normal(0.0, c.look_at_jitter_m, 3)] if c.look_at_jitter_m > 0 else [0.0] * 3
    look_at[2] = abs(look_at[2]) + 0.05
    location = _on_shell(c.radius, math.radians(c.elevation_deg), math.radians(c.azimuth_deg))
    location = [a + b for a, b in zip(location, look_at)]
    return {"location": location, "look_at": look_at, "focal_mm": c.focal_mm,
            "dof": {"fstop": c.fstop} if c.dof else None}


def _on_shell(radius: float, elevation: float, azimuth: float) -> list[float]:
    return [radius * math.cos(elevation) * math.cos(azimuth), radius * math.cos(elevation) * math.sin(azimuth),
            radius * math.sin(elevation)]


def _hsv_to_rgb(h: float, s: float, v: float) -> list[float]:
    return [round(c, 6) for c in colorsys.hsv_to_rgb(float(h), float(s), float(v))]


def blackbody_rgb(kelvin: float) -> list[float]:
    """Approximate sRGB colour of a black body (Tanner Helland's fit to CIE data), max channel = 1."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = 99.4708025861 * math.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307)
    rgb = [min(max(c, 0.0), 255.0) / 255.0 for c in (r, g, b)]
    return [round(c / max(rgb), 6) for c in rgb]


# --- procedural meshes (unit size: every shape fits in [-1, 1]^3) -----------------------------------
def torus_mesh(major: float, minor: float, rings: int = 32, sides: int = 12) -> dict[str, Any]:
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, rings, endpoint=False),
                       np.linspace(0, 2 * np.pi, sides, endpoint=False), indexing="ij")
    verts = np.stack([(major + minor * np.cos(v)) * np.cos(u), (major + minor * np.cos(v)) * np.sin(u),
                      minor * np.sin(v)], -1).reshape(-1, 3)
    faces = [[i * sides + j, ((i + 1) % rings) * sides + j, ((i + 1) % rings) * sides + (j + 1) % sides,
              i * sides + (j + 1) % sides] for i in range(rings) for j in range(sides)]
    return {"vertices": np.round(verts, 6).tolist(), "faces": faces}


def extrusion_mesh(sides: int, inner: float, height: float) -> dict[str, Any]:
    """A regular polygon (inner = 1) or star (inner < 1) in the xy plane, extruded along z."""
    n = sides * 2
    angles = np.arange(n) * (2 * np.pi / n)
    radii = np.where(np.arange(n) % 2 == 0, 1.0, inner if inner < 1 else np.cos(np.pi / sides))
    ring = np.stack([radii * np.cos(angles), radii * np.sin(angles)], -1)
    verts = np.concatenate([np.c_[ring, np.full(n, -height)], np.c_[ring, np.full(n, height)],
                            [[0, 0, -height], [0, 0, height]]])
    bottom, top = 2 * n, 2 * n + 1
    faces = [[i, (i + 1) % n, n + (i + 1) % n, n + i] for i in range(n)]
    faces += [[bottom, (i + 1) % n, i] for i in range(n)] + [[top, n + i, n + (i + 1) % n] for i in range(n)]
    return {"vertices": np.round(verts, 6).tolist(), "faces": faces}


def loft_mesh(radii: list[float], segments: int = 24) -> dict[str, Any]:
    """Circles of the given radii stacked evenly from z = -1 to 1 and skinned (a vase), capped."""
    rings = len(radii)
    angles = np.arange(segments) * (2 * np.pi / segments)
    zs = np.linspace(-1, 1, rings)
    verts = [[r * math.cos(a), r * math.sin(a), z] for r, z in zip(radii, zs) for a in angles]
    verts += [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]]
    bottom, top = rings * segments, rings * segments + 1
    faces = [[k * segments + i, k * segments + (i + 1) % segments, (k + 1) * segments + (i + 1) % segments,
              (k + 1) * segments + i] for k in range(rings - 1) for i in range(segments)]
    faces += [[bottom, (i + 1) % segments, i] for i in range(segments)]
    last = (rings - 1) * segments
    faces += [[top, last + i, last + (i + 1) % segments] for i in range(segments)]
    return {"vertices": np.round(np.asarray(verts), 6).tolist(), "faces": faces}


# --- labels from the render -------------------------------------------------------------------------
def build_labels(spec: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Instance/class masks in our ids, per-object boxes, visibility and poses, camera matrices."""
    h, w = spec["height"], spec["width"]
    world2cam = _BLENDER_TO_CV @ np.linalg.inv(result["cam2world_blender"])  # OpenCV camera frame
    K = result["K"]
    instance = np.zeros((h, w), np.int32)
    for o in spec["objects"]:
        blender_idx = result["instance_by_name"].get(o["name"])
        if blender_idx is not None:
            instance[result["instance_map"] == blender_idx] = o["instance_id"]
    class_mask = np.zeros((h, w), np.int32)
    visible, hidden = [], []
    for o, geo in zip(spec["objects"], result["objects"]):
        class_mask[instance == o["instance_id"]] = o["category_id"]
        label = _object_label(o, geo, instance == o["instance_id"], world2cam, K, (h, w))
        (visible if label["box"] is not None else hidden).append(label)
    cam2world = np.linalg.inv(world2cam)
    return {
        "objects": visible, "hidden_objects": hidden,
        "class_names": {str(i): name for name, i in CLASS_IDS.items()} | {"0": "background"},
        "camera": {"K": K.tolist(), "world2cam": world2cam.tolist(), "cam2world": cam2world.tolist(),
                   "convention": "opencv (x right, y down, z forward), metres; world z up, table top at z=0",
                   "focal_mm": spec["camera"]["focal_mm"], "location": spec["camera"]["location"],
                   "look_at": spec["camera"]["look_at"], "dof": spec["camera"]["dof"]},
        "lights": spec["lights"], "table": spec["table"], "world": spec["world"],
        "depth": {"unit": "m", "kind": "z (distance along the optical axis)", "background": 0.0},
        "_instance_mask": instance.astype(np.uint16 if instance.max(initial=0) > 255 else np.uint8),
        "_class_mask": class_mask.astype(np.uint8),
    }


def _object_label(o: dict[str, Any], geo: dict[str, Any], visible_mask: np.ndarray, world2cam: np.ndarray,
                  K: np.ndarray, shape: tuple[int, int]) -> dict[str, Any]:
    local2world = np.asarray(geo["local2world"])
    scale = np.linalg.norm(local2world[:3, :3], axis=0)
    obj2cam = world2cam @ local2world @ np.diag([*(1.0 / scale), 1.0])  # rigid: scale kept apart
    verts = np.asarray(geo["vertices"], np.float64) * scale  # object frame, metres
    lo, hi = verts.min(0), verts.max(0)
    corners = [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    amodal = _silhouette(verts, np.asarray(geo["triangles"]), obj2cam, K, shape)
    ys, xs = np.nonzero(visible_mask)
    box = [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)] if len(xs) else None
    area = int(np.count_nonzero(amodal | visible_mask))
    drop = {k: o[k] for k in ("location", "rotation")}
    mesh = {k: v for k, v in o["mesh"].items() if k not in ("vertices", "faces")}
    return {
        "class": o["class"], "category_id": o["category_id"], "instance_id": o["instance_id"],
        "distractor": o["distractor"], "box": box, "visible_pixels": int(len(xs)),
        "visibility": round(len(xs) / area, 6) if area else 0.0,
        "pose": {"R": obj2cam[:3, :3].tolist(), "t": obj2cam[:3, 3].tolist()},
        "scale": scale.tolist(), "bbox3d": corners, "size_m": o["size_m"],
        "material": o["material"], "mesh": mesh, "drop_pose": drop,
    }


def _silhouette(verts: np.ndarray, triangles: np.ndarray, obj2cam: np.ndarray, K: np.ndarray,
                shape: tuple[int, int], supersample: int = 4) -> np.ndarray:
    """The object's pixels as if nothing occluded it: its triangles projected and filled at 4x4
    subpixels, a pixel counting when at least half of it is covered (as Cycles' index pass keeps the
    dominant object). It is the denominator of `visibility`, an approximation of rendering the object
    alone, clipped to the image so that cut-off parts do not count as occluded."""
    cam = verts @ obj2cam[:3, :3].T + obj2cam[:3, 3]
    h, w = shape
    fine = np.zeros((h * supersample, w * supersample), np.uint8)
    tris = triangles[(cam[:, 2] > 1e-6)[triangles].all(1)]
    if len(tris):
        uv = (cam @ K.T)[:, :2] / cam[:, 2:3]
        # pixel centres sit at integer coordinates (K's convention); subpixel k of pixel i spans
        # [i - 0.5 + k/s, i - 0.5 + (k+1)/s], so map x -> (x + 0.5) * s - 0.5 in subpixel centres
        fine_uv = (uv[tris] + 0.5) * supersample - 0.5
        pts = np.round(fine_uv * 16).astype(np.int32)  # 4 fractional bits for cv2's shift
        for tri in pts:  # one call per triangle: a multi-polygon fillPoly cancels where they overlap
            cv2.fillConvexPoly(fine, tri, 1, lineType=cv2.LINE_8, shift=4)
    cover = fine.reshape(h, supersample, w, supersample).mean(axis=(1, 3))
    return cover >= 0.5
