"""What a user does with a conversation besides asking: rate its answers (👍/👎) and export it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import gradio as gr

from kvisa.feedback import REASONS, Feedback, rating_of, record
from kvisa.settings import Settings
from rag.export import answer_from_json, conversation_json, conversation_markdown


def on_feedback(settings: Settings, turns: list[dict], comment: str, event: gr.LikeData) -> tuple[str, str]:
    """Record a 👍/👎 (with a 👎's reason and the optional comment) on the answer it was given to."""
    index = event.index[0] if isinstance(event.index, list | tuple) else event.index
    turn = next((t for t in turns if t.get("message") == index), None)
    if turn is None:
        return "Nothing to rate there (only answers can be rated).", comment
    rating, reason = rating_of(event.liked)
    record(settings, Feedback.of(answer_from_json(turn["json"]), rating, reason, comment or ""))
    return f"Thanks — your {'👍' if rating == 'up' else '👎'} {REASONS.get(reason, '')} was recorded.", ""


def export_conversation(turns: list[dict], kind: str) -> str:
    """The conversation as a Markdown or JSON file to download."""
    answers = [answer_from_json(t["json"]) for t in turns if "json" in t]
    if not answers:
        raise gr.Error("nothing to export yet: ask a question first")
    folder = Path(tempfile.mkdtemp(prefix="kvisa-export-"))
    if kind == "json":
        path = folder / "kvisa-conversation.json"
        path.write_text(json.dumps(conversation_json(answers), ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        path = folder / "kvisa-conversation.md"
        path.write_text(conversation_markdown(answers), encoding="utf-8")
    return str(path)
