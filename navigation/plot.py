"""A picture of a plan: clearance field, obstacles, unknown space, path, waypoints, base goal and target.

Drawn with matplotlib's Agg canvas (no display, no pyplot global state) and written atomically as PNG.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from core.io import atomic_path
from mapping.obstacles import OBSTACLE, UNKNOWN
from navigation.navigator import NavigationResult
from navigation.occupancy import OccupancyGrid


def _arrow(ax, pose, colour: str, label: str, length: float = 0.35) -> None:
    ax.annotate("", xy=(pose.x + length * math.cos(pose.theta), pose.y + length * math.sin(pose.theta)),
                xytext=(pose.x, pose.y), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2})
    ax.plot([pose.x], [pose.y], "o", color=colour, ms=6, label=label)


def draw_plan(
    occ: OccupancyGrid,
    result: NavigationResult | None,
    path: str | Path,
    target_xyz: np.ndarray | None = None,
    title: str = "",
    show_candidates: bool = True,
    dpi: int = 110,
) -> Path:
    """Write a PNG of the grid and the plan to `path` (atomically); returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    x0, y0, x1, y1 = occ.bounds_xy()
    extent = (x0, x1, y0, y1)
    aspect = (y1 - y0) / max(x1 - x0, 1e-6)
    fig = Figure(figsize=(9, max(3.0, min(8 * aspect, 14)) + 1.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    clear = np.ma.masked_where(~occ.traversable, occ.clearance_m)
    im = ax.imshow(clear, origin="lower", extent=extent, cmap="viridis", vmin=occ.inflation_m,
                   vmax=max(float(occ.clearance_m.max()), occ.inflation_m + 0.1), interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.035, pad=0.02, label="clearance (m)")
    layer = np.zeros(occ.shape, np.uint8)  # 0 transparent, 1 inflated, 2 unknown, 3 obstacle
    layer[~occ.traversable] = 1
    layer[occ.state == UNKNOWN] = 2
    layer[occ.state == OBSTACLE] = 3
    cmap = ListedColormap([(0, 0, 0, 0), (0.95, 0.75, 0.75, 1), (0.7, 0.7, 0.7, 1), (0.1, 0.1, 0.1, 1)])
    ax.imshow(layer, origin="lower", extent=extent, cmap=cmap, vmin=0, vmax=3, interpolation="nearest")
    if result is not None:
        c = result.candidates
        if show_candidates and c is not None and c.feasible.any():
            f = c.feasible
            ax.scatter(c.poses[f, 0], c.poses[f, 1], c=c.scores[f], cmap="autumn", s=4, alpha=0.6,
                       label="feasible base poses")
        if len(result.path_xy) >= 2:
            ax.plot(result.path_xy[:, 0], result.path_xy[:, 1], "-", color="white", lw=1, alpha=0.8,
                    label="planned (roadmap)")
        if len(result.smoothed_xy) >= 2:
            ax.plot(result.smoothed_xy[:, 0], result.smoothed_xy[:, 1], "-o", color="tab:red", lw=2, ms=4,
                    label=f"waypoints ({len(result.waypoints)}), {result.length_m:.2f} m")
        _arrow(ax, result.start, "tab:blue", "start")
        if result.goal is not None:
            _arrow(ax, result.goal, "tab:orange", "base goal" if result.base_goal else "goal")
        if result.base_goal is not None:
            g, r = result.base_goal.pose, result.base_goal.reach_xyz
            ax.plot([g.x, r[0]], [g.y, r[1]], ":", color="tab:orange", lw=2, label="arm")
    if target_xyz is not None:
        t = np.asarray(target_xyz, np.float64)
        ax.plot([t[0]], [t[1]], "*", color="magenta", ms=14, mec="black", label="target")
    status = "" if result is None else ("ok" if result.success else f"FAILED: {result.reason}")
    ax.set_title("\n".join(s for s in (title, status) if s), fontsize=9)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=7, frameon=False)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path
