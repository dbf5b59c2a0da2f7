"""Standard text found by measurement: sentences recurring across different councils' documents."""

from __future__ import annotations

from assistant.boilerplate import recurring_sentences

PROCESS = ("The progress review is a core part of the corporate peer challenge offer and gives the "
           "council a chance to reflect with the peers on its progress.")


def test_near_verbatim_sentences_of_two_councils_are_standard_text():
    found = recurring_sentences([
        ("a", "Northby District Council", PROCESS),
        ("b", "Westford City Council", PROCESS.replace("core", "key").replace("chance", "moment")),
        ("c", "Westford City Council", "Westford has 7,100 council homes and a young population "
                                       "with two universities and a visitor economy."),
    ])
    assert found == {"a", "b"}


def test_a_sentence_repeated_within_one_council_is_not_standard_text():
    assert recurring_sentences([("a", "Northby District Council", PROCESS),
                                ("b", "Northby District Council", PROCESS)]) == frozenset()


def test_council_and_place_names_do_not_make_sentences_differ():
    one = "The peer team would like to thank everyone at Northby District Council for their welcome and openness."
    two = "The peer team would like to thank everyone at Westford City Council for their welcome and openness."
    ignore = frozenset({"northby", "district", "westford", "city", "council"})
    assert recurring_sentences([("a", "N", one), ("b", "W", two)], ignore) == {"a", "b"}


def test_different_sentences_and_short_ones_are_not_standard_text():
    assert recurring_sentences([
        ("a", "N", "The peers met staff."), ("b", "W", "The peers met staff."),  # too short to judge
        ("c", "N", PROCESS),
        ("d", "W", "Westford's budget gap of 38 million pounds over three years needs a credible plan soon."),
    ]) == frozenset()


def test_one_template_stating_different_figures_is_not_standard_text():
    """"The plan shows a gap of 2.6 million pounds by 2026/27" is each council's own fact, though
    the words around the figures are the same."""
    one = "The medium term financial plan shows a gap of 2.6 million pounds by 2026/27, mainly from pay."
    two = "The medium term financial plan shows a gap of 3.8 million pounds by 2025/26, mainly from pay."
    assert recurring_sentences([("a", "N", one), ("b", "W", two)]) == frozenset()
    assert recurring_sentences([("a", "N", one), ("b", "W", one)]) == {"a", "b"}


def test_a_short_line_standing_in_three_councils_documents_is_standard_text():
    """A theme every report lists is furniture; in two councils' documents it may be chance."""
    theme = "4. Financial planning and management"
    two = [("a", "N", theme), ("b", "W", theme + ".")]
    assert recurring_sentences(two) == frozenset()
    assert recurring_sentences([*two, ("c", "S", "Financial planning and management")]) == {"a", "b", "c"}
    assert recurring_sentences([*two, ("c", "N", theme)]) == frozenset()  # one council twice
