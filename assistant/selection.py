"""Sentence selection: which sentences of the retrieved passages an extractive answer quotes.

One scored stage. Every sentence of the top passages is a candidate described by a few
features (below); a logistic model turns them into the probability that the sentence answers
the question. Its weights are fitted on the dev split of the fixture questions
(``peerqa fit``) and live in ``Settings.selection``. Then:

* a sentence below the relevance floor is never quoted, even if that leaves one quote, but
  for the best sentence giving the kind of answer asked for (a date, a figure, a name, a
  numbered item), which comes first;
* the rest are taken best first, each discounted by its word overlap with the sentences already
  taken (maximal marginal relevance), so a second quote adds something;
* a sentence that leans on the one before it ("This…", "However…", "These…") brings that
  sentence along, just before it;
* the first quote is the best sentence: the one that answers.

    >>> features_of("Peers said the council should be fleet of foot.", {"fleet", "foot"},
    ...             dense=0.6, best_dense=0.6, rank=0, passage_share=1.0)[:3]
    (0.6, 0.0, 1.0)
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.answer_type import ENDS_SENTENCE, gives, heading_names_item, leans_back, name_sentence
from assistant.dates import states_own_date
from assistant.lexical import stems
from assistant.query import Query
from assistant.settings import SelectionSettings
from assistant.types import Passage

FEATURES = (
    "dense",       # cosine of the sentence to the question's topic
    "dense_gap",   # how far below the best candidate's cosine (0 for the best)
    "lexical",     # share of the topic's content words the sentence contains
    "section",     # share of the topic's content words in the passage's section headings
    "rank",        # 1 / (1 + the passage's rank)
    "passage",     # the passage's retrieval score relative to the top passage's
    "typed",       # gives the kind of answer the question expects (a date, a figure, a name…)
    "first",       # opens its passage
    "length",      # log of its length in characters, scaled to about 0–1
    "neighbour",   # the better cosine of the sentences just before and after it
    "lexical_idf", # the topic's content words it contains, weighted by rarity in the corpus
    "dense_rank",  # 1 / (1 + its rank among the candidates by cosine)
    "untyped",     # the question expects a kind of answer (a date…) and the sentence gives none
    "complete",    # ends like a sentence (not a heading, a list of titles or a table row)
    "own_date",    # a "when" question, and the sentence states the month its own document is
                   # dated by (a report's visit, a letter's or a paper's date): that document's event
    "own_kind",    # …and the question names that kind of document: the share of its type's words
                   # in the question ("when was the peer challenge?" → peer challenge report)
)

_WORDS = re.compile(r"[a-z]{3}")
_TYPED = FEATURES.index("typed")


@dataclass(frozen=True)
class Candidate:
    """One sentence of one retrieved passage, with its features and score."""

    passage: int  # index into the retrieval result's passages
    sentence: int  # index into that passage's chunk sentences
    text: str
    features: tuple[float, ...]
    score: float = 0.0  # probability that it answers (after ``score``)

    @property
    def key(self) -> tuple[int, int]:
        return self.passage, self.sentence


def gives_kind(candidate: Candidate) -> bool:
    """Does the candidate give the kind of answer the question expects (its ``typed`` feature)?"""
    return len(candidate.features) > _TYPED and bool(candidate.features[_TYPED])


def stands_alone(text: str, typed: bool, min_chars: int) -> bool:
    """Is a candidate evidence on its own: quotable, or the kind of answer asked for? A list's
    lead-in ("The three additional areas were:") and its short items are quoted for the list
    only, and neither rank passages nor decide answerability (the models were fitted without
    them)."""
    return typed or quotable(text, min_chars)


def sentence_texts(passage: Passage) -> list[str]:
    return passage.chunk.sentence_texts()


@lru_cache(maxsize=8192)
def sentence_stems(text: str) -> tuple[str, ...]:
    """``stems`` of a candidate sentence, kept: the same sentences come back question after
    question, and each is read twice (is it an echo of its headings; its features)."""
    return tuple(stems(text))


def features_of(text: str, topic: set[str], *, dense: float, best_dense: float, rank: int,
                passage_share: float, section: set[str] = frozenset(), typed: bool = False,
                first: bool = False, neighbour: float = 0.0, idf: Callable[[str], float] | None = None,
                dense_rank: int = 0, expects: bool = False, own_date: bool = False,
                own_kind: float = 0.0, aliases: dict[str, str] | None = None) -> tuple[float, ...]:
    """The feature vector of one sentence (order of ``FEATURES``); ``aliases`` map a word to
    the topic's word it stands for ("staff" → "employe")."""
    words = {(aliases or {}).get(w, w) for w in sentence_stems(text)}
    lexical, in_section = _share(topic, words), _share(topic, section)
    weight = idf or (lambda word: 1.0)
    total = sum(weight(w) for w in topic)
    rare = sum(weight(w) for w in topic & words) / total if total else 0.0
    return tuple(round(x, 6) for x in (
        dense, best_dense - dense, lexical, in_section, 1.0 / (1 + rank), passage_share, float(typed),
        float(first), math.log1p(len(text)) / 6.0, neighbour, rare, 1.0 / (1 + dense_rank),
        float(expects and not typed), float(bool(ENDS_SENTENCE.search(text))), float(own_date),
        own_kind if own_date else 0.0))


def quotable(text: str, min_chars: int) -> bool:
    """Headings, labels, fragments, lead-ins ("… are:") and questions (the peer challenge's
    "Does the council have a clear understanding of its financial position?") answer nothing."""
    end = text.rstrip()[-1:]
    return len(text) >= min_chars and bool(_WORDS.search(text)) and end not in (":", "?")


def echoes(text: str, headings: set[str], share: float = 0.8) -> bool:
    """Does ``text`` only restate its document's title or its section's headings (``headings``:
    their stems)? "45 Feedback from Youth Justice Service Peer review" under that heading, or
    a page's title line, tells nothing the citation does not.

    >>> echoes("45 Feedback from the Peer Review", set(stems("Feedback from Peer Review")))
    True
    >>> echoes("Financial planning is strong.", set(stems("Financial planning")))
    False
    """
    words = [w for w in sentence_stems(text) if not w.isdigit()]
    return bool(words) and sum(w in headings for w in words) >= share * len(words)


def candidates(query: Query, passages: Sequence[Passage], min_chars: int,
               standard: frozenset[tuple[str, int]] = frozenset(), not_names: frozenset[str] = frozenset(),
               idf: Callable[[str], float] | None = None, common: frozenset[str] = frozenset(),
               naming: frozenset[tuple[str, int]] = frozenset(),
               ) -> tuple[list[Candidate], dict[tuple[int, int], int]]:
    """Every quotable sentence of ``passages`` as a candidate (standard text — the same in
    every council's documents — left out, unless it is one of ``naming``, which name a council
    asked about, and gives the kind of answer asked for), and for a post-holder question the
    row naming the holder beside each post row: ``{(passage, post sentence): name sentence}``."""
    topic = set(stems(query.topic or query.text))
    if query.expected and query.expected.kind == "post_holder":  # "who leads X?": X's leader
        topic |= set(stems(query.expected.post.removesuffix(" peer")))
    aliases = dict(query.aliases)
    rows, name_rows = _quotable_rows(query, passages, min_chars, standard, not_names, common, naming)
    # cosine → its rank among the candidates (how many are higher; ties share one); a list's
    # lead-in and short items, let in for the list, are ranked among the others without moving them
    evidence = sorted(row[3] for row in rows if stands_alone(row[2], row[4], min_chars))
    rank_of = {row[3]: len(evidence) - bisect.bisect_right(evidence, row[3]) for row in rows}
    best_dense = evidence[-1] if evidence else 0.0
    top_score = max((p.score for p in passages), default=0.0) or 1.0
    sections = [set(stems(" ".join(p.chunk.section))) for p in passages]
    asks_date = bool(query.expected) and query.expected.kind == "date"
    asked = set(stems(query.text)) if asks_date else set()
    # the share of each passage's document type's words the question uses ("when was the peer
    # challenge?" names the peer challenge report), once per passage
    kinds = [_share(set(stems(p.meta.doc_type)), asked) if asks_date else 0.0 for p in passages]
    found = []
    for p_index, s_index, text, dense, typed in rows:
        passage = passages[p_index]
        scores = passage.sentence_scores
        neighbour = max((scores[i] for i in (s_index - 1, s_index + 1) if 0 <= i < len(scores)), default=0.0)
        found.append(Candidate(p_index, s_index, text, features_of(
            text, topic, dense=dense, best_dense=best_dense, rank=p_index,
            passage_share=passage.score / top_score, section=sections[p_index],
            typed=typed, first=s_index == 0, neighbour=neighbour, idf=idf, dense_rank=rank_of[dense],
            # a numbered item's label ("Recommendation 8") is not all of it: the lines after it
            # are not the less likely for not naming it
            expects=bool(query.expected) and query.expected.kind != "item",
            # a document's own date answers only within the years the question allows
            own_date=asks_date and states_own_date(text, passage.meta) and query.expected.in_years(text),
            own_kind=kinds[p_index], aliases=aliases)))
    return found, name_rows


_ITEM = re.compile(r"^\s*(?:[•●▪◦*–-]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+\S")


def list_lines(texts: Sequence[str]) -> set[int]:
    """Indexes of the lead-ins (ending ":") directly followed by list items, and of those items.

    >>> sorted(list_lines(["The three additional areas were:", "1. Wellbeing", "2. Pace", "Then more."]))
    [0, 1, 2]
    """
    found: set[int] = set()
    for i, text in enumerate(texts):
        if text.rstrip().endswith(":") and i + 1 < len(texts) and _ITEM.match(texts[i + 1]):
            found.add(i)
            j = i + 1
            while j < len(texts) and _ITEM.match(texts[j]):
                found.add(j)
                j += 1
    return found


def _share(words: set[str], among: set[str]) -> float:
    return len(words & among) / len(words) if words else 0.0


def _quotable_rows(query: Query, passages: Sequence[Passage], min_chars: int,
                   standard: frozenset[tuple[str, int]], not_names: frozenset[str],
                   common: frozenset[str] = frozenset(), naming: frozenset[tuple[str, int]] = frozenset(),
                   ) -> tuple[list[tuple[int, int, str, float, bool]], dict[tuple[int, int], int]]:
    """(passage, sentence, text, cosine, gives the expected kind) of each quotable sentence,
    and the post-holder name rows."""
    expected, councils = query.expected, [c.lower() for c in query.councils]
    rows = []
    name_rows: dict[tuple[int, int], int] = {}
    seen: set[str] = set()  # overlapping chunks share sentences: keep the better-ranked one
    for p_index, passage in enumerate(passages):
        texts = sentence_texts(passage)
        headings = set(stems(" ".join([*passage.chunk.section, passage.meta.title])))
        under_item = heading_names_item(passage.chunk.section, expected)
        typed = {i for i in range(len(texts))
                 if expected and (under_item or gives(texts, i, expected, councils, not_names, common))}
        if expected and expected.kind == "post_holder":  # the post and the name may be two rows
            names = {i: j for i in typed for j in [name_sentence(texts, i, not_names, common=common)] if j is not None}
            name_rows.update({(p_index, i): j for i, j in names.items()})
            typed |= set(names.values())
        listed = list_lines(texts)
        own: list[tuple[int, int, str, float, bool]] = []
        for s_index, text in enumerate(texts):
            # a short line or a lead-in is a heading or a label, unless it is the kind of answer
            # asked for ("24 March 2022" under a letter's title answers "what date is on the
            # letter?"; "The team spent 3.5 days onsite, during which they:" "how long …?"), or
            # a list's lead-in or item: "The three additional areas were:" is quoted with its
            # items ("1. Our approach to wellbeing", "• focus on finance")
            fits = (s_index in typed or s_index in listed) and bool(_WORDS.search(text))
            key = (passage.meta.doc_id, passage.chunk.sentences[s_index].start)
            if text in seen or not (fits or (quotable(text, min_chars) and not echoes(text, headings))) \
                    or (key in standard and not (fits and key in naming)):
                continue
            seen.add(text)
            dense = passage.sentence_scores[s_index] if s_index < len(passage.sentence_scores) else 0.0
            own.append((p_index, s_index, text, dense, s_index in typed))
        # a lead-in whose items are not quoted here (standard text, or another chunk's) says nothing
        kept = {row[1] for row in own}
        rows += [row for row in own if not _dangling(row[1], texts, listed, typed, kept)]
    return rows, name_rows


def _dangling(index: int, texts: Sequence[str], listed: set[int], typed: set[int], kept: set[int]) -> bool:
    """Is sentence ``index`` a list's lead-in, let in for its list, whose first item is not kept?"""
    return index in listed and index not in typed and texts[index].rstrip().endswith(":") \
        and index + 1 not in kept


def score(found: Sequence[Candidate], cfg: SelectionSettings) -> list[Candidate]:
    """Each candidate with its probability of answering, best first."""
    weights = cfg.weights()
    scored = [replace(c, score=1.0 / (1.0 + math.exp(-(cfg.intercept + sum(
        w * x for w, x in zip(weights, c.features)))))) for c in found]
    return sorted(scored, key=lambda c: c.score, reverse=True)


def select(scored: Sequence[Candidate], cfg: SelectionSettings,
           name_rows: dict[tuple[int, int], int] | None = None) -> list[Candidate]:
    """The sentences to quote, in the order to show them: best first, by maximal marginal
    relevance above the floor, each with the sentence it leans on just before it."""
    if not scored:
        return []
    pool = [c for c in scored if c.score >= cfg.floor] or [scored[0]]
    chosen: list[Candidate] = []
    # a question asking for a kind of answer (a date, a figure, a name, a numbered item) is
    # answered first by the best sentence giving one: "• Jo Williams, Torbay Council – Lead
    # Peer" before the prose about what the peer team did; below the floor too, as the answer
    # is given (the answerability model decided so): the text under a heading "Recommendation
    # 1" shares few words with "what was recommendation 1 about money?"
    typed = next((c for c in scored if gives_kind(c)), None)
    if typed is not None:
        if typed in pool:
            pool.remove(typed)
        chosen.append(typed)
    words = {c.key: set(stems(c.text)) for c in [*pool, *chosen]}  # only these are ever compared
    while pool and len(chosen) < cfg.max_quotes:
        best = max(pool, key=lambda c: c.score - cfg.redundancy * _overlap(words[c.key], chosen, words))
        pool.remove(best)
        chosen.append(best)
    return _with_context(chosen, scored, name_rows or {})


def _overlap(words: set[str], chosen: Sequence[Candidate], all_words: dict) -> float:
    """Largest word overlap (Jaccard) with a sentence already chosen."""
    return max((len(words & all_words[c.key]) / max(1, len(words | all_words[c.key])) for c in chosen),
               default=0.0)


def _with_context(chosen: list[Candidate], scored: Sequence[Candidate],
                  name_rows: dict[tuple[int, int], int]) -> list[Candidate]:
    """Add the antecedent of a sentence that leans back, and the name row beside a post row."""
    by_key = {c.key: c for c in scored}
    shown: list[Candidate] = []
    for c in chosen:
        before = by_key.get((c.passage, c.sentence - 1))
        if leans_back(c.text) and before is not None and before not in shown:
            shown.append(before)  # even when chosen on its own: it belongs just before
        if c not in shown:
            shown.append(c)
        if c.text.rstrip().endswith(":"):  # a lead-in brings its list's items, in order
            following = c.sentence + 1
            while (item := by_key.get((c.passage, following))) is not None and _ITEM.match(item.text):
                if item not in shown:
                    shown.append(item)
                following += 1
        partner = by_key.get((c.passage, name_rows.get(c.key, -1)))
        if partner is not None and partner not in shown and partner not in chosen:
            shown.append(partner)
    return shown

