"""``peerqa bench scale``: ingest, load, query and re-ingest a generated many-document corpus.

For each target size (chunks) a corpus is generated (bench/scale_corpus.py) into a temporary
folder, then, one step at a time so the steps do not compete for the two cores:

1. ``peerqa ingest --rebuild`` in a subprocess: wall time, chunks/s, the subprocess's peak RSS
   (``os.wait4``: this child's own figure, not the largest of all children);
2. the index's size on disk;
3. ``peerqa serve`` in a subprocess on a free loopback port: seconds until ``/`` answers 200;
4. ``load_index`` in this process;
5. raw fp32 ``SentenceTransformer.encode`` on a sample of the same chunk texts (what the
   ingest's encoder is compared against; the ingest uses whatever encoder the settings select);
6. warm question latency, p50/p95, on the fixture's questions with the councils swapped, by the
   path ``bench query`` times;
7. one document changed, then ``peerqa ingest``: wall time; and ``peerqa ingest`` with nothing
   changed.

Figures, not pass/fail: the machine is shared, compare figures from the same run.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

from assistant.settings import Settings
from bench.run import PEERQA, _pct, _warm_latencies

ENCODE_SAMPLE = 1000  # chunks encoded by the fp32 reference
SERVE_TIMEOUT_S = 900.0
EDIT = ("\n\nUpdate: at its meeting this month the council's cabinet noted further progress on "
        "the action plan, including a revised savings programme and a new engagement strategy.\n")


def encoder_description(settings: Settings) -> str:
    """The encoder ingest uses with these settings, as a short label."""
    from assistant import embedding

    make = getattr(embedding, "make_embedder", None)  # the settings-selected encoder, if any
    if make is None:
        return f"sentence-transformers fp32 ({settings.model})"
    encoder = make(settings)
    label = getattr(encoder, "description", None) or getattr(encoder, "name", None)
    return str(label or f"{type(encoder).__name__} ({settings.model})")


def timed_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one subprocess; its stderr (progress) passes
    through. ``os.wait4`` gives this child's peak, unlike RUSAGE_CHILDREN (the largest of all
    children so far); Linux counts the parent's size at the fork in it too, so the figure is
    the child's own only when it is larger than this process (an ingest's always is)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 4):  # 4: built, some files skipped (counted from the manifest)
        raise RuntimeError(f"{' '.join(cmd[2:])} failed (exit {proc.returncode}); "
                           "see its messages above")
    return wall, usage.ru_maxrss / 1024, text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_ready_seconds(env: dict[str, str], extra: tuple[str, ...] = (),
                        timeout: float = SERVE_TIMEOUT_S) -> float:
    """Seconds from starting ``peerqa serve`` until its page answers 200 on loopback."""
    port = _free_port()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(PEERQA + ["serve", "--port", str(port), *extra], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            while time.perf_counter() - started < timeout:
                if proc.poll() is not None:
                    err.seek(0)
                    tail = err.read().decode("utf-8", "replace").strip()[-300:]
                    raise RuntimeError(f"peerqa serve exited ({proc.returncode}): {tail}")
                try:
                    with opener.open(f"http://127.0.0.1:{port}/", timeout=2) as response:
                        if response.status == 200:
                            return time.perf_counter() - started
                except OSError:
                    pass
                time.sleep(0.1)
            raise RuntimeError(f"peerqa serve did not answer within {timeout:.0f} s")
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def fp32_encode_rate(store, settings: Settings, sample: int = ENCODE_SAMPLE) -> tuple[float, int]:
    """(chunks/s, chunks encoded) of plain ``SentenceTransformer.encode`` in fp32 on an evenly
    spread sample of the index's own embedding texts (header + chunk, as ingest embeds them)."""
    from assistant.embedding import SentenceTransformerEmbedder
    from assistant.settings import resolve_model_path
    from assistant.tokens import token_counter
    from ingest.chunking import embedding_text

    counter = token_counter(resolve_model_path(settings.model))
    step = max(1, len(store.chunks) // sample)
    rows = range(0, len(store.chunks), step)[:sample]
    texts = [embedding_text(store.chunks[r], store.documents[store.chunks[r].doc_id].meta, counter,
                            settings.chunking.header_budget) for r in rows]
    encoder = SentenceTransformerEmbedder(settings.model, settings.batch_size)
    encoder.embed_texts(texts[:8])  # load and warm
    started = time.perf_counter()
    encoder.embed_texts(texts)
    return len(texts) / (time.perf_counter() - started), len(texts)


def bench_size(target: int, settings: Settings, work: Path, seed: int = 0, docs: int | None = None,
               passthrough: tuple[str, ...] = ()) -> dict:
    """Every figure for one corpus size; ``work`` holds the corpus and the index."""
    from assistant.store import load_index, read_manifest
    from bench.scale_corpus import generate

    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    t = time.perf_counter()
    made = generate(target, work, seed, docs, settings)
    generate_s = time.perf_counter() - t
    index = work / "index"
    scaled = replace(settings, corpus_dir=made.corpus_dir, index_dir=index)
    env = dict(os.environ, PEERQA_CORPUS=str(made.corpus_dir), PEERQA_INDEX=str(index))
    print(f"bench scale: {target:,} chunks: {made.documents} documents generated; ingesting…",
          file=sys.stderr)
    ingest_s, rss_mb, _ = timed_child(PEERQA + ["ingest", "--rebuild", *passthrough], env)
    manifest = read_manifest(index) or {}
    serve_s = serve_ready_seconds(env, passthrough)
    t = time.perf_counter()
    store = load_index(scaled)
    load_s = time.perf_counter() - t
    chunks = len(store.chunks)
    encode_rate, sampled = fp32_encode_rate(store, scaled)
    latencies = _warm_latencies(store, scaled, list(made.questions), rounds=2)
    del store
    with open(made.editable, "a", encoding="utf-8") as handle:
        handle.write(EDIT)
    reingest_s, _, _ = timed_child(PEERQA + ["ingest", *passthrough], env)
    nochange_s, _, _ = timed_child(PEERQA + ["ingest", *passthrough], env)
    return {
        "target_chunks": target,
        "documents": made.documents,
        "councils": made.councils,
        "corpus_mb": round(folder_mb(made.corpus_dir), 1),
        "formats": made.formats,
        "generate_s": round(generate_s, 1),
        "chunks": chunks,
        "skipped_files": len(manifest.get("skipped", {})),
        "encoder": encoder_description(scaled),
        "ingest_s": round(ingest_s, 1),
        "ingest_chunks_per_s": round(chunks / ingest_s, 1),
        "fp32_encode_chunks_per_s": round(encode_rate, 1),
        "fp32_encode_sample": sampled,
        "ingest_vs_fp32_encode": round(chunks / ingest_s / encode_rate, 2),
        "ingest_peak_rss_mb": round(rss_mb),
        "index_mb": round(folder_mb(index), 1),
        "serve_ready_s": round(serve_s, 1),
        "load_index_s": round(load_s, 2),
        "questions": len(made.questions),
        "query_p50_ms": round(statistics.median(latencies), 1),
        "query_p95_ms": round(_pct(latencies, 0.95), 1),
        "reingest_one_changed_s": round(reingest_s, 1),
        "reingest_nothing_changed_s": round(nochange_s, 1),
        "load_average_before_after": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
    }


def run_scale(settings: Settings, sizes: list[int], seed: int = 0, docs: int | None = None,
              keep: Path | None = None, passthrough: tuple[str, ...] = ()) -> list[dict]:
    results = []
    for target in sizes:
        work = keep / f"chunks-{target}" if keep else Path(tempfile.mkdtemp(prefix="peerqa-scale-"))
        try:
            results.append(bench_size(target, settings, work, seed, docs, passthrough))
        finally:
            if keep is None:
                shutil.rmtree(work, ignore_errors=True)
    return results


def format_table(results: list[dict]) -> str:
    """One row per figure, one column per size."""
    if not results:
        return ""
    keys = list(results[0])
    cells = [[_cell(r[k]) for r in results] for k in keys]
    width = max(len(k) for k in keys)
    col = max(12, *(len(c) for row in cells for c in row))
    return "\n".join(f"{k:<{width}}  " + "  ".join(f"{c:>{col}}" for c in row)
                     for k, row in zip(keys, cells))


def _cell(value: object) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k.lstrip('.')}:{v}" for k, v in value.items())
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def parse_sizes(text: str) -> list[int]:
    """"1000,10k,100000" → [1000, 10000, 100000]."""
    from assistant.errors import UsageError

    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        try:
            value = int(float(part[:-1]) * 1000) if part.endswith("k") else int(part)
        except ValueError:
            raise UsageError(f"--chunks takes sizes like 1000,10000 (got {part!r}).") from None
        if not 10 <= value <= 2_000_000:
            raise UsageError(f"--chunks sizes must be between 10 and 2,000,000 (got {value}).")
        sizes.append(value)
    return sizes
