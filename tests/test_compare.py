"""Comparisons across councils and exhaustive listings of mentions."""

from __future__ import annotations

import json
import re

import pytest

from assistant.compare import (
    compare,
    list_mentions,
    phrase_pattern,
)
from assistant.render.jsonout import comparison_to_json, listing_to_json
from assistant.render.text import render_comparison, render_listing
from assistant.retrieval import Retriever

from tests.fakes import query_for


def test_phrase_pattern_is_case_whitespace_and_plural_insensitive():
    pattern = phrase_pattern("shared service")
    assert pattern.search("the Shared\nServices agenda") and pattern.search("a shared service")
    assert not pattern.search("unshared services")
    assert phrase_pattern("services").search("one service")


def _normalised(text: str) -> str:
    return " ".join(text.split()).lower()


def test_exact_listing_counts_chunks_and_occurrences(fake_index):
    _, store = fake_index
    listing = list_mentions(query_for(store, "which reports mention shared services?"), store)
    assert listing.mode == "exact" and listing.term == "shared services"
    expected = {
        d
        for d, doc in store.documents.items()
        if re.search(r"shared services?", _normalised(doc.text))
    }
    assert {m.doc_id for m in listing.mentions} == expected
    for mention in listing.mentions:
        assert mention.exact and mention.occurrences >= 1 and mention.chunk_count >= 1
        assert "shared service" in _normalised(mention.best.chunk.text)
    assert (
        listing.summary()
        == f"searched {len(store.documents)} of {len(store.documents)} documents, "
        f"{len(store.chunks)} chunks"
    )


# ---------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def seed(real_index):
    settings, store = real_index
    return settings, store, Retriever(store, settings)


@pytest.mark.slow
def test_shared_services_at_each_council(seed):
    settings, store, retriever = seed
    comp = compare(query_for(store, "What did the peers say about shared services at each council?"),
                   store, settings, retriever)
    assert set(comp.councils) == {"Cambridge City Council", "Cambridgeshire County Council"}
    answered = {g.council for g in comp.groups if not g.abstained}
    assert answered == set(comp.councils)
    numbers = [n for g in comp.groups for n in g.numbers]
    assert numbers == list(range(1, len(numbers) + 1))  # numbered across the whole comparison
    for group in comp.groups:
        assert group.passages and len(group.numbers) == len(group.passages)
        for passage in group.passages:  # each group's passages come from its council only
            assert passage.meta.council == group.council
            assert passage.meta.year == group.year
            doc = store.documents[passage.meta.doc_id]
            assert doc.text[passage.chunk.start : passage.chunk.end] == passage.chunk.text
        if not group.abstained:
            cited = {int(n) for n in re.findall(r"\[(\d+)\]$", group.text, flags=re.MULTILINE)}
            assert cited and cited == set(group.citations) and cited <= set(group.numbers)
            for line in group.text.splitlines():  # quotes are verbatim from the cited passage
                quote, n = re.match(r"(.*) \[(\d+)\]$", line).groups()
                passage = group.passages[group.numbers.index(int(n))]
                assert quote in passage.chunk.text
    shared = [g for g in comp.groups if not g.abstained]
    assert all("shared service" in g.text.lower() for g in shared)
    text = render_comparison(comp)
    assert "Cambridge City Council" in text and "Cambridgeshire County Council" in text
    json.dumps(comparison_to_json(comp))


@pytest.mark.slow
def test_one_named_council_compares_its_years(seed):
    settings, store, retriever = seed
    comp = compare(query_for(store, "Compare the county council's peer reviews on capacity"),
                   store, settings, retriever)
    assert comp.councils == ("Cambridgeshire County Council",)
    assert {g.council for g in comp.groups} == {"Cambridgeshire County Council"}


@pytest.mark.slow
def test_which_reports_mention_the_combined_authority(seed):
    _, store, _ = seed
    listing = list_mentions(query_for(store, "Which reports mention the Combined Authority?"), store)
    expected = {
        d for d, doc in store.documents.items() if "combined authority" in _normalised(doc.text)
    }
    assert listing.mode == "exact"
    assert {m.doc_id for m in listing.mentions} == expected and len(expected) >= 2
    for mention in listing.mentions:
        doc = store.documents[mention.doc_id]
        forms = [phrase_pattern("Combined Authority")]
        forms += [
            re.compile(rf"\b{a}\b")
            for a in re.findall(r"Combined Authority \(([A-Z]{2,6})\)", doc.text)
        ]
        assert mention.occurrences == sum(len(p.findall(doc.text)) for p in forms)
        chunks = [
            c
            for c in store.chunks
            if c.doc_id == mention.doc_id and any(p.search(c.text) for p in forms)
        ]
        assert mention.chunk_count == len(chunks)
        assert mention.best.chunk in chunks
    assert listing.searched_documents == listing.total_documents == len(store.documents)
    assert listing.searched_chunks == len(store.chunks)
    rendered = render_listing(listing)
    assert (
        f"searched {len(store.documents)} of {len(store.documents)} documents, "
        f"{len(store.chunks)} chunks" in rendered
    )
    data = listing_to_json(listing)
    assert data["searched"] == {
        "documents": len(store.documents),
        "of_documents": len(store.documents),
        "chunks": len(store.chunks),
    }


@pytest.mark.slow
def test_semantic_fallback_is_marked_as_not_exact(seed):
    _, store, _ = seed
    question = "Which documents discuss staff retention and career development?"
    listing = list_mentions(query_for(store, question), store)
    assert not any(
        "staff retention and career development" in _normalised(d.text)
        for d in store.documents.values()
    )
    assert listing.mode == "semantic" and listing.mentions
    assert all(
        not m.exact and m.occurrences == 0 and m.best.score >= listing.threshold
        for m in listing.mentions
    )
    assert "only possibly related" in render_listing(listing)


@pytest.mark.slow
def test_listing_of_an_absent_term_says_so(seed):
    _, store, _ = seed
    listing = list_mentions(query_for(store, "which reports mention Ofsted?"), store)
    assert listing.mode == "none" and not listing.mentions
    assert "No document mentions it." in render_listing(listing)


def test_listing_follow_up_for_a_council_becomes_a_council_filter(real_index):
    """"… the Combined Authority for the county council" lists county documents only."""
    from assistant.compare import list_mentions

    _settings, store = real_index
    question = "Which reports mention the Combined Authority for the county council?"
    listing = list_mentions(query_for(store, question), store)
    assert listing.term == "Combined Authority"
    assert listing.mentions and {m.council for m in listing.mentions} == {"Cambridgeshire County Council"}
    assert listing.searched_documents < listing.total_documents


# ---------------------------------------------------------------- rendering many councils

def _hostile_comparison():
    """Three councils with answers (the last with hostile text), two without, one not held."""
    from assistant.compare import Comparison, ComparisonGroup
    from assistant.types import Chunk, DocumentMeta, Passage

    def group(council: str, n: int, sentence: str) -> ComparisonGroup:
        meta = DocumentMeta(f"d{n}", f"{council} report", council, "peer challenge report", "2023-05-01")
        chunk = Chunk(f"c{n}", f"d{n}", sentence, 0, len(sentence), ("Finance",), 0)
        return ComparisonGroup(council, 2023, (Passage(chunk, meta, 0.9, (sentence,)),), (n,),
                               f"{sentence} [{n}]", (n,), abstained=False)

    hostile = '<img src=x onerror="alert(1)"> ![t](http://evil.example/x.png) **bold**'
    groups = (group("Northby District Council", 1, "Reserves are healthy."),
              group("Southby City Council", 2, "The budget gap is 4 million pounds."),
              group("<script>Eastby</script> Council", 3, hostile))
    return Comparison("What did peers say about finances at each council?",
                      tuple(g.council for g in groups), groups, "v1", "comparison",
                      unanswered=("Westby Borough Council", "Upby Council"),
                      not_held=("Oakbury <b>Council</b>",))


def test_chat_comparison_collapses_each_council_and_keeps_hostile_text_inert():
    import re as _re

    from assistant.render.markdown import chat_markdown

    text = chat_markdown(_hostile_comparison())
    blocks = _re.findall(r"<details( open)?><summary><strong>(.*?)</strong> — (.*?)</summary>(.*?)</details>",
                         text, flags=_re.DOTALL)
    assert [b[1] for b in blocks] == ["Northby District Council", "Southby City Council",
                                      "&lt;script&gt;Eastby&lt;/script&gt; Council"]
    assert [bool(b[0]) for b in blocks] == [True, False, False]  # only the first group is open
    assert blocks[1][2] == "The budget gap is 4 million pounds."  # the gist: its first quote
    assert "**[2]**" in blocks[1][3] and "**[1]**" not in blocks[1][3]  # each group cited
    # councils without an answer, and one not held, take a line each, not a block each
    assert text.count("<details") == 3
    assert "No passage answers this in the documents of: Westby Borough Council, Upby Council." in text
    assert "The corpus holds no documents about: Oakbury \\<b\\>Council\\</b\\>." in text
    # the only live tags are the renderer's own
    tags = set(_re.findall(r"(?<!\\)<(/?\w+)", text))
    assert tags <= {"details", "/details", "summary", "/summary", "strong", "/strong"}, tags
    assert "![t](" not in text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in blocks[2][2]
    assert "&#33;&#91;t&#93;(http&#58;//evil.example/x.png)" in blocks[2][2]
    assert "\\!\\[t\\]" in blocks[2][3]  # in the Markdown body, Markdown escapes


def test_sources_panel_groups_councils_and_escapes(tmp_path):
    import re as _re

    from assistant.render.html import sources_html

    html_text = sources_html(_hostile_comparison())
    summaries = _re.findall(r'<details class="pq-council"( open)?><summary>(.*?)</summary>', html_text)
    assert [s[1] for s in summaries][:2] == ["Northby District Council", "Southby City Council"]
    assert [bool(s[0]) for s in summaries] == [True, False, False]
    assert "<script>" not in html_text and "&lt;script&gt;Eastby" in html_text
    assert "<img" not in html_text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html_text
    assert "Westby Borough Council, Upby Council" in html_text


def test_text_and_export_keep_the_council_order_and_one_line_for_the_rest():
    from assistant.render.markdown import export_markdown
    from assistant.render.text import render_comparison

    comp = _hostile_comparison()
    text = render_comparison(comp)
    firsts = [line for line in text.splitlines() if re.match(r"\d+\. ", line)]
    assert [line.split(" — ")[0] for line in firsts] == [
        "1. Northby District Council", "2. Southby City Council", "3. <script>Eastby</script> Council"]
    assert text.count("Westby Borough Council") == 1
    export = export_markdown(comp)
    assert export.index("### Northby") < export.index("### Southby") < export.index("## References")
    assert "<details" not in export  # the export reads as a document, with headings
    data = comparison_to_json(comp)
    assert data["unanswered"] == ["Westby Borough Council", "Upby Council"]
    assert data["not_held"] == ["Oakbury <b>Council</b>"]
    assert [g["council"] for g in data["groups"]] == list(comp.councils)


# ---------------------------------------------------------------- eight councils, real model

@pytest.fixture(scope="module")
def councils(tmp_path_factory):
    """The many-council fixture corpus (eight councils, no catalogue) with the real model."""
    from pathlib import Path

    from assistant.route import Session
    from assistant.settings import Settings
    from assistant.store import load_index
    from ingest.build import ingest

    corpus = Path(__file__).parent / "fixtures" / "councils" / "corpus"
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("cmp") / "index")
    ingest(settings, log=lambda m: None)
    store = load_index(settings)
    return Session(store, settings)


def _respond(session, question: str):
    from assistant.route import respond

    return respond(session.analyse(question), session)


def _cited_from_own_council(comp) -> None:
    numbers = [n for g in comp.groups for n in g.numbers]
    assert numbers == list(range(1, len(numbers) + 1))  # numbered across the whole result
    for g in comp.groups:
        assert g.council in comp.councils and all(p.meta.council == g.council for p in g.passages)
        if not g.abstained:
            assert g.citations and set(g.citations) <= set(g.numbers)


@pytest.mark.slow
def test_financial_planning_at_each_of_eight_councils(councils):
    comp = _respond(councils, "What did peers say about financial planning at each council?")
    held = sorted({m.council for m in councils.store.metas.values()})
    assert len(held) >= 8 and comp.kind == "comparison"
    assert sorted(comp.councils + comp.unanswered) == held  # every held council, once
    assert list(comp.councils) == sorted(comp.councils)  # by name
    assert len(comp.councils) >= 7 and not comp.not_held
    _cited_from_own_council(comp)
    order = [g.council for g in comp.groups]
    assert order == sorted(order, key=comp.councils.index)  # a council's groups are together


@pytest.mark.slow
def test_scrutiny_listing_names_at_most_one_council_not_advised(councils):
    """"Advised to" is read from the recommendations: a council whose documents only mention
    its scrutiny committee (Barton Ashby's letter, Hollinford's action plan) is not listed."""
    comp = _respond(councils, "Which councils were advised to review their scrutiny arrangements?")
    expected = {"Wexcombeshire County Council", "Wexcombe City Council", "Royal Borough of Ellesford",
                "Brindlemoor Metropolitan Borough Council", "London Borough of Hartsmere",
                "Marchlands Fire and Rescue Authority"}  # tests/fixtures/councils/questions.yaml a131
    assert len(set(comp.councils) - expected) <= 1


@pytest.mark.slow
def test_which_councils_were_advised_on_scrutiny(councils):
    comp = _respond(councils, "Which councils were advised to review their scrutiny arrangements?")
    assert comp.kind == "councils" and comp.groups and all(not g.abstained for g in comp.groups)
    _cited_from_own_council(comp)
    expected = {"Wexcombeshire County Council", "Wexcombe City Council", "Royal Borough of Ellesford",
                "Brindlemoor Metropolitan Borough Council", "London Borough of Hartsmere",
                "Marchlands Fire and Rescue Authority"}  # tests/fixtures/councils/questions.yaml a131
    assert len(set(comp.councils) & expected) >= 5
    assert set(comp.councils) | set(comp.unanswered) == {m.council for m in councils.store.metas.values()}
    none = _respond(councils, "Which councils were told to set up a local energy company?")
    assert not none.councils and not none.groups  # nobody was; each council named in one line
    assert "Not found in the documents of:" in render_comparison(none)


@pytest.mark.slow
def test_a_council_the_corpus_lacks_is_said_so_in_a_comparison(councils):
    comp = _respond(councils, "Compare Hollinford's budget gap with Oakbury Borough Council's")
    assert comp.not_held == ("Oakbury Borough Council",) and comp.councils == ("Hollinford Council",)
    assert "The corpus holds no documents about: Oakbury Borough Council." in render_comparison(comp)


def test_a_comparison_embeds_its_question_once_whatever_the_number_of_councils(index):
    """Each council is searched on its own, but the question's vectors are computed once."""
    from tests.fakes import FakeEmbedder

    settings, store = index
    calls: list[str] = []

    class Counting(FakeEmbedder):
        def embed_query(self, text: str):
            calls.append(text)
            return super().embed_query(text)

    retriever = Retriever(store, settings, encoder=Counting())
    query = query_for(store, "What did the peers say about shared services at each council?")
    comp = compare(query, store, settings, retriever)
    searched = len(comp.councils) + len(comp.unanswered)
    assert searched >= 2 and len(calls) == len(set(calls)) <= 2, calls
    assert retriever.encoder.__class__ is Counting  # the shared retriever is left as it was


def test_which_councils_had_a_follow_up_visit_lists_councils_whose_pages_tell_of_one(tmp_path):
    """A council with no progress review in the corpus is listed when one of its own pages tells
    of its follow-up visit as a dated, past event; a page saying one "will" come is not enough."""
    from assistant.route import Session, respond
    from tests.conftest import build_fake_index_with
    from tests.fakes import FakeEmbedder

    settings, store = build_fake_index_with(tmp_path, {
        "northby-peer-challenge.txt":
            "Peer challenge - Northby District Council\n\nPeers from other councils spent three days with "
            "Northby District Council in October 2019.\n\nThe team came to Northby District Council again "
            "for a follow-up visit in March 2021 and found good progress on most actions.\n",
        "southby-peer-challenge.txt":
            "Peer challenge - Southby Borough Council\n\nPeers from other councils spent four days with "
            "Southby Borough Council in June 2024.\n\nThere will be a follow-up visit to Southby Borough "
            "Council in 2025 to look at our progress.\n"})
    session = Session(store, settings, Retriever(store, settings, encoder=FakeEmbedder()))
    comp = respond(session.analyse("Which councils had a follow-up visit from the peers?"), session)
    assert comp.kind == "councils"
    assert "Northby District Council" in comp.councils
    assert "Cambridgeshire County Council" in comp.councils  # it has a progress review document
    assert "Southby Borough Council" not in comp.councils and "Cambridge City Council" not in comp.councils



@pytest.mark.slow
def test_a_council_whose_documents_never_mention_the_service_is_not_compared(councils):
    """Compared on a council service (domain.yaml service_topics), a council whose documents use
    no word of its family is named as unanswered, not quoted on something else; Ellesford's
    report speaks of its visitor economy, so it is compared on tourism."""
    comp = _respond(councils, "Compare what the peers said about tourism in Ellesford and Hollinford")
    assert comp.kind == "comparison"
    assert comp.councils == ("Royal Borough of Ellesford",) and comp.unanswered == ("Hollinford Council",)
