"""The web UI's comparison and listing routes, the theme filter and the Recommendations tab.

Plain handler calls over the fake-embedder index (no server); see test_ui_handlers.py for the
ordinary answer route and test_ui_browser.py for the same features in a browser.
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest

import ui
from assistant.compare import Comparison, Listing
from assistant.recommendations import build_register
from assistant.render.common import numbered_passages
from assistant.render.tables import register_table
from assistant.retrieval import Retriever
from assistant.settings import Settings
from assistant.themes import chunk_themes, theme_label
from assistant.types import Answer
from tests.fakes import FakeEmbedder, word_count, query_for
from tests.test_ui_handlers import (  # noqa: F401 - `handlers` is a shared fixture
    CountingRetriever, answering, handlers, live_markup, plain,
)

CITY, COUNTY = "Cambridge City Council", "Cambridgeshire County Council"
LISTING = "Which reports mention the Combined Authority?"
COMPARISON = "What did the peers say about shared services at each council?"
KEY_2017 = [  # the six key recommendations of the city council's 2017 report, in order
    "Prioritise what's important to you and focus on delivery.",
    "Articulate your narrative and tailor to different audiences.",
    ("Consider if your decision making process will enable you to adapt and respond quickly to "
     "the changing landscape around you."),
    ("Move forward with an enhanced energised culture for delivering the council's future agenda "
     "and transformation programme."),
    "Work out what you want from shared services.",
    "World famous cutting edge city – do you want to be a cutting edge council?",
]
FORMULA_REPORT = """Formulashire District Council corporate peer challenge feedback report

1. Executive summary

Formulashire District Council is a well run council with stable finances.

2. Key recommendations

1. =HYPERLINK("http://evil.example/x","Click here") and refresh the budget. The council should act.

2. @SUM(A1:A9) is how the council should count its reserves. More detail follows here.

3. Improve scrutiny <img src=x onerror=alert(1)> of decisions. The committees should meet monthly.
"""


@pytest.fixture
def formula(tmp_path) -> ui.ChatHandlers:
    """Handlers over one document whose recommendations start with spreadsheet formulas."""
    from assistant.store import load_index
    from ingest.build import ingest

    corpus = tmp_path / "formula-corpus"
    corpus.mkdir()
    (corpus / "formulashire-2019-peer-challenge-report.txt").write_text(FORMULA_REPORT)
    # a dozen lines would be typed a web page (a report runs to pages): the catalogue says
    (corpus / "catalog.yaml").write_text(
        "formulashire-2019-peer-challenge-report.txt:\n  doc_type: peer challenge report\n")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "formula-index", model="fake")
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None)
    store = load_index(settings)
    return ui.ChatHandlers(store, settings, Retriever(store, settings, encoder=FakeEmbedder()),
                           export_dir=tmp_path / "out")


def inert_html(page: str) -> bool:
    return ("<script" not in page.lower() and not re.search(r"<[^>]*\son\w+\s*=", page, re.IGNORECASE)
            and not re.search(r"<(img|iframe|svg|a)\b", page, re.IGNORECASE))


# ---------------------------------------------------------------- routes

def test_listing_lists_every_matching_document_with_coverage(handlers):
    turn = handlers.ask(LISTING, [], [])
    listing = turn.answer
    assert isinstance(listing, Listing) and listing.mode == "exact"
    assert handlers.retriever.searches == 0  # a listing scans every chunk, not the top k
    docs = {d.meta.doc_id for d in handlers.store.documents.values()
            if re.search(r"combined\s+authorit", d.text, re.IGNORECASE)}
    assert {m.doc_id for m in listing.mentions} == docs and len(docs) >= 3
    reply = plain(turn.chat[-1]["content"])
    total, chunks = len(handlers.store.documents), len(handlers.store.chunks)
    assert f"searched {total} of {total} documents, {chunks} chunks" in reply
    for n, m in enumerate(listing.mentions, start=1):
        assert m.title in reply and f"[{n}]" in reply
    assert "mentions (Combined Authority / CA) in" in reply  # abbreviation the letter defines
    assert turn.sources.count('class="pq-source') == len(listing.mentions)
    assert f"searched {total} of {total} documents" in turn.sources
    assert '<mark class="pq-quote">Combined Authority</mark>' in turn.sources
    assert [n for _, n in turn.passage["choices"]] == list(range(1, len(docs) + 1))
    shown = handlers.show_context(len(docs), turn.answer)
    assert '<span class="pq-chunk">' in shown and "Combined Authority" in shown
    exported = Path(turn.download["value"]).read_text(encoding="utf-8")
    assert exported == turn.markdown and exported.startswith(f"# {LISTING}")
    assert "## References" in exported and f"Index version: {handlers.store.version}" in exported


def test_listing_of_an_unknown_term_says_so(handlers):
    turn = handlers.ask("Which reports mention zeppelins?", [], [])
    assert isinstance(turn.answer, Listing) and turn.answer.mentions == ()
    assert "No document mentions it" in turn.chat[-1]["content"]
    assert turn.passage["choices"] == []


def test_listing_respects_the_council_filter(handlers):
    listing = handlers.ask(LISTING, [], [], council=COUNTY).answer
    assert listing.mentions and {m.council for m in listing.mentions} == {COUNTY}
    assert listing.searched_documents < listing.total_documents


def test_comparison_is_grouped_by_council_and_year(handlers):
    turn = handlers.ask(COMPARISON, [], [])
    comp = turn.answer
    assert isinstance(comp, Comparison) and set(comp.councils) == {CITY, COUNTY}
    numbers = [n for g in comp.groups for n in g.numbers]
    assert numbers == list(range(1, len(numbers) + 1))  # numbered across the groups
    reply = turn.chat[-1]["content"]
    at = [reply.index(f"<summary><strong>{c}</strong>") for c in comp.councils]  # a block each
    assert at == sorted(at)  # in the order of the comparison
    for g in comp.groups:
        assert f"**{g.year or 'undated'}**" in reply
        for c in g.citations:
            assert f"**[{c}]**" in reply
    assert turn.sources.count('class="pq-group"') == len(comp.groups)
    assert turn.sources.count('class="pq-source') == len(numbers)
    assert turn.sources.count("pq-source pq-cited") == len({c for g in comp.groups for c in g.citations})
    last = numbers[-1]
    assert [n for _, n in turn.passage["choices"]] == numbers
    passage = dict(zip(numbers, (p for g in comp.groups for p in g.passages)))[last]
    assert html.escape(passage.chunk.text[:40]) in handlers.show_context(last, comp)
    exported = Path(turn.download["value"]).read_text(encoding="utf-8")
    assert exported.startswith(f"# {COMPARISON}") and "## References" in exported
    assert all(re.search(rf"^{n}\. ", exported, re.MULTILINE) for n in numbers)


def test_comparison_uses_the_theme_and_year_filters(handlers):
    comp = handlers.ask(COMPARISON, [], [], years="2022", theme="Partnerships and shared services").answer
    themes = dict(zip((c.chunk_id for c in handlers.store.chunks),
                      chunk_themes(handlers.store, handlers.retriever.encoder)))
    passages = [p for g in comp.groups for p in g.passages]
    assert passages and all(p.meta.year == 2022 for p in passages)
    assert all("partnerships" in themes[p.chunk.chunk_id] for p in passages)


def test_ordinary_question_still_gets_an_answer(handlers):
    turn = handlers.ask("What did the peers say about the city council's finances?", [], [])
    assert isinstance(turn.answer, Answer) and "quoted from the documents" in turn.chat[-1]["content"]


# ---------------------------------------------------------------- theme filter

def test_theme_filter_restricts_passages(handlers):
    question = "What did the peers say about the council?"
    themes = dict(zip((c.chunk_id for c in handlers.store.chunks),
                      chunk_themes(handlers.store, handlers.retriever.encoder)))
    for label in ui.THEME_LABELS:
        theme_id = handlers.filters(None, None, None, label).theme
        assert theme_label(theme_id) == label
        turn = handlers.ask(question, [], [], theme=label)
        tagged = [c for c, t in themes.items() if theme_id in t]
        assert turn.answer.passages or not tagged
        assert all(theme_id in themes[p.chunk.chunk_id] for p in turn.answer.passages), label
    unfiltered = handlers.ask(question, [], []).answer.passages
    finance = handlers.filters(None, None, None, "Financial planning and management").theme
    assert any(finance not in themes[p.chunk.chunk_id] for p in unfiltered)  # the filter narrows
    assert handlers.filters(None, None, None, ui.ANY_THEME).theme is None


def test_unknown_theme_is_reported_in_the_chat(handlers):
    turn = handlers.ask("What about finances?", [], [], theme="Astrology")
    assert "Unknown theme" in plain(turn.chat[-1]["content"])
    assert handlers.retriever.searches == 0


def test_theme_filter_narrows_a_listing(handlers, shared_fake_index):
    """A listing under a theme counts only passages tagged with it."""
    from assistant.compare import list_mentions
    from assistant.themes import chunk_themes, resolve_theme
    from assistant.types import Filters

    _settings, store = shared_fake_index
    theme = resolve_theme("Financial planning and management")
    every = list_mentions(query_for(store, LISTING), store, encoder=FakeEmbedder())
    themed = list_mentions(query_for(store, LISTING), store, encoder=FakeEmbedder(),
                           filters=Filters(theme=theme))
    themes = chunk_themes(store, FakeEmbedder())
    tagged = sum(1 for i, _ in enumerate(store.chunks) if theme in themes[i])
    assert themed.searched_chunks == tagged < every.searched_chunks
    assert all(theme in themes[store.chunks.index(m.best.chunk)] for m in themed.mentions)


# ---------------------------------------------------------------- Recommendations tab

def test_register_tab_filters_by_council_and_theme(handlers):
    table, summary, download = handlers.register(CITY, ui.ALL)
    assert list(table.columns) == ui.REGISTER_HEADERS
    assert set(table["Council"]) == {CITY} and len(table) == 18
    recs = table[table["Kind"] == "recommendation"]
    assert list(recs["Text"]) == KEY_2017 and list(recs["No."]) == ["1", "2", "3", "4", "5", "6"]
    assert all(s.startswith("Corporate Peer Challenge feedback report") and "2. Key recommendations" in s
               for s in recs["Source"])
    assert "18 records" in summary and "6 recommendations, 12 actions" in summary
    rows = list(csv.DictReader(io.StringIO(Path(download["value"]).read_text(encoding="utf-8"))))
    assert len(rows) == 18 and {r["council"] for r in rows} == {CITY}

    everything, _, _ = handlers.register(ui.ALL, ui.ALL)
    assert set(everything["Council"]) == {CITY, COUNTY} and len(everything) > len(table)
    label = "Partnerships and shared services"
    themed, _, _ = handlers.register(ui.ALL, label)
    assert 0 < len(themed) < len(everything) and all(label in t for t in themed["Themes"])


def test_register_lineage_names_links_and_weak_links(handlers):
    records = {r.record_id: r for r in build_register(handlers.store, handlers.retriever.encoder)}
    rows, links = handlers.register_data()
    for row, line in zip(rows, register_table(rows, links)):
        record = records[row["id"]]
        lineage = line[-1].splitlines()
        assert len(lineage) == len(record.links)
        for text, link in zip(lineage, record.links):
            expected = link.status if link.strength == "linked" else "possibly related"
            assert text.startswith(f"▸ {expected} ({link.date}): ")
    assert any(any(link.strength == "possibly related" for link in r.links) for r in records.values())


def test_register_is_computed_once_and_lazily(handlers, monkeypatch):
    assert getattr(handlers.store, "_peerqa_register", None) is None  # not before it is asked for
    calls = []
    real = ui.register_rows
    monkeypatch.setattr(ui, "register_rows", lambda *a, **k: calls.append(k) or real(*a, **k))
    handlers.register()
    handlers.register(CITY, ui.ALL)
    assert len(calls) == 1 and calls[0]["encoder"] is handlers.retriever.encoder


def test_app_build_does_not_compute_the_register(fake_index):
    settings, store = fake_index
    ui.build_app(store, settings, Retriever(store, settings, encoder=FakeEmbedder()))
    assert getattr(store, "_peerqa_register", None) is None


def test_register_csv_neutralises_formulas_and_table_keeps_text(formula):
    table, _, download = formula.register()
    assert table["Text"][0].startswith("=HYPERLINK(")  # the table shows the text as it is
    assert "<img src=x onerror=alert(1)>" in table["Text"][2]  # Dataframe "str" cells render as text
    text = Path(download["value"]).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["text"][:2] for r in rows[:2]] == ["'=", "'@"]
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c[:1] == "-" and not re.fullmatch(r"-?\d+(\.\d+)?", c)]


def test_empty_register_selection_disables_the_download(formula):
    table, summary, download = formula.register(ui.ALL, "Local priorities and outcomes")
    if len(table):  # the fake model may tag a record with it; another theme will be empty then
        empty = [label for label in ui.THEME_LABELS if not len(formula.register(ui.ALL, label)[0])]
        table, summary, download = formula.register(ui.ALL, empty[0])
    assert len(table) == 0 and "0 records" in summary
    assert download["interactive"] is False and download["value"] is None


# ---------------------------------------------------------------- escaping

def test_hostile_listing_and_comparison_render_inert(tmp_path):
    from tests.test_ui_handlers import build_hostile_index

    settings, store = build_hostile_index(tmp_path)
    settings = answering(settings)
    hostile = ui.ChatHandlers(store, settings, Retriever(store, settings, encoder=FakeEmbedder()),
                              export_dir=tmp_path / "out")
    listing = hostile.ask("Which reports mention the recycling strategy?", [], [])
    comparison = hostile.ask("Compare what the peers recommended about recycling at each council",
                             [], [])
    assert isinstance(listing.answer, Listing) and isinstance(comparison.answer, Comparison)
    for turn in (listing, comparison):
        assert any("hostile" in p.meta.doc_id for p in numbered_passages(turn.answer).values())
        assert inert_html(turn.sources)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in turn.sources
        for n in numbered_passages(turn.answer):
            assert inert_html(hostile.show_context(n, turn.answer))
        for markdown in (turn.chat[-1]["content"], turn.markdown):
            own = re.sub(r"</?(?:details(?: open)?|summary|strong)>", "", markdown)  # the renderer's
            assert live_markup(own) == [], markdown
            assert "<script>alert(1)</script>" in plain(markdown)
