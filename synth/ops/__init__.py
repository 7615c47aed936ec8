"""Reusable operators: image lighting, camera, material and distortion (labels move with pixels), and
audio synthesis and augmentation kernels (synth.ops.audio, synth.ops.audio_augment)."""
from __future__ import annotations

from synth.ops.base import AnnotatedImage, ImageOp, OpParams
from synth.ops.pipeline import OPS, PhotoParams, apply_photo_pipeline, build_ops, get_op

__all__ = ["AnnotatedImage", "ImageOp", "OpParams", "OPS", "PhotoParams", "apply_photo_pipeline", "build_ops", "get_op"]
