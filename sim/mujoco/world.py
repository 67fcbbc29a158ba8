"""The MuJoCo world built from a SceneSpec: physics, rendering, ground truth, and the Stretch's body.

`SimWorld(spec)` compiles the scene (sim.mujoco.world_build), settles the objects under physics and records their
settled poses. The robot is kinematic: its joint positions are whatever `set_robot_state` last set (SimRobot
moves them in small collision-checked steps); physics never moves it, but it pushes objects it touches. A
held object is attached kinematically to the grasp centre (sim.mujoco.grasp_rule decides what is held).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import mujoco
import numpy as np

from core.errors import InputError
from core.stretch import STOW_WRIST_YAW
from core.types import CameraIntrinsics, JointState, Pose2D
from sim.config import SimConfig
from sim.mujoco.grasp_rule import check_grasp
from sim.mujoco.render import SceneRenderer
from sim.mujoco.stretch_model import (
    ARM_JOINTS,
    BASE_JOINTS,
    FINGER_JOINTS,
    FINGER_LINKS,
    GRASP_SITE,
    HEADCAM_SITE,
    angle_for_aperture,
    finger_aperture_table,
)
from sim.mujoco.world_build import ROBOT_PREFIX, build_scene_spec
from sim.protocol import Contact, GraspCheck
from sim.scene.spec import SceneSpec

log = logging.getLogger(__name__)

_JOINT_FIELDS = {
    "joint_lift": "lift_m", "joint_wrist_yaw": "wrist_yaw", "joint_wrist_pitch": "wrist_pitch",
    "joint_wrist_roll": "wrist_roll", "joint_head_pan": "head_pan", "joint_head_tilt": "head_tilt",
}


class SimWorld:
    """A simulated home with a Stretch in it, in MuJoCo: implements sim.protocol.World (docs/sim-world.md)."""

    def __init__(self, spec: SceneSpec, config: SimConfig | None = None, base_dir: str | Path | None = None) -> None:
        t0 = time.perf_counter()
        self.spec = spec
        self.config = config = config or SimConfig()
        built = build_scene_spec(spec, config, Path(base_dir) if base_dir is not None else None)
        try:
            self.model = built.spec.compile()
        except ValueError as exc:
            raise InputError(f"scene {spec.name!r} cannot be built in MuJoCo: {exc}") from None
        self.data = mujoco.MjData(self.model)
        m = self.model
        self._obj_body = {oid: m.body(name).id for oid, name in built.object_bodies.items()}
        self._obj_qadr = {oid: int(m.jnt_qposadr[m.body_jntadr[b]]) for oid, b in self._obj_body.items()}
        self._obj_dadr = {oid: int(m.jnt_dofadr[m.body_jntadr[b]]) for oid, b in self._obj_body.items()}
        self._obj_geoms = {oid: np.nonzero(m.geom_bodyid == b)[0] for oid, b in self._obj_body.items()}
        self._obj_points = built.object_points
        self._obj_hulls = built.object_hulls
        self._rec_body = {rid: m.body(name).id for rid, name in built.receptacle_bodies.items()}
        self._obj_dofs = np.array([self._obj_dadr[o] + k for o in self._obj_dadr for k in range(6)], dtype=int)
        # geom -> instance id (0 for floor, walls, stages and the robot).
        self.geom_instance = np.zeros(m.ngeom, dtype=np.int32)
        for rec in spec.receptacles:
            self.geom_instance[m.geom_bodyid == self._rec_body[rec.id]] = rec.instance_id
        for obj in spec.objects:
            self.geom_instance[self._obj_geoms[obj.id]] = obj.instance_id
        # Robot bookkeeping.
        robot_bodies = np.array([m.body(i).name.startswith(ROBOT_PREFIX) for i in range(m.nbody)])
        self.robot_geom_mask = robot_bodies[m.geom_bodyid] & (m.geom_contype == 2)
        finger_bodies = [m.body(ROBOT_PREFIX + n).id for n in FINGER_LINKS]
        self.finger_geoms = np.nonzero(np.isin(m.geom_bodyid, finger_bodies) & self.robot_geom_mask)[0]
        self._qadr = {n: int(m.joint(ROBOT_PREFIX + n).qposadr[0])
                      for n in (*BASE_JOINTS, *ARM_JOINTS, *FINGER_JOINTS, *_JOINT_FIELDS)}
        self._robot_qadr = np.array(sorted(self._qadr.values()))
        self._robot_dofs = np.array([int(m.joint(ROBOT_PREFIX + n).dofadr[0]) for n in self._qadr])
        self.grasp_site = m.site(ROBOT_PREFIX + GRASP_SITE).id
        self.headcam_site = m.site(ROBOT_PREFIX + HEADCAM_SITE).id
        self.finger_table = finger_aperture_table(m, ROBOT_PREFIX)
        self._renderer: SceneRenderer | None = None
        self._held: str | None = None
        self._T_grasp_held = np.eye(4)
        self.sim_time_s = 0.0
        self.base_pose = spec.robot_start
        self.joints = JointState(lift_m=0.6, arm_m=0.0, wrist_yaw=STOW_WRIST_YAW, wrist_pitch=0.0,
                                 gripper_m=0.0, head_pan=0.0, head_tilt=-0.6)
        self.set_robot_state(self.base_pose, self.joints)
        self.build_time_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        self.settle()
        self.settle_time_s = time.perf_counter() - t1
        self.settled_poses = {oid: self.object_pose(oid) for oid in self._obj_body}
        log.info("built scene %r: %d geoms, %d objects (%.2f s build, %.2f s settle)", spec.name, m.ngeom,
                 len(self._obj_body), self.build_time_s, self.settle_time_s)

    # --- robot state ---------------------------------------------------------------------------------
    def set_robot_state(self, base: Pose2D, joints: JointState) -> None:
        """Place the robot (kinematically) and carry a held object along."""
        q = self.data.qpos
        a = self._qadr
        q[a["base_x"]], q[a["base_y"]], q[a["base_yaw"]] = base.x, base.y, base.theta
        for name, fld in _JOINT_FIELDS.items():
            q[a[name]] = getattr(joints, fld)
        for name in ARM_JOINTS:
            q[a[name]] = joints.arm_m / len(ARM_JOINTS)
        finger = angle_for_aperture(self.finger_table, joints.gripper_m)
        for name in FINGER_JOINTS:
            q[a[name]] = finger
        self.base_pose, self.joints = base, joints
        self.data.qvel[self._robot_dofs] = 0.0
        mujoco.mj_kinematics(self.model, self.data)
        if self._held is not None:
            self._place_held()
            mujoco.mj_kinematics(self.model, self.data)

    def site_pose(self, site_id: int) -> np.ndarray:
        T = np.eye(4)
        T[:3, :3] = self.data.site_xmat[site_id].reshape(3, 3)
        T[:3, 3] = self.data.site_xpos[site_id]
        return T

    def T_world_grasp(self) -> np.ndarray:  # noqa: N802
        return self.site_pose(self.grasp_site)

    def contacts(self) -> tuple[np.ndarray, np.ndarray]:
        """Contacts at the current state (kinematics and collision recomputed): geom pairs (n, 2) and signed
        distances (n,), negative when penetrating."""
        m, d = self.model, self.data
        mujoco.mj_kinematics(m, d)
        mujoco.mj_collision(m, d)
        n = d.ncon
        return d.contact.geom[:n], d.contact.dist[:n]

    def robot_contact(self) -> Contact | None:
        """The deepest contact between the robot (with what it holds) and anything else, if any."""
        m = self.model
        g, dist = self.contacts()
        if len(g) == 0:
            return None
        robotish = self.robot_geom_mask.copy()
        if self._held is not None:
            robotish[self._obj_geoms[self._held]] = True
        r0, r1 = robotish[g[:, 0]], robotish[g[:, 1]]
        sel = np.nonzero((r0 ^ r1) & (dist < -self.config.contact_tol_m))[0]
        if len(sel) == 0:
            return None
        k = sel[np.argmin(dist[sel])]
        rg, og = (g[k, 0], g[k, 1]) if r0[k] else (g[k, 1], g[k, 0])
        robot_part = (m.geom(rg).name or m.body(m.geom_bodyid[rg]).name).removeprefix(ROBOT_PREFIX)
        return Contact(float(-dist[k]), robot_part, m.geom(og).name)

    # --- holding -------------------------------------------------------------------------------------
    def check_grasp(self) -> GraspCheck:
        """The geometric grasp rule (sim.mujoco.grasp_rule) at the current gripper pose and opening."""
        return check_grasp(self)

    def held_object(self) -> str | None:
        return self._held

    def attach(self, object_id: str) -> None:
        """Make `object_id` follow the grasp centre rigidly from its current relative pose."""
        self._held = object_id
        self._T_grasp_held = np.linalg.inv(self.T_world_grasp()) @ self.object_pose(object_id)

    def detach(self) -> str | None:
        """Let go of the held object (it keeps its pose, at rest); returns its id."""
        oid, self._held = self._held, None
        if oid is not None:
            self.data.qvel[self._obj_dadr[oid]: self._obj_dadr[oid] + 6] = 0.0
        return oid

    def _place_held(self) -> None:
        T = self.T_world_grasp() @ self._T_grasp_held
        adr = self._obj_qadr[self._held]
        self.data.qpos[adr: adr + 3] = T[:3, 3]
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, T[:3, :3].ravel())
        self.data.qpos[adr + 3: adr + 7] = quat
        self.data.qvel[self._obj_dadr[self._held]: self._obj_dadr[self._held] + 6] = 0.0

    # --- physics -------------------------------------------------------------------------------------
    def step_physics(self, seconds: float) -> None:
        """Advance physics; the robot stays where it was put and a held object stays in the gripper."""
        n = max(1, int(round(seconds / self.model.opt.timestep)))
        m, d = self.model, self.data
        qrobot = d.qpos[self._robot_qadr].copy()
        for _ in range(n):
            d.qpos[self._robot_qadr] = qrobot
            d.qvel[self._robot_dofs] = 0.0
            if self._held is not None:
                self._place_held()
            mujoco.mj_step(m, d)
        d.qpos[self._robot_qadr] = qrobot
        d.qvel[self._robot_dofs] = 0.0
        if self._held is not None:
            self._place_held()
        mujoco.mj_forward(m, d)
        self.sim_time_s += n * m.opt.timestep

    def max_object_speed(self) -> float:
        """Largest object speed (m/s): linear, or angular times 0.1 m (a point on a typical object's rim)."""
        if len(self._obj_dofs) == 0:
            return 0.0
        v = np.abs(self.data.qvel[self._obj_dofs]).reshape(-1, 2, 3)
        return float(max(v[:, 0].max(), 0.1 * v[:, 1].max()))

    def settle(self, max_s: float | None = None) -> float:
        """Step physics until every object is at rest (or `max_s` passes); returns the simulated time used."""
        max_s = self.config.settle_max_s if max_s is None else max_s
        used, chunk = 0.0, 0.1
        self.step_physics(chunk)
        used += chunk
        while used < max_s and self.max_object_speed() > self.config.settle_speed_tol:
            self.step_physics(chunk)
            used += chunk
        return used

    # --- ground truth --------------------------------------------------------------------------------
    def _check_object(self, object_id: str) -> int:
        if object_id not in self._obj_body:
            raise InputError(f"scene {self.spec.name!r} has no object {object_id!r}")
        return self._obj_body[object_id]

    def object_ids(self) -> list[str]:
        return list(self._obj_body)

    def object_geoms(self, object_id: str) -> np.ndarray:
        self._check_object(object_id)
        return self._obj_geoms[object_id]

    def object_pose(self, object_id: str) -> np.ndarray:
        b = self._check_object(object_id)
        T = np.eye(4)
        T[:3, :3] = self.data.xmat[b].reshape(3, 3)
        T[:3, 3] = self.data.xpos[b]
        return T

    def set_object_pose(self, object_id: str, T_world_obj: np.ndarray) -> None:  # noqa: N803
        """Teleport an object (at rest) to a pose; physics takes over from there (see settle)."""
        self._check_object(object_id)
        if self._held == object_id:
            self.detach()
        adr, dadr = self._obj_qadr[object_id], self._obj_dadr[object_id]
        self.data.qpos[adr: adr + 3] = T_world_obj[:3, 3]
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, np.ascontiguousarray(T_world_obj[:3, :3]).ravel())
        self.data.qpos[adr + 3: adr + 7] = quat
        self.data.qvel[dadr: dadr + 6] = 0.0
        mujoco.mj_kinematics(self.model, self.data)

    def object_points_world(self, object_id: str) -> np.ndarray:
        """Surface samples of the object in the world frame, (N, 3) float64."""
        T = self.object_pose(object_id)
        return self._obj_points[object_id] @ T[:3, :3].T + T[:3, 3]

    def object_aabb(self, object_id: str) -> tuple[np.ndarray, np.ndarray]:
        T = self.object_pose(object_id)
        v = self._obj_hulls[object_id] @ T[:3, :3].T + T[:3, 3]
        return v.min(axis=0), v.max(axis=0)

    def object_center(self, object_id: str) -> np.ndarray:
        lo, hi = self.object_aabb(object_id)
        return 0.5 * (lo + hi)

    def object_speed(self, object_id: str) -> float:
        a = self._obj_dadr[object_id]
        v = np.abs(self.data.qvel[a: a + 6])
        return float(max(v[:3].max(), 0.1 * v[3:].max()))

    def surface_under(self, object_id: str, z_tol_m: float = 0.02) -> str | None:
        """The receptacle the object rests on (bottom within `z_tol_m`), if any: on one of its support surfaces,
        or on the top face of one of its colliding axis-aligned box parts (the counter strip beside a sink,
        a sofa's armrest), with the object's centre over it."""
        lo, hi = self.object_aabb(object_id)
        cx, cy = 0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])
        best, best_dz = None, z_tol_m
        for rec in self.spec.receptacles:
            lx, ly = rec.to_local(cx, cy)
            tops = [(s.pos, s.size) for s in rec.surfaces]
            tops += [((p.pos[0], p.pos[1], p.pos[2] + p.size[2] / 2), p.size[:2]) for p in rec.parts
                     if p.type == "box" and p.size is not None and p.role != "visual"
                     and tuple(p.quat_xyzw) == (0.0, 0.0, 0.0, 1.0)]
            for pos, size in tops:
                dz = abs(lo[2] - pos[2])
                inside = abs(lx - pos[0]) <= size[0] / 2 + 0.01 and abs(ly - pos[1]) <= size[1] / 2 + 0.01
                if inside and dz <= best_dz:
                    best, best_dz = rec.id, dz
        return best

    def is_on(self, object_id: str, receptacle_id: str) -> bool:
        """True if the object is not held, at rest, and resting on one of the receptacle's surfaces."""
        self._check_object(object_id)
        if receptacle_id not in self._rec_body:
            raise InputError(f"scene {self.spec.name!r} has no receptacle {receptacle_id!r}")
        if self._held == object_id or self.object_speed(object_id) > 5 * self.config.settle_speed_tol:
            return False
        return self.surface_under(object_id) == receptacle_id

    def receptacle_pose(self, receptacle_id: str) -> Pose2D:
        return Pose2D.from_list(self.spec.receptacle(receptacle_id).pose)

    # --- rendering -----------------------------------------------------------------------------------
    @property
    def renderer(self) -> SceneRenderer:
        if self._renderer is None:
            self._renderer = SceneRenderer(self.model, self.geom_instance, shadows=self.config.shadows)
        return self._renderer

    def render(self, T_world_cam: np.ndarray, intrinsics: CameraIntrinsics | None = None  # noqa: N803
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rgb uint8 HxWx3, depth_m float32 HxW, instance_ids int32 HxW) seen from an OpenCV camera pose."""
        intr = intrinsics or self.config.intrinsics()
        return self.renderer.render(self.data, T_world_cam, intr,
                                    (self.config.depth_min_m, self.config.depth_max_m))

    def cast_rays(self, origins: np.ndarray, directions: np.ndarray, max_m: float = np.inf,
                  include_robot: bool = False) -> np.ndarray:
        """Distance along each ray to the first visible surface (what the camera renders), inf on a miss.

        Rays from one origin (a lidar's) are cast together with mj_multiRay; a ray whose first hit is the
        robot's own geometry (skipped unless include_robot) is then stepped past it one hit at a time with
        mj_ray, as is any ray with an origin of its own."""
        m, d = self.model, self.data
        o = np.atleast_2d(np.asarray(origins, dtype=np.float64))
        u = np.atleast_2d(np.asarray(directions, dtype=np.float64))
        u = u / np.linalg.norm(u, axis=1, keepdims=True)
        groups = np.array([1, 1, 1, 0, 0, 0], dtype=np.uint8)
        robot = self._robot_geom_mask()
        mujoco.mj_kinematics(m, d)
        out = np.full(len(o), np.inf)
        cutoff = float(max_m) if np.isfinite(max_m) else 1e6
        uniq, inverse = np.unique(o, axis=0, return_inverse=True)
        one_by_one: list[int] = []
        for k, origin in enumerate(uniq):
            idx = np.flatnonzero(inverse.reshape(-1) == k)
            if len(idx) < 2:
                one_by_one.extend(idx.tolist())
                continue
            exclude = -1
            for _ in range(2):  # again without the robot body most of them hit first (a lidar's housing)
                geomid = np.full(len(idx), -1, dtype=np.int32)
                dist = np.full(len(idx), -1.0)
                mujoco.mj_multiRay(m, d, origin.copy(), np.ascontiguousarray(u[idx]).reshape(-1), groups, 1,
                                   exclude, geomid, dist, None, len(idx), cutoff)
                hit = dist >= 0
                own = hit & robot[np.maximum(geomid, 0)] & (not include_robot)
                good = hit & ~own & (dist <= max_m)
                out[idx[good]] = dist[good]
                if not own.any() or exclude != -1:
                    break
                bodies, counts = np.unique(m.geom_bodyid[geomid[own]], return_counts=True)
                exclude, idx = int(bodies[np.argmax(counts)]), idx[own]
            one_by_one.extend(idx[own].tolist())
        geom = np.array([-1], dtype=np.int32)
        for i in one_by_one:
            start, travelled = o[i].copy(), 0.0
            for _ in range(16):  # step past the robot's own surfaces when they are to be skipped
                dist = mujoco.mj_ray(m, d, start, u[i], groups, 1, -1, geom)
                if dist < 0:
                    break
                if include_robot or not robot[geom[0]]:
                    if travelled + dist <= max_m:
                        out[i] = travelled + dist
                    break
                travelled += dist + 1e-4
                start = start + (dist + 1e-4) * u[i]
        return out

    def _robot_geom_mask(self) -> np.ndarray:
        """bool (ngeom,): geoms of the robot's bodies (computed once per model)."""
        mask = getattr(self, "_robot_geoms", None)
        if mask is None or len(mask) != self.model.ngeom:
            m = self.model
            names = [m.body(b).name for b in range(m.nbody)]
            mask = np.array([names[b].startswith(ROBOT_PREFIX) for b in m.geom_bodyid], dtype=bool)
            self._robot_geoms = mask
        return mask

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

