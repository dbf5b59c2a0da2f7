"""The BM25 score matrix built by array operations is the library's own, bit for bit."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from assistant.lexical import _bm25_class, build_bm25, load_token_cache, new_tokenizer

ROOT = Path(__file__).resolve().parent.parent


def _texts() -> list[str]:
    corpus = ROOT / "tests" / "fixtures" / "councils" / "corpus"
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(corpus.glob("*.txt"))]
    paragraphs = [part for text in texts for part in text.split("\n\n")]
    # empty and stopword-only texts get the library's empty token; repeats give tf > 1
    return [*paragraphs, "", "the and of", "budget budget budget savings", paragraphs[0]]


@pytest.mark.parametrize("method", ["lucene", "robertson", "atire"])
def test_array_built_scores_equal_the_library_s(method: str) -> None:
    texts = _texts()
    assert len(texts) > 100
    built = {}
    for name, cls in (("library", bm25s.BM25), ("arrays", _bm25_class())):
        tokenizer = new_tokenizer()
        ids = tokenizer.tokenize(texts, update_vocab=True, return_as="ids", show_progress=False)
        retriever = cls(method=method)
        retriever.index(tokenizer.to_tokenized_tuple(ids), show_progress=False)
        built[name] = retriever.scores
    for key in ("data", "indices", "indptr"):
        assert built["arrays"][key].dtype == built["library"][key].dtype
        assert np.array_equal(built["arrays"][key], built["library"][key]), key
    assert built["arrays"]["num_docs"] == built["library"]["num_docs"]


def library_build(texts: list[str], path: Path) -> None:
    """The files bm25s's own tokenizer and index write."""
    tokenizer = new_tokenizer()
    ids = tokenizer.tokenize(texts, update_vocab=True, return_as="ids", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokenizer.to_tokenized_tuple(ids), show_progress=False)
    retriever.save(str(path))
    tokenizer.save_vocab(str(path))
    tokenizer.save_stopwords(str(path))


def same_files(ours: Path, library: Path) -> None:
    names = sorted(p.name for p in library.iterdir())
    assert names == sorted(p.name for p in ours.iterdir() if p.name != "tokens.npz")
    for name in names:
        assert (ours / name).read_bytes() == (library / name).read_bytes(), name


def test_the_index_files_are_those_the_library_writes(tmp_path: Path) -> None:
    texts = _texts()
    build_bm25(texts, tmp_path / "ours")
    library_build(texts, tmp_path / "library")
    same_files(tmp_path / "ours", tmp_path / "library")
    assert bm25s.BM25.load(str(tmp_path / "ours")).scores["num_docs"] == len(texts)


@pytest.mark.parametrize("seed", range(4))
def test_a_build_from_an_earlier_build_s_words_writes_the_same_files(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    texts = _texts()
    before = [t for t in texts if rng.random() < 0.8]
    build_bm25(before, tmp_path / "before")
    cache = load_token_cache(tmp_path / "before")
    assert cache is not None and len(cache["keys"]) == len(before)
    after = [t for t in texts if rng.random() < 0.8] + ["A new paragraph on Zebrafield's gazetteer."]
    after = [after[i] for i in rng.permutation(len(after))]
    build_bm25(after, tmp_path / "after", cache)
    library_build(after, tmp_path / "library")
    same_files(tmp_path / "after", tmp_path / "library")
    build_bm25(after, tmp_path / "fresh")  # the words kept are the same however they were found
    kept, fresh = load_token_cache(tmp_path / "after"), load_token_cache(tmp_path / "fresh")
    assert kept.keys() == fresh.keys() and all(np.array_equal(kept[k], fresh[k]) for k in kept)


def test_an_unreadable_word_cache_is_ignored(tmp_path: Path) -> None:
    build_bm25(["Some words to index here."], tmp_path)
    (tmp_path / "tokens.npz").write_bytes(b"damaged")
    assert load_token_cache(tmp_path) is None
    assert load_token_cache(tmp_path / "missing") is None


def test_a_vocabulary_past_65535_stems_gives_the_library_s_scores_too() -> None:
    rng = np.random.default_rng(0)
    vocab = 70_000
    corpus = [rng.integers(0, vocab, rng.integers(1, 40)).tolist() for _ in range(3_000)]
    corpus.append([vocab - 1] * 3)
    unique = list(range(vocab))
    library = bm25s.BM25().build_index_from_ids(unique, corpus, show_progress=False)
    arrays = _bm25_class()().build_index_from_ids(unique, corpus, show_progress=False)
    for key in ("data", "indices", "indptr"):
        assert arrays[key].dtype == library[key].dtype and np.array_equal(arrays[key], library[key])


def test_words_split_by_another_tokenizer_are_not_reused(tmp_path: Path) -> None:
    build_bm25(["The budget gap is closing."], tmp_path / "before")
    cache = load_token_cache(tmp_path / "before")
    cache["table"] = np.array(["wrong"] * len(cache["table"]))  # as if split otherwise
    cache["tokenizer"] = np.array("another version")
    build_bm25(["The budget gap is closing."], tmp_path / "after", cache)
    library_build(["The budget gap is closing."], tmp_path / "library")
    same_files(tmp_path / "after", tmp_path / "library")


def test_a_word_cache_whose_arrays_do_not_fit_is_ignored(tmp_path: Path) -> None:
    build_bm25(["Some words to index here.", "And more words."], tmp_path)
    cache = load_token_cache(tmp_path)
    np.savez(tmp_path / "tokens.npz", **{**cache, "table": cache["table"][:1]})
    assert load_token_cache(tmp_path) is None
