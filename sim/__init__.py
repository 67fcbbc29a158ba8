"""The simulated home: engine-neutral scenes (sim.scene), the simulated Stretch (sim.robot, sim.base_motion)
and the MuJoCo backend (sim.mujoco)."""
