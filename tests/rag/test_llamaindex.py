"""kvisa composed with LlamaIndex code: its retriever gives cited nodes, its query engine a sourced Response."""

from __future__ import annotations

from kvisa.settings import Settings
from rag.assistant import get_assistant
from rag.llamaindex import KvisaQueryEngine, KvisaRetriever


def test_the_retriever_returns_ranked_nodes_with_kvisa_metadata(corpus_settings: Settings) -> None:
    retriever = KvisaRetriever(get_assistant(corpus_settings), top_k=4)
    nodes = retriever.retrieve("When does the weighted selection rule take effect?")
    assert len(nodes) == 4
    assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)
    first = nodes[0].node.metadata
    assert {"doc_id", "title", "section", "start", "end", "source_url"} <= set(first)
    assert first["doc_id"].startswith("us-h1b-weighted-selection")
    assert first["end"] > first["start"]


def test_the_query_engine_answers_with_its_citations_as_source_nodes(corpus_settings: Settings) -> None:
    engine = KvisaQueryEngine(assistant=get_assistant(corpus_settings))
    response = engine.query("Who signed Proclamation 10973?")
    assert "Trump" in str(response) and "[1]" in str(response)
    assert response.metadata["refused"] is False
    assert [n.node.metadata["n"] for n in response.source_nodes] == list(range(1, len(response.source_nodes) + 1))
    assert response.source_nodes[0].node.metadata["doc_id"] == "us-proclamation-10973"
    assert response.source_nodes[0].node.metadata["quote"] in response.source_nodes[0].node.get_content()


def test_a_question_the_corpus_does_not_answer_is_refused(corpus_settings: Settings) -> None:
    response = KvisaQueryEngine(assistant=get_assistant(corpus_settings)).query("What is the capital of Australia?")
    assert response.metadata["refused"] is True
