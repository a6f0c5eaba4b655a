"""The `kvisa` command line: ingest, add, docs, ask, eval and chat."""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import typer

from ingest.documents import IngestError
from kvisa.settings import Settings, get_settings
from rag.types import Answer, ComparisonTable, TableCell

app = typer.Typer(help="kvisa: cited answers about China's K visa and US H-1B policy.", no_args_is_help=True,
                  context_settings={"help_option_names": ["-h", "--help"]}, pretty_exceptions_enable=False)
docs_app = typer.Typer(help="List, remove or sweep ingested documents.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")
gold_app = typer.Typer(help="Make gold Q&A items.", no_args_is_help=True)
app.add_typer(gold_app, name="gold")


def fail(message: str, code: int = 1) -> None:
    """Print one line on stderr and exit non-zero."""
    typer.echo(f"kvisa: error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic's message is many lines; the user needs the first
        fail(f"bad settings: {str(exc).splitlines()[0]}")
        raise


def _run_ingest(sources: list[str], sync: bool) -> None:
    from ingest.pipeline import ingest_sources

    settings = _settings()
    started = time.perf_counter()
    try:
        report = ingest_sources(sources, settings, sync=sync, progress=True)
    except IngestError as exc:
        fail(str(exc))
        return
    for line in report.errors:
        typer.echo(f"kvisa: error: {line}", err=True)
    typer.echo(
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"removed {len(report.removed)}; {report.chunks_written} chunks written "
        f"in {time.perf_counter() - started:.1f} s"
    )
    from ingest.pipeline import list_documents

    written = set(report.added) | set(report.updated)
    for e in list_documents(settings):
        if e.doc_id in written and e.flagged:
            typer.echo(f"{e.doc_id}: {e.flagged} passage(s) address an assistant; they will never be used in answers")
    if report.added or report.updated or report.removed:
        _refresh_lexical(settings)
    if report.errors:
        raise typer.Exit(1)


def _refresh_lexical(settings: Settings) -> None:
    """Save the lexical index of what was just written, so the next start reads it instead of tokenising."""
    from rag.retrieve import refresh_lexical_index

    try:
        refresh_lexical_index(settings)
    except Exception as exc:  # only a cache: the next question builds it instead
        typer.echo(f"kvisa: warning: lexical index not saved ({str(exc).splitlines()[0]})", err=True)


@app.command()
def ingest(
    sources: list[str] = typer.Argument(None, help="Files, folders or http(s) URLs (default: the corpus folder)."),
    sync: bool = typer.Option(False, "--sync", help="Also remove documents whose files are gone from the folders."),
) -> None:
    """Ingest documents into the index; unchanged documents are skipped.

    Example: kvisa ingest            (the corpus folder)
             kvisa ingest corpus/ --sync
    """
    _run_ingest(sources or [str(_settings().corpus_dir)], sync)


@app.command()
def add(sources: list[str] = typer.Argument(..., help="Files or http(s) URLs to add.")) -> None:
    """Add one or more files or URLs to the index.

    Example: kvisa add notes.md https://example.org/policy.html
    """
    _run_ingest(sources, sync=False)


@docs_app.command("list")
def docs_list(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """List the ingested documents.  Example: kvisa docs list --json"""
    from dataclasses import asdict

    from ingest.pipeline import list_documents

    try:
        entries = list_documents(_settings())
    except IngestError as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=1))
        return
    if not entries:
        typer.echo("no documents; run 'kvisa ingest'")
    for e in entries:
        flagged = f", {e.flagged} flagged (addressed to an assistant; never used)" if e.flagged else ""
        typer.echo(f"{e.doc_id}  [{e.language}, {e.chunks} chunks{flagged}]  {e.title}\n    {e.source}")


@docs_app.command("sweep")
def docs_sweep() -> None:
    """Delete every stored chunk and unit the manifest does not list (reads the whole index; every ingest
    already sweeps what interrupted writes left).  Example: kvisa docs sweep"""
    from ingest.pipeline import sweep_index

    try:
        removed = sweep_index(_settings())
    except IngestError as exc:
        fail(str(exc))
        return
    typer.echo(f"swept {removed} chunks and units")


@docs_app.command("remove")
def docs_remove(doc_id: str = typer.Argument(..., help="The doc_id shown by 'kvisa docs list'.")) -> None:
    """Remove one document and all its chunks.  Example: kvisa docs remove my-notes"""
    from ingest.pipeline import remove_document

    try:
        remove_document(doc_id, _settings())
    except IngestError as exc:
        fail(str(exc))
    _refresh_lexical(_settings())
    typer.echo(f"removed {doc_id}")


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, in English or Chinese."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    backend: str = typer.Option(None, "--backend", help="extractive (default), llamacpp or openai."),
    top_k: int = typer.Option(None, "--top-k", min=1, max=30, help="Passages to retrieve."),
    doc: str = typer.Option(None, "--doc", help="Only this doc_id."),
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="Only US or PRC documents."),
    language: str = typer.Option(None, "--language", help="Only documents in this language (en, zh)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print Markdown: the answer, then its sources."),
) -> None:
    """Answer a question from the corpus, with numbered citations.

    Example: kvisa ask "Does the K visa require an employer?"
             kvisa ask "K字签证发给什么人？" --json
             kvisa ask "What is the K visa?" --markdown > answer.md
    """
    from ingest.pipeline import list_documents
    from rag.assistant import BackendUnavailable, get_assistant
    from rag.retrieve import Filters

    settings = _settings()
    if not list_documents(settings):
        fail("the index is empty; run 'kvisa ingest' first")
    if backend and backend not in ("extractive", "llamacpp", "openai"):
        fail(f"unknown backend {backend!r}; use extractive, llamacpp or openai")
    if not question.strip():
        fail("the question is empty")
    try:
        answer = get_assistant(settings).ask(
            question, backend=backend, top_k=top_k,
            filters=Filters(doc_id=doc, jurisdiction=jurisdiction, language=language),
        )
    except (BackendUnavailable, IngestError) as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
        return
    if markdown:
        from rag.export import answer_markdown

        typer.echo(answer_markdown(answer))
        return
    typer.echo(answer_text(answer))


def answer_text(answer: Answer) -> str:
    """The plain-text `kvisa ask` output: the answer, its comparison table if any, then the numbered sources."""
    parts = [answer.text]
    if answer.table and answer.table.rows:
        parts.append("\n" + table_text(answer.table))
    if answer.citations:
        parts.append("\nSources:")
    for c in answer.citations:
        parts.append(f"[{c.n}] {c.title}" + (f" — {c.section}" if c.section else ""))
        if c.source_url:
            parts.append(f"    {c.source_url}")
    return "\n".join(parts)


# Wrapping points: a space, or between any two Chinese characters (which take two terminal columns).
_WIDE = "\u2e80-\u9fff\u3000-\u303f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_PIECES = re.compile(rf"\s+|[{_WIDE}]|[^\s{_WIDE}]+")


def _columns(text: str) -> int:
    """Terminal columns the text takes (East Asian wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_cell(text: str, width: int) -> list[str]:
    """Lines of at most `width` terminal columns, broken at spaces or between Chinese characters."""
    lines, line = [], ""
    for piece in _PIECES.findall(text):
        if piece.isspace():
            line += " " if line else ""
            continue
        if line.strip() and _columns(line + piece) > width:
            lines.append(line.rstrip())
            line = ""
        while _columns(piece) > width:  # a word longer than the column (a URL): cut it
            cut = next((i for i in range(len(piece) - 1, 1, -1) if _columns(piece[:i]) <= width), 1)
            lines.append(piece[:cut])
            piece = piece[cut:]
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def table_text(table: ComparisonTable, cell_width: int = 40, aspect_width: int = 24) -> str:
    """A comparison table as aligned plain-text columns; each cell ends with its [n] marker."""
    from ui.cards import cell_text  # the same cell text as the web chat shows (ui.cards does not load gradio)

    subjects = max(len(table.columns) - 1, max(len(row.cells) for row in table.rows))
    header = [*table.columns, *[""] * (subjects + 1 - len(table.columns))]
    grid = [[wrap_cell(c, aspect_width if i == 0 else cell_width) for i, c in enumerate(header)]]
    for row in table.rows:
        cells = [*row.cells, *[TableCell("")] * (subjects - len(row.cells))]
        grid.append([wrap_cell(row.aspect, aspect_width)] + [wrap_cell(cell_text(c), cell_width) for c in cells])
    widths = [max(_columns(line) for row in grid for line in row[i]) for i in range(subjects + 1)]

    def lines_of(row: list[list[str]]) -> list[str]:
        return [" | ".join(_pad(cell[k] if k < len(cell) else "", widths[i]) for i, cell in enumerate(row)).rstrip()
                for k in range(max(len(cell) for cell in row))]

    out = [*lines_of(grid[0]), "-+-".join("-" * w for w in widths)]
    for row in grid[1:]:
        out += lines_of(row)
    return "\n".join(out)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _columns(text))


@app.command()
def chat(
    host: str = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1; others need KVISA_AUTH)."),
    port: int = typer.Option(None, "--port", help="Port (default 7860)."),
    no_ingest: bool = typer.Option(False, "--no-ingest", help="Serve the index as it is, without ingesting corpus/."),
) -> None:
    """Open the web chat; ingests the corpus folder first when it is new or changed.

    Example: kvisa chat                 (http://127.0.0.1:7860)
             KVISA_AUTH=me:secret kvisa chat --host 0.0.0.0
    """
    from ui.app import BindError, check_bind, launch

    settings = _settings()
    try:
        check_bind(host or settings.host, settings.auth)  # before the slow ingest
    except BindError as exc:
        fail(str(exc))
    if not no_ingest:
        from ingest.pipeline import ingest_sources

        report = ingest_sources([str(settings.corpus_dir)], settings, progress=True)  # skips unchanged docs
        for line in report.errors:
            typer.echo(f"kvisa: warning: {line}", err=True)
        typer.echo(f"index: {len(report.added) + len(report.updated)} documents ingested, "
                   f"{len(report.unchanged)} unchanged")
    launch(settings, host, port)


@gold_app.command("from-feedback")
def gold_from_feedback(out: Path = typer.Option(..., "--out", help="Gold JSONL file to write.")) -> None:
    """Write gold-format candidates from the chat's 👍/👎 feedback (KVISA_HOME/feedback.jsonl).

    Each rated question becomes one item. A 👎 "should have refused" is a finished unanswerable item; the
    others are drafts ("draft": true) whose answer, key facts and sources a person completes from the
    documents; `kvisa eval` refuses a draft until then.

    Example: kvisa gold from-feedback --out eval/gold_feedback.jsonl
    """
    from eval.gold import GoldError, load_gold
    from kvisa.feedback import feedback_path, gold_candidates, read_feedback

    settings = _settings()
    feedbacks = read_feedback(settings)
    if not feedbacks:
        fail(f"no feedback yet ({feedback_path(settings)} is missing or empty)")
    items = gold_candidates(feedbacks)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    try:
        load_gold(out, drafts=True)  # the very loader kvisa eval uses, drafts allowed
    except GoldError as exc:
        fail(f"the candidates do not load: {exc}")
    drafts = sum(1 for i in items if i.get("draft"))
    typer.echo(f"{len(items)} candidates ({drafts} drafts to complete) -> {out}")


@app.command()
def serve(
    host: str = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1; others need KVISA_AUTH)."),
    port: int = typer.Option(None, "--port", help="Port (default 7860)."),
) -> None:
    """Serve only the OpenAI-compatible API (/v1/models, /v1/chat/completions), without the web page.

    Example: kvisa serve --port 8000
             then any OpenAI client with base_url http://127.0.0.1:8000/v1 and model "kvisa"
    """
    import uvicorn

    from ingest.pipeline import list_documents
    from rag.assistant import get_assistant
    from ui.app import BindError, check_bind
    from ui.openai_api import api_app

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    try:
        credentials = check_bind(host, settings.auth)
    except BindError as exc:
        fail(str(exc))
        return
    if not list_documents(settings):
        fail("the index is empty; run 'kvisa ingest' first")
    get_assistant(settings).warm_up()  # the first request is then as fast as the others
    typer.echo(f"kvisa serve: http://{host}:{port}/v1  (model \"kvisa\"; Ctrl-C stops it)")
    uvicorn.run(api_app(settings, credentials), host=host, port=port, log_level="warning")


@app.command("eval")
def eval_command(
    gold: list[str] = typer.Option(None, "--gold", help="Gold Q&A file (JSON lines, see eval/GOLD_FORMAT.md); "
                                   "repeat for several. Default: every eval/gold_*.jsonl of the project."),
    out: str = typer.Option(None, "--out", help="Folder for results.json, report.md and plots/ (default: a new "
                            "KVISA_HOME/evals/<time>-<gold>/, where the web app's Evaluation tab finds it)."),
    list_runs: bool = typer.Option(False, "--list", help="List the stored runs of KVISA_HOME/evals/ and exit."),
    split: str = typer.Option("all", "--split", help="Only the train or test items of the gold files, or all."),
    backend: str = typer.Option(None, "--backend", help="extractive (default), llamacpp or openai."),
    baseline: bool = typer.Option(False, "--baseline", help="Also run the naive LlamaIndex baseline."),
    top_k: int = typer.Option(None, "--top-k", min=1, max=30, help="Passages to retrieve."),
) -> None:
    """Evaluate kvisa on gold Q&A files and write a report with plots. Documents the gold items cite that the
    index lacks are added first from eval/docs/ when they are there.

    Example: kvisa eval --split test
             kvisa eval --gold eval/gold_dev.jsonl --gold my-gold.jsonl --out eval-out --baseline
             kvisa eval --list
    """
    from eval.gold import GoldError
    from eval.harness import SPLIT_CHOICES, EvalError, gold_paths, run_eval
    from eval.runs import new_run_dir
    from rag.assistant import BackendUnavailable

    if list_runs:
        _print_runs()
        return

    if backend and backend not in ("extractive", "llamacpp", "openai"):
        fail(f"unknown backend {backend!r}; use extractive, llamacpp or openai")
    if split not in SPLIT_CHOICES:
        fail(f"unknown split {split!r}; use {', '.join(SPLIT_CHOICES)}")
    try:
        out = out or str(new_run_dir(_settings(), gold_paths(gold or None)))
        results = run_eval(gold or None, out, _settings(), backend=backend, baseline=baseline, top_k=top_k,
                           split=split)
    except (GoldError, EvalError, IngestError, BackendUnavailable) as exc:
        fail(str(exc))
        return
    for warning in results["run"]["warnings"]:
        typer.echo(f"kvisa: warning: {warning}", err=True)
    systems = [results] + ([results["baseline"]] if baseline else [])
    for name, system in zip(results["run"]["systems"], systems, strict=True):
        s = system["summary"]
        typer.echo(f"{name}: answer_accuracy {s['answer_accuracy']}, refusal_accuracy {s['refusal_accuracy']}, "
                   f"selective_precision {s['selective_precision']}, citation_precision {s['citation_precision']}, "
                   f"hit_at_5 {s['hit_at_5']}, latency_ms_p50 {s['latency_ms_p50']}")
    styles = ", ".join(f"{name} {g['accuracy']} (n={g['n']})" for name, g in results["by_style"].items())
    typer.echo(f"accuracy by style: {styles}")
    typer.echo(f"gold: {', '.join(results['run']['gold'])} (split {split}, {results['summary']['n_items']} items)")
    typer.echo(f"wrote {out}/results.json and {out}/report.md")


def _print_runs() -> None:
    from eval.runs import list_runs

    runs = list_runs(_settings())
    if not runs:
        typer.echo("no stored runs yet (kvisa eval without --out stores one)")
    for run in runs:
        s = run.summary
        typer.echo(f"{run.name}  {'+'.join(run.gold)} ({run.split}, {run.backend}, {s['n_items']} items): "
                   f"answer_accuracy {s['answer_accuracy']}, refusal_accuracy {s['refusal_accuracy']}  {run.folder}")


def main() -> None:  # pragma: no cover - console entry point helper
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

