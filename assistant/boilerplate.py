"""Standard text, found by measurement: sentences that recur, near-verbatim, in the documents
of different councils (the LGA's description of how a peer challenge or a progress review
works, "peers' reflections on any new opportunities" …). Such a sentence says nothing about
the council asking, so an answer never quotes it.

No phrase lists: a sentence is standard text when its word 3-grams (council and place names
left out, so "Wexcombe City Council" and "Hollinford Council" read alike) overlap those of a
sentence in another council's document by at least ``min_jaccard`` (3-grams shared by more than
``max_postings`` sentences carry no signal and are not counted), or are the same set. Candidate
pairs come from an inverted index of 3-grams, so the cost grows with the number of shared
3-grams, not with all pairs of sentences.

At ~600k sentences finding them all takes a minute, so ingest keeps what the search needs with
the index (``StandardText.state``: each sentence's 3-grams as 64-bit hashes, by document) and,
when a few documents change, rechecks only the sentences whose answer can have changed (see
``_recheck``); the result is the set a full search gives.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.lexical import ranges

SHINGLE = 3
# A sentence this long is judged by its 3-grams. A shorter one is judged only as a whole: the
# same words standing as a sentence in the documents of ``SHORT_COUNCILS`` councils or more
# ("4. Financial planning and management", a theme every report lists). Two councils are not
# enough: two peer teams may well write "The peers met staff." on their own.
MIN_WORDS = 8
SHORT_COUNCILS = 3
PAIR_BLOCK = 4_000_000  # candidate (sentence, partner) pairs counted at once: ~150 MB of arrays
STATE_FORMAT = 3  # 2: figures are words; 3: short sentences as a whole
# What a stored standard-text set was found by: a set stored by other rules is found again
# (after an upgrade, an ingest with nothing changed rewrites it; ingest/derived.py)
RULES = f"format {STATE_FORMAT}, {SHINGLE}-grams, {MIN_WORDS} words, short in {SHORT_COUNCILS} councils"
# Figures are words here: "spent 3.5 days onsite" and "spent 4 days onsite" are the same template
# stating different facts, and each council's own fact is not standard text.
_WORD = re.compile(r"[a-z]+|\d+(?:[.,]\d+)*")
# a list item's number ("4. ", "(2) "): reports number the same item differently
_ENUMERATOR = re.compile(r"^\W*\(?\d{1,3}[.)]\s")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits of 64-bit integers (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _short_marks(hashes: np.ndarray, council: np.ndarray,
                 min_councils: int = SHORT_COUNCILS) -> np.ndarray:
    """Marks of the short sentences (``hashes`` from ``shingle_sentences``, 0: not short) whose
    words stand as a sentence in the documents of at least ``min_councils`` councils."""
    marks = np.zeros(len(hashes), dtype=bool)
    short = np.flatnonzero(hashes != 0)
    if not len(short):
        return marks
    order = short[np.lexsort((council[short], hashes[short]))]  # by hash, then council
    h, c = hashes[order], council[order]
    new_hash = np.r_[True, h[1:] != h[:-1]]
    first_of_council = new_hash | np.r_[True, c[1:] != c[:-1]]
    group = np.cumsum(new_hash) - 1
    spread = np.bincount(group, weights=first_of_council)  # councils per hash
    marks[order] = spread[group] >= min_councils
    return marks


def _word_hashes(words: list[str]) -> np.ndarray:
    """A stable 64-bit hash per word (Python's ``hash`` of a string changes per process)."""
    digests = b"".join(hashlib.blake2b(w.encode(), digest_size=8).digest() for w in words)
    return np.frombuffer(digests, dtype=np.uint64).copy()


def shingle_sentences(texts: Iterable[str], ignore: frozenset[str]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sizes, grams, short): per text the number of distinct word 3-grams (0 below
    ``MIN_WORDS`` words, council and place names left out); flat, each text's 3-grams as sorted
    64-bit hashes; and per text below ``MIN_WORDS`` words a 64-bit hash of all of them (a list
    item's number left out), 0 for the others and for a text of no words. Integers, not tuples
    of strings: 600k sentences' 3-grams fit in ~100 MB."""
    vocabulary: dict[str, int] = {}
    ids: list[int] = []
    lengths: list[int] = []
    short_rows: list[int] = []
    short_keys: list[str] = []
    for i, text in enumerate(texts):
        lower = text.lower()
        words = [w for w in _WORD.findall(lower) if w not in ignore]
        lengths.append(len(words) if len(words) >= MIN_WORDS else 0)
        if len(words) >= MIN_WORDS:
            ids.extend([vocabulary.setdefault(w, len(vocabulary)) for w in words])
        if _ENUMERATOR.match(lower):  # "4. " and seven words: short once the number is out
            unnumbered = _ENUMERATOR.sub("", lower, count=1)
            words = [w for w in _WORD.findall(unnumbered) if w not in ignore]
        if 0 < len(words) < MIN_WORDS:
            short_rows.append(i)
            short_keys.append(" ".join(words))
    short = np.zeros(len(lengths), np.uint64)
    short[np.array(short_rows, dtype=np.int64)] = _word_hashes(short_keys)
    hashes = _word_hashes(list(vocabulary))[np.array(ids, dtype=np.int64)]
    words = np.array(lengths, dtype=np.int64)
    count = np.maximum(words - (SHINGLE - 1), 0)  # a text of n words has n - 2 3-grams
    row = np.repeat(np.arange(len(words)), count)
    first = np.concatenate([[0], np.cumsum(words)])[:-1]
    start = ranges(first, count)
    with np.errstate(over="ignore"):
        grams = _mix(hashes[start] + _mix(hashes[start + 1] + _mix(hashes[start + 2])))
    order = np.lexsort((grams, row))  # by text, then 3-gram: repeats within a text are dropped
    grams, row = grams[order], row[order]
    new = np.ones(len(grams), dtype=bool)
    new[1:] = (grams[1:] != grams[:-1]) | (row[1:] != row[:-1])
    return np.bincount(row[new], minlength=len(words)).astype(np.int64), grams[new], short


@dataclass(frozen=True)
class Shingled:
    """Sentences as sets of 3-gram hashes, by sentence and by 3-gram (the inverted index)."""

    offsets: np.ndarray  # int64 [N+1]: sentence i's 3-grams are grams[offsets[i]:offsets[i+1]]
    grams: np.ndarray  # uint64, sorted within each sentence
    council: np.ndarray  # int64 [N]: a number per council
    by_gram: np.ndarray  # uint64: every (3-gram, sentence) pair, sorted by 3-gram
    by_row: np.ndarray  # int32: the sentence of each pair in by_gram

    @classmethod
    def build(cls, offsets: np.ndarray, grams: np.ndarray, council: np.ndarray) -> Shingled:
        rows = np.repeat(np.arange(len(offsets) - 1, dtype=np.int32), np.diff(offsets))
        order = np.argsort(grams, kind="stable")
        return cls(offsets, grams, council, grams[order], rows[order])

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def postings(self, grams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first position in by_gram, number of sentences) of each 3-gram."""
        lo = np.searchsorted(self.by_gram, grams, "left")
        return lo, np.searchsorted(self.by_gram, grams, "right") - lo

    def rows_with(self, grams: np.ndarray) -> np.ndarray:
        lo, df = self.postings(grams)
        return np.unique(self.by_row[ranges(lo, df)]).astype(np.int64)

    def set_hashes(self) -> np.ndarray:
        """One 64-bit hash per sentence of its whole 3-gram set: equal sets, equal hashes."""
        if not len(self.grams):
            return np.zeros(len(self.offsets) - 1, np.uint64)
        return np.add.reduceat(_mix(self.grams ^ np.uint64(0x9E3779B97F4A7C15)), self.offsets[:-1])


def _postings_of(sh: Shingled, queries: np.ndarray, max_postings: int) -> tuple[np.ndarray, np.ndarray]:
    """(first position in by_gram, sentences) of each 3-gram of each query, in by-sentence
    order; 0 sentences for a 3-gram in more than ``max_postings`` sentences (not counted) or in
    one (it pairs nothing)."""
    lo, df = sh.postings(sh.grams[ranges(sh.offsets[queries], sh.sizes[queries])])
    return lo, np.where((df > 1) & (df <= max_postings), df, 0)


def _later_postings(sh: Shingled, max_postings: int) -> tuple[np.ndarray, np.ndarray]:
    """``_postings_of`` every sentence, cut to the partners after it: a full search meets each
    pair once, from its first sentence, which halves the pairs to count. Needs the rows of a
    3-gram in ascending order in ``by_gram``, as ``Shingled.build`` leaves them."""
    order = np.argsort(sh.grams, kind="stable")  # by_gram = grams[order]
    place = np.empty(len(order), np.int64)
    place[order] = np.arange(len(order))  # where each (sentence, 3-gram) pair is in by_gram
    first = np.r_[True, sh.by_gram[1:] != sh.by_gram[:-1]]
    run = np.flatnonzero(first)
    ends = np.r_[run[1:], len(order)]
    which = (np.cumsum(first) - 1)[place]  # each pair's run of equal 3-grams
    counted = (ends - run)[which]
    counted = (counted > 1) & (counted <= max_postings)
    return place + 1, np.where(counted, ends[which] - place - 1, 0)


def _pairs(sh: Shingled, queries: np.ndarray, lo: np.ndarray, df: np.ndarray,
           min_jaccard: float) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """Blocks of (sentence, partner) pairs of different councils with Jaccard >= min_jaccard
    for the sentences ``queries``, whose 3-grams' partners are by_row[lo:lo + df], counted in
    blocks of about ``PAIR_BLOCK`` pairs."""
    sizes = sh.sizes
    qs = sizes[queries]
    gram_end = np.cumsum(qs)
    cum = np.cumsum(np.bincount(np.repeat(np.arange(len(queries)), qs), weights=df,
                                minlength=len(queries)))
    cuts = [0, *np.searchsorted(cum, np.arange(PAIR_BLOCK, cum[-1] if len(cum) else 0,
                                               PAIR_BLOCK), "right").tolist(), len(queries)]
    total = np.int64(len(sizes))
    for a, b in itertools.pairwise(cuts):
        if b <= a:
            continue
        g0, g1 = int(gram_end[a] - qs[a]), int(gram_end[b - 1])
        d = df[g0:g1]
        partner = sh.by_row[ranges(lo[g0:g1], d)].astype(np.int64)
        query = np.repeat(np.repeat(queries[a:b], qs[a:b]), d)
        other = sh.council[partner] != sh.council[query]
        keys, counts = np.unique(query[other] * total + partner[other], return_counts=True)
        qq, pp = keys // total, keys % total
        ok = counts / (sizes[qq] + sizes[pp] - counts) >= min_jaccard
        yield qq[ok], pp[ok]


def _jaccard_marks(sh: Shingled, queries: np.ndarray, min_jaccard: float, max_postings: int,
                   marks: np.ndarray) -> None:
    """Mark in ``marks`` every query with a partner, and all its partners (the test is
    symmetric)."""
    for qq, pp in _pairs(sh, queries, *_postings_of(sh, queries, max_postings), min_jaccard):
        marks[qq] = True
        marks[pp] = True


def _verbatim(set_hash: np.ndarray, council: np.ndarray) -> np.ndarray:
    """Marks of the sentences whose 3-gram set recurs unchanged in another council's document
    (Jaccard 1, even when each of its 3-grams is too common to search by)."""
    marks = np.zeros(len(set_hash), dtype=bool)
    if not len(set_hash):
        return marks
    order = np.lexsort((council, set_hash))
    h, c = set_hash[order], council[order]
    start = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    end = np.r_[start[1:], len(h)] - 1
    group = np.cumsum(np.r_[True, h[1:] != h[:-1]]) - 1
    marks[order] = (c[start] != c[end])[group]  # sorted by council within a set: mixed ends
    return marks


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
    keys, councils, texts = [], [], []
    for key, council, text in sentences:
        keys.append(key)
        councils.append(council)
        texts.append(text)
    sizes, grams, short = shingle_sentences(texts, ignore)
    rows = np.flatnonzero(sizes)
    names = {c: i for i, c in enumerate(sorted(set(councils)))}
    every = np.array([names[c] for c in councils], dtype=np.int64)
    sh = Shingled.build(np.concatenate([[0], np.cumsum(sizes[rows])]), grams, every[rows])
    marks = _search_all(sh, min_jaccard, max_postings)
    marked = _short_marks(short, every)
    return frozenset(keys[r] for r in (*rows[marks], *np.flatnonzero(marked)))


def _search_all(sh: Shingled, min_jaccard: float, max_postings: int) -> np.ndarray:
    """Marks of every sentence with a partner (``sh`` as ``Shingled.build`` makes it)."""
    marks = _verbatim(sh.set_hashes(), sh.council)
    everyone = np.arange(len(sh.council))
    for qq, pp in _pairs(sh, everyone, *_later_postings(sh, max_postings), min_jaccard):
        marks[qq] = True
        marks[pp] = True
    return marks


@dataclass(frozen=True)
class DocSentences:
    """One document's sentences as the standard-text search reads them."""

    doc_id: str
    council: str
    text: str
    spans: tuple[tuple[int, int], ...]  # (start, end) of each sentence, each start once

    def signature(self) -> str:
        """Changes when anything the search reads of this document changes."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(self.council.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(self.text.encode("utf-8", "surrogatepass"))
        digest.update(np.array(self.spans, dtype=np.int64).tobytes())
        return digest.hexdigest()


@dataclass(frozen=True)
class StandardText:
    """The standard-text sentences of a corpus and what finds them again after a change."""

    found: frozenset[tuple[str, int]]  # (doc_id, sentence start)
    state: dict[str, np.ndarray]  # stored with the index for the next search (``_STATE_KEYS``)
    rechecked: int  # sentences searched: all of them, or those a change can have affected


_STATE_KEYS = ("meta", "doc_ids", "doc_sigs", "doc_rows", "councils", "council", "starts",
               "member", "offsets", "grams", "by_gram", "by_row", "short_doc_rows", "short_hash",
               "short_start")


def find_standard_text(docs: Sequence[DocSentences], ignore: frozenset[str], min_jaccard: float,
                       max_postings: int = 400,
                       previous: dict[str, np.ndarray] | None = None) -> StandardText:
    """The standard text of ``docs``; ``previous`` is the ``state`` of an earlier search,
    used when it was made with the same ignored words and thresholds (else: a full search)."""
    meta = json.dumps({"format": STATE_FORMAT, "shingle": SHINGLE, "min_words": MIN_WORDS,
                       "short_councils": SHORT_COUNCILS, "min_jaccard": min_jaccard,
                       "max_postings": max_postings,
                       "ignore": sorted(ignore)})
    usable = previous is not None and _consistent(previous) and str(previous["meta"][()]) == meta
    sigs = [d.signature() for d in docs]
    if usable:
        old = dict(zip(previous["doc_ids"].tolist(), previous["doc_sigs"].tolist()))
        fresh = [i for i, d in enumerate(docs) if old.get(d.doc_id) != sigs[i]]
    else:
        fresh = list(range(len(docs)))
    table = _assemble(docs, fresh, ignore, previous if usable else None)
    sh = Shingled(table["offsets"], table["grams"], table["council"], table["by_gram"],
                  table["by_row"])
    if usable:
        member, rechecked = _recheck(sh, table, previous, min_jaccard, max_postings)
    else:
        member, rechecked = _search_all(sh, min_jaccard, max_postings), len(table["starts"])
    doc_of = np.repeat(np.arange(len(docs)), np.diff(table["doc_rows"]))
    found = frozenset(zip((docs[d].doc_id for d in doc_of[member].tolist()),
                          table["starts"][member].tolist()))
    short = _short_marks(table["short_hash"], table["short_council"])
    short_doc = np.repeat(np.arange(len(docs)), np.diff(table["short_doc_rows"]))
    found |= frozenset(zip((docs[d].doc_id for d in short_doc[short].tolist()),
                           table["short_start"][short].tolist()))
    kept = ("doc_rows", "councils", "council", "starts", "offsets", "grams", "short_doc_rows",
            "short_hash", "short_start")
    state = {**{k: table[k] for k in kept},
             "meta": np.array(meta), "doc_ids": np.array([d.doc_id for d in docs], dtype=str),
             "doc_sigs": np.array(sigs, dtype=str), "member": member, "by_gram": sh.by_gram,
             "by_row": sh.by_row}
    return StandardText(found, state, rechecked)


def _consistent(state: dict[str, np.ndarray]) -> bool:
    """Do the stored arrays fit together (a damaged or foreign file means a full search)?"""
    if not set(_STATE_KEYS) <= set(state):
        return False
    rows, pairs = len(state["starts"]), len(state["grams"])
    return (len(state["doc_rows"]) == len(state["doc_ids"]) + 1 == len(state["doc_sigs"]) + 1
            and int(state["doc_rows"][-1]) == rows and len(state["offsets"]) == rows + 1
            and int(state["offsets"][-1]) == pairs == len(state["by_gram"]) == len(state["by_row"])
            and len(state["member"]) == rows == len(state["council"])
            and len(state["short_doc_rows"]) == len(state["doc_ids"]) + 1
            and int(state["short_doc_rows"][-1]) == len(state["short_hash"])
            == len(state["short_start"])
            and state["short_hash"].dtype == np.uint64
            and state["grams"].dtype == np.uint64 and state["by_gram"].dtype == np.uint64
            and (not rows or int(state["council"].max()) < len(state["councils"])))


def _assemble(docs: Sequence[DocSentences], fresh: list[int], ignore: frozenset[str],
              old: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """The sentence table of ``docs`` in their order: the ``fresh`` documents shingled anew,
    the others' rows copied from ``old``; ``source`` is each row's row in ``old`` (-1: fresh)."""
    councils = sorted({d.council for d in docs})
    number = {c: i for i, c in enumerate(councils)}
    texts, owner, starts = [], [], []
    for i in fresh:
        d = docs[i]
        for a, b in d.spans:
            texts.append(d.text[a:b])
            owner.append(i)
            starts.append(a)
    sizes, grams, short = shingle_sentences(texts, ignore)
    owner_of, start_of = np.array(owner, np.int64), np.array(starts, np.int64)
    is_short = short != 0
    s_owner, s_hash, s_start = owner_of[is_short], short[is_short], start_of[is_short]
    s_first = np.concatenate([[0], np.cumsum(np.bincount(s_owner, minlength=len(docs)))])
    keep = sizes > 0
    f_owner, f_starts, f_sizes = owner_of[keep], start_of[keep], sizes[keep]
    f_first = np.concatenate([[0], np.cumsum(np.bincount(f_owner, minlength=len(docs)))])
    f_offsets = np.concatenate([[0], np.cumsum(f_sizes)])
    old_at = {doc_id: j for j, doc_id in enumerate(old["doc_ids"].tolist())} if old is not None else {}
    fresh_set = set(fresh)
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for i, d in enumerate(docs):
        if i in fresh_set:
            r0, r1 = f_first[i], f_first[i + 1]
            parts["sizes"].append(f_sizes[r0:r1])
            parts["grams"].append(grams[f_offsets[r0]:f_offsets[r1]])
            parts["starts"].append(f_starts[r0:r1])
            parts["council"].append(np.full(r1 - r0, number[d.council], np.int64))
            parts["source"].append(_same_as_before(d, f_offsets[r0:r1 + 1] - f_offsets[r0],
                                                   parts["grams"][-1], old, old_at.get(d.doc_id)))
            q0, q1 = s_first[i], s_first[i + 1]
            parts["short_hash"].append(s_hash[q0:q1])
            parts["short_start"].append(s_start[q0:q1])
            parts["short_council"].append(np.full(q1 - q0, number[d.council], np.int64))
            continue
        j = old_at[d.doc_id]
        q0, q1 = int(old["short_doc_rows"][j]), int(old["short_doc_rows"][j + 1])
        parts["short_hash"].append(old["short_hash"][q0:q1])
        parts["short_start"].append(old["short_start"][q0:q1])
        parts["short_council"].append(np.full(q1 - q0, number[d.council], np.int64))
        r0, r1 = int(old["doc_rows"][j]), int(old["doc_rows"][j + 1])
        o = old["offsets"]
        parts["sizes"].append(np.diff(o[r0:r1 + 1]))
        parts["grams"].append(old["grams"][o[r0]:o[r1]])
        parts["starts"].append(old["starts"][r0:r1])
        parts["council"].append(np.full(r1 - r0, number[d.council], np.int64))
        parts["source"].append(np.arange(r0, r1, dtype=np.int64))
    table = {k: np.concatenate(parts[k]) if parts[k] else np.zeros(0, np.int64)
             for k in ("sizes", "grams", "starts", "council", "source")}
    table["grams"] = table["grams"].astype(np.uint64, copy=False)
    for k in ("short_hash", "short_start", "short_council"):
        table[k] = np.concatenate(parts[k]) if parts[k] else np.zeros(0, np.int64)
    table["short_hash"] = table["short_hash"].astype(np.uint64, copy=False)
    table["short_doc_rows"] = np.concatenate(
        [[0], np.cumsum([len(h) for h in parts["short_hash"]])]).astype(np.int64)
    table["offsets"] = np.concatenate([[0], np.cumsum(table.pop("sizes"))]).astype(np.int64)
    table["doc_rows"] = np.concatenate([[0], np.cumsum([len(s) for s in parts["starts"]])]).astype(np.int64)
    table["councils"] = np.array(councils, dtype=str)
    table["by_gram"], table["by_row"] = _inverted(table, old)
    return table


def _same_as_before(doc: DocSentences, offsets: np.ndarray, grams: np.ndarray,
                    old: dict[str, np.ndarray] | None, at: int | None) -> np.ndarray:
    """For each sentence of a changed document (its 3-grams ``grams[offsets[k]:offsets[k+1]]``),
    the row in ``old`` of a sentence of the document's previous version with the same 3-gram
    set and council, each used once, in order; -1 for a sentence that is new.

    A sentence the change left as it was is then a kept row, not a new one: its partners and
    the 3-grams' sentence counts are what they were, so the recheck searches only what really
    changed (appending a paragraph to a report used to recheck ~20k sentences: each sentence
    of the report and every partner of its standard text)."""
    source = np.full(len(offsets) - 1, -1, np.int64)
    if old is None or at is None:
        return source
    r0, r1 = int(old["doc_rows"][at]), int(old["doc_rows"][at + 1])
    if r1 == r0 or str(old["councils"][old["council"][r0]]) != doc.council:
        return source
    o = old["offsets"]
    unused: dict[bytes, list[int]] = defaultdict(list)
    for row in range(r0, r1):
        unused[old["grams"][o[row]:o[row + 1]].tobytes()].append(row)
    for k in range(len(source)):
        rows = unused.get(grams[offsets[k]:offsets[k + 1]].tobytes())
        if rows:
            source[k] = rows.pop(0)
    return source


def _inverted(table: dict[str, np.ndarray], old: dict[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """(by_gram, by_row) of the new table: the old inverted index with the gone rows dropped
    and the kept ones renumbered, the fresh rows' pairs merged in (a sort of the whole only
    when there is no old index)."""
    offsets, source = table["offsets"], table["source"]
    fresh = np.flatnonzero(source < 0)
    f_sizes = np.diff(offsets)[fresh]
    f_grams = table["grams"][ranges(offsets[fresh], f_sizes)]
    f_rows = np.repeat(fresh.astype(np.int32), f_sizes)
    order = np.argsort(f_grams, kind="stable")
    f_grams, f_rows = f_grams[order], f_rows[order]
    if old is None:
        return f_grams, f_rows
    renumber = _renumber(source, len(old["starts"])).astype(np.int32)  # rows fit: by_row is int32
    new_row = renumber[old["by_row"]]
    if (renumber >= 0).all():  # no sentence gone (one appended to a report): no copies to drop them
        k_grams, k_rows = old["by_gram"], new_row
    else:
        kept = new_row >= 0
        k_grams, k_rows = old["by_gram"][kept], new_row[kept]
    at = np.searchsorted(k_grams, f_grams)
    return np.insert(k_grams, at, f_grams), np.insert(k_rows, at, f_rows)


def _renumber(source: np.ndarray, old_rows: int) -> np.ndarray:
    """Each old row's new row, -1 for the rows of changed or removed documents."""
    renumber = np.full(old_rows, -1, np.int64)
    kept = np.flatnonzero(source >= 0)
    renumber[source[kept]] = kept
    return renumber


def _recheck(sh: Shingled, table: dict[str, np.ndarray], old: dict[str, np.ndarray],
             min_jaccard: float, max_postings: int) -> tuple[np.ndarray, int]:
    """(marks, sentences searched) after a change, equal to a full search's marks.

    A kept sentence's answer can change only when (a) one of its partners was in a changed or
    removed document, or (b) it holds a 3-gram whose sentence count crossed ``max_postings``
    (counted before, not now, or the reverse); a new sentence's partners are found by
    searching it, and the search marks them. So only new sentences and those of (a) and (b)
    are searched; the others keep their mark. Verbatim repeats are cheap and found anew."""
    source = table["source"]
    old_sh = Shingled(old["offsets"], old["grams"], old["council"], old["by_gram"], old["by_row"])
    renumber = _renumber(source, len(old["starts"]))
    gone = np.flatnonzero(renumber < 0)
    partners = [pp for _, pp in _pairs(old_sh, gone, *_postings_of(old_sh, gone, max_postings),
                                       min_jaccard)]
    old_sets = old_sh.set_hashes()
    partners.append(np.flatnonzero(np.isin(old_sets, old_sets[gone])))
    lost = renumber[np.concatenate(partners)]
    fresh = np.flatnonzero(source < 0)
    touched = np.unique(np.concatenate([old_sh.grams[ranges(old_sh.offsets[gone], old_sh.sizes[gone])],
                                        sh.grams[ranges(sh.offsets[fresh], sh.sizes[fresh])]]))
    crossed = touched[(old_sh.postings(touched)[1] <= max_postings)
                      != (sh.postings(touched)[1] <= max_postings)]
    search = np.unique(np.concatenate([fresh, lost[lost >= 0], sh.rows_with(crossed)]))
    marks = _verbatim(sh.set_hashes(), sh.council)
    _jaccard_marks(sh, search, min_jaccard, max_postings, marks)
    member = np.zeros(len(source), dtype=bool)
    kept = source >= 0
    member[kept] = old["member"][source[kept]]
    member[search] = False
    return member | marks, len(search)


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

        stored = stored_boilerplate(store.persisted(boilerplate_name(jaccard)))  # minutes at 500k
        if stored is not None:
            return stored

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


def boilerplate_json(found: frozenset[tuple[str, int]]) -> dict[str, object]:
    """``store_boilerplate``'s set as stored with the index: the rules that found it
    (``RULES``) and doc_id → sentence starts."""
    by_doc: dict[str, list[int]] = defaultdict(list)
    for doc_id, start in found:  # grouped, then sorted per document: one sort of ~500k
        by_doc[doc_id].append(start)  # tuples took ~0.5 s of a re-ingest at 100k chunks
    return {"rules": RULES, "documents": {doc_id: sorted(by_doc[doc_id]) for doc_id in sorted(by_doc)}}


def stored_boilerplate(stored: object) -> frozenset[tuple[str, int]] | None:
    """The set ``boilerplate_json`` stored, or None when there is none or it was found by other
    rules (an index written before a peerqa upgrade): then it must be found again.

    >>> stored_boilerplate(boilerplate_json(frozenset({("d", 7)})))
    frozenset({('d', 7)})
    >>> stored_boilerplate({"d": [7]}) is None  # stored before the rules were stamped
    True
    """
    if not (isinstance(stored, dict) and stored.get("rules") == RULES
            and isinstance(stored.get("documents"), dict)):
        return None
    return frozenset((doc_id, start) for doc_id, starts in stored["documents"].items() for start in starts)
