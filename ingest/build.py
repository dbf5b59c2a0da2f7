"""Corpus folder → published index: incremental, atomic, with a summary of what changed.

Only new or changed documents are loaded, cleaned, chunked and embedded; unchanged ones keep
their chunks and vectors; deleted ones are dropped; identical files are indexed once. With
nothing changed, ingest returns before importing the embedding model.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant import __version__
from assistant.embedding import Embedder
from assistant.errors import IndexCorrupt, IndexMismatch, PeerqaError, UnreadableDocument
from assistant.settings import Settings, resolve_model_path
from assistant.store import check_compatible, load_index, read_manifest, write_index, writer_lock
from assistant.tokens import TokenCounter, token_counter
from assistant.types import Chunk, Document
from ingest.catalog import CATALOG_NAME, doc_id_for, load_catalog, meta_from_entry
from ingest.chunking import chunk_document, contextual_header, embedding_text, sections_of
from ingest.cleaning import clean
from ingest.loaders import load

IGNORED_NAMES = {CATALOG_NAME, "README.md", "README.txt"}
EXIT_SKIPPED = 4  # the index was built, but some files were skipped


@dataclass(frozen=True)
class IngestReport:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (file name, reason)
    chunk_count: int = 0
    index_version: str = ""
    wrote_index: bool = False
    notices: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_SKIPPED if self.skipped else 0

    def summary(self) -> str:
        lines = [*self.notices]
        lines.append(
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}"
        )
        for name, reason in self.skipped:
            lines.append(f"  skipped {name}: {reason}")
        state = "index written" if self.wrote_index else "nothing changed; index left as it was"
        lines.append(f"{state}: {self.chunk_count} chunks, version {self.index_version} ({self.seconds:.1f} s)")
        return "\n".join(lines)


@dataclass
class _Plan:
    keep: dict[str, dict] = field(default_factory=dict)  # doc_id → manifest entry (unchanged)
    todo: list[tuple[Path, str, str, dict]] = field(default_factory=list)  # path, hash, meta hash, entry
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (hash, reason)


def corpus_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise PeerqaError(f"No corpus folder at {corpus_dir}/. Put documents there or pass --corpus DIR.")
    return sorted(p for p in corpus_dir.iterdir()
                  if not p.name.startswith(".") and p.name not in IGNORED_NAMES and not p.is_dir())


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingest(settings: Settings, embedder: Embedder | None = None, rebuild: bool = False,
           count_tokens: TokenCounter | None = None,
           log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> IngestReport:
    """Bring the index in ``settings.index_dir`` up to date with ``settings.corpus_dir``."""
    started = time.perf_counter()
    corpus_dir, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    files = corpus_files(corpus_dir)
    catalog = load_catalog(corpus_dir)
    notices: list[str] = []
    previous = None if rebuild else read_manifest(index_dir)
    if previous is not None:
        try:
            check_compatible(previous, settings)
        except IndexMismatch as exc:
            notices.append(f"rebuilding everything: {exc.args[0].split('. Run')[0]}")
            previous = None
    plan = _plan(files, catalog, previous)
    prev_docs = previous["documents"] if previous else {}
    removed = sorted(set(prev_docs) - set(plan.keep) - {doc_id_for(p) for p, *_ in plan.todo})
    prev_skipped = previous.get("skipped", {}) if previous else {}
    if previous and not plan.todo and not removed and plan.skipped == {
        k: tuple(v) for k, v in prev_skipped.items()
    }:
        return IngestReport(
            unchanged=tuple(sorted(plan.keep)), skipped=_skip_list(plan.skipped),
            chunk_count=int(previous.get("chunk_count", 0)), index_version=previous.get("index_version", ""),
            notices=tuple(notices), seconds=time.perf_counter() - started,
        )
    live = None
    if plan.keep:  # unchanged documents are copied from the live index: it must be readable
        try:
            live = load_index(settings, check=False)
        except IndexCorrupt as exc:
            notices.append(f"rebuilding everything: the live index is damaged ({exc.args[0].split(' (')[0]})")
            previous, removed = None, []
            plan = _plan(files, catalog, None)
    with writer_lock(index_dir):
        return _build(settings, plan, previous, removed, embedder, count_tokens, notices, log, started,
                      live)


def _plan(files: list[Path], catalog: dict[str, dict], previous: dict | None) -> _Plan:
    plan = _Plan()
    prev_docs = previous["documents"] if previous else {}
    prev_skipped = previous.get("skipped", {}) if previous else {}
    seen_hashes: dict[str, str] = {}
    hashes: dict[Path, str] = {}
    for path in files:
        try:
            hashes[path] = _hash(path.read_bytes())
        except OSError as exc:
            plan.skipped[path.name] = ("", f"cannot read file: {exc.strerror or exc}")
    # Fix (tests): of identical files the first by name was indexed, so adding "a-copy.txt" of
    # an indexed, catalogued document removed that document and indexed the uncatalogued copy.
    # Prefer the file already indexed with this content, then a catalogued one, then by name.
    def preference(path: Path) -> tuple[bool, bool]:
        old = prev_docs.get(doc_id_for(path))
        return (not (old and old["content_hash"] == hashes[path]), path.name not in catalog)

    for path in sorted(hashes, key=preference):  # sorted() is stable: name order within a group
        content_hash = hashes[path]
        entry = catalog.get(path.name, {})
        meta_hash = _hash(json.dumps(entry, sort_keys=True, default=str).encode())[:16]
        if content_hash in seen_hashes:
            plan.skipped[path.name] = (content_hash, f"identical to {seen_hashes[content_hash]}; indexed once")
            continue
        if prev_skipped.get(path.name, ("",))[0] == content_hash and content_hash:
            plan.skipped[path.name] = tuple(prev_skipped[path.name])  # type: ignore[assignment]
            continue
        seen_hashes[content_hash] = path.name
        doc_id = doc_id_for(path)
        old = prev_docs.get(doc_id)
        if old and old["content_hash"] == content_hash and old["meta_hash"] == meta_hash:
            plan.keep[doc_id] = old
            continue
        (plan.updated if old else plan.added).append(doc_id)
        plan.todo.append((path, content_hash, meta_hash, entry))
    return plan


def _skip_list(skipped: dict[str, tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, reason) for name, (_, reason) in sorted(skipped.items()))


def prepare_document(path: Path, entry: dict, content_hash: str) -> Document:
    """Load, clean and describe one corpus file (raises UnreadableDocument)."""
    raw = load(path)
    cleaned = clean(raw.pages, raw.page_labels, raw.paged)
    if not cleaned.text.strip():
        raise UnreadableDocument("no text left after cleaning")
    meta = meta_from_entry(path, entry, cleaned.text)
    return Document(meta=meta, text=cleaned.text, sections=sections_of(cleaned.text, cleaned.blocks),
                    pages=cleaned.pages, content_hash=content_hash)


def _build(settings: Settings, plan: _Plan, previous: dict | None, removed: list[str],
           embedder: Embedder | None, count_tokens: TokenCounter | None, notices: list[str],
           log: Callable[[str], None], started: float, live=None) -> IngestReport:
    """Write a new version: new/changed documents embedded, unchanged ones copied from ``live``."""
    if count_tokens is None:
        count_tokens = token_counter(resolve_model_path(settings.model))
    new_docs: list[Document] = []
    new_chunks: list[Chunk] = []
    entries: dict[str, dict] = {}
    for path, content_hash, meta_hash, entry in plan.todo:
        doc_id = doc_id_for(path)
        try:
            doc = prepare_document(path, entry, content_hash)
            chunks = chunk_document(doc, settings.chunking, count_tokens)
        except UnreadableDocument as exc:
            # Fix (tests): a reason is printed as one line of the summary; never let a
            # loader's message spread over several.
            plan.skipped[path.name] = (content_hash, " ".join(str(exc).split()))
            for bucket in (plan.added, plan.updated):
                if doc_id in bucket:
                    bucket.remove(doc_id)
            if previous and doc_id in previous["documents"]:
                removed.append(doc_id)
            continue
        if not chunks:
            plan.skipped[path.name] = (content_hash, "no text to index after cleaning")
            continue
        new_docs.append(doc)
        new_chunks.extend(chunks)
        entries[doc_id] = {"source": path.name, "content_hash": content_hash, "meta_hash": meta_hash,
                           "chunks": len(chunks), "title": doc.meta.title}

    # reuse unchanged documents from the live index
    kept_docs: list[Document] = []
    kept_chunks: list[Chunk] = []
    kept_vecs = np.zeros((0, 0), np.float32)
    kept_sents = np.zeros((0, 0), np.float32)
    if plan.keep:
        old = live if live is not None else load_index(settings, check=False)
        rows = [i for i, c in enumerate(old.chunks) if c.doc_id in plan.keep]
        kept_chunks = [old.chunks[i] for i in rows]
        kept_docs = [old.documents[d] for d in sorted(plan.keep)]
        kept_vecs = old.vectors[rows]
        kept_sents = np.concatenate([old.chunk_sentence_vectors(i) for i in rows]) if rows else kept_sents
        entries.update(plan.keep)

    if new_chunks and embedder is None:
        from assistant.embedding import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(settings.model, settings.batch_size)
    metas = {d.meta.doc_id: d.meta for d in new_docs}
    texts, spans = [], []
    for chunk in new_chunks:
        text = embedding_text(chunk, metas[chunk.doc_id], count_tokens, settings.chunking.header_budget)
        offset = len(text) - len(chunk.text)
        texts.append(text)
        spans.append([(offset + s.start - chunk.start, offset + s.end - chunk.start) for s in chunk.sentences])
    if new_chunks:
        log(f"embedding {len(new_chunks)} chunks from {len(new_docs)} documents…")
        embedded = embedder.embed_passages(texts, spans, show_progress=True)  # type: ignore[union-attr]
        new_vecs = embedded.vectors
        new_sents = (np.concatenate(embedded.span_vectors) if any(len(s) for s in embedded.span_vectors)
                     else np.zeros((0, new_vecs.shape[1]), np.float32))
    else:
        new_vecs = np.zeros((0, 0), np.float32)
        new_sents = new_vecs

    all_docs = sorted(kept_docs + new_docs, key=lambda d: d.meta.doc_id)
    order = {d.meta.doc_id: i for i, d in enumerate(all_docs)}
    all_chunks = kept_chunks + new_chunks
    dim = _dimension(settings, embedder, kept_vecs, new_vecs)
    vectors = _stack(kept_vecs, new_vecs, dim)
    sent_vecs = _stack(kept_sents, new_sents, dim)
    # keep chunk order stable: by document, then position
    sort = sorted(range(len(all_chunks)), key=lambda i: (order[all_chunks[i].doc_id], all_chunks[i].ordinal))
    sent_start = np.concatenate([[0], np.cumsum([len(c.sentences) for c in all_chunks])])
    all_chunks = [all_chunks[i] for i in sort]
    vectors = vectors[sort] if len(vectors) else vectors
    if len(sent_vecs):
        sent_vecs = np.concatenate([sent_vecs[sent_start[i]:sent_start[i + 1]] for i in sort])

    version = _hash(json.dumps(
        [settings.model, settings.chunking_hash(), sorted((k, v["content_hash"], v["meta_hash"]) for k, v in entries.items())]
    ).encode())[:12]
    manifest = {
        "package_version": __version__,
        "model_id": settings.model,
        "chunking": settings.chunking.__dict__,
        "chunking_hash": settings.chunking_hash(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "documents": entries,
        "skipped": {k: list(v) for k, v in plan.skipped.items()},
        "chunk_count": len(all_chunks),
        "index_version": version,
    }
    metas = {d.meta.doc_id: d.meta for d in all_docs}
    lexical = [f"{contextual_header(c, metas[c.doc_id])}\n{c.text}" for c in all_chunks]
    write_index(Path(settings.index_dir), manifest, all_docs, all_chunks, vectors, sent_vecs, lexical)
    return IngestReport(
        added=tuple(sorted(d for d in plan.added if d in entries)),
        updated=tuple(sorted(d for d in plan.updated if d in entries)),
        removed=tuple(sorted(set(removed))), unchanged=tuple(sorted(plan.keep)),
        skipped=_skip_list(plan.skipped), chunk_count=len(all_chunks), index_version=version,
        wrote_index=True, notices=tuple(notices), seconds=time.perf_counter() - started,
    )


def _dimension(settings: Settings, embedder: Embedder | None, *blocks: np.ndarray) -> int:
    """Vector size: from the vectors at hand, else the embedder, else the model's config."""
    for block in blocks:
        if block.size:
            return int(block.shape[1])
    if embedder is None:
        from assistant.embedding import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(settings.model)
    return int(embedder.dim)


def _stack(a: np.ndarray, b: np.ndarray, dim: int) -> np.ndarray:
    parts = [x for x in (a, b) if x.size]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, dim), np.float32)
