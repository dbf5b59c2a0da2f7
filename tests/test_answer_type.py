"""Expected answer types: what a question asks for, and whether a sentence gives it (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answer_type import expected_answer, gives


@pytest.mark.parametrize(("question", "kind"), [
    ("When did the LGA team visit Cambridge City Council?", "date"),
    ("By when should the city council have its next peer challenge?", "date"),
    ("Since when has the county had a management team of its own?", "date"),
    ("What date is on the county council's progress review letter?", "date"),
    ("In which month did the peer team visit the county?", "date"),
    ("What month was the progress review held in?", "date"),
    ("On which dates were the peers on site?", "date"),
    ("What were the dates of the Northby corporate peer challenge?", "date"),
    ("What was the date of the progress review?", "date"),
    ("What is the deadline for the action plan?", "date"),
    ("Which days did the peer team spend at the council?", "date"),
    ("In what year did the county last have a peer challenge?", "date"),
    ("how long were the peers on site at the city council?", "duration"),
    ("How much time did the peer team put into the review?", "duration"),
    ("How much did the city council pay the LGA for its peer challenge?", "money"),
    ("How much does the city council put into grants for community groups?", "money"),
    ("How many staff does Cambridgeshire County Council employ?", "number"),
    ("What percentage of residents were satisfied?", "number"),
    ("How big a budget gap did the peers find?", "money"),  # a size is a figure
    ("How high is the recycling rate?", "number"),
    ("How large are the council's general reserves?", "number"),
    ("Who is the county council's chief executive now?", "post_holder"),
    ("Who was leader of Cambridge City Council in 2017?", "post_holder"),
    ("county council leader in 2022?", "post_holder"),  # typed into a search box
    # rates and "by how much" ask for figures
    ("By how much did the council cut its budget gap?", "money"),
    ("By how much did staff numbers fall?", "number"),
    ("What is the household recycling rate in Northby?", "number"),
    ("What was the vacancy rate in children's social work?", "number"),
    # a word before the question word does not hide what is asked
    ("Exactly how many recommendations did the peers make?", "number"),
    ("And when did the peers visit?", "date"),
])
def test_question_kinds(question, kind):
    assert expected_answer(question).kind == kind


@pytest.mark.parametrize("question", [
    "What did the peers say about decision-making pace?",
    "Did the county act on the shared services recommendation?",
    "relationship between the leader and chief executive",
    "What did the leader say about the review?",
    "How far has the council got with its action plan?",  # progress, not a size
    "How high up the agenda is climate change?",
    "What was the up-to-date position on the budget?",  # no date asked
    "",
])
def test_open_questions_expect_nothing_in_particular(question):
    assert expected_answer(question) is None


def test_posts_and_what_is_counted_are_extracted():
    assert expected_answer("Who is the deputy leader of Cambridgeshire County Council?").post == "deputy leader"
    assert expected_answer("Who was the chief executive peer on the 2022 review?").post == "chief executive peer"
    assert expected_answer("How many staff does the county employ?").counted == ("staff",)
    assert expected_answer("How many people did the peers talk to in Cambridge?").counted == ("peopl",)


def one(text: str, question: str, councils=()) -> bool:
    return gives([text], 0, expected_answer(question), councils)


def test_dates_and_time_spans():
    when = "When is the follow-up visit?"
    assert one("Our expectation is that it will occur within the next 2 years.", when)
    assert one("Their initial findings were presented on 18th October 2013.", when)
    assert one("The council welcomed the team in December 2017.", when)
    assert not one("The timing of the visit is determined by the Council.", when)


@pytest.mark.parametrize(("question", "item"), [
    ("What was the fifth recommendation the peers made?", "recommendation 5"),
    ("What was the fifth of Northby's six LGA recommendations?", "recommendation 5"),
    ("what's the 3rd key recommendation for the city?", "recommendation 3"),
    ("What was recommendation 2?", "recommendation 2"),
])
def test_one_recommendation_by_its_number_or_its_place(question, item):
    assert expected_answer(question).item == item


def test_an_ordinal_of_something_else_is_no_recommendation():
    assert expected_answer("What did the second peer say about housing?") is None
    assert expected_answer("What were the first recommendations acted on?") is None


def test_a_month_dating_another_event_does_not_bound_the_date_asked():
    """"On which dates in April …?" asks for days of April; "when did X last have a peer
    challenge before the October 2023 one?" asks for any date: October dates the later one."""
    before = expected_answer("When did Rugby BC last have a corporate peer challenge before the October 2023 one?")
    assert before.kind == "date" and before.unit != "day" and not before.month
    assert gives(["The previous Corporate Peer Challenge took place in summer 2013."], 0, before)
    assert expected_answer("On which dates in April 2025 was the panel on site?").month == "april"


def test_which_dates_wants_a_date_of_the_calendar():
    """"When did the peers visit?" may be told "earlier this year"; "on which dates did they
    visit?" and "what were the dates of the visit?" are not, but a month or a year answers."""
    which = "On which dates did the peer team visit the council?"
    vague = "Earlier this year the council was the focus of a corporate peer challenge."
    assert one(vague, "When did the peer team visit the council?")
    assert not one(vague, which) and not one(vague, "What were the dates of the peer challenge?")
    assert not one("The peers will come back next month.", "What day was the progress review?")
    assert one("The peers visited in March 2024.", which) and one("The peers visited on 4 to 7 March.", which)
    assert one("The report was published in 2024.", "What were the dates of the peer challenge?")


def test_a_year_or_a_paragraph_number_is_not_a_count():
    how_many = "How many areas did the county ask the peers to look at?"
    assert one("• 2.3 In addition, the Council asked the Peer Team to focus on four specific areas.", how_many)
    assert not one("• 2.5 The team commented on areas of strength in 2013.", how_many)
    assert not one("The team visited in December 2017 and in 2022/23.", "What percentage were satisfied?")
    assert one("76% of residents were satisfied", "What percentage were satisfied?")


def test_a_count_must_count_what_was_asked_about():
    staff = "How many staff does the county employ?"
    assert not one("Spoke to more than 95 people including a range of council staff.", staff)
    assert one("The council employs around 5,000 staff.", staff)
    assert one("agree a 3-year MTFS", "How many years does the plan cover?")


def test_a_count_of_the_same_word_family_counts():
    """"employees" and "employed" share a stem family; "councils" do not count councillors."""
    employees = "How many employees does the council have?"
    assert one("About 3,900 employed staff and 600 agency workers.", employees)
    assert not one("The 2 councils share a chief executive.", "How many councillors sit on it?")


def test_a_count_of_another_noun_of_the_same_family_counts():
    """``count_families`` in domain.yaml: "elected members" count councillors, "staff" employees."""
    councillors = "How many councillors sat on the peer team?"
    assert one("The team was made up of two elected members and two officers.", councillors)
    assert one("The council has around 310 staff.", "How many employees does the council have?")
    assert not one("The team met 40 residents and two partners.", councillors)
    assert not one("The council has around 310 staff.", "How many residents does the council serve?")
    people = "How many people did the peer team speak to?"
    assert one("Over 120 individuals were consulted during the visit.", people)
    assert not one("The team held more than 25 meetings.", people)


def test_who_led_the_team_needs_a_name_given_with_its_leading():
    """"Who led the peer review team?" is answered by a name given as leading ("led by",
    "Lead Peer", "headed by"), not by any name on the page ("Report author: Jo Bloggs")."""
    led = "Who led the peer review team at the council?"
    assert expected_answer(led).kind == "name" and expected_answer(led).role == "led"
    assert one("The team was led by Priya Desai, Chief Executive of Otherton Borough Council.", led)
    assert one("Lead Peer: Councillor Ann Lee", led)
    assert not one("Report author: Jo Bloggs", led)
    # "who led <a council>" still asks for its leader
    assert expected_answer("Who led Otherton Borough Council in 2023?").kind == "post_holder"


def test_who_was_the_role_peer_needs_a_name_given_with_that_role():
    """"Who was the lead officer peer?" is answered by a name given as the lead officer peer,
    not by any councillor the page names; "the peers" alone asks for any of them."""
    officer = "Who was the lead officer peer on the team?"
    assert expected_answer(officer).kind == "name" and expected_answer(officer).role == "lead officer"
    assert one("Lead Officer Peer: Priya Desai, Director of Resources, Otherton Borough Council", officer)
    assert not one("Councillor Ann Lee (Otherton Borough Council - Labour) was on the team.", officer)
    assert expected_answer("Who were the peers on the team?").role == ""
    assert expected_answer("Who was the chief executive peer?").kind == "post_holder"


def test_money_needs_an_amount_not_just_a_number():
    pay = "How much did the city council pay the LGA?"
    assert not one("Councils should have a peer challenge every 4 to 5 years.", pay)
    assert one("The council's £900,000 grants programme.", pay)
    assert one("A budget gap of 12 million pounds.", pay)


def test_a_post_holder_needs_a_name_and_the_right_body():
    leader_city = "Who was leader of Cambridge City Council?"
    city = ["cambridge city council"]
    assert not one("• Cllr Pete Marland Leader, Milton Keynes", leader_city, city)
    assert not one("The leader and chief executive are well respected.", leader_city, city)
    assert one("The Leader, Councillor Margaret Oduya, and the Chief Executive work well together.",
               leader_city, city)  # the holder by title after the post is no other body
    assert not one('"We must act," said Cllr Lucy Nethsingha, Leader of Cambridgeshire County Council.',
                   leader_city, city)
    county = ["cambridgeshire county council"]
    assert one('"We must act," said Cllr Lucy Nethsingha, Leader of Cambridgeshire County Council.',
               "Who is the leader of the county council?", county)
    assert not one('"More work," added Cllr Elisa Meschini, Deputy Leader of the Council.',
                   "Who is the leader of the county council?", county)
    assert one('"More work," added Cllr Elisa Meschini, Deputy Leader of the Council.',
               "Who is the deputy leader of the county council?", county)


def test_a_post_holder_of_what_the_question_names():
    """"Who chairs the audit committee?" is not answered by the chair of the authority or of a
    partnership; a holder may be named by post ("chaired by the Leader"); the LGA's own
    organisers' posts are followed by the LGA, not the council."""
    fire = ["marchlands fire and rescue authority"]
    audit = "Who chairs the audit committee of Marchlands Fire and Rescue Authority?"
    assert not one("The authority is chaired by Councillor Bernard Fisk.", audit, fire)
    assert one("The audit committee is chaired by Councillor Ann Lee.", audit, fire)
    assert one("The authority is chaired by Councillor Bernard Fisk.",
               "Who chairs Marchlands Fire and Rescue Authority?", fire)
    partnership = "Who chairs the Wexcombe City Partnership?"
    city = ["wexcombe city council"]
    assert one("The partnership is chaired by the Leader and meets monthly.", partnership, city)
    assert not one("The partnership is chaired by a range of partners in turn.", partnership, city)
    manager = "Who was the LGA peer challenge manager on the Cambridge City review?"
    assert one("• Ami Beeton, Peer Challenge Manager, LGA", manager, ["cambridge city council"])


def test_a_post_holder_name_may_sit_in_the_neighbouring_row():
    rows = ["Name: | Mark Lloyd | Name: | Councillor Martin Curtis",
            "Post: | Chief Executive | Portfolio: | Leader of the Council"]
    question = expected_answer("Who was Leader of Cambridgeshire County Council in 2014?")
    assert gives(rows, 1, question, ["cambridgeshire county council"])
    assert not gives(rows[1:], 0, question, ["cambridgeshire county council"])


def test_a_peer_post_belongs_to_another_council_by_definition():
    assert one("• Chief Executive Peer, Kath O'Dwyer - St Helens Council",
               "Who was the chief executive peer on the county's 2022 review?", ["cambridgeshire county council"])


@pytest.mark.parametrize("question, post", [
    ("Who chairs the audit committee at Hollinford?", "chair"),
    ("Who chaired the scrutiny committee in 2021?", "chair"),
])
def test_a_post_used_as_a_verb_asks_for_its_holder(question, post):
    expected = expected_answer(question)
    assert expected.kind == "post_holder" and expected.post == post and expected.whole


@pytest.mark.parametrize("question, whole", [
    ("When was the follow-up visit to the county council and what did it focus on?", False),
    ("Who chairs planning at the city council - is it someone from the ruling group?", False),
    ("When should the city expect a return visit, and what does it involve?", False),
    ("Who are the leader and the chief executive of the county council?", True),
    ("How many staff and councillors did the peers meet?", True),
])
def test_a_question_asking_more_than_its_kind_is_not_whole(question, whole):
    """A second question after the first means a passage without the first's kind of answer
    may still answer it: the refusal model does not count that kind as missing."""
    assert expected_answer(question).whole is whole


@pytest.mark.parametrize("question, kind", [
    ("Who leads Brindlemoor Metropolitan Borough Council?", "post_holder"),  # its leader
    ("Who led the Royal Borough of Ellesford in 2023?", "post_holder"),
    ("Who leads the long-term financial plan action at Brindlemoor?", "name"),  # a lead officer
    ("Which officer leads the savings tracker action?", "name"),
    ("Which councillor chairs the fire authority?", "name"),
    ("Which member of the peer team was quoted in the news release?", "name"),
    ("Which peer team included the chief executive of the county?", None),
    ("Which member councils make up the combined authority?", None),
    ("What was the name of the finance officer on the peer team?", "name"),
    ("What is the name of the council's vision?", None),
])
def test_which_person_wants_a_name_but_not_which_body(question, kind):
    found = expected_answer(question)
    assert (found.kind if found else None) == kind


def test_which_organisation_wants_an_organisation_named():
    """"Which consultancy …?", "which supplier …?" ask for an organisation by name: a sentence
    naming one as doing or giving something answers them; one about the topic that names none,
    a council, or a plan's capitalised title at a sentence's start does not."""
    asked = "Which supplier is providing the council's new finance system?"
    found = expected_answer(asked)
    assert (found.kind, found.organisation, found.label) == ("name", True, "the name of a supplier")
    assert one("The new finance system is being supplied by Farbridge Software under a five-year contract.", asked)
    assert one("The team included a senior manager from BT.", "Which company had a manager on the team?")
    assert one("Work began with facilitated support from Local Partnerships.", "Which firm supported the council?")
    assert not one("The council has recognised the need to modernise the finance system.", asked)
    assert not gives(["Agree with Northby DC whether to share the finance system."], 0, found,
                     not_names=frozenset({"northby"}))  # the corpus's place words
    assert not one("The Finance Improvement Programme will replace the system.", asked)
    # which councils or which people are other kinds of answer
    assert expected_answer("Which councils were told to review scrutiny?") is None
    assert expected_answer("What business did the cabinet take on the peer report?") is None
    assert expected_answer("Which councillor chairs the audit committee?").organisation is False


def test_a_who_question_wants_a_name():
    """"Who managed the review?" is answered by a sentence naming someone (or a body), not by
    one describing the review."""
    who = "Who managed the county's progress review for the LGA?"
    assert expected_answer(who).kind == "name"
    assert one("LGA Peer Challenge Manager - Jo Bloggs", who)
    assert one("Delivery will be monitored by the Strategic Management Team.", who)
    assert not one("The progress review gave peers an overview of progress since the visit.", who)
    assert expected_answer("Who is the chief executive of the county council?").kind == "post_holder"
    # any names will do, a team's too
    assert expected_answer("Who were the peers on the county council's 2022 progress review?").kind == "name"
    assert one("Delivery is monitored by the Strategic Management Team.",
               "Who keeps track of delivery of the action plan?")


@pytest.mark.parametrize("question", [
    "Which council does the lead peer work for?",
    "What authority did the treasurer on the peer team come from?",
    "Which councils did the officer peers come from?",
    "From which council was the member peer?",  # no verb before "from": not this form
    "Where is the chief executive peer from?",
    "Where did the director of finance on the team work?",
])
def test_a_peer_s_council_is_asked_for_by_name(question):
    expected = expected_answer(question)
    if question.startswith("From which council was"):
        assert expected is None or expected.kind != "council"
    else:
        assert expected.kind == "council"


@pytest.mark.parametrize("question", [
    "Where does the city council's extra income come from?",  # not a person's council
    "Which councils were advised to review their scrutiny arrangements?",  # a listing
    "Which council had a six-month follow-up visit, the city or the county?",
    "Which councils does the council work with on children's services?",
])
def test_other_which_council_questions_ask_no_council_name(question):
    expected = expected_answer(question)
    assert expected is None or expected.kind != "council"


def test_a_council_answer_names_another_council_than_the_one_asked_about():
    expected = expected_answer("Which council did the lead peer at Hartsmere come from?")
    rows = ["- Lead peer: Councillor Ayesha Rahman, Leader, London Borough of Colnbrook",
            "The London Borough of Hartsmere has been run by the same party since 2014.",
            "The peer team met the leader."]
    own = ["london borough of hartsmere"]
    assert [gives(rows, i, expected, own) for i in range(3)] == [True, False, False]


def test_a_post_named_by_its_verb_gives_its_holder():
    """'The council is led by Councillor Jo Bloggs' says who the leader is (post_verbs in
    assistant/domain.yaml); 'led by example' names nobody."""
    leader = expected_answer("Who is the leader of Northby District Council?")
    led = ["The council is run by a coalition led by Councillor Jo Bloggs since 2023."]
    assert gives(led, 0, leader, ["northby district council"])
    assert not gives(["The senior team has led by example since 2023."], 0, leader)
    chair = expected_answer("Who chairs the audit committee?")
    assert gives(["The audit committee is chaired by Councillor Sam Green."], 0, chair)


def test_a_bounded_date_question_is_given_only_a_date_within_its_years():
    """"Before 2021" bounds the answer: the July 2021 challenge does not say when the earlier one
    was, and the year is no year the question is about (no hint, no unknown-year refusal)."""
    earlier = expected_answer("Before the 2021 challenge, when had the county last had a peer review?")
    assert (earlier.kind, earlier.years, earlier.whole, earlier.label) == ("date", (None, 2020), True,
                                                                         "a date before 2021")
    assert not gives(["The council undertook a peer challenge during July 2021."], 0, earlier)
    assert gives(["The LGA carried out a Corporate Peer Challenge in October 2013."], 0, earlier)
    assert gives(["The initial findings were presented on 18th October."], 0, earlier)  # no year: may be
    later = expected_answer("When did the peer team go back to Northby after 2023?")
    assert later.years == (2024, None)
    assert gives(["The progress review on 16 April 2024 came ten months after June 2023."], 0, later)
    assert not gives(["The challenge was held from 27 to 30 June 2023."], 0, later)
    assert expected_answer("How much has the council saved since 2010?").years is None  # a date only


def test_a_bounding_year_is_not_a_year_the_question_is_about():
    from tests.test_query import q

    assert q("When was the county's peer review before 2021?").years == ()
    assert q("When was the county's 2021 peer review?").years == (2021,)


def test_a_who_question_bounded_by_a_person_is_not_answered_by_that_person():
    """"Who led the council before Councillor Jo Bloggs?": a sentence giving Jo Bloggs as the
    Leader, or naming only her, gives no name; another holder of the post still does."""
    before = expected_answer("Who led Northby Council before Councillor Jo Bloggs?")
    assert (before.kind, before.post, before.besides) == ("post_holder", "leader", ("Jo Bloggs",))
    ruled_out = "At Northby, under the Leader, Councillor Jo Bloggs, and the Chief Executive, Dr Ann Lee, it improved."
    assert not gives([ruled_out], 0, before)
    assert gives([ruled_out], 0, expected_answer("Who is the leader?"))
    assert gives(["Councillor Sam Reed was Leader of Northby Council until 2019."], 0, before)
    quoted = expected_answer("Who spoke after Councillor Jo Bloggs?")
    assert quoted.besides == ("Jo Bloggs",)
    assert not gives(["Councillor Jo Bloggs said the review was fair."], 0, quoted)
    assert gives(["Dr Ann Lee said the review was fair."], 0, quoted)
    # a council or a time after "before" bounds nobody
    assert expected_answer("Who led the council before Northby Council took over?").besides == ()
    assert expected_answer("Who was the chief executive before 2020?").besides == ()


def test_what_a_post_is_of_never_starts_with_a_time_word():
    assert expected_answer("Who was the chief executive before Ann Lee?").of == ""
    assert expected_answer("Who is the leader now?").of == ""
    assert expected_answer("Who is the chair of the audit committee now?").of == "the audit committee"


def test_the_name_of_a_described_person_is_given_only_with_the_description():
    """"The name of the housing officer on the team" is not any peer's name: the line must use
    the describing words, or a word of their role family (domain.yaml: the treasurer is the
    finance officer)."""
    housing = expected_answer("What is the name of the housing officer on the Northby peer team?")
    assert (housing.kind, housing.role) == ("name", "housing")
    assert gives(["- Olu Ade, Corporate Director of Housing, Southby Council"], 0, housing)
    assert not gives(["- Sam Reed, Director of Place, Southby Council"], 0, housing)
    finance = expected_answer("What was the name of the finance officer on the peer team?")
    assert gives(["- Nadia Fenn, Treasurer, Oakby Fire Authority"], 0, finance)
    assert gives(["- Dean Oak, Director of Resources and Section 151 Officer, Abbey Council"], 0, finance)
    assert not gives(["- Harriet Wise, Director of Place, Kings Borough Council"], 0, finance)
    assert expected_answer("Which officer leads the savings action?").role == ""


def test_a_count_names_what_it_counts_within_its_phrase():
    """"The team of five peers, led by Councillor X" counts peers, not councillors."""
    how_many = expected_answer("How many councillors sit on Northby Council?")
    assert not gives(["The team of five peers, led by Councillor Jo Bloggs, met 140 people."], 0, how_many)
    assert gives(["The authority has 17 members, nominated by its four councils."], 0, how_many)
    assert gives(["Northby has 51 elected councillors (three vacancies)."], 0, how_many)


def test_a_rate_is_given_by_a_figure_naming_what_it_is_a_rate_of():
    recycling = expected_answer("What is the household recycling rate in Northby?")
    assert (recycling.kind, recycling.quantity) == ("number", ("recycl",))
    assert gives(["The recycling rate of 56 per cent is one of the highest in the county."], 0, recycling)
    assert not gives(["57 per cent of residents are satisfied with the council."], 0, recycling)
    assert expected_answer("What is the rate?").quantity == ()


def test_a_figure_is_given_by_a_sentence_naming_what_it_measures():
    """"How large is the debt?" is not answered by the size of the budget; a sentence leaning
    back ("This stood at …") names what the one before it names."""
    debt = replace(expected_answer("How large is the debt?"), measured=("debt",))
    assert not gives(["It spends a net revenue budget of 312 million pounds."], 0, debt)
    assert gives(["Its debt stands at 240 million pounds."], 0, debt)
    assert gives(["The council's debt has grown.", "This now stands at £240m."], 1, debt)
    assert not gives(["The council's debt has grown.", "The budget is £312m."], 1, debt)


@pytest.mark.parametrize("question, kind, quantity", [
    ("What council tax rise did Northby agree for 2024/25?", "number", ("tax", "rise")),
    ("What surplus did the fire authority make last year?", "money", ("surplus",)),
    ("What budget gap does the council face?", "money", ("budget", "gap")),
    ("What net zero date has the county set?", "date", ()),
    ("What cuts did the council make?", None, ()),  # what they were, perhaps, not how much
    ("What total savings has the council delivered?", None, ()),
])
def test_what_quantity_did_asks_for_a_figure_of_that_quantity(question, kind, quantity):
    """"What <quantity> did …?" with a noun that only names a quantity asks for a figure, which a
    sentence must give with all the words naming that quantity ("rising demand" gives no pay rise)."""
    found = expected_answer(question)
    assert (found.kind if found else None, found.quantity if found else ()) == (kind, quantity)
    if kind == "number":
        assert gives(["Band D council tax will rise by 2.99 per cent."], 0, found)
        assert not gives(["The rising demand left a gap of 4 million pounds."], 0, found)


def test_a_month_is_a_name_not_the_verb_may():
    """"The feedback may be about things you are already addressing" gives no date."""
    when = expected_answer("When did the peers visit?")
    assert not gives(["We appreciate that some of the feedback may be about things you know."], 0, when)
    assert gives(["The peers visited in May."], 0, when) and gives(["ON SITE IN MAY"], 0, when)


def test_people_are_counted_by_a_figure_counting_kinds_of_people_not_the_other_way():
    """"How many people did the peers talk to?" is answered by "over 160 council staff,
    councillors and residents"; "how many staff?" is not answered by "160 people", nor "how many
    people?" by the two elected members on the peer team."""
    people = expected_answer("How many people did the peer team talk to?")
    assert gives(["The peers talked to over 160 council staff, councillors, residents and businesses."], 0, people)
    assert not gives(["The team was made up of two elected members and an LGA manager."], 0, people)
    staff = expected_answer("How many staff does the council employ?")
    assert not gives(["The peers spoke to more than 160 people."], 0, staff)


def test_who_led_the_team_is_not_answered_by_the_councils_leader():
    """"Who led the peer team?" asks who led it ("led by", "lead peer"), not who leads the
    council: a quote from "Cllr Jo Bloggs, Leader of Northby Council" names no team leader."""
    led = expected_answer("Who led the peer team that reviewed Northby Council?")
    assert not gives(['Cllr Jo Bloggs, Leader of Northby Council said: "We are pleased."'], 0, led)
    assert gives(["The team was led by Councillor Ann Lee of Farby Council."], 0, led)


def test_the_members_of_a_team_are_people_as_those_on_it_are():
    for question in ("Who were the members of the peer team that revisited Northby?", "Who was on the peer team?"):
        assert expected_answer(question).person, question


def test_who_managed_the_review_wants_the_name_given_with_its_managing():
    """"Who from the LGA managed the progress review?" is answered by the peer list's manager,
    not by the first name on it."""
    managed = expected_answer("Who from the LGA managed the Northby progress review?")
    assert managed.kind == "name" and managed.role == "managed"
    assert gives(["4. Becca Singh - peer challenge manager, Local Government Association"], 0, managed)
    assert not gives(["1. Councillor Jo Bloggs - leader, Farby District Council"], 0, managed)


def test_who_led_the_team_may_be_answered_by_a_post_alone():
    """A cabinet paper may say only "led by a serving Chief Executive of a similar Authority":
    that answers "who headed up the peer team?", but not a question asking for a name."""
    headed = expected_answer("Who headed up the peer team that came to Northby?")
    post_only = "The challenge took place with colleagues led by a serving Chief Executive and an Elected Mayor."
    assert gives([post_only], 0, headed)
    assert not gives(["The team was made up of a Chief Executive and an Elected Mayor."], 0, headed)  # led by whom?
    named = expected_answer("What is the name of the BT manager on the peer team?")
    assert not gives(["The team was supported by a LGA Programme Manager and a senior manager from BT."], 0, named)


def test_one_of_several_is_no_count_and_budgeted_is_money():
    """"The peer challenge is one of the measures …" gives no figure; "how much has X budgeted
    …?" asks for an amount of money."""
    measures = expected_answer("How many measures did the council commit to?")
    assert not gives(["The peer challenge is one of the measures the council committed to."], 0, measures)
    assert gives(["The council committed to one measure only."], 0, measures)
    assert expected_answer("How much has the council budgeted for its action plan?").kind == "money"


@pytest.mark.parametrize("question", [
    "How much does the council make from car parking each year?",
    "How much do the council's commercial properties earn?",
    "How much revenue did the leisure centres bring in?",
])
def test_how_much_is_made_or_earned_asks_for_an_amount_of_money(question):
    """Income is money: "how much does X make from parking?" is not answered by "81% of
    residents were happy"."""
    income = expected_answer(question)
    assert income.kind == "money"
    assert not gives(["81% of residents were happy with the council's parking services."], 0, income)


def test_a_figure_of_a_noun_before_it_counts_that_noun():
    """"a population of 34,590" counts residents, "a workforce of around 1,450" staff; a
    town's population is not how many people the peers met."""
    residents = expected_answer("How many residents does Morecambe have?")
    assert gives(["Morecambe is a seaside town with a population of 34,590."], 0, residents)
    staff = expected_answer("How many staff does the council employ?")
    assert gives(["The council has a workforce of around 1,450."], 0, staff)
    met = expected_answer("How many people did the peer team meet at Morecambe?")
    assert not gives(["Morecambe is a seaside town with a population of 34,590."], 0, met)


def test_how_many_counts_the_noun_not_its_modifier():
    """"How many fire stations …?" is not answered by "three senior fire officers"."""
    stations = expected_answer("How many fire stations did the peer team visit?")
    assert not gives(["The team had three senior Fire and Rescue Service officers."], 0, stations)
    assert gives(["The peers visited four fire stations."], 0, stations)


@pytest.mark.parametrize("question, kind", [
    ("What will the county's decentralisation plans cost?", "money"),
    ("What did the review cost the council?", "money"),
    ("What did peers say about cost?", None),  # what they said
])
def test_what_will_x_cost_asks_for_an_amount(question, kind):
    found = expected_answer(question)
    assert (found.kind if found else None) == kind


def test_a_head_of_service_on_the_team_list_did_not_lead_the_team():
    """"Jo Bloggs, Head of Communications, Farby DC" (or "Ann Lee – managing director of Farby
    Services") on a peer list holds a post at her own body; it says nothing of who led or
    managed the team."""
    led = expected_answer("Who led the peer team at Northby in 2017?")
    assert not gives(["• Jo Bloggs, Head of Communications, Strategy and Policy, Farby DC"], 0, led)
    assert gives(["The peer team was headed by Jo Bloggs, Chief Executive of Farby DC."], 0, led)
    managed = expected_answer("Who from the LGA managed the Northby progress review?")
    assert not gives(["3. Ann Lee – managing director of Farby Services"], 0, managed)


def test_which_post_holder_asks_for_a_person_and_a_post_at_a_body_answers_who_led():
    """"Which chief executive sat on the team?" asks for a person, like "which councillor …?";
    "led by the shared Chief Executive of Farby and Southby Councils" answers "who led the
    team?" though it names nobody, "led by the Chief Executive" (whose?) does not."""
    which = expected_answer("Which chief executive sat on Northby's 2015 peer challenge team?")
    assert which.kind == "name"
    assert gives(["• Jo Bloggs – Chief Executive, Farby Borough Council • Ann Lee – Leader, Southby"], 0, which)
    led = expected_answer("Who led the peer review team that came to Northby in 2022?")
    assert gives(["The review team was led by the shared Chief Executive of Farby and Southby Councils."], 0, led)
    assert not gives(["The review team was led by the Chief Executive."], 0, led)


def test_in_so_many_weeks_is_a_date_as_within_them_is():
    """A slide's "Written Report in 4 weeks" tells when the report was due, as "within the
    next 2 years" tells when a visit is; "in 3 areas" tells no time."""
    when = expected_answer("When did the peer team promise its written report?")
    assert gives(["• Written Report in 4 weeks"], 0, when)
    assert not gives(["The team looked in 3 areas of the council's work."], 0, when)


def test_who_replaced_someone_as_a_post_asks_for_the_posts_next_holder():
    """"Who replaced Jo Bloggs as chief executive of Northby?" asks for the chief executive
    after her: "interim chief executive Jo Bloggs, who has now left, and leader Cllr Ann Lee"
    names no other chief executive; "appointed Sam Reed as its new chief executive" does."""
    replaced = expected_answer("Who replaced Jo Bloggs as chief executive of Northby District Council?")
    assert replaced.kind == "post_holder" and replaced.post == "chief executive" and replaced.besides == ("Jo Bloggs",)
    councils = ["northby district council"]
    assert not gives(["Interim chief executive Jo Bloggs, who has now left the council, and leader Cllr Ann Lee "
                      "brought stability."], 0, replaced, councils)
    assert gives(["The council appointed Sam Reed as its new chief executive in May."], 0, replaced, councils)


def test_a_rank_written_before_a_name_leaves_the_name_a_name():
    led = expected_answer("Who led the peer challenge team?")
    assert gives(["The team, led by Chief Fire Officer Jo Bloggs from Farby Fire and Rescue Service, "
                  "found much to praise."], 0, led)


def test_how_many_counts_each_thing_of_a_list():
    """"How many staff, councillors and partners did the team speak to?" counts those, so "a
    four-day visit" gives no figure for it."""
    met = expected_answer("How many staff, councillors and partners did the peer team speak to?")
    assert met.counted == ("staff", "councillor", "partner")
    assert not gives(["The peers praised the council after a four-day visit last year."], 0, met)


def test_what_percentage_asks_for_a_share_not_any_figure():
    """"What percentage of the actions were complete?" is not answered by "the eight
    recommendations"; "69 per cent", "15%" and "12 of the 20 actions" answer it."""
    share = expected_answer("What percentage of Northby's peer challenge actions had been completed?")
    assert share.share and share.kind == "number"
    assert not gives(["The council shared an action plan for the eight recommendations."], 0, share)
    for sentence in ("Some 69 per cent of the actions were complete.", "By then 15% of actions were complete.",
                     "Peers found 12 of the 20 actions complete."):
        assert gives([sentence], 0, share), sentence
    assert expected_answer("What proportion of councillors were newly elected?").share


def test_a_share_is_of_the_whole_the_question_names():
    """"What share of staff …?" is not answered by a share of residents; a share of a kind of
    what is asked ("of residents" for "of people") or leaning back on a sentence naming it
    answers it."""
    staff = expected_answer("What share of the council's staff filled in the staff survey?")
    assert staff.share_of == ("staff", "fill")
    assert not gives(["The residents' survey found 76% of residents satisfied."], 0, staff)
    assert gives(["The staff survey had a 64% response rate."], 0, staff)
    assert gives(["The council asked its staff.", "However, only 40 per cent replied."], 1, staff)
    people = expected_answer("What share of people in Northby were happy with services?")
    assert people.share_of == ("peopl",)
    assert gives(["The survey found 76% of residents satisfied."], 0, people)
    posts = expected_answer("What share of on-call firefighter posts are vacant?")
    assert posts.share_of == ("post",) and gives(["Some 14 per cent of posts are vacant."], 0, posts)
    assert not expected_answer("How many staff did the peers meet?").share


@pytest.mark.parametrize("question, post", [
    ("What is the name of the Northby council leader whom the peers praised?", "leader"),
    ("whats the name of the chief executive", "chief executive"),
])
def test_the_name_of_a_post_asks_for_its_holder(question, post):
    found = expected_answer(question)
    assert (found.kind, found.post, found.of) == ("post_holder", post, "")


def test_who_made_up_the_team_asks_its_make_up_not_a_name():
    """"Who made up the team?" is answered by "three senior fire officers and a councillor"."""
    assert expected_answer("Who made up the team that did the fire peer challenge?") is None
    assert expected_answer("Who were the members of the peer team?").kind == "name"


def test_terms_of_common_words_are_no_people_for_who_led():
    """"Who led the peer team?" is not answered by "the Dedicated Schools Grant": words the
    documents also write in lower case make a term. One such word is still a name's ("Mark
    Lloyd"), and a body answers a plain "who …?" ("the Strategic Management Team")."""
    common = frozenset({"dedicated", "schools", "grant", "high", "needs", "block", "mark", "strategic",
                        "management", "team", "led"})
    led = expected_answer("Who led the peer team?")
    grant = ["Costs are demand led and driven by the Dedicated Schools Grant High Needs Block."]
    assert not gives(grant, 0, led, common=common)
    assert gives(grant, 0, led)  # without the corpus's lower-case words, a pair of capitals is a name
    assert gives(["The team was led by Mark Lloyd."], 0, led, common=common)
    tracks = expected_answer("Who keeps track of the action plan?")
    assert gives(["The plan is monitored by the Strategic Management Team."], 0, tracks, common=common)


def test_a_post_of_the_council_named_is_the_councils_whatever_follows():
    """"Who is quoted as leader of Northby Council welcoming the review?": the leader is
    Northby's; "welcoming the review" does not describe what the post is of."""
    quoted = expected_answer("Who is quoted as leader of Northby Council welcoming the peer review?")
    assert gives(["Cllr Jo Bloggs, leader of Northby Council, said she was delighted."], 0, quoted,
                 councils=["northby council"])


def test_what_month_or_year_asks_for_that_unit():
    """"What month did the peers visit?" is not answered by "later this year"; "in what year
    …?" not by "last spring". A date written in figures names its month."""
    month = expected_answer("What month did the peer challenge team actually visit Northby?")
    assert (month.kind, month.unit) == ("date", "month")
    assert not gives(["The review team will revisit Northby later this year."], 0, month)
    assert gives(["The team visited in March 2023."], 0, month)
    assert gives(["Meeting: 23/07/2024 - Cabinet"], 0, month)
    year = expected_answer("In what year did the county last have a peer challenge?")
    assert year.unit == "year" and gives(["It was in October 2013."], 0, year)
    assert not gives(["It was last spring."], 0, year)
    assert expected_answer("When did the peers visit?").unit == ""


def test_the_team_leader_is_the_review_teams_not_the_councils():
    """"Who was the team leader for Northby's peer review?" asks who led the review team: its
    list's "Team Leader - John Collings" answers, the council's own Leader does not."""
    asked = expected_answer("Who was the team leader for Northby's 2013 safeguarding peer review?")
    assert asked.post == "team leader"
    assert gives(["• Team Leader – John Collings"], 0, asked, ["northby council"])
    assert not gives(["The Leader of the Council, Councillor Jo Bloggs, welcomed the review."], 0, asked,
                     ["northby council"])


@pytest.mark.parametrize("question, councils, asked, given, not_given", [
    # a date question naming its month asks for a day of that month
    ("On which dates in April 2025 was the peer team on site?", [], {"unit": "day", "month": "april"},
     ["The peer team was on site from 4th-7th April 2025.", "Visit: 04/04/2025"],
     ["The challenge took place during April 2025.", "The review took place on 11 March 2026."]),
    # "of" runs on into the council's name, and the chair of a review panel is the panel's,
    # whatever council the holder led before
    ("Who was the independent chair of the Vale of Northby's Panel Performance Assessment?",
     ["vale of northby council"], {"of": "the Vale of Northby's Panel Performance Assessment"},
     ["• Independent Chair - Jo Bloggs, former Chief Executive of Southby Council."], []),
    ("Who will chair the panel for Northby's Panel Performance Assessment?", ["northby council"],
     {"post": "chair"}, ["• Independent Chair - Jo Bloggs, former Chief Executive of Southby Council."],
     ["Presented by: Ann Lee. Decision: a timetable was agreed for the assessment."]),
    ("Who is the chair of the audit committee?", ["vale of northby council"], {"of": "the audit committee"},
     [], ["• Independent Chair - Jo Bloggs, former Chief Executive of Southby Council."]),
    # peers' councils named by their places, no "Council"
    ("Which councils did the peers on Northby's peer challenge come from?", ["northby council"],
     {"kind": "council"}, ["The peer team included officers and councillors from Brent, Cornwall, and Warwickshire."],
     ["The team heard from staff and partners across Northby."]),
    # "which month of 2022": a month of that year, not "September 5, 2023"
    ("In which month of 2022 did the peers visit Northby?", [], {"unit": "month", "year": 2022},
     ["The peers visited in September 2022.", "The challenge took place in September."],
     ["The report was published on September 5, 2023."]),
    # a team's members are people: "the Equality Framework" is a term the documents also write
    # in lower case (``common``), not a member
    ("Who was on the external review team that assessed Northby?", [], {"kind": "name", "person": True},
     ["The review team: Jo Bloggs and Ann Lee."], ["The team praised the Equality Framework work."]),
    # a numbered item: its label, not recommendation 10 or 1.2
    ("What was recommendation 1 from Northby's peer challenge?", [], {"kind": "item", "item": "recommendation 1"},
     ["Recommendation 1 - You need a stronger focus on strategic finance.", "R1 Improve finance."],
     ["Recommendation 10 - Review the constitution.", "See recommendation 1.2 below."]),
])
def test_what_gives_the_answer_asked_for(question, councils, asked, given, not_given):
    """Each question is read as asking for ``asked`` and given by the ``given`` lines only."""
    expected = expected_answer(question)
    assert {name: getattr(expected, name) for name in asked} == asked
    common = frozenset({"equality", "framework"})
    for line in given:
        assert gives([line], 0, expected, councils, common=common), line
    for line in not_given:
        assert not gives([line], 0, expected, councils, common=common), line


def test_a_question_naming_no_month_or_item_asks_for_neither():
    assert not expected_answer("When was the Marchlands peer challenge?").unit
    assert expected_answer("What did the peers recommend about finance?") is None
