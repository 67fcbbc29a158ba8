"""A hit is named after its core voxels, not the thing its few voxels are joined to (mapping.query.label_hits).

A small object seen in one or two frames is a few voxels of pure feature joined to the many voxels of what it
stands against (a mug beside a coffee maker: dilated masks mix the two detections there, within the
candidate margin of the query). Named by a vote of all of them, the hit was the coffee maker, and a
detector's false positive of the mug's exact name elsewhere went first (`_exact_first`).
"""

from __future__ import annotations

import numpy as np
import pytest
from fixtures_sim_map import minilm_encoder

from mapping.query import QueryConfig, label_hits
from mapping.voxel_map import MapMetadata, VoxelMap
from perception.vocabulary import ensemble_features, instance_text

MUG, MAKER = "red coffee mug", "red coffee maker"


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.fixture(scope="module")
def mug_and_phantom():
    enc = minilm_encoder()
    texts = [instance_text(MUG, "coffee mug"), instance_text(MAKER, "coffee maker")]
    f_mug, f_maker = (_unit(f) for f in ensemble_features(enc.encode_text, texts))
    q = _unit(np.asarray(enc.encode_text([MUG]), dtype=np.float64)[0])
    # the coffee maker's voxels: a mix still nearer the maker's feature than the mug's, scoring for the mug
    # between the core margin and the candidate margin below the mug's own voxels
    cfg = QueryConfig()
    best = float(f_mug @ q)
    mix = None
    for w in np.linspace(0.3, 0.7, 81):
        m = _unit(w * f_mug + (1 - w) * f_maker)
        s = float(m @ q)
        if best - cfg.candidate_margin < s < best - cfg.core_margin - 0.01 and m @ f_maker > m @ f_mug:
            mix = m
            break
    assert mix is not None, "no mixed feature fits between the margins for this encoder"
    vmap = VoxelMap(metadata=MapMetadata(embedding_model_id=enc.embedding_model_id))
    sem = vmap.semantic
    maker = np.array([(x, y, 15) for x in range(10) for y in range(4)], np.int32)
    mug = np.array([(4, 1, 16), (4, 2, 16)], np.int32)
    phantom = np.array([(40, 0, 20), (40, 1, 20), (40, 2, 20)], np.int32)
    for frame in range(2):  # the maker and the mug seen twice, the phantom once
        for coords, feat in ((maker, mix), (mug, f_mug)):
            n = len(coords)
            sem.update(coords, np.ones(n), np.tile(feat, (n, 1)), np.ones(n, np.int32), frame)
    sem.update(phantom, np.ones(3), np.tile(f_mug, (3, 1)), np.ones(3, np.int32), 2)
    vmap.metadata.instances = [t.to_dict() for t in texts]
    return vmap, enc


def test_small_object_beside_a_big_one_is_named_and_found_before_a_phantom(mug_and_phantom):
    vmap, enc = mug_and_phantom
    hits = vmap.query_text(MUG, enc.encode_text)
    top = hits[0]
    assert top.description == MUG
    assert np.allclose(top.center[:2], [0.225, 0.1], atol=0.06)  # the mug's voxels, not the phantom at x = 2 m
    assert top.support == 2 and len(top.voxels) == 42 and len(top.core) == 2
    phantom = next(h for h in hits if h.center[0] > 1.5)
    assert phantom.description == MUG and hits[0] is not phantom


def test_named_by_all_its_voxels_the_coffee_maker_outvotes_the_mug(mug_and_phantom):
    """The old naming (every voxel of the component votes) calls the real hit the coffee maker."""
    vmap, enc = mug_and_phantom
    hits = vmap.query_text(MUG, enc.encode_text)
    real = next(h for h in hits if h.center[0] < 1.0)
    real.core = None
    label_hits(vmap, [real], enc.encode_text)
    assert real.description == MAKER
