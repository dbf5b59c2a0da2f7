"""Facts ingest works out once and stores with the index (``IndexStore.persisted``), so that
`serve` does not spend its first question on them: the corpus facts (council names, words,
years) and the standard-text sentences. At 100k chunks computing them on first use took minutes.

Text facts are kept per document too: a re-ingest computes them only for the documents that
changed and merges. The standard-text search keeps its sentences' 3-grams (``STANDARD_STATE``),
so a re-ingest rechecks only the sentences a change can affect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.boilerplate import (
    RULES,
    DocSentences,
    boilerplate_json,
    boilerplate_name,
    find_standard_text,
    stored_boilerplate,
)
from assistant.domain import load_domain
from assistant.errors import IndexCorrupt
from assistant.query import (
    CORPUS_FACTS,
    TEXT_FACTS,
    corpus_facts,
    domain_fingerprint,
    facts_of,
    merge_text_facts,
    text_facts,
)
from assistant.settings import Settings
from assistant.store import IndexStore, StoredArrays, filed_councils, read_persisted
from assistant.types import Chunk, Document

STANDARD_STATE = "standard_text_state"  # the standard-text search's arrays, for the next one


def stored_text_facts(live: IndexStore | None) -> dict[str, dict]:
    """Per-document text facts of the live index, when they were found with this domain file."""
    stored = live.persisted(TEXT_FACTS) if live is not None else None
    if not isinstance(stored, dict) or stored.get("domain") != domain_fingerprint():
        return {}
    return stored.get("documents", {})


def derived_stamp(settings: Settings) -> dict[str, str]:
    """What the facts stored with a version are found by: the domain file (and what is read from
    each text) and the standard-text rules. Ingest writes it into the manifest, so a version's
    facts are known to be current without reading them."""
    return {"domain": domain_fingerprint(),
            "standard_text": RULES if settings.answer.boilerplate_jaccard <= 1 else ""}


def facts_outdated(manifest: dict | None, version: Path | None, settings: Settings) -> bool:
    """Were the corpus facts stored in this version found with another domain file, or its
    standard text by other rules (a peerqa upgrade)? Then every question process would work
    them out again (~30 s at 100k chunks) until an ingest stores them anew. Read from the
    manifest's ``derived_stamp``; a version written before the stamp is judged by its stored
    files. A version without them, or with a file that cannot be read, is not outdated: there
    is nothing to bring up to date."""
    stamp = (manifest or {}).get("derived_stamp")
    if stamp is not None:
        return stamp != derived_stamp(settings)
    if version is None:
        return False
    jaccard = settings.answer.boilerplate_jaccard
    try:
        facts = read_persisted(version, CORPUS_FACTS)
        standard = read_persisted(version, boilerplate_name(jaccard)) if jaccard <= 1 else None
    except IndexCorrupt:
        return False
    return (isinstance(facts, dict) and facts.get("domain") != domain_fingerprint()) or (
        standard is not None and stored_boilerplate(standard) is None)


def stored_standard_state(live: IndexStore | None) -> dict[str, np.ndarray] | None:
    """The live index's standard-text search arrays; None when it has none or they are damaged
    (the search then reads every sentence again, which is slower but the same)."""
    try:
        return live.persisted_arrays(STANDARD_STATE) if live is not None else None
    except IndexCorrupt:
        return None


def derived_facts(settings: Settings, documents: list[Document], chunks: list[Chunk],
                  previous: dict[str, dict],
                  standard_state: dict[str, np.ndarray] | None = None) -> dict[str, object]:
    """The values to store with a new version of ``documents`` (in index order) and their
    ``chunks``; ``previous`` are reusable per-document text facts (``stored_text_facts``),
    ``standard_state`` the last standard-text search's arrays (``stored_standard_state``)."""
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
        found = find_standard_text(doc_sentences(documents, chunks),
                                   corpus_facts(store).registry.name_words, jaccard,
                                   previous=standard_state)
        derived[boilerplate_name(jaccard)] = boilerplate_json(found.found)
        derived[STANDARD_STATE] = StoredArrays(found.state)
    return derived


def doc_sentences(documents: list[Document], chunks: list[Chunk]) -> list[DocSentences]:
    """Each document's sentences, each once (overlapping chunks share sentences), as
    ``store_boilerplate`` reads them from a loaded index."""
    spans: dict[str, dict[int, int]] = {d.meta.doc_id: {} for d in documents}
    for chunk in chunks:
        seen = spans[chunk.doc_id]
        for sentence in chunk.sentences:
            seen.setdefault(sentence.start, sentence.end)
    filed = filed_councils(documents)  # one name per council, as a loaded index files them
    return [DocSentences(d.meta.doc_id, filed[d.meta.doc_id], d.text, tuple(spans[d.meta.doc_id].items()))
            for d in documents]


def _in_memory(settings: Settings, documents: list[Document], chunks: list[Chunk]) -> IndexStore:
    """A store over the new version's text (no vectors): what the derived facts read."""
    empty = np.zeros((0, 0), np.float32)
    return IndexStore(path=Path(settings.index_dir) / ".unpublished", manifest={}, chunks=chunks,
                      documents={d.meta.doc_id: d for d in documents}, vectors=empty,
                      sentence_vectors=empty, sentence_offsets=np.zeros(0, np.int64), settings=settings)
