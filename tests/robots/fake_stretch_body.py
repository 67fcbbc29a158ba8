"""A stand-in for the `stretch_body` package at the serial boundary: joints move at their commanded speeds
over (real) time, steppers start on push_command(), Dynamixels at once. It records every call.

Use: `make_module()` returns an object with `.robot.Robot` like the stretch_body package; `module.instances`
lists the robots it created.
"""

from __future__ import annotations

import math
import threading
import time
from types import SimpleNamespace


class Axis:
    """One joint moving at constant speed towards a target; optional `block_at` stops it there (contact)."""

    def __init__(self, pos: float, default_v: float, block_at: float | None = None, speedup: float = 1.0,
                 block_closing_only: bool = False) -> None:
        self.speedup = speedup
        self.block_closing_only = block_closing_only
        self.p0 = pos
        self.target = pos
        self.v = default_v
        self.t0 = time.monotonic()
        self.default_v = default_v
        self.block_at = block_at

    def pos(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        d = self.target - self.p0
        travel = min(abs(d), self.v * self.speedup * max(0.0, now - self.t0))
        p = self.p0 + math.copysign(travel, d)
        blocks = self.block_at is not None and (not self.block_closing_only or d < 0)
        if blocks and min(self.p0, p) < self.block_at < max(self.p0, p):
            p = self.block_at
        return p

    def moving(self) -> bool:
        return abs(self.pos() - self.target) > 1e-9 and (self.block_at is None or abs(self.pos() - self.block_at) > 1e-9)

    def command(self, target: float, v: float | None) -> None:
        now = time.monotonic()
        self.p0 = self.pos(now)
        self.target = target
        self.v = v if v is not None else self.default_v
        self.t0 = now

    def halt(self) -> None:
        self.command(self.pos(), None)


class _Recorder:
    def __init__(self, robot: FakeStretchRobot, name: str) -> None:
        self._robot = robot
        self._name = name

    def _log(self, method: str, *args, **kwargs) -> None:
        self._robot.calls.append((time.monotonic(), f"{self._name}.{method}", args, kwargs))


class FakeBase(_Recorder):
    def __init__(self, robot: FakeStretchRobot) -> None:
        super().__init__(robot, "base")
        self.x = self.y = self.theta = 0.0
        self.motion: tuple[str, Axis] | None = None
        self.pending: tuple[str, float, float | None] | None = None

    def translate_by(self, x_m, v_m=None, a_m=None):
        self._log("translate_by", x_m, v_m=v_m, a_m=a_m)
        self.pending = ("translate", float(x_m), v_m)

    def rotate_by(self, x_r, v_r=None, a_r=None):
        self._log("rotate_by", x_r, v_r=v_r, a_r=a_r)
        self.pending = ("rotate", float(x_r), v_r)

    def set_velocity(self, v_m, w_r, a=None):
        self._log("set_velocity", v_m, w_r)
        if v_m == 0 and w_r == 0:
            self._robot.halt_times.append(time.monotonic())
            self._freeze()
            self.pending = None

    def _freeze(self) -> None:
        self.x, self.y, self.theta = self.pose()
        self.motion = None

    def push(self) -> None:
        if self.pending is None:
            return
        kind, amount, v = self.pending
        self._freeze()
        axis = Axis(0.0, 0.1 if kind == "translate" else 0.3, self._robot.base_block_at if kind == "translate" else None,
                    self._robot.speedup)
        axis.command(amount, v)
        self.motion = (kind, axis)
        self.pending = None

    def pose(self) -> tuple[float, float, float]:
        if self.motion is None:
            return self.x, self.y, self.theta
        kind, axis = self.motion
        s = axis.pos()
        if kind == "translate":
            return self.x + s * math.cos(self.theta), self.y + s * math.sin(self.theta), self.theta
        return self.x, self.y, self.theta + s


class FakeStepper(_Recorder):
    def __init__(self, robot: FakeStretchRobot, name: str, pos: float, block_at: float | None = None) -> None:
        super().__init__(robot, name)
        self.axis = Axis(pos, 0.1, block_at, robot.speedup)
        self.pending = None

    def move_to(self, x_m, v_m=None, a_m=None, **kwargs):
        self._log("move_to", x_m, v_m=v_m, a_m=a_m)
        self.pending = (float(x_m), v_m)

    def push(self) -> None:
        if self.pending is not None:
            self.axis.command(*self.pending)
            self.pending = None


class FakeDynamixelGroup(_Recorder):
    def __init__(self, robot: FakeStretchRobot, name: str, joints: dict[str, Axis]) -> None:
        super().__init__(robot, name)
        self.joints = joints

    def move_to(self, joint, x_r, v_r=None, a_r=None):
        self._log("move_to", joint, x_r, v_r=v_r, a_r=a_r)
        self.joints[joint].command(float(x_r), v_r)


class FakeStretchRobot:
    """Mimics stretch_body.robot.Robot: startup/stop/is_homed/home/get_status/push_command and devices."""

    def __init__(self, homed: bool = True, lift_block_at: float | None = None, gripper_block_pct: float | None = None,
                 base_block_at: float | None = None, speedup: float = 1.0) -> None:
        self.speedup = speedup
        self.calls: list = []
        self.halt_times: list[float] = []
        self.homed = homed
        self.started = False
        self.stopped = False
        self.base_block_at = base_block_at
        self.lock = threading.RLock()
        self.base = FakeBase(self)
        self.lift = FakeStepper(self, "lift", 0.6, lift_block_at)
        self.arm = FakeStepper(self, "arm", 0.0)
        self.end_of_arm = FakeDynamixelGroup(self, "end_of_arm", {
            "wrist_yaw": Axis(0.0, 1.0, None, speedup), "wrist_pitch": Axis(0.0, 1.0, None, speedup),
            "wrist_roll": Axis(0.0, 1.0, None, speedup),
            "stretch_gripper": Axis(0.0, 60.0, gripper_block_pct, speedup, True),  # percent per second
        })
        self.head = FakeDynamixelGroup(self, "head", {"head_pan": Axis(0.0, 1.0, None, speedup),
                                                      "head_tilt": Axis(0.0, 1.0, None, speedup)})

    def startup(self) -> bool:
        self.started = True
        return True

    def stop(self) -> None:
        self.stopped = True

    def is_homed(self) -> bool:
        return self.homed

    def home(self) -> None:
        self.calls.append((time.monotonic(), "home", (), {}))
        self.homed = True

    def push_command(self) -> None:
        with self.lock:
            self.calls.append((time.monotonic(), "push_command", (), {}))
            self.base.push()
            self.lift.push()
            self.arm.push()

    def get_status(self) -> dict:
        with self.lock:
            x, y, th = self.base.pose()
            eoa = {k: {"pos": a.pos(), "vel": 0.0} for k, a in self.end_of_arm.joints.items()}
            eoa["stretch_gripper"]["pos_pct"] = eoa["stretch_gripper"]["pos"]
            return {
                "base": {"x": x, "y": y, "theta": th},
                "lift": {"pos": self.lift.axis.pos(), "motor": {"is_moving": self.lift.axis.moving()}},
                "arm": {"pos": self.arm.axis.pos(), "motor": {"is_moving": self.arm.axis.moving()}},
                "end_of_arm": eoa,
                "head": {k: {"pos": a.pos()} for k, a in self.head.joints.items()},
            }

    def commands(self, name: str) -> list[tuple]:
        return [c for c in self.calls if c[1] == name]


def make_module(**robot_kwargs) -> SimpleNamespace:
    """An object shaped like the stretch_body package: module.robot.Robot() builds a FakeStretchRobot."""
    module = SimpleNamespace(instances=[])

    def factory() -> FakeStretchRobot:
        r = FakeStretchRobot(**robot_kwargs)
        module.instances.append(r)
        return r

    module.robot = SimpleNamespace(Robot=factory)
    return module
