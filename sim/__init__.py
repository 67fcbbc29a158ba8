"""The simulated home: scene specs, generators, Habitat-format assets, the MuJoCo world and SimRobot."""

import os

# Headless by default: MuJoCo picks its OpenGL backend when first imported. Without a display, EGL (Mesa or
# NVIDIA) renders off-screen; set MUJOCO_GL yourself (glfw, osmesa) to override.
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
