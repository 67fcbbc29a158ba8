"""Per-map query calibration, instance labels on hits, synonyms, fingerprints and the map file convention."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures_sim_map import minilm_encoder
from map_synthetic_scene import DESCRIPTIONS, default_boxes, observations_from_ids, render, scan_poses

from core.errors import InputError
from core.types import CameraIntrinsics
from fixtures.tiny_models import save_tiny_clip
from mapping.calibration import DEFAULTS, QueryCalibration, calibrate, calibration_of
from mapping.fingerprint import FingerprintMismatchError, check_scene, scene_fingerprint
from mapping.map_files import map_path
from mapping.query import QueryConfig
from mapping.voxel_map import MapMetadata, VoxelMap
from perception.vocabulary import ensemble_features, instance_text

INTR = CameraIntrinsics.from_fov(200, 150, 1.0)
LABELS = {1: "kitchen table", 2: "mug", 3: "cardboard box", 4: "sink", 5: "mug"}


def _map(feats: dict[int, np.ndarray], model_id: str) -> VoxelMap:
    vmap = VoxelMap(metadata=MapMetadata(embedding_model_id=model_id))
    for T in scan_poses():
        f = render(default_boxes(), T, INTR)
        vmap.add_frame(f, observations_from_ids(f, feats, score=0.8))
    return vmap


@pytest.fixture(scope="module")
def gt_map():
    enc = minilm_encoder()
    ids = sorted(DESCRIPTIONS)
    texts = [instance_text(DESCRIPTIONS[i], LABELS[i]) for i in ids]
    vmap = _map(dict(zip(ids, ensemble_features(enc.encode_text, texts), strict=True)), enc.embedding_model_id)
    vmap.metadata.instances = [t.to_dict() for t in texts]
    return vmap, enc


def test_calibration_separates_own_phrases_from_absent_things(gt_map, tmp_path):
    vmap, enc = gt_map
    cal = calibrate(vmap, enc.encode_text)
    assert cal.method == "calibrated" and cal.positives >= 8 and cal.negatives >= 20
    assert cal.negative_p90 < cal.threshold < cal.positive_p10
    assert 0 < cal.margin < cal.positive_p10 - cal.negative_p90
    vmap.metadata.query_calibration = cal.to_dict()
    path = vmap.save(tmp_path / "m")
    again = VoxelMap.load(path)
    assert calibration_of(again).threshold == pytest.approx(cal.threshold, abs=1e-4)
    assert calibration_of(again).method == "calibrated"
    # Not a constant: an encoder whose scores are squeezed towards each other gets another threshold.
    squeezed = lambda texts: 0.5 * enc.encode_text(texts) + 0.5 * enc.encode_text(["household object"])  # noqa: E731
    other = calibrate(vmap, squeezed)
    assert other.method == "calibrated" and other.negative_p90 > cal.negative_p90 + 0.05
    assert other.margin < 0.7 * cal.margin and other.threshold != pytest.approx(cal.threshold, abs=1e-3)


def test_maps_without_calibration_use_their_models_default(gt_map):
    vmap, _ = gt_map
    blank = VoxelMap(metadata=MapMetadata(embedding_model_id="clip:openai/clip-vit-base-patch32"))
    assert calibration_of(blank).method == "default"
    assert calibration_of(blank).threshold == DEFAULTS["clip:"][0]
    assert QueryCalibration.from_dict({"threshold": "x"}) is None


def test_hits_carry_the_instances_own_label_and_description(gt_map):
    vmap, enc = gt_map
    hits = vmap.query_text("coffee mug", enc, QueryConfig(not_found_threshold=0.5))
    assert {h.description for h in hits[:2]} == {"red coffee mug", "blue coffee mug"}
    assert all(h.label == "mug" and h.query == "coffee mug" for h in hits[:2])
    assert vmap.query_text("blue coffee mug", enc)[0].description == "blue coffee mug"  # exact description first
    sink = vmap.query_text("sink", enc)[0]
    assert sink.description == "kitchen sink"
    on = vmap.query_text("the mug on the table", enc)[0]
    assert on.details["anchor"]["description"] == "wooden kitchen table"


def test_everyday_words_reach_their_instance():
    enc = minilm_encoder()
    can, counter = instance_text("orange soda can", "soda can"), instance_text("white marble sink counter", "sink counter")
    assert {"can", "soda"} <= set(can.phrases) and {"sink", "counter"} <= set(counter.phrases)
    feats = ensemble_features(enc.encode_text, [can, counter])
    plain = enc.encode_text(["orange soda can", "white marble sink counter"])
    q = enc.encode_text(["can", "sink"])
    assert (q * feats).sum(1).min() > 0.6  # the balanced ensemble lifts the bare words...
    assert ((q * plain).sum(1) < (q * feats).sum(1)).all()  # ...above what the description alone gives


def test_calibration_on_the_real_clip_code_path(tmp_path):
    from perception.embedder import ClipEmbedder

    clip = ClipEmbedder(str(save_tiny_clip(tmp_path / "clip")))
    ids = sorted(DESCRIPTIONS)
    texts = [instance_text(DESCRIPTIONS[i], LABELS[i]) for i in ids]
    vmap = _map(dict(zip(ids, ensemble_features(clip.encode_text, texts), strict=True)), clip.embedding_model_id)
    vmap.metadata.instances = [t.to_dict() for t in texts]
    cal = calibrate(vmap, clip.encode_text)
    assert cal.model == clip.embedding_model_id and cal.positives + cal.negatives > 0
    if cal.method == "calibrated":  # tiny random weights: the numbers are whatever the model gives
        assert cal.negative_p90 < cal.threshold < cal.positive_p10
    else:
        assert cal.threshold == DEFAULTS["clip:"][0] and cal.note
    # prompt ensembling: the text feature is the mean over templates, not the bare phrase
    raw = clip.encode_text_raw(["mug"])[0]
    assert not np.allclose(clip.encode_text(["mug"])[0], raw)


def test_scene_fingerprint_mismatch_names_both():
    a = {"name": "apartment-3", "objects": [{"id": "mug_0", "mesh": "/x/y/mug.stl", "position": [1.0, 2.0, 0.5]}]}
    moved = {"name": "apartment-3", "objects": [{"id": "mug_0", "mesh": "/other/mug.stl", "position": [1.0, 2.0, 0.5]}]}
    b = {"name": "apartment-5", "objects": []}
    fa = scene_fingerprint(a)
    assert scene_fingerprint(moved) == fa  # a moved scene folder keeps its fingerprint
    check_scene(fa, a, "scene.json", "home.npz")
    check_scene({}, b, "other.json", "home.npz")  # maps from before fingerprints pass
    with pytest.raises(FingerprintMismatchError, match="apartment-3.*other.json.*apartment-5"):
        check_scene(fa, b, "other.json", "home.npz")


def test_map_names_with_or_without_the_extension(tmp_path, gt_map):
    vmap, _ = gt_map
    saved = vmap.save(tmp_path / "home")
    assert saved.name == "home.npz"
    assert map_path(tmp_path / "home") == saved == map_path(saved)
    (tmp_path / "scene.json").write_text('{"format": "ovmm-scene"}')
    with pytest.raises(InputError, match="JSON file .*not a map"):
        map_path(tmp_path / "scene.json")
    with pytest.raises(InputError, match="does not exist"):
        map_path(tmp_path / "nothing")
