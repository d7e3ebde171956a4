"""Markdown in, safe HTML out: rendered with markdown-it, then sanitised with nh3.

Text that is printed (report PDFs) is also bounded in *structure*, not only in length:
`too_much_formatting()` refuses Markdown that would nest too deep or turn into too many
elements, the shapes that make WeasyPrint take minutes (10,000 characters of `*_`
become one emphasis element per character). Forms use it through
`charter.forms_common.Printable`, services through `check_printable()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import nh3
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markupsafe import Markup


def _markdown() -> MarkdownIt:
    # Raw HTML in the source is shown as text, never passed through; then the output
    # is sanitised again, so a flaw in either step alone cannot reach a page or a PDF.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


_md = _markdown()

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}


def render_markdown(source: str | None, *, demote_headings: bool = True) -> Markup:
    """Render user Markdown to sanitised HTML.

    Headings are demoted by one level (# becomes h2) so that user text never adds a
    second h1 to a page.
    """
    if not source:
        return Markup("")
    html = _md.render(source)
    if demote_headings:
        for level in range(5, 0, -1):
            html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(
                f"</h{level}>", f"</h{level + 1}>"
            )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


# --- structure bounds for printed text ---------------------------------------------------------
#
# Measured on markdown-it's tokens, with the same parser settings as render_markdown():
#   depth     elements nested inside one another (a blockquote holding a list of lists with a
#             bold link is 8 or so). markdown-it itself stops nesting at 20 and silently drops
#             what is deeper, so anything deeper than MAX_DEPTH is refused instead.
#   marks     in one block (a paragraph, heading, list item or table cell), the characters that
#             can start inline formatting: * _ [ ` < \ and hard line breaks. Every emphasis,
#             link, image, code span and line break needs at least one, so a block never has
#             more inline elements than marks; counting characters costs nothing, so a text
#             like 100,000 characters of `*_` is refused before it is parsed inline.
#   elements  the text's block elements (paragraphs, headings, lists and items, quotes, tables
#             with their rows and cells, code blocks, rules) plus all its marks.
#   lines     every line may start a block; bounding them bounds the parser's own work, and
#             so does refusing a text with more mark characters, or table pipes |, in all
#             than MAX_ELEMENTS before it is parsed at all.
# A 40-page report (100,000 characters of ordinary prose, lists and tables) has around
# 1,000 elements, 2,000 lines, nests 5 deep and has a few dozen marks in its busiest paragraph.
MAX_DEPTH = 16
MAX_MARKS_PER_BLOCK = 400
MAX_ELEMENTS = 5_000
MAX_LINES = 5_000

TOO_MUCH_FORMATTING = _l("This text has too much formatting to print; simplify it.")

_MARK_CHARACTERS = ("*", "_", "[", "`", "<", "\\", "  \n")
_LEAF_BLOCKS = {"hr", "code_block", "fence", "html_block"}


class _Exceeded(Exception):  # noqa: N818 - internal signal, never leaves this module
    def __init__(self, limit: str):
        super().__init__(limit)
        self.limit = limit


@dataclass
class _Count:
    blocks: int = 0  # block elements counted so far
    seen: int = 0  # block tokens already looked at
    marks: int = 0


def _count_blocks(state) -> _Count:
    count = state.env.setdefault("charter_count", _Count())
    tokens = state.tokens
    count.blocks += sum(1 for token in tokens[count.seen:]
                        if (token.nesting == 1 and not token.hidden) or token.type in _LEAF_BLOCKS)
    count.seen = len(tokens)
    if count.blocks > MAX_ELEMENTS:
        raise _Exceeded("elements")
    return count


def _block_guard(state, start_line: int, end_line: int, silent: bool) -> bool:
    """Before every block rule: stop as soon as the text nests too deep or has too many
    blocks."""
    if state.level > MAX_DEPTH:
        raise _Exceeded("depth")
    _count_blocks(state)
    return False


def _marks_guard(state) -> None:
    """Core rule between the block and the inline parse: count every block's marks, and
    stop before the (costlier) inline parse if there are too many."""
    count = _count_blocks(state)
    for token in state.tokens:
        if token.type != "inline":
            continue
        content = token.content
        marks = sum(content.count(mark) for mark in _MARK_CHARACTERS)
        if marks > MAX_MARKS_PER_BLOCK:
            raise _Exceeded("marks")
        count.marks += marks
        if count.blocks + count.marks > MAX_ELEMENTS:
            raise _Exceeded("elements")


def _checking_markdown() -> MarkdownIt:
    md = _markdown()
    md.block.ruler.before("table", "charter_guard", _block_guard)
    md.core.ruler.after("block", "charter_guard", _marks_guard)
    return md


_checker = _checking_markdown()


@dataclass(frozen=True)
class Structure:
    """What a text's Markdown makes: its elements (block elements + marks), its deepest
    nesting, and `exceeded`, the first limit it passes ("lines", "depth", "marks",
    "elements") or None. A measurement stopped at a limit leaves the rest at zero."""

    elements: int
    depth: int
    exceeded: str | None


@lru_cache(maxsize=64)
def measure(source: str) -> Structure:
    """Measure `source` as Markdown, stopping at the first limit it passes, so that hostile
    text costs no more work than the limits allow. Cached: a form and then its service
    check the same text in one request."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # as markdown-it does
    if source.count("\n") >= MAX_LINES:
        return Structure(0, 0, "lines")
    if sum(source.count(mark) for mark in (*_MARK_CHARACTERS, "|")) > MAX_ELEMENTS:
        return Structure(0, 0, "elements")
    env: dict = {}
    try:
        tokens = _checker.parse(source, env)
    except _Exceeded as exc:
        return Structure(0, 0, exc.limit)
    count = env.get("charter_count") or _Count()
    depth = 0
    for token in tokens:
        depth = max(depth, token.level + (token.nesting == 1))
        if token.type == "inline" and token.children:
            level = 0  # emphasis nests inside a block too
            for child in token.children:
                level += child.nesting
                depth = max(depth, token.level + level + (child.nesting == 0))
    return Structure(count.blocks + count.marks, depth, "depth" if depth > MAX_DEPTH else None)


def too_much_formatting(source: str | None) -> bool:
    """True if `source`, printed, would nest too deep or make too many elements."""
    if not source:
        return False
    return measure(source).exceeded is not None


def check_printable(values: dict[str, str | None], error_cls) -> None:
    """Raise `error_cls(message, field)` for the first field whose text has too much
    formatting to print (services call this: spreadsheets and other paths skip forms)."""
    for field, value in values.items():
        if too_much_formatting(value):
            raise error_cls(str(TOO_MUCH_FORMATTING), field)
