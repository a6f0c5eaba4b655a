"""The documents tab: list the index, add files or a URL, remove a document; one message per source."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from ingest.documents import IngestError
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.pipeline import IngestReport, ingest_sources, ingest_upload, list_documents, remove_document
from kvisa.settings import Settings
from rag.export import first_url
from ui.chat import Waiting, queued_note, sent_js, session_of

if TYPE_CHECKING:
    from ingest.manifest import ManifestEntry

log = logging.getLogger(__name__)

HEADERS = ["doc_id", "Title", "Language", "Chunks", "Flagged", "Source"]
# One writer at a time: uploads, URLs and removals all rewrite the manifest.
_WRITE_LOCK = threading.Lock()


def shown_source(entry: ManifestEntry) -> str:
    """The document's official URL, else its web address, else its file name: never a server path."""
    url = first_url(entry.source_url) or first_url(entry.source)
    return url or Path(entry.source).name


def document_rows(settings: Settings) -> list[list[object]]:
    """One table row per ingested document."""
    return [[e.doc_id, e.title, e.language, e.chunks, e.flagged, shown_source(e)] for e in list_documents(settings)]


def in_corpus(entry: ManifestEntry, settings: Settings) -> bool:
    """Whether the document was ingested from the corpus folder (so `kvisa ingest` adds it again)."""
    try:
        return Path(entry.source).resolve().is_relative_to(settings.corpus_dir.resolve())
    except (OSError, ValueError):
        return False


def removal_question(doc_id: str | None, settings: Settings) -> str:
    """What the confirmation asks before a removal; empty when there is nothing to remove."""
    entry = next((e for e in list_documents(settings) if e.doc_id == doc_id), None)
    if entry is None:
        return ""
    note = (" It comes from the corpus folder: the next `kvisa ingest` adds it back." if in_corpus(entry, settings)
            else " It can only come back by adding it again.")
    return f"**Remove “{entry.title}” (`{entry.doc_id}`) from the index?**{note}"


def document_choices(settings: Settings) -> list[tuple[str, str]]:
    """(label, doc_id) pairs for the remove menu."""
    return [(f"{e.title} ({e.doc_id})", e.doc_id) for e in list_documents(settings)]


def _outcome(report: IngestReport, name: str, settings: Settings) -> str:
    if report.added or report.updated:
        doc_id = (report.added or report.updated)[0]
        verb = "added" if report.added else "updated"
        entry = next((e for e in list_documents(settings) if e.doc_id == doc_id), None)
        n, flagged = (entry.chunks, entry.flagged) if entry else (0, 0)
        note = (f" {flagged} passage{'' if flagged == 1 else 's'} that address{'es' if flagged == 1 else ''} an "
                "assistant will never be used in answers." if flagged else "")
        return f"✓ {name}: {verb} as `{doc_id}` ({n} chunk{'' if n == 1 else 's'}); ask about it now.{note}"
    if report.unchanged:
        return f"✓ {name}: already in the index as `{report.unchanged[0]}` (unchanged)."
    return f"✗ {name}: nothing was added."


def add_upload(path: str | os.PathLike[str], settings: Settings) -> str:
    """Ingest one uploaded file (a server-side temp path); returns one ✓/✗ line, never raises.

    Only the base name travels on, to choose the type and the doc_id; it is never used as a path.
    """
    name = Path(path).name
    try:
        size = os.path.getsize(path)
        if size > settings.max_bytes:
            return f"✗ {name}: file is {size / 2**20:.1f} MiB, over the {settings.max_file_mb:g} MiB limit"
        data = Path(path).read_bytes()
        with _WRITE_LOCK:
            report = ingest_upload(data, name, settings)
        return _outcome(report, name, settings)
    except IngestError as exc:
        return f"✗ {exc}"
    except Exception:  # the user gets one line; the trace goes to the server log
        log.exception("upload of %s failed", name)
        return f"✗ {name}: could not be added (internal error; the index is unchanged)"


def add_url(url: str, settings: Settings) -> str:
    """Fetch and ingest one http(s) URL; returns one ✓/✗ line, never raises."""
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")):
        return "✗ enter an http:// or https:// URL"
    try:
        with _WRITE_LOCK:
            report = ingest_sources([url], settings, progress=False)
    except IngestError as exc:
        return f"✗ {exc}"
    except Exception:
        log.exception("adding %s failed", url)
        return f"✗ {url}: could not be added (internal error; the index is unchanged)"
    if report.errors:
        return "\n".join(f"✗ {line}" for line in report.errors)
    return _outcome(report, url, settings)


def remove(doc_id: str | None, settings: Settings) -> str:
    """Remove one document; returns one ✓/✗ line."""
    if not doc_id:
        return "✗ choose a document to remove"
    try:
        with _WRITE_LOCK:
            remove_document(doc_id, settings)
    except IngestError as exc:
        return f"✗ {exc}"
    except Exception:
        log.exception("removing %s failed", doc_id)
        return f"✗ {doc_id}: could not be removed (internal error)"
    return f"✓ removed `{doc_id}`"


def build_documents_tab(settings: Settings) -> tuple[gr.Dataframe, gr.Dropdown]:
    """The tab's components and events; call inside a `gr.Tab` of the app. Returns table and menu."""
    private = {"api_visibility": "private"}
    gr.Markdown(f"Files: {', '.join(SUPPORTED_SUFFIXES)}, at most {settings.max_file_mb:g} MiB each. "
                "A document added here is answerable in your next question.")
    with gr.Row():
        with gr.Column():
            files = gr.File(label="Upload files", file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                            type="filepath", elem_id="kv-upload", height=170)
            add_files_btn = gr.Button("Add files", variant="primary")
        with gr.Column():
            url = gr.Textbox(label="Or add a web page", placeholder="https://…", elem_id="kv-url")
            add_url_btn = gr.Button("Add URL", elem_id="kv-url-add")
            doc_menu = gr.Dropdown(label="Remove a document", choices=document_choices(settings), value=None)
            remove_btn = gr.Button("Remove document", variant="stop")
            with gr.Group(visible=False, elem_id="kv-confirm") as confirm:
                confirm_text = gr.Markdown()
                with gr.Row():
                    yes_btn = gr.Button("Yes, remove it", variant="stop", size="sm")
                    no_btn = gr.Button("Cancel", size="sm")
    status = gr.Markdown(elem_classes=["kv-status"], elem_id="kv-doc-status")
    table = gr.Dataframe(headers=HEADERS, value=document_rows(settings), interactive=False, wrap=True,
                         label="Documents in the index", elem_id="kv-doc-table",
                         column_widths=["200px", "300px", "90px", "80px", "80px", "260px"])
    waiting = Waiting()

    def refreshed(message: str) -> tuple[str, list[list[object]], gr.Dropdown]:
        return message, document_rows(settings), gr.Dropdown(choices=document_choices(settings), value=None)

    def on_files(paths: list[str] | None, progress: gr.Progress = gr.Progress()):
        paths = paths or []
        if not paths:
            return (*refreshed("✗ choose one or more files first"), None)
        lines = []
        for i, path in enumerate(paths):
            progress((i, len(paths)), desc=f"Adding {Path(path).name}")
            lines.append(add_upload(path, settings))
        return (*refreshed("\n\n".join(lines)), None)

    def take_url(address: str, request: gr.Request) -> str:
        """The status; the URL is queued for `on_url`, and one sent while another is fetched says so. The
        page script empties the field as the URL is sent (ui/assets.py)."""
        address = (address or "").strip()
        if not address:
            return "✗ enter an http:// or https:// URL"
        return queued_note(waiting.put(session_of(request), address), f"{address} is added")

    def on_url(request: gr.Request, progress: gr.Progress = gr.Progress()):
        """Add the session's queued URLs in order; one message line each."""
        key = session_of(request)
        lines = []
        while (address := waiting.take(key)) is not None:
            try:
                progress(0, desc=f"Fetching {address}")
                lines.append(add_url(address, settings))
            finally:
                waiting.done(key)
        return refreshed("\n\n".join(lines)) if lines else (gr.skip(), gr.skip(), gr.skip())

    def ask_removal(doc_id: str | None):
        question = removal_question(doc_id, settings)
        if not question:
            return gr.Group(visible=False), "", "✗ choose a document to remove"
        return gr.Group(visible=True), question, ""

    def on_remove(doc_id: str | None):
        return (gr.Group(visible=False), *refreshed(remove(doc_id, settings)))

    outputs = [status, table, doc_menu]
    add_files_btn.click(on_files, [files], [*outputs, files], **private)
    # "multiple": a URL added while another is fetched is queued (one writer at a time), never dropped.
    for trigger in (add_url_btn.click, url.submit):
        trigger(take_url, [url], [status], js=sent_js("kv-url"), queue=False, trigger_mode="multiple",
                **private).then(
            on_url, None, outputs, trigger_mode="multiple", concurrency_id="write", concurrency_limit=1,
            **private)
    remove_btn.click(ask_removal, [doc_menu], [confirm, confirm_text, status], queue=False, **private)
    no_btn.click(lambda: gr.Group(visible=False), None, confirm, queue=False, **private)
    yes_btn.click(on_remove, [doc_menu], [confirm, *outputs], **private)
    doc_menu.change(lambda: gr.Group(visible=False), None, confirm, queue=False, **private)
    return table, doc_menu
