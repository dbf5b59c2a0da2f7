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
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answering import extractive_answer, validate_question
from assistant.retrieval import Retriever, council_aliases, document_matches
from assistant.settings import Settings
from assistant.store import IndexStore
from assistant.types import Filters, Passage

_COMPARE_CUE = re.compile(
    r"\b(?:compare[ds]?|comparing|comparison|contrast|versus|vs\.?|differ(?:ence|ences|ent)?\s+between"
    r"|(?:at|for|in|across|by)\s+(?:each|every|both|all(?:\s+the)?|the\s+two)\s+councils?"
    r"|each\s+council|both\s+councils|the\s+two\s+councils)\b",
    re.IGNORECASE,
)
_KIND_PAIR = re.compile(
    r"\b(city|county|district|borough|town)\s+(?:and|&|or|vs\.?|versus)\s+(?:the\s+)?"
    r"(city|county|district|borough|town)\b",
    re.IGNORECASE,
)
PER_COUNCIL = 6  # passages searched per council before grouping by year
PER_GROUP = 3  # passages shown per council and year


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


def _named_councils(question: str, councils: Sequence[str]) -> list[str]:
    lower = question.lower()
    return sorted(
        {
            owner
            for alias, owner in council_aliases(councils).items()
            if re.search(rf"\b{re.escape(alias)}\b", lower)
        }
    )


def is_comparison(question: str, councils: Sequence[str]) -> bool:
    """Does the question span councils or ask to compare?

    >>> councils = ["Cambridge City Council", "Cambridgeshire County Council"]
    >>> is_comparison("What did peers say about shared services at each council?", councils)
    True
    >>> is_comparison("How do the city and county approach partnerships?", councils)
    True
    >>> is_comparison("What did peers say about the city council's finances?", councils)
    False
    """
    if _COMPARE_CUE.search(question) or len(_named_councils(question, councils)) >= 2:
        return True
    pair = _KIND_PAIR.search(question)
    if pair and pair.group(1).lower() != pair.group(2).lower():
        kinds = {w for c in councils for w in c.lower().split()}
        return pair.group(1).lower() in kinds and pair.group(2).lower() in kinds
    return False


def _target_councils(question: str, councils: Sequence[str]) -> list[str]:
    """The councils named (two or more), else every council; one named council + "compare"
    (e.g. "compare the county's 2014 and 2022 reviews") compares that council across years."""
    named = _named_councils(question, councils)
    pair = _KIND_PAIR.search(question)
    if pair:
        for kind in (pair.group(1).lower(), pair.group(2).lower()):
            owners = [c for c in councils if kind in c.lower().split()]
            if len(owners) == 1 and owners[0] not in named:
                named.append(owners[0])
    if len(named) >= 2:
        return sorted(named)
    spans_all = re.search(
        r"\b(?:each|every|both|all|two)\b[^.?]*\bcouncils?\b", question, re.IGNORECASE
    )
    if len(named) == 1 and not spans_all:
        return named
    return sorted(councils)


def _evidence(passage: Passage) -> float:
    return max(passage.sentence_scores, default=0.0)


def compare(
    question: str,
    store: IndexStore,
    settings: Settings | None = None,
    retriever: Retriever | None = None,
    filters: Filters | None = None,
) -> Comparison:
    """Answer per council and document year, with citations numbered across the comparison."""
    settings = settings or Settings()
    question = validate_question(question, settings)
    retriever = retriever or Retriever(store, settings)
    filters = filters or Filters()
    councils = sorted({m.council for m in store.metas.values()})
    if filters.council:
        targets = [filters.council]
    else:
        targets = _target_councils(question, councils)
    groups: list[ComparisonGroup] = []
    for council in targets:
        result = retriever.search(question, replace(filters, council=council), PER_COUNCIL)
        by_year: dict[int | None, list[Passage]] = {}
        for passage in result.passages:
            by_year.setdefault(passage.meta.year, []).append(passage)
        if not by_year:  # nothing at all for this council (e.g. filtered out)
            groups.append(ComparisonGroup(council, None, (), (), "", (), abstained=True))
        for year in sorted(by_year, key=lambda y: (y is None, y or 0)):
            first = sum(len(g.passages) for g in groups) + 1
            passages = tuple(by_year[year][:PER_GROUP])
            groups.append(_group(question, council, year, passages, first, result, settings))
    return Comparison(question, tuple(targets), tuple(groups), store.version)


def _group(
    question: str,
    council: str,
    year: int | None,
    passages: tuple[Passage, ...],
    first: int,
    result,
    settings: Settings,
) -> ComparisonGroup:
    """One council-and-year group whose passages are numbered from ``first``."""
    numbers = tuple(range(first, first + len(passages)))
    if max(_evidence(p) for p in passages) < settings.answer.abstain_threshold:
        return ComparisonGroup(council, year, passages, numbers, "", (), abstained=True)
    answer = extractive_answer(question, replace(result, passages=passages), settings)
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

_LISTING = [
    re.compile(p, re.IGNORECASE)
    for p in (
        (
            r"^(?:which|what)\s+(?:reports?|documents?|docs|papers?|letters?|files?|sources?)\s+"
            r"(?:mention(?:s|ed)?|discuss(?:es)?|refer(?:s)?\s+to|talk(?:s)?\s+about|cover(?:s)?|reference(?:s)?"
            r"|contain(?:s)?|say\s+anything\s+about|(?:are|is)\s+about|deal(?:s)?\s+with)\s+(?P<term>.+)$"
        ),
        (
            r"^(?:in\s+)?which\s+(?:reports?|documents?)\s+(?:is|are|was|were)\s+(?P<term>.+?)\s+"
            r"(?:mentioned|discussed|referred\s+to|referenced)$"
        ),
        (
            r"^where\s+(?:is|are|was|were)\s+(?P<term>.+?)\s+(?:mentioned|discussed|referred\s+to|referenced)"
            r"(?:\s+in\s+the\s+(?:corpus|documents|reports))?$"
        ),
        (
            r"^(?:list|show|find)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:reports?|documents?|mentions?|references?)\s+"
            r"(?:about|on|of|to|that\s+mention|mentioning|discussing|referring\s+to|which\s+mention)\s+(?P<term>.+)$"
        ),
        r"^(?:find\s+)?(?:all\s+)?mentions?\s+of\s+(?P<term>.+)$",
    )
]


def listing_term(question: str) -> str | None:
    """The term of a list-style question, else None.

    >>> listing_term("Which reports mention the Combined Authority?")
    'Combined Authority'
    >>> listing_term("Where is 'This Land' mentioned?")
    'This Land'
    """
    text = question.strip().rstrip("?.! ")
    for pattern in _LISTING:
        match = pattern.match(text)
        if match:
            term = match.group("term").strip().strip("\"'“”‘’ ")
            term = re.sub(r"^(?:the|a|an)\s+", "", term, flags=re.IGNORECASE)
            term = re.sub(
                r"\s+(?:at\s+all|in\s+the\s+(?:corpus|documents|reports))$",
                "",
                term,
                flags=re.IGNORECASE,
            ).strip("\"'“”‘’ ")
            return term or None
    return None


def _split_council(term: str, councils: Sequence[str]) -> tuple[str, str | None]:
    """("Combined Authority for the county council", …) → ("Combined Authority", county).

    A follow-up such as "and the county council?" after a listing arrives glued to its term.
    """
    aliases = council_aliases(councils)
    for alias in sorted(aliases, key=len, reverse=True):
        match = re.search(rf"\s+(?:for|at|in|by|from|of)\s+(?:the\s+)?{re.escape(alias)}$", term, re.IGNORECASE)
        if match and match.start() > 0:
            return term[:match.start()].strip(), aliases[alias]
    return term, None


def is_listing(question: str) -> bool:
    return listing_term(question) is not None


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


SEMANTIC_THRESHOLD = 0.50  # best-sentence cosine; short terms score low against whole chunks


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
    term_or_question: str,
    store: IndexStore,
    encoder=None,
    filters: Filters | None = None,
    threshold: float = SEMANTIC_THRESHOLD,
) -> Listing:
    """Every document mentioning the term, with its best passage and counts.

    Exact matching first (case-insensitive phrase, plural/singular, plus abbreviations a
    document defines for it). Only when no document contains the phrase does it fall back to
    semantic matching: chunks with a sentence at least ``threshold`` similar to the term.
    """
    query = (term_or_question or "").strip()
    term = listing_term(query) or query.rstrip("?.! ").strip("\"'“”‘’ ")
    if not term:
        from assistant.errors import UsageError

        raise UsageError(
            'Say what to look for, e.g. "which reports mention the Combined Authority?".'
        )
    filters = filters or Filters()
    term, council = _split_council(term, sorted({m.council for m in store.metas.values()}))
    if council and not filters.council:  # "… the Combined Authority for the county council"
        filters = replace(filters, council=council)
    docs = [d for d in store.documents.values() if document_matches(d.meta, filters)]
    doc_ids = {d.meta.doc_id for d in docs}
    rows = [i for i, c in enumerate(store.chunks) if c.doc_id in doc_ids]
    if filters.theme:  # only passages tagged with the theme count, and only their documents
        from assistant.themes import chunk_themes

        themes = chunk_themes(store, encoder)
        rows = [i for i in rows if filters.theme in themes[i]]
        doc_ids = {store.chunks[i].doc_id for i in rows}
        docs = [d for d in docs if d.meta.doc_id in doc_ids]
    base = {
        "query": query,
        "term": term,
        "searched_documents": len(docs),
        "total_documents": len(store.documents),
        "searched_chunks": len(rows),
    }
    term_re = phrase_pattern(term)
    mentions = []
    for doc in sorted(docs, key=lambda d: (d.meta.date, d.meta.doc_id)):
        forms_re = [term_re] + [re.compile(rf"\b{a}\b") for a in _abbreviations(term_re, doc.text)]
        counts = {
            i: sum(len(p.findall(store.chunks[i].text)) for p in forms_re)
            for i in rows
            if store.chunks[i].doc_id == doc.meta.doc_id
        }
        # whole-document count, unless a theme limits the search to some of its passages
        occurrences = (sum(len(p.findall(doc.text)) for p in forms_re) if not filters.theme
                       else sum(1 for n in counts.values() if n))
        if not occurrences:
            continue
        matching = {i: n for i, n in counts.items() if n}
        best = max(matching, key=lambda i: (matching[i], -i)) if matching else None
        forms = tuple(dict.fromkeys(m.group(0) for p in forms_re for m in p.finditer(doc.text)))
        if best is not None:
            passage = Passage(store.chunks[best], doc.meta, float(matching[best]))
            mentions.append(_mention(doc, True, len(matching), occurrences, forms, passage))
    if mentions:
        return Listing(mode="exact", mentions=tuple(mentions), **base)
    if not rows:
        return Listing(mode="none", mentions=(), **base)
    if encoder is None:
        from assistant.themes import index_encoder

        encoder = index_encoder(store)
    query_vector = encoder.embed_query(term)
    sims = [_best_sentence(store, row, query_vector) for row in rows]
    for doc in sorted(docs, key=lambda d: (d.meta.date, d.meta.doc_id)):
        hits = [
            (s, r)
            for s, r in zip(sims, rows)
            if store.chunks[r].doc_id == doc.meta.doc_id and s >= threshold
        ]
        if hits:
            score, best = max(hits)
            passage = Passage(store.chunks[best], doc.meta, round(score, 4))
            mentions.append(_mention(doc, False, len(hits), 0, (), passage))
    mentions.sort(key=lambda m: -m.best.score)
    return Listing(
        mode="semantic" if mentions else "none",
        mentions=tuple(mentions),
        threshold=threshold,
        **base,
    )
