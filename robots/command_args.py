"""The robot-server's commands and the checks of their arguments (every value typed and finite before use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.types import Pose2D
from robots import wire

MAX_WAYPOINTS = 2000
MAX_SAY_CHARS = 500
_MAX_JOB_ID = 1 << 53


def _float(v: Any) -> float:
    f = wire.finite_number(v)
    if f is None:
        raise wire.WireError(f"expected a finite number, got {str(v)[:40]}")
    return f


def _opt_float(v: Any) -> float | None:
    return None if v is None else _float(v)


def _pose(v: Any) -> Pose2D:
    return wire.pose_from_list(v)


def _poses(v: Any) -> list[Pose2D]:
    if not isinstance(v, list) or len(v) > MAX_WAYPOINTS:
        raise wire.WireError(f"expected a list of at most {MAX_WAYPOINTS} poses")
    return [_pose(p) for p in v]


def _job_id(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < _MAX_JOB_ID:
        raise wire.WireError(f"expected a job id (a positive integer), got {str(v)[:40]}")
    return v


def _opt_job_id(v: Any) -> int | None:
    return None if v is None else _job_id(v)


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip() or len(v) > MAX_SAY_CHARS:
        raise wire.WireError(f"expected a sentence of 1-{MAX_SAY_CHARS} characters")
    return v


# name -> (argument checkers, required argument names)
SCHEMAS: dict[str, tuple[dict[str, Callable[[Any], Any]], set[str]]] = {
    "hello": ({}, set()),
    "heartbeat": ({"job": _opt_job_id}, set()),
    "observe": ({}, set()),
    "get_base_pose": ({}, set()),
    "get_joints": ({}, set()),
    "is_holding": ({}, set()),
    "stop": ({}, set()),
    "wait": ({"job": _job_id, "max_wait_s": _opt_float}, {"job"}),
    "move_base_to": ({"goal": _pose, "tolerance_m": _opt_float, "tolerance_rad": _opt_float}, {"goal"}),
    "follow_waypoints": ({"waypoints": _poses}, {"waypoints"}),
    "set_head": ({"pan": _float, "tilt": _float}, {"pan", "tilt"}),
    "move_arm": ({k: _opt_float for k in ("lift_m", "arm_m", "wrist_yaw", "wrist_pitch", "wrist_roll")}, set()),
    "set_gripper": ({"aperture_m": _float}, {"aperture_m"}),
    "say": ({"text": _text}, {"text"}),
}
MOTION_COMMANDS = ("move_base_to", "follow_waypoints", "set_head", "move_arm", "set_gripper")


def check_args(cmd: Any, args: Any) -> dict[str, Any]:
    """The checked arguments of `cmd` (None values dropped); WireError naming the bad one otherwise."""
    if not isinstance(cmd, str) or cmd not in SCHEMAS:
        raise wire.WireError(f"unknown command {str(cmd)[:40]!r}", "unknown_command")
    if not isinstance(args, dict):
        raise wire.WireError(f"{cmd}: args must be a JSON object")
    checkers, required = SCHEMAS[cmd]
    unknown = set(args) - set(checkers)
    if unknown:
        raise wire.WireError(f"{cmd}: unknown argument(s) {sorted(str(u)[:30] for u in unknown)[:5]}")
    missing = required - set(args)
    if missing:
        raise wire.WireError(f"{cmd}: missing argument(s) {sorted(missing)}")
    out = {}
    for name, value in args.items():
        try:
            out[name] = checkers[name](value)
        except wire.WireError as exc:
            raise wire.WireError(f"{cmd}: argument {name!r}: {exc}") from None
    return {k: v for k, v in out.items() if v is not None}
