"""jigsaw: the inverse of the labelled permutation restores the tiles; the permutation set is the
greedy max-Hamming construction, identical across runs."""
from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from ssl_helpers import apply_task, image_sample
from ssl_tasks.jigsaw import greedy_permutations, permutation_set
from synth.errors import SynthError

PARAMS = {"n_permutations": 100, "crop_size": 120, "tile_size": 32}


@pytest.mark.parametrize("index", range(20))
def test_inverse_permutation_restores_tiles(index):
    sample = image_sample(150, 170, seed=index)
    src = sample.payloads["image"].data
    label = apply_task("jigsaw", sample, PARAMS, index=index)
    shuffled = sample.payloads[label["payloads"]["tiles"]].data
    perm = np.array(label["permutation"])
    perms, sha = permutation_set(100)
    assert label["permutation_set_sha256"] == sha
    np.testing.assert_array_equal(perms[label["label"]], perm)
    restored = np.empty_like(shuffled)
    restored[perm] = shuffled  # the inverse permutation
    cell = PARAMS["crop_size"] // 3
    cx0, cy0 = label["crop_box"][:2]
    for k, (x0, y0, x1, y1) in enumerate(label["tile_boxes"]):
        np.testing.assert_array_equal(restored[k], src[y0:y1, x0:x1])
        # tile k lies inside cell k of the crop (row-major), jittered within it
        r, c = divmod(k, 3)
        assert cx0 + c * cell <= x0 and x1 <= cx0 + (c + 1) * cell
        assert cy0 + r * cell <= y0 and y1 <= cy0 + (r + 1) * cell


def _hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[:, None, :] != b[None, :, :]).sum(axis=2)


def test_set_minimum_distance_equals_greedy_construction():
    ps = greedy_permutations(100)
    assert ps.perms.shape == (100, 9) and len({tuple(p) for p in ps.perms}) == 100
    assert all(sorted(p) == list(range(9)) for p in ps.perms)
    pairwise = _hamming(ps.perms, ps.perms)
    np.fill_diagonal(pairwise, 99)
    # max-min greedy: pick distances never increase, and the last one is the set's minimum distance
    assert (np.diff(ps.pick_distances[1:]) <= 0).all()
    assert pairwise.min() == ps.pick_distances[-1]
    # and every pick was a farthest point: no permutation of all 9! was farther from the chosen ones
    every = np.array(list(itertools.permutations(range(9))), dtype=np.uint8)
    nearest = np.full(len(every), 10)
    for k in range(1, 100):
        nearest = np.minimum(nearest, (every != ps.perms[k - 1]).sum(axis=1))
        chosen_distance = (ps.perms[:k] != ps.perms[k]).sum(axis=1).min()
        assert chosen_distance == nearest.max() == ps.pick_distances[k]


def test_set_is_identical_across_runs():
    code = "from ssl_tasks.jigsaw import permutation_set; print(permutation_set({n})[1])"
    for n in (100, 1000):
        fresh = subprocess.run([sys.executable, "-c", code.format(n=n)], capture_output=True, text=True, check=True)
        assert fresh.stdout.strip() == permutation_set(n)[1]
    assert permutation_set(100)[1] != permutation_set(1000)[1]


def test_thousand_permutation_set_is_well_separated():
    ps = greedy_permutations(1000)
    assert len({tuple(p) for p in ps.perms}) == 1000
    assert ps.pick_distances[-1] >= 5  # max-min greedy over 9! reaches 5; a random set would have pairs at 2


def test_permutation_set_payload_hash_matches_label():
    import hashlib
    sample = image_sample(150, 150)
    label = apply_task("jigsaw", sample, PARAMS)
    data, _ = sample.payloads[label["payloads"]["permutation_set"]].encode()
    assert hashlib.sha256(data).hexdigest() == label["permutation_set_sha256"]


@pytest.mark.parametrize("n", [10, 99, 500, 2000])
def test_unsupported_set_size_is_refused(n):
    with pytest.raises(SynthError, match="n_permutations"):
        apply_task("jigsaw", image_sample(150, 150), {**PARAMS, "n_permutations": n})


def test_image_smaller_than_crop_is_refused():
    with pytest.raises(SynthError, match="smaller than the 225px crop"):
        apply_task("jigsaw", image_sample(200, 300))


def test_tile_larger_than_cell_is_refused():
    with pytest.raises(SynthError, match="tile_size 50 must fit its cell"):
        apply_task("jigsaw", image_sample(150, 150), {**PARAMS, "tile_size": 50})
