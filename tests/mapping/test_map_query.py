"""Queries on a fused box world with the real MiniLM encoder: clustering, relations, not-found scores."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures_sim_map import minilm_encoder
from map_synthetic_scene import DESCRIPTIONS, default_boxes, observations_from_ids, render, scan_poses

from core.errors import InputError
from core.types import CameraIntrinsics
from mapping.calibration import threshold_of
from mapping.query import QueryConfig, connected_components, query_map
from mapping.relations import clean_phrase, parse_relation
from mapping.voxel_map import MapMetadata, VoxelMap

INTR = CameraIntrinsics.from_fov(200, 150, 1.0)


@pytest.fixture(scope="module")
def text_map():
    enc = minilm_encoder()
    ids = sorted(DESCRIPTIONS)
    emb = enc.encode_text([DESCRIPTIONS[i] for i in ids])
    feats = dict(zip(ids, emb, strict=True))
    boxes = default_boxes()
    vmap = VoxelMap(metadata=MapMetadata(embedding_model_id=enc.embedding_model_id))
    for T in scan_poses():
        f = render(boxes, T, INTR)
        vmap.add_frame(f, observations_from_ids(f, feats, score=0.8))
    return vmap, enc, {b.instance_id: b for b in boxes}


def test_connected_components_26_neighbourhood():
    coords = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [5, 5, 5], [6, 5, 5], [9, 0, 0]])
    labels = connected_components(coords)
    assert labels[0] == labels[1] == labels[2]  # diagonal neighbours connect
    assert labels[3] == labels[4] != labels[0]
    assert len(set(labels.tolist())) == 3


def test_every_description_finds_its_object(text_map):
    vmap, enc, boxes = text_map
    for iid, text in DESCRIPTIONS.items():
        hits = vmap.query_text(text, enc.encode_text)
        assert hits, text
        top = hits[0]
        assert np.linalg.norm(top.center - boxes[iid].center) < 0.15, text
        assert top.score > 0.9 and top.voxels.size > 0
        assert np.all(top.extent > 0) and top.label == text
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hit_box_covers_object(text_map):
    vmap, enc, boxes = text_map
    top = vmap.query_text("the kitchen sink", enc.encode_text)[0]
    b = boxes[4]
    assert np.all(top.lo <= np.array(b.lo) + 0.1) and np.all(top.hi >= np.array(b.hi) - 0.15)


def test_two_mugs_are_two_hits(text_map):
    vmap, enc, boxes = text_map
    hits = vmap.query_text("coffee mug", enc.encode_text)
    centres = [h.center for h in hits[:2]]
    found = {min((2, 5), key=lambda i: np.linalg.norm(c - boxes[i].center)) for c in centres}
    assert found == {2, 5}


@pytest.mark.parametrize(("query", "expected"), [
    ("the coffee mug on the wooden table", 2),
    ("a coffee mug next to the cardboard box", 5),
    ("coffee mug near the cardboard box", 5),
])
def test_relational_queries_pick_the_right_mug(text_map, query, expected):
    vmap, enc, boxes = text_map
    hits = vmap.query_text(query, enc.encode_text)
    assert np.linalg.norm(hits[0].center - boxes[expected].center) < 0.15
    assert hits[0].details["relation"] in ("on", "near")
    assert hits[0].score > hits[1].score


def test_unsatisfied_relation_lowers_the_score(text_map):
    vmap, enc, _ = text_map
    plain = vmap.query_text("red coffee mug", enc.encode_text)[0].score
    wrong = vmap.query_text("red coffee mug in the kitchen sink", enc.encode_text)[0].score
    assert wrong < 0.6 * plain


def test_absent_object_scores_below_threshold(text_map):
    vmap, enc, _ = text_map
    threshold = threshold_of(vmap)  # this map records no calibration: the sentence encoder's default
    assert QueryConfig().not_found_threshold is None
    for text in ("purple elephant", "bicycle", "television remote"):
        assert vmap.query_text(text, enc.encode_text)[0].score < threshold, text
    assert vmap.query_text("red coffee mug", enc.encode_text)[0].score >= threshold


def test_relation_parsing():
    assert parse_relation("the mug on the table") == ("mug", "on", "table")
    assert parse_relation("The bowl inside of the sink.") == ("bowl", "in", "sink")
    assert parse_relation("cup next to the sink") == ("cup", "near", "sink")
    assert parse_relation("box on top of the shelf") == ("box", "on", "shelf")
    assert parse_relation("the red coffee mug") is None
    assert parse_relation("on the table") is None
    assert clean_phrase("  the  red mug. ") == "red mug"


def test_query_errors(text_map):
    vmap, _, _ = text_map
    with pytest.raises(InputError, match="dimensions"):
        query_map(vmap, np.ones(7, np.float32))
    with pytest.raises(InputError, match="zero"):
        query_map(vmap, np.zeros(vmap.feature_dim, np.float32))
    with pytest.raises(InputError, match="no semantic voxels"):
        VoxelMap().query_text("mug", lambda texts: np.ones((len(texts), 4), np.float32))


def test_query_with_another_encoder_is_refused(text_map):
    from mapping.map_encoder import EncoderMismatchError

    vmap, enc, _ = text_map

    class Other:
        embedding_model_id = "clip:some/other-model"

        def encode_text(self, texts):
            return enc.encode_text(texts)

    assert vmap.query_text("red coffee mug", enc)  # the map's own encoder object passes the check
    with pytest.raises(EncoderMismatchError, match="other-model"):
        vmap.query_text("red coffee mug", Other())


def test_int8_first_pass_gives_the_float32_result():
    """A map big enough for the quantized index answers exactly like the float32-only path."""
    rng = np.random.default_rng(3)
    objects = rng.normal(size=(30, 64)).astype(np.float32)
    objects /= np.linalg.norm(objects, axis=1, keepdims=True)
    centres = rng.integers(0, 200, size=(30, 3))
    local = np.stack(np.unravel_index(np.arange(125), (5, 5, 5)), 1)
    coords = np.concatenate([c + local for c in centres])
    owner = np.repeat(np.arange(30), 125)
    _, first = np.unique(coords @ np.array([10**6, 10**3, 1]), return_index=True)
    coords, owner = coords[first], owner[first]
    feats = objects[owner] + 0.2 * rng.normal(size=(len(coords), 64)).astype(np.float32) / 8
    vmap = VoxelMap()
    vmap.semantic.update(coords.astype(np.int32), np.ones(len(coords)), feats, np.ones(len(coords), np.int64), 0)
    exact_cfg, indexed_cfg = QueryConfig(index_min_voxels=10**9), QueryConfig(index_min_voxels=0)
    vmap.query(objects[0], indexed_cfg)  # first query after a change: float32 only
    assert vmap.query_index(build=False) is None
    for q in objects[:10]:
        a, b = vmap.query(q, exact_cfg), vmap.query(q, indexed_cfg)
        assert [h.voxels.size for h in a] == [h.voxels.size for h in b]
        for x, y in zip(a, b, strict=True):
            assert np.allclose(x.center, y.center) and abs(x.score - y.score) < 1e-5
    assert vmap.query_index(build=False) is not None  # built from the second query on
    approx, eps = vmap.query_index().approx(objects[0])
    exact = (vmap.semantic.features @ objects[0]) / vmap.semantic.norms
    assert np.abs(approx - exact).max() <= eps


def test_a_detection_confused_in_one_frame_does_not_outrank_the_object():
    """One frame's detector names a patch of another object with this object's words (a confusion): that
    patch carries the pure feature (the real object's, fused from many views, is a little mixed), but only
    the real object was seen from many views (Hit.support)."""
    enc = minilm_encoder()
    ids = sorted(DESCRIPTIONS)
    feats = dict(zip(ids, enc.encode_text([DESCRIPTIONS[i] for i in ids]), strict=True))
    boxes = default_boxes()
    target, other = 2, 4  # the mug on the table; the sink cabinet, 1.5 m away
    vmap = VoxelMap(metadata=MapMetadata(embedding_model_id=enc.embedding_model_id))
    frames = [render(boxes, T, INTR) for T in scan_poses()]
    for f in frames:  # the target's own detections are a little worse than perfect (masks bleed)
        vmap.add_frame(f, observations_from_ids(f, {target: _mixed(feats[target], feats[other])}, score=0.8))
    confused = next(f for f in frames if np.any(f.instance_ids == other))
    from core.types import Observation

    vmap.add_frame(confused, [Observation(mask=confused.instance_ids == other, score=0.8, feature=feats[target])])
    box = {b.instance_id: b for b in boxes}
    plain = query_map(vmap, feats[target], QueryConfig(support_margin=0.0, single_frame_margin=0.0))
    ranked = query_map(vmap, feats[target], QueryConfig())
    assert np.linalg.norm(plain[0].center - box[other].center) < np.linalg.norm(plain[0].center - box[target].center)
    assert np.linalg.norm(ranked[0].center - box[target].center) < 0.15  # the object seen from many views
    assert ranked[0].support > plain[0].support


def _mixed(a: np.ndarray, b: np.ndarray, w: float = 0.9) -> np.ndarray:
    v = w * a + (1 - w) * b
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_a_query_can_prefer_the_recently_seen_of_two_equally_good_hits():
    """Two places hold the same evidence (a mug seen at the scan, then seen elsewhere later): with
    QueryConfig.recency_margin the place seen last ranks first; off, the one seen more often does; a clearly
    better hit still outranks a recent one."""
    rng = np.random.default_rng(0)
    f = rng.normal(size=32).astype(np.float32)
    f /= np.linalg.norm(f)
    ortho = rng.normal(size=32).astype(np.float32)
    ortho -= (ortho @ f) * f
    ortho /= np.linalg.norm(ortho)
    worse = (0.9 * f + np.sqrt(1 - 0.81) * ortho).astype(np.float32)  # cosine 0.9 with the query
    block = np.argwhere(np.ones((3, 3, 3), bool)).astype(np.int32)
    vmap = VoxelMap()

    def see(offset, feature, frame):
        coords = block + np.array(offset, np.int32)
        n = len(coords)
        vmap.semantic.update(coords, np.ones(n), np.tile(feature, (n, 1)), np.ones(n, np.int64), frame)

    see((0, 0, 0), f, 0)  # the old place: seen in two scan frames
    see((0, 0, 0), f, 1)
    see((40, 0, 0), f, 5)  # the new place: seen once, later
    see((80, 0, 0), worse, 9)  # a worse match, seen last of all
    old_xy, new_xy = np.array([0.075, 0.075]), np.array([2.075, 0.075])

    plain = query_map(vmap, f, QueryConfig())
    assert np.allclose(plain[0].center[:2], old_xy) and np.allclose(plain[1].center[:2], new_xy)
    assert (plain[0].support, plain[0].last_seen, plain[1].last_seen) == (2, 1, 5)
    recent = query_map(vmap, f, QueryConfig(recency_margin=0.05))
    assert np.allclose(recent[0].center[:2], new_xy) and np.allclose(recent[1].center[:2], old_xy)
    assert recent[2].last_seen == 9 and recent[2].score < recent[0].score - 0.05  # seen last, but worse: third
    assert recent[0].to_dict()["last_seen"] == 5
