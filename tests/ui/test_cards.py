"""The chat's HTML: markers link to cards, the cited sentence is marked, document text is always escaped."""

from __future__ import annotations

import re

from rag.types import Answer, Citation, ComparisonTable, TableCell, TableRow
from ui.cards import answer_html, answer_markdown, cell_text, first_url, highlight, link_markers, question_html


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


def test_every_cited_span_is_marked_and_cited_table_rows_become_a_table_under_their_header():
    from rag.types import Quote

    passage = ("Intro. Second <b>one</b>.\n\n| Item | Date |\n|---|---|\n| Signed | March 3 |\n"
               "| Effective | April 1 |\n| Expires | May |\n\nTail.")
    html = highlight(passage, [Quote("| Signed | March 3 |"), Quote("Tail."), Quote("Second <b>one</b>."),
                               Quote("| Effective | April 1 |")])
    assert "Intro. <mark>Second &lt;b&gt;one&lt;/b&gt;.</mark>" in html and "<mark>Tail.</mark>" in html
    assert ('<table class="kv-row-table"><thead><tr><th scope="col">Item</th><th scope="col">Date</th></tr></thead>'
            "<tbody><tr><td><mark>Signed</mark></td><td><mark>March 3</mark></td></tr>"
            "<tr><td><mark>Effective</mark></td><td><mark>April 1</mark></td></tr></tbody></table>") in html
    assert "|" not in html and "Expires" not in html  # the table shows its cited rows only, never pipe text
    # A passage that starts inside the table takes the header ingest recorded for the row.
    one = highlight("| Effective | April 1 |\n| Expires | May |",
                    [Quote("| Expires | May |", header="| Item | Date |")])
    assert one == ('<table class="kv-row-table"><thead><tr><th scope="col">Item</th><th scope="col">Date</th></tr>'
                   "</thead><tbody><tr><td><mark>Expires</mark></td><td><mark>May</mark></td></tr></tbody></table>")


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


def _comparison() -> Answer:
    """A comparison answer as the answerer builds it: a lead sentence, a table whose cells cite, its sources."""
    k_visa = _citation(n=1, doc_id="k-visa", title="K visa explained", section="Sponsorship",
                       text="Intro. No employer or inviting entity is required.", quote="No employer or "
                       "inviting entity is required.")
    h1b = _citation(n=2, doc_id="h1b", title="H-1B basics", section="Fees",
                    text="An employer files the petition. The fee is <b>$100,000</b> & up.",
                    quote="The fee is <b>$100,000</b> & up.")
    table = ComparisonTable(columns=["aspect", "K visa", "H-1B"], rows=[
        TableRow("sponsorship", [TableCell("No employer or inviting entity is required.", 1),
                                 TableCell("An employer files the petition.", 2)]),
        TableRow("fees", [TableCell("not stated"), TableCell("The fee is <b>$100,000</b> & up.", 2)]),
    ])
    return Answer(question="How do the K visa and H-1B differ on sponsorship and fees?",
                  text="They differ on sponsorship and fees [1][2].", citations=[k_visa, h1b], table=table)


def test_a_comparison_answer_shows_its_table_with_linked_markers():
    html = answer_html(_comparison(), turn=2, covered_titles=[])
    table = html[html.index("<table"):html.index("</table>")]
    assert '<th scope="col">K visa</th><th scope="col">H-1B</th>' in table
    assert '<th scope="row">sponsorship</th>' in table
    # every cell marker links to a source card of this answer, like the markers of the answer text
    targets = re.findall(r'class="kv-ref" href="#([^"]+)"', table)
    assert targets == ["kv-src-2-1", "kv-src-2-2", "kv-src-2-2"]
    assert set(targets) <= set(re.findall(r'<div class="kv-card" id="([^"]+)"', html))
    # cell text is escaped like every document text; the card marks the sentence the cell rests on
    assert "<b>" not in html and "The fee is &lt;b&gt;$100,000&lt;/b&gt; &amp; up. <a" in table
    assert "<mark>The fee is &lt;b&gt;$100,000&lt;/b&gt; &amp; up.</mark>" in html
    # a subject the corpus says nothing about is muted, and has no marker
    assert '<td class="kv-cell kv-unstated">not stated</td>' in table
    assert "\n" not in html  # one raw HTML block for the chat's Markdown renderer


def test_a_cell_keeps_a_marker_it_already_has_and_an_empty_cell_says_not_stated():
    assert cell_text(TableCell("Five credits [2].", 2)) == "Five credits [2]."
    assert cell_text(TableCell("Five\n credits.", 2)) == "Five credits. [2]"
    assert cell_text(TableCell("  ")) == "not stated"
    plain = Answer(question="fee?", text="Five credits [1].", citations=[_citation()])
    assert "<table" not in answer_html(plain, turn=1, covered_titles=[])


def test_the_copy_markdown_is_the_answer_with_markers_then_numbered_sources():
    answer = Answer(question="fee?", text="The fee is 5 credits & up [1].", citations=[_citation()])
    assert answer_markdown(answer) == ("The fee is 5 credits & up [1].\n\n**Sources**\n\n"
                                       "1. A note — Fees — https://example.gov/a")
    html = answer_html(answer, turn=1, covered_titles=[])
    # carried hidden in the message, escaped once, with no blank line to end the raw HTML block
    assert '<div class="kv-md">The fee is 5 credits &amp; up [1].&#10;&#10;**Sources**' in html
    assert "\n" not in html.split('class="kv-md"')[1]


def test_a_question_is_shown_literally():
    assert question_html("Fee & K < $100,000?\n*really*") == \
        '<div class="kv-q">Fee &amp; K &lt; $100,000?<br>*really*</div>'
