"""A before/after picture of the map for an object that moved: the map as scanned and as the robot left it.

`save_before_after_png(before, after, phrase, encoder, path, old_xy, new_xy)` draws both maps from above
(mapping.pictures' top-down view) side by side, each with the phrase's similarity heat map (top 15%),
its hits above the map's not-found threshold (cyan boxes), and marks where the object was at the scan (x)
and where it is now (o). Written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.io import atomic_path


def _similarities(vmap, phrase: str, encoder) -> np.ndarray:
    from mapping.query import similarities

    emb = np.asarray(encoder.encode_text([phrase]), dtype=np.float32)[0]
    return similarities(vmap, emb)


def _hits(vmap, phrase: str, encoder) -> list:
    """The map's hits for the phrase above its not-found threshold (the phrase's own instance where known)."""
    from mapping.calibration import calibration_of

    thr = calibration_of(vmap).threshold
    hits = [h for h in vmap.query_text(phrase, encoder) if h.score >= thr]
    return [h for h in hits if h.description in (None, phrase)] or hits[:1]


def save_before_after_png(before, after, phrase: str, encoder, path: str | Path, old_xy=None, new_xy=None,
                          title: str = "") -> Path:
    """Two top-down panels (before, after) with the phrase's heat map, hits and the object's places."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from mapping.pictures import PictureConfig, similarity_columns, top_down_rgb

    config = PictureConfig()
    fig, axes = plt.subplots(1, 2, figsize=(13, 6))
    try:
        for ax, vmap, name in ((axes[0], before, "as scanned"), (axes[1], after, "after the run")):
            view = top_down_rgb(vmap, config)
            ax.imshow(view.rgb, origin="lower", extent=view.extent, interpolation="nearest")
            if len(vmap):
                heat = similarity_columns(vmap, _similarities(vmap, phrase, encoder), view, config.heat_grow_cells)
                finite = heat[np.isfinite(heat)]
                if finite.size:
                    lo, hi = float(finite.min()), float(finite.max())
                    vmin = lo + 0.85 * (hi - lo)
                    ax.imshow(np.where(heat >= vmin, heat, np.nan), origin="lower", extent=view.extent,
                              cmap="inferno", vmin=vmin, vmax=max(hi, vmin + 1e-6), alpha=0.9,
                              interpolation="nearest")
            for h in _hits(vmap, phrase, encoder):
                ax.add_patch(Rectangle(tuple(h.lo[:2] - 0.05), h.extent[0] + 0.1, h.extent[1] + 0.1, fill=False,
                                       lw=2.0, ec="cyan"))
                ax.annotate(f"{h.score:.2f}", (h.hi[0] + 0.05, h.hi[1] + 0.05), color="cyan", fontsize=9,
                            weight="bold")
            if old_xy is not None:
                ax.plot(old_xy[0], old_xy[1], marker="x", color="red", ms=12, mew=2.5, label="at the scan")
            if new_xy is not None:
                ax.plot(new_xy[0], new_xy[1], marker="o", mfc="none", color="lime", ms=14, mew=2.5, label="now")
            ax.set_title(f"'{phrase}': map {name}")
            ax.set_xlabel("x (m)")
            ax.set_ylabel("y (m)")
            ax.set_aspect("equal")
            ax.legend(loc="upper right", fontsize=8)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
    return Path(path)
