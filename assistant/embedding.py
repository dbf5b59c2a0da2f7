"""Embedders: the protocol, the passage encoders (ingest) and the query encoders.

Design decision (cold start): ``import sentence_transformers`` costs ~5 s here, which alone
breaks the 4 s one-shot ``peerqa ask`` target. Queries are therefore encoded by the exported
fp32 ONNX model when its file exists (``OnnxEmbedder`` on one thread, ~4 ms a question) or else by
``NumpyMiniLM``: the same BERT weights (model.safetensors) and the same tokenizer.json, run
in NumPy (~9 ms). ``tests/test_embedding_real.py`` proves it gives the same vectors as
``SentenceTransformer.encode`` (cosine > 0.9999). Ingest encodes batches with the encoder
``settings.encoder`` names (``make_embedder``): by default the same fp32 model run by ONNX
Runtime (``OnnxEmbedder``, 1.2x sentence-transformers on a quiet machine, 2x on a busy one,
same vectors), loaded lazily, only when
something must be embedded.

Sentence evidence comes from the same forward pass as the chunk vector: the chunk's token
embeddings are mean-pooled over each sentence's tokens (late pooling), so per-sentence
vectors cost no extra model calls.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.settings import Settings, resolve_model_path

Span = tuple[int, int]


@dataclass(frozen=True)
class Embedded:
    """Unit vectors for texts, and for each text one vector per requested character span."""

    vectors: np.ndarray  # (n, dim) float32
    span_vectors: tuple[np.ndarray, ...]  # each (len(spans_i), dim) float32


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       show_progress: bool = False) -> Embedded: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def pool_spans(token_vectors: np.ndarray, offsets: Sequence[tuple[int, int]],
               spans: Sequence[Span], fallback: np.ndarray) -> np.ndarray:
    """Mean-pool the tokens whose character offsets fall inside each span; unit length.

    ``offsets`` are the tokenizer's (start, end) per token, ``(0, 0)`` for special tokens.
    A span with no tokens (cut by truncation) gets ``fallback`` (the whole-text vector).
    """
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    real = ends > starts
    out = np.empty((len(spans), token_vectors.shape[1]), dtype=np.float32)
    for i, (a, b) in enumerate(spans):
        mask = real & (starts >= a) & (ends <= b)
        out[i] = token_vectors[mask].mean(axis=0) if mask.any() else fallback
    return _normalise(out)


def model_dimension(model: str) -> int | None:
    """Vector size of a sentence-transformers model folder, read from its module configs
    (no torch import); None when the folder does not say.

    The last Dense module's ``out_features`` wins; otherwise the Pooling module's word
    embedding size times the number of pooling modes it concatenates.
    """
    import json

    path = Path(resolve_model_path(model))
    try:
        modules = json.loads((path / "modules.json").read_text())
        dim = None
        for module in modules:
            kind = str(module.get("type", ""))
            if kind.endswith(("Pooling", "Dense")):
                config = json.loads((path / module.get("path", "") / "config.json").read_text())
            if kind.endswith("Pooling"):
                modes = sum(1 for k, v in config.items() if k.startswith("pooling_mode") and v is True)
                dim = int(config["word_embedding_dimension"]) * max(modes, 1)
            elif kind.endswith("Dense"):
                dim = int(config["out_features"])
        return dim
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def own_span_vectors(embed: Callable[[list[str]], np.ndarray], texts: Sequence[str],
                     spans: Sequence[Sequence[Span]], dim: int) -> tuple[np.ndarray, ...]:
    """Each span embedded on its own (``embed``: texts → unit vectors, one call), grouped per
    text. A sentence pooled from its chunk's forward pass carries the rest of the chunk in
    every token (a recommendation among six reads like all six); on its own it says only
    itself. A span repeated across chunks (standard text) is embedded once."""
    pieces = [t[a:b] for t, text_spans in zip(texts, spans) for a, b in text_spans]
    unique = list(dict.fromkeys(pieces))
    vectors = np.asarray(embed(unique), np.float32) if unique else np.zeros((0, dim), np.float32)
    row = {piece: i for i, piece in enumerate(unique)}
    grouped, at = [], 0
    for text_spans in spans:
        grouped.append(vectors[[row[p] for p in pieces[at:at + len(text_spans)]]] if text_spans
                       else np.zeros((0, dim), np.float32))
        at += len(text_spans)
    return tuple(grouped)


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers model), loaded on first use, CPU only."""

    def __init__(self, model: str, batch_size: int = 16, own_spans: bool = False):
        self.model_path = resolve_model_path(model)
        self.model_id = model
        self.batch_size = batch_size
        self.own_spans = own_spans  # each span embedded on its own, not pooled from its text's pass
        self._model = None
        self._tokenizer = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_path, device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        """Vector size: from the model's config files while it is not loaded, else from the model."""
        if self._model is None:
            known = model_dimension(self.model_path)
            if known:
                return known
        return int(self._load().get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self._load().max_seq_length)

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       show_progress: bool = False) -> Embedded:
        model = self._load()
        if not texts:
            return Embedded(np.zeros((0, self.dim), np.float32), ())
        # One forward pass: token embeddings give both the chunk vector (mean pooling, as the
        # model's own Pooling + Normalize modules do) and the sentence vectors (late pooling).
        outputs = model.encode(list(texts), batch_size=self.batch_size, output_value="token_embeddings",
                               show_progress_bar=show_progress and sys.stderr.isatty(),
                               convert_to_numpy=False)
        from assistant.tokens import model_tokenizer

        tokenizer = model_tokenizer(self.model_path)
        encodings = tokenizer.encode_batch(list(texts))  # Rust, parallel; offsets per token
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        span_vectors = []
        for i, (enc, out) in enumerate(zip(encodings, outputs)):
            tokens = out.float().numpy()
            offsets = enc.offsets
            if len(offsets) > model.max_seq_length:  # truncated like the model: keep [SEP] last
                offsets = offsets[: model.max_seq_length - 1] + offsets[-1:]
            vectors[i] = tokens.mean(axis=0)
            if len(offsets) != tokens.shape[0]:  # should not happen; degrade to chunk vector
                span_vectors.append(np.tile(_normalise(vectors[i]), (len(spans[i]), 1)))
                continue
            span_vectors.append(pool_spans(tokens, offsets, spans[i], _normalise(vectors[i])))
        if self.own_spans:
            return Embedded(_normalise(vectors), own_span_vectors(
                lambda pieces: self.embed_passages(pieces, [[] for _ in pieces]).vectors, texts, spans,
                vectors.shape[1]))
        return Embedded(_normalise(vectors), tuple(span_vectors))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Plain ``SentenceTransformer.encode`` (the benchmark's reference)."""
        return self._load().encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._load().encode([text], normalize_embeddings=True)[0], dtype=np.float32)


def max_seq_length(model_path: str, default: int = 256) -> int:
    """The model's input limit in word pieces (sentence_bert_config.json), as it truncates."""
    import json

    try:
        return int(json.loads((Path(model_path) / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, KeyError, ValueError, TypeError):
        return default


def _truncate(items: list, limit: int) -> list:
    """Cut to ``limit`` like sentence-transformers does: the last item ([SEP]) stays last."""
    return items[: limit - 1] + items[-1:] if len(items) > limit else items


class OnnxEmbedder:
    """The same model run by ONNX Runtime on the CPU, with fp32 or int8 (quantized) weights.

    Same tokenizer, truncation, mean pooling and late pooling as ``SentenceTransformerEmbedder``;
    only the forward pass differs. Batches are formed from texts sorted by length, so a batch
    pads to similar lengths. The ONNX file is exported on first use (assistant/onnx_model.py).
    """

    def __init__(self, model: str, precision: str = "int8", batch_size: int = 16,
                 cache_dir: Path | None = None, threads: int = 0, own_spans: bool = False):
        self.model_path = resolve_model_path(model)
        self.model_id = model
        self.own_spans = own_spans  # each span embedded on its own, not pooled from its text's pass
        self.precision = precision
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.threads = threads
        self.max_tokens = max_seq_length(self.model_path)
        self._session = None

    def _load(self):
        if self._session is None:
            from assistant.onnx_model import load_session

            self._session = load_session(self.model_id, self.precision, self.cache_dir, self.threads)
        return self._session

    @property
    def dim(self) -> int:
        return model_dimension(self.model_path) or int(self._load().get_outputs()[0].shape[-1])

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        """Token embeddings (batch, longest, dim) for word-piece id lists, padded with 0."""
        matrix = np.zeros((len(ids), max(map(len, ids))), dtype=np.int64)
        for row, item in enumerate(ids):
            matrix[row, : len(item)] = item
        feeds = {"input_ids": matrix, "attention_mask": (matrix != 0).astype(np.int64),
                 "token_type_ids": np.zeros_like(matrix)}
        return self._load().run(None, feeds)[0]

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                       show_progress: bool = False, batch_size: int = 0) -> Embedded:
        """Each text's vector and its spans' vectors, ``batch_size`` texts a pass (default: the
        embedder's own)."""
        from assistant.tokens import model_tokenizer

        if not texts:
            return Embedded(np.zeros((0, self.dim), np.float32), ())
        encodings = model_tokenizer(self.model_path).encode_batch(list(texts))
        ids = [_truncate(list(e.ids), self.max_tokens) for e in encodings]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        span_vectors: list[np.ndarray] = [np.empty(0)] * len(texts)
        batch_size = batch_size or self.batch_size
        starts = range(0, len(order), batch_size)
        if show_progress and sys.stderr.isatty():
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        for start in starts:
            batch = order[start: start + batch_size]
            output = self._forward([ids[i] for i in batch])
            for row, i in enumerate(batch):
                tokens = output[row, : len(ids[i])]
                vectors[i] = tokens.mean(axis=0)
                offsets = _truncate(list(encodings[i].offsets), self.max_tokens)
                if not self.own_spans:
                    span_vectors[i] = pool_spans(tokens, offsets, spans[i], _normalise(vectors[i]))
        if self.own_spans:
            return Embedded(_normalise(vectors), own_span_vectors(
                lambda pieces: self.embed_passages(pieces, [[] for _ in pieces]).vectors, texts, spans,
                vectors.shape[1]))
        return Embedded(_normalise(vectors), tuple(span_vectors))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text], [[]]).vectors[0]

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """``embed_query`` of each text in one forward pass, whatever ``batch_size``: the same
        vectors (padding is masked and pooling skips it) for less than two passes cost."""
        return list(self.embed_passages(texts, [[] for _ in texts], batch_size=len(texts)).vectors)


def make_embedder(settings: Settings) -> Embedder:
    """The passage encoder ``settings.encoder`` names (see ``ENCODERS``), loaded on first use."""
    own = settings.sentence_vectors == "own"
    if settings.encoder == "torch-fp32":
        return SentenceTransformerEmbedder(settings.model, settings.batch_size, own_spans=own)
    return OnnxEmbedder(settings.model, settings.encoder.removeprefix("onnx-"), settings.batch_size,
                        Path(settings.onnx_dir) if settings.onnx_dir else None,
                        settings.encoder_threads, own_spans=own)


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # exact GELU as in BERT; scipy comes with sentence-transformers

    return erf(x)


class NumpyMiniLM:
    """BERT encoder + mean pooling + normalisation in NumPy, for fast-start query encoding.

    Loads in ~0.2 s (no torch import). Reproduces SentenceTransformer vectors for the same
    model folder (checked by tests). Supports BERT-architecture models only.
    """

    def __init__(self, model: str):
        import json

        from safetensors.numpy import load_file

        from assistant.tokens import model_tokenizer

        self.model_id = model
        path = Path(resolve_model_path(model))
        config = json.loads((path / "config.json").read_text())
        if config.get("model_type") != "bert":
            raise ValueError(f"NumpyMiniLM supports BERT models only, not {config.get('model_type')}")
        self.max_len = max_seq_length(str(path))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(path / "model.safetensors"))
        weights = {k.removeprefix("bert."): v for k, v in weights.items()}
        self.w = {k: v.astype(np.float32) for k, v in weights.items() if v.dtype != np.int64}
        self.layers = int(config["num_hidden_layers"])
        self.dim = int(config["hidden_size"])
        self.tokenizer = model_tokenizer(str(path))
        # pre-transpose the dense weights once
        for k in list(self.w):
            if k.endswith(".weight") and self.w[k].ndim == 2 and "embeddings" not in k:
                self.w[k] = np.ascontiguousarray(self.w[k].T)

    def _ln(self, x: np.ndarray, prefix: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def _dense(self, x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def token_vectors(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        enc = self.tokenizer.encode(text)  # with [CLS] … [SEP]
        ids, offsets = enc.ids, enc.offsets
        if len(ids) > self.max_len:  # truncate like sentence-transformers: keep [SEP] last
            ids = ids[: self.max_len - 1] + ids[-1:]
            offsets = offsets[: self.max_len - 1] + offsets[-1:]
        w = self.w
        n = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._ln(x, "embeddings.LayerNorm")
        h = self.heads
        d = self.dim // h
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = self._dense(x, p + "attention.self.query").reshape(n, h, d).transpose(1, 0, 2)
            k = self._dense(x, p + "attention.self.key").reshape(n, h, d).transpose(1, 2, 0)
            v = self._dense(x, p + "attention.self.value").reshape(n, h, d).transpose(1, 0, 2)
            scores = (q @ k) / math.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, self.dim)
            x = self._ln(self._dense(context, p + "attention.output.dense") + x,
                         p + "attention.output.LayerNorm")
            inter = self._dense(x, p + "intermediate.dense")
            inter = 0.5 * inter * (1.0 + _erf(inter / math.sqrt(2.0)))
            x = self._ln(self._dense(inter, p + "output.dense") + x, p + "output.LayerNorm")
        return x, list(offsets)

    def embed_query(self, text: str) -> np.ndarray:
        tokens, _ = self.token_vectors(text)
        return _normalise(tokens.mean(axis=0, keepdims=True))[0]


@lru_cache(maxsize=2)
def _query_model(model: str, onnx_dir: str = ""):
    """One loaded query model per model name for the whole process (weights are ~90 MB): the
    exported fp32 ONNX model when it is there (in ``onnx_dir``, else the default folder), else
    the NumPy port, else sentence-transformers."""
    from assistant.onnx_model import onnx_path

    # the exported fp32 model on one thread: ~4 ms a question against ~9 ms for the NumPy port,
    # the same vectors. Only when its file exists (`make install` exports it): a question never
    # waits for an export.
    folder = Path(onnx_dir) if onnx_dir else None
    if onnx_path(model, "fp32", folder).is_file():
        encoder = OnnxEmbedder(model, "fp32", batch_size=1, cache_dir=folder, threads=1)
        try:
            encoder._load()
            return encoder
        except Exception:  # noqa: BLE001 - no onnxruntime, a file that cannot be re-exported
            pass
    try:
        return NumpyMiniLM(model)
    except (ValueError, KeyError, OSError):
        return SentenceTransformerEmbedder(model)


@lru_cache(maxsize=2)
def _bulk_model(model: str, onnx_dir: str = "") -> OnnxEmbedder | None:
    """The exported fp32 ONNX model in batches on every core, for many texts at once (the
    register's records), when its file is there; None otherwise."""
    from assistant.onnx_model import onnx_path

    folder = Path(onnx_dir) if onnx_dir else None
    if not onnx_path(model, "fp32", folder).is_file():
        return None
    encoder = OnnxEmbedder(model, "fp32", batch_size=32, cache_dir=folder)
    try:
        encoder._load()
    except Exception:  # noqa: BLE001 - as _query_model: fall back to one text at a time
        return None
    return encoder


class QueryEncoder:
    """Embeds queries with NumpyMiniLM when the model is BERT, else with sentence-transformers.

    Loads on first use; every encoder of the same model shares the one loaded copy.
    """

    def __init__(self, model: str, onnx_dir: str = ""):
        self.model_id, self.onnx_dir = model, onnx_dir

    def embed_query(self, text: str) -> np.ndarray:
        return _query_model(self.model_id, self.onnx_dir).embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """``embed_query`` of each of a few texts (a question and its topic), in one pass of the
        ONNX model when that is the query model (~2 ms less a question than two passes)."""
        model = _query_model(self.model_id, self.onnx_dir)
        if isinstance(model, OnnxEmbedder) and len(texts) > 1:
            return model.embed_queries(texts)
        return [model.embed_query(t) for t in texts]

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """``embed_query`` of each text, batched when the ONNX model is there (the same vectors
        to float rounding: padding is masked and pooling skips it)."""
        if not texts:
            return np.zeros((0, 0), np.float32)
        bulk = _bulk_model(self.model_id, self.onnx_dir)
        if bulk is not None:
            return bulk.embed_passages(list(texts), [[] for _ in texts]).vectors
        return np.stack([self.embed_query(t) for t in texts])
