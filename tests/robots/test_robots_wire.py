"""The wire format: signed multipart messages with numpy payloads, and typed value round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import InputError
from core.types import CameraIntrinsics, JointState, Pose2D, RGBDFrame
from robots import wire
from robots.protocol import MotionResult, RobotObservation

KEY = b"0123456789abcdef0123456789abcdef"


def test_round_trip_with_arrays_and_signature():
    arrays = {"rgb": np.arange(24, dtype=np.uint8).reshape(2, 4, 3), "d": np.linspace(0, 1, 6, dtype=np.float32)}
    frames = wire.encode({"kind": "req", "cmd": "observe", "args": {}}, arrays, KEY)
    assert len(frames) == 4 and len(frames[-1]) == 32
    msg = wire.decode(frames, KEY, 1 << 20)
    assert msg.header["cmd"] == "observe" and msg.header["v"] == wire.VERSION
    for name, a in arrays.items():
        np.testing.assert_array_equal(msg.arrays[name], a)
        assert msg.arrays[name].dtype == a.dtype and msg.arrays[name].flags.writeable


@pytest.mark.parametrize("tamper", ["header", "payload", "mac", "wrong_key", "unsigned"])
def test_tampered_or_unsigned_messages_fail_authentication(tamper):
    frames = wire.encode({"kind": "req", "cmd": "stop", "args": {}}, {"a": np.zeros(3, np.float32)}, KEY)
    if tamper == "header":
        h = json.loads(frames[0])
        h["cmd"] = "move_arm"
        frames[0] = json.dumps(h).encode()
    elif tamper == "payload":
        frames[1] = b"\x01" + frames[1][1:]
    elif tamper == "mac":
        frames[-1] = bytes(32)
    elif tamper == "unsigned":
        frames = wire.encode({"kind": "req", "cmd": "stop", "args": {}}, None, None)
    key = b"another-key-of-enough-length-000" if tamper == "wrong_key" else KEY
    with pytest.raises(wire.WireError) as info:
        wire.decode(frames, key, 1 << 20)
    assert info.value.code == "auth"


@pytest.mark.parametrize(
    ("frames", "fragment"),
    [
        ([b"not json", b""], "not JSON"),
        ([b"[1, 2]", b""], "not a JSON object"),
        ([b'{"v": 99, "nonce": "n", "ts": 1}', b""], "version"),
        ([b'{"v": 1, "ts": 1}', b""], "nonce"),
        ([b'{"v": 1, "nonce": "n", "ts": 1, "arrays": [{"name": "a", "dtype": "object", "shape": [1]}]}', b"x", b""],
         "dtype"),
        ([b'{"v": 1, "nonce": "n", "ts": 1, "arrays": [{"name": "a", "dtype": "uint8", "shape": [5]}]}', b"xy", b""],
         "do not match"),
        ([b'{"v": 1, "nonce": "n", "ts": 1, "arrays": []}', b"extra", b""], "payloads"),
        ([b"{}"], "fewer than 2 parts"),
    ],
)
def test_malformed_messages_raise_wire_errors(frames, fragment):
    with pytest.raises(wire.WireError, match=fragment):
        wire.decode(frames, None, 1 << 20)


def test_oversized_message_is_rejected_before_parsing():
    with pytest.raises(wire.WireError) as info:
        wire.decode([b"x" * 2000, b""], None, 1000)
    assert info.value.code == "too_large"


def test_observation_and_motion_round_trip():
    intr = CameraIntrinsics(50.0, 51.0, 15.5, 19.5, 32, 40)
    T = np.eye(4)
    T[:3, 3] = [1.0, 2.0, 1.3]
    frame = RGBDFrame(rgb=np.full((40, 32, 3), 7, np.uint8), depth_m=np.full((40, 32), 1.25, np.float32),
                      intrinsics=intr, T_world_cam=T, timestamp=12.5, index=3,
                      instance_ids=np.arange(40 * 32, dtype=np.int32).reshape(40, 32))
    obs = RobotObservation(frame, Pose2D(1.0, -2.0, 0.5), JointState(lift_m=0.9, gripper_m=0.05), holding=True)
    result, arrays = wire.observation_to_wire(obs)
    frames = wire.encode({"kind": "rep", "ok": True, "result": result}, arrays, KEY)
    msg = wire.decode(frames, KEY, 1 << 24)
    back = wire.observation_from_wire(msg.header["result"], msg.arrays)
    assert back.base_pose == obs.base_pose and back.joints == obs.joints and back.holding is True
    assert back.frame.intrinsics == intr and back.frame.index == 3
    np.testing.assert_array_equal(back.frame.T_world_cam, T)
    np.testing.assert_array_equal(back.frame.instance_ids, frame.instance_ids)
    np.testing.assert_array_equal(back.frame.depth_m, frame.depth_m)

    m = MotionResult(False, "blocked", Pose2D(0.1, 0.2, 0.3), JointState(arm_m=0.2))
    assert wire.motion_from_dict(json.loads(json.dumps(wire.motion_to_dict(m)))) == m


def test_load_key(tmp_path, monkeypatch):
    monkeypatch.delenv(wire.KEY_ENV, raising=False)
    assert wire.load_key() is None
    monkeypatch.setenv(wire.KEY_ENV, "k" * 20)
    assert wire.load_key() == b"k" * 20
    f = tmp_path / "robot.key"
    f.write_text(wire.generate_key() + "\n")
    assert len(wire.load_key(f)) == 64
    f.write_text("short")
    with pytest.raises(InputError, match="too short"):
        wire.load_key(f)
    with pytest.raises(InputError, match="cannot read"):
        wire.load_key(tmp_path / "missing.key")
