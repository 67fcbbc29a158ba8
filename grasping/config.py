"""Grasping configuration: every tunable of object extraction, proposals, IK, placing and execution.

Defaults live here and nowhere else; CLI flags and benchmarks default from these dataclasses. Gripper and
arm dimensions come from core.stretch (the URDF); the values below are margins, sampling densities and
scoring weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.stretch import STRETCH, arm_top_above_grasp


@dataclass(frozen=True)
class ObjectPointsConfig:
    """Cleaning of the target's masked depth points and the scene around it."""

    min_depth_m: float = 0.15  # closer than this the head camera's depth is unreliable
    max_depth_m: float = 3.5
    mask_erode_px: int = 0  # shrink the mask to drop mixed-depth pixels on the silhouette (erodes thin rims away)
    voxel_m: float = 0.004  # object points are voxel-downsampled to this size
    outlier_neighbors: int = 16  # open3d remove_statistical_outlier
    outlier_std_ratio: float = 2.0
    dbscan_eps_m: float = 0.02  # largest DBSCAN cluster is the object
    dbscan_min_points: int = 8
    cluster_keep_ratio: float = 0.3  # also keep clusters this large relative to the largest (a bowl's two walls)
    min_points: int = 20  # fewer cleaned points than this: the object was not seen
    scene_radius_m: float = 0.45  # scene points kept around the object (collisions, support surface)
    scene_voxel_m: float = 0.01
    fuse_voxel_m: float = 0.015  # several frames: points agree when they share this voxel or a neighbour
    fuse_min_share: float = 0.5  # ...in at least this share of the frames (rounded up; two at least)


@dataclass(frozen=True)
class GripperModel:
    """The Stretch SE3 gripper as boxes in the grasp frame (x approach, y closing, z = x cross y).

    Measured from the URDF collision shapes (sim/mujoco/stretch_model.py loads the same URDF) with the wrist at
    roll 0, gripper fully open: the fingertip pads span x -0.042..0 and z +-0.02, 6.0..9.5 cm from the
    centre; the finger shafts converge towards the gripper body (4.5 cm from the centre where they enter it),
    which starts 12.8 cm behind the tips and is asymmetric in z (9.2 cm on +z, 4.7 cm on -z); the wrist
    motors sit behind it. The grasp centre is midway between the fingertips (core.stretch's
    link_grasp_center). Collision checks always use the fully open gripper.
    """

    max_aperture_m: float = STRETCH.limits.gripper_m[1]
    finger_height_m: float = 0.04  # the pads' extent along the grasp z axis
    pad_length_m: float = 0.042  # the pads' extent along the approach, back from the tips
    # The +y finger fully open as boxes (pad, then the shaft converging towards the body); -y is mirrored.
    finger_boxes: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...] = (
        ((-0.042, 0.060, -0.02), (0.008, 0.096, 0.02)),
        ((-0.090, 0.055, -0.023), (-0.042, 0.100, 0.023)),
        ((-0.130, 0.045, -0.023), (-0.090, 0.097, 0.023)),
    )
    body_box: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (-0.226, -0.037, -0.047), (-0.128, 0.037, 0.092))
    wrist_box: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (-0.33, -0.076, -0.035), (-0.226, 0.02, 0.055))


def gripper_top_above_grasp(wrist_pitch: float) -> float:
    """From the fingertips (8 mm past the grasp centre, GripperModel's pads) to the arm's top at this wrist
    pitch (core.stretch's arm geometry): 0.377 m pointing down."""
    return round(arm_top_above_grasp(wrist_pitch) + GripperModel().finger_boxes[0][1][0], 4)


@dataclass(frozen=True)
class GraspConfig:
    """Proposal sampling, rejection and scoring."""

    gripper: GripperModel = field(default_factory=GripperModel)
    families: tuple[str, ...] = ("top", "side", "rim", "angled")
    """Grasp families proposed (grasping.proposals.KINDS); "rim" includes its pitched variant when
    "angled" is in too. Leave out "angled" for a wrist that cannot pitch 45 degrees."""
    width_margin_m: float = 0.012  # object width must be <= aperture - this margin
    min_fill: float = 0.6  # pads must hold this fraction of the object's extent along the closing axis
    min_contact_points: int = 4  # fewer object points between the pads than this: it would close on nothing
    collision_margin_m: float = 0.005  # boxes are inflated by this against scene points
    object_margin_m: float = 0.003  # ...and by this against the target's own points
    support_clearance_m: float = 0.002  # fingertips (with the collision margin) stay this far above the support
    support_margin_m: float = 0.002
    """Scene points of the support itself (at most `support_band_m` above its fitted height) inflate the
    gripper boxes by only this, so the fingertips of a top-down grasp come down to 4 mm above the surface
    (7 mm with the collision margin): a low object (a plate standing 1.6 cm tall) is held by more than its
    top 2 mm. Lower than about 1.2 cm nothing reaches the pads, which end 8 mm above the fingertips' end."""
    support_band_m: float = 0.003  # ...points up to this above the fitted support height are the support
    coarse_margin_m: float = 0.025
    """Coarse points (the map's voxel centres, 5 cm voxels, where the camera did not see) inflate the boxes by
    half a voxel; they are checked along the whole extension, from the arm retracted (the camera's own points
    from `way_out_start_m`, grasping.extension)."""
    approach_backoff_m: float = 0.10  # pre-grasp distance along the approach (also the swept volume)
    pregrasp_clearance_m: float = 0.02  # a top-down pre-grasp's fingertips clear the object's top by this
    max_pregrasp_rise_m: float = 0.25
    """A from-above pre-grasp rises `approach_backoff_m`, or as far as its fingertips need to clear the
    object's top (a tall bottle held at its middle), up to this."""
    short_pregrasp_extra_m: float = 0.005  # a short top-down pre-grasp (no room above) clears that by this more
    top_angles: int = 8  # closing-axis angles sampled for top-down grasps over [0, pi) (+ the minor axis)
    top_depths_m: tuple[float, ...] = (0.02, 0.04, 0.065)  # fingertip depth below the object's top
    top_depth_fractions: tuple[float, ...] = (0.55, 0.85)  # ...and at these fractions of its height
    side_headings: int = 7  # side-grasp approach headings around the straight-arm direction
    side_heading_spread_rad: float = 0.45  # +- spread of side-grasp headings (wrist yaw needed)
    side_axis_spread_rad: float = 1.0  # approaches along the footprint's axes (across a box's thin side)
    # are proposed this far either side of the straight-arm direction (a box turned 50 deg on a counter)
    side_heights: tuple[float, ...] = (0.35, 0.5, 0.65)  # fractions of the object's height
    angled_heights: tuple[float, ...] = (0.35, 0.5, 0.65)  # angled grasps: fractions of the object's height
    angled_min_height_m: float = 0.03  # objects lower than this are left to top-down grasps
    rim_angles: int = 16  # rim grasps sampled around wide objects
    rim_depth_m: float = 0.025  # fingertips below the rim top
    rim_min_extent_m: float = 0.10  # objects whose smaller footprint side exceeds this get rim grasps
    # A rim grasp from above only needs the fingers over the rim (the wall passes between them), so its
    # pre-grasp is rim_depth_m + this above the grasp instead of approach_backoff_m (room under a shelf
    # board, and within the lift's reach over a 0.9 m counter); the approach sweep is still checked.
    rim_pregrasp_clearance_m: float = 0.005
    complete_by_symmetry: bool = True  # add the object's points turned 180 deg about its vertical axis
    # (the side the camera cannot see) to the collision checks: exact for bowls, cans, boxes; conservative else
    max_object_points: int = 800  # more object points than this are voxel-thinned to object_voxel_m
    object_voxel_m: float = 0.006
    scene_voxel_m: float = 0.01  # scene points (collisions) are thinned to this within scene_fine_m of the
    scene_fine_m: float = 0.10  # object's box, and to twice that farther out
    scene_crop_m: float = 0.40  # scene points farther than this from the object's box are ignored...
    scene_crop_above_m: float = 0.60  # ...except above it, where the arm of a top-down grasp passes
    max_candidates_per_kind: int = 24  # best-scored collision-free candidates of each family passed to IK
    # scoring weights (each term in [0, 1])
    w_centering: float = 1.0
    w_width_margin: float = 1.0
    w_approach: float = 0.8
    w_height: float = 0.6
    w_contact: float = 0.8
    w_axis: float = 0.5
    prefer_top_down: float = 1.0  # approach preference: top-down 1.0, rim 0.8, side 0.6, angled 0.5 (times this)


@dataclass(frozen=True)
class IKConfig:
    """Analytic IK on core.stretch's chain."""

    max_base_rotation_rad: float = 0.6  # in-place base rotation allowed to line the arm up
    top_down_tolerance_rad: float = 0.02  # pitch clamped to the joint limit within this tolerance
    preferred_top_yaws: tuple[float, ...] = (0.0, 0.35, -0.35, 0.7, -0.7, math.pi)
    """Wrist yaws tried for top-down grasps, preferred in this order of |yaw|. The last turns the gripper
    outwards, which holds the grasp centre ~4.5 cm farther out along the arm: the reach the base goal
    (navigation.base_goal's "down" mode) parks for, so a pick it parked for at full extension can use it."""
    lift_margin_m: float = 0.005
    arm_margin_m: float = 0.005
    verify_position_m: float = 0.01
    verify_angle_rad: float = 0.035


@dataclass(frozen=True)
class PlaceConfig:
    """Choosing where on a receptacle to put the held object."""

    plane_distance_m: float = 0.01  # RANSAC inlier distance
    plane_iterations: int = 300
    max_normal_tilt_rad: float = 0.2  # support planes must be this close to horizontal
    min_plane_points: int = 40
    voxel_m: float = 0.01
    edge_margin_m: float = 0.08  # keep the place point this far inside the surface outline
    clearance_radius_m: float = 0.09  # no points above the plane within this radius (other objects)
    above_plane_m: float = 0.015  # points higher than this above the plane count as objects
    release_height_m: float = 0.03  # the held object's bottom is released this far above the surface
    grid_m: float = 0.02  # spacing of the candidate place points
    gripper_margin_m: float = 0.01  # the open gripper and arm keep this far from scene points at release
    robot_exclusion_m: float = 0.35  # points this close to the base centre (the robot, the held object) are
    # left out of the gripper check
    max_free_spots: int = 6
    """Free spots an unreachable receptacle reports (nearest to the base first) for re-parking."""
    spot_spacing_m: float = 0.15
    """...at least this far apart."""
    map_above_m: float = 0.06
    """Map voxels this far above a support surface (and below the gripper's top) join the place's gripper
    and arm check; lower ones are the surface itself (the map's voxels are coarser than the camera's points)."""


@dataclass(frozen=True)
class PickConfig:
    """Execution of pick and place on a Robot, with the retry ladder."""

    grasp: GraspConfig = field(default_factory=GraspConfig)
    ik: IKConfig = field(default_factory=IKConfig)
    points: ObjectPointsConfig = field(default_factory=ObjectPointsConfig)
    place: PlaceConfig = field(default_factory=PlaceConfig)
    min_mask_score: float = 0.3
    looks: int = 3
    """Head-camera frames taken before an object counts as not in view: a detector misses an object it can
    see in some frames (a quarter of them for OWL-ViT-class detectors, docs/realism.md)."""
    fuse_frames: int = 3
    """Frames of the object whose masked points are fused once it is seen (grasping.object_points.
    fused_object_cloud: points most of them agree on); 1: the first frame that shows it."""
    mask_score_margin: float = 0.1
    """Masks of one frame scoring within this of its best are alike for the phrase: the one nearest where the
    object should be (the map's hit, the last view) is taken. Views whose mask scores less than the best
    view's by more than this are dropped before fusing: a frame where the detector missed the object and
    gave the phrase to a similar one beside it (apartment 10480, realistic profile: a mug 0.35 m from the
    coffee can asked for was grasped, and the pick reported success)."""
    seen_offset_m: float = 0.15
    """Once the pick has seen the object, a mask centred farther than this from where it was seen (3D) is
    another object the phrase fits (grasping.execute.perceive)."""
    grasps_per_perception: int = 2  # grasps tried before re-perceiving
    defer_unplaceable: bool = True
    """When every grasp found would hold the object too high for the lift to lower it onto the surface it
    goes on (planner.placeable), try the retry ladder's next rungs first, and come back to take one only
    when none of them finds a grasp that can place it."""
    map_obstacles_in_approach: bool = False
    """The map's occupied voxels near the object that the head camera's scene points do not account for join
    the grasp planner's approach, arm and way-out checks as coarse points (grasping.execute.unseen_obstacles,
    GraspConfig.coarse_margin_m): seen from afar, the object's frame may miss the side of the shelf the arm
    extends past (10601:2, 10644:0). Off by default: on a realistic (noisy) map the stray voxels block the
    only grasps of objects that were picked without them (the realistic episodes of
    tests/orchestrator/test_task_tell.py), and on held-out oracle apartments it gained nothing."""
    base_shifts_m: tuple[float, ...] = (0.07, -0.07)  # base shifts along the heading in the retry ladder
    max_attempts: int = 5
    lift_after_grasp_m: float = 0.10
    safe_lift_margin_m: float = 0.12  # lift clears the grasp height by this before the arm extends
    gripper_height_m: float = field(default_factory=lambda: gripper_top_above_grasp(STRETCH.limits.wrist_pitch[0]))
    """Fingertips (8 mm past the grasp centre, GripperModel's pads) to the top of the arm with the gripper
    pointing down, from core.stretch's arm geometry (0.377 m; it was a copied 0.36, so an arm extending
    under a shelf board with 2 cm to spare touched it)."""
    verify_lift_m: float = 0.03  # re-observation: the object must have risen this much off the surface
    place_retract_up_m: float = 0.08
    verify_rest_m: float = 0.03  # a placed object's bottom must be this close to the support surface
