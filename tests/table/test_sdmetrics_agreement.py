"""The report's column shapes and pair trends equal SDMetrics' QualityReport on one table. SDMetrics is not a
dependency; the expected figures were computed with sdmetrics 0.32.0 (installed beside SDV 2.0.0 in
/tmp/sdvenv by benchmarks/table_vs_sdv.py) on exactly these two tables:

    QualityReport().generate(real, synthetic, {"columns": {c: {"sdtype": "categorical" if c == "target"
                             else "numerical"} for c in real.columns}})
    -> Column Shapes 0.9645233167187632, Column Pair Trends 0.7891020614998576 (27 of 91 pairs counted)
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synth.report.table import quality_report
from tests.table.test_cli_table import WINE


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wine and a deterministic distortion of it (no random draw: the same bytes for SDMetrics and for us)."""
    real = pd.read_csv(WINE)
    syn = real.copy()
    syn["alcohol"] = syn["alcohol"].to_numpy()[::-1]           # breaks alcohol's pairs
    syn["target"] = np.roll(syn["target"].to_numpy(), 40)     # shifts the class against the rest
    syn.loc[::7, "hue"] = np.nan                              # missing values on one side
    syn["flavanoids"] = syn["flavanoids"] * 1.5 + 0.3         # a scaled column: same correlations, other bins
    return real, syn


def test_scores_equal_sdmetrics_quality_report():
    report = quality_report(*tables(), privacy=False)
    assert report["column_shapes"]["score"] == pytest.approx(0.9645233167187632, abs=1e-9)
    trends = report["pair_trends"]
    assert trends["score"] == pytest.approx(0.7891020614998576, abs=1e-9)
    assert sum(p["counted"] for p in trends["pairs"].values()) == 27 and len(trends["pairs"]) == 91
    # SDMetrics scores only strongly associated pairs; every pair (ours, shown beside it) reads higher
    assert report["pair_trends_complete"]["score"] > trends["score"] + 0.1
    alcohol = trends["pairs"]["alcohol|target"]
    assert alcohol["metric"] == "contingency_similarity" and alcohol["counted"]
    assert alcohol["score"] == pytest.approx(0.3707865168539328, abs=1e-9)
