"""The recommendations register: extraction, citations, lineage, CSV safety and the CLI."""

from __future__ import annotations

import csv
import io
import json
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
import yaml

from assistant import recommendation_records as record_module
from assistant import recommendations as rec
from assistant.errors import UsageError
from assistant.recommendation_records import extract_records, starts_with_verb, status_of
from assistant.recommendations import build_register, register_rows, run_command
from assistant.render.tables import csv_cell, register_csv
from assistant.settings import RegisterSettings
from assistant.types import Document, DocumentMeta, Section
from tests.fakes import FakeEmbedder

EXPECTED = Path(__file__).parent / "fixtures" / "recommendations_expected.yaml"


def make_doc(
    text: str,
    headings: list[tuple[str, ...]],
    doc_type: str = "peer challenge report",
    date: str = "2020-01",
    visit: str = "2019-11",
    council: str = "Testshire County Council",
    doc_id: str = "doc",
) -> Document:
    """A document whose sections start at each heading line and run to the next one."""
    starts = [text.index(path[-1]) for path in headings] + [len(text)]
    sections = tuple(Section(path, starts[i], starts[i + 1]) for i, path in enumerate(headings))
    meta = DocumentMeta(
        doc_id=doc_id,
        title=f"Title of {doc_id}",
        council=council,
        doc_type=doc_type,
        date=date,
        visit_date=visit,
    )
    return Document(meta=meta, text=text, sections=sections)


def assert_cited(doc: Document, record) -> None:
    assert doc.text[record.source.start : record.source.end] == record.text
    assert record.source.doc_id == doc.meta.doc_id


# ---------------------------------------------------------------- extraction (no model)


def test_numbered_items_of_a_recommendations_section():
    text = (
        "1. Summary\n\nThe council is good. It should keep going.\n\n2. Key recommendations\n\n"
        "The peers recommend:\n\n1. Fix the roof. The roof leaks in winter.\n\n"
        "2. Count the money? Nobody knows the total.\n\n3. Next steps\n\n1. Not a recommendation."
    )
    doc = make_doc(text, [("1. Summary",), ("2. Key recommendations",), ("3. Next steps",)])
    records = extract_records(doc)
    assert [(r.number, r.text, r.detail) for r in records] == [
        ("1", "Fix the roof.", "The roof leaks in winter."),
        ("2", "Count the money?", "Nobody knows the total."),
    ]
    for record in records:
        assert_cited(doc, record)
        assert record.kind == "recommendation" and record.source.section == (
            "2. Key recommendations",
        )


def test_action_plan_bullets_keep_examples_as_detail():
    text = (
        "Action plan\n\nOur plan included to:\n\n• Develop a vision for the town.\n"
        "• Engage residents on the vision, for example:\n• The local plan\n• A transport survey\n"
        "• Review the budget, including reserves.\n"
    )
    doc = make_doc(text, [("Action plan",)], doc_type="action plan")
    records = extract_records(doc)
    assert [r.text for r in records] == [
        "Develop a vision for the town.",
        "Engage residents on the vision, for example:",
        "Review the budget, including reserves.",
    ]
    assert records[1].detail == "The local plan; A transport survey"
    assert all(r.kind == "action" and r.status == "planned" for r in records)
    for record in records:
        assert_cited(doc, record)


def test_action_plan_rows_with_and_without_the_action_cell():
    text = (
        "Appendix A: Action Plan\n\nAction | Lead Officer\n"
        "These meetings happen monthly. | Chief Executive\n"
        "Ensure the budget is balanced | The budget is being reviewed. | Director of Finance\n"
        "Source Documents | Location\n"
    )
    doc = make_doc(text, [("Appendix A: Action Plan",)], doc_type="cabinet report")
    rows = extract_records(doc)
    assert [(r.text, r.response, r.lead, r.status) for r in rows] == [
        (
            "These meetings happen monthly.",
            "These meetings happen monthly.",
            "Chief Executive",
            "planned",
        ),
        (
            "Ensure the budget is balanced",
            "The budget is being reviewed.",
            "Director of Finance",
            "in progress",
        ),
    ]
    for record in rows:
        assert_cited(doc, record)


def test_progress_statements_split_lists_and_skip_quotes():
    text = (
        "Progress\n\nPeers were pleased that actions were successfully completed, including the "
        "appointment of a director and the completion of a housing review. "
        "Work on the depot has paused pending funding. "
        '"We are delighted the review was successfully completed," said the Leader. '
        "The weather was fine."
    )
    doc = make_doc(text, [("Progress",)], doc_type="progress review")
    records = [r for r in extract_records(doc) if r.kind == "progress statement"]
    assert [(r.text, r.status) for r in records] == [
        ("the appointment of a director", "completed"),
        ("the completion of a housing review", "completed"),
        ("Work on the depot has paused pending funding.", "paused"),
    ]
    for record in records:
        assert_cited(doc, record)


def test_peer_advice_in_a_progress_letter_is_an_unnumbered_recommendation():
    text = (
        "Finance\n\nPeers encouraged a three-year plan. The budget was set. "
        "Reserves need to be rebuilt. The review provided peers with the recommendations."
    )
    doc = make_doc(text, [("Finance",)], doc_type="progress review")
    records = extract_records(doc)
    assert [(r.kind, r.text, r.number) for r in records] == [
        ("recommendation", "Peers encouraged a three-year plan.", None),
        ("recommendation", "Reserves need to be rebuilt.", None),
    ]


@pytest.mark.parametrize(
    "sentence, status",
    [
        (
            "Progress with Shared Services recommendations have paused following initial activity",
            "paused",
        ),
        ("many of the recommendations are work-in-progress (amber)", "in progress"),
        ("Some recommendations are ongoing, such as shared services", "in progress"),
        ("actions already underway", "in progress"),
        ("some actions had been successfully progressed", "completed"),
        ("The council has a clear vision.", ""),
        ("chairs said that no scrutiny review has yet been completed", ""),
        ("an asset management strategy will be completed by September 2023;", "planned"),
        ("Wexcombeshire Forward. The programme has been relaunched as Phase 2", "completed"),
    ],
)
def test_status_of(sentence, status):
    assert status_of(sentence) == status


def test_starts_with_verb():
    assert starts_with_verb("Look again at the scale of ambition")
    assert starts_with_verb("• Ensure that the formal arrangements")
    assert not starts_with_verb("These meetings are well established")
    assert not starts_with_verb("Preparation for the next Local Plan")


def test_later_compares_dates_at_their_common_precision():
    assert rec._later("2018", "2017-12")
    assert not rec._later("2022-03", "2022-03-24")  # same month: not later
    assert not rec._later("", "2017")


def test_lineage_links_a_response_only_when_it_clearly_prefers_the_recommendation():
    report = make_doc(
        "Key recommendations\n\n1. Share services with the district. More.\n\n"
        "2. Publish the budget. More.\n",
        [("Key recommendations",)],
        doc_id="report",
    )
    plan = make_doc(
        "Action plan\n\n• Share services with the district council.\n• Improve the website.\n",
        [("Action plan",)],
        doc_type="action plan",
        date="2020-06",
        doc_id="plan",
    )
    other_visit = make_doc(
        "Action plan\n\n• Share services with the district council.\n",
        [("Action plan",)],
        doc_type="action plan",
        date="2021-06",
        visit="2021-01",
        doc_id="later-challenge",
    )
    documents = {d.meta.doc_id: d for d in (report, plan, other_visit)}
    records = [r for d in documents.values() for r in extract_records(d)]
    vectors = {r.record_id: FakeEmbedder().embed_query(rec._vector_text(r)) for r in records}
    # the linked threshold alone (hash vectors make any pair a chance "mutual best"; that rule
    # is tested on its own below)
    tuning = RegisterSettings(mutual_linked=1.01)
    linked = {r.number: r for r in rec.link_records(records, documents, vectors, tuning) if r.number}
    first = linked["1"]
    assert [(link.text, link.strength, link.status) for link in first.links][:1] == [
        ("Share services with the district council.", "linked", "planned")
    ]
    assert all(link.source.doc_id == "plan" for link in first.links)  # never another challenge
    assert first.status == "planned"
    assert linked["2"].status in ("not mentioned", "possibly related")


def test_each_others_best_match_is_a_firm_link_below_the_linked_threshold():
    sims = np.array([[0.50, 0.30], [0.20, 0.48]])
    assert rec.match_statements(sims) == [[(0, "linked", 0.5)], [(1, "linked", 0.48)]]
    # not each other's best: statement 0 prefers recommendation 0, so recommendation 1 only
    # "possibly" links to it
    sims = np.array([[0.50, 0.30], [0.46, 0.20]])
    assert rec.match_statements(sims)[1] == [(0, "possibly related", 0.46)]
    low = RegisterSettings(mutual_linked=0.6)
    assert rec.match_statements(np.array([[0.50, 0.1], [0.1, 0.48]]), tuning=low)[0] == [
        (0, "possibly related", 0.5)]
    # with one recommendation, being its best match says nothing
    assert rec.match_statements(np.array([[0.50]])) == [[(0, "possibly related", 0.5)]]


def test_a_numbered_statement_links_to_its_recommendation_only():
    report = make_doc(
        "Key recommendations\n\nRecommendation 1: Fix the roof. More.\n"
        "Recommendation 2: Count the money. More.\n",
        [("Key recommendations",)],
        doc_id="report",
        visit="",
    )
    review = make_doc(
        "Progress against the recommendations\n\nRecommendation 2: money. The count is done.\n\n"
        "Recommendation 1: roof. Nothing yet.\n",
        [("Progress against the recommendations",)],
        doc_type="progress review",
        date="2021-01",
        visit="2020-12",
        doc_id="review",
    )
    documents = {d.meta.doc_id: d for d in (report, review)}
    records = [r for d in documents.values() for r in extract_records(d)]
    assert [(r.kind, r.number) for r in records if r.doc_id == "review"] == [
        ("progress statement", "2"), ("progress statement", "1")]
    vectors = {r.record_id: FakeEmbedder().embed_query(rec._vector_text(r)) for r in records}
    by_number = {r.number: r for r in rec.link_records(records, documents, vectors)
                 if r.kind == "recommendation"}
    for number, rec_ in by_number.items():
        firm = [link for link in rec_.links if link.strength == "linked"]
        assert [link.text.split(":")[0] for link in firm] == [f"Recommendation {number}"]


def test_csv_cells_starting_with_formula_characters_are_neutralised():
    rows = [
        {
            "number": "1",
            "text": '=HYPERLINK("http://evil")',
            "lead": "+44 1223",
            "detail": "-2+3",
            "response": "@SUM(A1)",
            "start": -1,
            "plain": "Fine",
        }
    ]
    parsed = list(csv.DictReader(io.StringIO(register_csv(rows))))
    assert parsed == [
        {
            "number": "1",
            "text": '\'=HYPERLINK("http://evil")',
            "lead": "'+44 1223",
            "detail": "'-2+3",
            "response": "'@SUM(A1)",
            "start": "-1",
            "plain": "Fine",
        }
    ]
    assert csv_cell("\tcmd") == "'\tcmd"
    assert register_csv([]) == ""


# ---------------------------------------------------------------- the seed corpus (real model)


def _matches(record, spec: dict) -> bool:
    if "text" in spec and record.text != spec["text"]:
        return False
    if "starts" in spec and not record.text.startswith(spec["starts"]):
        return False
    if "number" in spec and record.number != spec["number"]:
        return False
    if "detail_starts" in spec and not record.detail.startswith(spec["detail_starts"]):
        return False
    if "status" in spec and record.status != spec["status"]:
        return False
    if "lead" in spec and record.lead != spec["lead"]:
        return False
    if "response_starts" in spec and not record.response.startswith(spec["response_starts"]):
        return False
    if "action" in spec:
        has_action = record.response != record.text
        if spec["action"] is None and has_action:
            return False
        if spec["action"] is not None and record.text != spec["action"]:
            return False
    return True


@pytest.fixture(scope="module")
def register(real_index):
    _, store = real_index
    return build_register(store)


@pytest.mark.slow
def test_register_equals_the_hand_checked_table(real_index, register):
    expected = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))
    counts: dict[str, dict[str, int]] = {}
    for record in register:
        counts.setdefault(record.council, {}).setdefault(record.kind, 0)
        counts[record.council][record.kind] += 1
    assert counts == expected["counts"]
    for doc_id, kinds in expected["documents"].items():
        for kind, specs in kinds.items():
            got = [r for r in register if r.doc_id == doc_id and r.kind == kind]
            assert len(got) == len(specs), (doc_id, kind, [r.text[:60] for r in got])
            for record, spec in zip(got, specs):
                assert _matches(record, spec), (record, spec)


@pytest.mark.slow
def test_every_citation_slices_back_to_its_text(real_index, register):
    _, store = real_index
    assert register
    for record in register:
        doc = store.documents[record.source.doc_id]
        assert doc.text[record.source.start : record.source.end] == record.text
        assert record.kind in record_module.KINDS and record.status in record_module.STATUSES + ("",)
        assert any(s.path == record.source.section for s in doc.sections)
        for link in record.links:
            later = store.documents[link.source.doc_id]
            assert later.text[link.source.start : link.source.end] == link.text
            assert later.meta.council == record.council
            assert link.strength in ("linked", "possibly related")


@pytest.mark.slow
def test_expected_lineage(register):
    expected = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))["lineage"]
    for item in expected:
        record = next(r for r in register if r.doc_id == item["doc"] and r.number == item["number"])
        assert record.status == item["status"], record
        firm = [link for link in record.links if link.strength == "linked"]
        for want in item["linked"]:
            assert any(
                link.source.doc_id == want["doc"] and link.text.startswith(want["starts"])
                for link in firm
            ), (record.text, firm)
    # a link to the shared services bullet is for recommendation 5 only
    shared = [
        r.number
        for r in register
        if any(
            link.strength == "linked" and link.text.startswith("Consolidate our existing shared")
            for link in r.links
        )
    ]
    assert shared == ["5"]


@pytest.mark.slow
def test_recommendations_and_statements_are_tagged_with_themes(register):
    five = next(r for r in register if r.number == "5")
    assert five.themes[:1] == ("partnerships",)
    budget = next(
        r for r in register if r.text.startswith("Use our 2018 Medium Term Financial Strategy")
    )
    assert "finance" in budget.themes


@pytest.mark.slow
def test_register_rows_filter_by_council_alias_and_theme(real_index, register):
    _, store = real_index
    city = register_rows(store, council="city")
    assert city and {row["council"] for row in city} == {"Cambridge City Council"}
    assert len(city) == sum(r.council == "Cambridge City Council" for r in register)
    finance = register_rows(store, theme="Financial planning and management")
    assert finance and all("finance" in row["themes"] for row in finance)
    with pytest.raises(UsageError):
        register_rows(store, theme="weather")


def _args(**overrides) -> Namespace:
    return Namespace(**{"council": None, "theme": None, "csv": None, "json": False, **overrides})


@pytest.fixture
def seed_store(real_index, register, monkeypatch):
    """run_command reuses the already loaded (and register-cached) seed store."""
    settings, store = real_index
    monkeypatch.setattr("assistant.store.load_index", lambda s, check=True: store)
    return settings


@pytest.mark.slow
def test_run_command_json(seed_store, register, capsys):
    assert run_command(_args(json=True), seed_store) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == len(register)
    rows = [d for d in data if d["kind"] == "action-plan row"]
    assert len(rows) == 7 and sum(d["action"] is None for d in rows) == 3
    first = data[0]
    assert {
        "id",
        "kind",
        "number",
        "council",
        "text",
        "status",
        "themes",
        "source",
        "links",
    } <= set(first)


@pytest.mark.slow
def test_run_command_council_filter_and_table(seed_store, capsys):
    assert run_command(_args(council="county"), seed_store) == 0
    out = capsys.readouterr().out
    assert "Cambridgeshire County Council" in out and "Cambridge City Council" not in out
    assert "progress statement" in out and "records:" in out


@pytest.mark.slow
def test_run_command_csv(seed_store, register, tmp_path, capsys):
    path = tmp_path / "register.csv"
    assert run_command(_args(csv=str(path), council="Cambridge City Council"), seed_store) == 0
    assert "Wrote" in capsys.readouterr().out
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(r.council == "Cambridge City Council" for r in register)
    assert rows[0]["text"] == "Prioritise what's important to you and focus on delivery."
    assert {"number", "council", "date", "kind", "status", "text", "doc_id", "start", "end"} <= set(
        rows[0]
    )


@pytest.mark.slow
def test_run_command_errors(seed_store):
    with pytest.raises(UsageError, match="Unknown council 'Oxford'"):
        run_command(_args(council="Oxford"), seed_store)
    with pytest.raises(UsageError, match="not both"):
        run_command(_args(csv="x.csv", json=True), seed_store)
    with pytest.raises(UsageError, match="Unknown theme"):
        run_command(_args(theme="weather"), seed_store)


@pytest.mark.slow
def test_cli_unknown_council_is_one_line_and_exit_code_2(real_index, capsys):
    from cli import main

    settings, _ = real_index
    code = main(["recommendations", "--index", str(settings.index_dir), "--council", "Oxford"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("peerqa: Unknown council 'Oxford'") and err.count("\n") == 1


def test_register_vectors_are_batched_when_the_encoder_can_and_one_by_one_otherwise():
    """The register embeds its records in batches (``embed_many``) when the encoder offers it;
    a plain query encoder (a test's fake) is asked one text at a time. Same vectors either way."""
    import numpy as np

    from assistant.recommendation_records import _record
    from assistant.recommendations import _embedded

    doc = Document(meta=DocumentMeta(doc_id="d", title="T", council="C", doc_type="progress review",
                                     date="2024"), text="Reserves have risen. The plan is on track.", sections=())
    records = [_record(doc, "progress statement", 0, 20), _record(doc, "progress statement", 21, 42)]

    class OneByOne:
        calls = 0

        def embed_query(self, text):
            OneByOne.calls += 1
            return np.array([len(text), 1.0], dtype=np.float32)

    class Batched(OneByOne):
        def embed_many(self, texts):
            return np.stack([np.array([len(t), 1.0], dtype=np.float32) for t in texts])

    single, batched = _embedded(OneByOne(), records), _embedded(Batched(), records)
    assert OneByOne.calls == 2 and set(single) == {r.record_id for r in records}
    assert all(np.array_equal(single[k], batched[k]) for k in single)
