"""Fit the sentence-selection and answerability models on the dev split (``peerqa fit``).

For every dev question of each (index, question file) pair the question goes down the answer
path exactly as ``ask`` takes it — analysed, scoped, retrieved, its candidate sentences
scored — and:

* each candidate sentence is labelled by whether it holds one of the question's gold phrases
  (from a gold document): a logistic regression over ``selection.FEATURES`` fits
  ``Settings.selection``;
* each question that reaches the evidence decision (no council, year or document the corpus
  lacks) is labelled answerable or not: a logistic regression over ``answerability.FEATURES``,
  computed with the new selection weights, fits ``Settings.answerability``; its threshold is the
  one that refuses the most unanswerable dev questions while refusing at most
  ``max_refused`` of the answerable ones.

The output is a TOML fragment to paste over the defaults in settings.py (or into peerqa.toml),
and the dev figures of the fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from assistant.answerability import FEATURES as ANSWER_FEATURES
from assistant.answerability import answerability_features, probability
from assistant.answering import Evidence, _refusal, answer_passages, corpus_idf, gather_evidence, scoped
from assistant.errors import UsageError
from assistant.evaluation import EvalQuestion, _norm
from assistant.query import Query, corpus_facts
from assistant.retrieval import RetrievalResult, Retriever
from assistant.route import Session
from assistant.selection import FEATURES as SENTENCE_FEATURES
from assistant.selection import score, select
from assistant.settings import AnswerabilitySettings, SelectionSettings, Settings
from assistant.types import Filters


@dataclass(frozen=True)
class Sample:
    """One dev question on the answer path."""

    question: EvalQuestion
    evidence: Evidence  # under the settings it was gathered with
    result: RetrievalResult
    query: Query
    labels: tuple[bool, ...]  # per candidate: holds a gold phrase
    decided: bool  # reached the answerability decision (no refusal on corpus facts)


def collect(questions: Sequence[EvalQuestion], session: Session, k: int = 10) -> list[Sample]:
    """Run each question down the answer path and label its candidates."""
    store, settings = session.store, session.settings
    samples = []
    for q in questions:
        query = session.analyse(q.question)
        result, kept = answer_passages(query, session.retriever, store, settings,
                                       scoped(query, Filters(), settings), Filters(), k)
        decided = _refusal(query, result, corpus_facts(store), settings) is None
        evidence = kept or gather_evidence(query, result, store, settings)
        labels = tuple(
            any(result.passages[c.passage].meta.doc_id == g.doc and _norm(phrase) in _norm(c.text)
                for g in q.gold for phrase in g.phrases)
            for c in evidence.candidates)
        samples.append(Sample(q, evidence, result, query, labels, decided))
    return samples


def fit_selection(samples: Sequence[Sample], c: float = 1.0) -> SelectionSettings:
    """Logistic regression of "holds a gold phrase" on the sentence features."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rows = [(cand.features, label) for s in samples if s.question.answerable
            for cand, label in zip(s.evidence.candidates, s.labels)]
    if not rows or len({label for _, label in rows}) < 2:
        raise UsageError("The dev questions give no sentence holding a gold phrase to fit on; "
                         "check the question files and that each index holds their documents.")
    x = np.array([f for f, _ in rows])
    y = np.array([label for _, label in rows])
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    weights = {f"w_{name}": round(float(w), 4) for name, w in zip(SENTENCE_FEATURES, model.coef_[0])}
    return replace(SelectionSettings(), intercept=round(float(model.intercept_[0]), 4), **weights)


FLOORS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3)


def quote_hits(samples: Sequence[Sample], selection: SelectionSettings) -> float:
    """Share of answerable samples whose chosen sentences include one holding a gold phrase."""
    answerable = [s for s in samples if s.question.answerable]
    hits = 0
    for s in answerable:
        label = {c.key: lab for c, lab in zip(s.evidence.candidates, s.labels)}
        chosen = select(score(s.evidence.candidates, selection), selection, s.evidence.name_rows)
        hits += any(label.get(c.key, False) for c in chosen)
    return hits / len(answerable) if answerable else 0.0


def choose_floor(samples: Sequence[Sample], selection: SelectionSettings, loss: float = 0.01) -> float:
    """The highest relevance floor whose quote-hit share on ``samples`` is within ``loss`` of
    quoting with no floor: irrelevant sentences go, at (almost) no cost in answers found."""
    best = quote_hits(samples, replace(selection, floor=0.0))
    return max(f for f in FLOORS if quote_hits(samples, replace(selection, floor=f)) >= best - loss)


def answer_features(samples: Sequence[Sample], store, selection: SelectionSettings) -> list[tuple]:
    """Answerability features of each sample with its candidates re-scored by ``selection``."""
    idf = corpus_idf(store)
    return [answerability_features(s.query, s.result, score(s.evidence.candidates, selection), idf,
                                   s.evidence.given) for s in samples]


def fit_answerability(features: Sequence[tuple], answerable: Sequence[bool], max_refused: float = 0.02,
                      c: float = 1.0) -> AnswerabilitySettings:
    """Logistic regression of "answerable" on the question features, and the threshold that
    refuses the most unanswerable questions while refusing at most ``max_refused`` answerable ones."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if len(set(answerable)) < 2:
        raise UsageError("The dev split needs answerable and unanswerable questions to fit on; "
                         "mark some questions of each kind `split: dev`.")
    model = LogisticRegression(C=c, max_iter=5000).fit(np.array(features), np.array(answerable))
    weights = {f"w_{name}": round(float(w), 4) for name, w in zip(ANSWER_FEATURES, model.coef_[0])}
    cfg = replace(AnswerabilitySettings(), intercept=round(float(model.intercept_[0]), 4), **weights)
    return replace(cfg, threshold=choose_threshold(
        [probability(f, cfg) for f in features], answerable, max_refused))


def choose_threshold(probabilities: Sequence[float], answerable: Sequence[bool],
                     max_refused: float) -> float:
    """The highest threshold refusing at most ``max_refused`` of the answerable questions.

    >>> choose_threshold([0.9, 0.8, 0.3, 0.2], [True, True, False, False], 0.0)
    0.8
    """
    kept = sorted(p for p, a in zip(probabilities, answerable) if a)
    allowed = int(max_refused * len(kept))  # answerable questions it may refuse
    # rounded down, so the answerable question at the threshold is still answered
    return math.floor(kept[allowed] * 10_000) / 10_000 if kept else 0.5


def as_toml(selection: SelectionSettings, answerability: AnswerabilitySettings) -> str:
    lines = []
    for name, cfg in (("selection", selection), ("answerability", answerability)):
        lines.append(f"[{name}]")
        lines += [f"{f.name} = {getattr(cfg, f.name)}" for f in fields(cfg)]
        lines.append("")
    return "\n".join(lines)


def fit(pairs: Sequence[tuple[object, Sequence[EvalQuestion]]], settings: Settings,
        max_refused: float = 0.02, encoder=None,
        keep_selection: bool = False) -> tuple[SelectionSettings, AnswerabilitySettings]:
    """Fit both models on the dev questions of every (store, questions) pair (``encoder``
    overrides the configured query encoder); with ``keep_selection`` only the answerability
    model, on the configured selection weights."""
    collected = []
    for store, questions in pairs:
        session = Session(store, settings, Retriever(store, settings, encoder=encoder))
        collected.append((store, collect([q for q in questions if q.split == "dev"], session)))
    everyone = [s for _, samples in collected for s in samples]
    if keep_selection:
        selection = settings.selection
    else:
        selection = fit_selection(everyone)
        selection = replace(selection, floor=choose_floor(everyone, selection))
    features, labels = [], []
    for store, samples in collected:
        decided = [s for s in samples if s.decided]
        features += answer_features(decided, store, selection)
        labels += [s.question.answerable for s in decided]
    return selection, fit_answerability(features, labels, max_refused)
