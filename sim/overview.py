"""A one-page picture of a simulated scene: labelled top-down view + the head camera's RGB, depth, instances.

Used by `ovmm sim render`. The top-down view is rendered by the same MuJoCo renderer from a camera 30 m
above the scene centre (nearly orthographic), so labels are placed by projecting world points with the
same intrinsics.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from core.geometry import make_T
from core.io import atomic_path
from core.stretch import T_world_headcam
from core.types import CameraIntrinsics
from sim.protocol import World

TOP_HEIGHT_M = 30.0


def top_down_camera(world: World, width_px: int = 800, margin_m: float = 0.5) -> tuple[np.ndarray, CameraIntrinsics]:
    """(T_world_cam, intrinsics) of a camera looking straight down at the whole scene (image up = +y)."""
    xmin, ymin, xmax, ymax = world.spec.bounds_xy()
    ex, ey = xmax - xmin + 2 * margin_m, ymax - ymin + 2 * margin_m
    height_px = max(64, min(1024, int(round(width_px * ey / ex))))
    f = min(width_px * TOP_HEIGHT_M / ex, height_px * TOP_HEIGHT_M / ey)
    K = CameraIntrinsics(f, f, (width_px - 1) / 2, (height_px - 1) / 2, width_px, height_px)
    R = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    return make_T(R, [(xmin + xmax) / 2, (ymin + ymax) / 2, TOP_HEIGHT_M]), K


def _to_px(T: np.ndarray, K: CameraIntrinsics, xyz) -> tuple[float, float]:  # noqa: N803
    p = np.linalg.inv(T) @ np.append(np.asarray(xyz, dtype=float), 1.0)
    return K.fx * p[0] / p[2] + K.cx, K.fy * p[1] / p[2] + K.cy


def save_overview(world: World, out: str | Path, head_pan: float | None = None, head_tilt: float | None = None,
                  dpi: int = 100) -> dict:
    """Write the overview PNG atomically; returns a small summary (what was drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = world.spec
    T_top, K_top = top_down_camera(world)
    top, _, _ = world.render(T_top, K_top)
    pan = world.joints.head_pan if head_pan is None else head_pan
    tilt = world.joints.head_tilt if head_tilt is None else head_tilt
    T_head = T_world_headcam(world.base_pose, pan, tilt)
    rgb, depth, ids = world.render(T_head)

    fig = plt.figure(figsize=(16, 10), dpi=dpi)
    ax = fig.add_subplot(1, 2, 1)
    ax.imshow(top)
    for rec in spec.receptacles:
        z = max((s.pos[2] for s in rec.surfaces), default=0.5)
        u, v = _to_px(T_top, K_top, [rec.pose[0], rec.pose[1], z])
        ax.text(u, v, rec.description, fontsize=7, color="black", ha="center", va="center",
                bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "edgecolor": "none"})
    for obj in spec.objects:
        c = world.object_center(obj.id)
        u, v = _to_px(T_top, K_top, c)
        ax.plot(u, v, "o", ms=3, color="yellow", mec="black", mew=0.5)
        ax.text(u + 4, v - 4, obj.label, fontsize=6, color="navy")
    b = world.base_pose
    u0, v0 = _to_px(T_top, K_top, [b.x, b.y, 0.3])
    u1, v1 = _to_px(T_top, K_top, [b.x + 0.4 * math.cos(b.theta), b.y + 0.4 * math.sin(b.theta), 0.3])
    ax.annotate("", xy=(u1, v1), xytext=(u0, v0), arrowprops={"arrowstyle": "->", "color": "red", "lw": 2})
    ax.set_title(f"{spec.name}: top-down (red arrow: robot)")
    ax.axis("off")
    panels = [(rgb, "head camera RGB", None), (depth, "depth (m)", "viridis"), (ids, "instance ids", "tab20")]
    for k, (img, title, cmap) in enumerate(panels):
        a = fig.add_subplot(3, 2, 2 * (k + 1))
        im = a.imshow(img, cmap=cmap, interpolation="nearest")
        if cmap == "viridis":
            fig.colorbar(im, ax=a, fraction=0.03)
        a.set_title(title)
        a.axis("off")
    labels = spec.instance_labels()
    seen = [int(i) for i in np.unique(ids) if i != 0]
    fig.text(0.52, 0.01, "visible: " + ", ".join(f"{i}={labels.get(i, '?')}" for i in seen), fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return {"out": str(out), "visible_instances": seen, "receptacles": len(spec.receptacles),
            "objects": len(spec.objects)}
