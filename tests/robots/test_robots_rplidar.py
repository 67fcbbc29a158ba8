"""The real Stretch's lidar path: rplidar-roboticia over a synthetic A1 serial stream (robots.rplidar_scanner)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import rplidar
import serial
from fake_camera import FakeHeadCamera
from fake_rplidar_serial import FakeLidarSerial
from fake_stretch_body import make_module
from stretch_fixtures import fast_config

from core.types import Pose2D
from robots.rplidar_scanner import RPLidarConfig, RPLidarReader, bin_turn
from robots.stretch_body_backend import StretchBodyRobot


def _room(angle_deg: float) -> float:
    """A wall 1 m away dead ahead of the A1 (raw 0 deg), nothing behind it (raw 170-190), 2.5 m elsewhere."""
    if angle_deg <= 10 or angle_deg >= 350:
        return 1000.0
    if 170 <= angle_deg <= 190:
        return 0.0
    return 2500.0


@pytest.fixture
def fake_port(monkeypatch):
    monkeypatch.setattr(rplidar.serial, "Serial", FakeLidarSerial)
    monkeypatch.setattr(FakeLidarSerial, "instances", [])
    monkeypatch.setattr(FakeLidarSerial, "distance_mm", staticmethod(_room))
    monkeypatch.setattr(FakeLidarSerial, "fail_after_turns", None)
    return FakeLidarSerial


def _wait_ok(reader: RPLidarReader, timeout_s: float = 10.0) -> None:
    t0 = time.monotonic()
    while reader.status != "ok":
        assert time.monotonic() - t0 < timeout_s, reader.status
        time.sleep(0.02)


def test_scans_from_the_serial_stream_land_in_the_base_frame(fake_port):
    with RPLidarReader(RPLidarConfig(port="/dev/fake-lrf")) as reader:
        _wait_ok(reader)
        scan = reader.scan(Pose2D(1.0, 2.0, 0.0))
    port = fake_port.instances[0]
    assert port.port == "/dev/fake-lrf" and port.dtr_log[0] is False and port.dtr_log[-1] is True  # motor on, off
    assert len(scan.ranges_m) == 360 and scan.min_m == 0.15 and scan.max_m == 12.0
    pts = scan.points_world()
    # the A1's 0 degrees is the base's forward direction on a Stretch (URDF laser yaw pi, rplidar_ros angles)
    near = pts[np.linalg.norm(pts - [1.004, 2.0], axis=1) < 1.2]
    assert len(near) >= 15
    assert np.allclose(near[:, 0].max(), 2.004, atol=0.02) and np.all(np.abs(near[:, 1] - 2.0) < 0.2)
    # raw 90 deg (clockwise) is the robot's right: -y in the world for a base facing +x
    right = scan.angles_rad + scan.pose.theta
    k = int(np.argmin(np.abs(np.remainder(right + math.pi / 2 + math.pi, 2 * math.pi) - math.pi)))
    assert scan.ranges_m[k] == pytest.approx(2.5, abs=0.01)
    assert 15 <= int(np.isinf(scan.ranges_m).sum()) <= 25  # the 21 bins with no return behind the lidar
    assert fake_port.instances[0].closed  # close() stopped the motor and released the port


def test_a_port_that_cannot_be_opened_is_reported_not_faked(monkeypatch):
    def refuse(*_a, **_k):
        raise serial.SerialException("[Errno 2] could not open port /dev/none")

    monkeypatch.setattr(rplidar.serial, "Serial", refuse)
    with RPLidarReader(RPLidarConfig(port="/dev/none", retry_s=0.05)) as reader:
        t0 = time.monotonic()
        while "cannot open" not in reader.status:
            assert time.monotonic() - t0 < 5, reader.status
            time.sleep(0.02)
        assert "cannot open the lidar on /dev/none" in reader.status and reader.scan(Pose2D(0, 0, 0)) is None


def test_stale_scans_are_not_returned(fake_port):
    now = [0.0]
    reader = RPLidarReader(RPLidarConfig(max_age_s=0.5), clock=lambda: now[0])
    with reader:
        _wait_ok(reader)
        reader.close()  # no new turns from here on
        assert reader.scan(Pose2D(0, 0, 0)) is not None
        now[0] += 2.0
        assert reader.scan(Pose2D(0, 0, 0)) is None and "s old" in reader.status


def test_an_unplugged_lidar_is_reopened(fake_port):
    fake_port.fail_after_turns = 3
    with RPLidarReader(RPLidarConfig(retry_s=0.05)) as reader:
        t0 = time.monotonic()
        while len(fake_port.instances) < 3:
            assert time.monotonic() - t0 < 10, reader.status
            time.sleep(0.02)
        assert reader.turns >= 4
        _wait_ok(reader)  # scans flow again after the reconnect


def test_binning_keeps_the_nearest_return_and_drops_out_of_range():
    cfg = RPLidarConfig()
    angles, ranges = bin_turn([(10, 0.2, 3000.0), (10, 0.4, 1200.0), (10, 90.0, 100.0), (0, 45.0, 20000.0)], cfg)
    k0 = int(np.argmin(np.abs(angles - math.pi))) if np.any(np.isclose(angles, math.pi)) else 0
    assert ranges[k0] == pytest.approx(1.2)  # raw ~0 deg -> laser angle pi (= -pi, bin 0); nearest kept
    assert np.isinf(ranges).sum() == 359  # 0.1 m is below min_m, 20 m beyond max_m


def test_the_backend_puts_the_scan_in_every_observation(fake_port):
    reader = RPLidarReader(RPLidarConfig())
    robot = StretchBodyRobot(fast_config(map_T_odom=(1.0, 2.0, 0.0)), camera=FakeHeadCamera(),
                             body_module=make_module(speedup=8.0), lidar=reader)
    robot.connect()
    try:
        _wait_ok(reader)
        obs = robot.observe()
        assert obs.scan is not None and obs.scan.pose.distance_to(Pose2D(1.004, 2.0, 0.0)) < 1e-6
        assert math.isclose(abs(obs.scan.pose.theta), math.pi, abs_tol=1e-9)
    finally:
        robot.disconnect()
    assert reader.status != "ok" or fake_port.instances[-1].closed
