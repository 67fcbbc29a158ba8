"""CLIP embedder on a tiny random model: shapes, normalisation, masked crops."""

from __future__ import annotations

import numpy as np
import pytest

from perception.embedder import ClipEmbedder, masked_crop


@pytest.fixture(scope="module")
def clip(tiny_models):
    return ClipEmbedder(str(tiny_models["clip"]))


def test_text_and_image_embeddings_share_a_normalised_space(clip):
    text = clip.encode_text(["a red mug", "a blue bowl", "table"])
    img = clip.encode_images([np.full((40, 30, 3), c, np.uint8) for c in (0, 128, 255)])
    assert text.shape == (3, clip.dim) == img.shape and text.dtype == img.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(img, axis=1), 1.0, atol=1e-5)
    assert clip.encode_text([]).shape == (0, clip.dim)
    assert clip.embedding_model_id.startswith("clip:")


def test_masked_crop_cuts_the_mask_box_and_paints_background():
    rgb = np.zeros((50, 60, 3), np.uint8)
    rgb[:, :] = (10, 20, 30)
    mask = np.zeros((50, 60), bool)
    mask[10:20, 30:40] = True
    mask[10, 30] = False
    crop = masked_crop(rgb, mask, padding=0.0, background=(255, 0, 255))
    assert crop.shape == (10, 10, 3)
    assert tuple(crop[0, 0]) == (255, 0, 255) and tuple(crop[5, 5]) == (10, 20, 30)
    assert masked_crop(rgb, np.zeros_like(mask)) is None
    padded = masked_crop(rgb, mask, padding=0.5)
    assert padded.shape == (20, 20, 3)


def test_masked_features_depend_on_object_not_position(clip):
    rgb = np.full((80, 120, 3), 90, np.uint8)
    rgb[10:30, 10:40] = (200, 40, 40)
    rgb[50:70, 70:100] = (200, 40, 40)
    rgb[5:25, 80:110] = (40, 200, 40)
    masks = np.zeros((4, 80, 120), bool)
    masks[0, 10:30, 10:40] = True
    masks[1, 50:70, 70:100] = True
    masks[2, 5:25, 80:110] = True
    feats = clip.encode_masked(rgb, masks)
    assert feats.shape == (4, clip.dim)
    np.testing.assert_allclose(feats[0], feats[1], atol=1e-5)  # same object, another place
    assert not np.allclose(feats[0], feats[2], atol=1e-3)  # another object
    assert np.all(feats[3] == 0)  # empty mask: no feature


def test_embeddings_equal_clip_forward_pass(clip):
    import torch

    texts = ["a red mug", "bowl"]
    images = [np.full((40, 30, 3), 200, np.uint8), (np.arange(50 * 60 * 3) % 256).astype(np.uint8).reshape(50, 60, 3)]
    inputs = clip.processor(text=texts, images=images, return_tensors="pt", padding=True)
    with torch.inference_mode():
        ref = clip.model(**inputs)
    np.testing.assert_allclose(clip.encode_text_raw(texts), ref.text_embeds.numpy(), atol=1e-5)
    np.testing.assert_allclose(clip.encode_images(images), ref.image_embeds.numpy(), atol=1e-5)


def test_text_embeddings_are_the_prompt_ensemble_of_the_forward_pass(clip):
    import torch

    from perception.vocabulary import CLIP_TEMPLATES

    texts = ["a red mug", "bowl"]
    prompts = [tpl.format(t) for t in texts for tpl in CLIP_TEMPLATES]
    inputs = clip.processor.tokenizer(prompts, padding=True, truncation=True, max_length=clip._max_len,
                                      return_tensors="pt")
    with torch.inference_mode():
        ref = clip.model.get_text_features(**inputs)
    ref = torch.nn.functional.normalize(getattr(ref, "pooler_output", ref).float(), dim=-1).numpy()
    mean = ref.reshape(len(texts), len(CLIP_TEMPLATES), -1).mean(axis=1)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    got = clip.encode_text(texts)
    np.testing.assert_allclose(got, mean, atol=1e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(got, clip.encode_text_raw(texts), atol=1e-3)  # the ensemble is not one prompt
