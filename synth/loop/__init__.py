"""Closing the loop: real data and models back into recipes. `gap` measures how far synthetic data is
from real data, and where in the recipe's parameter space the difference lies."""
from __future__ import annotations

from synth.loop.features import AudioFeatures, ImageFeatures, TableFeatures, TextFeatures, load_embeddings
from synth.loop.gap import GapReport, format_report, gap

__all__ = ["gap", "GapReport", "format_report", "ImageFeatures", "TextFeatures", "AudioFeatures", "TableFeatures",
           "load_embeddings"]
