"""Mesh paths in scene files: absolute, relative to the scene file's folder, or under a named asset root.

A named root is written `${NAME}/rest/of/path`; NAME is an environment variable, and `OVMM_SHARED_DATA`
defaults to the shared data folder (sim.scene.objects.shared_data_dir). `portable_path` rewrites an
absolute path for a scene file that should move: under a root -> `${ROOT}/...`, else relative to the
scene file's folder. Old scene files with absolute paths load unchanged.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sim.scene.fields import SceneError

_ROOT = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}(?:/(.*))?$")
SHARED = "OVMM_SHARED_DATA"


def root_dir(name: str) -> Path | None:
    value = os.environ.get(name)
    if value:
        return Path(value)
    if name == SHARED:
        parent = Path(__file__).resolve().parents[3] / "shared" / "data"
        return parent if parent.is_dir() else None
    return None


def resolve_mesh_path(mesh: str, base_dir: str | os.PathLike | None) -> Path:
    """The file a scene's mesh path names (SceneError for an unset asset root)."""
    m = _ROOT.match(mesh)
    if m:
        root = root_dir(m.group(1))
        if root is None:
            raise SceneError(f"mesh path {mesh!r} uses asset root ${{{m.group(1)}}}, which is not set "
                             f"(export {m.group(1)}=/path/to/the/folder)")
        return root / (m.group(2) or "")
    p = Path(mesh)
    return p if p.is_absolute() else Path(base_dir or Path.cwd()) / p


def portable_path(path: str | os.PathLike, scene_dir: str | os.PathLike, roots: tuple[str, ...] = (SHARED,)) -> str:
    """`path` (absolute) as `${ROOT}/...` when it lies under one of `roots`, else relative to `scene_dir`."""
    p = Path(path).resolve()
    for name in roots:
        r = root_dir(name)
        if r is not None:
            try:
                return f"${{{name}}}/" + p.relative_to(r.resolve()).as_posix()
            except ValueError:
                pass
    return Path(os.path.relpath(p, Path(scene_dir).resolve())).as_posix()
