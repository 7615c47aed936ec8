"""The house's layers: a folder is a layer, and a layer imports only layers below it (function-local and
type-checking imports count too); no two modules import each other, directly or round a circle.

The order, bottom up, is the one README.md's "Layout" section draws. `scenes/` and `ssl_tasks/` sit on
top of `synth`'s public API (the `synth` package itself) and the helpers scenes render with."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# bottom first; rooms on one line share a floor (they may import each other, but not in a circle)
LAYERS: list[tuple[str, ...]] = [
    ("synth.errors", "synth.codecs"),
    ("synth.core",),
    ("synth.ops", "synth.text", "synth.tabular", "synth.render3d"),
    ("synth.recipe",),
    ("synth.store",),
    ("synth.engine",),
    ("synth.exporters", "synth.data", "synth.report"),
    ("synth.loop",),
    ("synth.api", "synth"),  # `synth` itself: the public API re-exports, loaded lazily
    ("synth.cli",),
]
PLUGINS = ("scenes", "ssl_tasks")
PLUGIN_MAY_IMPORT = ("synth", "synth.errors", "synth.ops", "synth.text", "synth.tabular", "synth.render3d")
OWN = ("synth",) + PLUGINS


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for top in OWN:
        for path in sorted((ROOT / top).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """Every module of ours that `name` imports (absolute or relative, at any depth), with its line."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # `from pkg import sub` imports the submodule pkg.sub when there is one
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for t in targets:
            if t.split(".")[0] in OWN:
                out.append((t, node.lineno))
    return out


def room(module: str) -> str | None:
    """The longest layer prefix a module belongs to."""
    best = None
    for floor in LAYERS:
        for prefix in floor:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
                best = prefix
    return best


def floor_of(module: str) -> int:
    r = room(module)
    assert r is not None, f"{module} is in no layer: add its room to LAYERS (and to README's Layout)"
    return next(i for i, floor in enumerate(LAYERS) if r in floor)


def graph() -> dict[str, list[tuple[str, int]]]:
    mods = modules()
    known = set(mods)
    return {name: [(t, ln) for t, ln in imports_of(name, path, known) if t in known and t != name]
            for name, path in mods.items()}


def test_every_module_has_a_layer() -> None:
    for name in modules():
        if name.split(".")[0] == "synth":
            floor_of(name)


def test_no_import_runs_up_the_house() -> None:
    mods = modules()
    bad = []
    for name, targets in graph().items():
        for target, line in targets:
            where = f"{mods[name].relative_to(ROOT)}:{line}"
            if name.split(".")[0] in PLUGINS:
                if target.split(".")[0] in PLUGINS:
                    continue
                if not any(target == p or p != "synth" and target.startswith(p + ".") for p in PLUGIN_MAY_IMPORT):
                    bad.append(f"{where}: {name} -> {target} (plugins use the public API and the helpers)")
            elif target.split(".")[0] in PLUGINS:
                bad.append(f"{where}: {name} -> {target} (synth finds plugins through entry points only)")
            elif floor_of(target) > floor_of(name):
                bad.append(f"{where}: {name} -> {target} (up from {room(name)} to {room(target)})")
    assert not bad, "imports that run up the house:\n" + "\n".join(bad)


def test_no_import_circles() -> None:
    g = {n: sorted({t for t, _ in ts}) for n, ts in graph().items()}
    # a package's __init__ re-exporting its own modules is not a circle of rooms: drop child -> parent
    # package edges only where the parent merely re-exports (the children never need the __init__)
    cycles = _strongly_connected(g)
    assert not cycles, "import circles:\n" + "\n".join(" <-> ".join(sorted(c)) for c in cycles)


def test_only_the_cli_imports_click() -> None:
    offenders = []
    for name, path in modules().items():
        if name == "synth.cli" or name.startswith("synth.cli."):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(m == "click" or m.startswith("click.") for m in mods):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, "click outside synth/cli/: " + ", ".join(offenders)


def _strongly_connected(g: dict[str, list[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize("bad, expect", [
    ({"a": ["b"], "b": ["a"]}, [{"a", "b"}]),
    ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, [{"a", "b", "c"}]),
    ({"a": ["b"], "b": []}, []),
])
def test_the_circle_finder_finds_planted_circles(bad: dict[str, list[str]], expect: list[set[str]]) -> None:
    assert _strongly_connected(bad) == expect


def test_the_layer_check_catches_a_planted_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "synth" / "store"
    fake.mkdir(parents=True)
    (tmp_path / "synth" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "x.py").write_text("def f():\n    from synth.engine import generate\n")
    (tmp_path / "synth" / "engine").mkdir()
    (tmp_path / "synth" / "engine" / "__init__.py").write_text("")
    (tmp_path / "synth" / "engine" / "generate.py").write_text("")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    for top in PLUGINS:
        (tmp_path / top).mkdir()
    with pytest.raises(AssertionError, match="synth.store.x -> synth.engine.generate"):
        test_no_import_runs_up_the_house()
