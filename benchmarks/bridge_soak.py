"""Robot-bridge soak: `ovmm robot-server --backend sim --faults F` on loopback for a bounded time, under load.

(The pre-authentication flood is benchmarks/bridge.py; this is the soak of issue 23.) Starts the server with
a fault file (default: 2% dropped and 2% late replies, a restart after 500 requests, a base stall and an
arm fault now and then, the runstop once), then for --seconds:

- a commanding client issues the real command mix (get_base_pose, get_joints, is_holding, small
  move_base_to there and back, move_arm, set_head) and reconnects every --reconnect-s seconds;
- --observers clients call observe() in a loop (frames per second);
- every --watchdog-every-s seconds a raw peer starts a long motion and goes silent: the watchdog stop latency
  is the time from the watchdog period expiring to the server no longer busy (polled by another client
  `heartbeat`, which is answered while a motion runs and feeds no watchdog: the moment the motion job ends).

Prints one JSON object: request latency percentiles of the non-image requests, observe() fps, watchdog stop
latencies (target: at most 0.1 s after the period) and motions still running without a client, server memory
(VmRSS) at the start and end of the soak and its growth in percent (target: under 5%), the faults injected
and handled, and errors (any exception other than an injected fault's report).

    nice python benchmarks/bridge_soak.py [--seconds 60] [--observers 2] [--faults FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bridge import HOST, free_port, percentiles, rss_mb  # noqa: E402
from core.errors import RobotError  # noqa: E402
from core.types import Pose2D  # noqa: E402
from robots import keys, wire  # noqa: E402
from robots.client import ClientConfig, RobotClient, RobotRefusal  # noqa: E402

DEFAULT_FAULTS = {"seed": 7, "drop_reply_p": 0.02, "delay_reply_p": 0.02, "delay_reply_s": 0.05,
                  "restart_after_requests": 500, "restart_down_s": 0.5, "base_stall_on": [5, 17, 40],
                  "arm_fault_on": [3, 11], "runstop_on_motion": 25, "runstop_s": 1.0}
QUERIES = ("get_base_pose", "get_joints", "is_holding")
WATCHDOG_S = 0.5


def client(port: int, key, **cfg) -> RobotClient:
    c = RobotClient(HOST, port, key, ClientConfig(timeout_s=cfg.pop("timeout_s", 2.0), heartbeat_s=0.1, **cfg))
    for attempt in range(5):  # a server that is restarting (an injected fault) answers hello a little later
        try:
            c.connect()
            return c
        except RobotError:
            if attempt == 4:
                raise
            time.sleep(0.5)
    return c


def commander(port: int, key, until: float, reconnect_s: float, out: dict) -> None:
    c = client(port, key)
    last_connect, k = time.monotonic(), 0
    home = c.get_base_pose()
    while time.monotonic() < until:
        if time.monotonic() - last_connect > reconnect_s:
            out["client_reconnects"] += c.reconnects
            c.disconnect()
            c = client(port, key)
            last_connect = time.monotonic()
            out["reconnects"] += 1
        k += 1
        try:
            cmd = QUERIES[k % 3]
            resends, t0 = c.reconnects, time.perf_counter()
            c.request(cmd)
            ms = (time.perf_counter() - t0) * 1000
            out["latency_ms"].append(ms)
            if c.reconnects == resends:  # answered the first time (no dropped reply in between)
                out["latency_first_ms"].append(ms)
            if k % 10 == 0:
                goal = Pose2D(home.x + (0.1 if (k // 10) % 2 else 0.0), home.y, home.theta)
                res = c.move_base_to(goal, tolerance_m=0.03)
                out["motions"] += 1
                out["motion_failed"] += not res.success
                if not res.success:
                    out["failure_reasons"].add(res.reason.split(" (")[0][:80])
            elif k % 10 == 5:
                res = c.move_arm(lift_m=0.5 + 0.1 * ((k // 10) % 2))
                out["motions"] += 1
                out["motion_failed"] += not res.success
                if not res.success:
                    out["failure_reasons"].add(res.reason.split(" (")[0][:80])
        except RobotRefusal as exc:
            if exc.code != "busy":  # busy: the watchdog probe's motion runs; the server refuses others meanwhile
                out["errors"].append(str(exc)[:200])
            out["busy_refusals"] += exc.code == "busy"
        except RobotError as exc:
            out["errors"].append(str(exc)[:200])
    out["client_reconnects"] += c.reconnects
    c.disconnect()


def observer(port: int, key, until: float, out: dict) -> None:
    c = client(port, key, timeout_s=2.0, observe_timeout_s=2.0)
    while time.monotonic() < until:
        try:
            c.observe()
            out["frames"] += 1
        except RobotRefusal as exc:
            if exc.code != "busy":
                out["observe_errors"].append(str(exc)[:200])
            time.sleep(0.02)
        except RobotError as exc:
            out["observe_errors"].append(str(exc)[:200])
    c.disconnect()


def watchdog_probe(port: int, key, watcher: RobotClient) -> tuple[str, float | None]:
    """Start a long motion on a raw client that then goes silent: ("stopped", seconds from the watchdog period
    expiring to the base standing still), ("running", None) if it did not stop, ("not started", None) if the
    motion was refused (an injected fault) or never moved."""
    try:
        return _probe(port, key, watcher)
    except RobotError:
        return "not started", None


def _probe(port: int, key, watcher: RobotClient) -> tuple[str, float | None]:
    silent = RobotClient(HOST, port, key, ClientConfig(timeout_s=2.0, retries=0))
    try:
        here = watcher.get_base_pose()
        silent.request("move_base_to", {"goal": [here.x + 2.5, here.y, here.theta], "tolerance_m": 0.05,
                                        "tolerance_rad": 0.08})
        last_feed = time.monotonic()
    except RobotError:
        silent._release()
        return "not started", None
    silent._release()  # silent from here on
    deadline = last_feed + WATCHDOG_S + 3.0
    while time.monotonic() < deadline:  # heartbeat without a job: answered while busy, feeds no watchdog
        if watcher.request("heartbeat")[0].get("busy") is False:
            late = time.monotonic() - (last_feed + WATCHDOG_S)
            # the simulator drives faster than real time: a motion that ended before the period is no measure
            return ("stopped", late) if late >= 0 else ("ended before the watchdog period", None)
        time.sleep(0.005)
    return "running", None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--observers", type=int, default=2)
    ap.add_argument("--reconnect-s", type=float, default=3.0)
    ap.add_argument("--watchdog-every-s", type=float, default=10.0)
    ap.add_argument("--faults", help="fault file (default: the mix above)")
    ap.add_argument("--scene", default=str(REPO / "sim" / "data" / "example_scene.json"))
    args = ap.parse_args()
    seconds = min(max(args.seconds, 5.0), 1800.0)
    with tempfile.TemporaryDirectory() as tmp:
        key_file = keys.write_new_key(Path(tmp) / "robot.key")
        key = keys.load_key(key_file)
        faults = args.faults
        if faults is None:
            faults = str(Path(tmp) / "faults.json")
            Path(faults).write_text(json.dumps(DEFAULT_FAULTS))
        port = free_port()
        env = dict(os.environ, OMP_NUM_THREADS="1", MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "robot-server", "--backend", "sim", "--scene", args.scene,
             "--host", HOST, "--port", str(port), "--key-file", str(key_file), "--watchdog-s", str(WATCHDOG_S),
             "--faults", faults], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            first = client(port, key, timeout_s=90.0)  # waits for the simulator to load
            first.observe()
            first.disconnect()
            rss_start = rss_mb(proc.pid)
            until = time.monotonic() + seconds
            out = {"latency_ms": [], "latency_first_ms": [], "busy_refusals": 0, "motions": 0, "motion_failed": 0, "failure_reasons": set(), "errors": [],
                   "reconnects": 0, "client_reconnects": 0, "frames": 0, "observe_errors": []}
            threads = [threading.Thread(target=commander, args=(port, key, until, args.reconnect_s, out))]
            threads += [threading.Thread(target=observer, args=(port, key, until, out)) for _ in range(args.observers)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            watcher = client(port, key)
            stops: list[float] = []
            probes = {"stopped": 0, "running": 0, "not started": 0, "ended before the watchdog period": 0}
            while time.monotonic() + args.watchdog_every_s < until:
                time.sleep(args.watchdog_every_s)
                outcome, lat = watchdog_probe(port, key, watcher)
                probes[outcome] += 1
                if lat is not None:
                    stops.append(lat)
            for t in threads:
                t.join(timeout=seconds + 30)
            elapsed = time.monotonic() - t0
            rss_end = rss_mb(proc.pid)
            watcher.disconnect()
            alive = proc.poll() is None
        finally:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
    injected = [line.split("injected fault: ")[1][:60] for line in err.splitlines() if "injected fault: " in line]
    result = {
        "benchmark": "bridge_soak", "seconds": round(elapsed, 1), "wire_version": wire.VERSION,
        "server_alive_at_end": alive, "requests_without_images": percentiles(out["latency_ms"]),
        "requests_without_images_answered_first_time": percentiles(out["latency_first_ms"]),
        "busy_refusals_during_watchdog_probes": out["busy_refusals"],
        "observe_fps": round(out["frames"] / elapsed, 2), "observers": args.observers,
        "motions": out["motions"], "motions_failed": out["motion_failed"],
        "motion_failure_reasons": sorted(out["failure_reasons"]),
        "reconnects_scheduled": out["reconnects"], "resends_after_no_reply": out["client_reconnects"],
        "watchdog": {"period_s": WATCHDOG_S, "probes": probes,
                     "stop_latency_after_period_s": [round(s, 3) for s in stops],
                     "max_s": round(max(stops), 3) if stops else None,
                     "motions_continuing_without_client": probes["running"]},
        "server_rss_mb": {"start": round(rss_start, 1), "end": round(rss_end, 1),
                          "growth_pct": round(100 * (rss_end - rss_start) / rss_start, 2)},
        "server_log_injected": {k: injected.count(k) for k in sorted(set(injected))},
        "errors": len(out["errors"]), "error_examples": out["errors"][:5],
        "observe_errors": len(out["observe_errors"]), "observe_error_examples": out["observe_errors"][:3],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
