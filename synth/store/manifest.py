"""The versioned manifest: a Lance dataset of sample rows, one version per change, each carrying
its message, parents and content fingerprint; queried with DuckDB."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth.core.names import check_name
from synth.errors import WorkspaceError
from synth.store.rows import COLUMNS, HASHED, row_hash  # noqa: F401  (re-exported)

if TYPE_CHECKING:  # imported on first use: a driver starts its worker processes before paying for it
    import lance

SCHEMA = pa.schema([
    ("sample_id", pa.string()),
    ("origin", pa.string()),          # synthetic | real
    ("recipe_name", pa.string()),
    ("recipe_hash", pa.string()),
    ("index", pa.int64()),
    ("seed", pa.uint64()),
    ("params", pa.string()),          # JSON: dotted path -> concrete value
    ("scene", pa.string()),
    ("scene_version", pa.string()),
    ("labels", pa.string()),          # JSON
    ("payloads", pa.string()),        # JSON: name -> {kind, hash, format, uri} or {kind, value} inline
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("split", pa.string()),
    ("group_key", pa.string()),       # leakage-free splits hash this
    ("source", pa.string()),          # real data: where it came from
    ("license", pa.string()),
    ("note", pa.string()),
    ("row_hash", pa.string()),        # sha256 of the row's content; the fingerprint is built from these
])

assert tuple(SCHEMA.names) == COLUMNS

# Lance's in-memory object store is private to one dataset handle; keep handles per memory:// URI.
_MEMORY_HANDLES: dict[str, lance.LanceDataset] = {}


def fingerprint_of(row_hashes: pa.Array | list[str]) -> str:
    arr = np.sort(np.asarray(pa.array(row_hashes, pa.string()).to_numpy(zero_copy_only=False), dtype="U64"))
    h = hashlib.sha256()
    h.update(("\n".join(arr.tolist())).encode())
    return h.hexdigest()


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    for r in rows:
        r.setdefault("row_hash", row_hash(r))
    # column by column: 3x faster than Table.from_pylist (0.10 s vs 0.30 s for 3000 shapes rows)
    return pa.table([pa.array([r.get(f.name) for r in rows], f.type) for f in SCHEMA], schema=SCHEMA)


@dataclass
class VersionInfo:
    version: int
    timestamp: datetime
    message: str
    fingerprint: str
    rows: int
    parents: list[int]
    operation: str
    tags: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "timestamp": self.timestamp.isoformat(), "message": self.message,
                "fingerprint": self.fingerprint, "rows": self.rows, "parents": self.parents,
                "operation": self.operation, "tags": self.tags}


class Manifest:
    def __init__(self, uri: str, storage_options: dict[str, str] | None = None) -> None:
        self.uri = uri
        self.storage_options = storage_options or None
        self._ds: lance.LanceDataset | None = _MEMORY_HANDLES.get(uri)

    # -- reading ---------------------------------------------------------------------------
    def exists(self) -> bool:
        return self._dataset(required=False) is not None

    def _dataset(self, required: bool = True) -> lance.LanceDataset | None:
        import lance

        if self.uri.startswith("memory://"):
            self._ds = _MEMORY_HANDLES.get(self.uri)
        else:
            try:
                self._ds = lance.dataset(self.uri, storage_options=self.storage_options)
            except (ValueError, OSError) as exc:
                if "not found" not in str(exc).lower() and self._version_files():
                    raise WorkspaceError(self._damaged_versions(exc)) from None
                self._ds = None  # no manifest yet (a version file, written whole or not at all, is its start)
        if self._ds is None and required:
            raise WorkspaceError("the workspace has no manifest yet: run `synth generate` or `synth import` first")
        return self._ds

    def resolve(self, version: int | str | None) -> int:
        ds = self._dataset()
        if version is None or version == "latest":
            return ds.latest_version
        if isinstance(version, str) and version.lstrip("v").isdigit():
            version = int(version.lstrip("v"))
        if isinstance(version, int):
            known = {v["version"] for v in ds.versions()}
            if version not in known:
                raise WorkspaceError(f"no version {version}; versions are {min(known)}..{max(known)}",
                                     field="--version")
            return version
        tags = ds.tags.list()
        if version not in tags:
            raise WorkspaceError(f"no version or tag named '{version}'; tags: {', '.join(sorted(tags)) or 'none'}",
                                 field="--version")
        return tags[version]["version"]

    def dataset(self, version: int | str | None = None) -> lance.LanceDataset:
        ds = self._dataset()
        v = self.resolve(version)
        return ds if v == ds.version else ds.checkout_version(v)

    def to_table(self, version: int | str | None = None, columns: list[str] | None = None) -> pa.Table:
        ds = self.dataset(version)
        return self._reading(ds, lambda: ds.to_table(columns=columns))

    def latest_version(self) -> int | None:
        ds = self._dataset(required=False)
        return ds.latest_version if ds is not None else None

    def fingerprint(self, version: int | str | None = None) -> str:
        info = self.version_info(self.resolve(version))
        return info.fingerprint

    def versions(self) -> list[VersionInfo]:
        ds = self._dataset(required=False)
        if ds is None:
            return []
        tags_by_version: dict[int, list[str]] = {}
        for name, t in ds.tags.list().items():
            tags_by_version.setdefault(t["version"], []).append(name)
        out = []
        for v in ds.versions():
            props = self._props(ds, v["version"])
            out.append(VersionInfo(
                version=v["version"], timestamp=v["timestamp"], message=props.get("message", ""),
                fingerprint=props.get("fingerprint", ""), rows=int(v["metadata"].get("total_rows", 0)),
                parents=json.loads(props.get("parents", "[]")), operation=props.get("operation", ""),
                tags=sorted(tags_by_version.get(v["version"], []))))
        return out

    def version_info(self, version: int) -> VersionInfo:
        for info in self.versions():
            if info.version == version:
                return info
        raise WorkspaceError(f"no version {version}")

    @staticmethod
    def _props(ds: lance.LanceDataset, version: int) -> dict[str, str]:
        txn = ds.read_transaction(version)
        return dict(txn.transaction_properties or {}) if txn is not None else {}

    # -- writing ---------------------------------------------------------------------------
    def commit(self, rows: pa.Table, message: str, *, operation: str, mode: str = "append",
               parents: list[int] | None = None, extra: dict[str, str] | None = None) -> int:
        """Append (or overwrite with) rows as one new version carrying message, parents, fingerprint."""
        ds = self._dataset(required=False)
        rows = rows.cast(SCHEMA)
        if mode == "append" and ds is not None:
            base_hashes = ds.to_table(columns=["row_hash"]).column("row_hash")
            all_hashes = pa.concat_arrays([base_hashes.combine_chunks(), rows.column("row_hash").combine_chunks()])
            parents = parents if parents is not None else [ds.latest_version]
        else:
            all_hashes = rows.column("row_hash").combine_chunks()
            parents = parents if parents is not None else ([ds.latest_version] if ds is not None else [])
        props = {"message": message, "fingerprint": fingerprint_of(all_hashes), "operation": operation,
                 "parents": json.dumps(parents), **(extra or {})}
        target = ds if ds is not None else self.uri
        import lance

        new = lance.write_dataset(rows, target, schema=SCHEMA, mode=mode if ds is not None else "create",
                                  storage_options=self.storage_options, transaction_properties=props)
        if self.uri.startswith("memory://"):
            _MEMORY_HANDLES[self.uri] = new
        self._ds = new
        return new.version

    def tag(self, name: str, version: int | str | None = None) -> int:
        check_name(name, "tag name")
        ds = self._dataset()
        v = self.resolve(version)
        if name in ds.tags.list():
            ds.tags.update(name, v)
        else:
            ds.tags.create(name, v)
        return v

    def existing_ids(self, recipe_hash: str) -> set[str]:
        ds = self._dataset(required=False)
        if ds is None:
            return set()
        t = self._reading(ds, lambda: ds.to_table(columns=["sample_id"], filter=f"recipe_hash = '{recipe_hash}'"))
        return set(t.column("sample_id").to_pylist())

    # -- damaged files ---------------------------------------------------------------------
    def _reading(self, ds: lance.LanceDataset, read: Callable[[], Any]) -> Any:
        """`read()`, turning Lance's error about a damaged data file into one naming the file."""
        try:
            return read()
        except (OSError, ValueError) as exc:
            if "LanceError" not in str(exc):
                raise
            raise WorkspaceError(self._damaged_data(ds, exc)) from None

    def _version_files(self) -> list[tuple[int, str]]:
        """(version, file name) of every file in manifest.lance/_versions, newest first."""
        import fsspec

        try:
            fs, base = fsspec.core.url_to_fs(self.uri)
            names = [n.rstrip("/").rsplit("/", 1)[-1] for n in fs.ls(f"{base}/_versions", detail=False)]
        except Exception:  # noqa: BLE001 (no folder, or an object store fsspec cannot list without Lance's options)
            return []
        out = []
        for name in names:
            stem = name[:-len(".manifest")]
            if name.endswith(".manifest") and stem.isdigit():
                n = int(stem)
                out.append((_U64_MAX - n if n > _U64_MAX // 2 else n, name))  # Lance v2 names count down
        return sorted(out, reverse=True)

    def _damaged_versions(self, exc: Exception) -> str:
        """Name the newest version files Lance cannot read, and the newest version that still opens."""
        import lance

        bad = []
        for version, name in self._version_files():
            try:
                lance.dataset(self.uri, version=version, storage_options=self.storage_options)
            except (ValueError, OSError):
                bad.append((version, name))
                continue
            files = ", ".join(f"{self.uri}/_versions/{n} (version {v})" for v, n in bad)
            one = len(bad) == 1
            return (f"{files} {'is' if one else 'are'} damaged ({_lance_reason(exc)}); version {version} and older "
                    f"are intact: move the damaged file{'' if one else 's'} out of {self.uri}/_versions, run "
                    f"`synth verify --repair`, then re-run the command{'' if one else 's'} that made version "
                    f"{bad[-1][0] if one else f'{bad[-1][0]}..{bad[0][0]}'}")
        return f"every version file in {self.uri}/_versions is damaged ({_lance_reason(exc)}); no version can be read"

    def _damaged_data(self, ds: lance.LanceDataset, exc: Exception) -> str:
        """Name the data files whose fragments cannot be read and the first version that uses them."""
        bad: list[str] = []
        for fragment in ds.get_fragments():
            try:
                fragment.to_table()
            except (OSError, ValueError):
                bad.extend(f.path for f in fragment.data_files())
        if not bad:
            return f"the manifest {self.uri} could not be read ({_lance_reason(exc)})"
        since = ds.version
        for v in sorted(x["version"] for x in ds.versions()):
            if any(f.path in bad for fr in ds.checkout_version(v).get_fragments() for f in fr.data_files()):
                since = v
                break
        files = ", ".join(f"{self.uri}/data/{b}" for b in bad)
        it, is_, holds = ("it", "is", "it holds") if len(bad) == 1 else ("them", "are", "they hold")
        before = f"; versions before {since} do not use {it} and stay readable" if since > 1 else ""
        return f"{files} {is_} damaged ({_lance_reason(exc)}): {holds} rows added by version {since}{before}"


_U64_MAX = 2**64 - 1


def _lance_reason(exc: Exception) -> str:
    """Lance's error without its wrappers and Rust source locations."""
    import re

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r",\s*/\S+\.rs:\d+:\d+", "", text)
    return re.sub(r"^(External error: )?(LanceError\(\w+\): )?(Generic \w+ error: )?", "", text)


def count_by(table: pa.Table, column: str) -> dict[str, int]:
    vc = pc.value_counts(table.column(column))
    return {str(x["values"]): int(x["counts"]) for x in vc.to_pylist()}
