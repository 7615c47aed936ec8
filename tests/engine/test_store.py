"""The store and manifest work on any fsspec URL: fsspec's memory filesystem and a local moto S3 server."""
from __future__ import annotations

import json

import pytest

from synth import api
from synth.store.blobs import Store, sha256

RECIPE = """name: s3
scene: shapes
count: 6
params: {width: 48, height: 48}
"""


def test_blobs_are_named_by_content_and_written_once():
    store = Store("memory://store-test")
    a = store.put(b"hello")
    assert a == sha256(b"hello") and store.get(a) == b"hello"
    assert store.path(a).endswith(f"objects/{a[:2]}/{a[2:]}")
    assert store.put(b"hello") == a
    assert list(store.iter_digests()) == [a]


def test_memory_workspace(write_recipe):
    recipe = write_recipe(RECIPE)
    result = api.generate(recipe, "memory://ws-mem", workers=1)
    ws = api.open_workspace("memory://ws-mem")
    rows = ws.manifest.to_table()
    assert rows.num_rows == 6 and result.version == 1
    for payloads in rows.column("payloads").to_pylist():
        for p in json.loads(payloads).values():
            assert sha256(ws.store.get(p["hash"])) == p["hash"]


@pytest.fixture
def s3_server(moto_s3):
    return moto_s3["options"]


def test_s3_workspace_on_a_local_moto_server(write_recipe, s3_server, tmp_path):
    recipe = write_recipe(RECIPE)
    result = api.generate(recipe, "s3://synth-test/ws", workers=2, storage_options=s3_server)
    local = api.generate(recipe, str(tmp_path / "local"), workers=1)
    assert result.fingerprint == local.fingerprint and result.rows == 6
    ws = api.open_workspace("s3://synth-test/ws", storage_options=s3_server)
    rows = ws.manifest.to_table()
    for payloads in rows.column("payloads").to_pylist():
        for p in json.loads(payloads).values():
            assert sha256(ws.store.get(p["hash"])) == p["hash"]
    assert [v.version for v in ws.manifest.versions()] == [1]
