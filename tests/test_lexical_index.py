"""The BM25 score matrix built by array operations is the library's own, bit for bit."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from assistant.lexical import _bm25_class, build_bm25, new_tokenizer

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


def test_the_saved_index_loads_with_the_library(tmp_path: Path) -> None:
    build_bm25(_texts(), tmp_path / "bm25")
    loaded = bm25s.BM25.load(str(tmp_path / "bm25"))
    assert loaded.scores["num_docs"] == len(_texts())


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
