"""A reproducible rigid-body drop on Blender's Bullet world: same scene in, same rest poses out, in any process.

BlenderProc's `simulate_physics_and_fix_final_poses` is not reproducible on Blender 4.2: before the drop it
moves each object's origin to its centre of mass with `bpy.ops.object.origin_set(type="ORIGIN_CENTER_OF_MASS")`,
whose result varies run to run in the last float32 bit (1e-8 m, a multithreaded sum inside Blender), and
the contacts of a drop amplify that into centimetres of difference in the rest poses. Bullet itself is
deterministic: stepping the same bodies from frame 1 gives bit-identical poses (scripts/physics_determinism.py).
So this module computes the centres in numpy, in a fixed order, and steps the world itself.
"""
from __future__ import annotations

from typing import Any

import numpy as np

# Simulation settings, fixed because a rest pose depends on every one of them (BlenderProc's defaults).
FPS = 24
SUBSTEPS_PER_FRAME = 10
SOLVER_ITERATIONS = 10
CHECK_INTERVAL_S = 0.5
# An object is at rest when, over the last second, no coordinate moved more than these (as in BlenderProc).
REST_LOCATION_M = 0.01
REST_ROTATION_RAD = 0.1


def drop(objects: list[Any], min_time_s: float, max_time_s: float) -> float:
    """Simulate until every object rests (checked each 0.5 s after `min_time_s`) or `max_time_s`, then fix
    each object's final pose and switch the rigid-body world off. Returns the simulated seconds.

    `objects` are the active BlenderProc MeshObjects; passive ones (the table) only collide."""
    import bpy
    scene = bpy.context.scene
    world = scene.rigidbody_world
    bodies = sorted((o.blender_obj for o in objects), key=lambda b: b.name)
    originals = {b.name: _shift_origin_to_centroid(b) for b in bodies}
    last_frame = _run(scene, world, bodies, min_time_s, max_time_s)
    final = {b.name: b.matrix_world.copy() for b in bodies}
    world.enabled = False
    scene.frame_set(1)
    for b in bodies:
        vertices, centroid = originals[b.name]
        b.data.vertices.foreach_set("co", vertices)  # the exact original floats, not (v - c) + c
        b.data.update()
        b.matrix_world = final[b.name] @ _translation(-centroid)
    bpy.context.view_layer.update()
    return (last_frame - 1) / FPS


def _run(scene: Any, world: Any, bodies: list[Any], min_time_s: float, max_time_s: float) -> int:
    """Step the world frame by frame from frame 1, on a freed cache (so nothing stale is replayed)."""
    import bpy
    max_frame = 1 + max(1, round(max_time_s * FPS))
    world.enabled = True
    world.substeps_per_frame = SUBSTEPS_PER_FRAME
    world.solver_iterations = SOLVER_ITERATIONS
    world.time_scale = 1.0
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    scene.frame_start, scene.frame_end = 1, max_frame
    world.point_cache.frame_start, world.point_cache.frame_end = 1, max_frame
    bpy.ops.ptcache.free_bake_all()
    history: dict[int, np.ndarray] = {}
    check_every = round(CHECK_INTERVAL_S * FPS)
    for frame in range(1, max_frame + 1):
        scene.frame_set(frame)  # frame 1 rebuilds the Bullet world from the objects' current poses
        if (frame - 1) % check_every:
            continue
        history[frame] = _poses(bodies)
        second_ago = history.get(frame - FPS)
        if (frame - 1) / FPS >= min_time_s and second_ago is not None and _at_rest(second_ago, history[frame]):
            return frame
    return max_frame


def _poses(bodies: list[Any]) -> np.ndarray:
    """Per body: world location and Euler rotation, as BlenderProc compares them."""
    return np.array([[*b.matrix_world.translation, *b.matrix_world.to_euler()] for b in bodies])


def _at_rest(before: np.ndarray, after: np.ndarray) -> bool:
    moved = np.abs(after - before)
    return bool((moved[:, :3] <= REST_LOCATION_M).all() and (moved[:, 3:] <= REST_ROTATION_RAD).all())


def _shift_origin_to_centroid(body: Any) -> tuple[np.ndarray, np.ndarray]:
    """Move the mesh so its origin is its surface centroid (Bullet spins a body about its origin, so an
    off-centre origin makes a cone or a monkey tumble wrongly). Returns the original vertices and the
    centroid (object frame), to undo it exactly after the drop."""
    mesh = body.data
    vertices = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
    mesh.vertices.foreach_get("co", vertices)
    mesh.calc_loop_triangles()
    triangles = np.empty(len(mesh.loop_triangles) * 3, dtype=np.int32)
    mesh.loop_triangles.foreach_get("vertices", triangles)
    centroid = surface_centroid(vertices.reshape(-1, 3), triangles.reshape(-1, 3))
    mesh.vertices.foreach_set("co", (vertices.reshape(-1, 3) - centroid).astype(np.float32).ravel())
    mesh.update()
    body.matrix_world = body.matrix_world @ _translation(centroid)
    return vertices, centroid


def surface_centroid(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted mean of the triangle centres (a hollow shell's centre of mass), in float64. numpy's
    sums run in one fixed order, so the same mesh always gives the same bits."""
    tri = vertices.astype(np.float64)[triangles]
    areas = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if areas.sum() <= 0:
        return tri.reshape(-1, 3).mean(0) if len(tri) else np.zeros(3)
    return (tri.mean(1) * areas[:, None]).sum(0) / areas.sum()


def _translation(offset: np.ndarray) -> Any:
    import mathutils
    return mathutils.Matrix.Translation(mathutils.Vector([float(v) for v in offset]))
