"""Table scene: one sample is a block of rows drawn, vectorised, from declared columns coupled by a Gaussian
copula, with derived columns, a target and missing values; the block is stored as a Parquet (or CSV) blob."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

__all__ = ["TableParams", "TableScene", "decode_block", "encode_block"]

import numpy as np
import pandas as pd
from pydantic import Field

from synth import Payload, Sample
from synth import Scene, SceneParams
from synth.tabular.blocks import decode_block, encode_block
from synth.tabular.generate import TableModel
from synth.tabular.spec import Column, Correlation, PrivacySettings, TargetSpec


class TableParams(SceneParams):
    rows_per_sample: int = Field(10_000, ge=1, le=1_000_000, description="Rows in each sample's block.")
    columns: dict[str, Column] = Field(..., description="Column name -> spec (type: numeric, categorical, "
                                                        "boolean, datetime, id, faker, derived).")
    correlation: Correlation | None = Field(None, description="Copula correlation: [[col_a, col_b, r], ...] or "
                                                              "{columns: [...], matrix: [[...]]}.")
    target: TargetSpec | None = Field(None, description="Target column from a rule or a logistic model.")
    format: Literal["parquet", "csv"] = Field("parquet", description="Blob format of each block.")
    privacy: PrivacySettings | None = Field(None, description="The privacy options `synth fit` applied (a record "
                                                              "that `synth report table` lists).")


class TableScene(Scene):
    name: ClassVar[str] = "table"
    version: ClassVar[str] = "1"
    modality: ClassVar[str] = "table"
    Params: ClassVar[type[SceneParams]] = TableParams

    def __init__(self) -> None:
        self._models: dict[str, TableModel] = {}  # per process: a spec is checked once, not per block

    def model(self, params: TableParams) -> TableModel:
        key = params.model_dump_json(include={"columns", "correlation", "target"})
        if key not in self._models:
            self._models[key] = TableModel(params.columns, params.correlation, params.target)
        return self._models[key]

    def check(self, params: TableParams) -> None:
        self.model(params)

    def render(self, params: TableParams, rng: np.random.Generator) -> Sample:
        frame = self.model(params).sample(params.rows_per_sample, rng)
        labels: dict[str, Any] = {"rows": len(frame), "columns": list(frame.columns)}
        if params.target is not None:
            labels["target"] = params.target.name
            labels.update(_target_summary(frame[params.target.name]))
        if params.privacy is not None:
            labels["privacy"] = params.privacy.model_dump(exclude_none=True)
        return Sample(payloads={"table": Payload("bytes", encode_block(frame, params.format), format=params.format)},
                      labels=labels)



def _target_summary(target: pd.Series) -> dict[str, Any]:
    """A binary target's positive rate, else (few classes) its class counts: a block's label balance."""
    values = target.dropna()
    if pd.api.types.is_bool_dtype(values) or (pd.api.types.is_numeric_dtype(values) and set(values.unique()) <= {0, 1}):
        return {"target_rate": float(values.astype(float).mean()) if len(values) else None}
    counts = values.value_counts()
    if len(counts) <= 50:
        return {"target_counts": {str(k): int(v) for k, v in counts.items()}}
    return {}
