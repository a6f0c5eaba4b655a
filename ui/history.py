"""Conversations kept in the browser (gr.BrowserState): the current one survives a reload; past ones reopen."""

from __future__ import annotations

import uuid
from typing import Any

import gradio as gr

from ingest.pipeline import list_documents
from kvisa.settings import Settings
from rag.export import answer_from_json
from ui.cards import answer_html, question_html

KEPT = 10  # conversations kept per browser: localStorage holds a few MB, and each turn keeps its sources
TITLE_CHARS = 60
STORAGE_KEY = "kvisa-conversations"
Store = dict[str, Any]  # {"active": id, "items": [{"id", "title", "turns"}], newest first}


def new_store() -> Store:
    return {"active": "", "items": []}


def browser_store() -> gr.BrowserState:
    """Only answered turns are stored, not the rendered messages: the page is rebuilt from them, which keeps
    the stored value small. The encryption secret is made per server start, so a restart starts afresh."""
    return gr.BrowserState(new_store(), storage_key=STORAGE_KEY)


def _items(store: Store | None) -> list[dict[str, Any]]:
    return [i for i in (store or {}).get("items", []) if isinstance(i, dict) and i.get("id")]


def title_of(turns: list[dict]) -> str:
    """A conversation's name in the list: its first question, shortened."""
    first = " ".join(str(turns[0].get("question", "")).split()) if turns else ""
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def choices(store: Store | None) -> gr.Dropdown:
    """The "Past conversations" menu: every kept conversation by its first question, the open one chosen."""
    items = _items(store)
    active = (store or {}).get("active", "")
    value = active if any(i["id"] == active for i in items) else None
    return gr.Dropdown(choices=[(i["title"], i["id"]) for i in items], value=value)


def save(store: Store | None, turns: list[dict]) -> tuple[Store, gr.Dropdown]:
    """Keep the open conversation's answered turns (newest conversation first, at most KEPT)."""
    store = {"active": (store or {}).get("active") or uuid.uuid4().hex, "items": _items(store)}
    kept = [{k: t[k] for k in ("question", "answer", "json") if k in t} for t in turns if "json" in t]
    if not kept:  # every turn was taken back (edit, regenerate): nothing of it to reopen
        store["items"] = [i for i in store["items"] if i["id"] != store["active"]]
        return store, choices(store)
    item = {"id": store["active"], "title": title_of(kept), "turns": kept}
    store["items"] = [item, *(i for i in store["items"] if i["id"] != item["id"])][:KEPT]
    return store, choices(store)


def rebuild(settings: Settings, kept: list[dict]) -> tuple[list[dict], list[dict]]:
    """The chat messages and turns of a stored conversation, rendered again from its answers."""
    messages: list[dict] = []
    turns: list[dict] = []
    titles: list[str] | None = None
    for number, turn in enumerate(kept, 1):
        answer = answer_from_json(turn["json"])
        if answer.refused and titles is None:
            titles = [e.title for e in list_documents(settings)]
        messages += [{"role": "user", "content": question_html(turn["question"])},
                     {"role": "assistant", "content": answer_html(answer, number, titles or [])}]
        turns.append({**turn, "message": len(messages) - 1})
    return messages, turns


def open_conversation(settings: Settings, store: Store | None, conversation: str | None) -> tuple:
    """Show a stored conversation (the open one after a reload): (chat, messages, turns, store, menu)."""
    store = {"active": conversation or (store or {}).get("active", ""), "items": _items(store)}
    item = next((i for i in store["items"] if i["id"] == store["active"]), None)
    messages, turns = rebuild(settings, item["turns"]) if item else ([], [])
    return messages, messages, turns, store, choices(store)


def start_new(store: Store | None) -> tuple[Store, gr.Dropdown]:
    """A new conversation: the open one stays in the list, the next answer starts another entry."""
    store = {"active": uuid.uuid4().hex, "items": _items(store)}
    return store, choices(store)
