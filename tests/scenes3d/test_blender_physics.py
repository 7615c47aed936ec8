"""The drop's centre of mass, computed in numpy so that the same mesh always gives the same bits."""
from __future__ import annotations

import numpy as np

import scenes.tabletop3d as tabletop
from synth.render3d.physics import surface_centroid


def _triangles(faces: list[list[int]]) -> np.ndarray:
    return np.array([[f[0], f[i], f[i + 1]] for f in faces for i in range(1, len(f) - 1)])


def test_centroid_of_a_symmetric_shell_is_its_centre_wherever_it_is():
    mesh = tabletop.extrusion_mesh(6, 1.0, 0.5)
    vertices, triangles = np.asarray(mesh["vertices"], np.float32), _triangles(mesh["faces"])
    assert np.allclose(surface_centroid(vertices, triangles), 0.0, atol=1e-7)
    shift = np.array([0.25, -1.5, 3.0], np.float32)
    assert np.allclose(surface_centroid(vertices + shift, triangles), shift, atol=1e-6)


def test_centroid_weights_by_area_not_by_vertex_count():
    # a vase wide at the bottom: its surface (and centroid) sits low, its vertices are spread evenly in z
    mesh = tabletop.loft_mesh([1.0, 0.9, 0.2, 0.1])
    vertices, triangles = np.asarray(mesh["vertices"], np.float32), _triangles(mesh["faces"])
    assert surface_centroid(vertices, triangles)[2] < vertices[:, 2].mean() - 0.1


def test_centroid_is_bit_identical_on_repeat():
    mesh = tabletop.torus_mesh(0.7, 0.3)
    vertices, triangles = np.asarray(mesh["vertices"], np.float32), _triangles(mesh["faces"])
    first = surface_centroid(vertices, triangles).tobytes()
    assert all(surface_centroid(vertices.copy(), triangles.copy()).tobytes() == first for _ in range(20))
