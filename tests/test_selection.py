"""Sentence selection and the fitted models: candidates, floor, MMR, antecedents, fitting."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answer_type import expected_answer
from assistant.answerability import FEATURES as ANSWER_FEATURES
from assistant.answerability import probability
from assistant.errors import UsageError
from assistant.evaluation import load_questions
from assistant.fitting import as_toml, choose_threshold, fit, fit_answerability
from assistant.query import Query
from assistant.selection import (
    FEATURES,
    Candidate,
    candidates,
    features_of,
    quotable,
    score,
    select,
)
from assistant.settings import SelectionSettings, Settings, load_settings
from assistant.types import Chunk, DocumentMeta, Passage, Sentence
from tests.fakes import FakeEmbedder

META = DocumentMeta(doc_id="d", title="T", council="Anytown Council", doc_type="feedback report", date="2024")


def passage(sentences: list[str], scores: list[float], score_: float = 1.0, section=("Finance",)) -> Passage:
    text = " ".join(sentences)
    spans, at = [], 0
    for s in sentences:
        spans.append(Sentence(at, at + len(s)))
        at += len(s) + 1
    chunk = Chunk("c", "d", text, 0, len(text), section, 0, sentences=tuple(spans))
    return Passage(chunk, META, score_, sentence_scores=tuple(scores))


def test_settings_hold_one_weight_per_feature():
    assert len(SelectionSettings().weights()) == len(FEATURES)
    assert len(Settings().answerability.weights()) == len(ANSWER_FEATURES)


def test_features_measure_what_they_say():
    f = dict(zip(FEATURES, features_of("The reserves fell sharply.", {"reserv", "fell"}, dense=0.4,
                                       best_dense=0.6, rank=2, passage_share=0.5, neighbour=0.3)))
    assert f["dense"] == 0.4 and math.isclose(f["dense_gap"], 0.2) and f["lexical"] == 1.0
    assert math.isclose(f["rank"], 1 / 3, abs_tol=1e-6) and f["passage"] == 0.5 and f["neighbour"] == 0.3
    assert f["complete"] == 1.0
    heading = dict(zip(FEATURES, features_of("Financial planning and management", set(), dense=0.1,
                                             best_dense=0.1, rank=0, passage_share=1.0)))
    assert heading["complete"] == 0.0 and heading["lexical"] == 0.0


def test_headings_labels_and_lead_ins_are_not_candidates():
    assert not quotable("Finance", 25)
    assert not quotable("The peers recommend the following actions:", 25)
    assert quotable("The council should rebuild its reserves by 2026.", 25)
    # a document's own question (the peer challenge's themes are put as questions) answers nothing
    assert not quotable("Does the council have a clear understanding of its financial position?", 25)
    assert not quotable("What is the relative financial resilience of the council like?  ", 25)


def test_a_noun_and_its_adjective_cover_the_same_topic_word():
    """The stemmer leaves "finances" (financ) and "financial" (financi) apart; the answerability
    model's coverage counts one stem beginning the other as the same word, five letters or more."""
    from assistant.answerability import _present

    assert _present("financ", {"financi", "manag"}) and _present("strategi", {"strateg"})
    assert not _present("financ", {"fund"}) and not _present("art", {"artwork"})


def test_standard_text_is_never_a_candidate():
    p = passage(["Peer challenges are improvement tools owned by the sector.",
                 "The council should rebuild its reserves by 2026."], [0.9, 0.5])
    found, _ = candidates(Query(text="reserves?"), [p], 25, standard=frozenset({("d", 0)}))
    assert [c.text for c in found] == ["The council should rebuild its reserves by 2026."]


def test_standard_text_naming_the_council_asked_about_answers_only_the_kind_asked_for():
    """The LGA's description of a peer challenge is standard text but for the length of the
    visit and the council: "… spending four days at Northby District Council …" answers "how
    long were the peers on site?" when it names the council asked about (``naming``), and
    nothing else."""
    p = passage(["It involves a team of peers spending four days at Northby District Council to give challenge.",
                 "The council should rebuild its reserves by 2026."], [0.9, 0.5])
    standard = frozenset({("d", 0)})
    how_long = Query(text="How long were the peers on site?", expected=expected_answer("How long were the peers on site?"))
    found, _ = candidates(how_long, [p], 25, standard=standard, naming=standard)
    assert [c.text for c in found][0].startswith("It involves a team of peers spending four days")
    found, _ = candidates(how_long, [p], 25, standard=standard)  # names no council asked about
    assert [c.text for c in found] == ["The council should rebuild its reserves by 2026."]
    found, _ = candidates(Query(text="What is a peer challenge?"), [p], 25, standard=standard, naming=standard)
    assert [c.text for c in found] == ["The council should rebuild its reserves by 2026."]


def test_a_line_restating_its_section_heading_is_not_a_candidate():
    """Minutes repeat their item's heading ("45 Feedback from Youth Justice Service Peer
    review"): it restates what the citation shows, and took a quote's place from the finding."""
    p = passage(["45 Feedback from Youth Justice Service Peer review",
                 "Some areas for improvement related to the delivery group."], [0.8, 0.5],
                section=("Feedback from Youth Justice Service Peer review",))
    found, _ = candidates(Query(text="What areas for improvement did the peer review point to?"), [p], 25)
    assert [c.text for c in found] == ["Some areas for improvement related to the delivery group."]


def test_a_short_line_is_a_candidate_only_when_it_is_the_kind_of_answer_asked_for():
    p = passage(["Progress Review", "24 March 2022", "The peers came back to see the council's progress."],
                [0.5, 0.2, 0.6])
    texts = lambda q: [c.text for c in candidates(analysed(q), [p], 25)[0]]  # noqa: E731
    assert texts("What did the peers find at the progress review?") == [
        "The peers came back to see the council's progress."]
    assert "24 March 2022" in texts("What date is on the progress review letter?")
    assert "Progress Review" not in texts("What date is on the progress review letter?")
    lead_in = passage(["The team then spent 3.5 days onsite at the council, during which they:",
                       "Spoke to more than 95 people."], [0.5, 0.4])
    found = [c.text for c in candidates(analysed("How long were the peers on site?"), [lead_in], 25)[0]]
    assert found[0].startswith("The team then spent 3.5 days")  # a lead-in, but it answers
    assert [c.text for c in candidates(analysed("Who did the peers speak to?"), [lead_in], 25)[0]] == [
        "Spoke to more than 95 people."]


def analysed(question: str) -> Query:
    return Query(text=question, expected=expected_answer(question))


def scored(*pairs: tuple[str, float], passage_index: int = 0) -> list[Candidate]:
    return [Candidate(passage_index, i, text, (), probability_) for i, (text, probability_) in enumerate(pairs)]


def test_floor_keeps_only_the_best_when_nothing_clears_it():
    cfg = replace(SelectionSettings(), floor=0.9)
    chosen = select(sorted(scored(("Reserves are low at the council.", 0.3),
                                  ("Peers met forty people over four days.", 0.2)),
                           key=lambda c: -c.score), cfg)
    assert [c.text for c in chosen] == ["Reserves are low at the council."]


def test_mmr_prefers_a_second_quote_that_adds_something():
    cfg = replace(SelectionSettings(), floor=0.0, max_quotes=2, redundancy=1.0)
    pool = sorted(scored(("Reserves are low and falling at the council.", 0.9),
                         ("Reserves are low and falling at the council now.", 0.85),
                         ("The budget gap for next year is ten million pounds.", 0.6)),
                  key=lambda c: -c.score)
    assert [c.text for c in select(pool, cfg)] == [
        "Reserves are low and falling at the council.", "The budget gap for next year is ten million pounds."]


@pytest.mark.parametrize("antecedent, floor, most", [
    (0.1, 0.5, 1),  # below the floor: it comes only as the antecedent
    (0.5, 0.0, 2),  # chosen on its own too: still shown just before
])
def test_a_sentence_leaning_back_brings_its_antecedent_first(antecedent, floor, most):
    cfg = replace(SelectionSettings(), floor=floor, max_quotes=most)
    pool = scored(("The council plans to sell its shopping centre.", antecedent),
                  ("This would cut its debt by a third.", 0.9))
    chosen = select(sorted(pool, key=lambda c: -c.score), cfg)
    assert [c.text for c in chosen] == ["The council plans to sell its shopping centre.",
                                        "This would cut its debt by a third."]


def test_the_best_sentence_giving_the_kind_asked_for_is_quoted_first():
    """"Who was the lead peer?": the team list's "Jo Williams – Lead Peer" (it gives a name)
    comes first, above better-scored prose about what the peer team did, which follows."""
    typed = FEATURES.index("typed")
    def with_typed(text: str, probability_: float, gives: bool) -> Candidate:
        features = tuple(float(gives) if i == typed else 0.0 for i in range(len(FEATURES)))
        return Candidate(0, len(text), text, features, probability_)
    pool = [with_typed("The peer team used their experience of adult social care.", 0.6, False),
            with_typed("The team were onsite for three days holding interviews.", 0.3, False),
            with_typed("Jo Williams, Torbay Council – Lead Peer", 0.08, True)]
    cfg = replace(SelectionSettings(), floor=0.03, max_quotes=2)
    assert [c.text for c in select(pool, cfg)] == ["Jo Williams, Torbay Council – Lead Peer",
                                                  "The peer team used their experience of adult social care."]
    below = replace(cfg, floor=0.1)  # below the floor it still comes first; the prose above it follows
    assert [c.text for c in select(pool, below)] == ["Jo Williams, Torbay Council – Lead Peer",
                                                    "The peer team used their experience of adult social care."]


def test_the_text_under_a_numbered_items_own_heading_gives_that_item():
    """A progress review lists "Recommendation 1" / "Recommendation 2" as headings, each over its
    text: for "what was recommendation 1 about money?" the sentences under the first heading
    give the item asked for, those under the second do not."""
    query = Query("what was recommendation 1 about money?", expected=expected_answer("what was recommendation 1 about money?"))
    under_first = passage(["Clarify quickly the council's strategy for the gap of future years."], [0.3],
                          section=("Summary of the approach", "Recommendation 1"))
    under_second = passage(["Develop a clear business change programme and narrative."], [0.3],
                           section=("Summary of the approach", "Recommendation 2"))
    found, _ = candidates(query, [under_first, under_second], 25)
    typed = {c.text: c.features[FEATURES.index("typed")] for c in found}
    assert typed == {"Clarify quickly the council's strategy for the gap of future years.": 1.0,
                     "Develop a clear business change programme and narrative.": 0.0}


def test_a_lists_lead_in_is_quoted_with_its_items():
    """"The three additional areas were:" and its short items ("1. Wellbeing") are candidates
    for the list's sake, and a chosen lead-in brings its items after it; a lead-in whose items
    are standard text (left out) is no candidate, as it would say nothing alone."""
    query = Query("What extra areas did the council ask the peers to look at?")
    texts = ["The council asked for five core areas and three additional areas.",
             "The three additional areas were:", "1. Wellbeing", "2. Partnership working", "3. Pace",
             "The peers met over 200 people."]
    listed = passage(texts, [0.5, 0.6, 0.2, 0.2, 0.1, 0.1])
    found, _ = candidates(query, [listed], 25)
    assert {"The three additional areas were:", "1. Wellbeing", "3. Pace"} <= {c.text for c in found}
    by_text = {c.text: c for c in found}
    chosen = select([replace(by_text["The three additional areas were:"], score=0.9),
                     *(replace(by_text[t], score=0.01) for t in ("1. Wellbeing", "2. Partnership working", "3. Pace"))],
                    replace(SelectionSettings(), floor=0.5, max_quotes=1))
    assert [c.text for c in chosen] == ["The three additional areas were:", "1. Wellbeing",
                                        "2. Partnership working", "3. Pace"]
    standard = frozenset({("d", listed.chunk.sentences[i].start) for i in (2, 3, 4)})
    found, _ = candidates(query, [listed], 25, standard)
    assert "The three additional areas were:" not in {c.text for c in found}


def test_scores_are_probabilities_best_first():
    p = passage(["The council should rebuild its reserves by 2026.", "Peers met many people."], [0.7, 0.1])
    found, _ = candidates(Query(text="How should the council rebuild reserves?"), [p], 10)
    ranked = score(found, SelectionSettings())
    assert all(0.0 < c.score < 1.0 for c in ranked)
    assert ranked[0].text.startswith("The council should rebuild")


def test_threshold_refuses_at_most_the_allowed_share_of_answerable_questions():
    probabilities = [0.95, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2]
    answerable = [True, True, True, True, False, True, False, False]
    threshold = choose_threshold(probabilities, answerable, 0.2)  # may refuse 1 of 5
    refused = [a for p, a in zip(probabilities, answerable) if p < threshold]
    assert refused.count(True) <= 1 and refused.count(False) == 3
    assert choose_threshold(probabilities, answerable, 0.0) == 0.4  # refuses no answerable one


def test_answerability_fit_separates_separable_questions():
    features = [(0.7, 0.5, 0.4, 0.9, 0.0, 0.0)] * 20 + [(0.2, 0.01, 0.01, 0.2, 1.0, 1.0)] * 10
    labels = [True] * 20 + [False] * 10
    cfg = fit_answerability(features, labels, 0.0)
    assert all(probability(f, cfg) >= cfg.threshold for f in features[:20])
    assert all(probability(f, cfg) < cfg.threshold for f in features[20:])


def test_fit_runs_on_a_real_index_and_its_output_loads_as_settings(index, tmp_path):
    settings, store = index
    questions = load_questions(Path(__file__).parent / "fixtures" / "questions.yaml")
    dev = ([q for q in questions if q.split == "dev" and q.answerable][:30]
           + [q for q in questions if q.split == "dev" and not q.answerable][:15])
    selection, answerability = fit([(store, dev)], settings, encoder=FakeEmbedder())
    assert all(math.isfinite(w) for w in selection.weights() + answerability.weights())
    assert 0.0 <= selection.floor <= 0.3 and 0.0 < answerability.threshold < 1.0
    config = tmp_path / "peerqa.toml"
    config.write_text(as_toml(selection, answerability), encoding="utf-8")
    loaded = load_settings(env={}, flags={}, config=config).settings
    assert loaded.selection == selection and loaded.answerability == answerability
    # --keep-selection: the answerability model alone, on the configured selection weights
    kept, refitted = fit([(store, dev)], settings, encoder=FakeEmbedder(), keep_selection=True)
    assert kept == settings.selection and kept != selection
    assert all(math.isfinite(w) for w in refitted.weights()) and 0.0 < refitted.threshold < 1.0


def test_fit_refuses_a_split_without_both_kinds_of_question():
    with pytest.raises(UsageError, match="answerable and unanswerable"):
        fit_answerability([(0.5,) * 6] * 3, [True] * 3)



def test_question_words_are_not_topic_words():
    """"When was the peer challenge?" is not answered by a sentence for its "when"."""
    from assistant.lexical import stems

    assert stems("When was the peer challenge?") == stems("the peer challenge")
    clause = features_of("The council has changed since 2019, when a review found problems.",
                         set(stems("When was the peer challenge?")), dense=0.1, best_dense=0.5,
                         rank=0, passage_share=1.0)
    assert dict(zip(FEATURES, clause))["lexical"] == 0.0


def test_a_when_question_marks_the_sentence_stating_its_own_documents_month():
    """"When was the peer challenge?": the line giving the month the document is dated by is
    that document's event; another date in the same passage (a plan's horizon) is not."""
    dated = replace(META, date="2023-06-30")
    texts = ["The peer challenge took place from 27 to 30 June 2023.",
             "The council aims to balance its budget by March 2027."]
    p = replace(passage(texts, [0.3, 0.3]), meta=dated)

    def own_date(question: str) -> list[float]:
        query = Query(question, question, expected=expected_answer(question))
        found, _ = candidates(query, [p], 10)
        return [dict(zip(FEATURES, c.features))["own_date"] for c in found]

    assert own_date("When was the Anytown peer challenge?") == [1.0, 0.0]
    assert own_date("What did the peers find about the budget?") == [0.0, 0.0]  # not asked when
    kinds = {}
    for kind in ("feedback report", "action plan"):
        found, _ = candidates(Query("When was the Anytown feedback report?", "",
                                    expected=expected_answer("When was it?")),
                              [replace(p, meta=replace(dated, doc_type=kind))], 10)
        kinds[kind] = dict(zip(FEATURES, found[0].features))["own_kind"]
    assert kinds == {"feedback report": 1.0, "action plan": 0.0}  # the kind the question names
    undated = replace(p, meta=replace(META, date="2023"))  # a year alone dates no month
    query = Query("When?", "When?", expected=expected_answer("When was it?"))
    assert [dict(zip(FEATURES, c.features))["own_date"] for c in candidates(query, [undated], 10)[0]] \
        == [0.0, 0.0]


def test_year_months_reads_the_date_forms_documents_use():
    from assistant.dates import year_months

    assert year_months("5 to 8 February 2024") == {"2024-02"}
    assert year_months("March 3, 2023 and 2022-11-08") == {"2023-03", "2022-11"}
    assert year_months("Spring 2024, page 12, 2029/30") == set()


def test_a_noun_counting_the_same_things_matches_the_topic_word():
    """Asked how many employees, "a workforce of 1,450 staff" holds the topic's word."""
    from assistant.selection import FEATURES, features_of

    lexical = FEATURES.index("lexical")
    plain = features_of("A workforce of 1,450 staff.", {"employe"}, dense=0.3, best_dense=0.3, rank=0,
                        passage_share=1.0)
    aliased = features_of("A workforce of 1,450 staff.", {"employe"}, dense=0.3, best_dense=0.3, rank=0,
                          passage_share=1.0, aliases={"staff": "employe", "workforc": "employe"})
    assert plain[lexical] == 0.0 and aliased[lexical] == 1.0

