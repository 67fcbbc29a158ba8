"""Robot-bridge soak: `ovmm robot-server --backend sim --real-time --faults F` on loopback for a bounded time.

(The pre-authentication flood is benchmarks/bridge.py, whose launcher this shares; this is the soak of
issue 23.) Starts the server with a fault file (default: 2% dropped and 2% late replies, a restart after 500
requests, base stalls and arm faults now and then, the runstop once) and simulated motions that take their
real duration (`--real-time`, as on a Stretch), then for --duration seconds:

- a commanding client issues the real command mix (get_base_pose, get_joints, is_holding, a 0.1 m
  move_base_to there and back, move_arm, set_head, each motion polled with `wait`) and reconnects every
  --reconnect-s seconds (closes its connection and opens a new one, as after a network drop);
- --observers clients call observe() in a loop (frames per second, latency);
- every --watchdog-every-s seconds a probe client starts a long turn in place and goes silent. Its watchdog
  stop latency is the time from the watchdog period expiring (counted from when the probe *sent* its last
  request, so the figure is an upper bound) until another client's `heartbeat` (answered at once, feeds no
  watchdog) says the motion has ended; the base pose is then checked to stand still (a motion continuing
  without a client is counted).

Every request of every client is timed (robots.client.RobotClient._request_once, one attempt each); requests
without images are all but `observe` and `wait` (a long poll held until the motion ends or `max_wait_s`).
Replies the server delayed on purpose (an injected late reply says so in its result) are reported apart;
dropped replies have no latency (the client resends on a new connection; counted). Prints one JSON object:
latency percentiles per request kind, observe() fps, watchdog stop latencies (target: at most 0.1 s after
the period; 0 motions continuing without a client), server memory (VmRSS) over the run and its growth
(target: under 5%), the faults injected, and errors (exceptions other than an injected fault's report or a
"busy" refusal while the probe's motion runs).

    nice python benchmarks/bridge_soak.py [--duration 600] [--observers 2] [--faults FILE.json] [--no-real-time]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bridge import HOST, connect_when_up, percentiles, serve_sim  # noqa: E402
from core.errors import RobotError  # noqa: E402
from core.types import Pose2D  # noqa: E402
from robots import wire  # noqa: E402
from robots.client import ClientConfig, RobotClient, RobotRefusal  # noqa: E402

DEFAULT_FAULTS = {"seed": 7, "drop_reply_p": 0.02, "delay_reply_p": 0.02, "delay_reply_s": 0.05,
                  "restart_after_requests": 500, "restart_down_s": 0.5, "base_stall_on": [5, 17, 40, 120, 300],
                  "arm_fault_on": [3, 11, 90, 250], "runstop_on_motion": 25, "runstop_s": 1.0}
QUERIES = ("get_base_pose", "get_joints", "is_holding")
WATCHDOG_S = 0.5
UNRESOLVED: list[str] = []  # why a probe could not be measured
ENDED_EARLY: list[str] = []  # why a probe's motion ended other than by the watchdog (an injected fault)
HEARTBEAT_TIMEOUT_S = 0.03  # the probe's heartbeats (loopback answers them in a few ms)
PROBE_TURN_RAD = 3.0  # about 5 s at the simulated Stretch's 0.6 rad/s: far longer than the watchdog period


class TimedClient(RobotClient):
    """A RobotClient that records every request attempt that got a reply: (command, ms, injected delay)."""

    def __init__(self, *args, log: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log = log if log is not None else []

    def _request_once(self, cmd, args, timeout_s):
        t0 = time.perf_counter()
        try:
            result, arrays = super()._request_once(cmd, args, timeout_s)
        except RobotRefusal:
            self.log.append((cmd, (time.perf_counter() - t0) * 1000, False))  # an answer, if a refusal
            raise
        self.log.append((cmd, (time.perf_counter() - t0) * 1000, "injected_fault" in result))
        return result, arrays


def timed_client(port: int, key, log: list, **cfg) -> TimedClient:
    config = ClientConfig(timeout_s=cfg.pop("timeout_s", 2.0), heartbeat_s=0.1, **cfg)
    return connect_when_up(port, key, config, functools.partial(TimedClient, log=log))


def _motion(out: dict, res) -> None:
    out["motions"] += 1
    if not res.success:
        out["motion_failed"] += 1
        out["failure_reasons"].add(res.reason.split(" (")[0][:80])


def commander(port: int, key, until: float, reconnect_s: float, out: dict, probing: threading.Event) -> None:
    c = timed_client(port, key, out["log"])
    last_connect, k = time.monotonic(), 0
    home = c.get_base_pose()
    while time.monotonic() < until:
        if probing.is_set():  # the watchdog probe's motion and its checks run alone (observers go on)
            time.sleep(0.01)
            continue
        if time.monotonic() - last_connect > reconnect_s:  # a new connection, as after a network drop
            out["client_resends"] += c.reconnects
            c._release()
            try:
                c = timed_client(port, key, out["log"])
            except RobotError as exc:
                out["errors"].append(f"reconnect: {exc}"[:200])
                continue
            last_connect = time.monotonic()
            out["reconnects"] += 1
        k += 1
        try:
            c.request(QUERIES[k % 3])
            if k % 10 == 0:
                goal = Pose2D(home.x + (0.1 if (k // 10) % 2 else 0.0), home.y, home.theta)
                _motion(out, c.move_base_to(goal, tolerance_m=0.03))
            elif k % 10 == 5:
                _motion(out, c.move_arm(lift_m=0.5 + 0.1 * ((k // 10) % 2)))
            elif k % 20 == 7:
                _motion(out, c.set_head(-1.2 + 0.2 * ((k // 20) % 3), -0.5))
        except RobotRefusal as exc:
            if exc.code != "busy":  # busy: the watchdog probe's motion runs; the server refuses others meanwhile
                out["errors"].append(str(exc)[:200])
            out["busy_refusals"] += exc.code == "busy"
        except RobotError as exc:
            out["errors"].append(str(exc)[:200])
    out["client_resends"] += c.reconnects
    c.disconnect()


def observer(port: int, key, until: float, out: dict) -> None:
    c = timed_client(port, key, out["log"], timeout_s=2.0, observe_timeout_s=2.0)
    while time.monotonic() < until:
        try:
            c.observe()
            out["frames"] += 1
        except RobotRefusal as exc:
            if exc.code != "busy":
                out["observe_errors"].append(str(exc)[:200])
            out["observe_busy"] += 1
            time.sleep(0.02)
        except RobotError as exc:
            out["observe_errors"].append(str(exc)[:200])
    out["client_resends"] += c.reconnects
    c._release()


def watchdog_probe(port: int, key, watcher: RobotClient) -> tuple[str, float | None]:
    """A long turn started by a client that then goes silent: ("stopped", seconds after the watchdog period
    until the motion ended), ("running", None) if it went on (or the base kept moving after it ended),
    ("not started", None) if no motion could be started (busy for 5 s, or an injected fault refused it),
    ("ended otherwise", None) if something else ended it first (a stall, the runstop, a restart; its end with
    --no-real-time),
    ("unresolved", None) if no heartbeat answered close to the end (a dropped reply in between)."""
    silent = RobotClient(HOST, port, key, ClientConfig(timeout_s=2.0, retries=0))
    try:
        deadline = time.monotonic() + 5.0
        while True:
            try:
                here = watcher.get_base_pose()
                sent_at = time.monotonic()  # the server fed the watchdog at or after this
                job = silent.request("move_base_to", {"goal": [here.x, here.y, here.theta + PROBE_TURN_RAD],
                                                      "tolerance_m": 0.05, "tolerance_rad": 0.08})[0].get("job")
                break
            except RobotRefusal as exc:  # busy with the commander's motion: try again
                if exc.code != "busy" or time.monotonic() > deadline:
                    return "not started", None
                time.sleep(0.05)
    except RobotError:
        return "not started", None
    finally:
        silent._release()  # silent from here on
    expires = sent_at + WATCHDOG_S
    end = expires + 3.0
    last_busy_sent = sent_at
    while time.monotonic() < end:
        asked = time.monotonic()
        try:
            # a short timeout: an injected dropped reply must not blind the probe for long (resent at once)
            busy = watcher.request("heartbeat", timeout_s=HEARTBEAT_TIMEOUT_S)[0].get("busy")
        except RobotError:
            continue
        answered = time.monotonic()
        if busy is not False:
            last_busy_sent = asked
            time.sleep(0.005)
            continue
        # the motion ended after the server answered the last "busy" and before this answer came back
        reason = _job_reason(watcher, job)
        if "watchdog" not in reason:  # an injected fault (a stall, the runstop, a restart) or its end came first
            ENDED_EARLY.append(reason[:120] or "(completed)")
            return "ended otherwise", None
        try:
            pose = watcher.get_base_pose()
            time.sleep(0.3)
            later = watcher.get_base_pose()
        except RobotError as exc:  # refused or lost: the stop was seen, the standstill could not be checked
            UNRESOLVED.append(f"standstill not checked: {exc}"[:120])
            return "unresolved", None
        if later.distance_to(pose) > 1e-6 or later.heading_error(pose) > 1e-6:
            return "running", None
        if answered - last_busy_sent > 0.05:
            UNRESOLVED.append(f"the end lies within {1000 * (answered - last_busy_sent):.0f} ms (a lost heartbeat)")
            return "unresolved", None
        return "stopped", answered - expires  # an upper bound of the stop latency
    return "running", None


_ECHO_SERVER = """
import sys, zmq
ctx = zmq.Context(); s = ctx.socket(zmq.REP); port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
while True:
    s.send(s.recv())
"""


def echo_floor(until: float, out: list[float]) -> None:
    """The machine's own loopback floor: round trips of 100 bytes to a bare ZMQ echo process (no robot, no
    simulator) every 20 ms, from this process while the soak runs; what scheduling on a shared machine costs."""
    import zmq  # noqa: PLC0415

    proc = subprocess.Popen([sys.executable, "-c", _ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(f"tcp://127.0.0.1:{int(proc.stdout.readline())}")
        payload = b"x" * 100
        while time.monotonic() < until:
            t0 = time.perf_counter()
            sock.send(payload)
            if not sock.poll(2000):
                break
            sock.recv()
            out.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)
    finally:
        sock.close(0)
        ctx.term()
        proc.kill()
        proc.wait()


def _job_reason(watcher: RobotClient, job) -> str:
    """Why the probe's job ended, asked with `wait` on another connection (answered, feeds no watchdog)."""
    try:
        motion = watcher.request("wait", {"job": job, "max_wait_s": 0.0})[0].get("motion") or {}
        return str(motion.get("reason", "?"))
    except RobotRefusal as exc:
        return "the server restarted (the job is gone)" if "no job" in exc.reason else f"? ({exc.reason})"
    except RobotError as exc:
        return f"? ({exc})"


def latency_report(log: list) -> dict:
    kinds = {"queries": set(QUERIES), "motion_starts": {"move_base_to", "move_arm", "set_head"},
             "control": {"heartbeat", "stop"}}
    # hello is a new connection's first request: its time is mostly the TCP connect and CURVE handshake
    plain = [(c, ms, late) for c, ms, late in log if c not in ("observe", "wait", "hello")]
    report = {
        "requests_without_images": percentiles([ms for _, ms, late in plain if not late]),
        "requests_without_images_incl_injected_delays": percentiles([ms for _, ms, _ in plain]),
        "injected_delays_seen": sum(1 for _, _, late in plain if late),
    }
    for name, cmds in kinds.items():
        report[name] = percentiles([ms for c, ms, late in plain if c in cmds and not late])
    report["connect_hello_incl_handshake"] = percentiles([ms for c, ms, late in log if c == "hello" and not late])
    report["wait_long_poll"] = percentiles([ms for c, ms, late in log if c == "wait" and not late])
    report["observe"] = percentiles([ms for c, ms, late in log if c == "observe" and not late])
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", "--seconds", dest="duration", type=float, default=60.0,
                    help="seconds of soak (5-1800; default 60; the issue's soak is 600)")
    ap.add_argument("--observers", type=int, default=2)
    ap.add_argument("--reconnect-s", type=float, default=3.0)
    ap.add_argument("--watchdog-every-s", type=float, default=10.0)
    ap.add_argument("--faults", help="fault file (default: the mix above)")
    ap.add_argument("--no-real-time", action="store_true",
                    help="simulated motions as fast as computed (then most end before the watchdog period)")
    ap.add_argument("--scene", default=str(REPO / "sim" / "data" / "example_scene.json"))
    args = ap.parse_args()
    seconds = min(max(args.duration, 5.0), 1800.0)
    with tempfile.TemporaryDirectory() as tmp:
        faults = args.faults
        if faults is None:
            faults = str(Path(tmp) / "faults.json")
            Path(faults).write_text(json.dumps(DEFAULT_FAULTS))
        extra = ["--watchdog-s", str(WATCHDOG_S), "--faults", faults] + ([] if args.no_real_time else ["--real-time"])
        with serve_sim(args.scene, *extra) as served:
            port, key = served.port, served.key
            first = connect_when_up(port, key, ClientConfig(timeout_s=90.0))  # waits for the simulator to load
            first.observe()
            first._release()
            out = {"log": [], "busy_refusals": 0, "motions": 0, "motion_failed": 0, "failure_reasons": set(),
                   "errors": [], "reconnects": 0, "client_resends": 0, "frames": 0, "observe_errors": [],
                   "observe_busy": 0}
            rss = [(0.0, served.rss_mb())]
            t0 = time.monotonic()
            until = t0 + seconds
            floor: list[float] = []
            probing = threading.Event()
            threads = [threading.Thread(target=commander, args=(port, key, until, args.reconnect_s, out, probing)),
                       threading.Thread(target=echo_floor, args=(until, floor))]
            threads += [threading.Thread(target=observer, args=(port, key, until, out)) for _ in range(args.observers)]
            for t in threads:
                t.start()
            watcher = timed_client(port, key, [], timeout_s=0.25)  # not the mix's; a dropped reply costs 0.25 s
            stops: list[float] = []
            probes = {"stopped": 0, "running": 0, "not started": 0, "ended otherwise": 0,
                      "unresolved": 0}
            next_probe = t0 + args.watchdog_every_s
            next_rss = t0 + 30.0
            while time.monotonic() < until - 4.0:
                now = time.monotonic()
                if now >= next_rss:
                    rss.append((round(now - t0), served.rss_mb()))
                    next_rss += 30.0
                if now >= next_probe:
                    probing.set()
                    try:
                        outcome, lat = watchdog_probe(port, key, watcher)
                    finally:
                        probing.clear()
                    probes[outcome] += 1
                    if lat is not None:
                        stops.append(lat)
                    next_probe = time.monotonic() + args.watchdog_every_s
                time.sleep(0.1)
            for t in threads:
                t.join(timeout=seconds + 60)
            elapsed = time.monotonic() - t0
            rss.append((round(elapsed), served.rss_mb()))
            watcher.disconnect()
            alive = served.alive()
    injected = [line.split("injected fault: ")[1][:60] for line in served.stderr.splitlines()
                if "injected fault: " in line]
    tracebacks = served.stderr.count("Traceback")
    rss_start, rss_end = rss[0][1], rss[-1][1]
    frames_s = out["frames"] / elapsed
    result = {
        "benchmark": "bridge_soak", "seconds": round(elapsed, 1), "wire_version": wire.VERSION,
        "real_time_motions": not args.no_real_time, "server_alive_at_end": alive,
        "server_tracebacks": tracebacks,
        "latency": latency_report(out["log"]),
        "target_p99_ms_without_images": 20,
        "loopback_floor_bare_zmq_echo": percentiles(floor),
        "observe_fps": round(frames_s, 2), "observers": args.observers,
        "observe_busy_refusals": out["observe_busy"],
        "motions": out["motions"], "motions_failed": out["motion_failed"],
        "motion_failure_reasons": sorted(out["failure_reasons"]),
        "busy_refusals_during_watchdog_probes": out["busy_refusals"],
        "reconnects_scheduled": out["reconnects"], "resends_after_no_reply": out["client_resends"],
        "watchdog": {"period_s": WATCHDOG_S, "probes": probes,
                     "stop_latency_after_period_s": {
                         "n": len(stops), "median": round(sorted(stops)[len(stops) // 2], 3) if stops else None,
                         "max": round(max(stops), 3) if stops else None},
                     "unresolved_why": UNRESOLVED[:5], "ended_otherwise_why": ENDED_EARLY[:5], "target_max_s": 0.1,
                     "motions_continuing_without_client": probes["running"]},
        "server_rss_mb": {"samples": [(t, round(m, 1)) for t, m in rss], "start": round(rss_start, 1),
                          "end": round(rss_end, 1),
                          "growth_pct": round(100 * (rss_end - rss_start) / rss_start, 2)
                          if math.isfinite(rss_start) and rss_start > 0 else None},
        "target_growth_pct": 5,
        "server_log_injected": {k: injected.count(k) for k in sorted(set(injected))},
        "errors": len(out["errors"]), "error_examples": out["errors"][:5],
        "observe_errors": len(out["observe_errors"]), "observe_error_examples": out["observe_errors"][:3],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
