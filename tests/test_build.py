"""Ingest and the on-disk index: incremental updates, compatibility checks, catalogue
inference, atomic publication (including a real kill -9) and save → load round trips."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import (
    CatalogError, IndexCorrupt, IndexMismatch, IndexNotFound, IndexWriteError, PeerqaError,
    UsageError,
)
from assistant.progress import no_progress
from assistant.settings import ChunkingSettings, Settings
from assistant.store import POINTER, load_index, read_manifest
from ingest.build import EXIT_SKIPPED, IngestReport, ingest, prepare_document
from ingest.catalog import load_catalog
from ingest.chunking import chunk_document, embedding_text
from tests.fakes import DIM, FakeEmbedder, fake_vector, word_count

ROOT = Path(__file__).resolve().parent.parent
SEED_IDS = (
    "cambridge-city-2017-corporate-peer-challenge-report",
    "cambridge-city-peer-challenge-action-plan-page",
    "cambridgeshire-county-2014-cabinet-peer-review-action-plan",
    "cambridgeshire-county-2022-progress-review-letter",
    "cambridgeshire-county-2022-progress-review-news",
)
NEWS = "cambridgeshire-county-2022-progress-review-news"
NORFOLK = """Norfolk County Council: corporate peer challenge progress review

In 2019 the peers returned to Norfolk County Council for a progress review of the corporate
peer challenge. The progress review found that the council had acted on most of the
recommendations and that its finances were stable.
"""


class ExplodingEmbedder:
    """Fails the test if anything is embedded."""

    model_id = "fake"
    dim = DIM

    def embed_passages(self, texts, spans, show_progress=False):
        raise AssertionError(f"embedder called with {len(texts)} texts")

    def embed_query(self, text):
        raise AssertionError("embedder called")


def exploding_counter(text: str) -> int:
    raise AssertionError("token counter called: something was chunked")


def run(settings: Settings, embedder=None, **kwargs) -> IngestReport:
    return ingest(settings, embedder=embedder if embedder is not None else FakeEmbedder(),
                  count_tokens=kwargs.pop("count_tokens", word_count), log=lambda m: None, **kwargs)


def snapshot(index_dir: Path) -> dict[str, tuple[int, int]]:
    """Every file under the index folder with its size and modification time."""
    return {str(p.relative_to(index_dir)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(index_dir.rglob("*")) if p.is_file()}


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(".building-"))


def versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v-"))


def chunk_ids(store) -> list[str]:
    return [c.chunk_id for c in store.chunks]


# --- first build --------------------------------------------------------------------------

def test_first_ingest_indexes_the_seed_corpus(fake_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    report = run(fake_settings, fake_embedder)
    assert report.added == SEED_IDS
    assert (report.updated, report.removed, report.unchanged, report.skipped) == ((), (), (), ())
    assert report.wrote_index and report.exit_code == 0
    store = load_index(fake_settings)
    assert sorted(store.documents) == list(SEED_IDS)
    assert report.chunk_count == len(store.chunks) == fake_embedder.texts_embedded
    assert fake_embedder.passage_calls == 1
    assert store.version == report.index_version and len(store.version) == 12
    assert store.vectors.shape == (len(store.chunks), DIM)
    assert np.allclose(np.linalg.norm(store.vectors, axis=1), 1.0, atol=1e-5)
    assert store.faiss_index.ntotal == len(store.chunks)
    assert len(store.sentence_vectors) == sum(len(c.sentences) for c in store.chunks)
    manifest = store.manifest
    assert manifest["model_id"] == "fake" and manifest["dim"] == DIM
    assert manifest["chunking_hash"] == fake_settings.chunking_hash()
    assert set(manifest["documents"]) == set(SEED_IDS)
    summary = report.summary()
    assert "added 5, updated 0, removed 0, unchanged 0, skipped 0" in summary
    assert f"index written: {report.chunk_count} chunks, version {report.index_version}" in summary
    assert (fake_settings.index_dir / POINTER).read_text().strip() == store.path.name
    assert leftovers(fake_settings.index_dir) == []


def test_chunks_are_ordered_by_document_then_position(fake_index) -> None:
    _, store = fake_index
    keys = [(c.doc_id, c.ordinal) for c in store.chunks]
    assert keys == sorted(keys)


def test_missing_corpus_folder_says_what_to_do(tmp_path: Path) -> None:
    settings = Settings(corpus_dir=tmp_path / "nope", index_dir=tmp_path / "index", model="fake")
    with pytest.raises(PeerqaError, match="No corpus folder"):
        run(settings)


def test_hidden_files_readme_and_catalogue_are_not_documents(fake_settings: Settings) -> None:
    corpus = Path(fake_settings.corpus_dir)
    (corpus / ".DS_Store").write_bytes(b"\x00\x01binary")
    (corpus / "README.md").write_text("# About this folder\n\nNot a document.", encoding="utf-8")
    (corpus / "subfolder").mkdir()
    report = run(fake_settings)
    assert report.added == SEED_IDS and report.skipped == ()


def test_empty_corpus_builds_an_empty_index_only_when_allowed(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", model="fake")
    with pytest.raises(UsageError, match="--allow-empty"):
        run(settings, ExplodingEmbedder())
    assert read_manifest(tmp_path / "index") is None
    report = run(settings, ExplodingEmbedder(), allow_empty=True)
    assert report.wrote_index and report.chunk_count == 0
    store = load_index(settings)
    assert store.chunks == [] and len(store.vectors) == 0
    shutil.copy(ROOT / "corpus" / f"{NEWS}.txt", tmp_path / "corpus")
    assert run(settings).added == (NEWS,)
    assert len(load_index(settings).chunks) > 0


# --- incremental behaviour ----------------------------------------------------------------

def test_unchanged_corpus_writes_nothing_and_embeds_nothing(fake_index, monkeypatch) -> None:
    settings, store = fake_index
    import assistant.embedding

    def no_model(*args, **kwargs):
        raise AssertionError("the embedding model was constructed")

    monkeypatch.setattr(assistant.embedding, "SentenceTransformerEmbedder", no_model)
    before = snapshot(Path(settings.index_dir))
    report = ingest(settings, embedder=None, count_tokens=exploding_counter, log=lambda m: None)
    assert not report.wrote_index
    assert report.unchanged == SEED_IDS and report.added == report.updated == report.removed == ()
    assert report.index_version == store.version and report.chunk_count == len(store.chunks)
    assert report.exit_code == 0
    assert "nothing changed; index left as it was" in report.summary()
    assert snapshot(Path(settings.index_dir)) == before


def test_modified_document_reembeds_only_its_chunks(fake_index) -> None:
    settings, old = fake_index
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA brand new closing paragraph about "
                    "waste collection contracts.\n", encoding="utf-8")
    embedder = FakeEmbedder()
    report = run(settings, embedder)
    assert report.updated == (NEWS,) and report.added == () and report.removed == ()
    assert report.unchanged == tuple(d for d in SEED_IDS if d != NEWS)
    new = load_index(settings)
    news_chunks = [c for c in new.chunks if c.doc_id == NEWS]
    # only the chunks the appended paragraph changed are embedded: the others are embedded as
    # the same text with the same header as before, and keep their vectors
    def embedded_as(store, chunk):
        return embedding_text(chunk, store.documents[chunk.doc_id].meta, word_count,
                              settings.chunking.header_budget)

    before = {embedded_as(old, c) for c in old.chunks if c.doc_id == NEWS}
    changed = [c for c in news_chunks if embedded_as(new, c) not in before]
    assert 0 < len(changed) < len(news_chunks)
    assert embedder.texts_embedded == len(changed) and embedder.passage_calls == 1
    for row, chunk in enumerate(new.chunks):  # kept or embedded: the vectors a rebuild gives
        if chunk.doc_id == NEWS:
            assert np.allclose(new.vectors[row], fake_vector(embedded_as(new, chunk)), atol=1e-6)
    assert "waste collection contracts" in new.documents[NEWS].text
    assert new.version != old.version
    # every other document keeps its chunks, vectors and sentence vectors exactly
    old_rows = {c.chunk_id: i for i, c in enumerate(old.chunks)}
    for row, chunk in enumerate(new.chunks):
        if chunk.doc_id == NEWS:
            continue
        old_row = old_rows[chunk.chunk_id]
        assert old.chunks[old_row] == chunk
        assert np.array_equal(new.vectors[row], old.vectors[old_row])
        assert np.array_equal(new.chunk_sentence_vectors(row), old.chunk_sentence_vectors(old_row))
    assert len(new.chunks) == len(old.chunks) - sum(c.doc_id == NEWS for c in old.chunks) + len(news_chunks)


def test_a_change_that_leaves_every_chunk_as_it_was_embeds_nothing(fake_index) -> None:
    settings, old = fake_index
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n\n", encoding="utf-8")  # blank lines
    report = run(settings, ExplodingEmbedder())  # fails the test if anything is embedded
    assert report.updated == (NEWS,) and report.wrote_index
    new = load_index(settings)
    assert [c.text for c in new.chunks] == [c.text for c in old.chunks]
    assert np.array_equal(new.vectors, old.vectors)
    assert np.array_equal(new.sentence_vectors, old.sentence_vectors)


def test_catalogue_change_updates_only_that_document(fake_index) -> None:
    settings, _old = fake_index
    catalog = Path(settings.corpus_dir) / "catalog.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace(
        "Positive from 'Peers' for Cambridgeshire County Council (news)", "Peers praise the county (news)"),
        encoding="utf-8")
    embedder = FakeEmbedder()
    report = run(settings, embedder)
    assert report.updated == (NEWS,)
    store = load_index(settings)
    assert store.documents[NEWS].meta.title == "Peers praise the county (news)"
    assert embedder.texts_embedded == sum(c.doc_id == NEWS for c in store.chunks)


def test_deleted_document_is_removed(fake_index) -> None:
    settings, old = fake_index
    (Path(settings.corpus_dir) / f"{NEWS}.txt").unlink()
    report = run(settings, ExplodingEmbedder())
    assert report.removed == (NEWS,) and report.wrote_index
    store = load_index(settings)
    assert NEWS not in store.documents and all(c.doc_id != NEWS for c in store.chunks)
    assert len(store.chunks) == len(old.chunks) - sum(c.doc_id == NEWS for c in old.chunks)
    assert len(store.vectors) == len(store.chunks) == store.faiss_index.ntotal
    assert NEWS not in store.manifest["documents"]


@pytest.mark.parametrize("copy_name", ["zz-copy-of-news.txt", "aaa-copy-of-news.txt"])
def test_identical_copy_is_indexed_once(fake_index, copy_name: str) -> None:
    settings, old = fake_index
    corpus = Path(settings.corpus_dir)
    shutil.copy(corpus / f"{NEWS}.txt", corpus / copy_name)
    report = run(settings, ExplodingEmbedder())
    assert report.skipped == ((copy_name, f"identical to {NEWS}.txt; indexed once"),)
    assert report.removed == () and report.added == ()
    assert report.exit_code == EXIT_SKIPPED
    store = load_index(settings)
    assert sorted(store.documents) == list(SEED_IDS)
    assert store.documents[NEWS].meta.inferred == ()  # still the catalogued document
    assert chunk_ids(store) == chunk_ids(old)
    # and the next run has nothing to do
    again = run(settings, ExplodingEmbedder(), count_tokens=exploding_counter)
    assert not again.wrote_index and again.skipped == report.skipped


def test_identical_files_on_first_build_prefer_the_catalogued_one(fake_settings: Settings) -> None:
    corpus = Path(fake_settings.corpus_dir)
    shutil.copy(corpus / f"{NEWS}.txt", corpus / "aaa-copy-of-news.txt")
    report = run(fake_settings)
    assert report.added == SEED_IDS
    assert report.skipped == (("aaa-copy-of-news.txt", f"identical to {NEWS}.txt; indexed once"),)


def test_rebuild_reembeds_everything(fake_index) -> None:
    settings, old = fake_index
    embedder = FakeEmbedder()
    report = run(settings, embedder, rebuild=True)
    assert report.wrote_index and report.added == SEED_IDS
    assert embedder.texts_embedded == len(old.chunks)
    store = load_index(settings)
    assert store.version == old.version  # same content, same settings: same version id
    assert chunk_ids(store) == chunk_ids(old)
    assert np.array_equal(store.vectors, old.vectors)
    # rebuilding twice within one second must not delete the live version
    again = run(settings, FakeEmbedder(), rebuild=True)
    assert again.index_version == old.version
    assert chunk_ids(load_index(settings)) == chunk_ids(old)
    # the live version plus the one it replaced (kept for readers that are mid-load)
    assert len(versions(Path(settings.index_dir))) == 2 and leftovers(Path(settings.index_dir)) == []


# --- compatibility ------------------------------------------------------------------------

def test_changed_chunk_settings_refuse_the_old_index(fake_index) -> None:
    settings, _old = fake_index
    other = dataclasses.replace(settings, chunking=ChunkingSettings(chunk_tokens=100, overlap_tokens=20))
    with pytest.raises(IndexMismatch) as caught:
        load_index(other)
    message = str(caught.value)
    assert "chunker settings" in message and "peerqa ingest" in message and "\n" not in message
    assert caught.value.exit_code == 3
    # ingest with the new settings rebuilds everything and says so
    embedder = FakeEmbedder()
    report = run(other, embedder)
    assert any(n.startswith("rebuilding everything") for n in report.notices)
    assert report.added == SEED_IDS and embedder.texts_embedded == report.chunk_count
    assert load_index(other).manifest["chunking"]["chunk_tokens"] == 100
    with pytest.raises(IndexMismatch):
        load_index(settings)


def test_changed_model_refuses_the_old_index(fake_index) -> None:
    settings, _ = fake_index
    with pytest.raises(IndexMismatch) as caught:
        load_index(dataclasses.replace(settings, model="another-model"))
    message = str(caught.value)
    assert "'fake'" in message and "'another-model'" in message and "peerqa ingest" in message


def test_changed_encoder_refuses_the_old_index_and_ingest_rebuilds(fake_index) -> None:
    settings, _ = fake_index
    assert read_manifest(settings.index_dir)["encoder"] == settings.encoder == "onnx-fp32"
    # fp32 through PyTorch gives the same vectors: that index serves as it is
    assert load_index(dataclasses.replace(settings, encoder="torch-fp32")).version
    int8 = dataclasses.replace(settings, encoder="onnx-int8")
    with pytest.raises(IndexMismatch) as caught:
        load_index(int8)
    message = str(caught.value)
    assert "'onnx-fp32'" in message and "'onnx-int8'" in message and "peerqa ingest" in message
    embedder = FakeEmbedder()
    report = run(int8, embedder)
    assert any(n.startswith("rebuilding everything") for n in report.notices)
    assert report.added == SEED_IDS and embedder.texts_embedded == report.chunk_count
    assert load_index(int8).manifest["encoder"] == "onnx-int8"
    with pytest.raises(IndexMismatch):
        load_index(settings)


def test_other_sentence_vectors_refuse_the_old_index_and_ingest_rebuilds(fake_index) -> None:
    """An index whose sentence vectors were pooled from their chunk (before the setting, or
    ``sentence_vectors = "pooled"``) is not one of own sentence vectors: refused, rebuilt."""
    import json

    settings, store = fake_index
    assert read_manifest(settings.index_dir)["sentence_vectors"] == settings.sentence_vectors == "own"
    pooled = dataclasses.replace(settings, sentence_vectors="pooled")
    with pytest.raises(IndexMismatch) as caught:
        load_index(pooled)
    assert "'own'" in str(caught.value) and "'pooled'" in str(caught.value) and "peerqa ingest" in str(caught.value)
    report = run(pooled, FakeEmbedder())
    assert any(n.startswith("rebuilding everything") for n in report.notices) and report.added == SEED_IDS
    manifest_path = load_index(pooled).path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["sentence_vectors"]  # written before the setting existed: pooled
    manifest_path.write_text(json.dumps(manifest))
    assert load_index(pooled).version
    with pytest.raises(IndexMismatch):
        load_index(settings)
    with pytest.raises(ValueError, match="sentence_vectors"):
        dataclasses.replace(settings, sentence_vectors="both")


def test_index_without_an_encoder_entry_counts_as_torch_fp32(fake_index) -> None:
    import json

    settings, store = fake_index
    manifest_path = store.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["encoder"]  # written before the encoder setting existed
    manifest_path.write_text(json.dumps(manifest))
    assert load_index(settings).version == store.version  # torch-fp32 then: same vectors
    with pytest.raises(IndexMismatch):
        load_index(dataclasses.replace(settings, encoder="onnx-int8"))


def test_old_format_refuses_the_index(fake_index) -> None:
    import json

    settings, store = fake_index
    manifest_path = store.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = 0
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="peerqa ingest --rebuild"):
        load_index(settings)
    assert load_index(settings, check=False).version == store.version


def test_missing_index_says_run_ingest(tmp_path: Path) -> None:
    settings = Settings(corpus_dir=tmp_path, index_dir=tmp_path / "index", model="fake")
    with pytest.raises(IndexNotFound) as caught:
        load_index(settings)
    message = str(caught.value)
    assert message == f"No index at {tmp_path / 'index'}/. Run `peerqa ingest` first."
    assert caught.value.exit_code == 3


def test_damaged_index_says_rebuild(fake_index) -> None:
    settings, store = fake_index
    (store.path / "vectors.npy").unlink()
    with pytest.raises(IndexCorrupt, match="peerqa ingest --rebuild"):
        load_index(settings)


# --- catalogue ----------------------------------------------------------------------------

def test_uncatalogued_document_gets_inferred_metadata(fake_index) -> None:
    settings, _ = fake_index
    (Path(settings.corpus_dir) / "norfolk-2019-review.txt").write_text(NORFOLK, encoding="utf-8")
    report = run(settings)
    assert report.added == ("norfolk-2019-review",)
    meta = load_index(settings).documents["norfolk-2019-review"].meta
    assert meta.council == "Norfolk County Council"
    assert meta.date == "2019" and meta.year == 2019
    assert meta.doc_type == "progress review"
    assert meta.title == "Norfolk County Council: corporate peer challenge progress review"
    assert set(meta.inferred) == {"title", "council", "doc_type", "date"}
    assert meta.source == "norfolk-2019-review.txt"
    catalogued = load_index(settings).documents[NEWS].meta
    assert catalogued.inferred == () and catalogued.council == "Cambridgeshire County Council"


def test_a_new_metadata_inference_works_an_unchanged_documents_metadata_out_again(fake_index, monkeypatch) -> None:
    """Upgrading how peerqa infers metadata (``INFERENCE_VERSION``, or the domain file) must
    not leave an unchanged file's old guesses in the index until a --rebuild: the next ingest
    reads it again, says why, and keeps the vectors of chunks whose encoder input is unchanged."""
    import ingest.build
    import ingest.catalog

    settings, _ = fake_index
    (Path(settings.corpus_dir) / "norfolk-2019-review.txt").write_text(NORFOLK, encoding="utf-8")
    run(settings)
    title = load_index(settings).documents["norfolk-2019-review"].meta.title
    monkeypatch.setattr(ingest.catalog, "infer_title", lambda *a, **k: "A better inferred title")
    same = run(settings, ExplodingEmbedder(), count_tokens=exploding_counter)
    assert not same.wrote_index  # the inference changed but says it did not: nothing is read
    assert load_index(settings).documents["norfolk-2019-review"].meta.title == title
    monkeypatch.setattr(ingest.build, "inference_stamp", lambda: "2-upgraded")
    embedder = FakeEmbedder()
    report = run(settings, embedder)
    assert set(report.updated) == {*SEED_IDS, "norfolk-2019-review"} and report.added == ()
    assert any("read again" in n and "infers" in n for n in report.notices)
    store = load_index(settings)
    assert store.documents["norfolk-2019-review"].meta.title == "A better inferred title"
    assert store.documents[NEWS].meta.inferred == ()  # a catalogued document stays as catalogued
    # only the re-titled document's chunks are embedded again (the title is in their header)
    assert embedder.texts_embedded == sum(c.doc_id == "norfolk-2019-review" for c in store.chunks)
    again = run(settings, ExplodingEmbedder(), count_tokens=exploding_counter)
    assert not again.wrote_index


def add_norfolk(settings, catalogue_entry: str) -> None:
    """Drop the Norfolk review into the corpus with ``catalogue_entry`` under its name."""
    corpus = Path(settings.corpus_dir)
    (corpus / "norfolk-2019-review.txt").write_text(NORFOLK, encoding="utf-8")
    with open(corpus / "catalog.yaml", "a", encoding="utf-8") as handle:
        handle.write(f"norfolk-2019-review.txt:\n{catalogue_entry}")


def test_partial_catalogue_entry_infers_only_missing_fields(fake_index) -> None:
    settings, _ = fake_index
    add_norfolk(settings, '  title: "Norfolk progress review"\n  date: "2019-11"\n')
    run(settings)
    meta = load_index(settings).documents["norfolk-2019-review"].meta
    assert (meta.title, meta.date) == ("Norfolk progress review", "2019-11")
    assert set(meta.inferred) == {"council", "doc_type"} and meta.council == "Norfolk County Council"


def test_bad_catalogue_type_stops_ingest_and_keeps_the_index(fake_index) -> None:
    settings, store = fake_index
    add_norfolk(settings, "  doc_type: memo\n")
    with pytest.raises(CatalogError) as caught:
        run(settings)
    assert "norfolk-2019-review.txt" in str(caught.value) and "'memo'" in str(caught.value)
    assert caught.value.exit_code == 2
    assert load_index(settings).version == store.version


def test_invalid_catalogue_yaml(fake_settings: Settings) -> None:
    (Path(fake_settings.corpus_dir) / "catalog.yaml").write_text("a: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        run(fake_settings)
    assert load_catalog(ROOT / "corpus")[f"{NEWS}.txt"]["doc_type"] == "news"


# --- save → load --------------------------------------------------------------------------

def test_save_load_round_trip_is_exact(fake_index) -> None:
    settings, store = fake_index
    catalog = load_catalog(Path(settings.corpus_dir))
    expected_chunks = []
    for doc_id in SEED_IDS:
        path = Path(settings.corpus_dir) / f"{doc_id}.txt"
        doc = prepare_document(path, catalog[path.name], hashlib.sha256(path.read_bytes()).hexdigest())
        assert store.documents[doc_id] == doc  # text, meta, sections, pages, hash
        expected_chunks.extend((doc, c) for c in chunk_document(doc, settings.chunking, word_count))
    assert store.chunks == [c for _, c in expected_chunks]
    for row, (doc, chunk) in enumerate(expected_chunks):
        text = embedding_text(chunk, doc.meta, word_count, settings.chunking.header_budget)
        assert np.array_equal(store.vectors[row], fake_vector(text))
        sentences = store.chunk_sentence_vectors(row)
        assert len(sentences) == len(chunk.sentences)
        for vector, sentence in zip(sentences, chunk.sentences):
            # stored at half precision (SENTENCE_DTYPE): exactly the float16 of the vector
            assert np.array_equal(vector, fake_vector(doc.text[sentence.start:sentence.end]).astype(np.float16))
    assert store.vectors.dtype == np.float32 and store.sentence_vectors.dtype == np.float16


def test_an_index_with_float32_sentence_vectors_is_read_and_rewritten_at_half(fake_index) -> None:
    """Indexes written before sentence vectors were stored as float16 load as they are; the
    next re-ingest writes float16, its kept rows the float16 of the old ones."""
    settings, store = fake_index
    old = store.path / "sentences.npy"
    np.save(old, np.load(old).astype(np.float32))  # as an older version wrote it
    before = load_index(settings)
    assert before.sentence_vectors.dtype == np.float32
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA new director was appointed in May.\n",
                    encoding="utf-8")
    run(settings)
    after = load_index(settings)
    assert after.sentence_vectors.dtype == np.float16
    kept = [row for row, c in enumerate(before.chunks) if c.doc_id != NEWS]
    rows = {(c.doc_id, c.ordinal): row for row, c in enumerate(after.chunks)}
    for row in kept:
        chunk = before.chunks[row]
        assert np.array_equal(after.chunk_sentence_vectors(rows[chunk.doc_id, chunk.ordinal]),
                              before.chunk_sentence_vectors(row).astype(np.float16))


def test_facts_found_with_another_domain_file_are_stored_anew_by_the_next_ingest(fake_index) -> None:
    """After an upgrade that changes domain.yaml, `peerqa ingest` with no document changed
    still writes a version, so questions stop working the corpus facts out again; then
    nothing is written until something changes."""
    settings, store = fake_index
    facts = store.path / "derived" / "corpus_facts.json"
    stored = json.loads(facts.read_text(encoding="utf-8"))
    facts.write_text(json.dumps({**stored, "domain": "an older domain file"}), encoding="utf-8")
    _written_before_the_stamp(store.path)
    report = run(settings, embedder=ExplodingEmbedder(), count_tokens=exploding_counter)
    assert report.wrote_index and report.unchanged == SEED_IDS and not report.added
    assert any("domain.yaml" in notice for notice in report.notices)
    fresh = load_index(settings)
    assert fresh.path != store.path and chunk_ids(fresh) == chunk_ids(store)
    assert json.loads((fresh.path / "derived" / "corpus_facts.json").read_text(encoding="utf-8")) == stored
    again = run(settings, embedder=ExplodingEmbedder(), count_tokens=exploding_counter)
    assert not again.wrote_index and load_index(settings).path == fresh.path


def test_standard_text_found_by_older_rules_is_not_used_and_is_stored_anew(fake_index) -> None:
    """An index written before the standard-text rules changed (its set stored unstamped, as
    before 2026-11-27) is not read as it is: questions find the set again, and the next
    ingest, with no document changed, stores it by today's rules."""
    from assistant.boilerplate import boilerplate_name, store_boilerplate

    settings, store = fake_index
    path = store.path / "derived" / f"{boilerplate_name(settings.answer.boilerplate_jaccard)}.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    wrong = {doc_id: [0] for doc_id in SEED_IDS}  # the old shape, and not what the rules find
    assert {(doc_id, 0) for doc_id in SEED_IDS} != store_boilerplate(store)
    path.write_text(json.dumps(wrong), encoding="utf-8")
    _written_before_the_stamp(store.path)
    assert store_boilerplate(load_index(settings)) == store_boilerplate(store)  # found again
    report = run(settings, embedder=ExplodingEmbedder(), count_tokens=exploding_counter)
    assert report.wrote_index and report.unchanged == SEED_IDS
    assert any("standard text" in notice for notice in report.notices)
    fresh = load_index(settings)
    assert json.loads((fresh.path / path.relative_to(store.path)).read_text(encoding="utf-8")) == stored
    assert not run(settings, embedder=ExplodingEmbedder(), count_tokens=exploding_counter).wrote_index


def _written_before_the_stamp(version: Path) -> None:
    """Make a version look written before its manifest said what its facts were found by."""
    path = version / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.pop("derived_stamp")
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_the_manifest_says_whether_the_stored_facts_are_current(fake_index, monkeypatch) -> None:
    """A version's manifest records what its facts were found by: a current one is known to be
    current without reading them; another domain file in it has the next ingest store them anew."""
    from ingest import derived

    settings, store = fake_index
    assert store.manifest["derived_stamp"] == derived.derived_stamp(settings)
    monkeypatch.setattr(derived, "read_persisted", lambda *a: pytest.fail("facts read"))
    assert not derived.facts_outdated(store.manifest, store.path, settings)
    monkeypatch.undo()
    path = store.path / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "derived_stamp": {**manifest["derived_stamp"], "domain": "old"}}),
                    encoding="utf-8")
    report = run(settings, embedder=ExplodingEmbedder(), count_tokens=exploding_counter)
    assert report.wrote_index and load_index(settings).manifest["derived_stamp"] == derived.derived_stamp(settings)


# --- atomicity ----------------------------------------------------------------------------

def _add_document(settings: Settings) -> None:
    (Path(settings.corpus_dir) / "norfolk-2019-review.txt").write_text(NORFOLK, encoding="utf-8")


def test_failure_before_publish_keeps_the_previous_index(fake_index, monkeypatch) -> None:
    settings, old = fake_index
    import assistant.store

    def broken_publish(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(assistant.store, "publish", broken_publish)  # write_index publishes
    _add_document(settings)
    with pytest.raises(IndexWriteError, match="disk full"):  # one line, exit 3
        run(settings)
    store = load_index(settings)
    assert store.version == old.version and chunk_ids(store) == chunk_ids(old)
    assert np.array_equal(store.vectors, old.vectors)
    assert len(leftovers(Path(settings.index_dir))) == 1
    monkeypatch.undo()
    report = run(settings)  # retrying at once works and clears the leftover build
    assert report.added == ("norfolk-2019-review",)
    # live + the version it replaced (kept for readers mid-load); nothing else
    assert leftovers(Path(settings.index_dir)) == [] and len(versions(Path(settings.index_dir))) == 2


@pytest.mark.parametrize("failing_call", [1, 2], ids=["renaming-build", "swapping-pointer"])
def test_failure_inside_publish_keeps_the_previous_index(fake_index, monkeypatch, failing_call: int) -> None:
    """Crash at either rename in publish, with the same version and time stamp as the live
    folder (``--rebuild`` of an unchanged corpus within one second): the live folder survives."""
    settings, old = fake_index
    import assistant.store as store_module

    monkeypatch.setattr(store_module.time, "strftime", lambda fmt, *a: "20250101T000000")
    run(settings, rebuild=True)  # live folder now has the frozen time stamp
    live = load_index(settings)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == failing_call:
            raise OSError("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(store_module.os, "replace", failing_replace)
    with pytest.raises(IndexWriteError, match="power cut"):  # one line, exit 3
        run(settings, rebuild=True, progress=no_progress)  # its file is os.replace'd too
    monkeypatch.setattr(store_module.os, "replace", real_replace)
    store = load_index(settings)
    assert store.path == live.path and store.version == old.version
    assert chunk_ids(store) == chunk_ids(old) and np.array_equal(store.vectors, old.vectors)
    run(settings, rebuild=True)
    # the live version plus the one it replaced (kept for readers that are mid-load)
    assert len(versions(Path(settings.index_dir))) == 2 and leftovers(Path(settings.index_dir)) == []


KILL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path

    stage, corpus, index, flag = sys.argv[1:5]

    def block():
        Path(flag).write_text(stage)
        time.sleep(600)  # killed here

    import numpy
    import assistant.store
    from assistant.settings import Settings
    from ingest.build import ingest
    from tests.fakes import FakeEmbedder, word_count

    class SlowEmbedder(FakeEmbedder):
        def embed_passages(self, texts, spans, show_progress=False):
            if stage == "embedding":
                block()
            return super().embed_passages(texts, spans, show_progress)

    if stage == "writing":  # after documents.json and chunks.jsonl, before the vectors
        real_save = numpy.save
        numpy.save = lambda *a, **k: (block(), real_save(*a, **k))
    if stage == "swapping":  # build folder renamed to v-..., CURRENT not yet replaced
        real_replace = os.replace
        calls = []
        def replace(src, dst):
            calls.append(dst)
            if len(calls) == 2:
                block()
            return real_replace(src, dst)
        assistant.store.os.replace = replace

    settings = Settings(corpus_dir=Path(corpus), index_dir=Path(index), model="fake")
    # no progress file: its writes are os.replace calls too, which "swapping" counts
    ingest(settings, embedder=SlowEmbedder(), count_tokens=word_count, log=lambda m: None,
           progress=lambda *event: None)
    print("finished without being killed")
""")


@pytest.mark.parametrize("stage", ["embedding", "writing", "swapping"])
def test_kill_9_during_ingest_keeps_the_previous_index(fake_index, tmp_path: Path, stage: str) -> None:
    settings, old = fake_index
    index_dir = Path(settings.index_dir)
    _add_document(settings)
    script = tmp_path / "slow_ingest.py"
    script.write_text(KILL_SCRIPT)
    flag = tmp_path / "flag"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), stage, str(settings.corpus_dir), str(index_dir),
                             str(flag)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            if proc.poll() is not None:
                pytest.fail(f"ingest ended before the kill point: {proc.communicate()}")
            if time.monotonic() > deadline:
                pytest.fail("ingest never reached the kill point")
            time.sleep(0.05)
        # while it runs: readers see the old version, a second writer is refused
        assert load_index(settings).version == old.version
        with pytest.raises(IndexCorrupt, match="Another `peerqa ingest`"):
            run(settings)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    store = load_index(settings)
    assert store.version == old.version and chunk_ids(store) == chunk_ids(old)
    assert np.array_equal(store.vectors, old.vectors)
    if stage == "writing":
        assert len(leftovers(index_dir)) == 1
    if stage == "swapping":
        assert len(versions(index_dir)) == 2  # the unpublished folder is left behind
    # the next ingest finishes the job and clears whatever the killed one left
    report = run(settings)
    assert report.added == ("norfolk-2019-review",) and report.unchanged == SEED_IDS
    # live + the version it replaced; the killed run's orphan is gone
    assert leftovers(index_dir) == [] and len(versions(index_dir)) == 2
    assert (index_dir / store.path.name).exists()
    assert read_manifest(index_dir)["index_version"] == report.index_version != old.version


def test_a_damaged_live_index_is_rebuilt_not_fatal(fake_index) -> None:
    """If the live index's files are damaged, the next ingest rebuilds everything with a notice."""
    settings, old = fake_index
    (old.path / "chunks.json").write_text("{not json\n")
    (Path(settings.corpus_dir) / "extra.txt").write_text("Shared services were discussed at length here.\n")
    embedder = FakeEmbedder()
    report = run(settings, embedder)
    assert any("damaged" in n for n in report.notices)
    assert embedder.texts_embedded == report.chunk_count  # everything re-embedded
    store = load_index(settings)
    assert "extra" in store.documents and len(store.documents) == len(old.documents) + 1


# --- stat signatures: unchanged files are not read again ----------------------------------

def test_files_with_their_recorded_stat_are_not_read_again(fake_settings, monkeypatch) -> None:
    from ingest import build

    monkeypatch.setattr(build, "RACY_NS", 0)  # the files were just copied: trust them at once
    run(fake_settings)
    entries = read_manifest(Path(fake_settings.index_dir))["documents"]
    assert all(len(e["stat"]) == 4 for e in entries.values())
    read: list[str] = []
    digest = build.file_digest
    monkeypatch.setattr(build, "file_digest", lambda p: read.append(p.name) or digest(p))
    path = Path(fake_settings.corpus_dir) / f"{NEWS}.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("council", "Council", 1), encoding="utf-8")  # same size
    assert path.stat().st_size == len(text.encode("utf-8"))
    report = run(fake_settings)
    assert read == [path.name] and report.updated == (NEWS,)
    assert "Council" in load_index(fake_settings).documents[NEWS].text
    read.clear()
    os.utime(path)  # touched, same content: read (its stat moved), kept, not re-embedded
    report = run(fake_settings, ExplodingEmbedder())
    assert read == [path.name] and report.updated == () and not report.wrote_index


def test_a_file_changed_just_before_it_was_hashed_is_hashed_again(fake_settings) -> None:
    """Within RACY_NS of the hashing a later change could keep size and mtime: no stat kept."""
    run(fake_settings)  # the seed corpus was copied a moment ago
    entries = read_manifest(Path(fake_settings.index_dir))["documents"]
    assert not any("stat" in e for e in entries.values())


def _raises_oserror(*args, **kwargs):
    raise OSError("copy_file_range not supported here")


def test_unchanged_documents_are_copied_as_their_bytes_not_encoded_again(fake_index, monkeypatch) -> None:
    from assistant import store as store_module

    settings, old = fake_index
    encoded: list[str] = []
    to_json = store_module.document_to_json
    monkeypatch.setattr(store_module, "document_to_json",
                        lambda d: encoded.append(d.meta.doc_id) or to_json(d))
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing paragraph.\n", encoding="utf-8")
    run(settings)
    assert encoded == [NEWS]
    new = load_index(settings)
    assert all(new.documents[d] == old.documents[d] for d in SEED_IDS if d != NEWS)
    # the file is, byte for byte, the one encoding every document writes
    every = [store_module.document_to_json(new.documents[d]) for d in sorted(new.documents)]
    written = (new.path / "documents.json").read_bytes()
    assert written == json.dumps(every, ensure_ascii=False).encode("utf-8")
    # the same when the kernel cannot copy between the files: read and written instead
    kernel_copy = store_module.os.copy_file_range
    monkeypatch.setattr(store_module.os, "copy_file_range", _raises_oserror)
    path.write_text(path.read_text(encoding="utf-8") + "\nA second new paragraph.\n", encoding="utf-8")
    run(settings)
    again = load_index(settings)
    every = [store_module.document_to_json(again.documents[d]) for d in sorted(again.documents)]
    assert (again.path / "documents.json").read_bytes() == json.dumps(every, ensure_ascii=False).encode()
    monkeypatch.setattr(store_module.os, "copy_file_range", kernel_copy)
    # ranges that do not fit their file are not used: every document is encoded again
    ranges = again.path / store_module.DOCUMENT_RANGES
    np.save(ranges, np.load(ranges)[:-1])
    encoded.clear()
    path.write_text(path.read_text(encoding="utf-8") + "\nAnd one more.\n", encoding="utf-8")
    run(settings)
    assert sorted(encoded) == sorted(SEED_IDS)
    assert "And one more." in load_index(settings).documents[NEWS].text


def test_a_full_disk_while_gathering_the_arrays_keeps_the_previous_index(fake_index, monkeypatch) -> None:
    """The vector arrays (~1 GB at 100k chunks) are written first: a full disk there is one
    line (IndexWriteError), the live index stays as it was, no half-written folder is left."""
    from ingest import build

    settings, old = fake_index

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build, "_copy_rows", full_disk)
    _add_document(settings)
    with pytest.raises(IndexWriteError, match="No space left"):
        run(settings)
    store = load_index(settings)
    assert store.version == old.version and np.array_equal(store.vectors, old.vectors)
    assert leftovers(Path(settings.index_dir)) == []


def test_ingest_leaves_the_collector_as_it_found_it(fake_index) -> None:
    """The live index's objects are frozen out of collections during a build and unfrozen after;
    objects frozen before (as `serve` freezes its index) stay frozen."""
    import gc

    settings, _ = fake_index
    _add_document(settings)
    assert gc.get_freeze_count() == 0
    run(settings)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        (Path(settings.corpus_dir) / "norfolk-2019-review.txt").unlink()
        assert run(settings).removed == ("norfolk-2019-review",)
        assert gc.get_freeze_count() > frozen // 2  # not unfrozen (some were freed since)
    finally:
        gc.unfreeze()


def test_huge_page_advice_is_off_while_building_and_restored_after(fake_index, monkeypatch) -> None:
    from numpy._core import multiarray

    from ingest import build

    settings, _ = fake_index
    _add_document(settings)
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    during = []
    real = build._build
    monkeypatch.setattr(build, "_build", lambda *a, **k: (
        during.append(multiarray._set_madvise_hugepage(False)), real(*a, **k))[1])
    before = multiarray._set_madvise_hugepage(True)
    try:
        assert run(settings).added == ("norfolk-2019-review",)
        assert during == [False]
        assert multiarray._set_madvise_hugepage(before) is True  # as it was before the ingest
    finally:
        multiarray._set_madvise_hugepage(before)


def test_superseded_folders_are_deleted_beside_the_build_the_live_one_kept(fake_index) -> None:
    from assistant.store import TRASH, set_aside_superseded

    settings, old = fake_index
    index_dir = Path(settings.index_dir)
    for name in ("v-20200101T000000-aaaaaaaaaaaa", ".building-20200101T000000-1", f"{TRASH}1-v-x"):
        (index_dir / name).mkdir()
        (index_dir / name / "vectors.npy").write_bytes(b"old")
    _add_document(settings)
    run(settings)
    names = sorted(p.name for p in index_dir.iterdir() if p.is_dir())
    assert names == sorted([old.path.name, load_index(settings).path.name])  # new + replaced
    # nothing is set aside while CURRENT names no folder: which one is live is unknown
    (index_dir / "v-20200101T000000-bbbbbbbbbbbb").mkdir()
    (index_dir / POINTER).write_text("v-missing")
    assert set_aside_superseded(index_dir) == []
    assert (index_dir / "v-20200101T000000-bbbbbbbbbbbb").is_dir()
