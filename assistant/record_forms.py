"""The printed forms of a list in cleaned text: where a list sits, where its items start.

Councils print their recommendations and actions in many forms, and cleaning may join a
list's lines into one paragraph. Everything here works on offsets into the cleaned text:

* **regions** — the body under a heading that names something ("Key recommendations"),
  whether the chunker made that heading a section or left it as a short line of its own
  ("SECTION 2: KEY RECOMMENDATIONS"); a region ends at the next heading-like line.
* **items** — "Recommendation 1:", "R1.", "1." (line start or run in after a sentence), a
  bullet, or a heading "### Recommendation 1" with its text below. Numbered markers count
  only as the run 1, 2, 3 … in order, so a stray "2024." or "3.1" starts no item.
* **table rows** — cells joined by " | "; header rows name the columns.
* **labelled fields** — "Recommendation: … Action: … Lead: … Timescale: …" in one paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.types import Document

_SENTENCE_END = re.compile(r"[.!?:;][\"')\]]*\s+$")
# "Recommendation 1:", "Rec. 2 –", "R3." — a label word, then the number
LABELLED = re.compile(
    r"(?:recommendations?|rec\.?)\s*(\d{1,2})\b\s*[:.)\u2013\u2014-]?|r(\d{1,2})[.:)]",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"(\d{1,2})[.)](?=[ \t]+\S)")
_RUN_IN_START = re.compile(r"\s+[\"'‘“(]?[A-Z]")  # an item run in after a sentence starts a sentence
_BULLET = re.compile(r"[•▪◦‣*\-\u2013]\s+")
_LINE_PREFIX = re.compile(r"[ \t#>*]*")  # markdown heading / quote / bold marks before a marker
_COLUMN_WORDS = re.compile(
    r"\b(?:action|response|lead|officer|owner|responsib\w*|timescale|deadline|target|status"
    r"|progress|recommendation|ref|no|location|documents?|comments?|notes?|date|rag"
    r"|theme|what we will do)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Item:
    """One list item: ``text[start:end]`` is its body (marker excluded)."""

    start: int
    end: int
    number: str | None
    marker_start: int  # where the marker ("Recommendation 1:", "1.", "•") begins


def is_heading_line(line: str, max_words: int = 10) -> bool:
    """A short line with no sentence punctuation at its end: "SECTION 3: THE PEER CHALLENGE"."""
    stripped = line.strip().strip("#*_ ").strip()
    if not re.search(r"[A-Za-z]", stripped) or is_table_line(line):
        return False
    return len(stripped.split()) <= max_words and stripped[-1] not in ".,;:!?"


def lines(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    for match in re.finditer(r"[^\n]+", text[start:end]):
        yield start + match.start(), start + match.end()


def regions(doc: Document, pattern: str) -> list[tuple[int, int]]:
    """Spans of the bodies under headings naming ``pattern``, merged where they overlap.

    A heading is a section's own heading or a heading-like line; the body runs to the end of
    the section and its sub-sections, and stops earlier at a heading-like line that does not
    itself name ``pattern`` (the chunker may have left the next heading as a plain line).
    """
    wanted = re.compile(pattern, re.IGNORECASE)
    starts: list[tuple[int, int]] = []  # (body start, section-based end)
    for section in doc.sections:
        if section.path and wanted.search(section.path[-1]):
            end = max(s.end for s in doc.sections if s.path[: len(section.path)] == section.path)
            body = section.start  # a section's span may or may not include its heading line
            if doc.text.startswith(section.path[-1], body):
                body += len(section.path[-1])
            starts.append((body, end))
    for a, b in lines(doc.text, 0, len(doc.text)):
        line = doc.text[a:b]
        if is_heading_line(line) and wanted.search(line) and not item_line(line):
            following = [s.start for s in doc.sections if s.start > b]
            starts.append((b, min(following, default=len(doc.text))))
    spans = []
    for start, end in starts:
        for a, b in lines(doc.text, start, end):
            line = doc.text[a:b]
            if is_heading_line(line) and not wanted.search(line) and not item_line(line):
                end = a
                break
        if end > start:
            spans.append((start, end))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def item_line(line: str) -> bool:
    """Does this line start a list item (a heading "Recommendation 2" counts)?"""
    rest = line[_LINE_PREFIX.match(line).end() :]
    return bool(LABELLED.match(rest) or _NUMBERED.match(rest + " A") or _BULLET.match(rest))


def _at_item_start(text: str, pos: int, end: int, floor: int) -> bool:
    """Is the marker ``text[pos:end]`` at a line start (markdown marks allowed), or run in
    just after a sentence end and followed by a new sentence?"""
    line_start = text.rfind("\n", floor, pos) + 1 if pos > floor else floor
    line_start = max(line_start, floor)
    if _LINE_PREFIX.fullmatch(text, line_start, pos):
        return True
    return bool(_SENTENCE_END.search(text, max(floor, pos - 4), pos)) and bool(
        _RUN_IN_START.match(text, end)
    )


def _numbered_run(marks: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The marks forming the run 1, 2, 3 … in text order (the longest such run)."""
    best: list[tuple[int, int, str]] = []
    for i, (_, _, number) in enumerate(marks):
        if number != "1":
            continue
        run = [marks[i]]
        for mark in marks[i + 1 :]:
            if int(mark[2]) == int(run[-1][2]) + 1:
                run.append(mark)
        best = max(best, run, key=len)
    return best


def _marks(text: str, start: int, end: int, pattern: re.Pattern) -> list[tuple[int, int, str]]:
    found = []
    for match in pattern.finditer(text, start, end):
        number = next((g for g in match.groups() if g), "")
        if number and _at_item_start(text, match.start(), match.end(), start):
            found.append((match.start(), match.end(), number))
    return found


def items(text: str, start: int, end: int) -> list[Item]:
    """The items of the list in ``text[start:end]``: labelled, else numbered, else bullets."""
    run = _numbered_run(_marks(text, start, end, LABELLED)) or _numbered_run(
        _marks(text, start, end, _NUMBERED)
    )
    if run:
        marks = [(a, b, n) for a, b, n in run]
    else:
        marks = []
        for a, b in lines(text, start, end):
            first = a + len(text[a:b]) - len(text[a:b].lstrip())
            bullet = _BULLET.match(text, first, b)
            if bullet:
                marks.append((first, bullet.end(), None))
    out = []
    for i, (a, b, number) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else end
        body = b + len(text[b:stop]) - len(text[b:stop].lstrip(" \t\n*_:.\u2013-"))
        if stop > body:
            out.append(Item(body, stop, number, a))
    return out


def table_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cell spans of one " | " table line (empty cells and "|---|" rules dropped)."""
    cells = []
    for match in re.finditer(r"[^|]+", text[start:end]):
        a, b = start + match.start(), start + match.end()
        cell = text[a:b]
        a += len(cell) - len(cell.lstrip())
        b -= len(cell) - len(cell.rstrip())
        if b > a and not re.fullmatch(r"[-:\s]+", text[a:b]):
            cells.append((a, b))
    return cells


def is_table_line(line: str) -> bool:
    return " | " in line or line.rstrip().endswith(" |") or line.lstrip().startswith("| ")


def is_header_row(texts: list[str], max_words: int) -> bool:
    """Every cell short and at least one naming a column ("Lead officer", "Target date")."""
    return all(len(t.split()) <= max_words for t in texts) and any(
        _COLUMN_WORDS.search(t) for t in texts
    )


COLUMN_ROLES = (  # a header cell's role, first match wins
    ("number", r"^(?:no\.?|ref\.?|#|number)$"),
    ("lead", r"lead|officer|owner|responsib"),
    ("target", r"target|timescale|deadline|date|by when"),
    ("action", r"action|response|what we will do|will do"),
    ("recommendation", r"recommendation"),
    ("status", r"\brag\b|status|progress"),
)


def column_roles(header: list[str]) -> list[str]:
    """The role of each header cell ("" when none): ["number", "recommendation", …]."""
    roles = []
    for cell in header:
        role = next((r for r, p in COLUMN_ROLES if re.search(p, cell.strip(), re.IGNORECASE)), "")
        roles.append(role)
    return roles


_LABEL = re.compile(r"(?:(?<=\s)|^)([A-Z][a-z]+(?: [a-z]+)?):\s")


def labelled_fields(text: str, start: int, end: int) -> dict[str, tuple[int, int]]:
    """Role → span of "Action: … Lead: … Timescale: …" fields in one paragraph."""
    found = [
        (m.start(), m.end(), m.group(1))
        for m in _LABEL.finditer(text, start, end)
        if _COLUMN_WORDS.search(m.group(1))
    ]
    fields: dict[str, tuple[int, int]] = {}
    for i, (_, value_start, label) in enumerate(found):
        value_end = found[i + 1][0] if i + 1 < len(found) else end
        role = column_roles([label])[0]
        a, b = value_start, value_end
        while b > a and text[b - 1] in " \t\n":
            b -= 1
        if role and role not in fields and b > a:
            fields[role] = (a, b)
    return fields
