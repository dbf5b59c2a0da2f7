"""Standard text, found by measurement: sentences that recur, near-verbatim, in the documents
of different councils (the LGA's description of how a peer challenge or a progress review
works, "peers' reflections on any new opportunities" …). Such a sentence says nothing about
the council asking, so an answer never quotes it.

No phrase lists: a sentence is standard text when its word 3-grams (council and place names
left out, so "Wexcombe City Council" and "Hollinford Council" read alike) overlap those of a
sentence in another council's document by at least ``min_jaccard``. Candidate pairs come from an
inverted index of 3-grams, so the cost grows with the number of shared 3-grams, not with all
pairs of sentences.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable

import numpy as np

SHINGLE = 3
MIN_WORDS = 8  # shorter sentences ("The peer team met staff.") are too generic to judge


def _shingles(text: str, ignore: frozenset[str]) -> frozenset[tuple[str, ...]]:
    # figures are words here: "spent 3.5 days onsite" and "spent 4 days onsite" are the same
    # template stating different facts, and each council's own fact is not standard text
    words = [w for w in re.findall(r"[a-z]+|\d+(?:[.,]\d+)*", text.lower()) if w not in ignore]
    if len(words) < MIN_WORDS:
        return frozenset()
    # zip builds the SHINGLE-word tuples in C: half the time of this step at 600k sentences
    return frozenset(zip(*(words[i:] for i in range(SHINGLE))))


def recurring_sentences(sentences: Iterable[tuple[Hashable, str, str]], ignore: frozenset[str] = frozenset(),
                        min_jaccard: float = 0.6, max_postings: int = 400) -> frozenset:
    """Keys of the sentences that recur in another council's document.

    ``sentences`` are (key, council, text). A 3-gram shared by more than ``max_postings``
    sentences carries no signal and is not used to find candidates.

    >>> s = "The progress review is a core part of the corporate peer challenge offer from the LGA."
    >>> sorted(recurring_sentences([("a", "X", s), ("b", "Y", s.replace("core", "key")),
    ...                             ("c", "Y", "Wexcombe has 7,100 council homes and a young population.")]))
    ['a', 'b']
    """
    keys, councils, grams = [], [], []
    postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for key, council, text in sentences:
        shingles = _shingles(text, ignore)
        if not shingles:
            continue
        index = len(keys)
        keys.append(key)
        councils.append(council)
        grams.append(shingles)
        for gram in shingles:
            postings[gram].append(index)
    found = _verbatim(grams, councils)
    arrays = {gram: np.array(rows, dtype=np.int32) for gram, rows in postings.items()
              if len(rows) <= max_postings}
    for i, shingles in enumerate(grams):
        # A sentence with one qualifying partner is in the result, and so is the partner (the
        # test is symmetric): a sentence already found needs no search of its own.
        if i in found:
            continue
        lists = [arrays[g] for g in shingles if g in arrays]
        if not lists:
            continue
        rows, counts = np.unique(np.concatenate(lists), return_counts=True)
        # Jaccard = c / (|A| + |B| - c) <= c / |A|: fewer shared 3-grams than min_jaccard·|A|
        # can never qualify, which leaves few pairs to test one by one.
        keep = counts >= min_jaccard * len(shingles)
        for j, count in zip(rows[keep].tolist(), counts[keep].tolist()):
            if councils[j] != councils[i] and count / (len(shingles) + len(grams[j]) - count) >= min_jaccard:
                found.update((i, j))
                break
    return frozenset(keys[i] for i in found)


def _verbatim(grams: list[frozenset], councils: list[str]) -> set[int]:
    """The sentences whose 3-grams recur unchanged in another council's document (Jaccard 1,
    whatever the threshold): most standard text, found without pairwise counting."""
    groups: dict[frozenset, list[int]] = defaultdict(list)
    for i, shingles in enumerate(grams):
        groups[shingles].append(i)
    return {i for members in groups.values() if len({councils[i] for i in members}) > 1 for i in members}


def standard_text(store, settings) -> frozenset[tuple[str, int]]:
    """The standard-text sentences an answer under ``settings`` must leave out (none when
    ``answer.boilerplate_jaccard`` is above 1, which switches the check off)."""
    jaccard = settings.answer.boilerplate_jaccard
    return store_boilerplate(store, jaccard) if jaccard <= 1 else frozenset()


def store_boilerplate(store, min_jaccard: float | None = None) -> frozenset[tuple[str, int]]:
    """(doc_id, sentence start) of every standard-text sentence of an index; computed once per
    threshold (default: the store's ``answer.boilerplate_jaccard``)."""
    jaccard = store.settings.answer.boilerplate_jaccard if min_jaccard is None else min_jaccard

    def compute() -> frozenset[tuple[str, int]]:
        from assistant.query import corpus_facts

        stored = store.persisted(boilerplate_name(jaccard))  # found at ingest: minutes at 500k
        if isinstance(stored, dict):
            return frozenset((doc_id, start) for doc_id, starts in stored.items() for start in starts)

        seen: dict[tuple[str, int], tuple[str, str]] = {}
        for chunk in store.chunks:  # overlapping chunks share sentences: each is seen once
            doc = store.documents[chunk.doc_id]
            for sentence in chunk.sentences:
                seen.setdefault((chunk.doc_id, sentence.start),
                                (doc.meta.council, doc.text[sentence.start:sentence.end]))
        return recurring_sentences(((key, council, text) for key, (council, text) in seen.items()),
                                   corpus_facts(store).registry.name_words, jaccard)

    return store.derived(boilerplate_name(jaccard), compute)


def boilerplate_name(min_jaccard: float) -> str:
    """Name of the standard-text set at one threshold, in the store's cache and on disk."""
    return f"boilerplate-{min_jaccard}"


def boilerplate_json(found: frozenset[tuple[str, int]]) -> dict[str, list[int]]:
    """``store_boilerplate``'s set as stored with the index: doc_id → sentence starts."""
    by_doc: dict[str, list[int]] = defaultdict(list)
    for doc_id, start in sorted(found):
        by_doc[doc_id].append(start)
    return dict(by_doc)
