"""The naive baseline: a default LlamaIndex VectorStoreIndex over the same files, top chunk as the answer.

It shows what kvisa's parts (cleaning, structure-aware chunks, hybrid retrieval, evidence selection,
refusal, verification) add. Only the embedding model is shared, and it runs offline; no LLM is ever
called, because answering is "return the top retrieved chunk and cite it".
"""

from __future__ import annotations

import time
from pathlib import Path

from ingest.documents import IngestError
from ingest.embedding import resolve_model
from ingest.loaders import decode_text
from ingest.pipeline import expand_sources, list_documents, load_source
from kvisa.settings import Settings
from rag.types import Answer, Citation, Passage

NAIVE_TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


def corpus_files(settings: Settings) -> list[tuple[str, str, Path]]:
    """(doc_id, title, path) of every ingested document that is a local file; the corpus folder when
    the index names no local files (e.g. before the first ingest)."""
    entries = [(e.doc_id, e.title, Path(e.source)) for e in list_documents(settings)]
    files = [(d, t, p) for d, t, p in entries if p.is_file()]
    if files:
        return files
    from ingest.loaders import make_doc_id

    return [(make_doc_id(Path(s).stem), Path(s).stem, Path(s)) for s in expand_sources([str(settings.corpus_dir)])]


def raw_text(path: Path, settings: Settings) -> str:
    """The file as a naive pipeline reads it: text files verbatim (front matter, boilerplate and all).
    PDF and Word files need parsers that LlamaIndex leaves to optional packages, so kvisa's loader
    extracts their text."""
    if path.suffix.lower() in NAIVE_TEXT_SUFFIXES:
        return decode_text(path.read_bytes(), path.name)
    return load_source(str(path), settings).text


class NaiveBaseline:
    """Dense-only top-k retrieval from a default VectorStoreIndex held in memory."""

    def __init__(self, settings: Settings) -> None:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        self.settings = settings
        files = corpus_files(settings)
        if not files:
            raise IngestError(f"no documents to index for the baseline (empty index and {settings.corpus_dir})")
        self.titles = {doc_id: title for doc_id, title, _ in files}
        documents = [Document(text=raw_text(path, settings), metadata={"doc_id": doc_id, "file_name": path.name})
                     for doc_id, _, path in files]
        embed_model = HuggingFaceEmbedding(model_name=str(resolve_model(settings.embed_model)), device="cpu")
        # Default transformations: LlamaIndex's SentenceSplitter with its default chunk size and overlap.
        self.index = VectorStoreIndex.from_documents(documents, embed_model=embed_model, show_progress=False)
        self.n_chunks = len(self.index.docstore.docs)

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        started = time.perf_counter()
        top_k = top_k or self.settings.top_k
        nodes = self.index.as_retriever(similarity_top_k=top_k).retrieve(question)
        retrieved = [
            Passage(chunk_id=n.node.node_id, doc_id=n.node.metadata["doc_id"], text=n.node.get_content(),
                    score=float(n.score or 0.0), title=self.titles.get(n.node.metadata["doc_id"], ""))
            for n in nodes
        ]
        elapsed = (time.perf_counter() - started) * 1000
        if not retrieved:
            return Answer(question, "No passage found.", refused=True, backend="baseline",
                          timings={"total": elapsed})
        top = retrieved[0]
        citation = Citation(n=1, doc_id=top.doc_id, title=top.title, section="", text=top.text)
        return Answer(question, f"{top.text.strip()} [1]", [citation], refused=False, retrieved=retrieved,
                      backend="baseline", timings={"retrieve": elapsed, "total": elapsed})
