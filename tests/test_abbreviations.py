"""Abbreviations the documents define, and questions glossed with them for retrieval."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.abbreviations import definitions, gloss, glossary
from assistant.query import CorpusFacts, analyse, corpus_facts
from assistant.retrieval import Retriever
from tests.fakes import FakeEmbedder


@pytest.mark.parametrize("text, expected", [
    ("the Medium Term Financial Strategy (MTFS) sets",
     [("MTFS", "Medium Term Financial Strategy")]),
    ("its Medium-Term Financial Plan (MTFP)", [("MTFP", "Medium Term Financial Plan")]),
    ("a Fire and Rescue Authority (FRA)", [("FRA", "Fire and Rescue Authority")]),
    ("Special Educational Needs and Disabilities (SEND) demand",
     [("SEND", "Special Educational Needs and Disabilities")]),
    ("our Key Performance Indicators (KPIs)", [("KPIs", "Key Performance Indicators")]),
    ("the LGA (Local Government Association) said", [("LGA", "Local Government Association")]),
    ("the Department for Levelling Up, Housing and Communities (DLUHC)",
     [("DLUHC", "Department for Levelling Up Housing and Communities")]),
])
def test_definitions_in_the_forms_papers_use(text, expected):
    assert definitions(text) == expected


@pytest.mark.parametrize("text", [
    "the council (which met twice) agreed",  # not a short form
    "see the action plan (page 4) and the budget (2024/25)",
    "a shared service (IT) was reviewed",  # no long form spells it
    "Corporate Peer Challenge (CP)",  # the initials spell more than the short form
    "for the (LGA) only",
    "",
])
def test_no_definition_where_none_is_made(text):
    assert definitions(text) == []


def test_a_definition_found_twice_counts_once():
    text = "The Local Government Association (LGA) ... the Local Government Association (LGA)!"
    assert definitions(text) == [("LGA", "Local Government Association")]


def test_a_short_form_with_two_meanings_glosses_nothing():
    terms = glossary([("CA", "Combined Authority"), ("CA", "County Area"),
                      ("LGA", "Local Government Association"),
                      ("LGA", "local  government association")])
    assert terms == {"LGA": "local government association"}


TERMS = {"LGA": "local government association", "MTFS": "medium term financial strategy"}


@pytest.mark.parametrize("question, glossed", [
    ("When did the LGA team visit?", "When did the LGA (local government association) team visit?"),
    ("What did the LGA's peers say?",
     "What did the LGA (local government association)'s peers say?"),
    ("Is the Medium-Term Financial Strategy balanced?",
     "Is the Medium-Term Financial Strategy (MTFS) balanced?"),
    ("Did the LGA (Local Government Association) say so?",
     "Did the LGA (Local Government Association) say so?"),
    ("What did the LGAS and the SLGA do?", "What did the LGAS and the SLGA do?"),  # other words
    ("What did peers say about lga?", "What did peers say about lga?"),  # a short form is capitals
    ("", ""),
])
def test_gloss_puts_the_other_form_beside_the_one_used(question, glossed):
    assert gloss(question, TERMS) == glossed


def test_gloss_without_terms_is_the_text():
    assert gloss("What did the LGA say?", {}) == "What did the LGA say?"


@given(st.text(alphabet=st.sampled_from(list("LGAMTFS medium term financial strategy local?'-")),
               max_size=60))
def test_gloss_only_adds_a_bracketed_form(question):
    if "(" in question or ")" in question:
        return
    assert re.sub(r" \([^()]*\)", "", gloss(question, TERMS)) == question


def test_analysed_question_keeps_its_text_and_topic_and_is_searched_glossed():
    text = ("Hartsmere Council agreed its Medium Term Financial Strategy (MTFS) with the "
            "Local Government Association (LGA).")
    facts = CorpusFacts.build({"Hartsmere Council": {"peer challenge report"}}, [text])
    query = analyse("When will Hartsmere agree its MTFS?", facts)
    assert query.text == "When will Hartsmere agree its MTFS?" and "medium" not in query.topic
    glossed = "When will Hartsmere agree its MTFS (medium term financial strategy)?"
    assert query.search_text == glossed
    assert "MTFS (medium term financial strategy)" in query.search_topic
    assert "Hartsmere" not in query.search_topic


def test_a_councils_own_abbreviation_is_left_to_the_council_registry():
    text = "The London Borough of Hartsmere (LBH) and the Local Government Association (LGA)."
    facts = CorpusFacts.build({"Hartsmere Council": {"peer challenge report"}}, [text])
    assert facts.glossary == {"LGA": "local government association"}


def test_the_stored_facts_carry_the_glossary(index):
    _, store = index
    held: dict[str, set[str]] = {}
    for meta in store.metas.values():
        held.setdefault(meta.council, set()).add(meta.doc_type)
    computed = CorpusFacts.build(held, [d.text for d in store.documents.values()])
    assert corpus_facts(store).glossary == computed.glossary
    assert corpus_facts(store).glossary.get("LGA") == "local government association"


class RecordingEncoder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def embed_query(self, text: str):
        self.queries.append(text)
        return super().embed_query(text)


def test_the_model_is_given_the_glossed_question(index):
    settings, store = index
    encoder = RecordingEncoder()
    query = analyse("When did the LGA team visit?", corpus_facts(store))
    Retriever(store, settings, encoder=encoder).search(query, k=3)
    assert encoder.queries[0] == "When did the LGA (local government association) team visit?"
