"""Support surfaces from a template's `user_defined` receptacle entries (habitat-lab's convention):
`receptacle_aabb_*` volumes (`position` = centre, `scale` = half extents, optional `rotation` [w, x, y, z],
in the template's Habitat frame; the bottom face is the surface) and `receptacle_mesh_*` surfaces
(`mesh_filepath` relative to the template's folder), turned into our receptacle frame."""

from __future__ import annotations

import numpy as np

from core.geometry import make_T
from sim.habitat_dataset.attributes import Template
from sim.habitat_dataset.frames import quat_wxyz_to_R
from sim.habitat_dataset.furniture import FurnitureConfig, cast_vertical, support_surfaces
from sim.habitat_dataset.instances import vec
from sim.scene.fields import SceneError
from sim.scene.habitat_urdf import R_HAB_TO_ZUP
from sim.scene.mesh_io import load_mesh_file
from sim.scene.spec import SurfaceSpec


def receptacle_surfaces(t: Template, T_rec_local: np.ndarray, scale: np.ndarray, ctx: str,  # noqa: N803
                        furniture: FurnitureConfig,
                        names: list[str] | None = None) -> list[SurfaceSpec] | None:
    """Surfaces from `user_defined` receptacle_aabb_* / receptacle_mesh_* entries (receptacle frame), or None.
    `names` (if given) receives each surface's receptacle name."""
    user = t.attrs.get("user_defined") or {}
    entries = sorted((k, v) for k, v in user.items() if k.startswith("receptacle_") and isinstance(v, dict))
    if not entries:
        return None
    out: list[SurfaceSpec] = []
    # T_rec_local maps our z-up object frame (scaled mesh) to the receptacle frame; Habitat local -> z-up
    Rz = R_HAB_TO_ZUP  # noqa: N806
    for k, v in entries:
        src = f"{t.source} field 'user_defined.{k}'"
        if k.startswith("receptacle_aabb_"):
            pos = vec(v.get("position"), 3, f"{src}.position")
            half = vec(v.get("scale"), 3, f"{src}.scale", positive=True)
            Rr = quat_wxyz_to_R(v["rotation"], f"{src}.rotation") if "rotation" in v else np.eye(3)  # noqa: N806
            # bottom face (local -y side) corners, scaled by the instance scale in the asset frame
            corners = np.array([[sx, -half[1], sz] for sx in (-half[0], half[0]) for sz in (-half[2], half[2])])
            pts_h = (Rr @ corners.T).T + pos
            pts = (T_rec_local[:3, :3] @ (Rz @ (pts_h * scale).T)).T + T_rec_local[:3, 3]
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            out.append(SurfaceSpec((round(float((lo[0] + hi[0]) / 2), 4), round(float((lo[1] + hi[1]) / 2), 4),
                                    round(float(pts[:, 2].max()), 4)),
                                   (round(float(hi[0] - lo[0]), 4), round(float(hi[1] - lo[1]), 4))))
            if names is not None:
                names.append(str(v.get("name") or k))
        elif k.startswith("receptacle_mesh_"):
            f = v.get("mesh_filepath")
            if not isinstance(f, str):
                raise SceneError(f"{src}.mesh_filepath must be a file name")
            path = (t.base_dir / f).resolve()
            if not path.is_file():
                raise SceneError(f"{src}.mesh_filepath names {path}, which does not exist")
            m = load_mesh_file(path)
            m.apply_transform(np.diag([*scale, 1.0]))
            m.apply_transform(T_rec_local @ make_T(Rz))
            grid = cast_vertical(m, furniture.cell_m)
            found = support_surfaces(grid, furniture, need_clearance=False, z_range=(-10.0, 10.0))
            out += found
            if names is not None:
                names += [str(v.get("name") or k)] * len(found)
        else:
            raise SceneError(f"{src}: a receptacle entry must start with receptacle_aabb_ or receptacle_mesh_")
    return out
