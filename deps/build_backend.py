"""setuptools' PEP 517 backend, telling setup.py whether it builds an editable install (top-level `scenes`
and `ssl_tasks`, as the checkout uses them) or a wheel/sdist (`synth.scenes`, `synth.ssl_tasks`)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  (the hooks that need no layout)
    build_sdist,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_wheel,
)

LAYOUT = "SYNTH_BUILD_LAYOUT"


@contextmanager
def _layout(name: str) -> Iterator[None]:
    before = os.environ.get(LAYOUT)
    os.environ[LAYOUT] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(LAYOUT, None)
        else:
            os.environ[LAYOUT] = before


def build_wheel(wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None) -> str:
    with _layout("wheel"):
        return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None) -> str:
    with _layout("editable"):
        return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    with _layout("editable"):
        return _setuptools.get_requires_for_build_editable(config_settings)


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: Any = None) -> str:
    with _layout("editable"):
        return _setuptools.prepare_metadata_for_build_editable(metadata_directory, config_settings)
