"""Our JPEG path (libjpeg-turbo via imagecodecs, fed RGB) writes the bytes OpenCV writes for the same
picture, and libjpeg (OpenCV) and Pillow decode them to what it decodes."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from synth.codecs.jpeg import decode_jpeg, encode_jpeg, jpeg_round_trip
from synth.core.sample import image

RNG = np.random.default_rng(7)
SMOOTH = cv2.GaussianBlur(RNG.integers(0, 256, (96, 128, 3), dtype=np.uint8), (0, 0), 3)  # photo-like
PICTURES = {"smooth": SMOOTH, "noise": RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8),
            "one_pixel": np.full((1, 1, 3), 200, np.uint8), "grey": SMOOTH[..., 1].copy()}


@pytest.mark.parametrize("name", PICTURES)
@pytest.mark.parametrize("quality", [1, 50, 80, 95, 100])
def test_same_bytes_as_opencv_from_bgr(name, quality):
    pic = PICTURES[name]
    bgr = pic if pic.ndim == 2 else cv2.cvtColor(pic, cv2.COLOR_RGB2BGR)
    ok, theirs = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    ours = encode_jpeg(pic, quality)
    assert ok and ours == theirs.tobytes()
    flag = cv2.IMREAD_GRAYSCALE if pic.ndim == 2 else cv2.IMREAD_COLOR_RGB
    assert np.array_equal(decode_jpeg(ours), cv2.imdecode(theirs, flag))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(ours))), decode_jpeg(ours))


def test_round_trip_keeps_shape_colour_and_drops_alpha():
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 220
    out = jpeg_round_trip(red, 90)
    assert out.shape == red.shape and out.dtype == np.uint8
    assert out[..., 0].min() > 200 and out[..., 1:].max() < 20  # red stays red: luma weighed from R, G, B
    rgba = np.dstack([red, np.zeros((16, 16), np.uint8)])  # a transparent alpha has no effect on the colour
    assert np.array_equal(jpeg_round_trip(rgba, 90), out)
    grey = PICTURES["grey"]
    assert jpeg_round_trip(grey[..., None], 80).shape == grey.shape + (1,)
    view = SMOOTH[::2, ::3]  # not contiguous
    assert np.array_equal(jpeg_round_trip(view, 80), jpeg_round_trip(view.copy(), 80))


def test_lower_quality_loses_more():
    errors = [np.abs(jpeg_round_trip(SMOOTH, q).astype(int) - SMOOTH).mean() for q in (10, 50, 95)]
    assert errors[0] > errors[1] > errors[2] > 0


@pytest.mark.parametrize("arr,quality", [(np.zeros((4, 4, 3), np.float32), 80), (np.zeros((4, 4, 2), np.uint8), 80),
                                         (np.zeros((0, 4, 3), np.uint8), 80), (np.zeros((4, 4, 3), np.uint8), 0),
                                         (np.zeros((4, 4, 3), np.uint8), 101)])
def test_refuses_what_jpeg_cannot_hold(arr, quality):
    with pytest.raises(ValueError):
        encode_jpeg(arr, quality)


def test_image_payload_writes_jpeg_of_the_rgb_pixels():
    data, ext = image(SMOOTH).encode("jpg", 85)
    assert ext == "jpg" and data == encode_jpeg(SMOOTH, 85)
    assert Image.open(io.BytesIO(data)).mode == "RGB"
