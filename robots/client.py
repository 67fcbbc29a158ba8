"""RobotClient: the Robot protocol over the network, talking to `ovmm robot-server` (robots.server).

    with RobotClient("stretch.local", 5555, key=load_key()) as robot:
        obs = robot.observe()

Motion commands start a job on the server and poll it with `wait` requests every `heartbeat_s`; those
requests are the heartbeat the server's watchdog expects, so a client that dies stops the robot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import RobotError
from core.types import JointState, Pose2D
from robots import wire
from robots.protocol import MotionResult, Robot, RobotObservation

log = logging.getLogger(__name__)


@dataclass
class ClientConfig:
    timeout_s: float = 5.0  # one request/reply
    observe_timeout_s: float = 15.0  # a camera frame over the network
    heartbeat_s: float = 0.1  # poll period while a motion runs (must be well under the server's watchdog_s)
    motion_timeout_s: float = 180.0  # give up (and stop the robot) after this long
    max_reply_bytes: int = 256 << 20


class RobotClient(Robot):
    """A Robot whose commands run on a remote robot-server."""

    name = "remote"

    def __init__(self, host: str = "127.0.0.1", port: int = 5555, key: bytes | None = None,
                 config: ClientConfig | None = None) -> None:
        self.host = host
        self.port = int(port)
        self.key = key
        self.config = config or ClientConfig()
        self.address = f"tcp://{host}:{self.port}"
        self.server_info: dict[str, Any] = {}
        self._ctx = None
        self._sock = None

    # --- connection ---

    def _open(self) -> None:
        try:
            import zmq  # noqa: PLC0415 - optional dependency (client extra)
        except ImportError as exc:
            raise RobotError("the robot client needs pyzmq: pip install 'ovmm[client]'") from exc
        if self._ctx is None:
            self._ctx = zmq.Context()
        sock = self._ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, self.config.max_reply_bytes)
        if ":" in self.host:
            sock.setsockopt(zmq.IPV6, 1)
        host = f"[{self.host}]" if ":" in self.host else self.host
        sock.connect(f"tcp://{host}:{self.port}")
        self._sock = sock

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None

    def connect(self) -> None:
        if self._sock is not None:
            return
        self._open()
        try:
            self.server_info, _ = self.request("hello")
        except BaseException:
            self._release()
            raise
        self.name = f"remote:{self.server_info.get('name', 'robot')}"
        watchdog = float(self.server_info.get("watchdog_s", 0.5))
        if self.config.heartbeat_s > watchdog / 2:
            log.warning("heartbeat %.2f s is too slow for the server's watchdog (%.2f s)", self.config.heartbeat_s,
                        watchdog)

    def disconnect(self) -> None:
        if self._sock is not None:
            try:
                self.request("stop", timeout_s=min(1.0, self.config.timeout_s))
            except RobotError as exc:
                log.warning("could not stop the robot while disconnecting: %s", exc)
        self._release()

    def _release(self) -> None:
        self._close_socket()
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None

    # --- requests ---

    def request(self, cmd: str, args: dict[str, Any] | None = None,
                timeout_s: float | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Send one request; returns (result, arrays). Raises RobotError on timeout or an error reply."""
        import zmq  # noqa: PLC0415

        if self._sock is None:
            self._open()
        timeout = self.config.timeout_s if timeout_s is None else timeout_s
        nonce = wire.new_nonce()
        frames = wire.encode({"kind": "req", "cmd": cmd, "args": args or {}, "nonce": nonce}, None, self.key)
        try:
            self._sock.send_multipart(frames)
            if not self._sock.poll(int(timeout * 1000)):
                raise TimeoutError
            reply_frames = self._sock.recv_multipart()
        except (TimeoutError, zmq.ZMQError) as exc:
            # A REQ socket that missed its reply cannot send again: start a fresh one.
            self._close_socket()
            what = "did not answer" if isinstance(exc, TimeoutError) else f"failed ({exc}) and did not answer"
            raise RobotError(f"robot at {self.address} {what} within {timeout:.1f} s") from None
        try:
            reply = wire.decode(reply_frames, self.key, self.config.max_reply_bytes)
        except wire.WireError as exc:
            unverified = self._unverified_error(reply_frames) if exc.code == "auth" else None
            if unverified:  # e.g. the server refusing our key: it cannot be verified, but it is only an error
                raise RobotError(f"robot at {self.address} refused {cmd}: {unverified}") from None
            raise RobotError(f"robot at {self.address} sent an invalid reply ({exc}); check that both sides use "
                             "the same key") from None
        h = reply.header
        if not h.get("ok", False):
            raise RobotError(f"robot at {self.address} refused {cmd}: {h.get('error', 'unknown error')}")
        if h.get("re") != nonce:
            raise RobotError(f"robot at {self.address} answered a different request (stale or replayed reply)")
        result = h.get("result")
        return (result if isinstance(result, dict) else {}), reply.arrays

    def _unverified_error(self, frames: list[bytes]) -> str | None:
        try:
            h = wire.decode(frames, None, self.config.max_reply_bytes).header
        except wire.WireError:
            return None
        return str(h.get("error")) if h.get("ok") is False and h.get("code") == "auth" else None

    def _motion(self, cmd: str, args: dict[str, Any]) -> MotionResult:
        result, _ = self.request(cmd, args)
        job = result["job"]
        deadline = time.monotonic() + self.config.motion_timeout_s
        while True:
            status, _ = self.request("wait", {"job": job, "max_wait_s": self.config.heartbeat_s})
            if status.get("done"):
                return wire.motion_from_dict(status["motion"])
            if time.monotonic() > deadline:
                self.request("stop")
                return MotionResult(False, f"{cmd} did not finish within {self.config.motion_timeout_s:.0f} s; "
                                           "the robot was stopped")

    # --- the Robot protocol ---

    def observe(self) -> RobotObservation:
        result, arrays = self.request("observe", timeout_s=self.config.observe_timeout_s)
        return wire.observation_from_wire(result, arrays)

    def get_base_pose(self) -> Pose2D:
        return Pose2D.from_list(self.request("get_base_pose")[0]["base_pose"])

    def get_joints(self) -> JointState:
        return wire.joints_from_dict(self.request("get_joints")[0]["joints"])

    def move_base_to(self, goal: Pose2D, tolerance_m: float = 0.05, tolerance_rad: float = 0.08) -> MotionResult:
        return self._motion("move_base_to", {"goal": goal.to_list(), "tolerance_m": tolerance_m,
                                             "tolerance_rad": tolerance_rad})

    def follow_waypoints(self, waypoints: Sequence[Pose2D]) -> MotionResult:
        return self._motion("follow_waypoints", {"waypoints": [w.to_list() for w in waypoints]})

    def set_head(self, pan: float, tilt: float) -> MotionResult:
        return self._motion("set_head", {"pan": float(pan), "tilt": float(tilt)})

    def move_arm(self, lift_m: float | None = None, arm_m: float | None = None, wrist_yaw: float | None = None,
                 wrist_pitch: float | None = None, wrist_roll: float | None = None) -> MotionResult:
        args = {"lift_m": lift_m, "arm_m": arm_m, "wrist_yaw": wrist_yaw, "wrist_pitch": wrist_pitch,
                "wrist_roll": wrist_roll}
        return self._motion("move_arm", {k: float(v) for k, v in args.items() if v is not None})

    def set_gripper(self, aperture_m: float) -> MotionResult:
        return self._motion("set_gripper", {"aperture_m": float(aperture_m)})

    def stop(self) -> None:
        self.request("stop")

    def is_holding(self) -> bool | None:
        return self.request("is_holding")[0].get("holding")
