"""Open-vocabulary perception: detection (OWL-ViT/OWLv2), segmentation (SAM/MobileSAM), embeddings (CLIP,
MiniLM for ground truth), and the composite that turns a frame into object observations."""
