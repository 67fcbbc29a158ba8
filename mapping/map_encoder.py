"""Which text encoder a map's features live with, recorded at scan time and reloaded for queries.

A map stores its perception config (`perception_record`) and the embedding model id of its features. To
query a loaded map, `load_query_encoder(map)` rebuilds only the text side of that pipeline:
- ground-truth: the sentence encoder (`text_encoder`, MiniLM by default),
- owl-sam-clip: CLIP's text tower (`clip_model`),
- owl-sam: OWL's text tower (`detector_model`),
and refuses (EncoderMismatchError) when the rebuilt encoder's id differs from the recorded one, e.g. when a
model path was replaced by another model. `check_encoder` applies the same rule to an encoder in hand.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from core.errors import InputError
from perception.config import PerceptionConfig

log = logging.getLogger(__name__)


class EncoderMismatchError(InputError):
    """A query was embedded (or would be) with a different text encoder than the map's features."""


def perception_record(config: PerceptionConfig) -> dict:
    """The perception config as plain JSON (stored in the map file header)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def perception_from_record(record: dict) -> PerceptionConfig:
    """Inverse of perception_record; unknown keys (from other versions) are ignored."""
    fields = PerceptionConfig.__dataclass_fields__
    return PerceptionConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in fields})


def _map_name(voxel_map) -> str:
    return voxel_map.metadata.source or "the map"


def check_encoder(voxel_map, encoder) -> None:
    """Raise EncoderMismatchError unless `encoder.embedding_model_id` is the map's embedding model."""
    want = voxel_map.metadata.embedding_model_id
    have = getattr(encoder, "embedding_model_id", None)
    if want is None or have is None:
        return
    if want != have:
        raise EncoderMismatchError(
            f"the map's features come from {want!r} but the query encoder is {have!r}; "
            "query with the encoder the map was built with (or rescan with this one)"
        )


def load_query_encoder(voxel_map, device: str = "cpu"):
    """The text encoder of the map's recorded perception pipeline (an object with encode_text and
    embedding_model_id); raises EncoderMismatchError / ModelNotFoundError when it cannot be had."""
    meta = voxel_map.metadata
    if not meta.embedding_model_id or not meta.perception:
        raise EncoderMismatchError(
            f"{_map_name(voxel_map)} records no embedding model, so its text encoder cannot be loaded for queries"
        )
    try:
        cfg = perception_from_record(meta.perception)
        cfg.validate()
    except (TypeError, ValueError, InputError) as exc:
        raise EncoderMismatchError(f"{_map_name(voxel_map)} has an unusable perception record ({exc})") from exc
    from perception.composite import build_text_encoder

    encoder = build_text_encoder(cfg, device)
    check_encoder(voxel_map, encoder)
    if voxel_map.feature_dim is not None:
        dim = encoder.encode_text(["probe"]).shape[1]
        if dim != voxel_map.feature_dim:
            raise EncoderMismatchError(
                f"{meta.embedding_model_id!r} now embeds into {dim} dimensions but the map's features have "
                f"{voxel_map.feature_dim}; the model files changed since the scan"
            )
    log.info("query encoder %s", encoder.embedding_model_id)
    return encoder
