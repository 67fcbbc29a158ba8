"""Evaluation at scale: the same 12 episodes in the plain loop, on 1 Ray worker and on 2 (JSON on stdout).

The apartments (seeds 40-45, two episodes each, 160x120 scans, not used by any test) are scanned first and
kept in a temporary cache folder, so every timed run does the same work: load the scans, run the episodes.
Reported:
- wall seconds of each run, and its steady-state seconds per episode (time between the first and the last
  episode landing / 11), which leaves out one-time costs (Ray start, workers importing torch and MuJoCo);
- speedup_2_over_1: 1-worker wall / 2-worker wall (target >= 1.7 on 2 cores), and the same over the plain loop;
- ray_overhead_per_episode: 1-worker steady-state seconds per episode / the plain loop's - 1 (target <= 5 %);
- identical: whether the three runs gave the same episodes (orchestrator.eval_jobs.outcome) and aggregate;
- the load average before and after (the machine may be shared: speedups measured under load are low).
Usage: python benchmarks/eval_scale.py [--episodes 12] [--seed 40] [--dump DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from orchestrator.configs import EvalConfig  # noqa: E402
from orchestrator.eval_cluster import ClusterConfig, local_cpus  # noqa: E402
from orchestrator.eval_driver import Progress, evaluate  # noqa: E402
from orchestrator.eval_jobs import outcome, prepare_apartment  # noqa: E402
from orchestrator.evaluation import aggregate_records, episodes_for  # noqa: E402


class _Clock(Progress):
    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.times: list[float] = []

    def record(self, record: dict) -> None:
        self.times.append(time.perf_counter() - self.t0)


def _timed(config: EvalConfig, cluster: ClusterConfig | None) -> dict:
    clock = _Clock()
    run = evaluate(config, cluster, None, clock)
    t = clock.times
    steady = (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else float("nan")
    return {"run": run, "wall_s": round(run.wall_seconds, 2), "first_episode_at_s": round(t[0], 2),
            "steady_s_per_episode": round(steady, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--seed", type=int, default=40)
    ap.add_argument("--dump", help="write each run's episode records here (DIR/<run>.jsonl)")
    args = ap.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ovmm-eval-scale-") as cache:
        config = EvalConfig(episodes=args.episodes, seed=args.seed, episodes_per_scene=2, cache_dir=cache,
                            scan_width=160, scan_height=120)
        t0 = time.perf_counter()
        for seed, n in episodes_for(config):
            prepare_apartment(config, seed, n)
        scan_s = time.perf_counter() - t0
        plain = _timed(config, None)
        one = _timed(config, ClusterConfig(workers=1, object_store_mb=256))
        two = _timed(config, ClusterConfig(workers=2, object_store_mb=256))
    runs = {"plain": plain, "ray_1_worker": one, "ray_2_workers": two}
    if args.dump:
        Path(args.dump).mkdir(parents=True, exist_ok=True)
        for name, v in runs.items():
            Path(args.dump, f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in v["run"].records))
    outcomes = [[outcome(r) for r in v["run"].records] for v in runs.values()]
    aggs = [{k: v for k, v in aggregate_records(x["run"].records, 0.0).items() if k != "seconds_per_episode"}
            for x in runs.values()]
    out = {
        "episodes": len(plain["run"].records), "apartments": plain["run"].apartments, "cpus": local_cpus(),
        "scan_seconds_untimed": round(scan_s, 1),
        **{f"{k}_{m}": v[m] for k, v in runs.items() for m in ("wall_s", "first_episode_at_s", "steady_s_per_episode")},
        "speedup_2_over_1": round(one["wall_s"] / two["wall_s"], 3),
        "speedup_2_over_plain": round(plain["wall_s"] / two["wall_s"], 3),
        "speedup_2_over_1_steady": round(one["steady_s_per_episode"] / two["steady_s_per_episode"], 3),
        "ray_overhead_per_episode": round(one["steady_s_per_episode"] / plain["steady_s_per_episode"] - 1, 4),
        "ray_overhead_whole_run": round(one["wall_s"] / plain["wall_s"] - 1, 4),
        "identical": all(o == outcomes[0] for o in outcomes) and all(a == aggs[0] for a in aggs),
        "differing_episodes": {name: [r["key"] for r, a, b in zip(v["run"].records, outcomes[0], o, strict=False)
                                      if a != b] for (name, v), o in list(zip(runs.items(), outcomes, strict=True))[1:]},
        "success_overall": aggs[0]["success"]["overall"],
        "errors": sum(len(v["run"].errors) for v in runs.values()),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "targets": {"speedup_2_over_1": 1.7, "ray_overhead_per_episode": 0.05},
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
