"""The perception composite: RGBDFrame -> object Observations (mask, score, feature, label), chosen by config.

`build_perception(config, instance_descriptions=None)` returns a `Perception`:
- `observe(frame) -> list[Observation]` for the map,
- `encode_text(texts) -> (N, D) float32` queries in the same space as the features,
- `embedding_model_id` naming that space (the map records it and refuses queries from another encoder),
- `segment_text(frame, phrase) -> list[Observation]` (language segmentation for the grasp step).
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from core.errors import InputError
from core.types import Observation, RGBDFrame
from perception.config import PerceptionConfig, resolve_device
from perception.detector import Detection, OwlDetector
from perception.embedder import ClipEmbedder
from perception.ground_truth import GroundTruthPerception
from perception.language_seg import segment_phrase_ground_truth, segment_phrase_models
from perception.masks import has_valid_depth, usable_pixels
from perception.segmenter import BoxSegmenter
from perception.text_encoder import SentenceEncoder

log = logging.getLogger(__name__)


class Perception(Protocol):
    embedding_model_id: str

    def observe(self, frame: RGBDFrame) -> list[Observation]: ...

    def encode_text(self, texts: list[str]) -> np.ndarray: ...

    def segment_text(self, frame: RGBDFrame, phrase: str) -> list[Observation]: ...


class TextEncoder(Protocol):
    """The query side of a pipeline: text -> features in the space its map's features live in."""

    embedding_model_id: str

    def encode_text(self, texts: list[str]) -> np.ndarray: ...


class OwlTextEncoder:
    """OWL's text tower: the query encoder of the owl-sam pipeline (whose features are OWL box embeddings)."""

    def __init__(self, detector: OwlDetector) -> None:
        self.detector = detector
        self.embedding_model_id = f"owl:{detector.model_id}"

    def encode_text(self, texts: list[str]) -> np.ndarray:
        return self.detector.encode_text(list(texts))


class ModelPerception:
    """`owl-sam-clip` (embedder given: CLIP features of masked crops) or `owl-sam` (OWL box embeddings)."""

    def __init__(self, config: PerceptionConfig, detector: OwlDetector, segmenter: BoxSegmenter,
                 embedder: ClipEmbedder | None = None) -> None:
        self.config = config
        self.detector = detector
        self.segmenter = segmenter
        self.embedder = embedder
        self.vocabulary = tuple(w for w in config.vocabulary if w.strip())
        self._queries = [config.query_template.format(w) for w in self.vocabulary]
        self.text: TextEncoder = embedder if embedder is not None else OwlTextEncoder(detector)
        self.embedding_model_id = self.text.embedding_model_id

    def encode_text(self, texts: list[str]) -> np.ndarray:
        return self.text.encode_text(list(texts))

    def featurize(self, rgb: np.ndarray, masks: np.ndarray, detections: list[Detection]) -> np.ndarray:
        if self.embedder is not None:
            return self.embedder.encode_masked(rgb, masks)
        if not detections:
            return np.zeros((0, self.detector.embedding_dim), np.float32)
        return np.stack([d.embedding for d in detections]).astype(np.float32)

    def _usable(self, frame: RGBDFrame) -> bool:
        if frame.rgb.size == 0:
            return False
        return not (self.config.require_depth and not has_valid_depth(frame.depth_m))

    def observe(self, frame: RGBDFrame) -> list[Observation]:
        if not self._usable(frame) or not self._queries:
            return []
        dets = self.detector.detect(frame.rgb, self._queries)
        if not dets:
            return []
        res = self.segmenter.segment(frame.rgb, np.array([d.box for d in dets], np.float32))
        keep = [i for i in range(len(dets))
                if usable_pixels(res.masks[i], frame.depth_m, self.config.require_depth) >= self.config.min_mask_pixels]
        if not keep:
            return []
        masks = res.masks[keep]
        kept = [dets[i] for i in keep]
        feats = self.featurize(frame.rgb, masks, kept)
        return [
            Observation(mask=masks[k], score=float(d.score), feature=feats[k], label=self.vocabulary[d.query_index],
                        box=d.box)
            for k, d in enumerate(kept)
        ]

    def segment_text(self, frame: RGBDFrame, phrase: str) -> list[Observation]:
        if not self._usable(frame):
            return []
        return segment_phrase_models(frame, phrase, self.detector, self.segmenter, self.featurize,
                                     self.config.language_threshold, self.config.min_mask_pixels,
                                     self.config.require_depth)


class GroundTruthPipeline:
    """`ground-truth`: simulator instance masks + sentence-encoder features of instance descriptions."""

    def __init__(self, config: PerceptionConfig, gt: GroundTruthPerception) -> None:
        self.config = config
        self.gt = gt
        self.embedding_model_id = gt.embedding_model_id

    def observe(self, frame: RGBDFrame) -> list[Observation]:
        return self.gt.observe(frame)

    def encode_text(self, texts: list[str]) -> np.ndarray:
        return self.gt.encode_text(list(texts))

    def segment_text(self, frame: RGBDFrame, phrase: str) -> list[Observation]:
        return segment_phrase_ground_truth(frame, phrase, self.gt, self.config.match_threshold,
                                           self.config.match_margin)


def build_text_encoder(config: PerceptionConfig, device: str = "auto") -> TextEncoder:
    """The query encoder of the pipeline `config` names (what its `encode_text` uses), without the image models:
    what a saved map is queried with."""
    config.validate()
    device = resolve_device(device)
    if config.kind.needs_scene:
        return SentenceEncoder(config.text_encoder, device=device)
    if config.kind.embeds_crops:
        return _clip(config, device)
    return OwlTextEncoder(_detector(config, device))


def _detector(config: PerceptionConfig, device: str) -> OwlDetector:
    return OwlDetector(config.detector_model, device=device, score_threshold=config.detector_threshold,
                       nms_iou=config.detector_nms_iou, max_detections=config.max_detections,
                       query_batch_size=config.query_batch_size)


def _clip(config: PerceptionConfig, device: str) -> ClipEmbedder:
    return ClipEmbedder(config.clip_model, device=device, batch_size=config.embed_batch_size,
                        crop_padding=config.crop_padding, crop_background=config.crop_background)


def build_perception(config: PerceptionConfig | None = None,
                     instance_descriptions: dict[int, str] | None = None,
                     instance_labels: dict[int, str] | None = None) -> Perception:
    """Build the pipeline `config.pipeline` names, loading every model it needs (hub id or local path): the one
    place a pipeline's detector, segmenter and embedder are made."""
    config = config or PerceptionConfig()
    config.validate()
    device = resolve_device(config.device)
    if config.kind.needs_scene:
        if instance_descriptions is None:
            raise InputError("the ground-truth perception pipeline needs the scene's instance descriptions "
                             "(spec.instance_descriptions())")
        encoder = build_text_encoder(config, device)
        gt = GroundTruthPerception(instance_descriptions, encoder, config.min_mask_pixels, config.require_depth,
                                   labels=instance_labels)
        return GroundTruthPipeline(config, gt)
    segmenter = BoxSegmenter(config.sam_checkpoint, config.sam_model_type, device=device,
                             multimask=config.sam_multimask)
    perception = ModelPerception(config, _detector(config, device), segmenter,
                                 _clip(config, device) if config.kind.embeds_crops else None)
    log.info("perception pipeline %s on %s (features: %s)", config.pipeline, device, perception.embedding_model_id)
    return perception
