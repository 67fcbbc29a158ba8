"""The one map file convention: a map is `NAME.npz` (mapping.persistence), and every command that reads a map
accepts the name with or without the `.npz` (`ovmm scan --out home` writes home.npz; `ovmm query home ...`
reads it). Files that are not maps get one sentence saying what they are."""

from __future__ import annotations

from pathlib import Path

from core.errors import InputError

MAP_SUFFIX = ".npz"
_ZIP_MAGIC = b"PK\x03\x04"


def map_path(path: str | Path) -> Path:
    """The map file `path` names (`.npz` added when the name lacks it and only that file exists); InputError
    naming the file when it is missing or clearly not a map (a scene's JSON, an image...)."""
    p = Path(path)
    if not p.exists() and p.suffix != MAP_SUFFIX and p.with_name(p.name + MAP_SUFFIX).is_file():
        p = p.with_name(p.name + MAP_SUFFIX)
    if p.is_dir():
        raise InputError(f"{p} is a folder, not a map file (maps are .npz files written by `ovmm scan`)")
    if not p.is_file():
        raise InputError(f"map file {p} does not exist (make one with `ovmm scan ... --out {p.name}`)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise InputError(f"cannot read the map file {p}: {exc.strerror}") from exc
    if head.startswith(_ZIP_MAGIC):
        return p
    text = head.lstrip()
    if text.startswith(b"{"):
        raise InputError(f"{p} is a JSON file (a simulator scene?), not a map; make a map from a scene with "
                         f"`ovmm scan --sim {p} --out home.npz`")
    raise InputError(f"{p} is not an ovmm map (maps are .npz files written by `ovmm scan`)")
