"""The object library: what objects a generated scene can contain (mesh or procedural, label, colour...).

Sources, combined by `default_library()`:
- the 17 YCB meshes in ../shared/data/objects/ycb (or $OVMM_SHARED_DATA/objects/ycb) when present;
- procedural cups, mugs, bowls, boxes, bottles and cans in several colours (always available);
- `load_library_dir(DIR)`: a folder of meshes with a library.json (format in docs/sim-scenes.md).

`load_object_mesh(obj, base_dir)` returns any scene object's mesh (see sim.mesh_io).
"""

from __future__ import annotations

from sim.mesh_io import load_mesh_file, load_object_mesh
from sim.procedural import PROCEDURAL_KINDS, make_procedural_mesh

__all__ = ["PROCEDURAL_KINDS", "load_mesh_file", "load_object_mesh", "make_procedural_mesh"]
