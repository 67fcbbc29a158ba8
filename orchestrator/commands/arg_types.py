"""argparse types shared by the commands, so bad numbers are refused by the parser with one line."""

from __future__ import annotations

import argparse

from core.types import Pose2D

SEED_MAX = 2**32 - 1


def seed_number(text: str) -> int:
    """A random seed: an integer 0..2**32-1 (numpy's range)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number 0..{SEED_MAX}, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"a seed is a whole number 0..{SEED_MAX}, got {value}")
    return value


def pose_2d(text: str) -> Pose2D:
    """A planar pose "x,y" or "x,y,theta" (metres, radians), e.g. a map registration."""
    try:
        return Pose2D.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pose_tuple(text: str) -> tuple[float, float, float]:
    """`pose_2d` as the (x, y, theta) a config holds."""
    p = pose_2d(text)
    return (p.x, p.y, p.theta)
