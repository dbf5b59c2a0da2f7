"""The web UI's handlers and renderers as plain functions (fake embedder, no server)."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import ui
from assistant.render.html import CONTEXT_CHARS, highlight
from assistant.render.markdown import answer_chat_markdown, md_inert
from assistant.render.tables import corpus_rows
from assistant.render.text import corpus_summary
from assistant.retrieval import Retriever
from assistant.settings import Settings
from assistant.types import Answer
from tests.fakes import FakeEmbedder, word_count

HOSTILE_DIR = Path(__file__).parent / "fixtures" / "hostile"
HOSTILE_QUESTION = "What did the peers recommend about the recycling strategy?"
COUNCILS = ["Cambridge City Council", "Cambridgeshire County Council"]


def build_hostile_index(tmp_path: Path):
    """(settings, store) of a fake-embedder index over tests/fixtures/hostile."""
    from assistant.store import load_index
    from ingest.build import ingest

    corpus = tmp_path / "hostile-corpus"
    shutil.copytree(HOSTILE_DIR, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "hostile-index", model="fake")
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None)
    return settings, load_index(settings)


class CountingRetriever(Retriever):
    """A fake-embedder retriever that counts searches, to prove some inputs never reach it."""

    def __init__(self, store, settings):
        super().__init__(store, settings, encoder=FakeEmbedder())
        self.searches = 0

    def search(self, *args, **kwargs):
        self.searches += 1
        return super().search(*args, **kwargs)


def live_markup(markdown: str) -> list[str]:
    """Unescaped Markdown image/link openers, HTML tags or auto-linked URLs left in chat Markdown."""
    return re.findall(r"(?<!\\)(?:!\[|\]\(|<[a-zA-Z/!])|https?://|www\.", markdown)


def plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def answering(settings: Settings) -> Settings:
    """Fake vectors are weaker than the real model's: accept any evidence so answers do not abstain."""
    return replace(settings, answerability=replace(settings.answerability, threshold=0.0))


@pytest.fixture
def handlers(fake_index, tmp_path) -> ui.ChatHandlers:
    settings, store = fake_index
    settings = answering(settings)
    return ui.ChatHandlers(store, settings, CountingRetriever(store, settings),
                           export_dir=tmp_path / "out")


@pytest.fixture
def hostile(tmp_path) -> ui.ChatHandlers:
    settings, store = build_hostile_index(tmp_path)
    settings = answering(settings)
    return ui.ChatHandlers(store, settings, CountingRetriever(store, settings),
                           export_dir=tmp_path / "out")


# ---------------------------------------------------------------- answering turns

def test_answer_turn_has_cited_message_sources_and_export(handlers):
    turn = handlers.ask("What are the key recommendations for Cambridge City Council?", [], [])
    assert turn.textbox == ""
    user, reply = turn.chat
    assert user["role"] == "user" and reply["role"] == "assistant"
    assert re.search(r"\*\*\[\d\]\*\*", reply["content"]), reply["content"]
    assert "quoted from the documents" in reply["content"]
    assert turn.asked == ["What are the key recommendations for Cambridge City Council?"]
    assert isinstance(turn.answer, Answer) and not turn.answer.abstained
    n = len(turn.answer.passages)
    assert turn.sources.count('class="pq-source') == n
    assert '<mark class="pq-quote">' in turn.sources
    assert [value for _, value in turn.passage["choices"]] == list(range(1, n + 1))
    exported = Path(turn.download["value"]).read_text(encoding="utf-8")
    assert exported == turn.markdown
    assert exported.startswith("# What are the key recommendations for Cambridge City Council?")
    assert "## References" in exported and f"Index version: {handlers.store.version}" in exported
    assert "   - “" in exported  # the quotes are listed under their references


def test_context_view_shows_the_chunk_inside_its_document(handlers):
    answer = handlers.ask("What did the peers say about shared services?", [], []).answer
    chunk = answer.passages[0].chunk
    shown = handlers.show_context(1, answer)
    doc_text = handlers.store.documents[chunk.doc_id].text
    visible = re.sub(r"<[^>]+>", "", shown)
    assert '<span class="pq-chunk">' in shown
    assert html.escape(chunk.text[:40]) in shown
    assert len(visible) >= min(len(doc_text), CONTEXT_CHARS) * 0.8
    assert "Choose a passage" in handlers.show_context(None, answer)
    assert "Choose a passage" in handlers.show_context(1, None)


def test_abstention_is_labelled_differently(handlers):
    turn = handlers.ask("What did peers say about Oxford City Council's housing company?", [], [])
    assert turn.answer.abstained and turn.answer.reason == "unknown_council"
    reply = turn.chat[-1]["content"]
    assert "No answer in the corpus" in reply and "quoted from the documents" not in reply
    assert "Possibly related passages" in turn.sources and "pq-abstain" in turn.sources


def test_generative_answers_are_labelled():
    answer = Answer(question="q", text="It grew [1].", abstained=False, passages=(), citations=(1,),
                    mode="generative")
    text = answer_chat_markdown(answer)
    assert "Generated answer" in text and "language model" in text and "**[1]**" in text


def test_empty_input_is_ignored_without_a_search(handlers):
    for empty in ("", "   ", "\n", None):
        turn = handlers.ask(empty, [{"role": "user", "content": "earlier"}], ["earlier"])
        assert all(value == ui.gr.skip() for value in turn)
    assert handlers.retriever.searches == 0


def test_overlong_question_gets_a_clear_message_and_no_search(handlers):
    limit = handlers.settings.answer.max_question_chars
    turn = handlers.ask("why " * (limit // 4 + 10), [], [])
    reply = turn.chat[-1]["content"]
    assert "Cannot ask that" in reply and f"the limit is {limit}" in plain(reply)
    assert turn.textbox == ui.gr.skip()  # the text stays, so it can be shortened
    assert handlers.retriever.searches == 0
    assert len(turn.chat[0]["content"]) < 400  # the echoed question is cut short


def test_bad_year_filter_is_reported_in_the_chat(handlers):
    turn = handlers.ask("What about finances?", [], [], years="twenty")
    assert "Year must be YYYY or YYYY-YYYY" in plain(turn.chat[-1]["content"])
    assert handlers.retriever.searches == 0


def test_filters_from_the_dropdowns(handlers):
    assert not handlers.filters(ui.ALL_COUNCILS, ui.ALL_TYPES, "").active
    f = handlers.filters("Cambridge City Council", "progress review", "2013-2017")
    assert (f.council, f.doc_type, f.year_from, f.year_to) == (
        "Cambridge City Council", "progress review", 2013, 2017)


def test_followup_is_rewritten_and_shown(handlers):
    first = handlers.ask("What did the peers say about the city council's finances?", [], [])
    second = handlers.ask("and what about the county council?", first.chat, first.asked)
    expected = "What did the peers say about the county council's finances?"
    assert second.asked[-1] == expected and second.answer.question == expected
    assert "Understood as:" in second.chat[-1]["content"]
    assert len(second.chat) == 4
    cleared = handlers.clear()
    assert cleared[0] == [] and cleared[1] == []


def test_corpus_table_lists_every_document(handlers):
    rows = corpus_rows(handlers.store)
    assert len(rows) == len(handlers.store.documents)
    assert sum(row[6] for row in rows) == len(handlers.store.chunks)


# ---------------------------------------------------------------- hostile documents

def test_hostile_document_renders_inert(hostile):
    turn = hostile.ask(HOSTILE_QUESTION, [], [])
    assert any("hostile" in p.meta.doc_id for p in turn.answer.passages), "payload not retrieved"
    views = {"sources": turn.sources, "chat": turn.chat[-1]["content"],
             "context": hostile.show_context(1, turn.answer),
             "corpus": corpus_summary(hostile.store) + str(corpus_rows(hostile.store))}
    payload_n = next(n for n, p in enumerate(turn.answer.passages, 1) if "hostile" in p.meta.doc_id)
    views["payload context"] = hostile.show_context(payload_n, turn.answer)
    for name in ("sources", "context", "payload context"):
        page = views[name]
        assert "<script" not in page.lower(), name
        assert not re.search(r"<[^>]*\son\w+\s*=", page, re.IGNORECASE), name  # live handler
        assert not re.search(r"<(img|iframe|svg|a)\b", page, re.IGNORECASE), name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in views["sources"]  # shown as text
    assert "onerror=alert(1)" in views["sources"].replace("&#x27;", "'")  # …inside escaped text
    chat = views["chat"]
    assert live_markup(chat) == [], "a live Markdown image, link or HTML tag survived"
    assert "![tracking pixel](http://evil.example/x.png)" in plain(chat)  # shown as text


def test_md_inert_neutralises_markdown_and_html():
    text = "![x](http://evil.example/x.png) <img src=x onerror=alert(1)> [a](javascript:alert(1)) **b**"
    inert = md_inert(text)
    assert live_markup(inert) == [] and "**" not in inert
    assert plain(inert) == text  # unescaping gives back exactly the text


def test_highlight_escapes_around_and_inside_quotes():
    out = highlight("a <b> said: <i>yes</i>. end", ["<i>yes</i>."])
    assert out == 'a &lt;b&gt; said: <mark class="pq-quote">&lt;i&gt;yes&lt;/i&gt;.</mark> end'




# ---------------------------------------------------------------- a new ingest while serving

def test_a_question_after_a_new_ingest_is_answered_from_the_new_index(tmp_path):
    """`peerqa ingest` in another process publishes a new version: the next question says so
    and is answered from it (same query encoder), not from the index the server started with."""
    from assistant.store import load_index
    from ingest.build import ingest

    settings, store = build_hostile_index(tmp_path)
    settings = answering(settings)
    chat = ui.ChatHandlers(store, settings, CountingRetriever(store, settings),
                           export_dir=tmp_path / "out", reload=load_index)
    before = chat.ask(HOSTILE_QUESTION, [], [])
    assert "ingested again" not in before.chat[-1]["content"]
    encoder, count = chat.retriever.encoder, len(store.documents)

    new = Path(settings.corpus_dir) / "northby-news.txt"
    new.write_text("Northby District Council news\n\nPeers praised the Northby recycling strategy "
                   "and the council's new waste depot, which opened in 2024.\n", encoding="utf-8")
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None)
    after = chat.ask(HOSTILE_QUESTION, [], [])
    assert "ingested again" in after.chat[-1]["content"]
    assert f"answering from {count + 1} documents" in after.chat[-1]["content"]
    assert len(chat.store.documents) == count + 1 and chat.retriever.encoder is encoder
    again = chat.ask(HOSTILE_QUESTION, [], [])
    assert "ingested again" not in again.chat[-1]["content"]  # said once


def test_a_damaged_new_index_keeps_the_loaded_one(tmp_path):
    from assistant.store import POINTER, load_index

    settings, store = build_hostile_index(tmp_path)
    settings = answering(settings)
    chat = ui.ChatHandlers(store, settings, CountingRetriever(store, settings),
                           export_dir=tmp_path / "out", reload=load_index)
    broken = Path(settings.index_dir) / "v-broken"
    broken.mkdir()
    (Path(settings.index_dir) / POINTER).write_text(broken.name)
    turn = chat.ask(HOSTILE_QUESTION, [], [])
    assert chat.store is store and "ingested again" not in turn.chat[-1]["content"]
    assert "Cannot ask" not in turn.chat[-1]["content"]


def test_serve_builds_the_register_in_the_background(handlers):
    from assistant.recommendations import build_register

    thread = ui.warm_register(handlers.store, handlers.retriever)
    thread.join(60)
    assert not thread.is_alive() and "register" in handlers.store._derived
    assert build_register(handlers.store) is build_register(handlers.store)  # built once
