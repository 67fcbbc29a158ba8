"""Plans executed by the simulated Stretch (sim.robot.SimRobot, collision-checked base motion): every
waypoint is reached without contact and the base goal passes the simulator's own reach check."""

from __future__ import annotations

import numpy as np
import pytest

from navigation.navigator import Navigator
from navigation.occupancy import obstacle_grid_from_mask

generator = pytest.importorskip("sim.scene.generator")
pytest.importorskip("mujoco")


@pytest.mark.parametrize("seed", [0, 1])
def test_sim_robot_drives_the_waypoints_and_reaches_objects(seed):
    from sim.mujoco.world import SimWorld
    from sim.robot import SimRobot
    from sim.scene.ground_truth import occupancy_grid
    from sim.scoring import object_reachable_from

    spec = generator.generate_scene(seed)
    world = SimWorld(spec)
    robot = SimRobot(world)
    robot.connect()
    obstacle, origin, res = occupancy_grid(spec)
    grid = obstacle_grid_from_mask(obstacle, origin, res)
    nav = Navigator()
    reached = 0
    for obj in spec.objects[:6]:
        target = world.object_center(obj.id)
        plan = nav.plan_to_target(grid, robot.get_base_pose(), target)
        if not plan.success:
            assert "reach" in plan.reason or "connected" in plan.reason
            continue
        for wp in plan.waypoints:
            motion = robot.move_base_to(wp)
            assert motion.success, f"{obj.id}: {motion.reason} on the way to {wp}"
        pose = robot.get_base_pose()
        assert pose.distance_to(plan.base_goal.pose) < 0.06
        assert object_reachable_from(world, pose, obj.id), obj.id
        reached += 1
    assert reached >= 4
    assert np.isfinite(robot.get_base_pose().x)
