"""Standard text found after a change (rechecking only what the change can affect) equals a full
search, which equals the definition checked pair by pair, on random corpora and edits."""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.boilerplate import (
    MIN_WORDS,
    SHORT_COUNCILS,
    DocSentences,
    find_standard_text,
    recurring_sentences,
)

WORDS = ["peer", "team", "council", "review", "plan", "staff", "budget", "the", "of", "and",
         "progress", "offer"]
COUNCILS = ["North", "West", "South"]
IGNORE = frozenset({"council"})


def definition(sentences: list[tuple[object, str, str]], ignore: frozenset[str], min_jaccard: float,
               max_postings: int) -> set:
    """Every pair of sentences of different councils, tested as the module's docstring says."""
    grams, short = {}, {}
    for key, council, text in sentences:
        words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in ignore]
        if len(words) >= MIN_WORDS:
            grams[key] = (council, frozenset(zip(words, words[1:], words[2:])))
        elif words:  # a short sentence: the same words in SHORT_COUNCILS councils' documents
            short[key] = (council, tuple(words))
    spread = {}
    for council, words in short.values():
        spread.setdefault(words, set()).add(council)
    count = Counter(g for _, shingles in grams.values() for g in shingles)
    found = {key for key, (_, words) in short.items() if len(spread[words]) >= SHORT_COUNCILS}
    for (i, (ci, a)), (j, (cj, b)) in itertools.combinations(grams.items(), 2):
        shared = sum(1 for g in a & b if count[g] <= max_postings)
        if ci != cj and (a == b or shared / (len(a) + len(b) - shared) >= min_jaccard):
            found.update((i, j))
    return found


sentence = st.lists(st.sampled_from(WORDS), min_size=5, max_size=13).map(" ".join)
document = st.tuples(st.sampled_from(COUNCILS), st.lists(sentence, min_size=1, max_size=6))


def make_doc(doc_id: str, council: str, sentences: list[str]) -> DocSentences:
    text, spans = "", []
    for s in sentences:
        spans.append((len(text), len(text) + len(s)))
        text += s + ". "
    return DocSentences(doc_id, council, text, tuple(spans))


def as_triples(docs: list[DocSentences]) -> list[tuple[object, str, str]]:
    return [((d.doc_id, a), d.council, d.text[a:b]) for d in docs for a, b in d.spans]


def stored(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The state as the index keeps it: through an .npz file."""
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    buffer.seek(0)
    return dict(np.load(buffer))


# an edit: (0 add | 1 change | 2 remove | 3 change the council only | 4 add sentences (the
# others kept, as when a paragraph is appended), which document, new content)
edit = st.tuples(st.integers(0, 4), st.integers(0, 50), document)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.lists(document, min_size=1, max_size=8), edits=st.lists(edit, min_size=1, max_size=5),
       max_postings=st.integers(2, 6), min_jaccard=st.sampled_from([0.4, 0.6, 0.8]),
       copies=st.integers(0, 3))
def test_rechecking_after_edits_equals_a_full_search(start, edits, max_postings, min_jaccard, copies):
    docs = {f"d{i}": make_doc(f"d{i}", c, s) for i, (c, s) in enumerate(start)}
    for k in range(copies):  # verbatim copies in other councils: standard text for sure
        source = docs[f"d{k % len(start)}"]
        docs[f"copy{k}"] = make_doc(f"copy{k}", COUNCILS[k % 3], [source.text[a:b] for a, b in source.spans])
    state = find_standard_text(sorted(docs.values(), key=lambda d: d.doc_id), IGNORE, min_jaccard,
                               max_postings).state
    for serial, (kind, which, (council, sentences)) in enumerate(edits):
        ids = sorted(docs)
        target = ids[which % len(ids)] if ids else None
        if kind == 0 or target is None:  # a new id anywhere in the order ("a…" before "d0")
            new_id = f"{'acdn'[which % 4]}{serial}x"
            docs[new_id] = make_doc(new_id, council, sentences)
        elif kind == 1:
            docs[target] = make_doc(target, council, sentences)
        elif kind == 2:
            del docs[target]
        elif kind == 4:
            old = docs[target]
            docs[target] = make_doc(target, old.council,
                                    [*(old.text[a:b] for a, b in old.spans), *sentences])
        else:
            old = docs[target]
            docs[target] = DocSentences(target, council, old.text, old.spans)
        ordered = sorted(docs.values(), key=lambda d: d.doc_id)
        again = find_standard_text(ordered, IGNORE, min_jaccard, max_postings, stored(state))
        full = find_standard_text(ordered, IGNORE, min_jaccard, max_postings)
        assert again.found == full.found
        assert again.found == definition(as_triples(ordered), IGNORE, min_jaccard, max_postings)
        assert recurring_sentences(as_triples(ordered), IGNORE, min_jaccard, max_postings) == full.found
        state = again.state


def test_nothing_changed_searches_nothing_and_a_change_searches_few():
    rng = np.random.default_rng(0)
    own = [[" ".join(rng.choice(WORDS, 12)) for _ in range(4)] for _ in range(6)]
    docs = [make_doc(f"d{i}", COUNCILS[i % 3], ["the peer team met the staff on the review plan", *own[i]])
            for i in range(6)]
    first = find_standard_text(docs, IGNORE, 0.6)
    assert first.rechecked == len(first.state["starts"]) and first.found
    same = find_standard_text(docs, IGNORE, 0.6, previous=first.state)
    assert same.rechecked == 0 and same.found == first.found
    docs[2] = make_doc("d2", COUNCILS[2], ["a budget of its own with progress on the offer to staff"])
    changed = find_standard_text(docs, IGNORE, 0.6, previous=same.state)
    assert changed.found == find_standard_text(docs, IGNORE, 0.6).found
    assert changed.rechecked < len(changed.state["starts"])


def test_other_ignored_words_or_thresholds_search_everything_again():
    docs = [make_doc(f"d{i}", COUNCILS[i % 3], ["the peer team met the staff of the council on the plan"])
            for i in range(3)]
    first = find_standard_text(docs, IGNORE, 0.6)
    for again in (find_standard_text(docs, frozenset(), 0.6, previous=first.state),
                  find_standard_text(docs, IGNORE, 0.8, previous=first.state),
                  find_standard_text(docs, IGNORE, 0.6, max_postings=2, previous=first.state)):
        assert again.rechecked == len(again.state["starts"])


def test_a_three_gram_crossing_the_postings_cap_rechecks_the_sentences_that_hold_it():
    """Two unchanged sentences stop (or start) being standard text when another document makes
    one of their 3-grams too common to count (or no longer so)."""
    pair = [make_doc("a", "North", ["alpha beta gamma delta epsilon zeta eta theta"]),
            make_doc("b", "West", ["alpha beta gamma delta epsilon zeta eta iota"])]
    third = make_doc("c", "South", ["alpha beta gamma kappa lambda mu nu xi"])
    without = find_standard_text(pair, IGNORE, 0.6, max_postings=2)
    assert without.found == {("a", 0), ("b", 0)}  # 5 of 6 3-grams shared
    added = find_standard_text([*pair, third], IGNORE, 0.6, max_postings=2, previous=without.state)
    assert added.found == frozenset()  # "alpha beta gamma" now in 3 sentences: 4 of 8
    removed = find_standard_text(pair, IGNORE, 0.6, max_postings=2, previous=added.state)
    assert removed.found == without.found


def test_a_state_whose_arrays_do_not_fit_together_means_a_full_search():
    docs = [make_doc(f"d{i}", COUNCILS[i % 3], ["the peer team met the staff of the council on the plan"])
            for i in range(3)]
    state = dict(find_standard_text(docs, IGNORE, 0.6).state)
    state["member"] = state["member"][:-1]
    again = find_standard_text(docs, IGNORE, 0.6, previous=state)
    assert again.rechecked == len(again.state["starts"]) and again.found


def test_a_document_that_gains_a_sentence_rechecks_that_sentence_not_the_others():
    rng = np.random.default_rng(1)
    own = [[" ".join(rng.choice(WORDS, 12)) for _ in range(4)] for _ in range(6)]
    texts = [["the peer team met the staff on the review plan", *own[i]] for i in range(6)]
    docs = [make_doc(f"d{i}", COUNCILS[i % 3], texts[i]) for i in range(6)]
    first = find_standard_text(docs, IGNORE, 0.6)
    docs[1] = make_doc("d1", COUNCILS[1], [*texts[1], "alpha beta gamma delta epsilon zeta eta theta"])
    grown = find_standard_text(docs, IGNORE, 0.6, previous=stored(first.state))
    assert grown.rechecked == 1  # the new sentence; d1's five others are as they were
    assert grown.found == find_standard_text(docs, IGNORE, 0.6).found
    # the same sentences under another council are not the same: each is searched again
    docs[1] = DocSentences("d1", COUNCILS[2], docs[1].text, docs[1].spans)
    moved = find_standard_text(docs, IGNORE, 0.6, previous=stored(grown.state))
    assert moved.rechecked >= 6
    assert moved.found == find_standard_text(docs, IGNORE, 0.6).found
