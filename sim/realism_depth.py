"""D435-like depth and RGB noise on a rendered frame (sim.realism.DepthNoise).

Depth error follows the stereo model RMS(Z) = Z^2 * subpixel / (focal_px * baseline); a per-robot scale
bias `bias_frac`; pixels at depth discontinuities (a 4-neighbour differing by more than `edge_jump_frac` of
the depth) come back invalid with probability `edge_invalid_rate`; dark surfaces (little stereo texture)
drop out with probability `dark_dropout_rate`; depths outside [min_m, max_m] are invalid (0). RGB gains
Gaussian noise.
"""

from __future__ import annotations

import numpy as np

from sim.realism import DepthNoise


def stereo_rms_m(z_m: np.ndarray | float, cfg: DepthNoise) -> np.ndarray:
    """The D435 stereo RMS depth error at depth z."""
    z = np.asarray(z_m, dtype=np.float64)
    return z * z * cfg.subpixel / (cfg.focal_px * cfg.baseline_m)


def noisy_depth(depth_m: np.ndarray, rgb: np.ndarray, cfg: DepthNoise, rng: np.random.Generator,
                bias_sign: float = 1.0) -> np.ndarray:
    """A noisy copy of `depth_m` (float32, 0 = invalid)."""
    d = depth_m.astype(np.float64)
    valid = d > 0
    z = d * (1.0 + bias_sign * cfg.bias_frac) + rng.standard_normal(d.shape) * stereo_rms_m(d, cfg)
    jump = np.zeros(d.shape, dtype=bool)
    for axis in (0, 1):
        diff = np.abs(np.diff(d, axis=axis))
        near = np.minimum(np.take(d, range(d.shape[axis] - 1), axis=axis),
                          np.take(d, range(1, d.shape[axis]), axis=axis))
        edge = (diff > cfg.edge_jump_frac * np.maximum(near, 1e-6)) | (
            np.take(valid, range(d.shape[axis] - 1), axis=axis) != np.take(valid, range(1, d.shape[axis]), axis=axis))
        if axis == 0:
            jump[:-1] |= edge
            jump[1:] |= edge
        else:
            jump[:, :-1] |= edge
            jump[:, 1:] |= edge
    drop = jump & (rng.random(d.shape) < cfg.edge_invalid_rate)
    luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    drop |= (luma < cfg.dark_luma) & (rng.random(d.shape) < cfg.dark_dropout_rate)
    out = np.where(valid & ~drop & (z >= cfg.min_m) & (z <= cfg.max_m), z, 0.0)
    return out.astype(np.float32)


def noisy_rgb(rgb: np.ndarray, cfg: DepthNoise, rng: np.random.Generator) -> np.ndarray:
    if cfg.rgb_sigma <= 0:
        return rgb
    return np.clip(rgb.astype(np.float32) + rng.normal(0.0, cfg.rgb_sigma, rgb.shape), 0, 255).astype(np.uint8)
