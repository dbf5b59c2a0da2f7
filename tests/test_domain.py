"""domain.yaml: loaded once, validated, and free of any particular council."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistant.domain import DOMAIN_FILE, DomainError, example_questions, load_domain, parse_domain

RAW = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


def test_the_shipped_domain_file_loads():
    domain = load_domain()
    assert {"county", "city", "london borough", "fire and rescue"} <= {k.kind for k in domain.council_kinds}
    assert "peer challenge report" in domain.doc_type_names and "web page" in domain.doc_type_names
    assert len(domain.themes) == 6 and domain.process_description
    assert domain.short_type == "web page" and domain.document_types[0].min_words > 0
    assert load_domain() is domain  # parsed once per process


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d.pop("council_kinds"), "council_kinds"),
    (lambda d: d["council_kinds"][0].update(forms=["Council of Nowhere"]), "{place}"),
    (lambda d: d["document_types"][1].update(cues=["(unclosed"]), "bad cue pattern"),
    (lambda d: d["document_types"][0].update(evidence={"key recommendations": "lots"}), "weights"),
    (lambda d: d["themes"][0].update(keywords="[oops"), "bad keywords pattern"),
    (lambda d: d.update(posts="leader"), "posts"),
    (lambda d: d["document_types"][0].update(min_words="many"), "min_words"),
    (lambda d: d["document_types"][0].update(min_words=-5), "min_words"),
    (lambda d: d.update(short_document_type="leaflet"), "short_document_type"),
    (lambda d: d.update(post_verbs={"leader": "led by"}), "post_verbs"),
    (lambda d: d.update(count_families=["staff", "employee"]), "count_families"),
    (lambda d: d.update(role_families=[["finance", ""]]), "role_families"),
    (lambda d: d.update(post_question_verbs={"leader": "leads"}), "post_question_verbs"),
])
def test_a_damaged_domain_file_is_one_clear_error(breakage, message):
    data = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    breakage(data)
    with pytest.raises(DomainError) as caught:
        parse_domain(data, "domain.yaml")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_an_unreadable_domain_file_says_what_to_do(tmp_path: Path):
    bad = tmp_path / "domain.yaml"
    bad.write_text("council_kinds: [", encoding="utf-8")
    with pytest.raises(DomainError, match="reinstall peerqa or restore"):
        load_domain(bad)


def test_no_council_or_place_is_named_in_the_domain_file():
    text = DOMAIN_FILE.read_text(encoding="utf-8").lower()
    for place in ("cambridge", "peterborough", "wigan", "camden", "norfolk"):
        assert place not in text


def test_examples_are_filled_from_the_corpus_councils():
    filled = example_questions(["Wexcombe City Council", "Barton Ashby District Council"])
    assert any("Wexcombe City Council" in q for q in filled)
    assert any("Barton Ashby District Council" in q for q in filled)
    assert not any(re.search(r"\{\w+\}", q) for q in filled)
    one = example_questions(["Wexcombe City Council"])
    assert not any("{council2}" in q or "Barton" in q for q in one) and len(one) < len(filled)


def test_service_topics_are_named_by_their_longest_words_and_found_in_any_form():
    """A question names a service by the longest words of the families (``service_topics``): "high
    street" is regeneration, not highways; a family is mentioned by any of its words, singular
    or plural, a phrase by all of its words."""
    domain = load_domain()
    named = dict((words, family[0]) for words, family in domain.topics_named(
        "What about the high street, on-street parking and the Libraries?"))
    assert named == {"high street": "regeneration", "on-street parking": "parking", "Libraries": "library"}
    assert domain.topics_named("What did the peers say about the council's finances?") == ()
    library = next(f for f in domain.service_topics if f[0] == "library")
    assert domain.mentions(library, {"the", "library"}) and domain.mentions(library, {"libraries"})
    assert not domain.mentions(library, {"librarian", "books"})
    tourism = next(f for f in domain.service_topics if f[0] == "tourism")
    assert domain.mentions(tourism, {"visitor", "economy"}) and not domain.mentions(tourism, {"economy"})
    # a combined authority called "mayoral" names no mayor
    assert not any(f[0] == "mayor" for _, f in domain.topics_named("How do they work with the mayoral authority?"))


def test_a_word_of_another_sense_mentions_a_service_but_does_not_name_it():
    """"The financial climate" names no climate work in a question, but a document's "Climate
    implications" heading mentions it (``mentioned_by``): the refusal errs towards answering."""
    domain = load_domain()
    assert domain.topics_named("How does the financial climate affect the council?") == ()
    [(words, family)] = domain.topics_named("What did peers say about the council's carbon plans?")
    assert words == "carbon" and domain.mentions(family, {"climate", "implications"})
    with pytest.raises(DomainError):
        parse_domain({**yaml.safe_load(DOMAIN_FILE.read_text()), "service_topics": [{"mentioned_by": ["x"]}]})
