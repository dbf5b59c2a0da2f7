"""Cleaned text → section-aware, token-sized chunks with exact offsets and sentence spans.

Chunks carry the section path (``("4. Feedback", "4.3 Organisational leadership and
governance")``), are at most ``chunk_tokens`` model word pieces long and overlap their
neighbours. They never cross a heading, with one exception: a section whose body is too short
to stand alone (``is_short``: a cover line "Feedback report: 5-8 February 2024", a date, a
"Published: ..." line, a letter head) opens the first chunk of the section that follows,
heading included, so it is never a chunk of its own that outranks the text it introduces. Offsets are computed here, not taken from the splitter (its
``add_start_index`` is wrong with token lengths and overlap), and
``cleaned.text[chunk.start:chunk.end] == chunk.text`` always holds.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.settings import ChunkingSettings
from assistant.tokens import TokenCounter
from assistant.types import Chunk, Document, DocumentMeta, Section, Sentence

SEPARATORS = ["\n\n", "\n", ". ", "? ", "; ", ": ", ", ", " ", ""]
_WORD_START = re.compile(r"(?<!\S)\S")
_FULL_STOP = re.compile(r"[.!?][\"')\]*]*(?:\s|$)")  # a sentence ends ("**Note.**" too)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(•\[]?[A-Z0-9£])|\n+")


def span_counter(body: str, count_tokens: TokenCounter) -> Callable[[int, int], int]:
    """Token count of ``body[a:b]`` for word-aligned a, b.

    With the model tokenizer (``count_tokens.token_spans``) the body is tokenised once and
    counts come from its token offsets: BERT splits at spaces and punctuation first, so a
    word-aligned slice has exactly the tokens that lie inside it. Other counters are called.
    """
    spans_of = getattr(count_tokens, "token_spans", None)
    if spans_of is None:
        return lambda a, b: count_tokens(body[a:b])
    spans = spans_of(body)
    starts = [a for a, _ in spans]
    ends = [b for _, b in spans]
    return lambda a, b: max(0, bisect.bisect_right(ends, b) - bisect.bisect_left(starts, a))


def sections_of(text: str, blocks) -> tuple[Section, ...]:
    """Body spans between headings, each with its heading path (headings themselves excluded)."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    body_start: int | None = None
    body_end = 0

    def flush() -> None:
        if body_start is not None:
            sections.append(Section(path=tuple(t for _, t in stack), start=body_start, end=body_end))

    for block in blocks:
        if block.kind == "heading":
            flush()
            body_start = None
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, text[block.start:block.end].rstrip(" |").lstrip("# ")))
        else:
            if body_start is None:
                body_start = block.start
            body_end = block.end
    flush()
    return tuple(sections)


_ITEM_NUMBER = re.compile(r"(?<![\d.])\s+(\d{1,2})\.$")  # "outcomes 2." before a split


def _inline_item_number(text: str, cut: int, start: int) -> int | None:
    """Where the number of an inline numbered list's next item starts, when the full stop at
    ``cut`` is that number's ("…: 1. Local priorities and outcomes 2. Organisational and place
    leadership 3. Governance": a list joined into one line), else None. Only for a list counted
    from 1 whose items are phrases: "2." needs "1." before it and "1." needs "2." after it, with
    no sentence ending between them ("rose from 2 to 3. The council…", "in phase 1. The council
    agreed. Phase 2. …" are sentences)."""
    match = _ITEM_NUMBER.search(text, max(start, cut - 8), cut)
    if not match:
        return None
    n = int(match.group(1))
    if n == 1:
        item = re.match(r"([^\n]{1,200}?)\s2\.\s+[A-Z]", text[cut + 1:cut + 300])
        return match.start(1) if item and not _SENTENCE_STOP.search(item.group(1)) else None
    window = max(start, cut - 200 * n)
    markers = list(_ITEM_MARKER.finditer(text[window:match.start(1)]))
    if [int(m.group(1)) for m in markers[-(n - 1):]] != list(range(1, n)):  # …count 1 … n-1
        return None
    between = text[window + markers[-1].end():match.start(1)]
    return None if _SENTENCE_STOP.search(between) else match.start(1)


_SENTENCE_STOP = re.compile(r"[.!?][\"')\]]*\s")
_ITEM_MARKER = re.compile(r"(?:^|\s)(\d{1,2})\.\s+[A-Z]")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence (and list-item / table-row) spans in ``text[start:end]``, stripped.

    >>> sentence_spans("One two. Three four.\\n• Five")
    [(0, 8), (9, 20), (21, 27)]
    """
    end = len(text) if end is None else end
    spans = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        cut, resume = match.start(), match.end()
        marker = _inline_item_number(text, cut, start)
        if marker is not None:  # "… outcomes 2. Organisational …": the item starts at "2."
            cut, resume = marker, marker
        if cut > cursor:
            spans.append((cursor, cut))
            cursor = resume
    spans.append((cursor, end))
    out: list[tuple[int, int]] = []
    pending: int | None = None  # start of a bare list number ("3.") waiting for its sentence
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b <= a:
            continue
        if re.fullmatch(r"(?:•\s*)?\d{1,2}(?:\.\d{1,2})*\.?", text[a:b]):
            pending = a if pending is None else pending
            continue
        out.append((a if pending is None else pending, b))
        pending = None
    return out


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    payload = f"{doc_id}\x1f{start}\x1f{end}\x1f{text}".encode()
    return hashlib.sha256(payload).hexdigest()[:16]


@dataclass(frozen=True)
class ChunkingUnit:
    """Consecutive sections chunked together: all but one (``main``) are short.

    ``main`` is the span of the section whose path the unit carries; the splitter cuts only it,
    so its chunks are the ones it would have alone, and the short sections before and after it
    join its first and last chunk. ``bodies`` are the sections' body spans; the headings between
    them lie inside ``start:end`` (chunk text is one slice of the document) but are never
    sentences.
    """

    path: tuple[str, ...]
    start: int
    end: int
    bodies: tuple[tuple[int, int], ...]
    main: tuple[int, int]


_RULE = re.compile(r"[^\w\s]{3,}")


def is_short(text: str, settings: ChunkingSettings) -> bool:
    """Too little to stand as a chunk: a cover or date line, a "Published: ..." line, a letter
    head; by length (``min_section_chars``), or by shape: no sentence in it ends (a title, a
    date, a label, "Dear Imran,") and it is under ``cover_chars``. A short section that ends a
    sentence ("5.1 None arising directly from this report.") still says something of its own.
    """
    visible = _RULE.sub("", text).strip()  # a rule line ("-----") is decoration, not text
    return len(text) < settings.min_section_chars or (
        len(visible) < settings.cover_chars and not _FULL_STOP.search(text))


def chunking_units(text: str, sections: tuple[Section, ...],
                   settings: ChunkingSettings) -> list[ChunkingUnit]:
    """Sections grouped for chunking: a short section (``is_short``) joins the sections after
    it up to the first that is not short; short sections at the very end join the group before.

    >>> text = "Title date" + " " * 20 + "Body. " * 30
    >>> s = (Section(("T",), 0, 10), Section(("1. A",), 30, 209), Section(("2. B",), 210, 215))
    >>> [(u.path, u.start, u.end, u.main) for u in chunking_units(text, s, ChunkingSettings())]
    [(('1. A',), 0, 215, (30, 209))]
    """
    groups: list[list[Section]] = []
    pending: list[Section] = []
    for section in sections:
        pending.append(section)
        if not is_short(text[section.start:section.end], settings):
            groups.append(pending)
            pending = []
    if pending and groups:
        groups[-1].extend(pending)
    elif pending:
        groups.append(pending)
    units: list[ChunkingUnit] = []
    previous_end = 0
    for group in groups:
        # the path of the one section that is not short: the text the chunks are about
        main = next((s for s in group if not is_short(text[s.start:s.end], settings)),
                    max(group, key=lambda s: s.end - s.start))
        start = _own_headings_start(text, group[0], main, previous_end)
        units.append(ChunkingUnit(path=main.path, start=start, end=group[-1].end,
                                  bodies=tuple((s.start, s.end) for s in group),
                                  main=(main.start, main.end)))
        previous_end = group[-1].end
    return units


def _own_headings_start(text: str, first: Section, main: Section, floor: int) -> int:
    """Where a unit led by a short section starts: at that section's own headings, the ones
    not on the main section's path ("## LGA Corporate Peer Challenge" above "Dates of the
    onsite visit: ..."), which the chunk's path no longer names; else at its body.

    The cover's meaning is in them: without them "When was the peer challenge?" found only a
    visit date under "Executive summary".
    """
    if first is main:
        return first.start
    shared = 0
    while shared < min(len(first.path), len(main.path)) and first.path[shared] == main.path[shared]:
        shared += 1
    own = first.path[shared:]
    found = text.find(own[0], floor, first.start) if own else -1
    return max(floor, text.rfind("\n", floor, found) + 1) if found >= 0 else first.start


def chunk_document(doc: Document, settings: ChunkingSettings, count_tokens: TokenCounter) -> list[Chunk]:
    """Split every section body of ``doc`` into overlapping token-sized chunks."""
    # Fix (tests): the splitter only overlaps pieces that it merges from small splits, so two
    # chunks meeting at a paragraph break shared no text (39 of 50 neighbours in the 2017 report).
    # Split into pieces of chunk_tokens - overlap_tokens without overlap, then start every chunk
    # but a section's first up to overlap_tokens earlier, inside the previous piece.
    step = max(1, settings.chunk_tokens - settings.overlap_tokens)
    splitter = _splitter(step, count_tokens)
    chunks: list[Chunk] = []
    for unit in chunking_units(doc.text, doc.sections, settings):
        body = doc.text[unit.start:unit.end]
        sentences = [span for a, b in unit.bodies for span in sentence_spans(doc.text, a, b)]
        sentence_starts = {a - unit.start for a, _ in sentences}
        pieces, count_span = _unit_pieces(body, unit, splitter.split_text, settings, count_tokens)
        # a piece of headings alone (between a cover line and its section, when the budget was
        # too small to join them) holds no section text: headings are never chunks of their own
        pieces = [(a, b) for a, b in pieces
                  if any(x < unit.start + b and unit.start + a < y for x, y in unit.bodies)]
        prev_start = 0
        for i, (found, stop) in enumerate(pieces):
            if i:
                found = _overlap_start(body, pieces[i - 1][0], prev_start, found, stop,
                                       sentence_starts, settings, count_span)  # type: ignore[arg-type]
            prev_start = found
            piece = body[found:stop]
            start = unit.start + found
            end = start + len(piece)
            page = doc.page_at(start)
            chunks.append(Chunk(
                chunk_id=chunk_id(doc.meta.doc_id, start, end, piece),
                doc_id=doc.meta.doc_id,
                text=piece,
                start=start,
                end=end,
                section=unit.path,
                ordinal=len(chunks),
                page=page.index if page else None,
                page_label=page.label if page else None,
                sentences=tuple(
                    Sentence(max(a, start), min(b, end)) for a, b in sentences if a < end and b > start
                ),
            ))
    return chunks


def _splitter(size: int, count_tokens: TokenCounter) -> RecursiveCharacterTextSplitter:
    """Pieces of at most ``size`` tokens, cut at the first of ``SEPARATORS`` that fits."""
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=size,
        chunk_overlap=0,
        length_function=_visible_length(count_tokens),
        strip_whitespace=True,
    )


def _unit_pieces(body: str, unit: ChunkingUnit, split: Callable[[str], list[str]],
                 settings: ChunkingSettings, count_tokens: TokenCounter
                 ) -> tuple[list[tuple[int, int]], Callable[[int, int], int] | None]:
    """Piece spans in ``body`` (the unit's text) and the span counter used for them.

    Only the main section is split, so its pieces are the ones it has alone; the short sections
    before it (a cover or date line, and the headings between) are prepended to its first piece,
    those after it appended to its last. Splitting the cover with the section instead moves
    every later cut in the section: a letter's peer-team list was cut from its "The peer team
    consisted of:" line and lost its question (seed a179 rank 1 -> 9). When the joined first or
    last piece would pass ``chunk_tokens``, the whole unit is split as one text instead.
    """
    lo, hi = unit.main[0] - unit.start, unit.main[1] - unit.start
    pieces = [(a + lo, b + lo) for a, b in _locate_pieces(body[lo:hi], split(body[lo:hi]))]
    joined = lo > 0 or hi < len(body)
    count_span = span_counter(body, count_tokens) if len(pieces) > 1 or joined else None
    if count_span is None:
        return pieces, None
    pieces = _join_short_pieces(body, pieces, settings, count_span)
    if not joined or not pieces:
        return pieces, count_span
    room = settings.chunk_tokens - count_span(0, lo)
    if lo and count_span(0, pieces[0][1]) > settings.chunk_tokens and room >= settings.min_piece_tokens:
        # the cover does not fit beside the section's first piece: that piece alone is cut
        # again to leave room for it, so the cover never stands alone and no later cut moves
        a, b = pieces[0]
        again = _locate_pieces(body[a:b], _splitter(room, count_tokens).split_text(body[a:b]))
        pieces[:1] = [(x + a, y + a) for x, y in again]
        pieces[0] = (0, pieces[0][1])
        pieces = _join_short_pieces(body, pieces, settings, count_span)  # a short tail of the cut
    pieces[0] = (0, pieces[0][1])
    pieces[-1] = (pieces[-1][0], len(body.rstrip()))
    if all(count_span(a, b) <= settings.chunk_tokens for a, b in (pieces[0], pieces[-1])):
        return pieces, count_span
    whole = _locate_pieces(body, split(body))
    return _join_short_pieces(body, whole, settings, count_span), count_span


def _visible_length(count_tokens: TokenCounter) -> TokenCounter:
    """``count_tokens``, but at least 1 for text that is not blank.

    The model's tokenizer drops some characters entirely (combining accents such as the one
    NFKC splits off "´", control characters), so "\u0301 " counts 0 tokens. The splitter's
    merge keeps popping splits off the front while their total exceeds ``chunk_overlap`` and
    so carries such a zero-length split into the next piece even with ``chunk_overlap=0``:
    two pieces then share a character and the second is not found after the first.
    """
    def length(text: str) -> int:
        return count_tokens(text) or (1 if text.strip() else 0)

    return length


def _locate_pieces(body: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Offsets of the splitter's pieces in ``body``, in order and never overlapping.

    A piece that is not found after the previous one repeats that piece's tail (the
    splitter's overlap logic); it is found from the previous piece's start and cut where the
    previous piece ended, so ``body[a:b]`` is always the text the chunk holds.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        found = body.find(piece, cursor)
        if found < 0:
            found = body.find(piece, spans[-1][0] if spans else 0)
        if found < 0:  # not a substring at all: keep the invariant rather than guess
            raise ValueError("the text splitter returned text that is not in the document")
        start, stop = max(found, cursor), found + len(piece)
        while start < stop and body[start].isspace():
            start += 1
        if start < stop:
            spans.append((start, stop))
            cursor = stop
    return spans


def _join_short_pieces(body: str, pieces: list[tuple[int, int]], settings: ChunkingSettings,
                       count_span: Callable[[int, int], int]) -> list[tuple[int, int]]:
    """Pieces with every piece under ``min_section_chars`` characters or ``min_piece_tokens``
    tokens joined to the one after it (the last to the one before), when the joined piece stays
    within ``chunk_tokens``.

    The splitter leaves a short piece where a short line ("On-site: 12-15 March 2024") or a
    lead-in ("The key recommendations are:") is followed by a paragraph or list too long to
    share its piece; alone, the lead-in matched every question about recommendations and the
    list it introduces ranked below it.
    """
    out: list[tuple[int, int]] = []
    carry: tuple[int, int] | None = None  # a short piece waiting to join the next

    def settle(piece: tuple[int, int]) -> None:
        """Join a short piece that cannot join the next to the one before, or keep it."""
        if out and count_span(out[-1][0], piece[1]) <= settings.chunk_tokens:
            out[-1] = (out[-1][0], piece[1])
        else:
            out.append(piece)

    for a, b in pieces:
        if carry is not None:
            if count_span(carry[0], b) <= settings.chunk_tokens:
                a = carry[0]
            else:
                settle(carry)
        carry = None
        if (len(body[a:b]) < settings.min_section_chars
                or count_span(a, b) < settings.min_piece_tokens):
            carry = (a, b)
        else:
            out.append((a, b))
    if carry is not None:
        settle(carry)
    return out


def _overlap_start(body: str, prev_piece: int, prev_chunk: int, start: int, stop: int,
                   sentence_starts: set[int], settings: ChunkingSettings,
                   count_span: Callable[[int, int], int]) -> int:
    """The earliest sentence start in the previous piece that keeps the overlap within
    ``overlap_tokens`` and the chunk within ``chunk_tokens``; ``start`` (no overlap) if there is
    none. Never a word start mid-sentence: 10 of 93 chunks used to open with half a sentence,
    which answers then quoted as if it were whole.
    The chunk starts after the previous chunk's start, so it never swallows that chunk whole."""
    words = [m.start() for m in _WORD_START.finditer(body, max(prev_piece, prev_chunk + 1), start)]

    def fits(pos: int) -> bool:
        return (count_span(pos, start) <= settings.overlap_tokens
                and count_span(pos, stop) <= settings.chunk_tokens)

    # Going back, token counts only grow, so the positions that fit are a suffix of ``words``:
    # binary-search its first element instead of counting tokens at every word.
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(words[mid]):
            hi = mid
        else:
            lo = mid + 1
    if lo == len(words):
        return start
    at_sentence = [p for p in words[lo:] if p in sentence_starts]
    return min(at_sentence) if at_sentence else start


def embedding_text(chunk: Chunk, meta: DocumentMeta, count_tokens: TokenCounter | None = None,
                   header_tokens: int = 48) -> str:
    """The text that is embedded and BM25-indexed: a contextual header, then the chunk."""
    header = contextual_header(chunk, meta)
    if count_tokens is not None:
        while count_tokens(header) > header_tokens and " " in header:
            header = header.rsplit(" ", 1)[0]
    return f"{header}\n{chunk.text}"


def contextual_header(chunk: Chunk, meta: DocumentMeta) -> str:
    section = " > ".join(re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", s) for s in chunk.section)
    # most specific first, so trimming to the token budget drops the least useful part
    return " | ".join(p for p in (meta.council, section, meta.title) if p)
