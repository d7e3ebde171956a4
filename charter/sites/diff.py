"""A readable difference between two charter texts.

Line (paragraph) level first, then word level inside lines that changed. The result is
plain data (kinds and text), never HTML: the template escapes every piece, so user text
cannot reach the page unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Words (any script), runs of spaces, single punctuation marks; ideographs (Chinese,
# Japanese) one by one because they are not separated by spaces.
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+|\s+|[^\w\s]", re.UNICODE
)
# Changed lines at least this similar are shown as one line with word-level changes;
# below it, as a removed line and an added line.
PAIR_THRESHOLD = 0.4
# Unchanged lines kept around each change; longer unchanged stretches are folded.
CONTEXT = 3


@dataclass
class Segment:
    kind: str  # "same", "added" or "removed"
    text: str


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed" or "changed"
    old_number: int | None = None
    new_number: int | None = None
    text: str = ""  # for same / added / removed
    segments: list[Segment] = field(default_factory=list)  # for changed


@dataclass
class Fold:
    """A stretch of unchanged lines left out of the view."""

    count: int
    kind: str = "fold"


@dataclass
class TextDiff:
    rows: list[DiffLine | Fold]
    added: int
    removed: int
    changed: int

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)


def split_lines(text: str) -> list[str]:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def word_diff(old: str, new: str) -> list[Segment]:
    """Word-level changes between two lines, neighbouring pieces of one kind merged."""
    a, b = tokens(old), tokens(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    segments: list[Segment] = []

    def add(kind: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].kind == kind:
            segments[-1].text += text
        else:
            segments.append(Segment(kind, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("same", "".join(a[i1:i2]))
        else:
            add("removed", "".join(a[i1:i2]))
            add("added", "".join(b[j1:j2]))
    return segments


def _similarity(old: str, new: str) -> float:
    return SequenceMatcher(None, tokens(old), tokens(new), autojunk=False).ratio()


def _replace_block(old: list[str], new: list[str], o1: int, n1: int) -> list[DiffLine]:
    """Lines replaced by other lines: pair similar ones (in order), the rest are
    plain removals and additions."""
    rows: list[DiffLine] = []
    i = j = 0
    while i < len(old) or j < len(new):
        if i < len(old) and j < len(new):
            if _similarity(old[i], new[j]) >= PAIR_THRESHOLD:
                rows.append(DiffLine("changed", o1 + i + 1, n1 + j + 1,
                                     segments=word_diff(old[i], new[j])))
                i += 1
                j += 1
                continue
            # Not similar: is the old line similar to a later new one, or the reverse?
            later_new = any(_similarity(old[i], n) >= PAIR_THRESHOLD for n in new[j + 1:])
            if later_new:
                rows.append(DiffLine("added", None, n1 + j + 1, text=new[j]))
                j += 1
            else:
                rows.append(DiffLine("removed", o1 + i + 1, None, text=old[i]))
                i += 1
        elif i < len(old):
            rows.append(DiffLine("removed", o1 + i + 1, None, text=old[i]))
            i += 1
        else:
            rows.append(DiffLine("added", None, n1 + j + 1, text=new[j]))
            j += 1
    return rows


def _fold(rows: list[DiffLine], context: int) -> list[DiffLine | Fold]:
    """Keep `context` unchanged lines around each change; fold the longer stretches."""
    changed = [i for i, r in enumerate(rows) if r.kind != "same"]
    if not changed:
        return list(rows)
    keep = set()
    for i in changed:
        keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    out: list[DiffLine | Fold] = []
    skipped = 0
    for i, row in enumerate(rows):
        if i in keep:
            if skipped:
                out.append(Fold(skipped))
                skipped = 0
            out.append(row)
        else:
            skipped += 1
    if skipped:
        out.append(Fold(skipped))
    return out


def diff_texts(old_text: str, new_text: str, *, context: int | None = CONTEXT) -> TextDiff:
    old, new = split_lines(old_text), split_lines(new_text)
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    rows: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                rows.append(DiffLine("same", i1 + k + 1, j1 + k + 1, text=old[i1 + k]))
        elif tag == "delete":
            rows.extend(DiffLine("removed", i1 + k + 1, None, text=old[i1 + k]) for k in range(i2 - i1))
        elif tag == "insert":
            rows.extend(DiffLine("added", None, j1 + k + 1, text=new[j1 + k]) for k in range(j2 - j1))
        else:
            rows.extend(_replace_block(old[i1:i2], new[j1:j2], i1, j1))
    counts = {kind: sum(1 for r in rows if r.kind == kind) for kind in ("added", "removed", "changed")}
    shown = _fold(rows, context) if context is not None else list(rows)
    return TextDiff(shown, counts["added"], counts["removed"], counts["changed"])
