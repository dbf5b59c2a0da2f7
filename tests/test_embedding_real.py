"""The real model: NumPy query encoder == sentence-transformers, passage vectors == encode(),
late-pooled sentence vectors that point at their own sentence, and own sentence vectors that
are each sentence encoded alone.

The SentenceTransformer loads once for this module (~5 s with its imports)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.embedding import NumpyMiniLM, SentenceTransformerEmbedder, pool_spans
from assistant.settings import DEFAULT_MODEL, resolve_model_path
from assistant.tokens import model_tokenizer

LONG_TEXT = (
    "Cambridge City Council is a good council that is performing well and has a number of areas "
    "of strong practice, including leveraging in additional funding and grants, building new homes "
    "and supporting vulnerable residents both through service delivery and support grants to the "
    "voluntary and third sector. "
) * 6

QUERIES = [
    "How fast does the council make decisions?",
    "shared services with Peterborough",
    "\u00a312m budget \u2013 \u201cFairer Cambridge\u201d",  # non-ASCII, curly quotes
    "x",
    ("What did the peers say about the council's governance, its scrutiny arrangements, the "
    "constitution, member development and the relationship between officers and councillors?"),
    LONG_TEXT,  # more than 256 word pieces: both must truncate the same way
]

SENTENCES = [
    "The council faces a budget shortfall of three million pounds next year.",
    "Residents praised the new parks, playgrounds and green spaces.",
    "The chief executive restructured the senior leadership team.",
]
UNRELATED = "Honey bees visit thousands of flowers on a warm summer afternoon."


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- fast: pooling arithmetic with hand-written vectors -----------------------------------

def test_pool_spans_means_the_tokens_inside_each_span() -> None:
    tokens = np.array([[9.0, 9.0], [0.0, 2.0], [2.0, 2.0], [9.0, -9.0]], dtype=np.float32)
    offsets = [(0, 0), (0, 3), (4, 7), (0, 0)]  # [CLS] "abc" "def" [SEP]
    fallback = np.array([3.0, 4.0], dtype=np.float32)
    out = pool_spans(tokens, offsets, [(0, 3), (0, 7), (8, 9)], fallback)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], [0.0, 1.0])  # one token, normalised
    np.testing.assert_allclose(out[1], np.array([1.0, 2.0]) / np.sqrt(5.0), rtol=1e-6)  # mean of two
    np.testing.assert_allclose(out[2], [0.6, 0.8], rtol=1e-6)  # no tokens: the fallback, normalised


def test_pool_spans_ignores_special_tokens_and_partial_overlaps() -> None:
    tokens = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    offsets = [(0, 0), (0, 4), (3, 8)]
    out = pool_spans(tokens, offsets, [(0, 5)], np.array([1.0, 0.0], dtype=np.float32))
    np.testing.assert_allclose(out[0], [0.0, 1.0])  # the token that runs past the span is left out


# --- slow: the real model -----------------------------------------------------------------

@pytest.fixture(scope="module")
def st_model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu")


@pytest.fixture(scope="module")
def embedder(st_model) -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder(DEFAULT_MODEL, batch_size=4)
    embedder._model = st_model  # share the module's model rather than loading a second copy
    return embedder


@pytest.fixture(scope="module")
def numpy_model() -> NumpyMiniLM:
    return NumpyMiniLM(DEFAULT_MODEL)


@pytest.mark.slow
def test_long_query_really_exceeds_the_model_limit(st_model) -> None:
    tokens = model_tokenizer(resolve_model_path(DEFAULT_MODEL)).encode(LONG_TEXT).ids
    assert len(tokens) > st_model.max_seq_length == 256


@pytest.mark.slow
def test_numpy_query_encoder_matches_sentence_transformers(st_model, numpy_model) -> None:
    reference = st_model.encode(QUERIES, normalize_embeddings=True)
    assert reference.shape == (len(QUERIES), 384)
    for query, expected in zip(QUERIES, reference):
        vector = numpy_model.embed_query(query)
        assert vector.shape == (384,) and vector.dtype == np.float32
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
        assert cosine(vector, expected) > 0.9999, query[:40]
    # and the encoder does tell different queries apart
    assert cosine(numpy_model.embed_query(QUERIES[0]), numpy_model.embed_query(QUERIES[1])) < 0.9


@pytest.mark.slow
def test_passage_vectors_equal_plain_encode(embedder, st_model) -> None:
    texts = [" ".join(SENTENCES), UNRELATED, LONG_TEXT, "Short."]
    spans = [[(0, len(SENTENCES[0]))], [], [(0, 20)], [(0, 6)]]
    embedded = embedder.embed_passages(texts, spans)
    reference = st_model.encode(texts, normalize_embeddings=True)
    assert embedded.vectors.shape == (4, 384) and embedded.vectors.dtype == np.float32
    for got, expected in zip(embedded.vectors, reference):
        assert cosine(got, expected) > 0.9999
    assert [len(s) for s in embedded.span_vectors] == [1, 0, 1, 1]
    assert embedder.embed_passages([], []).vectors.shape == (0, 384)


@pytest.mark.slow
def test_sentence_vectors_point_at_their_own_sentence(embedder, st_model) -> None:
    passage = " ".join(SENTENCES)
    spans, start = [], 0
    for sentence in SENTENCES:
        start = passage.index(sentence, start)
        spans.append((start, start + len(sentence)))
    embedded = embedder.embed_passages([passage], [spans])
    pooled = embedded.span_vectors[0]
    assert pooled.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    standalone = st_model.encode(SENTENCES + [UNRELATED], normalize_embeddings=True)
    for i, vector in enumerate(pooled):
        own = cosine(vector, standalone[i])
        others = [cosine(vector, standalone[j]) for j in range(len(standalone)) if j != i]
        assert own > max(others), (SENTENCES[i], own, others)
        assert own > 0.5
    # each sentence vector differs from the whole-passage vector
    assert all(cosine(v, embedded.vectors[0]) < 0.99 for v in pooled)


@pytest.mark.slow
@pytest.mark.parametrize("encoder", ["torch-fp32", "onnx-fp32"])
def test_own_sentence_vectors_are_each_sentence_encoded_alone(st_model, encoder) -> None:
    """``sentence_vectors = "own"`` (the default): each span is the sentence embedded by
    itself, as ``encode`` gives it, not the pooled tokens of its passage; the passage vector
    is the same either way, and a sentence repeated in two passages is embedded once."""
    from dataclasses import replace

    from assistant.embedding import make_embedder
    from assistant.settings import Settings

    passage = " ".join(SENTENCES)
    spans, start = [], 0
    for sentence in SENTENCES:
        start = passage.index(sentence, start)
        spans.append((start, start + len(sentence)))
    settings = replace(Settings(), encoder=encoder)
    own = make_embedder(settings)
    pooled = make_embedder(replace(settings, sentence_vectors="pooled"))
    calls = []
    if encoder == "torch-fp32":
        own._model = pooled._model = st_model
    embed = own.embed_passages
    own.embed_passages = lambda texts, spans_, show_progress=False: (
        calls.append(list(texts)) or embed(texts, spans_, show_progress))
    got = own.embed_passages([passage, SENTENCES[1], UNRELATED], [spans, [(0, len(SENTENCES[1]))], []])
    plain = pooled.embed_passages([passage, SENTENCES[1], UNRELATED], [spans, [(0, len(SENTENCES[1]))], []])
    standalone = st_model.encode(SENTENCES, normalize_embeddings=True)
    assert [v.shape for v in got.span_vectors] == [(3, 384), (1, 384), (0, 384)]
    for i, vector in enumerate(got.span_vectors[0]):
        assert cosine(vector, standalone[i]) > 0.9999
        assert cosine(plain.span_vectors[0][i], standalone[i]) < 0.99  # pooled is blurred by the rest
    assert cosine(got.span_vectors[1][0], standalone[1]) > 0.9999
    np.testing.assert_allclose(got.vectors, plain.vectors, atol=1e-6)
    assert calls[1] == SENTENCES  # the repeated sentence once, in one call


@pytest.mark.slow
def test_sentence_beyond_truncation_falls_back_to_the_passage_vector(embedder) -> None:
    tail = "This final sentence lies beyond the model limit."
    passage = LONG_TEXT + tail
    embedded = embedder.embed_passages([passage], [[(0, 40), (len(LONG_TEXT), len(passage))]])
    first, cut = embedded.span_vectors[0]
    assert cosine(cut, embedded.vectors[0]) > 0.9999
    assert cosine(first, embedded.vectors[0]) < 0.99


@pytest.mark.slow
def test_real_index_holds_what_encode_gives(real_index, st_model, numpy_model) -> None:
    from assistant.tokens import token_counter
    from ingest.chunking import embedding_text

    settings, store = real_index
    assert store.manifest["dim"] == 384 and store.vectors.shape == (len(store.chunks), 384)
    np.testing.assert_allclose(np.linalg.norm(store.vectors, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(store.sentence_vectors, axis=1), 1.0, atol=1e-4)
    # each sentence vector is its sentence encoded alone (sentence_vectors = "own")
    assert store.manifest["sentence_vectors"] == settings.sentence_vectors == "own"
    sentences = [store.chunks[0].sentence_texts()[0], store.chunks[-1].sentence_texts()[-1]]
    alone = st_model.encode(sentences, normalize_embeddings=True)
    assert cosine(store.chunk_sentence_vectors(0)[0], alone[0]) > 0.999  # stored at half precision
    assert cosine(store.chunk_sentence_vectors(len(store.chunks) - 1)[-1], alone[1]) > 0.999
    count = token_counter(resolve_model_path(settings.model))
    rows = [0, len(store.chunks) // 2, len(store.chunks) - 1]
    texts = [embedding_text(store.chunks[r], store.documents[store.chunks[r].doc_id].meta, count,
                            settings.chunking.header_budget) for r in rows]
    reference = st_model.encode(texts, normalize_embeddings=True)
    for row, expected in zip(rows, reference):
        assert cosine(store.vectors[row], expected) > 0.9999
    # a NumPy-encoded query finds the passage it paraphrases among the top five of all chunks
    query = numpy_model.embed_query("The council's decision making process is thorough and open "
                                    "but may not be quick and responsive enough")
    top = np.argsort(-(store.vectors @ query))[:5]
    assert any("fleet of foot" in store.chunks[int(row)].text for row in top)
