"""Bad corpus files: each is skipped with a one-line reason, the rest of the ingest goes on,
nothing already indexed is lost, and the report's exit code is 4 (EXIT_SKIPPED)."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.store import load_index
from ingest import loaders
from ingest.build import EXIT_SKIPPED, ingest
from tests.fakes import FakeEmbedder, word_count
from tests.test_loaders import TWO_PAGE_PDF, encrypt_pdf, make_pdf

ROOT = Path(__file__).resolve().parent.parent
REPORT = "cambridge-city-2017-corporate-peer-challenge-report"
NEWS = "cambridgeshire-county-2022-progress-review-news"
CP1252_TEXT = ("Windows notes on the council\u2019s budget\n\nThe \u201cFairer Cambridge\u201d plan "
               "costs \u00a312m \u2013 agreed by Cambridge City Council in 2018.\n")
SIZE_LIMIT = 45_000  # loaders.MAX_BYTES during these tests, instead of writing 50 MB files


def run(settings: Settings, embedder=None):
    return ingest(settings, embedder=embedder or FakeEmbedder(), count_tokens=word_count,
                  log=lambda m: None)


def make_unreadable(path: Path) -> str:
    """A corpus entry that exists but cannot be read; returns the expected reason.

    chmod 000 blocks reading for ordinary users; root reads it anyway, so there (and wherever
    chmod does not help) a dangling symlink stands in: listed in the folder, unreadable.
    """
    path.write_text("secret minutes", encoding="utf-8")
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return "cannot read file: Permission denied"
    path.chmod(0o644)
    path.unlink()
    path.symlink_to("target-that-does-not-exist.txt")  # relative: inside whatever folder holds it
    with pytest.raises(OSError):
        path.read_bytes()
    return "cannot read file: No such file or directory"


def add_bad_files(corpus: Path) -> dict[str, str]:
    """Write every kind of bad file into ``corpus``; file name → expected reason (a fragment)."""
    image_only = make_pdf([[], []])
    files = {
        "empty.txt": (b"", "empty file"),
        "whitespace.md": (b"  \n\n\t \n", "no text found in file"),
        "garbage.pdf": (random.Random(0).randbytes(4000), "not a readable PDF"),
        "truncated.pdf": (make_pdf(TWO_PAGE_PDF)[:300], "not a readable PDF"),
        "damaged.pdf": (make_pdf(TWO_PAGE_PDF).replace(b"trailer\n", b"trailer\n\x80\xb2;\xe4"),
                        "not a readable PDF (PdfReadError"),
        "locked.pdf": (encrypt_pdf(make_pdf(TWO_PAGE_PDF)), "encrypted PDF (needs a password)"),
        "scan.pdf": (image_only, "PDF has no text layer (scanned or image-only)"),
        "budget.xlsx": (b"PK\x03\x04" + bytes(100), "unsupported file type .xlsx"),
        "binary.txt": (b"\x00\x01\x02 not text \x00" * 64, "binary data in a text file (NUL bytes)"),
        "broken.docx": (b"PK\x03\x04 not really a zip", "not a readable .docx file"),
        "huge.txt": (b"A very long report. " * (SIZE_LIMIT // 10), "file too large"),
    }
    for name, (data, _) in files.items():
        (corpus / name).write_bytes(data)
    reasons = {name: reason for name, (_, reason) in files.items()}
    reasons["minutes.txt"] = make_unreadable(corpus / "minutes.txt")
    return reasons


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "MAX_BYTES", SIZE_LIMIT)


def check_reason(reason: str, expected: str) -> None:
    assert expected in reason
    assert reason == reason.strip() and "\n" not in reason and "\r" not in reason
    assert len(reason) <= 160


def test_bad_files_are_skipped_and_the_index_survives(fake_index, small_limit) -> None:
    settings, before = fake_index
    corpus = Path(settings.corpus_dir)
    expected = add_bad_files(corpus)
    (corpus / "windows-1252-notes.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    embedder = FakeEmbedder()

    report = run(settings, embedder)

    # each bad file is listed once, with its reason; the cp1252 file is ingested, not skipped
    assert dict(report.skipped).keys() == expected.keys()
    for name, reason in report.skipped:
        check_reason(reason, expected[name])
    assert report.added == ("windows-1252-notes",)
    assert report.removed == () and report.updated == ()
    assert report.exit_code == EXIT_SKIPPED == 4
    summary = report.summary()
    for name, reason in report.skipped:
        assert f"  skipped {name}: {reason}" in summary.splitlines()
    assert f"skipped {len(expected)}" in summary
    # only the new good document was embedded
    store = load_index(settings)
    assert embedder.texts_embedded == sum(c.doc_id == "windows-1252-notes" for c in store.chunks)
    # nothing already indexed is lost
    assert set(store.documents) == set(before.documents) | {"windows-1252-notes"}
    old_ids = [c.chunk_id for c in before.chunks]
    assert [c.chunk_id for c in store.chunks if c.doc_id != "windows-1252-notes"] == old_ids
    notes = store.documents["windows-1252-notes"]
    assert "The \"Fairer Cambridge\" plan costs \u00a312m \u2013 agreed" in notes.text
    assert notes.meta.council == "Cambridge City Council" and "council" in notes.meta.inferred
    # and previously indexed documents still answer
    from assistant.retrieval import Retriever

    result = Retriever(store, settings, encoder=FakeEmbedder()).search(
        "fleet of foot nimble and swift decision making")
    assert any(p.chunk.doc_id == REPORT and "fleet of foot" in p.chunk.text for p in result.passages)

    # the next run changes nothing but still reports the skipped files
    again = run(settings, FakeEmbedder())
    assert not again.wrote_index and again.index_version == report.index_version
    assert again.skipped == report.skipped and again.exit_code == EXIT_SKIPPED


def test_fixing_a_skipped_file_ingests_it(fake_index) -> None:
    settings, _ = fake_index
    corpus = Path(settings.corpus_dir)
    (corpus / "later.txt").write_bytes(b"")
    first = run(settings)
    assert first.skipped == (("later.txt", "empty file"),) and first.exit_code == 4
    (corpus / "later.txt").write_text("Norfolk County Council progress review notes.\n", encoding="utf-8")
    second = run(settings)
    assert second.added == ("later",) and second.skipped == () and second.exit_code == 0
    assert "later" in load_index(settings).documents


def test_indexed_document_that_turns_bad_is_removed_and_reported(fake_index) -> None:
    settings, before = fake_index
    path = Path(settings.corpus_dir) / f"{NEWS}.txt"
    path.write_bytes(b"\x00\xff" * 500)
    report = run(settings)
    assert report.removed == (NEWS,)
    assert report.skipped == ((f"{NEWS}.txt", "binary data in a text file (NUL bytes); is it really text?"),)
    assert NEWS not in report.updated and report.exit_code == 4
    store = load_index(settings)
    assert NEWS not in store.documents and all(c.doc_id != NEWS for c in store.chunks)
    assert len(store.documents) == len(before.documents) - 1


@pytest.fixture
def news_only(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / f"{NEWS}.txt", corpus)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="fake")


@pytest.mark.parametrize("name", [
    "empty.txt", "whitespace.md", "garbage.pdf", "truncated.pdf", "damaged.pdf", "locked.pdf",
    "scan.pdf", "budget.xlsx", "binary.txt", "broken.docx", "huge.txt", "minutes.txt",
])
def test_each_bad_file_alone_on_a_first_build(news_only: Settings, small_limit, name: str) -> None:
    """The first ingest of a folder with one bad file still builds the index of the rest."""
    corpus = Path(news_only.corpus_dir)
    scratch = corpus.parent / "scratch"
    scratch.mkdir()
    expected = add_bad_files(scratch)
    os.replace(scratch / name, corpus / name)
    report = run(news_only)
    assert report.added == (NEWS,) and report.wrote_index
    assert [n for n, _ in report.skipped] == [name]
    check_reason(report.skipped[0][1], expected[name])
    assert report.exit_code == EXIT_SKIPPED
    assert list(load_index(news_only).documents) == [NEWS]


def test_cp1252_file_is_ingested_not_skipped(news_only: Settings) -> None:
    (Path(news_only.corpus_dir) / "windows.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    report = run(news_only)
    assert report.skipped == () and report.exit_code == 0
    assert "windows" in report.added
    text = load_index(news_only).documents["windows"].text
    assert "council's budget" in text and "\u00a312m" in text and "\ufffd" not in text


def test_size_limit_is_checked_before_reading(news_only: Settings, monkeypatch) -> None:
    monkeypatch.setattr(loaders, "MAX_BYTES", 10)
    big = Path(news_only.corpus_dir) / "big.txt"
    big.write_text("More than ten bytes of text.", encoding="utf-8")
    real_read = Path.read_bytes
    loaded = []

    def tracking_read(self: Path) -> bytes:
        loaded.append(self.name)
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", tracking_read)
    with pytest.raises(loaders.UnreadableDocument, match="too large"):
        loaders.load(big)
    assert loaded == []  # refused from its size alone
