"""Time per image of scene tabletop3d against a plain BlenderProc script rendering the same scenes.

    .venv/bin/python benchmarks/tabletop3d_vs_blenderproc.py [--size 256] [--samples 32] [--images 4]
        [--runs 3] [--device cpu|cuda|optix]

Both sides render the same drawn specs with the same settings: objects, procedural meshes, materials
(principled BSDF, texture mixed over the base colour through a Mix node), textured table, rigid-body
drop with the same friction/damping, lights, camera and clipping, Cycles samples, adaptive sampling
off, the same denoiser, seed and thread count, and the same passes (RGB, depth, segmentation by
category/instance/name). "plain" is what a user would write without synth: a process importing
BlenderProc (through our compat module, as `blenderproc run` cannot work offline), building each scene
with bproc calls and rendering it, timed inside that process. "synth" is Tabletop3DScene.render: the
render subprocess, the pipe and the label computation; encoding the payloads (PNG, NPY), which the
engine does per row, is timed apart. Start-up (importing bpy and BlenderProc) and each side's first
image are excluded. Images alternate between the two sides, so load from other processes hits both.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _params(args: argparse.Namespace):
    from scenes.tabletop3d import Tabletop3DParams
    return Tabletop3DParams.model_validate({
        "width": args.size, "height": args.size, "objects": {"count": 5}, "table": {"size_m": 3.0},
        "render": {"samples": args.samples, "denoiser": "intel" if args.device == "cpu" else "optix",
                   "noise_threshold": 0.0, "device": args.device}})


def _specs(args: argparse.Namespace) -> list[dict]:
    """The first spec warms up each side and is not timed; threads resolved as the scene does."""
    from scenes.tabletop3d import draw_spec, render_request
    return [render_request(draw_spec(_params(args), np.random.default_rng(i))) for i in range(args.images + 1)]


def _plain_material(bproc, name: str, m: dict):
    mat = bproc.material.create(name)
    mat.set_principled_shader_value("Base Color", [*m["base_color"], 1])
    mat.set_principled_shader_value("Roughness", m["roughness"])
    mat.set_principled_shader_value("Metallic", m["metallic"])
    if m["texture"]:
        tex = mat.new_node("ShaderNodeTex" + m["texture"]["kind"].capitalize())
        tex.inputs["Scale"].default_value = m["texture"]["scale"]
        mix = mat.new_node("ShaderNodeMix")
        mix.data_type = "RGBA"
        mat.link(tex.outputs["Fac"] if "Fac" in tex.outputs else tex.outputs[0], mix.inputs[0])
        mix.inputs[6].default_value = [*m["base_color"], 1]
        mix.inputs[7].default_value = [*m["texture"]["color2"], 1]
        mat.set_principled_shader_value("Base Color", mix.outputs[2])
    return mat


def _plain_scene(bproc, bpy, spec: dict) -> None:
    """Build one scene with bproc calls, as a BlenderProc user would."""
    t = spec["table"]
    table = bproc.object.create_primitive("CUBE", scale=[t["size_m"] / 2, t["size_m"] / 2, 0.01],
                                          location=[0, 0, -0.01])
    table.set_name("table")
    table.set_cp("category_id", 0)
    table.replace_materials(_plain_material(bproc, "table", t["material"]))
    table.enable_rigidbody(active=False, collision_shape="BOX")
    for o in spec["objects"]:
        if o["mesh"]["kind"] == "primitive":
            obj = bproc.object.create_primitive(o["mesh"]["shape"].upper())
        else:
            mesh = bpy.data.meshes.new(o["name"])
            mesh.from_pydata(o["mesh"]["vertices"], [], o["mesh"]["faces"])
            obj = bproc.object.create_from_blender_mesh(mesh, o["name"])
        obj.set_name(o["name"])  # Blender adds rigid bodies in name order: same names, same simulation
        obj.set_scale(o["scale"])
        obj.set_location(o["location"])
        obj.set_rotation_euler(o["rotation"])
        obj.set_cp("category_id", o["category_id"])
        obj.set_shading_mode("SMOOTH" if o["mesh"].get("smooth") else "FLAT")
        obj.replace_materials(_plain_material(bproc, o["name"], o["material"]))
        obj.enable_rigidbody(active=True, collision_shape="CONVEX_HULL", friction=0.8, linear_damping=0.2,
                             angular_damping=0.3)


def _plain_lights_camera_renderer(bproc, bpy, spec: dict, args: argparse.Namespace) -> None:
    for li in spec["lights"]:
        light = bproc.types.Light(light_type=li["type"].upper())
        light.set_location(li["location"])
        light.set_energy(li["energy"])
        light.set_color(li["color"])
        if li["type"] != "point":
            light.set_rotation_mat(bproc.camera.rotation_from_forward_vec(-np.asarray(li["location"])))
        if li["type"] == "area":
            light.blender_obj.data.size = li["size_m"]
    bproc.renderer.set_world_background(spec["world"]["color"], strength=spec["world"]["strength"])
    cam = spec["camera"]
    bproc.camera.set_intrinsics_from_blender_params(lens=cam["focal_mm"], image_width=spec["width"],
                                                    image_height=spec["height"], clip_start=0.01,
                                                    clip_end=100.0, lens_unit="MILLIMETERS")
    rot = bproc.camera.rotation_from_forward_vec(np.asarray(cam["look_at"]) - np.asarray(cam["location"]))
    bproc.camera.add_camera_pose(bproc.math.build_transformation_mat(cam["location"], rot))
    if args.device == "cpu":
        bproc.renderer.set_render_devices(use_only_cpu=True)
    else:
        bproc.renderer.set_render_devices(desired_gpu_device_type=[args.device.upper()])
    r = spec["render"]
    bproc.renderer.set_max_amount_of_samples(r["samples"])
    bproc.renderer.set_noise_threshold(r["noise_threshold"])
    bproc.renderer.set_denoiser(r["denoiser"].upper())
    bproc.renderer.set_cpu_threads(r["threads"])
    bproc.renderer.enable_depth_output(activate_antialiasing=False)
    bproc.renderer.enable_segmentation_output(map_by=["category_id", "instance", "name"],
                                              default_values={"category_id": 0})
    bpy.context.scene.cycles.seed = r["seed"]


def plain_render(request: dict) -> dict:
    """The plain BlenderProc script for one image: reset, build with bproc, simulate, render. It runs
    in a render_server process only so that it can alternate image by image with synth (on a shared
    machine, load changes from minute to minute); its time is taken inside, so no pipe is counted."""
    import bpy

    from synth.render3d.blenderproc_compat import import_blenderproc
    bproc = import_blenderproc()
    from blenderproc.python.utility.GlobalStorage import GlobalStorage
    spec, args = request["spec"], argparse.Namespace(**request["args"])
    start, cpu_start = time.perf_counter(), time.process_time()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    GlobalStorage._storage_dict.clear()
    bproc.init()
    _plain_scene(bproc, bpy, spec)
    built = time.perf_counter()
    bproc.object.simulate_physics_and_fix_final_poses(min_simulation_time=spec["physics"]["min_time_s"],
                                                      max_simulation_time=spec["physics"]["max_time_s"],
                                                      check_object_interval=0.5)
    simulated = time.perf_counter()
    _plain_lights_camera_renderer(bproc, bpy, spec, args)
    data = bproc.renderer.render()
    assert data["colors"][0].shape[0] == spec["height"]
    end = time.perf_counter()
    return {"total": end - start, "build": built - start, "physics": simulated - built, "render": end - simulated,
            "cpu": time.process_time() - cpu_start}


def _synth_image(scene, spec: dict) -> dict:
    """Tabletop3DScene.render's steps after drawing the spec, timed one by one, then the engine's
    payload encoding."""
    from scenes.tabletop3d import build_labels
    from synth.core.sample import array, image, mask
    start, cpu_start = time.perf_counter(), time.process_time()
    result = scene.server.call(spec)
    called = time.perf_counter()
    labels = build_labels(spec, result)
    depth = np.where(result["depth"] < 1e9, result["depth"], 0.0).astype(np.float32)
    labelled, cpu_labelled = time.perf_counter(), time.process_time()
    for payload in (image(result["rgb"]), mask(labels["_instance_mask"]), mask(labels["_class_mask"]),
                    array(depth)):
        payload.encode("png")
    encoded = time.perf_counter()
    blender = result["seconds"]
    pipe = (called - start) - (blender["build"] + blender["physics"] + blender["render"])
    return {"total": labelled - start, **blender, "cpu": blender["cpu"] + cpu_labelled - cpu_start,
            "pipe": pipe, "labels": labelled - called, "encode": encoded - labelled}


def run_once(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Fresh processes for both sides; after one untimed image each, images alternate plain/synth
    (and which goes first), so both see the same load."""
    from scenes.tabletop3d import Tabletop3DScene
    from synth.render3d.render_server import RenderServer
    plain_server = RenderServer("benchmarks.tabletop3d_vs_blenderproc:plain_render")
    scene = Tabletop3DScene()
    specs = _specs(args)
    request = {"args": {"device": args.device}}
    plain_server.call({**request, "spec": specs[0]})
    scene.server.call(specs[0])
    plain, ours = [], []
    try:
        for i, spec in enumerate(specs[1:]):
            if i % 2:
                ours.append(_synth_image(scene, spec))
            plain.append(plain_server.call({**request, "spec": spec}))
            if not i % 2:
                ours.append(_synth_image(scene, spec))
    finally:
        plain_server.close()
        scene.close()
    return plain, ours


def _median(runs: list[list[dict]], key: str) -> float:
    """Median over runs of each run's median per image."""
    return statistics.median(statistics.median(t[key] for t in run) for run in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", choices=["cpu", "cuda", "optix"], default="cpu")
    args = ap.parse_args()
    os.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # render servers import benchmarks.*
    plain, ours, ratios = [], [], []
    load_before = os.getloadavg()
    for _ in range(args.runs):  # interleaved, so load from other processes hits both alike
        p_run, o_run = run_once(args)
        plain.append(p_run)
        ours.append(o_run)
        rp, ro = (statistics.median(t["total"] for t in run[-1]) for run in (plain, ours))
        ratios.append(rp / ro)
        print(f"run: plain {rp:.3f} s/image, synth {ro:.3f} s/image, speed vs plain {rp / ro:.2f}", flush=True)
    p, o = _median(plain, "total"), _median(ours, "total")
    enc = _median(ours, "encode")
    print(f"tabletop3d {args.size}x{args.size}, {args.samples} samples, depth+segmentation, {args.device}, "
          f"{_specs(args)[0]['render']['threads']} threads, {args.images} images x {args.runs} runs "
          f"(median s/image); load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'':28}{'s/image':>10}{'images/s':>10}{'speed vs plain':>16}")
    print(f"{'plain BlenderProc':28}{p:10.3f}{1 / p:10.2f}{1.0:16.2f}")
    print(f"{'synth Scene.render':28}{o:10.3f}{1 / o:10.2f}{p / o:16.2f}")
    print(f"{'synth + PNG/NPY encoding':28}{o + enc:10.3f}{1 / (o + enc):10.2f}{p / (o + enc):16.2f}")
    pc, oc = _median(plain, "cpu"), _median(ours, "cpu")
    print(f"CPU seconds/image (all threads; less sensitive to other load): plain {pc:.3f}, synth {oc:.3f}, "
          f"speed vs plain {pc / oc:.2f}")
    print(f"speed vs plain, median of the per-run ratios (same run = same load): {statistics.median(ratios):.2f}")
    print("where the time goes (median s/image):")
    print(f"{'':28}{'build':>8}{'physics':>9}{'render':>9}{'pipe':>8}{'labels':>8}{'encode':>8}")
    print(f"{'plain BlenderProc':28}" + "".join(f"{_median(plain, k):{w}.3f}" for k, w in
                                               (("build", 8), ("physics", 9), ("render", 9))))
    print(f"{'synth':28}" + "".join(f"{_median(ours, k):{w}.3f}" for k, w in
                                   (("build", 8), ("physics", 9), ("render", 9), ("pipe", 8), ("labels", 8),
                                    ("encode", 8))))


if __name__ == "__main__":
    main()
