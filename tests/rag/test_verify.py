"""Verification of generated answers against real corpus passages with the real embedding model."""

from __future__ import annotations

import pytest

from ingest.embedding import Embedder, get_embedder
from ingest.store import open_store
from kvisa.settings import Settings
from rag.types import Passage
from rag.verify import (
    SUPPORT_THRESHOLD,
    answer_sentences,
    citation_numbers,
    strip_markers,
    support_score,
    verify,
)

FEE_SENTENCE = "A $100,000 payment must accompany a new H-1B petition"
K_VISA_SENTENCE = "The K visa is meant for young foreign science and technology talent"


def _passage(settings: Settings, doc_id: str, needle: str) -> Passage:
    """The stored chunk of `doc_id` whose text contains `needle`, as a retrieved Passage."""
    for chunk in open_store(settings).all_chunks():
        meta = chunk.metadata
        if meta["doc_id"] == doc_id and needle.lower() in chunk.text.lower():
            return Passage(chunk.chunk_id, meta["doc_id"], chunk.text, 1.0, meta.get("title", ""),
                           meta.get("section", ""), meta.get("language", "en"), meta.get("source_url", ""),
                           int(meta["start"]), int(meta["end"]), dict(meta))
    raise AssertionError(f"no chunk of {doc_id} contains {needle!r}")


@pytest.fixture(scope="module")
def embedder(corpus_settings: Settings) -> Embedder:
    return get_embedder(corpus_settings.embed_model, corpus_settings.embed_batch_size)


@pytest.fixture(scope="module")
def passages(corpus_settings: Settings) -> list[Passage]:
    """[1] the proclamation's $100,000 payment, [2] the ministries' Q&A on who the K visa is for."""
    return [_passage(corpus_settings, "us-proclamation-10973", "accompanied or supplemented by a payment of $100,000"),
            _passage(corpus_settings, "prc-k-visa-ministries-qa", "The K visa is for young foreign science")]


def test_the_fixture_passages_say_what_the_tests_assume(passages: list[Passage]) -> None:
    assert "100,000" in passages[0].text and "petition" in passages[0].text.lower()
    assert "100,000" not in passages[1].text and "k visa" in passages[1].text.lower()


def test_a_supported_sentence_is_kept_with_its_citation_and_quote(passages, embedder) -> None:
    verified = verify(f"{FEE_SENTENCE} [1].", passages, embedder)
    [sentence] = verified.sentences
    assert sentence.supported == [1]
    assert sentence.quotes[1] in passages[0].text
    assert "100,000" in sentence.quotes[1]
    assert verified.notes == []
    assert not verified.refused


def test_a_true_sentence_with_the_wrong_citation_is_removed(passages, embedder) -> None:
    verified = verify(f"{FEE_SENTENCE} [2]. {K_VISA_SENTENCE} [2].", passages, embedder)
    fee, k_visa = verified.sentences
    assert fee.cited == [2] and fee.supported == [] and not fee.kept
    assert k_visa.supported == [2]
    assert [s.text for s in verified.kept] == [f"{K_VISA_SENTENCE}."]
    assert any("not supported by [2]" in note and "100,000" in note for note in verified.notes)


def test_citations_to_passages_that_were_not_retrieved_are_removed(passages, embedder) -> None:
    verified = verify(f"{FEE_SENTENCE} [1][9]. {K_VISA_SENTENCE} [9].", passages, embedder)
    fee, k_visa = verified.sentences
    assert fee.cited == [1] and fee.supported == [1]
    assert k_visa.cited == [] and not k_visa.kept
    assert sum("[9] to a passage that was not retrieved" in note for note in verified.notes) == 2
    assert any("cites no passage" in note for note in verified.notes)


def test_a_wrong_citation_among_right_ones_is_dropped_but_the_sentence_kept(passages, embedder) -> None:
    verified = verify(f"{FEE_SENTENCE} [1, 2].", passages, embedder)
    [sentence] = verified.sentences
    assert sentence.cited == [1, 2] and sentence.supported == [1]
    assert any("removed citation [2]" in note for note in verified.notes)


def test_an_uncited_sentence_is_dropped_even_when_true(passages, embedder) -> None:
    verified = verify(f"{FEE_SENTENCE}.", passages, embedder)
    assert verified.kept == [] and not verified.refused
    assert verified.notes == [f"removed sentence (cites no passage): {FEE_SENTENCE}."]


def test_a_changed_number_is_not_supported(passages, embedder) -> None:
    right = support_score(FEE_SENTENCE, passages[0].text, embedder)
    wrong = support_score(FEE_SENTENCE.replace("100,000", "250,000"), passages[0].text, embedder)
    assert right >= SUPPORT_THRESHOLD > wrong


def test_support_score_separates_the_own_passage_from_another_document(passages, embedder) -> None:
    own = support_score(f"{FEE_SENTENCE} [1].", passages[0].text, embedder)
    other = support_score(f"{FEE_SENTENCE} [1].", passages[1].text, embedder)
    assert own >= SUPPORT_THRESHOLD > other
    assert 0.0 <= other < own <= 1.0


def test_a_chinese_sentence_is_checked_against_the_chinese_decree(corpus_settings, embedder) -> None:
    decree = _passage(corpus_settings, "prc-decree-814-k-visa-zh", "发给入境的外国青年科技人才")
    english = _passage(corpus_settings, "us-proclamation-10973", "accompanied or supplemented by a payment")
    verified = verify("K字签证发给入境的外国青年科技人才[1]。K字签证发给入境的外国青年科技人才[2]。",
                      [decree, english], embedder)
    assert [s.supported for s in verified.sentences] == [[1], []]


def test_saying_the_passages_do_not_answer_is_a_refusal(passages, embedder) -> None:
    verified = verify("The passages do not answer this question.", passages, embedder)
    assert verified.refused
    assert [s.text for s in verified.kept] == ["The passages do not answer this question."]


def test_markers_are_parsed_wherever_the_model_puts_them() -> None:
    assert answer_sentences("First fact. [1]\n- Second fact [2, 3].") == ["First fact. [1]", "Second fact [2, 3]."]
    assert citation_numbers("A [1][3] and [2-4] and [3; 5].") == [1, 3, 2, 4, 5]
    assert strip_markers("The fee is $100,000 [1].") == "The fee is $100,000."


def test_a_sentence_that_only_repeats_the_passage_heading_is_not_support(passages, embedder) -> None:
    heading = f"{passages[0].title} — {passages[0].section}"
    verified = verify(f"[1] {heading}", passages, embedder)
    assert verified.kept == []
    context = f"{passages[0].title}\n{passages[0].section}"
    assert support_score(heading, passages[0].text, embedder, context=context) == 0
