"""Real MobileSAM (TinyViT port + SAM decoder): strict weight loading and box-prompted masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError, ModelNotFoundError
from perception.segmenter import BoxSegmenter, build_sam


def test_mobile_sam_checkpoint_loads_strictly(mobile_sam, mobile_sam_path):
    state = torch.load(mobile_sam_path, map_location="cpu", weights_only=True)
    model_state = mobile_sam.model.state_dict()
    assert set(state) == set(model_state)  # strict: no missing and no unexpected keys
    for k in ("image_encoder.layers.2.blocks.0.attn.attention_biases", "mask_decoder.iou_prediction_head.layers.0.weight"):
        assert torch.equal(state[k], model_state[k].cpu())


def test_box_prompt_segments_the_boxed_object(mobile_sam):
    rgb = np.full((240, 320, 3), 200, np.uint8)
    yy, xx = np.mgrid[:240, :320]
    disk = (xx - 110) ** 2 + (yy - 120) ** 2 < 50**2
    square = (xx >= 200) & (xx < 280) & (yy >= 60) & (yy < 140)
    rgb[disk] = (200, 30, 30)
    rgb[square] = (30, 60, 200)
    mobile_sam.set_image(rgb)
    res = mobile_sam.segment_boxes(np.array([[55, 65, 165, 175], [195, 55, 285, 145]], np.float32))
    assert res.masks.shape == (2, 240, 320) and res.masks.dtype == bool
    for m, gt in zip(res.masks, (disk, square), strict=True):
        assert (m & gt).sum() / (m | gt).sum() > 0.9
    assert np.all(res.scores > 0.5)
    empty = mobile_sam.segment_boxes(np.zeros((0, 4)))
    assert empty.masks.shape == (0, 240, 320)
    # The encoder is skipped only for the same pixels: an edited image in the same array is encoded again.
    rgb[disk] = 200
    mobile_sam.set_image(rgb)
    blank = mobile_sam.segment_boxes(np.array([[55, 65, 165, 175]], np.float32)).masks[0]
    assert (blank & disk).sum() / (blank | disk).sum() < 0.5


def test_bad_inputs_and_checkpoints(mobile_sam, tmp_path):
    with pytest.raises(InputError):
        mobile_sam.set_image(np.zeros((0, 5, 3), np.uint8))
    bad = tmp_path / "mobile_sam.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelNotFoundError, match="mobile_sam.pt"):
        BoxSegmenter(str(bad), "vit_t")
    with pytest.raises(ModelNotFoundError, match="sam_vit_b.pth.*does not exist"):
        BoxSegmenter(str(tmp_path / "sam_vit_b.pth"), "vit_b")
    torch.save({"image_encoder.neck.0.weight": torch.zeros(1)}, tmp_path / "partial.pt")
    with pytest.raises(ModelNotFoundError, match="does not match model type 'vit_t'"):
        BoxSegmenter(str(tmp_path / "partial.pt"), "vit_t")


def test_sam_vit_b_architecture_matches_the_released_model():
    sam = build_sam("vit_b")  # no weights here; the structure must match sam_vit_b_01ec64.pth (93.7 M params)
    n = sum(p.numel() for p in sam.parameters())
    assert abs(n - 93_735_472) < 10_000, n
    assert sam.image_encoder.img_size == 1024


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_mobile_sam_on_gpu_matches_cpu(mobile_sam, mobile_sam_path):
    rgb = np.full((240, 320, 3), 200, np.uint8)
    rgb[60:180, 80:240] = (30, 60, 200)
    box = np.array([[70, 50, 250, 190]], np.float32)
    gpu = BoxSegmenter(str(mobile_sam_path), "vit_t", device="cuda")
    a, b = mobile_sam.segment(rgb, box).masks[0], gpu.segment(rgb, box).masks[0]
    assert (a & b).sum() / (a | b).sum() > 0.98
