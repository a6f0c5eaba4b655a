"""The chat's HTML: markers link to cards, the cited sentence is marked, document text is always escaped."""

from __future__ import annotations

from rag.types import Answer, Citation
from ui.cards import answer_html, first_url, highlight, link_markers


def _citation(**overrides) -> Citation:
    fields = {
        "n": 1, "doc_id": "note", "title": "A note", "section": "Fees",
        "text": "Intro sentence. The fee is 5 credits.\nMore text.", "quote": "The fee is 5 credits.",
        "source_url": "https://example.gov/a (original); https://example.gov/b (copy)", "language": "en",
    }
    return Citation(**(fields | overrides))


def test_markers_link_to_the_cards_of_their_turn():
    html = link_markers("Five credits [1]. Unknown [7].", turn=3, known={1})
    assert '<a class="kv-ref" href="#kv-src-3-1"' in html
    assert "Unknown [7]." in html  # no card, no link


def test_the_cited_sentence_is_marked_inside_the_passage():
    assert highlight("One. Two is here. Three.", "Two is here.") == "One. <mark>Two is here.</mark> Three."
    # line breaks inside the passage do not hide the sentence
    assert "<mark>Two is\nhere.</mark>" in highlight("One. Two is\nhere. Three.", "Two is here.")
    assert highlight("Nothing to see.", "Absent sentence.") == "Nothing to see."


def test_document_text_cannot_inject_markup():
    evil = _citation(title="<img src=x onerror=alert(1)>", section="<b>s</b>",
                     text="<script>alert(1)</script> The fee is 5 credits.", quote="The fee is 5 credits.",
                     source_url='javascript:alert(1) "><script>')
    answer = Answer(question="fee?", text="<i>Five</i> credits [1].", citations=[evil])
    html = answer_html(answer, turn=1, covered_titles=[])
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "<mark>The fee is 5 credits.</mark>" in html
    assert 'href="javascript' not in html and "no official URL" in html  # only http(s) URLs become links


def test_the_first_official_url_is_linked():
    assert first_url("https://example.gov/a (original); https://example.gov/b") == "https://example.gov/a"
    assert first_url("see https://www.gov.cn/x.htm.") == "https://www.gov.cn/x.htm"
    assert first_url("no link here") == ""


def test_a_refusal_looks_different_and_lists_what_the_corpus_covers():
    refusal = Answer(question="K字签证的费用是多少？", text="语料库中没有这个问题的答案。", refused=True)
    html = answer_html(refusal, turn=1, covered_titles=["Doc <one>", "Doc two"])
    assert "kv-refused" in html and "语料库包含" in html
    assert "<li>Doc &lt;one&gt;</li><li>Doc two</li>" in html
    answer = Answer(question="fee?", text="Five credits [1].", citations=[_citation()])
    assert "kv-refused" not in answer_html(answer, turn=1, covered_titles=[])
