"""Bad inputs, generated on demand: each kind is a file, folder or URL that `kvisa add` must refuse with
one line, a non-zero exit, and the index exactly as it was. README.md beside this file lists the
message each kind gets."""

from __future__ import annotations

import io
import os
import socket
import time
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens once the socket is closed


def _docx(extra: dict[str, bytes] | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("The K visa is new.")
    plain = io.BytesIO()
    document.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def _pdf(text: bool = True, password: str = "") -> bytes:
    from pypdf import PdfWriter
    from reportlab.pdfgen import canvas

    page = io.BytesIO()
    drawing = canvas.Canvas(page)
    if text:
        drawing.drawString(72, 720, "The K visa is new.")
    else:
        drawing.rect(72, 600, 200, 100, fill=1)  # a page that is only a picture
    drawing.showPage()
    drawing.save()
    if not password:
        return page.getvalue()
    writer = PdfWriter(clone_from=io.BytesIO(page.getvalue()))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


FILES: dict[str, tuple[str, bytes]] = {
    "empty file": ("empty.txt", b""),
    "only white space": ("blank.md", b"  \n\t\n\u3000".replace(b"\u3000", "\u3000".encode())),
    "binary file named .txt": ("photo.txt", bytes(range(256)) * 40),
    "NUL bytes in text": ("nul.md", b"# Note\n\nThe K visa\x00 is new.\n" * 10),
    "control characters": ("controls.txt", bytes(range(1, 9)) * 200 + b"The K visa."),
    "undecodable bytes": ("latin.txt", "Caf\u00e9 visa fee: 100 \u20ac.".encode("cp1252")),
    "UTF-16 without a BOM": ("utf16.txt", "The K visa is new, and it needs no employer.".encode("utf-16-le")),
    "unsupported extension": ("notes.rtf", b"{\\rtf1 The K visa}"),
    "no extension": ("README-notes", b"The K visa is new."),
    "malformed PDF": ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage\n%%EOF"),
    "image renamed .pdf": ("scan.pdf", b"\x89PNG\r\n\x1a\n" + bytes(200)),
    "malformed DOCX": ("broken.docx", b"PK\x03\x04 this is not really a zip archive"),
    "deeply nested HTML": ("nested.html", ("<html><body>" + "<div>" * 5000 + "The K visa." + "</div>" * 5000
                                           + "</body></html>").encode()),
    "HTML that is all script": ("script.html", b"<html><head><script>var a = 1;</script></head><body>"
                                               b"<script>document.write('The K visa')</script></body></html>"),
    "malformed front matter": ("bad-front.md", b"---\ntitle: [unclosed\n---\n\n# Note\n\nThe K visa is new.\n"),
    "only front matter": ("front-only.md", b"---\ntitle: Nothing here\n---\n"),
}


def make(kind: str, folder: Path, site: str) -> tuple[str, dict[str, str]]:
    """The argument for one kind of bad input (created in `folder`), and any extra environment.
    `site` is a local web server serving the routes of BadSite."""
    local = {"KVISA_ALLOW_PRIVATE_URLS": "true"}  # the test site is on 127.0.0.1
    if kind in FILES:
        name, data = FILES[kind]
        (folder / name).write_bytes(data)
        return str(folder / name), {}
    made: dict[str, tuple[str, bytes | None, dict[str, str]]] = {
        "file over the size limit": ("huge.md", b"The K visa is new. " * 60_000, {"KVISA_MAX_FILE_MB": "0.5"}),
        "50 MB single-line file": ("one-line.txt", b"visa " * (10 * 2**20), {}),
        "DOCX zip bomb": ("bomb.docx", _docx({"word/media/padding.bin": bytes(400 * 2**20)}), {}),
        "PDF with no text layer": ("picture.pdf", _pdf(text=False), {}),
        "encrypted PDF": ("locked.pdf", _pdf(password="s3cret"), {}),
    }
    if kind in made:
        name, data, env = made[kind]
        (folder / name).write_bytes(data)
        return str(folder / name), env
    if kind == "missing path":
        return str(folder / "no-such-file.md"), {}
    if kind == "FIFO":
        os.mkfifo(folder / "pipe.txt")
        return str(folder / "pipe.txt"), {}
    if kind == "device file":
        return "/dev/zero", {}
    if kind == "symlink out of its folder":
        inner = folder / "linked"
        inner.mkdir()
        (inner / "secret.txt").symlink_to("/etc/hostname")
        return str(inner), {}
    if kind == "private-address URL":  # refused before any connection: no opt-in
        return f"http://127.0.0.1:{closed_port()}/k-visa.html", {}
    if kind == "unreachable URL":
        return f"http://127.0.0.1:{closed_port()}/k-visa.html", local
    if kind == "not an http URL":
        return "ftp://127.0.0.1/k-visa.txt", {}
    routes = {"URL answering 404": "/missing.html", "URL that redirects forever": "/loop",
              "URL that never ends": "/endless.html", "URL with a wrong content type": "/image.html"}
    env = {**local, "KVISA_URL_TIMEOUT_S": "2"} if kind == "URL that never ends" else local
    return f"{site}{routes[kind]}", env


KINDS = [*FILES, "file over the size limit", "50 MB single-line file", "DOCX zip bomb", "PDF with no text layer",
         "encrypted PDF", "missing path", "FIFO", "device file", "symlink out of its folder", "private-address URL",
         "unreachable URL", "not an http URL", "URL answering 404", "URL that redirects forever",
         "URL that never ends", "URL with a wrong content type"]


class BadSite(BaseHTTPRequestHandler):
    """Pages that misbehave: a redirect loop, a page without end, an image that calls itself HTML."""

    def do_GET(self) -> None:
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif self.path == "/endless.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"<p>The K visa, again.</p>\n")
                    self.wfile.flush()
                    time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path == "/image.html":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(b"\x89PNG\r\n\x1a\n" + bytes(100))
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args) -> None:
        pass
