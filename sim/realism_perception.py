"""Imperfect perception on the simulator's instance-id image (sim.realism.PerceptionNoise).

The ground-truth perception (perception.ground_truth) turns each instance id in a frame's `instance_ids`
into an observation with a perfect mask and the right description. This model corrupts that image the way
an open-vocabulary detector (OWL-ViT / OWLv2) plus a segmenter errs, before perception reads it, so
perception itself stays unaware of the simulator: an instance is missed (more often when small, far or
mostly occluded: few pixels), its mask is eroded or dilated and shifted by a few pixels, it is given
another object's id (label confusion: the embedding of another label), and spurious detections (another
object's id on a patch of background or furniture) appear. Pixel figures are those of the reference image
(`PerceptionNoise.reference_width` x `reference_height`) scaled to the frame's size (`scaled_pixels`), so an
object at a given distance is missed as often whatever resolution the simulator renders at.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from sim.realism import PerceptionNoise


def scaled_pixels(cfg: PerceptionNoise, shape: tuple[int, int]) -> tuple[int, int, int]:
    """(small_px, mask_jitter_px, mask_shift_px) for a frame of `shape` (h, w): the reference image's figures
    scaled by its pixel count (area) and width (lengths), lengths rounded half up."""
    h, w = int(shape[0]), int(shape[1])
    area = (h * w) / float(max(1, cfg.reference_width * cfg.reference_height))
    lin = w / float(max(1, cfg.reference_width))
    return (int(round(cfg.small_px * area)), int(np.floor(cfg.mask_jitter_px * lin + 0.5)),
            int(np.floor(cfg.mask_shift_px * lin + 0.5)))


def noisy_instances(ids: np.ndarray, cfg: PerceptionNoise, rng: np.random.Generator,
                    object_ids: np.ndarray | None = None) -> np.ndarray:
    """A corrupted copy of an int32 instance-id image (0 = nothing). `object_ids` are the ids that can be
    confused with or hallucinated (default: the ids in this image)."""
    out = np.zeros_like(ids)
    present = [int(i) for i in np.unique(ids) if i > 0]
    pool = np.asarray(object_ids if object_ids is not None and len(object_ids) else present, dtype=np.int64)
    small_px, jitter_px, shift_px = scaled_pixels(cfg, ids.shape)
    for inst in present:
        mask = ids == inst
        n = int(mask.sum())
        if rng.random() < (cfg.small_miss_rate if n < small_px else cfg.miss_rate):
            continue
        k = int(rng.integers(-jitter_px, jitter_px + 1)) if jitter_px else 0
        if k > 0:
            mask = ndimage.binary_dilation(mask, iterations=k)
        elif k < 0:
            eroded = ndimage.binary_erosion(mask, iterations=-k)
            mask = eroded if eroded.any() else mask
        if shift_px:
            dy, dx = (int(v) for v in rng.integers(-shift_px, shift_px + 1, size=2))
            mask = ndimage.shift(mask, (dy, dx), order=0, mode="constant", cval=False)
        label = inst
        others = pool[pool != inst]
        if len(others) and rng.random() < cfg.confusion_rate:
            label = int(rng.choice(others))
        out[mask & (out == 0)] = label
    if len(pool) and rng.random() < cfg.false_positive_rate:
        h, w = ids.shape
        bh, bw = max(4, h // int(rng.integers(6, 15))), max(4, w // int(rng.integers(6, 15)))
        y, x = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        patch = out[y:y + bh, x:x + bw]
        patch[patch == 0] = int(rng.choice(pool))
    return out
