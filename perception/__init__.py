"""Open-vocabulary perception: detection (OWL-ViT/OWLv2), segmentation (SAM/MobileSAM), embeddings (CLIP,
a sentence encoder for ground truth), and the composite that turns a frame into object observations.

Entry point: `build_perception(PerceptionConfig(...), instance_descriptions=None)`.
"""

from perception.composite import GroundTruthPipeline, ModelPerception, Perception, build_perception
from perception.config import PerceptionConfig

__all__ = ["GroundTruthPipeline", "ModelPerception", "Perception", "PerceptionConfig", "build_perception"]
