"""The bulk row-hash and fingerprint paths give exactly the values of manifest.row_hash / fingerprint_of,
including text that DuckDB's JSON writer and Python's json.dumps encode differently; bulk correction
validation refuses what the row-by-row rules refused."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.store import lineage
from synth.data.corrections import Correction, commit_corrections
from synth.store.hashing import fingerprint, row_hashes
from synth.data.importer import import_data
from synth.errors import SynthError
from synth.data.splits import bulk_assign
from synth.store.manifest import SCHEMA, fingerprint_of, row_hash
from synth.recipe.plan import assign_split
from synth.store.workspace import Workspace

TRICKY = ['plain', 'q"uote\\back/slash', "é ü 中 😀", "\x00\x01\x0b\x1f\x7f", "\n\t\r\b\f", "\\u000B", ""]


def _row(i: int, text: str | None) -> dict:
    return {"sample_id": f"s{i}", "origin": "real", "recipe_name": text, "recipe_hash": "r", "index": i,
            "seed": 2**64 - 1 - i, "params": '{"a":1.5}', "scene": None, "scene_version": "1",
            "labels": f'{{"class":"{text}"}}', "payloads": "{}", "width": 3, "height": -1, "split": "train",
            "group_key": text, "source": None, "license": None, "note": text, "row_hash": ""}


def _check(texts: list[str | None]) -> None:
    rows = [_row(i, t) for i, t in enumerate(texts)]
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    assert row_hashes(table).to_pylist() == [row_hash(r) for r in rows]


def test_row_hashes_match_python_on_tricky_text() -> None:
    _check(TRICKY + [None] + [chr(c) for c in range(0, 256)])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=1, max_size=20))
def test_row_hashes_match_python(texts: list[str | None]) -> None:
    _check(texts)


@given(st.lists(st.text(alphabet="0123456789abcdef", min_size=1, max_size=70), min_size=1, max_size=40),
       st.booleans())
def test_fingerprint_matches_fingerprint_of(values: list[str], fixed: bool) -> None:
    if fixed:
        values = [(v * 70)[:64] for v in values]  # the fixed-width fast path, with shared prefixes
    arr = pa.array(values, pa.string())
    assert fingerprint(arr) == fingerprint_of(arr)
    assert fingerprint(arr.slice(1)) == fingerprint_of(arr.slice(1))


def test_bulk_corrections_refuse_unknown_samples_and_foreign_parents(image_dir: Path, ws_path: str) -> None:
    ws = Workspace.open(ws_path, create=True)
    import_data(ws, "images", image_dir)
    a, b = ws.manifest.to_table().column("sample_id").to_pylist()[:2]
    before = ws.manifest.latest_version()
    with pytest.raises(SynthError, match="unknown sample id.*nope"):
        commit_corrections(ws, [Correction(a, {"class": "x"}), Correction("nope", {})],
                                   message="m")
    with pytest.raises(SynthError, match=f"not labels of sample {b}"):
        commit_corrections(ws, [Correction(a, {"class": "x"}, [lineage.root_id(a)]),
                                        Correction(b, {"class": "y"}, [lineage.root_id(a)])], message="m")
    assert ws.manifest.latest_version() == before
    v = commit_corrections(ws, [Correction(a, {"class": "x"}), Correction(b, {"class": "y"})],
                                   message="m")
    hist = lineage.history(ws, a)
    assert hist[-1]["parents"] == [lineage.root_id(a)] and hist[-1]["version"] == v and hist[-1]["current"]


@given(st.lists(st.text(max_size=10), min_size=1, max_size=30),
       st.lists(st.floats(0.01, 1), min_size=1, max_size=4))
def test_bulk_split_assignment_matches_plan(keys: list[str], weights: list[float]) -> None:
    fractions = {f"s{i}": w / sum(weights) for i, w in enumerate(weights)}
    assert bulk_assign(keys, fractions) == [assign_split(k, fractions) for k in keys]
