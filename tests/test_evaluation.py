"""The evaluation scores the answer the user gets on every route (assistant/evaluation.py)."""

from assistant.compare import Comparison, ComparisonGroup, Listing
from assistant.evaluation import as_answer
from assistant.types import Chunk, DocumentMeta, Passage


def _passage(council: str, quoted: str) -> Passage:
    meta = DocumentMeta(doc_id=council.lower(), title=council, council=council, doc_type="report",
                        date="2024")
    chunk = Chunk(f"{meta.doc_id}-0", meta.doc_id, quoted, 0, len(quoted), (), 0)
    return Passage(chunk, meta, 1.0, quoted=(quoted,))


def test_a_comparison_is_scored_on_its_answered_groups_renumbered():
    a, b, c = _passage("A", "A said one."), _passage("B", "B said two."), _passage("C", "C said three.")
    groups = (ComparisonGroup("A", 2024, (a,), (1,), "A said one. [1]", (1,), False),
              ComparisonGroup("B", 2024, (b,), (2,), "", (), True),
              ComparisonGroup("C", 2024, (c,), (3,), "C said three. [3]", (3,), False))
    answer = as_answer(Comparison("Compare A, B and C?", ("A", "B", "C"), groups))
    assert not answer.abstained
    assert [p.meta.council for p in answer.passages] == ["A", "C"]
    assert [answer.passages[n - 1].meta.council for n in answer.citations] == ["A", "C"]


def test_a_comparison_or_listing_with_no_evidence_is_a_refusal():
    silent = ComparisonGroup("A", 2024, (_passage("A", "x"),), (1,), "", (), True)
    assert as_answer(Comparison("Which councils were told to X?", (), ())).abstained
    assert as_answer(Comparison("Compare A and B?", ("A",), (silent,))).abstained
    assert as_answer(Listing("Which reports mention X?", "X", "none", (), 0, 5, 0)).abstained


def test_the_first_quote_is_the_answers_first_line_else_the_first_passage_shown():
    from assistant.evaluation import first_quote
    from assistant.types import Answer

    a, b = _passage("A", "A said one."), _passage("B", "B said two.")
    answer = Answer("q?", "B said two. [2]\nA said one. [1]", False, (a, b), (1, 2))
    assert first_quote(answer) == ("b", "B said two.")
    listed = Answer("q?", "B: 1 recommendation in its report [2]\n1. B said two. [2]", False, (a, b), (2,))
    assert first_quote(listed) == ("b", "B said two.")  # a register heading quotes nothing
    assert first_quote(as_answer(Comparison("Compare A and B?", ("A", "B"), (
        ComparisonGroup("A", 2024, (a,), (1,), "A said one. [1]", (1,), False),
        ComparisonGroup("B", 2024, (b,), (2,), "B said two. [2]", (2,), False))))) == ("a", "A said one.")
    assert first_quote(Answer("q?", "", True, (a,), ())) is None  # a refusal quotes nothing


def test_the_ranking_as_shown_is_summarised_beside_the_retrieval_s():
    """A register list or a listing shows other passages than the answer route retrieved: the
    figures "as shown" rank those, and a question on the answer route counts the same in both."""
    from assistant.evaluation import QuestionResult, summarise

    def result(qid: str, first: int | None, shown: int | None) -> QuestionResult:
        return QuestionResult(qid, "fact", "dev", True, first, 0.0, 0.0, False, 0.5, 1.0, (),
                              shown_first_hit=shown)

    summary = summarise("hybrid", [result("a1", 1, 1), result("a2", 7, 1), result("a3", None, 12)])
    assert summary.recall[5] == 1 / 3 and summary.shown_recall5 == 2 / 3
    assert round(summary.mrr, 3) == round((1 + 1 / 7) / 3, 3) and summary.shown_mrr == 2 / 3
    assert summarise("baseline", [result("a1", 1, None)]).shown_recall5 is None


def test_a_misread_council_is_caught_by_the_question_files_council(tmp_path):
    """An answer is cross-council against the council the question file gives, not the one the
    question was read as naming: a misreading that cites the wrong council's passage counts."""
    from assistant.evaluation import _cross_council, load_questions
    from assistant.types import Answer

    path = tmp_path / "q.yaml"
    path.write_text("- {id: u1, question: 'Who chairs the Northby board?', answerable: false, "
                    "council: Northby Council}\n- {id: u2, question: 'Who chairs it?', answerable: false}\n",
                    encoding="utf-8")
    first, second = load_questions(path)
    assert (first.council, second.council) == ("Northby Council", "")
    other = Answer("q?", "B said two. [1]", False, (_passage("Southby Council", "B said two."),), (1,))
    assert _cross_council((first.council,), other) is True
    assert _cross_council(("Southby Council",), other) is False
    assert _cross_council((), other) is None
    assert _cross_council((first.council,), Answer("q?", "", True, (), ())) is None
