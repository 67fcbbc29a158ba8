"""Ground-truth perception for simulation: the simulator's instance masks, each instance's words embedded by
a real sentence encoder (cached per instance) as its feature, queries embedded by the same encoder.

An instance's feature is the weighted mean of the embeddings of its description, its label and their plain
synonyms (perception.vocabulary), so "sink" finds a "white marble sink counter" and "can" an "orange soda can".

It reports Observations exactly like a model pipeline does (mask, score, feature, label, box), so the map fuses
them the same way; only the source of the masks differs.
"""

from __future__ import annotations

import logging

import numpy as np

from core.errors import InputError
from core.types import Observation, RGBDFrame
from perception.masks import mask_box, usable_pixels
from perception.text_encoder import TextEncoder
from perception.vocabulary import InstanceText, ensemble_features, instance_text

log = logging.getLogger(__name__)


class GroundTruthPerception:
    """Instance masks from `RGBDFrame.instance_ids` + description embeddings.

    descriptions: instance id -> description (e.g. `SceneSpec.instance_descriptions()`); ids without a
    description (background 0, the robot) are ignored. labels: instance id -> class name
    (`SceneSpec.instance_labels()`); derived from the description where missing.
    """

    def __init__(self, descriptions: dict[int, str], encoder: TextEncoder, min_mask_pixels: int = 200,
                 require_depth: bool = True, labels: dict[int, str] | None = None) -> None:
        self.descriptions = {int(k): str(v) for k, v in descriptions.items() if int(k) != 0}
        labels = {int(k): str(v) for k, v in (labels or {}).items()}
        self.texts: dict[int, InstanceText] = {i: instance_text(d, labels.get(i)) for i, d in self.descriptions.items()}
        self.encoder = encoder
        self.embedding_model_id = encoder.embedding_model_id
        self.min_mask_pixels = int(min_mask_pixels)
        self.require_depth = bool(require_depth)
        self._features: dict[int, np.ndarray] = {}

    def encode_text(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode_text(list(texts))

    def instance_features(self, ids: list[int]) -> np.ndarray:
        """(N, D) instance features (perception.vocabulary.ensemble_features), computed once per instance."""
        missing = [i for i in ids if i not in self._features]
        if missing:
            emb = ensemble_features(self.encoder.encode_text, [self.texts[i] for i in missing])
            self._features.update(zip(missing, emb, strict=True))
        if not ids:
            return np.zeros((0, 0), np.float32)
        return np.stack([self._features[i] for i in ids])

    def observe(self, frame: RGBDFrame) -> list[Observation]:
        """One Observation per described instance with at least `min_mask_pixels` usable pixels."""
        if frame.instance_ids is None:
            raise InputError(
                f"frame {frame.index}: ground-truth perception needs per-pixel instance ids (a simulator frame)"
            )
        ids_img = frame.instance_ids
        if ids_img.size == 0:
            return []
        present, counts = np.unique(ids_img, return_counts=True)
        candidates = [int(i) for i, c in zip(present, counts, strict=True)
                      if int(i) in self.descriptions and c >= self.min_mask_pixels]
        kept: list[tuple[int, np.ndarray]] = []
        for iid in candidates:
            mask = ids_img == iid
            if usable_pixels(mask, frame.depth_m, self.require_depth) >= self.min_mask_pixels:
                kept.append((iid, mask))
        if not kept:
            return []
        feats = self.instance_features([iid for iid, _ in kept])
        return [
            Observation(mask=mask, score=1.0, feature=feats[k].astype(np.float32), label=self.descriptions[iid],
                        box=mask_box(mask), instance_id=iid)
            for k, (iid, mask) in enumerate(kept)
        ]
