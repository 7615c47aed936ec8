"""Our PNG writer produces files that libpng (OpenCV) and Pillow decode to exactly the array given."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from synth.codecs.png import encode_png
from synth.core.sample import image, mask

CASES = [((37, 53), np.uint8), ((37, 53, 3), np.uint8), ((37, 53, 4), np.uint8), ((37, 53, 2), np.uint8),
         ((29, 31), np.uint16), ((29, 31, 3), np.uint16), ((1, 1), np.uint8), ((1, 300, 3), np.uint8)]


@pytest.mark.parametrize("shape,dtype", CASES)
def test_decoders_read_back_the_exact_array(shape, dtype):
    arr = np.random.default_rng(sum(shape)).integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    data = encode_png(arr)
    pil = np.asarray(Image.open(io.BytesIO(data)))
    if dtype == np.uint8:  # Pillow keeps 16-bit only for grey
        assert np.array_equal(pil.reshape(shape), arr)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.dtype == dtype
    if arr.ndim == 3 and arr.shape[2] in (3, 4):  # OpenCV hands back BGR(A)
        decoded = decoded[..., [2, 1, 0, 3][:arr.shape[2]]]
    if arr.ndim == 3 and arr.shape[2] == 2:  # grey+alpha comes back as BGRA
        decoded = decoded[..., [0, 3]]
    assert np.array_equal(decoded.reshape(shape), arr)


def test_views_and_constant_images():
    base = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    view = base[5:40:2, ::3]  # neither row- nor column-contiguous
    assert np.array_equal(cv2.imdecode(np.frombuffer(encode_png(view), np.uint8), cv2.IMREAD_COLOR)[..., ::-1], view)
    flat = np.full((256, 256, 3), 7, np.uint8)
    assert len(encode_png(flat)) < 2000  # the up filter turns a flat image into zeros that deflate away


def test_same_array_same_bytes():
    arr = np.random.default_rng(1).integers(0, 256, (80, 90, 3), dtype=np.uint8)
    assert encode_png(arr) == encode_png(arr.copy())


@pytest.mark.parametrize("arr", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4), np.uint8)])
def test_refuses_what_png_cannot_hold(arr):
    with pytest.raises(ValueError):
        encode_png(arr)


def test_payloads_encode_rgb_in_png_order_and_narrow_masks():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red
    data, ext = image(rgb).encode("png")
    assert ext == "png" and Image.open(io.BytesIO(data)).getpixel((0, 0)) == (200, 0, 0)
    ids = np.arange(64, dtype=np.uint16).reshape(8, 8)
    data, _ = mask(ids).encode()
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.dtype == np.uint8 and np.array_equal(decoded, ids)
    big = ids * 1000
    decoded = cv2.imdecode(np.frombuffer(mask(big).encode()[0], np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.dtype == np.uint16 and np.array_equal(decoded, big)
