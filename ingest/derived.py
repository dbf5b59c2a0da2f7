"""Facts ingest works out once and stores with the index (``IndexStore.persisted``), so that
`serve` does not spend its first question on them: the corpus facts (council names, words,
years) and the standard-text sentences. At 100k chunks computing them on first use took minutes.

Text facts are kept per document too: a re-ingest computes them only for the documents that
changed and merges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.boilerplate import boilerplate_json, boilerplate_name, store_boilerplate
from assistant.domain import load_domain
from assistant.query import CORPUS_FACTS, domain_fingerprint, facts_of, merge_text_facts, text_facts
from assistant.settings import Settings
from assistant.store import IndexStore
from assistant.types import Chunk, Document

TEXT_FACTS = "text_facts"  # doc_id → text_facts of that document, for the next re-ingest


def stored_text_facts(live: IndexStore | None) -> dict[str, dict]:
    """Per-document text facts of the live index, when they were found with this domain file."""
    stored = live.persisted(TEXT_FACTS) if live is not None else None
    if not isinstance(stored, dict) or stored.get("domain") != domain_fingerprint():
        return {}
    return stored.get("documents", {})


def derived_facts(settings: Settings, documents: list[Document], chunks: list[Chunk],
                  previous: dict[str, dict]) -> dict[str, object]:
    """The values to store with a new version of ``documents`` (in index order) and their
    ``chunks``; ``previous`` are reusable per-document text facts (``stored_text_facts``)."""
    domain, fingerprint = load_domain(), domain_fingerprint()
    per_doc = {}
    for doc in documents:
        old = previous.get(doc.meta.doc_id)
        fresh = old is not None and old.get("hash") == doc.content_hash and doc.content_hash
        per_doc[doc.meta.doc_id] = old if fresh else {**text_facts(doc.text, domain),
                                                      "hash": doc.content_hash}
    # Identical texts count once, as corpus_facts() does over the loaded documents.
    seen: dict[str, dict] = {}
    for doc in documents:
        seen.setdefault(doc.text, per_doc[doc.meta.doc_id])
    merged = {**merge_text_facts(seen.values()), "domain": fingerprint}
    derived: dict[str, object] = {CORPUS_FACTS: merged,
                                  TEXT_FACTS: {"domain": fingerprint, "documents": per_doc}}
    jaccard = settings.answer.boilerplate_jaccard
    if jaccard <= 1:  # above 1 the check is off: nothing to store
        store = _in_memory(settings, documents, chunks)
        store.derived(CORPUS_FACTS, lambda: facts_of(store.metas.values(), merged))
        derived[boilerplate_name(jaccard)] = boilerplate_json(store_boilerplate(store, jaccard))
    return derived


def _in_memory(settings: Settings, documents: list[Document], chunks: list[Chunk]) -> IndexStore:
    """A store over the new version's text (no vectors): what the derived facts read."""
    empty = np.zeros((0, 0), np.float32)
    return IndexStore(path=Path(settings.index_dir) / ".unpublished", manifest={}, chunks=chunks,
                      documents={d.meta.doc_id: d for d in documents}, vectors=empty,
                      sentence_vectors=empty, sentence_offsets=np.zeros(0, np.int64), settings=settings)
