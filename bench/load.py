"""Load test of the web app (``peerqa bench load``): concurrent gradio_client sessions on loopback.

Each client is a separate session asking its share of the question file's questions one after the
other, as a person would; latency is end to end (submit → answer received), so it includes
queueing behind other clients. The run stops at ``time_limit`` seconds whatever happens.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from assistant.settings import Settings, load_settings

QUESTION_FILE = Path("tests/fixtures/questions.yaml")  # the load mixes answerable and unanswerable


def load_mix(path: Path = QUESTION_FILE, count: int = 20) -> list[str]:
    """``count`` questions spread evenly over the question file (types and councils mixed)."""
    from assistant.evaluation import load_questions

    questions = [q.question for q in load_questions(path)]
    step = max(1, len(questions) // count)
    return questions[::step][:count]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client_session(url: str, index: int, count: int, deadline: float,
                    questions: list[str]) -> tuple[list[float], list[str], int]:
    """One user: ``count`` questions in a row. Returns (latencies, error messages, questions not run)."""
    from gradio_client import Client

    import ui

    try:
        client = Client(url, verbose=False, download_files=False)
    except Exception as exc:  # noqa: BLE001 -- any failure to connect is an error for all its questions
        return [], [f"connect: {exc.__class__.__name__}: {exc}"[:200]] * count, 0
    latencies: list[float] = []
    errors: list[str] = []
    for j in range(count):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return latencies, errors, count - j
        question = questions[(index * 7 + j) % len(questions)]  # clients start at different questions
        started = time.perf_counter()
        try:
            job = client.submit(question, [], ui.ALL_COUNCILS, ui.ALL_TYPES, "", api_name="/ask")
            chat = job.result(timeout=remaining)[1]
            if not chat or chat[-1].get("role") != "assistant":
                raise RuntimeError("no assistant message in the reply")
            latencies.append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 -- every failure is counted, none stops the run
            errors.append(f"{exc.__class__.__name__}: {exc}"[:200])
    client.close()
    return latencies, errors, 0


def run_load(settings: Settings, clients: int = 10, questions_per_client: int = 20,
             time_limit: float = 300.0) -> dict:
    """Serve the app on loopback, run ``clients`` concurrent sessions, return latency and errors."""
    import ui
    from assistant.retrieval import Retriever
    from assistant.store import load_index

    store = load_index(settings)
    questions = load_mix()
    retriever = Retriever(store, settings)
    retriever.search("peer challenge recommendations")  # model load is start-up cost, not latency
    app = ui.build_app(store, settings, retriever)
    ui.start(app, "127.0.0.1", _free_port(), prevent_thread_lock=True, quiet=True)
    started = time.monotonic()
    deadline = started + time_limit
    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(
                lambda i: _client_session(app.local_url, i, questions_per_client, deadline, questions),
                range(clients)))
    finally:
        app.close()
    wall = time.monotonic() - started
    latencies = np.array([x for lat, _, _ in results for x in lat])
    errors = [e for _, errs, _ in results for e in errs]
    not_run = sum(n for _, _, n in results)

    def pct(q: float) -> float | None:
        return round(float(np.percentile(latencies, q)), 3) if len(latencies) else None

    report = {
        "clients": clients, "questions_per_client": questions_per_client,
        "requests": clients * questions_per_client, "completed": len(latencies),
        "errors": len(errors), "error_samples": sorted(set(errors))[:5], "not_run": not_run,
        "p50_s": pct(50), "p95_s": pct(95), "max_s": pct(100),
        "wall_s": round(wall, 2), "answers_per_s": round(len(latencies) / wall, 2) if wall else None,
        "index_version": store.version,
    }
    print(f"load: {clients} clients × {questions_per_client} questions: "
          f"{report['completed']} answered, "
          f"{report['errors']} errors, {not_run} not run (time limit {time_limit:.0f} s); "
          f"p50 {report['p50_s']} s, p95 {report['p95_s']} s, max {report['max_s']} s; "
          f"{report['answers_per_s']} answers/s over {report['wall_s']} s")
    for sample in report["error_samples"]:
        print(f"  error: {sample}")
    return report


if __name__ == "__main__":
    import assistant  # noqa: F401  -- offline environment (already set by importing this package)

    run_load(load_settings().settings)
