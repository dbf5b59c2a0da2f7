"""Questions across councils, and exhaustive listings of where a term is mentioned.

``compare`` answers "What did the peers say about shared services at each council?" per
council and year: each council is searched on its own (a council filter), its passages are
grouped by document year, and each group gets an extractive answer. Citation numbers run
across the whole comparison, so [3] means the same passage everywhere.

``list_mentions`` answers "Which reports mention the Combined Authority?" by scanning every
chunk, not the top k: every matching document is listed with its best passage and counts,
together with how much of the corpus was searched.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from assistant.answering import extractive_answer, gather_evidence, tell_of, unmentioned_topics
from assistant.boilerplate import standard_text
from assistant.errors import UsageError
from assistant.query import Query, corpus_facts
from assistant.retrieval import Retriever, document_matches
from assistant.settings import Settings
from assistant.store import IndexStore
from assistant.types import Filters, Passage



# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class ComparisonGroup:
    council: str
    year: int | None  # document year (from its date)
    passages: tuple[Passage, ...]
    numbers: tuple[int, ...]  # citation number of each passage, counted across the comparison
    text: str  # extractive answer citing those numbers; "" when the group has no evidence
    citations: tuple[int, ...]
    abstained: bool


@dataclass(frozen=True)
class Comparison:
    """A question answered council by council (``kind="comparison"``), or "which councils …?"
    answered by the councils whose documents say so (``kind="councils"``).

    ``councils`` are those with groups, in the order shown: as the question named them; for
    "at each council", by name, so a reader finds a council at once (ordering by evidence put
    first a council whose best "evidence" was a list of theme headings); for a listing, by
    strength of evidence, the weaker matches (the likelier false ones) last.
    Councils searched without an answer are only named, in ``unanswered``; councils the
    question names that the corpus holds no documents about, in ``not_held``."""

    question: str
    councils: tuple[str, ...]
    groups: tuple[ComparisonGroup, ...]
    index_version: str = ""
    kind: str = "comparison"
    unanswered: tuple[str, ...] = ()
    not_held: tuple[str, ...] = ()


def _evidence(passage: Passage) -> float:
    return max(passage.sentence_scores, default=0.0)


def compare(
    query: Query,
    store: IndexStore,
    settings: Settings | None = None,
    retriever: Retriever | None = None,
    filters: Filters | None = None,
) -> Comparison:
    """Answer per council and document year, with citations numbered across the comparison.

    Each council is searched on its own (a council filter), so a council with little text is
    not crowded out by one with much."""
    settings = settings or Settings()
    retriever = _encoding_once(retriever or Retriever(store, settings))
    filters = filters or Filters()
    targets = [filters.council] if filters.council else list(query.compared or query.councils)
    held = {meta.council for meta in store.metas.values()}
    listing = query.route == "listing"
    standard = standard_text(store, settings)
    facts = corpus_facts(store)
    found: list[tuple[str, float, list[ComparisonGroup]]] = []
    unanswered = []
    by_kind = listing and bool(query.doc_types) and not filters.doc_type
    if by_kind:  # "which councils had a progress review?": the catalogue says which, not a score
        filters = replace(filters, doc_type=query.doc_types[0])
    bar = settings.compare.council_threshold if listing and not by_kind else 0.0
    advice = listing and query.advice and not by_kind
    advised = _advice_strengths(query, store, retriever) if advice else {}
    for council in (c for c in targets if c in held):
        if unmentioned_topics(query, store, (council,)):  # "libraries" where its documents never say so
            unanswered.append(council)
            continue
        # what the peers recommended it, not what its documents mention: a council no
        # recommendation of which is close is not searched at all (hundreds at 1,000 documents)
        if advised.get(council, 1.0) < settings.compare.advice_threshold:
            unanswered.append(council)
            continue
        groups, strength = _council_groups(query, council, retriever, filters, store, settings, standard)
        if by_kind and not groups:
            # no document of the kind, but its pages or news may tell of one ("a follow-up review
            # was undertaken by the team in March 2021"): listed when they do
            groups, strength = _council_groups(query, council, retriever, replace(filters, doc_type=None),
                                               store, settings, standard)
            if not tell_of(query.doc_types[:1], [p for g in groups for p in g.passages], facts, standard):
                groups = []
        answered = [g for g in groups if not g.abstained or by_kind]
        if council in advised:
            strength, passed = advised[council], True
        else:
            passed = strength >= bar
        if not answered or not passed:
            unanswered.append(council)
        else:
            found.append((council, strength, answered if listing else groups))
    if listing:
        found.sort(key=lambda f: (-f[1], f[0]))
    elif not (query.councils or query.unknown_councils):
        found.sort(key=lambda f: f[0])
    return Comparison(query.text, tuple(c for c, _, _ in found), _numbered(g for _, _, g in found),
                      store.version, "councils" if listing else "comparison", tuple(unanswered),
                      tuple(c for c in targets if c not in held))


def _advice_strengths(query: Query, store: IndexStore, retriever: Retriever) -> dict[str, float]:
    """Per council with recommendations in the register, the cosine of the question's topic to
    its closest one: "which councils were advised to review scrutiny?" is about what peers
    recommended, and a council whose documents only mention scrutiny was not advised so."""
    from assistant.recommendations import build_register, record_vectors

    records = [r for r in build_register(store, retriever.encoder) if r.kind == "recommendation"]
    if not records:
        return {}
    vectors = record_vectors(store, retriever.encoder)
    topic = retriever.encoder.embed_query(query.search_topic)
    best: dict[str, float] = {}
    for record in records:
        cosine = float(vectors[record.record_id] @ topic)
        best[record.council] = max(best.get(record.council, -1.0), cosine)
    return best


class _OnceEncoder:
    """The retriever's query encoder, remembering its vectors for one comparison: every
    council's search embeds the same question and topic, and embedding is most of the cost."""

    def __init__(self, encoder) -> None:
        self._encoder, self._vectors = encoder, {}

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self._vectors[text] = self._encoder.embed_query(text)
        return self._vectors[text]

    def __getattr__(self, name: str):
        return getattr(self._encoder, name)


def _encoding_once(retriever: Retriever) -> Retriever:
    """A shallow copy of ``retriever`` (its index arrays shared) whose encoder remembers, so
    the shared retriever stays stateless under the web server's threads."""
    once = copy.copy(retriever)
    once.encoder = _OnceEncoder(retriever.encoder)
    return once


def _council_groups(query: Query, council: str, retriever: Retriever, filters: Filters,
                    store: IndexStore, settings: Settings, standard: frozenset[tuple[str, int]]
                    ) -> tuple[list[ComparisonGroup], float]:
    """One council's groups (one per document year, numbered from 1) and the strength of its
    evidence (the retriever's: the best own sentence of its top passages, standard text out)."""
    result = retriever.search(query, replace(filters, council=council), settings.compare.per_council)
    by_year: dict[int | None, list[Passage]] = {}
    for passage in result.passages:
        by_year.setdefault(passage.meta.year, []).append(passage)
    groups: list[ComparisonGroup] = []
    for year in sorted(by_year, key=lambda y: (y is None, y or 0)):
        first = sum(len(g.passages) for g in groups) + 1
        passages = tuple(by_year[year][:settings.compare.per_group])
        groups.append(_group(query, council, year, passages, first, result, store, settings, standard))
    return groups, result.confidence


def _numbered(councils: Iterable[list[ComparisonGroup]]) -> tuple[ComparisonGroup, ...]:
    """The councils' groups in order, their passages numbered across the whole comparison."""
    out: list[ComparisonGroup] = []
    for groups in councils:
        for g in groups:  # numbered from 1 per council, some groups perhaps left out since
            offset = sum(len(o.passages) for o in out) - (g.numbers[0] - 1 if g.numbers else 0)
            out.append(replace(g, numbers=tuple(n + offset for n in g.numbers),
                               text=_renumber(g.text, offset),
                               citations=tuple(c + offset for c in g.citations)))
    return tuple(out)


def _group(
    query: Query,
    council: str,
    year: int | None,
    passages: tuple[Passage, ...],
    first: int,
    result,
    store: IndexStore,
    settings: Settings,
    standard: frozenset[tuple[str, int]] = frozenset(),
) -> ComparisonGroup:
    """One council-and-year group whose passages are numbered from ``first``."""
    numbers = tuple(range(first, first + len(passages)))
    if max(_evidence(p) for p in passages) < settings.answer.abstain_threshold:
        return ComparisonGroup(council, year, passages, numbers, "", (), abstained=True)
    group = replace(result, passages=passages)
    settings = replace(settings, selection=replace(settings.selection,
                                                   max_quotes=settings.compare.quotes_per_group))
    answer = extractive_answer(query, group, settings, gather_evidence(query, group, store, settings, standard))
    return ComparisonGroup(
        council,
        year,
        answer.passages,
        numbers,
        text=_renumber(answer.text, first - 1),
        citations=tuple(c + first - 1 for c in answer.citations),
        abstained=False,
    )


def _renumber(text: str, offset: int) -> str:
    """Shift the passage number that ends each answer line: "… [2]" with offset 3 → "… [5]"."""
    return re.sub(
        r" \[(\d+)\]$", lambda m: f" [{int(m.group(1)) + offset}]", text, flags=re.MULTILINE
    )


# ---------------------------------------------------------------- listings

def phrase_pattern(term: str) -> re.Pattern:
    """Case-insensitive, any whitespace between words, singular or plural last word.

    >>> bool(phrase_pattern("shared service").search("Shared\\nServices agenda"))
    True
    """
    words = term.split()
    last = words[-1]
    stem = (
        last[:-1]
        if len(last) > 3 and last.lower().endswith("s") and not last.lower().endswith("ss")
        else last
    )
    body = r"\s+".join([*map(re.escape, words[:-1]), re.escape(stem) + r"(?:s|es)?"])
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _abbreviations(term_re: re.Pattern, text: str) -> list[str]:
    """Abbreviations the text defines for the term: "Combined Authority (CA)" → ["CA"]."""
    found = []
    for match in term_re.finditer(text):
        abbr = re.match(r"\s*\(([A-Z]{2,6})\)", text[match.end() : match.end() + 12])
        if abbr and abbr.group(1) not in found:
            found.append(abbr.group(1))
    return found


@dataclass(frozen=True)
class Mention:
    """One document that mentions the term."""

    doc_id: str
    title: str
    council: str
    date: str
    exact: bool  # True: the phrase (or an abbreviation the document defines) occurs verbatim
    chunk_count: int  # chunks that match
    occurrences: int  # verbatim occurrences in the document's cleaned text (0 for semantic)
    forms: tuple[str, ...]  # the forms found, e.g. ("Combined Authority", "CA")
    best: Passage  # the chunk with most occurrences (exact) or highest similarity (semantic)


@dataclass(frozen=True)
class Listing:
    query: str
    term: str
    mode: str  # "exact", "semantic" (no verbatim match anywhere) or "none"
    mentions: tuple[Mention, ...]
    searched_documents: int
    total_documents: int
    searched_chunks: int
    threshold: float = 0.0  # similarity threshold of a semantic listing

    def summary(self) -> str:
        return (
            f"searched {self.searched_documents} of {self.total_documents} documents, "
            f"{self.searched_chunks} chunks"
        )


def _best_sentence(store: IndexStore, row: int, query_vector: np.ndarray) -> float:
    """Similarity of the chunk's best sentence to the query (the chunk vector if it has none)."""
    if store.chunks[row].sentences:
        return float((store.chunk_sentence_vectors(row) @ query_vector).max())
    return float(store.vectors[row] @ query_vector)


def _mention(doc, exact: bool, chunks: int, occurrences: int, forms: tuple[str, ...],
             best: Passage) -> Mention:
    meta = doc.meta
    return Mention(meta.doc_id, meta.title, meta.council, meta.date, exact, chunks, occurrences, forms, best)


def list_mentions(
    query: Query,
    store: IndexStore,
    encoder=None,
    filters: Filters | None = None,
    threshold: float | None = None,
) -> Listing:
    """Every document mentioning the term, with its best passage and counts.

    Exact matching first (case-insensitive phrase, plural/singular, plus abbreviations a
    document defines for it). Only when no document contains the phrase does it fall back to
    semantic matching: chunks with a sentence at least ``threshold`` similar to the term
    (default: the store's ``compare.listing_threshold`` setting).
    """
    if threshold is None:
        threshold = store.settings.compare.listing_threshold
    term = query.listing_term or query.text.rstrip("?.! ").strip("\"'“”‘’ ")
    if not term:
        raise UsageError('Say what to look for, e.g. "which reports mention the combined authority?".')
    filters = filters or Filters()
    if query.councils and not filters.council:  # "… the combined authority for the county council"
        filters = replace(filters, council=query.councils[0])
    docs, rows = _scope(store, filters, encoder)
    base = {"query": query.text, "term": term, "searched_documents": len(docs),
            "total_documents": len(store.documents), "searched_chunks": len(rows)}
    mentions = _exact_mentions(store, term, docs, rows, whole_documents=not filters.theme)
    if mentions:
        return Listing(mode="exact", mentions=tuple(mentions), **base)
    if not rows:
        return Listing(mode="none", mentions=(), **base)
    mentions = _semantic_mentions(store, term, docs, rows, encoder, threshold)
    return Listing(mode="semantic" if mentions else "none", mentions=tuple(mentions),
                   threshold=threshold, **base)


def _scope(store: IndexStore, filters: Filters, encoder) -> tuple[list, list[int]]:
    """(documents, chunk rows) the filters leave; a theme keeps only passages tagged with it."""
    docs = [d for d in store.documents.values() if document_matches(d.meta, filters)]
    doc_ids = {d.meta.doc_id for d in docs}
    rows = [i for i, c in enumerate(store.chunks) if c.doc_id in doc_ids]
    if filters.theme:
        from assistant.themes import chunk_themes

        themes = chunk_themes(store, encoder)
        rows = [i for i in rows if filters.theme in themes[i]]
        doc_ids = {store.chunks[i].doc_id for i in rows}
        docs = [d for d in docs if d.meta.doc_id in doc_ids]
    return sorted(docs, key=lambda d: (d.meta.date, d.meta.doc_id)), rows


def _exact_mentions(store: IndexStore, term: str, docs: list, rows: list[int],
                    whole_documents: bool) -> list[Mention]:
    """Documents containing the term (or an abbreviation they define for it), counted per
    document, or per passage when a theme limits the search to some passages."""
    term_re = phrase_pattern(term)
    mentions = []
    for doc in docs:
        forms_re = [term_re] + [re.compile(rf"\b{a}\b") for a in _abbreviations(term_re, doc.text)]
        counts = {i: sum(len(p.findall(store.chunks[i].text)) for p in forms_re)
                  for i in rows if store.chunks[i].doc_id == doc.meta.doc_id}
        occurrences = (sum(len(p.findall(doc.text)) for p in forms_re) if whole_documents
                       else sum(1 for n in counts.values() if n))
        matching = {i: n for i, n in counts.items() if n}
        if not occurrences or not matching:
            continue
        best = max(matching, key=lambda i: (matching[i], -i))
        forms = tuple(dict.fromkeys(m.group(0) for p in forms_re for m in p.finditer(doc.text)))
        passage = Passage(store.chunks[best], doc.meta, float(matching[best]))
        mentions.append(_mention(doc, True, len(matching), occurrences, forms, passage))
    return mentions


def _semantic_mentions(store: IndexStore, term: str, docs: list, rows: list[int], encoder,
                       threshold: float) -> list[Mention]:
    """Documents with a sentence at least ``threshold`` similar to the term, best first."""
    if encoder is None:
        from assistant.themes import index_encoder

        encoder = index_encoder(store)
    query_vector = encoder.embed_query(term)
    sims = [_best_sentence(store, row, query_vector) for row in rows]
    mentions = []
    for doc in docs:
        hits = [(s, r) for s, r in zip(sims, rows) if store.chunks[r].doc_id == doc.meta.doc_id and s >= threshold]
        if hits:
            score, best = max(hits)
            passage = Passage(store.chunks[best], doc.meta, round(score, 4))
            mentions.append(_mention(doc, False, len(hits), 0, (), passage))
    return sorted(mentions, key=lambda m: -m.best.score)
