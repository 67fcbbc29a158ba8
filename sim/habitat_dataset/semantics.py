"""A scene's semantic config (`semantic_scene_instance`): its region annotations (-> rooms) and its semantic
descriptor file (`semantic_descriptor_filename`: semantic id -> class name, used for object labels).

Descriptor formats read: HM3D-style text (`id,hex colour,"class name",region` per line, an optional title
line) and JSON with `objects[]` holding `id` and `class_`/`class_name` (Gibson `.scn`), or `class_id` with a
`classes[]` list of `id`/`name` (Replica `info_semantic.json`). A missing semantic config is a warning
(habitat-sim loads such scenes too); a named descriptor that does not exist is an error.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sim.habitat_dataset.attributes import SceneDataset, read_json
from sim.scene.fields import SceneError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SceneSemantics:
    path: Path | None = None
    regions: list = field(default_factory=list)
    classes: dict[int, str] = field(default_factory=dict)


def read_descriptor(path: Path) -> dict[int, str]:
    """Semantic id -> class name from a descriptor file (formats in the module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SceneError(f"cannot read semantic descriptor {path}: {exc.strerror or exc}") from None
    out: dict[int, str] = {}
    if text.lstrip().startswith(("{", "[")):
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SceneError(f"semantic descriptor {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        objects = d.get("objects", []) if isinstance(d, dict) else []
        classes = {c.get("id"): c.get("name") for c in d.get("classes", []) if isinstance(c, dict)} if isinstance(d, dict) else {}
        for o in objects if isinstance(objects, list) else []:
            if not isinstance(o, dict) or not isinstance(o.get("id"), int):
                continue
            name = o.get("class_") or o.get("class_name") or classes.get(o.get("class_id"))
            if isinstance(name, str) and name:
                out[o["id"]] = name
        return out
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 3 and row[0].strip().isdigit():
            out[int(row[0])] = row[2].strip()
    return out


def scene_semantics(ds: SceneDataset, scene_attrs: dict, scene_name: str, ctx: str) -> SceneSemantics:
    name = scene_attrs.get("semantic_scene_instance")
    if not isinstance(name, str) or not name:
        return SceneSemantics()
    name = name.replace("%%CONFIG_NAME_AS_ASSET_FILENAME%%", scene_name)
    try:
        path = ds.semantic_file(name, ctx)
    except SceneError as exc:
        log.warning("%s; the scene gets one room over its floor", exc)
        return SceneSemantics()
    sem = read_json(path, "semantic config")
    if not isinstance(sem, dict):
        raise SceneError(f"semantic config {path} must hold a JSON object")
    regions = sem.get("region_annotations", [])
    if not isinstance(regions, list):
        raise SceneError(f"semantic config {path} field 'region_annotations' must be a list")
    classes: dict[int, str] = {}
    desc = sem.get("semantic_descriptor_filename")
    if isinstance(desc, str) and desc:
        dpath = (path.parent / desc).resolve()
        if not dpath.is_file():
            raise SceneError(f"semantic config {path} field 'semantic_descriptor_filename' names {dpath}, "
                             "which does not exist")
        classes = read_descriptor(dpath)
    return SceneSemantics(path, regions, classes)
