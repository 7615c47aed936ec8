"""Canonical JSON: sorted keys, no spaces, numpy scalars and arrays as plain values. Row hashes,
recipe hashes and fingerprints are taken over it, so the same content always gives the same bytes."""
from __future__ import annotations

import json
from typing import Any

import numpy as np


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"label value of type {type(obj).__name__} is not JSON-serialisable")


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)
