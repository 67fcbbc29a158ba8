"""The robot-side server: serves any Robot over ZMQ (CURVE-authenticated ROUTER, robots.transport) with a watchdog.

Runs on the robot (`ovmm robot-server`). Motion commands (move_base_to, follow_waypoints, set_head, move_arm,
set_gripper) start a job in a worker thread and answer at once with its id; the client that started it then
sends `wait` requests for that job (they are its heartbeat) until the job is done. Only those heartbeats feed
the job's watchdog: accepted `wait` (or `heartbeat {"job": id}`) requests for the running job from the
connection that started it. Messages from any other client, and refused or malformed requests, never do.
If the owner is silent for `watchdog_s` while the job runs, the watchdog calls robot.stop().
Malformed, replayed or oversized requests get an error reply; the server keeps serving.

Threads: one network thread owns the socket and answers every request that needs no camera at once (queries,
motion starts, stop, heartbeat); a `wait` for a running job is parked and answered when the job ends or its
`max_wait_s` is up, so it never holds up another request. observe() runs on the camera thread (the thread
that called serve_forever(), which owns the robot and e.g. a simulator's GL context; a "robot-camera" thread
with start()), which encodes the frame and hands the reply back, so a frame being rendered or encoded never
delays a command. Each motion runs in its own job thread; observe and motions exclude each other (a lock),
observe during a motion is refused as busy. A stopped job whose motion has not ended yet (a watchdog stop, a
stop request, a server restart) is stopped again every `RESTOP_S` until it ends.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import queue
import socket
import threading
import time
from typing import Any

import numpy as np

from core.errors import OvmmError, RobotError
from robots import motion_limits, wire
from robots.command_args import MOTION_COMMANDS, check_args
from robots.faults import NetworkFaults
from robots.keys import RobotKey
from robots.protocol import Robot
from robots.server_config import ServerConfig, check_key
from robots.server_jobs import RequestFreshness, _Job, _Observe, _Wait, checked_args, mark_delayed
from robots.speaker import RobotVoice
from robots.transport import ServerTransport

log = logging.getLogger(__name__)

RESTOP_S = 0.1  # a stopped motion that is still running is stopped again this often
CAMERA_QUEUE = 4  # observe requests waiting for the camera at most; more are answered "busy"
FINISHED_KEPT = 16  # finished jobs whose result a resent `wait` (its first reply lost) still gets


class RobotServer:
    """Serve `robot` on tcp://host:port. Use start() (background thread) or serve_forever()."""

    def __init__(self, robot: Robot, key: RobotKey | None, config: ServerConfig | None = None) -> None:
        self.robot = robot
        self.key = key
        self.config = config or ServerConfig()
        check_key(self.config, key)
        self.port = self.config.port
        self.voice = RobotVoice()  # the `say` command; the audio device opens on first use
        self.last_message_at = time.monotonic()  # last accepted request from any client (for information)
        self.watchdog_stops = 0
        self.bad_requests = 0
        self.limit_violations = 0  # motion commands refused by the robot-side limits (robots.motion_limits)
        self._job: _Job | None = None
        self._orphans: list[_Job] = []  # stopped jobs a restart forgot whose motion may still be ending
        self._finished: dict[int, _Job] = {}  # the last FINISHED_KEPT jobs: a resent `wait` still gets its result
        self._job_ids = itertools.count(1)
        self._robot_lock = threading.Lock()  # observe and motions exclude each other
        self._camera_q: queue.Queue = queue.Queue(CAMERA_QUEUE)
        self._ready: queue.SimpleQueue = queue.SimpleQueue()  # (generation, envelope, reply) from other threads
        self._waits: list[_Wait] = []
        self._delayed: list[tuple[float, int, int, list[bytes], list[bytes]]] = []  # injected late replies
        self._seq = itertools.count()
        self._gen = 0  # bumped by a restart: replies for the old socket's peers are dropped
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._poller = None
        self._fresh = RequestFreshness(self.config.max_clock_skew_s)  # old and replayed requests refused
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

    def _prepare(self) -> None:
        if self._transport.sock is None:
            self.bind()
        self._shutdown.clear()
        if self._wake_r is None:
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def start(self) -> RobotServer:
        """Bind and serve in background threads (observe on a "robot-camera" thread); returns self (port is
        known after this)."""
        self._prepare()
        for target, name in ((self._serve_loop, "robot-server"), (self._watchdog_loop, "robot-watchdog"),
                             (self._camera_loop, "robot-camera")):
            self._spawn(target, name)
        return self

    def serve_forever(self) -> None:
        """Bind and serve until close() is called (or KeyboardInterrupt); observe() runs in this thread."""
        self._prepare()
        self._spawn(self._watchdog_loop, "robot-watchdog")
        self._spawn(self._serve_loop, "robot-server")
        try:
            self._camera_loop(self._threads[-1])
        finally:
            self.close()

    def close(self) -> None:
        self._shutdown.set()
        job = self._job
        if job is not None and not job.done.is_set():
            self._stop_robot("the server is shutting down")
        with contextlib.suppress(queue.Full):
            self._camera_q.put_nowait(None)
        self._wake()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2.0)
        self._threads.clear()
        self._transport.close()
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._wake_r = self._wake_w = None
        self._camera_q = queue.Queue(CAMERA_QUEUE)

    def __enter__(self) -> RobotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- loops ---

    def _wake(self) -> None:
        """Make the network thread look at replies other threads left (a frame, a job that ended)."""
        w = self._wake_w
        if w is not None:
            with contextlib.suppress(OSError):  # full (it is awake anyway) or closed (shutting down)
                w.send(b"\\0")

    def _poll_ms(self) -> int:
        due = [w.due for w in self._waits] + ([self._delayed[0][0]] if self._delayed else [])
        wait_s = self.config.poll_s
        if due:
            wait_s = min(wait_s, min(due) - time.monotonic())
        return max(0, math.ceil(wait_s * 1000))

    def _serve_loop(self) -> None:
        import zmq  # noqa: PLC0415

        self._poller = zmq.Poller()
        self._poller.register(self._transport.sock, zmq.POLLIN)
        self._poller.register(self._wake_r, zmq.POLLIN)
        while not self._shutdown.is_set():
            events = dict(self._poller.poll(self._poll_ms()))
            if self._wake_r in events or self._wake_r.fileno() in events:
                with contextlib.suppress(BlockingIOError, InterruptedError):
                    while self._wake_r.recv(4096):
                        pass
            self._flush()
            sock = self._transport.sock
            if sock not in events:
                continue
            for _ in range(64):  # what has arrived, then the replies that came due meanwhile
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK, copy=True)
                except zmq.ZMQError as exc:
                    if exc.errno != zmq.EAGAIN:
                        log.warning("receive failed: %s", exc)
                    break
                self._on_request(frames)
                if self._transport.sock is not sock:  # an injected restart
                    break

    def _on_request(self, frames: list[bytes]) -> None:
        # ROUTER envelope from a REQ peer: [routing id, (request id,) b"", message...]
        split = next((i for i in (1, 2) if i < len(frames) and frames[i] == b""), None)
        if split is None or split + 1 >= len(frames):
            self.bad_requests += 1
            log.warning("dropped a message without a REQ envelope (%d parts)", len(frames))
            return
        peer, envelope, body = frames[0], frames[:split + 1], frames[split + 1:]
        try:
            reply = self.handle(body, peer)
        except Exception as exc:  # noqa: BLE001 - never let one request kill the server
            log.exception("internal error while handling a request")
            reply = self._error(None, f"internal server error: {type(exc).__name__}: {exc}", "internal")
        if isinstance(reply, _Wait):
            reply.envelope = envelope
            self._waits.append(reply)
        elif isinstance(reply, _Observe):
            try:
                self._camera_q.put_nowait((self._gen, envelope, reply.nonce))
            except queue.Full:
                self._deliver(envelope, self._error(reply.nonce, f"busy: {CAMERA_QUEUE} frames are already "
                                                                 "waiting for the camera", "busy"))
        else:
            self._deliver(envelope, reply)

    def _flush(self) -> None:
        """Send what is ready: frames from the camera, waits whose job ended or whose time is up, late replies."""
        gen = self._gen
        while gen == self._gen:
            try:
                g, envelope, reply = self._ready.get_nowait()
            except queue.Empty:
                break
            if g == gen:
                self._deliver(envelope, reply)
        now = time.monotonic()
        while gen == self._gen and self._waits:
            ready = [w for w in self._waits if w.job.done.is_set() or now >= w.due]
            if not ready:
                break
            self._waits = [w for w in self._waits if w not in ready]
            for w in ready:
                if gen != self._gen:
                    break
                self._deliver(w.envelope, self._finish_wait(w))
        while gen == self._gen and self._delayed and self._delayed[0][0] <= now:
            _, _, g, envelope, reply = heapq.heappop(self._delayed)
            if g == gen:
                self._send(envelope, reply)

    def _deliver(self, envelope: list[bytes], reply: list[bytes]) -> None:
        """Send a reply, through the injected network faults if any (dropped, late, a restart)."""
        if self.net_faults is not None:
            send, delay = self.net_faults.on_reply()
            if self.net_faults.restart_due():
                self._restart()
                return
            if not send:
                log.warning("injected fault: dropped the reply to a request")
                return
            if delay:
                heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), self._gen, envelope,
                                               mark_delayed(reply, delay)))
                return
        self._send(envelope, reply)

    def _send(self, envelope: list[bytes], reply: list[bytes]) -> None:
        import zmq  # noqa: PLC0415

        try:
            self._transport.sock.send_multipart([*envelope, *reply], zmq.NOBLOCK)
        except zmq.ZMQError as exc:  # the peer is gone or not reading: only that peer loses its reply
            log.warning("reply to a peer failed: %s", exc)

    def _restart(self) -> None:
        """Injected fault: the server goes away (its job stopped and forgotten, every parked reply lost) and
        comes back on the same port."""
        import zmq  # noqa: PLC0415

        self._poller.unregister(self._transport.sock)
        job = self._job
        if job is not None and not job.done.is_set():
            job.stopped_by = "a server restart"
            job.stop_sent_at = time.monotonic()
            self._stop_robot("server restart")
            self._orphans.append(job)  # stopped again by the watchdog until its motion has ended
        self._job = None
        self._finished.clear()
        self._gen += 1
        self._waits.clear()
        self._delayed.clear()
        self._transport.close()
        log.warning("injected fault: the server restarts (down %.2f s)", self.config.faults.restart_down_s)
        self._shutdown.wait(self.config.faults.restart_down_s)
        self._transport = ServerTransport(self.key, self.config.limits)
        self._transport.bind(self.config.host, self.port)
        self._poller.register(self._transport.sock, zmq.POLLIN)

    def _camera_loop(self, network: threading.Thread | None = None) -> None:
        """Answer observe requests (queued by the network thread) until shutdown or the network thread ends."""
        while not self._shutdown.is_set() and (network is None or network.is_alive()):
            try:
                item = self._camera_q.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                break
            gen, envelope, nonce = item
            try:
                reply = self._observe(nonce)
            except Exception as exc:  # noqa: BLE001 - never let one frame kill the camera thread
                log.exception("observe failed")
                reply = self._error(nonce, f"internal server error: {type(exc).__name__}: {exc}", "internal")
            self._ready.put((gen, envelope, reply))
            self._wake()

    def _observe(self, nonce: str) -> list[bytes]:
        with self._robot_lock:
            job = self._job
            if job is not None and not job.done.is_set():
                return self._error(nonce, f"busy: {job.cmd} (job {job.id}) is still running; wait for it or stop it",
                                   "busy")
            try:
                obs = self.robot.observe()
            except OvmmError as exc:
                return self._error(nonce, str(exc), "robot")
        result, arrays = wire.observation_to_wire(obs)
        return self._reply(nonce, result, arrays)

    def _watchdog_loop(self) -> None:
        period = min(0.02, self.config.watchdog_s / 5)
        while not self._shutdown.wait(period):
            self._orphans = [j for j in self._orphans if not j.done.is_set()]
            now = time.monotonic()
            for j in self._orphans:
                self._restop(j, now)
            job = self._job
            if job is None or job.done.is_set():
                continue
            if job.stopped_by is not None:
                self._restop(job, now)
                continue
            silent = now - job.fed_at
            if silent > self.config.watchdog_s:
                self.watchdog_stops += 1
                job.stopped_by = (f"the server watchdog (no heartbeat from the client that started {job.cmd} "
                                  f"for {silent:.2f} s)")
                log.warning("watchdog: no heartbeat for job %d (%s) for %.2f s; stopping the robot", job.id,
                            job.cmd, silent)
                job.stop_sent_at = now
                self._stop_robot(job.stopped_by)

    def _restop(self, job: _Job, now: float) -> None:
        """A stopped job still running: stop again (a stop that raced the motion's start must not be lost)."""
        if now - job.stop_sent_at >= RESTOP_S:
            job.stop_sent_at = now
            self._stop_robot(f"job {job.id} ({job.cmd}) is still running after {job.stopped_by}")

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

    def handle(self, frames: list[bytes], peer: bytes = b"") -> list[bytes] | _Wait | _Observe:
        """Answer one request (frames without the routing envelope) from connection `peer`: the reply, or a
        `_Wait` / `_Observe` that the network / camera thread answers later."""
        try:
            msg = wire.decode(frames, self._limits)
        except wire.WireError as exc:
            self.bad_requests += 1
            log.warning("bad request: %s", exc)
            return self._error(None, str(exc), exc.code)
        nonce = msg.header["nonce"]
        try:
            self._fresh.check(msg.header)
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

    def _dispatch(self, nonce: str, cmd: str, args: dict[str, Any], peer: bytes) -> list[bytes] | _Wait | _Observe:
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
                job.stop_sent_at = time.monotonic()
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
        if cmd == "observe":  # rendered and encoded on the camera thread
            return _Observe(nonce)
        if cmd == "get_base_pose":
            return self._reply(nonce, {"base_pose": self.robot.get_base_pose().to_list()})
        if cmd == "get_joints":
            return self._reply(nonce, {"joints": wire.joints_to_dict(self.robot.get_joints())})
        if cmd == "is_holding":
            return self._reply(nonce, {"holding": self.robot.is_holding()})
        raise wire.WireError(f"unknown command {cmd!r}", "unknown_command")  # unreachable: schemas checked

    def _start_job(self, nonce: str, cmd: str, args: dict[str, Any], peer: bytes) -> list[bytes]:
        try:
            args = checked_args(self.robot, cmd, args, self.config.motion_limits)
        except motion_limits.LimitError as exc:
            self.limit_violations += 1
            log.warning("refused %s: %s (%d refused so far)", cmd, exc, self.limit_violations)
            return self._error(nonce, f"{cmd} is outside the robot's limits: {exc}", "limit")
        job = _Job(next(self._job_ids), cmd, peer)

        if self._job is not None:  # done (busy was refused): kept for a resent wait
            self._finished[self._job.id] = self._job
            while len(self._finished) > FINISHED_KEPT:
                del self._finished[next(iter(self._finished))]
        self._job = job
        threading.Thread(target=job.run, args=(self.robot, args, self._robot_lock, self._wake),
                         name=f"robot-job-{job.id}", daemon=True).start()
        return self._reply(nonce, {"job": job.id, "done": False})

    def _wait(self, nonce: str, job_id: int, max_wait_s: float, peer: bytes) -> list[bytes] | _Wait:
        job = self._job
        if job is None or job.id != job_id:
            job = self._finished.get(job_id)
            if job is None:
                return self._error(nonce, f"no job {job_id} on this server", "bad_request")
            return self._job_reply(nonce, job)
        self._feed(job, job_id, peer)
        if job.done.is_set():
            return self._job_reply(nonce, job)
        wait_s = max(0.0, min(max_wait_s, self.config.watchdog_s / 2, 0.25))
        return _Wait(nonce, job, peer, time.monotonic() + wait_s)  # answered by _finish_wait

    def _finish_wait(self, w: _Wait) -> list[bytes]:
        job = w.job
        if not job.done.is_set():
            self._feed(job, job.id, w.peer)
            return self._reply(w.nonce, {"job": job.id, "done": False})
        return self._job_reply(w.nonce, job)

    def _job_reply(self, nonce: str, job: _Job) -> list[bytes]:
        if job.error is not None:
            return self._error(nonce, job.error, "robot")
        return self._reply(nonce, {"job": job.id, "done": True, "motion": wire.motion_to_dict(job.outcome())})
