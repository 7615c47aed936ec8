"""Makes BlenderProc 2.8 importable in a plain Python 3.11 process on top of pip `bpy` 4.2.

`blenderproc run` downloads a Blender build and re-executes the script inside Blender's own Python,
which cannot work offline. BlenderProc's API itself only needs `bpy`, so we load it here instead.
"""
from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
from types import ModuleType

from synth.errors import SynthError

# Debian packages providing the shared libraries bpy's __init__.so needs (kept in sync with deps/apt.txt),
# by the soname the dynamic loader reports missing.
LIBRARY_PACKAGES = {
    "libX11.so.6": "libx11-6", "libXrender.so.1": "libxrender1", "libXxf86vm.so.1": "libxxf86vm1",
    "libXfixes.so.3": "libxfixes3", "libXi.so.6": "libxi6", "libxkbcommon.so.0": "libxkbcommon0",
    "libSM.so.6": "libsm6", "libICE.so.6": "libice6", "libXext.so.6": "libxext6", "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1", "libgomp.so.1": "libgomp1", "libxcb.so.1": "libxcb1", "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0", "libXau.so.6": "libxau6", "libXdmcp.so.6": "libxdmcp6",
}
APT_PACKAGES = ("libx11-6", "libxrender1", "libxxf86vm1", "libxfixes3", "libxi6", "libxkbcommon0",
                "libsm6", "libice6", "libxext6", "libgl1", "libegl1", "libgomp1")

# The API modules our scenes use, imported up front. The others (loader, writer, postprocessing, ...)
# pull in pandas, matplotlib, h5py and more, which costs seconds per Blender process; they load on
# first access instead (`bproc.loader` still works).
_EAGER_API_MODULES = ("utility", "math", "material", "types", "camera", "renderer", "object", "lighting")
_LAZY_API_MODULES = ("loader", "sampler", "postprocessing", "writer", "world", "constructor", "filter")

INSTALL_HINT = ("the 3D scenes need the optional extra synth[3d] (Blender's bpy 4.2 and BlenderProc 2.8): "
                "run `uv sync --extra 3d` in a checkout, or `pip install 'synth[3d]'`")


def missing_library_message(error_text: str) -> str:
    """What to tell a user whose `import bpy` failed in the dynamic loader (e.g. "libXrender.so.1: cannot
    open shared object file: No such file or directory"): the missing libraries and the apt command."""
    missing = list(dict.fromkeys(re.findall(r"(lib[\w.+-]+?\.so(?:\.\d+)*)", error_text)))
    wanted = [LIBRARY_PACKAGES[m] for m in missing if m in LIBRARY_PACKAGES]
    # an unknown library still gets the full list: it is most likely a dependency of one of them
    packages = list(dict.fromkeys(wanted or APT_PACKAGES))
    return (f"bpy cannot load a system library ({', '.join(missing) or error_text}); install the Debian "
            f"packages: apt-get install -y {' '.join(packages)}"
            + ("" if wanted else " (or the package that provides it: apt-file search <library>)"))


def import_bpy() -> ModuleType:
    """Import bpy, turning a missing package or a missing system library into a SynthError."""
    try:
        import bpy
    except ModuleNotFoundError as exc:
        if exc.name == "bpy":
            raise SynthError(f"bpy is not installed: {INSTALL_HINT}") from None
        raise
    except ImportError as exc:  # the dynamic loader's "libX.so.N: cannot open shared object file"
        raise SynthError(missing_library_message(str(exc))) from None
    return bpy


def import_blenderproc(temp_dir: str | None = None) -> ModuleType:
    """Return the `blenderproc` module with its API (`bproc.object`, `bproc.renderer`, ...) loaded.

    Only call this in a process that will end with `os._exit` (see synth/render3d/render_server.py):
    once BlenderProc and bpy are loaded, normal interpreter shutdown can crash or hang.
    """
    import_bpy()
    if "blenderproc" in sys.modules and hasattr(sys.modules["blenderproc"], "init"):
        return sys.modules["blenderproc"]
    try:
        # blenderproc/__init__.py refuses to import unless started by its launcher; this variable is
        # what its own `python -m blenderproc` entry sets to mark a sanctioned start.
        os.environ.setdefault("OUTSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT_BUT_IN_RUN_SCRIPT", "1")
        import blenderproc
        # Inside Blender its __init__ would now call SetupUtility.setup (pip-installs packages, rewrites
        # sys.argv and sys.path). We pin those packages in the `3d` extra and only import the API.
        for name in _EAGER_API_MODULES:
            setattr(blenderproc, name, importlib.import_module(f"blenderproc.api.{name}"))
        blenderproc.__getattr__ = _lazy_api_module  # PEP 562: called for attributes not set above
        from blenderproc.python.utility.Initializer import clean_up, init
        from blenderproc.python.utility.SetupUtility import SetupUtility
    except ModuleNotFoundError as exc:
        raise SynthError(f"BlenderProc cannot import {exc.name!r}: {INSTALL_HINT}") from None
    blenderproc.init, blenderproc.clean_up = _init_without_language, clean_up
    # Renders go to EXR/PNG files in Utility.temp_dir before BlenderProc reads them back.
    SetupUtility.setup_utility_paths(temp_dir or tempfile.mkdtemp(prefix="synth-bproc-"))
    SetupUtility.main_setup_called = True
    return blenderproc


def _lazy_api_module(name: str) -> ModuleType:
    if name in _LAZY_API_MODULES:
        module = importlib.import_module(f"blenderproc.api.{name}")
        setattr(sys.modules["blenderproc"], name, module)
        return module
    raise AttributeError(f"module 'blenderproc' has no attribute {name!r}")


def _init_without_language(clean_up_scene: bool = True) -> None:
    """BlenderProc's `init`, minus one step: it sets the UI language to "en_US", but pip bpy ships no
    translations, so that enum only has "DEFAULT" (already English) and the assignment raises."""
    import bpy
    from blenderproc.python.renderer import RendererUtility
    from blenderproc.python.utility.GlobalStorage import GlobalStorage
    from blenderproc.python.utility.Initializer import _Initializer, clean_up
    if GlobalStorage.is_in_storage("bproc_init_complete"):
        raise RuntimeError("BlenderProc is already initialised; use bproc.clean_up() between scenes")
    if clean_up_scene:
        clean_up(clean_up_camera=True)
    bpy.context.scene.render.engine = "CYCLES"
    RendererUtility.set_render_devices()
    _Initializer.set_default_parameters()
    GlobalStorage.add("bproc_init_complete", True)
