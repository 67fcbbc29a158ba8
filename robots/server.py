"""The robot-side server: serves any Robot over ZMQ REP with signed messages (robots.wire) and a watchdog.

Runs on the robot (`ovmm robot-server`). Motion commands (move_base_to, follow_waypoints, set_head, move_arm,
set_gripper) start a job in a worker thread and answer at once with its id; the client then sends `wait`
requests (which double as heartbeats) until the job is done. If no authenticated message arrives for
`watchdog_s` while a job runs, the watchdog calls robot.stop(). Malformed, unsigned, replayed or oversized
requests get an error reply; the server keeps serving.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import OvmmError, RobotError
from core.types import Pose2D
from robots import wire
from robots.protocol import MotionResult, Robot

log = logging.getLogger(__name__)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 5555  # 0: a free port (see RobotServer.port)
    watchdog_s: float = 0.5
    max_request_bytes: int = 1 << 20
    max_clock_skew_s: float = 30.0
    poll_s: float = 0.02


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- argument checking -----------------------------------------------------------------------------------


def _float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise wire.WireError(f"expected a finite number, got {v!r}")
    return float(v)


def _opt_float(v: Any) -> float | None:
    return None if v is None else _float(v)


def _pose(v: Any) -> Pose2D:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise wire.WireError(f"expected a pose [x, y, theta], got {v!r}")
    return Pose2D.from_list([_float(x) for x in v])


def _poses(v: Any) -> list[Pose2D]:
    if not isinstance(v, list) or len(v) > 10000:
        raise wire.WireError("expected a list of poses")
    return [_pose(p) for p in v]


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise wire.WireError(f"expected an integer, got {v!r}")
    return v


# name -> (argument checkers, required argument names)
_SCHEMAS: dict[str, tuple[dict[str, Callable[[Any], Any]], set[str]]] = {
    "hello": ({}, set()),
    "heartbeat": ({}, set()),
    "observe": ({}, set()),
    "get_base_pose": ({}, set()),
    "get_joints": ({}, set()),
    "is_holding": ({}, set()),
    "stop": ({}, set()),
    "wait": ({"job": _int, "max_wait_s": _opt_float}, {"job"}),
    "move_base_to": ({"goal": _pose, "tolerance_m": _opt_float, "tolerance_rad": _opt_float}, {"goal"}),
    "follow_waypoints": ({"waypoints": _poses}, {"waypoints"}),
    "set_head": ({"pan": _float, "tilt": _float}, {"pan", "tilt"}),
    "move_arm": ({k: _opt_float for k in ("lift_m", "arm_m", "wrist_yaw", "wrist_pitch", "wrist_roll")}, set()),
    "set_gripper": ({"aperture_m": _float}, {"aperture_m"}),
}
MOTION_COMMANDS = ("move_base_to", "follow_waypoints", "set_head", "move_arm", "set_gripper")


def check_args(cmd: Any, args: Any) -> dict[str, Any]:
    if not isinstance(cmd, str) or cmd not in _SCHEMAS:
        raise wire.WireError(f"unknown command {cmd!r}", "unknown_command")
    if not isinstance(args, dict):
        raise wire.WireError(f"{cmd}: args must be a JSON object")
    checkers, required = _SCHEMAS[cmd]
    unknown = set(args) - set(checkers)
    if unknown:
        raise wire.WireError(f"{cmd}: unknown argument(s) {sorted(unknown)}")
    missing = required - set(args)
    if missing:
        raise wire.WireError(f"{cmd}: missing argument(s) {sorted(missing)}")
    out = {}
    for name, value in args.items():
        try:
            out[name] = checkers[name](value)
        except wire.WireError as exc:
            raise wire.WireError(f"{cmd}: argument {name!r}: {exc}") from None
    return {k: v for k, v in out.items() if v is not None}


# --- jobs -----------------------------------------------------------------------------------------------------


class _Job:
    def __init__(self, job_id: int, cmd: str) -> None:
        self.id = job_id
        self.cmd = cmd
        self.done = threading.Event()
        self.result: MotionResult | None = None
        self.error: str | None = None
        self.stopped_by: str | None = None


class RobotServer:
    """Serve `robot` on tcp://host:port. Use start() (background thread) or serve_forever()."""

    def __init__(self, robot: Robot, key: bytes | None, config: ServerConfig | None = None) -> None:
        self.robot = robot
        self.key = key
        self.config = config or ServerConfig()
        if not is_loopback(self.config.host) and key is None:
            raise RobotError(
                f"refusing to listen on {self.config.host} without a key: give --key-file or set "
                f"${wire.KEY_ENV} (anyone on the network could drive the robot otherwise)"
            )
        self.port = self.config.port
        self.last_message_at = time.monotonic()
        self.watchdog_stops = 0
        self.refused = 0
        self._job: _Job | None = None
        self._job_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._nonces: dict[str, float] = {}
        self._shutdown = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ctx = None
        self._sock = None

    # --- lifecycle ---

    def bind(self) -> None:
        try:
            import zmq  # noqa: PLC0415 - optional dependency (robot/client extras)
        except ImportError as exc:
            raise RobotError("the robot server needs pyzmq: pip install 'ovmm[robot]'") from exc
        self._ctx = zmq.Context()
        sock = self._ctx.socket(zmq.REP)
        sock.setsockopt(zmq.LINGER, 0)
        # Hard cap per frame: beyond it ZMQ drops the connection; below it, oversized requests get a reply.
        sock.setsockopt(zmq.MAXMSGSIZE, 16 * self.config.max_request_bytes)
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        if ":" in self.config.host:
            sock.setsockopt(zmq.IPV6, 1)
        try:
            if self.config.port == 0:
                self.port = sock.bind_to_random_port(f"tcp://{host}")
            else:
                sock.bind(f"tcp://{host}:{self.config.port}")
        except zmq.ZMQError as exc:
            sock.close()
            raise RobotError(f"cannot listen on tcp://{host}:{self.config.port}: {exc}") from exc
        self._sock = sock
        log.info("robot server for %s listening on tcp://%s:%d (key: %s, watchdog %.2f s)", self.robot.name,
                 host, self.port, "yes" if self.key else "no", self.config.watchdog_s)

    def start(self) -> RobotServer:
        """Bind and serve in background threads; returns self (port is known after this)."""
        if self._sock is None:
            self.bind()
        self._shutdown.clear()
        for target, name in ((self._serve_loop, "robot-server"), (self._watchdog_loop, "robot-watchdog")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def serve_forever(self) -> None:
        """Bind and serve in this thread until close() is called (or KeyboardInterrupt)."""
        if self._sock is None:
            self.bind()
        watchdog = threading.Thread(target=self._watchdog_loop, name="robot-watchdog", daemon=True)
        watchdog.start()
        self._threads.append(watchdog)
        try:
            self._serve_loop()
        finally:
            self.close()

    def close(self) -> None:
        self._shutdown.set()
        job = self._job
        if job is not None and not job.done.is_set():
            self._stop_robot("the server is shutting down")
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2.0)
        self._threads.clear()
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None

    def __enter__(self) -> RobotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- loops ---

    def _serve_loop(self) -> None:
        import zmq  # noqa: PLC0415

        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        while not self._shutdown.is_set():
            if not poller.poll(int(self.config.poll_s * 1000) or 1):
                continue
            try:
                frames = self._sock.recv_multipart(copy=True)
            except zmq.ZMQError as exc:
                log.warning("receive failed: %s", exc)
                continue
            try:
                reply = self.handle(frames)
            except Exception as exc:  # noqa: BLE001 - never let one request kill the server
                log.exception("internal error while handling a request")
                reply = self._error(None, f"internal server error: {type(exc).__name__}: {exc}", "internal")
            try:
                self._sock.send_multipart(reply)
            except zmq.ZMQError as exc:
                log.warning("reply failed: %s", exc)

    def _watchdog_loop(self) -> None:
        period = min(0.02, self.config.watchdog_s / 5)
        while not self._shutdown.wait(period):
            job = self._job
            if job is None or job.done.is_set() or job.stopped_by is not None:
                continue
            silent = time.monotonic() - self.last_message_at
            if silent > self.config.watchdog_s:
                self.watchdog_stops += 1
                job.stopped_by = f"the server watchdog (no message from the client for {silent:.2f} s)"
                log.warning("watchdog: no client message for %.2f s during %s; stopping the robot", silent, job.cmd)
                self._stop_robot(job.stopped_by)

    def _stop_robot(self, why: str) -> None:
        try:
            self.robot.stop()
        except Exception:  # noqa: BLE001 - stopping must never raise out of the watchdog
            log.exception("robot.stop() failed (%s)", why)

    # --- requests ---

    def _reply(self, re_nonce: str | None, result: dict[str, Any] | None = None,
               arrays: dict[str, np.ndarray] | None = None) -> list[bytes]:
        return wire.encode({"kind": "rep", "re": re_nonce, "ok": True, "result": result or {}}, arrays, self.key)

    def _error(self, re_nonce: str | None, message: str, code: str) -> list[bytes]:
        return wire.encode({"kind": "rep", "re": re_nonce, "ok": False, "error": message, "code": code},
                           None, self.key)

    def _check_fresh(self, header: dict[str, Any]) -> None:
        now = time.time()
        skew = self.config.max_clock_skew_s
        if abs(now - float(header["ts"])) > skew:
            raise wire.WireError(f"request timestamp is {now - float(header['ts']):+.1f} s off this server's clock "
                                 f"(limit {skew:.0f} s): synchronise the clocks (NTP)", "stale")
        for n, t in list(self._nonces.items()):
            if now - t > 2 * skew:
                del self._nonces[n]
        if header["nonce"] in self._nonces:
            raise wire.WireError("request nonce was already used (replay)", "replay")
        self._nonces[header["nonce"]] = now

    def handle(self, frames: list[bytes]) -> list[bytes]:
        """Answer one request (frames as received); always returns reply frames."""
        try:
            msg = wire.decode(frames, self.key, self.config.max_request_bytes)
        except wire.WireError as exc:
            if exc.code == "auth":
                self.refused += 1
                log.warning("refused a request: %s", exc)
                return self._error(None, "refused: the request is not signed with this server's key "
                                   f"(check --key-file / ${wire.KEY_ENV})", "auth")
            log.warning("bad request: %s", exc)
            return self._error(None, str(exc), exc.code)
        nonce = msg.header["nonce"]
        try:
            self._check_fresh(msg.header)
            if msg.header.get("kind") != "req":
                raise wire.WireError("message is not a request")
            self.last_message_at = time.monotonic()
            cmd = msg.header.get("cmd")
            args = check_args(cmd, msg.header.get("args", {}))
            return self._dispatch(nonce, cmd, args)
        except wire.WireError as exc:
            log.warning("bad request: %s", exc)
            return self._error(nonce, str(exc), exc.code)
        except OvmmError as exc:
            return self._error(nonce, str(exc), "robot")

    def _dispatch(self, nonce: str, cmd: str, args: dict[str, Any]) -> list[bytes]:
        job = self._job
        busy = job is not None and not job.done.is_set()
        if cmd == "hello":
            return self._reply(nonce, {"name": self.robot.name, "version": wire.VERSION,
                                       "watchdog_s": self.config.watchdog_s, "busy": busy})
        if cmd == "heartbeat":
            return self._reply(nonce, {"busy": busy})
        if cmd == "stop":
            if busy and job.stopped_by is None:
                job.stopped_by = "a stop request from the client"
            self._stop_robot("stop request")
            return self._reply(nonce, {"busy": busy})
        if cmd == "wait":
            return self._wait(nonce, args["job"], args.get("max_wait_s", 0.1))
        if busy:
            return self._error(nonce, f"busy: {job.cmd} (job {job.id}) is still running; wait for it or stop it",
                               "busy")
        if cmd in MOTION_COMMANDS:
            return self._start_job(nonce, cmd, args)
        if cmd == "observe":
            result, arrays = wire.observation_to_wire(self.robot.observe())
            return self._reply(nonce, result, arrays)
        if cmd == "get_base_pose":
            return self._reply(nonce, {"base_pose": self.robot.get_base_pose().to_list()})
        if cmd == "get_joints":
            return self._reply(nonce, {"joints": wire.joints_to_dict(self.robot.get_joints())})
        if cmd == "is_holding":
            return self._reply(nonce, {"holding": self.robot.is_holding()})
        raise wire.WireError(f"unknown command {cmd!r}", "unknown_command")  # unreachable: schemas checked

    def _start_job(self, nonce: str, cmd: str, args: dict[str, Any]) -> list[bytes]:
        job = _Job(next(self._job_ids), cmd)
        robot = self.robot

        def call() -> MotionResult:
            if cmd == "move_base_to":
                return robot.move_base_to(args["goal"], **{k: v for k, v in args.items() if k != "goal"})
            if cmd == "follow_waypoints":
                return robot.follow_waypoints(args["waypoints"])
            if cmd == "set_head":
                return robot.set_head(args["pan"], args["tilt"])
            if cmd == "move_arm":
                return robot.move_arm(**args)
            return robot.set_gripper(args["aperture_m"])

        def work() -> None:
            try:
                job.result = call()
            except OvmmError as exc:
                job.error = str(exc)
            except Exception as exc:  # noqa: BLE001 - reported to the client, logged here
                log.exception("%s failed", cmd)
                job.error = f"{cmd} failed: {type(exc).__name__}: {exc}"
            finally:
                job.done.set()

        self._job = job
        threading.Thread(target=work, name=f"robot-job-{job.id}", daemon=True).start()
        return self._reply(nonce, {"job": job.id, "done": False})

    def _wait(self, nonce: str, job_id: int, max_wait_s: float) -> list[bytes]:
        job = self._job
        if job is None or job.id != job_id:
            return self._error(nonce, f"no job {job_id} on this server", "bad_request")
        job.done.wait(max(0.0, min(max_wait_s, self.config.watchdog_s / 2)))
        if not job.done.is_set():
            return self._reply(nonce, {"job": job.id, "done": False})
        if job.error is not None:
            return self._error(nonce, job.error, "robot")
        result = job.result if isinstance(job.result, MotionResult) else MotionResult(False, "no result")
        if job.stopped_by is not None and not result.success:
            result = MotionResult(False, f"stopped by {job.stopped_by}: {result.reason}".rstrip(": "),
                                  result.base_pose, result.joints)
        return self._reply(nonce, {"job": job.id, "done": True, "motion": wire.motion_to_dict(result)})
