"""Top-down pictures of a voxel map (matplotlib, Agg backend; no other drawing dependency).

`top_down_rgb(map)`: per x-y column, the colour of the highest occupied voxel below `max_height_m` (so the
ceiling does not hide the room), shaded darker for lower columns; unknown columns are white.
`save_query_png(map, path, similarities, hits, title)`: that view, the query's per-column maximum
similarity as a heat map on top, and the hits as numbered boxes (their x-y extent), written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.io import atomic_path


@dataclass(frozen=True)
class PictureConfig:
    max_height_m: float = 2.0  # voxels above this (ceilings, lamps) are left out of the top-down view
    min_hits: int = 1  # occupied voxels seen fewer times are left out
    heat_floor: float = 0.5  # similarities are shown from this fraction of the way between min and max
    heat_grow_cells: int = 1  # spread each column's similarity to its neighbours this many times for display
    dpi: int = 150


@dataclass
class TopDown:
    rgb: np.ndarray  # float (rows, cols, 3) in [0, 1], row 0 = lowest y
    origin_xy: np.ndarray  # world xy of the corner of cell (0, 0)
    cell_m: float

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) for matplotlib's imshow(origin="lower")."""
        rows, cols = self.rgb.shape[:2]
        x0, y0 = self.origin_xy
        return (x0, x0 + cols * self.cell_m, y0, y0 + rows * self.cell_m)

    def cells(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) int arrays of world xy points."""
        rc = np.floor((np.asarray(xy, np.float64) - self.origin_xy) / self.cell_m).astype(np.int64)
        return rc[:, 1], rc[:, 0]


def top_down_rgb(voxel_map, config: PictureConfig = PictureConfig()) -> TopDown:
    """The highest-voxel colour view of the occupancy layer (see the module docstring)."""
    occ = voxel_map.occupancy
    vs = voxel_map.voxel_size
    keep = (occ.counts >= config.min_hits) & ((occ.coords[:, 2] + 0.5) * vs <= config.max_height_m)
    coords = occ.coords[keep].astype(np.int64)
    rgb = occ.rgb[keep] / 255.0
    if len(coords) == 0:
        return TopDown(np.ones((1, 1, 3)), np.zeros(2), vs)
    lo = coords[:, :2].min(axis=0)
    hi = coords[:, :2].max(axis=0)
    rows, cols = int(hi[1] - lo[1] + 1), int(hi[0] - lo[0] + 1)
    col_id = (coords[:, 1] - lo[1]) * cols + (coords[:, 0] - lo[0])
    order = np.lexsort((coords[:, 2], col_id))
    last = np.r_[col_id[order][1:] != col_id[order][:-1], True]
    top = order[last]
    z = (coords[top, 2] + 0.5) * vs
    shade = 0.55 + 0.45 * np.clip(z / max(config.max_height_m, 1e-6), 0, 1)
    img = np.ones((rows * cols, 3))
    img[col_id[top]] = rgb[top] * shade[:, None]
    return TopDown(img.reshape(rows, cols, 3), lo.astype(np.float64) * vs, vs)


def similarity_columns(voxel_map, similarities: np.ndarray, view: TopDown, grow_cells: int = 0) -> np.ndarray:
    """Per-column maximum similarity on the view's grid (NaN where no semantic voxel), optionally spread
    to neighbouring columns `grow_cells` times (a 3x3 maximum filter)."""
    rows, cols = view.rgb.shape[:2]
    heat = np.full(rows * cols, -np.inf)
    if similarities is not None and len(similarities):
        r, c = view.cells(voxel_map.semantic_centers()[:, :2])
        ok = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        np.maximum.at(heat, r[ok] * cols + c[ok], similarities[ok].astype(np.float64))
    heat = heat.reshape(rows, cols)
    for _ in range(grow_cells):  # widen small objects so they stay visible at figure scale
        padded = np.pad(heat, 1, constant_values=-np.inf)
        heat = np.max([padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
                       for dr in (-1, 0, 1) for dc in (-1, 0, 1)], axis=0)
    heat[~np.isfinite(heat)] = np.nan
    return heat


def save_query_png(voxel_map, path: str | Path, similarities: np.ndarray | None = None, hits=(),
                   title: str = "", config: PictureConfig = PictureConfig()) -> Path:
    """Draw the top-down view with the similarity heat map and numbered hits; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    view = top_down_rgb(voxel_map, config)
    rows, cols = view.rgb.shape[:2]
    fig_w = 8.0
    fig_h = max(3.0, min(12.0, fig_w * rows / max(cols, 1)))
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    try:
        ax.imshow(view.rgb, origin="lower", extent=view.extent, interpolation="nearest")
        if similarities is not None and len(similarities):
            heat = similarity_columns(voxel_map, similarities, view, config.heat_grow_cells)
            finite = heat[np.isfinite(heat)]
            if finite.size:
                lo, hi = float(finite.min()), float(finite.max())
                vmin = lo + config.heat_floor * (hi - lo)
                shown = np.where(heat >= vmin, heat, np.nan)
                im = ax.imshow(shown, origin="lower", extent=view.extent, cmap="inferno", vmin=vmin,
                               vmax=max(hi, vmin + 1e-6), alpha=0.85, interpolation="nearest")
                fig.colorbar(im, ax=ax, fraction=0.035, pad=0.02, label="similarity")
        for i, h in enumerate(hits):
            lo_xy, size = h.lo[:2], h.extent[:2]
            ax.add_patch(Rectangle(tuple(lo_xy), size[0], size[1], fill=False, lw=1.8, ec="cyan"))
            ax.annotate(f"{i + 1}: {h.score:.2f}", (h.center[0], h.center[1]), color="cyan", fontsize=8,
                        xytext=(4, 4), textcoords="offset points", weight="bold")
            ax.plot(h.center[0], h.center[1], marker="+", color="cyan", ms=6, mew=1.2)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.set_aspect("equal")
        if title:
            ax.set_title(title)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=config.dpi, format="png")
    finally:
        plt.close(fig)
    return Path(path)
