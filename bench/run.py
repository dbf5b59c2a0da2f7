"""Benchmarks (``peerqa bench ingest|query|load|login|scale``): figures to steer by, not
pass/fail tests.

All timings are medians of repeated runs in one process session; the machine is shared and
noisy, so compare figures from the same run.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.settings import Settings

PEERQA = [sys.executable, "-m", "cli"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _run(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode not in (0, 4):
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}")
    return time.perf_counter() - started, proc.returncode


def bench_ingest(settings: Settings) -> dict:
    from assistant.embedding import SentenceTransformerEmbedder, make_embedder
    from assistant.settings import resolve_model_path
    from assistant.store import load_index
    from assistant.tokens import token_counter
    from ingest.chunking import embedding_text

    work = Path(tempfile.mkdtemp(prefix="peerqa-bench-"))
    index = work / "index"
    env = dict(os.environ, PEERQA_CORPUS=str(settings.corpus_dir), PEERQA_INDEX=str(index))
    try:
        full, _ = _run(PEERQA + ["ingest", "--rebuild"], env)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        nochange = [_run(PEERQA + ["ingest"], env)[0] for _ in range(5)]
        store = load_index(replace(settings, index_dir=index))
        counter = token_counter(resolve_model_path(settings.model))
        texts, spans = [], []
        for chunk in store.chunks:
            meta = store.documents[chunk.doc_id].meta
            text = embedding_text(chunk, meta, counter, settings.chunking.header_budget)
            offset = len(text) - len(chunk.text)
            texts.append(text)
            spans.append([(offset + s.start - chunk.start, offset + s.end - chunk.start) for s in chunk.sentences])
        reference = SentenceTransformerEmbedder(settings.model, settings.batch_size)
        reference.embed_texts(texts[:8])  # load and warm
        embedder = make_embedder(settings)  # the encoder ingest uses (settings.encoder)
        embedder.embed_passages(texts[:8], spans[:8])
        from ingest.build import ingest

        raw, pipeline, whole = [], [], []
        for _ in range(3):  # interleave so all three see the same machine load
            t = time.perf_counter()
            reference.embed_texts(texts)
            raw.append(time.perf_counter() - t)
            t = time.perf_counter()
            embedder.embed_passages(texts, spans)
            pipeline.append(time.perf_counter() - t)
            t = time.perf_counter()  # the whole ingest: load, clean, chunk, embed, BM25, FAISS, write
            ingest(replace(settings, index_dir=index), embedder=embedder, rebuild=True, log=lambda m: None)
            whole.append(time.perf_counter() - t)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    raw_s, pipe_s, whole_s = statistics.median(raw), statistics.median(pipeline), statistics.median(whole)
    return {
        "chunks": len(texts),
        "encoder": settings.encoder,
        "full_build_s": round(full, 2),
        "nochange_reingest_s_median": round(statistics.median(nochange), 3),
        "raw_encode_chunks_per_s": round(len(texts) / raw_s, 1),
        "pipeline_chunks_per_s": round(len(texts) / pipe_s, 1),
        "embedding_overhead_pct": round(100 * (pipe_s - raw_s) / raw_s, 1),
        "ingest_chunks_per_s": round(len(texts) / whole_s, 1),
        "ingest_overhead_pct": round(100 * (whole_s - raw_s) / raw_s, 1),
        "peak_rss_mb_full_build": round(peak_kb / 1024, 1),
    }


def synthetic_store(store, target: int, seed: int = 0):
    """The real index replicated (with jittered vectors) to ``target`` chunks, in memory."""
    import faiss

    from assistant.lexical import build_bm25
    from assistant.store import IndexStore
    from assistant.types import Chunk, Document
    from ingest.chunking import contextual_header

    rng = np.random.default_rng(seed)
    copies = max(1, -(-target // len(store.chunks)))
    chunks, documents, rows = [], {}, []
    for c in range(copies):
        for doc_id, doc in store.documents.items():
            new_id = f"{doc_id}~{c}"
            documents[new_id] = Document(meta=replace(doc.meta, doc_id=new_id), text=doc.text,
                                         sections=doc.sections, pages=doc.pages)
        for row, chunk in enumerate(store.chunks):
            if len(chunks) == target:
                break
            chunks.append(Chunk(**{**chunk.__dict__, "doc_id": f"{chunk.doc_id}~{c}",
                                   "chunk_id": f"{chunk.chunk_id}~{c}"}))
            rows.append(row)
    rows_arr = np.array(rows)
    vectors = store.vectors[rows_arr] + rng.normal(0, 0.02, (len(rows), store.vectors.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sentence_blocks = [store.chunk_sentence_vectors(r) for r in rows]
    sentence_vectors = np.concatenate(sentence_blocks).astype(np.float32)
    counts = np.array([len(c.sentences) for c in chunks])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    path = Path(tempfile.mkdtemp(prefix="peerqa-synth-"))
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    faiss.write_index(index, str(path / "faiss.index"))
    metas = {d: doc.meta for d, doc in documents.items()}
    build_bm25([f"{contextual_header(c, metas[c.doc_id])}\n{c.text}" for c in chunks], path / "bm25")
    return IndexStore(path=path, manifest={"index_version": "synthetic"}, chunks=chunks, documents=documents,
                      vectors=vectors, sentence_vectors=sentence_vectors, sentence_offsets=offsets)


def _warm_latencies(store, settings: Settings, questions: list[str], rounds: int = 3) -> list[float]:
    from assistant.answering import ask
    from assistant.retrieval import Retriever
    from assistant.route import Session
    from assistant.threads import one_blas_thread

    one_blas_thread()  # as `serve` answers
    session = Session(store, settings, Retriever(store, settings))
    # warm encoder, FAISS, BM25 and the corpus facts
    ask(session.analyse(questions[0]), store, settings, retriever=session.retriever)
    latencies = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()  # analysis is part of every question's cost
            ask(session.analyse(q), store, settings, retriever=session.retriever)
            latencies.append((time.perf_counter() - t) * 1000)
    return latencies


def bench_query(settings: Settings, synthetic: int) -> dict:
    from assistant.evaluation import load_questions
    from assistant.store import load_index

    store = load_index(settings)
    questions = [q.question for q in load_questions(Path("tests/fixtures/questions.yaml"))]
    warm = _warm_latencies(store, settings, questions)
    env = dict(os.environ, PEERQA_INDEX=str(settings.index_dir))
    cold = [_run(PEERQA + ["ask", questions[i]], env)[0] for i in range(5)]
    result = {
        "chunks": len(store.chunks),
        "warm_p50_ms": round(statistics.median(warm), 1),
        "warm_p95_ms": round(_pct(warm, 0.95), 1),
        "cold_one_shot_s_median": round(statistics.median(cold), 2),
    }
    if synthetic:
        t = time.perf_counter()
        big = synthetic_store(store, synthetic)
        build_s = time.perf_counter() - t
        big_lat = _warm_latencies(big, settings, questions[:60], rounds=1)
        shutil.rmtree(big.path, ignore_errors=True)
        result.update({
            "synthetic_chunks": len(big.chunks),
            "synthetic_build_s": round(build_s, 1),
            "synthetic_p50_ms": round(statistics.median(big_lat), 1),
            "synthetic_p95_ms": round(_pct(big_lat, 0.95), 1),
        })
    return result


def run(args, settings: Settings) -> int:
    import json

    if args.what == "scale":
        return run_scale_command(args, settings)
    if args.what == "ingest":
        result = bench_ingest(settings)
    elif args.what == "query":
        result = bench_query(settings, args.synthetic)
    elif args.what == "login":
        from bench.login import run_login

        result = run_login(settings)
    else:
        from bench.load import run_load

        result = run_load(settings)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
    return 1 if result.get("errors") else 0


def run_scale_command(args, settings: Settings) -> int:
    """``peerqa bench scale``: a table (or ``--json``) with one column per corpus size."""
    import json

    from bench.scale import format_table, parse_sizes, run_scale

    passthrough: list[str] = []
    if getattr(args, "config", None):
        passthrough += ["--config", args.config]
    for assignment in getattr(args, "set", None) or ():
        passthrough += ["--set", assignment]
    keep = Path(args.keep) if args.keep else None
    results = run_scale(settings, parse_sizes(args.chunks), args.seed, args.docs, keep,
                        tuple(passthrough))
    print(json.dumps(results, indent=1) if args.json else format_table(results))
    return 0
