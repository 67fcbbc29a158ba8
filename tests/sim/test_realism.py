"""The realism profile: config files, and seeded statistical tests of each noise model (bias and spread)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.errors import InputError
from core.types import LaserScan, Pose2D
from sim.realism import (
    DepthNoise,
    OdometryNoise,
    PerceptionNoise,
    RealismConfig,
    load_realism,
    parse_profiles,
)
from sim.realism_depth import noisy_depth, stereo_rms_m
from sim.realism_odometry import OdometryModel, compose, inverse
from sim.realism_perception import noisy_instances, scaled_pixels


# --- the profile ---------------------------------------------------------------------------------------
def test_oracle_and_realistic_profiles():
    assert RealismConfig.oracle().is_oracle
    assert not RealismConfig.realistic().is_oracle
    d = RealismConfig.realistic().to_dict()
    assert d["depth"]["baseline_m"] == 0.05 and d["lidar"]["rate_hz"] == 5.5


def test_file_sets_each_part(tmp_path):
    p = tmp_path / "mine.json"
    p.write_text(json.dumps({"base": "oracle", "odometry": {"enabled": True, "trans_per_m": 0.05}, "seed": 3}))
    cfg = load_realism(str(p))
    assert cfg.name == "mine" and cfg.seed == 3
    assert cfg.odometry.enabled and cfg.odometry.trans_per_m == 0.05
    assert not cfg.depth.enabled and not cfg.perception.enabled


@pytest.mark.parametrize(("data", "key"), [
    ({"odometry": {"trans_per_mm": 0.1}}, "odometry.trans_per_mm"),
    ({"lidr": {}}, "lidr"),
    ({"perception": {"miss_rate": -0.1}}, "perception.miss_rate"),
    ({"perception": {"miss_rate": 1.5}}, "perception.miss_rate"),
    ({"depth": {"enabled": "yes"}}, "depth.enabled"),
    ({"depth": {"subpixel": "x"}}, "depth.subpixel"),
])
def test_bad_files_name_the_key(tmp_path, data, key):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data))
    with pytest.raises(InputError) as e:
        load_realism(str(p))
    msg = str(e.value)
    assert f"'{key}'" in msg and "\n" not in msg


def test_not_json_and_missing_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        load_realism(str(p))
    with pytest.raises(InputError, match="no such file"):
        load_realism(str(tmp_path / "none.json"))
    assert [c.name for c in parse_profiles("oracle,realistic")] == ["oracle", "realistic"]
    with pytest.raises(InputError, match="repeat"):
        parse_profiles("oracle,oracle")


# --- odometry ------------------------------------------------------------------------------------------
def test_se2_compose_inverse():
    a, b = Pose2D(1.0, 2.0, 0.7), Pose2D(-0.3, 0.5, -2.0)
    c = compose(inverse(a), compose(a, b))
    assert math.isclose(c.x, b.x, abs_tol=1e-12) and math.isclose(c.theta, b.theta, abs_tol=1e-12)


def test_odometry_distance_error_spread_and_bias():
    """1 m straight drives: the true distance's error is unbiased with a spread of trans_per_m (2%)."""
    cfg = OdometryNoise(walk_m_per_sqrt_s=0.0, walk_rad_per_sqrt_s=0.0)
    rng = np.random.default_rng(0)
    errs, headings = [], []
    for _ in range(600):
        m = OdometryModel(cfg, rng, Pose2D(0, 0, 0))
        g = m.true_goal(Pose2D(0, 0, 0), Pose2D(1.0, 0.0, 0.0))
        assert m.reported(g).distance_to(Pose2D(1.0, 0.0, 0.0)) < 1e-9  # the robot believes it arrived
        errs.append(math.hypot(g.x, g.y) - 1.0)
        headings.append(g.theta)
    errs = np.array(errs)
    assert abs(errs.mean()) < 3 * 0.02 / math.sqrt(600)
    assert 0.85 * 0.02 < errs.std() < 1.15 * 0.02
    h = 0.5 * 0.01 * math.sqrt(2)  # two rotation parts, each with half of rot_per_m
    assert 0.85 * h < np.std(headings) < 1.15 * h


def test_odometry_rotation_error_and_drift_accumulates():
    cfg = OdometryNoise(walk_m_per_sqrt_s=0.0, walk_rad_per_sqrt_s=0.0)
    rng = np.random.default_rng(1)
    errs = []
    for _ in range(600):
        m = OdometryModel(cfg, rng, Pose2D(0, 0, 0))
        g = m.true_goal(Pose2D(0, 0, 0), Pose2D(0.0, 0.0, math.pi / 2))
        errs.append(g.theta - math.pi / 2)
    errs = np.array(errs)
    assert abs(errs.mean()) < 3 * 0.02 * (math.pi / 2) / math.sqrt(600)
    assert 0.85 < errs.std() / (0.02 * math.pi / 2) < 1.15
    # A square of 4 x 2 m: the true end drifts away from the start though the odometry says it is back.
    m = OdometryModel(OdometryNoise(), np.random.default_rng(2), Pose2D(0, 0, 0))
    true = Pose2D(0, 0, 0)
    for _ in range(4):
        odom = m.reported(true)
        true = m.true_goal(true, compose(odom, Pose2D(2.0, 0.0, math.pi / 2)))
        m.walk(true, 10.0)
    assert m.reported(true).distance_to(Pose2D(0, 0, 0)) < 0.05
    assert true.distance_to(Pose2D(0, 0, 0)) > 0.01


# --- depth ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("z", [1.0, 2.0, 3.0])
def test_depth_noise_follows_the_stereo_model(z):
    cfg = DepthNoise(edge_invalid_rate=0.0, dark_dropout_rate=0.0)
    rng = np.random.default_rng(3)
    depth = np.full((120, 160), z, dtype=np.float32)
    rgb = np.full((120, 160, 3), 128, dtype=np.uint8)
    out = noisy_depth(depth, rgb, cfg, rng, bias_sign=1.0)
    err = out[out > 0] - z
    assert stereo_rms_m(1.0, cfg) == pytest.approx(0.00359, abs=1e-4)  # ~4 mm at 1 m
    assert err.mean() == pytest.approx(0.02 * z, abs=3 * stereo_rms_m(z, cfg) / math.sqrt(err.size) + 1e-4)
    assert 0.9 < err.std() / stereo_rms_m(z, cfg) < 1.1


def test_depth_invalid_at_edges_dark_and_range():
    cfg = DepthNoise()
    rng = np.random.default_rng(4)
    depth = np.full((100, 100), 2.0, dtype=np.float32)
    depth[:, 50:] = 4.0  # a discontinuity at column 50
    depth[:10] = 20.0  # beyond the range limit
    rgb = np.full((100, 100, 3), 200, dtype=np.uint8)
    rgb[60:] = 10  # a dark surface
    out = noisy_depth(depth, rgb, cfg, rng)
    assert np.all(out[:9] == 0)
    edge = out[10:60, 49:51]
    assert 0.5 < (edge == 0).mean() < 0.9
    dark = out[60:, 5:45]
    assert 0.2 < (dark == 0).mean() < 0.4
    assert (out[12:58, 5:45] == 0).mean() < 0.01


# --- perception ----------------------------------------------------------------------------------------
def test_perception_miss_and_false_positive_rates():
    cfg = PerceptionNoise(reference_width=160, reference_height=120)  # pixel figures in this image's pixels
    rng = np.random.default_rng(5)
    ids = np.zeros((120, 160), dtype=np.int32)
    ids[10:60, 10:60] = 1  # 2500 px: large
    ids[80:90, 100:110] = 2  # 100 px: small
    big = small = fp = 0
    n = 800
    for _ in range(n):
        out = noisy_instances(ids, cfg, rng, np.array([1, 2, 3]))
        big += not np.any(out[20:50, 20:50] > 0)
        small += not np.any(out[78:92, 98:112] > 0)
        fp += np.any(out == 3)
    assert abs(big / n - cfg.miss_rate) < 0.05
    assert abs(small / n - cfg.small_miss_rate) < 0.06
    # id 3 appears only as a false positive or a confusion (rate/3 of the pool each)
    assert 0.02 < fp / n < 0.15


def test_perception_masks_move_by_a_few_pixels():
    cfg = PerceptionNoise(miss_rate=0.0, small_miss_rate=0.0, false_positive_rate=0.0, confusion_rate=0.0,
                          reference_width=100, reference_height=100)
    rng = np.random.default_rng(6)
    ids = np.zeros((100, 100), dtype=np.int32)
    ids[30:70, 30:70] = 7
    areas = [int((noisy_instances(ids, cfg, rng) == 7).sum()) for _ in range(100)]
    assert min(areas) >= 34 * 34 and max(areas) <= 46 * 46 and len(set(areas)) > 3


def test_perception_judges_sizes_in_the_reference_image():
    """An object covering the same part of the view is missed as often at 320 x 240 as at 640 x 480: the
    evaluation's fast camera must not make the modelled detector blinder (small_px is in 640 x 480 pixels)."""
    cfg = PerceptionNoise(false_positive_rate=0.0, confusion_rate=0.0)
    assert scaled_pixels(cfg, (480, 640)) == (cfg.small_px, cfg.mask_jitter_px, cfg.mask_shift_px)
    assert scaled_pixels(cfg, (240, 320)) == (cfg.small_px // 4, 2, 2)

    def miss_rate(h: int, w: int, side: int, seed: int) -> float:
        ids = np.zeros((h, w), dtype=np.int32)
        ids[h // 2:h // 2 + side, w // 2:w // 2 + side] = 4
        rng = np.random.default_rng(seed)
        n = 1500
        return sum(not np.any(noisy_instances(ids, cfg, rng) == 4) for _ in range(n)) / n

    # a 24 x 24 px object at 640 x 480 (576 px: large) is 12 x 12 (144 px) at 320 x 240: still large
    full, half = miss_rate(480, 640, 24, 1), miss_rate(240, 320, 12, 2)
    assert abs(full - cfg.miss_rate) < 0.04 and abs(half - cfg.miss_rate) < 0.04
    # and a 16 x 16 px one (256 px: small) is small at both sizes
    assert abs(miss_rate(240, 320, 8, 3) - cfg.small_miss_rate) < 0.05


def test_laser_scan_round_trip():
    s = LaserScan(np.array([0.0, 1.0]), np.array([1.5, np.inf]), Pose2D(1, 2, 0.5), 0.17, 3.0, 0.15, 12.0)
    t = LaserScan.from_dict(json.loads(json.dumps(s.to_dict())))
    assert np.array_equal(t.ranges_m, s.ranges_m) and t.pose == s.pose
    assert t.points_world().shape == (1, 2)
