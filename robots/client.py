"""RobotClient: the Robot protocol over the network, talking to `ovmm robot-server` (robots.server).

    with RobotClient("stretch.local", 5555, key=load_key("~/.ovmm/robot.key")) as robot:
        obs = robot.observe()

The connection is CURVE-encrypted and authenticated both ways (robots.transport): the client proves the
robot key's client key and accepts only a server that proves the server key, so a command is never sent
to a server without the key (the handshake fails first). Motion commands start a job on the server and
poll it with `wait` requests every `heartbeat_s`; those requests are the heartbeat of that job's watchdog,
so a client that dies stops the robot.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import RobotError
from core.types import JointState, Pose2D
from robots import wire
from robots.command_args import MAX_SAY_CHARS
from robots.keys import RobotKey, load_key
from robots.protocol import MotionResult, Robot, RobotObservation
from robots.speaker import SayResult
from robots.transport import client_socket

log = logging.getLogger(__name__)


@dataclass
class ClientConfig:
    timeout_s: float = 5.0  # one request/reply
    observe_timeout_s: float = 15.0  # a camera frame over the network
    heartbeat_s: float = 0.1  # poll period while a motion runs (must be well under the server's watchdog_s)
    motion_timeout_s: float = 180.0  # give up (and stop the robot) after this long
    max_reply_bytes: int = 256 << 20
    retries: int = 3
    """Requests that are safe to repeat (queries, wait, stop) are sent again this many times on a new
    connection when no reply comes (a dropped message, a restarted server); motion commands never are."""

    def __post_init__(self) -> None:
        for name in ("timeout_s", "observe_timeout_s", "heartbeat_s", "motion_timeout_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"ClientConfig.{name} must be a finite positive number of seconds, got {v!r}")


def _handshake_problem(monitor) -> str | None:
    """Why the CURVE/NULL handshake with the server failed, from the socket monitor's events (None: no failure)."""
    import zmq  # noqa: PLC0415
    from zmq.utils.monitor import recv_monitor_message  # noqa: PLC0415

    problem = None
    while monitor is not None and monitor.poll(0):
        try:
            ev = recv_monitor_message(monitor, zmq.NOBLOCK)
        except zmq.ZMQError:
            break
        if ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            problem = ("the handshake with the server failed: it refused this client's key (the two machines hold "
                       "different robot keys)")
        elif ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
            if ev["value"] == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
                problem = ("the handshake with the server failed: its security does not match this client's (one "
                           "side has a robot key, the other runs --insecure-loopback)")
            else:
                problem = ("the handshake with the server failed (the two machines hold different robot keys, or it "
                           "is not an ovmm robot-server)")
        elif ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL and problem is None:
            problem = ("the handshake with the server failed (the two machines hold different robot keys, one side "
                       "runs --insecure-loopback, or it is not an ovmm robot-server)")
    return problem


class RobotRefusal(RobotError):
    """The server answered with an error reply (`code` as in the wire format, e.g. "busy", "limit")."""

    def __init__(self, message: str, code: str, reason: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


RETRY_SAFE = frozenset({"hello", "heartbeat", "wait", "stop", "observe", "get_base_pose", "get_joints",
                        "is_holding"})


class RobotClient(Robot):
    """A Robot whose commands run on a remote robot-server."""

    name = "remote"

    def __init__(self, host: str = "127.0.0.1", port: int = 5555, key: RobotKey | None = None,
                 config: ClientConfig | None = None, insecure_loopback: bool = False) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise RobotError(f"robot port must be an integer in 1..65535, got {port!r}")
        from robots.server_config import is_loopback  # noqa: PLC0415

        if key is None and not insecure_loopback:
            key = load_key()  # the default key file; InputError saying how to make one
        if key is None and not is_loopback(host):
            raise RobotError(f"refusing to talk to {host} without a robot key (--insecure-loopback is for "
                             "127.0.0.1 only)")
        self.host = host
        self.port = port
        self.key = key
        self.config = config or ClientConfig()
        self.address = f"tcp://{host}:{self.port}"
        self.server_info: dict[str, Any] = {}
        self._ctx = None
        self._sock = None
        self._monitor = None
        self.reconnects = 0  # requests sent again on a new connection (no reply: dropped, server restarted)
        self._limits = wire.Limits(max_bytes=self.config.max_reply_bytes, max_header_bytes=1 << 20)

    # --- connection ---

    def _open(self) -> None:
        try:
            import zmq  # noqa: PLC0415 - optional dependency (client extra)
        except ImportError as exc:
            raise RobotError("the robot client needs pyzmq: pip install 'ovmm[client]'") from exc
        if self._ctx is None:
            self._ctx = zmq.Context()
        sock = client_socket(self._ctx, self.key, self.config.max_reply_bytes,
                             handshake_s=min(5.0, self.config.timeout_s))
        if ":" in self.host:
            sock.setsockopt(zmq.IPV6, 1)
        self._monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                                                | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        host = f"[{self.host}]" if ":" in self.host else self.host
        sock.connect(f"tcp://{host}:{self.port}")
        self._sock = sock

    def _close_socket(self) -> None:
        if self._sock is not None:
            try:
                self._sock.disable_monitor()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            self._sock.close(0)
            self._sock = None
        if self._monitor is not None:
            self._monitor.close(0)
            self._monitor = None

    def connect(self) -> None:
        if self._sock is not None:
            return
        self._open()
        try:
            self.server_info, _ = self.request("hello")
        except BaseException:
            self._release()
            raise
        self.name = f"remote:{str(self.server_info.get('name', 'robot'))[:40]}"
        watchdog = wire.finite_number(self.server_info.get("watchdog_s")) or 0.5
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
        """Send one request; returns (result, arrays). Raises RobotError on timeout or an error reply.
        A request in RETRY_SAFE that gets no reply is sent again on a fresh connection (config.retries)."""
        attempts = 1 + (self.config.retries if cmd in RETRY_SAFE else 0)
        for attempt in range(attempts):
            try:
                return self._request_once(cmd, args, timeout_s)
            except RobotError as exc:
                if isinstance(exc, RobotRefusal) or "handshake" in str(exc) or attempt + 1 >= attempts:
                    raise
                self.reconnects += 1
                log.warning("%s; reconnecting and sending %s again (%d/%d)", exc, cmd, attempt + 1,
                            self.config.retries)
                self._close_socket()
        raise AssertionError("unreachable")

    def _request_once(self, cmd: str, args: dict[str, Any] | None,
                      timeout_s: float | None) -> tuple[dict[str, Any], dict[str, Any]]:
        import zmq  # noqa: PLC0415

        if self._sock is None:
            self._open()
        timeout = self.config.timeout_s if timeout_s is None else timeout_s
        nonce = wire.new_nonce()
        frames = wire.encode({"kind": "req", "cmd": cmd, "args": args or {}, "nonce": nonce})
        problem = None
        try:
            self._sock.send_multipart(frames)
            deadline = time.monotonic() + timeout
            while not self._sock.poll(int(min(0.1, max(0.0, deadline - time.monotonic())) * 1000)):
                problem = _handshake_problem(self._monitor)
                if problem or time.monotonic() >= deadline:  # a failed handshake will not succeed on a retry
                    raise TimeoutError
            reply_frames = self._sock.recv_multipart()
        except (TimeoutError, zmq.ZMQError) as exc:
            problem = problem or _handshake_problem(self._monitor)
            self._close_socket()  # a REQ socket without its reply cannot send again  # a relaxed REQ socket may send again after a timeout; after an error, not
            if problem:
                raise RobotError(f"robot at {self.address}: {problem}; nothing was sent") from None
            what = "did not answer" if isinstance(exc, TimeoutError) else f"failed ({exc}) and did not answer"
            raise RobotError(f"robot at {self.address} {what} within {timeout:.1f} s") from None
        try:
            reply = wire.decode(reply_frames, self._limits)
        except wire.WireError as exc:
            raise RobotError(f"robot at {self.address} sent an invalid reply ({exc})") from None
        h = reply.header
        if h.get("re") not in (nonce, None):
            raise RobotError(f"robot at {self.address} answered a different request (stale or replayed reply)")
        if h.get("ok") is not True:
            raise RobotRefusal(f"robot at {self.address} refused {cmd}: {str(h.get('error', 'unknown error'))[:500]}",
                               str(h.get("code", ""))[:40], str(h.get("error", ""))[:500])
        if h.get("re") != nonce:
            raise RobotError(f"robot at {self.address} answered a different request (stale or replayed reply)")
        result = h.get("result")
        return (result if isinstance(result, dict) else {}), reply.arrays

    def _checked(self, parse, *args):
        try:
            return parse(*args)
        except (wire.WireError, KeyError, TypeError, ValueError) as exc:
            raise RobotError(f"robot at {self.address} sent an invalid reply ({exc})") from None

    def _stopped_after(self, what: str) -> MotionResult:
        """After a lost motion: stop the robot, re-read where it is, and report both (one line)."""
        try:
            self.request("stop")
            pose = self.get_base_pose()
        except RobotError as exc:
            return MotionResult(False, f"{what}; could not stop or re-check the robot ({exc})")
        return MotionResult(False, f"{what}; the robot was stopped at ({pose.x:.2f}, {pose.y:.2f}, {pose.theta:.2f})",
                            pose)

    def _motion(self, cmd: str, args: dict[str, Any]) -> MotionResult:
        try:
            result, _ = self.request(cmd, args)
        except RobotRefusal as exc:
            if exc.code != "limit":
                raise
            return MotionResult(False, f"refused by the robot: {exc.reason}")  # an ordinary failed motion
        except RobotError as exc:  # no answer: the motion may or may not have started, so never sent again
            if "nothing was sent" in str(exc):  # the handshake failed: no robot to stop
                raise
            return self._stopped_after(f"{cmd} got no answer ({exc})")
        job = result.get("job")
        if isinstance(job, bool) or not isinstance(job, int):
            raise RobotError(f"robot at {self.address} sent an invalid reply (no job id for {cmd})")
        deadline = time.monotonic() + self.config.motion_timeout_s
        while True:
            try:
                status, _ = self.request("wait", {"job": job, "max_wait_s": self.config.heartbeat_s})
            except RobotRefusal as exc:
                if exc.code != "bad_request" or "no job" not in exc.reason:
                    raise
                return self._stopped_after(f"the robot server restarted during {cmd} (its job is gone)")
            except RobotError as exc:
                return self._stopped_after(f"lost the robot server during {cmd} ({exc})")
            if status.get("done") is True:
                return self._checked(wire.motion_from_dict, status.get("motion"))
            if time.monotonic() > deadline:
                self.request("stop")
                return MotionResult(False, f"{cmd} did not finish within {self.config.motion_timeout_s:.0f} s; "
                                           "the robot was stopped")

    # --- the Robot protocol ---

    def observe(self) -> RobotObservation:
        result, arrays = self.request("observe", timeout_s=self.config.observe_timeout_s)
        return self._checked(wire.observation_from_wire, result, arrays)

    def get_base_pose(self) -> Pose2D:
        return self._checked(wire.pose_from_list, self.request("get_base_pose")[0].get("base_pose"))

    def get_joints(self) -> JointState:
        return self._checked(wire.joints_from_dict, self.request("get_joints")[0].get("joints"))

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
        holding = self.request("is_holding")[0].get("holding")
        return holding if isinstance(holding, bool) else None

    def say(self, text: str) -> SayResult:
        """Speak `text` on the robot's loudspeaker (the server's `say` command; returns once playback started)."""
        r = self.request("say", {"text": " ".join(text.split())[:MAX_SAY_CHARS]})[0]
        return SayResult(text, r.get("played") is True, float(r.get("duration_s") or 0.0), r.get("reason"))
