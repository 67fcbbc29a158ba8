"""Box-prompted segmentation with segment-anything's `SamPredictor`: SAM ViT-B/L/H or MobileSAM (vit_t).

MobileSAM = TinyViT image encoder (perception.tiny_vit) + SAM's prompt encoder and mask decoder; its checkpoint
and SAM's load with `load_state_dict(strict=True)`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import InputError, ModelNotFoundError
from core.models import resolve_model
from perception.tiny_vit import TinyViT
from perception.torchvision_compat import import_segment_anything

log = logging.getLogger(__name__)

# Encoder sizes of segment-anything's build_sam.py (SAM ViT-B/L/H).
_VIT_PARAMS = {
    "vit_b": dict(embed_dim=768, depth=12, num_heads=12, global_attn_indexes=(2, 5, 8, 11)),
    "vit_l": dict(embed_dim=1024, depth=24, num_heads=16, global_attn_indexes=(5, 11, 17, 23)),
    "vit_h": dict(embed_dim=1280, depth=32, num_heads=16, global_attn_indexes=(7, 15, 23, 31)),
}
CHECKPOINT_NAMES = {
    "vit_b": "sam_vit_b_01ec64.pth",
    "vit_l": "sam_vit_l_0b3195.pth",
    "vit_h": "sam_vit_h_4b8939.pth",
    "vit_t": "mobile_sam.pt",
}


def build_sam(model_type: str, checkpoint: str | Path | None = None):
    """A segment_anything `Sam` for `model_type` (vit_b|vit_l|vit_h|vit_t), weights loaded strictly if given."""
    sa = import_segment_anything()
    from functools import partial

    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    image_size, prompt_dim = 1024, 256
    if model_type == "vit_t":
        encoder: torch.nn.Module = TinyViT(img_size=image_size, out_chans=prompt_dim)
    elif model_type in _VIT_PARAMS:
        p = _VIT_PARAMS[model_type]
        encoder = ImageEncoderViT(
            depth=p["depth"], embed_dim=p["embed_dim"], img_size=image_size, mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=p["num_heads"], patch_size=16,
            qkv_bias=True, use_rel_pos=True, global_attn_indexes=p["global_attn_indexes"], window_size=14,
            out_chans=prompt_dim,
        )
    else:
        raise InputError(f"unknown SAM model type {model_type!r}; choose vit_b, vit_l, vit_h or vit_t (MobileSAM)")
    grid = image_size // 16
    sam = Sam(
        image_encoder=encoder,
        prompt_encoder=PromptEncoder(embed_dim=prompt_dim, image_embedding_size=(grid, grid),
                                     input_image_size=(image_size, image_size), mask_in_chans=16),
        mask_decoder=MaskDecoder(num_multimask_outputs=3,
                                 transformer=TwoWayTransformer(depth=2, embedding_dim=prompt_dim, mlp_dim=2048,
                                                               num_heads=8),
                                 transformer_dim=prompt_dim, iou_head_depth=3, iou_head_hidden_dim=256),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    del sa
    if checkpoint is not None:
        path = Path(checkpoint)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - corrupt/truncated/not a state dict
            raise ModelNotFoundError(f"SAM checkpoint {path} could not be read as a PyTorch state dict ({exc})") from exc
        if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
            state = state["model"]
        try:
            sam.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelNotFoundError(
                f"SAM checkpoint {path} does not match model type {model_type!r} "
                f"(expected e.g. {CHECKPOINT_NAMES[model_type]}): {str(exc).splitlines()[0]}"
            ) from exc
    return sam.eval()


@dataclass
class MaskResult:
    """Masks for N boxes: bool (N, H, W) aligned to the image, predicted IoU scores (N,)."""

    masks: np.ndarray
    scores: np.ndarray


class BoxSegmenter:
    """SAM/MobileSAM behind SamPredictor: `set_image(rgb)` once, then `segment_boxes(boxes)` any number of times."""

    def __init__(self, checkpoint: str, model_type: str = "vit_t", device: str = "cpu", multimask: bool = True) -> None:
        path = resolve_model(checkpoint, f"SAM segmenter ({model_type}, e.g. {CHECKPOINT_NAMES.get(model_type, '?')})")
        if path.is_dir():
            candidate = path / CHECKPOINT_NAMES.get(model_type, "")
            if not candidate.is_file():
                raise ModelNotFoundError(
                    f"SAM segmenter: {path} is a directory without {CHECKPOINT_NAMES.get(model_type)}; "
                    "give the checkpoint file itself"
                )
            path = candidate
        t0 = time.perf_counter()
        self.model = build_sam(model_type, path).to(device)
        log.info("loaded SAM %s from %s in %.1f s on %s", model_type, path, time.perf_counter() - t0, device)
        self.model_type = model_type
        self.checkpoint = path
        self.device = device
        self.multimask = multimask
        self.predictor = import_segment_anything().SamPredictor(self.model)
        self._image_shape: tuple[int, int] | None = None
        self._image: np.ndarray | None = None  # the encoded image, to skip re-encoding the same frame

    @torch.inference_mode()
    def set_image(self, rgb: np.ndarray) -> None:
        """Run the image encoder on an (H, W, 3) uint8 RGB image (skipped if it is the image encoded last)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
            raise InputError(f"segmenter needs a non-empty (H, W, 3) RGB image, got shape {rgb.shape}")
        if self._image is not None and self._image.shape == rgb.shape and np.array_equal(self._image, rgb):
            return
        self._image = None
        self.predictor.set_image(np.ascontiguousarray(rgb, dtype=np.uint8), image_format="RGB")
        self._image_shape = (int(rgb.shape[0]), int(rgb.shape[1]))
        self._image = np.array(rgb, dtype=np.uint8, copy=True)

    @torch.inference_mode()
    def segment_boxes(self, boxes_xyxy: np.ndarray) -> MaskResult:
        """Masks for (N, 4) pixel boxes (x0, y0, x1, y1) in the last image given to `set_image`."""
        if self._image_shape is None:
            raise RuntimeError("segment_boxes called before set_image")
        h, w = self._image_shape
        boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
        if len(boxes) == 0:
            return MaskResult(np.zeros((0, h, w), dtype=bool), np.zeros((0,), dtype=np.float32))
        tb = self.predictor.transform.apply_boxes_torch(torch.as_tensor(boxes, device=self.device), (h, w))
        # SamPredictor.predict_torch, but the best of the K candidates per box is chosen on the 256x256
        # low-resolution logits, so only one mask per box is upsampled to the image (3x less work).
        sam = self.model
        sparse, dense = sam.prompt_encoder(points=None, boxes=tb, masks=None)
        low_res, iou = sam.mask_decoder(image_embeddings=self.predictor.features,
                                        image_pe=sam.prompt_encoder.get_dense_pe(),
                                        sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                        multimask_output=self.multimask)
        best = iou.argmax(dim=1)
        idx = torch.arange(len(boxes), device=low_res.device)
        logits = sam.postprocess_masks(low_res[idx, best][:, None], self.predictor.input_size,
                                       self.predictor.original_size)
        masks = (logits[:, 0] > sam.mask_threshold).cpu().numpy()
        return MaskResult(masks, iou[idx, best].float().cpu().numpy())

    def segment(self, rgb: np.ndarray, boxes_xyxy: np.ndarray) -> MaskResult:
        """`set_image(rgb)` then `segment_boxes(boxes)`; skips the encoder when there are no boxes."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4)
        if len(boxes) == 0:
            return MaskResult(np.zeros((0, *rgb.shape[:2]), dtype=bool), np.zeros((0,), dtype=np.float32))
        self.set_image(rgb)
        return self.segment_boxes(boxes)
