"""Retrieved passages → a cited answer: extractive by default, generative when configured.

The extractive answer quotes the sentences the selection stage picks (selection.py), verbatim
and best first, each followed by the number of the passage it comes from. It abstains when the
question is about a council, year or kind of document the corpus does not hold (facts about
the corpus); when the calibrated answerability model (answerability.py) judges the evidence too
weak — the message then says why: a name the documents never use, a date, figure or post holder
none of the top passages gives, or no evidence; and — with a different message — when the
filters exclude every document.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.answer_type import YEAR, Expected, date_spans, gives, heading_names_item, person_names, with_antecedent
from assistant.answerability import answerability_features, answerable
from assistant.boilerplate import standard_text
from assistant.lexical import stem_idf, stems
from assistant.query import CorpusFacts, Query, corpus_facts, council_vocabulary, event_years
from assistant.retrieval import RetrievalResult, Retriever
from assistant.selection import Candidate, candidates, gives_kind, score, select, sentence_texts, stands_alone
from assistant.settings import Settings
from assistant.store import IndexStore
from assistant.types import Answer, Filters, Passage

RELATED = "The closest passages are listed below as possibly related."
NO_ANSWER = ("The corpus does not answer this question. The closest passages are listed below "
             "as possibly related; check them before relying on them.")
_MARKER = re.compile(r"\[(\d{1,2})\]")


def ask(query: Query, store: IndexStore, settings: Settings | None = None,
        filters: Filters | None = None, k: int | None = None, retriever: Retriever | None = None,
        generator=None) -> Answer:
    """Answer an analysed question from ``store``. ``generator`` overrides the configured LLM."""
    settings = settings or Settings()
    asked_filters = filters or Filters()
    filters = scoped(query, asked_filters, settings)
    retriever = retriever or Retriever(store, settings)
    # quotes come from the council asked about; whether the corpus answers at all is judged on
    # the evidence the question's own filters allow (until answerability is calibrated for
    # scoped questions, issue "Answers that answer")
    result, evidence = answer_passages(query, retriever, store, settings, filters, asked_filters, k)
    base = Answer(question=query.text, text="", abstained=True, passages=result.passages, citations=(),
                  index_version=store.version, filters=filters, confidence=result.confidence)
    facts = corpus_facts(store)
    refusal = (_refusal(query, result, facts, settings) or _unnamed_peer(query, result, facts)
               or _unmentioned_topic(query, store))
    if not refusal:
        evidence = evidence or gather_evidence(query, result, store, settings)
        refusal = _evidence_refusal(query, evidence, settings)
    if refusal:
        reason, text = refusal
        return replace(base, reason=reason, text=text)
    unknown = ", ".join(query.unknown_names)
    naming = _naming_quotes(query, evidence, facts)[:settings.selection.max_quotes]
    answer = extractive_answer(query, result, settings, evidence, quotes=naming,
                               lead=_served_on if naming else None)
    notices = [f"The documents never mention {unknown}; check the quotes answer it." if unknown else "",
               _councils_notice(query, answer, filters), _peer_home_notice(filters)]
    answer = replace(answer, index_version=store.version, filters=filters, confidence=result.confidence,
                     notice=" ".join(n for n in notices if n))
    llm = generator if generator is not None else (
        OpenAICompatibleGenerator.from_settings(settings) if settings.answer.llm_url else None)
    if llm is not None:
        return generative_answer(query.text, answer, llm)
    return answer


def answer_passages(query: Query, retriever: Retriever, store: IndexStore, settings: Settings,
                    filters: Filters, asked_filters: Filters, k: int | None = None,
                    ) -> tuple[RetrievalResult, Evidence | None]:
    """The passages an answer is made from, and their evidence when it was gathered: the
    retriever's top ``selection.rerank_pool``, re-ranked by their best sentence's probability of
    answering the question (the selection model's score) on top of the retrieval score, then
    cut to ``k``. A passage that holds the answer outranks one that only shares the question's
    words. The sentences keep the scores they had in the pool."""
    k = k or settings.retrieval.k
    cfg = settings.selection
    if not cfg.rerank_weight:
        return retriever.search(query, filters, k, evidence_filters=asked_filters), None
    pool = retriever.search(query, filters, max(k, cfg.rerank_pool), evidence_filters=asked_filters)
    if not pool.passages or _refusal(query, pool, corpus_facts(store), settings):
        return replace(pool, passages=pool.passages[:k]), None
    evidence = gather_evidence(query, pool, store, settings)
    best = [0.0] * len(pool.passages)
    for c in _as_evidence(evidence.candidates, settings):
        best[c.passage] = max(best[c.passage], c.score)
    # asked where someone served as a peer, the passages naming them come first (a peer list
    # shares few words with the question)
    facts = corpus_facts(store)
    naming = [bool(query.peer_homes) and bool(_naming_lines(query, p.chunk.text, facts)) for p in pool.passages]
    def rank(i: int, lift: float = 0.0) -> tuple[bool, float]:
        return not naming[i], -(pool.passages[i].score - lift + cfg.rerank_weight * best[i])

    order = sorted(range(len(pool.passages)), key=rank)[:k]
    result = replace(pool, passages=tuple(pool.passages[i] for i in order))
    # the top passages by topic: ranked without the lift a passage gets for giving the kind of
    # answer asked for (a figure lifted into the top five is no sign that the corpus states the
    # figure asked for)
    by_topic = sorted(range(len(pool.passages)), key=lambda i: rank(i, pool.passages[i].lift))
    given = _gives_expected(query, [pool.passages[i] for i in by_topic], store, settings)
    return result, _kept(evidence, order, query, result, store, settings, given)


def _kept(evidence: Evidence, order: list[int], query: Query, result: RetrievalResult,
          store: IndexStore, settings: Settings, given: bool) -> Evidence:
    """The pool's evidence for the passages kept, renumbered to their new places, with the
    question-level features measured again on them."""
    place = {old: new for new, old in enumerate(order)}
    scored = [replace(c, passage=place[c.passage]) for c in evidence.candidates if c.passage in place]
    name_rows = {(place[p], i): j for (p, i), j in evidence.name_rows.items() if p in place}
    features = answerability_features(query, result, _as_evidence(scored, settings), corpus_idf(store), given)
    return Evidence(tuple(scored), name_rows, features, given, evidence.other_years)


def _as_evidence(scored: Sequence[Candidate], settings: Settings) -> list[Candidate]:
    """The candidates that are evidence on their own (``selection.stands_alone``)."""
    return [c for c in scored if stands_alone(c.text, gives_kind(c), settings.answer.min_sentence_chars)]


def _gives_expected(query: Query, passages: Sequence[Passage], store: IndexStore, settings: Settings) -> bool:
    """Does one of the top passages give the kind of answer the question expects? The date of
    an event ("when was the peer team on site?") is given by a sentence naming an event of its
    kind (``_dates_event``), not by any date: a decision record's "Publication date: …" is not
    when the peers came."""
    if not query.expected:
        return False
    facts = corpus_facts(store)
    names, councils = facts.registry.name_words, [c.lower() for c in query.councils]
    events = facts.domain.events_named(query.topic) if query.expected.kind == "date" else frozenset()
    for p in passages[:settings.answer.answer_type_passages]:
        if _of_another_year(query, p, facts) or not _names_asked(query, p):
            continue
        sentences = sentence_texts(p)
        if sentences and heading_names_item(p.chunk.section, query.expected):
            return True  # the text under "Recommendation 1" is recommendation 1
        heading = _own_heading(p, store) if events else ""
        if any(gives(sentences, i, query.expected, councils, names, facts.registry.common_words)
               and (not events or _dates_event(events, sentences, i, heading, facts))
               and _undated_in_years(query.expected, sentences, i, p) for i in range(len(sentences))):
            return True
    return False


# The kinds of answer that are facts about what the question names: "when did Jo Bloggs start?"
# or "when did the Planning Advisory Service carry out its review?" is not dated by a passage
# that never names them. A name or post asked for is another's ("who was chief executive
# before Jo Bloggs?"), and is not held to this.
_ABOUT_NAMED = frozenset({"date", "number", "money", "duration"})


def _names_asked(query: Query, passage: Passage) -> bool:
    """Does ``passage`` name the people and bodies the question asks a date or figure about
    (by the last word of their name: "Ms Bloggs", "the Advisory Service")?"""
    if not query.proper_names or not query.expected or query.expected.kind not in _ABOUT_NAMED:
        return True
    return all(re.search(rf"\b{re.escape(name.split()[-1])}\b", passage.chunk.text, re.I)
               for name in query.proper_names)


def _undated_in_years(expected: Expected, sentences: Sequence[str], i: int, passage: Passage) -> bool:
    """A date naming no year ("in May", "within the next 2 years") is of its document's years:
    it answers a question bounded to other years ("when … before 2017?") only when the
    document's date or visit falls within them."""
    if not expected.years or not passage.meta.years or YEAR.search(" ".join(with_antecedent(sentences, i))):
        return True
    return any(expected.in_years(str(year)) for year in passage.meta.years)


def _own_heading(passage: Passage, store: IndexStore) -> str:
    """The passage's section heading, unless it is the document's title (its first line),
    which every sentence of the document is under."""
    heading = passage.chunk.section[-1] if passage.chunk.section else ""
    text = store.documents[passage.meta.doc_id].text
    return "" if heading.strip() == text[:len(heading) + 200].lstrip().split("\n", 1)[0].strip() else heading


def _of_another_year(query: Query, passage: Passage, facts: CorpusFacts) -> bool:
    """Is ``passage`` from a document of another year than the one the question asks about,
    when the council has a document of that year, and silent on that year? "Who supported the
    county's 2013 peer team?" is not answered by the manager named in its 2022 progress review
    letter; a 2023 news item telling of "the challenge … in October 2022" may tell of 2022's."""
    years = set(query.years)
    own = set(passage.meta.years)
    return bool(years and own and not years & own
                and years & set(facts.doc_years.get(passage.meta.council, ()))
                and not any(str(y) in passage.chunk.text for y in years))


def _dates_event(events: frozenset[int], sentences: Sequence[str], i: int, heading: str,
                 facts: CorpusFacts) -> bool:
    """Does sentence ``i``, a date, tell of an event of one of the kinds ``events``? It tells
    of what it names, of what its section's heading names ("Follow up visit": "Our expectation
    is that it will occur within the next 2 years") and, leaning back ("This took place in
    May"), of what the sentence before it names."""
    told = with_antecedent(sentences, i)
    own = facts.domain.events_named(" ".join(told))
    if len(own) > 1:  # "the peer challenge report published today, 6 July 2022": publication
        # a sentence leaning back stands for what the one before names at its opening word:
        # "This took place in November 2012, with the report appended to the Cabinet report."
        before = facts.domain.events_named(told[0]) if len(told) > 1 else frozenset()
        own = _nearest_events(sentences[i], facts, before) or own
    # a sentence naming an event of its own dates that one: "Meeting: 23/07/2024 - Strategy and
    # Resources Committee" under "Corporate Peer Challenge Action Plan" is the committee's date
    return bool(events & (own or facts.domain.events_named(heading)))


def _nearest_events(sentence: str, facts: CorpusFacts, opening: frozenset[int] = frozenset()) -> frozenset[int]:
    """The kinds of event named nearest each date of ``sentence`` (ties: each of them), with
    the kinds ``opening`` named by its first word ("This", leaning back)."""
    first = re.match(r"\s*\S+", sentence)
    spans = [*facts.domain.event_spans(sentence), *((kind, 0, first.end()) for kind in opening if first)]
    found: set[int] = set()
    for start, end in date_spans(sentence):
        gaps = [(max(start - e_end, e_start - end, 0), kind) for kind, e_start, e_end in spans]
        if gaps:
            nearest = min(g for g, _ in gaps)
            found |= {kind for g, kind in gaps if g == nearest}
    return frozenset(found)


def _peer_home_notice(filters: Filters) -> str:
    """How a question about where someone served as a peer was read (``scoped``)."""
    if not filters.not_councils:
        return ""
    homes = " and ".join(filters.not_councils)
    return (f"Read as where someone from {homes} served as a peer: a peer never reviews their own "
            f"council, so the documents about {homes} were left out.")


def _councils_notice(query: Query, answer: Answer, filters: Filters) -> str:
    """A question naming no council, answered from several councils' documents: say so and
    offer the comparison (each passage's council is in its reference)."""
    cited = sorted({answer.passages[n - 1].meta.council for n in answer.citations})
    if query.councils or query.peer_homes or filters.council or len(cited) < 2:
        return ""
    return (f"The quotes come from {len(cited)} councils ({', '.join(cited)}); to see them side by "
            f"side, ask \"{query.text.rstrip('?. ')} at each council?\"")


def scoped(query: Query, filters: Filters, settings: Settings) -> Filters:
    """A question about one council is answered from that council's documents only (a filter,
    not a boost), unless a council filter is already set or scoping is switched off. A
    question about where someone served as a peer is answered from the documents of councils
    other than that person's own (``Query.peer_homes``)."""
    if not settings.retrieval.council_scope or filters.council:
        return filters
    if len(query.councils) == 1:
        return replace(filters, council=query.councils[0])
    if query.peer_homes and not query.councils:
        return replace(filters, not_councils=query.peer_homes)
    return filters


def _refusal(query: Query, result: RetrievalResult, facts: CorpusFacts,
             settings: Settings) -> tuple[str, str] | None:
    """(reason, message) when the corpus cannot answer ``query``, else None."""
    if result.reason == "filtered_out":
        return "filtered_out", ("No document matches the filters you set, so nothing was searched. "
                                "Widen or remove a filter (council, document type, year).")
    held = facts.registry.held
    if query.unknown_councils and not query.councils:
        return "unknown_council", (f"The corpus holds no documents about {', '.join(query.unknown_councils)}; "
                                   f"it covers {_some(held)}. {RELATED}")
    if query.mentioned_only and not query.councils:
        # the documents mention the council (a partner, a peer's own council) but no peer team
        # reviewed it
        return "unknown_council", (
            f"The corpus holds no peer challenge documents about {', '.join(query.mentioned_only)}, "
            f"which its documents only mention in passing; it covers {_some(held)}. {RELATED}")
    if query.unknown_people:
        people = " or ".join(query.unknown_people)
        return "unknown_name", (f"No document names {people}, so the documents cannot say anything "
                                f"about them. Check the spelling of the name. {RELATED}")
    if query.years and len(query.unknown_years) == len(query.years):
        years = ", ".join(str(y) for y in query.unknown_years)
        return "unknown_year", f"No document in the corpus covers {years}. {RELATED}"
    # a later page may tell of an earlier review the corpus does not hold ("The 2020 peer review
    # took place in January"): a year one of the council's sentences dates one in is known
    told = _told_years(query, result, facts) if query.undated_years else set()
    if undated := [y for y in query.undated_years if y not in told]:
        years = " or ".join(str(y) for y in undated)
        whose = " or ".join(query.councils) if query.councils else "any council"
        return "unknown_year", (f"The corpus holds no document of {whose} from {years}, so it cannot "
                                f"say what one found. {RELATED}")
    # a fact about such a review (when it was, who came) may be told by the council's other
    # documents; what one found only by the review itself
    # …and so may whether one took place ("has the LGA been back for its progress review yet?")
    # …or, asked what is to come ("will the progress review be in person?"), one planned
    if query.missing_doc_types and not ((query.expected or _ASKS_WHETHER.match(query.text)) and tell_of(
            query.missing_doc_types, [p for p in result.passages if p.meta.council in query.councils], facts,
            planned=facts.domain.asks_future(query.text))):
        kinds, named = " or ".join(query.missing_doc_types), " or ".join(query.councils)
        # asked a fact about one ("when was …?"), none of the council's documents tells of one
        what = ("and none of its documents tells of one that took place" if query.expected
                else "so it cannot say what one found")
        return "unknown_document", f"The corpus holds no {kinds} of {named}, {what}. {RELATED}"
    if not result.passages:
        return "no_evidence", NO_ANSWER
    return None


# a question asking whether something is so: "Has the LGA been back …?", "Did the peers return …?",
# "Will the progress review be in person?"
_ASKS_WHETHER = re.compile(r"\s*(?:has|have|had|did|does|do|was|were|is|are|will|shall)\b", re.I)


def _some(councils: Sequence[str], shown: int = 8) -> str:
    """The councils a corpus covers, as a member reads them: a long list cut short.

    >>> _some(["A", "B"]), _some([str(i) for i in range(10)], shown=3)
    ('A and B', '0, 1, 2 and 7 more councils')
    """
    if len(councils) <= shown:
        return " and ".join([", ".join(councils[:-1]), councils[-1]] if len(councils) > 1 else councils)
    return f"{', '.join(councils[:shown])} and {len(councils) - shown} more councils"


def _told_years(query: Query, result: RetrievalResult, facts: CorpusFacts) -> set[int]:
    """Years in which a sentence of the subject councils' passages dates a document or visit
    that has happened (``event_years``; not put in the future)."""
    return {year for p in result.passages if not query.councils or p.meta.council in query.councils
            for text in p.chunk.sentence_texts() if not facts.domain.in_future(text)
            for year in event_years(text, facts.domain)}


def tell_of(doc_types: Sequence[str], passages: Sequence[Passage], facts: CorpusFacts,
            standard: frozenset[tuple[str, int]] = frozenset(), planned: bool = False) -> bool:
    """Does an own sentence of ``passages`` (``standard`` text left out) tell of a document of
    one of ``doc_types`` that has happened (``Domain.tells_of``: in the words a question asks for
    it by, dated, not "will"), or, ``planned``, one to come? A council's web page or news may
    tell when its progress review was, though the corpus holds no progress review of it; "the
    LGA will do a follow-up visit" tells of none, unless asked what is to come."""
    return any(facts.domain.tells_of(doc_type, text, planned) for p in passages
               for text in _own_texts(p, standard) for doc_type in doc_types)


def _own_texts(passage: Passage, standard: frozenset[tuple[str, int]]) -> Iterator[str]:
    """A passage's own sentences (``standard`` text left out) and its section title: a dated
    title tells of an event too ("LGA Corporate Peer Challenge progress review, February 2025"
    over a paragraph about how progress reviews work)."""
    chunk = passage.chunk
    yield from (text for s, text in zip(chunk.sentences, chunk.sentence_texts()) if (chunk.doc_id, s.start) not in standard)
    yield from chunk.section[-1:]


def _naming_lines(query: Query, text: str, facts: CorpusFacts) -> list[str]:
    """The lines of ``text`` that name a person of a council of ``query.peer_homes`` with the
    post the question names them by: a person's name and the post beside the council's name,
    that is on its line between the council names before and after it (in "…, Leader,
    Calderbrook Council / …, Chief Executive, X" the leader is Calderbrook's; "reset the
    relationship with X at chief executive level" names no one). A line naming three or more
    councils is a peer list run together: only the entry ending with X's name is kept."""
    homes = set(query.peer_homes)
    # each post by its word or one of its role family's ("councillor": "Cllr Jo Bloggs")
    posts = [[facts.domain.role_words(w) for w in stems(post)] for post in query.peer_posts]
    lines = []
    for line in text.splitlines():
        named = facts.registry.find(line)
        for i, mention in enumerate(named):
            if not homes & set(mention.councils):
                continue
            start = named[i - 1].end if i else 0
            own = line[start:named[i + 1].start if i + 1 < len(named) else len(line)]
            words = set(stems(own))
            named_post = all(forms & words for post in posts for forms in post)
            if named_post and person_names(own, facts.registry.name_words, common=facts.registry.common_words):
                lines.append(line.strip(" \t•*-–") if len(named) < 3 else line[start:mention.end].strip(" ,;:•-"))
                break
    return lines


def _naming_quotes(query: Query, evidence: Evidence, facts: CorpusFacts) -> list[Candidate]:
    """Asked where someone served as a peer, the lines naming them are the answer, in the order
    of their passages (the selection model, fitted on other questions, ranks a peer list's
    lines low); none for other questions."""
    if not query.peer_homes:
        return []
    return sorted((replace(c, text=line) for c in evidence.candidates
                   for line in _naming_lines(query, c.text, facts)), key=lambda c: c.key)


def _unnamed_peer(query: Query, result: RetrievalResult, facts: CorpusFacts) -> tuple[str, str] | None:
    """Asked where someone from X served as a peer (``Query.peer_homes``), only another
    council's document naming X with the post the person was named by (``_naming_lines``)
    can answer: "Which peer team included the leader of X?" over a peer list naming only X's
    chief executive is not answered by it. Refused as not stated when no passage does."""
    if not query.peer_homes or any(_naming_lines(query, p.chunk.text, facts) for p in result.passages):
        return None
    place = " or ".join(query.peer_homes)
    who = f"{place}'s {' or '.join(query.peer_posts)}" if query.peer_posts else f"anyone from {place}"
    return "not_stated", (f"None of the passages found in other councils' documents names {who}, so "
                          f"the documents do not say where that person served as a peer. {RELATED}")


def _unmentioned_topic(query: Query, store: IndexStore) -> tuple[str, str] | None:
    """A council service the question names ("libraries", "tourism") that no document of the
    councils it asks about (any document, when it names none) mentions by any word of its family
    (``Domain.topics_named``): the documents cannot say what peers found on it. A fact about the
    corpus, like a council it lacks, so it stays outside the answerability model."""
    missing = unmentioned_topics(query, store, query.councils)
    if not missing:
        return None
    whose = f" about {_some(list(query.councils))}" if query.councils else ""
    named = " or ".join(f'"{words}"' for words in missing)
    return "unknown_topic", (f"The documents{whose} never mention {named} or the like, so they cannot "
                             f"answer this. {RELATED}")


def unmentioned_topics(query: Query, store: IndexStore, councils: Sequence[str]) -> list[str]:
    """The words of each service topic the question names (``Query.topics``) that no document
    of ``councils`` (of any council, when none are given) mentions by any word of its family;
    documents of no known council count for every council."""
    if not query.topics:
        return []
    facts = corpus_facts(store)
    if councils:
        words = council_vocabulary(store)
        scope: frozenset[str] | set[str] = set().union(*(words.get(c, frozenset()) for c in (*councils, "")))
    else:
        scope = facts.vocabulary
    return [written for written, family in query.topics if not facts.domain.mentions(family, scope)]


def _evidence_refusal(query: Query, evidence: Evidence, settings: Settings) -> tuple[str, str] | None:
    """The calibrated answerability model's decision (assistant/answerability.py), with the
    typed reason a member can act on."""
    if not evidence.candidates:  # no sentence to quote: every passage was of another year
        if evidence.other_years:
            years = " or ".join(str(y) for y in query.years)
            return "unknown_year", (f"The passages on this come from documents of other years, which do not "
                                    f"mention {years}, so they cannot answer it. {RELATED}")
        return "no_evidence", NO_ANSWER
    if answerable(evidence.features, settings.answerability):
        return None
    if query.unknown_names:
        unknown = ", ".join(query.unknown_names)
        return "unknown_name", f"The documents never mention {unknown}, so they cannot answer this. {RELATED}"
    if query.expected and not evidence.given:
        # e.g. "How much did the council pay the LGA?" finds passages about the LGA and the
        # council, none of which states an amount
        return "not_stated", (f"The closest passages do not give {query.expected.label}, so the documents "
                              "do not seem to answer this. They are listed below as possibly related.")
    return "no_evidence", NO_ANSWER


def corpus_idf(store: IndexStore):
    """The corpus's stem → IDF function, read once per index from its BM25 postings."""
    return store.derived("stem_idf", lambda: stem_idf(*store.bm25))


@dataclass(frozen=True)
class Evidence:
    """What the answer and the refusal decision are built from: the scored candidate
    sentences of the retrieved passages and the question-level answerability features."""

    candidates: tuple[Candidate, ...]  # best first
    name_rows: dict[tuple[int, int], int]  # post row → the row naming its holder
    features: tuple[float, ...]
    given: bool  # some top passage gives the kind of answer the question expects
    other_years: bool = False  # passages of another year than asked were set aside


def gather_evidence(query: Query, result: RetrievalResult, store: IndexStore, settings: Settings,
                    standard: frozenset[tuple[str, int]] | None = None) -> Evidence:
    """Score every candidate sentence and measure the answerability features."""
    facts = corpus_facts(store)
    standard = standard_text(store, settings) if standard is None else standard
    naming = _naming_asked(query, result.passages, standard, facts) if query.expected and query.councils \
        else frozenset()
    idf = corpus_idf(store)
    found, name_rows = candidates(query, result.passages, settings.answer.min_sentence_chars, standard,
                                  facts.registry.name_words, idf, facts.registry.common_words, naming)
    # a passage of another year than the one asked about, silent on it, is no evidence: "did
    # the council achieve its savings in 2018/19?" is not answered by the 2017 report's target
    other = {i for i, p in enumerate(result.passages) if _of_another_year(query, p, facts)}
    scored = score([c for c in found if c.passage not in other], settings.selection)
    given = _gives_expected(query, sorted(result.passages, key=lambda p: p.score - p.lift, reverse=True),
                            store, settings)
    features = answerability_features(query, result, _as_evidence(scored, settings), idf, given)
    return Evidence(tuple(scored), name_rows, features, given, bool(other))


def _naming_asked(query: Query, passages: Sequence[Passage], standard: frozenset[tuple[str, int]],
                  facts: CorpusFacts) -> frozenset[tuple[str, int]]:
    """The standard sentences of ``passages`` that name a council the question asks about: the
    LGA's description of a peer challenge, "… spending four days at LB Merton …", is standard
    text but for the length and the council, so it may answer "how long were the peers at
    Merton?" when it gives the kind of answer asked for (selection keeps only those)."""
    asked = set(query.councils)
    return frozenset({key for p in passages for sentence, text in zip(p.chunk.sentences, sentence_texts(p))
            if (key := (p.meta.doc_id, sentence.start)) in standard
            and any(asked.intersection(m.councils) for m in facts.registry.find(text))})


def _served_on(passage: Passage) -> str:
    """Where a peer named in this passage served: the council its document is about, and when."""
    when = f" ({passage.meta.date})" if passage.meta.date else ""
    return f"On the peer team for {passage.meta.council}{when}: "


def extractive_answer(query: Query, result: RetrievalResult, settings: Settings,
                      evidence: Evidence, quotes: Sequence[Candidate] = (),
                      lead: Callable[[Passage], str] | None = None) -> Answer:
    """Quote the sentences the selection stage chooses (assistant/selection.py), best first,
    or ``quotes`` when given, each followed by the number of the passage it comes from and,
    with ``lead``, after what ``lead`` says of that passage ("On the peer team for X: ")."""
    chosen = list(quotes) or select(evidence.candidates, settings.selection, evidence.name_rows)
    if not chosen:
        chosen = [Candidate(i, -1, p.chunk.text, ()) for i, p in enumerate(result.passages[:1])]
    quoted: dict[int, list[str]] = {}
    lines = []
    for c in chosen:
        quoted.setdefault(c.passage, []).append(c.text)
        lines.append(f"{lead(result.passages[c.passage]) if lead else ''}{c.text} [{c.passage + 1}]")
    passages = tuple(replace(p, quoted=tuple(quoted.get(i, ()))) for i, p in enumerate(result.passages))
    return Answer(question=query.text, text="\n".join(lines), abstained=False, passages=passages,
                  citations=tuple(sorted(i + 1 for i in quoted)), mode="extractive")


# ---------------------------------------------------------------- generative mode

class GenerationError(Exception):
    pass


class OpenAICompatibleGenerator:
    """Client for an OpenAI-compatible ``/chat/completions`` endpoint (llama.cpp, Ollama, vLLM…)."""

    def __init__(self, url: str, model: str = "local", key: str = "", timeout: float = 30.0):
        self.url = url.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/chat/completions"
        self.model, self.key, self.timeout = model, key, timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleGenerator:
        a = settings.answer
        return cls(a.llm_url, a.llm_model, a.llm_key, a.llm_timeout)

    def complete(self, messages: list[dict]) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
            return str(payload["choices"][0]["message"]["content"])
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GenerationError(f"no answer from {self.url} ({getattr(exc, 'reason', exc)})") from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GenerationError(f"unexpected reply from {self.url} ({exc.__class__.__name__})") from exc


SYSTEM_PROMPT = (
    "You answer questions about local government peer challenge documents using ONLY the numbered "
    "passages given. Every sentence of your answer must end with the number of the passage that "
    "supports it, like [1] or [2][3]. If the passages do not answer the question, say so. "
    "Answer in at most five sentences."
)


def build_messages(question: str, passages: tuple[Passage, ...]) -> list[dict]:
    blocks = []
    for n, p in enumerate(passages, start=1):
        where = " › ".join(p.chunk.section) or "start of document"
        blocks.append(f"[{n}] {p.meta.title} ({p.meta.council}, {p.meta.date}), {where}:\n{p.chunk.text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def check_citations(reply: str, n_passages: int) -> tuple[list[str], list[int], int]:
    """Keep sentences whose markers all point at given passages; drop the rest.

    Returns (kept sentences, cited numbers, number of sentences dropped).
    >>> check_citations("Yes [1]. Also [7]. No marker here.", 2)
    (['Yes [1].'], [1], 2)
    """
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", reply.strip()) if s.strip()]
    kept, cited, dropped = [], set(), 0
    for sentence in sentences:
        numbers = [int(m) for m in _MARKER.findall(sentence)]
        if numbers and all(1 <= n <= n_passages for n in numbers):
            kept.append(sentence)
            cited.update(numbers)
        else:
            dropped += 1
    return kept, sorted(cited), dropped


def generative_answer(question: str, extractive: Answer, generator) -> Answer:
    """Ask the language model; fall back to ``extractive`` (with a notice) on any failure."""
    try:
        reply = generator.complete(build_messages(question, extractive.passages))
    except GenerationError as exc:
        return replace(extractive, notice=f"Generative mode failed: {exc}; showing the extractive answer.")
    kept, cited, dropped = check_citations(reply, len(extractive.passages))
    if not kept:
        return replace(extractive, notice="The language model's answer cited no given passage; "
                                          "showing the extractive answer.")
    notice = f"{dropped} sentence(s) without a valid citation were removed." if dropped else ""
    passages = tuple(replace(p, quoted=()) for p in extractive.passages)
    return replace(extractive, text="\n".join(kept), citations=tuple(cited), mode="generative",
                   notice=notice, passages=passages)
