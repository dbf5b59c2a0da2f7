"""Generative mode against a real OpenAI-compatible HTTP server on 127.0.0.1 (scripted replies)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.answering import OpenAICompatibleGenerator, ask
from assistant.retrieval import Retriever
from assistant.settings import Settings
from tests.fakes import FakeEmbedder, query_for

QUESTION = "What did the peers say about shared services?"


@dataclass
class Script:
    """What the server answers: a reply text, a status code, a delay, or raw bytes."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None
    requests: list[dict] = field(default_factory=list)  # (path, headers, body) of each request


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.script = Script()
        self.stopping = threading.Event()


class ChatHandler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        script = self.server.script
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"null")
        script.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path != "/v1/chat/completions":
            return self._send(404, b'{"error": "not found"}')
        if script.delay and self.server.stopping.wait(script.delay):
            return  # shutting down: the client has long given up
        if script.raw is not None:
            return self._send(script.status, script.raw)
        if script.status != 200:
            return self._send(script.status, b'{"error": {"message": "scripted failure"}}')
        reply = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": script.content}}]}
        self._send(200, json.dumps(reply).encode())

    def _send(self, status: int, payload: bytes):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server():
    srv = ChatServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.stopping.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def index(shared_fake_index):
    return shared_fake_index


def llm_settings(index, server, **env) -> Settings:
    base, _ = index
    port = server.server_address[1]
    settings = Settings.from_env(env={"PEERQA_LLM_URL": f"http://127.0.0.1:{port}/v1",
                                      "PEERQA_LLM_TIMEOUT": "0.5", **env})
    return replace(settings, index_dir=base.index_dir, corpus_dir=base.corpus_dir, model=base.model)


def run(index, server, question: str = QUESTION, **env):
    settings = llm_settings(index, server, **env)
    store = index[1]
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    return ask(query_for(store, question), store, settings, retriever=retriever)


@pytest.fixture(scope="module")
def extractive(index):
    """The answer without a language model, which every failure must fall back to."""
    settings, store = index
    return ask(query_for(store, QUESTION), store, settings,
               retriever=Retriever(store, settings, encoder=FakeEmbedder()))


def test_generative_answer(index, server, extractive):
    server.script.content = "Peers found shared services valued [1]. Pace matters [2][3]."
    result = run(index, server, PEERQA_LLM_MODEL="tiny-test-model", PEERQA_LLM_KEY="sekret")
    assert result.mode == "generative"
    assert not result.abstained and result.notice == ""
    assert result.text == "Peers found shared services valued [1].\nPace matters [2][3]."
    assert result.citations == (1, 2, 3)
    assert result.passages == tuple(replace(p, quoted=()) for p in extractive.passages)

    (request,) = server.script.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sekret"
    body = request["body"]
    assert body["model"] == "tiny-test-model"
    assert body["temperature"] == 0
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user"]
    user = body["messages"][1]["content"]
    assert f"Question: {QUESTION}" in user
    for n, passage in enumerate(extractive.passages, start=1):
        assert f"[{n}] {passage.meta.title} ({passage.meta.council}" in user
        assert passage.chunk.text in user
    assert f"[{len(extractive.passages) + 1}]" not in user
    assert "[1]" in body["messages"][0]["content"]  # the system prompt asks for markers


def test_default_model_name_and_no_key(index, server):
    server.script.content = "Yes [1]."
    assert run(index, server).mode == "generative"
    request = server.script.requests[0]
    assert request["body"]["model"] == "local"
    assert "Authorization" not in request["headers"]


def test_invalid_markers_and_unmarked_sentences_are_dropped(index, server):
    server.script.content = ("Shared services were praised [1]. The peers also visited Mars [9]. "
                             "This sentence has no marker at all.")
    result = run(index, server)
    assert result.mode == "generative"
    assert result.text == "Shared services were praised [1]."
    assert result.citations == (1,)
    assert "[9]" not in result.text and "Mars" not in result.text
    assert re.search(r"\b2 sentence\(s\)", result.notice)


def _assert_fell_back(result, extractive, why: str):
    assert result.mode == "extractive"
    assert result.text == extractive.text
    assert result.citations == extractive.citations
    assert result.passages == extractive.passages  # quotes kept for the extractive answer
    assert "extractive answer" in result.notice
    assert re.search(why, result.notice), result.notice


def test_reply_without_valid_markers_falls_back(index, server, extractive):
    server.script.content = "Shared services were discussed at length. See passage [12]."
    _assert_fell_back(run(index, server), extractive, "cited no given passage")


def test_http_500_falls_back(index, server, extractive):
    server.script.status = 500
    _assert_fell_back(run(index, server), extractive, "failed")
    assert len(server.script.requests) == 1


def test_slow_reply_falls_back_after_the_timeout(index, server, extractive):
    import time

    server.script.delay = 2.0
    server.script.content = "Too late [1]."
    started = time.monotonic()
    result = run(index, server)
    assert time.monotonic() - started < 1.8  # gave up at the 0.5 s timeout, not after 2 s
    _assert_fell_back(result, extractive, "failed")


@pytest.mark.parametrize("raw", [b"this is not json", b'{"choices": []}', b'{"choices": [{"message": {}}]}',
                                 b"[1, 2]"])
def test_malformed_reply_falls_back(index, server, extractive, raw):
    server.script.raw = raw
    _assert_fell_back(run(index, server), extractive, "failed")


def test_unreachable_server_falls_back(index, server, extractive):
    port = server.server_address[1]
    server.shutdown()
    server.server_close()  # nothing listens on the port any more
    settings = replace(Settings.from_env(env={"PEERQA_LLM_URL": f"http://127.0.0.1:{port}/v1",
                                              "PEERQA_LLM_TIMEOUT": "0.5"}),
                       index_dir=index[0].index_dir, model="fake")
    store = index[1]
    result = ask(query_for(store, QUESTION), store, settings,
               retriever=Retriever(store, settings, encoder=FakeEmbedder()))
    _assert_fell_back(result, extractive, "failed")


def test_abstention_never_calls_the_model(index, server):
    server.script.content = "Invented answer [1]."
    result = run(index, server, question="What did peers say about Oxford City Council's housing company?")
    assert result.abstained and result.reason == "unknown_council"
    assert result.mode == "extractive"
    assert server.script.requests == []


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/v1/chat/completions", "http://127.0.0.1:8080/v1/chat/completions"),
])
def test_generator_url(url, expected):
    assert OpenAICompatibleGenerator(url).url == expected
