"""CPU threads for answering questions."""

from __future__ import annotations


def one_blas_thread() -> None:
    """Answer questions with one BLAS thread, for the rest of the process.

    A question's matrices are small (one query, a few dozen tokens): on a shared 2-core machine
    a second BLAS thread only contends with other processes. Measured at 100k chunks with the
    machine busy: warm p95 2.2 s with two threads, 66 ms with one (p50 239 → 51 ms).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
