"""Paragraph rebuilding: joins lines that a hard wrap or a Markdown soft break cut out of one paragraph."""

from __future__ import annotations

import re
import statistics
import unicodedata
from functools import cache
from itertools import pairwise

from ingest.clean import is_section_label

# Document.metadata[MARKUP_KEY] tells the chunker how to read the text: as Markdown, or one block a line.
MARKUP_KEY = "markup"
MARKDOWN, LINES = "markdown", "lines"
# Structure that starts a line of its own in plain text: table rows, Markdown headings, bullets.
_TABLE_OR_HEADING = re.compile(r"^(?:\||#{1,6}\s)")
_BULLET = re.compile(r"^[-*+•]\s")
_NUMBERED = re.compile(r"^(?:(\d{1,3})[.)]|\(\d{1,3}\)|([a-z])[.)])\s")
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’」』）)\]]*$")
_QUOTE_MARKERS = re.compile(r"^(?:>\s?)+")
# A hard-wrapped text is wrapped at a width people read comfortably: narrower is a list, wider is a paragraph.
_MIN_WRAP, _MAX_WRAP = 40, 160
_MIN_INNER_LINES = 3


def display_width(text: str) -> int:
    """Columns a line takes in a monospaced editor: Chinese characters and full-width forms take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def join_lines(left: str, right: str) -> str:
    """Join two pieces of one paragraph the way the language writes them: nothing between Chinese characters."""
    if not left or not right:
        return left or right
    if (_is_wide(left[-1]) and (_is_wide(right[0]) or right[0].isdigit())) \
            or (left[-1].isdigit() and _is_wide(right[0])):
        return left + right  # Chinese puts no space between words, nor around a number ("自2024年1月1日")
    if left[-1] == "-" and len(left) > 1 and left[-2].isalpha() and right[0].islower():
        return left + right  # a compound cut after its hyphen ("well-" / "known") stays one word
    return f"{left} {right}"


def ends_sentence(line: str) -> bool:
    """Does the line end a sentence (its final mark, then any closing quote or bracket)?"""
    return bool(_SENTENCE_END.search(line))


def _first_word(line: str) -> str:
    if _is_wide(line[0]):
        return line[0]  # a Chinese line can break after any character
    return line.split(" ", 1)[0]


def wrap_width(lines: list[str]) -> int | None:
    """The column a hard-wrapped text was wrapped at, or None when its lines are not hard-wrapped.

    Lines followed by another line of the same block are all about as long as the wrap width in a
    hard-wrapped text, and most of them end in the middle of a sentence. One paragraph per line
    (however long) or short lines of a list or a poem do not look like that.
    """
    inner = [line for line, after in pairwise(lines)
             if line and after and not _TABLE_OR_HEADING.match(line) and not _TABLE_OR_HEADING.match(after)]
    if len(inner) < _MIN_INNER_LINES:
        return None
    widths = [display_width(line) for line in inner]
    middle = statistics.median(widths)
    if not _MIN_WRAP <= middle <= _MAX_WRAP:
        return None
    near = [w for w in widths if 0.75 * middle <= w <= 1.25 * middle]
    open_ended = sum(1 for line in inner if not ends_sentence(line))
    if len(near) < 0.6 * len(widths) or open_ended < 0.4 * len(inner):
        return None
    return max(near)


def _looks_like_title(line: str) -> bool:
    """A line in title case (every longer word capitalised) that ends without punctuation."""
    words = line.split()
    long_words = [w for w in words if len(w) > 3 and w[0].isalpha()]
    # Every longer word, not most: a wrapped line of a news text can be full of names.
    return (len(words) <= 12 and bool(long_words) and all(w[0].isupper() for w in long_words)
            and not ends_sentence(line) and line[-1] not in ":;,")


def _was_wrapped(line: str, after: str, width: int) -> bool:
    """True when `line` ends where it does because the next word did not fit on it."""
    if _looks_like_title(line):
        return False  # a heading right above its paragraph is as long as it is, not wrapped
    tolerance = max(2, width // 20)  # wrappers that avoid orphans or keep punctuation off a line start
    gap = 0 if _is_wide(line[-1]) and _is_wide(after[0]) else 1
    if display_width(line) + gap + display_width(_first_word(after)) > width - tolerance:
        return True
    # A long line that stops mid-sentence was cut by the wrap even when a short word would have fit.
    return display_width(line) >= 0.75 * width and not ends_sentence(line)


def _starts_item(line: str, before: str, wrapped: bool, in_list: bool) -> bool:
    """True when `line` opens a list item rather than continuing the paragraph before it."""
    if _BULLET.match(line):
        return True
    numbered = _NUMBERED.match(line)
    if not numbered:
        return False
    # "...fiscal year\n100. The next" is a wrapped number, but a list runs on, and "1." or a colon opens one.
    number = numbered.group(1) or numbered.group(2) or ""
    return in_list or not wrapped or number in ("1", "a") or before.endswith((":", "："))


def _continues(before: str, line: str, width: int | None, in_list: bool) -> bool:
    """True when `line` is the next piece of the paragraph that `before` (the previous line) belongs to."""
    if not before or not line or _TABLE_OR_HEADING.match(before) or _TABLE_OR_HEADING.match(line):
        return False
    if is_section_label(before) or is_section_label(line):
        return False
    wrapped = width is not None and _was_wrapped(before, line, width)
    if _starts_item(line, before, wrapped, in_list):
        return False
    # Even in a text that is not wrapped throughout, a line cut mid-sentence before a lower-case word goes on;
    # so does a long Chinese line cut mid-sentence (a heading is short, an introduction ends in a colon).
    cut_mid_sentence = (before[-1].isalnum() or before[-1] in ",-") and line[0].islower()
    cut_chinese = (_is_wide(before[-1]) and (_is_wide(line[0]) or line[0].isdigit())
                   and display_width(before) >= _MIN_WRAP and not ends_sentence(before) and before[-1] not in "：；")
    return wrapped or cut_mid_sentence or cut_chinese


def rebuild_plain(text: str) -> str:
    """Join the lines of each paragraph of a plain text; blank lines, list items, tables and headings stay."""
    lines = text.split("\n")
    width = wrap_width(lines)
    out: list[str] = []
    in_list = False
    for i, line in enumerate(lines):
        before = lines[i - 1] if i else ""
        if out and _continues(before, line, width, in_list):
            out[-1] = join_lines(out[-1], line)
            continue
        out.append(line)
        in_list = bool(_BULLET.match(line) or _NUMBERED.match(line)) or (in_list and bool(line))
    return "\n".join(out)


@cache
def markdown_parser():
    """CommonMark with GitHub tables; raw HTML is read as text, as a reader of the file would see it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _hard_break(line: str) -> bool:
    """A Markdown hard line break: the line ends in an odd number of backslashes (trailing spaces are gone)."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _numbered_item_after(line: str, after: str, width: int | None) -> bool:
    """True when `after` opens a numbered item that CommonMark reads as paragraph text.

    CommonMark lets only "1." interrupt a paragraph, to protect wrapped numbers ("...in\n2004. The");
    an author who writes "2." right under a short line still means the next item of a list.
    """
    wrapped = width is not None and _was_wrapped(line, after, width)
    return bool(_NUMBERED.match(after)) and _starts_item(after, line, wrapped, in_list=False)


def rebuild_markdown(text: str) -> str:
    """Join the soft line breaks of every Markdown paragraph (inside lists and quotes too) into one line."""
    lines = text.split("\n")
    width = wrap_width(lines)
    joins: set[int] = set()  # i in joins: line i+1 goes onto the end of line i
    for token in markdown_parser().parse(text):
        if token.type == "paragraph_open" and token.map:
            first, last = token.map
            joins.update(i for i in range(first, last - 1)
                         if not _hard_break(lines[i]) and not _numbered_item_after(lines[i], lines[i + 1], width))
    out: list[str] = []
    for i, line in enumerate(lines):
        if i - 1 in joins:
            # A continuation line may repeat its quote markers ("> "); the joined line keeps only the first.
            out[-1] = join_lines(out[-1], _QUOTE_MARKERS.sub("", line))
        else:
            out.append(line)
    return "\n".join(out)
