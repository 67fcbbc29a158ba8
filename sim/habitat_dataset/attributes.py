"""A Habitat scene dataset config (`*.scene_dataset_config.json`) as templates found by name.

Each section (`stages`, `objects`, `articulated_objects`, `light_setups`, `scene_instances`) holds
`default_attributes` (under every template of the section), `paths` (extension -> list of files, folders
or globs, relative to the dataset file; a folder stands for the config files directly in it) and `configs`
(inline templates: `template_handle`, optional `original_file` whose attributes they inherit, and
`attributes` that override). `semantic_scene_descriptor_instances` maps names to semantic files (plus
`paths`). Sections are indexed when first needed, so a glob that matches nothing is an error only for a
section the loaded scene uses (the error names the dataset file and the field).

Template names are looked up as habitat-sim does: the exact handle, then the file name without its
`.<kind>_config.json` suffix or the path below the dataset folder, then a unique handle containing the
name (several: the first in sorted order, with a warning naming the others).
"""

from __future__ import annotations

import glob
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scene.fields import SceneError

log = logging.getLogger(__name__)

SUFFIX = {"stages": ".stage_config.json", "objects": ".object_config.json",
          "articulated_objects": ".ao_config.json", "light_setups": ".lighting_config.json",
          "scene_instances": ".scene_instance.json", "semantic": ".semantic_config.json"}
KIND = {"stages": "stage", "objects": "object", "articulated_objects": "articulated object",
        "light_setups": "light setup", "scene_instances": "scene instance"}
SECTIONS = ("stages", "objects", "articulated_objects", "light_setups", "scene_instances",
            "semantic_scene_descriptor_instances", "navmesh_instances")


@dataclass(frozen=True)
class Template:
    """One stage/object/articulated-object/light template: merged attributes and where its paths resolve."""

    section: str
    handle: str
    attrs: dict
    base_dir: Path
    source: str  # the file (or "dataset.json field ...") the attributes came from, for messages

    @property
    def name(self) -> str:
        return short_name(self.handle, self.section)


def short_name(handle: str, section: str) -> str:
    base = os.path.basename(handle)
    for suf in (SUFFIX.get(section, ""), ".json", ".glb", ".urdf"):
        if suf and base.endswith(suf):
            return base[: -len(suf)]
    return base


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SceneError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise SceneError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise SceneError(f"{what} {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def merge(base: dict, over: dict) -> dict:
    """`over` on top of `base`; nested dicts (user_defined, lights) merge key by key."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class SceneDataset:
    """A scene dataset config file. `template(section, name, ctx)` finds a template; `scene_path(name)`."""

    path: Path
    raw: dict
    _index: dict[str, dict[str, Template]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SceneDataset:
        p = Path(path)
        d = read_json(p, "scene dataset config")
        if not isinstance(d, dict):
            raise SceneError(f"scene dataset config {p} must hold a JSON object")
        for k in sorted(d):
            if k not in SECTIONS:
                log.info("%s: section %r is not used by ovmm", p.name, k)
        for k in SECTIONS:
            if k in d and not isinstance(d[k], dict):
                raise SceneError(f"{p} field {k!r} must be a JSON object")
        return cls(p, d)

    @property
    def root(self) -> Path:
        return self.path.resolve().parent

    # --- sections -------------------------------------------------------------------------------------
    def section(self, name: str) -> dict[str, Template]:
        if name not in self._index:
            self._index[name] = self._build(name)
        return self._index[name]

    def _files(self, name: str, sec: dict) -> list[tuple[str, Path]]:
        """(extension, file) for every entry of the section's `paths` (each must match something)."""
        paths = sec.get("paths", {})
        if not isinstance(paths, dict):
            raise SceneError(f"{self.path} field '{name}.paths' must map extensions to lists of paths")
        out: list[tuple[str, Path]] = []
        for ext, entries in paths.items():
            if isinstance(entries, str):
                entries = [entries]
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise SceneError(f"{self.path} field '{name}.paths.{ext}' must be a list of paths")
            suffix = SUFFIX.get(name, "") if ext == ".json" else ext
            for i, entry in enumerate(entries):
                found = self._expand(entry, suffix, name)
                if not found:
                    raise SceneError(f"{self.path} field '{name}.paths[\"{ext}\"][{i}]' ({entry!r}) matches no "
                                     f"{suffix} file")
                out += [(ext, f) for f in found]
        return out

    def _expand(self, entry: str, suffix: str, section: str) -> list[Path]:
        pattern = str(self.root / entry)
        hits = sorted(glob.glob(pattern)) if glob.has_magic(entry) else ([pattern] if os.path.exists(pattern) else [])
        files: list[Path] = []
        for h in hits:
            p = Path(h)
            if p.is_dir():
                files += sorted(q for q in p.iterdir() if q.is_file() and q.name.endswith(suffix))
            elif p.is_file() and (p.name.endswith(suffix) or (section == "semantic_scene_descriptor_instances")):
                files.append(p)
        return files

    def _build(self, name: str) -> dict[str, Template]:
        sec = self.raw.get(name, {})
        if name == "semantic_scene_descriptor_instances":
            return self._semantic_index(sec)
        defaults = sec.get("default_attributes", {}) or {}
        if not isinstance(defaults, dict):
            raise SceneError(f"{self.path} field '{name}.default_attributes' must be a JSON object")
        out: dict[str, Template] = {}
        for ext, f in self._files(name, sec):
            rel = os.path.relpath(f, self.root)
            if ext == ".json":
                attrs = read_json(f, f"{KIND[name]} config")
                if not isinstance(attrs, dict):
                    raise SceneError(f"{KIND[name]} config {f} must hold a JSON object")
            else:  # an asset file used directly as a template (.glb stage/object, .urdf articulated object)
                attrs = {"urdf_filepath" if ext == ".urdf" else "render_asset": f.name}
            out[rel] = Template(name, rel, merge(defaults, attrs), f.parent, str(f))
        configs = sec.get("configs", [])
        if not isinstance(configs, list):
            raise SceneError(f"{self.path} field '{name}.configs' must be a list")
        for i, c in enumerate(configs):
            ctx = f"{self.path} field '{name}.configs[{i}]'"
            if not isinstance(c, dict) or not isinstance(c.get("template_handle"), str):
                raise SceneError(f"{ctx} needs a string 'template_handle'")
            attrs = c.get("attributes", {})
            if not isinstance(attrs, dict):
                raise SceneError(f"{ctx}.attributes must be a JSON object")
            base, base_dir, source = defaults, self.root, f"{self.path} {name}.configs[{i}]"
            if "original_file" in c:
                orig = self.root / str(c["original_file"])
                if not orig.is_file():
                    raise SceneError(f"{ctx}.original_file names {orig}, which does not exist")
                o = read_json(orig, f"{KIND[name]} config")
                if not isinstance(o, dict):
                    raise SceneError(f"{KIND[name]} config {orig} must hold a JSON object")
                base, base_dir, source = merge(defaults, o), orig.parent, str(orig)
            out[c["template_handle"]] = Template(name, c["template_handle"], merge(base, attrs), base_dir, source)
        return out

    def _semantic_index(self, sec: dict) -> dict[str, Template]:
        out: dict[str, Template] = {}
        for _, f in self._files("semantic_scene_descriptor_instances", sec):
            rel = os.path.relpath(f, self.root)
            out[rel] = Template("semantic", rel, {"path": str(f)}, f.parent, str(f))
        for k, v in sec.items():
            if k != "paths" and isinstance(v, str):
                out[k] = Template("semantic", k, {"path": v}, self.root, f"{self.path} semantic_scene_descriptor_instances.{k}")
        return out

    # --- lookups ---------------------------------------------------------------------------------------
    def template(self, section: str, name: str, ctx: str) -> Template:
        """The template `name` of `section`; SceneError naming `ctx` (file and field) when there is none."""
        index = self.section(section)
        if name in index:
            return index[name]
        exact = [t for t in index.values()
                 if name in (t.name, os.path.splitext(t.handle)[0], t.handle.removesuffix(SUFFIX.get(section, "")))]
        if exact:
            return exact[0]
        loose = sorted(h for h in index if name in h)
        if loose:
            if len(loose) > 1:
                log.warning("%s: %s template name %r matches %d templates (%s); using %r as habitat-sim does",
                            ctx, KIND.get(section, section), name, len(loose), ", ".join(loose), loose[0])
            return index[loose[0]]
        known = ", ".join(sorted(t.name for t in index.values())[:12]) or "none"
        raise SceneError(f"{ctx}: no {KIND.get(section, section)} template {name!r} in dataset {self.path.name} "
                         f"(known: {known})")

    def scene_names(self) -> list[str]:
        return sorted(t.name for t in self.section("scene_instances").values())

    def scene_template(self, name: str) -> Template:
        return self.template("scene_instances", name, f"{self.path} --scene")

    def semantic_file(self, name: str, ctx: str) -> Path:
        """The semantic config named `name` (a key of semantic_scene_descriptor_instances or a file name)."""
        index = self.section("semantic_scene_descriptor_instances")
        candidates: list[Path] = []
        if name in index:
            t = index[name]
            p = Path(t.attrs["path"])
            p = p if p.is_absolute() else t.base_dir / p
            candidates += [p, p.with_name(p.name + SUFFIX["semantic"])]
        for t in index.values():
            if os.path.basename(t.handle) in (name, name + SUFFIX["semantic"]):
                candidates.append(Path(t.attrs["path"]))
        candidates += [self.root / name, self.root / (name + SUFFIX["semantic"])]
        for p in candidates:
            if p.is_file():
                return p
        raise SceneError(f"{ctx}: semantic scene descriptor {name!r} is not a file of dataset {self.path.name} "
                         f"(looked for {candidates[0]})")
