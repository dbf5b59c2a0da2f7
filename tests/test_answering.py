"""Answers: question checks, extractive quotes with citations, abstention, JSON, rendering."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from assistant.answering import (
    NO_ANSWER,
    ask,
    check_citations,
    extractive_answer,
    gather_evidence,
)
from assistant.answer_type import leans_back
from assistant.query import CorpusFacts, analyse, unknown_names, validate_question
from assistant.errors import UsageError
from assistant.render.jsonout import answer_to_json
from assistant.render.markdown import answer_markdown
from assistant.render.text import render_answer
from assistant.retrieval import Retriever
from assistant.types import Answer, Filters
from tests.fakes import FakeEmbedder, query_for

ANSWERABLE = [
    "What did the peers say about shared services?",
    "What did peers say about the pace of decision making at the city council?",
    "What did the action plan say about the organisational development strategy?",
    "How did the county respond to the peer review recommendations on finance?",
]
LINE = re.compile(r"^(?P<sentence>.+) \[(?P<n>\d+)\]$")


def answer(index, retriever, question: str, **kwargs) -> Answer:
    settings, store = index
    return ask(query_for(store, question), store, settings, retriever=retriever, **kwargs)


def ask_text(store, settings, question: str) -> Answer:
    return ask(query_for(store, question), store, settings)


# ---------------------------------------------------------------- question checks

@pytest.mark.parametrize("question", ["", "   ", "\n\t ", None])
def test_empty_question_is_a_usage_error(index, retriever, question):
    with pytest.raises(UsageError) as info:
        answer(index, retriever, question)
    assert "empty" in str(info.value)
    assert "\n" not in str(info.value)


def test_over_long_question_is_a_usage_error(index, retriever):
    with pytest.raises(UsageError) as info:
        answer(index, retriever, "x" * 1001)
    message = str(info.value)
    assert "1001" in message and "1000" in message
    assert "\n" not in message


def test_question_at_the_limit_is_accepted(index):
    settings = index[0]
    question = ("shared services " * 100)[:1000]
    limit = settings.answer.max_question_chars
    assert validate_question(question, limit) == question.strip()
    assert validate_question("  What?  ", limit) == "What?"


def test_usage_error_never_reaches_the_retriever(index):
    settings, store = index

    class Exploding(Retriever):
        def search(self, *args, **kwargs):
            raise AssertionError("searched")

    with pytest.raises(UsageError):
        ask(query_for(store, " "), store, settings, retriever=Exploding(store, settings, encoder=FakeEmbedder()))


# ---------------------------------------------------------------- extractive answers

@pytest.mark.parametrize("question", ANSWERABLE)
def test_extractive_answer_quotes_cited_passages_verbatim(index, retriever, question):
    result = answer(index, retriever, question)
    assert not result.abstained, result.text
    assert result.mode == "extractive" and result.reason == ""
    lines = result.text.splitlines()
    assert 1 <= len(lines) <= 6
    cited = set()
    for line in lines:
        match = LINE.match(line)
        assert match, line
        n = int(match["n"])
        assert 1 <= n <= len(result.passages)
        passage = result.passages[n - 1]
        assert match["sentence"] in passage.chunk.text
        assert match["sentence"] in passage.quoted
        cited.add(n)
    assert set(result.citations) == cited
    assert list(result.citations) == sorted(cited)
    for n, passage in enumerate(result.passages, start=1):
        assert all(quote in passage.chunk.text for quote in passage.quoted)
        assert bool(passage.quoted) == (n in cited)  # only cited passages carry quotes


@pytest.mark.parametrize("question", ANSWERABLE + [
    "shared services",  # these two quoted one sentence twice, from two overlapping chunks
    "What did the action plan say about shared services?",
])
def test_extractive_answer_quotes_each_sentence_once(index, retriever, question):
    """Overlapping chunks share sentences; the answer must not quote one twice."""
    sentences = [LINE.match(line)["sentence"] for line in answer(index, retriever, question).text.splitlines()]
    assert len(sentences) == len(set(sentences))


def test_extractive_answer_respects_quote_limits(index, retriever):
    settings, store = index
    query = query_for(store, ANSWERABLE[0])
    result = retriever.search(query)
    for most in (1, 2, 5):
        narrow = replace(settings, selection=replace(settings.selection, max_quotes=most, floor=0.0))
        evidence = gather_evidence(query, result, store, narrow)
        chosen = extractive_answer(query, result, narrow, evidence).text.splitlines()
        leaning = sum(1 for line in chosen if leans_back(line))  # antecedents come on top
        assert 1 <= len(chosen) <= most + leaning


def test_extractive_answer_puts_its_best_sentence_first(index, retriever):
    settings, store = index
    query = query_for(store, ANSWERABLE[1])
    result = retriever.search(query)
    evidence = gather_evidence(query, result, store, settings)
    first = extractive_answer(query, result, settings, evidence).text.splitlines()[0]
    best = evidence.candidates[0]
    assert first == f"{best.text} [{best.passage + 1}]" or leans_back(best.text)


def test_relevance_floor_leaves_one_quote_when_nothing_clears_it(index, retriever):
    settings, store = index
    query = query_for(store, ANSWERABLE[0])
    result = retriever.search(query)
    strict = replace(settings, selection=replace(settings.selection, floor=1.0))
    evidence = gather_evidence(query, result, store, strict)
    lines = extractive_answer(query, result, strict, evidence).text.splitlines()
    assert 1 <= len(lines) <= 2  # the best sentence (and the one it leans on, if any)


def test_answer_records_index_version_and_filters(index, retriever):
    store = index[1]
    filters = Filters(council="Cambridge City Council")
    result = answer(index, retriever, ANSWERABLE[0], filters=filters)
    assert result.index_version == store.version != ""
    assert result.filters == filters
    assert all(p.meta.council == "Cambridge City Council" for p in result.passages)


def test_k_sets_the_number_of_passages(index, retriever):
    assert len(answer(index, retriever, ANSWERABLE[0], k=3).passages) == 3
    assert len(answer(index, retriever, ANSWERABLE[0], k=8).passages) == 8


# ---------------------------------------------------------------- abstention

def _abstained_with_related_passages(result: Answer):
    assert result.abstained
    assert result.citations == ()
    assert result.passages  # still listed, as possibly related
    assert all(p.quoted == () for p in result.passages)


def test_unknown_council_abstains(index, retriever):
    result = answer(index, retriever, "What did peers say about Oxford City Council's housing company?")
    _abstained_with_related_passages(result)
    assert result.reason == "unknown_council"
    assert "Oxford City Council" in result.text
    assert "Cambridge City Council" in result.text  # says what the corpus does cover


def test_a_titled_person_no_document_names_abstains(index, retriever):
    """Peers are named in the documents; a councillor they never name cannot have said anything
    in them, though "Marland" alone is a word they use."""
    result = answer(index, retriever, "What did Councillor Agnes Marland say about the peer challenge?")
    _abstained_with_related_passages(result)
    assert result.reason == "unknown_name" and "Agnes Marland" in result.text
    named = answer(index, retriever, "What did Cllr Pete Marland bring to the peer team?")
    assert named.reason != "unknown_name"


def test_unknown_year_abstains(index, retriever):
    result = answer(index, retriever, "2019 peer challenge of the county")
    _abstained_with_related_passages(result)
    assert result.reason == "unknown_year"
    assert "2019" in result.text


def test_a_document_year_the_council_lacks_abstains(index, retriever):
    # 2021 is a year the corpus knows (the county's progress review), not a city document's
    result = answer(index, retriever, "What did the city council's 2021 peer challenge recommend?")
    _abstained_with_related_passages(result)
    assert result.reason == "unknown_year"
    assert "Cambridge City Council" in result.text and "2021" in result.text


def test_weak_evidence_abstains(index, retriever):
    result = answer(index, retriever, "zzzz qqqq")
    _abstained_with_related_passages(result)
    assert result.reason == "no_evidence"
    assert result.text == NO_ANSWER


def test_filters_excluding_everything_say_so(index, retriever):
    filters = Filters(council="Cambridge City Council", year_from=2022, year_to=2022)
    result = answer(index, retriever, ANSWERABLE[0], filters=filters)
    assert result.abstained
    assert result.reason == "filtered_out"
    assert result.passages == () and result.citations == ()
    assert result.text != NO_ANSWER
    assert "filter" in result.text


def test_known_council_with_unknown_one_does_not_abstain_for_council(index, retriever):
    """Naming a held council alongside one that is not held is not an unknown-council question."""
    result = answer(index, retriever,
                    "How did Cambridge City Council's shared services compare with Peterborough City Council?")
    # answered (an abstention for any other reason would hide the same mistake), from the held one
    assert not result.abstained and result.reason == "" and result.citations, result.text
    cited = {result.passages[n - 1].meta.council for n in result.citations}
    assert cited == {"Cambridge City Council"}


def test_a_council_the_documents_only_mention_is_not_covered(index, retriever):
    """Peterborough is a shared-services partner in the county's documents; no peer team reviewed it."""
    result = answer(index, retriever, "What were the main findings of Peterborough City Council's own peer challenge?")
    _abstained_with_related_passages(result)
    assert result.reason == "unknown_council"
    assert "Peterborough City Council" in result.text and "in passing" in result.text


def test_a_progress_review_of_a_council_that_has_none_abstains(index, retriever):
    result = answer(index, retriever, "What did the peers find when they came back to Cambridge City Council?")
    _abstained_with_related_passages(result)
    assert result.reason == "unknown_document"
    assert "progress review of Cambridge City Council" in result.text
    # the county has one, and "expect a return visit" is answered by the city's own report
    for question, council in (
            ("What did the peers find when they came back to Cambridgeshire County Council?",
             "Cambridgeshire County Council"),
            ("When should the city council expect a return visit from the peers?",
             "Cambridge City Council")):
        result = answer(index, retriever, question)
        assert not result.abstained and result.reason == "" and result.citations, result.text
        assert {result.passages[n - 1].meta.council for n in result.citations} == {council}


def _asked_over(tmp_path, pages: dict[str, str]):
    """(store, ask): the seed corpus and ``pages`` indexed with the fake embedder, and a
    function answering a question over them."""
    from tests.conftest import build_fake_index_with

    settings, store = build_fake_index_with(tmp_path, pages)
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    return store, lambda question, **kwargs: answer((settings, store), retriever, question, **kwargs)


def test_a_council_page_telling_when_its_progress_review_was_answers_that(tmp_path):
    """A council with no progress review in the corpus may still have a page saying when it was:
    "when was …?" is asked of that page; "what did it find?" only the review could answer."""
    store, ask = _asked_over(tmp_path, {
        "northby-peer-challenge-page.txt":
            "Corporate Peer Challenge - Northby District Council\n\nA team of peers visited Northby "
            "District Council in May 2022 and wrote a report with six recommendations. Three of the "
            "peers came back for the progress review on 14 March 2023 and met the Leader and senior "
            "officers of Northby District Council to talk about the action plan.\n",
        "southby-peer-challenge-page.txt":
            "Corporate Peer Challenge - Southby Borough Council\n\nA team of peers visited Southby "
            "Borough Council in June 2024. The peers will come back for a progress review in 2025 to "
            "see how Southby Borough Council has acted on the report.\n"})
    assert store.documents["northby-peer-challenge-page"].meta.doc_type == "web page"
    when = ask("When was Northby District Council's progress review?")
    assert when.reason != "unknown_document", when.text
    found = ask("What did Northby District Council's progress review find?")
    assert found.reason == "unknown_document"
    # a review still to come is none the corpus can date
    coming = ask("When was Southby Borough Council's progress review?")
    assert coming.reason == "unknown_document" and "none of its documents tells of one" in coming.text
    # whether one took place is told by the page too; of a review still to come, by none
    happened = ask("Has the LGA been back to Northby District Council for its progress review yet?")
    assert happened.reason != "unknown_document", happened.text
    assert ask("Has the LGA been back to Southby Borough Council for its progress review yet?").reason \
        == "unknown_document"


def test_a_service_no_document_of_the_council_mentions_is_refused_as_unknown(tmp_path):
    """A question naming a council service (domain.yaml service_topics) that no document of the
    council asked about mentions by any word of its family is refused as unknown_topic, naming
    it; another council's page mentioning it does not open the question for this one, and a
    word of the family the council's documents use ("visitor economy" for tourism) does."""
    store, ask = _asked_over(tmp_path, {
        "northby-peer-challenge-page.txt":
            "Corporate Peer Challenge - Northby District Council\n\nA team of peers visited Northby "
            "District Council in May 2022. The peers praised the libraries and the museum service, "
            "and said the visitor economy had recovered well since the pandemic.\n"})
    refused = ask("What did the peers say about Cambridge City Council's libraries?")
    assert refused.abstained and refused.reason == "unknown_topic", refused.text
    assert '"libraries"' in refused.text and "Cambridge City Council" in refused.text
    assert ask("What did the peers say about libraries in Northby?").reason != "unknown_topic"
    assert ask("What did the peers say about tourism in Northby?").reason != "unknown_topic"
    # no council named: the whole corpus is asked, and Northby's page mentions libraries
    assert ask("What did the peers say about libraries?").reason != "unknown_topic"
    assert ask("What did the peers say about leisure centres?").reason == "unknown_topic"


def test_a_later_page_telling_of_an_earlier_review_answers_about_it(tmp_path):
    """A council whose only document is a 2023 page saying what its 2019 peer challenge did is
    asked about "the 2019 peer challenge" from that page, not refused for lacking a 2019
    document; a review the page only looks forward to is still one no document tells of."""
    _, ask = _asked_over(tmp_path, {
        "eastmere-peer-review-page.txt":
            "Peer reviews - Eastmere District Council\n\nPublished: 12 September 2023\n\nThe 2019 peer "
            "challenge took place in May of that year and made five recommendations. A summary of the "
            "council's recovery after the pandemic was added to the report. The 2027 peer challenge "
            "will look at the council's new plan.\n"})
    told = ask("What was added to Eastmere's 2019 peer challenge report?")
    assert told.reason != "unknown_year", told.text
    coming = ask("What did Eastmere's 2027 peer challenge find?")
    assert coming.reason == "unknown_year" and "2027" in coming.text


@pytest.mark.parametrize("question, given", [
    ("When was the peer team on site at Westmoor?", False),  # the record dates a decision only
    ("When did Westmoor's cabinet decide on the peer challenge report?", True),
    ("When did the peer challenge at Eastmere take place?", True),  # "This took place …"
    # a committee's meeting line under a heading naming the action plan dates the meeting
    ("When did the peer challenge at Northfold take place?", False),
    # the date a report was published, named next to it, dates its publication, not the visit
    ("On what dates did the peer team visit Southgate?", False),
    ("When was Southgate's peer challenge report published?", True),
    # "This took place …", leaning back on the peer challenge, though the cabinet is named after
    ("When did the corporate peer challenge of Eastwick happen?", True),
])
def test_a_date_question_about_an_event_needs_a_date_of_that_event(tmp_path_factory, question, given):
    """A decision record's "Publication date: …" and "Decided at meeting: … - Cabinet" give the
    date of a decision, not of the peers' visit, though its title names the peer challenge;
    "This took place from …" under a heading naming the peer challenge gives its dates."""
    from tests.conftest import build_fake_index_with

    settings, store = _event_pages(tmp_path_factory, build_fake_index_with)
    query = query_for(store, question)
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    council = query.councils[0]
    result = retriever.search(query, Filters(council=council))
    assert gather_evidence(query, result, store, settings).given is given


_EVENT_PAGES: dict = {}


def _event_pages(tmp_path_factory, build):
    if not _EVENT_PAGES:
        _EVENT_PAGES["index"] = build(tmp_path_factory.mktemp("events"), {
            "westmoor-cpc-decision.txt":
                "Corporate Peer Challenge report and action plan - Westmoor District Council\n\n"
                "Decision maker: Cabinet\nReport author: Jo Bloggs\nPublication date: 09/11/2023\n"
                "Date of decision: 07/11/2023\nDecided at meeting: 07/11/2023 - Cabinet\n\n"
                "Cabinet noted the report of the peer team and agreed the action plan.\n",
            "eastmere-peer-challenge-page.txt":
                "Peer reviews - Eastmere District Council\n\nOur council welcomes outside challenge.\n\n"
                "What is a Corporate Peer Challenge?\n\nA peer challenge looks at how Eastmere District "
                "Council is run.\n\n  \u2022 We received feedback at the end of the week.\n\nThis took "
                "place from 16 to 19 October 2023.\n",
            "northfold-committee-minutes.txt":
                "Issue - meetings - Northfold Borough Council\n\nCorporate Peer Challenge Action Plan\n\n"
                "Meeting: 23/07/2024 - Strategy and Resources Committee (Item 7)\n\nThis report accompanies "
                "the proposed action plan of Northfold Borough Council.\n",
            "southgate-news.txt":
                "Peers praise Southgate Borough Council\n\nThe findings of the peers are set out in a "
                "corporate peer challenge report published today, Wednesday 6 July 2022. The peers met "
                "staff and partners of Southgate Borough Council earlier this year.\n",
            "eastwick-cabinet-minutes.txt":
                "Cabinet minutes - Eastwick Borough Council\n\nThe Leader explained that the LGA had "
                "invited Eastwick Borough Council to undertake a corporate peer challenge. This took place "
                "in November 2012, with the final report appended to the Cabinet report.\n"})
    return _EVENT_PAGES["index"]


# ---------------------------------------------------------------- citations check (pure)

def test_check_citations():
    assert check_citations("Yes [1]. Also [7]. No marker here.", 2) == (["Yes [1]."], [1], 2)
    kept, cited, dropped = check_citations("A [1][2]. B [2] and [3].\nC [0].", 3)
    assert kept == ["A [1][2].", "B [2] and [3]."]
    assert cited == [1, 2, 3] and dropped == 1
    assert check_citations("", 3) == ([], [], 0)


# ---------------------------------------------------------------- JSON schema

PASSAGE_KEYS = {"n", "doc_id", "title", "council", "doc_type", "date", "section", "page", "start",
                "end", "text", "score", "quoted"}
ANSWER_KEYS = {"question", "answer", "abstained", "reason", "mode", "notice", "passages", "citations",
               "index_version"}


def test_answer_to_json_schema(index, retriever):
    import json

    store = index[1]
    result = answer(index, retriever, ANSWERABLE[0])
    data = answer_to_json(result)
    assert set(data) == ANSWER_KEYS
    assert json.loads(json.dumps(data)) == data  # plain JSON types only
    assert data["question"] == ANSWERABLE[0]
    assert data["answer"] == result.text
    assert data["abstained"] is False and data["reason"] == "" and data["mode"] == "extractive"
    assert data["citations"] == list(result.citations)
    assert data["index_version"] == store.version
    assert [p["n"] for p in data["passages"]] == list(range(1, len(result.passages) + 1))
    for item, passage in zip(data["passages"], result.passages):
        assert set(item) == PASSAGE_KEYS
        document = store.documents[item["doc_id"]]
        assert document.text[item["start"]:item["end"]] == item["text"]
        assert item["council"] == passage.meta.council and item["doc_type"] == passage.meta.doc_type
        assert item["section"] == " › ".join(passage.chunk.section)
        assert item["quoted"] == list(passage.quoted)
        assert isinstance(item["score"], float)


def test_answer_to_json_of_an_abstention(index, retriever):
    data = answer_to_json(answer(index, retriever, "2019 peer challenge of the county"))
    assert set(data) == ANSWER_KEYS
    assert data["abstained"] is True and data["reason"] == "unknown_year"
    assert data["citations"] == [] and data["passages"]
    assert all(p["quoted"] == [] for p in data["passages"])


# ---------------------------------------------------------------- rendering

def test_render_answer_lists_sources_and_marks_quotes(index, retriever):
    result = answer(index, retriever, ANSWERABLE[0])
    text = render_answer(result)
    assert f"Q: {ANSWERABLE[0]}" in text
    assert "Sources:" in text and "\033[" not in text  # no colour codes unless asked
    for n in range(1, len(result.passages) + 1):
        assert f"\n[{n}] " in text
    for n in result.citations:
        assert f"[{n}]" in text
    quoted = [q for p in result.passages for q in p.quoted]
    body = " ".join(text.split())
    assert any(f"»{' '.join(q.split())}«" in body for q in quoted)
    uncited = [n for n in range(1, len(result.passages) + 1) if n not in result.citations]
    assert text.count("(not quoted)") == len(uncited)
    assert f"index {result.index_version}" in text


def test_render_answer_in_colour_bolds_quotes(index, retriever):
    text = render_answer(answer(index, retriever, ANSWERABLE[0]), color=True)
    assert "\033[1m" in text and "»" not in text


def test_render_abstention(index, retriever):
    text = render_answer(answer(index, retriever, "zzzz qqqq"))
    assert "No answer in the corpus." in text
    assert "Possibly related passages:" in text and "Sources:" not in text


def test_render_generative_label_and_notice(index, retriever):
    result = replace(answer(index, retriever, ANSWERABLE[0]), mode="generative", notice="1 sentence removed.")
    text = render_answer(result)
    assert "generated by a language model" in text
    assert "Note: 1 sentence removed." in text


def test_answer_markdown_references(index, retriever):
    result = answer(index, retriever, ANSWERABLE[0])
    md = answer_markdown(result)
    assert md.startswith("# ")
    assert "## References" in md
    assert md.count("\n> ") == len(result.text.splitlines())
    for n, p in enumerate(result.passages, start=1):
        assert f"\n{n}. " in md
        assert f"(characters {p.chunk.start}–{p.chunk.end})" in md
    assert f"Index version: {result.index_version}" in md


HOSTILE = "What about <script>alert(1)</script> and ![x](http://evil/x.png) and [click](http://evil/)?"


def test_answer_markdown_neutralises_hostile_text(index, retriever):
    from markdown_it import MarkdownIt

    result = answer(index, retriever, HOSTILE)
    # hostile text in document quotes and notices too, not only in the question
    passages = tuple(replace(p, quoted=p.quoted + ("<img src=x onerror=alert(1)> ![y](http://evil/y.png)",))
                     for p in result.passages)
    result = replace(result, passages=passages, notice="<b>bold</b> ![z](http://evil/z.png)")
    md = answer_markdown(result)
    assert "<script>" not in md and "![x](" not in md and "![y](" not in md
    html = MarkdownIt("commonmark", {"html": True}).render(md)
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "<a " not in html
    assert "evil/x.png" in html  # neutralised, not silently removed


def test_render_answer_keeps_hostile_question_as_text(index, retriever):
    text = render_answer(answer(index, retriever, HOSTILE))
    assert HOSTILE in text  # terminal output is plain text: shown, not interpreted


def test_readme_schema_matches_answer_to_json():
    """The README's `--json` example documents exactly the keys answer_to_json emits."""
    import json
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    match = re.search(r"JSON answer schema.*?```json\n(.*?)```", readme, re.DOTALL)
    assert match, "README lost its JSON answer schema section"
    example = json.loads(match.group(1))
    assert set(example) == ANSWER_KEYS
    assert all(set(p) == PASSAGE_KEYS for p in example["passages"])


def test_unknown_names_are_found_and_sentence_starts_skipped():
    vocabulary = {"cambridge", "rating", "what", "did", "get", "and", "lga"}
    assert unknown_names("What Ofsted rating did Cambridge get? And PFI?", vocabulary) == ("Ofsted", "PFI")
    assert unknown_names("Did the LGA's team visit Cambridge?", vocabulary) == ()


def test_a_council_abbreviation_is_no_unknown_name():
    """"B&NES" is one name, the council's, not an unknown "NES" (a notice would say the documents
    never mention it)."""
    facts = CorpusFacts.build({"Bramley and North East Somerby District Council": ["peer challenge report"],
                               "Cambridge City Council": ["peer challenge report"]},
                              ["The peer challenge of Bramley and North East Somerby District Council took place in May."])
    query = analyse("When did the B&NES peer challenge take place?", facts)
    assert query.councils == ("Bramley and North East Somerby District Council",)
    assert query.unknown_names == ()


@pytest.mark.slow
def test_a_name_the_corpus_never_uses_lowers_trust(real_index):
    """A name the documents never mention is a feature of the answerability model (the old
    fixed rule helped on neither dev nor test): refused, the reason names it; answered, the
    notice names it."""
    settings, store = real_index
    for question, name in (("What Ofsted rating did Cambridgeshire's children's social care get?", "Ofsted"),
                           ("How should the city council protect itself against uncertainty over how "
                            "Whitehall funds councils?", "Whitehall")):
        result = ask_text(store, settings, question)
        if result.abstained:
            assert result.reason == "unknown_name" and name in result.text
        else:
            assert name in result.notice
    strict = replace(settings, answerability=replace(settings.answerability, threshold=0.99))
    refused = ask_text(store, strict, "What Ofsted rating did Cambridgeshire's children's social care get?")
    assert refused.abstained and refused.reason == "unknown_name" and "Ofsted" in refused.text


@pytest.mark.slow
def test_a_when_question_quotes_the_dated_sentence(real_index):
    """The visit date is on an action-plan page ('welcomed a Local Government Association … team
    … in December 2017'); the model finds it once the question's "LGA" is glossed with the long
    form the corpus defines (a strict xfail before: the follow-up visit's timing was quoted)."""
    settings, store = real_index
    dated = ask_text(store, settings, "When did the LGA team visit Cambridge City Council?")
    assert not dated.abstained and "December 2017" in dated.text


@pytest.mark.slow
def test_a_typed_question_needs_its_kind_of_answer(real_index):
    """"How much did … pay?" over passages stating no amount abstains and says what is missing;
    "when …?" quotes a dated sentence; "who is the deputy leader …?" quotes the named holder."""
    settings, store = real_index
    refused = ask_text(store, settings, "How much did the city council pay the LGA for its peer challenge?")
    assert refused.abstained and refused.reason == "not_stated" and "amount of money" in refused.text
    assert refused.passages  # still listed as possibly related
    refused = ask_text(store, settings, "Who was leader of Cambridge City Council at the time of its 2017 peer challenge?")
    assert refused.abstained and refused.reason == "not_stated"
    named = ask_text(store, settings, "Who is the deputy leader of Cambridgeshire County Council?")
    assert not named.abstained and "Elisa Meschini" in named.text
    row = ask_text(store, settings, "Who was Leader of Cambridgeshire County Council when cabinet received the 2013 peer review "
              "report?")  # "Post: … Leader of the Council" is quoted with its "Name:" row
    assert not row.abstained and "Martin Curtis" in row.text and "Leader of the Council" in row.text


def test_a_question_about_one_council_quotes_only_that_council(index, retriever):
    settings, store = index
    county = "Cambridgeshire County Council"
    scoped = answer(index, retriever, "What did the peers say about the county council's shared services?")
    assert scoped.filters.council == county
    assert {p.meta.council for p in scoped.passages} == {county}
    # (with the fake embedder which councils come up depends on the wording's hashes)
    both = answer(index, retriever, "What was said about shared services?")
    assert both.filters.council is None and len({p.meta.council for p in both.passages}) == 2
    off = replace(settings, retrieval=replace(settings.retrieval, council_scope=False))
    unscoped = ask(query_for(store, "What did the peers say about the county council's shared services?"),
                   store, off, retriever=retriever)
    assert unscoped.filters.council is None


def test_an_answer_from_several_councils_offers_the_comparison(index, retriever):
    settings, store = index
    wide = replace(settings, selection=replace(settings.selection, floor=0.0, max_quotes=8))
    both = ask(query_for(store, "What was said about shared services?"), store, wide,
               retriever=retriever)
    cited = {both.passages[n - 1].meta.council for n in both.citations}
    assert len(cited) == 2  # the city's report and the county's letter both answer
    assert "shared services at each council?" in both.notice and all(c in both.notice for c in cited)
    one = answer(index, retriever, "What did the peers say about the county council's shared services?")
    assert "at each council" not in one.notice


# ---------------------------------------------------------------- answer-aware re-ranking

@pytest.mark.parametrize("question", ANSWERABLE)
def test_passages_are_reranked_by_their_best_sentence(index, retriever, question):
    """The answer's passages are the pool's, ordered by retrieval score plus rerank_weight times
    their best sentence's probability; with weight 0 they are the retriever's top k."""
    from assistant.answering import answer_passages

    settings, store = index
    query = query_for(store, question)
    pool = retriever.search(query, Filters(), settings.selection.rerank_pool)
    best = {}
    for c in gather_evidence(query, pool, store, settings).candidates:
        chunk_id = pool.passages[c.passage].chunk.chunk_id
        best[chunk_id] = max(best.get(chunk_id, 0.0), c.score)
    weight = 3.0  # large enough to reorder the fake corpus's passages
    tuned = replace(settings, selection=replace(settings.selection, rerank_weight=weight))
    result, evidence = answer_passages(query, retriever, store, tuned, Filters(), Filters(), 5)
    expected = sorted(pool.passages, key=lambda p: -(p.score + weight * best.get(p.chunk.chunk_id, 0.0)))[:5]
    assert [p.chunk.chunk_id for p in result.passages] == [p.chunk.chunk_id for p in expected]
    assert evidence is not None and all(c.passage < 5 for c in evidence.candidates)
    assert all(result.passages[c.passage].chunk.text.count(c.text[:40]) for c in evidence.candidates)
    off = replace(settings, selection=replace(settings.selection, rerank_weight=0.0))
    plain, none = answer_passages(query, retriever, store, off, Filters(), Filters(), 5)
    assert none is None and plain.passages == retriever.search(query, Filters(), 5).passages


def test_reranking_changes_some_order_on_the_fake_corpus(index, retriever):
    """Guards the test above against passing with no re-ranking at all."""
    from assistant.answering import answer_passages

    settings, store = index
    tuned = replace(settings, selection=replace(settings.selection, rerank_weight=3.0))
    changed = 0
    for question in ANSWERABLE:
        query = query_for(store, question)
        result, _ = answer_passages(query, retriever, store, tuned, Filters(), Filters(), 5)
        changed += result.passages != retriever.search(query, Filters(), 5).passages
    assert changed


@pytest.fixture(scope="module")
def councils_fake_index(tmp_path_factory):
    """The many-council fixture corpus indexed with the fake embedder."""
    from pathlib import Path

    from assistant.settings import Settings
    from assistant.store import load_index
    from ingest.build import ingest
    from tests.fakes import word_count

    corpus = Path(__file__).parent / "fixtures" / "councils" / "corpus"
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("councils") / "index",
                        model="fake")
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None,
           progress=lambda *event: None)
    return settings, load_index(settings)


def test_where_a_peer_served_is_answered_from_other_councils(councils_fake_index):
    """Wexcombe City's chief executive sat on Hollinford's peer team: asked where she served,
    the answer leaves out Wexcombe City's own documents (scoping to them used to quote their
    own peer team) and finds her in Hollinford's list."""
    settings, store = councils_fake_index
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    result = ask(query_for(store, "Which peer team included the chief executive of Wexcombe City Council?"),
                 store, settings, retriever=retriever)
    assert result.filters.council is None and result.filters.not_councils == ("Wexcombe City Council",)
    assert result.passages and all(p.meta.council != "Wexcombe City Council" for p in result.passages)
    assert any("Ruth Okafor" in p.chunk.text for p in result.passages[:3])
    assert "served as a peer" in result.notice and "Wexcombe City Council were left out" in result.notice
    assert not result.abstained


def test_where_a_peer_served_needs_a_passage_naming_them(councils_fake_index):
    """Brindlemoor's peer list names Hollinford's chief executive, on the line below the
    leader of another council: where Hollinford's *leader* served is not stated anywhere."""
    settings, store = councils_fake_index
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    leader = ask(query_for(store, "Which peer team included the leader of Hollinford Council?"), store,
                 settings, retriever=retriever)
    assert leader.abstained and leader.reason == "not_stated"
    assert "Hollinford Council's leader" in leader.text and leader.passages
    chief = ask(query_for(store, "Which peer team included the chief executive of Hollinford Council?"),
                store, settings, retriever=retriever)
    assert not chief.abstained and "Imran Qureshi" in chief.text
    # the peer list runs together in one sentence: only his entry is quoted, first, after the
    # council whose peer team it was
    reviewed = chief.passages[0].meta
    assert chief.text.startswith(f"On the peer team for {reviewed.council} ({reviewed.date}): Officer Peer: "
                                 "Dr Imran Qureshi, Chief Executive, Hollinford Council [")
    assert reviewed.council == "Brindlemoor Metropolitan Borough Council"
    assert "Moira Sutcliffe" not in chief.text


def test_a_council_named_by_a_place_no_document_uses_is_not_held(index, retriever):
    """"Oakbury's finances", "in Oakbury", "visit Oakbury": a place the documents never use, where
    a question puts a council, is a council the corpus does not hold; the answer is not taken
    from the councils it does hold. An unknown word elsewhere ("how Whitehall funds councils")
    is no council."""
    for question in ("What did the peers say about Oakbury's finances?",
                     "How many people did the peer team meet in Oakbury?",
                     "When did the LGA peers visit Oakbury?",
                     "When did the Oakbury peer challenge take place?",
                     "What does the Oakbury action plan say about housing?"):
        result = answer(index, retriever, question)
        _abstained_with_related_passages(result)
        assert result.reason == "unknown_council" and "Oakbury" in result.text, question
    whitehall = answer(index, retriever, "How should the city council protect itself against "
                                         "uncertainty over how Whitehall funds councils?")
    assert whitehall.reason != "unknown_council"
    named = answer(index, retriever, "What did the Whitehall review say about the city council's finances?")
    assert named.reason != "unknown_council"  # a name before "review" beside a held council


@pytest.mark.parametrize("question", ["How much is spent on grants?"])
def test_a_passage_lifted_for_its_kind_of_answer_is_no_evidence_that_it_answers(index, question):
    """The ranking lifts a passage that gives a figure for "how much …?" (``typed_bonus``); the
    refusal's "does a top passage give a figure?" reads the passages ranked without that lift,
    so a figure lifted into the top five does not make an off-topic answer look stated. (A lift
    far above the default also lifts passages into the pool the answer is ranked from, which the
    refusal then reads: known, not guarded.)"""
    from assistant.answer_type import passage_gives
    from assistant.answering import answer_passages
    from assistant.selection import sentence_texts

    settings, store = index
    query = query_for(store, question)
    given = {}
    for bonus in (0.0, 0.4):
        tuned = replace(settings, retrieval=replace(settings.retrieval, typed_bonus=bonus))
        result, evidence = answer_passages(query, Retriever(store, tuned, encoder=FakeEmbedder()), store,
                                           tuned, Filters(), Filters(), 5)
        given[bonus] = evidence.given
        shown = any(passage_gives(sentence_texts(p), query.expected) for p in result.passages)
    assert shown  # the lifted passages are in the answer …
    assert given == {0.0: False, 0.4: False}  # … but are no evidence that the figure is stated


def test_a_council_guessed_by_its_place_alone_is_the_corpus_council_of_that_place(tmp_path):
    """News that calls its council only "Northby Council", beside a report of Northby
    Metropolitan Borough Council, is filed under that council: one council, not two, so a
    question about Northby is answered, not compared with itself."""
    from tests.conftest import build_fake_index_with

    settings, store = build_fake_index_with(tmp_path, {
        "northby-news.txt": "Peers praise Northby Council\n\nNorthby Council has welcomed the peer "
                            "challenge report. The peers found a council with strong leadership.\n",
        "northby-peer-challenge-report.txt":
            "Corporate Peer Challenge Feedback Report - Northby Metropolitan Borough Council\n\n"
            "The peer team visited Northby Metropolitan Borough Council in May 2024. Key recommendations: "
            "agree a three-year budget; review the scrutiny arrangements.\n"})
    assert {store.documents[d].meta.council for d in ("northby-news", "northby-peer-challenge-report")} == {
        "Northby Metropolitan Borough Council"}
    query = query_for(store, "What did the peers say about Northby's leadership?")
    assert (query.councils, query.route) == (("Northby Metropolitan Borough Council",), "answer")


def test_a_council_made_a_city_is_one_council_under_its_latest_name(tmp_path):
    """News of 2022 calls it "Northby Borough Council", news of 2023 "Northby City Council"
    (made a city in between): one council, filed under the later name, so a question about
    Northby is answered, not compared with itself."""
    from tests.conftest import build_fake_index_with

    settings, store = build_fake_index_with(tmp_path, {
        "northby-news-2022.txt": "Northby Borough Council welcomes peer challenge report\n\n7 November 2022\n\n"
                                 "Northby Borough Council has welcomed the LGA peer challenge report. The "
                                 "peers praised the council's partnership working.\n",
        "northby-news-2023.txt": "Northby City Council welcomes follow-up report\n\n5 September 2023\n\n"
                                 "Northby City Council has welcomed the LGA follow-up report, which found good "
                                 "progress on housing.\n"})
    assert {store.documents[d].meta.council for d in ("northby-news-2022", "northby-news-2023")} == {
        "Northby City Council"}
    query = query_for(store, "What did the peers say about Northby's partnership working?")
    assert (query.councils, query.route) == (("Northby City Council",), "answer")


def test_a_dated_section_title_tells_of_a_progress_review(tmp_path):
    """A council page whose section "LGA Corporate Peer Challenge progress review, February
    2025" says only how progress reviews work still tells when its review was: "when was …?"
    is asked of it, not refused for lacking a progress review document."""
    _, ask = _asked_over(tmp_path, {
        "eastmere-peer-challenge-page.txt":
            "LGA Corporate Peer Challenge - Eastmere District Council\n\nEastmere District Council invited "
            "the LGA to undertake a corporate peer challenge in March 2024. The report contains twelve "
            "recommendations.\n\nLGA Corporate Peer Challenge progress review, February 2025\n\nAs part of the "
            "process, a one-day progress review will take place within 12 months of the original review.\n"})
    when = ask("When was Eastmere District Council's progress review?")
    assert when.reason != "unknown_document", when.text


def test_a_peer_named_by_a_title_is_found_by_the_post_the_question_uses(tmp_path):
    """"Which Farby County Council councillor was on Northby's peer team?": the team list writes
    "Cllr Ann Lee - Deputy Leader, Farby County Council", and "Cllr" names a councillor."""
    _, ask = _asked_over(tmp_path, {
        "northby-progress-review.txt":
            "LGA Corporate Peer Challenge Progress Review - Northby District Council\n\n"
            "The progress review took place on 4 March 2025. The peer team was:\n\n"
            "  \u2022 Cllr Ann Lee - Deputy Leader and Cabinet Member for Growth, Farby County Council\n"
            "  \u2022 Jo Bloggs - Chief Executive, Southby Borough Council\n"})
    result = ask("Which Farby County Council councillor was on Northby District Council's peer team?")
    assert not result.abstained, result.text
    assert "Ann Lee" in result.text and "Jo Bloggs" not in result.text


def test_a_name_from_another_years_document_does_not_answer_for_the_year_asked(tmp_path):
    """"Who managed Northby's 2019 peer team?": the manager named in its 2023 progress review
    (of the 2022 challenge) is not the 2019 one, and nothing names that one; a page of another
    year that tells of the 2019 review by its year may answer."""
    _, ask = _asked_over(tmp_path, {
        "northby-2019-peer-challenge-report.txt":
            "Corporate Peer Challenge - Northby District Council\n\nFeedback report: 4 - 7 March 2019\n\n"
            "The peer team was made up of two councillors and two officers, supported by an LGA "
            "programme manager. The team spoke to more than 90 people.\n",
        "northby-2023-progress-review.txt":
            "LGA Corporate Peer Challenge Progress Review - Northby District Council\n\n14 March 2023\n\n"
            "The progress review looked at the council's work since its October 2022 peer challenge.\n\n"
            "Peer team:\n  \u2022 LGA Peer Challenge Manager - Jo Bloggs\n"})
    old = ask("Who was the LGA manager who supported Northby District Council's 2019 peer team?")
    assert old.abstained and old.reason == "not_stated", old.text
    assert not ask("Who was the LGA manager on Northby District Council's 2022 peer team?").abstained


def test_a_date_naming_no_year_is_of_its_documents_years(tmp_path):
    """"When did peers visit Northby before 2023?": the 2023 report's "Our expectation is that
    the follow-up visit will occur within the next 2 years" names no year, so it is of 2023 and
    gives no date before it; the report's own visit, dated 2023, answers "before 2024"."""
    _, ask = _asked_over(tmp_path, {
        "northby-2023-peer-challenge-report.txt":
            "Corporate Peer Challenge - Northby District Council\n\nFeedback report: 6 - 9 March 2023\n\n"
            "Follow up visit\n\nThe peer challenge process includes a follow up visit by the peer team. "
            "Our expectation is that it will occur within the next 2 years.\n"})
    earlier = ask("When did LGA peers visit Northby District Council before 2023?")
    assert earlier.abstained and earlier.reason == "not_stated", earlier.text
    assert not ask("When did LGA peers visit Northby District Council before 2024?").abstained


def test_a_planned_review_answers_a_question_about_what_is_to_come(tmp_path):
    """A council page telling of a follow-up review "taking place on 9 December 2025" tells of
    no review that has happened, but of one to come: "will the progress review be in person?"
    is asked of it, while "what did the progress review find?" is still refused."""
    _, ask = _asked_over(tmp_path, {
        "eastmere-executive-decision.txt":
            "Corporate Peer Challenge: position statement - Eastmere District Council\n\n"
            "The Executive approved the position statement, which will support a follow-up review by the "
            "Peer Team in December 2025. The peer team visited the council between 10 and 12 March 2025. "
            "The statement will go to the LGA ahead of an in-person review by members of the original "
            "peer team taking place on 9 December 2025.\n"})
    coming = ask("Will Eastmere District Council's progress review be in person, and on what date?")
    assert coming.reason != "unknown_document", coming.text
    assert ask("What did Eastmere District Council's progress review find?").reason == "unknown_document"



def test_an_answer_about_a_year_is_not_made_of_another_years_documents(tmp_path):
    """"Did Northby meet its savings target in 2024?": the 2019 report's target, silent on 2024,
    is no evidence when the council has a 2024 document — never quoted, and with nothing else
    to go on (the search held to that report) a refusal naming the year; it answers the 2019
    question, and a 2024 page that tells of the target answers for 2024."""
    target = "The peer team is confident that the council can meet this savings target"
    pages = {
        "northby-2019-peer-challenge-report.txt":
            "Corporate Peer Challenge - Northby District Council\n\nFeedback report: 4 - 7 March 2019\n\n"
            "The council has to find savings of £300,000 a year for four years. " + target +
            " if it keeps its finances under close review.\n",
        "northby-2024-progress-review.txt":
            "LGA Corporate Peer Challenge Progress Review - Northby District Council\n\n14 March 2024\n\n"
            "The progress review looked at the council's housing delivery and its new planning "
            "committee arrangements since the peer challenge.\n"}
    _, ask = _asked_over(tmp_path, pages)
    question = "Did Northby District Council meet its savings target in 2024?"
    assert target not in ask(question).text
    held = ask(question, filters=Filters(doc_id="northby-2019-peer-challenge-report"))
    assert held.abstained and held.reason == "unknown_year" and "2024" in held.text, held.text
    assert target in ask("Did the peers think Northby District Council could meet its savings target in 2019?").text
    pages["northby-2024-progress-review.txt"] += "\nIn 2024 the council met its savings target of £300,000.\n"
    _, ask = _asked_over(tmp_path / "told", pages)
    told = ask(question)
    assert not told.abstained and "met its savings target" in told.text, told.text


def test_a_date_or_figure_about_a_named_person_or_body_comes_from_a_passage_naming_them(tmp_path):
    """"When did Jo Bloggs start as chief executive?" (or "when did the Planning Advisory
    Service carry out its review?") is not dated by a cabinet paper's "Date: 4th March 2014"
    that never names them; a passage telling of her start answers it."""
    pages = {
        "northby-2014-cabinet-report.txt":
            "Cabinet report - Northby District Council\n\nDate: 4th March 2014\n\n"
            "The chief executive presented the peer review findings to cabinet, and the council "
            "agreed an action plan in response.\n",
        "northby-2022-news.txt":
            "Peers praise Northby District Council\n\nThe leader said that now that the council "
            "has Jo Bloggs in place as chief executive, the shared services work will move faster. "
            "The Planning Advisory Service is to look at how planning committees work.\n"}
    _, ask = _asked_over(tmp_path, pages)
    question = "When did Jo Bloggs start as Northby District Council's chief executive?"
    refused = ask(question)
    assert refused.abstained and "4th March 2014" not in refused.text, refused.text
    body = ask("When did the Planning Advisory Service carry out its review at Northby District Council?")
    assert body.abstained and "4th March 2014" not in body.text, body.text
    pages["northby-2022-news.txt"] += "\nJo Bloggs started as chief executive on 3 January 2022.\n"
    _, ask = _asked_over(tmp_path / "told", pages)
    told = ask(question)
    assert not told.abstained and "3 January 2022" in told.text, told.text


def test_the_standard_description_of_a_visit_answers_how_long_the_peers_were_at_the_council_it_names(tmp_path):
    """Every feedback report opens with the LGA's description of a peer challenge, the visit's
    length and the council's name filled in: standard text, never quoted — but for "how long
    did the peer team spend at Northby?" the one naming Northby is the answer."""
    opening = ("Corporate Peer Challenge is an improvement tool delivered by the sector for the sector. "
               "It involves a team of senior councillors and officers reviewing finance, performance and "
               "governance information and then spending four days at {council} to provide robust, "
               "strategic and credible challenge and support.\n\n")
    _, ask = _asked_over(tmp_path, {
        "northby-peer-challenge-report.txt":
            "LGA Corporate Peer Challenge - Northby District Council\n\nFeedback report: May 2024\n\n"
            + opening.format(council="Northby District Council")
            + "The council has strong political leadership and a clear plan for its town centres.\n",
        "southby-peer-challenge-report.txt":
            "LGA Corporate Peer Challenge - Southby Borough Council\n\nFeedback report: June 2024\n\n"
            + opening.format(council="Southby Borough Council")
            + "The council's finances are stable and its reserves are healthy.\n"})
    result = ask("How long did the peer team spend at Northby District Council?")
    assert "spending four days at Northby District Council" in result.text, result.text
    assert "spending four days" not in ask("What did the peers say about Northby District Council's leadership?").text
