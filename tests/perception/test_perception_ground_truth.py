"""Ground-truth perception with the real all-MiniLM-L6-v2 encoder: retrieval, masks, caching, language seg."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from core.types import CameraIntrinsics, RGBDFrame
from fixtures.tiny_models import synthetic_frame
from perception.ground_truth import GroundTruthPerception
from perception.language_seg import segment_phrase_ground_truth
from perception.vocabulary import ensemble_features

SCENE = [
    "red coffee mug", "tomato soup can", "white kitchen table", "yellow banana", "blue ceramic bowl", "green apple",
    "cracker box", "mustard bottle", "wooden bookshelf", "grey fabric sofa", "black office chair",
    "bleach cleanser bottle", "white dinner plate", "kitchen sink", "yellow sponge", "lemon", "sugar box",
    "master chef coffee can", "double bed", "potted plant", "tv remote control", "running shoe", "metal spoon",
    "orange",
]
PARAPHRASES = [
    ("coffee cup", "red coffee mug"), ("soup can", "tomato soup can"), ("dining table", "white kitchen table"),
    ("banana", "yellow banana"), ("bowl", "blue ceramic bowl"), ("apple", "green apple"),
    ("box of crackers", "cracker box"), ("mustard", "mustard bottle"), ("book shelf", "wooden bookshelf"),
    ("couch", "grey fabric sofa"), ("desk chair", "black office chair"), ("bleach", "bleach cleanser bottle"),
    ("plate", "white dinner plate"), ("sink", "kitchen sink"), ("sponge for washing dishes", "yellow sponge"),
    ("lemon fruit", "lemon"), ("box of sugar", "sugar box"), ("can of coffee", "master chef coffee can"),
    ("bed", "double bed"), ("houseplant", "potted plant"), ("remote", "tv remote control"),
    ("sneaker", "running shoe"), ("spoon", "metal spoon"), ("orange fruit", "orange"),
    ("the mug", "red coffee mug"), ("tomato soup", "tomato soup can"), ("cleaning spray bottle", "bleach cleanser bottle"),
]


class CountingEncoder:
    """Wraps the real encoder and records every batch it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.embedding_model_id = inner.embedding_model_id
        self.calls: list[list[str]] = []

    def encode_text(self, texts):
        self.calls.append(list(texts))
        return self.inner.encode_text(texts)


def test_paraphrased_queries_retrieve_their_own_instance(minilm):
    descriptions = {i + 10: d for i, d in enumerate(SCENE)}
    gt = GroundTruthPerception(descriptions, minilm)
    ids = list(descriptions)
    feats = gt.instance_features(ids)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    queries = gt.encode_text([q for q, _ in PARAPHRASES])
    hits = [descriptions[ids[int(np.argmax(feats @ q))]] for q in queries]
    wrong = [(q, h) for (q, want), h in zip(PARAPHRASES, hits, strict=True) if h != want]
    assert len(PARAPHRASES) >= 20 and wrong == []


def test_observations_are_instance_masks_with_cached_description_features(minilm):
    frame = synthetic_frame()
    frame.instance_ids[0:3, 0:30] = 9  # a 90-pixel sliver at the border
    enc = CountingEncoder(minilm)
    gt = GroundTruthPerception({5: "red coffee mug", 7: "blue ceramic bowl", 9: "tv remote control"}, enc,
                               min_mask_pixels=200)
    obs = gt.observe(frame)
    assert sorted(o.instance_id for o in obs) == [5, 7]  # the sliver and background do not count
    for o in obs:
        assert o.mask.shape == frame.depth_m.shape and o.mask.dtype == bool
        assert np.array_equal(o.mask, frame.instance_ids == o.instance_id)
        assert o.score == 1.0 and o.feature.dtype == np.float32
        own = ensemble_features(minilm.encode_text, [gt.texts[o.instance_id]])[0]
        np.testing.assert_allclose(o.feature, own, atol=1e-5)
        assert gt.texts[o.instance_id].description == o.label
    by_id = {o.instance_id: o for o in obs}
    assert by_id[5].box == (20.0, 20.0, 70.0, 70.0)
    gt.observe(frame)
    called = sorted(t for batch in enc.calls for t in batch)  # each instance's phrases, embedded once
    assert called == sorted(p for i in (5, 7) for p in gt.texts[i].phrases)


def test_depth_requirement_and_degenerate_frames(minilm):
    frame = synthetic_frame()
    frame.depth_m[:] = 0.0
    gt = GroundTruthPerception({5: "red coffee mug", 7: "blue ceramic bowl"}, minilm, min_mask_pixels=200)
    assert gt.observe(frame) == []
    assert len(GroundTruthPerception({5: "red coffee mug"}, minilm, require_depth=False).observe(frame)) == 1
    frame.depth_m[20:30, 20:70] = 1.0  # 500 valid pixels on the mug
    assert [o.instance_id for o in gt.observe(frame)] == [5]
    empty = RGBDFrame(rgb=np.zeros((0, 0, 3), np.uint8), depth_m=np.zeros((0, 0), np.float32),
                      intrinsics=CameraIntrinsics(1, 1, 0, 0, 0, 0), T_world_cam=np.eye(4),
                      instance_ids=np.zeros((0, 0), np.int32))
    assert gt.observe(empty) == []
    no_ids = synthetic_frame()
    no_ids.instance_ids = None
    with pytest.raises(InputError, match="instance ids"):
        gt.observe(no_ids)


def test_language_segmentation_returns_best_matching_visible_instances(minilm):
    frame = synthetic_frame()
    gt = GroundTruthPerception({5: "red coffee mug", 7: "blue ceramic bowl", 8: "yellow banana"}, minilm)
    hits = segment_phrase_ground_truth(frame, "coffee cup", gt, threshold=0.45, margin=0.05)
    assert [h.instance_id for h in hits] == [5]
    assert 0.45 <= hits[0].score <= 1.0 and np.array_equal(hits[0].mask, frame.instance_ids == 5)
    assert segment_phrase_ground_truth(frame, "bowl", gt, 0.45, 0.05)[0].instance_id == 7
    assert segment_phrase_ground_truth(frame, "banana", gt, 0.45, 0.05) == []  # not visible in this frame
    assert segment_phrase_ground_truth(frame, "electric guitar amplifier", gt, 0.45, 0.05) == []
    both = segment_phrase_ground_truth(frame, "coffee cup", gt, threshold=0.0, margin=2.0)
    assert [h.instance_id for h in both] == [5, 7] and both[0].score > both[1].score
