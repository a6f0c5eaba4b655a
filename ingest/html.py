"""HTML main text as Markdown-like lines (trafilatura), with a simple reader for pages it finds nothing in."""

from __future__ import annotations

import logging
import re

# Containers whose loose text (outside any paragraph, list or table) is still page content.
_LOOSE = ("div", "section", "article", "dd", "dt", "figcaption")
_INLINE = frozenset("a abbr b bdi cite code data del dfn em i ins kbd mark q s small span strong sub sup time u var"
                    .split())
_HEADING_LEVEL = re.compile(r"h([1-6])")
# Blocks of trafilatura's XML that can sit inside a table cell or a list item.
_BLOCK_TAGS = frozenset({"p", "list", "item", "row", "cell", "head", "quote"})
# trafilatura logs an error for every page it finds no main text in, which the fallback then reads; without
# a handler of its own, Python would print those on stderr next to the one-line errors of the CLI.
logging.getLogger("trafilatura").addHandler(logging.NullHandler())


MAX_DEPTH = 500
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*?(/?)>")
# Elements that never hold others, or that authors rarely close: they do not deepen the tree.
_FLAT = frozenset("area base br col embed hr img input link meta source track wbr p li td th tr option".split())


def _nesting(html: str) -> int:
    """The deepest element nesting of the page, counted from its tags (a fast scan, no parsing)."""
    depth = deepest = 0
    for closing, tag, self_closing in _TAG.findall(html):
        if tag.lower() in _FLAT or self_closing:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


def html_to_text(html: str) -> tuple[str, str]:
    """Main text of an HTML page, one block a line (`# heading`, `- item`, `| a | b |`), and its title."""
    from bs4 import BeautifulSoup

    depth = _nesting(html)
    if depth > MAX_DEPTH:  # parsers and main-text extraction slow to a crawl on pathological trees
        raise ValueError(f"HTML nested {depth} levels deep (more than {MAX_DEPTH})")
    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    return main_text(html) or _fallback_text(soup), title


def main_text(html: str) -> str:
    """trafilatura's main text of the page, or "" when it finds none. It only parses: nothing is fetched."""
    import trafilatura
    from lxml import etree

    try:
        # Precision mode never falls back to its "baseline", which returns the whole page, menus included.
        xml = trafilatura.extract(html, output_format="xml", include_tables=True, include_comments=False,
                                  include_formatting=False, include_links=False, include_images=False,
                                  favor_precision=True, with_metadata=False)
        main = etree.fromstring(xml.encode("utf-8")).find("main") if xml else None
    except (ValueError, TypeError, etree.LxmlError):  # markup lxml cannot make a tree of
        return ""
    if main is None:
        return ""
    lines: list[str] = []
    _blocks(main, lines)
    return "\n".join(lines).strip()


def _raw(el, skip: str = "") -> str:
    """An element's text with its inline children; a line break or a nested block is set off by spaces."""
    parts = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            parts.append(" ")
        elif child.tag in _BLOCK_TAGS and child.tag != skip:
            parts.append(f" {_raw(child)} ")
        elif child.tag != skip:
            parts.append(_raw(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _inline(el, skip: str = "") -> str:
    """The text of an element on one line, whitespace squeezed; children tagged `skip` left out."""
    return " ".join(_raw(el, skip).split())


def _list_lines(el, lines: list[str]) -> None:
    numbered = el.get("rend") == "ol"
    for n, item in enumerate((i for i in el if i.tag == "item"), start=1):
        text = _inline(item, skip="list")  # nested lists get lines of their own
        if text:
            lines.append(f"{n}. {text}" if numbered else f"- {text}")
        for nested in item:
            if nested.tag == "list":
                _list_lines(nested, lines)


def _table_lines(el, lines: list[str]) -> None:
    if lines and lines[-1].startswith("|"):
        lines.append("")  # two tables in a row stay two tables, each with its own header
    for row in el.iter("row"):
        # A bar inside a cell would read as a column border.
        cells = [_inline(cell).replace("|", "/") for cell in row if cell.tag == "cell"]
        if any(cells):
            lines.append("| " + " | ".join(cells) + " |")


def _blocks(el, lines: list[str]) -> None:
    """Markdown-like lines for the block elements of trafilatura's XML, in document order."""
    for child in el:
        if child.tag == "head":
            level = _HEADING_LEVEL.fullmatch(child.get("rend") or "")
            text = _inline(child)
            if text:
                lines.extend(["", "#" * (int(level.group(1)) if level else 2) + " " + text])
        elif child.tag == "list":
            _list_lines(child, lines)
        elif child.tag == "table":
            _table_lines(child, lines)
        elif child.tag in ("quote", "div") and len(child):
            _blocks(child, lines)
        elif child.tag == "code":
            lines.extend(line.strip() for line in "".join(child.itertext()).split("\n") if line.strip())
        else:
            text = _inline(child)
            if text:
                lines.append(text)


def _loose_text(el) -> str:
    """Text of an element's own strings and inline children, without its block children."""
    from bs4 import NavigableString

    parts = []
    for child in el.children:
        if type(child) is NavigableString:  # not a Comment or Doctype, which subclass it
            parts.append(str(child))
        elif child.name == "br":
            parts.append(" ")
        elif child.name in _INLINE:
            parts.append(child.get_text())
    return " ".join("".join(parts).split())


def _fallback_text(soup) -> str:
    """The page's text without navigation and scripts, for pages too small for a main-text extractor."""
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form",
                     "iframe", "svg", "button", "template"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    for el in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", *_LOOSE]):
        inside_block = el.find_parent(["li", "tr", "blockquote", "p", "pre", "h1", "h2", "h3", "h4", "h5", "h6"])
        if inside_block and el.name in ("p", "li", *_LOOSE):
            continue  # counted once, with its container
        # A div or section contributes only the text that sits loose in it; its blocks come on their own.
        text = _loose_text(el) if el.name in _LOOSE else el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name.startswith("h"):
            lines.append("\n" + "#" * int(el.name[1]) + " " + text)
        elif el.name == "li":
            lines.append("- " + text)
        elif el.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(text)
    if not lines:
        lines = [root.get_text("\n", strip=True)]
    return "\n".join(lines)
