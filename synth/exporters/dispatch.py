"""Export any version in any format, always with the labels current at that version.

An export is written into a fresh temporary folder (or file) next to OUT and moved into place at the end,
so an interrupted export leaves OUT as it was. What synth writes carries a marker (`.synth-export.json`
inside a folder; `.<name>.synth-export.json` beside a single file): an earlier synth export is replaced
whole (no stale files of another split or version stay behind), anything else is refused unless
`overwrite` is given."""
from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from synth.errors import SynthError, did_you_mean
from synth.store.workspace import Workspace
from synth.exporters.records import require_images, require_objects
from synth.store.payloads import blob_getter
from synth.store.lineage import current_table

FORMATS = ("coco", "yolo", "yolo-seg", "hf", "webdataset", "csv", "parquet", "jsonl", "audio", "coco-text",
           "icdar2015", "paddleocr", "doctr", "ocr-crops", "sroie")
OCR_FORMATS = ("coco-text", "icdar2015", "paddleocr", "doctr", "ocr-crops", "sroie")  # synth.exporters.ocr
TABULAR = ("csv", "parquet", "jsonl")
MARKER = ".synth-export.json"


def export_version(ws: Workspace, fmt: str | tuple[str, ...], out: str | Path, version: int | str | None = None,
                   shard_rows: int = 1000, recipe: str | None = None, single_file: bool = False,
                   kinds: tuple[str, ...] | None = None, overwrite: bool = False,
                   csv_escape: bool = True) -> dict[str, Any]:
    """Write version `version` (default: latest) as `fmt` under `out`; returns a summary with "version".
    csv/parquet/jsonl take `recipe` (only its rows), `single_file` (every split into the file `out`) and
    `kinds` (refuse a version whose rows are not of these kinds: table, utterances, samples); `fmt` may
    be several of them, written side by side. `out` may be empty, missing or an earlier synth export
    (replaced); anything else is refused unless `overwrite` (then it is replaced, its files deleted).
    `csv_escape` (default on) prefixes CSV cells that a spreadsheet would run as formulas with `'`."""
    formats = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    for f in formats:
        if f not in FORMATS:
            raise SynthError(f"unknown export format '{f}'{did_you_mean(f, FORMATS)}; allowed: {', '.join(FORMATS)}",
                             field="--format")
    if len(formats) > 1 and not set(formats) <= set(TABULAR):
        raise SynthError(f"only {', '.join(TABULAR)} can be written side by side", field="--format")
    single_file = single_file and formats[0] in TABULAR
    out = Path(out)
    target = _FileTarget(out, overwrite) if single_file else _FolderTarget(out, overwrite, ws)
    target.check()
    v = ws.manifest.resolve(version)
    table = current_table(ws, v)
    if formats[0] in ("coco", "yolo", "yolo-seg"):
        require_images(table, "export")
    if formats[0] in ("yolo", "yolo-seg"):
        require_objects(table, formats[0])
    get = blob_getter(ws, table)
    marker = {"synth_export": 1, "format": ",".join(formats), "version": v,
              "fingerprint": ws.manifest.fingerprint(v)}
    tmp = target.temporary()
    try:
        results = [_write(ws, f, table, get, tmp, v, out, shard_rows=shard_rows, recipe=recipe,
                          single_file=single_file, kinds=kinds, csv_escape=csv_escape) for f in formats]
        target.place(tmp, marker)
    finally:
        _remove(tmp)
    res = dict(results[0])
    if "files" in res and formats[0] in TABULAR:
        res["files"] = [target.final_name(tmp, f) for r in results for f in r["files"]]
    return {"version": v, **res}


def _write(ws: Workspace, fmt: str, table: Any, get: Any, tmp: Path, v: int, out: Path, *, shard_rows: int,
           recipe: str | None, single_file: bool, kinds: tuple[str, ...] | None, csv_escape: bool) -> dict[str, Any]:
    """Write one format into `tmp` (a folder, or the file for `single_file`)."""
    if fmt == "coco":
        from synth.exporters.coco import export_coco
        coco = export_coco(table, get, tmp)
        return {"images": len(coco["images"]), "annotations": len(coco["annotations"])}
    if fmt in ("yolo", "yolo-seg"):
        from synth.exporters.yolo import export_yolo
        return export_yolo(table, get, tmp, task="segment" if fmt == "yolo-seg" else "detect", dataset_path=out)
    if fmt == "hf":
        from synth.exporters.hf import export_hf
        return export_hf(table, get, tmp, shard_rows=shard_rows,
                         version_note=f" from version {v} ({ws.manifest.fingerprint(v)[:16]})")
    if fmt == "webdataset":
        from synth.exporters.webdataset import export_webdataset
        return export_webdataset(table, get, tmp, shard_rows=shard_rows)
    if fmt in OCR_FORMATS:
        from synth.exporters.ocr import export_ocr
        return export_ocr(table, get, tmp, fmt)
    if fmt == "audio":
        from synth.exporters.audio import export_audio
        return export_audio(table, get, tmp, csv_escape=csv_escape)
    from synth.exporters.tabular import export_tabular
    return export_tabular(table, get, tmp, fmt, recipe=recipe, single_file=single_file, csv_escape=csv_escape,
                          **({"kinds": kinds} if kinds else {}))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _files(folder: Path) -> list[str]:
    """Every file under `folder`, relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("synth_export") else None


class _FolderTarget:
    """OUT as a folder: missing, empty, an earlier synth export, or (with overwrite) anything but a file."""

    def __init__(self, out: Path, overwrite: bool, ws: Workspace) -> None:
        self.given, self.out, self.overwrite, self.ws = out, out.resolve(), overwrite, ws

    def check(self) -> None:
        out = self.out
        if out.exists() and not out.is_dir():
            raise SynthError(f"{self.given} exists and is not a folder; choose a folder to export into", field="OUT")
        if not out.exists() or not any(out.iterdir()):
            return
        marker = _read_marker(out / MARKER)
        if marker is None:
            if not self.overwrite:
                raise SynthError(f"{self.given} is not empty and holds no earlier synth export ({MARKER}); choose "
                                 "an empty folder, or pass --overwrite to replace it (its files are deleted)",
                                 field="OUT")
            self._refuse_dangerous()
            return
        extra = sorted(set(_files(out)) - set(marker.get("files", [])) - {MARKER})
        if extra and not self.overwrite:
            raise SynthError(f"{self.given} holds an earlier synth export plus {len(extra)} other file(s) (e.g. "
                             f"{extra[0]}); move them away, or pass --overwrite to delete them", field="OUT")
        if extra:
            self._refuse_dangerous()

    def _refuse_dangerous(self) -> None:
        """Never replace the filesystem root, the home folder, the current folder (or one above it), or a
        folder that holds the workspace."""
        out, cwd = self.out, Path.cwd().resolve()
        ws_root = None if "://" in self.ws.root else Path(self.ws.root).resolve()
        if out == Path(out.anchor) or out == Path.home().resolve() or out == cwd or out in cwd.parents \
                or (ws_root is not None and (out == ws_root or out in ws_root.parents)):
            raise SynthError(f"refusing to replace {self.given} (the root, home or current folder, or one holding "
                             "the workspace); export into a folder of its own", field="OUT")

    def temporary(self) -> Path:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.out.parent / f".{self.out.name}.synth-tmp-{secrets.token_hex(4)}"
        tmp.mkdir()
        return tmp

    def place(self, tmp: Path, marker: dict[str, Any]) -> None:
        (tmp / MARKER).write_text(json.dumps({**marker, "files": _files(tmp)}, indent=1, sort_keys=True))
        out, cwd = self.out, Path.cwd().resolve()
        if out.is_dir() and (out == cwd or out in cwd.parents):  # not renamed from under the user: refilled
            self._refill(tmp)
            return
        if out.is_dir() and not any(out.iterdir()):
            try:
                out.rmdir()
            except OSError:  # a mount point: fill it instead
                self._refill(tmp)
                return
        if not out.exists():
            os.rename(tmp, out)
            return
        aside = out.parent / f".{out.name}.synth-old-{secrets.token_hex(4)}"
        try:
            os.rename(out, aside)
        except OSError:  # cannot move OUT itself (a mount point): empty it, then fill it
            self._refill(tmp)
            return
        try:
            os.rename(tmp, out)
        except OSError:
            os.rename(aside, out)
            raise
        _remove(aside)

    def _refill(self, tmp: Path) -> None:
        """Empty OUT (check() allowed it) and move the new export's entries in: for a folder that cannot
        be renamed."""
        for child in self.out.iterdir():
            _remove(child)
        for child in tmp.iterdir():
            os.replace(child, self.out / child.name)

    def final_name(self, tmp: Path, written: str) -> str:
        return str(self.given / Path(written).relative_to(tmp))


class _FileTarget:
    """OUT as one file (--single-file): missing, an earlier synth export (its marker beside it), or with
    overwrite any file."""

    def __init__(self, out: Path, overwrite: bool) -> None:
        self.given, self.out, self.overwrite = out, out.resolve(), overwrite
        self.marker = self.out.parent / f".{self.out.name}{MARKER}"

    def check(self) -> None:
        if self.out.is_dir():
            raise SynthError(f"{self.given} is a folder; --single-file writes one file", field="OUT")
        if self.out.exists() and _read_marker(self.marker) is None and not self.overwrite:
            raise SynthError(f"{self.given} exists and is not an earlier synth export; choose another name, or "
                             "pass --overwrite to replace it", field="OUT")

    def temporary(self) -> Path:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        return self.out.parent / f".{self.out.name}.synth-tmp-{secrets.token_hex(4)}"

    def place(self, tmp: Path, marker: dict[str, Any]) -> None:
        os.replace(tmp, self.out)
        side = self.marker.with_name(self.marker.name + ".tmp")
        side.write_text(json.dumps({**marker, "files": [self.out.name]}, indent=1, sort_keys=True))
        os.replace(side, self.marker)

    def final_name(self, tmp: Path, written: str) -> str:
        return str(self.given)
