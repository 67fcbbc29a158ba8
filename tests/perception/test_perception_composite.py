"""The composite: tiny OWL/CLIP from temp dirs + real MobileSAM through build_perception, and its edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError, ModelNotFoundError
from core.types import CameraIntrinsics, RGBDFrame
from fixtures.tiny_models import synthetic_frame
from perception import PerceptionConfig, build_perception

VOCAB = ("mug", "cup", "table")


def _config(tiny_models, mobile_sam_path, pipeline: str, **kw) -> PerceptionConfig:
    return PerceptionConfig(pipeline=pipeline, device="cpu", detector_model=str(tiny_models["owlvit"]),
                            clip_model=str(tiny_models["clip"]), sam_checkpoint=str(mobile_sam_path),
                            sam_model_type="vit_t", vocabulary=VOCAB, detector_threshold=0.0, max_detections=3,
                            min_mask_pixels=20, **kw)


@pytest.fixture(scope="module")
def owl_sam_clip(tiny_models, mobile_sam_path, mobile_sam):
    p = build_perception(_config(tiny_models, mobile_sam_path, "owl-sam-clip"))
    p.segmenter = mobile_sam  # share the session's predictor (same weights) so the encoder state is reused
    return p


@pytest.fixture(scope="module")
def owl_sam(owl_sam_clip, tiny_models, mobile_sam_path):
    from perception.composite import ModelPerception

    # Same detector and segmenter objects, OWL box embeddings as features.
    return ModelPerception(_config(tiny_models, mobile_sam_path, "owl-sam"), owl_sam_clip.detector,
                           owl_sam_clip.segmenter)


def _check(obs, frame, dim):
    assert obs, "threshold 0 must produce observations"
    for o in obs:
        assert o.mask.shape == (frame.height, frame.width) and o.mask.dtype == bool
        assert o.mask.sum() >= 20
        assert o.feature.shape == (dim,) and o.feature.dtype == np.float32
        assert abs(float(np.linalg.norm(o.feature)) - 1.0) < 1e-4
        assert 0.0 <= o.score <= 1.0 and o.label in VOCAB
        x0, y0, x1, y1 = o.box
        assert 0 <= x0 < x1 <= frame.width and 0 <= y0 < y1 <= frame.height


def test_owl_sam_clip_observations(owl_sam_clip):
    frame = synthetic_frame()
    obs = owl_sam_clip.observe(frame)
    _check(obs, frame, owl_sam_clip.embedder.dim)
    q = owl_sam_clip.encode_text(["mug", "a red mug"])
    assert q.shape == (2, owl_sam_clip.embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert owl_sam_clip.embedding_model_id.startswith("clip:")
    # Features are CLIP embeddings of the masked crops.
    np.testing.assert_allclose(obs[0].feature, owl_sam_clip.embedder.encode_masked(frame.rgb, obs[0].mask[None])[0],
                               atol=1e-5)


def test_owl_sam_uses_box_embeddings_in_owl_text_space(owl_sam):
    frame = synthetic_frame()
    obs = owl_sam.observe(frame)
    _check(obs, frame, owl_sam.detector.embedding_dim)
    assert owl_sam.encode_text(["mug"]).shape == (1, owl_sam.detector.embedding_dim)
    assert owl_sam.embedding_model_id.startswith("owl:")
    text = owl_sam.encode_text([f"a photo of a {w}" for w in VOCAB])
    for o in obs:  # each box's best query (by cosine) is the label it was reported with
        assert VOCAB[int(np.argmax(text @ o.feature))] == o.label


def test_language_segmentation_with_models(owl_sam_clip):
    frame = synthetic_frame()
    hits = owl_sam_clip.segment_text(frame, "a red mug")
    assert hits and all(h.label == "a red mug" and h.mask.shape == frame.depth_m.shape for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert owl_sam_clip.segment_text(frame, "   ") == []


def test_degenerate_frames_give_empty_results(owl_sam_clip):
    frame = synthetic_frame()
    frame.depth_m[:] = 0.0
    assert owl_sam_clip.observe(frame) == []
    assert owl_sam_clip.segment_text(frame, "mug") == []
    empty = RGBDFrame(rgb=np.zeros((0, 0, 3), np.uint8), depth_m=np.zeros((0, 0), np.float32),
                      intrinsics=CameraIntrinsics(1, 1, 0, 0, 0, 0), T_world_cam=np.eye(4))
    assert owl_sam_clip.observe(empty) == []
    det = owl_sam_clip.detector
    old = det.score_threshold
    det.score_threshold = 1.01  # no box can pass: zero detections
    try:
        assert owl_sam_clip.observe(synthetic_frame()) == []
    finally:
        det.score_threshold = old


def test_config_errors_are_one_clear_error(tiny_models, mobile_sam_path):
    with pytest.raises(InputError, match="pipeline 'yolo'"):
        build_perception(PerceptionConfig(pipeline="yolo"))
    with pytest.raises(InputError, match="instance descriptions"):
        build_perception(PerceptionConfig(pipeline="ground-truth", device="cpu"))
    cfg = _config(tiny_models, mobile_sam_path, "owl-sam-clip")
    cfg.clip_model = "openai/clip-vit-base-patch32"
    with pytest.raises(ModelNotFoundError, match="openai/clip-vit-base-patch32.*huggingface-cli download"):
        build_perception(cfg)
    cfg = _config(tiny_models, mobile_sam_path, "owl-sam")
    cfg.sam_model_type = "vit_q"
    with pytest.raises(InputError, match="vit_q"):
        build_perception(cfg)
    with pytest.raises(ModelNotFoundError, match="text encoder|sentence encoder"):
        build_perception(PerceptionConfig(pipeline="ground-truth", device="cpu", text_encoder="/nope/minilm"),
                         instance_descriptions={1: "table"})
