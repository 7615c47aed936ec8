"""Font discovery (sorted, so a font index means the same file on every machine) and glyph coverage."""
from __future__ import annotations

import os
from functools import lru_cache

from fontTools.ttLib import TTFont

from synth.text.trdg_shim import trdg_package_dir
from synth.errors import SynthError, did_you_mean

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# trdg ships fonts per script; languages without their own folder use the latin set (as trdg does)
SCRIPT_FOLDERS = {"cn": "cn", "ja": "ja"}


def bundled_font_dir(language: str = "en") -> str:
    return os.path.join(trdg_package_dir(), "fonts", SCRIPT_FOLDERS.get(language, "latin"))


@lru_cache(maxsize=64)
def list_fonts(font_dir: str) -> tuple[str, ...]:
    """Font files in `font_dir`, sorted by file name (directory order differs between file systems)."""
    if not os.path.isdir(font_dir):
        raise SynthError(f"font directory '{font_dir}' does not exist", field="font_dir")
    names = sorted(n for n in os.listdir(font_dir) if n.lower().endswith(FONT_SUFFIXES))
    if not names:
        raise SynthError(f"font directory '{font_dir}' holds no .ttf/.otf/.ttc files", field="font_dir")
    return tuple(os.path.join(font_dir, n) for n in names)


def font_name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def resolve_font(name: str, font_dir: str) -> str:
    """Path of the font called `name` (file name with or without extension) in `font_dir`."""
    fonts = list_fonts(font_dir)
    by_name = {font_name(p): p for p in fonts} | {os.path.basename(p): p for p in fonts}
    if name not in by_name:
        stems = sorted(font_name(p) for p in fonts)
        raise SynthError(f"unknown font '{name}'{did_you_mean(name, stems)}; fonts in {font_dir}: "
                         f"{', '.join(stems)}", field="font")
    return by_name[name]


@lru_cache(maxsize=256)
def _cmap(path: str) -> dict[int, str]:
    with TTFont(path, fontNumber=0, lazy=True) as font:
        return dict(font.getBestCmap() or {})


def missing_glyphs(text: str, path: str) -> list[str]:
    """Characters of `text` the font cannot draw as themselves (sorted, unique).

    A character is missing when the font has no glyph for it, or when it is a cased letter drawn
    with the glyph of its other case (all-caps display fonts such as Bebas), which would make the
    transcript disagree with the pixels.
    """
    cmap = _cmap(path)
    missing = set()
    for ch in set(text):
        if ch.isspace():
            continue
        glyph = cmap.get(ord(ch))
        other = ch.swapcase()
        if glyph is None or glyph == ".notdef":
            missing.add(ch)
        elif other != ch and len(other) == 1 and cmap.get(ord(other)) == glyph:
            missing.add(ch)
    return sorted(missing)


def fonts_covering(text: str, font_dir: str) -> list[str]:
    return [p for p in list_fonts(font_dir) if not missing_glyphs(text, p)]


def require_glyphs(text: str, path: str) -> None:
    missing = missing_glyphs(text, path)
    if missing:
        shown = " ".join(f"'{c}' (U+{ord(c):04X})" for c in missing)
        raise SynthError(f"font '{font_name(path)}' ({path}) has no glyph for {shown}; choose a font "
                         f"that covers them or remove them from the text source", field="font")
