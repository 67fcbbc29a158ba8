"""The sentence encoder keeps each text's embedding: cached answers equal fresh ones, in the caller's order."""

import numpy as np
import torch

from perception.text_encoder import SentenceEncoder


def test_cached_embeddings_equal_fresh_ones_in_order(minilm):
    fresh = SentenceEncoder(cache_size=0)
    texts = ["the green soda can", "a white kitchen table", "the green soda can", "mug"]
    first = minilm.encode_text(texts)
    again = minilm.encode_text(list(reversed(texts)))
    np.testing.assert_allclose(first, fresh.encode_text(texts), atol=1e-5)
    np.testing.assert_allclose(again, first[::-1], atol=0)  # served from the cache, the same vectors
    assert first.shape == (4, minilm.dim) and np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.allclose(first[0], first[2]) and not np.allclose(first[0], first[1])
    assert minilm.encode_text([]).shape == (0, minilm.dim)


def test_cache_is_bounded_and_threads_are_restored():
    enc = SentenceEncoder(cache_size=3)
    before = torch.get_num_threads()
    enc.encode_text([f"object number {i}" for i in range(5)])
    assert len(enc._cache) == 3 and "object number 4" in enc._cache and "object number 0" not in enc._cache
    assert torch.get_num_threads() == before  # the one-thread path for a few texts gives the threads back
    many = [f"a big batch text {i}" for i in range(20)]  # more than one_thread_up_to: the usual threads
    np.testing.assert_allclose(enc.encode_text(many)[5], SentenceEncoder(cache_size=0).encode_text([many[5]])[0],
                               atol=1e-5)
