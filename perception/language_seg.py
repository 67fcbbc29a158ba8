"""Language segmentation: a phrase -> masks of the matching objects in one frame (the grasp step's target).

Model mode: detector boxes for the phrase -> SAM masks (features from the pipeline's featuriser).
Ground-truth mode: the visible instances whose descriptions match the phrase best (cosine similarity of
sentence embeddings, above a threshold and within a margin of the best match).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from core.types import Observation, RGBDFrame
from perception.detector import Detection, OwlDetector
from perception.ground_truth import GroundTruthPerception
from perception.masks import has_valid_depth, usable_pixels
from perception.segmenter import BoxSegmenter

log = logging.getLogger(__name__)

#: (rgb, masks (N, H, W), detections) -> features (N, D) float32, L2-normalised
Featurizer = Callable[[np.ndarray, np.ndarray, list[Detection]], np.ndarray]


def segment_phrase_models(frame: RGBDFrame, phrase: str, detector: OwlDetector, segmenter: BoxSegmenter,
                          featurize: Featurizer, score_threshold: float, min_mask_pixels: int,
                          require_depth: bool = True) -> list[Observation]:
    """Masks for `phrase` from OWL boxes + SAM, best score first; [] when nothing matches."""
    phrase = phrase.strip()
    if not phrase or frame.rgb.size == 0 or (require_depth and not has_valid_depth(frame.depth_m)):
        return []
    dets = detector.detect(frame.rgb, [phrase], score_threshold=score_threshold)
    if not dets:
        return []
    res = segmenter.segment(frame.rgb, np.array([d.box for d in dets], np.float32))
    keep = [i for i in range(len(dets))
            if usable_pixels(res.masks[i], frame.depth_m, require_depth) >= min_mask_pixels]
    if not keep:
        return []
    masks = res.masks[keep]
    kept = [dets[i] for i in keep]
    feats = featurize(frame.rgb, masks, kept)
    obs = [Observation(mask=masks[k], score=float(d.score), feature=feats[k], label=phrase, box=d.box)
           for k, d in enumerate(kept)]
    return sorted(obs, key=lambda o: -o.score)


def segment_phrase_ground_truth(frame: RGBDFrame, phrase: str, gt: GroundTruthPerception, threshold: float,
                                margin: float) -> list[Observation]:
    """Visible instances whose description best matches `phrase`; score = cosine similarity (clipped to [0, 1])."""
    phrase = phrase.strip()
    if not phrase:
        return []
    visible = gt.observe(frame)
    if not visible:
        return []
    exact = [o for o in visible if gt.descriptions.get(o.instance_id, "").lower() == phrase.lower()]
    if exact:  # the exact description of an instance names that instance
        visible = exact
    q = gt.encode_text([phrase])[0]
    sims = np.array([float(o.feature @ q) for o in visible])
    best = float(sims.max())
    out = []
    for o, s in zip(visible, sims, strict=True):
        if s >= threshold and s >= best - margin:
            out.append(Observation(mask=o.mask, score=float(np.clip(s, 0.0, 1.0)), feature=o.feature,
                                   label=o.label, box=o.box, instance_id=o.instance_id))
    log.debug("ground-truth language segmentation %r: best %.2f, %d matches", phrase, best, len(out))
    return sorted(out, key=lambda o: -o.score)
