"""Whether the retrieved evidence answers the question: one calibrated model, not a rule per failure.

A logistic model over a few question-level features (``FEATURES``) gives the probability that
the corpus answers the question; below ``Settings.answerability.threshold`` the answer is a
refusal. Weights and threshold are fitted on the dev split of the fixture questions by
``peerqa fit`` (the threshold chosen for precision of the refusals); the defaults in settings.py
are that fit's output. Facts about the corpus — a council, year or kind of document it does not
hold — are not guesses and stay outside the model (answering._refusal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from assistant.lexical import stems
from assistant.query import Query
from assistant.retrieval import RetrievalResult
from assistant.selection import Candidate
from assistant.settings import AnswerabilitySettings

FEATURES = (
    "confidence",       # retrieval evidence: best sentence cosine of the top passages
    "best_sentence",    # the selection model's probability for its best sentence
    "top_sentences",    # mean of its three best probabilities
    "coverage",         # share of the topic's content words (by rarity) in the top passages
    "expected_missing", # it asks only for a date, figure or name and no top passage gives one
    "unknown_name",     # the question uses a name the documents never use
)


# The kinds of answer ``expected_missing`` was fitted with. A council's name came later: the
# passages that give one for "which council did the lead peer come from?" are team lists, which
# rank below the prose about the peer team, so a missing name in the top passages is no sign
# that the corpus lacks it (seed holdout: one such question refused, against 0 before).
FITTED_KINDS = frozenset({"date", "number", "money", "duration", "post_holder", "name"})


def answerability_features(query: Query, result: RetrievalResult, scored: Sequence[Candidate],
                           idf: Callable[[str], float], given: bool, top: int = 3) -> tuple[float, ...]:
    """The feature vector of one question and its evidence (order of ``FEATURES``)."""
    probabilities = [c.score for c in scored[:3]]
    topic = set(stems(query.topic or query.text))
    aliases = dict(query.aliases)  # "staff" counts as "employees" when employees are counted
    present = {aliases.get(w, w) for w in stems(" ".join(p.chunk.text for p in result.passages[:top]))}
    total = sum(idf(w) for w in topic)
    coverage = sum(idf(w) for w in topic if _present(w, present)) / total if total else 0.0
    return tuple(round(x, 6) for x in (
        result.confidence, max(probabilities, default=0.0),
        sum(probabilities) / len(probabilities) if probabilities else 0.0, coverage,
        float(bool(query.expected) and query.expected.whole and query.expected.kind in FITTED_KINDS
              and not given),
        float(bool(query.unknown_names))))


def _present(stem: str, present: set[str]) -> bool:
    """Is ``stem`` among ``present``, or a form of one: the stemmer leaves a noun and its
    adjective apart ("financ" for finances, "financi" for financial; "strategi", "strateg"),
    so one stem beginning the other (five letters or more) counts as the same word."""
    return stem in present or (len(stem) >= 5 and any(
        len(p) >= 5 and (p.startswith(stem) or stem.startswith(p)) for p in present))


def probability(features: Sequence[float], cfg: AnswerabilitySettings) -> float:
    """The model's probability that the corpus answers the question."""
    z = cfg.intercept + sum(w * x for w, x in zip(cfg.weights(), features))
    return 1.0 / (1.0 + math.exp(-z))


def answerable(features: Sequence[float], cfg: AnswerabilitySettings) -> bool:
    return probability(features, cfg) >= cfg.threshold
