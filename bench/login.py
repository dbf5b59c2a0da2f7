"""Login flood benchmark (``peerqa bench login``): wrong passwords against the served app on
loopback, with and without the guard of ``assistant.web_guard``, while a probe times a cheap
route (``/gradio_api/app_id``) to show whether password checks stall the server.

Two floods per mode: ``one address`` (every attempt from 127.0.0.1, one user name) and
``spread`` (each attempt from its own loopback address 127.0.x.y with its own user name, so no
throttle applies and every attempt costs a password check). Figures, not pass/fail.
"""

from __future__ import annotations

import http.client
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from assistant.settings import Settings


def _request(url: str, method: str, path: str, body: str = "", source: str | None = None) -> int:
    """One HTTP request on its own connection (http.client: no per-client TLS set-up, so the
    client threads cost the server's process little)."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    conn = http.client.HTTPConnection(host, port, timeout=60,
                                      source_address=(source, 0) if source else None)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _post_login(url: str, name: str, password: str, source: str | None) -> int:
    return _request(url, "POST", "/login", urlencode({"username": name, "password": password}),
                    source)


def _probe(url: str, stop: threading.Event, samples: list[float], pause: float = 0.02) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        _request(url, "GET", "/gradio_api/app_id")
        samples.append(time.perf_counter() - started)
        time.sleep(pause)


def _source(i: int) -> str:
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def _flood(url: str, attempts: int, workers: int, spread: bool) -> dict:
    samples: list[float] = []
    stop = threading.Event()
    probe = threading.Thread(target=_probe, args=(url, stop, samples), daemon=True)
    probe.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = Counter(pool.map(
            lambda i: _post_login(url, f"user{i}" if spread else "bench", "wrong password",
                                  _source(i) if spread else None), range(attempts)))
    wall = time.perf_counter() - started
    stop.set()
    probe.join()
    return {"statuses": dict(sorted(statuses.items())), "wall_s": round(wall, 2),
            "attempts_per_s": round(attempts / wall, 1),
            "app_id_median_ms": round(1000 * statistics.median(samples), 1) if samples else None,
            "app_id_max_ms": round(1000 * max(samples), 1) if samples else None,
            "probes": len(samples)}


def _idle_median(url: str, count: int = 30) -> float:
    samples: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=_probe, args=(url, stop, samples), daemon=True)
    thread.start()
    while len(samples) < count:
        time.sleep(0.02)
    stop.set()
    thread.join()
    return round(1000 * statistics.median(samples), 1)


def run_login(settings: Settings, attempts: int = 200, workers: int = 20) -> dict:
    """Serve the app with a one-user login file and flood it in both modes; returns the figures."""
    import ui
    from bench.load import _free_port
    from assistant.retrieval import Retriever
    from assistant.store import load_index
    from assistant.users import add_user, load_users, make_auth
    from assistant.web_guard import throttled_auth

    store = load_index(settings)
    users_file = Path(tempfile.mkdtemp(prefix="peerqa-bench-")) / "users.json"
    add_user(users_file, "bench", secrets.token_urlsafe(12))
    users = load_users(users_file)
    result: dict = {"attempts": attempts, "workers": workers}
    for mode, auth in (("plain", make_auth(users)), ("guarded", throttled_auth(users))):
        app = ui.build_app(store, settings, Retriever(store, settings))
        ui.start(app, "127.0.0.1", _free_port(), auth=auth, prevent_thread_lock=True, quiet=True)
        url = app.local_url.rstrip("/")
        try:
            result[f"{mode}_idle_app_id_median_ms"] = _idle_median(url)
            for flood in ("one_address", "spread"):
                figures = _flood(url, attempts, workers, spread=flood == "spread")
                for key, value in figures.items():
                    result[f"{mode}_{flood}_{key}"] = value
        finally:
            app.close()
    users_file.unlink()
    users_file.parent.rmdir()
    return result
