"""The kvisa web chat: build the Gradio app (chat, documents, settings, API) and launch it safely."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from html import escape
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no phoning home

import gradio as gr

from ingest.documents import IngestError
from ingest.pipeline import list_documents
from kvisa.feedback import CHAT_OPTIONS, REASONS, Feedback, rating_of, record
from kvisa.settings import Settings
from rag.export import answer_from_json, answer_json, conversation_json, conversation_markdown
from rag.types import Answer, Turn
from ui.cards import CSS, HEAD, answer_html, citations_json, error_html, partial_html
from ui.documents import add_upload, build_documents_tab, document_choices, document_rows
from ui.evaluation import build_evaluation_tab
from ui.openai_api import openai_router

log = logging.getLogger(__name__)

# Questions of the dev gold set (eval/gold_dev.jsonl: dev-001, dev-011, dev-028, dev-024, dev-033).
EXAMPLES = [
    "How much money must accompany a new H-1B petition under Proclamation 10973?",
    "Does the $100,000 H-1B fee apply to renewals?",
    "What educational background qualifies someone for a K visa?",
    "K字签证发给什么人？",
    "K字签证和美国H-1B签证，哪一个要求有雇主？",
]

# System fonts only: the page must not fetch a font from anywhere.
THEME = gr.themes.Default(
    primary_hue="blue",
    font=[gr.themes.Font("system-ui"), gr.themes.Font("-apple-system"), "Segoe UI", "Noto Sans",
          "Noto Sans CJK SC", "WenQuanYi Micro Hei", "sans-serif"],
    font_mono=[gr.themes.Font("ui-monospace"), "DejaVu Sans Mono", "monospace"],
)

_ASSISTANT_LOCK = threading.Lock()


class BindError(ValueError):
    """The chat may not bind this address with these settings; the message is one line."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: str | None) -> tuple[str, str] | None:
    """The (user, password) to require, or None; refuses a non-loopback host without auth."""
    credentials = None
    if auth:
        user, sep, password = auth.partition(":")
        if not (sep and user and password):
            raise BindError("KVISA_AUTH must look like user:password")
        credentials = (user, password)
    if credentials is None and not is_loopback(host):
        raise BindError(f"refusing to serve on {host} without a password; set KVISA_AUTH=user:password "
                        "or bind 127.0.0.1")
    return credentials


def assistant_for(settings: Settings):
    """The shared Assistant (loaded once; the lock keeps a warm-up and a first question from racing)."""
    from rag.assistant import get_assistant

    with _ASSISTANT_LOCK:
        return get_assistant(settings)


def warm_up(settings: Settings) -> None:
    """Load the assistant, its indexes and its query encoder (run in the background after launch)."""
    try:
        assistant_for(settings).warm_up()
    except Exception:  # e.g. the Chroma server is down: the first question retries and reports it
        log.exception("loading the assistant failed")


def backends(settings: Settings) -> list[str]:
    try:
        return assistant_for(settings).available_backends()
    except Exception:  # an optional backend that cannot even be probed is simply not offered
        log.exception("probing answer backends failed")
        return ["extractive"]


def _user_message(exc: Exception) -> str:
    """One line for the user: our own errors speak for themselves, anything else is internal."""
    from rag.assistant import BackendUnavailable

    if isinstance(exc, IngestError | BackendUnavailable):
        return str(exc).splitlines()[0]
    return "Something went wrong while answering; the server log has the details."


def stream_answer(settings: Settings, question: str, turns: list[dict[str, str]], backend: str | None,
                  top_k: int | None) -> Iterator[str | Answer]:
    """Pieces of answer text as they come, then the Answer (follow-ups see the earlier turns)."""
    history = [Turn(question=t["question"], answer=t["answer"]) for t in turns]
    passages = min(max(int(top_k), 1), 30) if top_k else None  # the value comes from the browser
    yield from assistant_for(settings).stream(question, history=history, backend=backend or None, top_k=passages)


def respond(settings: Settings, question: str, messages: list[dict], turns: list[dict[str, str]],
            backend: str | None, top_k: int | None):
    """The chat event: show the question, stream the answer, then replace it by the cited answer."""
    question = (question or "").strip()
    if not question:
        yield messages, "", turns
        return
    messages = [*messages, {"role": "user", "content": escape(question, quote=False)},
                {"role": "assistant", "content": partial_html("")}]
    yield messages, "", turns
    text, answer = "", None
    try:
        for piece in stream_answer(settings, question, turns, backend, top_k):
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
        messages = [*messages[:-1], {"role": "assistant", "content": error_html(_user_message(exc))}]
        yield messages, "", turns
        return
    titles = [e.title for e in list_documents(settings)] if answer.refused else []
    html = answer_html(answer, len(turns) + 1, titles)
    # A turn keeps its whole answer (for export and feedback) and which message shows it (for 👍/👎).
    turn = {"question": question, "answer": answer.text, "json": answer_json(answer), "message": len(messages) - 1}
    yield [*messages[:-1], {"role": "assistant", "content": html}], "", [*turns, turn]


def on_feedback(settings: Settings, turns: list[dict], comment: str, event: gr.LikeData) -> tuple[str, str]:
    """Record a 👍/👎 (with a 👎's reason and the optional comment) on the answer it was given to."""
    index = event.index[0] if isinstance(event.index, list | tuple) else event.index
    turn = next((t for t in turns if t.get("message") == index), None)
    if turn is None:
        return "Nothing to rate there (only answers can be rated).", comment
    rating, reason = rating_of(event.liked)
    record(settings, Feedback.of(answer_from_json(turn["json"]), rating, reason, comment or ""))
    return f"Thanks — your {'👍' if rating == 'up' else '👎'} {REASONS.get(reason, '')} was recorded.", ""


def export_conversation(turns: list[dict], kind: str) -> str | None:
    """The conversation as a Markdown or JSON file to download (None when there is nothing to export)."""
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


def build_app(settings: Settings) -> gr.Blocks:
    """The whole app; `launch` serves it. Only `chat` and `add_document` are public API endpoints."""
    private = {"api_visibility": "private"}
    # Every way of asking shares one queue slot: answers never interleave and the local LLM runs one at a time.
    answering = {"concurrency_id": "answer", "concurrency_limit": 1}
    with gr.Blocks(title="kvisa — K visa and H-1B answers", analytics_enabled=False) as demo:
        gr.Markdown("## kvisa\nCited answers about China's **K visa** and the US **H-1B** program, "
                    "from the documents in the index. Click a marker like [1] to see its source.",
                    elem_id="kv-header")
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row():
                with gr.Column(scale=4):
                    chatbot = gr.Chatbot(
                        label="Conversation", show_label=False, elem_id="kv-chat", height="70vh", latex_delimiters=[],
                        feedback_options=CHAT_OPTIONS, buttons=["copy"], layout="panel",
                        placeholder="Ask about the K visa or H-1B in English or Chinese (中文).")
                    with gr.Row():
                        question = gr.Textbox(show_label=False, placeholder="Type a question and press Enter",
                                              scale=5, elem_id="kv-question", autofocus=True, max_lines=4)
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="kv-send")
                    new_chat = gr.Button("New conversation", size="sm", elem_id="kv-new")
                    feedback_note = gr.Markdown(elem_id="kv-feedback-note")
                    with gr.Accordion("Rate or export", open=False, elem_id="kv-rate-export"):
                        comment = gr.Textbox(label="Comment sent with your next rating (optional)", max_lines=3,
                                             elem_id="kv-feedback-comment")
                        with gr.Row():
                            export_md = gr.Button("Export conversation (Markdown)", size="sm", elem_id="kv-export-md")
                            export_json = gr.Button("Export (JSON)", size="sm", elem_id="kv-export-json")
                        exported = gr.File(label="Export", interactive=False, elem_id="kv-export-file")
                with gr.Column(scale=2, min_width=260):
                    gr.Markdown("**Try an example**")
                    with gr.Column(elem_id="kv-examples"):
                        example_buttons = [gr.Button(q, size="sm") for q in EXAMPLES]
                    with gr.Accordion("Settings", open=False, elem_id="kv-settings"):
                        backend = gr.Dropdown(label="Answer backend", choices=[settings.backend],
                                              value=settings.backend, elem_id="kv-backend")
                        top_k = gr.Slider(1, 20, value=settings.top_k, step=1,
                                          label="Passages to retrieve", elem_id="kv-topk")
            with gr.Tab("Documents", id="documents") as documents_tab:
                table, doc_menu = build_documents_tab(settings)
            with gr.Tab("Evaluation", id="evaluation"):
                build_evaluation_tab(settings, ["extractive", "llamacpp", "openai"])

        def on_ask(q, m, t, b, k):
            yield from respond(settings, q, m, t, b, k)

        chat_io = {"inputs": [question, chatbot, turns, backend, top_k], "outputs": [chatbot, question, turns]}
        question.submit(on_ask, **chat_io, **private, **answering)
        send.click(on_ask, **chat_io, **private, **answering)
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(lambda t=text: t, None, question, queue=False, **private).then(
                on_ask, **chat_io, **private, **answering)
        new_chat.click(lambda: ([], "", []), None, [chatbot, question, turns], queue=False, **private)
        def rate(t: list[dict], c: str, event: gr.LikeData) -> tuple[str, str]:  # the hint makes Gradio pass it
            return on_feedback(settings, t, c, event)

        chatbot.like(rate, [turns, comment], [feedback_note, comment], **private)
        export_md.click(lambda t: export_conversation(t, "md"), turns, exported, **private)
        export_json.click(lambda t: export_conversation(t, "json"), turns, exported, **private)
        documents_tab.select(lambda: (document_rows(settings), gr.Dropdown(choices=document_choices(settings))),
                             None, [table, doc_menu], **private)

        def offered_backends():
            names = backends(settings)
            return gr.Dropdown(choices=names, value=settings.backend if settings.backend in names else names[0])

        demo.load(offered_backends, None, backend, **private)

        def chat(question: str) -> tuple[str, list[dict]]:
            """Answer one question: the answer text with [n] markers, and its citations."""
            if not (question or "").strip():
                raise gr.Error("the question is empty")
            try:
                answer = assistant_for(settings).ask(question)
            except Exception as exc:
                log.exception("API question %r failed", question)
                raise gr.Error(_user_message(exc)) from None
            return answer.text, citations_json(answer)

        gr.api(chat, api_name="chat", **answering)

        # add_document takes a real File component so Gradio only hands us files that were uploaded.
        api_file = gr.File(visible=False, file_types=None)
        api_message = gr.Textbox(visible=False)
        api_trigger = gr.Button(visible=False)
        api_trigger.click(lambda path: add_upload(path, settings) if path else "✗ no file given",
                          [api_file], [api_message], api_name="add_document",
                          api_description="Add one file (txt, md, html, pdf, docx) to the index; returns a message.")
    return demo


def launch(settings: Settings, host: str | None = None, port: int | None = None, *,
           block: bool = True, quiet: bool = False) -> tuple[gr.Blocks, str]:
    """Serve the chat on host:port (127.0.0.1 by default). Raises BindError for an unsafe bind."""
    host = host or settings.host
    port = port or settings.port
    credentials = check_bind(host, settings.auth)
    demo = build_app(settings)
    demo.queue()
    _, url, _ = demo.launch(
        server_name=host, server_port=port, auth=credentials, prevent_thread_lock=True, quiet=True,
        show_error=False, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
        footer_links=["api"], max_file_size=settings.max_bytes, theme=THEME, css=CSS, head=HEAD,
    )
    # The OpenAI-compatible API on the same server, behind the same password (ui/openai_api.py).
    demo.app.include_router(openai_router(settings, lambda: assistant_for(settings), credentials,
                                          lambda: backends(settings)))
    # Load what the first question needs only once the page is up: the page is not delayed, and the first
    # question is fast. A question asked meanwhile waits for the loading (assistant_for's lock), never fails.
    threading.Thread(target=warm_up, args=(settings,), daemon=True, name="kvisa-warmup").start()
    if not quiet:
        print(f"kvisa chat: {url}  (Ctrl-C stops it)", flush=True)
    if block:
        demo.block_thread()
    return demo, url
