"""Model resolution: every model loads from a Hugging Face hub id *or* a local directory/file.

`resolve_model(spec, purpose)` returns a local path that exists. A local path is used as is. A hub id is
looked up in the local Hugging Face cache first and downloaded only when downloads are allowed
(HF_HUB_OFFLINE unset). Failure raises ModelNotFoundError naming what was tried and how to supply a copy.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from core.errors import ModelNotFoundError

log = logging.getLogger(__name__)



def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False") or os.environ.get(
        "TRANSFORMERS_OFFLINE", "0"
    ) not in ("", "0", "false", "False")


def resolve_model(spec: str | os.PathLike, purpose: str, required_files: tuple[str, ...] = ()) -> Path:
    """Resolve a model given as a local path or a hub id to a local path.

    purpose: what the model is for, used in messages (e.g. "OWL-ViT detector").
    required_files: files that must exist inside a local directory (e.g. ("config.json",)).
    """
    spec_str = str(spec)
    if not spec_str:
        raise ModelNotFoundError(f"no model given for the {purpose}")
    path = Path(spec_str).expanduser()
    if path.exists():
        if path.is_dir():
            missing = [f for f in required_files if not (path / f).exists()]
            if missing:
                raise ModelNotFoundError(
                    f"{purpose}: local model directory {path} lacks {', '.join(missing)}; "
                    "point to a directory saved with save_pretrained() (or a full hub snapshot)"
                )
        return path.resolve()
    if spec_str.startswith(("/", "./", "../", "~")) or spec_str.count("/") > 1 or spec_str.endswith((".pt", ".pth", ".bin")):
        raise ModelNotFoundError(
            f"{purpose}: local model path {path} does not exist; give an existing directory or file, or a hub id"
        )
    # A hub id such as "google/owlvit-base-patch32".
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - transformers always brings huggingface_hub
        raise ModelNotFoundError(f"{purpose}: cannot resolve hub id {spec_str!r}: huggingface_hub missing") from exc
    try:
        local = snapshot_download(spec_str, local_files_only=True)
        log.info("%s: using cached %s at %s", purpose, spec_str, local)
        return Path(local)
    except Exception:  # noqa: BLE001 - any cache miss falls through to a download attempt
        pass
    hint = (
        f"on a machine with internet run `huggingface-cli download {spec_str} --local-dir DIR`, "
        "copy DIR here and pass DIR instead of the hub id"
    )
    if offline():
        raise ModelNotFoundError(
            f"{purpose}: hub id {spec_str!r} is not in the local Hugging Face cache and downloads are off "
            f"(HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE set); {hint}"
        )
    try:
        local = snapshot_download(spec_str)
        return Path(local)
    except Exception as exc:  # noqa: BLE001 - network, auth or not-found: all end the same way for the user
        raise ModelNotFoundError(
            f"{purpose}: could not find {spec_str!r} locally or download it from the Hugging Face hub "
            f"({type(exc).__name__}); {hint}"
        ) from exc
