"""What the robot server keeps per motion (a job), per parked `wait` and per observe handed to the camera,
and how a motion command becomes a call on the Robot: its arguments checked against the robot-side limits
(robots.motion_limits), the call itself, and the result a client gets when the job was stopped."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from core.errors import OvmmError
from robots import motion_limits, wire
from robots.protocol import MotionResult, Robot

log = logging.getLogger("robots.server")


class _Job:
    def __init__(self, job_id: int, cmd: str, owner: bytes) -> None:
        self.id = job_id
        self.cmd = cmd
        self.owner = owner  # routing id of the connection that started it
        self.fed_at = time.monotonic()  # last accepted heartbeat from the owner
        self.done = threading.Event()
        self.result: MotionResult | None = None
        self.error: str | None = None
        self.stopped_by: str | None = None
        self.stop_sent_at = 0.0  # when robot.stop() was last called for it

    def run(self, robot: Robot, args: dict[str, Any], robot_lock: threading.Lock, wake) -> None:
        """The job's thread: the motion (unless stopped before it began), then `done` and `wake()`."""
        try:
            with robot_lock:  # an observe being rendered finishes first
                if self.stopped_by is not None:  # stopped (a stop request, the watchdog) before it began
                    self.result = MotionResult(False, "stopped before it started")
                else:
                    self.result = run_motion(robot, self.cmd, args)
        except OvmmError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported to the client, logged here
            log.exception("%s failed", self.cmd)
            self.error = f"{self.cmd} failed: {type(exc).__name__}: {exc}"
        finally:
            self.done.set()
            wake()

    def outcome(self) -> MotionResult:
        """The motion's result as the client gets it: a stopped motion that failed says who stopped it."""
        result = self.result if isinstance(self.result, MotionResult) else MotionResult(False, "no result")
        if self.stopped_by is not None and not result.success:
            result = MotionResult(False, f"stopped by {self.stopped_by}: {result.reason}".rstrip(": "),
                                  result.base_pose, result.joints)
        return result


class _Wait:
    """A `wait` for a running job, answered by the network thread when the job ends or at `due`."""

    __slots__ = ("nonce", "job", "peer", "due", "envelope")

    def __init__(self, nonce: str, job: _Job, peer: bytes, due: float) -> None:
        self.nonce, self.job, self.peer, self.due = nonce, job, peer, due
        self.envelope: list[bytes] = []


class _Observe:
    """An observe request handed to the camera thread."""

    __slots__ = ("nonce",)

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce


class RequestFreshness:
    """Requests older or newer than the clock skew allows, and replayed nonces, are refused (wire.WireError)."""

    def __init__(self, max_clock_skew_s: float) -> None:
        self.skew = max_clock_skew_s
        self._nonces: dict[str, float] = {}

    def check(self, header: dict[str, Any]) -> None:
        now = time.time()
        skew = self.skew
        ts = wire.finite_number(header["ts"])  # decode() made sure it is finite
        if ts is None or abs(now - ts) > skew:
            off = f"{now - ts:+.1f} s" if ts is not None else "not a finite time"
            raise wire.WireError(f"request timestamp is {off} off this server's clock (limit {skew:.0f} s): "
                                 "synchronise the clocks (NTP)", "stale")
        if len(self._nonces) > 10000 or (self._nonces and now - next(iter(self._nonces.values())) > 2 * skew):
            self._nonces = {n: t for n, t in self._nonces.items() if now - t <= 2 * skew}
        if header["nonce"] in self._nonces:
            raise wire.WireError("request nonce was already used (replay)", "replay")
        self._nonces[header["nonce"]] = now


def checked_args(robot: Robot, cmd: str, args: dict[str, Any],
                 limits: motion_limits.MotionLimits) -> dict[str, Any]:
    """The motion command's arguments if they are within the robot-side limits (waypoints split);
    motion_limits.LimitError else."""
    if cmd == "move_base_to":
        motion_limits.check_move_base(robot.get_base_pose(), args["goal"], args.get("tolerance_m", 0.05),
                                      args.get("tolerance_rad", 0.08), limits)
    elif cmd == "follow_waypoints":
        args = {**args, "waypoints": motion_limits.plan_waypoints(robot.get_base_pose(), args["waypoints"], limits)}
    elif cmd == "move_arm":
        motion_limits.check_arm(args)
    elif cmd == "set_head":
        motion_limits.check_head(args["pan"], args["tilt"])
    elif cmd == "set_gripper":
        motion_limits.check_gripper(args["aperture_m"])
    return args


def run_motion(robot: Robot, cmd: str, args: dict[str, Any]) -> MotionResult:
    """Call the Robot for a checked motion command (robots.command_args.MOTION_COMMANDS)."""
    if cmd == "move_base_to":
        return robot.move_base_to(args["goal"], **{k: v for k, v in args.items() if k != "goal"})
    if cmd == "follow_waypoints":
        return robot.follow_waypoints(args["waypoints"])
    if cmd == "set_head":
        return robot.set_head(args["pan"], args["tilt"])
    if cmd == "move_arm":
        return robot.move_arm(**args)
    return robot.set_gripper(args["aperture_m"])


def mark_delayed(reply: list[bytes], delay_s: float) -> list[bytes]:
    """An injected late reply says so in its result (`injected_fault`), so a benchmark can tell the bridge's
    own latency from the fault's."""
    header = json.loads(reply[0])
    if isinstance(header.get("result"), dict):
        header["result"]["injected_fault"] = f"reply delayed {delay_s:.3f} s"
    return [json.dumps(header, allow_nan=False).encode("utf-8"), *reply[1:]]
