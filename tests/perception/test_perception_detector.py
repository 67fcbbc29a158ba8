"""OWL-ViT / OWLv2 detector on tiny random models loaded through the project's loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import ModelNotFoundError
from fixtures.tiny_models import synthetic_frame
from perception.detector import OwlDetector

QUERIES = ["a photo of a mug", "a photo of a cup", "a photo of a table"]


@pytest.fixture(scope="module", params=["owlvit", "owlv2"])
def detector(request, tiny_models):
    return OwlDetector(str(tiny_models[request.param]), score_threshold=0.0, nms_iou=0.9)


def test_detect_outputs_boxes_scores_labels_and_embeddings(detector):
    frame = synthetic_frame()
    dets = detector.detect(frame.rgb, QUERIES)
    assert dets, "threshold 0 must keep boxes"
    scores = [d.score for d in dets]
    assert scores == sorted(scores, reverse=True)
    text = detector.encode_text(QUERIES)
    assert text.shape == (3, detector.embedding_dim)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    for d in dets:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= frame.width and 0 <= y0 < y1 <= frame.height
        assert 0.0 <= d.score <= 1.0
        assert d.label == QUERIES[d.query_index]
        assert d.embedding.shape == (detector.embedding_dim,) and d.embedding.dtype == np.float32
        assert abs(np.linalg.norm(d.embedding) - 1.0) < 1e-4
        # The box embedding lives in the text space: the winning query is the one with the highest cosine
        # (OWL's shift/scale are per box, not per query).
        assert int(np.argmax(text @ d.embedding)) == d.query_index


def test_queries_batched_same_as_single(detector, tiny_models):
    single = OwlDetector(str(detector.model_id), score_threshold=0.0, nms_iou=0.9, query_batch_size=1)
    np.testing.assert_allclose(single.encode_text(QUERIES), detector.encode_text(QUERIES), atol=1e-5)
    rgb = synthetic_frame().rgb
    a = [(d.box, d.label) for d in single.detect(rgb, QUERIES)]
    b = [(d.box, d.label) for d in detector.detect(rgb, QUERIES)]
    assert a == b


def test_threshold_and_empty_inputs(detector):
    rgb = synthetic_frame().rgb
    assert detector.detect(rgb, QUERIES, score_threshold=1.01) == []
    assert detector.detect(rgb, []) == []
    assert detector.detect(np.zeros((0, 0, 3), np.uint8), QUERIES) == []
    some = detector.detect(rgb, QUERIES, score_threshold=0.0)
    thr = float(np.median([d.score for d in some]))
    assert all(d.score >= thr for d in detector.detect(rgb, QUERIES, score_threshold=thr))


def test_box_scaling_owlvit_stretches_owlv2_pads(tiny_models):
    box = torch.tensor([[0.25, 0.25, 0.5, 0.5]])  # normalised cx, cy, w, h
    v1 = OwlDetector(str(tiny_models["owlvit"]))
    v2 = OwlDetector(str(tiny_models["owlv2"]))
    np.testing.assert_allclose(v1._to_pixels(box.clone(), 100, 200).numpy()[0], [0, 0, 100, 50])
    np.testing.assert_allclose(v2._to_pixels(box.clone(), 100, 200).numpy()[0], [0, 0, 100, 100])


def test_missing_or_wrong_models_raise_one_clear_error(tmp_path, tiny_models):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        OwlDetector(str(tmp_path / "no_such_model"))
    with pytest.raises(ModelNotFoundError, match="google/owlvit-base-patch32.*local"):
        OwlDetector("google/owlvit-base-patch32")
    with pytest.raises(ModelNotFoundError, match="'clip' model"):
        OwlDetector(str(tiny_models["clip"]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="config.json"):
        OwlDetector(str(tmp_path / "empty"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_detector_on_gpu_matches_cpu(tiny_models):
    rgb = synthetic_frame().rgb
    cpu = OwlDetector(str(tiny_models["owlvit"]), device="cpu", score_threshold=0.0)
    gpu = OwlDetector(str(tiny_models["owlvit"]), device="cuda", score_threshold=0.0)
    a, b = cpu.detect(rgb, QUERIES), gpu.detect(rgb, QUERIES)
    assert len(a) == len(b)
    np.testing.assert_allclose([d.box for d in a], [d.box for d in b], atol=0.5)


def test_forward_equals_the_models_own_forward_pass(detector):
    """Encoding the image once and the queries separately gives what the model's forward() gives, and the
    pixel boxes equal the processor's own post-processing."""
    rgb = synthetic_frame(h=90, w=150).rgb
    proc = detector.processor
    inputs = proc(text=[QUERIES], images=rgb, return_tensors="pt", padding="max_length", truncation=True,
                  max_length=detector._max_len)
    with torch.inference_mode():
        ref = detector.model(**inputs)
    logits, boxes, class_embeds = detector.forward(rgb, QUERIES)
    torch.testing.assert_close(logits, ref.logits[0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(boxes, ref.pred_boxes[0], atol=1e-5, rtol=1e-5)
    post = proc.image_processor.post_process_object_detection(ref, threshold=0.0, target_sizes=[(90, 150)])[0]
    ours = detector._to_pixels(boxes.clone(), 90, 150)
    order = torch.argsort(post["scores"], descending=True, stable=True)[:5]
    ref_boxes = post["boxes"][order].clone()
    ref_boxes[:, 0::2] = ref_boxes[:, 0::2].clamp(0, 150)
    ref_boxes[:, 1::2] = ref_boxes[:, 1::2].clamp(0, 90)
    scores = torch.sigmoid(logits.max(dim=-1).values)
    ours_order = torch.argsort(scores, descending=True, stable=True)[:5]
    torch.testing.assert_close(ours[ours_order], ref_boxes, atol=1e-3, rtol=1e-4)
