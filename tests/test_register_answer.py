"""Questions routed "register" are answered from the register: the full numbered list with a
citation each, or the status of each recommendation with its progress statement quoted."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from assistant.register_answer import register_answer
from assistant.render.jsonout import answer_to_json
from assistant.render.markdown import chat_markdown
from assistant.route import Session, respond
from assistant.types import Answer
from tests.fakes import FakeEmbedder, word_count

COUNCILS = Path(__file__).parent / "fixtures" / "councils"
QUESTIONS = yaml.safe_load((COUNCILS / "questions.yaml").read_text(encoding="utf-8"))
EXPECTED = yaml.safe_load((COUNCILS / "recommendations_expected.yaml").read_text(encoding="utf-8"))
_CITED_LINE = re.compile(r"\[\d+\]$")


def _catalogue(corpus: Path) -> None:
    """The fixture's expected metadata as the catalogue: these tests measure answers."""
    entries = {}
    for meta in yaml.safe_load((COUNCILS / "expected_meta.yaml").read_text(encoding="utf-8")):
        entries[meta["file"]] = {"title": meta["title"], "council": meta["council"],
                                 "doc_type": meta["type"], "date": str(meta["date"])}
    (corpus / "catalog.yaml").write_text(yaml.safe_dump(entries), encoding="utf-8")


@pytest.fixture(scope="module")
def councils_session(tmp_path_factory) -> Session:
    """The many-council corpus indexed with the fake embedder (lists and numbered lineage do
    not depend on the model)."""
    from assistant.retrieval import Retriever
    from assistant.settings import Settings
    from assistant.store import load_index
    from ingest.build import ingest

    root = tmp_path_factory.mktemp("councils-register")
    corpus = root / "corpus"
    shutil.copytree(COUNCILS / "corpus", corpus)
    _catalogue(corpus)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", model="fake")
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None)
    store = load_index(settings)
    return Session(store, settings, Retriever(store, settings, encoder=FakeEmbedder()))


def ask(session: Session, question: str) -> Answer:
    """The register's answer (the route itself is ``query``'s decision, tested in
    test_routing_fixtures.py); a question routed "register" gets exactly this answer."""
    query = session.analyse(question)
    answer = register_answer(query, session.store, session.settings,
                             encoder=session.retriever.encoder)
    assert answer is not None, question
    if query.route == "register":
        assert respond(query, session) == answer
    return answer


def check_answer(answer: Answer, council: str) -> None:
    """Every line cited, every citation a passage quoting a record of the council asked about,
    every quote in its passage's text."""
    assert answer.layout == "list" and not answer.abstained
    lines = answer.text.splitlines()
    assert all(_CITED_LINE.search(line) for line in lines), lines
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert cited == set(answer.citations) == set(range(1, len(answer.passages) + 1))
    for passage in answer.passages:
        assert passage.meta.council == council and passage.quoted
        assert all(q in passage.chunk.text or passage.chunk.text in q for q in passage.quoted)
    data = answer_to_json(answer)  # the --json schema is unchanged
    assert data["answer"] == answer.text and len(data["passages"]) == len(answer.passages)


LIST_QUESTIONS = [q for q in QUESTIONS if q.get("route") == "register" and q["answerable"]]


@pytest.mark.parametrize("item", LIST_QUESTIONS, ids=[q["id"] for q in LIST_QUESTIONS])
def test_recommendation_questions_list_every_recommendation(councils_session, item):
    answer = ask(councils_session, item["question"])
    check_answer(answer, item["council"])
    report = next(g["doc"] for g in item["gold"])
    specs = EXPECTED["documents"][report]["recommendation"]
    items = answer.text.splitlines()[1:]
    assert len(items) == len(specs), items
    for line, spec in zip(items, specs):
        assert line.startswith(f"{spec['number']}. {spec['starts']}"), (line, spec)
    quoted = " ".join(q for p in answer.passages for q in p.quoted)
    for gold in item["gold"]:
        assert all(phrase in quoted for phrase in gold["phrases"]), gold


@pytest.mark.parametrize(
    "question, council, review, labelled",
    [
        ("Has the Royal Borough of Ellesford acted on the peers' recommendations?",
         "Royal Borough of Ellesford", "ellesford-cpc-progress-review", True),
        ("What progress has Wexcombeshire County Council made on its recommendations?",
         "Wexcombeshire County Council", "wexcombeshire-progress-review-2024", False),
        ("Has Barton Ashby District Council implemented the peer challenge recommendations?",
         "Barton Ashby District Council", "barton-ashby-progress-review-letter", True),
    ],
)
def test_progress_questions_give_each_recommendation_its_status(
    councils_session, question, council, review, labelled
):
    answer = ask(councils_session, question)
    check_answer(answer, council)
    lines = answer.text.splitlines()[1:]
    items = [line for line in lines if not line.startswith(" ")]
    status = [line for line in lines if line.startswith(" ")]
    assert len(items) == len(status) == EXPECTED["counts"][council]["recommendation"]
    # the review's statements that give their recommendation's number are quoted under it
    from assistant.recommendations import build_register

    numbered = [r for r in build_register(councils_session.store, councils_session.retriever.encoder)
                if r.doc_id == review and r.kind == "progress statement" and r.number]
    assert len(numbered) == (len(EXPECTED["documents"][review]["progress statement"]) if labelled else 0)
    for statement in numbered:
        n = lines.index(next(line for line in items if line.startswith(f"{statement.number}. ")))
        assert lines[n + 1].strip().startswith("Status:") and statement.text in lines[n + 1]
    assert any(p.meta.doc_id == review for p in answer.passages) or not numbered


def test_one_recommendation_by_its_number(councils_session):
    """"What was recommendation 3 …?" lists that one, with its status when progress is asked;
    a number beyond the report's numbered list is refused saying how many it makes."""
    specs = EXPECTED["documents"]["hollinford-lga-peer-challenge-feedback"]["recommendation"]
    third = next(s for s in specs if s["number"] == "3")
    answer = ask(councils_session, "What was recommendation 3 for Hollinford Council?")
    assert answer.text.splitlines()[1].startswith(f"3. {third['starts']}"), answer.text
    assert len(answer.text.splitlines()) == 2
    status = ask(councils_session, "What is the status of recommendation 3 for Hollinford Council?")
    assert status.text.splitlines()[1].startswith("3. ") and status.text.splitlines()[2].lstrip().startswith(
        ("Status:", "Possibly related", "Not mentioned"))
    beyond = ask(councils_session, "What was recommendation 12 for Hollinford Council?")
    assert beyond.abstained and beyond.reason == "not_stated"
    assert f"makes {len(specs)} recommendations, numbered 1 to {len(specs)}" in beyond.text


def test_a_council_without_documents_falls_back_to_the_ordinary_answer(councils_session):
    query = councils_session.analyse("Has Northbridge City Council acted on its recommendations?")
    result = respond(query, councils_session)
    assert isinstance(result, Answer) and result.layout == "" and result.abstained


def test_the_chat_shows_a_register_answer_as_a_list(councils_session):
    answer = ask(councils_session, "What were the key recommendations for Hollinford Council?")
    lines = chat_markdown(answer).splitlines()
    numbered = [line for line in lines if re.match(r"\d+\. ", line)]
    assert len(numbered) == 8 and all(line.endswith("]**") for line in numbered)


# ---------------------------------------------------------------- the seed corpus (real model)


@pytest.fixture(scope="module")
def seed_session(real_index) -> Session:
    settings, store = real_index
    return Session(store, settings)


@pytest.mark.slow
def test_the_six_key_recommendations_of_the_city_council(seed_session):
    answer = ask(seed_session, "What were the key recommendations for Cambridge City Council?")
    check_answer(answer, "Cambridge City Council")
    expected = yaml.safe_load((Path(__file__).parent / "fixtures" / "recommendations_expected.yaml")
                              .read_text(encoding="utf-8"))
    specs = expected["documents"]["cambridge-city-2017-corporate-peer-challenge-report"]["recommendation"]
    items = answer.text.splitlines()[1:]
    assert [line.rsplit(" [", 1)[0] for line in items] == [f"{s['number']}. {s['text']}" for s in specs]


@pytest.mark.slow
def test_the_county_councils_progress_per_statement(seed_session):
    """The county's original report is not in the corpus: its progress review's statements,
    each with its status and quoted, answer whether it acted on the recommendations."""
    answer = ask(seed_session, "Has the county council acted on the peers' recommendations?")
    check_answer(answer, "Cambridgeshire County Council")
    items = answer.text.splitlines()[1:]
    assert len(items) >= 10
    assert any("paused" in line and "Shared Services" in line for line in items)
    assert all(re.search(r"\((?:completed|in progress|paused|planned)\) \[\d+\]$", line)
               for line in items), items


@pytest.mark.slow
def test_city_progress_gives_status_or_not_mentioned_per_recommendation(seed_session):
    answer = ask(seed_session, "Has the city council acted on the peers' recommendations?")
    check_answer(answer, "Cambridge City Council")
    lines = answer.text.splitlines()[1:]
    assert len([line for line in lines if not line.startswith(" ")]) == 6
    shared = lines[lines.index(next(line for line in lines if line.startswith("5. "))) + 1]
    assert shared.strip().startswith("Status: planned") and "Consolidate our existing shared" in shared


def test_a_filter_naming_another_council_is_never_overruled(index):
    """--council city on a question about the county: the filter wins, so the register (which
    would answer for the county) steps aside and the ordinary answer searches the city."""
    from assistant.register_answer import register_answer
    from assistant.types import Filters
    from tests.fakes import query_for

    settings, store = index
    query = query_for(store, "Did the county act on the shared services recommendation?")
    assert query.route == "register"
    assert register_answer(query, store, settings, Filters(council="Cambridge City Council")) is None
    assert register_answer(query, store, settings, Filters(year_from=2022, year_to=2022)) is None


_VISIT_PAGE = ("Greyminster Council: corporate peer challenge\n\nGreyminster Council had its corporate peer "
               "challenge from 3 to 6 June 2024. A team of councillors and officers from other councils spent "
               "four days with us, meeting staff, partners and residents.\n\nThe team looked at leadership, "
               "governance, finance and our capacity to improve. The full report is published on this page.\n")


@pytest.mark.parametrize("extra, refused", [
    ("", True),
    ("The peers recommended that we review how scrutiny sets its work programme.\n", False),
])
def test_a_register_question_no_passage_speaks_to_is_refused(tmp_path, extra, refused):
    """"What were the recommendations in Greyminster's report?" when the register holds none
    of Greyminster's and no passage found speaks of recommendations: a refusal that says so,
    not quotes of the page's account of its visit. A passage that does mention them is answered
    the ordinary way (the register reads numbered forms, not every sentence of prose)."""
    from assistant.retrieval import Retriever
    from assistant.settings import Settings
    from assistant.store import load_index
    from ingest.build import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "greyminster-peer-challenge-page.txt").write_text(_VISIT_PAGE + extra, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="fake")
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None)
    store = load_index(settings)
    session = Session(store, settings, Retriever(store, settings, encoder=FakeEmbedder()))
    query = session.analyse("What were the recommendations in Greyminster's peer challenge report?")
    assert query.route == "register" and query.councils == ("Greyminster Council",)
    answer = respond(query, session)
    assert isinstance(answer, Answer) and answer.abstained == refused
    if refused:
        assert answer.reason == "not_stated" and "Greyminster Council" in answer.text
        assert answer.passages and not any(p.quoted for p in answer.passages)
