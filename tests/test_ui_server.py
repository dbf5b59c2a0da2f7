"""The app over HTTP with gradio_client (fake embedder), the login file, and serve()'s start-up paths."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

import cli
import ui
from assistant.retrieval import Retriever
from assistant.settings import Settings
from assistant.users import (
    UsersFileError,
    add_user,
    add_user_interactive,
    check_password,
    load_users,
    make_auth,
)
from tests.fakes import FakeEmbedder, word_count
from tests.test_ui_handlers import answering

CITATION = re.compile(r"\*\*\[\d\]\*\*")  # a bold [n] marker in the chat reply
QUESTION = "What are the key recommendations for Cambridge City Council?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(fake_index, auth=None):
    settings, store = fake_index
    settings = answering(settings)
    app = ui.build_app(store, settings, Retriever(store, settings, encoder=FakeEmbedder()))
    ui.start(app, "127.0.0.1", free_port(), auth=auth, prevent_thread_lock=True, quiet=True)
    try:
        yield app
    finally:
        app.close()


def ask(client: Client, question: str, history: list | None = None, theme: str = ui.ANY_THEME):
    return client.predict(question, history or [], ui.ALL_COUNCILS, ui.ALL_TYPES, "", theme,
                          api_name="/ask")


def message_text(message: dict) -> str:
    """Chatbot content comes back as a list of typed parts."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def test_client_gets_a_cited_answer_with_sources(fake_index):
    with running_app(fake_index) as app:
        assert app.local_url.startswith("http://127.0.0.1:")
        client = Client(app.local_url, verbose=False, download_files=False)
        textbox, chat, sources, _passages, _context, download, markdown = ask(client, QUESTION)
        assert textbox == ""
        reply = message_text(chat[-1])
        assert chat[-1]["role"] == "assistant" and CITATION.search(reply), reply
        assert 'class="pq-source' in sources and "[1]" in sources
        assert markdown.startswith(f"# {QUESTION}") and "## References" in markdown
        assert download["value"]["path"].endswith(".md")
        # the session keeps the standalone questions, so a follow-up is completed server-side
        follow = ask(client, "and what about the county council?", chat)
        assert "Understood as:" in message_text(follow[1][-1])


def test_client_gets_listing_comparison_theme_and_register(fake_index):
    with running_app(fake_index) as app:
        client = Client(app.local_url, verbose=False, download_files=False)
        listing = ask(client, "Which reports mention the Combined Authority?")
        assert "searched 5 of 5 documents" in message_text(listing[1][-1])
        assert listing[-1].startswith("# Which reports mention") and "pq-source-4" in listing[2]
        comparison = ask(client, "What did the peers say about shared services at each council?")
        assert "<summary><strong>Cambridgeshire County Council</strong>" in message_text(comparison[1][-1])
        assert comparison[2].count('class="pq-group"') >= 2
        themed = ask(client, "What did the peers say about the budget?",
                     theme="Financial planning and management")
        assert CITATION.search(message_text(themed[1][-1]))
        table, summary, csv_file = client.predict("Cambridge City Council", ui.ALL,
                                                  api_name="/recommendations")
        assert table["headers"] == ui.REGISTER_HEADERS and len(table["data"]) == 18
        assert "Prioritise what's important to you and focus on delivery." in table["data"][0]
        assert "18 records" in summary and csv_file["value"]["path"].endswith(".csv")


def test_login_is_required_when_auth_is_on(fake_index, tmp_path):
    users_file = tmp_path / "users.json"
    add_user(users_file, "ann", "correct horse battery")
    with running_app(fake_index, auth=make_auth(load_users(users_file))) as app:
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(app.local_url, verbose=False)
        # gradio answers a wrong password with 400, which the client reports as a plain ValueError
        with pytest.raises(ValueError, match="Could not login"):
            Client(app.local_url, auth=("ann", "wrong password"), verbose=False)
        client = Client(app.local_url, auth=("ann", "correct horse battery"), verbose=False,
                        download_files=False)
        assert CITATION.search(message_text(ask(client, QUESTION)[1][-1]))


# ---------------------------------------------------------------- the users file

def test_users_file_is_private_salted_and_checks_passwords(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "ann", "s3cret-pass")
    add_user(path, "bob", "s3cret-pass")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    raw = json.loads(path.read_text())
    assert raw["users"]["ann"]["salt"] != raw["users"]["bob"]["salt"]  # same password, different hashes
    assert raw["users"]["ann"]["hash"] != raw["users"]["bob"]["hash"]
    assert "s3cret" not in path.read_text()
    users = load_users(path)
    assert check_password(users, "ann", "s3cret-pass")
    assert not check_password(users, "ann", "s3cret-pasS")
    assert not check_password(users, "carol", "s3cret-pass")
    add_user(path, "ann", "another-pass")  # replaces the password, keeps bob
    users = load_users(path)
    assert check_password(users, "ann", "another-pass") and check_password(users, "bob", "s3cret-pass")
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]  # no temp file left behind


@pytest.mark.parametrize("content, message", [
    (None, "No users file"),
    ("not json", "not valid JSON"),
    ('{"format": 1, "users": {"ann": {"salt": "zz"}}}', "not a peerqa users file"),
    ('{"format": 1, "users": {}}', "lists no users"),
    ("[1, 2]", "not a peerqa users file"),
])
def test_bad_users_files_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "users.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsersFileError, match=message) as info:
        load_users(path)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_add_user_rejects_bad_names_and_short_passwords(tmp_path):
    from assistant.errors import UsageError

    with pytest.raises(UsageError, match="at least"):
        add_user(tmp_path / "u.json", "ann", "short")
    with pytest.raises(UsageError, match="User names"):
        add_user(tmp_path / "u.json", "ann smith", "long enough")
    assert not (tmp_path / "u.json").exists()


def test_add_user_interactive_asks_twice(tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    answers = iter(["first-password", "other-password", "good-password", "good-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert add_user_interactive(path, "ann") == 2 and not path.exists()  # the two entries differ
    assert add_user_interactive(path, "ann") == 0
    assert check_password(load_users(path), "ann", "good-password")


# ---------------------------------------------------------------- serve() start-up paths

def test_serve_without_index_or_corpus_says_run_ingest(tmp_path, capsys):
    code = cli.main(["serve", "--corpus", str(tmp_path / "no-corpus"), "--index",
                     str(tmp_path / "no-index"), "--port", str(free_port())])
    err = capsys.readouterr().err
    assert code == 3 and "peerqa ingest" in err and "no-corpus" in err


def test_serve_with_a_missing_users_file_fails_before_loading(tmp_path):
    settings = Settings(corpus_dir=tmp_path / "no-corpus", index_dir=tmp_path / "no-index")
    with pytest.raises(UsersFileError, match="No users file"):
        ui.serve(settings, port=free_port(), auth_file=str(tmp_path / "missing.json"))


def test_serve_builds_a_missing_index_then_launches(fake_settings, monkeypatch):
    """With a corpus but no index, cli.serve() ingests first (fake model), warms up, then launches."""
    import ingest.build

    launched = {}
    real_ingest = ingest.build.ingest
    monkeypatch.setattr(ingest.build, "ingest", lambda s, **kw: real_ingest(
        s, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None, **kw))
    monkeypatch.setattr(ui, "Retriever",
                        lambda store, settings: Retriever(store, settings, encoder=FakeEmbedder()))
    monkeypatch.setattr(ui, "start",
                        lambda app, host, port, auth=None, **kw: launched.update(app=app, port=port))
    monkeypatch.setattr(ui.gr.Blocks, "block_thread", lambda self: launched.update(blocked=True))
    port = free_port()
    assert cli.serve(fake_settings, port=port) == 0
    assert launched["port"] == port and Path(fake_settings.index_dir, "CURRENT").exists()
    assert launched["blocked"]  # serves until interrupted
