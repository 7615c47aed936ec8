"""Time per image of scene tabletop3d against a plain BlenderProc script rendering the same scenes.

    .venv/bin/python benchmarks/tabletop3d_vs_blenderproc.py [--size 256] [--samples 32] [--images 5]
        [--runs 3] [--device cpu|cuda|optix]

Both render the same drawn specs (objects, materials, lights, camera) with depth + segmentation passes.
"plain" is what a user would write without synth: one process importing BlenderProc (through our compat
module, as `blenderproc run` cannot work offline), building each scene with bproc calls and rendering it.
"synth" is Tabletop3DScene.render: the render subprocess, the pipe, and the label computation.
Start-up (importing bpy and BlenderProc, ~10 s here) is excluded from both.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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
    from scenes.tabletop3d import draw_spec
    return [draw_spec(_params(args), np.random.default_rng(i)) for i in range(args.images)]


def plain_worker(args: argparse.Namespace) -> None:
    """The plain BlenderProc script: per image, reset, build with bproc, simulate, render."""
    import json

    import bpy

    from synth.compat.blenderproc_compat import import_blenderproc
    bproc = import_blenderproc()
    from blenderproc.python.utility.GlobalStorage import GlobalStorage
    specs = _specs(args)
    times = []
    for spec in specs:
        start = time.perf_counter()
        bpy.ops.wm.read_factory_settings(use_empty=True)
        GlobalStorage._storage_dict.clear()
        bproc.init()
        table = bproc.object.create_primitive("CUBE", scale=[1.5, 1.5, 0.01], location=[0, 0, -0.01])
        table.enable_rigidbody(active=False, collision_shape="BOX")
        table_mat = bproc.material.create("table")
        table_mat.set_principled_shader_value("Base Color", [*spec["table"]["material"]["base_color"], 1])
        table.replace_materials(table_mat)
        for o in spec["objects"]:
            if o["mesh"]["kind"] == "primitive":
                obj = bproc.object.create_primitive(o["mesh"]["shape"].upper())
            else:
                mesh = bpy.data.meshes.new(o["name"])
                mesh.from_pydata(o["mesh"]["vertices"], [], o["mesh"]["faces"])
                obj = bproc.object.create_from_blender_mesh(mesh, o["name"])
            obj.set_scale(o["scale"])
            obj.set_location(o["location"])
            obj.set_rotation_euler(o["rotation"])
            obj.set_cp("category_id", o["category_id"])
            mat = bproc.material.create(o["name"])
            mat.set_principled_shader_value("Base Color", [*o["material"]["base_color"], 1])
            mat.set_principled_shader_value("Roughness", o["material"]["roughness"])
            mat.set_principled_shader_value("Metallic", o["material"]["metallic"])
            if o["material"]["texture"]:
                tex = mat.new_node("ShaderNodeTex" + o["material"]["texture"]["kind"].capitalize())
                tex.inputs["Scale"].default_value = o["material"]["texture"]["scale"]
                mat.set_principled_shader_value("Base Color", tex.outputs["Color"])
            obj.set_shading_mode("SMOOTH" if o["mesh"].get("smooth") else "FLAT")
            obj.replace_materials(mat)
            obj.enable_rigidbody(active=True, collision_shape="CONVEX_HULL")
        bproc.object.simulate_physics_and_fix_final_poses(min_simulation_time=1, max_simulation_time=4,
                                                          check_object_interval=0.5)
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
                                                        image_height=spec["height"], lens_unit="MILLIMETERS")
        rot = bproc.camera.rotation_from_forward_vec(np.asarray(cam["look_at"]) - np.asarray(cam["location"]))
        bproc.camera.add_camera_pose(bproc.math.build_transformation_mat(cam["location"], rot))
        if args.device == "cpu":
            bproc.renderer.set_render_devices(use_only_cpu=True)
        else:
            bproc.renderer.set_render_devices(desired_gpu_device_type=[args.device.upper()])
        bproc.renderer.set_max_amount_of_samples(args.samples)
        bproc.renderer.set_noise_threshold(0.0)
        bproc.renderer.set_denoiser("INTEL" if args.device == "cpu" else "OPTIX")
        bproc.renderer.enable_depth_output(activate_antialiasing=False)
        bproc.renderer.enable_segmentation_output(map_by=["category_id", "instance", "name"],
                                                  default_values={"category_id": 0})
        data = bproc.renderer.render()
        assert data["colors"][0].shape[0] == spec["height"]
        times.append(time.perf_counter() - start)
    with open(args.plain_worker, "w") as f:
        json.dump(times, f)
    os._exit(0)  # a process that imported BlenderProc must not go through interpreter shutdown


def run_plain(args: argparse.Namespace) -> list[float]:
    import json
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "times.json")
        cmd = [sys.executable, __file__, "--plain-worker", out, "--size", str(args.size),
               "--samples", str(args.samples), "--images", str(args.images), "--device", args.device]
        subprocess.run(cmd, capture_output=True, check=True)
        with open(out) as f:
            return json.load(f)


def run_synth(args: argparse.Namespace) -> list[float]:
    from scenes.tabletop3d import Tabletop3DScene, _server, build_labels
    scene = Tabletop3DScene()
    server = _server()
    server.call(_specs(args)[0])  # start-up excluded, as for plain
    times = []
    for spec in _specs(args):
        start = time.perf_counter()
        build_labels(spec, server.call(spec))  # what Tabletop3DScene.render does after draw_spec
        times.append(time.perf_counter() - start)
    scene.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--images", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", choices=["cpu", "cuda", "optix"], default="cpu")
    ap.add_argument("--plain-worker", metavar="OUT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.plain_worker:
        plain_worker(args)
    plain, ours = [], []
    for _ in range(args.runs):  # interleaved, so load from other processes hits both alike
        plain.append(statistics.median(run_plain(args)))
        ours.append(statistics.median(run_synth(args)))
        print(f"run: plain {plain[-1]:.3f} s/image, synth {ours[-1]:.3f} s/image", flush=True)
    p, o = statistics.median(plain), statistics.median(ours)
    print(f"tabletop3d {args.size}x{args.size}, {args.samples} samples, depth+segmentation, {args.device}, "
          f"{args.images} images x {args.runs} runs (median s/image)")
    print(f"{'':24}{'s/image':>10}{'images/s':>10}{'speed vs plain':>16}")
    print(f"{'plain BlenderProc':24}{p:10.3f}{1 / p:10.2f}{1.0:16.2f}")
    print(f"{'synth tabletop3d':24}{o:10.3f}{1 / o:10.2f}{p / o:16.2f}")


if __name__ == "__main__":
    main()
