"""The robot-side server: serves any Robot over ZMQ (CURVE-authenticated ROUTER, robots.transport) with a watchdog.

Runs on the robot (`ovmm robot-server`). Motion commands (move_base_to, follow_waypoints, set_head, move_arm,
set_gripper) start a job in a worker thread and answer at once with its id; the client that started it then
sends `wait` requests for that job (they are its heartbeat) until the job is done. Only those heartbeats feed
the job's watchdog: accepted `wait` (or `heartbeat {"job": id}`) requests for the running job from the
connection that started it. Messages from any other client, and refused or malformed requests, never do.
If the owner is silent for `watchdog_s` while the job runs, the watchdog calls robot.stop().
Malformed, replayed or oversized requests get an error reply; the server keeps serving.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import OvmmError, RobotError
from robots import motion_limits, wire
from robots.command_args import MOTION_COMMANDS, check_args
from robots.faults import FaultConfig, NetworkFaults
from robots.keys import RobotKey
from robots.protocol import MotionResult, Robot
from robots.speaker import RobotVoice
from robots.transport import ServerTransport, SocketLimits

log = logging.getLogger(__name__)

MAX_WATCHDOG_S = 60.0


def check_watchdog_s(value: float) -> float:
    """The watchdog period if it is a finite number in (0, 60] s; ValueError otherwise (nan/inf turn it off)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value <= MAX_WATCHDOG_S:
        raise ValueError(f"the watchdog period must be a finite number of seconds in (0, {MAX_WATCHDOG_S:g}], "
                         f"got {value!r}")
    return float(value)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 5555  # 0: a free port (see RobotServer.port)
    watchdog_s: float = 0.5
    max_request_bytes: int = 256 << 10
    max_clock_skew_s: float = 30.0
    poll_s: float = 0.02
    insecure_loopback: bool = False
    """Serve without a key (no authentication, no encryption): only on a loopback address, for tests."""
    motion_limits: motion_limits.MotionLimits = field(default_factory=lambda: motion_limits.MotionLimits())
    """What one motion command may ask (robots.motion_limits); violations are refused and counted."""
    limits: SocketLimits = field(default_factory=SocketLimits)
    faults: FaultConfig | None = None
    """Injected network faults (robots.faults; `--faults FILE.json`): dropped or late replies, a restart."""

    def __post_init__(self) -> None:
        self.watchdog_s = check_watchdog_s(self.watchdog_s)
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ValueError(f"port must be an integer in 1..65535 (0: any free port), got {self.port!r}")
        for name in ("max_clock_skew_s", "poll_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite positive number, got {v!r}")
        if self.max_request_bytes < 1024 or self.limits.max_connections < 1:
            raise ValueError("max_request_bytes must be at least 1024 and max_connections at least 1")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


class RobotServer:
    """Serve `robot` on tcp://host:port. Use start() (background thread) or serve_forever()."""

    def __init__(self, robot: Robot, key: RobotKey | None, config: ServerConfig | None = None) -> None:
        self.robot = robot
        self.key = key
        self.config = config or ServerConfig()
        if key is None:
            if not self.config.insecure_loopback:
                raise RobotError("refusing to serve without a robot key: give --key-file (make one with "
                                 "`ovmm robot-server --new-key FILE`), or --insecure-loopback for a test on 127.0.0.1")
            if not is_loopback(self.config.host):
                raise RobotError(f"refusing to listen on {self.config.host} without a key: --insecure-loopback "
                                 "serves 127.0.0.1 only (anyone on the network could drive the robot otherwise)")
        self.port = self.config.port
        self.voice = RobotVoice()  # the `say` command; the audio device opens on first use
        self.last_message_at = time.monotonic()  # last accepted request from any client (for information)
        self.watchdog_stops = 0
        self.bad_requests = 0
        self.limit_violations = 0  # motion commands refused by the robot-side limits (robots.motion_limits)
        self._job: _Job | None = None
        self._job_ids = itertools.count(1)
        self._nonces: dict[str, float] = {}
        self._shutdown = threading.Event()
        self._threads: list[threading.Thread] = []
        self._transport = ServerTransport(key, self.config.limits)
        self.net_faults = NetworkFaults(self.config.faults) if self.config.faults and self.config.faults.network \
            else None
        self._limits = wire.Limits(max_bytes=self.config.max_request_bytes, max_frames=1,
                                   max_header_bytes=self.config.max_request_bytes)

    @property
    def refused(self) -> int:
        """Peers refused during the handshake because they do not hold the client key."""
        return self._transport.auth_refused

    @property
    def connections_refused(self) -> int:
        return self._transport.connections_refused

    @property
    def open_connections(self) -> int:
        return self._transport.open_connections

    # --- lifecycle ---

    def bind(self) -> None:
        try:
            import zmq  # noqa: F401, PLC0415 - optional dependency (robot/client extras)
        except ImportError as exc:
            raise RobotError("the robot server needs pyzmq: pip install 'ovmm[robot]'") from exc
        self._transport.bind(self.config.host, self.config.port)
        self.port = self._transport.port
        if self.key is None:
            log.warning("INSECURE: serving %s on 127.0.0.1:%d without a key (--insecure-loopback): any local process "
                        "can drive the robot and traffic is not encrypted", self.robot.name, self.port)
        log.info("robot server for %s listening on tcp://%s:%d (CURVE: %s, watchdog %.2f s)", self.robot.name,
                 self.config.host, self.port, "yes" if self.key else "NO", self.config.watchdog_s)

    def start(self) -> RobotServer:
        """Bind and serve in background threads; returns self (port is known after this)."""
        if self._transport.sock is None:
            self.bind()
        self._shutdown.clear()
        for target, name in ((self._serve_loop, "robot-server"), (self._watchdog_loop, "robot-watchdog")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def serve_forever(self) -> None:
        """Bind and serve in this thread until close() is called (or KeyboardInterrupt)."""
        if self._transport.sock is None:
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
        self._transport.close()

    def __enter__(self) -> RobotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- loops ---

    def _serve_loop(self) -> None:
        import zmq  # noqa: PLC0415

        sock = self._transport.sock
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        while not self._shutdown.is_set():
            if not poller.poll(int(self.config.poll_s * 1000) or 1):
                continue
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.ZMQError as exc:
                if exc.errno != zmq.EAGAIN:
                    log.warning("receive failed: %s", exc)
                continue
            # ROUTER envelope from a REQ peer: [routing id, (request id,) b"", message...]
            split = next((i for i in (1, 2) if i < len(frames) and frames[i] == b""), None)
            if split is None or split + 1 >= len(frames):
                self.bad_requests += 1
                log.warning("dropped a message without a REQ envelope (%d parts)", len(frames))
                continue
            peer, envelope, body = frames[0], frames[:split + 1], frames[split + 1:]
            try:
                reply = self.handle(body, peer)
            except Exception as exc:  # noqa: BLE001 - never let one request kill the server
                log.exception("internal error while handling a request")
                reply = self._error(None, f"internal server error: {type(exc).__name__}: {exc}", "internal")
            if self.net_faults is not None:
                send, delay = self.net_faults.on_reply()
                if self.net_faults.restart_due():
                    sock = self._restart(poller)
                    continue
                if not send:
                    log.warning("injected fault: dropped the reply to a request")
                    continue
                if delay:
                    time.sleep(delay)
            try:
                sock.send_multipart([*envelope, *reply], zmq.NOBLOCK)
            except zmq.ZMQError as exc:  # the peer is gone or not reading: only that peer loses its reply
                log.warning("reply to a peer failed: %s", exc)

    def _restart(self, poller):
        """Injected fault: the server goes away (its job stopped and forgotten) and comes back on the same port."""
        import zmq  # noqa: PLC0415

        poller.unregister(self._transport.sock)
        job = self._job
        if job is not None and not job.done.is_set():
            job.stopped_by = "a server restart"
            self._stop_robot("server restart")
        self._job = None
        self._transport.close()
        log.warning("injected fault: the server restarts (down %.2f s)", self.config.faults.restart_down_s)
        self._shutdown.wait(self.config.faults.restart_down_s)
        self._transport = ServerTransport(self.key, self.config.limits)
        self._transport.bind(self.config.host, self.port)
        poller.register(self._transport.sock, zmq.POLLIN)
        return self._transport.sock

    def _watchdog_loop(self) -> None:
        period = min(0.02, self.config.watchdog_s / 5)
        while not self._shutdown.wait(period):
            job = self._job
            if job is None or job.done.is_set() or job.stopped_by is not None:
                continue
            silent = time.monotonic() - job.fed_at
            if silent > self.config.watchdog_s:
                self.watchdog_stops += 1
                job.stopped_by = (f"the server watchdog (no heartbeat from the client that started {job.cmd} "
                                  f"for {silent:.2f} s)")
                log.warning("watchdog: no heartbeat for job %d (%s) for %.2f s; stopping the robot", job.id,
                            job.cmd, silent)
                self._stop_robot(job.stopped_by)

    def _stop_robot(self, why: str) -> None:
        try:
            self.robot.stop()
        except Exception:  # noqa: BLE001 - stopping must never raise out of the watchdog
            log.exception("robot.stop() failed (%s)", why)

    # --- requests ---

    def _reply(self, re_nonce: str | None, result: dict[str, Any] | None = None,
               arrays: dict[str, np.ndarray] | None = None) -> list[bytes]:
        return wire.encode({"kind": "rep", "re": re_nonce, "ok": True, "result": result or {}}, arrays)

    def _error(self, re_nonce: str | None, message: str, code: str) -> list[bytes]:
        return wire.encode({"kind": "rep", "re": re_nonce, "ok": False, "error": message, "code": code})

    def _check_fresh(self, header: dict[str, Any]) -> None:
        now = time.time()
        skew = self.config.max_clock_skew_s
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

    def handle(self, frames: list[bytes], peer: bytes = b"") -> list[bytes]:
        """Answer one request (frames without the routing envelope) from connection `peer`."""
        try:
            msg = wire.decode(frames, self._limits)
        except wire.WireError as exc:
            self.bad_requests += 1
            log.warning("bad request: %s", exc)
            return self._error(None, str(exc), exc.code)
        nonce = msg.header["nonce"]
        try:
            self._check_fresh(msg.header)
            if msg.header.get("kind") != "req":
                raise wire.WireError("message is not a request")
            cmd = msg.header.get("cmd")
            args = check_args(cmd, msg.header.get("args", {}))
            self.last_message_at = time.monotonic()
            return self._dispatch(nonce, cmd, args, peer)
        except wire.WireError as exc:
            self.bad_requests += 1
            log.warning("bad request: %s", exc)
            return self._error(nonce, str(exc), exc.code)
        except OvmmError as exc:
            return self._error(nonce, str(exc), "robot")

    def _feed(self, job: _Job | None, job_id: int | None, peer: bytes) -> bool:
        """An accepted heartbeat for `job_id` from `peer`: feeds the watchdog only if peer owns that running job."""
        if job is None or job.id != job_id or job.owner != peer or job.done.is_set():
            return False
        job.fed_at = time.monotonic()
        return True

    def _dispatch(self, nonce: str, cmd: str, args: dict[str, Any], peer: bytes) -> list[bytes]:
        job = self._job
        busy = job is not None and not job.done.is_set()
        if cmd == "hello":
            return self._reply(nonce, {"name": self.robot.name, "version": wire.VERSION,
                                       "watchdog_s": self.config.watchdog_s, "busy": busy})
        if cmd == "heartbeat":
            return self._reply(nonce, {"busy": busy, "fed": self._feed(job, args.get("job"), peer)})
        if cmd == "stop":
            if busy and job.stopped_by is None:
                job.stopped_by = "a stop request from the client"
            self._stop_robot("stop request")
            return self._reply(nonce, {"busy": busy})
        if cmd == "wait":
            return self._wait(nonce, args["job"], args.get("max_wait_s", 0.1), peer)
        if cmd == "say":  # the robot speaks (robots.speaker); answered at once, played in the background
            return self._reply(nonce, self.voice.say_async(args["text"]))
        if busy:
            return self._error(nonce, f"busy: {job.cmd} (job {job.id}) is still running; wait for it or stop it",
                               "busy")
        if cmd in MOTION_COMMANDS:
            return self._start_job(nonce, cmd, args, peer)
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

    def _check_limits(self, cmd: str, args: dict[str, Any]) -> dict[str, Any]:
        """The command's arguments if they are within the robot-side limits (waypoints split); LimitError else."""
        lim = self.config.motion_limits
        if cmd == "move_base_to":
            motion_limits.check_move_base(self.robot.get_base_pose(), args["goal"], args.get("tolerance_m", 0.05),
                                          args.get("tolerance_rad", 0.08), lim)
        elif cmd == "follow_waypoints":
            args = {**args, "waypoints": motion_limits.plan_waypoints(self.robot.get_base_pose(), args["waypoints"],
                                                                      lim)}
        elif cmd == "move_arm":
            motion_limits.check_arm(args)
        elif cmd == "set_head":
            motion_limits.check_head(args["pan"], args["tilt"])
        elif cmd == "set_gripper":
            motion_limits.check_gripper(args["aperture_m"])
        return args

    def _start_job(self, nonce: str, cmd: str, args: dict[str, Any], peer: bytes) -> list[bytes]:
        try:
            args = self._check_limits(cmd, args)
        except motion_limits.LimitError as exc:
            self.limit_violations += 1
            log.warning("refused %s: %s (%d refused so far)", cmd, exc, self.limit_violations)
            return self._error(nonce, f"{cmd} is outside the robot's limits: {exc}", "limit")
        job = _Job(next(self._job_ids), cmd, peer)
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

    def _wait(self, nonce: str, job_id: int, max_wait_s: float, peer: bytes) -> list[bytes]:
        job = self._job
        if job is None or job.id != job_id:
            return self._error(nonce, f"no job {job_id} on this server", "bad_request")
        self._feed(job, job_id, peer)
        job.done.wait(max(0.0, min(max_wait_s, self.config.watchdog_s / 2, 0.25)))
        if not job.done.is_set():
            self._feed(job, job_id, peer)
            return self._reply(nonce, {"job": job.id, "done": False})
        if job.error is not None:
            return self._error(nonce, job.error, "robot")
        result = job.result if isinstance(job.result, MotionResult) else MotionResult(False, "no result")
        if job.stopped_by is not None and not result.success:
            result = MotionResult(False, f"stopped by {job.stopped_by}: {result.reason}".rstrip(": "),
                                  result.base_pose, result.joints)
        return self._reply(nonce, {"job": job.id, "done": True, "motion": wire.motion_to_dict(result)})
