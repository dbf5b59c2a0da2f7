"""The data chain: Document → Chunk → Passage → Answer, all frozen.

Offsets are character offsets into the document's *cleaned* text, so
``document.text[chunk.start:chunk.end] == chunk.text`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.domain import load_domain

DOC_TYPES = load_domain().doc_type_names  # "peer challenge report", "progress review", …
# the council of a document whose text names none (ingest/metadata.py): no council a question
# can name, so never one of the corpus's councils
UNKNOWN_COUNCIL = "Unknown council"


@dataclass(frozen=True)
class DocumentMeta:
    doc_id: str
    title: str
    council: str
    doc_type: str
    date: str  # ISO date or partial ("2017-12", "2018"); "" when unknown
    visit_date: str = ""
    description: str = ""
    source: str = ""  # file name inside the corpus folder
    inferred: tuple[str, ...] = ()  # fields guessed from the text rather than catalogued

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date[:4].isdigit() else None

    @property
    def years(self) -> tuple[int, ...]:
        """Years the document speaks for: its date and the visit it reports on."""
        found = {int(d[:4]) for d in (self.date, self.visit_date) if d[:4].isdigit()}
        return tuple(sorted(found))


@dataclass(frozen=True)
class PageSpan:
    """Page ``index`` (0-based) with printed ``label`` starts at ``start`` in the cleaned text."""

    start: int
    index: int
    label: str


@dataclass(frozen=True)
class Section:
    """A heading and the span of cleaned text it governs (heading line included)."""

    path: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    meta: DocumentMeta
    text: str  # cleaned text
    sections: tuple[Section, ...]
    pages: tuple[PageSpan, ...] = ()
    content_hash: str = ""

    def page_at(self, offset: int) -> PageSpan | None:
        current = None
        for page in self.pages:
            if page.start <= offset:
                current = page
            else:
                break
        return current


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into the document's cleaned text
    end: int


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    section: tuple[str, ...]
    ordinal: int  # position of the chunk within its document
    page: int | None = None  # 0-based page index (PDF only)
    page_label: str | None = None  # printed page label (PDF only)
    sentences: tuple[Sentence, ...] = ()

    @property
    def section_title(self) -> str:
        return " › ".join(self.section)

    def sentence_texts(self) -> list[str]:
        """The text of each of its sentences, in order."""
        return [self.text[s.start - self.start:s.end - self.start] for s in self.sentences]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score and the sentences the answer quotes from it."""

    chunk: Chunk
    meta: DocumentMeta
    score: float
    quoted: tuple[str, ...] = ()
    sentence_scores: tuple[float, ...] = ()
    # the part of ``score`` it owes to giving the kind of answer asked for (a date, a figure),
    # not to its topic: evidence that the corpus answers must not count what this lifted
    lift: float = 0.0


@dataclass(frozen=True)
class Filters:
    council: str | None = None
    doc_type: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_id: str | None = None
    theme: str | None = None
    # documents about these councils left out: the own council of a person asked about as a
    # peer ("which peer team included the chief executive of X?")
    not_councils: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.not_councils) or any(
            v is not None
            for v in (self.council, self.doc_type, self.year_from, self.year_to, self.doc_id, self.theme)
        )


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    passages: tuple[Passage, ...]
    citations: tuple[int, ...]
    mode: str = "extractive"  # or "generative"
    notice: str = ""  # e.g. why generation fell back, or why the answer abstained
    # "", "no_evidence", "filtered_out", "unknown_council", "unknown_year", "unknown_document",
    # "unknown_name", "unknown_topic", "not_stated" (README: JSON answer schema)
    reason: str = ""
    index_version: str = ""
    filters: Filters = field(default_factory=Filters)
    confidence: float = 0.0  # the retrieval evidence the answer (or refusal) rests on
    layout: str = ""  # "list": each text line is an item (register answers), shown as a list
