"""BM25 with bm25s and a Snowball (PyStemmer) English stemmer: build, save, load, score."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def new_tokenizer():
    from bm25s.tokenization import Tokenizer

    return Tokenizer(lower=True, stopwords="en", stemmer=_stemmer())


def load_tokenizer(path: Path):
    from bm25s.tokenization import Tokenizer

    tokenizer = Tokenizer(lower=True, stopwords=[], stemmer=_stemmer())
    tokenizer.load_vocab(str(path))
    tokenizer.load_stopwords(str(path))
    return tokenizer


def build_bm25(texts: Sequence[str], path: Path) -> None:
    """Index ``texts`` and save the index with its tokenizer vocabulary and stopwords."""

    tokenizer = new_tokenizer()
    ids = tokenizer.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
    retriever = _bm25_class()()
    retriever.index(tokenizer.to_tokenized_tuple(ids), show_progress=False)
    path.mkdir(parents=True, exist_ok=True)
    retriever.save(str(path))
    tokenizer.save_vocab(str(path))
    tokenizer.save_stopwords(str(path))


@lru_cache(maxsize=1)
def _bm25_class():
    """``bm25s.BM25`` with its score matrix built by array operations: the library's own loop
    over documents took 4-8 s at 100k chunks, on every ingest. The arrays are the library's,
    bit for bit (tests/test_lexical_index.py); other BM25 variants keep the library's code."""
    import bm25s
    from bm25s import scoring

    class ArrayBM25(bm25s.BM25):
        def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True,
                                 leave_progress=False):
            if self.method not in ("robertson", "lucene", "atire") or self.csc_backend != "numpy":
                return super().build_index_from_ids(unique_token_ids, corpus_token_ids,
                                                    show_progress, leave_progress)
            self.nonoccurrence_array = None  # as the library sets it for these variants
            return _score_matrix(self, len(unique_token_ids), corpus_token_ids, scoring)

    return ArrayBM25


def _score_matrix(bm25, n_vocab: int, corpus_token_ids, scoring) -> dict:
    """What ``BM25.build_index_from_ids`` returns, computed as the library does per document
    (the same float64 expressions, stored as float32) but over all documents at once."""
    import itertools

    lengths = np.array([len(ids) for ids in corpus_token_ids])
    n_docs = len(lengths)
    avg_doc_len = lengths.mean()
    # uint16 when the vocabulary allows: NumPy's stable sort of it is a radix sort, 5x faster
    small = np.uint16 if n_vocab <= np.iinfo(np.uint16).max else np.int64
    tokens = np.fromiter(itertools.chain.from_iterable(corpus_token_ids), dtype=small,
                         count=int(lengths.sum()))
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    # one entry per (token, document), sorted as the library's CSC matrix is: token, then doc
    # (stable: documents stay in order within a token)
    order = np.argsort(tokens, kind="stable")
    tokens, docs = tokens[order].astype(np.int64), docs[order]
    first = np.flatnonzero(np.r_[True, (tokens[1:] != tokens[:-1]) | (docs[1:] != docs[:-1])])
    tf = np.diff(np.r_[first, len(tokens)])
    token, doc = tokens[first], docs[first]
    doc_freqs = np.bincount(token, minlength=n_vocab)
    idf_method = scoring._select_idf_scorer(bm25.idf_method)
    idf = scoring._build_idf_array(dict(enumerate(doc_freqs.tolist())), n_docs, idf_method, bm25.dtype)
    tfc = scoring._select_tfc_scorer(bm25.method)(
        tf_array=tf.astype(bm25.dtype), l_d=lengths[doc], l_avg=avg_doc_len, k1=bm25.k1, b=bm25.b,
        delta=bm25.delta)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freqs, out=indptr[1:])
    return {"data": (idf[token] * tfc).astype(bm25.dtype), "indices": doc.astype(bm25.int_dtype),
            "indptr": indptr, "num_docs": n_docs}


def bm25_scores(retriever, tokenizer, query: str) -> np.ndarray:
    """BM25 score of every indexed text for ``query``; all zeros when no query word is known."""
    ids = tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)[0]
    n_docs = int(retriever.scores["num_docs"])
    if not ids:
        return np.zeros(n_docs, dtype=np.float32)
    return np.asarray(retriever.get_scores_from_ids(list(ids)), dtype=np.float32)


def stems(text: str) -> list[str]:
    """Stemmed content words (stopwords removed), as used for sentence-level evidence."""
    import re

    from bm25s.stopwords import STOPWORDS_EN

    words = [w for w in re.findall(r"(?u)\b\w\w+\b", text.lower()) if w not in STOPWORDS_EN]
    return _stemmer().stemWords(words)


def stem_idf(retriever, tokenizer):
    """``stem → inverse document frequency`` over the BM25 index's texts (a stem the index never
    saw counts as the rarest), read from the index's per-word postings without re-reading text.

    The index keeps one column of postings per stem, so its document frequency is the length of
    that column: ``indptr[id + 1] - indptr[id]``.
    """
    indptr = np.asarray(retriever.scores["indptr"])
    n_docs = max(1, int(retriever.scores["num_docs"]))
    ids = tokenizer.stem_to_sid
    rarest = float(np.log(1 + n_docs))

    def idf(stem: str) -> float:
        sid = ids.get(stem)
        if sid is None or sid + 1 >= len(indptr):
            return rarest
        return float(np.log(1 + n_docs / max(1, int(indptr[sid + 1] - indptr[sid]))))

    return idf
