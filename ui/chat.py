"""The chat's events: take a question (or queue it), stream its cited answer, stop, regenerate, edit, reset."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator

import gradio as gr

from ingest.documents import IngestError
from ingest.pipeline import list_documents
from kvisa.settings import Settings
from rag.assistant import Filters
from rag.export import answer_json
from rag.types import Answer, Turn
from ui.cards import answer_html, error_html, partial_html, question_html, question_text, stopped_html

log = logging.getLogger(__name__)

_ASSISTANT_LOCK = threading.Lock()
EMPTY_QUESTION = "Type a question first, then press Enter or Ask."
BUSY = "Wait for the answer to finish, or press Stop, first."
NOTHING_ASKED = "Nothing to {what} yet: ask a question first."
EDITING = "Edit your question, then press Enter or Ask to send it again."


def sent_js(box_id: str) -> str:
    """The `js` of a take event: the text the page script read from the box at the moment it was sent."""
    return f"(text) => (window.kvSent ? window.kvSent({box_id!r}, text) : text)"


class Waiting:
    """What each browser session has sent and not yet seen through, in order (thread-safe).

    A submission is taken at once (`put`); a queued event then works through the session's items
    (`take`, then `done`, until `take` gives None). The item travels through here rather than through a
    hidden component, which a second submission made milliseconds later could overwrite before the first
    event reads it; and the event that is running does the items sent meanwhile, so none depends on the
    browser starting a second event while the first one runs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, deque[str]] = {}
        self._open: dict[str, int] = {}

    def put(self, key: str, item: str) -> int:
        """Queue item for key; returns how many of key's items were already queued or running."""
        with self._lock:
            ahead = self._open.get(key, 0)
            self._open[key] = ahead + 1
            self._items.setdefault(key, deque()).append(item)
            return ahead

    def take(self, key: str) -> str | None:
        """The oldest queued item of key (None when none)."""
        with self._lock:
            items = self._items.get(key)
            return items.popleft() if items else None

    def drop(self, key: str) -> int:
        """Forget key's queued items (not the running one); returns how many were dropped."""
        with self._lock:
            items = self._items.get(key) or deque()
            dropped = len(items)
            items.clear()
            self._open[key] = max(self._open.get(key, 0) - dropped, 0)
            return dropped

    def busy(self, key: str) -> bool:
        with self._lock:
            return self._open.get(key, 0) > 0

    def done(self, key: str) -> int:
        """Count one item of key as finished; returns how many are still queued or running."""
        with self._lock:
            left = max(self._open.get(key, 0) - 1, 0)
            self._open[key] = left
            if not left:
                self._open.pop(key, None)
                self._items.pop(key, None)
            return left


def queued_note(ahead: int, what: str) -> str:
    """The status line for a submission that waits for others of the same browser session."""
    if not ahead:
        return ""
    return f"⏳ Queued: {what} once the {ahead} before it {'is' if ahead == 1 else 'are'} done."


def assistant_for(settings: Settings):
    """The shared Assistant (loaded once; the lock keeps a warm-up and a first question from racing)."""
    from rag.assistant import get_assistant

    with _ASSISTANT_LOCK:
        return get_assistant(settings)


def user_message(exc: Exception) -> str:
    """One line for the user: our own errors speak for themselves, anything else is internal."""
    from rag.assistant import BackendUnavailable

    if isinstance(exc, IngestError | BackendUnavailable):
        return str(exc).splitlines()[0]
    return "Something went wrong while answering; the server log has the details."


def filters_of(doc_id: str | None, jurisdiction: str | None, language: str | None) -> Filters | None:
    """The Settings' filters (the CLI's --doc, --jurisdiction, --language); None when all are "any"."""
    chosen = Filters(doc_id=doc_id or None, jurisdiction=jurisdiction or None, language=language or None)
    return chosen if chosen.as_dict() else None


def filter_menus(settings: Settings) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown]:
    """The filter menus' choices, from what the index holds: documents, jurisdictions, languages."""
    entries = list_documents(settings)
    docs = [("Any document", ""), *((f"{e.title} ({e.doc_id})", e.doc_id) for e in entries)]
    places = [("Any jurisdiction", ""), *((j, j) for j in sorted({e.jurisdiction for e in entries} - {""}))]
    languages = [("Any language", ""), *((x, x) for x in sorted({e.language for e in entries} - {""}))]
    return gr.Dropdown(choices=docs), gr.Dropdown(choices=places), gr.Dropdown(choices=languages)


def stream_answer(settings: Settings, question: str, turns: list[dict[str, str]], backend: str | None,
                  top_k: int | None, filters: Filters | None = None) -> Iterator[str | Answer]:
    """Pieces of answer text as they come, then the Answer (follow-ups see the earlier turns)."""
    history = [Turn(question=t["question"], answer=t["answer"]) for t in turns]
    passages = min(max(int(top_k), 1), 30) if top_k else None  # the value comes from the browser
    yield from assistant_for(settings).stream(question, history=history, backend=backend or None, top_k=passages,
                                              filters=filters)


def respond(settings: Settings, question: str, messages: list[dict], turns: list[dict[str, str]],
            backend: str | None, top_k: int | None,
            filters: Filters | None = None) -> Iterator[tuple[list[dict], str, list[dict[str, str]]]]:
    """Show the question, stream the answer, then replace it by the cited answer: (messages, box, turns)."""
    question = (question or "").strip()
    if not question:
        yield messages, "", turns
        return
    messages = [*messages, {"role": "user", "content": question_html(question)},
                {"role": "assistant", "content": partial_html("")}]
    yield messages, "", turns
    text, answer = "", None
    try:
        for piece in stream_answer(settings, question, turns, backend, top_k, filters):
            if isinstance(piece, Answer):
                answer = piece
            else:
                text += piece
                messages = [*messages[:-1], {"role": "assistant", "content": partial_html(text)}]
                yield messages, "", turns
        if answer is None:
            raise RuntimeError("the answer stream ended without an Answer")
    except Exception as exc:
        log.exception("answering %r failed", question)
        messages = [*messages[:-1], {"role": "assistant", "content": error_html(user_message(exc))}]
        yield messages, "", turns
        return
    titles = [e.title for e in list_documents(settings)] if answer.refused else []
    html = answer_html(answer, len(turns) + 1, titles)
    # A turn keeps its whole answer (for export and feedback) and which message shows it (for 👍/👎).
    turn = {"question": question, "answer": answer.text, "json": answer_json(answer), "message": len(messages) - 1}
    yield [*messages[:-1], {"role": "assistant", "content": html}], "", [*turns, turn]


def reset() -> tuple[list, list, list, str]:
    """A fresh conversation (chat, messages, turns, status): "New conversation" and the chat's trash icon
    both use it, so a cleared screen never leaves turns behind for follow-ups. The question box is kept:
    a question typed meanwhile is not lost."""
    return [], [], [], ""


def session_of(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "-"


def is_pending(message: dict) -> bool:
    """Whether a message is an answer still being written (not yet cited, failed or stopped)."""
    return message.get("role") == "assistant" and "kv-pending" in str(message.get("content", ""))


def last_question(messages: list[dict]) -> tuple[int, str] | None:
    """The index and text of the conversation's last question (None before the first one)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return index, question_text(str(messages[index].get("content", "")))
    return None


def cut_at(messages: list[dict], turns: list[dict], index: int) -> tuple[list[dict], list[dict]]:
    """The conversation before message `index`: its messages, and the turns answered there."""
    return messages[:index], [t for t in turns if t.get("message", 0) < index]


class ChatEvents:
    """The question events of one app: a question is taken at once (box cleared, or a message when it is
    empty), then answered in order; a question sent while another is answered waits, and says so."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.waiting = Waiting()
        self._stopping: set[str] = set()  # sessions whose running answer is to stop at its next piece
        self._lock = threading.Lock()

    def take(self, question: str, request: gr.Request) -> str:
        """The status line; a question is queued for `answer`. The box is emptied in the browser
        (ui/assets.py), never from here: a reply arriving after the next question was typed would wipe it."""
        question = (question or "").strip()
        if not question:
            return EMPTY_QUESTION
        return queued_note(self.waiting.put(session_of(request), question), "your question is answered")

    def taker(self, question: str) -> Callable[[gr.Request], str]:
        """`take` for a fixed question (an example button), leaving the box alone."""
        def take_example(request: gr.Request) -> str:
            return self.take(question, request)

        return take_example

    def answer(self, messages: list[dict], turns: list[dict[str, str]], backend: str | None, top_k: int | None,
               doc_id: str | None, jurisdiction: str | None, language: str | None,
               request: gr.Request) -> Iterator[tuple]:
        """Answer the session's queued questions in order, streaming into (chat, messages, turns, status, Stop
        button). Messages and turns are server-side state; each question follows the one answered before it.
        Stop ends the running answer at its next piece and drops the questions queued behind it."""
        key, filters = session_of(request), filters_of(doc_id, jurisdiction, language)
        answered = False
        while (question := self.waiting.take(key)) is not None:
            with self._lock:
                self._stopping.discard(key)  # a Stop pressed before this question began was for another
            try:
                status = ""  # this question's "queued" note is over once it is shown
                replies = respond(self.settings, question, messages, turns, backend, top_k, filters)
                for shown, _, now in replies:
                    if self._stopped(key) and is_pending(shown[-1]):
                        replies.close()  # closes the backend's stream too (and frees the local LLM)
                        stopped = {"role": "assistant", "content": stopped_html(shown[-1]["content"])}
                        shown, now = [*shown[:-1], stopped], turns
                        yield shown, shown, now, status, gr.Button(visible=True)
                        break
                    yield shown, shown, now, status, gr.Button(visible=True)
                    status = gr.skip()
                messages, turns, answered = shown, now, True  # the next queued question follows this one
            finally:
                self.waiting.done(key)
        # An empty question keeps its "type a question" note.
        yield gr.skip(), gr.skip(), gr.skip(), "" if answered else gr.skip(), gr.Button(visible=False)

    def _stopped(self, key: str) -> bool:
        with self._lock:
            return key in self._stopping

    def stop(self, request: gr.Request) -> str:
        """Stop the session's running answer (at its next piece) and drop its queued questions."""
        key = session_of(request)
        if not self.waiting.busy(key):
            return ""
        dropped = self.waiting.drop(key)
        with self._lock:
            self._stopping.add(key)
        return f"Stopped; {dropped} queued question{'s were' if dropped > 1 else ' was'} dropped." if dropped else ""

    def regenerate(self, messages: list[dict], turns: list[dict], request: gr.Request) -> tuple:
        """Take the last question away with its answer and queue it again: (chat, messages, turns, status)."""
        key = session_of(request)
        last = last_question(messages)
        if self.waiting.busy(key) or last is None:
            return gr.skip(), gr.skip(), gr.skip(), BUSY if last else NOTHING_ASKED.format(what="regenerate")
        messages, turns = cut_at(messages, turns, last[0])
        self.waiting.put(key, last[1])
        return messages, messages, turns, ""

    def edit(self, messages: list[dict], turns: list[dict], request: gr.Request) -> tuple:
        """Take the last question away with its answer and put it back in the box to be edited and sent:
        (chat, messages, turns, status, question box)."""
        last = last_question(messages)
        if self.waiting.busy(session_of(request)) or last is None:
            note = BUSY if last else NOTHING_ASKED.format(what="edit")
            return gr.skip(), gr.skip(), gr.skip(), note, gr.skip()
        messages, turns = cut_at(messages, turns, last[0])
        return messages, messages, turns, EDITING, last[1]
