"""The wire format: multipart messages with numpy payloads, bounded checks, and typed value round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.types import CameraIntrinsics, JointState, Pose2D, RGBDFrame
from robots import wire
from robots.protocol import MotionResult, RobotObservation

LIMITS = wire.Limits(max_bytes=1 << 20)


def test_round_trip_with_arrays():
    arrays = {"rgb": np.arange(24, dtype=np.uint8).reshape(2, 4, 3), "d": np.linspace(0, 1, 6, dtype=np.float32)}
    frames = wire.encode({"kind": "req", "cmd": "observe", "args": {}}, arrays)
    assert len(frames) == 3
    msg = wire.decode(frames, LIMITS)
    assert msg.header["cmd"] == "observe" and msg.header["v"] == wire.VERSION
    for name, a in arrays.items():
        np.testing.assert_array_equal(msg.arrays[name], a)
        assert msg.arrays[name].dtype == a.dtype and msg.arrays[name].flags.writeable


H = b'"v": 2, "nonce": "0123456789abcdef"'


@pytest.mark.parametrize(
    ("frames", "fragment"),
    [
        ([b"not json"], "not valid JSON"),
        ([b"[1, 2]"], "not a JSON object"),
        ([b'{"v": 99, "nonce": "0123456789abcdef", "ts": 1}'], "version"),
        ([b'{"v": 2, "ts": 1}'], "nonce"),
        ([b"{" + H + b', "ts": NaN}'], "NaN is not allowed"),
        ([b"{" + H + b', "ts": 1e400}'], "out of range"),
        ([b"{" + H + b', "ts": 1' + b"0" * 400 + b"}"], "out of range"),
        ([b"{" + H + b', "ts": "1"}'], "'ts'"),
        ([b"{" + H + b', "ts": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"], "nested more than"),
        ([b"{" + H + b', "ts": 1, "arrays": [{"name": "a", "dtype": "object", "shape": [1]}]}', b"x"], "dtype"),
        ([b"{" + H + b', "ts": 1, "arrays": [{"name": "a", "dtype": "uint8", "shape": [5]}]}', b"xy"], "do not match"),
        ([b"{" + H + b', "ts": 1, "arrays": [{"name": "a", "dtype": "uint8", "shape": [9223372036854775808, 0]}]}',
          b""], "bad shape"),
        ([b"{" + H + b', "ts": 1, "arrays": [{"name": "a", "dtype": "float64", "shape": [65536, 65536, 65536]}]}',
          b""], "exceeds the limit"),
        ([b"{" + H + b', "ts": 1, "arrays": []}', b"extra"], "payloads"),
        ([], "empty"),
    ],
)
def test_malformed_messages_raise_wire_errors(frames, fragment):
    with pytest.raises(wire.WireError, match=fragment):
        wire.decode(frames, LIMITS)


def test_oversized_messages_are_rejected_before_parsing():
    with pytest.raises(wire.WireError) as info:
        wire.decode([b"x" * 2000], wire.Limits(max_bytes=1000))
    assert info.value.code == "too_large"
    with pytest.raises(wire.WireError) as info:
        wire.decode([b"{}"] * 20, LIMITS)
    assert info.value.code == "too_large"


@pytest.mark.parametrize("bad", [
    {"frame": {}}, {"frame": {"T_world_cam": [[1e400] * 4] * 4}}, {"frame": "x"}, None,
])
def test_invalid_observation_replies_raise_wire_errors(bad):
    with pytest.raises(wire.WireError):
        wire.observation_from_wire(bad, {"rgb": np.zeros((2, 2, 3), np.uint8), "depth_m": np.zeros((2, 2), np.float32)})


def test_observation_and_motion_round_trip():
    intr = CameraIntrinsics(50.0, 51.0, 15.5, 19.5, 32, 40)
    T = np.eye(4)
    T[:3, 3] = [1.0, 2.0, 1.3]
    frame = RGBDFrame(rgb=np.full((40, 32, 3), 7, np.uint8), depth_m=np.full((40, 32), 1.25, np.float32),
                      intrinsics=intr, T_world_cam=T, timestamp=12.5, index=3,
                      instance_ids=np.arange(40 * 32, dtype=np.int32).reshape(40, 32))
    obs = RobotObservation(frame, Pose2D(1.0, -2.0, 0.5), JointState(lift_m=0.9, gripper_m=0.05), holding=True)
    result, arrays = wire.observation_to_wire(obs)
    frames = wire.encode({"kind": "rep", "ok": True, "result": result}, arrays)
    msg = wire.decode(frames, wire.Limits(max_bytes=1 << 24))
    back = wire.observation_from_wire(msg.header["result"], msg.arrays)
    assert back.base_pose == obs.base_pose and back.joints == obs.joints and back.holding is True
    assert back.frame.intrinsics == intr and back.frame.index == 3
    np.testing.assert_array_equal(back.frame.T_world_cam, T)
    np.testing.assert_array_equal(back.frame.instance_ids, frame.instance_ids)
    np.testing.assert_array_equal(back.frame.depth_m, frame.depth_m)

    m = MotionResult(False, "blocked", Pose2D(0.1, 0.2, 0.3), JointState(arm_m=0.2))
    assert wire.motion_from_dict(json.loads(json.dumps(wire.motion_to_dict(m)))) == m
