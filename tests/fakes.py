"""Deterministic stand-ins for the embedding model, for fast unit tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from assistant.embedding import Embedded

DIM = 32


def _word_vector(word: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def fake_vector(text: str) -> np.ndarray:
    """Bag-of-words of hash-seeded word vectors, unit length: similar words → similar vectors."""
    words = re.findall(r"\w+", text.lower()) or ["<empty>"]
    vec = np.sum([_word_vector(w) for w in words], axis=0)
    return (vec / (np.linalg.norm(vec) or 1.0)).astype(np.float32)


class FakeEmbedder:
    """Implements the Embedder protocol without a model; counts calls so tests can assert them."""

    model_id = "fake"
    dim = DIM

    def __init__(self) -> None:
        self.passage_calls = 0
        self.texts_embedded = 0

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                       show_progress: bool = False) -> Embedded:
        self.passage_calls += 1
        self.texts_embedded += len(texts)
        vectors = np.stack([fake_vector(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)
        span_vectors = tuple(
            np.stack([fake_vector(t[a:b]) for a, b in s]) if s else np.zeros((0, DIM), np.float32)
            for t, s in zip(texts, spans)
        )
        return Embedded(vectors, span_vectors)

    def embed_query(self, text: str) -> np.ndarray:
        return fake_vector(text)


def word_count(text: str) -> int:
    """A token counter for unit tests: one token per word or punctuation mark."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def query_for(store, question: str, history=()):
    """``question`` analysed against ``store``'s corpus, as the CLI and the web chat do."""
    from assistant.query import analyse, corpus_facts

    return analyse(question, corpus_facts(store), history)
