"""The kvisa web chat: build the Gradio app (chat, documents, settings, API) and launch it safely."""

from __future__ import annotations

import ipaddress
import logging
import os
import threading

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no phoning home

import gradio as gr

from kvisa.feedback import CHAT_OPTIONS
from kvisa.settings import Settings
from ui.assets import CSS, HEAD
from ui.cards import citations_json
from ui.chat import ChatEvents, assistant_for, filter_menus, reset, sent_js, user_message
from ui.conversation import export_conversation, on_feedback
from ui.documents import add_upload, build_documents_tab, document_choices, document_rows
from ui.evaluation import build_evaluation_tab
from ui.history import browser_store, open_conversation, save, start_new
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
).set(  # white on blue-500 is 3.7:1; blue-700 reaches WCAG AA (6.7:1) in light and dark
    button_primary_background_fill="*primary_700", button_primary_background_fill_dark="*primary_700",
    button_primary_background_fill_hover="*primary_800", button_primary_background_fill_hover_dark="*primary_800",
    # the same for white on red ("Remove document"): red-500 is 3.8:1, red-700 6.5:1
    button_cancel_background_fill="#b91c1c", button_cancel_background_fill_dark="#b91c1c",
    button_cancel_background_fill_hover="#991b1b", button_cancel_background_fill_hover_dark="#991b1b",
    button_cancel_text_color="white", button_cancel_text_color_dark="white",
)


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


def build_app(settings: Settings) -> gr.Blocks:
    """The whole app; `launch` serves it. Only `chat`, `add_document` and the Evaluation tab's `run_eval` are
    public Gradio API endpoints (the OpenAI-compatible /v1 routes are added by `launch`)."""
    private = {"api_visibility": "private"}
    # Every way of asking shares one queue slot: answers never interleave and the local LLM runs one at a time.
    answering = {"concurrency_id": "answer", "concurrency_limit": 1}
    with gr.Blocks(title="kvisa — K visa and H-1B answers", analytics_enabled=False) as demo:
        gr.Markdown("## kvisa\nCited answers about China's **K visa** and the US **H-1B** program, "
                    "from the documents in the index. Click a marker like [1] to see its source.",
                    elem_id="kv-header")
        turns = gr.State([])
        store = browser_store()
        messages = gr.State([])  # the conversation as the server last wrote it (queued questions read this)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row():
                with gr.Column(scale=4):
                    chatbot = gr.Chatbot(
                        label="Conversation", show_label=False, elem_id="kv-chat", height="70vh", latex_delimiters=[],
                        feedback_options=CHAT_OPTIONS, buttons=["copy"], layout="panel", autoscroll=False,
                        placeholder="Ask about the K visa or H-1B in English or Chinese (中文).")
                    with gr.Row(elem_id="kv-ask-row"):
                        question = gr.Textbox(label="Your question", show_label=False, scale=5, max_lines=4,
                                              placeholder="Type your question…", elem_id="kv-question",
                                              autofocus=True)
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="kv-send")
                        stop = gr.Button("■ Stop", variant="stop", scale=1, visible=False, elem_id="kv-stop")
                    status = gr.Markdown(elem_id="kv-chat-status", elem_classes=["kv-status"])
                    with gr.Row(elem_id="kv-controls"):
                        regenerate = gr.Button("↻ Regenerate", size="sm", elem_id="kv-regenerate")
                        edit = gr.Button("✎ Edit last question", size="sm", elem_id="kv-edit")
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
                    past = gr.Dropdown(label="Past conversations (kept in this browser)", choices=[], value=None,
                                       elem_id="kv-past")
                    gr.Markdown("**Try an example**")
                    with gr.Column(elem_id="kv-examples"):
                        example_buttons = [gr.Button(q, size="sm") for q in EXAMPLES]
                    with gr.Accordion("Settings", open=False, elem_id="kv-settings"):
                        backend = gr.Dropdown(label="Answer backend", choices=[settings.backend],
                                              value=settings.backend, elem_id="kv-backend")
                        top_k = gr.Slider(1, 20, value=settings.top_k, step=1,
                                          label="Passages to retrieve", elem_id="kv-topk")
                        # The CLI's --doc, --jurisdiction and --language; choices come from the index on load.
                        doc_filter = gr.Dropdown(label="Only this document", choices=[("Any document", "")],
                                                 value="", elem_id="kv-filter-doc")
                        place_filter = gr.Dropdown(label="Only this jurisdiction", choices=[("Any jurisdiction", "")],
                                                   value="", elem_id="kv-filter-jurisdiction")
                        language_filter = gr.Dropdown(label="Only documents in this language",
                                                      choices=[("Any language", "")], value="",
                                                      elem_id="kv-filter-language")
            with gr.Tab("Documents", id="documents") as documents_tab:
                table, doc_menu = build_documents_tab(settings)
            with gr.Tab("Evaluation", id="evaluation"):
                build_evaluation_tab(settings, ["extractive", "llamacpp", "openai"])

        events = ChatEvents(settings)
        # "multiple": a question sent while another is answered is queued, never dropped by the browser.
        answer_io = {"fn": events.answer,
                     "inputs": [messages, turns, backend, top_k, doc_filter, place_filter, language_filter],
                     "outputs": [chatbot, messages, turns, status, stop], "trigger_mode": "multiple",
                     **private, **answering}
        # Every answered (or stopped) turn is kept in the browser, so the conversation survives a reload.
        keep = {"fn": save, "inputs": [store, turns], "outputs": [store, past], "queue": False, **private}
        quick = {"outputs": [status], "queue": False, "trigger_mode": "multiple", **private}
        for trigger in (question.submit, send.click):
            trigger(events.take, [question], js=sent_js("kv-question"), **quick).then(**answer_io).then(**keep)
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(events.taker(text), None, **quick).then(**answer_io).then(**keep)
        # Stop ends the running answer at its next streamed piece (ui/chat.py), so the backend's stream is
        # closed cleanly and what was written so far stays on screen, marked as stopped.
        stop.click(events.stop, None, [status], queue=False, **private)
        regenerate.click(events.regenerate, [messages, turns], [chatbot, messages, turns, status], queue=False,
                         **private).then(**answer_io).then(**keep)
        edit.click(events.edit, [messages, turns], [chatbot, messages, turns, status, question], queue=False,
                   **private).then(**keep)
        for trigger in (new_chat.click, chatbot.clear):
            trigger(reset, None, [chatbot, messages, turns, status], queue=False, **private).then(
                start_new, store, [store, past], queue=False, **private)
        past.input(lambda s, c: open_conversation(settings, s, c), [store, past],
                   [chatbot, messages, turns, store, past], queue=False, **private)
        def rate(t: list[dict], c: str, event: gr.LikeData) -> tuple[str, str]:  # the hint makes Gradio pass it
            return on_feedback(settings, t, c, event)

        chatbot.like(rate, [turns, comment], [feedback_note, comment], **private)
        export_md.click(lambda t: export_conversation(t, "md"), turns, exported, **private)
        export_json.click(lambda t: export_conversation(t, "json"), turns, exported, **private)
        documents_tab.select(lambda: (document_rows(settings), gr.Dropdown(choices=document_choices(settings))),
                             None, [table, doc_menu], show_progress="hidden", **private)  # a quick read: no overlay

        def offered_backends():
            names = backends(settings)
            return gr.Dropdown(choices=names, value=settings.backend if settings.backend in names else names[0])

        demo.load(offered_backends, None, backend, **private)
        demo.load(lambda: filter_menus(settings), None, [doc_filter, place_filter, language_filter], **private)
        demo.load(lambda s: open_conversation(settings, s, None), store, [chatbot, messages, turns, store, past],
                  **private)

        def chat(question: str) -> tuple[str, list[dict]]:
            """Answer one question: the answer text with [n] markers, and its citations."""
            if not (question or "").strip():
                raise gr.Error("the question is empty")
            try:
                answer = assistant_for(settings).ask(question)
            except Exception as exc:
                log.exception("API question %r failed", question)
                raise gr.Error(user_message(exc)) from None
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
