"""Builds and renders a fully specified 3D tabletop scene with BlenderProc, inside the render subprocess.

The scene module draws every random value and sends a plain `spec` dict; nothing here is random, so
the same spec gives the same objects, poses and (on one machine, CPU) the same pixels.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from synth.render3d.physics import drop
from synth.render3d.blenderproc_compat import import_blenderproc

_PRIMITIVES = {"cube": "CUBE", "cylinder": "CYLINDER", "cone": "CONE", "sphere": "SPHERE", "monkey": "MONKEY"}
_TEXTURE_NODES = {"noise": "ShaderNodeTexNoise", "voronoi": "ShaderNodeTexVoronoi",
                  "checker": "ShaderNodeTexChecker", "wave": "ShaderNodeTexWave", "magic": "ShaderNodeTexMagic"}


def render_tabletop(spec: dict[str, Any]) -> dict[str, Any]:
    """Render handler for synth.render3d.render_server: spec in, arrays and object geometry out."""
    bproc = import_blenderproc()
    started, cpu_started = time.perf_counter(), time.process_time()
    _reset_scene(bproc)
    table = _build_table(bproc, spec["table"])
    objects = [_build_object(bproc, o) for o in spec["objects"]]
    built = time.perf_counter()
    if spec["physics"]["enabled"]:
        # our own drop, not bproc.object.simulate_physics_and_fix_final_poses: that one is not
        # reproducible on Blender 4.2 (see synth/render3d/physics.py); this one is, bit for bit
        drop(objects, spec["physics"]["min_time_s"], spec["physics"]["max_time_s"])
    simulated = time.perf_counter()
    for light in spec["lights"]:
        _add_light(bproc, light)
    bproc.renderer.set_world_background(spec["world"]["color"], strength=spec["world"]["strength"])
    _set_camera(bproc, spec["camera"], spec["width"], spec["height"])
    _configure_renderer(bproc, spec["render"])
    data = bproc.renderer.render()
    names = {m["idx"]: m["name"] for m in data["instance_attribute_maps"][0]}
    return {
        "rgb": data["colors"][0][..., :3].astype(np.uint8),
        "depth": data["depth"][0].astype(np.float32),
        "instance_by_name": {name: idx for idx, name in names.items()},
        "instance_map": data["instance_segmaps"][0].astype(np.int32),
        "class_map": data["category_id_segmaps"][0].astype(np.int32),
        "K": np.asarray(bproc.camera.get_intrinsics_as_K_matrix(), dtype=np.float64),
        "cam2world_blender": np.asarray(bproc.camera.get_camera_pose(), dtype=np.float64),
        "objects": [_geometry(o) for o in objects],
        "table_top_z": float(table.get_location()[2]),
        # where the time went, for benchmarks/tabletop3d_vs_blenderproc.py (not part of any label)
        "seconds": {"build": built - started, "physics": simulated - built,
                    "render": time.perf_counter() - simulated, "cpu": time.process_time() - cpu_started},
    }


def _reset_scene(bproc: Any) -> None:
    """Every render starts from Blender's factory state, so a reused process renders sample k exactly
    as a fresh one would (compositor nodes, rigid-body world and GlobalStorage do not survive)."""
    import bpy
    from blenderproc.python.utility.GlobalStorage import GlobalStorage
    bpy.ops.wm.read_factory_settings(use_empty=True)
    GlobalStorage._storage_dict.clear()
    bproc.init()


def _build_material(bproc: Any, name: str, m: dict[str, Any]) -> Any:
    mat = bproc.material.create(name)
    mat.set_principled_shader_value("Base Color", [*m["base_color"], 1.0])
    mat.set_principled_shader_value("Roughness", m["roughness"])
    mat.set_principled_shader_value("Metallic", m["metallic"])
    tex = m.get("texture")
    if tex:
        node = mat.new_node(_TEXTURE_NODES[tex["kind"]])
        node.inputs["Scale"].default_value = tex["scale"]
        mix = mat.new_node("ShaderNodeMix")
        mix.data_type = "RGBA"
        # ShaderNodeMix keeps one socket set per data type; 0 = factor, 6/7 = colour A/B, output 2 = colour
        mat.link(node.outputs["Fac"] if "Fac" in node.outputs else node.outputs[0], mix.inputs[0])
        mix.inputs[6].default_value = [*m["base_color"], 1.0]
        mix.inputs[7].default_value = [*tex["color2"], 1.0]
        bsdf = mat.get_the_one_node_with_type("BsdfPrincipled")
        mat.link(mix.outputs[2], bsdf.inputs["Base Color"])
    return mat


def _build_table(bproc: Any, t: dict[str, Any]) -> Any:
    # a thin box, not a plane, so the physics collision shape has volume
    table = bproc.object.create_primitive("CUBE", scale=[t["size_m"] / 2, t["size_m"] / 2, 0.01],
                                          location=[0, 0, -0.01])
    table.set_name("table")
    table.set_cp("category_id", 0)
    table.replace_materials(_build_material(bproc, "table", t["material"]))
    table.enable_rigidbody(active=False, collision_shape="BOX")
    return table


def _build_object(bproc: Any, o: dict[str, Any]) -> Any:
    import bpy
    mesh = o["mesh"]
    if mesh["kind"] == "primitive":
        obj = bproc.object.create_primitive(_PRIMITIVES[mesh["shape"]])
    else:
        data = bpy.data.meshes.new(o["name"])
        data.from_pydata([tuple(v) for v in mesh["vertices"]], [], [tuple(f) for f in mesh["faces"]])
        data.validate()
        obj = bproc.object.create_from_blender_mesh(data, o["name"])
    obj.set_name(o["name"])
    obj.set_scale(o["scale"])
    obj.set_location(o["location"])
    obj.set_rotation_euler(o["rotation"])
    obj.set_cp("category_id", o["category_id"])
    obj.set_shading_mode("SMOOTH" if mesh.get("smooth") else "FLAT")
    obj.replace_materials(_build_material(bproc, o["name"], o["material"]))
    # convex hulls for every shape: Bullet's triangle-mesh shape for moving bodies is slow and jittery;
    # hulls are conservative, so objects never interpenetrate (one may rest on a torus' hole, not in it)
    obj.enable_rigidbody(active=True, collision_shape="CONVEX_HULL", friction=0.8,
                         linear_damping=0.2, angular_damping=0.3)
    return obj


def _add_light(bproc: Any, spec: dict[str, Any]) -> None:
    light = bproc.types.Light(light_type=spec["type"].upper(), name="light")
    light.set_location(spec["location"])
    light.set_energy(spec["energy"])
    light.set_color(spec["color"])
    if spec["type"] in ("area", "sun"):  # both are aimed: point them at the table centre
        direction = -np.asarray(spec["location"], dtype=float)
        light.set_rotation_mat(bproc.camera.rotation_from_forward_vec(direction))
    if spec["type"] == "area":
        light.blender_obj.data.size = spec["size_m"]


def _set_camera(bproc: Any, c: dict[str, Any], width: int, height: int) -> None:
    bproc.camera.set_intrinsics_from_blender_params(lens=c["focal_mm"], image_width=width, image_height=height,
                                                    clip_start=0.01, clip_end=100.0, lens_unit="MILLIMETERS")
    location = np.asarray(c["location"], dtype=float)
    rotation = bproc.camera.rotation_from_forward_vec(np.asarray(c["look_at"]) - location)
    bproc.camera.add_camera_pose(bproc.math.build_transformation_mat(location, rotation))
    if c.get("dof"):
        focus = bproc.object.create_empty("focus")
        focus.set_location(c["look_at"])
        bproc.camera.add_depth_of_field(focus, c["dof"]["fstop"])


def _configure_renderer(bproc: Any, r: dict[str, Any]) -> None:
    import bpy
    if r["device"] == "cpu":
        bproc.renderer.set_render_devices(use_only_cpu=True)
    else:
        bproc.renderer.set_render_devices(desired_gpu_device_type=[r["device"].upper()])
    bproc.renderer.set_max_amount_of_samples(r["samples"])
    bproc.renderer.set_noise_threshold(r["noise_threshold"])
    bproc.renderer.set_denoiser(None if r["denoiser"] == "none" else r["denoiser"].upper())
    bproc.renderer.set_cpu_threads(r["threads"])
    bproc.renderer.enable_depth_output(activate_antialiasing=False)
    bproc.renderer.enable_segmentation_output(map_by=["category_id", "instance", "name"],
                                              default_values={"category_id": 0})
    bpy.context.scene.cycles.seed = r["seed"]
    # a fixed seed would otherwise be overridden per frame when this is on
    bpy.context.scene.cycles.use_animated_seed = False


def _geometry(obj: Any) -> dict[str, Any]:
    """Final pose and triangles of one object, for poses, 3D boxes and the unoccluded silhouette."""
    mesh = obj.get_mesh()
    vertices = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
    mesh.vertices.foreach_get("co", vertices)
    mesh.calc_loop_triangles()
    triangles = np.empty(len(mesh.loop_triangles) * 3, dtype=np.int32)
    mesh.loop_triangles.foreach_get("vertices", triangles)
    return {"name": obj.get_name(), "local2world": np.asarray(obj.get_local2world_mat(), dtype=np.float64),
            "vertices": vertices.reshape(-1, 3), "triangles": triangles.reshape(-1, 3)}
