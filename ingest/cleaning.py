"""Raw extracted text → cleaned text made of typed blocks (headings, paragraphs, items, rows).

What cleaning does, in order:
  * NFKC-normalises, straightens quotes, drops soft hyphens, turns bullet glyphs into "• "
    and table tabs into " | ";
  * drops page furniture: web navigation, comment forms, ``Page N of M``, bare page numbers,
    and header/footer lines that repeat on most pages of a PDF;
  * unwraps hard-wrapped lines into paragraphs and rejoins words hyphenated across lines
    ("organis-/ation" → "organisation", but "decision-/making" keeps its hyphen);
  * rejoins paragraphs cut by a page break, drops repeated blocks, and keeps headings
    (numbered like ``4.3 Organisational leadership`` and titled like ``Key recommendations``).

Blocks record offsets into the cleaned text; pages record where each page starts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from assistant.dates import DAY_DATE
from assistant.types import PageSpan

BULLET = "• "
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
                         # "´" and "ʼ" stand for apostrophes in real text; NFKC would make
                         # "council´s" into "council \u0301s" (a space and a combining accent)
                         "\u00b4": "'", "\u02bc": "'",
                         "\u00ad": None, "\u200b": None, "\ufeff": None, "\u00a0": " "})
# C0/C1 control characters other than tab, newline, CR and form feed (which cleaning uses or
# turns into spaces) carry no text; an escape sequence in a document must not reach a terminal.
_QUOTES.update({c: None for c in [*range(0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)]})
_BULLET_RE = re.compile(r"^\s*(?:[•●▪◦‣∙·○■□➢►✓\uf0b7\uf0a7\uf0d8\uf076]|[-*–](?=\s))\s*")
_FURNITURE = re.compile(
    r"^(?:skip to (?:main )?content|skip navigation|see also:?|leave a reply|"
    r"leave a comment|post comment|cancel reply|back to top|print this page|share this(?: page)?:?|"
    r"your email address will not be published\..*|required fields are marked.*|"
    r"this site uses akismet to reduce spam\..*|save my name, email.*|"
    r"(?:name|email|website|comment) ?\*?|page \d+(?: of \d+)?|[\W_]{1,3}|"
    # a cookie banner copied with a council page: "We use cookies to improve your experience."
    r".{0,200}\bcookies\b.{0,200})$",
    re.IGNORECASE,
)
# A table of contents line: entries of a title, dot leaders and a page number ("Executive
# summary ........ 3", or several on one line as a PDF's contents page is often extracted).
# It repeats the headings with page numbers; quoted, it reads as text of no meaning.
# (each entry an atomic group: a long line of near-entries is rejected in linear time)
_CONTENTS_LINE = re.compile(r"^(?:(?:table of )?contents:?\s+)?"
                            r"(?>(?:\d{1,2}(?:\.\d{1,2})*\.?\s+)?[^.]{1,100}?(?:\.\s?){4,}+\s*\d{1,3}\b\s*)+$",
                            re.IGNORECASE)
# …and, under a "Contents" heading, entries without leaders: "2. Key recommendations 5"
_CONTENTS_HEADING = re.compile(r"^(?:table of )?contents:?$", re.IGNORECASE)
_CONTENTS_ENTRY = re.compile(r"^\S.{1,110}?\s\d{1,3}$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*\.|\d{1,2}(?:\.\d{1,2})+)\s+(\S.*)$")
_TERMINAL = (".", ",", ";", ":", "!")
_FUNCTION_WORDS = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by",
                   "from", "at", "as", "that", "which", "is", "are", "be", "its", "their"}
# words that make a line a clause leading into what follows, not a title
_CLAUSE_WORDS = {"which", "who", "whom", "whose", "following", "follows"}
_KEEP_HYPHEN_PREFIXES = {
    "sub", "anti", "non", "co", "pre", "post", "re", "multi", "cross", "inter", "self", "well",
    "long", "short", "high", "low", "mid", "over", "under", "ex", "semi", "pan", "vice",
}


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "paragraph" | "item" | "row"
    start: int
    end: int
    page: int = 0
    level: int = 0  # heading depth: "4." → 1, "4.3" → 2; titled headings nest under numbers


@dataclass(frozen=True)
class CleanedText:
    text: str
    blocks: tuple[Block, ...]
    pages: tuple[PageSpan, ...] = ()


@dataclass
class _Para:
    kind: str
    lines: list[str]
    page: int
    level: int = 0  # markdown heading level (number of "#")
    line_pages: list[int] | None = None


def normalise_line(line: str) -> str:
    line = unicodedata.normalize("NFKC", line.translate(_QUOTES))
    line = line.replace("\r", "")
    bullet = _BULLET_RE.match(line)
    if bullet and len(line) > bullet.end():
        line = BULLET + line[bullet.end():]
    body = line.lstrip()
    if re.match(r"\d{1,2}(?:\.\d{1,2})*\.?\t", body):  # "4.1<TAB>There are..." is numbered prose
        body = body.replace("\t", " ", 1)
    if "\t" in body:  # a tab after content marks a table row ("None<TAB>", "Action<TAB>Lead")
        cells = [c.strip() for c in re.split(r"\t+", body)]
        line = " | ".join(c for c in cells if c)
        line = line if " | " in line else line + " |"
    line = re.sub(r"[ \t\f\v]+", " ", line).strip()
    return line


def clean(pages: tuple[str, ...] | list[str], labels: tuple[str, ...] = (),
          paged: bool = False) -> CleanedText:
    """Clean raw page texts into one text with blocks and page starts."""
    page_lines = [[normalise_line(l) for l in page.split("\n")] for page in pages]
    if paged:
        _drop_page_furniture(page_lines)
    for plines in page_lines:
        _drop_contents(plines)
    lines: list[tuple[str, int]] = []
    for index, plines in enumerate(page_lines):
        for line in plines:
            keep = line and not _FURNITURE.match(line) and not _CONTENTS_LINE.match(line)
            lines.append((line if keep else "", index))
        lines.append(("", index))  # a page break ends a block, paragraphs re-merge below
    vocabulary = _vocabulary(l for l, _ in lines)
    paragraphs = _group(lines, vocabulary, paged)
    # a join can make the next one possible ("0" + "the" is one short line between two bullets,
    # which cleaning the output again would join): merge until nothing changes
    while len(merged := _merge_broken(paragraphs, vocabulary)) < len(paragraphs):
        paragraphs = merged
    return _assemble(_drop_repeats(paragraphs), labels, paged, vocabulary)


def _drop_contents(lines: list[str]) -> None:
    """Blank a table of contents: a "Contents" heading and the entries under it that end with
    a page number ("Executive summary 3"), when there are two or more of them."""
    for start, line in enumerate(lines):
        if not _CONTENTS_HEADING.match(line):
            continue
        entries = []
        for index in range(start + 1, len(lines)):
            if _CONTENTS_ENTRY.match(lines[index]):
                entries.append(index)
            elif lines[index]:
                break
        if len(entries) >= 2:
            for index in (start, *entries):
                lines[index] = ""


def _drop_page_furniture(page_lines: list[list[str]]) -> None:
    """Blank bare page numbers and header/footer lines repeated on most pages."""
    def edge_indexes(lines: list[str]) -> list[int]:
        filled = [i for i, l in enumerate(lines) if l]
        return filled[:2] + filled[-2:]

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.lower())

    counts: Counter[str] = Counter()
    for lines in page_lines:
        counts.update({key(lines[i]) for i in edge_indexes(lines)})
    threshold = max(3, int(0.6 * len(page_lines) + 0.5))
    for lines in page_lines:
        for i in edge_indexes(lines):
            if re.fullmatch(r"\d{1,4}", lines[i]) or (len(page_lines) >= 3 and counts[key(lines[i])] >= threshold):
                lines[i] = ""


def _vocabulary(lines) -> set[str]:
    words: set[str] = set()
    after_break = False
    for line in lines:
        if not line:
            continue
        # Fix (tests): leave out the two halves of a word hyphenated across a line break
        # ("organis-" / "ation"); counting them made every such pair look like a real compound
        # ("a in vocabulary and b in vocabulary"), so "organis-\nation" kept its hyphen.
        if after_break:
            line = re.sub(r"^[a-z]+", "", line)
        after_break = bool(re.search(r"[A-Za-z]-$", line))
        if after_break:
            line = re.sub(r"[A-Za-z]+-$", "", line)
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", line))
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", line))
    return words


def _join_hyphenated(left: str, right: str, vocabulary: set[str]) -> str:
    """Join ``left`` ending in ``x-`` with ``right``: drop the hyphen unless it is a real one."""
    head = re.search(r"([A-Za-z]+)-$", left)
    tail = re.match(r"([a-z]+)", right)
    if not head or not tail:
        return left + " " + right
    a, b = head.group(1).lower(), tail.group(1)
    joined = a + b
    if joined in vocabulary and f"{a}-{b}" not in vocabulary:
        return left[:-1] + right
    keep = (f"{a}-{b}" in vocabulary or a in _KEEP_HYPHEN_PREFIXES
            or (a in vocabulary and b in vocabulary and len(a) > 2 and len(b) > 2))
    return left + right if keep else left[:-1] + right


def _is_numbered_heading(line: str) -> bool:
    match = _NUMBERED.match(line)
    if not match:
        return False
    title = match.group(2)
    return (len(title) <= 90 and len(title.split()) <= 12 and title[0].isupper()
            and not title.endswith(_TERMINAL))


def _unwrapped_blocks(lines: list[tuple[str, int]]) -> set[int]:
    """Indexes of the lines of blank-line separated blocks that were not wrapped to a width: a
    block with a line longer than ``_WRAPPED_LINE`` has one paragraph (or title) per line."""
    found: set[int] = set()
    block: list[int] = []
    for i, (line, _) in enumerate([*lines, ("", 0)]):
        if line:
            block.append(i)
            continue
        if any(len(lines[j][0]) > _WRAPPED_LINE for j in block):
            found.update(block)
        block = []
    return found


def _group(lines: list[tuple[str, int]], vocabulary: set[str], paged: bool = False) -> list[_Para]:
    """Blank-line separated groups → paragraphs, items, rows; split numbered headings out."""
    paras: list[_Para] = []
    current: _Para | None = None

    def close() -> None:
        nonlocal current
        if current is not None and current.lines:
            paras.append(current)
        current = None

    unwrapped = set() if paged else _unwrapped_blocks(lines)
    for i, (line, page) in enumerate(lines):
        if not line:
            close()
            continue
        next_blank = i + 1 >= len(lines) or not lines[i + 1][0]
        prev_closed = i == 0 or not lines[i - 1][0] or lines[i - 1][0].endswith((".", ":", "?", "!"))
        next_starts = not next_blank and lines[i + 1][0][:1].isupper()
        markdown = _MD_HEADING.match(line)
        if i in unwrapped and prev_closed and next_starts and _heading_level(line, 0)[0] \
                and not any(" | " in lines[j][0] or lines[j][0].startswith(BULLET) for j in (i - 1, i + 1)):
            # text whose lines are its paragraphs: a title line before a sentence ("Follow up" /
            # "There will be a follow-up visit …") is a heading, not the sentence's first words
            close()
            paras.append(_Para("paragraph", [line], page, line_pages=[page]))
            continue
        if markdown:  # "## Shared services" in a .md file
            close()
            # keep the '#'s: the cleaned text stays markdown, so cleaning it again is stable
            paras.append(_Para("heading", [f"{markdown.group(1)} {markdown.group(2)}"], page,
                               line_pages=[page], level=len(markdown.group(1))))
        elif line.startswith(BULLET):
            close()
            current = _Para("item", [line], page, line_pages=[page])
        elif " | " in line or line.endswith(" |"):
            close()
            paras.append(_Para("row", [line], page, line_pages=[page]))
        elif _is_numbered_heading(line) and not _next_item(current, line) \
                and (next_blank or (next_starts and ((paged and prev_closed) or i in unwrapped))):
            # PDF text has no blank lines: a numbered title between a finished sentence and a
            # capitalised line is a heading there too; in text whose lines are its paragraphs
            # ("14 May 2024" / "1. Introduction" / "Warwick District Council undertook …") it
            # is one whatever comes before it
            close()
            paras.append(_Para("paragraph", [line], page, line_pages=[page]))
        elif current is None:
            current = _Para("paragraph", [line], page, line_pages=[page])
        else:
            current.lines.append(line)
            assert current.line_pages is not None
            current.line_pages.append(page)
    close()
    return paras


def _next_item(current: _Para | None, line: str) -> bool:
    """Is ``line`` the next item of a numbered list whose previous item is the line just before
    it ("3. Jo Bloggs – chief executive" / "4. Ann Lee – peer challenge manager, LGA")? A list's
    last item is no heading, though nothing follows it."""
    before = _item_number(current.lines[-1]) if current is not None and current.lines else None
    return before is not None and _item_number(line) == before + 1


def _item_number(line: str) -> int | None:
    """The whole number opening a numbered line ("4. Ann Lee …" → 4; "4.3 Finance" → None)."""
    match = _NUMBERED.match(line)
    number = match.group(1).rstrip(".") if match else ""
    return int(number) if number.isdigit() else None


def _ends_open(para: _Para) -> bool:
    last = para.lines[-1]
    return not last.endswith((".", "!", "?", ":", ";", '"', "'", ")")) and para.kind != "row"


_WRAPPED_LINE = 100  # characters: longer than this, text was not one line of a wrapped list


def _fits_one_line(para: _Para) -> bool:
    return sum(len(line) + 1 for line in para.lines) - 1 <= _WRAPPED_LINE


def _merge_broken(paras: list[_Para], vocabulary: set[str]) -> list[_Para]:
    """Rejoin a paragraph cut by a page break or a stray blank line mid-sentence."""
    merged: list[_Para] = []
    for i, para in enumerate(paras):
        prev = merged[-1] if merged else None
        following = paras[i + 1] if i + 1 < len(paras) else None
        continues = para.kind == "paragraph" and (
            para.lines[0][:1].islower()
            or (prev is not None and prev.lines[-1].split()[-1].lower() in _FUNCTION_WORDS)
            # one wrapped line between two bullets of a list ("• Receive the report compiled by
            # the Local Government" / "Association Peer Review Team" / "• Note its content") is
            # the rest of the first bullet, not a heading. Judged by length, not by the number
            # of raw lines: cleaning joins lines, and "1." / "the" had to merge on the first
            # pass as "1. the" does on the second, or cleaning its own output changed it.
            or (prev is not None and prev.kind == "item" and _fits_one_line(para)
                and following is not None and following.kind == "item")
        )
        if prev is not None and prev.kind in ("paragraph", "item") and continues and _ends_open(prev):
            prev.lines.extend(para.lines)
            assert prev.line_pages is not None and para.line_pages is not None
            prev.line_pages.extend(para.line_pages)
        else:
            merged.append(para)
    return merged


def _drop_repeats(paras: list[_Para]) -> list[_Para]:
    """Drop a block that repeats an earlier one word for word (extraction duplicates)."""
    kept: list[_Para] = []
    recent: list[str] = []  # keys of the last blocks kept; a repeat sits close to its original
    for para in paras:
        key = re.sub(r"\W+", " ", " ".join(para.lines)).strip().lower()
        if len(key) >= 60 and any(key in earlier for earlier in recent):
            continue
        recent = (recent + [key])[-60:]
        kept.append(para)
    return kept


def _heading_level(line: str, numbered_level: int) -> tuple[bool, int, int]:
    """(is heading, its level, new numbered level) for a one-line block."""
    if _is_numbered_heading(line):
        number = _NUMBERED.match(line).group(1).rstrip(".")  # type: ignore[union-attr]
        level = number.count(".") + 1
        return True, level, level
    words = line.split()
    letters = [c for c in line if c.isalpha()]
    if not letters or len(words) > 12 or len(line) > 90 or line.startswith(BULLET):
        return False, 0, numbered_level
    if not line[0].isupper() or line.endswith(_TERMINAL) or line.count(":") > 1:
        return False, 0, numbered_level
    if words[-1].lower() in _FUNCTION_WORDS:  # a title does not end "... arrangements with"
        return False, 0, numbered_level
    if len(words) >= 6 and {w.lower() for w in words[1:]} & _CLAUSE_WORDS:
        return False, 0, numbered_level  # "The report contains 18 recommendations which prioritise": a lead-in
    if ":" in line:
        label, _, rest = line.partition(":")
        # "Published: 3 April", "Tel: 0161 …" are labelled text; "SECTION 2: KEY
        # RECOMMENDATIONS", "Part 3: Findings" are numbered titles (a title is capitalised word
        # by word: "Recommendation 1: Cost the plan" is an item)
        numbered_label = (re.fullmatch(r"[A-Za-z]+ (?:\d{1,2}|[IVX]{1,4})", label.strip())
                          and all(w[0].isupper() for w in rest.split() if len(w) > 3))
        if (len(label.split()) < 3 and not numbered_label) or not rest.strip()[:1].isupper():
            return False, 0, numbered_level
    if "@" in line or re.search(r"\d{4,}", line.replace(" ", "")) and len(letters) < 12:
        return False, 0, numbered_level
    if DAY_DATE.search(line):  # a dated line (cover, version, letter date) is text, not a title
        return False, 0, numbered_level
    return True, numbered_level + 1, numbered_level


def _assemble(paras: list[_Para], labels: tuple[str, ...], paged: bool,
              vocabulary: set[str]) -> CleanedText:
    parts: list[str] = []
    blocks: list[Block] = []
    pages: list[PageSpan] = []
    seen_pages: set[int] = set()
    offset = 0
    numbered_level = 0
    prev_kind = ""
    for para in paras:
        kind = para.kind
        level = 0
        if kind == "heading":  # markdown: the level is the number of '#'
            level = numbered_level = para.level
        elif kind == "paragraph" and len(para.lines) == 1:
            is_heading, level, numbered_level = _heading_level(para.lines[0], numbered_level)
            if is_heading:
                kind = "heading"
        sep = "" if not parts else ("\n" if kind in ("item", "row") and prev_kind == kind else "\n\n")
        offset += len(sep)
        parts.append(sep)
        start = offset
        text = ""
        line_pages = para.line_pages or [para.page] * len(para.lines)
        for j, line in enumerate(para.lines):
            if j == 0:
                text = line
            elif kind == "item" and line.startswith(BULLET):
                text += "\n" + line
            elif re.search(r"[A-Za-z]-$", text):
                text = _join_hyphenated(text, line, vocabulary)
            else:
                text += " " + line
            page = line_pages[j]
            if paged and page not in seen_pages:
                seen_pages.add(page)
                # the line's start in the cleaned text: where its words begin
                pos = start + max(0, text.rfind(line[: max(1, min(12, len(line)))]))
                label = labels[page] if page < len(labels) else str(page + 1)
                pages.append(PageSpan(start=pos if j else start, index=page, label=str(label)))
        parts.append(text)
        offset += len(text)
        blocks.append(Block(kind=kind, start=start, end=offset, page=para.page, level=level))
        prev_kind = kind
    return CleanedText(text="".join(parts), blocks=tuple(blocks), pages=tuple(sorted(pages, key=lambda p: p.start)))
