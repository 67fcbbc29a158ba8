"""Localisation against a map (navigation.localization): lidar scans ray-cast in a generated apartment
(MuJoCo, sim.lidar with the A1 noise model), the map from the apartment's ground-truth occupancy at the
lidar's height band.

Checked: global relocalisation from random free poses with no initial guess (within 0.10 m / 5 deg); two
identical apartments side by side answer "ambiguous" with both poses, never one confident pose; a robot
carried to another room mid-track is detected as lost and relocalised; tracking corrects drifted odometry;
a map whose furniture has moved still localises; an empty or corrupt map is a clear InputError.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from core.errors import InputError
from core.stretch import STRETCH
from core.types import Pose2D
from navigation.localization import Localizer, compose, merge_scans, scan_map_from_points
from navigation.scan_matching import ScanMap

generator = pytest.importorskip("sim.scene.generator")
ground_truth = pytest.importorskip("sim.scene.ground_truth")
lidar = pytest.importorskip("sim.lidar")
from sim.backends import make_world  # noqa: E402
from sim.realism import LidarConfig  # noqa: E402

BAND = (0.1, 0.25)  # the lidar sits at 0.166 m
ODOM0 = Pose2D(0.0, 0.0, 0.0)


def _map_points(spec):
    gt = ground_truth.occupancy_grid_full(spec, 0.05, height_band_m=BAND)
    labels = ground_truth.free_components(gt, STRETCH.base_radius_m)
    home = ground_truth.component_at(gt, labels, spec.robot_start.xy)
    return gt.cell_to_world(np.argwhere(gt.obstacle)), gt.cell_to_world(np.argwhere(labels == home))


@pytest.fixture(scope="module")
def apartment():
    spec = generator.generate_scene(0)
    obst, free = _map_points(spec)
    return spec, make_world(spec), obst, free


def _scan(world, true_base, reported_base, seed=0):
    return lidar.simulate_scan(world, true_base, reported_base, LidarConfig(), np.random.default_rng(seed), 0.0)


def _free_pose(free, rng):
    xy = free[rng.integers(len(free))]
    return Pose2D(float(xy[0]), float(xy[1]), float(rng.uniform(-math.pi, math.pi)))


def _within(a: Pose2D, b: Pose2D, m=0.10, deg=5.0) -> bool:
    return a.distance_to(b) <= m and math.degrees(abs(a.heading_error(b))) <= deg


def test_relocalises_from_random_free_poses(apartment):
    _, world, obst, free = apartment
    loc = Localizer(ScanMap(obst, free))
    rng = np.random.default_rng(11)
    for k in range(5):
        true = _free_pose(free, rng)
        odom = Pose2D(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)))
        ans = loc.relocalise(_scan(world, true, odom, k), odom)
        assert ans.localised, ans.reason
        assert _within(ans.base_pose, true), (ans.base_pose, true)
        assert ans.confidence >= 0.55
        assert _within(compose(ans.map_T_odom, odom), true)  # map_T_odom carries odometry into the map


def test_two_identical_apartments_are_ambiguous(apartment):
    _, world, obst, free = apartment
    shift = np.array([40.0, 0.0])
    loc = Localizer(ScanMap(np.r_[obst, obst + shift], np.r_[free, free + shift]))
    rng = np.random.default_rng(5)
    for k in range(3):
        true = _free_pose(free, rng)
        ans = loc.relocalise(_scan(world, true, ODOM0, k), ODOM0)
        assert not ans.localised and ans.base_pose is None
        assert ans.reason.startswith("ambiguous"), ans.reason
        twin = Pose2D(true.x + shift[0], true.y, true.theta)
        assert any(_within(p, true) for p in ans.alternatives)
        assert any(_within(p, twin) for p in ans.alternatives)
        assert loc.map_T_odom is None  # nothing adopted
    # moving a little and merging the views does not break the symmetry: still ambiguous, never a guess
    step = Pose2D(0.4, 0.0, 0.3)
    merged = merge_scans([_scan(world, true, ODOM0), _scan(world, compose(true, step), step, 1)])
    assert loc.relocalise(merged, ODOM0).reason.startswith("ambiguous")


def test_merged_views_relocalise_the_first_pose(apartment):
    _, world, obst, free = apartment
    loc = Localizer(ScanMap(obst, free))
    rng = np.random.default_rng(8)
    true = _free_pose(free, rng)
    odom = Pose2D(1.0, -2.0, 0.4)
    step = Pose2D(0.3, 0.1, -0.5)
    second = compose(true, step)
    merged = merge_scans([_scan(world, true, odom), _scan(world, second, compose(odom, step), 1)])
    assert len(merged.ranges_m) > 600
    ans = loc.relocalise(merged, odom)
    assert ans.localised and _within(ans.base_pose, true), (ans.reason, ans.base_pose, true)


def test_tracking_corrects_drift_and_recovers_a_kidnapped_robot(apartment):
    _, world, obst, free = apartment
    loc = Localizer(ScanMap(obst, free))
    rng = np.random.default_rng(3)
    start = _free_pose(free, rng)
    assert loc.relocalise(_scan(world, start, ODOM0), ODOM0).localised
    # drive 0.3 m; the odometry reports 30 % too far, 5 cm of side slip and 3 degrees too much turn
    true = compose(start, Pose2D(0.3, 0.0, 0.2))
    odom = Pose2D(0.3 * 1.3, 0.05, 0.2 + math.radians(3.0))
    odom_only = loc.corrected(odom)
    ans = loc.track(_scan(world, true, odom, 1), odom)
    assert ans.localised and not ans.relocalised
    assert _within(ans.base_pose, true, 0.10, 2.0), (ans.base_pose, true)
    assert ans.base_pose.distance_to(true) < odom_only.distance_to(true)
    assert abs(ans.base_pose.heading_error(true)) < abs(odom_only.heading_error(true))
    # carried to a pose at least 3 m away while the odometry sees nothing
    far = _free_pose(free, rng)
    while far.distance_to(true) < 3.0:
        far = _free_pose(free, rng)
    ans = loc.track(_scan(world, far, odom, 2), odom)
    assert ans.relocalised, ans.reason
    assert ans.localised and _within(ans.base_pose, far), (ans.base_pose, far)
    assert _within(loc.corrected(odom), far)


def test_furniture_moved_still_localises(apartment):
    spec, world, _, free = apartment
    moved = [dataclasses.replace(r, pose=(r.pose[0] + 0.3, r.pose[1] - 0.2, r.pose[2] + 0.3)) if i % 2 == 0
             else r for i, r in enumerate(spec.receptacles)]
    assert len(moved) >= 2
    obst_moved, _ = _map_points(dataclasses.replace(spec, receptacles=tuple(moved)))
    loc = Localizer(ScanMap(obst_moved, free))
    rng = np.random.default_rng(21)
    ok = 0
    for k in range(6):
        true = _free_pose(free, rng)
        ans = loc.relocalise(_scan(world, true, ODOM0, k), ODOM0)
        if ans.localised:  # never a confident wrong pose
            assert _within(ans.base_pose, true), (ans.base_pose, true)
            ok += 1
        else:  # moved furniture may make a view ambiguous: the true pose is among the answers
            assert ans.reason.startswith("ambiguous"), ans.reason
            assert any(_within(p, true) for p in ans.alternatives)
    assert ok >= 4


def test_empty_or_corrupt_map_is_a_clear_error():
    with pytest.raises(InputError, match="empty"):
        scan_map_from_points(np.zeros((0, 3)))
    with pytest.raises(InputError, match="obstacle points"):
        scan_map_from_points(np.array([[0.0, 0.0, 1.2]] * 50))  # nothing at scan height
    with pytest.raises(InputError, match="obstacle points"):
        ScanMap(np.full((100, 2), np.nan))
    walls = np.array([[x, y] for x in np.arange(0, 0.3, 0.05) for y in np.arange(0, 0.3, 0.05)])
    with pytest.raises(InputError, match="no free floor"):
        ScanMap(walls, free_xy=np.array([[50.0, 50.0]]))
