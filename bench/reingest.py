"""Re-ingest of one changed document, timed by stage, with a stand-in embedder.

``python -m bench.reingest --corpus DIR --index DIR [--edit FILE] [--profile]``

``peerqa bench scale`` times the whole ``peerqa ingest`` after changing one document; at 100k
chunks its full ingest alone (embedding ~100k chunks) takes most of an hour on two cores. This
re-ingests an existing index in-process with a stand-in embedder (a unit vector seeded by each
text's hash, 384 dimensions, no model), so what is timed is everything but the changed
document's embedding: the index's own work. ``--edit`` appends a paragraph to FILE first (as
``bench scale`` does; a new one each run); ``--profile`` adds the cumulative seconds of the main
stages (profiling slows Python-heavy stages by ~20%: read the total of a plain run). With
``index.parallel_write`` (the default) BM25 is built by a forked child the profile does not
see: ``wait_for_child`` is how long the rest of the write then waited for it.

The previous version should have been written by the same code: its caches (standard-text
state, BM25 words) are what make a re-ingest incremental.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.embedding import Embedded
from assistant.settings import Settings
from bench.scale import EDIT

DIM = 384
STAGES = ("load_index", "derived_facts", "find_standard_text", "_assemble", "write_index",
          "build_bm25", "wait_for_child", "_write_version", "publish")


def _vector(text: str) -> np.ndarray:
    v = np.random.default_rng(zlib.crc32(text.encode("utf-8", "surrogatepass"))).standard_normal(DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


class StandInEmbedder:
    """Vectors of the right shape without a model: timing the index, not the encoder."""

    model_id = "stand-in"
    dim = DIM

    def embed_passages(self, texts: list[str], spans: list, show_progress: bool = False) -> Embedded:
        return Embedded(np.stack([_vector(t) for t in texts]),
                        tuple(np.stack([_vector(t[a:b]) for a, b in s]) if s else np.zeros((0, DIM), np.float32)
                              for t, s in zip(texts, spans, strict=True)))

    def embed_query(self, text: str) -> np.ndarray:
        return _vector(text)


def edit_file(path: Path) -> None:
    """Append to ``path`` a paragraph it does not hold yet: the n-th run appends the n-th
    meeting's update. (The same paragraph again would be dropped by the cleaner as a block
    repeated within the document: the text, and so every chunk, would be as before.)"""
    meetings = path.read_text(encoding="utf-8", errors="replace").count("Update: at its meeting")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(EDIT.replace("this month", f"number {meetings + 1} this month"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--edit", type=Path, help="append a sentence to this corpus file first")
    parser.add_argument("--profile", action="store_true", help="also time the main stages")
    args = parser.parse_args()
    from ingest.build import ingest

    if args.edit:
        edit_file(args.edit)
    settings = replace(Settings(), corpus_dir=args.corpus, index_dir=args.index)
    profile = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profile:
        profile.enable()
    report = ingest(settings, embedder=StandInEmbedder(), log=lambda m: None)
    if profile:
        profile.disable()
    print(f"{report.summary().splitlines()[-1]}; wall {time.perf_counter() - started:.1f} s")
    if profile:
        stats = pstats.Stats(profile).stats  # (file, line, name) → (calls, …, cumulative, …)
        for stage in STAGES:
            seconds = sum(v[3] for k, v in stats.items() if k[2] == stage)
            print(f"  {stage:<20} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
