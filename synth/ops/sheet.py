"""A paper sheet's deformation on a table (crinkle, curl around a cylinder, a fold) as one composed point
map with its exact forward, plus the surface slopes that lighting reads: so a photo needs one remap."""
from __future__ import annotations

import numpy as np

from synth.ops.base import sample_field
from synth.ops.distortion import smooth_noise

FIELD_CELL = 4  # the crinkle field lives on a grid of 4x4 sheet pixels; it is far smoother than that
MAX_DISP_GRADIENT = 0.5


class SheetSurface:
    """Deformation of a `width` x `height` px sheet, in sheet pixels. Order on the sheet: crinkle, then
    curl (a cylinder across the length, axis horizontal at mid-height), then a fold across the middle.
    `inverse` maps a deformed point back to the flat sheet; `forward` maps flat -> deformed."""

    def __init__(self, width: int, height: int, crinkle: float, curl_radius_px: float | None,
                 fold_angle_deg: float, rng: np.random.Generator) -> None:
        self.width, self.height = width, height
        self.centre = height / 2
        self.radius = curl_radius_px
        self.fold_cos = float(np.cos(np.deg2rad(fold_angle_deg)))
        self.fold_tan = float(np.tan(np.deg2rad(fold_angle_deg)))
        self.disp = self.slope = None
        if crinkle > 0:
            scale = width / 2.5
            cells = (height // FIELD_CELL + 2, width // FIELD_CELL + 2)
            height_px = smooth_noise(*cells, scale / FIELD_CELL, rng, octaves=3) * np.float32(crinkle * scale * 0.15)
            gy, gx = np.gradient(height_px)
            gx, gy = gx / FIELD_CELL, gy / FIELD_CELL  # slopes per sheet pixel
            self.slope = np.dstack([gx, gy]).astype(np.float32)
            # foreshortening of a sloped surface: material moves toward the creases, about h * slope
            disp = np.dstack([-gx * height_px * 0.5, -gy * height_px * 0.5]).astype(np.float32)
            # keep the map one-to-one (a real sheet does not pass through itself) and its inverse a
            # contraction: the displacement may change by at most half a pixel per pixel
            steep = max(float(np.abs(np.gradient(disp[..., c], axis=a)).max()) for c in (0, 1) for a in (0, 1)) / FIELD_CELL
            self.disp = disp * np.float32(min(1.0, MAX_DISP_GRADIENT / max(steep, 1e-9)))

    # --- the three stages, each as inverse (deformed -> flat) and forward ------------------------------
    def _unfold(self, pts: np.ndarray) -> np.ndarray:
        if self.fold_cos >= 1:
            return pts
        d = pts[:, 1] - self.centre
        out = pts.copy()
        out[:, 1] = np.where(d > 0, self.centre + d / self.fold_cos, pts[:, 1])
        return out

    def _fold(self, pts: np.ndarray) -> np.ndarray:
        if self.fold_cos >= 1:
            return pts
        d = pts[:, 1] - self.centre
        out = pts.copy()
        out[:, 1] = np.where(d > 0, self.centre + d * self.fold_cos, pts[:, 1])
        return out

    def _uncurl(self, pts: np.ndarray) -> np.ndarray:
        if self.radius is None:
            return pts
        out = pts.copy()
        out[:, 1] = self.centre + self.radius * np.arcsin(np.clip((pts[:, 1] - self.centre) / self.radius, -0.999, 0.999))
        return out

    def _curl(self, pts: np.ndarray) -> np.ndarray:
        if self.radius is None:
            return pts
        out = pts.copy()
        arc = np.clip((pts[:, 1] - self.centre) / self.radius, -np.arcsin(0.999), np.arcsin(0.999))
        out[:, 1] = self.centre + self.radius * np.sin(arc)
        return out

    def _uncrinkle(self, pts: np.ndarray) -> np.ndarray:
        return pts if self.disp is None else pts + sample_field(self.disp, pts, FIELD_CELL)

    def _crinkle(self, pts: np.ndarray) -> np.ndarray:
        """Forward of `_uncrinkle` by fixed-point iteration, which converges because the displacement's
        gradient is at most MAX_DISP_GRADIENT (error shrinks by half or more per step)."""
        if self.disp is None:
            return pts
        q = pts - sample_field(self.disp, pts, FIELD_CELL)
        for _ in range(12):
            nxt = pts - sample_field(self.disp, q, FIELD_CELL)
            done = np.abs(nxt - q).max() < 1e-4
            q = nxt
            if done:
                break
        return q

    def inverse(self, pts: np.ndarray) -> np.ndarray:
        return self._uncrinkle(self._uncurl(self._unfold(np.asarray(pts, np.float64))))

    def forward(self, pts: np.ndarray) -> np.ndarray:
        return self._fold(self._curl(self._crinkle(np.asarray(pts, np.float64))))

    def slopes(self, pts: np.ndarray) -> np.ndarray:
        """Height gradient (dh/dx, dh/dy) of the deformed surface at deformed points, Nx2."""
        pts = np.asarray(pts, np.float64)
        g = np.zeros_like(pts)
        if self.fold_cos < 1:
            g[:, 1] += np.where(pts[:, 1] > self.centre, self.fold_tan, 0.0)
        flat = self._unfold(pts)
        if self.radius is not None:
            u = np.clip((flat[:, 1] - self.centre) / self.radius, -0.999, 0.999)
            g[:, 1] -= u / np.sqrt(1 - u * u)
        if self.slope is not None:
            g += sample_field(self.slope, self._uncurl(flat), FIELD_CELL)
        return g

    def crease(self, shape: tuple[int, int]) -> np.ndarray | None:
        """Darkening factor (HxW, 1 = none) of the fold's crease line on the flat sheet."""
        if self.fold_cos >= 1:
            return None
        y = np.arange(shape[0], dtype=np.float32) + 0.5 - np.float32(self.centre)
        line = 1 - 0.25 * np.exp(-(y / 1.5) ** 2)
        return np.broadcast_to(line[:, None], shape)
