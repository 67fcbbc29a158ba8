"""Offscreen rendering of the MuJoCo world from any pinhole camera: RGB, metric depth and instance ids.

One OpenGL context per world (EGL headless with MUJOCO_GL=egl), reused for every frame. A frame costs two
passes: a shaded pass read back as colour + depth together, and a flat-colour segmentation pass read back
as geom ids, which a lookup table maps to scene instance ids (0 = floor, walls, stages and the robot).

The camera follows OpenCV conventions (x right, y down, z forward) and exact pinhole intrinsics: the OpenGL
frustum is set from fx, fy, cx, cy (pixel centres at integer coordinates), so a world point projects to
the same pixel as core.geometry.project predicts. Depth is the distance along the optical axis in metres
(linearised z-buffer), 0 where nothing is within [depth_min_m, depth_max_m].
"""

from __future__ import annotations

import logging

import mujoco
import numpy as np

from core.types import CameraIntrinsics

log = logging.getLogger(__name__)

NEAR_M = 0.02
FAR_M = 60.0


class SceneRenderer:
    """Renders one MjModel; create once, call `render` per frame (not thread safe)."""

    def __init__(self, model: mujoco.MjModel, geom_instance: np.ndarray, shadows: bool = False,
                 visible_groups: tuple[int, ...] = (0, 1, 2)) -> None:
        self._model = model
        self._geom_instance = np.asarray(geom_instance, dtype=np.int32)
        self._max_w = int(model.vis.global_.offwidth)
        self._max_h = int(model.vis.global_.offheight)
        model.vis.map.znear = NEAR_M / model.stat.extent
        model.vis.map.zfar = FAR_M / model.stat.extent
        self._gl = mujoco.GLContext(self._max_w, self._max_h)
        self._gl.make_current()
        self._ctx = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100.value)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._ctx)
        self._ctx.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        self._scene = mujoco.MjvScene(model, maxgeom=int(model.ngeom) + 64)
        self._opt = mujoco.MjvOption()
        self._opt.geomgroup[:] = 0
        for g in visible_groups:
            self._opt.geomgroup[g] = 1
        self._opt.sitegroup[:] = 0
        self._cam = mujoco.MjvCamera()
        self._cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        mujoco.mjv_defaultFreeCamera(model, self._cam)
        self._shadows = bool(shadows)

    def close(self) -> None:
        if self._gl is not None:
            self._gl.make_current()
            self._ctx.free()
            self._gl.free()
            self._gl = None

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order varies
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def render(self, data: mujoco.MjData, T_world_cam: np.ndarray, intrinsics: CameraIntrinsics,  # noqa: N803
               depth_range_m: tuple[float, float] = (0.0, FAR_M)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        W, H = intrinsics.width, intrinsics.height
        if W > self._max_w or H > self._max_h:
            raise ValueError(f"image {W}x{H} exceeds the offscreen buffer {self._max_w}x{self._max_h}")
        self._gl.make_current()
        mujoco.mjv_updateScene(self._model, data, self._opt, None, self._cam, mujoco.mjtCatBit.mjCAT_ALL.value,
                               self._scene)
        self._set_camera(np.asarray(T_world_cam, dtype=float), intrinsics)
        rect = mujoco.MjrRect(0, 0, W, H)
        flags = self._scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self._shadows
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0
        flags[mujoco.mjtRndFlag.mjRND_HAZE] = 0
        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 0
        flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 0
        rgb = np.empty((H, W, 3), dtype=np.uint8)
        raw = np.empty((H, W), dtype=np.float32)
        mujoco.mjr_render(rect, self._scene, self._ctx)
        mujoco.mjr_readPixels(rgb, raw, rect, self._ctx)

        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 1
        flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 1
        seg = np.empty((H, W, 3), dtype=np.uint8)
        mujoco.mjr_render(rect, self._scene, self._ctx)
        mujoco.mjr_readPixels(seg, None, rect, self._ctx)
        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 0
        flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 0

        depth = self._linear_depth(raw[::-1])
        lo, hi = depth_range_m
        depth[(depth < lo) | (depth > hi) | (raw[::-1] <= 0.0)] = 0.0
        ids = self._instance_ids(seg[::-1])
        return np.ascontiguousarray(rgb[::-1]), depth, ids

    def _set_camera(self, T: np.ndarray, K: CameraIntrinsics) -> None:  # noqa: N803
        near = float(self._model.vis.map.znear * self._model.stat.extent)
        far = float(self._model.vis.map.zfar * self._model.stat.extent)
        left = near * (-0.5 - K.cx) / K.fx
        right = near * (K.width - 0.5 - K.cx) / K.fx
        top = near * (K.cy + 0.5) / K.fy
        bottom = -near * (K.height - 0.5 - K.cy) / K.fy
        for i in range(2):
            cam = self._scene.camera[i]
            cam.pos[:] = T[:3, 3]
            cam.forward[:] = T[:3, 2]
            cam.up[:] = -T[:3, 1]
            cam.frustum_center = 0.5 * (left + right)
            cam.frustum_width = 0.5 * (right - left)
            cam.frustum_bottom = bottom
            cam.frustum_top = top
            cam.frustum_near = near
            cam.frustum_far = far
            cam.orthographic = 0
        self._scene.enabletransform = 0
        self._scene.stereo = mujoco.mjtStereo.mjSTEREO_NONE

    def _linear_depth(self, raw: np.ndarray) -> np.ndarray:
        """Reversed-z depth buffer values -> metric depth along the optical axis (as mujoco.Renderer does)."""
        near = np.float32(self._model.vis.map.znear * self._model.stat.extent)
        far = np.float32(self._model.vis.map.zfar * self._model.stat.extent)
        c = -(far + near) / (far - near)
        d = -(np.float32(2) * far * near) / (far - near)
        c = np.float32(-0.5) * c - np.float32(0.5)
        d = np.float32(-0.5) * d
        return (d / (raw.astype(np.float64) + c)).astype(np.float32)

    def _instance_ids(self, seg: np.ndarray) -> np.ndarray:
        segid = seg[..., 0].astype(np.int32) | (seg[..., 1].astype(np.int32) << 8) | (seg[..., 2].astype(np.int32) << 16)
        n = self._scene.ngeom
        lut = np.zeros(n + 2, dtype=np.int32)
        geom_obj = int(mujoco.mjtObj.mjOBJ_GEOM)
        for i in range(n):
            g = self._scene.geoms[i]
            if g.objtype == geom_obj and 0 <= g.segid < n + 1:
                lut[g.segid + 1] = self._geom_instance[g.objid]
        segid = np.clip(segid, 0, n + 1)
        return lut[segid]
