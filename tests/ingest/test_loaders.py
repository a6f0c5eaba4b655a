"""Loaders: HTML main text, PDF pages, DOCX headings, Markdown front matter and http(s) URLs."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import docx
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ingest.documents import IngestError
from ingest.loaders import load_path, load_url
from ingest.pipeline import expand_sources, ingest_sources
from ingest.store import open_store
from kvisa.settings import Settings
from tests.conftest import http_site

PAGE = """<!doctype html>
<html><head><title>K visa explained</title>
<style>body { color: navyblue; } .menu { display: none; }</style>
<script>var trackingPixel = "analyticsBeacon"; document.write("scriptInjectedText");</script>
</head><body>
<header><a href="/">Home banner</a></header>
<nav><ul><li><a href="/a">Navigation menu item</a></li><li><a href="/b">Another nav link</a></li></ul></nav>
<main>
<h1>K visa explained</h1>
<p>The K visa is a new ordinary visa category for young foreign science and technology talent.</p>
<h2>Who can apply</h2>
<ul><li>Graduates of well-known universities.</li><li>Young researchers in STEM fields.</li></ul>
<table><tr><th>Item</th><th>Rule</th></tr><tr><td>Employer invitation</td><td>Not required</td></tr></table>
</main>
<aside>Sidebar teaser text</aside>
<footer>Footer legal text</footer>
<script>console.log("trailingScriptText")</script>
</body></html>
"""
NOISE = ("navyblue", "trackingPixel", "analyticsBeacon", "scriptInjectedText", "Home banner", "Navigation menu",
         "Another nav link", "Sidebar teaser", "Footer legal", "trailingScriptText")


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A real PDF with a text layer, one list of lines per page."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for lines in pages:
        for i, line in enumerate(lines):
            pdf.drawString(72, 800 - 20 * i, line)
        pdf.showPage()
    pdf.save()
    path.write_bytes(buffer.getvalue())
    return path


def stored_chunks(settings: Settings, doc_id: str) -> list:
    chunks = [c for c in open_store(settings).all_chunks() if c.metadata["doc_id"] == doc_id]
    return sorted(chunks, key=lambda c: c.metadata["chunk_index"])


def test_html_keeps_the_main_text_only(tmp_path: Path, tmp_settings: Settings) -> None:
    page = tmp_path / "k-visa.html"
    page.write_text(PAGE, encoding="utf-8")
    doc = load_path(page, tmp_settings)
    assert doc.title == "K visa explained"
    assert "young foreign science and technology talent" in doc.text
    assert "- Graduates of well-known universities." in doc.text
    assert "| Employer invitation | Not required |" in doc.text
    assert [n for n in NOISE if n in doc.text] == []


def test_pdf_page_numbers_land_in_chunk_metadata(tmp_path: Path, tmp_settings: Settings) -> None:
    pdf = make_pdf(tmp_path / "k-visa-notice.pdf", [
        ["K visa overview", "The K visa is for young science and technology talent from abroad."],
        ["Application process", "Applicants do not need an invitation from an employer in China."],
    ])
    report = ingest_sources([str(pdf)], tmp_settings, progress=False)
    assert report.added == ["k-visa-notice"], report.errors
    chunks = stored_chunks(tmp_settings, "k-visa-notice")
    pages = {c.metadata["page"] for c in chunks}
    assert pages == {1, 2}
    by_page = {c.metadata["page"]: c.text for c in chunks}
    assert "young science and technology talent" in by_page[1]
    assert "invitation from an employer" in by_page[2]


def test_docx_headings_become_sections(tmp_path: Path, tmp_settings: Settings) -> None:
    document = docx.Document()
    document.add_heading("H-1B notes", level=0)
    document.add_heading("Annual cap", level=1)
    document.add_paragraph("The regular cap is 65,000 new H-1B visas each fiscal year.")
    document.add_heading("Advanced degree exemption", level=2)
    document.add_paragraph("A further 20,000 are set aside for holders of a U.S. master's degree or higher.")
    path = tmp_path / "h1b-notes.docx"
    document.save(str(path))
    report = ingest_sources([str(path)], tmp_settings, progress=False)
    assert report.added == ["h1b-notes"], report.errors
    sections = {c.metadata["section"]: c.text for c in stored_chunks(tmp_settings, "h1b-notes")}
    assert sections == {
        "Annual cap": "The regular cap is 65,000 new H-1B visas each fiscal year.",
        "Annual cap > Advanced degree exemption":
            "A further 20,000 are set aside for holders of a U.S. master's degree or higher.",
    }
    assert stored_chunks(tmp_settings, "h1b-notes")[0].metadata["title"] == "H-1B notes"


def test_markdown_front_matter_becomes_document_metadata(tmp_path: Path, tmp_settings: Settings) -> None:
    note = tmp_path / "My Notes.md"
    note.write_text(
        "---\ntitle: \"K visa: my notes\"\ndoc_id: k-notes\nlanguage: en\njurisdiction: PRC\n"
        "source_url: https://example.org/k\nsource_date: 2025-10-01\n---\n\n"
        "# Heading\n\nThe K visa starts in October.\n",
        encoding="utf-8",
    )
    doc = load_path(note, tmp_settings)
    assert (doc.doc_id, doc.title, doc.language) == ("k-notes", "K visa: my notes", "en")
    assert doc.source_url == "https://example.org/k"
    assert doc.metadata["jurisdiction"] == "PRC" and doc.metadata["source_date"] == "2025-10-01"
    assert "---" not in doc.text and "source_date" not in doc.text
    assert doc.text.startswith("# Heading")


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """A real http.server on a free loopback port serving tmp_path/site; yields its base URL."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "k-visa.html").write_text(PAGE, encoding="utf-8")
    (site / "data.bin").write_bytes(b"\x00\x01binary")
    (site / "big.html").write_text("<p>" + "The K visa. " * 20_000 + "</p>", encoding="utf-8")

    class QuietHandler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

    with http_site(QuietHandler) as url:
        yield url


@pytest.fixture
def intranet_settings(tmp_settings: Settings) -> Settings:
    """The test pages are served on 127.0.0.1, which kvisa fetches only when told to (tests/ingest/test_fetch.py
    shows the refusal)."""
    return tmp_settings.model_copy(update={"allow_private_urls": True})


def test_url_ingest_keeps_the_main_text_of_a_served_page(web_server: str, intranet_settings: Settings) -> None:
    url = f"{web_server}/k-visa.html"
    report = ingest_sources([url], intranet_settings, progress=False)
    assert report.ok, report.errors
    [doc_id] = report.added
    chunks = stored_chunks(intranet_settings, doc_id)
    text = "\n".join(c.text for c in chunks)
    assert "young foreign science and technology talent" in text
    assert [n for n in NOISE if n in text] == []
    assert {c.metadata["source_url"] for c in chunks} == {url}
    assert {c.metadata["title"] for c in chunks} == {"K visa explained"}


def test_url_errors_are_one_line_ingest_errors(web_server: str, intranet_settings: Settings) -> None:
    for url, expected in [
        (f"{web_server}/missing.html", "HTTP 404"),
        (f"{web_server}/data.bin", "unsupported content type"),
        ("ftp://127.0.0.1/file.txt", "not an http(s) URL"),
    ]:
        with pytest.raises(IngestError) as caught:
            load_url(url, intranet_settings)
        assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_download_over_the_size_limit_is_refused(web_server: str, tmp_path: Path) -> None:
    small = Settings(home=tmp_path / "home", max_file_mb=0.1, allow_private_urls=True)
    with pytest.raises(IngestError, match="MiB limit"):
        load_url(f"{web_server}/big.html", small)


def test_html_text_outside_paragraphs_is_kept(tmp_path: Path, tmp_settings: Settings) -> None:
    page = tmp_path / "plain-divs.html"
    page.write_text(
        "<html><body><nav>Skip me</nav><div class='content'>"
        "<div>The K visa takes effect on <b>1 October 2025</b>.<!-- editor note --><br>No employer is needed.</div>"
        "<section><div><span>Applicants must be young STEM graduates.</span></div></section>"
        "<p>Apply at a Chinese embassy.</p></div></body></html>",
        encoding="utf-8",
    )
    assert load_path(page, tmp_settings).text.split("\n") == [
        "The K visa takes effect on 1 October 2025. No employer is needed.",
        "Applicants must be young STEM graduates.",
        "Apply at a Chinese embassy.",
    ]


def test_a_docx_table_stays_under_its_heading(tmp_path: Path, tmp_settings: Settings) -> None:
    document = docx.Document()
    document.add_heading("Fees", level=1)
    document.add_paragraph("The fees are listed below.")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip([*table.rows[0].cells, *table.rows[1].cells], ["Item", "Fee", "H-1B entry", "$100,000"],
                          strict=True):
        cell.text = text
    document.add_heading("Other rules", level=1)
    document.add_paragraph("Nothing else changes.")
    path = tmp_path / "fees.docx"
    document.save(str(path))
    assert load_path(path, tmp_settings).text.split("\n") == [
        "# Fees", "The fees are listed below.", "| Item | Fee |", "| H-1B entry | $100,000 |",
        "# Other rules", "Nothing else changes.",
    ]


def _damaged_copies(data: bytes, seed: int, count: int) -> Iterator[bytes]:
    """Truncated and byte-flipped versions of a good file, the way downloads and disks break them."""
    rng = random.Random(seed)
    for i in range(count):
        if i % 2:
            yield data[: rng.randint(10, len(data) - 1)]
        else:
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            yield bytes(damaged)


def test_damaged_pdf_and_docx_files_give_one_line_errors(tmp_path: Path, tmp_settings: Settings) -> None:
    pdf = make_pdf(tmp_path / "good.pdf", [[f"Line {i} of page {p} on the K visa." for i in range(20)]
                                           for p in range(3)]).read_bytes()
    document = docx.Document()
    for i in range(30):
        document.add_paragraph(f"Paragraph {i} on the H-1B fee.")
    buffer = io.BytesIO()
    document.save(buffer)
    for suffix, good in ((".pdf", pdf), (".docx", buffer.getvalue())):
        for n, damaged in enumerate(_damaged_copies(good, seed=7, count=60)):
            path = tmp_path / f"damaged-{n}{suffix}"
            path.write_bytes(damaged)
            try:
                load_path(path, tmp_settings)  # some damage leaves a readable file, which is fine
            except IngestError as exc:
                assert "\n" not in str(exc) and path.name in str(exc)


def test_folder_expansion_skips_readme_sidecars_and_hidden_files(tmp_path: Path) -> None:
    for name in ("a.md", "README.md", "a.meta.yaml", "._a.md", ".draft.txt", "b.txt", "c.rtf"):
        (tmp_path / name).write_bytes(b"\x00\x05Mac resource fork" if name.startswith("._") else b"text")
    assert [Path(p).name for p in expand_sources([str(tmp_path)])] == ["a.md", "b.txt"]


def test_front_matter_of_a_file_saved_with_windows_line_ends(tmp_path: Path, tmp_settings: Settings) -> None:
    note = tmp_path / "windows.md"
    note.write_bytes(b"---\r\ntitle: Windows notes\r\njurisdiction: US\r\n---\r\n\r\n# Fee\r\nThe fee is new.\r\n")
    doc = load_path(note, tmp_settings)
    assert (doc.title, doc.metadata["jurisdiction"]) == ("Windows notes", "US")
    assert doc.text == "# Fee\nThe fee is new."


def test_urls_that_differ_only_in_their_query_are_different_documents(web_server: str,
                                                                        intranet_settings: Settings) -> None:
    first = load_url(f"{web_server}/k-visa.html?article_id=3496", intranet_settings)
    second = load_url(f"{web_server}/k-visa.html?article_id=3497", intranet_settings)
    plain = load_url(f"{web_server}/k-visa.html", intranet_settings)
    assert len({first.doc_id, second.doc_id, plain.doc_id}) == 3
    assert plain.doc_id == "127-0-0-1-" + web_server.rsplit(":", 1)[1] + "-k-visa"


ARTICLE = """<!doctype html>
<html><head><title>China launches K visa</title><link rel="canonical" href="https://news.example.org/k-visa">
<script src="https://cdn.example.org/tracker.js"></script></head><body>
<header><div class="logo">Example News</div><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<article><h1>China launches K visa for young science talent</h1>
<p>China has launched a new visa category, the K visa, for young foreign professionals in science and technology.
The visa took effect on October 1, 2025, after the State Council amended the entry and exit regulations.</p>
<img src="https://cdn.example.org/photo.jpg" alt="Passport photo">
<h2>Who can apply</h2>
<p>Applicants must meet conditions set by the competent authorities:</p>
<ol><li>They must be young foreign science and technology talent.</li>
<li>They must submit supporting documents, for example:<ul><li>a degree certificate;</li>
<li>proof of research work.</li></ul></li>
<li>They do not need an invitation from a domestic employer.</li></ol>
<h2>Key facts</h2>
<table><thead><tr><th>Item</th><th>Detail</th></tr></thead>
<tbody><tr><td>Effective</td><td>1 October 2025</td></tr><tr><td>Employer needed</td><td>No</td></tr></tbody></table>
<p>Holders may take part in <em>education</em>, <strong>scientific</strong> and cultural exchanges.<br>
Officials said the move contrasts with the $100,000 fee for new H-1B petitions.</p>
</article>
<aside><h3>Related stories</h3><ul><li><a href="/a">Markets rally on rate cut hopes</a></li></ul></aside>
<footer>Copyright 2025 Example News. <a href="/privacy">Privacy policy</a></footer></body></html>
"""


def test_html_main_text_comes_from_trafilatura_with_headings_lists_and_tables(tmp_path: Path,
                                                                              tmp_settings: Settings) -> None:
    page = tmp_path / "k-visa-article.html"
    page.write_text(ARTICLE, encoding="utf-8")
    doc = load_path(page, tmp_settings)
    assert doc.title == "China launches K visa"
    lines = doc.text.split("\n")
    for line in [
        "# China launches K visa for young science talent",
        "China has launched a new visa category, the K visa, for young foreign professionals in science and "
        "technology. The visa took effect on October 1, 2025, after the State Council amended the entry and exit "
        "regulations.",
        "## Who can apply",
        "1. They must be young foreign science and technology talent.",
        "2. They must submit supporting documents, for example:",
        "- a degree certificate;",
        "- proof of research work.",
        "3. They do not need an invitation from a domestic employer.",
        "| Item | Detail |",
        "| Effective | 1 October 2025 |",
        # A <br> inside a paragraph does not cut the paragraph in two.
        "Holders may take part in education, scientific and cultural exchanges. Officials said the move contrasts "
        "with the $100,000 fee for new H-1B petitions.",
    ]:
        assert line in lines, line
    for noise in ("Example News", "cookies", "Accept all", "Home", "Markets rally", "Related stories", "Privacy"):
        assert noise not in doc.text, noise


def test_html_extraction_never_touches_the_network(tmp_path: Path, tmp_settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("HTML extraction opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    page = tmp_path / "k-visa-article.html"
    page.write_text(ARTICLE, encoding="utf-8")
    assert "Who can apply" in load_path(page, tmp_settings).text


def test_a_tiny_page_without_main_text_falls_back_to_the_plain_reader(tmp_path: Path,
                                                                      tmp_settings: Settings) -> None:
    page = tmp_path / "tiny.html"
    page.write_text("<html><body><nav>Menu</nav>Visas are issued by consulates abroad.</body></html>",
                    encoding="utf-8")
    assert load_path(page, tmp_settings).text == "Visas are issued by consulates abroad."
