"""Regression gate: hybrid retrieval on the fixture questions must not fall below today's level.

Thresholds sit just under the values measured with the default settings (the 200 questions
below, hybrid, `peerqa eval --retriever hybrid`). 2026-11-24: Recall@5 0.917, MRR@10 0.761,
quote rate 0.663, abstention precision 0.885 and recall 0.742. Raised 2026-11-25 after
questions about one council were scoped to that council: Recall@5 0.935, MRR@10 0.767, quote
rate 0.686, abstention unchanged, and no answer about one council cites another (0.247 before).
Retrieval raised 2026-11-25 after standard text was weighed down in ranking and passages giving
the expected kind of answer preferred: Recall@5 0.941, MRR@10 0.771 (quote rate 0.692,
abstention precision 0.920 and recall 0.742 left gated where they were).
One more miss, false or missed abstention fails. Raise them when retrieval or answers
improve; never lower them to make a change pass.

Changed deliberately 2026-11-25 (issue 12): sentence selection and the refusal decision became
fitted models (selection.py, answerability.py), the refusal threshold chosen for precision with
at most 2% of answerable dev questions refused; refitted after the ranking changes. Quote rate
0.692 → 0.769, abstention precision 0.920 → 1.000, answerable questions refused 3 → 0 of 169
(12 → 3 of all 203); abstention recall 0.742 → 0.613
(the confidence cut-off it replaced refused about one answerable question per unanswerable one
it caught beyond this point, on dev and test alike). The recall gate moved with that trade and
a gate on answerable refusals was added.

The gate measures the questions those thresholds were set on. The questions added on 2026-11-25
(a170 on, u032 on; see fixtures/README.md) are the target of issue 12 and are reported by
`peerqa eval`; gate them too once answers reach them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation import (
    baseline_results,
    evaluate,
    format_failures,
    load_questions,
    summarise,
)

# 2026-11-26 after answer-aware re-ranking: Recall@5 0.953, MRR@10 0.795, quote rate 0.840
# (abstention precision 0.952, recall 0.645, 1 of 169 answerable refused)
RECALL_AT_5_MIN = 0.945
MRR_AT_10_MIN = 0.785
QUOTE_RATE_MIN = 0.83
ABSTAIN_PRECISION_MIN = 0.95
# 2026-11-27: a figure only from a sentence naming what it measures, "what <quantity> did …?"
# read as asking for a figure: abstention recall 0.677 -> 0.710 (22 of 31), the rest unchanged.
# Twenty-second session ("which consultancy …?" asks for an organisation; a council service no
# document of the council mentions is refused): 0.742 -> 0.871 (23 -> 27 of 31), precision 0.964
ABSTAIN_RECALL_MIN = 0.84
ANSWERABLE_REFUSED_MAX = 0.02
BASELINE_MARGIN = 0.15  # hybrid Recall@5 over the tutorial baseline's (0.21 today)

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "fixtures" / "questions.yaml"


def _gated(question_id: str) -> bool:
    """True for the questions written before 2026-11-25 (a001-a169, u001-u031)."""
    return int(question_id[1:]) < (170 if question_id.startswith("a") else 32)


def test_hybrid_retrieval_does_not_regress(real_index):
    settings, store = real_index
    questions = [q for q in load_questions(FIXTURE) if _gated(q.id)]
    results = evaluate(questions, store, settings, "hybrid")
    summary = summarise("hybrid", results)
    report = format_failures("hybrid", questions, results)
    assert summary.recall[5] >= RECALL_AT_5_MIN, f"Recall@5 {summary.recall[5]:.3f}\n{report}"
    assert summary.mrr >= MRR_AT_10_MIN, f"MRR@10 {summary.mrr:.3f}\n{report}"
    assert summary.quote_rate >= QUOTE_RATE_MIN, f"quote rate {summary.quote_rate:.3f}\n{report}"
    assert summary.abstain_precision >= ABSTAIN_PRECISION_MIN, f"abstention P {summary.abstain_precision:.3f}\n{report}"
    assert summary.abstain_recall >= ABSTAIN_RECALL_MIN, f"abstention R {summary.abstain_recall:.3f}\n{report}"
    assert summary.cross_council == 0, f"answers citing another council {summary.cross_council:.3f}"
    refused = sum(r.abstained for r in results if r.answerable) / sum(r.answerable for r in results)
    assert refused <= ANSWERABLE_REFUSED_MAX, f"answerable questions refused {refused:.3f}\n{report}"


def test_hybrid_beats_each_single_retriever_and_the_baseline_shape(real_index):
    """Fusion must be worth it: hybrid Recall@5 at least that of dense and of BM25 alone, and
    well above the tutorial baseline (raw text, 1000/200-character chunks, dense only), whose
    numbers must look like that pipeline's: worse than our dense retriever, not broken."""
    settings, store = real_index
    questions = [q for q in load_questions(FIXTURE) if q.answerable]
    recall = {m: summarise(m, evaluate(questions, store, settings, m)).recall[5] for m in ("dense", "bm25", "hybrid")}
    assert recall["hybrid"] >= max(recall["dense"], recall["bm25"]), recall
    # measured 2026-11-25 on the 169 answerable questions: baseline Recall@5 0.698, MRR 0.503;
    # dense 0.817, BM25 0.834, hybrid about 0.91
    from ingest.loaders import load

    base = summarise("baseline", baseline_results(questions, store, settings,
                                                  read_pages=lambda path: load(path).pages))
    recall["baseline"] = base.recall[5]
    assert 0.5 <= base.recall[5] < recall["dense"], recall  # a real, weaker pipeline
    assert recall["hybrid"] >= base.recall[5] + BASELINE_MARGIN, recall


COUNCILS = Path(__file__).parent / "fixtures" / "councils"


@pytest.fixture(scope="module")
def councils_index(tmp_path_factory):
    """The many-council fixture corpus (no catalogue) indexed with the real model."""
    from assistant.settings import Settings
    from assistant.store import load_index
    from ingest.build import ingest

    settings = Settings(corpus_dir=COUNCILS / "corpus", index_dir=tmp_path_factory.mktemp("councils") / "index")
    ingest(settings, log=lambda m: None)
    return settings, load_index(settings)


def test_many_council_corpus_does_not_regress(councils_index):
    """Measured 2026-11-25 on the 172 questions of tests/fixtures/councils (metadata inferred,
    no catalogue): Recall@5 0.812, MRR@10 0.641, quote rate 0.653, abstention precision 0.609 and
    recall 0.500 (0.604, 0.600 and 0.429 before standard text was left out of quotes and of the
    sentence evidence), answers citing another council 0.000, quoted sentences that are standard
    text 0.000 (0.183 before). Raised 2026-11-25 after standard text was weighed down in ranking
    and passages giving the expected kind of answer preferred: Recall@5 0.833, MRR@10 0.644
    (quote rate, abstention recall and the zero columns unchanged). Far from issue 11's targets;
    this only stops them falling. With fitted sentence selection and refusals (issue 12) and the
    Hartsmere web page's metadata right, inferred titles: Recall@5 0.854, MRR@10 0.658, quote
    rate 0.792, abstention precision 0.846, recall 0.393 (answerable refused 3 → 2 of 144).
    Dated lines ("Version 1.2, approved by Cabinet on 25 July 2023") read as text, not headings:
    Recall@5 0.903, MRR@10 0.691, quote rate 0.812. A year dating a document the council lacks
    ("Barton Ashby's 2019 peer challenge") abstains: abstention precision 0.867, recall 0.464."""
    settings, store = councils_index
    questions = load_questions(COUNCILS / "questions.yaml")
    results = evaluate(questions, store, settings, "hybrid")
    summary = summarise("hybrid", results)
    report = format_failures("hybrid", questions, results)
    # 2026-11-26, own-document dates and answer-aware re-ranking: Recall@5 0.928, MRR@10 0.740,
    # quote rate 0.849 (176 questions). Then, with the abbreviation gloss, the council answer kind
    # and ten questions on peers' councils (186 questions): 0.932, 0.747, 0.852. With six
    # questions on where a council's own people served as peers and two unanswerable ones (202
    # questions): 0.905, 0.721, 0.827 before a peer's own council was read as such, 0.940,
    # 0.758, 0.869 after (abstention recall 0.562 -> 0.529: the two new ones are answered;
    # 0.588 once such a question needs a passage naming the post and the council together).
    # Ninth session (216 questions, three gold entries completed): 0.954, 0.784, 0.869,
    # abstention precision 0.933, recall 0.683 (a person no document names refused, a post
    # holder of what the question names); 223 questions with two more unanswerable ones that are
    # answered ("what is the name of the fire officer on X's peer team?"): recall 0.636
    # Tenth session (243 questions; year and person bounds, a described person's name, a count
    # within its phrase, seven gold entries completed): 0.958, 0.817, 0.879, abstention precision
    # 0.976, recall 0.755; cross-council now judged against the file's council. Twelfth session
    # (258 questions; "the Oakbury peer challenge" an unknown council, cover blocks never chunks
    # of their own): 0.959, 0.819, 0.888, abstention precision 0.980, recall 0.790. Thirteenth
    # (a passage giving the kind of answer asked for lifted more, the refusal reading the ranking
    # without that lift; a name a council's place opens scoped to it): 0.969, 0.839, 0.898,
    # abstention unchanged; then 265 questions (seven sizes asked "how big / high …?"): 0.970,
    # 0.842, 0.900, abstention precision 0.980, recall 0.769 (50 of 65; 49 of 65 before). With
    # each sentence embedded on its own and BM25 without the reporting frame (267 questions):
    # 0.975, 0.862, 0.921, abstention unchanged. Sixteenth session (273 questions: a figure
    # only from a sentence naming what it measures; "what council tax rise did …?" asks for a
    # figure): 0.975, 0.859, 0.922, abstention precision 0.984, recall 0.884 (61 of 69).
    # Twenty-second session (293 questions, 17 new): 0.971, 0.869, 0.923, abstention precision
    # 0.987, recall 0.881 (74 of 84; 68 of 84 on 09e64d6).
    assert summary.recall[5] >= 0.95, f"Recall@5 {summary.recall[5]:.3f}\n{report}"
    assert summary.mrr >= 0.85, f"MRR@10 {summary.mrr:.3f}"
    assert summary.quote_rate >= 0.90, f"quote rate {summary.quote_rate:.3f}"
    assert summary.standard_quotes == 0, f"standard-text quotes {summary.standard_quotes:.3f}"
    assert summary.abstain_recall >= 0.85, f"abstention R {summary.abstain_recall:.3f}"
    assert summary.abstain_precision >= 0.95, f"abstention P {summary.abstain_precision:.3f}"
    assert summary.cross_council == 0, f"answers citing another council {summary.cross_council:.3f}"
