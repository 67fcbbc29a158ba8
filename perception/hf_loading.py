"""Loading transformers models and processors from a hub id or local directory, with one clear error."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import ModelNotFoundError
from core.models import resolve_model

log = logging.getLogger(__name__)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' info notices and progress bars while loading (library code shows no bars)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_pretrained(spec: str, purpose: str, classes: dict, device: str):
    """Resolve `spec` and load (model, processor, model_type).

    classes: model_type (config.json's "model_type") -> model class accepted for this purpose.
    """
    from transformers import AutoConfig, AutoProcessor

    path: Path = resolve_model(spec, purpose, required_files=("config.json",))
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - unreadable/unknown config
        raise ModelNotFoundError(f"{purpose}: {path}/config.json could not be read ({type(exc).__name__}: {exc})") from exc
    model_type = getattr(config, "model_type", None)
    if model_type not in classes:
        raise ModelNotFoundError(
            f"{purpose}: {spec} is a {model_type!r} model; expected one of {', '.join(sorted(classes))}"
        )
    try:
        with quiet_transformers():  # e.g. the "falling back to the PIL image processor" notice
            processor = AutoProcessor.from_pretrained(path, local_files_only=True)
            model = classes[model_type].from_pretrained(path, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - missing tokenizer/processor/weights files
        raise ModelNotFoundError(
            f"{purpose}: could not load model and processor from {path} ({type(exc).__name__}: {exc}); "
            "the directory must hold what save_pretrained() writes for both"
        ) from exc
    model = model.to(device).eval()
    log.info("%s: loaded %s (%s) on %s", purpose, spec, model_type, device)
    return model, processor, model_type
