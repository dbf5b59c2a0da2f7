"""Rows gathered by runs of slice copies equal a fancy-indexed gather."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ingest.build import _copy_rows


@given(st.lists(st.integers(0, 30), max_size=40), st.integers(0, 2**31))
def test_run_copies_equal_a_gather(source_rows: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    source = rng.standard_normal((31, 3)).astype(np.float32)
    rows = np.array(source_rows, dtype=np.int64)
    out_rows = np.sort(rng.choice(60, size=len(rows), replace=False)) if len(rows) else rows
    out = np.zeros((60, 3), np.float32)
    expected = out.copy()
    expected[out_rows] = source[rows]
    _copy_rows(out, out_rows, source, rows)
    assert np.array_equal(out, expected)


def test_runs_between_mapped_files_are_copied_file_to_file(tmp_path) -> None:
    rng = np.random.default_rng(1)
    source = rng.standard_normal((50, 4)).astype(np.float32)
    np.save(tmp_path / "old.npy", source)
    mapped = np.load(tmp_path / "old.npy", mmap_mode="r")
    out = np.lib.format.open_memmap(tmp_path / "new.npy", mode="w+", dtype=np.float32, shape=(40, 4))
    rows = np.r_[3:20, 25:40, 0:2].astype(np.int64)  # three runs, one out of order
    out_rows = np.r_[0:17, 20:35, 38:40].astype(np.int64)
    out[17:20] = 7.0  # rows written otherwise (new chunks) stay as they are
    _copy_rows(out, out_rows, mapped, rows)
    out.flush()
    written = np.load(tmp_path / "new.npy")
    assert np.array_equal(written[out_rows], source[rows]) and (written[17:20] == 7.0).all()
