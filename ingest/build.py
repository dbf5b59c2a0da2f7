"""Corpus folder → published index: incremental, atomic, with a summary of what changed.

Only new or changed documents are loaded, cleaned, chunked and embedded; unchanged ones keep
their chunks and vectors; deleted ones are dropped; identical files are indexed once. With
nothing changed, ingest returns before importing the embedding model.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant import __version__
from assistant.embedding import Embedded, Embedder
from assistant.errors import (
    CatalogError,
    IndexCorrupt,
    IndexMismatch,
    IndexWriteError,
    PeerqaError,
    UnreadableDocument,
    UsageError,
)
from assistant.progress import DONE, IngestProgress, ProgressFn
from assistant.settings import Settings, resolve_model_path
from assistant.store import (
    SENTENCE_DTYPE,
    IndexStore,
    check_compatible,
    faiss_choice,
    filed_councils,
    gc_paused,
    live_folder,
    load_index,
    new_version_dir,
    read_manifest,
    remove_folders,
    set_aside_superseded,
    write_index,
    writer_lock,
)
from assistant.tokens import TokenCounter, token_counter
from assistant.types import Chunk, Document, DocumentMeta
from ingest.catalog import CATALOG_NAME, assign_doc_ids, load_catalog, meta_from_entry
from ingest.chunking import chunk_document, contextual_header, embedding_text, sections_of
from ingest.cleaning import clean
from ingest.derived import (
    derived_facts,
    derived_stamp,
    facts_outdated,
    stored_standard_state,
    stored_text_facts,
)
from ingest.loaders import file_digest, load, outside_folder
from ingest.metadata import inference_stamp

IGNORED_NAMES = {CATALOG_NAME, "README.md", "README.txt"}
EXIT_SKIPPED = 4  # the index was built, but some files were skipped
# A file changed this close to when it was hashed may change again within its time stamp's
# resolution, keeping size and mtime: its stat is not recorded, so the next ingest hashes it.
RACY_NS = 2_000_000_000


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
    inferred: tuple[DocumentMeta, ...] = ()  # new or changed documents with guessed metadata

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
            lines.append(f"  skipped {shown_name(name)}: {reason}")
        if self.inferred:
            lines.append("inferred metadata (correct it in the corpus's catalog.yaml; * = guessed):")
            lines += [_inferred_row(m) for m in self.inferred]
        state = "index written" if self.wrote_index else "nothing changed; index left as it was"
        lines.append(f"{state}: {self.chunk_count} chunks, version {self.index_version} ({self.seconds:.1f} s)")
        return "\n".join(lines)


def _inferred_row(meta: DocumentMeta) -> str:
    def cell(name: str, value: str, width: int) -> str:
        text = (value or "?") + ("*" if name in meta.inferred else "")
        return (text if len(text) <= width else text[:width - 1] + "…").ljust(width)

    return (f"  {shown_name(meta.source)[:44]:44} {cell('council', meta.council, 36)} "
            f"{cell('doc_type', meta.doc_type, 22)} {cell('date', meta.date, 11)} "
            f"{cell('title', shown_name(meta.title), 50).rstrip()}")


def shown_name(name: str) -> str:
    """A file name safe to print on one line: as it is when printable, else quoted with
    escapes (a newline or an escape sequence in a name must not forge or colour a line)."""
    return name if name.isprintable() else repr(name)


@dataclass
class _Plan:
    keep: dict[str, dict] = field(default_factory=dict)  # doc_id → manifest entry (unchanged)
    todo: list[tuple[Path, str, str, dict]] = field(default_factory=list)  # path, hash, meta hash, entry
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)  # updated, text unchanged: catalogue or inference changed
    skipped: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (hash, reason)
    ids: dict[Path, str] = field(default_factory=dict)  # every listed file's document id
    stats: dict[Path, list[int]] = field(default_factory=dict)  # stat signatures to record


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The corpus folder's entries that may be documents (hidden names and folders left out;
    what each entry really is gets checked before it is read)."""
    if not corpus_dir.is_dir():
        raise UsageError(f"No corpus folder at {corpus_dir}/. Put documents there or pass --corpus DIR.")
    return sorted(p for p in corpus_dir.iterdir()
                  if not p.name.startswith(".") and p.name not in IGNORED_NAMES and not p.is_dir())


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingest(settings: Settings, embedder: Embedder | None = None, rebuild: bool = False,
           count_tokens: TokenCounter | None = None,
           log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
           allow_empty: bool = False, progress: ProgressFn | None = None) -> IngestReport:
    """Bring the index in ``settings.index_dir`` up to date with ``settings.corpus_dir``.

    Refuses (UsageError) to publish an index with no documents unless ``allow_empty``: an
    empty or mistyped corpus folder would otherwise silently remove every document.
    ``progress`` gets each stage's progress, and ``done`` at the end (default: the index
    folder's progress file only, for the web chat; the command line adds the terminal line)."""
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
    plan = _plan(files, catalog, previous, corpus_dir)
    if plan.reread:
        notices.append(f"{len(plan.reread)} unchanged file(s) read again: their catalogue entry, "
                       "or how peerqa infers a document's council, date, type and title, changed")
    prev_docs = previous["documents"] if previous else {}
    removed = sorted(set(prev_docs) - set(plan.keep) - {plan.ids[p] for p, *_ in plan.todo})
    prev_skipped = previous.get("skipped", {}) if previous else {}
    unchanged = previous and not plan.todo and not removed and plan.skipped == {
        k: tuple(v) for k, v in prev_skipped.items()}
    if unchanged and facts_outdated(previous, live_folder(index_dir), settings):
        unchanged = False  # nothing to read or embed, but the stored facts are rewritten
        notices.append("the corpus facts or standard text were found by another version of peerqa "
                       "or domain.yaml: worked out again")
    if unchanged:
        return IngestReport(
            unchanged=tuple(sorted(plan.keep)), skipped=_skip_list(plan.skipped),
            chunk_count=int(previous.get("chunk_count", 0)), index_version=previous.get("index_version", ""),
            notices=tuple(notices), seconds=time.perf_counter() - started,
        )
    live = None
    # unchanged documents are copied from the live index, and a changed one's unchanged chunks
    # keep their vectors: it must be readable
    if plan.keep or plan.updated:
        try:
            live = load_index(settings, check=False)
        except IndexCorrupt as exc:
            notices.append(f"rebuilding everything: the live index is damaged ({exc.args[0].split(' (')[0]})")
            previous, removed = None, []
            plan = _plan(files, catalog, None, corpus_dir)
    if not plan.todo and not plan.keep and not allow_empty:
        _refuse_empty(settings, previous, plan)  # nothing to read: say so before loading anything
    check_writable(index_dir)  # before the embedding work, not after it
    with writer_lock(index_dir):  # progress is reported under the lock: one writer, one file
        report = progress if progress is not None else IngestProgress(index_dir)
        # the superseded versions are deleted by a second thread while this one builds: the
        # kernel's work, which the first thread need not wait for
        removing = threading.Thread(target=remove_folders, args=(set_aside_superseded(index_dir),),
                                    name="remove-superseded")
        removing.start()
        try:
            with _loaded_objects_frozen(), _base_pages_for_arrays():
                return _build(settings, plan, previous, removed, embedder, count_tokens, notices,
                              log, started, live, allow_empty, report)
        finally:
            removing.join()
            report(DONE, 0, 0)


@contextmanager
def _loaded_objects_frozen():
    """The objects alive now (the live index, parsed with the collector paused: ~2M objects,
    all still young) kept out of collections until the build is done: each of the first
    collections after the load walked them all again, ~0.3 s apiece at 100k chunks. New
    garbage is still collected. Left alone when objects are frozen already (`serve` freezes its
    loaded index; unfreezing here would undo that)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # into the oldest generation: collected rarely, as they would have been


@contextmanager
def _base_pages_for_arrays():
    """NumPy's advice to back large arrays with huge pages switched off while a version is
    built (unless NUMPY_MADVISE_HUGEPAGE says otherwise). A re-ingest makes many short-lived
    arrays of ~100 MB (BM25, standard text) while its own writes fill the page cache; with the
    kernel's usual transparent-huge-page setting (defrag on advice) each new array's first
    touch then waits for memory to be compacted into huge pages. At 98k chunks: re-ingest
    median 10.1 s -> 9.6 s in process (three runs each, load ~1.5), same output."""
    from numpy._core import multiarray  # where NumPy itself applies NUMPY_MADVISE_HUGEPAGE

    advise = getattr(multiarray, "_set_madvise_hugepage", None)
    if advise is None or "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        yield
        return
    was = advise(False)
    try:
        yield
    finally:
        advise(was)


def _write_error(index_dir: Path, exc: OSError) -> IndexWriteError:
    return IndexWriteError(
        f"Cannot write the index in {index_dir}/ ({exc.strerror or exc}); the previous index, if "
        "any, is still live. Free space or fix the folder's permissions and run ingest again.")


def check_writable(index_dir: Path) -> None:
    """Raise IndexWriteError unless a file can be created in ``index_dir`` (made if missing)."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        probe = index_dir / f".write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise _write_error(index_dir, exc) from exc


def stat_signature(path: Path) -> list[int]:
    """[size, mtime, ctime (ns), inode] of the file ``path`` names (its target if a symlink)."""
    info = os.stat(path)
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _digest_or_reason(path: Path, corpus_dir: Path, known: dict | None = None,
                      stats: dict[Path, list[int]] | None = None) -> tuple[str, str]:
    """(content hash, "") of a file ingest may read, or ("", why it is skipped).

    Checked before reading: a symlink is followed only to a file inside the corpus folder, and
    only regular files within the size limit are read (no FIFO, device or socket), in blocks.
    ``known`` is the previous manifest's entry for this file: when the file's stat signature
    is the one recorded there, its hash is taken from it instead of reading the file (at 1,000
    documents reading them all took ~2 s from a cold page cache; a real change moves mtime or
    ctime). The signature to record goes in ``stats``, unless the file changed too recently.
    """
    if _undecodable(path.name):
        return "", "file name is not valid UTF-8; rename the file"  # it is stored and shown
    try:
        if outside_folder(path, corpus_dir):
            return "", "symlink to a file outside the corpus folder; not followed"
        before = time.time_ns()
        signature = stat_signature(path)
        if known and known.get("stat") == signature and known.get("content_hash"):
            digest = str(known["content_hash"])
        else:
            digest = file_digest(path)
        if stats is not None and signature[1] < before - RACY_NS and signature[2] < before - RACY_NS:
            stats[path] = signature
        return digest, ""
    except UnreadableDocument as exc:
        return "", str(exc)
    except OSError as exc:  # a symlink loop, a name too long, ...
        return "", f"cannot read file: {exc.strerror or exc}"


def _undecodable(name: str) -> bool:
    try:
        name.encode("utf-8")
        return False
    except UnicodeEncodeError:  # bytes that were not UTF-8 arrive as surrogate escapes
        return True


def _plan(files: list[Path], catalog: dict[str, dict], previous: dict | None,
          corpus_dir: Path) -> _Plan:
    prev_docs = previous["documents"] if previous else {}
    prev_skipped = previous.get("skipped", {}) if previous else {}
    plan = _Plan(ids=assign_doc_ids(files, {k: v.get("source", "") for k, v in prev_docs.items()}))
    seen_hashes: dict[str, str] = {}
    hashes: dict[Path, str] = {}
    for path in files:
        old = prev_docs.get(plan.ids[path])
        known = old if old and old.get("source") == path.name else None
        content_hash, reason = _digest_or_reason(path, corpus_dir, known, plan.stats)
        if reason:
            plan.skipped[path.name] = ("", reason)
        else:
            hashes[path] = content_hash
    # Fix (tests): of identical files the first by name was indexed, so adding "a-copy.txt" of
    # an indexed, catalogued document removed that document and indexed the uncatalogued copy.
    # Prefer the file already indexed with this content, then a catalogued one, then by name.
    def preference(path: Path) -> tuple[bool, bool]:
        old = prev_docs.get(plan.ids[path])
        return (not (old and old["content_hash"] == hashes[path]), path.name not in catalog)

    stamp = inference_stamp()
    for path in sorted(hashes, key=preference):  # sorted() is stable: name order within a group
        content_hash = hashes[path]
        entry = catalog.get(path.name, {})
        # the catalogue entry and what infers the fields it leaves out: either changed, the
        # document's metadata is worked out again (its vectors are kept if its text is unchanged)
        meta_hash = _hash(json.dumps([entry, stamp], sort_keys=True, default=str).encode())[:16]
        if content_hash in seen_hashes:
            plan.skipped[path.name] = (content_hash,
                                       f"identical to {shown_name(seen_hashes[content_hash])}; indexed once")
            continue
        if prev_skipped.get(path.name, ("",))[0] == content_hash and content_hash:
            plan.skipped[path.name] = tuple(prev_skipped[path.name])  # type: ignore[assignment]
            continue
        seen_hashes[content_hash] = path.name
        doc_id = plan.ids[path]
        old = prev_docs.get(doc_id)
        if old and old["content_hash"] == content_hash and old["meta_hash"] == meta_hash:
            plan.keep[doc_id] = _with_stat(old, plan.stats.get(path))
            continue
        (plan.updated if old else plan.added).append(doc_id)
        if old and old["content_hash"] == content_hash:
            plan.reread.append(doc_id)
        plan.todo.append((path, content_hash, meta_hash, entry))
    return plan


def _with_stat(entry: dict, signature: list[int] | None) -> dict:
    """The manifest entry with the file's stat signature as recorded now (none: hash next time)."""
    kept = {k: v for k, v in entry.items() if k != "stat"}
    return {**kept, "stat": signature} if signature else kept


def _skip_list(skipped: dict[str, tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, reason) for name, (_, reason) in sorted(skipped.items()))


def prepare_document(path: Path, entry: dict, content_hash: str, doc_id: str = "") -> Document:
    """Load, clean and describe one corpus file (raises UnreadableDocument)."""
    raw = load(path)
    cleaned = clean(raw.pages, raw.page_labels, raw.paged)
    if not cleaned.text.strip():
        raise UnreadableDocument("no text left after cleaning")
    meta = meta_from_entry(path, entry, cleaned.text, doc_id, raw.facts)
    return Document(meta=meta, text=cleaned.text, sections=sections_of(cleaned.text, cleaned.blocks),
                    pages=cleaned.pages, content_hash=content_hash)


def _skip_reason(exc: Exception) -> str:
    """One short line: the message of an expected failure, the type and message of any other
    (a bug or an input nobody foresaw must cost one file, not the whole ingest)."""
    text = str(exc) if isinstance(exc, PeerqaError) else f"could not be processed ({type(exc).__name__}: {exc})"
    text = " ".join(text.split())  # a loader's message must not spread over several lines
    return text if len(text) <= 160 else text[:157] + "..."


def _prepare_chunks(path: Path, entry: dict, content_hash: str, doc_id: str, settings: Settings,
                    count_tokens: TokenCounter) -> tuple[Document, list[Chunk]]:
    doc = prepare_document(path, entry, content_hash, doc_id)
    chunks = chunk_document(doc, settings.chunking, count_tokens)
    if not chunks:
        raise UnreadableDocument("no text to index after cleaning")
    return doc, chunks


def _build(settings: Settings, plan: _Plan, previous: dict | None, removed: list[str],
           embedder: Embedder | None, count_tokens: TokenCounter | None, notices: list[str],
           log: Callable[[str], None], started: float, live=None,
           allow_empty: bool = False, progress: ProgressFn = lambda *_: None) -> IngestReport:
    """Write a new version: new/changed documents embedded, unchanged ones copied from ``live``."""
    if count_tokens is None:
        count_tokens = token_counter(resolve_model_path(settings.model))
    new_docs, new_chunks, entries = _read_new(settings, plan, previous, removed, count_tokens, progress)
    # reuse unchanged documents from the live index
    kept_docs: list[Document] = []
    kept_chunks: list[Chunk] = []
    rows: list[int] = []
    old = live
    if plan.keep:
        old = old if old is not None else load_index(settings, check=False)
        rows = [i for i, c in enumerate(old.chunks) if c.doc_id in plan.keep]
        kept_chunks = [old.chunks[i] for i in rows]
        kept_docs = [old.documents[d] for d in sorted(plan.keep)]
        entries.update(plan.keep)
    if not entries and not allow_empty:
        _refuse_empty(settings, previous, plan)

    before = _embedded_before(old, {*plan.updated, *removed}, settings, count_tokens)
    new_vecs, new_sents = _embed_new(settings, new_docs, new_chunks, embedder, count_tokens, log,
                                     progress, before)

    all_docs = sorted(kept_docs + new_docs, key=lambda d: d.meta.doc_id)
    order = {d.meta.doc_id: i for i, d in enumerate(all_docs)}
    all_chunks = kept_chunks + new_chunks
    kept = (old.vectors, old.sentence_vectors, old.sentence_offsets[rows]) if old is not None else None
    dim = _dimension(settings, embedder, kept[0] if kept and rows else new_vecs, new_vecs)
    # keep chunk order stable: by document, then position
    # (np.lexsort, stable as sorted() is: 0.6 s of Python key tuples at 100k chunks)
    sort = np.lexsort((np.array([c.ordinal for c in all_chunks], dtype=np.int64),
                       np.array([order[c.doc_id] for c in all_chunks], dtype=np.int64)))
    all_chunks = [all_chunks[i] for i in sort.tolist()]
    # the arrays are written straight into the new version's folder: at 100k chunks a copy in
    # memory then a write of its ~1 GB took seconds of a one-document re-ingest
    build = _new_build(Path(settings.index_dir))
    try:
        with _removed_on_failure(build):
            vectors, sent_vecs = _assemble(sort.astype(np.int64), np.array(rows, dtype=np.int64),
                                           kept, new_vecs, new_sents,
                                           [len(c.sentences) for c in new_chunks],
                                           [len(c.sentences) for c in all_chunks], dim, build)
    except OSError as exc:  # ~1 GB written here: a full disk is one line, as in _write
        raise _write_error(Path(settings.index_dir), exc) from exc
    version = _write(settings, plan, entries, all_docs, all_chunks, vectors, sent_vecs, old,
                     build, progress)
    filed = filed_councils(all_docs)
    return IngestReport(
        added=tuple(sorted(d for d in plan.added if d in entries)),
        updated=tuple(sorted(d for d in plan.updated if d in entries)),
        removed=tuple(sorted(set(removed))), unchanged=tuple(sorted(plan.keep)),
        skipped=_skip_list(plan.skipped), chunk_count=len(all_chunks), index_version=version,
        wrote_index=True, notices=tuple(notices), seconds=time.perf_counter() - started,
        # shown as a loaded index files them: news guessed as "Wirral Council" beside a report
        # of Wirral Metropolitan Borough Council is that council's
        inferred=tuple(replace(d.meta, council=filed[d.meta.doc_id]) for d in new_docs if d.meta.inferred),
    )


def _read_new(settings: Settings, plan: _Plan, previous: dict | None, removed: list[str],
              count_tokens: TokenCounter, progress: ProgressFn,
              ) -> tuple[list[Document], list[Chunk], dict[str, dict]]:
    """Read, clean and chunk the new and changed files; a file that fails is skipped with its
    reason (and, if it was indexed before, removed), the rest go on."""
    new_docs: list[Document] = []
    new_chunks: list[Chunk] = []
    entries: dict[str, dict] = {}
    for done, (path, content_hash, meta_hash, entry) in enumerate(plan.todo):
        progress("reading", done, len(plan.todo))
        doc_id = plan.ids[path]
        try:
            doc, chunks = _prepare_chunks(path, entry, content_hash, doc_id, settings, count_tokens)
        except CatalogError:  # the catalogue is wrong, not the file: stop, keep the live index
            raise
        except Exception as exc:  # noqa: BLE001 - any failure skips this one file, with its reason
            plan.skipped[path.name] = (content_hash, _skip_reason(exc))
            for bucket in (plan.added, plan.updated):
                if doc_id in bucket:
                    bucket.remove(doc_id)
            if previous and doc_id in previous["documents"]:
                removed.append(doc_id)
            continue
        new_docs.append(doc)
        new_chunks.extend(chunks)
        entries[doc_id] = _with_stat({"source": path.name, "content_hash": content_hash,
                                      "meta_hash": meta_hash, "chunks": len(chunks),
                                      "title": doc.meta.title}, plan.stats.get(path))
    if plan.todo:
        progress("reading", len(plan.todo), len(plan.todo))
    return new_docs, new_chunks, entries


EncoderInput = tuple[str, tuple[tuple[int, int], ...]]  # the text a chunk is embedded as, its spans


def _encoder_input(chunk: Chunk, meta: DocumentMeta, settings: Settings,
                   count_tokens: TokenCounter) -> EncoderInput:
    """What the encoder is given for ``chunk``: its text with the contextual header, and each
    sentence's character span in that text."""
    text = embedding_text(chunk, meta, count_tokens, settings.chunking.header_budget)
    offset = len(text) - len(chunk.text)
    return text, tuple((offset + s.start - chunk.start, offset + s.end - chunk.start)
                       for s in chunk.sentences)


@dataclass(frozen=True)
class _Embedded:
    """Chunks the live index embedded already: encoder input → (chunk vector, sentence vectors)."""

    rows: dict[EncoderInput, int] = field(default_factory=dict)
    store: IndexStore | None = None  # the live index the rows are of

    def vectors(self, key: EncoderInput) -> tuple[np.ndarray, np.ndarray]:
        row, store = self.rows[key], self.store
        assert store is not None  # rows come with their store
        return store.vectors[row], store.chunk_sentence_vectors(row)


def _embedded_before(old: IndexStore | None, doc_ids: set[str], settings: Settings,
                     count_tokens: TokenCounter) -> _Embedded:
    """The live index's chunks of the changed or removed documents ``doc_ids``, by encoder
    input. A changed document is mostly its old chunks again (a paragraph appended changes
    the last one or two of ~30): a chunk given the same input as before gets the vectors the
    same encoder gave it then (the index was checked to be of this model and encoder), as a
    full rebuild would, instead of being embedded again (~1.2 s of a one-document re-ingest)."""
    if old is None or not doc_ids:
        return _Embedded()
    rows: dict[EncoderInput, int] = {}
    for row, chunk in enumerate(old.chunks):
        if chunk.doc_id in doc_ids:
            meta = old.documents[chunk.doc_id].meta
            rows.setdefault(_encoder_input(chunk, meta, settings, count_tokens), row)
    return _Embedded(rows, old)


def _embed_new(settings: Settings, new_docs: list[Document], new_chunks: list[Chunk],
               embedder: Embedder | None, count_tokens: TokenCounter, log: Callable[[str], None],
               progress: ProgressFn, before: _Embedded | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vectors, sentence vectors) of the new chunks, each embedded with its contextual
    header unless ``before`` holds its vectors; empty arrays when there are none. The encoder
    is loaded only when something is to be embedded."""
    if not new_chunks:
        empty = np.zeros((0, 0), np.float32)
        return empty, empty
    before = before or _Embedded()
    metas = {d.meta.doc_id: d.meta for d in new_docs}
    inputs = [_encoder_input(c, metas[c.doc_id], settings, count_tokens) for c in new_chunks]
    missing = [i for i, key in enumerate(inputs) if key not in before.rows]
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {
        i: before.vectors(key) for i, key in enumerate(inputs) if key in before.rows}
    if missing:
        if embedder is None:
            from assistant.embedding import make_embedder

            embedder = make_embedder(settings)
        kept = f" ({len(found)} unchanged chunks keep their vectors)" if found else ""
        log(f"embedding {len(missing)} chunks from {len(new_docs)} documents…{kept}")
        embedded = _embed_in_blocks(embedder, [inputs[i][0] for i in missing],
                                    [list(inputs[i][1]) for i in missing],
                                    settings.embed_block, progress)
        found.update(zip(missing, zip(embedded.vectors, embedded.span_vectors, strict=True)))
    new_vecs = np.stack([np.asarray(found[i][0], np.float32) for i in range(len(inputs))])
    sentences = [found[i][1] for i in range(len(inputs))]
    new_sents = (np.concatenate(sentences).astype(np.float32, copy=False)
                 if any(len(s) for s in sentences)
                 else np.zeros((0, new_vecs.shape[1]), np.float32))
    return new_vecs, new_sents


@contextmanager
def _removed_on_failure(build: Path):
    """A half-written version folder is never published: removed when what fills it fails
    (``write_index`` does the same for its own steps)."""
    try:
        yield
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise


def _new_build(index_dir: Path) -> Path:
    try:
        return new_version_dir(index_dir)
    except OSError as exc:
        raise _write_error(index_dir, exc) from exc


def _write(settings: Settings, plan: _Plan, entries: dict[str, dict], all_docs: list[Document],
           all_chunks: list[Chunk], vectors: np.ndarray, sent_vecs: np.ndarray, old, build: Path,
           progress: ProgressFn) -> str:
    """Publish the new version from ``build`` (its arrays written there); its version."""
    version = _hash(json.dumps(
        [settings.model, settings.vector_kind(), settings.chunking_hash(), sorted((k, v["content_hash"], v["meta_hash"]) for k, v in entries.items())]
    ).encode())[:12]
    manifest = {
        "package_version": __version__,
        "model_id": settings.model,
        "encoder": settings.encoder,
        "sentence_vectors": settings.sentence_vectors,
        "chunking": settings.chunking.__dict__,
        "chunking_hash": settings.chunking_hash(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "corpus_dir": str(Path(settings.corpus_dir).resolve()),  # where `eval` finds raw files
        "documents": entries,
        "skipped": {k: list(v) for k, v in plan.skipped.items()},
        "chunk_count": len(all_chunks),
        "index_version": version,
        "faiss": faiss_choice(settings.index, len(all_chunks)),
        "derived_stamp": derived_stamp(settings),  # what the stored facts below were found by
    }
    lexical = _lexical_texts(all_chunks, {d.meta.doc_id: d.meta for d in all_docs})
    progress("writing", 0, 0)  # the facts worked out at ingest (standard text) count as writing
    try:
        # Millions of short-lived objects (sentences, tokens) over a heap of a million live ones
        # (the index): paused, the collector does not walk the live ones again and again
        # (~15 s of a 100k-chunk re-ingest).
        with gc_paused():
            write_index(Path(settings.index_dir), manifest, all_docs, all_chunks, vectors,
                        sent_vecs, lexical,
                        lambda: derived_facts(settings, all_docs, all_chunks, stored_text_facts(old),
                                              stored_standard_state(old)),
                        build, old, parallel=settings.index.parallel_write)
    except OSError as exc:  # disk full, folder made read-only meanwhile: one line, not a traceback
        raise _write_error(Path(settings.index_dir), exc) from exc
    return version


def _lexical_texts(chunks: list[Chunk], metas: dict[str, DocumentMeta]) -> list[str]:
    """Each chunk's BM25 text: its contextual header, then its text. A header depends on the
    document and the section only, so it is made once per pair (100k chunks, ~20k pairs)."""
    headers: dict[tuple[str, tuple[str, ...]], str] = {}
    texts = []
    for chunk in chunks:
        key = (chunk.doc_id, chunk.section)
        header = headers.get(key)
        if header is None:
            header = headers[key] = contextual_header(chunk, metas[chunk.doc_id])
        texts.append(f"{header}\n{chunk.text}")
    return texts


def _embed_in_blocks(embedder: Embedder, texts: list[str], spans: list, block: int,
                     progress: ProgressFn) -> Embedded:
    """``embed_passages`` over blocks of ``block`` texts, reporting progress after each: one
    call for the whole corpus would say nothing for the half hour a 100k-chunk ingest takes."""
    progress("embedding", 0, len(texts))
    block = max(1, block)
    vectors, span_vectors = [], []
    for start in range(0, len(texts), block):
        part = embedder.embed_passages(texts[start:start + block], spans[start:start + block])
        vectors.append(part.vectors)
        span_vectors.extend(part.span_vectors)
        progress("embedding", min(start + block, len(texts)), len(texts))
    return Embedded(np.concatenate(vectors), tuple(span_vectors))


def _dimension(settings: Settings, embedder: Embedder | None, *blocks: np.ndarray) -> int:
    """Vector size: from the vectors at hand, else the embedder, else the model's config."""
    for block in blocks:
        if block.size:
            return int(block.shape[1])
    if embedder is None:
        from assistant.embedding import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(settings.model)
    return int(embedder.dim)


def _assemble(sort: np.ndarray, rows: np.ndarray, kept: tuple | None, new_vecs: np.ndarray,
              new_sents: np.ndarray, new_counts: list[int], counts: list[int],
              dim: int, build: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Chunk and sentence vectors in the new chunk order, gathered once from the live index's
    (memory-mapped) arrays and the new ones: at 100k chunks the copies this replaces moved
    about 4 GB. Position p holds chunk ``sort[p]`` of (kept ``rows`` of the live index, then
    the new chunks); ``kept`` is (vectors, sentence vectors, first sentence row of each kept row)."""
    n_kept = len(rows)
    is_old = sort < n_kept
    vectors = _new_array(build, "vectors.npy", (len(sort), dim))
    if n_kept:
        _copy_rows(vectors, np.flatnonzero(is_old), kept[0], rows[sort[is_old]])
    if (~is_old).any():
        vectors[~is_old] = new_vecs[sort[~is_old] - n_kept]
    counts_arr = np.array(counts, dtype=np.int64)
    new_first = np.concatenate([[0], np.cumsum(new_counts, dtype=np.int64)])[:-1]
    old_first = kept[2] if n_kept else np.zeros(0, np.int64)
    first = np.where(is_old, old_first[np.minimum(sort, max(n_kept - 1, 0))] if n_kept else 0,
                     new_first[np.clip(sort - n_kept, 0, max(len(new_counts) - 1, 0))]
                     if len(new_counts) else 0)
    # source row of every sentence: its chunk's first row plus its place within the chunk
    starts = np.concatenate([[0], np.cumsum(counts_arr)])[:-1]
    within = np.arange(int(counts_arr.sum())) - np.repeat(starts, counts_arr)
    source = np.repeat(first, counts_arr) + within
    from_old = np.repeat(is_old, counts_arr)
    sentences = _new_array(build, "sentences.npy", (len(source), dim), SENTENCE_DTYPE)
    if from_old.any():
        _copy_rows(sentences, np.flatnonzero(from_old), kept[1], source[from_old])
    if (~from_old).any():
        sentences[~from_old] = new_sents[source[~from_old]]
    return vectors, sentences


def _new_array(build: Path | None, name: str, shape: tuple[int, int], dtype=np.float32) -> np.ndarray:
    """An empty array: the .npy file ``name`` in ``build``, mapped, when there is a folder and
    rows (a file without rows cannot be mapped; ``write_index`` writes it)."""
    if build is None or not shape[0] * shape[1]:
        return np.empty(shape, dtype)
    return np.lib.format.open_memmap(build / name, mode="w+", dtype=dtype, shape=shape)


def _copy_rows(out: np.ndarray, out_rows: np.ndarray, source: np.ndarray, source_rows: np.ndarray) -> None:
    """``out[out_rows] = source[source_rows]``, a copy per run of consecutive rows: the kept
    documents' rows move in long runs. Between two mapped .npy files each run is copied by
    the kernel (``copy_file_range``; shared extents where the file system can); else, or if
    that fails, as a slice copy. A row-by-row gather from the mapped live arrays took ~5 s
    for the ~1 GB of a 100k-chunk index."""
    if not len(out_rows):
        return
    breaks = np.flatnonzero((np.diff(out_rows) != 1) | (np.diff(source_rows) != 1)) + 1
    runs = [(int(out_rows[a]), int(source_rows[a]), b - a)
            for a, b in zip(np.r_[0, breaks].tolist(), np.r_[breaks, len(out_rows)].tolist(), strict=True)]
    if _copy_file_runs(out, source, runs):
        return
    for at, start, count in runs:
        out[at:at + count] = source[start:start + count]


def _copy_file_runs(out: np.ndarray, source: np.ndarray, runs: list[tuple[int, int, int]]) -> bool:
    """Copy (out row, source row, rows) runs file to file; False when the arrays are not both
    plain mapped files of one layout or the kernel cannot copy (the caller then copies)."""
    def mapped(a: np.ndarray) -> bool:
        return isinstance(a, np.memmap) and bool(a.filename) and a.flags.c_contiguous

    if not (mapped(out) and mapped(source) and out.dtype == source.dtype
            and out.shape[1:] == source.shape[1:] and hasattr(os, "copy_file_range")):
        return False
    row = out.strides[0]
    try:
        with open(source.filename, "rb") as src, open(out.filename, "r+b") as dst:
            for at, start, count in runs:
                left, read_at, write_at = count * row, source.offset + start * row, out.offset + at * row
                while left:
                    done = os.copy_file_range(src.fileno(), dst.fileno(), left, read_at, write_at)
                    if done <= 0:
                        return False
                    left, read_at, write_at = left - done, read_at + done, write_at + done
    except OSError:
        return False
    return True


def _refuse_empty(settings: Settings, previous: dict | None, plan: _Plan) -> None:
    indexed = len(previous["documents"]) if previous else 0
    why = f"{len(plan.skipped)} file(s) skipped, e.g. " + "; ".join(
        f"{shown_name(n)}: {r}" for n, r in _skip_list(plan.skipped)[:1]) if plan.skipped \
        else "no files"
    plural = "s" if indexed != 1 else ""
    lost = f"; publishing it would remove the {indexed} document{plural} indexed now" if indexed else ""
    raise UsageError(
        f"Nothing to index in {settings.corpus_dir}/ ({why}){lost}. "
        "Add documents, or pass --allow-empty to publish an empty index.")
