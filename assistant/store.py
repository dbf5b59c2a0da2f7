"""The on-disk index: layout, atomic publication, loading and compatibility checks.

Layout of the index folder::

    index/CURRENT            name of the live version folder (replaced atomically)
    index/v-<time>-<id>/     one complete, immutable build
        manifest.json        model, dimension, chunker settings, per-document hashes, …
        documents.json       cleaned text, metadata, sections and pages of every document
        documents.ranges.npy where each document's JSON lies in documents.json (bytes): a
                             re-ingest copies the unchanged documents' bytes, not re-encoding them
        chunks.json          the chunks by field (offsets, section, page, sentence offsets; a
                             chunk's text only when it is not its document's text between its
                             offsets); older versions wrote chunks.jsonl, one chunk per line
        vectors.npy          chunk vectors (float32, unit length), row i = chunk line i
        sentences.npy        sentence vectors, rows in chunk order (float16 since the eighth
                             session, ``SENTENCE_DTYPE``; older indexes' float32 still load)
        faiss.index          an HNSW graph over vectors.npy, above ``index.hnsw_above`` chunks
                             (manifest["faiss"]); exact flat search is built from vectors.npy
                             at load (older versions stored a flat copy here)
        bm25/                bm25s index and its tokenizer vocabulary and stopwords, and
                             tokens.npz: each chunk's words, so the next ingest splits only
                             new chunks
        derived/<name>.json  facts computed once at ingest (standard text, corpus facts), read
                             on first use so `serve` does not compute them on its first question
        derived/<name>.npz   arrays kept for the next ingest (``StoredArrays``): what makes the
                             standard-text search of a re-ingest incremental

The arrays and the BM25 index are memory-mapped: a 100k-chunk index (~0.6 GB of sentence
vectors) opens in about a second and pages in only what questions touch.

A build is written into a fresh version folder and published by replacing CURRENT, so an
interrupted ingest (Ctrl-C, kill -9) leaves the previous version live and loadable. Versions
older than the live one are renamed ``.trash-…`` when a build starts and deleted beside it.
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np

from assistant.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from assistant.forked import forked
from assistant.settings import ENCODERS, IndexSettings, Settings
from assistant.types import Chunk, Document, DocumentMeta, PageSpan, Section, Sentence

T = TypeVar("T")

FORMAT = 1
# Sentence vectors are stored at half precision: at 100k chunks they are ~1.2 GB in float32,
# the bulk of an index, copied and synced on every re-ingest. Scores computed from them moved
# by at most 4e-5 and every eval figure on every split of both question sets was the same.
# Questions score them in float32 (NumPy promotes the product).
SENTENCE_DTYPE = np.float16
POINTER = "CURRENT"
DOCUMENT_RANGES = "documents.ranges.npy"


def read_manifest(index_dir: Path) -> dict | None:
    """The live manifest, or None when there is no (readable) index."""
    live = _live_version(index_dir)
    return live[1] if live else None


def live_folder(index_dir: Path) -> Path | None:
    """The folder CURRENT names (the live version), without reading its manifest."""
    try:
        return index_dir / (index_dir / POINTER).read_text().strip()
    except OSError:
        return None


def _live_version(index_dir: Path) -> tuple[Path, dict] | None:
    """(folder, manifest) of the live version, reading CURRENT once so both agree."""
    folder = live_folder(index_dir)
    try:
        return (folder, json.loads((folder / "manifest.json").read_text())) if folder else None
    except (OSError, ValueError):
        return None


def check_compatible(manifest: dict, settings: Settings) -> None:
    """Refuse an index built with another model or other chunker settings."""
    if manifest.get("format") != FORMAT:
        raise IndexMismatch(f"The index in {settings.index_dir}/ has an old format. Run `peerqa ingest --rebuild`.")
    if manifest.get("model_id") != settings.model:
        raise IndexMismatch(
            f"The index was built with model {manifest.get('model_id')!r}, not {settings.model!r}. "
            "Run `peerqa ingest --rebuild` to rebuild it."
        )
    built = manifest.get("encoder", "torch-fp32")  # indexes from before the setting: torch-fp32
    if ENCODERS.get(built) != ENCODERS[settings.encoder]:
        raise IndexMismatch(
            f"The index was built with encoder {built!r}, not "
            f"{settings.encoder!r}. Run `peerqa ingest --rebuild` to rebuild it.")
    sentences = manifest.get("sentence_vectors", "pooled")  # indexes from before the setting: pooled
    if sentences != settings.sentence_vectors:
        raise IndexMismatch(
            f"The index's sentence vectors are {sentences!r}, not {settings.sentence_vectors!r} "
            "(setting sentence_vectors). Run `peerqa ingest --rebuild` to rebuild it.")
    if manifest.get("chunking_hash") != settings.chunking_hash():
        raise IndexMismatch(
            "The index was built with other chunker settings. Run `peerqa ingest --rebuild` to rebuild it."
        )


_LOCKS_HELD: set[int] = set()  # descriptors of the writer locks this process holds


@contextmanager
def writer_lock(index_dir: Path):
    """One ingest at a time per index folder."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise IndexCorrupt(f"Another `peerqa ingest` is writing {index_dir}/; wait for it to finish.") from None
        _LOCKS_HELD.add(handle.fileno())
        try:
            yield
        finally:
            _LOCKS_HELD.discard(handle.fileno())


def _drop_locks_in_child() -> None:
    """A forked child (``assistant/forked.py``) closes its copies of the writer locks' files:
    an flock lasts while any copy is open, so the lock now ends with the ingest that took it,
    even one killed while its child is still winding down."""
    for fd in _LOCKS_HELD:
        try:
            os.close(fd)
        except OSError:
            pass
    _LOCKS_HELD.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


def new_version_dir(index_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    index_dir.mkdir(parents=True, exist_ok=True)
    # Fix (tests): the name was only time + pid, so retrying in the same second after a failed
    # build (its folder left behind) raised FileExistsError. Add a suffix until the name is free.
    base = f".building-{stamp}-{os.getpid()}"
    suffix = 0
    while True:
        path = index_dir / (f"{base}-{suffix}" if suffix else base)
        try:
            path.mkdir()
            return path
        except FileExistsError:
            suffix += 1


def publish(index_dir: Path, build_dir: Path, version: str) -> Path:
    """Make ``build_dir`` the live version atomically, then delete older versions."""
    stamp = time.strftime('%Y%m%dT%H%M%S')
    final = index_dir / f"v-{stamp}-{version}"
    # Fix (tests): the same version published twice in one second (`ingest --rebuild` with
    # nothing changed) used to rmtree the folder CURRENT still pointed at, so a crash before
    # the pointer swap left no loadable index. Pick a fresh name instead; never delete here.
    suffix = 1
    while final.exists():
        final = index_dir / f"v-{stamp}-{version}-{suffix}"
        suffix += 1
    _fsync_tree(build_dir)
    os.replace(build_dir, final)
    try:
        replaced = (index_dir / POINTER).read_text().strip()
    except OSError:
        replaced = ""
    tmp = index_dir / f".{POINTER}.tmp"
    with open(tmp, "w") as handle:
        handle.write(final.name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)
    # Keep the version just replaced: a reader that read CURRENT a moment ago may still be
    # opening its files. Older versions, orphans of killed builds and abandoned builds go.
    keep = {final.name, replaced}
    for old in index_dir.iterdir():
        if old.is_dir() and old.name not in keep and old.name.startswith(("v-", ".building-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


TRASH = ".trash-"  # a folder set aside for deletion (``set_aside_superseded``)


def set_aside_superseded(index_dir: Path) -> list[Path]:
    """Before a build, under ``writer_lock``: rename every version folder but the live one,
    every build folder (none is being written: the lock is held) and any trash left by a killed
    ingest to ``.trash-…`` names, and return them for deletion. These are the folders the
    build's ``publish`` would delete (it keeps the new version and the one it replaces, live
    now); set aside at once, they can be deleted beside the build instead of after it (~0.4 s
    for the 1.7 GB of a 100k-chunk version). Nothing is set aside when CURRENT is unreadable."""
    live = live_folder(index_dir)
    if live is None or not live.is_dir():
        return []
    aside = []
    for entry in index_dir.iterdir():
        name = entry.name
        if not entry.is_dir() or name == live.name or not name.startswith(("v-", ".building-", TRASH)):
            continue
        target = entry if name.startswith(TRASH) else index_dir / f"{TRASH}{os.getpid()}-{name}"
        try:
            if target != entry:
                os.rename(entry, target)
            aside.append(target)
        except OSError:
            continue  # left for publish (or the next ingest) to delete
    return aside


def remove_folders(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def write_index(
    index_dir: Path,
    manifest: dict,
    documents: list[Document],
    chunks: list[Chunk],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    lexical_texts: list[str],
    derived: dict[str, object] | Callable[[], dict[str, object]] | None = None,
    build: Path | None = None,
    previous: IndexStore | None = None,
    parallel: bool = False,
) -> Path:
    """Write one complete version (layout above) and publish it atomically; its folder.

    ``vectors`` are (chunks, dim) unit rows, ``lexical_texts`` one text per chunk for BM25.
    The manifest gets the format and the dimension here; ``manifest["index_version"]`` names
    the version and ``manifest["faiss"]`` (see ``faiss_choice``) the vector index, flat when
    absent. ``derived`` values (JSON), or a callable that works them out, are stored for
    ``IndexStore.persisted``. ``build`` is a folder from ``new_version_dir`` that the caller
    may have written the arrays into (``vectors`` and ``sentence_vectors`` mapped from its
    ``vectors.npy`` and ``sentences.npy``); by default a new one. ``previous`` is the version
    the new one is made from: documents taken from it unchanged are copied as its bytes, and
    the BM25 words of texts it holds are not split again. With ``parallel`` the text side
    (``chunks.json`` and ``bm25/``, which need neither vectors nor derived facts) is written by
    a forked child (``assistant/forked.py``) while this process works out ``derived`` and
    writes the rest: at 100k chunks ~4 s and ~3 s of mostly Python that a second thread only
    interleaved. Call inside ``writer_lock(index_dir)``.
    """
    manifest = {"format": FORMAT, **manifest, "dim": int(vectors.shape[1])}
    build = build or new_version_dir(index_dir)
    words_from = previous.path / "bm25" if previous is not None else None
    try:
        with forked(_write_text_side, build, chunks, documents, lexical_texts, words_from,
                    enabled=parallel, name="index text") as text_side_written:
            _write_derived(build, (derived() if callable(derived) else derived) or {})
            _write_version(build, manifest, documents, vectors, sentence_vectors, previous)
            text_side_written()
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)  # a half-written folder is never published
        raise
    return publish(index_dir, build, str(manifest["index_version"]))


def _write_text_side(build: Path, chunks: list[Chunk], documents: list[Document],
                     lexical_texts: list[str], words_from: Path | None) -> None:
    """``chunks.json`` and ``bm25/`` (with each text's words, those of texts the index in
    ``words_from`` holds taken from it)."""
    from assistant.lexical import build_bm25, load_token_cache

    (build / "chunks.json").write_text(json.dumps(chunks_to_columns(chunks, documents), ensure_ascii=False),
                                       encoding="utf-8")
    build_bm25(lexical_texts or [""], build / "bm25",
               load_token_cache(words_from) if words_from is not None else None)


def _write_version(build: Path, manifest: dict, documents: list[Document], vectors: np.ndarray,
                   sentence_vectors: np.ndarray, previous: IndexStore | None = None) -> None:
    """The rest of a version: documents, arrays, the FAISS graph when there is one, manifest."""
    import faiss

    _write_documents(build, documents, previous)
    _save_array(build / "vectors.npy", vectors)
    _save_array(build / "sentences.npy", sentence_vectors, SENTENCE_DTYPE)
    choice = manifest.get("faiss") or {"kind": "flat"}
    if choice["kind"] != "flat":  # a flat index is vectors.npy again: it is made at load instead
        index = _new_faiss(choice, manifest["dim"])
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(build / "faiss.index"))
    (build / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str), encoding="utf-8")


def _write_documents(build: Path, documents: list[Document], previous: IndexStore | None) -> None:
    """documents.json, byte for byte what ``json.dumps`` of the list writes, and where each
    document lies in it. A document of ``previous`` is copied as its bytes there: encoding
    ~66 MB of text again took ~0.5 s of a one-document re-ingest at 1,000 documents; copied
    file to file, in runs of documents that lie together there (``_copy_span``), the ~66 MB
    does not pass through Python either."""
    parts: list[bytes | tuple[int, int]] = []  # a new document's JSON, or where an old one lies
    for doc in documents:
        at = previous.document_range(doc) if previous is not None else None
        parts.append(at if at is not None else
                     json.dumps(document_to_json(doc), ensure_ascii=False).encode("utf-8"))
    sizes = np.array([p[1] - p[0] if isinstance(p, tuple) else len(p) for p in parts], dtype=np.int64)
    starts = 1 + np.concatenate([[0], np.cumsum(sizes + 2)])[:len(sizes)].astype(np.int64)  # "[", ", "
    copied = any(isinstance(p, tuple) for p in parts)
    source = previous.path / "documents.json" if previous is not None and copied else os.devnull
    with open(build / "documents.json", "wb", buffering=0) as out, open(source, "rb") as old:
        out.write(b"[")
        i = 0
        while i < len(parts):
            if i:
                out.write(b", ")
            if isinstance(parts[i], bytes):
                out.write(parts[i])
                i += 1
                continue
            j = i + 1  # documents that follow each other in the old file, ", " between them
            while j < len(parts) and isinstance(parts[j], tuple) and parts[j][0] == parts[j - 1][1] + 2:
                j += 1
            _copy_span(old, out, parts[i][0], parts[j - 1][1])
            i = j
        out.write(b"]")
    np.save(build / DOCUMENT_RANGES, np.stack([starts, starts + sizes], axis=1).reshape(-1, 2))


def _copy_span(source, out, start: int, end: int) -> None:
    """Bytes ``start:end`` of the open file ``source`` appended to the unbuffered ``out``: by
    the kernel where it can (``copy_file_range``), else read and written."""
    while start < end:
        try:
            done = os.copy_file_range(source.fileno(), out.fileno(), end - start, start)
        except (OSError, AttributeError):
            done = 0
        if done <= 0:
            source.seek(start)
            out.write(source.read(end - start))
            return
        start += done


def _save_array(path: Path, array: np.ndarray, dtype=np.float32) -> None:
    """``array`` as ``dtype`` in ``path``, unless it is that file already, mapped (then only
    flushed; ``publish`` syncs it)."""
    if isinstance(array, np.memmap) and array.filename and Path(array.filename) == path.resolve():
        array.flush()
        return
    np.save(path, array.astype(dtype, copy=False))  # of that type already: written, not copied


def faiss_choice(settings: IndexSettings, chunks: int) -> dict:
    """The vector index for ``chunks`` chunks, as recorded in the manifest: exact flat search up
    to ``hnsw_above`` chunks, an HNSW graph above."""
    if chunks <= settings.hnsw_above:
        return {"kind": "flat"}
    return {"kind": "hnsw", "m": settings.hnsw_m, "ef_construction": settings.hnsw_ef_construction,
            "ef_search": settings.hnsw_ef_search}


def _new_faiss(choice: dict, dim: int):
    import faiss

    if choice.get("kind") == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(choice["m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(choice["ef_construction"])
        return index
    return faiss.IndexFlatIP(dim)


@dataclass(frozen=True)
class StoredArrays:
    """A derived value kept as NumPy arrays (``derived/<name>.npz``), not JSON: millions of
    integers that JSON would take seconds to write and read."""

    arrays: dict[str, np.ndarray]


def _write_derived(build: Path, derived: dict[str, object]) -> None:
    if not derived:
        return
    (build / "derived").mkdir()
    for name, value in derived.items():
        if isinstance(value, StoredArrays):
            with open(build / "derived" / f"{name}.npz", "wb") as handle:
                np.savez(handle, **value.arrays)
            continue
        (build / "derived" / f"{name}.json").write_text(json.dumps(value, ensure_ascii=False),
                                                        encoding="utf-8")


def _fsync_tree(path: Path) -> None:
    for item in path.rglob("*"):
        if item.is_file():
            with open(item, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def chunk_from_json(data: dict) -> Chunk:
    """A line of chunks.jsonl, as versions before chunks.json wrote them."""
    return Chunk(
        chunk_id=data["chunk_id"], doc_id=data["doc_id"], text=data["text"], start=data["start"],
        end=data["end"], section=tuple(data["section"]), ordinal=data["ordinal"],
        page=data.get("page"), page_label=data.get("page_label"),
        sentences=tuple(Sentence(a, b) for a, b in data.get("sentences", [])),
    )


_COLUMNS = ("chunk_id", "doc_id", "start", "end", "ordinal", "page", "page_label")


def chunks_to_columns(chunks: list[Chunk], documents: list[Document]) -> dict:
    """chunks.json: one list per field, section paths as numbers into a table, sentence offsets
    flat, and a chunk's text only when it is not its document's text between its offsets (as
    chunking makes it). Parsing 100k JSON objects with their text and sentence lists was most
    of the time `serve` took to open a 100k-chunk index."""
    texts = {d.meta.doc_id: d.text for d in documents}
    sections: dict[tuple[str, ...], int] = {}
    columns: dict[str, list] = {name: [getattr(c, name) for c in chunks] for name in _COLUMNS}
    columns["section"] = [sections.setdefault(c.section, len(sections)) for c in chunks]
    columns["sentences"] = [len(c.sentences) for c in chunks]
    own = {i: c.text for i, c in enumerate(chunks) if texts.get(c.doc_id, "")[c.start:c.end] != c.text}
    return {"columns": columns, "sections": [list(s) for s in sections], "texts": own,
            "spans": [x for c in chunks for s in c.sentences for x in (s.start, s.end)]}


def chunks_from_columns(data: dict, documents: dict[str, Document]) -> list[Chunk]:
    """The chunks of a chunks.json (``chunks_to_columns``); ValueError/KeyError when damaged."""
    columns, sections = data["columns"], [tuple(s) for s in data["sections"]]
    spans, own = data["spans"], {int(k): v for k, v in data["texts"].items()}
    if sum(columns["sentences"]) * 2 != len(spans):
        raise ValueError("chunks.json: sentence offsets do not match the chunks")
    chunks, at = [], 0
    rows = zip(*(columns[name] for name in _COLUMNS), columns["section"], columns["sentences"], strict=True)
    for i, (chunk_id, doc_id, start, end, ordinal, page, label, section, count) in enumerate(rows):
        text = own[i] if i in own else documents[doc_id].text[start:end]
        pairs = spans[at:at + 2 * count]
        at += 2 * count
        chunks.append(Chunk(chunk_id=chunk_id, doc_id=doc_id, text=text, start=start, end=end,
                            section=sections[section], ordinal=ordinal, page=page, page_label=label,
                            sentences=tuple(map(Sentence, pairs[::2], pairs[1::2]))))
    return chunks


def _read_chunks(path: Path, documents: dict[str, Document]) -> list[Chunk]:
    """chunks.json, or chunks.jsonl in versions written before it."""
    if (path / "chunks.json").exists():
        return chunks_from_columns(json.loads((path / "chunks.json").read_text(encoding="utf-8")), documents)
    with open(path / "chunks.jsonl", encoding="utf-8") as handle:
        return [chunk_from_json(json.loads(line)) for line in handle if line.strip()]


def document_to_json(doc: Document) -> dict:
    return {
        "meta": {**asdict(doc.meta), "inferred": list(doc.meta.inferred)},
        "text": doc.text,
        "sections": [[list(s.path), s.start, s.end] for s in doc.sections],
        "pages": [[p.start, p.index, p.label] for p in doc.pages],
        "content_hash": doc.content_hash,
    }


def document_from_json(data: dict) -> Document:
    meta = dict(data["meta"])
    meta["inferred"] = tuple(meta.get("inferred", ()))
    return Document(
        meta=DocumentMeta(**meta),
        text=data["text"],
        sections=tuple(Section(tuple(p), a, b) for p, a, b in data["sections"]),
        pages=tuple(PageSpan(a, i, label) for a, i, label in data["pages"]),
        content_hash=data.get("content_hash", ""),
    )


@dataclass
class IndexStore:
    """A loaded index version. Heavy parts (FAISS, BM25) load on first use.

    Anything derived from the index once (corpus facts, theme tags, the register) lives in
    ``derived``: one cache with one owner, filled under a (re-entrant) lock so web-server
    threads compute each entry once.
    """

    path: Path
    manifest: dict
    chunks: list[Chunk]
    documents: dict[str, Document]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_offsets: np.ndarray  # row of each chunk's first sentence in sentence_vectors
    # The settings it was loaded with: what is derived from the store (themes, the register,
    # listings) is tuned by them.
    settings: Settings = field(default_factory=Settings)
    _derived: dict = field(default_factory=dict, repr=False)
    _derived_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _derived_locks: dict = field(default_factory=dict, repr=False)  # name → its own lock

    def persisted(self, name: str) -> object | None:
        """The value ingest stored as ``name`` (JSON), or None when this version has none."""
        return read_persisted(self.path, name)

    def persisted_arrays(self, name: str) -> dict[str, np.ndarray] | None:
        """The ``StoredArrays`` ingest stored as ``name``, or None when this version has none."""
        path = self.path / "derived" / f"{name}.npz"
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {key: stored[key] for key in stored.files}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise IndexCorrupt(f"{path} is unreadable ({exc.__class__.__name__}). "
                               "Run `peerqa ingest --rebuild`.") from exc

    def derived(self, name: str, compute: Callable[[], T]) -> T:
        """The value ``compute()`` gave for ``name`` the first time it was asked for.

        One lock per name: a long computation (the register: 75 s at 1,000
        documents, built in the background by `serve`) does not hold up the others. Values
        depend on each other one way only (register → standard text → corpus facts), so
        threads waiting on each other's names cannot deadlock."""
        if name in self._derived:
            return self._derived[name]
        with self._derived_lock:
            lock = self._derived_locks.setdefault(name, threading.RLock())
        with lock:
            if name not in self._derived:
                self._derived[name] = compute()
            return self._derived[name]

    def document_range(self, doc: Document) -> tuple[int, int] | None:
        """Where ``doc`` lies in this version's documents.json (bytes), when ``doc`` is this
        store's own document (so unchanged); None when it is not, or the version has no usable
        ranges."""
        if self.documents.get(doc.meta.doc_id) is not doc or self._document_ranges is None:
            return None
        return self._document_ranges[doc.meta.doc_id]

    @cached_property
    def _document_ranges(self) -> dict[str, tuple[int, int]] | None:
        """doc id → its byte range in documents.json, when the ranges fit the file: one range
        per document, in order, each right after the previous one's ", "."""
        try:
            ranges = np.load(self.path / DOCUMENT_RANGES, allow_pickle=False)
            size = (self.path / "documents.json").stat().st_size
        except (OSError, ValueError):
            return None
        starts, ends = (ranges[:, 0], ranges[:, 1]) if ranges.ndim == 2 else (ranges, ranges)
        fits = (ranges.ndim == 2 and ranges.shape == (len(self.documents), 2)
                and (not len(ranges) or (int(starts[0]) == 1 and int(ends[-1]) == size - 1
                                          and bool((starts[1:] == ends[:-1] + 2).all())
                                          and bool((ends > starts).all()))))
        if not fits:
            return None
        return dict(zip(self.documents, zip(starts.tolist(), ends.tolist(), strict=True), strict=True))

    @property
    def version(self) -> str:
        return str(self.manifest.get("index_version", ""))

    @cached_property
    def metas(self) -> dict[str, DocumentMeta]:
        # cached: asked for per question, and rebuilding it is O(documents)
        return {doc_id: doc.meta for doc_id, doc in self.documents.items()}

    def chunk_sentence_vectors(self, row: int) -> np.ndarray:
        start = int(self.sentence_offsets[row])
        return self.sentence_vectors[start:start + len(self.chunks[row].sentences)]

    @cached_property
    def faiss_index(self):
        import faiss

        faiss.omp_set_num_threads(1)  # single queries are faster on one thread
        if not (self.path / "faiss.index").exists() and self.exact_search:
            # flat: the vectors themselves (versions before this one stored a copy)
            index = faiss.IndexFlatIP(int(self.manifest.get("dim") or self.vectors.shape[1]))
            if len(self.vectors):
                index.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
            return index
        try:
            index = faiss.read_index(str(self.path / "faiss.index"))
        except RuntimeError as exc:
            raise IndexCorrupt(f"{self.path}/faiss.index is unreadable ({str(exc).splitlines()[0][:80]}…). "
                               "Run `peerqa ingest --rebuild`.") from exc
        choice = self.manifest.get("faiss") or {}
        if choice.get("kind") == "hnsw":
            index.hnsw.efSearch = int(choice["ef_search"])
        return index

    @property
    def exact_search(self) -> bool:
        """Does the vector index search exactly (flat), not approximately (HNSW)?"""
        return (self.manifest.get("faiss") or {}).get("kind", "flat") == "flat"

    @cached_property
    def bm25(self):
        """(retriever, tokenizer) pair."""
        import bm25s

        from assistant.lexical import load_tokenizer

        path = self.path / "bm25"
        try:
            # memory-mapped: its score matrix is read as questions touch it, not all at start
            return bm25s.BM25.load(str(path), mmap=True), load_tokenizer(path)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorrupt(f"{path}/ is unreadable ({exc.__class__.__name__}). "
                               "Run `peerqa ingest --rebuild`.") from exc


def read_persisted(version: Path, name: str) -> object | None:
    """The value ingest stored as ``name`` (JSON) in the version folder ``version``, or None
    when it has none; IndexCorrupt when the file cannot be read."""
    path = version / "derived" / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path} is unreadable ({exc.__class__.__name__}). "
                           "Run `peerqa ingest --rebuild`.") from exc


@contextmanager
def gc_paused():
    """No cyclic garbage collection while the index is parsed (or a new version is made from
    it): its million new objects (none of them garbage) would start collection after
    collection, each walking every live object; half the load time at 100k."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def filed_councils(documents: Iterable[Document]) -> dict[str, str]:
    """Each document's council, one name per council: a document whose council was guessed as
    "<Place> Council" is filed under the one other council of that place the corpus holds
    (``same_councils``: "Wirral Council" news beside a Wirral Metropolitan Borough Council
    report). Worked out over the whole corpus whenever it is read, so what ingest guessed for
    each file stays its own. A council its documents call by two kinds as its status changed
    (``renamed_councils``) is filed under its latest document's name."""
    from assistant.councils import renamed_councils, same_councils

    documents = list(documents)
    same = same_councils({d.meta.council for d in documents})
    guessed = {d.meta.doc_id: same.get(d.meta.council, d.meta.council) if "council" in d.meta.inferred
               else d.meta.council for d in documents}
    # a council its documents call by two kinds as its status changed ("Colchester Borough
    # Council", then "Colchester City Council") is one, under its latest document's name
    renamed = renamed_councils((guessed[d.meta.doc_id], d.meta.date) for d in documents)
    return {d.meta.doc_id: renamed.get(guessed[d.meta.doc_id], guessed[d.meta.doc_id])
            if "council" in d.meta.inferred else guessed[d.meta.doc_id] for d in documents}


def _one_name_per_council(documents: dict[str, Document]) -> dict[str, Document]:
    filed = filed_councils(documents.values())
    return {doc_id: d if filed[doc_id] == d.meta.council else replace(d, meta=replace(d.meta, council=filed[doc_id]))
            for doc_id, d in documents.items()}


def load_index(settings: Settings, check: bool = True) -> IndexStore:
    index_dir = Path(settings.index_dir)
    live = _live_version(index_dir)
    if live is None:
        raise IndexNotFound(str(index_dir).rstrip("/"))
    path, manifest = live
    if check:
        check_compatible(manifest, settings)
    try:
        with gc_paused():
            docs = json.loads((path / "documents.json").read_text(encoding="utf-8"))
            documents = _one_name_per_council({d["meta"]["doc_id"]: document_from_json(d) for d in docs})
            chunks = _read_chunks(path, documents)
        # memory-mapped (read-only): a truncated file still fails here, with ValueError
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        sentence_vectors = np.load(path / "sentences.npy", mmap_mode="r")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"The index in {index_dir}/ is damaged ({exc.__class__.__name__}). "
                           "Run `peerqa ingest --rebuild`.") from exc
    counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
    if len(vectors) != len(chunks) or len(sentence_vectors) != int(counts.sum()):
        raise IndexCorrupt(f"The index in {index_dir}/ is inconsistent. Run `peerqa ingest --rebuild`.")
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
    return IndexStore(path=path, manifest=manifest, chunks=chunks, documents=documents,
                      vectors=vectors, sentence_vectors=sentence_vectors, sentence_offsets=offsets,
                      settings=settings)
