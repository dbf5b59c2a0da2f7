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
    import bm25s

    tokenizer = new_tokenizer()
    ids = tokenizer.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokenizer.to_tokenized_tuple(ids), show_progress=False)
    path.mkdir(parents=True, exist_ok=True)
    retriever.save(str(path))
    tokenizer.save_vocab(str(path))
    tokenizer.save_stopwords(str(path))


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

    words = [w for w in re.findall(r"(?u)\b\w\w+\b", text.lower())
             if w not in STOPWORDS_EN and w not in _QUESTION_WORDS]
    return _stemmer().stemWords(words)


# The words that frame a question ("when was …?") name no topic; rare in report prose, they
# would weigh as much as the rarest topic word, and "when" in "…, when an external review …"
# is no date.
_QUESTION_WORDS = frozenset({"what", "when", "where", "which", "who", "whom", "whose", "why", "how"})


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
