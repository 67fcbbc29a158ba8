"""Injected faults for the simulated robot and the bridge, selected per run with `--faults FILE.json`.

A `FaultConfig` (JSON object, every field optional, unknown fields refused) says which faults happen and
when, deterministically (counted calls, plus a seeded generator for the network):

- network (robot-server): `drop_reply_p` (a reply is never sent), `delay_reply_s` with `delay_reply_p`
  (a reply is late), `restart_after_requests` (the server closes its socket and binds again after
  `restart_down_s`, as if restarted mid-task; its running job is stopped and forgotten);
- camera: `camera_stops_after` (observe() fails from frame N+1 on), `stale_frames_after` (from frame N+1 on
  the same old frame comes back);
- motion: `base_stall_on` / `arm_fault_on` (the k-th base / arm motion, 1-based, stops short and fails);
- `runstop_on_motion` (the runstop is pressed during that motion and released `runstop_s` later; motions in
  between are refused);
- `battery_low_after_motions` (after N motions the battery is low: every further motion is refused).

`FaultyRobot` wraps any Robot with the robot-side faults; every injected fault stops the robot and answers
a failed MotionResult (or RobotError for the camera) whose reason names the fault on one line.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError, RobotError
from core.types import JointState, Pose2D
from robots.protocol import MotionResult, Robot, RobotObservation

FAULT_TAG = "injected fault"


@dataclass(frozen=True)
class FaultConfig:
    seed: int = 0
    drop_reply_p: float = 0.0
    delay_reply_p: float = 0.0
    delay_reply_s: float = 0.0
    restart_after_requests: int = 0
    restart_down_s: float = 0.5
    camera_stops_after: int = 0
    stale_frames_after: int = 0
    base_stall_on: tuple[int, ...] = ()
    arm_fault_on: tuple[int, ...] = ()
    runstop_on_motion: int = 0
    runstop_s: float = 1.0
    battery_low_after_motions: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("base_stall_on", "arm_fault_on"):
                if not isinstance(v, (list, tuple)) or not all(_count(x) and x > 0 for x in v):
                    raise ValueError(f"{f.name} must be a list of positive integers (1 = the first motion), got {v!r}")
                object.__setattr__(self, f.name, tuple(v))
            elif f.type == "int" or f.name == "seed":
                if not _count(v):
                    raise ValueError(f"{f.name} must be a non-negative integer (0: never), got {v!r}")
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{f.name} must be a finite non-negative number, got {v!r}")
        for name in ("drop_reply_p", "delay_reply_p"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} is a probability in [0, 1], got {getattr(self, name)!r}")
        if self.delay_reply_s > 30 or self.restart_down_s > 30 or self.runstop_s > 300:
            raise ValueError("delay_reply_s and restart_down_s must be at most 30 s, runstop_s at most 300 s")

    @property
    def network(self) -> bool:
        return bool(self.drop_reply_p or (self.delay_reply_p and self.delay_reply_s) or self.restart_after_requests)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def load_faults(path: str | Path | None) -> FaultConfig | None:
    """The FaultConfig in the JSON file `path` (None: no faults); InputError naming the problem otherwise."""
    if path is None or path == "":
        return None
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--faults {p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--faults {p}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"--faults {p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(f"--faults {p}: must hold a JSON object of fault settings")
    known = {f.name for f in fields(FaultConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"--faults {p}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        return FaultConfig(**data)
    except (TypeError, ValueError) as exc:
        raise InputError(f"--faults {p}: {exc}") from None


class NetworkFaults:
    """The server's network faults: decides per reply whether to drop or delay it, and when to restart."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = np.random.default_rng(config.seed)
        self.requests = 0
        self.dropped = 0
        self.delayed = 0
        self.restarts = 0
        self._restarted = False

    def on_reply(self) -> tuple[bool, float]:
        """(send it, delay in seconds) for the next reply."""
        self.requests += 1
        c = self.config
        if c.drop_reply_p and self._rng.random() < c.drop_reply_p:
            self.dropped += 1
            return False, 0.0
        if c.delay_reply_p and c.delay_reply_s and self._rng.random() < c.delay_reply_p:
            self.delayed += 1
            return True, c.delay_reply_s
        return True, 0.0

    def restart_due(self) -> bool:
        """True once, after `restart_after_requests` requests (one restart per run)."""
        n = self.config.restart_after_requests
        if n and not self._restarted and self.requests >= n:
            self._restarted = True
            self.restarts += 1
            return True
        return False


class FaultyRobot(Robot):
    """`inner` with the robot-side faults of `config` (camera, motion stall/fault, runstop, battery)."""

    def __init__(self, inner: Robot, config: FaultConfig) -> None:
        self.inner = inner
        self.config = config
        self.name = f"{inner.name}+faults"
        self.frames = 0
        self.base_motions = 0
        self.arm_motions = 0
        self.motions = 0
        self.injected: list[str] = []
        self._stale: RobotObservation | None = None
        self._runstop_until = 0.0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # world, realism, ... of the wrapped robot
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def runstopped(self) -> bool:
        return time.monotonic() < self._runstop_until

    def _fault(self, what: str) -> MotionResult:
        self.injected.append(what)
        try:
            self.inner.stop()
        finally:
            pose, joints = self.inner.get_base_pose(), self.inner.get_joints()
        return MotionResult(False, f"{what} ({FAULT_TAG}); the robot was stopped", pose, joints)

    def _motion(self, kind: str, run) -> MotionResult:
        with self._lock:
            c = self.config
            if self.runstopped:
                return self._fault(f"the runstop is pressed (released in {self._runstop_until - time.monotonic():.1f} s)")
            if c.battery_low_after_motions and self.motions >= c.battery_low_after_motions:
                return self._fault("battery low: motions refused until the robot is charged")
            self.motions += 1
            if kind == "base":
                self.base_motions += 1
            elif kind == "arm":
                self.arm_motions += 1
            if c.runstop_on_motion and self.motions == c.runstop_on_motion:
                self._runstop_until = time.monotonic() + c.runstop_s
                return self._fault(f"the runstop was pressed during the {kind} motion")
            if kind == "base" and self.base_motions in c.base_stall_on:
                return self._fault(f"the base stalled (base motion {self.base_motions})")
            if kind == "arm" and self.arm_motions in c.arm_fault_on:
                return self._fault(f"an arm motor faulted (arm motion {self.arm_motions})")
        return run()

    # --- the Robot protocol ---

    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    def observe(self) -> RobotObservation:
        c = self.config
        self.frames += 1
        if c.camera_stops_after and self.frames > c.camera_stops_after:
            self.injected.append("camera stopped")
            raise RobotError(f"the head camera stopped delivering frames after frame {c.camera_stops_after} "
                             f"({FAULT_TAG})")
        if c.stale_frames_after and self.frames > c.stale_frames_after and self._stale is not None:
            self.injected.append("stale frame")  # the old image with fresh odometry, as a frozen camera gives
            return replace(self._stale, base_pose=self.inner.get_base_pose(), joints=self.inner.get_joints())
        obs = self.inner.observe()
        if c.stale_frames_after and self.frames == c.stale_frames_after:
            self._stale = obs
        return obs

    def get_base_pose(self) -> Pose2D:
        return self.inner.get_base_pose()

    def get_joints(self) -> JointState:
        return self.inner.get_joints()

    def move_base_to(self, goal: Pose2D, tolerance_m: float = 0.05, tolerance_rad: float = 0.08) -> MotionResult:
        return self._motion("base", lambda: self.inner.move_base_to(goal, tolerance_m, tolerance_rad))

    def follow_waypoints(self, waypoints: Sequence[Pose2D]) -> MotionResult:
        return self._motion("base", lambda: self.inner.follow_waypoints(waypoints))

    def set_head(self, pan: float, tilt: float) -> MotionResult:
        return self._motion("head", lambda: self.inner.set_head(pan, tilt))

    def move_arm(self, lift_m: float | None = None, arm_m: float | None = None, wrist_yaw: float | None = None,
                 wrist_pitch: float | None = None, wrist_roll: float | None = None) -> MotionResult:
        return self._motion("arm", lambda: self.inner.move_arm(lift_m, arm_m, wrist_yaw, wrist_pitch, wrist_roll))

    def set_gripper(self, aperture_m: float) -> MotionResult:
        return self._motion("gripper", lambda: self.inner.set_gripper(aperture_m))

    def stop(self) -> None:
        self.inner.stop()

    def is_holding(self) -> bool | None:
        return self.inner.is_holding()


def is_stale(previous: RobotObservation | None, current: RobotObservation, moved_m: float = 0.05) -> bool:
    """True if `current` repeats `previous`'s camera image although the base moved more than `moved_m` in
    between (a camera that returns stale frames; a still robot may legitimately see the same image)."""
    if previous is None:
        return False
    a, b = previous.frame, current.frame
    same = a is b or (np.array_equal(a.depth_m, b.depth_m) and np.array_equal(a.rgb, b.rgb))
    pa, pb = previous.base_pose, current.base_pose
    return same and math.hypot(pb.x - pa.x, pb.y - pa.y) > moved_m
