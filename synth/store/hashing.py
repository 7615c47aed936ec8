"""Row hashes and version fingerprints in bulk: the same values as `manifest.row_hash` and
`manifest.fingerprint_of`, computed over whole Arrow columns instead of row by row in Python."""
from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth.store.manifest import HASHED, SCHEMA, row_hash

# DuckDB's to_json writes the same bytes as Python's json.dumps(ensure_ascii, compact) for ASCII text,
# except \x7f (raw vs \u007f) and upper- vs lower-case hex in some \u00XX escapes; JSON holding any of
# those (or non-ASCII) is re-encoded by the Python path, so both paths give identical hashes.
def row_hashes(table: pa.Table) -> pa.Array:
    """sha256 of each row's canonical JSON over the HASHED columns, equal to `manifest.row_hash(row)`."""
    cols = sorted(HASHED)  # canonical_json sorts keys
    table = table.select(cols).cast(pa.schema([SCHEMA.field(c) for c in cols]))
    struct = ", ".join(f'"{c}" := "{c}"' for c in cols)
    con = duckdb.connect()
    try:
        con.register("t", table)
        # insertion order is preserved for a plain projection, so row i of the result is row i of t
        text = con.sql(f"select to_json(struct_pack({struct})) as j from t").to_arrow_table().column("j")
    finally:
        con.close()
    text = text.combine_chunks().cast(pa.string())
    unsafe = pc.or_(pc.invert(pc.string_is_ascii(text)),
                    pc.or_(pc.match_substring(text, "\x7f"), pc.match_substring(text, "\\u00")))
    hashes = [hashlib.sha256(s.encode()).hexdigest() for s in text.to_pylist()]
    for i in pc.indices_nonzero(unsafe).to_pylist():
        hashes[i] = row_hash(table.slice(i, 1).to_pylist()[0])
    return pa.array(hashes, pa.string())


def fingerprint(hashes: pa.Array | pa.ChunkedArray) -> str:
    """sha256 of the newline-joined sorted strings: the value of `manifest.fingerprint_of`, via a bytes sort."""
    arr = hashes.combine_chunks() if isinstance(hashes, pa.ChunkedArray) else hashes
    arr = arr.cast(pa.string())
    if len(arr) == 0:
        return hashlib.sha256(b"").hexdigest()
    lengths = pc.binary_length(arr)
    width = pc.max(lengths).as_py()
    if arr.null_count == 0 and pc.min(lengths).as_py() == width and width:
        # fixed width (row hashes): the values buffer is an (n, width) byte matrix
        offsets = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset:arr.offset + len(arr) + 1]
        data = np.frombuffer(arr.buffers()[2], np.uint8)[offsets[0]:offsets[-1]].reshape(-1, width)
        out = np.empty((len(arr), width + 1), np.uint8)
        out[:, :width] = np.take(data.view(f"S{width}").ravel(), _byte_order(data)).view(np.uint8).reshape(-1, width)
        out[:, width] = ord("\n")
        return hashlib.sha256(out.reshape(-1)[:-1]).hexdigest()
    # mixed widths (row hashes plus label ids): numpy's S sort ignores the null padding, as a string sort does
    values = np.sort(np.asarray(arr.to_numpy(zero_copy_only=False).astype(f"S{width}")))
    return hashlib.sha256(b"\n".join(values.tolist())).hexdigest()


def _byte_order(rows: np.ndarray) -> np.ndarray:
    """Lexicographic order of fixed-width byte rows: an integer sort of the first 16 bytes (big-endian),
    with a full bytes sort only when two rows share that prefix."""
    width = rows.shape[1]
    full = np.ascontiguousarray(rows).view(f"S{width}").ravel()
    if width < 16:
        return np.argsort(full, kind="stable")
    high = np.ascontiguousarray(rows[:, :8]).view(">u8").ravel()
    low = np.ascontiguousarray(rows[:, 8:16]).view(">u8").ravel()
    order = np.argsort(low, kind="stable")
    order = order[np.argsort(high[order], kind="stable")]
    same = (high[order[1:]] == high[order[:-1]]) & (low[order[1:]] == low[order[:-1]])
    return order if not same.any() else np.argsort(full, kind="stable")
