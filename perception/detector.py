"""Open-vocabulary box detection with OWL-ViT / OWLv2 (transformers).

`OwlDetector.detect(rgb, queries)` returns, per box: the pixel box, its score, the query that won it and the
box's image embedding in OWL's text-image space (L2-normalised; cosine with `encode_text(query)` is the logit
OWL scores before its learned shift/scale), which OK-Robot-style maps can fuse directly.
The image is encoded once; text queries are encoded in batches and cached.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from core.errors import InputError
from perception.hf_loading import load_pretrained
from perception.torchvision_compat import nms

log = logging.getLogger(__name__)


@dataclass
class Detection:
    """One detected box: pixel box (x0, y0, x1, y1), score in [0, 1], winning query, embedding (D,) float32."""

    box: tuple[float, float, float, float]
    score: float
    label: str
    query_index: int
    embedding: np.ndarray


def _model_classes() -> dict:
    from transformers import Owlv2ForObjectDetection, OwlViTForObjectDetection

    return {"owlvit": OwlViTForObjectDetection, "owlv2": Owlv2ForObjectDetection}


class OwlDetector:
    """OWL-ViT or OWLv2 (chosen by the checkpoint's config.json) from a hub id or a local directory."""

    def __init__(self, model: str, device: str = "cpu", score_threshold: float = 0.1, nms_iou: float = 0.5,
                 max_detections: int = 50, query_batch_size: int = 32) -> None:
        self.model, self.processor, self.model_type = load_pretrained(model, "OWL detector", _model_classes(), device)
        self.model_id = str(model)
        self.device = device
        self.score_threshold = float(score_threshold)
        self.nms_iou = float(nms_iou)
        self.max_detections = int(max_detections)
        self.query_batch_size = max(1, int(query_batch_size))
        text_cfg = self.model.config.text_config
        tok = self.processor.tokenizer
        self._max_len = int(min(text_cfg.max_position_embeddings, getattr(tok, "model_max_length", 10**9)))
        self._text_cache: dict[str, torch.Tensor] = {}

    @property
    def embedding_dim(self) -> int:
        return int(self.model.config.text_config.hidden_size)

    @torch.inference_mode()
    def _text_embeddings(self, queries: list[str]) -> torch.Tensor:
        """(Q, D) L2-normalised text embeddings, cached per query string."""
        missing = [q for q in dict.fromkeys(queries) if q not in self._text_cache]
        for start in range(0, len(missing), self.query_batch_size):
            batch = missing[start : start + self.query_batch_size]
            tok = self.processor.tokenizer(batch, padding="max_length", truncation=True, max_length=self._max_len,
                                           return_tensors="pt")
            out = self.model.base_model.get_text_features(input_ids=tok["input_ids"].to(self.device),
                                                          attention_mask=tok["attention_mask"].to(self.device))
            emb = out.pooler_output if hasattr(out, "pooler_output") else out
            emb = torch.nn.functional.normalize(emb.float(), dim=-1)
            for q, e in zip(batch, emb, strict=True):
                self._text_cache[q] = e
        if not queries:
            return torch.zeros((0, self.embedding_dim), device=self.device)
        return torch.stack([self._text_cache[q] for q in queries])

    def encode_text(self, texts: list[str]) -> np.ndarray:
        """(N, D) float32 L2-normalised OWL text embeddings (the space of `Detection.embedding`)."""
        return self._text_embeddings(list(texts)).cpu().numpy().astype(np.float32)

    @torch.inference_mode()
    def detect(self, rgb: np.ndarray, queries: list[str], score_threshold: float | None = None) -> list[Detection]:
        """Boxes for the text queries in an (H, W, 3) uint8 RGB image, best first."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise InputError(f"detector needs an (H, W, 3) RGB image, got shape {rgb.shape}")
        h, w = rgb.shape[:2]
        queries = [q for q in queries if q and q.strip()]
        if h == 0 or w == 0 or not queries:
            return []
        thr = self.score_threshold if score_threshold is None else float(score_threshold)
        logits, boxes_cxcywh, class_embeds = self.forward(rgb, queries)
        best_logit, labels = logits.float().max(dim=-1)  # argmax on logits: sigmoid saturates and ties
        scores = torch.sigmoid(best_logit)
        keep = torch.nonzero(scores >= thr).flatten()
        if keep.numel() == 0:
            return []
        boxes = self._to_pixels(boxes_cxcywh[keep].float(), h, w)
        order = nms(boxes.cpu(), scores[keep].cpu(), self.nms_iou)[: self.max_detections]
        emb = torch.nn.functional.normalize(class_embeds[keep].float(), dim=-1).cpu().numpy()
        result = []
        for i in order.tolist():
            x0, y0, x1, y1 = (float(v) for v in boxes[i])
            if x1 - x0 < 1.0 or y1 - y0 < 1.0:
                continue
            qi = int(labels[keep[i]])
            result.append(Detection((x0, y0, x1, y1), float(scores[keep[i]]), queries[qi], qi,
                                    emb[i].astype(np.float32)))
        log.debug("OWL: %d boxes >= %.2f for %d queries", len(result), thr, len(queries))
        return result

    @torch.inference_mode()
    def forward(self, rgb: np.ndarray, queries: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """OWL's raw outputs for one image: logits (P, Q), boxes (P, 4) normalised cx, cy, w, h and box
        class embeddings (P, D), P = number of image patches. Same as the model's forward pass, with the image
        encoded once and the query embeddings taken from the cache."""
        query_embeds = self._text_embeddings(queries)
        pixel_values = self.processor.image_processor(images=rgb, return_tensors="pt")["pixel_values"].to(self.device)
        feature_map, _ = self.model.image_embedder(pixel_values=pixel_values)
        b, ph, pw, c = feature_map.shape
        image_feats = feature_map.reshape(b, ph * pw, c)
        logits, class_embeds = self.model.class_predictor(image_feats, query_embeds[None], None)
        boxes = self.model.box_predictor(image_feats, feature_map)
        return logits[0], boxes[0], class_embeds[0]

    def _to_pixels(self, cxcywh: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """Normalised (cx, cy, w, h) -> clipped pixel (x0, y0, x1, y1).

        OWL-ViT stretches the image to a square; OWLv2 pads it at the bottom/right to a square first.
        """
        sx, sy = (float(max(h, w)), float(max(h, w))) if self.model_type == "owlv2" else (float(w), float(h))
        cx, cy, bw, bh = cxcywh.unbind(-1)
        boxes = torch.stack([(cx - bw / 2) * sx, (cy - bh / 2) * sy, (cx + bw / 2) * sx, (cy + bh / 2) * sy], dim=-1)
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
        return boxes
