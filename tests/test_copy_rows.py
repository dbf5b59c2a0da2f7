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
