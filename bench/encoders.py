"""Passage encoders compared in one run: speed and agreement with fp32 sentence-transformers.

    python -m bench.encoders --index /tmp/seed-idx --index /tmp/councils-idx [--rounds 3]
        [--questions tests/fixtures/questions.yaml]
    python -m bench.encoders --eval tests/fixtures/questions.yaml /tmp/seed-idx /tmp/seed-int8-idx

Reads the exact texts and sentence spans ingest embedded (the chunks of each index, with their
contextual headers), then times, interleaved so each sees the same machine load:
``SentenceTransformer.encode`` (the fp32 reference), fp32 ``embed_passages`` (one forward
pass, chunk + sentence vectors), and ONNX Runtime ``embed_passages`` with fp32 and int8
weights. Cosine of each ONNX encoder's chunk and sentence vectors against fp32 torch: min, 1st
percentile, median. Query encoding: warm latency of the fp32 NumPy encoder and of int8 ONNX.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.embedding import (
    Embedded,
    NumpyMiniLM,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    Span,
)
from assistant.settings import Settings, load_settings, resolve_model_path


def embedding_inputs(settings: Settings, index_dir: Path) -> tuple[list[str], list[list[Span]]]:
    """The texts ingest embedded for the chunks of the index in ``index_dir``, and their
    sentence spans (character offsets into each text)."""
    from assistant.store import load_index
    from assistant.tokens import token_counter
    from ingest.chunking import embedding_text

    store = load_index(replace(settings, index_dir=index_dir), check=False)
    counter = token_counter(resolve_model_path(settings.model))
    texts, spans = [], []
    for chunk in store.chunks:
        text = embedding_text(chunk, store.documents[chunk.doc_id].meta, counter,
                              settings.chunking.header_budget)
        offset = len(text) - len(chunk.text)
        texts.append(text)
        spans.append([(offset + s.start - chunk.start, offset + s.end - chunk.start)
                      for s in chunk.sentences])
    return texts, spans


def cosine_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """min, 1st percentile and median of the row-wise cosine of two sets of unit vectors."""
    cos = np.sum(a * b, axis=1)
    return {"min": round(float(cos.min()), 4), "p1": round(float(np.percentile(cos, 1)), 4),
            "median": round(float(np.median(cos)), 4)}


def _timed(run: Callable[[], object], times: list[float]) -> object:
    started = time.perf_counter()
    result = run()
    times.append(time.perf_counter() - started)
    return result


def _onnx(settings: Settings, precision: str) -> OnnxEmbedder:
    cache = Path(settings.onnx_dir) if settings.onnx_dir else None
    return OnnxEmbedder(settings.model, precision, settings.batch_size, cache, settings.encoder_threads)


def compare_passages(settings: Settings, texts: list[str], spans: list[list[Span]],
                     rounds: int = 3) -> dict:
    """chunks/s of each encoder (median over interleaved rounds) and cosine against fp32."""
    torch = SentenceTransformerEmbedder(settings.model, settings.batch_size)
    onnx = {p: _onnx(settings, p) for p in ("fp32", "int8")}
    torch.embed_texts(texts[:8])  # load and warm every encoder before timing
    for encoder in onnx.values():
        encoder.embed_passages(texts[:8], spans[:8])
    times: dict[str, list[float]] = {"encode": [], "torch-fp32": [], "onnx-fp32": [], "onnx-int8": []}
    results: dict[str, Embedded] = {}
    for _ in range(rounds):
        _timed(lambda: torch.embed_texts(texts), times["encode"])
        results["torch-fp32"] = _timed(lambda: torch.embed_passages(texts, spans), times["torch-fp32"])
        for p, encoder in onnx.items():
            results[f"onnx-{p}"] = _timed(lambda e=encoder: e.embed_passages(texts, spans),
                                          times[f"onnx-{p}"])
    speed = {k: round(len(texts) / statistics.median(v), 1) for k, v in times.items()}
    ref = results["torch-fp32"]
    agreement = {}
    for name in ("onnx-fp32", "onnx-int8"):
        agreement[name] = {
            "chunk": cosine_stats(results[name].vectors, ref.vectors),
            "sentence": cosine_stats(np.concatenate(results[name].span_vectors),
                                     np.concatenate(ref.span_vectors))}
    return {"chunks": len(texts), "chunks_per_s": speed,
            "speedup_vs_encode": {k: round(v / speed["encode"], 2) for k, v in speed.items()},
            "cosine_vs_torch_fp32": agreement}


def compare_queries(settings: Settings, questions: list[str], rounds: int = 3) -> dict:
    """Warm per-query latency (p50, ms) of fp32 NumPy and int8 ONNX, and their cosine."""
    numpy_fp32 = NumpyMiniLM(settings.model)
    int8 = _onnx(settings, "int8")
    latency: dict[str, list[float]] = {"numpy-fp32": [], "onnx-int8": []}
    vectors: dict[str, list[np.ndarray]] = {"numpy-fp32": [], "onnx-int8": []}
    int8.embed_query(questions[0])
    for round_ in range(rounds):
        for question in questions:
            for name, encoder in (("numpy-fp32", numpy_fp32), ("onnx-int8", int8)):
                vector = _timed(lambda e=encoder, q=question: e.embed_query(q), latency[name])
                if round_ == 0:
                    vectors[name].append(vector)
    return {"queries": len(questions),
            "p50_ms": {k: round(1000 * statistics.median(v), 1) for k, v in latency.items()},
            "cosine_int8_vs_fp32": cosine_stats(np.array(vectors["onnx-int8"]),
                                                np.array(vectors["numpy-fp32"]))}


SPLITS = ("dev", "test", "holdout", "all")


def _encoder_of(index_dir: Path) -> str:
    from assistant.store import read_manifest

    return (read_manifest(index_dir) or {}).get("encoder", "torch-fp32")


def _figures(summary) -> dict[str, float | None]:
    """The quality figures of an eval summary (latency left out: it is not quality)."""
    figures = {f"R@{k}": v for k, v in summary.recall.items()}
    for name in ("mrr", "ndcg", "coverage", "abstain_precision", "abstain_recall", "quote_rate",
                 "cross_council", "standard_quotes"):
        figures[name] = getattr(summary, name)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}


def compare_eval(settings: Settings, indexes: dict[str, Path], questions_file: Path) -> dict:
    """Hybrid eval figures per split for indexes built by different encoders (name → folder),
    queries by the NumPy fp32 encoder; ``+int8-queries``: the int8 index with int8 queries."""
    from assistant.evaluation import evaluate, load_questions, summarise
    from assistant.store import load_index

    questions = load_questions(questions_file)
    runs: dict[str, dict] = {}
    for name, folder in indexes.items():
        encoder = _encoder_of(folder)
        local = replace(settings, index_dir=folder, encoder=encoder)
        store = load_index(local)
        query_encoders = {name: None}
        if encoder == "onnx-int8":
            query_encoders[f"{name}+int8-queries"] = _onnx(settings, "int8")
        for label, query_encoder in query_encoders.items():
            results = evaluate(questions, store, local, "hybrid", encoder=query_encoder)
            runs[label] = {
                split: _figures(summarise(label, [r for r in results if split in ("all", r.split)]))
                for split in SPLITS}
    return runs


def largest_gap(runs: dict, reference: str) -> dict[str, float]:
    """Per run: the largest absolute difference from ``reference`` over every figure and split."""
    gaps = {}
    for label, splits in runs.items():
        diffs = [abs(v - runs[reference][split][k]) for split, figures in splits.items()
                 for k, v in figures.items() if v is not None and runs[reference][split][k] is not None]
        gaps[label] = round(max(diffs, default=0.0), 4)
    return gaps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", action="append", default=[], help="an index folder (repeat)")
    parser.add_argument("--questions", action="append", default=[], help="question YAML files")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--eval", nargs="+", action="append", default=[],
                        metavar="QUESTIONS INDEX",
                        help="a question file, then indexes of its corpus built by different "
                             "encoders (the first is the reference): eval figures per split")
    args = parser.parse_args(argv)
    settings = load_settings().settings
    if args.eval:
        result = {}
        for questions, *folders in args.eval:
            indexes = {_encoder_of(Path(f)): Path(f) for f in folders}
            runs = compare_eval(settings, indexes, Path(questions))
            result[questions] = {"runs": runs, "largest_gap": largest_gap(runs, next(iter(runs)))}
        print(json.dumps(result, indent=1))
        return 0
    if not args.index:
        parser.error("give --index (speed and cosine) or --eval (eval figures)")
    texts: list[str] = []
    spans: list[list[Span]] = []
    for folder in args.index:
        more_texts, more_spans = embedding_inputs(settings, Path(folder))
        texts += more_texts
        spans += more_spans
    result = {"passages": compare_passages(settings, texts, spans, args.rounds)}
    if args.questions:
        from assistant.evaluation import load_questions

        questions = [q.question for path in args.questions for q in load_questions(Path(path))]
        result["queries"] = compare_queries(settings, questions, args.rounds)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
