"""Width measurement, re-centring, static collision rejection and scoring of grasp candidates.

The object's extent between the finger pads is measured from its points along each candidate's closing
axis (points inside the pad region: the last `pad_length_m` before the fingertips, within the finger's
width). A candidate is shifted along its closing axis so that material is centred between the fingers,
then rejected if nothing is between the pads, if the material is wider than the opening minus a margin,
or if a finger, the gripper body or the wrist contains object or scene points. Survivors get a score in
[0, 1]: a weighted mean of centring, width margin, approach preference, height above the support,
contact (balance and depth of material between the pads) and closing across the footprint's minor axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grasping.collision import boxes_hit, gripper_boxes, to_local
from grasping.config import GraspConfig
from grasping.proposals import TOP_DOWN_Z, Candidates, ObjectShape

REJECT_NOTHING = "closes on nothing"
REJECT_WIDE = "too wide"
REJECT_FINGER_OBJECT = "finger lands on the object"
REJECT_BODY_OBJECT = "gripper body hits the object"
REJECT_SCENE = "collides with the scene"
REJECT_EDGE = "holds only the edge"
APPROACH_PREFERENCE = np.array([1.0, 0.6, 0.8, 0.5])  # top, side, rim, angled


@dataclass
class Evaluation:
    """Per-candidate measurements (arrays of length K) and the first rejection reason ('' if kept)."""

    width: np.ndarray
    offset: np.ndarray
    count: np.ndarray
    score: np.ndarray
    reasons: list[str]
    terms: dict[str, np.ndarray] = field(default_factory=dict)
    rolls: np.ndarray | None = None  # per candidate: 0 as proposed, 1 only rolled by pi, 2 either is free

    @property
    def kept(self) -> np.ndarray:
        return np.array([r == "" for r in self.reasons], dtype=bool)


def measure_between_pads(local: np.ndarray, cfg: GraspConfig) -> tuple[np.ndarray, ...]:
    """(width, midpoint offset along closing, count, balance) of the material between the pads, per candidate."""
    g = cfg.gripper
    half = g.max_aperture_m / 2
    x, y, z = local[..., 0], local[..., 1], local[..., 2]
    region = (x >= -g.pad_length_m) & (x <= 0.001) & (np.abs(z) <= g.finger_height_m / 2) & (np.abs(y) < half)
    count = region.sum(axis=1)
    ymax = np.where(region, y, -np.inf).max(axis=1)
    ymin = np.where(region, y, np.inf).min(axis=1)
    has = count > 0
    ymax, ymin = np.where(has, ymax, 0.0), np.where(has, ymin, 0.0)
    width = ymax - ymin
    mid = 0.5 * (ymax + ymin)
    pos = (region & (y > mid[:, None])).sum(axis=1)
    neg = (region & (y <= mid[:, None])).sum(axis=1)
    balance = np.minimum(pos, neg) / np.maximum(1, np.maximum(pos, neg))
    return width, mid, count, balance


def _caliper(points: np.ndarray, closing: np.ndarray, width: np.ndarray) -> np.ndarray:
    """The object's footprint extent along each candidate's (horizontal part of the) closing axis."""
    cxy = closing[:, :2]
    cn = np.linalg.norm(cxy, axis=1)
    along = (points[:, :2].astype(np.float64) @ cxy.T) / np.maximum(cn, 1e-9)  # (N, K)
    return np.where(cn > 0.3, np.ptp(along, axis=0), width)


def _fill(points: np.ndarray, closing: np.ndarray, width: np.ndarray, kinds: np.ndarray, limit: float) -> np.ndarray:
    """Material between the pads as a fraction of what a full-width grasp would hold (1 for rim grasps)."""
    cal = _caliper(points, closing, width)
    return np.where(kinds == 2, 1.0, np.clip(width / np.maximum(np.minimum(cal, limit), 1e-3), 0.0, 1.0))


def support_points(scene: np.ndarray, shape: ObjectShape, cfg: GraspConfig) -> np.ndarray:
    """bool (N,): the scene points of the support surface itself (at most `support_band_m` above its fitted
    height, and not more than 2 cm below it), checked with the smaller `support_margin_m`."""
    z = np.asarray(scene, dtype=np.float32).reshape(-1, 3)[:, 2]
    return (z <= shape.support_z + cfg.support_band_m) & (z >= shape.support_z - 0.02)


def evaluate(cands: Candidates, points: np.ndarray, scene: np.ndarray, shape: ObjectShape,
             cfg: GraspConfig, hidden: np.ndarray | None = None) -> tuple[Candidates, Evaluation]:
    """Re-centre, measure, reject and score all candidates at once. Returns the re-centred candidates.

    `hidden`: the object's unseen side as guessed (see mirrored_points): for the collision checks, and for
    the width and centring between the pads (contact still needs seen points).
    """
    g = cfg.gripper
    closing = cands.rotations[:, :, 1]
    # Width and centring count the guessed far side too: seen from one side, a box turned on a counter shows
    # one long face between the pads, and the pads would seem to hold its edge. Contact needs seen points.
    whole = points if hidden is None or not len(hidden) else np.concatenate([points, hidden])
    _, mid, count, _ = measure_between_pads(to_local(whole, cands.centres, cands.rotations), cfg)
    shift = np.where(count > 0, mid, 0.0)
    centres = cands.centres + shift[:, None] * closing
    cands = Candidates(centres, cands.rotations, cands.kinds)
    local = to_local(whole, centres, cands.rotations)
    width, mid, _, _ = measure_between_pads(local, cfg)
    _, _, count, balance = measure_between_pads(local[:, :len(points)], cfg)
    # The body and wrist are not symmetric under a roll by pi (closing axis reversed): test both rolls.
    on_support = support_points(scene, shape, cfg)
    parts = [(scene[~on_support], cfg.collision_margin_m), (scene[on_support], cfg.support_margin_m)]
    parts = [(to_local(p, centres, cands.rotations), m) for p, m in parts if len(p)]
    hits = []
    for flipped in (False, True):
        boxes, finger = gripper_boxes(g, flipped=flipped)
        hit_scene = np.zeros((len(cands), len(boxes)), dtype=bool)
        for p, m in parts:
            hit_scene |= boxes_hit(p, boxes, m)
        hits.append((boxes_hit(local, boxes, cfg.object_margin_m), hit_scene))
    body = ~finger
    body_free = [~(o[:, body].any(axis=1) | s[:, body].any(axis=1)) for o, s in hits]
    finger_obj = hits[0][0][:, finger].any(axis=1)
    finger_scene = hits[0][1][:, finger].any(axis=1)
    body_obj = hits[0][0][:, body].any(axis=1) & hits[1][0][:, body].any(axis=1)
    body_scene = ~(body_free[0] | body_free[1]) & ~body_obj
    rolls = np.where(body_free[0] & body_free[1], 2, np.where(body_free[1], 1, 0))

    limit = g.max_aperture_m - cfg.width_margin_m
    fill_k = _fill(whole, closing, width, cands.kinds, limit)
    reasons = []
    for k in range(len(cands)):
        if count[k] < cfg.min_contact_points:
            reasons.append(REJECT_NOTHING)
        elif width[k] > limit:
            reasons.append(REJECT_WIDE)
        elif fill_k[k] < cfg.min_fill:
            reasons.append(REJECT_EDGE)
        elif finger_obj[k]:
            reasons.append(REJECT_FINGER_OBJECT)
        elif body_obj[k]:
            reasons.append(REJECT_BODY_OBJECT)
        elif finger_scene[k] or body_scene[k]:
            reasons.append(REJECT_SCENE)
        else:
            reasons.append("")

    # Scores, each in [0, 1].
    approach = cands.rotations[:, :, 0]
    tip_low = centres[:, 2] - np.abs(cands.rotations[:, 2, 2]) * g.finger_height_m / 2
    minor = np.array([shape.minor[0], shape.minor[1], 0.0])
    top_like = approach[:, 2] < TOP_DOWN_Z
    depth_in = np.where(top_like, (shape.top_z - centres[:, 2]) / max(min(shape.height, 0.06), 1e-3), 1.0)
    # Through the middle: the grasp line passes the footprint centre, and the pads hold the object's whole
    # extent along the closing axis (not a sliver of its edge). Rim grasps hold a wall by design.
    cxy = closing[:, :2]
    cn = np.linalg.norm(cxy, axis=1)
    caliper = _caliper(whole, closing, width)
    off = np.abs(((shape.centre_xy - centres[:, :2]) * cxy).sum(axis=1)) / np.maximum(cn, 1e-9)
    rim_kind = cands.kinds == 2
    centering = np.where(rim_kind, 1.0, np.clip(1.0 - off / np.maximum(0.5 * caliper, 0.01), 0.0, 1.0))
    fill = fill_k
    terms = {
        "centering": 0.5 * centering + 0.5 * fill,
        "width_margin": np.clip((g.max_aperture_m - width) / g.max_aperture_m, 0.0, 1.0),
        "approach": np.clip(np.where(rim_kind & ~top_like, APPROACH_PREFERENCE[3], APPROACH_PREFERENCE[cands.kinds])
                            * cfg.prefer_top_down, 0.0, 1.0),  # a pitched rim grasp ranks like an angled one
        "height": np.clip((tip_low - shape.support_z) / 0.04, 0.0, 1.0),
        "contact": 0.5 * balance + 0.5 * np.clip(depth_in, 0.0, 1.0),
        "axis": np.where(cands.kinds == 2, 1.0, np.abs(closing @ minor)),
    }
    weights = {"centering": cfg.w_centering, "width_margin": cfg.w_width_margin, "approach": cfg.w_approach,
               "height": cfg.w_height, "contact": cfg.w_contact, "axis": cfg.w_axis}
    total = sum(weights.values())
    score = sum(weights[k] * terms[k] for k in terms) / total
    return cands, Evaluation(width=width, offset=mid, count=count, score=score, reasons=reasons, terms=terms,
                             rolls=rolls)
