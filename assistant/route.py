"""One routing table: an analysed question goes to its answerer. The CLI, the web chat, the
evaluation and the benchmarks all call ``respond``.

Routes (decided once, by ``query.analyse``):
  answer      quoted sentences from the top passages (``answering.ask``)
  comparison  the same question per council and year (``compare.compare``)
  listing     every document mentioning a term (``compare.list_mentions``), or for "which
              councils …?" the councils whose documents say so (``compare.compare``)
  register    recommendation, action and progress questions, from the register
              (``register_answer``); like ``answer`` when the register holds nothing for them,
              but a refusal when the question is about one council and no passage found
              speaks of recommendations at all
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from assistant.answering import ask
from assistant.compare import Comparison, Listing, compare, list_mentions
from assistant.query import CorpusFacts, Query, analyse, corpus_facts
from assistant.register_answer import register_answer
from assistant.retrieval import Retriever
from assistant.settings import Settings
from assistant.store import IndexStore
from assistant.types import Answer, Filters

Result = Answer | Comparison | Listing  # what one question produces


@dataclass(frozen=True)
class Session:
    """What answering a question needs, built once and shared (read-only) by every request."""

    store: IndexStore
    settings: Settings = field(default_factory=Settings)
    retriever: Retriever | None = None

    def __post_init__(self) -> None:
        if self.retriever is None:
            object.__setattr__(self, "retriever", Retriever(self.store, self.settings))

    @property
    def facts(self) -> CorpusFacts:
        return corpus_facts(self.store)

    def analyse(self, question: str, history: Sequence[str] = ()) -> Query:
        """The question (a follow-up of ``history``) analysed against this corpus."""
        return analyse(question, self.facts, history, self.settings.answer.max_question_chars)


def _answer(query: Query, session: Session, filters: Filters, k: int | None) -> Result:
    return ask(query, session.store, session.settings, filters, k, retriever=session.retriever)


def _comparison(query: Query, session: Session, filters: Filters, k: int | None) -> Result:
    return compare(query, session.store, session.settings, session.retriever, filters)


_RECOMMENDS = re.compile(r"\brecommend", re.I)


def _register(query: Query, session: Session, filters: Filters, k: int | None) -> Result:
    found = register_answer(query, session.store, session.settings, filters,
                            encoder=session.retriever.encoder)
    if found:
        return found
    answer = _answer(query, session, filters, k)
    if isinstance(answer, Answer) and not answer.abstained and len(query.councils) == 1 \
            and not any(_RECOMMENDS.search(p.chunk.text) for p in answer.passages):
        # "What were the recommendations in X's report?" with no recommendation of X in the
        # register and none in any passage found: quoting what X's page says of its visit
        # would answer another question
        return replace(answer, abstained=True, reason="not_stated", citations=(),
                       passages=tuple(replace(p, quoted=()) for p in answer.passages),
                       text=(f"No document of {query.councils[0]} found lists the peers' recommendations "
                             "or mentions any, so the documents do not seem to answer this. The closest "
                             "passages are listed below as possibly related."))
    return answer


def _listing(query: Query, session: Session, filters: Filters, k: int | None) -> Result:
    if not query.listing_term and query.compared:  # "which councils …?": council by council
        return compare(query, session.store, session.settings, session.retriever, filters)
    return list_mentions(query, session.store, encoder=session.retriever.encoder, filters=filters)


ANSWERERS: dict[str, Callable[[Query, Session, Filters, int | None], Result]] = {
    "answer": _answer,
    "comparison": _comparison,
    "listing": _listing,
    "register": _register,
}


def respond(query: Query, session: Session, filters: Filters | None = None, k: int | None = None) -> Result:
    """Answer ``query`` by its route."""
    return ANSWERERS[query.route](query, session, filters or Filters(), k)
