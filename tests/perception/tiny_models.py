"""Test helpers: tiny randomly initialised OWL-ViT / OWLv2 / CLIP models saved with their processors (a CLIP
BPE tokenizer written here, image processors from their classes), and a synthetic RGB-D frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.types import CameraIntrinsics, RGBDFrame

TINY_TEXT = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                 max_position_embeddings=16)
TINY_VISION = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                   image_size=64, patch_size=16)


def _bytes_to_unicode() -> list[str]:
    """The 256 printable stand-ins CLIP's byte-level BPE uses for bytes (GPT-2's table)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def tiny_clip_tokenizer():
    """A CLIP BPE tokenizer over single bytes plus a few merges (start/end tokens last, so their ids are > 0,
    which OWL uses to tell real queries from padding)."""
    from transformers import CLIPTokenizer

    chars = _bytes_to_unicode()
    vocab: dict[str, int] = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    merges = [("m", "u"), ("mu", "g</w>"), ("c", "u"), ("cu", "p</w>")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    tok = CLIPTokenizer(vocab=vocab, merges=merges)
    tok.model_max_length = TINY_TEXT["max_position_embeddings"]
    return tok


def _text_cfg(tok) -> dict:
    return dict(TINY_TEXT, vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                pad_token_id=tok.pad_token_id)


def save_tiny_owlvit(path: Path) -> Path:
    from transformers import OwlViTConfig, OwlViTForObjectDetection, OwlViTImageProcessor, OwlViTProcessor

    torch.manual_seed(0)
    tok = tiny_clip_tokenizer()
    cfg = OwlViTConfig(text_config=_text_cfg(tok), vision_config=TINY_VISION, projection_dim=32)
    OwlViTForObjectDetection(cfg).save_pretrained(path)
    ip = OwlViTImageProcessor(size={"height": 64, "width": 64}, crop_size={"height": 64, "width": 64})
    OwlViTProcessor(image_processor=ip, tokenizer=tok).save_pretrained(path)
    return path


def save_tiny_owlv2(path: Path) -> Path:
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    torch.manual_seed(1)
    tok = tiny_clip_tokenizer()
    cfg = Owlv2Config(text_config=_text_cfg(tok), vision_config=TINY_VISION, projection_dim=32)
    Owlv2ForObjectDetection(cfg).save_pretrained(path)
    Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 64, "width": 64}), tokenizer=tok
                   ).save_pretrained(path)
    return path


def save_tiny_clip(path: Path) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(2)
    tok = tiny_clip_tokenizer()
    vision = dict(TINY_VISION, image_size=32, patch_size=8)
    cfg = CLIPConfig(text_config=_text_cfg(tok), vision_config=vision, projection_dim=24)
    CLIPModel(cfg).save_pretrained(path)
    ip = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=ip, tokenizer=tok).save_pretrained(path)
    return path


def synthetic_frame(h: int = 120, w: int = 160, depth: float = 1.5) -> RGBDFrame:
    """A frame with two coloured rectangles on grey, instance ids 5 and 7, valid depth everywhere."""
    rgb = np.full((h, w, 3), 128, np.uint8)
    ids = np.zeros((h, w), np.int32)
    rgb[20:70, 20:70] = (220, 30, 30)
    ids[20:70, 20:70] = 5
    rgb[60:110, 90:150] = (30, 30, 220)
    ids[60:110, 90:150] = 7
    K = CameraIntrinsics.from_fov(w, h, 1.0)
    return RGBDFrame(rgb=rgb, depth_m=np.full((h, w), depth, np.float32), intrinsics=K, T_world_cam=np.eye(4),
                     instance_ids=ids)
