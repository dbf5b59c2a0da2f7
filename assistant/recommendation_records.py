"""Recommendation records taken from the structure of cleaned documents.

Records come from the structure of the cleaned documents, not from known strings:

* **recommendation** — the numbered (or bulleted) items of a section whose heading names
  recommendations ("2. Key recommendations"); the text is the item's first sentence, the
  rest is kept as ``detail``. A progress-review letter has no such section: there, sentences
  with a peer cue ("Peers encouraged…", "Peers suggest…", "… needs to …", "is advised") are
  recommendations, unnumbered.
* **action** — the bullets of a section whose heading names an action plan. A bullet ending
  in ":" introduces examples (bullets that do not start with a verb); they go into ``detail``.
* **action-plan row** — the table rows (cells joined by " | " in the cleaned text) of an
  action-plan section: action, response and lead officer. A two-cell row whose first cell is
  not an instruction ("These meetings are well established…") lacks its action cell.
* **progress statement** — sentences of progress reviews and news that report a status
  ("paused", "ongoing", "successfully…"); a list after "including", "such as" or "for
  example" becomes one record per item, each with the sentence's status.

Every record cites its source: ``document.text[source.start:source.end] == record.text``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from assistant.settings import RegisterSettings
from assistant.types import Document

DEFAULTS = RegisterSettings()  # word-count limits: Settings.register

KINDS = ("recommendation", "action", "action-plan row", "progress statement")
STATUSES = ("completed", "in progress", "paused", "planned", "not mentioned", "possibly related")


_STATUS_CUES = (  # the earliest cue in a sentence decides
    ("paused", r"\bpaused\b|\bon hold\b|\bstalled\b|\bsuspended\b"),
    (
        "in progress",
        (
            r"\bongoing\b|\bwork-in-progress\b|\bin progress\b|\bunder ?way\b"
            r"|\bstart(?:ed|ing) (?:work|to)\b|\b(?:is|are) being \w+ed\b"
        ),
    ),
    (
        "completed",
        (
            r"\bsuccessfully\b|\bcompleted\b|\btaken place\b|\bdelivered\b"
            r"|\bha(?:s|ve) been (?:established|appointed|implemented)\b"
            r"|\b(?:points?|areas?) of delivery\b"
        ),
    ),
)
_ADVICE = re.compile(
    r"\b(?:encourag(?:e|es|ed)|suggest(?:s|ed)?|recommend(?:s|ed)?|advis(?:e|es|ed))\b"
    r"|\bhighlight(?:s|ed)? the (?:importance|need)\b|\bnoted the opportunity\b"
    r"|\b(?:is|are|will be) essential\b",
    re.IGNORECASE,
)
_PEERS = re.compile(r"\bpeers?\b|\bpeer team\b", re.IGNORECASE)
_DUTY = re.compile(r"\bneeds? to\b|\bshould\b|\b(?:is|are) advised\b", re.IGNORECASE)
_LIST_MARKER = re.compile(
    r",?\s+(?:including|included|such as|for example|e\.g\.)\s+", re.IGNORECASE
)
_ITEM_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:the|a|an)\s|(?!being\b|during\b|nothing\b|something\b)"
    r"[a-z]{3,}ing\b)"
)
_SENTENCE = re.compile(r".+?(?:[.!?](?=[\"')\]]*(?:\s+[\"'(]?[A-Z0-9£]|\s*$))|$)", re.DOTALL)
_ITEM_START = re.compile(r"(?:(\d{1,2})[.)]|•)\s+")
_HEADER_WORDS = re.compile(
    r"\b(?:action|response|lead|officer|owner|responsib\w*|timescale|deadline|status"
    r"|progress|recommendation|location|documents?|comments?|notes?|date)\b",
    re.IGNORECASE,
)
_BULLET = re.compile(r"[ \t]*•[ \t]*")
# First words that make a bullet or a table cell an instruction ("Ensure…", "Look again…").
_VERB_WORDS = """
achieve address adopt agree align appoint apply articulate assess build celebrate check
clarify commission communicate complete consider consolidate continue create decide define
deliver design determine develop draw embed enable encourage engage enhance ensure establish
evaluate explore focus harness identify implement improve increase integrate introduce invest
involve launch lead learn look maintain make map measure modernise modernize monitor move
negotiate plan prepare prioritise prioritize progress promote provide publish put recalibrate
recruit reduce refine reflect refresh reinvigorate report reset respond retain review secure
seek set share simplify streamline strengthen support tackle take test think undertake use widen
work
"""
_VERBS = frozenset(_VERB_WORDS.split())


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Source:
    """Where a text is: ``documents[doc_id].text[start:end]``."""

    doc_id: str
    section: tuple[str, ...]
    page: str | None
    start: int
    end: int

    def cite(self) -> str:
        where = " › ".join(self.section) or "start of document"
        page = f", p. {self.page}" if self.page else ""
        return f"{self.doc_id} — {where}{page} [{self.start}:{self.end}]"


@dataclass(frozen=True)
class Link:
    """A later statement about a recommendation."""

    record_id: str  # the statement's record
    text: str
    status: str  # the statement's status ("planned" for an action without a progress cue)
    strength: str  # "linked" or "possibly related"
    similarity: float
    date: str
    source: Source


@dataclass(frozen=True)
class Record:
    record_id: str  # stable: derived from the source
    kind: str
    council: str
    doc_id: str
    title: str
    date: str
    text: str  # verbatim, == document text at source
    source: Source
    number: str | None = None  # as printed ("5"), when the document numbers its items
    detail: str = ""  # explanation of a key recommendation, examples under an action
    response: str = ""  # action-plan row: the council's response
    lead: str = ""  # action-plan row: lead officer(s)
    status: str = ""  # see STATUSES; "" when the text supports none
    themes: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()


def _record(doc: Document, kind: str, start: int, end: int, **extra) -> Record:
    section = next((s.path for s in reversed(doc.sections) if s.start <= start < s.end), ())
    page = doc.page_at(start)
    meta = doc.meta
    digest = hashlib.sha1(f"{meta.doc_id}:{start}:{end}".encode()).hexdigest()[:10]
    source = Source(meta.doc_id, section, page.label if page else None, start, end)
    return Record(
        record_id=digest,
        kind=kind,
        council=meta.council,
        doc_id=meta.doc_id,
        title=meta.title,
        date=meta.date,
        text=doc.text[start:end],
        source=source,
        **extra,
    )


def _trim(text: str, start: int, end: int, chars: str = " \t\n,;:") -> tuple[int, int]:
    """Shrink [start, end) past surrounding whitespace and ``chars``."""
    while start < end and text[start] in chars:
        start += 1
    while end > start and text[end - 1] in chars:
        end -= 1
    return start, end


def _lines(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    for match in re.finditer(r"[^\n]+", text[start:end]):
        yield start + match.start(), start + match.end()


def _paragraphs(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    for match in re.finditer(r"\S(?:.|\n(?!\s*\n))*", text[start:end]):
        yield start + match.start(), start + match.end()


def _sentences(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``, paragraph by paragraph."""
    for p_start, p_end in _paragraphs(text, start, end):
        for match in _SENTENCE.finditer(text, p_start, p_end):
            a, b = _trim(text, match.start(), match.end(), " \t\n")
            if b > a:
                yield a, b


def starts_with_verb(text: str) -> bool:
    """Does ``text`` read as an instruction ("Ensure that…", "Look again at…")?"""
    match = re.match(r"[\W\d]*([A-Za-z-]+)", text)
    return bool(match) and match.group(1).lower() in _VERBS


def status_of(text: str) -> str:
    """The status a sentence reports, by its earliest cue; "" when it reports none.

    >>> status_of("Progress with Shared Services recommendations have paused following a period")
    'paused'
    >>> status_of("some actions had been successfully progressed including actions underway")
    'completed'
    """
    found = [
        (m.start(), status)
        for status, cue in _STATUS_CUES
        for m in [re.search(cue, text, re.IGNORECASE)]
        if m
    ]
    return min(found)[1] if found else ""


def _section_spans(doc: Document, pattern: str) -> list[tuple[int, int]]:
    """Body spans of the sections whose own heading (last path element) matches ``pattern``."""
    spans = []
    for section in doc.sections:
        if section.path and re.search(pattern, section.path[-1], re.IGNORECASE):
            start = section.start
            if doc.text.startswith(section.path[-1], start):  # span includes its heading line
                start += len(section.path[-1])
            spans.append((start, section.end))
    return spans


# ---------------------------------------------------------------- extractors


def numbered_recommendations(doc: Document) -> list[Record]:
    """Items of "recommendations" sections: "5. Work out what you want from shared services. …"."""
    records = []
    for sec_start, sec_end in _section_spans(doc, r"recommendation"):
        for p_start, p_end in _paragraphs(doc.text, sec_start, sec_end):
            marker = _ITEM_START.match(doc.text, p_start, p_end)
            if not marker:
                continue
            first = next(_sentences(doc.text, marker.end(), p_end), None)
            if first is None:
                continue
            start, end = first
            detail = " ".join(doc.text[end:p_end].split())
            records.append(
                _record(doc, "recommendation", start, end, number=marker.group(1), detail=detail)
            )
    return records


def cue_recommendations(doc: Document) -> list[Record]:
    """Sentences of a progress review in which the peers advise ("Peers suggest the Council…")."""
    records = []
    for start, end in _sentences(doc.text, 0, len(doc.text)):
        sentence = doc.text[start:end]
        advice = bool(_ADVICE.search(sentence) and _PEERS.search(sentence)) or bool(
            _DUTY.search(sentence)
        )
        if sentence[:1] in "\"'“" or status_of(sentence) or not advice:
            continue
        records.append(_record(doc, "recommendation", start, end))
    return records


def action_bullets(doc: Document) -> list[Record]:
    """Bullets of "action plan" sections; examples under a bullet ending in ":" become its detail.

    Nesting is lost in cleaned text, so an example is recognised by not being an instruction:
    after "• Design and deliver … for example:", "• Preparation for the next Local Plan" is an
    example and "• Use our 2018 Medium Term Financial Strategy …" is the next action.
    """
    records: list[Record] = []
    for sec_start, sec_end in _section_spans(doc, r"action plan"):
        examples_open = False
        for l_start, l_end in _lines(doc.text, sec_start, sec_end):
            bullet = _BULLET.match(doc.text, l_start, l_end)
            if not bullet:
                examples_open = False
                continue
            start, end = _trim(doc.text, bullet.end(), l_end, " \t")
            text = doc.text[start:end]
            if examples_open and records and not starts_with_verb(text):
                parent = records[-1]
                detail = "; ".join(filter(None, (parent.detail, text.rstrip("."))))
                records[-1] = replace(parent, detail=detail)
                continue
            records.append(_record(doc, "action", start, end, status=status_of(text) or "planned"))
            examples_open = text.endswith(":")
    return records


def table_rows(doc: Document, tuning: RegisterSettings = DEFAULTS) -> list[Record]:
    """Rows of "action plan" tables: action | response | lead officer."""
    records = []
    for sec_start, sec_end in _section_spans(doc, r"action plan"):
        header: list[str] | None = None
        for l_start, l_end in _lines(doc.text, sec_start, sec_end):
            line = doc.text[l_start:l_end]
            if " | " not in line and not line.rstrip().endswith(" |"):
                continue
            cells = []
            for match in re.finditer(r"[^|]+", line):
                a, b = _trim(doc.text, l_start + match.start(), l_start + match.end(), " \t")
                if b > a:
                    cells.append((a, b))
            texts = [doc.text[a:b] for a, b in cells]
            if all(len(t.split()) <= tuning.header_cell_words for t in texts) and any(
                _HEADER_WORDS.search(t) for t in texts
            ):
                header = texts  # a (new) header row names the columns of the rows below it
                continue
            if len(cells) < 2:
                continue
            has_lead = bool(header) and re.search(
                r"lead|officer|owner|responsib", header[-1], re.IGNORECASE
            )
            lead = texts[-1] if has_lead else ""
            body = cells[:-1] if has_lead else cells
            if len(body) >= 2:
                action, response = body[0], body[1:]
            elif starts_with_verb(doc.text[body[0][0] : body[0][1]]):
                action, response = body[0], []
            else:  # the action cell is missing: the row starts with the response
                action, response = None, body
            response_text = " ".join(doc.text[a:b] for a, b in response)
            main = action or response[0]
            records.append(
                _record(
                    doc,
                    "action-plan row",
                    main[0],
                    main[1],
                    response=response_text,
                    lead=lead,
                    status=status_of(response_text) or "planned",
                )
            )
    return records


def _list_items(text: str, start: int, end: int, min_words: int) -> list[tuple[int, int]]:
    """Spans of the items of a list: split on ";" if any, else on "and" before "the"/"a"/gerund.

    "achieving X and the completion of Y" → ["achieving X", "the completion of Y"].
    """
    splitter = re.compile(r";\s*") if ";" in text[start:end] else _ITEM_SPLIT
    cuts = list(splitter.finditer(text, start, end))
    bounds = zip([start] + [m.end() for m in cuts], [m.start() for m in cuts] + [end])
    items = [_trim(text, a, b, " \t\n,;:.") for a, b in bounds]
    return [(a, b) for a, b in items if len(text[a:b].split()) >= min_words]


def progress_statements(doc: Document, tuning: RegisterSettings = DEFAULTS) -> list[Record]:
    """Sentences reporting a status; "… including X and Y." gives one record per item."""
    records = []
    for start, end in _sentences(doc.text, 0, len(doc.text)):
        sentence = doc.text[start:end]
        if sentence[:1] in "\"'“":  # quoted remarks by councillors are not the peers' findings
            continue
        marker = _LIST_MARKER.search(sentence)
        head = sentence[: marker.start()] if marker else sentence
        status = status_of(head) or (status_of(sentence) if not marker else "")
        if not status:
            continue
        if not marker:
            records.append(_record(doc, "progress statement", start, end, status=status))
            continue
        for a, b in _list_items(doc.text, start + marker.end(), end, tuning.min_item_words):
            records.append(
                _record(
                    doc,
                    "progress statement",
                    a,
                    b,
                    status=status,
                    detail=" ".join(sentence.split()),
                )
            )
    return records


def extract_records(doc: Document, tuning: RegisterSettings = DEFAULTS) -> list[Record]:
    """Every register record of one document, in text order."""
    doc_type = doc.meta.doc_type
    records = numbered_recommendations(doc) + action_bullets(doc) + table_rows(doc, tuning)
    if doc_type in ("progress review", "news"):
        records += progress_statements(doc, tuning)
        if doc_type == "progress review" and not any(r.kind == "recommendation" for r in records):
            records += cue_recommendations(doc)
    return sorted(records, key=lambda r: r.source.start)
