"""MuJoCo world speed: scene build, physics settle, RGB-D + instance rendering, base motion, grasp.

Builds the example scene and generated apartments, then times what an episode spends its time on. Prints one
JSON object (times in seconds unless named _ms).

    MUJOCO_GL=egl OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sim.py [--seeds 3] [--frames 20] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys  # noqa: E402
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
# This file is named sim.py: drop its own folder from the path so `import sim` finds the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from core.stretch import head_look_at  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.mujoco.world import SimWorld  # noqa: E402
from sim.robot import SimRobot  # noqa: E402
from sim.scene.episodes import ReachOracle, make_episodes  # noqa: E402
from sim.scene.generator import generate_scene  # noqa: E402
from sim.scene.spec import SceneSpec  # noqa: E402
from sim.scene.walkthrough import scan_route  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "sim" / "data" / "example_scene.json"


def _median_ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 2)


def bench_world(spec: SceneSpec, frames: int) -> dict:
    t0 = time.perf_counter()
    world = SimWorld(spec)
    build_total = time.perf_counter() - t0
    robot = SimRobot(world)
    robot.connect()
    out = {"scene": spec.name, "objects": len(spec.objects), "geoms": int(world.model.ngeom),
           "build_s": round(world.build_time_s, 3), "settle_s": round(world.settle_time_s, 3),
           "settle_sim_s": round(world.sim_time_s, 2), "build_total_s": round(build_total, 3)}
    if spec.objects:
        pan, tilt = head_look_at(world.base_pose, world.object_center(spec.objects[0].id))
        robot.set_head(pan, tilt)
    robot.observe()  # first frame creates the GL context
    times, cpu = [], []
    for _ in range(frames):
        t, c = time.perf_counter(), time.process_time()
        robot.observe()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    out["observe_640x480_ms"] = _median_ms(times)
    out["observe_cpu_ms"] = _median_ms(cpu)  # CPU time of all threads (the renderer is multithreaded)
    # Base motion along the scan route (collision checked every 5 cm / 0.1 rad).
    stops = scan_route(spec)[:6]
    t = time.perf_counter()
    moved, steps_ok = 0.0, 0
    for stop in stops:
        before = world.base_pose
        res = robot.move_base_to(stop.pose)
        moved += before.distance_to(world.base_pose)
        steps_ok += int(res.success)
    dt = time.perf_counter() - t
    out["base_move_s_per_m"] = round(dt / max(moved, 1e-6), 4)
    out["base_moves_ok"] = f"{steps_ok}/{len(stops)}"
    t = time.perf_counter()
    world.step_physics(1.0)
    out["physics_1s_sim_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    eps = make_episodes(spec, 3, 0)
    out["make_episodes_3_s"] = round(time.perf_counter() - t, 3)
    # Ground-truth base poses (disc robot on the occupancy grid): is the real footprint free there too?
    oracle, free, total = ReachOracle(spec), 0, 0
    for ep in eps:
        base = oracle.base_pose_for(world.object_center(ep.object_id))
        if base is not None:
            world.set_robot_state(base, world.joints)
            total += 1
            free += int(world.robot_contact() is None)
    out["oracle_base_poses_collision_free"] = f"{free}/{total}"
    world.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="generated apartments to time (default 3)")
    ap.add_argument("--frames", type=int, default=20, help="frames to time per scene (default 20)")
    ap.add_argument("--quick", action="store_true", help="1 generated scene, 5 frames")
    args = ap.parse_args()
    seeds, frames = (1, 5) if args.quick else (args.seeds, args.frames)
    cfg = SimConfig()
    scenes = [bench_world(SceneSpec.load(EXAMPLE), frames)]
    for seed in range(seeds):
        scenes.append(bench_world(generate_scene(seed), frames))
    gen = scenes[1:] or scenes
    print(json.dumps({
        "benchmark": "sim",
        "camera": f"{cfg.camera_width}x{cfg.camera_height} vfov {cfg.camera_vfov_deg} deg",
        "cpu_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "observe_ms_median": statistics.median(s["observe_640x480_ms"] for s in gen),
        "observe_cpu_ms_median": statistics.median(s["observe_cpu_ms"] for s in gen),
        "observe_target_ms": 100,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "build_s_median": statistics.median(s["build_total_s"] for s in gen),
        "settle_s_median": statistics.median(s["settle_s"] for s in gen),
        "base_move_s_per_m_median": statistics.median(s["base_move_s_per_m"] for s in gen),
        "scenes": scenes,
    }, indent=1))


if __name__ == "__main__":
    main()
