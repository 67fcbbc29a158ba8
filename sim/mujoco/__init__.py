"""The MuJoCo backend of the simulated world: `SimWorld` (sim.mujoco.world) built from a SceneSpec, its
renderer, the Stretch model converted from the official URDF, and the geometric grasp rule.

The only package of ours that imports `mujoco`."""

import os

# Headless by default: MuJoCo picks its OpenGL backend when first imported. Without a display, EGL (Mesa or
# NVIDIA) renders off-screen; set MUJOCO_GL yourself (glfw, osmesa) to override.
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
