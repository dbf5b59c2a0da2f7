"""Question analysis: councils and their roles, years, routes, listing terms, follow-ups.

Pure: the corpus facts are built from council names and a few sentences, no index or model.
"""

from __future__ import annotations

import pytest

from assistant.errors import UsageError
from assistant.followup import rewrite_followup
from assistant.query import CorpusFacts, Query, analyse, listing_term, validate_question

CITY, COUNTY = "Cambridge City Council", "Cambridgeshire County Council"
SEED = CorpusFacts.build(
    {CITY: ("peer challenge report", "action plan"),
     COUNTY: ("cabinet report", "progress review", "news")},
    texts=["Peterborough City Council and South Cambridgeshire District Council are partners.",
           "The peer team met in 2013 and again in 2022."],
    doc_years=[2014, 2017, 2018, 2022],
)


def q(text: str, history: tuple[str, ...] = ()) -> Query:
    return analyse(text, SEED, history)


# ---------------------------------------------------------------- councils and roles

def test_short_council_forms_mean_the_council_of_that_place():
    assert q("What did the peers say about Cambridge Council's finances?").councils == (CITY,)
    assert q("What did the peers say about Cambridgeshire Council's finances?").councils == (COUNTY,)
    assert q("how is the county doing on finance").councils == (COUNTY,)


def test_subject_and_partner_roles():
    query = q("What risk did the city council face if the county council and police cut their services?")
    assert query.councils == (CITY,) and query.partners == (COUNTY,) and query.route == "answer"
    both = q("What did Cambridge City Council and Cambridgeshire County Council say about governance?")
    assert set(both.councils) == {CITY, COUNTY} and both.route == "comparison"
    versus = q("How does the city council compare with the county council on finance?")
    assert versus.councils == (CITY, COUNTY) and versus.route == "comparison"


def test_a_council_met_only_by_its_kind_yields_the_subject_to_one_named():
    """"The fire service" is the one fire authority held only by default: a held council the
    question names outranks it, and its words stay in the topic; coordinated, both are subjects."""
    fire, borough = "Westmoor Fire and Rescue Authority", "London Borough of Northby"
    facts = CorpusFacts.build({fire: ("peer challenge report",), borough: ("peer challenge report",)})
    query = analyse("What is the name of the fire service officer on the Northby peer team?", facts)
    assert (query.councils, query.partners, query.route) == ((borough,), (fire,), "answer")
    assert "fire service officer" in query.topic
    assert analyse("What did the fire service's chair say about its budget?", facts).councils == (fire,)
    both = analyse("How do the fire service and Northby compare on scrutiny?", facts)
    assert set(both.councils) == {fire, borough} and both.route == "comparison"
    # a council the corpus does not hold does not take the subject from the one held
    assert q("What did the county's deputy leader say about Peterborough's review?").councils == (COUNTY,)


def test_a_name_a_place_opens_is_its_councils_and_a_name_it_is_inside_only_hints():
    """"Cambridge Investment Partnership" names no council, but a held council's place opening
    a name makes it most likely that council's: the question is scoped to it. Inside a name
    ("Greater Cambridge Partnership", often several councils') the place only hints."""
    opened = q("Who chairs the board of the Cambridge Investment Partnership?")
    assert (opened.councils, opened.partners) == ((CITY,), ())
    assert "Cambridge Investment Partnership" in opened.topic
    inside = q("What has the Greater Cambridge Partnership delivered?")
    assert (inside.councils, inside.partners) == ((), (CITY,))
    assert q("Has Peterborough Investment Partnership delivered?").councils == ()  # not held
    # a council named outright keeps the question's scope; the name's place is a hint
    both = q("What did the county say about the Cambridge Investment Partnership?")
    assert (both.councils, both.partners) == ((COUNTY,), (CITY,))


def test_councils_the_corpus_only_mentions_or_never_names():
    assert q("Has Peterborough City Council acted on its review?").mentioned_only == ("Peterborough City Council",)
    assert q("What did peers say about Oxford City Council's housing company?").unknown_councils \
        == ("Oxford City Council",)
    assert q("Which Ipswich councillor sat on the county's review?").councils == (COUNTY,)


@pytest.mark.parametrize("question", [
    "Which peer team included the chief executive of Cambridge City Council?",
    "Where did the leader of the city council serve as a peer?",
    "On which council's peer challenge did Cambridge City Council's chief executive serve?",
    "Has a councillor from Cambridge City Council taken part in another council's peer challenge?",
    "Has anyone from Cambridge City Council been a peer on another council's review?",
    # a post right after the council, no "'s"; "was on" the team
    "Which Cambridge City Council chief executive was on another council's peer team?",
])
def test_a_peers_own_council_is_not_the_council_asked_about(question):
    """Asked where a person served as a peer, the council named as theirs is not the subject:
    no scope to it (a peer never reviews their own council), its name kept in the topic."""
    query = q(question)
    assert query.peer_homes == (CITY,) and query.councils == () and query.route == "answer"
    assert "Cambridge" in query.topic or "city council" in query.topic


@pytest.mark.parametrize("question, subject", [
    ("Who is the chief executive of Cambridge City Council?", CITY),  # not about peer service
    ("What did the peers say about the leader of the city council?", CITY),  # peers only speak
    ("Which council did the lead peer at the county council come from?", COUNTY),  # peer AT it
    ("Which peer team reviewed Cambridge City Council?", CITY),  # the council reviewed
])
def test_a_council_stays_the_subject_unless_named_as_a_peers_own(question, subject):
    query = q(question)
    assert query.councils == (subject,) and query.peer_homes == ()


@pytest.mark.parametrize("question, posts", [
    ("Which peer team included the chief executive of Cambridge City Council?", ("chief executive",)),
    ("Where did Cambridge City Council's leader serve as a peer?", ("leader",)),
    ("Which peer team included a councillor from Cambridge City Council?", ("councillor",)),
    ("Has anyone from Cambridge City Council been a peer on another council's review?", ()),
])
def test_the_post_a_peer_is_named_by(question, posts):
    assert q(question).peer_posts == posts


def test_a_peers_own_council_the_corpus_only_mentions_is_not_refused_as_unheld():
    query = q("Which peer team included the leader of Peterborough City Council?")
    assert query.peer_homes == ("Peterborough City Council",) and query.mentioned_only == ()


def test_topic_leaves_out_the_council_it_is_about():
    assert q("What did the peers recommend on the city council's finances?").topic \
        == "What did the peers recommend on finances?"
    assert q("What did the peers say about the city council's finances?").topic == "finances?"


DATED = SEED.with_documents([
    type("Meta", (), {"council": CITY, "years": (2017, 2018)})(),
    type("Meta", (), {"council": COUNTY, "years": (2013, 2014, 2021, 2022)})(),
])


@pytest.mark.parametrize("question, undated", [
    ("What did the city council's 2020 corporate peer challenge recommend?", (2020,)),
    ("What did the county council's progress review in 2024 find?", (2024,)),
    ("What did the 2013 peer review of the county find?", ()),  # the county's own year
    ("What did the city council's 2016 peer challenge find?", ()),  # a year off: visited late in 2016
    ("What did the city council plan for 2025?", ()),  # a plan's year, not a document's
    ("What did the city council's 2022 peer challenge find?", (2022,)),  # the county's year only
])
def test_a_year_dating_a_document_the_council_lacks(question: str, undated: tuple[int, ...]):
    assert analyse(question, DATED).undated_years == undated
    assert analyse(question, SEED).undated_years == ()  # documents' years unknown: no check


def test_years_and_unknown_years():
    query = q("What changed between 2017 and 2019 at the county?")
    assert query.years == (2017, 2019) and query.unknown_years == (2019,)
    assert q("The 2013 peer review").unknown_years == ()  # mentioned in a document's text


@pytest.mark.parametrize("question, kinds", [
    ("When did the peers come back to the county?", ("progress review",)),
    ("When did the peer team go back to the city after 2017?", ("progress review",)),
    ("Did the council get back on track after the peer challenge?", ()),  # not a return visit
    ("When will the peers come back?", ()),  # a plan in the report, not a review held
])
def test_a_return_visit_in_the_past_asks_about_the_progress_review(question, kinds):
    assert q(question).doc_types == kinds


def test_a_document_kind_the_council_lacks():
    assert q("What did peers find when they came back to the city council?").missing_doc_types \
        == ("progress review",)
    assert q("What did peers find when they came back to the county council?").missing_doc_types == ()


def test_expected_answer_kind_is_read_once():
    assert q("When did the peers visit the county?").expected.kind == "date"
    assert q("What did the peers say about culture?").expected is None


@pytest.mark.parametrize("question, measured", [
    ("How much does Cambridge City Council hold in reserves?", ("hold", "reserv")),
    ("By how much did the county raise council tax in 2022/23?", ("rais", "tax")),
    ("How big is Cambridge's budget gap each year?", ("budget", "gap")),
    ("How many staff does the county employ?", ()),  # counted, not measured
])
def test_what_a_figure_question_measures_leaves_out_its_councils_frame_and_time(question, measured):
    assert q(question).expected.measured == measured


def test_the_quantity_a_question_asks_for_leaves_out_the_council():
    assert q("What Cambridge budget gap does the city council face?").expected.quantity == ("budget", "gap")
    assert q("What share of Cambridge's staff are part-time?").expected.share_of == ("staff",)


def test_bm25_also_matches_the_nouns_counting_what_is_asked_about():
    """"how many employees" is answered by "1,450 staff": BM25 looks for the family's words
    (``count_families`` in domain.yaml); other questions are searched as asked, without their
    reporting frame ("What did the peers say about …")."""
    words = set(q("How many employees does the county council have?").lexical_text.split())
    assert {"employees", "staff", "workforce"} <= words
    assert {"councillor", "member"} <= set(q("How many councillors sit on it?").lexical_text.split())
    plain = "What did the peers say about staff?"
    assert q(plain).lexical_text == "staff?"
    assert q("What did the peers say about the county's staff?").lexical_text == "the county's staff?"
    assert ("staff", "employe") in q("How many employees does the county council have?").aliases
    assert q(plain).aliases == ()


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_questions_are_usage_errors(question):
    with pytest.raises(UsageError, match="empty"):
        q(question)


def test_question_length_limit():
    assert validate_question("x" * 1000, 1000) == "x" * 1000
    with pytest.raises(UsageError, match="1001"):
        validate_question("x" * 1001, 1000)


# ---------------------------------------------------------------- routes

@pytest.mark.parametrize("question, route", [
    ("What did the peers say about shared services at each council?", "comparison"),
    ("Compare the finances of the two councils", "comparison"),
    ("How do both councils approach partnerships?", "comparison"),
    ("What do the city and county say about the Combined Authority?", "comparison"),
    ("Shared services: Cambridge City Council versus Cambridgeshire County Council", "comparison"),
    ("What did Cambridge City Council and Cambridgeshire County Council say about governance?", "comparison"),
    ("Compare the county council's 2014 and 2022 reviews", "comparison"),
    ("What did the peers say about the city council's finances?", "answer"),
    ("How fast does Cambridge City Council make decisions?", "answer"),
    ("Was there an us-versus-them feeling among staff in shared services?", "answer"),
    ("What did peers say about established communities compared with new developments?", "answer"),
    ("What risk did the city council face if the county council and police cut their services?", "answer"),
    ("Which reports mention the Combined Authority?", "listing"),
    ("What were the key recommendations for Cambridge City Council?", "register"),
    ("Has the county council acted on the peers' recommendations?", "register"),
    ("Which officer presented the peer review report to cabinet?", "answer"),
])
def test_route(question, route):
    assert q(question).route == route


@pytest.mark.parametrize("question, advice", [
    ("Which councils were advised to review their scrutiny arrangements?", True),
    ("Which councils were told they need a workforce plan?", True),
    ("Which councils rely heavily on agency staff?", False),
    ("Which councils had a progress review?", False),
])
def test_which_councils_were_advised_asks_for_recommendations(question, advice):
    query = q(question)
    assert query.route == "listing" and query.advice is advice


def test_comparison_targets():
    assert q("What did the peers say about shared services at each council?").compared == (CITY, COUNTY)
    assert q("Compare the county council's peer reviews on capacity").compared == (COUNTY,)


@pytest.mark.parametrize("question, term", [
    ("Which reports mention the Combined Authority?", "Combined Authority"),
    ("which documents discuss shared services", "shared services"),
    ("Where is 'This Land' mentioned?", "This Land"),
    ("In which reports is devolution mentioned?", "devolution"),
    ("List documents about the MTFS", "MTFS"),
    ("Find all mentions of the Greater Cambridge Partnership", "Greater Cambridge Partnership"),
])
def test_listing_term(question, term):
    assert listing_term(question) == term and q(question).route == "listing"


@pytest.mark.parametrize("question", [
    "What did peers say about the Combined Authority?",
    "How is the council doing on shared services?",
])
def test_not_a_listing(question):
    assert listing_term(question) is None and q(question).route != "listing"


def test_listing_for_one_council_becomes_a_council_filter():
    query = q("Which reports mention the Combined Authority for the county council?")
    assert query.listing_term == "Combined Authority" and query.councils == (COUNTY,)
    assert q("Which reports mention Cambridge City Council?").councils == ()


# ---------------------------------------------------------------- follow-ups

PREVIOUS = "What did the peers say about the city council's finances?"
COUNTY_Q = "What did the peers say about the county council's finances?"


@pytest.mark.parametrize("question, expected", [
    ("and what about the county council?", COUNTY_Q),
    ("what about the county?", COUNTY_Q),
    ("And Cambridgeshire?", "What did the peers say about Cambridgeshire County Council's finances?"),
    ("is that the same for the county council?", COUNTY_Q),
    ("what about shared services?", "What did the peers say about shared services at the city council?"),
    ("what did they recommend about it?", "What did they recommend about the city council's finances?"),
    ("what did they recommend?", "What did they recommend about the city council's finances?"),
    ("why is that?", "What did the peers say about the city council's finances — why is that?"),
])
def test_followups_become_standalone(question, expected):
    assert rewrite_followup(question, ["Earlier question?", PREVIOUS], SEED.registry) == expected
    query = q(question, ("Earlier question?", PREVIOUS))
    assert query.text == expected and query.inherited_from == PREVIOUS and query.asked == question


@pytest.mark.parametrize("question", [
    "What did the peers say about housing?",
    "How is Cambridgeshire County Council governed?",
    "What were the key recommendations?",
    "Which councils did they advise to review scrutiny?",
])
def test_standalone_questions_are_left_alone(question):
    assert rewrite_followup(question, [PREVIOUS], SEED.registry) == question
    assert q(question, (PREVIOUS,)).inherited_from == ""


def test_followup_without_history_or_council_in_previous():
    assert rewrite_followup("and the county council?", [], SEED.registry) == "and the county council?"
    assert rewrite_followup("and for the county council?", ["What were the key recommendations?"],
                            SEED.registry) == "What were the key recommendations for the county council?"
    assert rewrite_followup("And Cambridgeshire County Council?",
                            ["How quickly does Cambridge City Council make decisions?"], SEED.registry) \
        == "How quickly does Cambridgeshire County Council make decisions?"


def test_a_followup_keeps_the_council_scope():
    query = q("what about shared services?", (PREVIOUS,))
    assert query.councils == (CITY,)


@pytest.mark.parametrize("question", [
    "How many key recommendations did they make?",
    "What did they say about how the council engages residents through consultation?",
    "And what did the peers say about housing there?",
])
def test_a_followup_with_its_own_topic_keeps_the_council_scope(question):
    """A question leaning on "they" or "and" after a question about one council is about that
    council too, though it has a topic of its own (issue 11: "a follow-up keeps that scope");
    unscoped, "how many key recommendations did they make?" was answered from another council."""
    query = q(question, (PREVIOUS,))
    assert query.councils == (CITY,) and query.inherited_from == PREVIOUS
    assert query.text.endswith("for the city council?")


def test_routing_table():
    """tests/fixtures/routes.yaml (written before this router): every question takes its route.
    Each row is analysed against the corpus it was written for: the seed corpus, or with
    ``corpus: councils`` the many-council fixture corpus (its councils, document types and years
    from tests/fixtures/councils/expected_meta.yaml)."""
    from pathlib import Path

    import yaml

    fixtures = Path(__file__).parent / "fixtures"
    rows = yaml.safe_load((fixtures / "routes.yaml").read_text(encoding="utf-8"))
    # the seed corpus's councils, documents and years, as the table assumes
    seed = CorpusFacts.build(
        {CITY: ("peer challenge report", "action plan"), COUNTY: ("cabinet report", "progress review", "news")},
        texts=["Peterborough City Council, South Cambridgeshire District Council, Huntingdonshire "
               "District Council and the Cambridgeshire and Peterborough Combined Authority."],
        doc_years=[2013, 2014, 2017, 2018, 2021, 2022])
    metas = yaml.safe_load((fixtures / "councils" / "expected_meta.yaml").read_text(encoding="utf-8"))
    metas = metas["documents"] if isinstance(metas, dict) else metas
    held: dict[str, set[str]] = {}
    for m in metas:
        held.setdefault(m["council"], set()).add(m["type"])
    many = CorpusFacts.build(held, texts=[". ".join(held) + "."],
                             doc_years=[int(str(m["date"])[:4]) for m in metas])
    misses = []
    for r in rows:
        query = analyse(r["question"], many if r.get("corpus") == "councils" else seed,
                        (r["after"],) if r.get("after") else ())
        if query.route != r["route"]:
            misses.append((r["question"], r["route"], query.route))
    assert len(rows) >= 110 and not misses, misses


def test_the_topic_drops_the_reporting_frame_but_not_what_it_asks_for():
    """"What did peers say about X?" is about X; "recommend" asks something of its own."""
    assert q("What did peers say about decision-making pace?").topic == "decision-making pace?"
    assert q("What did the peer team find about staff morale at the county council?").topic.startswith(
        "staff morale")
    assert q("What did the peers recommend about scrutiny?").topic == "What did the peers recommend about scrutiny?"
    assert q("What did the peers say about?").topic == "What did the peers say about?"  # nothing left
    assert q("How did the peers prepare for the visit?").topic == "How did the peers prepare for the visit?"


def test_the_unknown_council_of_an_undated_page_is_no_council_a_question_names():
    """A document whose text names no council is filed under "Unknown council"; "what unknown
    risks …?" does not name it, and it is not listed among the councils the corpus covers."""
    from assistant.query import analyse, facts_of, merge_text_facts
    from assistant.types import UNKNOWN_COUNCIL, DocumentMeta

    metas = [DocumentMeta("page", "Peer challenge", UNKNOWN_COUNCIL, "web page", "2024-03"),
             DocumentMeta("report", "Feedback report", "Northby District Council", "peer challenge report",
                          "2024-02")]
    facts = facts_of(metas, merge_text_facts([]))
    assert facts.registry.held == ("Northby District Council",)
    for question in ("What unknown risks did the peers see?", "Unknown risks: what did the peers say?"):
        assert analyse(question, facts).councils == ()


def test_a_place_the_corpus_does_not_hold_asked_about_as_the_subject_is_an_unknown_council():
    """"When did Oakbury Wells last have a peer challenge?" asks about a council by its place,
    as "the Oakbury peer challenge" does; "Wells" alone is a word the documents use."""
    from assistant.domain import load_domain
    from assistant.query import analyse, facts_of, merge_text_facts, text_facts
    from assistant.types import DocumentMeta

    metas = [DocumentMeta("report", "Feedback report", "Northby District Council", "peer challenge report",
                          "2024-02")]
    text = "When did the peers come? The wells of Northby District Council were praised by the peers."
    facts = facts_of(metas, merge_text_facts([text_facts(text, load_domain())]))
    for question in ("When did Oakbury Wells last have a peer challenge?",
                     "Has Oakbury Wells published its action plan?"):
        assert analyse(question, facts).unknown_councils == ("Oakbury Wells",), question
    # …and a place the documents use is no unknown council
    assert analyse("When did Northby last have a peer challenge?", facts).unknown_councils == ()


def test_council_vocabulary_reads_what_ingest_stored_or_the_texts(fake_index, monkeypatch):
    """Each council's words come from the per-document text facts ingest stored; an index
    without them (an older ingest) gives the same words read from its texts."""
    from assistant.query import TEXT_FACTS, council_vocabulary, words_of
    from assistant.store import IndexStore, load_index

    settings, store = fake_index
    stored = council_vocabulary(store)
    texts: dict[str, set[str]] = {}
    for doc_id, document in store.documents.items():
        texts.setdefault(store.metas[doc_id].council, set()).update(words_of(document.text))
    assert stored == {council: frozenset(words) for council, words in texts.items()}
    assert "libraries" not in stored["Cambridge City Council"] and "peers" in stored["Cambridge City Council"]
    persisted = IndexStore.persisted
    monkeypatch.setattr(IndexStore, "persisted",
                        lambda self, name: None if name == TEXT_FACTS else persisted(self, name))
    assert council_vocabulary(load_index(settings)) == stored
