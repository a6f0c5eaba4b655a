"""The torch-free query encoder: the same vectors as sentence-transformers, its ONNX cache keyed by the model's
sha256, built on first use when an index has none, and sentence-transformers whenever it cannot be used."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import Chunker
from ingest.embedding import Embedder, bundled_model_dir, get_embedder, weights_sha256
from ingest.loaders import load_path
from ingest.query_encoder import QueryEncoder, build_onnx, get_query_encoder, onnx_path
from kvisa.settings import BUNDLED_MODEL, Settings
from tests.conftest import CORPUS, make_settings

N_TEXTS = 300


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(BUNDLED_MODEL)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """Settings whose KVISA_HOME holds the ONNX export (as an ingest leaves it)."""
    settings = make_settings(tmp_path_factory.mktemp("onnx-home"))
    build_onnx(settings)
    return settings


def corpus_texts(embedder: Embedder) -> list[str]:
    """N_TEXTS texts spread over the corpus: what ingest embeds (chunks and evidence units) and short questions."""
    settings = Settings(home=Path("/nonexistent"))
    chunker = Chunker(embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap)
    texts: list[str] = []
    for path in sorted(CORPUS.iterdir()):
        if path.suffix in (".md", ".txt") and not path.stem.upper().startswith("README"):
            for chunk in chunker.run(load_path(path, settings)):
                texts += [chunk.embed_text, *(unit.context for unit in chunk.units)]
    step = max(1, len(texts) // N_TEXTS)
    questions = ["What is the K visa?", "K字签证发给什么人？", "Does the $100,000 H-1B fee apply to renewals?"]
    return texts[::step][: N_TEXTS - len(questions)] + questions


def test_fast_path_vectors_match_sentence_transformers(exported: Settings, embedder: Embedder) -> None:
    texts = corpus_texts(embedder)
    assert len(texts) == N_TEXTS
    assert max(embedder.count_tokens(texts)) > 200  # long texts too, near the 256-piece window
    encoder = get_query_encoder(exported)
    assert isinstance(encoder, QueryEncoder)
    fast = np.stack([encoder.encode_query(t) for t in texts])
    reference = np.stack([embedder.encode_query(t) for t in texts])
    assert fast.dtype == np.float32 and fast.shape == reference.shape == (N_TEXTS, 384)
    cosines = (fast * reference).sum(axis=1) / np.linalg.norm(fast, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosines.min() >= 0.9999, texts[int(cosines.argmin())]
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)


def test_a_text_past_the_window_is_truncated_like_sentence_transformers(exported, embedder) -> None:
    text = "The K visa is for young science and technology talent. " * 80  # about 900 word pieces
    fast = get_query_encoder(exported).encode_query(text)
    assert float(np.dot(fast, embedder.encode_query(text))) >= 0.9999


def test_the_cache_is_keyed_by_the_weights_sha256(exported: Settings) -> None:
    sha = weights_sha256(bundled_model_dir())
    path = onnx_path(exported.home, sha)
    assert path == exported.home / "models" / sha[:16] / "model.onnx"
    assert path.is_file()
    assert onnx_path(exported.home, "0" * 64) != path  # other weights never read this export


def test_a_missing_cache_is_built_by_the_first_question(tmp_path: Path, exported: Settings) -> None:
    """An index ingested before the ONNX cache existed: the first question builds it, later ones use it."""
    settings = make_settings(tmp_path / "home")
    target = onnx_path(settings.home, weights_sha256(bundled_model_dir()))
    # An export of other weights (another key) is not mistaken for this model's.
    stray = settings.home / "models" / ("f" * 16) / "model.onnx"
    stray.parent.mkdir(parents=True)
    shutil.copy(onnx_path(exported.home, weights_sha256(bundled_model_dir())), stray)
    assert not target.exists()
    encoder = get_query_encoder(settings)
    assert isinstance(encoder, QueryEncoder)
    assert target.is_file()
    assert not list(target.parent.glob(".model-*"))  # the temporary file was renamed, not left behind


def test_an_unusable_cache_falls_back_to_sentence_transformers(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tmp_path / "home")
    blocker = onnx_path(settings.home, weights_sha256(bundled_model_dir())).parent
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")  # the export cannot be written
    encoder = get_query_encoder(settings)
    assert isinstance(encoder, Embedder)
    question = "What is the K visa?"
    assert float(np.dot(encoder.encode_query(question), embedder.encode_query(question))) > 0.9999


def test_another_model_folder_uses_sentence_transformers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", embed_model=str(bundled_model_dir()))
    assert isinstance(get_query_encoder(settings), Embedder)
    assert build_onnx(settings) is None
    assert not (settings.home / "models").exists()
