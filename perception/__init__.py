"""Open-vocabulary perception: detection (OWL-ViT/OWLv2), segmentation (SAM/MobileSAM), embeddings (CLIP,
a sentence encoder for ground truth), and the composite that turns a frame into object observations.

Entry point: `build_perception(PerceptionConfig(...), instance_descriptions=None)`. The names below load
lazily, so importing a config does not import torch and transformers.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "GroundTruthPipeline": "perception.composite",
    "ModelPerception": "perception.composite",
    "Perception": "perception.composite",
    "build_perception": "perception.composite",
    "PerceptionConfig": "perception.config",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'perception' has no attribute {name!r}")
