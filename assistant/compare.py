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

import re
from dataclasses import dataclass, replace

import numpy as np

from assistant.answering import extractive_answer, gather_evidence
from assistant.boilerplate import standard_text
from assistant.errors import UsageError
from assistant.query import Query
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
    question: str
    councils: tuple[str, ...]
    groups: tuple[ComparisonGroup, ...]
    index_version: str = ""


def _evidence(passage: Passage) -> float:
    return max(passage.sentence_scores, default=0.0)


def compare(
    query: Query,
    store: IndexStore,
    settings: Settings | None = None,
    retriever: Retriever | None = None,
    filters: Filters | None = None,
) -> Comparison:
    """Answer per council and document year, with citations numbered across the comparison."""
    settings = settings or Settings()
    retriever = retriever or Retriever(store, settings)
    filters = filters or Filters()
    targets = [filters.council] if filters.council else list(query.compared or query.councils)
    groups: list[ComparisonGroup] = []
    standard = standard_text(store, settings)
    for council in targets:
        result = retriever.search(query, replace(filters, council=council),
                                  settings.compare.per_council)
        by_year: dict[int | None, list[Passage]] = {}
        for passage in result.passages:
            by_year.setdefault(passage.meta.year, []).append(passage)
        if not by_year:  # nothing at all for this council (e.g. filtered out)
            groups.append(ComparisonGroup(council, None, (), (), "", (), abstained=True))
        for year in sorted(by_year, key=lambda y: (y is None, y or 0)):
            first = sum(len(g.passages) for g in groups) + 1
            passages = tuple(by_year[year][:settings.compare.per_group])
            groups.append(_group(query, council, year, passages, first, result, store, settings, standard))
    return Comparison(query.text, tuple(targets), tuple(groups), store.version)


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
