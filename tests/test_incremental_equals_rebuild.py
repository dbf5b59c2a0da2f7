"""An incremental re-ingest publishes the same index as a full rebuild of the same corpus: every
file of the version folder (arrays, BM25, stored facts, chunks, documents, manifest but its
build time and stat signatures), whatever the re-ingest reused, linked or copied."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from assistant.settings import Settings
from assistant.store import live_folder
from ingest.build import ingest
from tests.conftest import build_fake_index
from tests.fakes import FakeEmbedder, word_count

NEWS = "cambridgeshire-county-2022-progress-review-news.txt"
LETTER = "cambridgeshire-county-2022-progress-review-letter.txt"
NORFOLK = """Norfolk County Council: corporate peer challenge progress review

In 2019 the peers returned to Norfolk County Council for a progress review of the corporate
peer challenge. The progress review found that the council had acted on most of the
recommendations and that its finances were stable.
"""


def _ingest(settings: Settings, rebuild: bool = False) -> None:
    ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None,
           rebuild=rebuild)


def _json(path: Path) -> object:
    data = json.loads(path.read_text(encoding="utf-8"))
    if path.name == "manifest.json":  # when and from which file states: not content
        data.pop("built_at")
        data.pop("corpus_dir")
        for entry in data["documents"].values():
            entry.pop("stat", None)
    return data


def _npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    if {"by_gram", "by_row"} <= arrays.keys():
        # the standard-text search's inverted index: (3-gram, row) pairs in 3-gram order; a
        # re-ingest merges new rows in, so rows of one 3-gram may come in another order
        order = np.lexsort((arrays["by_row"], arrays["by_gram"]))
        arrays["by_gram"], arrays["by_row"] = arrays["by_gram"][order], arrays["by_row"][order]
    return arrays


def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".json":
        return _json(a) == _json(b)
    if a.suffix == ".npy":
        x, y = np.load(a), np.load(b)
        return x.dtype == y.dtype and np.array_equal(x, y)
    if a.suffix == ".npz":
        x, y = _npz(a), _npz(b)
        return x.keys() == y.keys() and all(
            x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k]) for k in x)
    return a.read_bytes() == b.read_bytes()


def _files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_same_index(incremental: Settings, rebuilt: Settings) -> None:
    one = _files(live_folder(Path(incremental.index_dir)))
    two = _files(live_folder(Path(rebuilt.index_dir)))
    assert one.keys() == two.keys()
    differ = [name for name in one if not _same(one[name], two[name])]
    assert not differ, f"incremental and rebuilt index differ in {differ}"


def _edit(corpus: Path, step: int) -> None:
    """Change one document, delete one, add one (a different set each step)."""
    if step == 0:
        news = corpus / NEWS
        news.write_text(news.read_text(encoding="utf-8") + "\nA new closing paragraph about "
                        "waste collection contracts and the recycling centre.\n", encoding="utf-8")
        (corpus / LETTER).unlink()
        (corpus / "norfolk-2019-progress-review.txt").write_text(NORFOLK, encoding="utf-8")
    else:
        norfolk = corpus / "norfolk-2019-progress-review.txt"
        norfolk.write_text(NORFOLK.replace("stable", "stable but stretched"), encoding="utf-8")
        os.utime(corpus / NEWS)  # touched, not changed: kept, not re-read as a change


def test_incremental_reingest_equals_a_full_rebuild(tmp_path: Path) -> None:
    settings, _ = build_fake_index(tmp_path / "inc")
    corpus = Path(settings.corpus_dir)
    for step in range(2):
        _edit(corpus, step)
        _ingest(settings)
        fresh_root = tmp_path / f"full-{step}"
        shutil.copytree(corpus, fresh_root / "corpus")
        fresh = Settings(corpus_dir=fresh_root / "corpus", index_dir=fresh_root / "index",
                         model="fake")
        _ingest(fresh, rebuild=True)
        _assert_same_index(settings, fresh)
