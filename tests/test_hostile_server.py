"""The web server as an attacker meets it: login floods, hostile users files, what a stranger can
read or upload, and exported answers left behind. Real gradio servers on loopback, real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

import ui
from assistant import exports
from assistant.retrieval import Retriever
from assistant.throttle import LoginThrottle, ThrottlePolicy
from assistant.users import UsersFileError, add_user, check_password, hash_password, load_users
from assistant.web_guard import throttled_auth
from tests.fakes import FakeEmbedder
from tests.test_ui_server import free_port
from tests.test_ui_server import running_app as plain_running_app

PASSWORD = "correct horse battery"


class Clock:
    """A settable clock for the throttle."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingCheck:
    """check_password that counts its calls, so a test can tell a throttled attempt (no hash)."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, users, name, password) -> bool:
        with self.lock:
            self.calls += 1
        return check_password(users, name, password)


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "ann", PASSWORD)
    return load_users(path)


@contextmanager
def guarded_app(fake_index, users, policy: ThrottlePolicy | None = None, clock=None):
    """The app with the throttled login, as ``peerqa serve --auth-file`` starts it."""
    settings, store = fake_index
    check = CountingCheck()
    throttle = LoginThrottle(policy, clock=clock) if clock is not None else LoginThrottle(policy)
    app = ui.build_app(store, settings, Retriever(store, settings, encoder=FakeEmbedder()))
    ui.start(app, "127.0.0.1", free_port(), auth=throttled_auth(users, throttle, check),
             prevent_thread_lock=True, quiet=True)
    check.throttle = throttle  # for tests that look into the table
    try:
        yield app, app.local_url.rstrip("/"), check
    finally:
        app.close()


def login(url: str, name: str, password: str, source: str | None = None) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source) if source else None
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.post(f"{url}/login", data={"username": name, "password": password})


# ---------------------------------------------------------------- the throttle itself

def test_throttle_locks_after_free_failures_with_doubling_capped_delay():
    clock = Clock()
    throttle = LoginThrottle(ThrottlePolicy(free_failures=3, base_delay=2, max_delay=10,
                                            forget_after=60), clock=clock)
    keys = ["user:ann"]
    assert [throttle.begin(keys) for _ in range(3)] == [0, 0, 0]  # three free attempts
    assert throttle.begin(keys) == 2  # the third failure locked the key for 2 s
    assert throttle.failures("user:ann") == 3  # a refused attempt is not counted
    waits = []
    for _ in range(4):
        clock.now += throttle.begin(keys) or 0  # wait out the lock-out, then fail again
        assert throttle.begin(keys) == 0
        waits.append(throttle.begin(keys))
    assert waits == [4, 8, 10, 10]  # doubling, capped
    throttle.succeeded(keys)
    assert throttle.begin(keys) == 0 and throttle.failures("user:ann") == 1


def test_throttle_forgets_old_failures_and_stays_bounded():
    clock = Clock()
    throttle = LoginThrottle(ThrottlePolicy(free_failures=2, max_delay=5, forget_after=30,
                                            max_entries=50), clock=clock)
    throttle.begin(["user:ann"])
    clock.now += 31
    for i in range(500):  # a spray of names from as many addresses
        throttle.begin([f"user:u{i}", f"addr:10.0.{i // 250}.{i % 250}"])
    assert len(throttle) == 50
    assert throttle.failures("user:ann") == 0  # forgotten: its last failure is 31 s old
    assert throttle.failures("user:u499") == 1  # the most recent are kept


def test_throttle_counts_parallel_attempts_before_they_are_judged():
    throttle = LoginThrottle(ThrottlePolicy(free_failures=5))
    barrier = threading.Barrier(16)

    def attempt(_):
        barrier.wait()
        return throttle.begin(["addr:127.0.0.1"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        waits = list(pool.map(attempt, range(16)))
    assert sum(w == 0 for w in waits) == 5


# ---------------------------------------------------------------- throttled login over HTTP

def test_wrong_passwords_from_one_address_get_429_without_a_password_check(fake_index, users):
    with guarded_app(fake_index, users) as (_app, url, check):
        statuses = [login(url, "ann", f"guess {i}").status_code for i in range(8)]
        assert statuses == [400] * 5 + [429] * 3
        assert check.calls == 5  # the throttled attempts never reached scrypt
        refused = login(url, "ann", PASSWORD)  # even the right password waits out the lock
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "try again in" in refused.json()["detail"]
        # another user from another address is not affected
        assert login(url, "bob", "whatever", source="127.0.0.9").status_code == 400


def test_a_user_is_throttled_across_addresses_and_an_address_across_users(fake_index, users):
    with guarded_app(fake_index, users) as (_app, url, check):
        per_user = [login(url, "ann", "wrong", source=f"127.0.1.{i}").status_code
                    for i in range(1, 8)]
        assert per_user == [400] * 5 + [429] * 2
        per_address = [login(url, f"name{i}", "wrong", source="127.0.2.1").status_code
                       for i in range(7)]
        assert per_address == [400] * 5 + [429] * 2
        assert check.calls == 10


def test_lockout_ends_and_a_correct_login_resets_the_count(fake_index, users):
    clock = Clock()
    policy = ThrottlePolicy(free_failures=2, base_delay=5, max_delay=60)
    with guarded_app(fake_index, users, policy, clock) as (app, url, _check):
        assert [login(url, "ann", "wrong").status_code for _ in range(3)] == [400, 400, 429]
        clock.now += 5
        response = login(url, "ann", PASSWORD)
        assert response.status_code == 200 and response.json() == {"success": True}
        # the count started again: two more failures before the next lock-out
        assert [login(url, "ann", "wrong").status_code for _ in range(3)] == [400, 400, 429]
        clock.now += 5
        client = Client(app.local_url, auth=("ann", PASSWORD), verbose=False, download_files=False)
        assert client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_a_parallel_flood_is_throttled_and_cheap_routes_stay_served(fake_index, users):
    """200 wrong passwords in parallel from one address: 5 password checks, the rest 429, and
    ``/gradio_api/app_id`` keeps answering throughout (behaviour; speed is `peerqa bench login`)."""
    long_lock = ThrottlePolicy(base_delay=120, max_delay=120)  # no lock-out ends mid-flood
    with guarded_app(fake_index, users, long_lock) as (_app, url, check):
        answered: list[int] = []
        stop = threading.Event()

        def probe():
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    answered.append(client.get(f"{url}/gradio_api/app_id").status_code)
                    time.sleep(0.01)

        thread = threading.Thread(target=probe)
        thread.start()
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(lambda i: login(url, "ann", f"guess {i}").status_code,
                                     range(200)))
        stop.set()
        thread.join()
        assert sorted(set(statuses)) == [400, 429] and statuses.count(400) == 5
        assert check.calls == 5
        assert answered and set(answered) == {200}


def test_long_names_keep_the_table_small_and_a_busy_server_refuses_at_once(fake_index, users,
                                                                            monkeypatch):
    with guarded_app(fake_index, users) as (_app, url, check):
        for i in range(3):
            assert login(url, f"{i}" + "x" * 100_000, "wrong").status_code == 400
        assert check.throttle.failures("user:" + "0" + "x" * 63) == 1
        assert check.throttle.failures("addr:127.0.0.1") == 3
        monkeypatch.setattr("assistant.web_guard.MAX_WAITING_CHECKS", 0)  # as if 32 were queued
        response = login(url, "ann", PASSWORD, source="127.0.3.1")
        assert response.status_code == 429 and "at once" in response.json()["detail"]
        assert check.calls == 3 and check.throttle.failures("addr:127.0.3.1") == 0  # not counted


# ---------------------------------------------------------------- the users file

def _write_users(path: Path, record: dict | None = None, raw: str | None = None) -> Path:
    if raw is None:
        base = {"salt": "00" * 16, "hash": "11" * 32, "n": 16384, "r": 8, "p": 1}
        raw = json.dumps({"format": 1, "users": {"ann": {**base, **(record or {})}}})
    path.write_text(raw)
    return path


@pytest.mark.parametrize("record, message", [
    ({"n": 1000}, "n must be a power of two from 4096 to 1048576, not 1000"),
    ({"n": 12288}, "power of two"),
    ({"n": 2**40}, "from 4096 to 1048576"),
    ({"n": 2}, "from 4096 to 1048576"),
    ({"n": 2**17}, "needs more than 64 MB"),
    ({"n": "16384"}, "power of two"),
    ({"n": 16384.0}, "power of two"),
    ({"r": True}, "whole number"),
    ({"r": 0}, "scrypt r"),
    ({"p": 10**9}, "scrypt p"),
    ({"salt": "zz"}, "salt must be hex"),
    ({"salt": "00"}, "salt must be hex of at least 8 bytes"),
    ({"hash": "11" * 31}, "hash must be hex of 32 bytes"),
    ({"hash": None}, "hash must be hex"),
])
def test_bad_users_file_parameters_fail_at_load_in_one_line(tmp_path, record, message):
    path = _write_users(tmp_path / "users.json", record)
    with pytest.raises(UsersFileError, match=message) as info:
        load_users(path)
    assert "\n" not in str(info.value) and "'ann'" in str(info.value)


@pytest.mark.parametrize("raw, message", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"format": 1, "users": {"ann smith": {}}}', "a name is 1–64 letters"),
    ('{"format": 1, "users": {"ann": []}}', "not an object"),
    ('{"format": 1, "users": []}', "bad structure"),
    ('{"format": 2, "users": {}}', "bad structure"),
    ("\udcff", "not UTF-8"),
])
def test_hostile_users_files_fail_at_load_in_one_line(tmp_path, raw, message):
    path = tmp_path / "users.json"
    path.write_bytes(raw.encode("utf-8", "surrogateescape"))
    with pytest.raises(UsersFileError, match=message) as info:
        load_users(path)
    assert "\n" not in str(info.value)


def test_a_huge_users_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "users.json"
    with open(path, "wb") as handle:
        handle.truncate(3 * 10**9)  # sparse: 3 GB that cost no disk
    with pytest.raises(UsersFileError, match="over 1,000,000 bytes"):
        load_users(path)


def test_a_fifo_or_folder_as_users_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "users.fifo"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    for path in (fifo, tmp_path):
        with pytest.raises(UsersFileError, match="not a regular file"):
            load_users(path)


def test_every_accepted_scrypt_cost_hashes_without_error(tmp_path):
    """The load-time bounds are exactly what hashlib accepts, so no login can be an HTTP 500."""
    for n, r, p in [(2**12, 1, 1), (2**15, 8, 1), (2**12, 32, 16), (2**16, 7, 2), (2**15, 1, 16),
                    (2**17, 3, 16)]:
        path = _write_users(tmp_path / "users.json", {"n": n, "r": r, "p": p})
        record = load_users(path)["ann"]
        assert len(hash_password("x", record.salt, record.n, record.r, record.p)) == 32
    # the first costs refused are ones hashlib refuses too: the bounds are not too strict
    for (n, r), message in [((2**16, 1), "below 2\\*\\*16"), ((2**18, 2), "needs more than 64 MB")]:
        with pytest.raises(UsersFileError, match=message):
            load_users(_write_users(tmp_path / "users.json", {"n": n, "r": r}))
        with pytest.raises(ValueError):
            hash_password("x", b"\0" * 16, n, r, 1)


def test_serve_refuses_a_bad_users_file_before_serving(tmp_path):
    from assistant.settings import Settings

    path = _write_users(tmp_path / "users.json", {"n": 1000})
    settings = Settings(corpus_dir=tmp_path / "no-corpus", index_dir=tmp_path / "no-index")
    with pytest.raises(UsersFileError, match="power of two"):
        ui.serve(settings, port=free_port(), auth_file=str(path))


# ---------------------------------------------------------------- what a stranger sees

COUNCIL_WORDS = ("Cambridge", "Cambridgeshire", "progress review", "peer challenge report",
                 "recommendations")


def test_the_login_page_and_api_routes_tell_a_stranger_nothing(fake_index, users):
    with guarded_app(fake_index, users) as (_app, url, _check):
        with httpx.Client(timeout=30) as client:
            page = client.get(f"{url}/")
            assert page.status_code == 200 and "window.gradio_config" in page.text
            assert '"auth_required":true' in page.text.replace(" ", "")
            for path in ("/", "/?page=", "/config", "/gradio_api/info", "/gradio_api/openapi.json",
                         "/openapi.json", "/gradio_api/runs", "/gradio_api/info?all_endpoints=1"):
                response = client.get(url + path)
                found = [w for w in COUNCIL_WORDS if w.lower() in response.text.lower()]
                assert not found, (path, response.status_code, found)
                assert "/ask" not in response.text, path
            for path in ("/config", "/gradio_api/info", "/gradio_api/openapi.json"):
                assert client.get(url + path).status_code == 401
            client.post(f"{url}/login", data={"username": "ann", "password": PASSWORD})
            page = client.get(f"{url}/")  # signed in: the full page and its API again
            assert "Cambridge City Council" in page.text and '"/ask"' in page.text


def test_the_unguarded_login_page_would_leak(fake_index, users, monkeypatch):
    """The probe above can fail: without the guard gradio embeds the API, council names included."""
    monkeypatch.setattr(ui, "launch_options", lambda: {})
    from assistant.users import make_auth

    with plain_running_app(fake_index, auth=make_auth(users)) as app:
        page = httpx.get(app.local_url, timeout=30)
        assert "Cambridge City Council" in page.text


@pytest.mark.parametrize("with_login", [False, True])
def test_the_upload_route_accepts_no_file(fake_index, users, with_login):
    settings, store = fake_index
    app = ui.build_app(store, settings, Retriever(store, settings, encoder=FakeEmbedder()))
    from assistant.web_guard import throttled_auth as make

    ui.start(app, "127.0.0.1", free_port(), auth=make(users) if with_login else None,
             prevent_thread_lock=True, quiet=True)
    url = app.local_url.rstrip("/")
    try:
        with httpx.Client(timeout=30) as client:
            if with_login:
                assert client.post(f"{url}/login", data={"username": "ann",
                                                         "password": PASSWORD}).status_code == 200
            for path in ("/gradio_api/upload", "/gradio_api/upload/",
                         "/gradio_api/upload?upload_id=x"):
                response = client.post(url + path, files={"files": ("a.txt", b"payload")})
                assert 400 <= response.status_code < 500, (path, response.status_code)
                assert "payload" not in response.text
            assert client.get(f"{url}/gradio_api/upload_progress?upload_id=x").status_code == 404
            # the app itself still works
            answer = Client(app.local_url, auth=("ann", PASSWORD) if with_login else None,
                            verbose=False, download_files=False).predict(
                "What are the key recommendations for Cambridge City Council?", [], ui.ALL_COUNCILS,
                ui.ALL_TYPES, "", ui.ANY_THEME, api_name="/ask")
            assert answer[-1].startswith("# What are the key recommendations")
    finally:
        app.close()
    assert not list(Path(app.server_app.uploaded_file_dir).rglob("a.txt"))


# ---------------------------------------------------------------- exported answers

def test_serve_removes_its_exports_when_it_stops(fake_index, monkeypatch):
    """A real ``peerqa serve``: one question exported, then the server stops; the export folder
    and gradio's cached copy of the download are gone."""
    settings, _store = fake_index
    seen = {}

    def ask_then_stop(app):  # stands in for "serve until Ctrl-C"
        client = Client(app.local_url, verbose=False, download_files=False)
        out = client.predict("What are the key recommendations for Cambridge City Council?", [],
                             ui.ALL_COUNCILS, ui.ALL_TYPES, "", ui.ANY_THEME, api_name="/ask")
        seen["cached"] = Path(out[5]["value"]["path"])
        seen["exports"] = list(Path(tempfile.gettempdir()).glob(f"{exports.PREFIX}{os.getpid()}-*"))
        assert seen["cached"].exists() and seen["exports"]
        assert any(p.glob("peerqa-answer-*.md") for p in seen["exports"])

    monkeypatch.setattr(ui, "Retriever",
                        lambda store, s: Retriever(store, s, encoder=FakeEmbedder()))
    monkeypatch.setattr(ui.gr.Blocks, "block_thread", ask_then_stop)
    assert ui.serve(settings, port=free_port()) == 0
    assert not seen["cached"].exists()
    assert not [p for p in seen["exports"] if p.exists()]


def test_exports_of_a_server_killed_with_sigkill_are_removed_at_the_next_start(tmp_path):
    code = ("import os, sys; sys.path.insert(0, os.getcwd()); from assistant import exports; "
            "d = exports.new_export_dir(); (d / 'peerqa-answer-1.md').write_text('x'); "
            "print(d, flush=True); os.kill(os.getpid(), 9)")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parent.parent, timeout=60)
    dead = Path(proc.stdout.strip())
    assert proc.returncode == -9 and dead.parent == tmp_path and dead.exists()
    alive = tmp_path / f"{exports.PREFIX}{os.getppid()}-abc"  # a running process's folder
    alive.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    link = tmp_path / f"{exports.PREFIX}999999999-link"  # a symlink posing as a stale folder
    link.symlink_to(target)
    other = tmp_path / f"{exports.PREFIX}notapid"
    other.mkdir()
    assert exports.remove_stale(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and link.is_symlink() and other.exists()
    assert (target / "keep.txt").read_text() == "keep"
