"""The index at scale: memory-mapped loading, the flat/HNSW choice, facts stored at ingest, and
an incremental re-ingest that gives the index a full rebuild gives."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.boilerplate import boilerplate_name, recurring_sentences, store_boilerplate
from assistant.errors import IndexCorrupt
from assistant.query import CORPUS_FACTS, CorpusFacts, corpus_facts
from assistant.retrieval import Retriever
from assistant.settings import IndexSettings, Settings
from assistant.store import faiss_choice, load_index, read_manifest
from assistant.types import Filters
from ingest.build import ingest
from ingest.derived import STANDARD_STATE
from tests.fakes import FakeEmbedder, fake_vector, word_count

NEWS = "cambridgeshire-county-2022-progress-review-news"


class FakeEncoder:
    def embed_query(self, text: str) -> np.ndarray:
        return fake_vector(text)


def run(settings: Settings, rebuild: bool = False):
    return ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None,
                  rebuild=rebuild)


def test_arrays_are_memory_mapped_and_the_flat_index_is_made_from_them(fake_index) -> None:
    settings, store = fake_index
    assert isinstance(store.vectors, np.memmap) and isinstance(store.sentence_vectors, np.memmap)
    assert read_manifest(Path(settings.index_dir))["faiss"] == {"kind": "flat"}
    assert not (store.path / "faiss.index").exists() and store.exact_search
    index = store.faiss_index
    assert index.ntotal == len(store.chunks)
    scores, ids = index.search(np.asarray(store.vectors[3:4]), 1)
    assert ids[0][0] == 3 and scores[0][0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("damage", ["truncate sentences", "drop a sentence row", "bad chunks.json"])
def test_damaged_arrays_or_chunks_give_one_line(fake_index, damage: str) -> None:
    settings, store = fake_index
    path = store.path / "sentences.npy"
    data = path.read_bytes()
    path.unlink()  # a new file: the fixture's store keeps its mapping of the old one
    if damage == "truncate sentences":
        path.write_bytes(data[:-100])
    elif damage == "drop a sentence row":
        np.save(path, np.asarray(store.sentence_vectors)[:-1])
    else:
        path.write_bytes(data)
    if damage == "bad chunks.json":
        chunks = json.loads((store.path / "chunks.json").read_text())
        chunks["spans"] = chunks["spans"][:-2]
        (store.path / "chunks.json").write_text(json.dumps(chunks))
    with pytest.raises(IndexCorrupt) as caught:
        load_index(settings)
    assert "\n" not in str(caught.value) and "peerqa ingest --rebuild" in str(caught.value)


def test_chunks_round_trip_exactly_with_text_kept_only_where_it_differs(fake_index) -> None:
    """chunks.json leaves a chunk's text out when it is the document's text between its
    offsets; loading gives back every field."""
    _, store = fake_index
    data = json.loads((store.path / "chunks.json").read_text())
    assert data["texts"] == {}  # chunking cuts documents: every text is a slice
    for chunk in store.chunks:
        assert chunk.text == store.documents[chunk.doc_id].text[chunk.start:chunk.end]
        assert all(chunk.start <= s.start < s.end <= chunk.end for s in chunk.sentences)
    assert sum(len(c.sentences) for c in store.chunks) == len(store.sentence_vectors)


def test_a_version_written_with_chunks_jsonl_still_loads(fake_index) -> None:
    settings, store = fake_index
    with open(store.path / "chunks.jsonl", "w", encoding="utf-8") as handle:
        for c in store.chunks:
            line = {**dataclasses.asdict(c), "sentences": [[s.start, s.end] for s in c.sentences]}
            handle.write(json.dumps(line) + "\n")
    (store.path / "chunks.json").unlink()
    assert load_index(settings).chunks == store.chunks


@pytest.mark.parametrize("chunks, kind", [(10, "flat"), (1_000, "flat"), (1_001, "hnsw")])
def test_faiss_choice_is_flat_up_to_the_setting(chunks: int, kind: str) -> None:
    choice = faiss_choice(IndexSettings(hnsw_above=1_000, hnsw_m=16), chunks)
    assert choice["kind"] == kind
    if kind == "hnsw":
        assert choice["m"] == 16 and choice["ef_search"] == IndexSettings().hnsw_ef_search


def test_an_hnsw_index_is_recorded_searched_and_filtered(fake_settings: Settings) -> None:
    settings = dataclasses.replace(fake_settings, index=IndexSettings(hnsw_above=0))
    run(settings)
    store = load_index(settings)
    assert store.manifest["faiss"]["kind"] == "hnsw" and not store.exact_search
    assert (store.path / "faiss.index").exists()
    assert store.faiss_index.hnsw.efSearch == IndexSettings().hnsw_ef_search
    retriever = Retriever(store, settings, encoder=FakeEncoder(), mode="dense")
    row = 5
    hits = retriever._dense(np.asarray(store.vectors[row]), None, 3)
    assert max(hits, key=hits.get) == row
    # a filter to one document: scored exactly over its rows, as many results as asked for
    doc_id = store.chunks[row].doc_id
    allowed = retriever.allowed_rows(Filters(doc_id=doc_id))
    hits = retriever._dense(np.asarray(store.vectors[row]), allowed, 4)
    assert len(hits) == min(4, int(allowed.sum())) and all(store.chunks[r].doc_id == doc_id for r in hits)
    assert max(hits, key=hits.get) == row


def test_facts_stored_at_ingest_equal_the_facts_computed_from_the_texts(fake_index) -> None:
    settings, store = fake_index
    stored = corpus_facts(store)
    held: dict[str, set[str]] = {}
    for meta in store.metas.values():
        held.setdefault(meta.council, set()).add(meta.doc_type)
    computed = CorpusFacts.build(held, [d.text for d in store.documents.values()],
                                 [y for m in store.metas.values() for y in m.years])
    assert store.persisted(CORPUS_FACTS) is not None
    assert list(stored.registry.councils) == list(computed.registry.councils)
    assert stored.vocabulary == computed.vocabulary and stored.known_years == computed.known_years
    assert stored.registry.name_words == computed.registry.name_words
    jaccard = settings.answer.boilerplate_jaccard
    assert store.persisted(boilerplate_name(jaccard)) is not None
    fresh = dataclasses.replace(store, _derived={})
    fresh.persisted = lambda name: None  # type: ignore[method-assign]  # compute, do not read
    assert store_boilerplate(store) == store_boilerplate(fresh)


def test_facts_of_another_domain_file_are_not_used(fake_index, monkeypatch) -> None:
    _, store = fake_index
    monkeypatch.setattr("assistant.query.domain_fingerprint", lambda: "another")
    assert store.persisted(CORPUS_FACTS)["domain"] != "another"
    assert corpus_facts(dataclasses.replace(store, _derived={})).registry.councils  # computed


def test_one_changed_document_gives_the_index_a_full_rebuild_gives(fake_index, tmp_path: Path) -> None:
    settings, _ = fake_index
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nThe council has since appointed a new "
                    "director of housing to lead the delivery programme.\n", encoding="utf-8")
    report = run(settings)
    assert report.updated == (NEWS,)
    incremental = load_index(settings)
    full_settings = dataclasses.replace(settings, index_dir=tmp_path / "full")
    run(full_settings, rebuild=True)
    full = load_index(full_settings)
    assert incremental.chunks == full.chunks
    assert incremental.documents == full.documents
    assert np.allclose(incremental.vectors, full.vectors, atol=1e-6)
    assert np.allclose(incremental.sentence_vectors, full.sentence_vectors, atol=1e-6)
    for name in (CORPUS_FACTS, boilerplate_name(settings.answer.boilerplate_jaccard)):
        assert incremental.persisted(name) == full.persisted(name)


def test_unchanged_documents_reuse_their_stored_text_facts(fake_index, monkeypatch) -> None:
    settings, _ = fake_index
    (Path(settings.corpus_dir) / "extra.txt").write_text(
        "Shared services with the district councils were discussed at length.\n", encoding="utf-8")
    seen: list[str] = []
    from ingest import derived

    real = derived.text_facts
    monkeypatch.setattr(derived, "text_facts", lambda text, domain: (seen.append(text), real(text, domain))[1])
    run(settings)
    assert len(seen) == 1 and "Shared services" in seen[0]


def test_standard_text_recurring_verbatim_is_found_past_the_postings_cap() -> None:
    """A sentence repeated word for word in many councils' documents is the most standard
    text of all, even when each of its 3-grams is too common to search by."""
    text = "The corporate peer challenge is a core part of the sector-led improvement offer to councils."
    sentences = [(f"s{i}", f"council {i}", text) for i in range(6)]
    sentences.append(("own", "council 0", "The council has 7,100 homes and a young and growing population."))
    found = recurring_sentences(sentences, max_postings=3)
    assert found == frozenset(f"s{i}" for i in range(6))


def test_copying_an_index_folder_keeps_it_loadable(fake_index, tmp_path: Path) -> None:
    """Stored facts are found relative to the version folder, not by absolute path."""
    settings, store = fake_index
    moved = tmp_path / "moved"
    shutil.copytree(settings.index_dir, moved)
    copy = load_index(dataclasses.replace(settings, index_dir=moved))
    assert copy.persisted(CORPUS_FACTS) == store.persisted(CORPUS_FACTS)


def test_a_long_derived_value_does_not_hold_up_another(shared_fake_index) -> None:
    """`serve` builds the register in the background: a question needing another derived
    value meanwhile (the IDF, the standard text) gets it without waiting for the register."""
    import threading

    _, store = shared_fake_index
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "register"

    worker = threading.Thread(target=lambda: store.derived("test-slow", slow))
    worker.start()
    try:
        assert started.wait(10)
        got: list[str] = []
        other = threading.Thread(target=lambda: got.append(store.derived("test-fast", lambda: "idf")))
        other.start()
        other.join(5)
        assert got == ["idf"]  # not blocked by "test-slow"
    finally:
        release.set()
        worker.join(10)
    assert store.derived("test-slow", lambda: "again") == "register"  # computed once


def _standard_text_searches(monkeypatch) -> list:
    """Every ``find_standard_text`` result of the ingests that follow."""
    from ingest import derived

    seen: list = []
    real = derived.find_standard_text
    monkeypatch.setattr(derived, "find_standard_text",
                        lambda *a, **k: (seen.append(real(*a, **k)), seen[-1])[1])
    return seen


def test_a_re_ingest_rechecks_only_the_sentences_a_change_can_affect(fake_index, monkeypatch,
                                                                     tmp_path: Path) -> None:
    settings, store = fake_index
    assert (store.path / "derived" / f"{STANDARD_STATE}.npz").exists()
    searches = _standard_text_searches(monkeypatch)
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nThe council has appointed a new director "
                    "of housing, planning and regeneration services this spring.\n", encoding="utf-8")
    run(settings)
    state = searches[-1].state
    rows = len(state["starts"])
    at = state["doc_ids"].tolist().index(NEWS)
    news_rows = int(state["doc_rows"][at + 1] - state["doc_rows"][at])
    # the new sentence, not the changed document's other sentences (they are as they were)
    assert 0 < searches[-1].rechecked < news_rows < rows
    full_settings = dataclasses.replace(settings, index_dir=tmp_path / "full")
    run(full_settings, rebuild=True)
    assert searches[-1].rechecked == rows  # no earlier index: every sentence searched
    name = boilerplate_name(settings.answer.boilerplate_jaccard)
    assert load_index(settings).persisted(name) == load_index(full_settings).persisted(name)


def test_a_damaged_standard_text_state_costs_a_full_search_not_the_ingest(fake_index, monkeypatch) -> None:
    settings, store = fake_index
    (store.path / "derived" / f"{STANDARD_STATE}.npz").write_bytes(b"not a zip file")
    with pytest.raises(IndexCorrupt):
        store.persisted_arrays(STANDARD_STATE)
    searches = _standard_text_searches(monkeypatch)
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nThe council has appointed a new director.\n",
                    encoding="utf-8")
    run(settings)
    assert searches[-1].rechecked == len(searches[-1].state["starts"])
    assert load_index(settings).persisted_arrays(STANDARD_STATE) is not None


def test_a_re_ingest_splits_only_new_chunks_for_bm25_and_writes_a_full_build_s_files(
        fake_index, monkeypatch, tmp_path: Path) -> None:
    settings, _ = fake_index
    from assistant import lexical

    split: list[str] = []
    real = lexical.new_tokenizer

    def counting():
        tokenizer = real()
        splitter = tokenizer.splitter
        tokenizer.splitter = lambda text: (split.append(text), splitter(text))[1]
        return tokenizer

    monkeypatch.setattr(lexical, "new_tokenizer", counting)
    # written in this process: a forked writer's splits would be counted in its own copy
    settings = dataclasses.replace(settings, index=dataclasses.replace(settings.index, parallel_write=False))
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nThe council has appointed a new director.\n",
                    encoding="utf-8")
    run(settings)
    incremental = load_index(settings)
    changed = sum(1 for c in incremental.chunks if c.doc_id == NEWS)
    assert 0 < len(split) <= changed < len(incremental.chunks)
    full_settings = dataclasses.replace(settings, index_dir=tmp_path / "full")
    run(full_settings, rebuild=True)
    full = load_index(full_settings)
    for name in sorted(p.name for p in (full.path / "bm25").iterdir()):
        if name != "tokens.npz":
            assert (incremental.path / "bm25" / name).read_bytes() == (full.path / "bm25" / name).read_bytes()
