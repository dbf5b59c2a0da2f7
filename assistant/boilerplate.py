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

SHINGLE = 3
MIN_WORDS = 8  # shorter sentences ("The peer team met staff.") are too generic to judge


def _shingles(text: str, ignore: frozenset[str]) -> frozenset[tuple[str, ...]]:
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in ignore]
    if len(words) < MIN_WORDS:
        return frozenset()
    return frozenset(tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


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
    found: set = set()
    for i, shingles in enumerate(grams):
        shared: dict[int, int] = defaultdict(int)
        for gram in shingles:
            others = postings[gram]
            if len(others) <= max_postings:
                for j in others:
                    if j != i and councils[j] != councils[i]:
                        shared[j] += 1
        for j, count in shared.items():
            if count / (len(shingles) + len(grams[j]) - count) >= min_jaccard:
                found.update((keys[i], keys[j]))
                break
    return frozenset(found)


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

        seen: dict[tuple[str, int], tuple[str, str]] = {}
        for chunk in store.chunks:  # overlapping chunks share sentences: each is seen once
            doc = store.documents[chunk.doc_id]
            for sentence in chunk.sentences:
                seen.setdefault((chunk.doc_id, sentence.start),
                                (doc.meta.council, doc.text[sentence.start:sentence.end]))
        return recurring_sentences(((key, council, text) for key, (council, text) in seen.items()),
                                   corpus_facts(store).registry.name_words, jaccard)

    return store.derived(f"boilerplate-{jaccard}", compute)
