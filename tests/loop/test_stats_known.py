"""`synth.loop.stats` on known answers that the image-level tests cannot isolate: the TSTR probe's scaling
and a two-sample test without bootstrap."""
from __future__ import annotations

import numpy as np

from synth.loop.stats import c2st, tstr


def _classes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 3, n)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    return centres[y] + rng.normal(0, 1, (n, 2)), y.astype(str)


def test_tstr_is_not_fooled_by_a_nuisance_feature_that_differs_between_the_sides() -> None:
    """Same classes on both sides; a third feature carries no class information and is nearly constant in
    synthetic, spread wide in real (blur, contrast). A probe scaled on synthetic alone reads every real row
    as 100 stds out and scores about chance; pooled scaling keeps the class features in charge."""
    rng = np.random.default_rng(0)
    Xs, ys = _classes(rng, 600)
    Xr, yr = _classes(rng, 300)
    Xs = np.c_[Xs, rng.normal(0.0, 0.01, len(Xs))]
    Xr = np.c_[Xr, rng.normal(3.0, 1.0, len(Xr))]
    res = tstr(Xs, ys, Xr, yr)
    assert res.accuracy > 0.9, res.accuracy
    # and a planted failure is still seen: synthetic classes swapped, so real rows are read wrong
    swapped = np.where(ys == "1", "2", np.where(ys == "2", "1", ys))
    assert tstr(Xs, swapped, Xr, yr).accuracy < 0.5


def test_c2st_without_bootstrap_gives_the_score_alone() -> None:
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(0, 1, (200, 3)), rng.normal(0, 1, (200, 3))]
    y = np.r_[np.zeros(200), np.ones(200)].astype(int)
    same = c2st(X, y, n_boot=0)
    assert same.ci == (same.auc, same.auc) and abs(same.auc - 0.5) < 0.1
    X[200:, 0] += 2.0
    assert c2st(X, y, n_boot=0).auc > 0.85


def test_the_svm_probe_reads_classes_a_linear_probe_cannot() -> None:
    """Classes that differ only in a ring's radius (no linear boundary): the logistic probe is near chance, the
    RBF-SVM probe reads them; an unknown probe is a clear error."""
    import pytest

    from synth.errors import SynthError

    rng = np.random.default_rng(3)

    def ring(n: int) -> tuple[np.ndarray, list[str]]:
        radius = rng.choice([1.0, 3.0], n)
        angle = rng.uniform(0, 2 * np.pi, n)
        X = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0, 0.2, (n, 2))
        return X, ["inner" if r == 1.0 else "outer" for r in radius]

    (X_syn, y_syn), (X_real, y_real) = ring(400), ring(200)
    linear = tstr(X_syn, y_syn, X_real, y_real, probe="logistic")
    kernel = tstr(X_syn, y_syn, X_real, y_real, probe="svm")
    assert linear.accuracy < 0.7 and kernel.accuracy > 0.95
    assert "SVM" in kernel.as_dict()["probe"] and "logistic" in linear.as_dict()["probe"]
    with pytest.raises(SynthError, match="unknown probe"):
        tstr(X_syn, y_syn, X_real, y_real, probe="forest")
