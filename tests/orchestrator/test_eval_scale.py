"""`ovmm eval` at scale, for real: Ray workers (1 and 2, one killed mid-run), a local Ray cluster started with
`ray start --head` and joined through --ray-address, and a run killed with SIGKILL and resumed.

All runs use the same two apartments (seeds 1 and 2, one episode each, 160x120 scans) and the same cache
folder, so the apartments are scanned once for the module; every way of running must give the same episodes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.configs import EvalConfig
from orchestrator.eval_cluster import ClusterConfig
from orchestrator.eval_driver import Progress, evaluate
from orchestrator.eval_jobs import outcome

ray = pytest.importorskip("ray", reason="the cluster extra (Ray) is not installed")

SEED, EPISODES, PER_SCENE, CAMERA = 1, 2, 1, (160, 120)
RAY_BIN = Path(sys.executable).parent / "ray"


def _args(cache: Path, *extra: str) -> list[str]:
    return ["eval", "--episodes", str(EPISODES), "--seed", str(SEED), "--episodes-per-scene", str(PER_SCENE),
            "--scan-camera", f"{CAMERA[0]}x{CAMERA[1]}", "--cache-dir", str(cache), *extra]


def _by_episode(records) -> dict[tuple[int, int], dict]:
    """Outcomes by (apartment, index); the settings part of the key is left out (the test builds its
    EvalConfig directly, the CLI from its flags)."""
    out = {}
    for r in records:
        o = outcome(r)
        assert o.pop("key").startswith(f"{r['scene_seed']}:{r['index']}:")
        o.pop("settings")
        out[(r["scene_seed"], r["index"])] = o
    return out


def _outcomes(path: Path) -> dict[tuple[int, int], dict]:
    return _by_episode(map(json.loads, path.read_text().splitlines()))


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("eval-cache")


@pytest.fixture(scope="module")
def one_worker(cache, tmp_path_factory) -> tuple[dict, dict]:
    """Records and summary of the episodes on 1 Ray worker (scans both apartments into the cache)."""
    out = tmp_path_factory.mktemp("one-worker")
    assert main(_args(cache, "--workers", "1", "--results", str(out / "r.jsonl"), "--json", str(out / "e.json"))) == 0
    summary = json.loads((out / "e.json").read_text())
    assert summary["workers"] == 1 and summary["episodes"] == EPISODES and summary["errors"] == []
    return _outcomes(out / "r.jsonl"), summary


def _same_summary(a: dict, b: dict) -> None:
    for k in ("episodes", "success", "failures", "failures_by_phase", "apartments"):
        assert a[k] == b[k], k


class _KillOneWorker(Progress):
    """When the first episode lands, SIGKILL the Ray worker process running another episode."""

    def __init__(self) -> None:
        self.killed: list[int] = []

    def record(self, record: dict) -> None:
        if self.killed:
            return
        for _ in range(50):
            pids = [p for p in _procs_titled("ray::run_episode_job") if p != os.getpid() and _ours(p)]
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                self.killed.append(pids[0])
                return
            time.sleep(0.1)


def _ours(pid: int) -> bool:
    """Whether `pid` descends from this process (a worker of the Ray this test started, not another run's)."""
    me = os.getpid()
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: the parent's pid
        if pid == me:
            return True
    return False


def _procs_titled(title: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace").startswith(title):
                    out.append(int(d.name))
            except OSError:
                continue
    return out


def test_two_workers_give_the_same_episodes_as_one_even_when_a_worker_dies(cache, one_worker, tmp_path):
    reference, summary1 = one_worker
    config = EvalConfig(episodes=EPISODES, seed=SEED, episodes_per_scene=PER_SCENE, cache_dir=str(cache),
                        scan_width=CAMERA[0], scan_height=CAMERA[1])
    killer = _KillOneWorker()
    from orchestrator.eval_results import ResultsFile

    run = evaluate(config, ClusterConfig(workers=2, object_store_mb=256), ResultsFile(tmp_path / "r.jsonl"), killer)
    assert run.workers == 2 and run.errors == [] and run.apartments_scanned_now == 0
    assert len(killer.killed) == 1, "no episode was running when the first one landed"
    # The killed worker's episode ran again, once, and was reported.
    assert len(run.retries) == 1 and run.retries[0]["reason"] in ("WorkerCrashedError", "ActorDiedError",
                                                                   "NodeDiedError", "ObjectLostError")
    assert _by_episode(run.records) == reference
    assert _outcomes(tmp_path / "r.jsonl") == reference
    from orchestrator.evaluation import aggregate_records

    _same_summary(aggregate_records(run.records, 1.0, {"apartments": run.apartments}), summary1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_cluster(tmp_path):
    """A real Ray head on 127.0.0.1 with 2 CPUs (`ray start --head --block`), stopped at the end by
    interrupting that command, which stops this cluster only (`ray stop` would stop every Ray on the machine)."""
    port = _free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = [str(RAY_BIN), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
           "--num-cpus", "2", "--include-dashboard=false", "--object-store-memory", str(256 * 2**20),
           "--disable-usage-stats"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, "ray start --head exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the Ray head did not come up in 120 s"
                time.sleep(0.5)
        time.sleep(2)  # the raylet registers just after the GCS port opens
        yield f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def test_eval_on_a_ray_cluster_through_ray_address(cache, one_worker, ray_cluster, tmp_path, capsys):
    reference, _ = one_worker
    capsys.readouterr()
    assert main(_args(cache, "--ray-address", ray_cluster, "--results", str(tmp_path / "r.jsonl"))) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["workers"] == 2 and out["episodes"] == EPISODES and out["errors"] == []
    assert _outcomes(tmp_path / "r.jsonl") == reference


def test_an_unreachable_cluster_is_one_error_line(tmp_path, capsys):
    port = _free_port()  # nothing listens there
    assert main(_args(tmp_path / "cache", "--ray-address", f"127.0.0.1:{port}")) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot reach the Ray cluster at 127.0.0.1:{port}")
    assert not (tmp_path / "cache").exists()


def test_a_killed_run_resumes_without_redoing_finished_episodes(cache, one_worker, tmp_path):
    reference, summary1 = one_worker
    results = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "orchestrator", *_args(cache, "--results", str(results))]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 1:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    landed = _outcomes(results)
    assert 1 <= len(landed) < EPISODES
    first = results.read_text().splitlines()
    assert main(_args(cache, "--results", str(results), "--json", str(tmp_path / "e.json"))) == 0
    summary = json.loads((tmp_path / "e.json").read_text())
    assert summary["episodes_from_results"] == len(landed)
    assert summary["episodes_run_now"] == EPISODES - len(landed)
    lines = results.read_text().splitlines()
    assert lines[: len(first)] == first and len(lines) == EPISODES  # nothing redone, nothing twice
    # The plain loop, killed and resumed, gives the same episodes as the Ray workers.
    assert _outcomes(results) == reference
    _same_summary(summary, summary1)


def test_a_changing_home_runs_on_workers_one_task_per_apartment(cache, one_worker, tmp_path):
    """--changes on Ray workers: each apartment's sequence (changes, then its requests with the map carried)
    is one task; the records are those of the same evaluation in this process."""
    here, there, summary = tmp_path / "here.json", tmp_path / "there.json", tmp_path / "e.json"
    changes = ("--changes", "1", "--changed-target-share", "1")
    assert main(_args(cache, *changes, "--details", str(here))) == 0
    assert main(_args(cache, *changes, "--workers", "2", "--details", str(there), "--json", str(summary))) == 0
    s = json.loads(summary.read_text())
    assert s["workers"] == 2 and s["errors"] == [] and s["episodes"] == EPISODES
    assert s["changes"]["apartments"] == 2 and s["changes"]["objects_changed"] == 2

    def without_times(records):
        for r in records:
            assert r["change"] is not None and r["report"]["map_update"]["what"] == "run"
            r.pop("when")
            r["report"]["map_update"].pop("when")
        return _by_episode(records)

    assert without_times(json.loads(there.read_text())) == without_times(json.loads(here.read_text()))
