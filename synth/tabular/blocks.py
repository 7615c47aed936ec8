"""Table blocks as stored blobs: one block of rows encoded as Parquet or CSV, and decoded back."""
from __future__ import annotations

import io

import pandas as pd



def encode_block(frame: pd.DataFrame, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "csv":
        frame.to_csv(out, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    else:
        frame.to_parquet(out, index=False, engine="pyarrow", compression="zstd")
    return out.getvalue()


def decode_block(data: bytes, fmt: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data)) if fmt == "csv" else pd.read_parquet(io.BytesIO(data))
