"""Feature extractors: fixed shapes and names, the same matrix on every run, and the features that should
move with a planted change do."""
from __future__ import annotations

import numpy as np

from synth.loop.features import AudioFeatures, ImageFeatures, TableFeatures, TextFeatures, mel_filters
from synth.loop.stats import auc_score, mmd_test, wilson


def test_image_ink_statistics_follow_stroke_width() -> None:
    import cv2
    thin, thick = np.zeros((28, 28), np.uint8), np.zeros((28, 28), np.uint8)
    cv2.line(thin, (6, 6), (20, 22), 255, 1)
    cv2.line(thick, (6, 6), (20, 22), 255, 4)
    f = ImageFeatures().fit([thin])
    X = f.transform([thin, thick, np.dstack([thick] * 3)])
    names = list(f.get_feature_names_out())
    assert X.shape == (3, len(names)) and np.isfinite(X).all()
    col = {n: i for i, n in enumerate(names)}
    assert X[1, col["stroke_thickness"]] > 1.5 * X[0, col["stroke_thickness"]]
    assert X[1, col["ink_fraction"]] > X[0, col["ink_fraction"]] and X[0, col["ink_polarity"]] == 1.0
    assert np.allclose(X[1], X[2])  # grey and its RGB copy read the same
    assert np.array_equal(ImageFeatures().fit_transform([thin, thick]), X[:2])


def test_text_audio_and_table_features() -> None:
    t = TextFeatures(n_features=64)
    Xt = t.fit_transform(["Total 12.50", "hello world", ""])
    assert Xt.shape == (3, 64 + len(TextFeatures.STATS)) and np.isfinite(Xt).all()
    rate = 8000
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    a = AudioFeatures(n_mels=16)
    Xa = a.fit_transform([(tone, rate), (np.zeros(100, np.float32), 22050), (np.stack([tone, tone], 1), rate)])
    assert Xa.shape == (3, 32 + len(AudioFeatures.STATS)) and np.isfinite(Xa).all()
    assert mel_filters(16000, 512, 16).shape == (16, 257)
    rows = [{"age": 30, "city": "Oslo", "vip": True}, {"age": None, "city": "Rome", "vip": False}]
    tb = TableFeatures().fit(rows)
    assert list(tb.get_feature_names_out()) == ["age", "age=missing", "vip", "city=Oslo", "city=Rome", "city=other"]
    assert tb.transform([{"age": 50, "city": "Paris", "vip": True}]).tolist() == [[50, 0, 1, 0, 0, 1]]


def test_statistics_on_known_inputs() -> None:
    assert auc_score(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc_score(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    lo, hi = wilson(50, 100)
    assert lo < 0.5 < hi and round(hi - lo, 2) == 0.19
    rng = np.random.default_rng(0)
    same = mmd_test(rng.normal(size=(40, 3)), rng.normal(size=(40, 3)), n_permutations=100)
    shifted = mmd_test(rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) + 1, n_permutations=100)
    assert same.p > 0.05 and shifted.p < 0.05
