"""Hostile and careless input to ingest and to `peerqa ask`: each probe of issue 13 replayed.

Real files in tmp_path (FIFOs, symlinks, encrypted PDFs, Latin-1 bytes, odd names); the fake
embedder and word counter keep it fast; a few cases go through the real CLI in a subprocess.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.settings import ChunkingSettings, Settings, resolve_model_path
from assistant.tokens import token_counter
from assistant.types import Document, DocumentMeta
from ingest.build import ingest
from ingest.chunking import chunk_document, sections_of
from ingest.cleaning import clean
from tests.conftest import SEED_CORPUS
from tests.fakes import FakeEmbedder, word_count, word_count_dropping_marks

ROOT = Path(__file__).resolve().parent.parent
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def chunks_of(pages: list[str], config: ChunkingSettings, count) -> tuple[Document, list]:
    cleaned = clean(pages)
    meta = DocumentMeta(doc_id="d", title="t", council="c", doc_type="news", date="")
    doc = Document(meta=meta, text=cleaned.text, sections=sections_of(cleaned.text, cleaned.blocks),
                   pages=cleaned.pages, content_hash="h")
    return doc, chunk_document(doc, config, count)


def assert_offsets_hold(doc: Document, chunks: list) -> None:
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
    assert all(a.end <= b.end and a.start < b.start for a, b in itertools.pairwise(chunks)
               if a.section == b.section)


# --- 1. chunk offsets hold for any Unicode text --------------------------------------------

# characters that broke or could break offsets: "´" (NFKC: space + combining accent), Latin-1,
# combining marks, ligatures, full-width forms, NUL and other controls, line separators
ODD = st.sampled_from(["\u00b4", "s\u00b4 ", "\u00e9", "e\u0301", " \u0301 ", "\u00a8 ", "\ufb01",
                       "\uff21\uff22", "\x00", "\x1b[31m", "\x07", "\u2028", "\x85", "\u00a0",
                       "\u00ad", "\t", "\n", "\n\n", ". ", "• ", "1. "])
WORDS = st.from_regex(r"[A-Za-z\u00c0-\u00ff]{1,9}", fullmatch=True)
HOSTILE_TEXT = st.lists(st.one_of(ODD, WORDS, st.just(" "), st.text(max_size=8)),
                        max_size=120).map("".join)


@PROPERTY
@given(st.lists(HOSTILE_TEXT, min_size=1, max_size=3), st.integers(4, 40))
@example(["The councils\u00b4 view \u00b4 is clear. " * 30], 20)
@example(["\u00e9t\u00e9 \u00b4 " * 60], 8)
def test_cleaning_and_chunking_keep_offsets_for_any_unicode(pages: list[str], size: int) -> None:
    # the counter drops combining marks and controls as the model's tokenizer does: text
    # that counts 0 tokens without being blank is what made the splitter repeat characters
    config = ChunkingSettings(chunk_tokens=size, overlap_tokens=size // 4)
    doc, chunks = chunks_of(pages, config, word_count_dropping_marks)
    assert_offsets_hold(doc, chunks)


def test_random_latin1_texts_all_chunk_with_the_real_tokenizer() -> None:
    """The issue's probe: 40 random Latin-1 texts (9 of 40 used to fail) with the model's
    own tokenizer and the shipped chunk settings."""
    count = token_counter(resolve_model_path(Settings().model))
    for data in latin1_texts(40, seed=13):
        doc, chunks = chunks_of([data.decode("latin-1")], Settings().chunking, count)
        assert chunks
        assert_offsets_hold(doc, chunks)


def test_acute_accent_used_as_apostrophe_reads_as_one() -> None:
    assert clean(["The councils\u00b4 plan and the council\u00b4s view."]).text == \
        "The councils' plan and the council's view."


# --- fixtures: a small corpus indexed with the fake embedder ---------------------------------

NEWS = "cambridgeshire-county-2022-progress-review-news"
WESTSHIRE = ("Westshire County Council peer review 2019.\n\nThe peers found that Westshire's "
             "waste partnership with its districts saves money every year.\n")
EASTSHIRE = ("Eastshire District Council peer review 2019.\n\nThe peers found that Eastshire's "
             "housing company has not yet built any homes.\n")


def run(settings: Settings, **kwargs):
    return ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None,
                  **kwargs)


@pytest.fixture
def news_only(tmp_path: Path) -> Settings:
    """A corpus of one seed document, not yet indexed."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_CORPUS / f"{NEWS}.txt", corpus)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="fake")


def skip_reasons(report) -> dict[str, str]:
    return dict(report.skipped)


# --- 2. a failure in one file never stops an ingest -----------------------------------------

def test_an_unexpected_error_in_one_file_skips_only_that_file(news_only, monkeypatch) -> None:
    from ingest import build

    real_clean = build.clean

    def clean_or_explode(pages, *args, **kwargs):
        if any("EXPLODE" in p for p in pages):
            raise RuntimeError("cleaner bug\nwith a second line")
        return real_clean(pages, *args, **kwargs)

    monkeypatch.setattr(build, "clean", clean_or_explode)
    corpus = Path(news_only.corpus_dir)
    (corpus / "bad.txt").write_text("EXPLODE here.\n", encoding="utf-8")
    (corpus / "good.txt").write_text("Westshire County Council notes.\n", encoding="utf-8")
    report = run(news_only)
    assert set(report.added) == {NEWS, "good"} and report.wrote_index
    assert skip_reasons(report) == {
        "bad.txt": "could not be processed (RuntimeError: cleaner bug with a second line)"}
    assert report.exit_code == 4


def latin1_texts(n: int, seed: int = 0) -> list[bytes]:
    """The issue's probe: random printable Latin-1 bytes with spaces and line breaks."""
    rng = random.Random(seed)
    alphabet = [*range(32, 127), *range(160, 256), 10, 10, 32, 32, 32]
    return [bytes(rng.choice(alphabet) for _ in range(3000)) for _ in range(n)]


def test_random_latin1_files_are_all_indexed(news_only) -> None:
    """Through the whole ingest with the real tokenizer: 2 of these 12 files used to end the
    ingest with "chunk text not found"."""
    from assistant.store import load_index

    corpus = Path(news_only.corpus_dir)
    for i, data in enumerate(latin1_texts(12)):
        (corpus / f"latin-{i:02d}.txt").write_bytes(data)
    count = token_counter(resolve_model_path(Settings().model))
    report = ingest(news_only, embedder=FakeEmbedder(), count_tokens=count, log=lambda m: None)
    assert report.skipped == () and len(report.added) == 13
    store = load_index(news_only, check=False)
    for chunk in store.chunks:
        assert store.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text


# --- 3. document ids unique by construction ---------------------------------------------------

def test_colliding_file_names_get_their_own_ids_and_citations(news_only) -> None:
    from assistant.store import load_index

    corpus = Path(news_only.corpus_dir)
    (corpus / "Peer Review 2019.txt").write_text(WESTSHIRE, encoding="utf-8")
    (corpus / "peer-review-2019.md").write_text(EASTSHIRE, encoding="utf-8")
    (corpus / "Отчёт.txt").write_text("Northshire Borough Council report.\n", encoding="utf-8")
    (corpus / "Доклад.txt").write_text("Southshire City Council report.\n", encoding="utf-8")
    report = run(news_only)
    assert report.skipped == () and len(report.added) == 5
    store = load_index(news_only, check=False)
    by_source = {d.meta.source: d for d in store.documents.values()}
    assert len(by_source) == 5  # one document per file, none overwritten
    assert by_source["Peer Review 2019.txt"].meta.doc_id == "peer-review-2019"  # first by name
    assert by_source["peer-review-2019.md"].meta.doc_id.startswith("peer-review-2019-")
    # every passage is cited under the document it comes from
    for chunk in store.chunks:
        meta = store.documents[chunk.doc_id].meta
        assert chunk.text in store.documents[chunk.doc_id].text
        if "Westshire" in chunk.text:
            assert meta.source == "Peer Review 2019.txt" and meta.council.startswith("Westshire")
        if "Eastshire" in chunk.text:
            assert meta.source == "peer-review-2019.md" and meta.council.startswith("Eastshire")
    # and a second ingest finds nothing changed
    again = run(news_only)
    assert not again.wrote_index and again.updated == again.added == again.removed == ()
    assert again.chunk_count == report.chunk_count == len(store.chunks)


def test_a_new_colliding_file_leaves_the_indexed_ones_id_alone(news_only) -> None:
    corpus = Path(news_only.corpus_dir)
    (corpus / "peer-review-2019.md").write_text(EASTSHIRE, encoding="utf-8")
    first = run(news_only)
    assert "peer-review-2019" in first.added
    (corpus / "Peer Review 2019.txt").write_text(WESTSHIRE, encoding="utf-8")  # sorts first
    second = run(news_only)
    assert "peer-review-2019" in second.unchanged and second.updated == ()
    assert len(second.added) == 1 and second.added[0].startswith("peer-review-2019-")


def test_seed_corpus_ids_are_the_file_stems(tmp_path: Path) -> None:
    from ingest.catalog import assign_doc_ids

    files = sorted(SEED_CORPUS.glob("*.txt"))
    assert assign_doc_ids(files) == {p: p.stem for p in files}


# --- 4. what is read: regular files only, symlinks inside the corpus, bounded size -----------

@pytest.fixture
def alarm():
    """Fail instead of hanging forever (a FIFO opened for reading blocks until a writer comes)."""
    import signal

    def timeout(*_):
        raise TimeoutError("ingest hung")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fifo_device_and_outside_symlinks_are_skipped_unread(news_only, alarm) -> None:
    corpus = Path(news_only.corpus_dir)
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "zero.txt").symlink_to("/dev/zero")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus.parent / "outside.txt").write_text("Secret notes outside the corpus.\n", encoding="utf-8")
    (corpus / "outside-link.txt").symlink_to("../outside.txt")
    report = run(news_only)
    reasons = skip_reasons(report)
    assert reasons["pipe.txt"] == "not a regular file: a FIFO (named pipe); not read"
    outside = "symlink to a file outside the corpus folder; not followed"
    assert reasons["zero.txt"] == reasons["passwd.txt"] == reasons["outside-link.txt"] == outside
    assert report.added == (NEWS,) and report.exit_code == 4
    from assistant.store import load_index

    assert not any("root:" in c.text or "Secret" in c.text for c in load_index(news_only, check=False).chunks)


def test_a_symlink_loop_is_skipped_with_its_reason(news_only) -> None:
    corpus = Path(news_only.corpus_dir)
    (corpus / "loop1.txt").symlink_to("loop2.txt")
    (corpus / "loop2.txt").symlink_to("loop1.txt")
    reasons = skip_reasons(run(news_only))
    assert reasons == dict.fromkeys(["loop1.txt", "loop2.txt"],
                                    "cannot read file: Too many levels of symbolic links")


def test_symlink_inside_the_corpus_is_followed(news_only) -> None:
    corpus = Path(news_only.corpus_dir)
    (corpus / "drafts").mkdir()  # folders are not listed, a link into one is
    (corpus / "drafts" / "notes.txt").write_text(WESTSHIRE, encoding="utf-8")
    (corpus / "westshire.txt").symlink_to("drafts/notes.txt")
    report = run(news_only)
    assert set(report.added) == {NEWS, "westshire"} and report.skipped == ()


def test_a_device_is_refused_on_the_descriptor_before_any_read(tmp_path: Path) -> None:
    from assistant.errors import UnreadableDocument
    from ingest.loaders import read_bounded

    with pytest.raises(UnreadableDocument, match="character device"):
        read_bounded(Path("/dev/zero"))  # what a link checked before a swap would reach


def test_text_files_have_their_own_size_limit(news_only) -> None:
    from ingest import loaders

    corpus = Path(news_only.corpus_dir)
    with open(corpus / "big.txt", "wb") as handle:  # sparse: 4 MB that cost no disk
        handle.truncate(loaders.MAX_TEXT_BYTES + 1)
    report = run(news_only)
    reason = skip_reasons(report)["big.txt"]
    assert reason.startswith("file too large (4.0 MB; limit 4.0 MB for .txt)")
    assert report.added == (NEWS,)


def test_zero_byte_pdf_is_empty_not_identical_to_another_empty_file(news_only) -> None:
    corpus = Path(news_only.corpus_dir)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "report.pdf").write_bytes(b"")
    assert skip_reasons(run(news_only)) == {"empty.txt": "empty file", "report.pdf": "empty file"}


def test_aes_pdf_with_an_empty_password_opens_and_a_locked_one_says_so(news_only) -> None:
    from tests.test_loaders import TWO_PAGE_PDF, encrypt_pdf, make_pdf

    pytest.importorskip("cryptography")  # a dependency: pypdf needs it for AES
    corpus = Path(news_only.corpus_dir)
    (corpus / "open.pdf").write_bytes(encrypt_pdf(make_pdf(TWO_PAGE_PDF), password=""))
    (corpus / "locked.pdf").write_bytes(encrypt_pdf(make_pdf(TWO_PAGE_PDF), password="secret"))
    report = run(news_only)
    assert "open" in report.added
    assert skip_reasons(report) == {
        "locked.pdf": "encrypted PDF (needs a password); save an unlocked copy"}


# --- 7. names and reasons printed safely ------------------------------------------------------

def test_a_newline_in_a_file_name_cannot_forge_a_summary_line(news_only) -> None:
    corpus = Path(news_only.corpus_dir)
    forged = "x.txt: empty file\n  skipped \x1b[32mall good.txt"
    (corpus / forged).write_bytes(b"")
    summary = run(news_only).summary()
    skipped = [line for line in summary.splitlines() if line.startswith("  skipped")]
    assert skipped == [f"  skipped {forged!r}: empty file"]
    assert "\x1b" not in summary


def test_terminal_escapes_in_a_document_are_not_printed(news_only) -> None:
    from assistant.render import terminal_safe
    from assistant.store import load_index

    (Path(news_only.corpus_dir) / "escapes.txt").write_text(
        "Westshire \x1b[2J\x1b]0;owned\x07council \x9b31m notes.\n", encoding="utf-8")
    run(news_only)
    doc = load_index(news_only, check=False).documents["escapes"]
    assert doc.text == "Westshire [2J]0;ownedcouncil 31m notes."  # cleaning drops controls
    assert terminal_safe("a\x1b[31mb\u202ec\td\ne\rf\x00") == "a[31mbc\td\nef"


# --- 8. index write errors, missing and empty corpus, eval --index ----------------------------

def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("peerqa: ") and "Traceback" not in err
    return err


def test_a_failing_index_write_is_one_line_with_exit_3(news_only, monkeypatch, capsys) -> None:
    import errno

    from cli import main
    from assistant.errors import IndexWriteError
    from assistant.store import read_manifest
    from ingest import build

    run(news_only)
    before = read_manifest(Path(news_only.index_dir))
    (Path(news_only.corpus_dir) / "new.txt").write_text(WESTSHIRE, encoding="utf-8")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build.np, "save", disk_full)  # after the embedding work
    with pytest.raises(IndexWriteError, match="No space left on device") as caught:
        run(news_only)
    assert caught.value.exit_code == 3 and "\n" not in str(caught.value)
    index = Path(news_only.index_dir)
    assert read_manifest(index) == before  # the previous index is still live
    assert not [p for p in index.iterdir() if p.name.startswith(".building-")]
    monkeypatch.undo()

    # a read-only index folder is found before any embedding; chmod does not bind root, so
    # there the refusal to create a file is simulated
    if os.geteuid() != 0:
        index.chmod(0o555)
    else:
        real_write = Path.write_bytes

        def read_only(self, data):
            if self.parent == index.resolve() or self.parent == index:
                raise PermissionError(errno.EACCES, "Permission denied")
            return real_write(self, data)

        monkeypatch.setattr(Path, "write_bytes", read_only)
    try:
        code = main(["ingest", "--corpus", str(news_only.corpus_dir), "--index", str(index)])
    finally:
        index.chmod(0o755)
    assert code == 3
    assert "Permission denied" in one_line_error(capsys)


def test_missing_corpus_exits_2(tmp_path: Path, capsys) -> None:
    from cli import main

    code = main(["ingest", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "i")])
    assert code == 2 and "No corpus folder" in one_line_error(capsys)


def test_empty_corpus_does_not_remove_every_document_unless_allowed(news_only, capsys,
                                                                   monkeypatch) -> None:
    from cli import main
    from assistant.store import read_manifest

    monkeypatch.setenv("PEERQA_MODEL", "fake")  # the CLI must see the fake index as compatible
    run(news_only)
    index = Path(news_only.index_dir)
    before = read_manifest(index)
    (Path(news_only.corpus_dir) / f"{NEWS}.txt").unlink()
    (Path(news_only.corpus_dir) / "blank.txt").write_bytes(b"")
    code = main(["ingest", "--corpus", str(news_only.corpus_dir), "--index", str(index)])
    err = one_line_error(capsys)
    assert code == 2 and "--allow-empty" in err and "remove the 1 document indexed" in err
    assert "blank.txt: empty file" in err
    assert read_manifest(index) == before
    report = run(news_only, allow_empty=True)
    assert report.removed == (NEWS,) and report.wrote_index and report.chunk_count == 0


def test_eval_baseline_reads_the_indexed_corpus_and_names_a_missing_file(news_only) -> None:
    from assistant.errors import UsageError
    from assistant.evaluation import baseline_results, with_baseline_corpus
    from assistant.store import load_index
    from ingest.loaders import load

    run(news_only)
    store = load_index(news_only, check=False)
    elsewhere = Settings(corpus_dir=Path("corpus-that-is-not-here"), index_dir=news_only.index_dir,
                         model="fake")
    found = with_baseline_corpus(elsewhere, store.manifest, given=None)
    assert Path(found.corpus_dir) == Path(news_only.corpus_dir).resolve()
    assert with_baseline_corpus(elsewhere, store.manifest, given="x") == elsewhere
    with pytest.raises(UsageError) as caught:
        baseline_results([], store, elsewhere, read_pages=lambda path: load(path).pages)
    assert str(Path("corpus-that-is-not-here") / f"{NEWS}.txt") in str(caught.value)
    assert "--corpus" in str(caught.value)


# --- 5. batch, stdin and argv input decoded with an error per bad line ------------------------

def peerqa(args: list, stdin: bytes = b"") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERQA_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "cli", *args], input=stdin, cwd=ROOT,
                          env=env, capture_output=True, timeout=300, check=False)


BATCH = (b"What did the peers say about shared services?\n"
         b"caf\xe9 is not UTF-8\n"
         b"# a comment\n"
         b"When was the peer challenge?\n")


@pytest.mark.slow
def test_invalid_utf8_batch_line_is_reported_and_the_batch_goes_on(real_index, tmp_path) -> None:
    settings, _ = real_index
    questions = tmp_path / "questions.txt"
    questions.write_bytes(BATCH)
    for source, stdin in ((str(questions), b""), ("-", BATCH)):
        result = peerqa(["ask", "--index", str(settings.index_dir), "--batch", source, "--json"],
                        stdin)
        assert result.returncode == 2, result.stderr
        assert b"Traceback" not in result.stderr
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r.get("line") for r in rows] == [None, 2, None]
        assert rows[1]["error"].startswith("this line is not valid UTF-8 (byte 0xe9 at position 4)")
        assert rows[2]["question"] == "When was the peer challenge?" and rows[2]["answer"]


@pytest.mark.slow
def test_invalid_utf8_in_argv_and_piped_questions_is_one_line(real_index) -> None:
    settings, _ = real_index
    result = peerqa(["ask", "--index", str(settings.index_dir), b"caf\xe9 services?"])
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1 and b"is not valid UTF-8" in result.stderr
    piped = peerqa(["ask", "--index", str(settings.index_dir), "--json"],
                   b"caf\xe9?\nWhat did the peers say about shared services?\n")
    assert piped.returncode == 0 and b"Traceback" not in piped.stderr
    assert b"not valid UTF-8" in piped.stderr
    assert json.loads(piped.stdout.splitlines()[0])["question"].startswith("What did the peers")


def test_a_file_name_that_is_not_utf8_is_skipped_not_a_crash(news_only) -> None:
    corpus = os.fsencode(news_only.corpus_dir)
    with open(os.path.join(corpus, b"minutes \xff.txt"), "wb") as handle:
        handle.write(WESTSHIRE.encode())
    report = run(news_only)
    assert skip_reasons(report) == {"minutes \udcff.txt": "file name is not valid UTF-8; rename the file"}
    assert report.added == (NEWS,)
    assert "  skipped 'minutes \\udcff.txt': file name is not valid UTF-8" in report.summary()
    assert not run(news_only).wrote_index  # and the next run finds nothing changed
