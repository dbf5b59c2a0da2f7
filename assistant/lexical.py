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


TOKEN_CACHE = "tokens.npz"  # in the bm25 folder: each text's words, for the next build


def build_bm25(texts: Sequence[str], path: Path, cache: dict[str, np.ndarray] | None = None) -> None:
    """Index ``texts`` and save the index with its tokenizer vocabulary and stopwords, and
    each text's words (``TOKEN_CACHE``). ``cache`` is an earlier build's (``load_token_cache``):
    texts it holds are not split again. The files are those bm25s's own ``tokenize`` and
    ``index`` write (tests/test_lexical_index.py): splitting 100k chunks took 4-7 s."""
    tokenizer = new_tokenizer()
    fingerprint = _tokenizer_fingerprint(tokenizer)
    if cache is not None and str(cache.get("tokenizer", np.array(""))[()]) != fingerprint:
        cache = None  # split by another version or setting: every text is split again
    table, stems, words, counts, keys = _words_of(list(texts), tokenizer, cache)
    tokens, lengths, table, stems, words = _vocabulary(tokenizer, table, stems, words, counts)
    retriever = _bm25_class()()
    retriever.index_tokens(tokens, lengths, tokenizer.get_vocab_dict())
    path.mkdir(parents=True, exist_ok=True)
    retriever.save(str(path))
    tokenizer.save_vocab(str(path))
    tokenizer.save_stopwords(str(path))
    with open(path / TOKEN_CACHE, "wb") as handle:
        np.savez(handle, keys=keys, offsets=np.concatenate([[0], np.cumsum(counts)]), words=words,
                 table=np.array(table, dtype=str), stems=np.array(stems, dtype=str),
                 tokenizer=np.array(fingerprint))


def _tokenizer_fingerprint(tokenizer) -> str:
    """What the words of a text depend on besides the text: the library versions (splitting,
    stemming) and the stopwords."""
    import json
    from importlib.metadata import version

    return json.dumps([version("bm25s"), version("PyStemmer"), sorted(tokenizer.stopwords)])


def load_token_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The words an earlier ``build_bm25`` saved in ``path``; None when absent or unreadable
    (the next build then splits every text, which is slower but the same)."""
    import zipfile

    try:
        with np.load(path / TOKEN_CACHE, allow_pickle=False) as stored:
            cache = {key: stored[key] for key in stored.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if not {"keys", "offsets", "words", "table", "stems"} <= set(cache):
        return None
    words, table = cache["words"], cache["table"]
    fits = (len(cache["offsets"]) == len(cache["keys"]) + 1 and int(cache["offsets"][-1]) == len(words)
            and len(table) == len(cache["stems"]) and (not len(words) or int(words.max()) < len(table)))
    return cache if fits else None  # a damaged or foreign file: every text is split again


def _text_keys(texts: list[str]) -> np.ndarray:
    import hashlib

    return np.array([hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
                     for t in texts], dtype="S16")


def _words_of(texts: list[str], tokenizer, cache: dict[str, np.ndarray] | None):
    """(word table, their stems, each text's words as table numbers (flat), words per text,
    text keys): as the tokenizer reads a text (lower case, split, stopwords out); a text in
    ``cache`` is taken from it."""
    keys = _text_keys(texts)
    table: list[str] = cache["table"].tolist() if cache else []
    stems: list[str] = cache["stems"].tolist() if cache else []
    number = {w: i for i, w in enumerate(table)}
    known = {k: i for i, k in enumerate(cache["keys"].tolist())} if cache else {}
    offsets = cache["offsets"] if cache else np.zeros(1, np.int64)
    stop, split, stem = set(tokenizer.stopwords), tokenizer.splitter, tokenizer.stemmer
    parts, counts = [], np.zeros(len(texts), np.int64)
    for i, text in enumerate(texts):
        j = known.get(keys[i])
        if j is not None:
            parts.append(cache["words"][offsets[j]:offsets[j + 1]])
        else:
            ids = []
            for word in split(text.lower()):
                if word not in stop:
                    if word not in number:
                        number[word] = len(table)
                        table.append(word)
                        stems.append(stem(word))
                    ids.append(number[word])
            parts.append(np.array(ids, dtype=np.int64))
        counts[i] = len(parts[-1])
    words = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return table, stems, words, counts, keys


def _vocabulary(tokenizer, table: list[str], stems: list[str], words: np.ndarray, counts: np.ndarray):
    """Fill the tokenizer's dictionaries as its ``tokenize`` would over these texts in order
    (the empty token first, then each word and stem at its first occurrence) and return
    (token ids, flat; tokens per text; the used words, their stems and the texts' words as
    numbers into them, for the cache). A text without words is the empty token, as there."""
    first = first_places(words, len(table))
    used = np.flatnonzero(first < len(words))
    order = used[np.argsort(first[used], kind="stable")]  # words by first occurrence
    tokenizer.word_to_id, tokenizer.word_to_stem, tokenizer.stem_to_sid = {"": 0}, {"": ""}, {"": 0}
    sid = np.zeros(len(table), np.int64)
    rank = np.zeros(len(table), np.int64)
    for r, w in enumerate(order.tolist()):
        word, stem = table[w], stems[w]
        sid[w] = tokenizer.stem_to_sid.setdefault(stem, len(tokenizer.stem_to_sid))
        tokenizer.word_to_stem[word] = stem
        tokenizer.word_to_id[word] = int(sid[w])
        rank[w] = r
    lengths = np.maximum(counts, 1)
    nonempty = counts > 0
    if nonempty.all():  # as usual: the texts' words are the tokens, end to end
        tokens = sid[words]
    else:
        tokens = np.zeros(int(lengths.sum()), np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)])[:-1]
        tokens[ranges(starts[nonempty], counts[nonempty])] = sid[words]
    kept = order.tolist()
    return (tokens, lengths, [table[w] for w in kept], [stems[w] for w in kept],
            rank[words].astype(np.int32))


def first_places(values: np.ndarray, n: int, block: int = 1 << 16) -> np.ndarray:
    """Where each of ``0 … n-1`` first occurs in ``values`` (``len(values)`` if never).

    >>> first_places(np.array([2, 0, 2, 1]), 4).tolist()
    [1, 3, 0, 4]

    Block by block, each block searched only for the values not seen yet: most words of a
    corpus appear early, so once all are seen the rest is a cheap check per block
    (``np.minimum.at`` over the ~11M words of a 100k-chunk corpus took ~0.2 s)."""
    first = np.full(n, len(values), np.int64)
    seen = np.zeros(n, dtype=bool)
    for start in range(0, len(values), block):
        part = values[start:start + block]
        new = np.flatnonzero(~seen[part])
        if len(new):
            found, at = np.unique(part[new], return_index=True)  # the first of each, in order
            first[found] = start + new[at]
            seen[found] = True
    return first


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start s and length n, without a loop.

    >>> ranges(np.array([5, 0]), np.array([2, 3])).tolist()
    [5, 6, 0, 1, 2]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) + np.repeat(np.asarray(starts, np.int64) - ends + lengths,
                                                         lengths)


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

        def index_tokens(self, tokens: np.ndarray, lengths: np.ndarray, vocab: dict) -> None:
            """What ``index`` does with a tokenizer's output, from flat token ids."""
            self.nonoccurrence_array = None
            self.scores = _score_matrix_flat(self, len(vocab), tokens, lengths, scoring)
            self.vocab_dict = vocab
            self.unique_token_ids_set = set(vocab.values())

    return ArrayBM25


def _score_matrix(bm25, n_vocab: int, corpus_token_ids, scoring) -> dict:
    """What ``BM25.build_index_from_ids`` returns, computed as the library does per document
    (the same float64 expressions, stored as float32) but over all documents at once."""
    import itertools

    lengths = np.array([len(ids) for ids in corpus_token_ids])
    tokens = np.fromiter(itertools.chain.from_iterable(corpus_token_ids), dtype=np.int64,
                         count=int(lengths.sum()))
    return _score_matrix_flat(bm25, n_vocab, tokens, lengths, scoring)


def _score_matrix_flat(bm25, n_vocab: int, tokens: np.ndarray, lengths: np.ndarray, scoring) -> dict:
    """``_score_matrix`` of the documents' token ids, flat, and their lengths."""
    n_docs = len(lengths)
    avg_doc_len = np.asarray(lengths, dtype=np.int64).mean()
    # uint16 when the vocabulary allows: NumPy's stable sort of it is a radix sort, 5x faster
    small = np.uint16 if n_vocab <= np.iinfo(np.uint16).max else np.int64
    tokens = tokens.astype(small)
    # int32 document numbers while they fit: half the bytes to move in the gathers below
    doc_type = np.int32 if n_docs <= np.iinfo(np.int32).max else np.int64
    docs = np.repeat(np.arange(n_docs, dtype=doc_type), lengths)
    # one entry per (token, document), sorted as the library's CSC matrix is: token, then doc
    # (stable: documents stay in order within a token)
    order = np.argsort(tokens, kind="stable")
    tokens, docs = tokens[order], docs[order]
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
