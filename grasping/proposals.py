"""Geometric grasp candidates for the Stretch parallel gripper from an object's points.

Three families, all sampled around the object's footprint principal axes and centre:
- top-down: approach straight down, closing axis at `top_angles` headings (plus the exact minor axis), the
  fingertips at a few depths below the object's top, centred and offset along the major axis;
- side: horizontal approach from headings around the arm's direction when the base has turned to put the
  gripper line on the object (a straight extension, wrist yaw 0), and the principal axes within that
  spread, closing horizontally, at a few fractions of the object's height;
- rim: for wide objects (bowls, plates, big boxes), top-down on the outline with the closing axis radial,
  so one finger goes inside and the other outside a thin wall;
- angled: the side family's headings with the gripper pitched 45 degrees down (core.stretch's
  ANGLED_WRIST_PITCH), closing horizontally across the object at a few fractions of its height: the
  gripper body rises behind the fingers, so a short object deep on a table or counter (a sponge, a ball, a
  can) is held at its middle from where the pitched-down wrist cannot reach it and a level gripper's body
  would hit the surface.

Candidates are returned as arrays (centres (K, 3), rotations (K, 3, 3) with columns approach, closing,
normal) for vectorised checks in scoring.py / collision.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.stretch import ANGLED_WRIST_PITCH
from grasping.config import GraspConfig
from grasping.kinematics import arm_heading_through

KINDS = ("top", "side", "rim", "angled")
TOP_DOWN_Z = -0.9
"""An approach whose vertical component is below this points down (top-down grasps and rim grasps from
above are -1; angled grasps, and rim grasps pitched like them, -0.71)."""


def pitched(R: np.ndarray) -> bool:  # noqa: N803
    """Is a grasp rotation (columns approach, closing, normal) pitched down at an angle, neither pointing
    down nor level (an angled grasp, or a rim grasp made like one)?"""
    return bool(TOP_DOWN_Z <= float(R[2, 0]) < -0.3)


def _angled_lowest(cfg: GraspConfig) -> float:
    """How far the lowest corner of the pads lies below the grasp centre with the wrist pitched
    ANGLED_WRIST_PITCH: the tips 8 mm past the centre and half the pads' height, both tilted 45 degrees."""
    el = -ANGLED_WRIST_PITCH
    return cfg.gripper.finger_boxes[0][1][0] * math.sin(el) + cfg.gripper.finger_height_m / 2 * math.cos(el)


@dataclass
class ObjectShape:
    """Footprint and height statistics of an object resting on a support surface."""

    centre_xy: np.ndarray  # footprint centre (middle of the principal-axes box)
    major: np.ndarray  # unit (2,) footprint principal axes
    minor: np.ndarray
    extent_major: float
    extent_minor: float
    top_z: float
    support_z: float

    @property
    def height(self) -> float:
        return max(self.top_z - self.support_z, 0.0)


def support_height(points: np.ndarray, scene: np.ndarray, band_m: float = 0.04) -> float:
    """Height of the surface the object rests on: scene points just below/around its bottom, else its bottom."""
    bottom = float(np.percentile(points[:, 2], 1.0))
    if len(scene):
        lo, hi = points[:, :2].min(axis=0) - 0.12, points[:, :2].max(axis=0) + 0.12
        near = np.all((scene[:, :2] >= lo) & (scene[:, :2] <= hi), axis=1)
        z = scene[near, 2]
        z = z[(z > bottom - band_m) & (z < bottom + 0.015)]
        if len(z) >= 10:
            return float(min(np.percentile(z, 80), bottom + 0.005))
    return bottom


def _rim_circle(points: np.ndarray, band_m: float = 0.012) -> np.ndarray | None:
    """Centre of a circle fitted to the object's top ring, if the ring is round and seen all around."""
    top = float(np.percentile(points[:, 2], 99.0))
    ring = points[points[:, 2] >= top - band_m, :2].astype(np.float64)
    if len(ring) < 20:
        return None
    A = np.c_[2 * ring, np.ones(len(ring))]
    b = (ring**2).sum(axis=1)
    (cx, cy, c), *_ = np.linalg.lstsq(A, b, rcond=None)
    r2 = c + cx * cx + cy * cy
    if r2 <= 0:
        return None
    r = np.sqrt(r2)
    resid = np.abs(np.hypot(ring[:, 0] - cx, ring[:, 1] - cy) - r)
    ang = np.sort(np.arctan2(ring[:, 1] - cy, ring[:, 0] - cx))
    gap = np.max(np.diff(np.concatenate([ang, ang[:1] + 2 * np.pi])))
    if 0.02 <= r <= 0.2 and np.sqrt(np.mean(resid**2)) < 0.004 and gap < np.pi / 2:
        return np.array([cx, cy])
    return None


def object_shape(points: np.ndarray, scene: np.ndarray, directions: int = 36) -> ObjectShape:
    """Footprint axes by rotating calipers: the minor axis is the direction of least width."""
    xy = points[:, :2].astype(np.float64)
    ang = np.arange(directions) * math.pi / directions
    dirs = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    proj = xy @ dirs.T
    widths = proj.max(axis=0) - proj.min(axis=0)
    i = int(np.argmin(widths))
    minor = dirs[i]
    major = np.array([-minor[1], minor[0]])
    pu, pv = xy @ major, xy @ minor
    centre = 0.5 * (pu.max() + pu.min()) * major + 0.5 * (pv.max() + pv.min()) * minor
    circle = _rim_circle(points)
    if circle is not None:  # round objects (cups, bowls, cans): the rim seen from above gives the axis
        centre = circle
    return ObjectShape(
        centre_xy=centre, major=major, minor=minor,
        extent_major=float(pu.max() - pu.min()), extent_minor=float(pv.max() - pv.min()),
        top_z=float(np.percentile(points[:, 2], 99.0)), support_z=support_height(points, scene),
    )


def mirrored_points(points: np.ndarray, shape: ObjectShape) -> np.ndarray:
    """The points turned by 180 degrees about the vertical axis through the footprint centre.

    A stand-in for the object's far side, which the head camera does not see: exact for rotationally or
    centrally symmetric objects (cans, bowls, plates, boxes), conservative (extra material) for others;
    carve_seen_free then drops what the camera saw through (a wedge's thin end mirrored onto its thick end).
    """
    out = np.array(points, dtype=np.float32, copy=True)
    out[:, :2] = 2.0 * shape.centre_xy.astype(np.float32) - out[:, :2]
    return out


def carve_seen_free(hidden: np.ndarray, observed: np.ndarray, camera_xyz: np.ndarray,
                    bin_rad: float = 0.006, behind_m: float = 0.015) -> np.ndarray:
    """The hidden (guessed) points the camera did not see through: drop each one whose ray from the camera
    reaches an observed point (object or scene) more than `behind_m` farther away, i.e. space the camera
    saw to be empty. Rays are binned by direction (`bin_rad` ~ 6 mm at 1 m); a ray with nothing observed
    keeps its guesses (unknown space stays occupied)."""
    if len(hidden) == 0 or len(observed) == 0:
        return hidden
    cam = np.asarray(camera_xyz, dtype=np.float64)

    def rays(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.asarray(p, dtype=np.float64) - cam
        r = np.linalg.norm(d, axis=1)
        az = np.arctan2(d[:, 1], d[:, 0])
        el = np.arcsin(np.clip(d[:, 2] / np.maximum(r, 1e-9), -1.0, 1.0))
        keys = np.floor(az / bin_rad).astype(np.int64) * 1_000_003 + np.floor(el / bin_rad).astype(np.int64)
        return keys, r

    ko, ro = rays(observed)
    order = np.argsort(ko, kind="stable")
    ko, ro = ko[order], ro[order]
    uniq, start = np.unique(ko, return_index=True)
    far = np.maximum.reduceat(ro, start)  # farthest observed point along each ray bin
    kh, rh = rays(hidden)
    i = np.clip(np.searchsorted(uniq, kh), 0, len(uniq) - 1)
    seen = (uniq[i] == kh) & (far[i] > rh + behind_m)
    return hidden[~seen]


def frame_from(approach: np.ndarray, closing: np.ndarray) -> np.ndarray:
    """(K, 3, 3) rotations with columns approach, closing, approach x closing (orthonormalised)."""
    a = approach / np.linalg.norm(approach, axis=-1, keepdims=True)
    c = closing - np.sum(closing * a, axis=-1, keepdims=True) * a
    c = c / np.linalg.norm(c, axis=-1, keepdims=True)
    n = np.cross(a, c)
    return np.stack([a, c, n], axis=-1)


@dataclass
class Candidates:
    centres: np.ndarray  # (K, 3) grasp centre (midway between the fingertips)
    rotations: np.ndarray  # (K, 3, 3)
    kinds: np.ndarray  # (K,) int index into KINDS

    def __len__(self) -> int:
        return len(self.centres)

    def subset(self, idx: np.ndarray) -> Candidates:
        return Candidates(self.centres[idx], self.rotations[idx], self.kinds[idx])

    @staticmethod
    def concat(parts: list[Candidates]) -> Candidates:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Candidates(np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros(0, int))
        return Candidates(np.concatenate([p.centres for p in parts]), np.concatenate([p.rotations for p in parts]),
                          np.concatenate([p.kinds for p in parts]))


def _tip_floor(shape: ObjectShape, cfg: GraspConfig, margin_m: float | None = None) -> float:
    """Lowest top-down grasp centre above the support: the rounded fingertips reach 8 mm past it
    (finger_boxes) and stay `support_clearance_m` above the support, inflated by `margin_m` (default the
    support's own margin)."""
    margin_m = cfg.support_margin_m if margin_m is None else margin_m
    return shape.support_z + cfg.gripper.finger_boxes[0][1][0] + margin_m + cfg.support_clearance_m


def top_down(shape: ObjectShape, cfg: GraspConfig) -> Candidates:
    angles = np.concatenate([np.arange(cfg.top_angles) * math.pi / cfg.top_angles,
                             [math.atan2(shape.minor[1], shape.minor[0])]])
    offsets = [0.0]
    if shape.extent_major > 0.1:
        offsets += [0.25 * shape.extent_major, -0.25 * shape.extent_major]
    # Fixed depths below the top, and fractions of the object's height: a shape wider low down (a cone, a
    # wedge, a pyramid) is held across its wide part, not by its tip; the collision checks reject depths the
    # gripper body cannot reach. Depths closer than 5 mm to another are one depth.
    wanted = [shape.top_z - d for d in cfg.top_depths_m]
    wanted += [shape.top_z - f * shape.height for f in cfg.top_depth_fractions]
    floor = _tip_floor(shape, cfg)
    depths = sorted({round(max(round(z / 0.005) * 0.005, floor), 4) for z in wanted})
    centres, closings = [], []
    for off in offsets:
        xy = shape.centre_xy + off * shape.major
        for z in depths:
            for a in angles:
                centres.append((xy[0], xy[1], z))
                closings.append((math.cos(a), math.sin(a), 0.0))
    centres, closings = np.array(centres), np.array(closings)
    approach = np.tile([0.0, 0.0, -1.0], (len(centres), 1))
    return Candidates(centres, frame_from(approach, closings), np.zeros(len(centres), int))


def _headings(shape: ObjectShape, cfg: GraspConfig, base_xy: np.ndarray | None) -> np.ndarray:
    """Approach headings of the level and angled families: around the straight arm's direction from
    `base_xy` (every side when None), and the footprint's axes (across a box's thin side, where a heading
    grid may not close)."""
    axes = [math.atan2(ax[1], ax[0]) for ax in (shape.major, shape.minor, -shape.major, -shape.minor)]
    if base_xy is None:  # every side: a grid of headings, and the axes
        return np.concatenate([np.arange(cfg.side_headings * 2) * math.pi / cfg.side_headings, axes])
    bearing = arm_heading_through(base_xy, shape.centre_xy)
    headings = list(bearing + np.linspace(-cfg.side_heading_spread_rad, cfg.side_heading_spread_rad,
                                          cfg.side_headings))
    headings += [h for h in axes if abs(math.remainder(h - bearing, 2 * math.pi)) <= cfg.side_axis_spread_rad]
    return np.array(headings)


def _half_reach(shape: ObjectShape, a: np.ndarray) -> float:
    """Half the footprint's extent along the horizontal direction `a`."""
    return float(np.abs(a @ np.stack([shape.major, shape.minor], axis=1)) @ [shape.extent_major,
                                                                           shape.extent_minor]) / 2


def side(shape: ObjectShape, cfg: GraspConfig, base_xy: np.ndarray | None) -> Candidates:
    headings = _headings(shape, cfg, base_xy)
    # The pads reach half their height below a horizontal gripper's centre: keep them off the support. The
    # gripper body behind them hangs lower (4.7 cm at roll 0); where it would meet the support (an object
    # deep on a board rather than near its edge) the collision checks reject it, at either roll.
    floor = shape.support_z + cfg.collision_margin_m + cfg.support_clearance_m + cfg.gripper.finger_height_m / 2
    # ...and the lowest height at which the body itself clears the support (near an edge the lower heights
    # are free, deep on a surface this one is: a can in the middle of a cabinet top).
    body_floor = shape.support_z + cfg.collision_margin_m + cfg.support_clearance_m + max(
        cfg.gripper.finger_height_m / 2, -cfg.gripper.body_box[0][2])
    zs = sorted({round(max(shape.support_z + f * shape.height, floor), 4) for f in cfg.side_heights}
                | {round(max(shape.support_z + f * shape.height, body_floor), 4) for f in cfg.side_heights})
    # The pads must be covered by the object over their full height, or they close on its very edge.
    zs = [z for z in zs if z <= shape.top_z - 0.5 * cfg.gripper.finger_height_m]
    if not zs:
        return Candidates.concat([])
    centres, approaches = [], []
    for h in headings:
        a = np.array([math.cos(h), math.sin(h)])
        for push in (0.0, 0.3 * _half_reach(shape, a)):
            xy = shape.centre_xy + push * a
            for z in zs:
                centres.append((xy[0], xy[1], z))
                approaches.append((a[0], a[1], 0.0))
    centres, approaches = np.array(centres), np.array(approaches)
    closing = np.stack([-approaches[:, 1], approaches[:, 0], np.zeros(len(approaches))], axis=1)
    return Candidates(centres, frame_from(approaches, closing), np.ones(len(centres), int))


def angled(shape: ObjectShape, cfg: GraspConfig, base_xy: np.ndarray | None) -> Candidates:
    """Grasps pitched `ANGLED_WRIST_PITCH` down along the side family's headings, closing horizontally.

    Pitched so, the fingertips are the gripper's lowest point: the pads' lower corners lie about 2 cm below
    the grasp centre (their half height along the tilted grasp z, and the tips 8 mm past the centre), the
    finger shafts and body rise behind. Centres sit at `angled_heights` of the object's height, never so low
    that the pads would touch the support, on the footprint centre and pushed a little along the approach.
    """
    if shape.height < cfg.angled_min_height_m:
        return Candidates.concat([])
    el = -ANGLED_WRIST_PITCH
    floor = shape.support_z + _angled_lowest(cfg) + cfg.collision_margin_m + cfg.support_clearance_m
    zs = sorted({round(max(shape.support_z + f * shape.height, floor), 4) for f in cfg.angled_heights})
    zs = [z for z in zs if z <= shape.top_z - 0.005]
    if not zs:
        return Candidates.concat([])
    centres, approaches = [], []
    for h in _headings(shape, cfg, base_xy):
        a = np.array([math.cos(h), math.sin(h)])
        for push in (0.0, 0.3 * _half_reach(shape, a)):
            xy = shape.centre_xy + push * a
            for z in zs:
                centres.append((xy[0], xy[1], z))
                approaches.append((a[0] * math.cos(el), a[1] * math.cos(el), -math.sin(el)))
    centres, approaches = np.array(centres), np.array(approaches)
    closing = np.stack([-approaches[:, 1], approaches[:, 0], np.zeros(len(approaches))], axis=1)
    return Candidates(centres, frame_from(approaches, closing), np.full(len(centres), 3))


def rim(points: np.ndarray, shape: ObjectShape, cfg: GraspConfig, base_xy: np.ndarray | None = None,
        pitched_too: bool = True) -> Candidates:
    """Rim grasps around the top outline, closing radially: from above, and pitched 45 degrees down along
    the rim's tangent (either way round; with `base_xy`, only those within `side_axis_spread_rad` of the
    straight arm's direction). Pitched, the lift holds the grasp 0.19 m higher (a bowl on a 0.91 m counter:
    from above it needs lift 1.11 m, the limit is 1.10) and the arm reaches 0.15 m farther."""
    if min(shape.extent_major, shape.extent_minor) < cfg.rim_min_extent_m:
        return Candidates.concat([])
    top = points[points[:, 2] >= shape.top_z - 0.015, :2].astype(np.float64) - shape.centre_xy
    if len(top) < 10:
        return Candidates.concat([])
    ang = np.arctan2(top[:, 1], top[:, 0])
    rad = np.linalg.norm(top, axis=1)
    # The inner finger stands over the object's own floor (a plate's), not the support: the full margin.
    z = max(shape.top_z - cfg.rim_depth_m, _tip_floor(shape, cfg, cfg.collision_margin_m))
    sector = 1.5 * math.pi / cfg.rim_angles
    centres, closings = [], []
    for phi in np.arange(cfg.rim_angles) * 2 * math.pi / cfg.rim_angles:
        sel = np.abs(np.remainder(ang - phi + math.pi, 2 * math.pi) - math.pi) < sector
        if not np.any(sel):
            continue
        k = np.flatnonzero(sel)[np.argmax(rad[sel])]
        e = top[k] / max(rad[k], 1e-6)
        xy = shape.centre_xy + top[k] - 0.01 * e
        centres.append((xy[0], xy[1], z))
        closings.append((e[0], e[1], 0.0))
    if not centres:
        return Candidates.concat([])
    centres, closings = np.array(centres), np.array(closings)
    approach = np.tile([0.0, 0.0, -1.0], (len(centres), 1))
    el = -ANGLED_WRIST_PITCH
    # Pitched, the pads' lowest corner (2 cm below the centre, where the fingertips of a grasp from above
    # are 8 mm below it) goes as deep below the rim, and the inner finger stays over the object's floor.
    lowest = _angled_lowest(cfg)
    z_angled = max(shape.top_z - cfg.rim_depth_m + lowest - cfg.gripper.finger_boxes[0][1][0],
                   shape.support_z + lowest + cfg.collision_margin_m + cfg.support_clearance_m)
    bearing = None if base_xy is None else arm_heading_through(base_xy, shape.centre_xy)
    p_centres, p_approaches, p_closings = [], [], []
    for c, e in zip(centres if pitched_too else [], closings if pitched_too else [], strict=True):
        for sign in (1.0, -1.0):
            d = sign * np.array([-e[1], e[0]])
            if bearing is not None and abs(math.remainder(math.atan2(d[1], d[0]) - bearing, 2 * math.pi)) \
                    > cfg.side_axis_spread_rad:
                continue
            p_centres.append((c[0], c[1], z_angled))
            p_approaches.append((d[0] * math.cos(el), d[1] * math.cos(el), -math.sin(el)))
            p_closings.append(e)
    if p_centres:
        centres = np.concatenate([centres, np.array(p_centres)])
        approach = np.concatenate([approach, np.array(p_approaches)])
        closings = np.concatenate([closings, np.array(p_closings)])
    return Candidates(centres, frame_from(approach, closings), np.full(len(centres), 2))


def propose(points: np.ndarray, shape: ObjectShape, cfg: GraspConfig, base_xy: np.ndarray | None) -> Candidates:
    """All candidate grasps of `cfg.families` (top-down, side, rim, angled) for an object."""
    unknown = set(cfg.families) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown grasp families {sorted(unknown)}; known: {', '.join(KINDS)}")
    fam = cfg.families
    return Candidates.concat([
        top_down(shape, cfg) if "top" in fam else Candidates.concat([]),
        side(shape, cfg, base_xy) if "side" in fam else Candidates.concat([]),
        rim(points, shape, cfg, base_xy, pitched_too="angled" in fam) if "rim" in fam else Candidates.concat([]),
        angled(shape, cfg, base_xy) if "angled" in fam else Candidates.concat([])])
