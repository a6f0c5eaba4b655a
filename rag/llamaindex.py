"""kvisa in LlamaIndex's terms: a retriever of cited passages and a query engine answering with sources."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.assistant import Assistant, Filters
from rag.types import Answer, Citation, Passage


def passage_node(passage: Passage) -> NodeWithScore:
    """A retrieved passage as a node: its text, fused score and kvisa's metadata for citing it."""
    metadata = {"doc_id": passage.doc_id, "chunk_id": passage.chunk_id, "title": passage.title,
                "section": passage.section, "start": passage.start, "end": passage.end,
                "source_url": passage.source_url, "language": passage.language}
    node = TextNode(id_=passage.chunk_id, text=passage.text, metadata=metadata,
                    excluded_embed_metadata_keys=list(metadata), excluded_llm_metadata_keys=["chunk_id", "start",
                                                                                             "end"])
    return NodeWithScore(node=node, score=passage.score)


def citation_node(citation: Citation) -> NodeWithScore:
    """A citation of an answer as a node: the cited passage, with its number and the sentence relied on."""
    metadata = {"n": citation.n, "doc_id": citation.doc_id, "title": citation.title, "section": citation.section,
                "start": citation.start, "end": citation.end, "source_url": citation.source_url,
                "quote": citation.quote, "language": citation.language}
    return NodeWithScore(node=TextNode(text=citation.text, metadata=metadata), score=None)


class KvisaRetriever(BaseRetriever):
    """kvisa's hybrid retrieval (dense + BM25, fused) as a LlamaIndex retriever."""

    def __init__(self, assistant: Assistant, top_k: int | None = None, filters: Filters | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._assistant = assistant
        self._top_k = top_k or assistant.settings.top_k
        self._filters = filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages, _ = self._assistant.retriever.retrieve(query_bundle.query_str, self._top_k, self._filters)
        return [passage_node(p) for p in passages]


class KvisaQueryEngine(CustomQueryEngine):
    """kvisa's answer as a LlamaIndex Response: the text with [n] markers, and the cited passages as
    `source_nodes` in marker order. `metadata["refused"]` says when the corpus does not answer."""

    assistant: Any
    backend: str | None = None

    def custom_query(self, query_str: str) -> Response:
        answer: Answer = self.assistant.ask(query_str, backend=self.backend)
        return Response(response=answer.text, source_nodes=[citation_node(c) for c in answer.citations],
                        metadata={"refused": answer.refused, "confidence": answer.confidence,
                                  "backend": answer.backend})
