"""HTML for the chat: answers (and their comparison tables) whose [n] markers link to numbered source cards.

Every piece of document text goes through html.escape; no markup from a document reaches the page.
"""

from __future__ import annotations

import re
from html import escape, unescape

from rag.export import first_url
from rag.terms import language_of
from rag.types import Answer, Citation, ComparisonTable, Quote, TableCell

_MARKER = re.compile(r"\[(\d{1,2})\]")
_SPACE = re.compile(r"\s+")
# Labels in the language of the question (English or Chinese).
_LABELS = {
    "en": {"sources": "Sources", "refused": "Not answered by the corpus", "covers": "The corpus covers:",
           "empty": "The index is empty: add documents in the Documents tab."},
    "zh": {"sources": "来源", "refused": "语料库无法回答", "covers": "语料库包含以下文件：",
           "empty": "索引为空：请在 Documents 标签页添加文件。"},
}


def labels_for(question: str) -> dict[str, str]:
    return _LABELS[language_of(question or "")]


def card_id(turn: int, n: int) -> str:
    """The anchor of source card n of the turn-th answer (unique within one conversation)."""
    return f"kv-src-{turn}-{n}"


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


def _spans(passage: str, quotes: list[Quote]) -> list[tuple[int, int, str]]:
    """Where each cited span sits in the passage, in order, overlaps merged: (start, end, table header)."""
    found = sorted((*span, q.header) for q in quotes if (span := _quote_span(passage, q.text)))
    merged: list[tuple[int, int, str]] = []
    for start, end, header in found:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2] or header)
        else:
            merged.append((start, end, header))
    return merged


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    """The escaped text with each span (offsets into text) wrapped in <mark>."""
    out, at = [], 0
    for start, end in spans:
        out += [escape(text[at:start], quote=False), "<mark>", escape(text[start:end], quote=False), "</mark>"]
        at = end
    return "".join(out) + escape(text[at:], quote=False)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


def _table_blocks(passage: str) -> list[tuple[int, int]]:
    """(start, end) of each run of Markdown table lines in the passage, trailing newline included."""
    blocks: list[tuple[int, int]] = []
    at = 0
    for line in passage.splitlines(keepends=True):
        if line.lstrip().startswith("|"):
            if blocks and blocks[-1][1] == at:
                blocks[-1] = (blocks[-1][0], at + len(line))
            else:
                blocks.append((at, at + len(line)))
        at += len(line)
    return blocks


def row_table(rows: list[str], header: str) -> str:
    """Cited table rows as a small table under their header row, every cited cell marked."""
    head = "".join(f'<th scope="col">{escape(c, quote=False)}</th>' for c in _cells(header)) if header else ""
    body = "".join("<tr>" + "".join(f"<td><mark>{escape(c, quote=False)}</mark></td>" for c in _cells(row))
                   + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f'<table class="kv-row-table">{thead}<tbody>{body}</tbody></table>'


def _block_table(passage: str, block: tuple[int, int], rows: list[tuple[int, int, str]]) -> str:
    """A table of the passage shown by its cited rows only, under the header row it has in the passage (or
    the one ingest recorded, when the passage starts inside the table)."""
    lines = passage[block[0]:block[1]].splitlines()
    own = lines[0] if len(lines) > 1 and _RULE.match(lines[1]) else ""
    header = own or next((h for _, _, h in rows if h), "")
    return row_table([passage[start:end] for start, end, _ in rows], header)


def highlight(passage: str, quotes: list[Quote] | str) -> str:
    """The escaped passage with every cited span (or the one quote given) wrapped in <mark>. A table with
    cited rows shows as an HTML table of its header and those rows (one cited row: a one-row table)."""
    spans = _spans(passage, [Quote(quotes)] if isinstance(quotes, str) else quotes)
    out, at = [], 0
    for block in _table_blocks(passage):
        rows = [s for s in spans if block[0] <= s[0] < block[1] and passage[s[0]:s[1]].lstrip().startswith("|")]
        if not rows:
            continue
        before = [(s - at, e - at) for s, e, _ in spans if at <= s and e <= block[0]]
        out += [_marked(passage[at:block[0]], before), _block_table(passage, block, rows)]
        at = block[1]
    out.append(_marked(passage[at:], [(s - at, e - at) for s, e, _ in spans if s >= at]))
    return "".join(out)


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
        f'<div class="kv-passage">{highlight(citation.text, citation.quotes)}</div>'
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
    markdown = hidden_markdown(answer_markdown(answer))
    if answer.refused:
        return (f'<div class="kv-answer kv-refused"><div class="kv-refused-head">'
                f'<span class="kv-icon">⚠</span> {label["refused"]}</div>'
                f'<div class="kv-text">{body}</div>{table}{coverage_note(covered_titles, label)}{sources}'
                f"{markdown}</div>")
    return f'<div class="kv-answer"><div class="kv-text">{body}</div>{table}{sources}{markdown}</div>'


def _md_cell(text: str) -> str:
    return _SPACE.sub(" ", text).replace("|", "\\|").strip()


def table_markdown(table: ComparisonTable) -> str:
    """A comparison table as a Markdown table, cells ending with their [n] markers."""
    subjects = max(len(table.columns) - 1, max((len(r.cells) for r in table.rows), default=0))
    columns = [*table.columns, *[""] * (subjects + 1 - len(table.columns))]
    lines = ["| " + " | ".join(_md_cell(c) for c in columns) + " |", "|" + " --- |" * len(columns)]
    for row in table.rows:
        cells = [*row.cells, *[TableCell("")] * (subjects - len(row.cells))]
        lines.append("| " + " | ".join([_md_cell(row.aspect), *(_md_cell(cell_text(c)) for c in cells)]) + " |")
    return "\n".join(lines)


def source_line(citation: Citation) -> str:
    """One numbered source for the clipboard: title, section and link."""
    parts = [citation.title or citation.doc_id, citation.section, first_url(citation.source_url)]
    return f"{citation.n}. " + " — ".join(_SPACE.sub(" ", p).strip() for p in parts if p and p.strip())


def answer_markdown(answer: Answer) -> str:
    """What the copy icon puts on the clipboard: the answer with its [n] markers, then the numbered sources."""
    label = labels_for(answer.question)
    parts = [f"**⚠ {label['refused']}**"] if answer.refused else []
    parts.append(answer.text.strip())
    if answer.table and answer.table.rows:
        parts.append(table_markdown(answer.table))
    if answer.citations:
        parts.append(f"**{label['sources']}**\n\n" + "\n".join(source_line(c) for c in answer.citations))
    return "\n\n".join(parts)


def hidden_markdown(markdown: str) -> str:
    """The Markdown carried, hidden, inside a message for the page script's copy; newlines as entities
    because a blank line would end the raw HTML block of the chat's Markdown renderer."""
    text = escape(markdown, quote=False).replace("\n", "&#10;")
    return f'<div class="kv-md">{text}</div>'


def question_html(question: str) -> str:
    """The user's question, shown literally (one raw HTML block, so Markdown does not reinterpret it)."""
    text = escape(question, quote=False).replace("\n", "<br>")
    return f'<div class="kv-q">{text}</div>'


def question_text(html: str) -> str:
    """The question a question_html message shows, as it was asked (for regenerate and edit)."""
    body = re.sub(r'^<div class="kv-q">|</div>$', "", html.strip())
    return unescape(body.replace("<br>", "\n"))


def partial_html(text: str) -> str:
    """An answer still being written (streamed pieces so far)."""
    body = _SPACE.sub(" ", escape(text, quote=False)) if text else "Looking in the documents…"
    return f'<div class="kv-answer kv-pending"><div class="kv-text">{body}</div></div>'


def stopped_html(pending: str) -> str:
    """A pending answer (partial_html) that the user stopped: what was written so far, marked as stopped."""
    body = re.search(r'<div class="kv-text">(.*?)</div>', pending, re.S)
    text = body.group(1) if body and "Looking in the documents" not in body.group(1) else ""
    note = "■ Stopped: this answer was not finished, and is not used for follow-up questions."
    return (f'<div class="kv-answer kv-stopped"><div class="kv-text">{text}</div>'
            f'<div class="kv-stopped-note">{note}</div></div>')


def error_html(message: str) -> str:
    """A one-line failure shown in the chat instead of an answer (never a stack trace)."""
    return f'<div class="kv-answer kv-error"><span class="kv-icon">✖</span> {escape(message)}</div>'


def citations_json(answer: Answer) -> list[dict[str, object]]:
    """The citations of an answer as plain JSON for the `chat` API."""
    return [
        {"n": c.n, "doc_id": c.doc_id, "title": c.title, "section": c.section, "text": c.text,
         "quote": c.quote, "quotes": [q.to_json() for q in c.quotes],
         "source_url": c.source_url, "url": first_url(c.source_url), "language": c.language}
        for c in answer.citations
    ]
