"""Feedback on answers: 👍 and 👎 kept in KVISA_HOME/feedback.jsonl, and gold-item candidates made from them."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kvisa.settings import Settings
from rag.types import Answer
from rag.verify import strip_markers

# What a 👎 can say was wrong (the chat offers these, with an optional comment).
REASONS = {
    "wrong_answer": "wrong answer",
    "wrong_source": "wrong source",
    "should_have_refused": "should have refused",
    "should_have_answered": "should have answered",
}
_LOCK = threading.Lock()  # one line at a time from the chat's worker threads


@dataclass
class Feedback:
    """One rating of one answer, with what the user saw: the question, the answer and its citations."""

    question: str
    answer: str
    rating: str  # "up" or "down"
    citations: list[dict[str, Any]] = field(default_factory=list)  # n, doc_id, title, section, quote
    backend: str = "extractive"
    refused: bool = False
    reason: str = ""  # one of REASONS, for a 👎
    comment: str = ""
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def of(cls, answer: Answer, rating: str, reason: str = "", comment: str = "") -> Feedback:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        if reason and reason not in REASONS:
            raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
        citations = [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "section": c.section, "quote": c.quote}
                     for c in answer.citations]
        return cls(answer.question, answer.text, rating, citations, answer.backend, answer.refused, reason,
                   comment.strip()[:2000])


# The chat's feedback choices: 👍 and 👎, and the reasons a 👎 may give (Gradio's extra feedback options).
CHAT_OPTIONS = ("Like", "Dislike", *(label.capitalize() for label in REASONS.values()))


def rating_of(choice: bool | str) -> tuple[str, str]:
    """(rating, reason) from the chat's choice: True/"Like" is up, False/"Dislike" down, a reason is down."""
    if choice is True or choice == "Like":
        return "up", ""
    reason = next((key for key, label in REASONS.items() if str(choice).lower() == label), "")
    return "down", reason


def feedback_path(settings: Settings) -> Path:
    return settings.home / "feedback.jsonl"


def record(settings: Settings, feedback: Feedback) -> None:
    """Append one line; a crash leaves whole lines only (one write of one line, flushed to disk)."""
    path = feedback_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(feedback), ensure_ascii=False) + "\n"
    with _LOCK, path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def read_feedback(settings: Settings) -> list[Feedback]:
    """Every recorded rating, oldest first; a line that is not a rating (a torn last line) is skipped."""
    path = feedback_path(settings)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(Feedback(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return out


def gold_candidates(feedbacks: list[Feedback]) -> list[dict[str, Any]]:
    """One gold-format candidate per question (its latest rating), for a person to complete.

    A 👎 "should have refused" is a finished unanswerable item. Every other rating gives a draft: an
    answerable item whose answer, key facts and sources are what the user saw (👍) or left empty (👎),
    to be checked against the documents before it counts.
    """
    from eval.gold import split_for

    latest = {f.question.strip(): f for f in feedbacks if f.question.strip()}
    items = []
    for question, f in latest.items():
        item_id = "fb-" + hashlib.sha256(question.encode("utf-8")).hexdigest()[:10]
        note = f"{'👍' if f.rating == 'up' else '👎'} {REASONS.get(f.reason, '')}".strip()
        note += f": {f.comment}" if f.comment else ""
        base = {"id": item_id, "question": question, "split": split_for(item_id), "note": note}
        if f.rating == "down" and f.reason == "should_have_refused":
            items.append({**base, "answer": "", "key_facts": [], "sources": [], "answerable": False})
        elif f.rating == "up" and not f.refused:
            sources = list(dict.fromkeys(c["doc_id"] for c in f.citations))
            items.append({**base, "answer": strip_markers(f.answer), "key_facts": [], "sources": sources,
                          "answerable": True, "draft": True})
        elif f.rating == "up":  # a refusal the user agreed with
            items.append({**base, "answer": "", "key_facts": [], "sources": [], "answerable": False})
        else:
            items.append({**base, "answer": "", "key_facts": [], "sources": [], "answerable": True, "draft": True})
    return items
