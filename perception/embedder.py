"""CLIP image and text embeddings (transformers) in one space, L2-normalised.

The map fuses image features of masked object crops; queries are text. Both come from the same CLIP model, and
`embedding_model_id` names it so a map refuses queries embedded by a different model. Text is prompt-ensembled
(perception.vocabulary.prompt_ensemble: each phrase through several "a photo of a {}." templates, averaged),
the usual zero-shot CLIP recipe; `encode_text_raw` embeds texts as they are.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from perception.hf_loading import load_pretrained

log = logging.getLogger(__name__)


def _model_classes() -> dict:
    from transformers import CLIPModel

    return {"clip": CLIPModel}


def _pooled(out) -> torch.Tensor:
    return out.pooler_output if hasattr(out, "pooler_output") else out


def masked_crop(rgb: np.ndarray, mask: np.ndarray, padding: float = 0.1,
                background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray | None:
    """The mask's bounding box (grown by `padding` of its size per side) cut from the image, with pixels outside
    the mask painted `background`. None for an empty mask."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    h, w = mask.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    px, py = int(round((x1 - x0) * padding)), int(round((y1 - y0) * padding))
    x0, x1, y0, y1 = max(0, x0 - px), min(w, x1 + px), max(0, y0 - py), min(h, y1 + py)
    crop = rgb[y0:y1, x0:x1].copy()
    crop[~mask[y0:y1, x0:x1]] = np.asarray(background, dtype=np.uint8)
    return crop


class ClipEmbedder:
    """CLIP from a hub id or local directory: `encode_images`, `encode_masked`, `encode_text` -> (N, D) float32."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 16, crop_padding: float = 0.1,
                 crop_background: tuple[int, int, int] = (255, 255, 255)) -> None:
        self.model, self.processor, _ = load_pretrained(model, "CLIP embedder", _model_classes(), device)
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.crop_padding = float(crop_padding)
        self.crop_background = tuple(int(c) for c in crop_background)
        self.embedding_model_id = f"clip:{model}"
        tok = self.processor.tokenizer
        self._max_len = int(min(self.model.config.text_config.max_position_embeddings,
                                getattr(tok, "model_max_length", 10**9)))

    @property
    def dim(self) -> int:
        return int(self.model.config.projection_dim)

    def encode_text(self, texts: list[str]) -> np.ndarray:
        """(N, D) prompt-ensembled text embeddings (see the module docstring)."""
        from perception.vocabulary import prompt_ensemble

        return prompt_ensemble(self.encode_text_raw, list(texts))

    @torch.inference_mode()
    def encode_text_raw(self, texts: list[str]) -> np.ndarray:
        """(N, D) embeddings of the texts exactly as given."""
        texts = list(texts)
        out = [np.zeros((0, self.dim), np.float32)]
        for s in range(0, len(texts), self.batch_size):
            tok = self.processor.tokenizer(texts[s : s + self.batch_size], padding=True, truncation=True,
                                           max_length=self._max_len, return_tensors="pt")
            emb = _pooled(self.model.get_text_features(input_ids=tok["input_ids"].to(self.device),
                                                       attention_mask=tok["attention_mask"].to(self.device)))
            out.append(torch.nn.functional.normalize(emb.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    @torch.inference_mode()
    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, D) embeddings of (H, W, 3) uint8 RGB images."""
        out = [np.zeros((0, self.dim), np.float32)]
        for s in range(0, len(images), self.batch_size):
            pix = self.processor.image_processor(images=list(images[s : s + self.batch_size]), return_tensors="pt")
            emb = _pooled(self.model.get_image_features(pixel_values=pix["pixel_values"].to(self.device)))
            out.append(torch.nn.functional.normalize(emb.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def encode_masked(self, rgb: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """(N, D) embeddings of the masked crops of N (H, W) bool masks; a zero row for an empty mask."""
        crops = [masked_crop(rgb, m, self.crop_padding, self.crop_background) for m in masks]
        valid = [i for i, c in enumerate(crops) if c is not None]
        out = np.zeros((len(crops), self.dim), np.float32)
        if valid:
            out[valid] = self.encode_images([crops[i] for i in valid])
        return out
