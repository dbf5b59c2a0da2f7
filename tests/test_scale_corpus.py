"""The scale-benchmark corpus generator (bench/scale_corpus.py) and `peerqa bench scale`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from assistant.errors import UsageError
from assistant.progress import no_progress
from assistant.settings import Settings
from assistant.store import load_index
from bench.scale import format_table, parse_sizes, timed_child
from bench.scale_corpus import FIXTURE, generate, shift_years
from ingest.build import ingest
from tests.fakes import FakeEmbedder, word_count

FIXTURE_PLACES = [c["place"] for c in yaml.safe_load((FIXTURE / "councils.yaml").read_text())]
TEXT_SUFFIXES = (".txt", ".md", ".html", ".yaml")


def _texts(corpus: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(corpus.iterdir())
            if p.suffix in TEXT_SUFFIXES}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    return generate(300, root / "a", seed=3, docs=24, count_tokens=word_count)


def test_same_seed_same_corpus_other_seed_other_corpus(small, tmp_path):
    again = generate(300, tmp_path / "b", seed=3, docs=24, count_tokens=word_count)
    other = generate(300, tmp_path / "c", seed=4, docs=24, count_tokens=word_count)
    names = sorted(p.name for p in small.corpus_dir.iterdir())
    assert sorted(p.name for p in again.corpus_dir.iterdir()) == names
    assert _texts(again.corpus_dir) == _texts(small.corpus_dir)
    assert again.questions == small.questions
    assert _texts(other.corpus_dir) != _texts(small.corpus_dir)


def test_documents_are_recombined_prose_about_generated_councils(small):
    texts = _texts(small.corpus_dir)
    assert small.documents == 24 and len(list(small.corpus_dir.glob("*.*"))) == 25  # + catalogue
    assert {".txt", ".html"} <= set(small.formats)
    catalog = yaml.safe_load((small.corpus_dir / "catalog.yaml").read_text())
    # the council a document is catalogued under is the one it discusses (a short piece of a
    # cabinet paper may say only "the council")
    named = [entry["council"].split(" of ")[-1].split(" ")[0] in texts[name]
             for name, entry in catalog.items() if name in texts]
    assert sum(named) >= 0.8 * len(named) > 10
    body = "\n".join(texts.values())
    for place in FIXTURE_PLACES:  # every fixture council was swapped for a generated one
        assert place not in body
    for question in small.questions:
        assert not any(place in question for place in FIXTURE_PLACES)
    assert len(set(small.questions)) == len(small.questions) >= 20


def test_generated_corpus_ingests_near_its_target_size(small, tmp_path):
    settings = Settings(corpus_dir=small.corpus_dir, index_dir=tmp_path / "index", model="fake")
    report = ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count,
                    log=lambda m: None, progress=no_progress)
    assert not report.skipped and len(report.added) == small.documents
    store = load_index(settings, check=False)
    assert 270 <= len(store.chunks) <= 330  # ±10%: lengths are calibrated with the same chunker
    assert len({m.council for m in store.metas.values()}) >= 5


def test_long_documents_reach_their_chunk_target(tmp_path):
    """~150 chunks a document (the 100k size has ~100): long documents go past their type's
    sections, which the cleaner would drop as repeats, and the lengths are measured, not
    assumed (the 100k corpus once chunked to 75% of its target)."""
    made = generate(1200, tmp_path / "long", seed=5, docs=8, count_tokens=word_count)
    settings = Settings(corpus_dir=made.corpus_dir, index_dir=tmp_path / "index", model="fake")
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None,
           progress=no_progress)
    assert 1080 <= len(load_index(settings, check=False).chunks) <= 1320


def test_years_shift_and_financial_years_stay_financial_years():
    assert shift_years("by 2026/27, from 2023 to 2029/30", -4) == "by 2022/23, from 2019 to 2025/26"
    assert shift_years("in 2099 and 12345", 1) == "in 2100 and 12345"


def test_a_non_empty_output_folder_is_refused(small):
    with pytest.raises(UsageError, match="not empty"):
        generate(100, small.corpus_dir.parent, count_tokens=word_count)


def test_sizes_parse_and_bad_sizes_are_refused():
    assert parse_sizes("1000, 10k,100000") == [1000, 10000, 100000]
    for bad in ("ten", "5", "1000,,"):
        with pytest.raises(UsageError):
            parse_sizes(bad)


def test_child_peak_memory_is_its_own():
    import resource

    if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 > 200:
        pytest.skip("this process is bigger than the test's child (see below)")
    _, small_mb, out = timed_child([sys.executable, "-c", "print('hi')"], {})
    big = "b = bytearray(300_000_000); print(len(b))"
    _, big_mb, _ = timed_child([sys.executable, "-c", big], {})
    # ru_maxrss also counts the parent's size when it forked (the kernel keeps the larger),
    # so a small child reads as this process's size; a child bigger than that reads as itself
    assert out.strip() == "hi" and big_mb >= 290 > small_mb + 50
    with pytest.raises(RuntimeError, match="exit 3"):
        timed_child([sys.executable, "-c", "import sys; sys.exit(3)"], {})


def test_table_has_one_column_per_size():
    table = format_table([{"target_chunks": 1000, "formats": {".txt": 3}, "ingest_s": 1.5},
                          {"target_chunks": 10000, "formats": {".txt": 30}, "ingest_s": 15.0}])
    lines = table.splitlines()
    assert lines[0].split() == ["target_chunks", "1,000", "10,000"]
    assert lines[1].split() == ["formats", "txt:3", "txt:30"]


@pytest.mark.slow
def test_bench_scale_measures_a_tiny_corpus(tmp_path):
    from bench.scale import run_scale

    (result,) = run_scale(Settings(), [80], docs=8, keep=tmp_path)
    assert result["documents"] == 8 and result["skipped_files"] == 0
    assert 40 <= result["chunks"] <= 160
    assert result["ingest_s"] > 0 and result["serve_ready_s"] > 0 and result["index_mb"] > 0
    assert result["query_p50_ms"] <= result["query_p95_ms"]
    assert result["reingest_one_changed_s"] > 0
