"""Hostile and careless input to ingest and to `peerqa ask`: each probe of issue 13 replayed.

Real files in tmp_path (FIFOs, symlinks, encrypted PDFs, Latin-1 bytes, odd names); the fake
embedder and word counter keep it fast; a few cases go through the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.settings import ChunkingSettings, Settings, resolve_model_path
from assistant.types import Document, DocumentMeta
from ingest.build import ingest
from ingest.chunking import chunk_document, sections_of, token_counter
from ingest.cleaning import clean
from tests.conftest import SEED_CORPUS
from tests.fakes import FakeEmbedder, word_count, word_count_dropping_marks

ROOT = Path(__file__).resolve().parent.parent
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def chunks_of(pages: list[str], config: ChunkingSettings, count) -> tuple[Document, list]:
    cleaned = clean(pages)
    meta = DocumentMeta(doc_id="d", title="t", council="c", doc_type="news", date="")
    doc = Document(meta=meta, text=cleaned.text, sections=sections_of(cleaned.text, cleaned.blocks),
                   pages=cleaned.pages, content_hash="h")
    return doc, chunk_document(doc, config, count)


def assert_offsets_hold(doc: Document, chunks: list) -> None:
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
    assert all(a.end <= b.end and a.start < b.start for a, b in zip(chunks, chunks[1:])
               if a.section == b.section)


# --- 1. chunk offsets hold for any Unicode text --------------------------------------------

# characters that broke or could break offsets: "´" (NFKC: space + combining accent), Latin-1,
# combining marks, ligatures, full-width forms, NUL and other controls, line separators
ODD = st.sampled_from(["\u00b4", "s\u00b4 ", "\u00e9", "e\u0301", " \u0301 ", "\u00a8 ", "\ufb01",
                       "\uff21\uff22", "\x00", "\x1b[31m", "\x07", "\u2028", "\x85", "\u00a0",
                       "\u00ad", "\t", "\n", "\n\n", ". ", "• ", "1. "])
WORDS = st.from_regex(r"[A-Za-z\u00c0-\u00ff]{1,9}", fullmatch=True)
HOSTILE_TEXT = st.lists(st.one_of(ODD, WORDS, st.just(" "), st.text(max_size=8)),
                        max_size=120).map("".join)


@PROPERTY
@given(st.lists(HOSTILE_TEXT, min_size=1, max_size=3), st.integers(4, 40))
@example(["The councils\u00b4 view \u00b4 is clear. " * 30], 20)
@example(["\u00e9t\u00e9 \u00b4 " * 60], 8)
def test_cleaning_and_chunking_keep_offsets_for_any_unicode(pages: list[str], size: int) -> None:
    # the counter drops combining marks and controls as the model's tokenizer does: text
    # that counts 0 tokens without being blank is what made the splitter repeat characters
    config = ChunkingSettings(chunk_tokens=size, overlap_tokens=size // 4)
    doc, chunks = chunks_of(pages, config, word_count_dropping_marks)
    assert_offsets_hold(doc, chunks)


def test_random_latin1_texts_all_chunk_with_the_real_tokenizer() -> None:
    """The issue's probe: 40 random Latin-1 texts (9 of 40 used to fail) with the model's
    own tokenizer and the shipped chunk settings."""
    count = token_counter(resolve_model_path(Settings().model))
    for data in latin1_texts(40, seed=13):
        doc, chunks = chunks_of([data.decode("latin-1")], Settings().chunking, count)
        assert chunks
        assert_offsets_hold(doc, chunks)


def test_acute_accent_used_as_apostrophe_reads_as_one() -> None:
    assert clean(["The councils\u00b4 plan and the council\u00b4s view."]).text == \
        "The councils' plan and the council's view."


# --- fixtures: a small corpus indexed with the fake embedder ---------------------------------

NEWS = "cambridgeshire-county-2022-progress-review-news"
WESTSHIRE = ("Westshire County Council peer review 2019.\n\nThe peers found that Westshire's "
             "waste partnership with its districts saves money every year.\n")
EASTSHIRE = ("Eastshire District Council peer review 2019.\n\nThe peers found that Eastshire's "
             "housing company has not yet built any homes.\n")


def run(settings: Settings, **kwargs):
    return ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None,
                  **kwargs)


@pytest.fixture
def news_only(tmp_path: Path) -> Settings:
    """A corpus of one seed document, not yet indexed."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_CORPUS / f"{NEWS}.txt", corpus)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="fake")


def skip_reasons(report) -> dict[str, str]:
    return dict(report.skipped)


# --- 2. a failure in one file never stops an ingest -----------------------------------------

def test_an_unexpected_error_in_one_file_skips_only_that_file(news_only, monkeypatch) -> None:
    import ingest.build as build

    real_clean = build.clean

    def clean_or_explode(pages, *args, **kwargs):
        if any("EXPLODE" in p for p in pages):
            raise RuntimeError("cleaner bug\nwith a second line")
        return real_clean(pages, *args, **kwargs)

    monkeypatch.setattr(build, "clean", clean_or_explode)
    corpus = Path(news_only.corpus_dir)
    (corpus / "bad.txt").write_text("EXPLODE here.\n", encoding="utf-8")
    (corpus / "good.txt").write_text("Westshire County Council notes.\n", encoding="utf-8")
    report = run(news_only)
    assert set(report.added) == {NEWS, "good"} and report.wrote_index
    assert skip_reasons(report) == {
        "bad.txt": "could not be processed (RuntimeError: cleaner bug with a second line)"}
    assert report.exit_code == 4


def latin1_texts(n: int, seed: int = 0) -> list[bytes]:
    """The issue's probe: random printable Latin-1 bytes with spaces and line breaks."""
    rng = random.Random(seed)
    alphabet = [*range(32, 127), *range(160, 256), 10, 10, 32, 32, 32]
    return [bytes(rng.choice(alphabet) for _ in range(3000)) for _ in range(n)]


def test_random_latin1_files_are_all_indexed(news_only) -> None:
    """Through the whole ingest with the real tokenizer: 2 of these 12 files used to end the
    ingest with "chunk text not found"."""
    from assistant.store import load_index

    corpus = Path(news_only.corpus_dir)
    for i, data in enumerate(latin1_texts(12)):
        (corpus / f"latin-{i:02d}.txt").write_bytes(data)
    count = token_counter(resolve_model_path(Settings().model))
    report = ingest(news_only, embedder=FakeEmbedder(), count_tokens=count, log=lambda m: None)
    assert report.skipped == () and len(report.added) == 13
    store = load_index(news_only, check=False)
    for chunk in store.chunks:
        assert store.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text


# --- 3. document ids unique by construction ---------------------------------------------------

def test_colliding_file_names_get_their_own_ids_and_citations(news_only) -> None:
    from assistant.store import load_index

    corpus = Path(news_only.corpus_dir)
    (corpus / "Peer Review 2019.txt").write_text(WESTSHIRE, encoding="utf-8")
    (corpus / "peer-review-2019.md").write_text(EASTSHIRE, encoding="utf-8")
    (corpus / "Отчёт.txt").write_text("Northshire Borough Council report.\n", encoding="utf-8")
    (corpus / "Доклад.txt").write_text("Southshire City Council report.\n", encoding="utf-8")
    report = run(news_only)
    assert report.skipped == () and len(report.added) == 5
    store = load_index(news_only, check=False)
    by_source = {d.meta.source: d for d in store.documents.values()}
    assert len(by_source) == 5  # one document per file, none overwritten
    assert by_source["Peer Review 2019.txt"].meta.doc_id == "peer-review-2019"  # first by name
    assert by_source["peer-review-2019.md"].meta.doc_id.startswith("peer-review-2019-")
    # every passage is cited under the document it comes from
    for chunk in store.chunks:
        meta = store.documents[chunk.doc_id].meta
        assert chunk.text in store.documents[chunk.doc_id].text
        if "Westshire" in chunk.text:
            assert meta.source == "Peer Review 2019.txt" and meta.council.startswith("Westshire")
        if "Eastshire" in chunk.text:
            assert meta.source == "peer-review-2019.md" and meta.council.startswith("Eastshire")
    # and a second ingest finds nothing changed
    again = run(news_only)
    assert not again.wrote_index and again.updated == again.added == again.removed == ()
    assert again.chunk_count == report.chunk_count == len(store.chunks)


def test_a_new_colliding_file_leaves_the_indexed_ones_id_alone(news_only) -> None:
    corpus = Path(news_only.corpus_dir)
    (corpus / "peer-review-2019.md").write_text(EASTSHIRE, encoding="utf-8")
    first = run(news_only)
    assert "peer-review-2019" in first.added
    (corpus / "Peer Review 2019.txt").write_text(WESTSHIRE, encoding="utf-8")  # sorts first
    second = run(news_only)
    assert "peer-review-2019" in second.unchanged and second.updated == ()
    assert len(second.added) == 1 and second.added[0].startswith("peer-review-2019-")


def test_seed_corpus_ids_are_the_file_stems(tmp_path: Path) -> None:
    from ingest.catalog import assign_doc_ids

    files = sorted(SEED_CORPUS.glob("*.txt"))
    assert assign_doc_ids(files) == {p: p.stem for p in files}
