"""Imports trdg 1.8.0 so that it runs on Pillow >= 10 (and takes a negative fixed skew); the one place
the project touches trdg internals."""
from __future__ import annotations

import contextlib
import io
import random
from types import ModuleType

from PIL import ImageFont


def _text_height(image_font: ImageFont.FreeTypeFont, text: str) -> int:
    # Pillow 10 removed FreeTypeFont.getsize, which trdg 1.8.0 calls for every line height.
    # getsize(text)[1] was the bottom of the ink box measured from the drawing origin, which
    # is what getbbox(text)[3] returns (the replacement the Pillow 10 release notes give).
    return int(image_font.getbbox(text)[3])


class _OrderTolerantRandom:
    """The global `random` module, except that randint(a, b) accepts a > b.

    trdg draws randint(-skew, skew) for every image, even when the skew is fixed, so a fixed negative
    skew raises. Swapping the bounds draws from the same range with the same consumption of the
    global stream, so seeded runs are unchanged.
    """

    def __getattr__(self, name: str):
        return getattr(random, name)

    @staticmethod
    def randint(a: int, b: int) -> int:
        return random.randint(min(a, b), max(a, b))


def load_trdg() -> ModuleType:
    """Return trdg's `data_generator` module, patched once, with its import-time chatter hidden.

    trdg prints "Missing modules for handwritten text generation." on import because its optional
    handwriting model needs TensorFlow; we never use that path, and stdout may carry data.
    """
    _require_trdg()
    with contextlib.redirect_stdout(io.StringIO()):
        from trdg import computer_text_generator, data_generator, utils
    if utils.get_text_height is not _text_height:
        # trdg imports the helper by name into computer_text_generator, so patch both references
        # (trdg's own functions, not Pillow's classes: nothing outside trdg changes behaviour).
        utils.get_text_height = _text_height
        computer_text_generator.get_text_height = _text_height
        data_generator.rnd = _OrderTolerantRandom()
    return data_generator


def trdg_package_dir() -> str:
    """Folder of the installed trdg package (its bundled `fonts/` and `dicts/`)."""
    import os

    _require_trdg()
    import trdg
    return os.path.dirname(trdg.__file__)


TRDG_MISSING = ("trdg is not installed: the text scenes (text_line, receipt) need trdg 1.8.0, installed without "
                "its dependencies (its pins pull the GUI opencv-python and a yanked arabic-reshaper): "
                "pip install --no-deps trdg==1.8.0")


def _require_trdg() -> None:
    import importlib.util

    from synth.errors import SynthError

    if importlib.util.find_spec("trdg") is None:
        raise SynthError(TRDG_MISSING)
