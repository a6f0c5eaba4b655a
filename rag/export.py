"""Export: an answer or a conversation as Markdown or JSON, one form for the CLI, the API and the web chat."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from rag.types import Answer, Citation, ComparisonTable, Quote, TableCell, TableRow

_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")


def first_url(source_url: str) -> str:
    """The first http(s) URL of a source_url field, which may hold several URLs with notes."""
    match = _URL.search(source_url or "")
    return match.group(0).rstrip(".,;:") if match else ""


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def table_markdown(table: ComparisonTable) -> str:
    """A comparison table as a Markdown table; each cell keeps its [n] marker."""
    lines = ["| " + " | ".join(_cell(c) for c in table.columns) + " |",
             "|" + "---|" * len(table.columns)]
    for row in table.rows:
        cells = [f"{c.text} [{c.n}]" if c.n is not None else c.text for c in row.cells]
        lines.append("| " + " | ".join(_cell(t) for t in [row.aspect, *cells]) + " |")
    return "\n".join(lines)


def source_markdown(citation: Citation) -> str:
    """One numbered source: title (linked when it has a URL), section, and each span relied on, quoted
    (a table row with its header row, so that it reads as a table)."""
    url = first_url(citation.source_url)
    title = f"[{citation.title}]({url})" if url else citation.title
    line = f"- [{citation.n}] {title}" + (f" — {citation.section}" if citation.section else "")
    blocks = [_quote_lines(q.text, q.header) for q in citation.quotes]
    quoted = "\n  >\n".join(b for b in blocks if b)  # an empty quote line between spans
    return f"{line}\n{quoted}" if quoted else line


def _quote_lines(text: str, header: str) -> str:
    """One quoted span as Markdown quote lines; a table row under its header row, as a one-row table."""
    text = " ".join(text.split())
    if not text:
        return ""
    if header and text.startswith("|"):
        rule = "|" + "---|" * max(header.count("|") - 1, 1)
        return "\n".join(f"  > {row}" for row in (header, rule, text))
    return f"  > {text}"


def answer_markdown(answer: Answer) -> str:
    """The answer with its [n] markers, its table if any, then its numbered sources."""
    parts = [answer.text]
    if answer.table and answer.table.rows:
        parts.append(table_markdown(answer.table))
    if answer.citations:
        parts.append("**Sources**\n\n" + "\n".join(source_markdown(c) for c in answer.citations))
    return "\n\n".join(parts)


def conversation_markdown(answers: list[Answer], title: str = "kvisa conversation") -> str:
    """Every question and answer of a conversation, each answer with its own numbered sources."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    turns = [f"## Q{i}: {a.question}\n\n{answer_markdown(a)}" for i, a in enumerate(answers, 1)]
    return "\n\n".join([f"# {title}\n\nExported {stamp}.", *turns]) + "\n"


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as plain JSON: the `kvisa ask --json` object, with each citation's first quote and link
    (`quotes` has every span)."""
    data = answer.to_json()
    data["citations"] = [{**c, "quote": a.quote, "url": first_url(a.source_url)}
                         for c, a in zip(data["citations"], answer.citations, strict=True)]
    return data


def answer_from_json(data: dict[str, Any]) -> Answer:
    """An Answer back from `answer_json` (what the chat keeps of each turn, for export and feedback)."""
    citations = [Citation(c["n"], c["doc_id"], c["title"], c.get("section", ""), c.get("text", ""),
                          c.get("source_url", ""), quote=c.get("quote", ""),
                          quotes=[Quote.from_json(q) for q in c.get("quotes", [])])
                 for c in data.get("citations", [])]
    table = data.get("table")
    rows = [TableRow(r["aspect"], [TableCell(c["text"], c.get("n")) for c in r["cells"]]) for r in table["rows"]] \
        if table else []
    return Answer(data["question"], data["answer"], citations, refused=bool(data.get("refused")),
                  backend=data.get("backend", "extractive"),
                  table=ComparisonTable(list(table["columns"]), rows) if table else None)


def conversation_json(answers: list[Answer]) -> dict[str, Any]:
    return {"exported": datetime.now(UTC).isoformat(timespec="seconds"), "turns": [answer_json(a) for a in answers]}
