"""Loaders: turn a file (txt, md, html, pdf, docx) or an http(s) URL into a cleaned Document."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
from pathlib import Path
from urllib.parse import urlparse

import yaml

from ingest.clean import clean_text
from ingest.documents import Document, IngestError
from ingest.failpoints import failpoint
from ingest.fetch import fetch, too_large
from ingest.html import html_to_text
from ingest.paragraphs import LINES, MARKDOWN, MARKUP_KEY, rebuild_markdown, rebuild_plain
from kvisa.settings import Settings

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
SIDECAR_SUFFIX = ".meta.yaml"
MAX_EXPANSION = 100  # a DOCX may unzip to at most 100 times its size (or 100 MiB for small files)
_CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


def make_doc_id(name: str) -> str:
    """A safe identifier from any name: lower-case letters, digits and dashes, never a path."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80].strip("-")
    if not slug and name.strip():
        # A name without any Latin letter or digit (e.g. 签证说明.txt) still needs a stable id.
        return "doc-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    if not slug:
        raise IngestError(f"cannot derive a document id from the name {name!r}")
    return slug


def detect_language(text: str) -> str:
    """'zh' when Chinese characters dominate the letters, else 'en'."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if cjk > 0.3 * (cjk + latin) else "en"


def unsupported_type(name: str, suffix: str) -> IngestError:
    allowed = ", ".join(SUPPORTED_SUFFIXES)
    return IngestError(f"{name}: unsupported file type {suffix or '(none)'}; use one of {allowed}")


def decode_text(data: bytes, name: str, charset: str = "", detect: bool = False) -> str:
    """Strict decoding: by the declared charset when there is one, else UTF-8 (or UTF-16 with a BOM), else
    (for web pages, `detect`) by detection; binary data and bad bytes are errors."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{name}: not valid UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data[:8192]:
        raise IngestError(f"{name}: looks like a binary file, not text")
    try:
        text = _decode(data, charset, detect)
    except LookupError as exc:
        raise IngestError(f"{name}: unknown character set {charset!r}") from exc
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: not valid {exc.encoding.upper()} text (bad byte at offset {exc.start})") from exc
    controls = sum(1 for ch in text[:8192] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > 0.05 * max(1, len(text[:8192])):
        raise IngestError(f"{name}: looks like a binary file, not text")
    return text


def _decode(data: bytes, charset: str, detect: bool) -> str:
    if charset and codecs.lookup(charset).name not in ("utf-8", "ascii"):
        # GB2312 pages routinely use GBK characters, and GBK ones GB18030's: read each by its superset.
        wider = {"gb2312": "gbk", "gbk": "gb18030"}.get(codecs.lookup(charset).name, charset)
        return data.decode(wider)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        chinese = _legacy_chinese(data)
        if chinese is not None:
            return chinese
        if not detect:
            raise
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None or best.encoding in ("utf_8", "ascii") or best.chaos > MAX_CHAOS:
            raise
        return str(best)


def _legacy_chinese(data: bytes) -> str | None:
    """Chinese text saved as GBK (what Windows long wrote for "ANSI"), or None. It must decode strictly and
    nearly all its non-ASCII characters must be common ones (GB2312): Latin-1 or cp1252 bytes read as GBK
    rarely decode, and when they do they land in the rare extension rows."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    wide = [ch for ch in text if ord(ch) > 127]
    common = sum(1 for ch in wide if _in_gb2312(ch))
    return text if wide and common >= 0.95 * len(wide) else None


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# How much mess (charset-normalizer's "chaos") a detected decoding may show before the page is refused.
MAX_CHAOS = 0.2


def declared_charset(data: bytes) -> str:
    """The charset an HTML page declares in a <meta> tag near its start; "" when none."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "ignore").lower() if match else ""


def split_front_matter(text: str, name: str = "") -> tuple[dict[str, str], str]:
    """YAML front matter (as strings) and the body after it."""
    text = text.replace("\r\n", "\n")  # files saved on Windows still have front matter
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        where = f"{name}: " if name else ""
        raise IngestError(f"{where}front matter is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise IngestError("front matter is not a mapping of keys to values")
    return {str(k): str(v) for k, v in data.items() if v is not None}, text[match.end() :]


def _pdf_to_text(data: bytes, name: str) -> tuple[str, list[int]]:
    """Cleaned text of a PDF's text layer, pages joined by blank lines, and each page's start offset."""
    from pypdf import PdfReader

    if not data.startswith(b"%PDF"):
        raise IngestError(f"{name}: malformed PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone still lets us read
            raise IngestError(f"{name}: encrypted PDF; remove its password first")
        # Each page is rebuilt on its own, so every page start stays an exact offset.
        pages = [clean_text(page.extract_text() or "", rebuild_plain) for page in reader.pages]
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (NotImplementedError, LimitReachedError...)
        raise IngestError(f"{name}: malformed PDF ({type(exc).__name__})") from exc
    if not any(pages):
        raise IngestError(f"{name}: no extractable text (its pages are images; run OCR on it first)")
    text, starts = "", []
    for page in pages:
        starts.append(len(text) + (2 if text else 0))
        if page:
            text = f"{text}\n\n{page}" if text else page
    return text, starts


def _docx_to_text(data: bytes, name: str) -> str:
    import zipfile

    import docx
    from docx.table import Table

    try:
        expanded = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(f"{name}: malformed DOCX file (not a zip archive)") from exc
    if expanded > MAX_EXPANSION * max(len(data), 1 << 20):  # a zip bomb: tiny file, huge contents
        raise IngestError(f"{name}: DOCX expands to {expanded / 2**20:.0f} MiB, too much for its size")
    try:
        document = docx.Document(io.BytesIO(data))
        lines = []
        # Paragraphs and tables in document order, so a table stays under its own heading.
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend("| " + " | ".join(c.text.strip() for c in row.cells) + " |" for row in block.rows)
                continue
            text = block.text.strip()
            style = (block.style.name or "").lower() if block.style is not None else ""
            if not text:
                continue
            level = re.match(r"heading (\d)", style)
            heading = "#" * int(level.group(1)) if level else ("#" if style == "title" else "")
            lines.append(f"{heading} {text}" if heading else text)
    except Exception as exc:  # damaged files raise BadZipFile, zlib.error, KeyError, lxml errors...
        raise IngestError(f"{name}: malformed DOCX file ({type(exc).__name__})") from exc
    return "\n".join(lines)


def _title_from(text: str, fallback: str) -> str:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= 120 else line[:117].rsplit(" ", 1)[0] + "..."
    return fallback


def parse_bytes(data: bytes, suffix: str, name: str, source: str, doc_id: str, extra: dict[str, str],
                charset: str = "") -> Document:
    """Build a Document from raw bytes of a known type. Raises IngestError on anything unusable.
    `charset` is what the server declared; an HTML page may also declare its own."""
    if not data.strip():
        raise IngestError(f"{name}: file is empty")
    meta = dict(extra)
    page_starts: list[int] = []
    html_title = ""
    rebuild = None
    if suffix in (".txt", ".md", ".markdown"):
        body = decode_text(data, name, charset)
        rebuild = rebuild_plain
        if suffix != ".txt":
            front, body = split_front_matter(body, name)
            meta = {**front, **meta}
            rebuild = rebuild_markdown
    elif suffix in (".html", ".htm"):
        # Decoding first refuses binary or undecodable bytes before parsing.
        text = decode_text(data, name, charset or declared_charset(data), detect=True)
        try:
            body, html_title = html_to_text(text)
        except ValueError as exc:  # a page too deeply nested to parse in reasonable time
            raise IngestError(f"{name}: {exc}") from exc
    elif suffix == ".pdf":
        body, page_starts = _pdf_to_text(data, name)  # already cleaned page by page
    elif suffix == ".docx":
        body = _docx_to_text(data, name)
    else:
        raise unsupported_type(name, suffix)
    text = body if suffix == ".pdf" else clean_text(body, rebuild)
    # How the chunker reads the text: Markdown blocks, or one block a line (what the other loaders write).
    meta[MARKUP_KEY] = MARKDOWN if rebuild is rebuild_markdown else LINES
    if not text:
        raise IngestError(f"{name}: no text left after cleaning (empty or only boilerplate)")
    language = meta.get("language") or detect_language(text)
    title = meta.get("title") or html_title or _title_from(text, doc_id)
    return Document(
        doc_id=(meta.get("doc_id") and make_doc_id(meta["doc_id"])) or doc_id,
        text=text,
        title=title,
        source=source,
        language=language,
        source_url=meta.get("source_url", source if source.startswith(("http://", "https://")) else ""),
        metadata={k: v for k, v in meta.items() if k not in ("title", "doc_id", "language", "source_url")},
        page_starts=page_starts,
    )


def load_path(path: Path, settings: Settings) -> Document:
    """Load one local file, with metadata from its front matter or a NAME.meta.yaml sidecar."""
    name = path.name
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    if not path.is_file():
        raise IngestError(f"{path}: not a regular file")
    if path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve()):
        raise IngestError(f"{path}: a symbolic link to {path.resolve()}, outside its folder; not followed")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported_type(name, suffix)
    before = path.stat()
    if before.st_size > settings.max_bytes:
        raise too_large(name, before.st_size, settings)
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    extra: dict[str, str] = {}
    if sidecar.exists():
        extra, _ = split_front_matter("---\n" + sidecar.read_text(encoding="utf-8") + "\n---\n", sidecar.name)
    data = path.read_bytes()
    failpoint("read")  # a test changes the file here
    after = path.stat()
    # A file still being written (a copy in progress, an editor saving) would be indexed half old, half new.
    if len(data) != before.st_size or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise IngestError(f"{path}: the file changed while it was being read; add it again once it is complete")
    # An absolute source, so `--sync` recognises the file from any working directory.
    return parse_bytes(data, suffix, name, str(path.resolve()), make_doc_id(path.stem), extra)


def load_bytes(data: bytes, file_name: str, settings: Settings) -> Document:
    """Load an uploaded file. The name only chooses the type and the id; it is never used as a path."""
    base = re.split(r"[\\/]", file_name)[-1]
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported_type(base or "upload", suffix)
    if len(data) > settings.max_bytes:
        raise too_large(base, len(data), settings)
    return parse_bytes(data, suffix, base, f"upload:{base}", make_doc_id(Path(base).stem), {})


def load_url(url: str, settings: Settings) -> Document:
    """Fetch an http(s) URL (public addresses only, unless allowed; time and size limits) and parse it by its
    content type and declared charset."""
    fetched = fetch(url, settings)  # refuses anything but an http(s) URL to a public address first
    suffix = _CONTENT_TYPES.get(fetched.content_type)
    if suffix is None:
        raise IngestError(f"{url}: unsupported content type {fetched.content_type or '(none)'}")
    # The query is part of the id: page?article_id=1 and page?article_id=2 are different documents.
    parsed = urlparse(url)
    doc_id = make_doc_id(parsed.netloc + re.sub(r"\.[A-Za-z0-9]{1,5}$", "", parsed.path) + "-" + parsed.query)
    return parse_bytes(fetched.data, suffix, url, url, doc_id, {}, fetched.charset)
