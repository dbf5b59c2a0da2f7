"""Retrieval: fusion (pure), council/year hints, filters, and searches over the seed corpus.

Fast tests use a fake-embedder index built once per module; the ``slow`` ones use the real model.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.errors import UsageError
from assistant.retrieval import (
    Retriever,
    document_matches,
    fuse_rankings,
    fuse_scores,
    make_filters,
    parse_years,
)
from assistant.types import DOC_TYPES, DocumentMeta, Filters
from tests.fakes import FakeEmbedder, query_for

CITY = "Cambridge City Council"
COUNTY = "Cambridgeshire County Council"
REPORT_2017 = "cambridge-city-2017-corporate-peer-challenge-report"


def metas(store) -> list[DocumentMeta]:
    return list(store.metas.values())


# ---------------------------------------------------------------- fuse_rankings

def test_item_in_both_lists_beats_items_in_one():
    fused = fuse_rankings([[7, 3], [3, 9]], k=60)
    assert max(fused, key=fused.get) == 3
    assert fused[3] == pytest.approx(1 / 62 + 1 / 61)
    # an item ranked last in both lists still beats one ranked first in only one list
    fused = fuse_rankings([[1, 2, 3, 4], [5, 6, 7, 4]], k=60)
    assert fused[4] > fused[1] and fused[4] > fused[5]


def test_ranks_start_at_one():
    fused = fuse_rankings([[10, 20]], k=60)
    assert fused == {10: pytest.approx(1 / 61), 20: pytest.approx(1 / 62)}
    assert fuse_rankings([[5]], k=0) == {5: pytest.approx(1.0)}


def test_weights_matter():
    rankings = [[1, 2], [2, 1]]
    assert fuse_rankings(rankings)[1] == pytest.approx(fuse_rankings(rankings)[2])  # a tie unweighted
    dense_heavy = fuse_rankings(rankings, weights=[2.0, 1.0])
    lexical_heavy = fuse_rankings(rankings, weights=[1.0, 2.0])
    assert dense_heavy[1] > dense_heavy[2]
    assert lexical_heavy[2] > lexical_heavy[1]
    assert fuse_rankings(rankings, weights=[0.0, 1.0]) == {2: pytest.approx(1 / 61), 1: pytest.approx(1 / 62)}


def test_one_weight_per_ranking():
    with pytest.raises(ValueError):
        fuse_rankings([[1], [2]], weights=[1.0])


def test_unequal_lengths_and_empty_lists():
    fused = fuse_rankings([[1, 2, 3, 4, 5], [5], []], k=60)
    assert set(fused) == {1, 2, 3, 4, 5}
    assert fused[5] == pytest.approx(1 / 65 + 1 / 61)
    assert max(fused, key=fused.get) == 5
    assert fuse_rankings([[], []]) == {}
    assert fuse_rankings([]) == {}


rankings_strategy = st.lists(
    st.lists(st.integers(0, 30), max_size=12, unique=True), min_size=1, max_size=3
)


@hsettings(max_examples=200, deadline=None)
@given(rankings=rankings_strategy, data=st.data())
def test_improving_a_rank_never_lowers_the_score(rankings, data):
    """Property: moving an item up one place in one list never lowers its fused score."""
    weights = data.draw(st.lists(st.floats(0.0, 5.0), min_size=len(rankings), max_size=len(rankings)))
    k = data.draw(st.integers(0, 100))
    which = data.draw(st.integers(0, len(rankings) - 1))
    ranking = rankings[which]
    if len(ranking) < 2:
        return
    position = data.draw(st.integers(1, len(ranking) - 1))
    item = ranking[position]
    improved = list(ranking)
    improved[position - 1], improved[position] = improved[position], improved[position - 1]
    better = [improved if i == which else r for i, r in enumerate(rankings)]
    before = fuse_rankings(rankings, weights, k)
    after = fuse_rankings(better, weights, k)
    assert after[item] >= before[item]
    assert set(after) == set(before)


@hsettings(max_examples=100, deadline=None)
@given(rankings=rankings_strategy)
def test_fused_items_are_exactly_the_ranked_items(rankings):
    fused = fuse_rankings(rankings)
    assert set(fused) == {item for ranking in rankings for item in ranking}
    assert all(score > 0 for score in fused.values())


# ---------------------------------------------------------------- fuse_scores

def test_fuse_scores_min_max_normalises_each_map():
    fused = fuse_scores([{1: 0.2, 2: 0.6, 3: 0.4}, {2: 10.0, 4: 30.0}], [1.0, 1.0])
    assert fused == {1: pytest.approx(0.0), 2: pytest.approx(1.0), 3: pytest.approx(0.5),
                     4: pytest.approx(1.0)}


def test_fuse_scores_weights_scale_and_missing_items_score_zero():
    fused = fuse_scores([{1: 5.0, 2: 1.0}, {2: 3.0, 3: 1.0}], [2.0, 0.5])
    assert fused[1] == pytest.approx(2.0)
    assert fused[2] == pytest.approx(0.5)  # bottom of map 1 (0) + top of map 2 (0.5)
    assert fused[3] == pytest.approx(0.0)


def test_fuse_scores_constant_and_empty_maps():
    # no span: no division by zero, and tied items are that map's best (a lone match counts)
    assert fuse_scores([{1: 0.7, 2: 0.7}], [1.0]) == {1: 1.0, 2: 1.0}
    assert fuse_scores([{}, {5: 2.0}], [1.0, 1.0]) == {5: 1.0}
    assert fuse_scores([], []) == {}


# ---------------------------------------------------------------- council aliases and hints

def test_retriever_knows_years_the_text_mentions(index):
    store = index[1]
    assert query_for(store, "What did the 2016 residents' survey find?").unknown_years == ()
    assert query_for(store, "What did the 2019 review find?").unknown_years == (2019,)


# ---------------------------------------------------------------- filters

@pytest.mark.parametrize("value, expected", [
    ("2013", (2013, 2013)),
    ("2013-2017", (2013, 2017)),
    (" 2013 – 2017 ", (2013, 2017)),
    (None, (None, None)),
    ("", (None, None)),
])
def test_parse_years(value, expected):
    assert parse_years(value) == expected


@pytest.mark.parametrize("value", ["13", "2013-", "twenty", "2013/2017", "2013-2017-2019"])
def test_parse_years_rejects_bad_values(value):
    with pytest.raises(UsageError, match="YYYY"):
        parse_years(value)


def test_parse_years_rejects_reversed_range():
    with pytest.raises(UsageError, match="ends before it starts"):
        parse_years("2017-2013")


@pytest.mark.parametrize("value, council", [
    ("city", CITY), ("county", COUNTY), ("city council", CITY), ("the county", COUNTY),
    ("Cambridgeshire", COUNTY), ("Cambridge", CITY), ("Cambridge City Council", CITY),
])
def test_make_filters_resolves_council_aliases(index, value, council):
    assert make_filters(index[1], council=value).council == council


def test_make_filters_unknown_council_names_the_valid_ones(index):
    with pytest.raises(UsageError) as info:
        make_filters(index[1], council="Oxford")
    message = str(info.value)
    assert CITY in message and COUNTY in message
    assert message.count(CITY) == 1  # each council listed once
    assert "\n" not in message


def test_make_filters_unknown_doc_type_names_the_valid_ones(index):
    with pytest.raises(UsageError) as info:
        make_filters(index[1], doc_type="minutes")
    assert all(t in str(info.value) for t in DOC_TYPES)
    assert make_filters(index[1], doc_type=" News ").doc_type == "news"


def test_make_filters_unknown_document(index):
    with pytest.raises(UsageError) as info:
        make_filters(index[1], doc_id="no-such-document")
    assert REPORT_2017 in str(info.value)  # names the ids the index holds
    assert make_filters(index[1], doc_id=REPORT_2017).doc_id == REPORT_2017


def test_make_filters_bad_year(index):
    with pytest.raises(UsageError):
        make_filters(index[1], year="2017-2013")
    filters = make_filters(index[1], year="2013-2014")
    assert (filters.year_from, filters.year_to) == (2013, 2014)


def test_document_matches():
    meta = DocumentMeta(doc_id="d", title="t", council=COUNTY, doc_type="news", date="2022-03",
                        visit_date="2021-07")
    assert document_matches(meta, Filters())
    assert document_matches(meta, Filters(council=COUNTY, doc_type="news", year_from=2021, year_to=2021))
    assert not document_matches(meta, Filters(council=CITY))
    assert not document_matches(meta, Filters(doc_type="action plan"))
    assert not document_matches(meta, Filters(year_from=2023))
    assert document_matches(meta, Filters(year_to=2021))  # open-ended ranges
    assert not document_matches(meta, Filters(year_to=2020))
    assert not document_matches(meta, Filters(doc_id="other"))
    assert not document_matches(meta, Filters(not_councils=(COUNTY,)))  # a peer's own council
    assert document_matches(meta, Filters(not_councils=(CITY,)))
    assert Filters(not_councils=(CITY,)).active


QUESTION = "What did the peers say about shared services and partnership working?"


@pytest.mark.parametrize("filters", [
    Filters(council=CITY),
    Filters(council=COUNTY),
    Filters(doc_type="progress review"),
    Filters(year_from=2013, year_to=2014),
    Filters(doc_id=REPORT_2017),
    Filters(council=COUNTY, year_from=2022, year_to=2022),
    Filters(not_councils=(CITY,)),
])
def test_filters_restrict_every_passage(retriever, filters):
    result = retriever.search(QUESTION, filters, k=10)
    assert result.passages
    assert all(document_matches(p.meta, filters) for p in result.passages)
    expected = sum(document_matches(retriever.store.documents[c.doc_id].meta, filters)
                   for c in retriever.store.chunks)
    assert result.searched_chunks == expected < len(retriever.store.chunks)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filter_excluding_everything(index, mode):
    settings, store = index
    retriever = Retriever(store, settings, encoder=FakeEmbedder(), mode=mode)
    result = retriever.search(QUESTION, Filters(council=CITY, year_from=2022, year_to=2022))
    assert result.passages == ()
    assert result.reason == "filtered_out"
    assert result.searched_chunks == 0


def test_no_filter_is_not_filtered_out(retriever):
    result = retriever.search(QUESTION)
    assert result.reason == ""
    assert result.searched_chunks == len(retriever.store.chunks)


# ---------------------------------------------------------------- search invariants

def _check_passages(result, store, k):
    ids = [p.chunk.chunk_id for p in result.passages]
    assert len(ids) == len(set(ids))
    assert len(ids) <= min(k, len(store.chunks))
    known = {c.chunk_id for c in store.chunks}
    assert set(ids) <= known


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_k_is_capped_to_what_exists(index, mode):
    settings, store = index
    retriever = Retriever(store, settings, encoder=FakeEmbedder(), mode=mode)
    result = retriever.search(QUESTION, k=50)
    _check_passages(result, store, 50)
    assert len(result.passages) > 5  # more than the default k came back


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_more_candidates_than_chunks(index, mode):
    """faiss returns id -1 and bm25s raises when asked for more than exists: both are capped."""
    settings, store = index
    many = replace(settings, retrieval=replace(settings.retrieval, candidates=10_000))
    retriever = Retriever(store, many, encoder=FakeEmbedder(), mode=mode)
    for filters in (Filters(), Filters(doc_id="cambridgeshire-county-2022-progress-review-news")):
        result = retriever.search(QUESTION, filters, k=50)
        _check_passages(result, store, 50)
        assert all(document_matches(p.meta, filters) for p in result.passages)
    allowed = retriever.allowed_rows(Filters(doc_id="cambridgeshire-county-2022-progress-review-news"))
    assert len(result.passages) <= int(allowed.sum())


def test_passages_are_distinct(index):
    """No passage repeats more than ``dedupe_overlap`` of its own text from a better one."""
    settings, store = index
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    limit = settings.retrieval.dedupe_overlap
    for question in (QUESTION, "decision making pace", "action plan recommendations"):
        passages = retriever.search(question, k=50).passages
        for i, a in enumerate(passages):
            for b in passages[i + 1:]:
                if a.chunk.doc_id == b.chunk.doc_id:
                    overlap = min(a.chunk.end, b.chunk.end) - max(a.chunk.start, b.chunk.start)
                    assert overlap <= limit * len(b.chunk.text)


def test_a_long_passage_below_a_short_one_it_overlaps_keeps_its_own_sentences(index):
    """A document's short last chunk may rank above the long one before it, which it overlaps
    by more than half of its own length: the long one still shows sentences the short one
    lacks (probe 19: the leader's quote), so it stays; the short one below the long one goes."""
    settings, store = index
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    limit = settings.retrieval.dedupe_overlap
    pairs = [(i, j) for i, a in enumerate(store.chunks) for j, b in enumerate(store.chunks)
             if a.doc_id == b.doc_id and len(a.text) < len(b.text)
             and limit * len(a.text) < min(a.end, b.end) - max(a.start, b.start) <= limit * len(b.text)]
    assert pairs  # the seed corpus has such neighbours
    for short, long in pairs:
        assert retriever._distinct([short, long], 10) == [short, long]
        assert retriever._distinct([long, short], 10) == [long]


def test_distinct_drops_overlapping_neighbours(index):
    """With a strict overlap limit, no two returned chunks of one document overlap at all."""
    settings, store = index
    strict = replace(settings, retrieval=replace(settings.retrieval, dedupe_overlap=0.0))
    passages = Retriever(store, strict, encoder=FakeEmbedder()).search(QUESTION, k=50).passages
    loose = Retriever(store, settings, encoder=FakeEmbedder()).search(QUESTION, k=50).passages
    spans = [(p.chunk.doc_id, p.chunk.start, p.chunk.end) for p in passages]
    for i, (doc, start, end) in enumerate(spans):
        for other_doc, other_start, other_end in spans[i + 1:]:
            assert doc != other_doc or min(end, other_end) <= max(start, other_start)
    assert len(passages) < len(loose)  # neighbouring chunks do overlap, so some were dropped


def test_scores_descend(retriever):
    scores = [p.score for p in retriever.search(QUESTION, k=10).passages]
    assert scores == sorted(scores, reverse=True)


def test_query_with_no_known_word(index):
    settings, store = index
    bm25 = Retriever(store, settings, encoder=FakeEmbedder(), mode="bm25")
    result = bm25.search("zzzz qqqq")
    assert result.passages == ()
    assert result.confidence == 0.0
    hybrid = Retriever(store, settings, encoder=FakeEmbedder())
    assert hybrid._lexical("zzzz qqqq", None, 40) == {}
    result = hybrid.search("zzzz qqqq")  # dense still ranks something; nothing crashes
    _check_passages(result, store, settings.retrieval.k)
    assert result.confidence == 0.0  # no word of the question is in the corpus: no evidence


def test_rrf_fusion_mode_also_works(index):
    settings, store = index
    rrf = replace(settings, retrieval=replace(settings.retrieval, fusion="rrf"))
    result = Retriever(store, rrf, encoder=FakeEmbedder()).search(QUESTION, k=5)
    assert len(result.passages) == 5
    _check_passages(result, store, 5)
    ranked = {mode: [p.chunk.chunk_id for p in Retriever(store, rrf, encoder=FakeEmbedder(),
                                                         mode=mode).search(QUESTION, k=10).passages]
              for mode in ("hybrid", "dense", "bm25")}
    # both retrievers shape the fused list: it is neither one alone, and its best passage is one
    # both rank near the top (of 88 chunks; the fake embedder's dense ranking is hash noise, so
    # "near" is the top five: with lead-ins joined to their lists it is dense 1st, BM25 5th)
    assert ranked["hybrid"][:5] not in (ranked["dense"][:5], ranked["bm25"][:5])
    assert ranked["hybrid"][0] in ranked["dense"][:5] and ranked["hybrid"][0] in ranked["bm25"][:5]
    top = set(ranked["hybrid"][:5])
    assert top & set(ranked["dense"][:3]) and top & set(ranked["bm25"][:3])


# ---------------------------------------------------------------- BM25 is wired into hybrid search

def _rare_word_questions(store, form: str, every: int = 3) -> list[tuple[str, str]]:
    """(question, chunk id) for words of 7+ letters that BM25 finds in exactly one chunk; every
    third such word, to keep the test fast."""
    from assistant.lexical import bm25_scores

    bm25, tokenizer = store.bm25
    words = sorted({w for c in store.chunks for w in re.findall(r"[a-z]{7,}", c.text.lower())})
    found = []
    for word in words:
        hits = (bm25_scores(bm25, tokenizer, word) > 0).nonzero()[0]
        if len(hits) == 1:
            found.append((form.format(word=word), store.chunks[int(hits[0])].chunk_id))
    return found[::every]


def _top5_rate(store, settings, mode: str, questions) -> float:
    retriever = Retriever(store, settings, encoder=FakeEmbedder(), mode=mode)
    return sum(chunk in [p.chunk.chunk_id for p in retriever.search(q, k=5).passages]
               for q, chunk in questions) / len(questions)


@pytest.mark.parametrize("fusion, form", [("weighted", "{word} council"), ("rrf", "{word}")])
def test_hybrid_search_finds_the_chunk_only_bm25_can(index, fusion, form):
    """A rare word of the question occurs in one chunk: the fake dense model barely sees it (its
    vectors are a bag of ~200 words), BM25 ranks that chunk first. Hybrid must bring it into the
    top 5 far more often than dense alone does; a search that drops or zero-weights BM25 falls
    to the dense rate and fails here, fast, in either fusion mode."""
    settings, store = index
    settings = replace(settings, retrieval=replace(settings.retrieval, fusion=fusion))
    questions = _rare_word_questions(store, form)
    assert len(questions) >= 40
    hybrid, dense = (_top5_rate(store, settings, m, questions) for m in ("hybrid", "dense"))
    assert dense < 0.25 and hybrid > 0.6, (hybrid, dense)  # today weighted 0.93/0.05, rrf 0.72/0.15


def test_a_lone_lexical_match_still_counts_in_weighted_fusion():
    """Was a defect (a lone BM25 match normalised to 0); fixed in fuse_scores."""
    fused = fuse_scores([{1: 0.8, 2: 0.4}, {7: 3.2}], [1.0, 1.0])
    assert fused[7] > 0


def test_unknown_mode_is_refused(index):
    settings, store = index
    with pytest.raises(ValueError):
        Retriever(store, settings, encoder=FakeEmbedder(), mode="sparse")


# ---------------------------------------------------------------- real model

@pytest.fixture(scope="module")
def real_retriever(real_index) -> Retriever:
    settings, store = real_index
    return Retriever(store, settings)


DECISION_PHRASES = ("fleet of foot", "nimble and swift", "appropriate decisions are made sufficiently quickly")


@pytest.mark.slow
def test_real_decision_pace_question_finds_the_2017_report(real_retriever):
    """The eval gold for this theme (tests/fixtures/questions.yaml a001): any of its three phrases."""
    passages = real_retriever.search("what did peers say about decision-making pace?", k=5).passages
    hits = [p for p in passages if p.meta.doc_id == REPORT_2017
            and any(phrase in " ".join(p.chunk.text.split()) for phrase in DECISION_PHRASES)]
    assert hits


@pytest.mark.slow
def test_real_decision_pace_question_finds_fleet_of_foot(real_retriever):
    """The 'fleet of foot' chunk (a list of key recommendations) ranked 7th while its sentences
    were pooled from the chunk (the other recommendations blurred them) and BM25 matched the
    question's "peers say" against accounts of how a peer challenge works; 5th with each
    sentence embedded alone and the frame left out of the BM25 query (the question analysed, as
    every caller does). Since a long passage below a short one it overlaps keeps its own
    sentences (it stays), one more passage of a section above it is listed: 6th."""
    query = query_for(real_retriever.store, "what did peers say about decision-making pace?")
    passages = real_retriever.search(query, k=6).passages
    assert any("fleet of foot" in " ".join(p.chunk.text.split()) for p in passages)


@pytest.mark.slow
def test_real_county_question_returns_county_documents(real_retriever):
    query = query_for(real_retriever.store, "Did the county act on the shared services recommendation?")
    result = real_retriever.search(query, k=5)
    assert query.councils == (COUNTY,)
    assert [p.meta.council for p in result.passages[:3]] == [COUNTY] * 3


@pytest.mark.slow
def test_real_soft_council_hint_ranks_county_first(real_retriever):
    plain = real_retriever.search("What did peers say about shared services?", k=5).passages
    hinted = real_retriever.search(query_for(real_retriever.store, "What did peers in Cambridgeshire say about "
                                             "shared services?"), k=5).passages
    assert hinted[0].meta.council == COUNTY
    councils = [p.meta.council for p in hinted]
    # every county passage ranks above every city passage
    assert councils == sorted(councils, key=lambda c: c != COUNTY)
    assert councils.count(COUNTY) > [p.meta.council for p in plain].count(COUNTY)
    assert CITY in {p.meta.council for p in plain}  # the hint is soft: without it both councils appear


@pytest.mark.slow
def test_real_explicit_council_filter_restricts(real_retriever):
    filters = make_filters(real_retriever.store, council="city")
    passages = real_retriever.search("Did the county act on the shared services recommendation?",
                                     filters, k=5).passages
    assert len(passages) == 5
    assert {p.meta.council for p in passages} == {CITY}


# ---------------------------------------------------------------- standard text and answer kinds

def _scores(store, settings, query, **changes) -> dict[str, float]:
    tuned = replace(settings, retrieval=replace(settings.retrieval, **changes))
    result = Retriever(store, tuned, encoder=FakeEmbedder()).search(query, k=200)
    return {p.chunk.chunk_id: p.score for p in result.passages}


def test_standard_text_weighs_a_passage_down_by_its_share(index, monkeypatch):
    """A chunk whose sentences are all standard text loses the whole penalty; one with none
    loses nothing; in between, the penalty times the standard share of its text."""
    from assistant import retrieval

    settings, store = index
    first = Retriever(store, settings, encoder=FakeEmbedder()).search(QUESTION, k=1).passages[0].chunk
    marked = frozenset((first.doc_id, s.start) for s in first.sentences)
    monkeypatch.setattr(retrieval, "standard_text", lambda *_: marked)
    share = Retriever(store, settings, encoder=FakeEmbedder())._standard_share(marked)
    row = next(i for i, c in enumerate(store.chunks) if c.chunk_id == first.chunk_id)
    assert share[row] == pytest.approx(1.0)
    assert 0 < (share > 0).sum() < len(share)  # only chunks sharing those sentences
    plain = _scores(store, settings, QUESTION, standard_penalty=0.0)
    weighed = _scores(store, settings, QUESTION, standard_penalty=0.5)
    by_id = {c.chunk_id: i for i, c in enumerate(store.chunks)}
    assert all(type(score) is float for score in weighed.values())  # JSON-ready, not NumPy
    for chunk_id, score in weighed.items():
        assert score == pytest.approx(plain[chunk_id] - 0.5 * share[by_id[chunk_id]], abs=2e-4)


def test_a_passage_giving_the_expected_kind_of_answer_gains_the_bonus(index):
    from assistant.answer_type import Expected, gives
    from assistant.query import Query

    settings, store = index
    query = Query(text="When did the peer team visit the council?", expected=Expected("date", "a date"))
    plain = _scores(store, settings, query, typed_bonus=0.0, typed_sentence=False)
    typed = _scores(store, settings, query, typed_bonus=0.2, typed_sentence=False)
    assert plain.keys() == typed.keys()
    gained = {chunk_id for chunk_id in typed if typed[chunk_id] - plain[chunk_id] > 0.1}
    assert all(typed[c] == pytest.approx(plain[c], abs=2e-4) or c in gained for c in typed)
    chunks = {c.chunk_id: c for c in store.chunks}
    for chunk_id in typed:
        chunk = chunks[chunk_id]
        texts = [chunk.text[s.start - chunk.start:s.end - chunk.start] for s in chunk.sentences]
        dated = any(gives(texts, i, query.expected) for i in range(len(texts)))
        assert (chunk_id in gained) == dated, chunk.text[:80]
    assert 0 < len(gained) < len(typed)


def test_a_passage_giving_the_answer_is_ranked_by_the_sentence_that_gives_it(index):
    """With ``typed_sentence`` a passage giving a date is ranked by its best sentence among
    those that give one: a date elsewhere in it does not lend its best sentence."""
    from assistant.answer_type import Expected, gives
    from assistant.boilerplate import standard_text
    from assistant.query import Query

    settings, store = index
    query = Query(text="When did the peer team visit the council?", expected=Expected("date", "a date"))
    whole = _scores(store, settings, query, typed_sentence=False)
    answering = _scores(store, settings, query, typed_sentence=True)
    standard = standard_text(store, settings)
    result = Retriever(store, settings, encoder=FakeEmbedder()).search(query, k=200)
    drops = []
    for passage in result.passages:
        chunk, scores = passage.chunk, passage.sentence_scores
        texts = [chunk.text[s.start - chunk.start:s.end - chunk.start] for s in chunk.sentences]
        own = [i for i, s in enumerate(chunk.sentences) if (chunk.doc_id, s.start) not in standard]
        given = [i for i in own if gives(texts, i, query.expected)]
        drop = (max(scores[i] for i in own) - max(scores[i] for i in given)) if given else 0.0
        drops.append(drop)
        expected = whole[chunk.chunk_id] - settings.retrieval.sentence_weight * drop
        assert answering[chunk.chunk_id] == pytest.approx(expected, abs=2e-4), chunk.text[:80]
    assert any(d > 0 for d in drops) and any(d == 0 for d in drops)


def test_a_passage_of_the_kind_of_document_asked_about_gains_the_boost(index):
    """"When did the peers come back?" asks about a progress review: its passages gain
    ``doc_type_boost``, every other passage scores as without it."""
    from assistant.query import Query

    settings, store = index
    query = Query(text="What did the peers find when they came back?", doc_types=("progress review",))
    plain = _scores(store, settings, query, doc_type_boost=0.0)
    boosted = _scores(store, settings, query, doc_type_boost=0.1)
    kinds = {c.chunk_id: store.documents[c.doc_id].meta.doc_type for c in store.chunks}
    assert plain.keys() == boosted.keys()
    for chunk_id, score in boosted.items():
        gain = 0.1 if kinds[chunk_id] == "progress review" else 0.0
        assert score == pytest.approx(plain[chunk_id] + gain, abs=2e-4)
    assert {kinds[c] for c in boosted} >= {"progress review", "peer challenge report"}


def test_a_when_question_lifts_a_passage_stating_its_own_documents_month(index):
    """own_date_bonus lifts exactly the passages with a dated sentence naming the month their
    own document is dated by; a question not asking "when" gets no bonus."""
    from assistant.answer_type import Expected
    from assistant.dates import states_own_date
    from assistant.query import Query

    settings, store = index
    when = Query(text="When did the peer team visit the council?", expected=Expected("date", "a date"))
    plain = _scores(store, settings, when, own_date_bonus=0.0)
    lifted = _scores(store, settings, when, own_date_bonus=0.3)
    chunks = {c.chunk_id: c for c in store.chunks}
    gained = {c for c in lifted if lifted[c] - plain[c] > 0.25}
    for chunk_id in lifted:
        chunk = chunks[chunk_id]
        meta = store.documents[chunk.doc_id].meta
        own = any(states_own_date(chunk.text[s.start - chunk.start:s.end - chunk.start], meta)
                  for s in chunk.sentences)
        assert (chunk_id in gained) <= own, chunk.text[:80]
        assert chunk_id in gained or lifted[chunk_id] == pytest.approx(plain[chunk_id], abs=2e-4)
    assert gained, "the fake corpus has dated passages of their own documents"
    other = Query(text="What did the peer team find?")
    assert _scores(store, settings, other, own_date_bonus=0.3) == _scores(store, settings, other, own_date_bonus=0.0)
