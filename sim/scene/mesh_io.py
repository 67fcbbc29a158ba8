"""Loading object and part meshes of a scene as trimesh meshes (metres, in the item's own frame)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import trimesh

from sim.scene.asset_paths import resolve_mesh_path
from sim.scene.fields import SceneError
from sim.scene.procedural import make_procedural_mesh
from sim.scene.spec import ObjectSpec


@lru_cache(maxsize=64)
def _load_file(path: str) -> trimesh.Trimesh:
    try:
        loaded = trimesh.load(path, force="mesh", process=True)
    except Exception as exc:  # noqa: BLE001 - trimesh raises many types for bad files
        raise SceneError(f"cannot read mesh file {path}: {exc}") from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise SceneError(f"mesh file {path} holds no triangles")
    return loaded


def load_mesh_file(path: str | os.PathLike, scale=1.0) -> trimesh.Trimesh:
    """A mesh file (STL/OBJ/GLB/PLY...) as one Trimesh (glTF scene graphs are flattened), scaled."""
    p = Path(path)
    if not p.is_file():
        raise SceneError(f"mesh file {p} does not exist")
    mesh = _load_file(str(p.resolve())).copy()
    s = np.broadcast_to(np.asarray(scale, dtype=np.float64), (3,))
    if not np.allclose(s, 1.0):
        mesh.apply_transform(np.diag([s[0], s[1], s[2], 1.0]))
    return mesh


def load_object_mesh(obj: ObjectSpec, base_dir: str | os.PathLike | None = None) -> trimesh.Trimesh:
    """The object's mesh, scaled by `obj.scale`, in the object frame (apply position/quat for the world).

    Relative mesh paths are resolved against `base_dir` (the scene file's folder; default cwd).
    """
    if obj.procedural is not None:
        mesh = make_procedural_mesh(obj.procedural)
        if obj.scale != 1.0:
            mesh.apply_scale(obj.scale)
        return mesh
    if obj.mesh is None:
        raise SceneError(f"object {obj.id!r} has neither a mesh nor procedural params")
    p = resolve_mesh_path(obj.mesh, base_dir)
    if not p.is_file():
        raise SceneError(f"object {obj.id!r} mesh file {p} does not exist")
    return load_mesh_file(p, obj.scale)
