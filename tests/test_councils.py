"""The council registry: every name form of every council, ambiguity, and what a name is not."""

from __future__ import annotations

import pytest

from assistant.councils import CouncilRegistry, council_names_in, parse_council_name
from assistant.errors import UsageError

CITY, COUNTY = "Cambridge City Council", "Cambridgeshire County Council"
SEED = CouncilRegistry([CITY, COUNTY], ["Peterborough City Council", "South Cambridgeshire District Council"])


def councils(registry: CouncilRegistry, text: str) -> list[tuple[str, ...]]:
    return [m.councils for m in registry.find(text)]


@pytest.mark.parametrize("phrase, council", [
    ("city council", CITY), ("the city", CITY), ("cambridge", CITY), ("cambridge city council", CITY),
    ("Cambridge Council", CITY), ("the county", COUNTY), ("county council", COUNTY),
    ("cambridgeshire", COUNTY), ("cambridgeshire county", COUNTY), ("Cambridgeshire Council", COUNTY),
])
def test_seed_council_forms(phrase, council):
    assert councils(SEED, f"What did peers say about {phrase}?") == [(council,)]


def test_place_names_do_not_match_inside_other_words():
    assert councils(SEED, "What did peers say about Cambridge?") == [(CITY,)]
    assert councils(SEED, "What about Cambridgeshire's finances?") == [(COUNTY,)]
    assert councils(SEED, "Compare Cambridge and Cambridgeshire") == [(CITY,), (COUNTY,)]
    assert councils(SEED, "What did peers say about shared services?") == []


def test_duplicate_council_names_do_not_make_a_kind_ambiguous():
    registry = CouncilRegistry([CITY, CITY, COUNTY, COUNTY])
    assert councils(registry, "the city") == [(CITY,)] and councils(registry, "county council") == [(COUNTY,)]


def test_a_kind_shared_by_two_held_councils_is_ambiguous():
    registry = CouncilRegistry([CITY, "Oxford City Council"])
    (mention,) = registry.find("What did the city council decide?")
    assert mention.ambiguous and set(mention.councils) == {CITY, "Oxford City Council"}
    assert councils(registry, "oxford") == [("Oxford City Council",)]


@pytest.mark.parametrize("question, unknown", [
    ("What did peers say about Oxford City Council's housing company?", "Oxford City Council"),
    ("What about Norfolk County Council?", "Norfolk County Council"),
    ("Did the London Borough of Lambeth act?", "London Borough of Lambeth"),
])
def test_council_names_the_registry_does_not_know(question, unknown):
    (mention,) = SEED.find(question)
    assert mention.text == unknown and not mention.known and not mention.held


def test_councils_only_mentioned_are_known_but_not_held():
    (mention,) = SEED.find("Has Peterborough City Council acted?")
    assert mention.councils == ("Peterborough City Council",) and not mention.held
    # a bare place names the council of that place, held or not
    (bare,) = SEED.find("What did the peers say about Peterborough?")
    assert bare.councils == ("Peterborough City Council",) and not bare.held


@pytest.mark.parametrize("name, kind, place", [
    ("Wigan Metropolitan Borough Council", "metropolitan borough", "Wigan"),
    ("London Borough of Camden", "london borough", "Camden"),
    ("Royal Borough of Kingsmead", "royal borough", "Kingsmead"),
    ("City of Westford Council", "city", "Westford"),
    ("Great Yarmouth Borough Council", "borough", "Great Yarmouth"),
    ("Northshire Fire and Rescue Authority", "fire and rescue", "Northshire"),
    ("Tees Valley Combined Authority", "combined authority", "Tees Valley"),
    ("Milton Keynes Council", "unitary", "Milton Keynes"),
    ("Borough Council of Kingsmere & West Fenland", "borough", "Kingsmere & West Fenland"),
    ("Knutsford TC", "town", "Knutsford"),  # as "Northby DC", "Northby BC"
])
def test_parse_council_name(name, kind, place):
    assert parse_council_name(name) == (kind, place)


def test_resolve_a_filter_value():
    assert SEED.resolve("city") == CITY and SEED.resolve("County") == COUNTY
    assert SEED.resolve("Cambridge Council") == CITY
    with pytest.raises(UsageError, match="Unknown council"):
        SEED.resolve("Oxford")
    with pytest.raises(UsageError, match="could mean"):
        CouncilRegistry([CITY, "Oxford City Council"]).resolve("city")


def test_names_written_in_documents():
    text = ("Cambridge City Council and South Cambridgeshire District Council share services with "
            "Huntingdonshire District Council. The Cambridgeshire and Peterborough Combined Authority "
            "funds it. The Council agreed. Has Exeter City Council a view?")
    assert council_names_in([text]) == [
        CITY, "South Cambridgeshire District Council", "Huntingdonshire District Council",
        "Cambridgeshire and Peterborough Combined Authority", "Exeter City Council"]


def test_names_with_an_ampersand_or_after_the():
    """Real names join places with "&" ("… & West Norfolk") and are written after "the"."""
    text = "The Borough Council of Kingsmere & West Fenland met Brayford & Hove City Council."
    assert council_names_in([text]) == ["Borough Council of Kingsmere & West Fenland",
                                        "Brayford & Hove City Council"]
    registry = CouncilRegistry(["Brayford and Hove City Council"], [])
    assert councils(registry, "What did peers tell Brayford & Hove City Council?") == [
        ("Brayford and Hove City Council",)]


def test_strip_removes_council_references_and_their_lead_in():
    assert SEED.strip("What did the peers say about the city council's finances?") \
        == "What did the peers say about finances?"
    assert SEED.strip("Shared services at Cambridge City Council") == "Shared services"


@pytest.mark.parametrize("question, council", [
    ("Who was the manager for CYC?", "York City Council"),  # City of York Council
    ("When did SFRS have its peer challenge?", "Suffolk Fire and Rescue Authority"),  # …Service
])
def test_a_council_goes_by_the_initials_of_any_full_form_of_its_kind(question, council):
    registry = CouncilRegistry(["York City Council", "Suffolk Fire and Rescue Authority"])
    assert [m.councils for m in registry.find(question)] == [(council,)]


def test_initials_the_documents_define_as_something_else_are_not_a_council():
    """"CPC" would be a "City of Preston Council"; where the documents write "Corporate Peer
    Challenge (CPC)" it is the challenge. Initials they define as the council stay the council,
    and so do initials they define both ways."""
    held = ["Preston City Council", "Cambridgeshire County Council"]
    plain = CouncilRegistry(held)
    assert [m.councils for m in plain.find("When was the CPC at Preston?")] == [
        ("Preston City Council",), ("Preston City Council",)]
    defined = CouncilRegistry(held, defined=[("CPC", "Corporate Peer Challenge")])
    assert [m.councils for m in defined.find("When was the CPC at Preston?")] == [("Preston City Council",)]
    assert [m.text for m in defined.find("When were the CPC peers at Cambridgeshire County Council?")] == [
        "Cambridgeshire County Council"]
    both = CouncilRegistry(held, defined=[("CCC", "Climate Change Committee"),
                                          ("CCC", "Cambridgeshire County Council")])
    assert [m.councils for m in both.find("What did CCC agree?")] == [("Cambridgeshire County Council",)]
    named = CouncilRegistry(held, defined=[("PCC", "Preston City Council")])
    assert [m.councils for m in named.find("What did PCC agree?")] == [("Preston City Council",)]


def test_a_council_known_only_as_place_council_goes_by_any_principal_kinds_abbreviation():
    """A page filed as "Trafford Council" (its kind never stated) is "Trafford MBC" or "Trafford
    BC" in a question, as it is "Trafford Metropolitan Borough Council"; "MBC" alone is not it."""
    registry = CouncilRegistry(["Trafford Council", "Rossendale Council"], ["Millbeck Council"])
    assert [m.councils for m in registry.find("When was Trafford MBC's progress review?")] == [("Trafford Council",)]
    assert [m.councils for m in registry.find("What did Rossendale BC's peers say?")] == [("Rossendale Council",)]
    assert [m.councils for m in registry.find("What did LB Trafford agree?")] == [("Trafford Council",)]
    assert all(m.councils != ("Trafford Council",) for m in registry.find("What did the MBC say?"))


def test_a_town_on_something_goes_by_the_town_alone():
    """"Southend" is Southend-on-Sea City Council; "Newcastle" is either Newcastle."""
    registry = CouncilRegistry(["Southend-on-Sea City Council", "Newcastle upon Tyne City Council",
                                "Newcastle-under-Lyme Borough Council"])
    assert [m.councils for m in registry.find("What did Southend's peers say?")] == [("Southend-on-Sea City Council",)]
    assert [len(m.councils) for m in registry.find("What about Newcastle?")] == [2]


def test_a_name_the_documents_use_only_in_passing_may_be_a_held_council_known_by_its_place():
    """Cheltenham's minutes say only "the Council" and are filed as "Cheltenham Council"; a
    neighbour's page names "Cheltenham Borough Council" in passing. That name, and its
    initials, are the held council, not one the corpus only mentions."""
    registry = CouncilRegistry(["Cheltenham Council", "Tewkesbury Borough Council"],
                               mentioned=["Cheltenham Borough Council", "Calderbrook Metropolitan Borough Council"])
    for question in ("Whose report presented the CBC peer challenge findings?",
                     "What did the peers tell Cheltenham Borough Council?"):
        assert [m.councils for m in registry.find(question)] == [("Cheltenham Council",)], question


def test_a_council_known_by_its_place_is_not_spelled_as_a_parish_council():
    """"CPC" (a corporate peer challenge) is no "Cornwall Parish Council" for a council known
    only as "Cornwall Council"; its principal kinds' letters still spell it ("CCC")."""
    registry = CouncilRegistry(["Cornwall Council", "Watford Borough Council"])
    assert [m.text for m in registry.find("How many of Watford's CPC actions were green?")] == ["Watford"]
    assert [m.councils for m in registry.find("What did CCC decide?")] == [("Cornwall Council",)]


def test_a_place_joined_by_with_is_one_place_and_goes_by_its_initials():
    """"Blackburn with Darwen Council" is one council (not "Darwen Council"); "BwD" writes
    "with" as a small letter."""
    assert council_names_in(["The review of Ashby with Thorpe Council ended."]) == ["Ashby with Thorpe Council"]
    registry = CouncilRegistry(["Ashby with Thorpe Council", "Northby District Council"])
    assert councils(registry, "What did AwT ask the peers to look at?") == [("Ashby with Thorpe Council",)]
    ampersand = CouncilRegistry(["Epsom and Ewell Borough Council"])  # "&" counts as a letter
    assert councils(ampersand, "Could E&E councillors change the wording?") == [("Epsom and Ewell Borough Council",)]


def test_a_place_written_as_initials_is_named_by_the_words_they_stand_for():
    """A council the documents call only "NCH Council" is the one a question spells out as
    "Northby, Cray and Hulme", with or without "Council" after it."""
    registry = CouncilRegistry(["NCH Council", "Northby District Council"])
    for question in ("When did the peers revisit Northby, Cray and Hulme?",
                     "What did the peers say about Northby Cray and Hulme Council?"):
        assert councils(registry, question) == [("NCH Council",)], question
    assert councils(registry, "What did the peers say about Northby?") == [("Northby District Council",)]


def test_a_kind_placed_by_the_council_after_it_is_that_council():
    """With two county councils held, "the county council" is either; "the county council in
    Eastshire" is Eastshire's, named once (no comparison of the two)."""
    registry = CouncilRegistry(["Eastshire County Council", "Westshire County Council"])
    assert councils(registry, "What did staff say about the county council in Eastshire?") == \
        [("Eastshire County Council",)]
    assert councils(registry, "How does the county council compare with Eastshire?") == \
        [("Eastshire County Council", "Westshire County Council"), ("Eastshire County Council",)]


def test_a_place_named_word_of_name_goes_by_its_initials_too():
    registry = CouncilRegistry(["Isle of Wight Council", "Northby District Council"])
    assert councils(registry, "How many people did the planning peers meet on the IoW?") == [("Isle of Wight Council",)]
    assert councils(registry, "What did peers say about the Isle of Wight?") == [("Isle of Wight Council",)]
