"""Metadata of uncatalogued documents: subject council, date, type (ingest/metadata.py).

Measured on the many-council fixture corpus (tests/fixtures/councils), whose expected metadata
was written with the documents, before this inference existed.
"""

from __future__ import annotations

import re
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path

import pytest
import yaml

from assistant.councils import council_names_in
from ingest.catalog import infer_meta
from ingest.cleaning import clean
from ingest.loaders import load
from assistant.types import UNKNOWN_COUNCIL
from ingest.metadata import infer_council, infer_date, infer_doc_type, infer_title

COUNCILS = Path(__file__).parent / "fixtures" / "councils"
EXPECTED = yaml.safe_load((COUNCILS / "expected_meta.yaml").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def inferred() -> list[tuple[dict, object]]:
    out = []
    for entry in EXPECTED:
        path = COUNCILS / "corpus" / entry["file"]
        raw = load(path)
        out.append((entry, infer_meta(path, clean(raw.pages, raw.page_labels, raw.paged).text,
                                      raw.facts)))
    return out


def test_metadata_of_the_many_council_corpus(inferred):
    """Today: council 19/19, type 19/19, year 19/19, date 19/19 (first inference: 7, 6, 9
    and 0; 18, 18, 19, 19 before a web page's title, site name and furniture counted as evidence:
    the page that says only "we" was given a peer's council and typed a cabinet report)."""
    council = sum(m.council == e["council"] for e, m in inferred)
    doc_type = sum(m.doc_type == e["type"] for e, m in inferred)
    year = sum(m.date[:4] == str(e["year"]) for e, m in inferred)
    exact = sum(m.date == str(e["date"]) for e, m in inferred)
    assert (council, doc_type, year, exact) == (19, 19, 19, 19), (council, doc_type, year, exact)


@pytest.mark.parametrize("text, expected", [
    ("CORPORATE PEER CHALLENGE\nNorthby Council\n8th - 10th November 2022\nFeedback Report", "2022-11-08"),
    ("Visit dates: 20th, 21st and 22nd May 2024\nThe 2040 vision ...", "2024-05-20"),
    ("CABINET 18 JANUARY 2023\nREPORT OF THE CHIEF EXECUTIVE", "2023-01-18"),
    ("Our vision to 2040 sets out ... By 2030 we will ... in 2019 and 2019 and 2021.", "2019"),
    ("A plan for 2029/30 and 2031. The review in March 2024 found ...", "2024-03"),
    ("In March 2024 we invited peers. ... Last updated: 20 June 2024", "2024-06-20"),
    ("The visit on 3 May 2030 is planned. The council in 2025 ...", "2025"),  # never in the future
    # the first date of the opening, a month as well as a day: the page's title names the visit
    ("Corporate Peer Challenge (June 2022)\n\nThe report went to Cabinet on 11 October 2022.", "2022-06"),
    # a deadline is not the document's date
    ("Peers visited us in July 2024. We will publish our plan by 17 December 2024.", "2024-07"),
    ("Next visit currently set for 8 January 2024.\nDecided on 27 October 2023.", "2023-10-27"),
    # a committee record's day/month/year
    ("Decisions\n\n27/10/2023 - Corporate Peer Challenge: report and response", "2023-10-27"),
    ("Meeting: 9/3/2025 - Overview and Scrutiny Committee", "2025-03-09"),
    # past the cover, a day beats a month named earlier (a plan's "(July 2024)")
    ("Peer challenge\n\nWe got feedback from the team at the end of the week, and in six months' time "
     "(July 2024) we will meet them again to look at our progress.\n\nThe visit ran from 16 to 19 "
     "October 2023.", "2023-10-16"),
    ("Peer challenge\n\nThe visit was in early December 2023.\n\nLast Updated on Wednesday, March 27, 2024",
     "2024-03-27"),
])
def test_infer_date(text, expected):
    assert infer_date(text, today=TODAY) == expected


def test_a_peers_council_is_not_the_subject(tmp_path):
    text = ("Feedback report\n\nThe peer team:\n• Lead Officer Peer: Sam Green, Director, Otherton "
            "Borough Council\n• Member Peer: Cllr Ann Lee, Leader, Otherton Borough Council\n"
            "Northby District Council asked the peers to look at its finances. Northby District Council "
            "has a budget gap.")
    assert infer_council(tmp_path / "report.txt", text) == "Northby District Council"
    body = " ".join(["Peers found that the council listens to its residents and acts on what it hears."] * 80)
    assert infer_doc_type(text + "\n\n" + body) == "peer challenge report"  # "Lead Officer Peer" is a title


_NAMES_NO_COUNCIL = ("Corporate Peer Challenge\n\nThe Council invited a peer team in March 2024. The peers "
                     "looked at housing, the final budget and the draft plan, and met the cabinet.")


@pytest.mark.parametrize("name, council", [
    ("greyminster-lga-corporate-peer-challenge.txt", "Greyminster Council"),
    ("LGA_CPC_North_Greyminster_2024.txt", "North Greyminster Council"),
    ("greyminster-district-council-peer-challenge.txt", "Greyminster District Council"),
    ("final-report-2023.txt", UNKNOWN_COUNCIL),
    ("cpc-feedback-v2-draft.txt", UNKNOWN_COUNCIL),
    ("peer-challenge-housing.txt", UNKNOWN_COUNCIL),
    # a place joined by "and" is one place ("Bath and North East Somerset")
    ("fenby-and-north-marsh-cabinet-decision.txt", "Fenby and North Marsh Council"),
    ("greyminster-and-cpc.txt", "Greyminster Council"),  # "and" then no place: not joined
    ("st-ellwyns-council-page.txt", "St Ellwyns Council"),  # "St" opens a place
])
def test_a_text_naming_no_council_is_the_one_its_file_name_names(tmp_path, name, council):
    """A saved page that only says "the Council" is the council its file name names; a word
    of the file name the text uses as an ordinary word ("housing", "final") or that names a
    document ("feedback", "cpc") is no place."""
    assert infer_council(tmp_path / name, _NAMES_NO_COUNCIL) == council


def test_a_short_text_names_its_own_type_on_its_cover():
    """A page that says "we will publish our action plan" or "the progress review is due" is
    about those documents, not one of them; a short text whose cover names it is one."""
    page = ("Corporate Peer Challenge - Northby District Council\n\nPeers visited us in May 2024 and "
            "spoke to staff and partners. We are preparing an action plan and will publish the action "
            "plan in the autumn. A progress review will follow within a year. Cabinet will see it.\n")
    assert infer_doc_type(page) == "web page"
    plan = ("Northby District Council: Corporate Peer Challenge Action Plan\n\n"
            "| No. | Recommendation | Action | Lead officer |\n| 1 | Agree a budget | Draft it | Director |\n")
    assert infer_doc_type(plan) == "action plan"
    record = ("Decision details\n\nCorporate Peer Challenge: report and response\n\nTo approve the action "
              "plan that answers the peers' recommendations.\n\nReason for decision: to act on the report.\n")
    assert infer_doc_type(record) == "cabinet report"


@pytest.mark.parametrize("furniture", [
    'Jo Bloggs, leader of the council, said: "We welcome the report."',  # a quote put to a person
    "Article date: 14 May 2024",
    "Published: 24 January 2019",  # a label is furniture wherever it stands, not a mention
])
def test_a_reporters_article_about_a_review_is_news(furniture):
    """A local paper's or a council's article quoting its leader, or dated as an article, is
    news, though it names the peer team and the report like a page about them."""
    article = ("Peers praise Greyminster\n\nGreyminster District Council is in a good position, a peer "
               "team has found. The peer challenge report names six areas to improve.\n\n" + furniture + "\n")
    assert infer_doc_type(article) == "news"


def test_a_meetings_minutes_page_is_a_council_decision_document():
    """A democracy site's page of a meeting's item ("Issue - meetings", "Meeting: … Committee",
    "Minutes:") is the council's decision record, though it names the peer challenge report."""
    minutes = ("Northby District Council - Feedback from the finance peer challenge\nIssue - meetings\n\n"
               "Meeting: 25/09/2024 - Audit and Governance Committee (Item 16)\n\nMinutes:\n\nThe "
               "committee considered the peer challenge report and its recommendations.\n")
    assert infer_doc_type(minutes) == "cabinet report"


def test_a_text_too_short_for_a_report_is_a_page_about_one():
    """A council's "Corporate peer challenge" page saved as text reads like a report (it names
    the feedback report and the peer team) but is a few hundred words: a web page."""
    page = ("Corporate Peer Challenge\n\nThe council invited a peer team in March 2024. The peer team "
            "met staff and partners. Read the feedback report and our action plan below.\n\n"
            "Feedback report (PDF)\n")
    assert infer_doc_type(page) == "web page"
    news = page + "\n\nCouncillor Jo Bloggs said: the report is welcome. Said Councillor Bloggs: thanks."
    assert infer_doc_type(news + " Posted on 3 May 2024. Press release.") == "news"
    letter = "Progress review\n\nDear Chief Executive, this letter sets out the progress review findings."
    assert infer_doc_type(letter) == "progress review"  # a short type of its own stays


@pytest.mark.parametrize("line", [
    "• Cllr Ann Lee - Otherton Borough Council (Labour member peer)",
    "• Sam Green, Otherton Borough Council – chief executive peer",
])
def test_a_peers_council_named_before_the_role_is_not_the_subject(tmp_path, line):
    """A page that lists its peers but never names its own council is of no council we can
    tell, not of a peer's council; a sentence that names the council and then the peers
    still counts."""
    page = f"Corporate Peer Challenge\n\nThe visit took place in March 2024.\n\nThe peers were:\n{line}\n"
    assert infer_council(tmp_path / "page.txt", page) == "Unknown council"
    prose = "Northby District Council thanked the peers for their challenge and support.\n"
    assert infer_council(tmp_path / "page.txt", page + prose) == "Northby District Council"


def test_a_web_page_is_its_sites_council(tmp_path):
    """A page that says only "we" and names a peer's council in its text belongs to the council
    whose site it is: its title, site name and footer say so."""
    text = ("Corporate peer challenge\n\nIn March 2024 we invited a team of councillors and "
            "officers from other councils to look at how we work and where we could do better. "
            "The team included Jo Bloggs, Chief Executive of Otherton Borough Council.\n\n"
            + "They met residents, staff and partners over four days. " * 10
            + "\n\nCabinet agreed our plan. Cabinet will see progress.")
    assert infer_council(tmp_path / "page.html", text) == "Otherton Borough Council"
    about = "Corporate peer challenge | Northby District Council"
    assert infer_council(tmp_path / "page.html", text, about=about) == "Northby District Council"
    footer = "Related pages\nContact us\n© 2024 Northby District Council"
    says_we = text.split("The team")[0]  # no council named in the text at all
    assert infer_council(tmp_path / "page.html", says_we) == "Unknown council"
    assert infer_council(tmp_path / "page.html", says_we, furniture=footer) == "Northby District Council"
    # "Cabinet agreed our plan" in a short page is a mention, not a committee report's furniture
    # (it typed this page a cabinet report until mentions stopped counting)
    assert infer_doc_type(text, ".html") == "web page"
    assert infer_doc_type(text, ".html", furniture=footer) == "web page"


def test_one_word_in_a_web_pages_opening_does_not_type_it():
    """"members of our Cabinet" near the top of a saved page: a page, not a cabinet report
    (the opening's weight is for phrases naming the document, "Report to: Cabinet")."""
    page = ("In 2019 we invited a team of peers to look at what we do. On 17 March 2021 they "
            "followed up with members of our Cabinet and the leadership team. " + "They met staff. " * 60)
    assert infer_doc_type(page, ".html", furniture="Contact us") == "web page"
    report = "Report to: Cabinet\nDate of meeting: 8 February 2023\n" + page
    assert infer_doc_type(report, ".html") == "cabinet report"


def test_a_web_pages_headline_and_declared_date():
    text = "News | Northby\n\nPeers praise the council\n\nThe plan runs to 2040."
    assert infer_title(Path("x.html"), text, headline="Peers praise the council") == \
        "Peers praise the council"
    # without the headline a news item's title is its first headline-like line, not the site
    # furniture above it
    assert infer_title(Path("x.html"), text, doc_type="news") == "Peers praise the council"
    assert infer_date(text, today=TODAY, published="2024-08-02T09:30:00+01:00") == "2024-08-02"
    assert infer_date(text, today=TODAY, published="2 August 2024") == "2024-08-02"
    assert infer_date(text, today=TODAY, published="2030-01-01") == ""  # never in the future
    assert infer_date(text, today=TODAY, published="soon") == ""


def test_forms_of_one_council_count_together(tmp_path):
    text = "Wigan MBC news\nWigan Council said ... Wigan Metropolitan Borough Council agreed ..."
    assert infer_council(tmp_path / "wigan-news.txt", text) == "Wigan Metropolitan Borough Council"


def test_ingest_shows_what_it_inferred(tmp_path):
    from assistant.settings import Settings
    from ingest.build import ingest
    from tests.fakes import FakeEmbedder, word_count

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "northby-news.txt").write_text(
        "News | Northby District Council\nPublished: 3 April 2024\n\nPeers praise Northby District "
        "Council. The peer team said the council had a clear plan to 2040.", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="fake")
    summary = ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None).summary()
    row = next(line for line in summary.splitlines() if "northby-news.txt" in line)
    assert "inferred metadata" in summary and "catalog.yaml" in summary
    assert "Northby District Council*" in row and "news*" in row and "2024-04-03*" in row


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a.lower(), b.lower()).ratio()


def test_titles_of_the_many_council_corpus(inferred):
    """Inferred titles against the titles a person would cite (expected_meta.yaml), difflib ratio.
    Today: 18 of 19 at >= 0.6, mean 0.89, 4 exact. The first-line rule gave 10 of 19, mean 0.61:
    letter heads, addresses and "2. Key recommendations" came out as titles."""
    sims = [_similarity(m.title, e["title"]) for e, m in inferred]
    assert sum(s >= 0.6 for s in sims) >= 17, [(e["file"], m.title) for e, m in inferred]
    assert sum(sims) / len(sims) >= 0.85, sims
    for entry, meta in inferred:  # never a letter head, address, person, date or section heading
        assert not re.search(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|^Dr |^Dear |^\d+\.\s|^\d{1,2} [A-Z]",
                             meta.title), (entry["file"], meta.title)


def test_a_letters_title_is_its_subject_line():
    text = ("Local Government Association 1 Some Square London SW1P 3HZ\n\n9 December 2024\n\n"
            "Jo Bloggs Chief Executive Northby District Council Council Offices, High Street\n\n"
            "Dear Jo,\n\nCorporate Peer Challenge progress review, 26 November 2024\n\n"
            "On behalf of the peer team, I would like to thank you and everyone at the council for "
            "welcoming us back for the progress review. We met many people over the day.")
    assert infer_title(Path("letter.txt"), text, council="Northby District Council") == \
        "Corporate Peer Challenge progress review, Northby District Council"


def test_a_cover_leaves_out_dates_and_sections():
    text = ("NORTHBY DISTRICT COUNCIL CORPORATE PEER CHALLENGE Onsite visit: 14 - 17 March 2023 "
            "Feedback report 1. Executive summary Northby District Council is a council that ...")
    assert infer_title(Path("r.pdf"), text) == \
        "Northby District Council Corporate Peer Challenge, Feedback report"


def test_no_cover_title_builds_one_from_what_was_inferred():
    text = "1. Executive Summary\n\nThe council is a good council that performs well in most areas."
    assert infer_title(Path("cpc-2017.txt"), text, council="Northby District Council",
                       doc_type="peer challenge report", year="2017") == \
        "Northby District Council: peer challenge report (2017)"
    assert infer_title(Path("cpc-2017.txt"), text) == "cpc 2017"  # nothing known at all


def test_a_page_title_with_its_site_name_is_the_title(tmp_path):
    text = ("Peer challenge | Northby District Council\n\nWe had a corporate peer challenge in May 2024, "
            "and the peers spoke to more than 100 people over four days.\n")
    title = infer_title(tmp_path / "page.txt", text, council="Northby District Council", doc_type="web page")
    assert title == "Peer challenge, Northby District Council"


@pytest.mark.parametrize("text", [
    "Feedback\n\nThe peer team visited Northby District Council in May. It was a good week.",
    "Feedback\n\nThe peers met staff of Northby District Council in May.",
    "Feedback\n\nThe peers' feedback to Northby District Council was positive.",
])
def test_the_peer_team_visiting_a_council_names_the_subject(tmp_path, text):
    """'Peer' labels a person's line ("Member Peer: …, Otherton Borough Council"); the peer team
    or the peers visiting a council name the council the document is about."""
    assert infer_council(tmp_path / "page.txt", text) == "Northby District Council"


@pytest.mark.parametrize("text, council", [
    ("The London Borough of Barking and Dagenham welcomed the peers.", "London Borough of Barking and Dagenham"),
    ("The Royal Borough of Windsor and Maidenhead welcomed the peers.", "Royal Borough of Windsor and Maidenhead"),
    ("The Borough Council of King's Lynn & West Norfolk welcomed the peers.",
     "King's Lynn and West Norfolk Borough Council"),
    ("The Borough Council of King's Lynn and West Norfolk welcomed the peers.",
     "King's Lynn and West Norfolk Borough Council"),
])
def test_a_council_whose_place_joins_two_names_keeps_both(tmp_path, text, council):
    """"London Borough of Barking and Dagenham" is one council, not the London Borough of
    Barking and a place Dagenham; "&" and "and" give one council."""
    assert infer_council(tmp_path / "news.txt", "News\n\n" + text) == council


@pytest.mark.parametrize("text, council", [
    # two district councils sharing an officer team, reviewed as one
    ("Chiltern and South Bucks District Councils, like other councils, have faced financial challenges.",
     "Chiltern and South Bucks District Council"),
    # two councils of two kinds, each named once
    ("A report of Bromsgrove District and Redditch Borough Councils on the peer challenge.",
     "Bromsgrove District Council"),
])
def test_two_councils_named_as_one_are_read_as_their_names_say(tmp_path, text, council):
    """A plural name of one kind is two councils sharing a name, filed as one ("Chiltern and
    South Bucks District Council", not a "Chiltern South Bucks Council" read from the file
    name); of two kinds it is two councils; "the Surrey District Councils" names none."""
    assert infer_council(tmp_path / "chiltern-bromsgrove-cabinet.txt", "News\n\n" + text) == council
    assert council_names_in(["The Surrey District Councils met."]) == []


def test_a_council_named_in_an_address_does_not_take_its_building_into_its_place(tmp_path):
    """A contact block's lines joined: "Royal Borough of Windsor and Maidenhead Town Hall, St Ives
    Road" names the royal borough, not a place "Windsor and Maidenhead Town Hall"."""
    text = ("Peer Review of the Royal Borough\n\nThe peer challenge took place in January 2022.\n\n"
            "Contact us: Royal Borough of Windsor and Maidenhead Town Hall, St Ives Road Maidenhead\n")
    assert infer_council(tmp_path / "page.txt", text) == "Royal Borough of Windsor and Maidenhead"
    assert council_names_in(["Wigan Council Civic Centre, Millgate"]) == ["Wigan Council"]


@pytest.mark.parametrize("text, council", [
    ("The peers came to Fenby and North Marsh in May 2023 and met the council.", "Fenby and North Marsh Council"),
    ("The peers came to Fenby & North Marsh in May 2023 and met the council.", "Fenby and North Marsh Council"),
    ("The peers came to Fenby in May 2023 and met the council.", "Fenby North Marsh Council"),
])
def test_a_file_names_place_is_written_as_the_text_writes_it(tmp_path, text, council):
    """A slug drops "and": "fenby-north-marsh-…" of a page saying "Fenby and North Marsh" is that
    place, not a "Fenby North Marsh" no question would name."""
    assert infer_council(tmp_path / "fenby-north-marsh-peer-challenge-page.txt", "Peer challenge\n\n" + text) == council


def test_a_short_progress_review_with_feedback_report_on_its_cover_is_a_progress_review():
    """A progress review's feedback report can run to fewer words than a feedback report's
    minimum; its cover names both, so it is a progress review, not a page about a report."""
    body = " ".join(["The council has made good progress on the recommendations of the peer team."] * 40)
    text = ("Corporate Peer Challenge Progress Review\n\nNorthby District Council\n\n23 January 2024\n\n"
            "Feedback report\n\n1. Introduction\n\n" + body + "\n\nKey recommendations were reviewed.\n")
    assert infer_doc_type(text) == "progress review"


@pytest.mark.parametrize("text", [
    # who led the team, with their own council as their post's
    "Corporate Peer Challenge\n\nWe had our peer challenge in May 2024. The team was led by Jo Bloggs, "
    "Chief Executive of Otherton Borough Council and Westmoor District Council.\n",
    # a list of the team, each with their own council in brackets
    "Corporate Peer Challenge\n\nWe had our peer challenge in May 2024.\n\nThe full team was:\n\n"
    "  \u2022 Councillor Ann Lee (Otherton Borough Council - Labour)\n  \u2022 Sam Green (Westmoor District "
    "Council)\n",
    # "Full Council" is the meeting of all the council's members, not a council
    "Peer challenge action plan\n\nThe peer challenge followed a motion at the Full Council meeting of "
    "4 March 2023; the plan goes back to Full Council in July.\n",
    # an Extraordinary Council meeting is no council either
    "Peer challenge progress review\n\nRelated meeting\nExtraordinary Council, 22 January 2026\n",
    # a record's heading run into its resolution when wrapped lines are joined ("Content" /
    # "That Council: (i) accepts …")
    "Peer challenge progress review\n\nFull council record\n\nContent That Council: (i) Accepts the "
    "findings of the progress review.\n",
])
def test_councils_of_the_team_and_full_council_leave_the_file_names_council(tmp_path, text):
    """A council's own page that names only the councils its peers come from, or its Full
    Council meeting, is the council its file name names, not a peer's."""
    assert infer_council(tmp_path / "greyminster-peer-challenge-page.txt", text) == "Greyminster Council"
    # a council named in the page's own prose still counts
    own = text + "Greyminster District Council thanked the peers.\n"
    assert infer_council(tmp_path / "greyminster-peer-challenge-page.txt", own) == "Greyminster District Council"
    # a person named with their council outside any team line or list is not discounted
    news = "Peers praise council\n\nCouncillor Jo Bloggs, Leader of Greyminster District Council, said the report was fair.\n"
    assert infer_council(tmp_path / "news.txt", news) == "Greyminster District Council"



def test_a_list_item_is_never_a_pages_title():
    """A page whose opening lines are short labels and a list of its peers is not titled by
    the first peer ("• Councillor Ann Lee (Otherton Borough Council - Labour)")."""
    page = ("Peer reviews\n\nOur visitors came in May 2024.\n\nThe full team was:\n\n"
            "  \u2022 Councillor Ann Lee (Otherton Borough Council - Labour)\n  \u2022 Sam Green (Westmoor District Council)\n")
    title = infer_title(Path("greyminster-page.txt"), page, council="Greyminster Council", doc_type="web page",
                        year="2024")
    assert title == "Greyminster Council: web page (2024)"


def test_a_council_before_a_later_sentence_about_the_peer_team_is_the_subject(tmp_path):
    """"Peer" after a council's name marks a peer's own council only on that sentence's line
    ("…, Northby Borough Council (member peer)"), not a later sentence about the team."""
    text = ("Progress review\n\nThe changes were a risk to the pace of improvement at Greyminster "
            "City Council. But despite these changes, it is clear to the peer team that progress "
            "is being made.\n")
    assert infer_council(tmp_path / "progress-review.txt", text) == "Greyminster City Council"



def test_the_council_of_whoever_led_the_review_is_a_peers(tmp_path):
    """Minutes that name the council only as "the Council" and the peers' councils in a line
    saying who led the review are of the council their file name names."""
    minutes = ("LGA Corporate Peer Challenge - response to recommendations\n\nThe Leader of the Council "
               "introduced the report. This review involved senior officers from councils across the "
               "country, led by Jo Bloggs, Chief Executive at Otherton Borough Council and a lead "
               "member peer, Cllr Ann Lee, Leader at Farby Metropolitan Council.\n")
    assert infer_council(tmp_path / "greyminster-cabinet-minutes.txt", minutes) == "Greyminster Council"


def test_a_city_and_district_council_is_one_council():
    assert council_names_in(["Peer challenges for St Ellwyns City and District Council"]) == [
        "St Ellwyns City and District Council"]


def test_a_file_name_word_the_text_writes_in_capitals_is_the_bodys_initials(tmp_path):
    news = "Positive feedback\n\nLast year GMCA put itself forward for a peer challenge. We welcome it.\n"
    assert infer_council(tmp_path / "gmca-news.txt", news) == "GMCA"


def test_an_email_address_does_not_use_the_file_names_place_as_a_word(tmp_path):
    """A decision record that says only "the council" and gives contacts at
    "jo.bloggs@greyminster.gov.uk" is Greyminster's, as its file name says."""
    record = ("LGA Corporate Peer Challenge - Feedback Report and Action Plan\n\nDecision Maker: Cabinet\n"
              "Decision: to note the feedback report.\n\nContact: Jo Bloggs Email: jo.bloggs@greyminster.gov.uk\n")
    assert infer_council(tmp_path / "greyminster-cabinet-decision.txt", record) == "Greyminster Council"


def test_a_place_joined_by_with_is_the_council_of_the_whole_place(tmp_path):
    text = "LGA Corporate Peer Challenge Progress Review - Ashby with Thorpe Council\n\n26 March 2024\n"
    assert infer_council(tmp_path / "progress-review.txt", text) == "Ashby with Thorpe Council"


def test_a_place_named_word_of_name_keeps_its_whole_name(tmp_path):
    """"Isle of Wight Council" is not "Wight Council" (``place_of_words`` in domain.yaml)."""
    text = "Praise for leadership at the Isle of Wight Council\n\nA report into the Isle of Wight Council said…\n"
    assert infer_council(tmp_path / "island-news.txt", text) == "Isle of Wight Council"


@pytest.mark.parametrize("name, text, body", [
    ("fenland-authority-peer-review-page.txt", "LGA Peer Review – The Fenland Authority\n\nThe review of "
     "the authority's governance took place in 2017.\n", "Fenland Authority"),
    ("northby-fire-brigade-peer-challenge.txt", "Northby Fire Brigade\n\nThe Brigade took part in the "
     "challenge during March 2015.\n", "Northby Fire Brigade"),
])
def test_a_body_not_called_a_council_keeps_the_name_its_text_and_file_give_it(tmp_path, name, text, body):
    """A file named after "The Fenland Authority", whose text names no council, is that
    authority's, not a "Fenland Council"."""
    assert infer_council(tmp_path / name, text) == body


def test_a_file_names_place_stops_at_a_word_the_text_uses_elsewhere(tmp_path):
    """"greyminster-scrutiny-summary" of a summary that says "Greyminster is ambitious" and
    "the Overview and Scrutiny Committee" is Greyminster's, not a "Greyminster Scrutiny
    Summary"; words the text never writes stay (a slug of a longer place's name)."""
    text = ("Summary\n\nThe Overview and Scrutiny Committee met to discuss the findings of a corporate peer "
            "challenge. The report found that Greyminster is ambitious and delivers strong outcomes.")
    assert infer_council(tmp_path / "greyminster-scrutiny-summary-undated.txt", text) == "Greyminster Council"


def test_a_text_dated_nowhere_takes_the_year_its_file_name_gives(tmp_path):
    """A press report saying only "on Tuesday, May 27" is of the year its file name gives; a
    dated text keeps its own date, and a name with two years gives none."""
    undated = "Greyminster Council lacks a shared vision, a new report has found, presented on Tuesday, May 27."
    assert infer_meta(tmp_path / "greyminster-press-2025.txt", undated).date == "2025"
    assert infer_meta(tmp_path / "greyminster-press-2040-2045.txt", undated).date == ""
    dated = "Greyminster Council: feedback report, 4 March 2023. The peers found a shared vision."
    assert infer_meta(tmp_path / "greyminster-press-2025.txt", dated).date == "2023-03-04"
