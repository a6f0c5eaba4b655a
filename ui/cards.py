"""HTML for the chat: answers (and their comparison tables) whose [n] markers link to numbered source cards.

Every piece of document text goes through html.escape; no markup from a document reaches the page.
"""

from __future__ import annotations

import re
from html import escape

from rag.types import Answer, Citation, ComparisonTable, TableCell

_MARKER = re.compile(r"\[(\d{1,2})\]")
_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Labels in the language of the question (English or Chinese).
_LABELS = {
    "en": {"sources": "Sources", "refused": "Not answered by the corpus", "covers": "The corpus covers:",
           "empty": "The index is empty: add documents in the Documents tab."},
    "zh": {"sources": "来源", "refused": "语料库无法回答", "covers": "语料库包含以下文件：",
           "empty": "索引为空：请在 Documents 标签页添加文件。"},
}


def labels_for(question: str) -> dict[str, str]:
    return _LABELS["zh" if _CJK.search(question or "") else "en"]


def card_id(turn: int, n: int) -> str:
    """The anchor of source card n of the turn-th answer (unique within one conversation)."""
    return f"kv-src-{turn}-{n}"


def first_url(source_url: str) -> str:
    """The first http(s) URL of a source_url field, which may hold several URLs with notes."""
    match = _URL.search(source_url or "")
    return match.group(0).rstrip(".,;:") if match else ""


def link_markers(text: str, turn: int, known: set[int]) -> str:
    """Escape the answer text and turn each [n] that has a card into a link to that card."""
    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in known:
            return match.group(0)
        target = card_id(turn, n)
        return f'<a class="kv-ref" href="#{target}" title="Source {n}">[{n}]</a>'

    return _MARKER.sub(link, escape(text, quote=False))


def cell_text(cell: TableCell) -> str:
    """A table cell as shown: its text on one line, ending with its [n] marker; "not stated" when empty."""
    text = _SPACE.sub(" ", cell.text).strip() or "not stated"
    if cell.n is not None and f"[{cell.n}]" not in text:
        text = f"{text} [{cell.n}]"
    return text


def table_html(table: ComparisonTable, turn: int, known: set[int]) -> str:
    """A comparison table: escaped cells whose markers link to the cards; cells the corpus lacks are muted."""
    subjects = max(len(table.columns) - 1, max((len(r.cells) for r in table.rows), default=0))
    head = "".join(f'<th scope="col">{escape(c, quote=False)}</th>' for c in table.columns)
    body = []
    for row in table.rows:
        cells = [*row.cells, *[TableCell("")] * (subjects - len(row.cells))]
        tds = "".join(
            f'<td class="{"kv-cell" if cell.n is not None else "kv-cell kv-unstated"}">'
            f"{link_markers(cell_text(cell), turn, known)}</td>"
            for cell in cells
        )
        body.append(f'<tr><th scope="row">{escape(row.aspect, quote=False)}</th>{tds}</tr>')
    # One line, no blank lines: the chat's Markdown renderer must see one raw HTML block.
    return (f'<div class="kv-table-wrap"><table class="kv-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _quote_span(passage: str, quote: str) -> tuple[int, int] | None:
    """Where the cited sentence sits in the passage; tolerant of spacing and a trailing full stop."""
    quote = quote.strip()
    if not quote:
        return None
    for candidate in (quote, quote.rstrip("。.!?！？")):
        at = passage.find(candidate)
        if at >= 0 and candidate:
            return at, at + len(candidate)
    # Whitespace may differ (line breaks inside a passage); match word by word instead.
    words = [re.escape(w) for w in quote.split()]
    if words:
        found = re.search(r"\s+".join(words), passage)
        if found:
            return found.span()
    return None


def highlight(passage: str, quote: str) -> str:
    """The escaped passage with the cited sentence wrapped in <mark>."""
    span = _quote_span(passage, quote)
    if span is None:
        return escape(passage, quote=False)
    start, end = span
    return (escape(passage[:start], quote=False) + "<mark>" + escape(passage[start:end], quote=False)
            + "</mark>" + escape(passage[end:], quote=False))


def source_card(citation: Citation, turn: int) -> str:
    """One numbered card: title, section, the passage with its cited sentence marked, language, link."""
    target = card_id(turn, citation.n)
    url = first_url(citation.source_url)
    link = (f'<a class="kv-link" href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
            f"{escape(url)}</a>") if url else '<span class="kv-muted">no official URL</span>'
    section = f'<div class="kv-section">{escape(citation.section)}</div>' if citation.section else ""
    # No blank lines inside: the chat's Markdown renderer must see one raw HTML block.
    return (
        f'<div class="kv-card" id="{target}">'
        f'<div class="kv-card-head"><span class="kv-num">{citation.n}</span>'
        f'<span class="kv-title">{escape(citation.title or citation.doc_id)}</span>'
        f'<span class="kv-lang">{escape(citation.language or "")}</span></div>'
        f"{section}"
        f'<div class="kv-passage">{highlight(citation.text, citation.quote)}</div>'
        f'<div class="kv-foot"><span class="kv-doc">{escape(citation.doc_id)}</span> · {link}</div>'
        "</div>"
    )


def coverage_note(titles: list[str], label: dict[str, str]) -> str:
    """What the corpus does cover, for a refusal."""
    if not titles:
        return f'<div class="kv-covers">{label["empty"]}</div>'
    items = "".join(f"<li>{escape(t)}</li>" for t in titles)
    return f'<div class="kv-covers">{label["covers"]}<ul>{items}</ul></div>'


def answer_html(answer: Answer, turn: int, covered_titles: list[str]) -> str:
    """The whole assistant message: answer (or refusal) with linked markers, then its source cards."""
    label = labels_for(answer.question)
    known = {c.n for c in answer.citations}
    body = link_markers(answer.text, turn, known).replace("\n", "<br>")
    table = table_html(answer.table, turn, known) if answer.table and answer.table.rows else ""
    cards = "".join(source_card(c, turn) for c in answer.citations)
    sources = (f'<div class="kv-sources"><div class="kv-sources-head">{label["sources"]}</div>{cards}</div>'
               if cards else "")
    if answer.refused:
        return (f'<div class="kv-answer kv-refused"><div class="kv-refused-head">'
                f'<span class="kv-icon">⚠</span> {label["refused"]}</div>'
                f'<div class="kv-text">{body}</div>{table}{coverage_note(covered_titles, label)}{sources}</div>')
    return f'<div class="kv-answer"><div class="kv-text">{body}</div>{table}{sources}</div>'


def partial_html(text: str) -> str:
    """An answer still being written (streamed pieces so far)."""
    body = _SPACE.sub(" ", escape(text, quote=False)) if text else "Looking in the documents…"
    return f'<div class="kv-answer kv-pending"><div class="kv-text">{body}</div></div>'


def error_html(message: str) -> str:
    """A one-line failure shown in the chat instead of an answer (never a stack trace)."""
    return f'<div class="kv-answer kv-error"><span class="kv-icon">✖</span> {escape(message)}</div>'


def citations_json(answer: Answer) -> list[dict[str, object]]:
    """The citations of an answer as plain JSON for the `chat` API."""
    return [
        {"n": c.n, "doc_id": c.doc_id, "title": c.title, "section": c.section, "text": c.text,
         "quote": c.quote, "source_url": c.source_url, "url": first_url(c.source_url), "language": c.language}
        for c in answer.citations
    ]


CSS = """
.kv-answer { line-height: 1.55; }
.kv-text { margin-bottom: .4em; }
a.kv-ref { font-weight: 600; text-decoration: none; color: var(--color-accent); cursor: pointer;
  padding: 0 .1em; border-radius: 3px; }
a.kv-ref:hover { background: var(--color-accent-soft); }
.kv-sources { margin-top: .6em; display: flex; flex-direction: column; gap: .5em; }
.kv-sources-head { font-size: .8em; text-transform: uppercase; letter-spacing: .06em; opacity: .7; }
.kv-card { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  border-radius: 6px; padding: .5em .7em; background: var(--background-fill-secondary); font-size: .92em;
  transition: box-shadow .3s; }
.kv-card.kv-flash { box-shadow: 0 0 0 3px var(--color-accent-soft); }
.kv-card-head { display: flex; align-items: baseline; gap: .5em; }
.kv-num { display: inline-block; min-width: 1.5em; text-align: center; font-weight: 700; border-radius: 4px;
  background: var(--color-accent); color: white; font-size: .85em; }
.kv-title { font-weight: 600; flex: 1; }
.kv-lang { font-size: .75em; text-transform: uppercase; border: 1px solid var(--border-color-primary);
  border-radius: 3px; padding: 0 .3em; opacity: .8; }
.kv-section { font-size: .85em; opacity: .75; margin: .15em 0 .3em 2em; }
.kv-passage { white-space: pre-wrap; margin: .2em 0 .3em 2em; }
.kv-passage mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.kv-foot { font-size: .8em; margin-left: 2.5em; opacity: .85; word-break: break-all; }
.kv-muted { opacity: .6; }
.kv-refused { border: 1px dashed #b45309; border-radius: 6px; padding: .5em .7em; background: #fffbeb; }
.kv-refused-head { font-weight: 600; color: #b45309; margin-bottom: .3em; }
.kv-covers { font-size: .85em; margin-top: .3em; line-height: 1.35; }
.kv-covers ul { margin: .2em 0 0 1.2em; padding: 0; } .kv-covers li { margin: .1em 0; }
.dark .kv-refused { background: #2b2110; border-color: #d97706; }
.dark .kv-refused-head { color: #fbbf24; }
.dark .kv-passage mark { background: #854d0e; }
.kv-table-wrap { overflow-x: auto; margin: .3em 0 .6em; }
.kv-answer table.kv-table { border-collapse: collapse; width: 100%; margin: 0; font-size: .92em; line-height: 1.4; }
.kv-answer table.kv-table th, .kv-answer table.kv-table td { border: 1px solid var(--border-color-primary);
  padding: .35em .55em; text-align: left; vertical-align: top; background: var(--background-fill-primary); }
.kv-answer table.kv-table thead th { background: var(--background-fill-secondary); font-weight: 600; }
.kv-answer table.kv-table thead th:first-child { text-transform: capitalize; }
.kv-answer table.kv-table tbody th { font-weight: 600; }
.kv-answer table.kv-table td.kv-unstated { color: var(--neutral-500); font-style: italic; }
.kv-pending { opacity: .75; }
.kv-error { color: #b91c1c; }
.kv-status { font-size: .9em; }
#kv-examples button { font-size: .85em; }
"""

# Markers are plain links inside the chat; jump to the card in the same message instead of navigating.
HEAD = """<script>
document.addEventListener("click", function (event) {
  var ref = event.target.closest && event.target.closest("a.kv-ref");
  if (!ref) return;
  event.preventDefault();
  event.stopPropagation();
  // Gradio's sanitizer keeps ids but drops data-* attributes, so the card is found by its id.
  var card = document.getElementById((ref.getAttribute("href") || "").slice(1));
  if (!card) return;
  card.scrollIntoView({behavior: "smooth", block: "nearest"});
  card.classList.add("kv-flash");
  setTimeout(function () { card.classList.remove("kv-flash"); }, 1200);
}, true);
</script>"""
