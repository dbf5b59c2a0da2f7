"""The app in headless Chromium: ask, read sources, open a passage in context, read the register,
stay local, stay inert.

Needs Debian's ``chromium`` at /usr/bin/chromium (CI installs it). Without it these tests fail,
on purpose: a skipped browser test would hide a broken UI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

import ui
from assistant.retrieval import Retriever
from tests.conftest import ROOT
from tests.fakes import FakeEmbedder
from tests.test_ui_handlers import HOSTILE_QUESTION, answering, build_hostile_index
from tests.test_ui_intelligence import KEY_2017
from tests.test_ui_server import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 60_000


@contextmanager
def browser_page(url: str) -> Iterator[tuple[object, list[str], list[str]]]:
    """(page, requested URLs, dialog messages) for ``url`` in a fresh headless Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package `chromium` "
                    "(apt-get install -y chromium) to run the browser tests.")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda request: requests.append(request.url))
            page.on("websocket", lambda ws: requests.append(ws.url))

            def on_dialog(dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(url)
            page.wait_for_selector("#pq-question textarea")
            yield page, requests, dialogs
        finally:
            browser.close()


@contextmanager
def served(store, settings, retriever) -> Iterator[str]:
    app = ui.build_app(store, settings, retriever)
    ui.start(app, "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield app.local_url
    finally:
        app.close()


def ask_in_page(page, question: str) -> None:
    box = page.locator("#pq-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_selector("#pq-chat [data-testid='bot']")
    page.wait_for_selector("#pq-sources .pq-source")


def outside(requests: list[str]) -> list[str]:
    """URLs that would leave the machine (data:/blob: never hit the network)."""
    return [u for u in requests if urlparse(u).scheme not in ("data", "blob")
            and urlparse(u).hostname not in LOCAL_HOSTS]


def test_ask_read_sources_open_context_and_stay_local(real_index):
    settings, store = real_index
    retriever = Retriever(store, settings)
    with served(store, settings, retriever) as url, browser_page(url) as (page, requests, dialogs):
        page.locator("#pq-question textarea").press("Enter")  # empty input: ignored, no error
        # The question goes by the Ask button (Enter would be ignored while the empty submit is
        # pending). Both events share one queue slot and run in order, so once the answer is on
        # the page any reply to the empty input would be too: no timed wait a slow reply could beat.
        page.locator("#pq-question textarea").fill(
            "What were the key recommendations for Cambridge City Council?")
        page.get_by_role("button", name="Ask", exact=True).click()
        page.wait_for_selector("#pq-chat [data-testid='bot']")
        page.wait_for_selector("#pq-sources .pq-source")
        assert page.locator("#pq-chat [data-testid='user']").count() == 1
        assert page.locator("#pq-chat [data-testid='bot']").count() == 1
        assert page.locator(".toast-body").count() == 0
        bot = page.locator("#pq-chat [data-testid='bot']").last.inner_text()
        assert "[1]" in bot and "quoted from the documents" in bot, bot
        assert page.locator("#pq-sources .pq-source").count() >= 2
        assert "[1]" in page.locator("#pq-source-1 .pq-head").inner_text()
        assert page.locator("#pq-sources mark.pq-quote").count() >= 1

        page.locator("#pq-passage label").nth(1).click()  # "[2] …": open passage 2 in context
        page.wait_for_selector("#pq-context .pq-chunk")
        chunk = page.locator("#pq-context .pq-chunk").inner_text().strip()
        card = page.locator("#pq-source-2 .pq-text").inner_text().strip()
        assert chunk[:80] == card[:80]
        context = page.locator("#pq-context-text").inner_text()
        assert len(context) > len(chunk) + 200  # the text around the passage is shown too

        artifacts = ROOT / "artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / "ui-answer.png"), full_page=True)

        page.get_by_role("tab", name="Corpus").click()
        page.wait_for_selector("#pq-corpus")
        assert "Cambridgeshire County Council" in page.locator("#pq-corpus").inner_text()

        page.get_by_role("tab", name="Recommendations").click()  # computes the register now
        table = page.locator("#pq-register")
        table.get_by_text(KEY_2017[0]).first.wait_for()
        shown = table.inner_text()
        assert all(text in shown for text in KEY_2017), shown[:2000]
        assert "possibly related" in shown and "2. Key recommendations" in shown
        page.wait_for_selector("#pq-register-csv:not([disabled])")
        with page.expect_download() as download:
            page.locator("#pq-register-csv").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert exported.startswith("number,council,date,kind,status,text") and KEY_2017[4] in exported
        page.screenshot(path=str(artifacts / "ui-recommendations.png"), full_page=True)
    assert dialogs == []
    # the recorder saw the app's own traffic (the calls the questions made, not only the page
    # load), so an empty list of outside requests means something
    assert any("/gradio_api/queue/join" in u for u in requests), requests[:20]
    assert outside(requests) == [], f"requests left the machine: {outside(requests)[:5]}"


def test_hostile_document_is_shown_as_text_and_runs_nothing(tmp_path):
    settings, store = build_hostile_index(tmp_path)
    settings = answering(settings)
    retriever = Retriever(store, settings, encoder=FakeEmbedder())
    with served(store, settings, retriever) as url, browser_page(url) as (page, requests, dialogs):
        ask_in_page(page, HOSTILE_QUESTION)
        sources = page.locator("#pq-sources").inner_text()
        assert "<script>alert(1)</script>" in sources and "<img src=x onerror=alert(1)>" in sources
        # both chunks of the hostile notice are shown (fake embedder: deterministic); each payload
        # of theirs appears as text
        for payload in ("<b onmouseover=alert(2)>excellent</b>", "<svg onload=alert(3)></svg>",
                        '<iframe src="http://evil.example/frame"></iframe>',
                        "[click me](javascript:alert(4))", "${alert(5)}",
                        "{{constructor.constructor('alert(6)')()}}",
                        '<a href="http://evil.example/">evil link</a>'):
            assert payload in sources, payload
        bot = page.locator("#pq-chat [data-testid='bot']").last.inner_text()
        assert "![tracking pixel](http://evil.example/x.png)" in bot
        assert '<img src="http://evil.example/pixel.gif">' in bot

        hostile = [n for n, title in enumerate(page.locator("#pq-sources .pq-head").all_inner_texts(), 1)
                   if "<script>" in title]
        page.locator("#pq-passage label").nth(hostile[0] - 1).click()
        page.wait_for_selector("#pq-context .pq-chunk")
        assert "<svg onload=alert(3)></svg>" in page.locator("#pq-context-text").inner_text()

        # a comparison: one collapsed block per council, the first open, its summary text as text
        box = page.locator("#pq-question textarea")
        box.fill("Compare what the peers recommended about recycling at each council")
        box.press("Enter")
        page.wait_for_selector("#pq-chat [data-testid='bot'] details")
        bot = page.locator("#pq-chat [data-testid='bot']").last
        blocks = bot.locator("details")
        assert blocks.count() >= 1 and bot.locator("details[open]").count() == 1
        assert blocks.first.get_attribute("open") is not None
        assert page.locator("#pq-sources details.pq-council").count() == blocks.count()
        summaries = " ".join(bot.locator("summary").all_inner_texts())
        assert "Testshire" in summaries  # the payload checks below cover these blocks too

        page.get_by_role("tab", name="Corpus").click()
        page.wait_for_selector("#pq-corpus")
        assert "<script>alert(1)</script>" in page.locator("#pq-corpus").inner_text()
        page.wait_for_timeout(1500)  # give any injected handler (onerror, onload) time to fire

        live = page.evaluate("""() => Array.from(
                document.querySelectorAll('img, iframe, svg, a, script'))
            .map(e => e.getAttribute('src') || e.getAttribute('href') || '')
            .filter(u => /evil\\.example|javascript:/.test(u))""")
        assert live == [], f"live elements from the payload: {live}"
        handlers = "() => document.querySelectorAll('[onerror], [onload], [onmouseover]').length"
        assert page.evaluate(handlers) == 0
    assert dialogs == [], f"the payload ran: {dialogs}"
    assert not [u for u in requests if "evil.example" in u]
    assert outside(requests) == []
    assert re.search(r"\bTestshire\b", sources)
