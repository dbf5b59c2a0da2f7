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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from assistant import record_forms as forms
from assistant.answer_type import ENDS_SENTENCE
from assistant.settings import RegisterSettings
from assistant.types import Document

DEFAULTS = RegisterSettings()  # word-count limits: Settings.register

KINDS = ("recommendation", "action", "action-plan row", "progress statement")
STATUSES = (
    "completed",
    "in progress",
    "paused",
    "planned",
    "reported",  # a later statement speaks of it without saying how far it has got
    "not mentioned",
    "possibly related",
)


_STATUS_CUES = (  # the earliest cue in a sentence decides
    ("paused", r"\bpaused\b|\bon hold\b|\bstalled\b|\bsuspended\b"),
    (
        "in progress",
        (
            r"\bongoing\b|\bwork-in-progress\b|\bin progress\b|\bunder ?way\b"
            r"|\bstart(?:ed|ing) (?:work|to)\b|\b(?:is|are) being \w+ed\b|\bha(?:s|ve) started\b"
        ),
    ),
    (
        "completed",
        (
            r"\bsuccessfully\b|\bcompleted\b|\btaken place\b|\bdelivered\b"
            r"|\bha(?:s|ve) been (?:established|appointed|implemented|relaunched|launched)\b"
            r"|\bha(?:s|ve) (?:approved|agreed|adopted)\b"
            r"|\b(?:was|were) (?:approved|agreed|published|adopted|launched)\b"
            r"|\b(?:points?|areas?) of delivery\b"
        ),
    ),
)
# "no scrutiny review has yet been completed": a cue denied in its own clause says nothing
_NEGATED = re.compile(r"\b(?:not|no|yet|never)\b", re.IGNORECASE)
_FUTURE = re.compile(r"\b(?:will|to) be (?=\w)", re.IGNORECASE)
_ADVICE = re.compile(
    r"\b(?:encourag(?:e|es|ed)|suggest(?:s|ed)?|recommend(?:s|ed)?|advis(?:e|es|ed))\b"
    r"|\bhighlight(?:s|ed)? the (?:importance|need)\b|\bnoted the opportunity\b"
    r"|\b(?:is|are|will be) essential\b",
    re.IGNORECASE,
)
_RECOMMENDED = re.compile(r"\brecommend(?:ed|ations?)\b", re.IGNORECASE)
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
    lead: str = ""  # action-plan row or action: lead officer(s)
    target: str = ""  # action-plan row or action: target date, as printed
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
        for m in re.finditer(cue, text, re.IGNORECASE)
        if not _NEGATED.search(re.split(r"[,;.:]", text[: m.start()])[-1])
    ]
    if not found:
        return ""
    start, status = min(found)
    future = _FUTURE.search(text)  # "will be completed by September" is a plan
    return "planned" if future and future.start() <= start < future.end() + 1 else status


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


def numbered_recommendations(doc: Document, tuning: RegisterSettings = DEFAULTS) -> list[Record]:
    """Items of "recommendations" regions, in any printed form (see ``record_forms``).

    The record is the item's first sentence ("5. Work out what you want from shared services.");
    the rest of the item is its ``detail``. A table row gives its longest cell's first sentence.
    """
    records = []
    for r_start, r_end in forms.regions(doc, r"recommendation"):
        rows = _table_recommendations(doc, r_start, r_end, tuning)
        if rows:
            records += rows
            continue
        for item in forms.items(doc.text, r_start, r_end):
            first = next(_sentences(doc.text, item.start, item.end), None)
            if first is None:
                continue
            start, end = first
            detail = " ".join(doc.text[end : item.end].split())
            records.append(
                _record(doc, "recommendation", start, end, number=item.number, detail=detail)
            )
    return records


def _table_recommendations(
    doc: Document, start: int, end: int, tuning: RegisterSettings
) -> list[Record]:
    """Rows of a recommendations table: "| 1 | Agree a credible plan … | Financial planning |"."""
    records = []
    for a, b in forms.lines(doc.text, start, end):
        if not forms.is_table_line(doc.text[a:b]):
            continue
        cells = forms.table_cells(doc.text, a, b)
        texts = [doc.text[x:y] for x, y in cells]
        if len(cells) < 2 or forms.is_header_row(texts, tuning.header_cell_words):
            continue
        number = next((t for t in texts if re.fullmatch(r"\d{1,2}", t)), None)
        x, y = max(cells, key=lambda c: c[1] - c[0])
        first = next(_sentences(doc.text, x, y), None)
        if first:
            detail = " ".join(doc.text[first[1] : y].split())
            records.append(_record(doc, "recommendation", *first, number=number, detail=detail))
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


_ACTION_REGION = r"action plan|\bactions?\b|\bresponse\b"


def _action_spans(doc: Document) -> list[tuple[int, int]]:
    """Where a document lists actions: all of an action plan, else regions naming actions."""
    if doc.meta.doc_type == "action plan":
        return [(0, len(doc.text))]
    return forms.regions(doc, _ACTION_REGION)


def action_bullets(doc: Document) -> list[Record]:
    """Bullets of action regions; examples under a bullet ending in ":" become its detail.

    Nesting is lost in cleaned text, so an example is recognised by not being an instruction:
    after "• Design and deliver … for example:", "• Preparation for the next Local Plan" is an
    example and "• Use our 2018 Medium Term Financial Strategy …" is the next action.
    """
    records: list[Record] = []
    for sec_start, sec_end in _action_spans(doc):
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


def labelled_actions(doc: Document) -> list[Record]:
    """Paragraphs of action regions written as fields: "Recommendation: … Action: … Lead: …"."""
    records = []
    for r_start, r_end in _action_spans(doc):
        for p_start, p_end in _paragraphs(doc.text, r_start, r_end):
            fields = forms.labelled_fields(doc.text, p_start, p_end)
            if "action" not in fields:
                continue
            a, b = _trim(doc.text, *fields["action"])
            records.append(
                _record(
                    doc,
                    "action",
                    a,
                    b,
                    detail=_field(doc, fields, "recommendation"),
                    lead=_field(doc, fields, "lead"),
                    target=_field(doc, fields, "target"),
                    status=status_of(doc.text[a:b]) or "planned",
                )
            )
    return records


def _field(doc: Document, fields: dict[str, tuple[int, int]], role: str) -> str:
    a, b = fields.get(role, (0, 0))
    return " ".join(doc.text[a:b].split()).rstrip(".")


def table_rows(doc: Document, tuning: RegisterSettings = DEFAULTS) -> list[Record]:
    """Rows of action-plan tables: by the header's columns when it names a recommendation and
    an action column; else action | response | lead officer (the cells a row has)."""
    records = []
    for sec_start, sec_end in _action_spans(doc):
        header: list[str] | None = None
        for l_start, l_end in _lines(doc.text, sec_start, sec_end):
            if not forms.is_table_line(doc.text[l_start:l_end]):
                continue
            cells = forms.table_cells(doc.text, l_start, l_end)
            texts = [doc.text[a:b] for a, b in cells]
            if forms.is_header_row(texts, tuning.header_cell_words):
                header = texts  # a (new) header row names the columns of the rows below it
                continue
            roles = forms.column_roles(header or [])
            if {"action", "recommendation"} <= set(roles):
                record = _mapped_row(doc, cells, roles)
            else:
                record = _plain_row(doc, cells, header)
            if record:
                records.append(record)
    return records


def _mapped_row(doc: Document, cells: list[tuple[int, int]], roles: list[str]) -> Record | None:
    """A row read by its header: number, recommendation, action, lead officer, target date.

    A converted document may join the number to the next cell ("1 Set out a clear …"): then
    the row has one cell fewer than the header and starts with the number.
    """
    number = None
    first = doc.text[cells[0][0] : cells[0][1]] if cells else ""
    joined = re.match(r"(\d{1,2})\s+\S", first)
    if roles and roles[0] == "number" and len(cells) < len(roles) and joined:
        number = joined.group(1)
        cells = [(cells[0][0] + joined.end(1), cells[0][1])] + cells[1:]
        roles = roles[1:]
    by_role = {role: cell for role, cell in zip(roles, cells) if role}
    if "action" not in by_role:
        return None
    if "number" in by_role:
        number = doc.text[slice(*by_role["number"])].strip() or number
    a, b = _trim(doc.text, *by_role["action"])
    return _record(
        doc,
        "action-plan row",
        a,
        b,
        number=number if number and number.isdigit() else None,
        detail=_field(doc, by_role, "recommendation"),
        lead=_field(doc, by_role, "lead"),
        target=_field(doc, by_role, "target"),
        status=status_of(doc.text[a:b]) or "planned",
    )


def _plain_row(doc: Document, cells: list[tuple[int, int]], header: list[str] | None):
    """action | response | lead officer; a row may lack its action cell."""
    if len(cells) < 2:
        return None
    texts = [doc.text[a:b] for a, b in cells]
    lead_column = re.compile(r"lead|officer|owner|responsib", re.IGNORECASE)
    has_lead = bool(header) and lead_column.search(header[-1])
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
    return _record(
        doc,
        "action-plan row",
        main[0],
        main[1],
        response=response_text,
        lead=lead,
        status=status_of(response_text) or "planned",
    )


def _list_items(text: str, start: int, end: int, min_words: int) -> list[tuple[int, int]]:
    """Spans of the items of a list: split on ";" if any, else on "and" before "the"/"a"/gerund.

    "achieving X and the completion of Y" → ["achieving X", "the completion of Y"].
    """
    splitter = re.compile(r";\s*") if ";" in text[start:end] else _ITEM_SPLIT
    cuts = list(splitter.finditer(text, start, end))
    bounds = zip([start] + [m.end() for m in cuts], [m.start() for m in cuts] + [end])
    items = [_trim(text, a, b, " \t\n,;:.") for a, b in bounds]
    return [(a, b) for a, b in items if len(text[a:b].split()) >= min_words]


def progress_by_recommendation(doc: Document) -> list[Record]:
    """Progress a review reports recommendation by recommendation, as its structure shows.

    Under a heading "Progress against the recommendations" each paragraph is one statement
    (numbered when it opens "Recommendation 2: …"); a heading naming one recommendation
    ("Recommendation 2: the partnership with …") is answered by the paragraph below it.
    """
    records = []
    for r_start, r_end in forms.regions(doc, r"\bprogress\b.{0,40}\brecommendations?\b"):
        for p_start, p_end in _paragraphs(doc.text, r_start, r_end):
            label = forms.LABELLED.match(doc.text, p_start, p_end)
            number = next((g for g in label.groups() if g), None) if label else None
            text = doc.text[p_start:p_end]
            records.append(
                _record(
                    doc, "progress statement", p_start, p_end, number=number, status=status_of(text)
                )
            )
    for l_start, l_end in _lines(doc.text, 0, len(doc.text)):
        line = doc.text[l_start:l_end].strip("#* ")
        label = forms.LABELLED.match(line)
        if not label or not forms.is_heading_line(line) or label.end() >= len(line):
            continue
        body = next(_paragraphs(doc.text, l_end, len(doc.text)), None)
        if body and not any(r.source.start <= body[0] < r.source.end for r in records):
            number = next(g for g in label.groups() if g)
            text = doc.text[body[0] : body[1]]
            records.append(
                _record(doc, "progress statement", *body, number=number, status=status_of(text))
            )
    return records


def progress_statements(
    doc: Document, tuning: RegisterSettings = DEFAULTS, standard: frozenset[int] = frozenset()
) -> list[Record]:
    """Sentences reporting a status; "… including X and Y." gives one record per item.

    Sentences starting at an offset in ``standard`` (standard text found across councils,
    ``assistant.boilerplate``) and the peers' summary of what they recommended are no
    progress statements.
    """
    records = []
    for start, end in _sentences(doc.text, 0, len(doc.text)):
        sentence = doc.text[start:end]
        if sentence[:1] in "\"'“" or start in standard:  # councillors' quotes, standard text
            continue
        marker = _LIST_MARKER.search(sentence)
        head = sentence[: marker.start()] if marker else sentence
        if _PEERS.search(head) and _RECOMMENDED.search(head):
            continue
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


# A progress review's sentence that may report progress in plain words, with no status word
# ("General reserves have risen to 14.4 million pounds."): a record only once lineage finds the
# action or recommendation it answers (``recommendations.settle_candidates``), else dropped.
CANDIDATE = "progress candidate"


def progress_candidates(
    doc: Document, taken: Sequence[Record], tuning: RegisterSettings = DEFAULTS,
    standard: frozenset[int] = frozenset(),
) -> list[Record]:
    """The sentences of an unstructured progress review no other record holds: whole sentences
    of at least ``tuning.candidate_words`` words, not standard text, a quote, a heading, an
    address line or the peers' summary of what they recommended."""
    held = [(r.source.start, r.source.end) for r in taken]
    records = []
    for start, end in _sentences(doc.text, 0, len(doc.text)):
        sentence = doc.text[start:end]
        if (start in standard or sentence[:1] in "\"'“•-*" or not ENDS_SENTENCE.search(sentence)
                or len(sentence.split()) < tuning.candidate_words or "\n" in sentence.strip()
                or any(a < end and start < b for a, b in held)
                or (_PEERS.search(sentence) and _RECOMMENDED.search(sentence))):
            continue
        records.append(_record(doc, CANDIDATE, start, end, status=status_of(sentence)))
    return records


def extract_records(
    doc: Document, tuning: RegisterSettings = DEFAULTS, standard: frozenset[int] = frozenset()
) -> list[Record]:
    """Every register record of one document, in text order.

    Recommendations come from peer challenge reports (a cabinet report's "Recommendations"
    are the cabinet's own) and, when a progress review has no numbered list, from the peers'
    advice in it. ``standard``: sentence starts of standard text in this document.
    """
    doc_type = doc.meta.doc_type
    records = action_bullets(doc) + labelled_actions(doc) + table_rows(doc, tuning)
    if doc_type == "peer challenge report":
        records += numbered_recommendations(doc, tuning)
    if doc_type in ("progress review", "news"):
        structured = progress_by_recommendation(doc) if doc_type == "progress review" else []
        records += structured or progress_statements(doc, tuning, standard)
        if doc_type == "progress review" and not structured:
            records += progress_candidates(doc, records, tuning, standard)
        if doc_type == "progress review" and not any(r.kind == "recommendation" for r in records):
            records += cue_recommendations(doc)
    return sorted(records, key=lambda r: r.source.start)


def extract_corpus(
    documents: Iterable[Document],
    tuning: RegisterSettings = DEFAULTS,
    standard: frozenset[tuple[str, int]] = frozenset(),
) -> list[Record]:
    """Every record of every document, by council, date and document.

    A progress review's unnumbered advice stands in for recommendations only for a council
    whose own report of recommendations the corpus lacks; otherwise that advice is a further
    suggestion, and the report's list is the council's recommendations. ``standard``:
    (doc_id, sentence start) of standard text (``assistant.boilerplate``).
    """
    ordered = sorted(documents, key=lambda d: (d.meta.council, d.meta.date, d.meta.doc_id))
    starts: dict[str, set[int]] = {}
    for doc_id, start in standard:
        starts.setdefault(doc_id, set()).add(start)
    per_doc = {
        d.meta.doc_id: extract_records(d, tuning, frozenset(starts.get(d.meta.doc_id, ())))
        for d in ordered
    }
    reported = {
        d.meta.council
        for d in ordered
        if d.meta.doc_type == "peer challenge report"
        and any(r.kind == "recommendation" for r in per_doc[d.meta.doc_id])
    }
    return [
        r
        for d in ordered
        for r in per_doc[d.meta.doc_id]
        if not (
            r.kind == "recommendation"
            and d.meta.doc_type == "progress review"
            and r.council in reported
        )
    ]
