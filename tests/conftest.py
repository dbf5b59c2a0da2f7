"""Shared fixtures: a fake-embedder index over a small corpus, and the real-model seed index."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as hypothesis_settings

from assistant.settings import Settings
from tests.fakes import FakeEmbedder, word_count

# CI explores, but reproducibly: every Hypothesis test there draws from one seed that changes
# each day (UTC date) and is printed in the header; HYPOTHESIS_SEED=N replays a run. A fully
# derandomised CI drew the same examples forever and never met the cleaning bug that
# tests/test_cleaning.py now pins as an @example. Developer runs stay random.
CI = bool(os.environ.get("CI"))
HYPOTHESIS_SEED = int(os.environ.get("HYPOTHESIS_SEED") or time.strftime("%Y%m%d", time.gmtime()))
hypothesis_settings.register_profile("ci", deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if CI else "dev")


def pytest_report_header(config) -> str | None:
    if CI or os.environ.get("HYPOTHESIS_SEED"):
        return f"hypothesis seed {HYPOTHESIS_SEED} (replay with HYPOTHESIS_SEED={HYPOTHESIS_SEED})"
    return None


def pytest_collection_modifyitems(config, items) -> None:
    if not (CI or os.environ.get("HYPOTHESIS_SEED")):
        return
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "is_hypothesis_test", False):
            hypothesis_seed(HYPOTHESIS_SEED)(test)

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    """Settings for a fake-model index in a temp folder, with a copy of the seed corpus."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="fake")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


def build_fake_index(root: Path, embedder: FakeEmbedder | None = None):
    """Copy the seed corpus under ``root``, index it with the fake embedder: (settings, store)."""
    from assistant.store import load_index
    from ingest.build import ingest

    corpus = root / "corpus"
    if not corpus.exists():
        shutil.copytree(SEED_CORPUS, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", model="fake")
    ingest(settings, embedder=embedder or FakeEmbedder(), count_tokens=word_count, log=lambda m: None)
    return settings, load_index(settings)


def build_fake_index_with(root: Path, pages: dict[str, str]):
    """The seed corpus and ``pages`` (file name → text) under ``root``, indexed with the fake
    embedder: (settings, store)."""
    corpus = root / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    for name, text in pages.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return build_fake_index(root)


@pytest.fixture
def fake_index(fake_settings: Settings, fake_embedder: FakeEmbedder):
    """(settings, store) of a freshly built fake-embedder index over the seed corpus."""
    return build_fake_index(Path(fake_settings.corpus_dir).parent, fake_embedder)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory) -> tuple[Settings, object]:
    """The seed corpus indexed with the real bundled model, built once per test session."""
    from assistant.store import load_index
    from ingest.build import ingest

    settings = Settings(corpus_dir=SEED_CORPUS, index_dir=tmp_path_factory.mktemp("real") / "index")
    ingest(settings, log=lambda m: None)
    return settings, load_index(settings)


@pytest.fixture(scope="module")
def shared_fake_index(tmp_path_factory):
    """(settings, store) of a fake-embedder index over the seed corpus, for read-only tests."""
    return build_fake_index(tmp_path_factory.mktemp("fake-shared"))


@pytest.fixture(scope="module")
def index(shared_fake_index):
    """Short name for the shared read-only fake index: (settings, store)."""
    return shared_fake_index


@pytest.fixture(scope="module")
def retriever(index):
    """A hybrid retriever over the shared fake index, with the fake query encoder."""
    from assistant.retrieval import Retriever

    settings, store = index
    return Retriever(store, settings, encoder=FakeEmbedder())
