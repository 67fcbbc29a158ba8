"""Pictures of task runs: the map from above with the driven paths, grasp and place points (PNG), and a
Rerun recording of the map plus each run's path and points (`world/runs/<i>/...`).

With a scene (`scene_labels(spec)`), the PNG names the rooms and the receptacles; it is cropped to the
home (tight bounding box, no wide margins)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.io import atomic_path
from mapping.pictures import PictureConfig, top_down_rgb
from orchestrator.task_machine import TaskReport

_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]


def scene_labels(spec) -> list[tuple[float, float, str, str]]:
    """(x, y, text, kind) for a scene's rooms ("room") and receptacles ("receptacle") to draw on a picture."""
    out = [((r.min[0] + r.max[0]) / 2, (r.min[1] + r.max[1]) / 2, r.label, "room") for r in spec.rooms]
    out += [(float(r.pose[0]), float(r.pose[1]), r.description, "receptacle") for r in spec.receptacles]
    return out


def _draw_labels(ax, labels) -> None:
    for x, y, text, kind in labels or ():
        if kind == "room":
            ax.text(x, y, text.upper(), ha="center", va="center", fontsize=11, color="white", alpha=0.55,
                    fontweight="bold", zorder=2)
        else:
            ax.text(x, y, text, ha="center", va="center", fontsize=6.5, color="black", zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})


def save_run_png(voxel_map, reports: Sequence[TaskReport], path: str | Path, title: str = "",
                 config: PictureConfig | None = None,
                 labels: Sequence[tuple[float, float, str, str]] | None = None) -> Path:
    """Top-down map with, per run, its paths (lines), object (o), grasp (x) and place (*) points; `labels`
    (`scene_labels`) name rooms and receptacles."""
    config = config or PictureConfig()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    view = top_down_rgb(voxel_map, config)
    rows, cols = view.rgb.shape[:2]
    fig_h = max(4.0, min(12.0, 9.0 * rows / max(cols, 1)))
    fig, ax = plt.subplots(figsize=(9.0, fig_h))
    try:
        ax.imshow(view.rgb, origin="lower", extent=view.extent, interpolation="nearest")
        _draw_labels(ax, labels)
        for i, r in enumerate(reports):
            c = _COLOURS[i % len(_COLOURS)]
            label = f"{i + 1}: {r.request} ({'ok' if r.success else 'failed'})"
            for k, p in enumerate(r.paths_xy):
                if len(p) >= 2:
                    ax.plot(p[:, 0], p[:, 1], "-", color=c, lw=2, alpha=0.9, label=label if k == 0 else None)
                    ax.plot(p[0, 0], p[0, 1], "s", color=c, ms=5)
            if not r.paths_xy:
                ax.plot([], [], "-", color=c, label=label)
            for xyz, marker, size in ((r.object_xyz, "o", 9), (r.grasp_xyz, "x", 10), (r.place_xyz, "*", 14)):
                if xyz is not None:
                    ax.plot(xyz[0], xyz[1], marker, color=c, ms=size, mew=2, mfc="none" if marker == "o" else c)
        ax.plot([], [], "o", color="k", mfc="none", label="object (map)")
        ax.plot([], [], "x", color="k", label="grasp")
        ax.plot([], [], "*", color="k", label="place")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.set_aspect("equal")
        ax.set_title(title or "ovmm runs")
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=config.dpi, format="png", bbox_inches="tight", pad_inches=0.05)
    finally:
        plt.close(fig)
    return Path(path)


def save_run_rrd(voxel_map, reports: Sequence[TaskReport], path: str | Path) -> Path:
    """A Rerun recording: the map (as `ovmm query --rerun` writes it) plus each run's path and points."""
    from orchestrator.pictures_map import _log_map, _rerun

    rr = _rerun()
    rec = rr.RecordingStream("ovmm-runs")
    with atomic_path(path) as tmp:
        rec.save(str(tmp))
        _log_map(rr, rec, voxel_map, None, (), "")
        for i, r in enumerate(reports):
            base = f"world/runs/{i + 1}"
            rec.log(base, rr.TextDocument(r.request + ("\n(success)" if r.success else "\n(failed)")), static=True)
            for k, p in enumerate(r.paths_xy):
                if len(p) >= 2:
                    xyz = np.c_[p, np.full(len(p), 0.05)]
                    rec.log(f"{base}/path/{k}", rr.LineStrips3D([xyz], colors=[[255, 80, 80]]), static=True)
            pts = {"object": r.object_xyz, "grasp": r.grasp_xyz, "place": r.place_xyz}
            for name, xyz in pts.items():
                if xyz is not None:
                    rec.log(f"{base}/{name}", rr.Points3D([xyz], radii=0.05, labels=[name]), static=True)
        rec.flush()
        rec.disconnect()
    return Path(path)
