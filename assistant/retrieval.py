"""Question → ranked, distinct passages: dense (FAISS) + BM25, fused, with sentence evidence.

Pipeline: filters → dense and lexical candidates → fusion (pure function, tested) →
sentence-level evidence and soft council/year hints → collapse overlapping passages → top k.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.boilerplate import standard_text
from assistant.dates import states_own_date
from assistant.errors import UsageError
from assistant.lexical import bm25_scores
from assistant.query import Query
from assistant.settings import RetrievalSettings, Settings
from assistant.store import IndexStore
from assistant.types import DOC_TYPES, DocumentMeta, Filters, Passage

# ---------------------------------------------------------------- fusion (pure)

def fuse_rankings(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None,
                  k: int = 60) -> dict[int, float]:
    """Weighted reciprocal rank fusion: item → Σ weight / (k + rank), ranks from 1.

    >>> fuse_rankings([[7, 3], [3, 9]], k=60)  # 3 is in both lists, so it wins
    {7: 0.01639344262295082, 3: 0.03252247488101534, 9: 0.016129032258064516}
    """
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def fuse_scores(score_maps: Sequence[dict[int, float]], weights: Sequence[float]) -> dict[int, float]:
    """Weighted sum of min-max normalised scores (an item missing from a map scores 0 there).
    When every item of a map scores the same (a lone match), each counts as that map's best.

    >>> fuse_scores([{1: 0.9, 2: 0.5}, {2: 7.0}], [1.0, 1.0])
    {1: 1.0, 2: 1.0}
    """
    fused: dict[int, float] = {}
    for scores, weight in zip(score_maps, weights):
        if not scores:
            continue
        lo, hi = min(scores.values()), max(scores.values())
        for item, value in scores.items():
            normalised = (value - lo) / (hi - lo) if hi > lo else 1.0
            fused[item] = fused.get(item, 0.0) + weight * normalised
    return fused


# ---------------------------------------------------------------- hints and filters

def parse_years(value: str | None) -> tuple[int | None, int | None]:
    """"2013" → (2013, 2013); "2013-2017" → (2013, 2017); None → (None, None)."""
    if not value:
        return None, None
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-–]\s*(\d{4}))?\s*", value)
    if not match:
        raise UsageError(f"Year must be YYYY or YYYY-YYYY, not {value!r}.")
    lo = int(match.group(1))
    hi = int(match.group(2) or lo)
    if hi < lo:
        raise UsageError(f"Year range {value!r} ends before it starts.")
    return lo, hi


def make_filters(store: IndexStore, council: str | None = None, doc_type: str | None = None,
                 year: str | None = None, doc_id: str | None = None, theme: str | None = None) -> Filters:
    """Validate user-supplied filter values against the index and build Filters."""
    from assistant.query import corpus_facts

    resolved_council = corpus_facts(store).registry.resolve(council) if council else None
    if doc_type and doc_type.strip().lower() not in DOC_TYPES:
        raise UsageError(f"Unknown document type {doc_type!r}; use one of: {', '.join(DOC_TYPES)}.")
    if doc_id and doc_id not in store.metas:
        known = sorted(store.metas)
        listed = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
        raise UsageError(f"Unknown document {doc_id!r}; the index holds: {listed}.")
    lo, hi = parse_years(year)
    if theme:
        from assistant.themes import resolve_theme

        theme = resolve_theme(theme)
    return Filters(council=resolved_council, doc_type=doc_type.strip().lower() if doc_type else None,
                   year_from=lo, year_to=hi, doc_id=doc_id, theme=theme)


def document_matches(meta: DocumentMeta, filters: Filters) -> bool:
    if filters.council and meta.council != filters.council:
        return False
    if meta.council in filters.not_councils:
        return False
    if filters.doc_type and meta.doc_type != filters.doc_type:
        return False
    if filters.doc_id and meta.doc_id != filters.doc_id:
        return False
    if filters.year_from is not None or filters.year_to is not None:
        lo = filters.year_from if filters.year_from is not None else -10**6
        hi = filters.year_to if filters.year_to is not None else 10**6
        if not any(lo <= y <= hi for y in meta.years):
            return False
    return True


# ---------------------------------------------------------------- retrieval

@dataclass(frozen=True)
class RetrievalResult:
    passages: tuple[Passage, ...]
    confidence: float  # best dense similarity of the evidence (chunk or sentence) to the question
    searched_chunks: int = 0  # chunks left after filters
    reason: str = ""  # "filtered_out" when filters exclude every document


class Retriever:
    """Hybrid retriever over a loaded index. ``mode`` is "hybrid", "dense" or "bm25"."""

    def __init__(self, store: IndexStore, settings: Settings | None = None, encoder=None,
                 mode: str = "hybrid"):
        from assistant.embedding import QueryEncoder

        self.store = store
        self.settings = settings or Settings()
        self.encoder = encoder or QueryEncoder(self.settings.model, self.settings.onnx_dir)
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"unknown retriever mode {mode!r}")
        self.mode = mode
        doc_ids = sorted(store.documents)
        self._doc_index = {d: i for i, d in enumerate(doc_ids)}
        self._row_doc = np.array([self._doc_index[c.doc_id] for c in store.chunks], dtype=np.int32)

    def allowed_rows(self, filters: Filters) -> np.ndarray | None:
        """Boolean mask of chunks passing the filters, or None when no filter is set."""
        if not filters.active:
            return None
        docs_ok = np.array([document_matches(self.store.documents[d].meta, filters)
                            for d in sorted(self.store.documents)], dtype=bool)
        mask = docs_ok[self._row_doc] if len(self._row_doc) else np.zeros(0, bool)
        if filters.theme:
            from assistant.themes import chunk_themes

            themes = chunk_themes(self.store, self.encoder)
            mask &= np.array([filters.theme in t for t in themes], dtype=bool)
        return mask

    def _dense(self, qvec: np.ndarray, allowed: np.ndarray | None, n: int) -> dict[int, float]:
        index = self.store.faiss_index
        total = index.ntotal
        if total == 0:
            return {}
        query = qvec.reshape(1, -1).astype(np.float32)
        if allowed is None:
            scores, ids = index.search(query, min(n, total))
        elif not self.store.exact_search:
            # An HNSW graph searched with a narrow filter can return too few results: score the
            # allowed rows exactly instead (a filter leaves a fraction of a large index).
            rows = np.flatnonzero(allowed)
            exact = np.asarray(self.store.vectors[rows]) @ query[0]
            top = np.argsort(-exact)[:n]
            return {int(rows[i]): float(exact[i]) for i in top}
        else:
            import faiss

            rows = np.flatnonzero(allowed).astype(np.int64)
            if not len(rows):
                return {}
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows))
            scores, ids = index.search(query, min(n, len(rows)), params=params)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def _lexical(self, question: str, allowed: np.ndarray | None, n: int) -> dict[int, float]:
        retriever, tokenizer = self.store.bm25
        scores = bm25_scores(retriever, tokenizer, question)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        n = min(n, len(scores))
        if n <= 0:
            return {}
        top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}  # zero = no known word

    def search(self, query: Query | str, filters: Filters | None = None, k: int | None = None,
               evidence_filters: Filters | None = None) -> RetrievalResult:
        """The top ``k`` distinct passages for an analysed question, with its evidence score.

        Plain text is searched as it is, with no council or year hints (warm-up, benchmarks).
        With ``evidence_filters`` the passages come from ``filters`` but the evidence score is
        measured under those (wider) filters: a question scoped to one council is judged
        answerable on the same evidence as before it was scoped.
        """
        query = Query(text=query) if isinstance(query, str) else query
        cfg: RetrievalSettings = self.settings.retrieval
        filters = filters or Filters()
        allowed = self.allowed_rows(filters)
        searched = int(allowed.sum()) if allowed is not None else len(self.store.chunks)
        if searched == 0:
            return RetrievalResult((), 0.0, reason="filtered_out" if filters.active else "empty_index")
        # The model is given the question with its abbreviations glossed ("LGA (local government
        # association)"), which it cannot expand itself; BM25 keeps the words as asked: the long
        # form's common words ("local", "government") only blurred its ranking on the dev split.
        # Sentences are scored on what the question asks, not on the council it names: every
        # sentence naming that council would otherwise outrank the answer.
        topic, text = query.search_topic, query.search_text
        if topic != text and hasattr(self.encoder, "embed_queries"):  # both in one pass
            qvec, svec = self.encoder.embed_queries([text, topic])
        else:
            qvec = self.encoder.embed_query(text)
            svec = self.encoder.embed_query(topic) if topic != text else qvec
        passages, confidence = self._ranked(query, qvec, svec, allowed, k or cfg.k)
        if evidence_filters is not None and evidence_filters != filters:
            _, confidence = self._ranked(query, qvec, svec, self.allowed_rows(evidence_filters), k or cfg.k)
        return RetrievalResult(passages, confidence, searched_chunks=searched)

    def _ranked(self, query: Query, qvec: np.ndarray, svec: np.ndarray, allowed: np.ndarray | None,
                k: int) -> tuple[tuple[Passage, ...], float]:
        """(top ``k`` distinct passages among ``allowed`` rows, their evidence score)."""
        cfg = self.settings.retrieval
        dense = self._dense(qvec, allowed, cfg.candidates) if self.mode != "bm25" else {}
        lexical = self._lexical(query.lexical_text, allowed, cfg.candidates) if self.mode != "dense" else {}
        fused = self._fuse(dense, lexical)
        if not fused:
            return (), 0.0
        sentence_scores = {row: self.store.chunk_sentence_vectors(row) @ svec
                           if self.store.chunks[row].sentences else np.zeros(0) for row in fused}
        standard = standard_text(self.store, self.settings)
        best_sentence = {row: self._best_own_sentence(row, s, standard) for row, s in sentence_scores.items()}
        share = self._standard_share(standard)
        typed = self._typed_rows(query, fused, standard)
        ranking_sentence = dict(best_sentence)
        if cfg.typed_sentence:
            # the sentence that answers must both be on topic and give the kind of answer
            # expected: a date elsewhere in the passage does not make its best sentence one
            for row, given in typed.items():
                ranking_sentence[row] = max(float(sentence_scores[row][i]) for i in given)
        own_dated = self._own_dated_rows(query, typed)
        lift = {row: cfg.typed_bonus * (row in typed) + cfg.own_date_bonus * (row in own_dated)
                for row in fused}
        final = {row: fused[row] + cfg.sentence_weight * ranking_sentence[row] + self._hint_boost(row, query)
                 - cfg.standard_penalty * float(share[row]) + lift[row] for row in fused}
        chosen = self._distinct(sorted(final, key=final.get, reverse=True), k)  # type: ignore[arg-type]
        passages = tuple(
            Passage(chunk=self.store.chunks[r], meta=self.store.documents[self.store.chunks[r].doc_id].meta,
                    score=round(final[r], 4), sentence_scores=tuple(float(s) for s in sentence_scores[r]),
                    lift=round(lift[r], 4))
            for r in chosen
        )
        # Abstention evidence: the best single sentence of the top three passages, scored on
        # the question's topic. Chosen on the dev split over chunk similarity and over the max
        # of both (abstention F1 0.59 against 0.40 and 0.43); a chunk similarity is inflated
        # by the council named in both the question and the contextual header.
        confidence = max((best_sentence[r] if self.store.chunks[r].sentences
                          else float(self.store.vectors[r] @ qvec) for r in chosen[:3]), default=0.0)
        if self.mode != "dense" and not lexical:
            confidence = 0.0  # not one word of the question occurs in the corpus
        return passages, confidence

    def _best_own_sentence(self, row: int, scores: np.ndarray,
                           standard: frozenset[tuple[str, int]]) -> float:
        """The chunk's best sentence score, standard text (the same in every council's
        documents) left out: it is evidence of nothing about the council."""
        chunk = self.store.chunks[row]
        own = [float(v) for v, s in zip(scores, chunk.sentences) if (chunk.doc_id, s.start) not in standard]
        return max(own, default=0.0)

    def _standard_share(self, standard: frozenset[tuple[str, int]]) -> np.ndarray:
        """Per chunk, the share of its sentence text that is standard text (0–1), computed once
        per standard-text set: a chunk that mostly restates how a peer challenge works matches
        every question about peers and says nothing about the council."""
        def compute() -> np.ndarray:
            share = np.zeros(len(self.store.chunks), dtype=np.float32)
            for row, chunk in enumerate(self.store.chunks):
                total = sum(s.end - s.start for s in chunk.sentences)
                same = sum(s.end - s.start for s in chunk.sentences if (chunk.doc_id, s.start) in standard)
                share[row] = same / total if total else 0.0
            return share

        return self.store.derived(f"standard-share-{hash(standard)}", compute)

    def _typed_rows(self, query: Query, rows: Iterable[int],
                    standard: frozenset[tuple[str, int]]) -> dict[int, list[int]]:
        """The rows with an own sentence giving the kind of answer the question expects (a date
        for "when …?", a figure for "how many …?", a named post holder for "who leads …?"), each
        with the indexes of those sentences."""
        expected = query.expected
        if expected is None or not self.settings.retrieval.typed_bonus:
            return {}
        from assistant.answer_type import gives
        from assistant.query import corpus_facts

        registry = corpus_facts(self.store).registry
        not_names, common = registry.name_words, registry.common_words
        councils = [c.lower() for c in query.councils]
        found: dict[int, list[int]] = {}
        for row in rows:
            chunk = self.store.chunks[row]
            texts = chunk.sentence_texts()
            given = [i for i, s in enumerate(chunk.sentences) if (chunk.doc_id, s.start) not in standard
                     and gives(texts, i, expected, councils, not_names, common)]
            if given:
                found[row] = given
        return found

    def _own_dated_rows(self, query: Query, typed: dict[int, list[int]]) -> set[int]:
        """For a "when …?" question, the rows with a dated sentence naming the month their own
        document is dated by: that document's event (its visit, its letter, its meeting). Read
        from the rows giving a date (``_typed_rows``), so it needs ``typed_bonus`` on too."""
        if not (self.settings.retrieval.own_date_bonus and query.expected and query.expected.kind == "date"):
            return set()
        found = set()
        for row, given in typed.items():
            chunk = self.store.chunks[row]
            meta = self.store.documents[chunk.doc_id].meta
            texts = chunk.sentence_texts()
            if any(states_own_date(texts[i], meta) for i in given):
                found.add(row)
        return found

    def _fuse(self, dense: dict[int, float], lexical: dict[int, float]) -> dict[int, float]:
        """Dense and lexical scores fused and scaled to 0–1 (weighted sum or RRF)."""
        cfg = self.settings.retrieval
        weights = [cfg.dense_weight, cfg.bm25_weight]
        if cfg.fusion == "weighted":
            fused, scale = fuse_scores([dense, lexical], weights), sum(weights)
        else:
            rankings = [sorted(d, key=d.get, reverse=True) for d in (dense, lexical)]  # type: ignore[arg-type]
            fused, scale = fuse_rankings(rankings, weights, cfg.rrf_k), sum(weights) / (cfg.rrf_k + 1)
        return {row: score / scale for row, score in fused.items()}

    def _hint_boost(self, row: int, query: Query) -> float:
        """Soft boost for a passage of a council, year or kind of document the question names."""
        meta = self.store.documents[self.store.chunks[row].doc_id].meta
        boost = self.settings.retrieval.hint_boost
        named = meta.council in query.councils or meta.council in query.partners
        dated = bool(query.years and any(y in meta.years for y in query.years))
        kind = self.settings.retrieval.doc_type_boost * (meta.doc_type in query.doc_types)
        return boost * named + boost * dated + kind

    def _distinct(self, ranked: list[int], k: int) -> list[int]:
        """Drop passages that overlap or nearly duplicate a better-ranked one."""
        limit = self.settings.retrieval.dedupe_overlap
        chosen: list[int] = []
        word_sets = {}
        for row in ranked:
            chunk = self.store.chunks[row]
            words = set(re.findall(r"\w+", chunk.text.lower()))
            word_sets[row] = words
            duplicate = False
            for other in chosen:
                o = self.store.chunks[other]
                if o.doc_id == chunk.doc_id:
                    overlap = min(o.end, chunk.end) - max(o.start, chunk.start)
                    # the share of this passage a better one already shows: a long passage
                    # below a short one it overlaps still has its own sentences to give
                    if overlap > limit * len(chunk.text):
                        duplicate = True
                        break
                ow = word_sets[other]
                if words and ow and len(words & ow) / len(words | ow) > self.settings.retrieval.dedupe_words:
                    duplicate = True
                    break
            if not duplicate:
                chosen.append(row)
            if len(chosen) == k:
                break
        return chosen
