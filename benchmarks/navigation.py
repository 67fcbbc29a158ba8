"""Navigation benchmark over generated apartments: planning time, path quality, clearance, base goals.

For each apartment (sim.scene.generator seeds 0..N-1) the planner input is the ground-truth occupancy
(sim.scene.ground_truth.occupancy_grid at 5 cm) as an ObstacleGrid. Measured:
- planning time (Navigator.plan_to_pose: occupancy + roadmap search + smoothing + turn checks) between the
  two farthest-apart free cells of the robot's component, and between random pairs; "cold" includes
  building the roadmap (once per map), "warm" reuses it; wall-clock and process CPU time (the CPU figure
  is what the planner costs when other jobs share the cores; `load_average_1min` says how busy they were);
- path length over the shortest 8-connected grid path on the same inflated grid;
- minimum distance from the (smoothed) paths to ground-truth obstacle cells (robot radius 0.22 m);
- base goals for every object: success rate and FK reach error (core.stretch).
Prints one JSON object.

    .venv/bin/python benchmarks/navigation.py [--apartments 20] [--pairs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.stretch import STRETCH, T_world_grasp  # noqa: E402
from core.types import JointState, Pose2D  # noqa: E402
from navigation.geodesic import distance_field, farthest_pair  # noqa: E402
from navigation.navigator import Navigator  # noqa: E402
from navigation.occupancy import obstacle_grid_from_mask, occupancy_from_obstacle_grid  # noqa: E402
from navigation.smoothing import densify  # noqa: E402
from sim.scene.generator import generate_scene  # noqa: E402
from sim.scene.ground_truth import occupancy_grid  # noqa: E402


def min_distance(points_xy: np.ndarray, tree: cKDTree, centres: np.ndarray, res: float) -> float:
    """Exact distance from points to the nearest obstacle cell square (checked among 16 nearest centres)."""
    _, idx = tree.query(points_xy, k=16)
    d = np.abs(points_xy[:, None, :] - centres[idx]) - res / 2
    return float(np.linalg.norm(np.maximum(d, 0.0), axis=2).min())


def reach_error(pose: Pose2D, target: np.ndarray, joints: JointState) -> float:
    return float(np.linalg.norm(T_world_grasp(pose, joints)[:3, 3] - target))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apartments", type=int, default=20)
    ap.add_argument("--pairs", type=int, default=10, help="random start/goal pairs per apartment")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    cold, warm_far, warm_rand, build, ratios, clearances = [], [], [], [], [], []
    cold_cpu, warm_far_cpu = [], []  # process CPU time: what the planner costs, whatever else the machine runs
    goals_ok = goals_total = 0
    reach_errs, goal_times = [], []
    failures = []
    sizes = []
    for seed in range(args.apartments):
        spec = generate_scene(seed)
        obstacle, origin, res = occupancy_grid(spec, resolution_m=0.05)
        grid = obstacle_grid_from_mask(obstacle, origin, res)
        rr, cc = np.nonzero(obstacle)
        centres = origin + (np.stack([cc, rr], axis=1) + 0.5) * res
        tree = cKDTree(centres)
        nav = Navigator()
        occ = occupancy_from_obstacle_grid(grid, nav.config.occupancy)
        sizes.append(int(occ.traversable.sum()))
        start = spec.robot_start
        snapped = nav.planner.snap(occ, start.xy)
        if snapped is None:
            failures.append(f"seed {seed}: robot start not on free space")
            continue
        a, b, _ = farthest_pair(occ, snapped)
        pairs = [(a, b)]
        comp = occ.component_labels == occ.component_of(snapped)[0]
        cr, ccol = np.nonzero(comp)
        for _ in range(args.pairs):
            i, j = rng.choice(len(cr), 2, replace=False)
            pairs.append(tuple(occ.cell_to_world([[cr[k], ccol[k]]])[0] for k in (i, j)))
        for k, (s, g) in enumerate(pairs):
            t0, c0 = time.perf_counter(), time.process_time()
            res_ = nav.plan_to_pose(grid, Pose2D(*s), Pose2D(*g))
            dt = time.perf_counter() - t0
            if k == 0:
                cold.append(dt)
                cold_cpu.append(time.process_time() - c0)
                build.append(nav.planner.roadmap(occ).build_s)
                t0, c0 = time.perf_counter(), time.process_time()
                res_ = nav.plan_to_pose(grid, Pose2D(*s), Pose2D(*g))
                warm_far.append(time.perf_counter() - t0)
                warm_far_cpu.append(time.process_time() - c0)
            else:
                warm_rand.append(dt)
            if not res_.success:
                failures.append(f"seed {seed}: {res_.reason}")
                continue
            ref = distance_field(occ, s)[tuple(occ.world_to_cell(g)[0])]
            if np.isfinite(ref) and ref > 0.5:
                ratios.append(res_.length_m / ref)
            clearances.append(min_distance(densify(res_.smoothed_xy, 0.01), tree, centres, res))
        for obj in spec.objects:
            goals_total += 1
            target = np.asarray(obj.position, np.float64)
            t0 = time.perf_counter()
            r = nav.plan_to_target(grid, start, target)
            goal_times.append(time.perf_counter() - t0)
            if r.success:
                goals_ok += 1
                reach_errs.append(reach_error(r.base_goal.pose, target, r.base_goal.joints))
                clearances.append(min_distance(densify(r.smoothed_xy, 0.01), tree, centres, res))

    def med_ms(v):
        return round(1e3 * statistics.median(v), 2) if v else None

    out = {
        "benchmark": "navigation",
        "apartments": args.apartments,
        "resolution_m": 0.05,
        "free_cells_median": int(statistics.median(sizes)) if sizes else 0,
        "plan_ms_farthest_pair_warm_median": med_ms(warm_far),
        "plan_ms_farthest_pair_warm_max": round(1e3 * max(warm_far), 2) if warm_far else None,
        "plan_ms_random_pairs_warm_median": med_ms(warm_rand),
        "plan_ms_farthest_pair_cold_median": med_ms(cold),
        "plan_cpu_ms_farthest_pair_cold_median": med_ms(cold_cpu),
        "plan_cpu_ms_farthest_pair_warm_median": med_ms(warm_far_cpu),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "roadmap_build_ms_median": med_ms(build),
        "path_over_grid_shortest_median": round(statistics.median(ratios), 4) if ratios else None,
        "path_over_grid_shortest_max": round(max(ratios), 4) if ratios else None,
        "min_clearance_m": round(min(clearances), 4) if clearances else None,
        "robot_radius_m": STRETCH.base_radius_m,
        "plan_failures": failures,
        "base_goal_success": f"{goals_ok}/{goals_total}",
        "base_goal_reach_error_max_m": round(max(reach_errs), 4) if reach_errs else None,
        "plan_to_target_ms_median": med_ms(goal_times),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
