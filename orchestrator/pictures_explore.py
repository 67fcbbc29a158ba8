"""A picture of an exploration (PNG, matplotlib Agg): the explored map from above (floor seen free, obstacles,
unknown), the robot's path, the frontiers left (reachable in orange, unreachable in red) and the given-up
ones (red crosses), with the report's figures in the title. Written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.io import atomic_path
from mapping.obstacles import FREE, OBSTACLE

_UNKNOWN_RGB = (0.78, 0.78, 0.80)
_FREE_RGB = (1.0, 1.0, 1.0)
_OBSTACLE_RGB = (0.25, 0.25, 0.28)


def exploration_rgb(state: np.ndarray) -> np.ndarray:
    """float (rows, cols, 3): an occupancy state grid (UNKNOWN / FREE / OBSTACLE) in picture colours."""
    rgb = np.empty((*state.shape, 3), np.float32)
    rgb[:] = _UNKNOWN_RGB
    rgb[state == FREE] = _FREE_RGB
    rgb[state == OBSTACLE] = _OBSTACLE_RGB
    return rgb


def save_exploration_png(result, path: str | Path, title: str = "", dpi: int = 130) -> Path:
    """Draw an orchestrator.exploration.ExplorationResult (see the module docstring) to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rep = result.report
    occ = result.occupancy
    fig, ax = plt.subplots(figsize=(8.0, 7.0))
    try:
        if occ is not None:
            x0, y0, x1, y1 = occ.bounds_xy()
            ax.imshow(exploration_rgb(occ.state), origin="lower", extent=(x0, x1, y0, y1), interpolation="nearest")
            res = occ.resolution_m
            for reachable, colour, name in ((True, "#ff7f0e", "frontier left"), (False, "#d62728", "unreachable frontier")):
                cells = [f.cells for f in result.frontiers if f.reachable == reachable]
                if cells:
                    xy = occ.cell_to_world(np.concatenate(cells))
                    ax.scatter(xy[:, 0], xy[:, 1], s=4, c=colour, marker="s", linewidths=0, label=name, zorder=3)
            ax.set_xlim(x0 - res, x1 + res)
            ax.set_ylim(y0 - res, y1 + res)
        p = np.asarray(rep.path_xy, np.float64).reshape(-1, 2)
        if len(p):
            ax.plot(p[:, 0], p[:, 1], "-", color="#1f77b4", lw=1.8, label="path", zorder=4)
            ax.plot(p[0, 0], p[0, 1], "s", color="#1f77b4", ms=7, label="start", zorder=5)
            ax.plot(p[-1, 0], p[-1, 1], "o", color="#1f77b4", ms=6, mfc="white", label="end", zorder=5)
        if rep.given_up:
            g = np.array([r.centroid_xy for r in rep.given_up])
            ax.plot(g[:, 0], g[:, 1], "x", color="#d62728", ms=9, mew=2, label="given up", zorder=5)
        ax.plot([], [], "s", color=_UNKNOWN_RGB, label="unknown")
        ax.plot([], [], "s", color=_OBSTACLE_RGB, label="obstacle")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        figures = (f"{rep.explored_area_m2:.1f} m2 seen free, {rep.path_length_m:.1f} m driven, {rep.frames} frames, "
                   f"{rep.time_s:.0f} s ({rep.stop_reason})")
        if rep.sim and rep.sim.get("floor_coverage") is not None:
            figures += f"\nreachable floor {100 * rep.sim['floor_coverage']:.0f}%, objects {rep.sim['objects_seen']}/{rep.sim['objects']}"
        ax.set_title(f"{title}\n{figures}" if title else figures, fontsize=9)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight", pad_inches=0.05)
    finally:
        plt.close(fig)
    return Path(path)
