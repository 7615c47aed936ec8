"""Manifest row columns and the row hash, without heavy imports: worker processes hash their own rows."""
from __future__ import annotations

import hashlib
from typing import Any

from synth.codecs.canonical import canonical_json

COLUMNS = ("sample_id", "origin", "recipe_name", "recipe_hash", "index", "seed", "params", "scene",
           "scene_version", "labels", "payloads", "width", "height", "split", "group_key", "source", "license",
           "note", "row_hash")
HASHED = [c for c in COLUMNS if c != "row_hash"]


def row_hash(row: dict[str, Any]) -> str:
    """sha256 of a row's content (every column but the hash itself); fingerprints are built from these."""
    return hashlib.sha256(canonical_json({k: row.get(k) for k in HASHED}).encode()).hexdigest()
