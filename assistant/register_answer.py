"""Answers from the recommendations register: the numbered list, or the status of each item.

A question routed "register" ("What were the key recommendations for X?", "Has X acted on the
peers' recommendations?", "What is the status of the recommendation on …?") is answered from
the register (``assistant.recommendations``) rather than from the top passages:

* **list** — every recommendation of the council's latest report of recommendations, in its
  own order, each quoted and cited; or the actions of its plan when the question asks for
  actions;
* **progress** — each recommendation with the status of its firmest later statement, that
  statement quoted and cited, or "not mentioned" said plainly. A council whose report is not
  in the corpus gets the progress statements of its latest review instead;
* a question about one recommendation ("the shared services recommendation") keeps the
  records closest to its topic; one asking for it by number ("what was recommendation 3?",
  "status of rec 5") keeps the record of that number (or, in a list its report does not
  number, the one in that place), and a number beyond the report's numbered list is refused
  saying how many it makes.

The result is an ordinary ``Answer``: each text line ends with its "[n]" citation, and the
passages are the chunks holding the quoted records, with ``quoted`` set to those records'
text, so rendering, exports, JSON and evaluation treat it like any answer. ``layout="list"``
tells renderers to show the lines as a list. ``None`` means the register holds nothing for
the question; the caller then answers it the ordinary way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from assistant.query import Query
from assistant.recommendation_records import Link, Record
from assistant.settings import Settings
from assistant.store import IndexStore
from assistant.types import Answer, Chunk, Filters, Passage

# what a register question asks for; the route itself is decided in ``query``
_PROGRESS = re.compile(
    r"\b(?:act(?:ed)?|implement\w*|progress\w*|status|complet\w*|finish\w*|deliver\w*"
    r"|how\s+far|overdue|rag|done|happened|follow(?:ed)?[\s-]*up)\b",
    re.IGNORECASE,
)
_ACTIONS = re.compile(r"\bactions?\b|\baction\s+plan\b", re.IGNORECASE)
_ONE = re.compile(r"\brecommendation\b(?!s)|\bwhich\s+recommendation\b", re.IGNORECASE)


@dataclass
class _Cited:
    """Passages in order of first citation, each with the record texts it quotes."""

    store: IndexStore
    passages: list[Passage] = field(default_factory=list)
    quotes: list[list[str]] = field(default_factory=list)

    def cite(self, doc_id: str, start: int, end: int, text: str) -> int:
        chunk = _chunk_at(self.store, doc_id, start, end)
        for n, passage in enumerate(self.passages, start=1):
            if passage.chunk.chunk_id == chunk.chunk_id:
                if text not in self.quotes[n - 1]:
                    self.quotes[n - 1].append(text)
                return n
        self.passages.append(Passage(chunk=chunk, meta=self.store.metas[doc_id], score=1.0))
        self.quotes.append([text])
        return len(self.passages)

    def final(self) -> tuple[Passage, ...]:
        return tuple(
            Passage(chunk=p.chunk, meta=p.meta, score=p.score, quoted=tuple(q))
            for p, q in zip(self.passages, self.quotes)
        )


def _chunk_at(store: IndexStore, doc_id: str, start: int, end: int) -> Chunk:
    """The chunk holding most of ``[start, end)`` of a document."""
    own = store.derived(
        "register-chunks",
        lambda: {
            d: [c for c in store.chunks if c.doc_id == d] for d in {c.doc_id for c in store.chunks}
        },
    )[doc_id]
    return max(own, key=lambda c: (min(end, c.end) - max(start, c.start), -c.start))


def _council(query: Query, filters: Filters) -> str | None:
    """The one council the answer is about; None when the question and the filters disagree
    or other filters are set (the ordinary answer applies them)."""
    if replace(filters, council=None).active:
        return None
    if filters.council:
        return filters.council if set(query.councils) <= {filters.council} else None
    return query.councils[0] if len(query.councils) == 1 else None


def _sources(records: Sequence[Record], kind: str, years: Sequence[int]) -> list[str]:
    """Documents holding records of ``kind``, latest first (of the asked years, when given)."""
    docs: dict[str, str] = {}
    for r in records:
        if r.kind == kind and (not years or (r.date[:4].isdigit() and int(r.date[:4]) in years)):
            docs[r.doc_id] = max(docs.get(r.doc_id, ""), r.date)
    return sorted(docs, key=lambda d: docs[d], reverse=True)


def _asked_number(query: Query) -> str:
    """The number of the recommendation a question asks for ("what was recommendation 3?",
    "status of rec 5": "3", "5"); "" when it asks for none."""
    item = query.expected.item if query.expected and query.expected.kind == "item" else ""
    noun, _, number = item.rpartition(" ")
    return number if noun in ("recommendation", "rec") and number.isdigit() else ""


def _numbered(query: Query, records: list[Record]) -> list[Record] | None:
    """The recommendation a question asks for by its number: the record of that number, else,
    in a list its report does not number, the one in that place; none when there is no such
    recommendation. None when the question names no number."""
    if not (number := _asked_number(query)):
        return None
    if any(r.number for r in records):
        return [r for r in records if r.number == number]
    if any(r.kind != "recommendation" for r in records):
        return []  # a review's statements in the order written are no numbered list
    return records[int(number) - 1:int(number)]


def _no_such_number(query: Query, listed: Sequence[Record], store: IndexStore, filters: Filters) -> Answer | None:
    """The refusal for a recommendation number beyond those of the council's numbered list, with
    the list as the passages to check; None (the ordinary answer) when the list is not numbered
    up to below it: a list read from a page may be incomplete."""
    numbers = sorted(int(r.number) for r in listed if r.kind == "recommendation" and (r.number or "").isdigit())
    asked = int(_asked_number(query) or 0)
    if len(numbers) < 2 or asked <= numbers[-1]:
        return None
    cited = _Cited(store)
    for record in listed:
        cited.cite(record.doc_id, record.source.start, record.source.end, record.text)
    first = listed[0]
    text = (f"{first.council}'s “{first.title}” makes {len(listed)} recommendations, numbered {numbers[0]} "
            f"to {numbers[-1]}; it has no {query.expected.item}. Its recommendations are listed below.")
    passages = tuple(replace(p, quoted=()) for p in cited.final())  # shown to check, not quoted
    return Answer(question=query.text, text=text, abstained=True, passages=passages, citations=(),
                  index_version=store.version, filters=filters, reason="not_stated")


def _focus(
    query: Query, records: list[Record], vectors: dict[str, np.ndarray], encoder, tuning
) -> list[Record]:
    """The records a question about one recommendation means; all of them otherwise."""
    if (numbered := _numbered(query, records)) is not None:
        return numbered
    if not _ONE.search(query.text) or not records or encoder is None:
        return records
    topic = encoder.embed_query(query.search_topic)
    sims = [float(vectors[r.record_id] @ topic) if r.record_id in vectors else 0.0 for r in records]
    best = max(sims)
    if best < tuning.focus_similarity:
        return records
    return [r for r, s in zip(records, sims) if s >= best - tuning.focus_margin]


def _label(record: Record, position: int) -> str:
    return f"{record.number}." if record.number else f"{position}."


def _status_line(record: Record, cited: _Cited, own: int) -> str:
    firm = [link for link in record.links if link.strength == "linked"]
    if not firm:
        weak = [link for link in record.links if link.strength == "possibly related"]
        if weak:
            link = max(weak, key=lambda x: x.similarity)
            n = _cite_link(cited, link)
            return f"    Possibly related (not confirmed): “{link.text}” [{n}]"
        return f"    Not mentioned in the council's later documents. [{own}]"
    latest = max(link.date for link in firm)
    link = max((x for x in firm if x.date == latest), key=lambda x: x.similarity)
    n = _cite_link(cited, link)
    return f"    Status: {record.status or link.status} — “{link.text}” [{n}]"


def _cite_link(cited: _Cited, link: Link) -> int:
    return cited.cite(link.source.doc_id, link.source.start, link.source.end, link.text)


def _listed(records: Sequence[Record], cited: _Cited, progress: bool) -> list[str]:
    lines = []
    for position, record in enumerate(records, start=1):
        n = cited.cite(record.doc_id, record.source.start, record.source.end, record.text)
        status = f" ({record.status})" if record.kind == "progress statement" and record.status else ""
        lines.append(f"{_label(record, position)} {record.text}{status} [{n}]")
        if progress and record.kind == "recommendation":
            lines.append(_status_line(record, cited, n))
    return lines


def _heading(records: Sequence[Record], what: str, cited: _Cited) -> str:
    first = records[0]
    n = cited.cite(first.doc_id, first.source.start, first.source.end, first.text)
    noun = what if len(records) == 1 else f"{len(records)} {what}s"
    return f"{first.council}: {noun} in “{first.title}” ({first.date or 'undated'}) [{n}]"


def _choose(query: Query, own: list[Record]) -> tuple[list[Record], str, bool]:
    """(records to list, what they are, whether to give each one's status)."""
    progress = bool(_PROGRESS.search(query.text))
    kinds = ("action-plan row", "action") if _ACTIONS.search(query.text) and not progress else ()
    for kind in kinds:
        docs = _sources(own, kind, query.years)
        if docs:
            return [r for r in own if r.doc_id == docs[0] and r.kind == kind], "action", False
    docs = _sources(own, "recommendation", query.years)
    recs = [r for r in own if docs and r.doc_id == docs[0] and r.kind == "recommendation"]
    if recs and (not progress or any(r.links for r in recs)):
        return recs, "recommendation", progress
    if progress:  # the report is not in the corpus, or nothing later speaks of it
        docs = _sources(own, "progress statement", query.years)
        statements = [r for r in own if docs and r.doc_id == docs[0] and r.kind == "progress statement"]
        if statements:
            return statements, "progress statement", False
    return recs, "recommendation", progress


def register_answer(
    query: Query,
    store: IndexStore,
    settings: Settings,
    filters: Filters | None = None,
    encoder=None,
) -> Answer | None:
    """The register's answer to ``query``, or None when it holds nothing for it."""
    from assistant.recommendations import build_register, record_vectors

    filters = filters or Filters()
    council = _council(query, filters)
    if council is None or any((query.unknown_councils, query.mentioned_only,
                               query.unknown_years, query.undated_years, query.missing_doc_types)):
        return None  # the ordinary answer says what the corpus lacks
    own = [r for r in build_register(store, encoder) if r.council == council]
    chosen, what, progress = _choose(query, own)
    if not chosen:
        return None
    listed = chosen
    chosen = _focus(query, chosen, record_vectors(store, encoder), encoder, settings.register)
    if not chosen:  # "recommendation 9" of a report that makes six; else the ordinary answer
        return _no_such_number(query, listed, store, filters)
    cited = _Cited(store)
    lines = [_heading(chosen, what, cited), *_listed(chosen, cited, progress)]
    passages = cited.final()
    return Answer(
        question=query.text,
        text="\n".join(lines),
        abstained=False,
        passages=passages,
        citations=tuple(range(1, len(passages) + 1)),
        index_version=store.version,
        filters=filters,
        confidence=1.0,
        layout="list",
    )
