"""Metrics: key-fact matching after normalisation, per-item scores, and the summary of a run."""

from __future__ import annotations

import pytest

from eval.gold import GoldItem
from eval.metrics import (
    SUMMARY_KEYS,
    answer_words,
    cited_sentences,
    fact_present,
    normalize,
    percentile,
    ranked_documents,
    reciprocal_rank,
    score_item,
    sentence_support,
    strip_markers,
    summarize,
    token_f1,
    tokens,
)
from rag.types import Answer, Citation, Passage

PROCLAMATION, FAQ = "us-proclamation-10973", "us-h1b-proclamation-faq-and-fact-sheet"


@pytest.mark.parametrize(
    ("fact", "text"),
    [
        ("5,189", "approved for 5189 H-1B workers"),
        ("5189", "approved for 5,189 H-1B workers"),
        ("$100,000", "a payment of $100000 [1]."),
        ("17.7 percent", "the share was 17.7% in 2000"),
        ("36%", "36 per cent cheaper"),
        ("36 percent", "came 36 PERCENT cheaper"),
        ("National Immigration Administration", "the national   immigration\nadministration"),
        ("employer-employee relationship", "an employer–employee relationship"),
        ("bachelor's", "a bachelor’s degree"),
        ("第（七）项", "顺延为第(七)项"),
        ("2025年7月16日", "于2025年 7月16日通过"),
        ("ＳＴＥＭ", "a STEM degree"),
        ("Z", "The Z visa is for work."),
        ("Z", "visas Z, X1 and X2"),
        ("X1", "X1/X2"),
        ("12", "共有12类普通签证"),
        ("12", "the 12 existing types"),
        ("(7)", "moved to item (7)."),
        ("fashion model", "fashion models of distinguished merit"),
    ],
)
def test_fact_is_found_after_normalisation(fact: str, text: str) -> None:
    assert fact_present(fact, text)


@pytest.mark.parametrize(
    ("fact", "text"),
    [
        ("Z", "Chenchen Zhang of Durham University"),
        ("Z", "the D visa"),
        ("12", "in 2012 and 2013"),
        ("12", "item (120)"),
        ("X1", "X12"),
        ("5,000", "more than 15,000 employees"),
        ("2.6", "wages 12.6 percent higher"),
        ("2.6", "2.65 percent"),
        ("6.1", "16.1 percent"),
        ("100,000", "$1,000,000"),
        ("September 21, 2025", "September 2, 2025"),
        ("李强", "李克强"),
    ],
)
def test_fact_does_not_match_inside_longer_tokens(fact: str, text: str) -> None:
    assert not fact_present(fact, text)


def test_normalize_folds_case_width_separators_and_percent() -> None:
    assert normalize("  Ｕ.S.  5,189\tworkers, 26.1 Percent ") == "u.s. 5189 workers, 26.1%"
    assert normalize("September 21, 2025") == "september 21, 2025"  # a date's comma is no thousands separator
    assert normalize("2025年 7月") == "2025年7月"


def test_tokens_split_chinese_by_character_and_english_by_word() -> None:
    assert tokens("K字签证 [1]。") == ["k", "字", "签", "证"]
    assert tokens("The Z visa is for work [2].") == ["z", "visa", "is", "for", "work"]
    # 10 predicted characters, all among the 17 reference tokens ("2025", "8" and "7" are one token each)
    assert token_f1("由国务院总理李强签署。", "由国务院总理李强于2025年8月7日签署。") == pytest.approx(20 / 27)
    assert token_f1("the Z visa", "Z visa") == 1.0
    assert token_f1("nothing shared", "Z visa") == 0.0


def test_ranking_metrics_use_documents_in_first_rank_order() -> None:
    answer = _answer("x", retrieved=["a", "a", "b", "a", "c"])
    assert ranked_documents(answer) == ["a", "b", "c"]
    assert reciprocal_rank(["a", "b", "c"], ["c", "z"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], ["z"]) == 0.0


def test_percentile_interpolates() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) is None


def _answer(text: str, cited: list[tuple[str, str]] = (), refused: bool = False,
            retrieved: list[str] = ()) -> Answer:
    citations = [Citation(n=n, doc_id=doc, title=doc, section="", text=passage)
                 for n, (doc, passage) in enumerate(cited, start=1)]
    passages = [Passage(chunk_id=f"{doc}:{i}", doc_id=doc, text="", score=1.0) for i, doc in enumerate(retrieved)]
    return Answer(question="q", text=text, citations=citations, refused=refused, retrieved=passages)


def _item(answerable: bool = True, facts=("$100,000", "12 months"), sources=(PROCLAMATION,)) -> GoldItem:
    if not answerable:
        return GoldItem("u", "What is the K visa fee?", "", (), (), False)
    return GoldItem("a", "What is the payment?", "A $100,000 payment for 12 months.", tuple(facts),
                    tuple(sources), True)


def _contains(sentence: str, citation: Citation) -> bool:
    """A transparent stand-in for the embedding support test: the cited passage contains the sentence."""
    return sentence.rstrip(".") in citation.text


def test_score_of_a_correct_cited_answer() -> None:
    answer = _answer("A $100,000 payment [1]. It lasts 12 months [2].",
                     cited=[(PROCLAMATION, "A $100,000 payment is due."), (FAQ, "It lasts 12 months.")],
                     retrieved=[FAQ, PROCLAMATION, FAQ])
    score = score_item(_item(), answer, _contains)
    assert score.correct and score.key_fact_recall == 1.0 and not score.facts_missing
    assert (score.n_citations, score.n_citations_on_source, score.citation_precision) == (2, 1, 0.5)
    assert score.citation_recall == 1.0
    assert (score.supported_sentences, score.answer_sentences) == (2, 2)
    assert score.hit_at_5 == 1.0 and score.reciprocal_rank == 0.5
    assert 0 < score.token_f1 < 1


def test_score_of_a_partial_uncited_answer() -> None:
    answer = _answer("A $100,000 payment. Another claim [1].", cited=[(PROCLAMATION, "Nothing like it.")])
    score = score_item(_item(), answer, _contains)
    assert not score.correct and score.key_fact_recall == 0.5 and score.facts_missing == ["12 months"]
    assert (score.supported_sentences, score.answer_sentences) == (0, 2)
    assert score.hit_at_5 == 0.0 and score.reciprocal_rank == 0.0


def test_a_refusal_is_right_only_for_unanswerable_items() -> None:
    refusal = _answer("The corpus does not answer this question.", refused=True)
    assert score_item(_item(answerable=False), refusal, _contains).correct
    assert not score_item(_item(answerable=False), _answer("It is $100 [1]."), _contains).correct
    wrongly_refused = score_item(_item(), refusal, _contains)
    assert not wrongly_refused.correct and wrongly_refused.citation_recall == 0.0
    assert sentence_support(refusal, _contains) == (0, 0)


def test_summary_has_exactly_the_documented_keys_and_values() -> None:
    items = [_item(), _item(facts=("$100,000",)), _item(answerable=False), _item(answerable=False)]
    answers = [
        _answer("A $100,000 payment for 12 months [1].", cited=[(PROCLAMATION, "A $100,000 payment for 12 months")],
                retrieved=[PROCLAMATION]),
        _answer("No answer.", refused=True, retrieved=[FAQ]),
        _answer("No answer.", refused=True),
        _answer("Made up [1].", cited=[(FAQ, "x")]),
    ]
    scores = [score_item(i, a, _contains) for i, a in zip(items, answers, strict=True)]
    summary = summarize(items, answers, scores, [100, 200, 300, 400])
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["n_items"] == 4 and summary["n_answerable"] == 2 and summary["n_unanswerable"] == 2
    assert summary["answer_accuracy"] == 0.5
    assert summary["key_fact_recall"] == 0.5
    assert summary["refusal_accuracy"] == 0.5 and summary["false_refusal_rate"] == 0.5
    assert summary["citation_precision"] == 1.0 and summary["citation_recall"] == 0.5
    assert summary["supported_sentence_rate"] == 0.5  # 1 of the 2 sentences of non-refused answers
    assert summary["hit_at_5"] == 0.5 and summary["mrr"] == 0.5
    assert summary["latency_ms_p50"] == 250 and summary["latency_ms_p95"] == 385
    # Two answers given (not refused): one right, one an answer to an unanswerable question.
    assert summary["selective_precision"] == 0.5
    assert summary["answer_words_p50"] == 4.0  # of the answers given: 6 words and 2 words


def test_summary_keys_are_the_first_fifteen_then_the_later_ones() -> None:
    assert SUMMARY_KEYS[:3] == ("n_items", "n_answerable", "n_unanswerable")
    assert SUMMARY_KEYS[14:] == ("latency_ms_p95", "selective_precision", "answer_words_p50")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("The fee is $100,000 [1].", 4),
        ("外国青年科技人才 [1]。", 4.0),  # 8 Chinese characters, 2 a word
        ("K字签证 is new [2].", 4.5),  # K, is, new and 3 characters
        ("Compared [1]:\n| aspect | K visa | H-1B |\n|---|---|---|\n| fee | none | $100,000 [2] |", 1),
        ("— [1] —", 0),
    ],
)
def test_answer_words_counts_prose_words_and_chinese_characters_two_a_word(text: str, words: float) -> None:
    assert answer_words(text) == words


def test_rates_without_items_to_count_are_none() -> None:
    item, answer = _item(), _answer("A $100,000 payment for 12 months.")
    summary = summarize([item], [answer], [score_item(item, answer, _contains)], [5.0])
    assert summary["refusal_accuracy"] is None and summary["citation_precision"] is None
    assert summary["answer_accuracy"] == 1.0


def test_a_marker_covers_the_unmarked_sentences_before_it() -> None:
    answer = _answer("It is due. It is paid once [1]. Trailing claim.", cited=[(FAQ, "It is due. It is paid once.")])
    assert cited_sentences(answer) == [("It is due.", [1]), ("It is paid once.", [1]), ("Trailing claim.", [])]
    assert sentence_support(answer, _contains) == (2, 3)
    assert cited_sentences(_answer("Paid once. [2]")) == [("Paid once.", [2])]


def test_sentences_saying_the_sources_do_not_answer_are_not_counted() -> None:
    answer = _answer("The fee is $100,000 [1]. The sources do not say how it is paid.",
                     cited=[(PROCLAMATION, "The fee is $100,000.")])
    assert sentence_support(answer, _contains) == (1, 1)
    assert strip_markers("Paid once [1-2]; twice [3; 4].") == "Paid once; twice."
