"""Smoothing: few waypoints, no corner cutting, headings."""

from __future__ import annotations

import math

import numpy as np
from navgrids import RES, Canvas, distance_to_obstacles

from core.stretch import STRETCH
from navigation.occupancy import occupancy_from_obstacle_grid
from navigation.smoothing import densify, shortcut, smooth_path, to_waypoints


def _room_with_pillar():
    c = Canvas(5.0, 5.0)
    c.box(0, 0, 5, 0.1).box(0, 4.9, 5, 5).box(0, 0, 0.1, 5).box(4.9, 0, 5, 5)
    c.box(2.0, 2.0, 3.0, 3.0)
    return c


def test_staircase_in_open_space_becomes_one_segment():
    occ = occupancy_from_obstacle_grid(_room_with_pillar().grid())
    stairs = np.array([[0.6 + 0.05 * k, 0.6 + 0.05 * (k + k % 2)] for k in range(20)])
    out = shortcut(occ, stairs)
    assert len(out) == 2 and np.allclose(out[0], stairs[0]) and np.allclose(out[-1], stairs[-1])


def test_shortcuts_do_not_cut_through_the_pillar():
    canvas = _room_with_pillar()
    occ = occupancy_from_obstacle_grid(canvas.grid())
    around = np.array([[1.0, 1.0], [1.5, 1.0], [4.0, 1.2], [4.1, 2.5], [4.0, 4.0], [2.5, 4.0]])
    pts, waypoints = smooth_path(occ, densify(around, 0.1), final_heading=1.0)
    assert 2 < len(pts) < 8
    d = distance_to_obstacles(densify(pts, 0.01), canvas.mask, occ.origin_xy, RES)
    assert d.min() >= STRETCH.base_radius_m
    assert waypoints[-1].theta == 1.0 and np.allclose(waypoints[-1].xy, around[-1])


def test_waypoints_face_the_next_point():
    wps = to_waypoints(np.array([[0, 0], [1, 0], [1, 1], [1, 1.001]]), final_heading=None)
    assert len(wps) == 2  # the 1 mm step is merged
    assert math.isclose(wps[0].theta, math.pi / 2) and math.isclose(wps[1].theta, math.pi / 2)
