"""Export the loaded sentence-transformers model to ONNX fp32 for the question path, verified, written atomically."""

from __future__ import annotations

import os
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from ingest.embedding import Embedder
from ingest.query_encoder import INPUTS, QueryEncoder

# A probe the export must reproduce before it is kept: a bad export would silently degrade every retrieval.
PROBE = "Does the K visa require an employer? K字签证需要雇主邀请吗？"
MIN_COSINE = 0.9999
OPSET = 17
_lock = threading.Lock()  # one export at a time in a process (the chat's upload and warm-up may both ask)


class ExportError(RuntimeError):
    """The ONNX export failed or did not reproduce the sentence-transformers vectors."""


def export_onnx(embedder: Embedder, target: Path) -> Path:
    """Write the embedder's transformer (no pooling: QueryEncoder pools) to `target` unless it is there."""
    with _lock:
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".model-", suffix=".onnx.tmp")
        os.close(fd)
        try:
            _trace(embedder, Path(tmp))
            _check(embedder, Path(tmp))
            os.replace(tmp, target)  # readers see no file or a whole, checked one
        finally:
            Path(tmp).unlink(missing_ok=True)
    return target


def _trace(embedder: Embedder, path: Path) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    # Two texts of different lengths, so the traced graph keeps the attention mask (an all-ones mask may be
    # dropped by the attention code, and the graph would then ignore padding).
    example = embedder.tokenizer(["a padded example", "a longer example text of a few more word pieces"],
                                 padding=True, return_tensors="pt")
    args = tuple(example[name] for name in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notices about code paths the graph never takes
        # dynamo=False: the TorchScript exporter needs only the `onnx` package, not onnxscript.
        torch.onnx.export(LastHiddenState(embedder.model[0].auto_model.eval()), args, str(path),
                          input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


def _check(embedder: Embedder, path: Path) -> None:
    got = QueryEncoder(embedder.model_dir, path, embedder.max_tokens).encode_query(PROBE)
    cosine = float(np.dot(got, embedder.encode_query(PROBE)))
    if cosine < MIN_COSINE:
        raise ExportError(f"the ONNX export gives cosine {cosine:.5f} against sentence-transformers")
