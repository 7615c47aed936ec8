"""Reusable image operators: lighting, camera, material and distortion, with labels that move with pixels."""
from __future__ import annotations

from .base import AnnotatedImage, ImageOp, OpParams
from .pipeline import OPS, PhotoParams, apply_photo_pipeline, build_ops, get_op

__all__ = ["AnnotatedImage", "ImageOp", "OpParams", "OPS", "PhotoParams", "apply_photo_pipeline", "build_ops", "get_op"]
