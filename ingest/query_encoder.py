"""Query embeddings without torch: the bundled MiniLM as ONNX (cached under KVISA_HOME by sha256), via onnxruntime."""

from __future__ import annotations

import json
import logging
import sys
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.embedding import get_embedder, resolve_model, weights_sha256
from kvisa.settings import BUNDLED_MODEL, Settings

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class EncodesQueries(Protocol):
    """What retrieval needs: one text in, one L2-normalised float32 vector out."""

    def encode_query(self, text: str) -> np.ndarray: ...


def onnx_path(home: Path, sha256: str) -> Path:
    """Where the export of the weights with this sha256 lives: another model never finds this file."""
    return home / "models" / sha256[:16] / "model.onnx"


def _max_tokens(model_dir: Path) -> int:
    """The sentence-transformers window (sentence_bert_config.json), not the tokenizer file's own 128."""
    config = model_dir / "sentence_bert_config.json"
    return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 256)) if config.is_file() else 256


class QueryEncoder:
    """sentence-transformers' all-MiniLM-L6-v2 pipeline (modules.json: Transformer, mean Pooling, Normalize)
    on onnxruntime: the same word pieces, the same fp32 weights, mean pooling over the attention mask, L2 norm."""

    def __init__(self, model_dir: Path, onnx_file: Path, max_tokens: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file pads every text to 128: one text needs no padding
        self.tokenizer.enable_truncation(max_tokens or _max_tokens(model_dir))
        options = onnxruntime.SessionOptions()
        # One thread: a single short text is as fast, and the other cores stay free for other processes.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

    def encode_query(self, text: str) -> np.ndarray:
        encoding = self.tokenizer.encode(text)
        feed = {name: np.asarray([values], dtype=np.int64) for name, values in
                zip(INPUTS, (encoding.ids, encoding.attention_mask, encoding.type_ids), strict=True)}
        hidden = self.session.run(None, feed)[0][0]  # (tokens, 384)
        mask = feed["attention_mask"][0].astype(np.float32)[:, None]
        pooled = (hidden * mask).sum(axis=0) / max(float(mask.sum()), 1e-9)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


@lru_cache(maxsize=4)
def _encoder(model_dir: Path, onnx_file: Path) -> QueryEncoder:
    return QueryEncoder(model_dir, onnx_file)


def build_onnx(settings: Settings) -> Path | None:
    """Export the bundled model for this KVISA_HOME unless done; None for other models (they use torch)."""
    if settings.embed_model != BUNDLED_MODEL:
        return None
    from ingest.onnx_export import export_onnx

    folder = resolve_model(settings.embed_model)
    target = onnx_path(settings.home, weights_sha256(folder))
    return target if target.exists() else export_onnx(get_embedder(settings.embed_model, settings.embed_batch_size),
                                                       target)


def get_query_encoder(settings: Settings) -> EncodesQueries:
    """The ONNX encoder for the bundled model; sentence-transformers for any other model folder.

    An index ingested before the ONNX cache existed has none: the first question builds it (about 15 s, once,
    as slow as a question was before) rather than paying the torch import on every question until some later
    ingest happens to write it. If building fails, this process answers with sentence-transformers instead.
    """
    if settings.embed_model != BUNDLED_MODEL:
        return get_embedder(settings.embed_model, settings.embed_batch_size)
    folder = resolve_model(settings.embed_model)
    target = onnx_path(settings.home, weights_sha256(folder))
    if not target.exists():
        print("kvisa: preparing the fast query encoder for this index (once)", file=sys.stderr, flush=True)
        try:
            build_onnx(settings)
        except Exception:  # torch/onnx missing or a bad export: slower questions, never a failed one
            log.warning("ONNX export failed; questions use sentence-transformers", exc_info=True)
            return get_embedder(settings.embed_model, settings.embed_batch_size)
    return _encoder(folder, target)
