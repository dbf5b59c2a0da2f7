"""The web chat (``peerqa serve``): a Gradio Blocks app over a loaded index.

This module lays out the page and wires its events; everything shown is rendered by
``assistant.render`` (``html`` for the panels, ``markdown`` for the chat, ``tables`` for the
data frames), whose escapers keep document and user text inert.
"""

# isort: off
import assistant  # noqa: F401  -- first: switches every library to offline mode before gradio loads
# isort: on

import gc
import hashlib
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
import pandas as pd

from assistant.domain import example_questions
from assistant.errors import PeerqaError
from assistant.query import Query, corpus_facts
from assistant.recommendations import build_register, register_rows
from assistant.render.html import context_html, sources_html
from assistant.render.markdown import chat_markdown, export_markdown, md_inert, register_summary
from assistant.render.tables import corpus_rows, register_csv, register_table
from assistant.render.text import corpus_summary, passage_choices
from assistant.exports import new_export_dir, remove_own, remove_stale
from assistant.progress import progress_notice
from assistant.retrieval import Retriever, make_filters
from assistant.route import Result, Session, respond
from assistant.settings import Settings
from assistant.store import IndexStore, live_folder, load_index
from assistant.themes import THEMES, resolve_theme
from assistant.threads import one_blas_thread
from assistant.types import Filters
from assistant.web_guard import launch_options

ALL_COUNCILS, ALL_TYPES, ANY_THEME, ALL = "All councils", "All types", "Any theme", "All"
THEME_LABELS = [t.label for t in THEMES.values()]
REGISTER_HEADERS = ["No.", "Council", "Date", "Kind", "Status", "Text", "Themes", "Source", "Lineage"]
THEME = gr.themes.Default(primary_hue="blue", neutral_hue="slate",
                          font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
CSS = """
.pq-scroll { max-height: 560px; overflow-y: auto; padding-right: 4px; }
.pq-empty { color: var(--body-text-color-subdued); font-style: italic; padding: 8px 2px; }
.pq-banner { padding: 6px 10px; border-radius: 6px; margin-bottom: 8px; font-weight: 600;
             background: var(--background-fill-secondary); }
.pq-banner.pq-abstain { background: #fff4e5; color: #7a4100; border-left: 4px solid #f59e0b; }
.pq-source { border: 1px solid var(--border-color-primary); border-radius: 8px;
             padding: 8px 10px; margin-bottom: 8px; }
.pq-source.pq-cited { border-left: 4px solid var(--color-accent); }
.pq-head { font-weight: 600; }
.pq-group { font-weight: 700; margin: 10px 0 4px; padding-bottom: 2px;
            border-bottom: 1px solid var(--border-color-primary); }
.pq-n { color: var(--color-accent); margin-right: 4px; }
.pq-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 2px 0 4px; }
.pq-text, .pq-context-text { white-space: pre-wrap; font-size: 0.92em; line-height: 1.45; }
#pq-register table, #pq-register table * { font-family: system-ui, sans-serif !important; }
mark.pq-quote { background: #fde68a; color: #1f2937; padding: 0 1px; }
.pq-chunk { background: #dbeafe; color: #1f2937; }
.pq-context-text { max-height: 420px; overflow-y: auto; border: 1px solid var(--border-color-primary);
                   border-radius: 8px; padding: 8px 10px; }
"""


# ---------------------------------------------------------------- handlers

class Turn(NamedTuple):
    """Outputs of one chat turn, in the order of the event's outputs."""

    textbox: Any
    chat: Any
    asked: Any  # standalone questions so far (for follow-ups)
    answer: Any  # the last Result (Answer, Comparison or Listing)
    sources: Any
    passage: Any  # the "show passage in context" selector
    context: Any
    download: Any
    markdown: Any


def _skip_turn() -> Turn:
    return Turn(*(gr.skip() for _ in Turn._fields))


class ChatHandlers:
    """The app's event handlers as plain methods, so tests can call them without a server."""

    def __init__(self, store: IndexStore, settings: Settings, retriever: Retriever,
                 export_dir: Path | None = None,
                 reload: Callable[[Settings], IndexStore] | None = None):
        self.session = Session(store, settings, retriever)
        self.store, self.settings, self.retriever = store, settings, retriever
        self.councils = list(self.session.facts.registry.held)
        self.export_dir = export_dir or new_export_dir()  # removed when the server stops
        self._register: tuple[list[dict], dict[str, Sequence[Any]]] | None = None
        self._register_lock = threading.Lock()
        self._reload, self._swap_lock = reload, threading.Lock()

    def refresh(self) -> str:
        """Answer from the index an ingest published since this one was loaded (``reload``
        loads it; the query model is kept). The notice to show, "" when nothing changed."""
        if self._reload is None or live_folder(Path(self.settings.index_dir)) in (None, self.store.path):
            return ""
        with self._swap_lock:
            if live_folder(Path(self.settings.index_dir)) == self.store.path:
                return ""  # another request swapped it meanwhile
            try:
                store = self._reload(self.settings)
            except PeerqaError as exc:  # a damaged or mismatched build: keep the loaded one
                print(f"peerqa: warning: kept the loaded index: {exc}", file=sys.stderr)
                return ""
            retriever = Retriever(store, self.settings, encoder=self.retriever.encoder,
                                  mode=self.retriever.mode)
            self.session, self.store, self.retriever = Session(store, self.settings, retriever), store, retriever
            self.councils = list(self.session.facts.registry.held)
            with self._register_lock:
                self._register = None
            warm_register(store, retriever)
        return (f"*The documents were ingested again since this page opened: answering from "
                f"{len(store.documents)} documents now (index {store.version}). Reload the page to "
                "update the filter lists and the Corpus tab.*\n\n")

    def filters(self, council: str | None, doc_type: str | None, years: str | None,
                theme: str | None = None) -> Filters:
        return make_filters(self.store, council=None if council in (None, "", ALL_COUNCILS) else council,
                            doc_type=None if doc_type in (None, "", ALL_TYPES) else doc_type,
                            year=(years or "").strip() or None,
                            theme=None if theme in (None, "", ANY_THEME) else theme)

    def answer(self, question: str, filters: Filters, history: Sequence[str] = ()) -> tuple[Query, Result]:
        """Analyse (completing a follow-up from ``history``) and route like ``peerqa ask``."""
        query = self.session.analyse(question, history)
        return query, respond(query, self.session, filters)

    def ask(self, message: str, history: list | None, asked: list[str] | None,
            council: str | None = None, doc_type: str | None = None, years: str | None = None,
            theme: str | None = None) -> Turn:
        """Answer ``message``; empty input changes nothing and sends nothing to the retriever."""
        history, asked = list(history or []), list(asked or [])
        message = (message or "").strip()
        if not message:
            return _skip_turn()
        shown = message if len(message) <= 300 else message[:300] + "…"
        user_msg = {"role": "user", "content": md_inert(shown)}
        notice = self.refresh()
        try:
            filters = self.filters(council, doc_type, years, theme)
            query, result = self.answer(message, filters, asked)
        except PeerqaError as exc:
            reply = {"role": "assistant", "content": f"**Cannot ask that:** {md_inert(str(exc))}"}
            skip = gr.skip()
            return Turn(skip, history + [user_msg, reply], skip, skip, skip, skip, skip, skip, skip)
        standalone = query.text
        understood = standalone if query.inherited_from else ""
        content = notice + chat_markdown(result, understood)
        markdown = export_markdown(result, self.store.version)
        return Turn(
            textbox="", chat=history + [user_msg, {"role": "assistant", "content": content}],
            asked=asked + [standalone], answer=result, sources=sources_html(result),
            passage=gr.update(choices=passage_choices(result), value=None),
            context=context_html(self.store, None, None),
            download=gr.update(value=str(self.export(markdown)), interactive=True), markdown=markdown,
        )

    def show_context(self, n: int | None, result: Result | None) -> str:
        return context_html(self.store, result, n)

    def clear(self) -> tuple:
        return ([], [], None, sources_html(None), gr.update(choices=[], value=None),
                context_html(self.store, None, None), gr.update(value=None, interactive=False), "")

    def register_data(self) -> tuple[list[dict], dict[str, Sequence[Any]]]:
        """Every register row and each record's links; computed on first use (1–2 s), then kept."""
        with self._register_lock:
            if self._register is None:
                encoder = self.retriever.encoder  # the loaded model: never a second copy
                rows = register_rows(self.store, encoder=encoder)
                links = {r.record_id: r.links for r in build_register(self.store, encoder)}
                self._register = (rows, links)
            return self._register

    def register(self, council: str | None = None, theme: str | None = None) -> tuple:
        """The Recommendations tab for one council and theme: (table, summary, CSV download)."""
        rows, links = self.register_data()
        council = None if council in (None, "", ALL) else council
        theme_id = None if theme in (None, "", ALL) else resolve_theme(theme)
        rows = [r for r in rows if council in (None, r["council"])
                and (theme_id is None or theme_id in r["themes"].split(", "))]
        table = pd.DataFrame(register_table(rows, links), columns=REGISTER_HEADERS)
        download = (gr.update(value=str(self.export(register_csv(rows), "peerqa-register", ".csv")),
                              interactive=True) if rows else gr.update(value=None, interactive=False))
        return table, register_summary(rows), download

    def export(self, text: str, prefix: str = "peerqa-answer", suffix: str = ".md") -> Path:
        """Write an export; names are content hashes, so one file per distinct content."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:12]}{suffix}"
        path.write_text(text, encoding="utf-8")
        old = sorted(self.export_dir.glob(f"*{suffix}"), key=lambda f: f.stat().st_mtime)
        for stale in old[:-200]:  # a long-running server must not fill the disk
            stale.unlink(missing_ok=True)
        return path


# ---------------------------------------------------------------- the app

HELP = """**Reading an answer.** Each sentence of an answer is quoted word for word from a document
and ends with a number such as **[1]**: the passage it comes from, listed under *Sources* with the
document's title, council, date, section and page. Quoted sentences are highlighted there. Pick a
passage under *Show passage in context* to read the text around it.

**When the corpus does not answer**, the reply says *No answer in the corpus* and the passages
listed are only possibly related. A *Generated answer* (only when a language model is configured)
is written by the model from the passages: check it against the citations.

**Comparisons** ("What did the peers say about shared services at each council?") are answered
per council and year, numbered across the groups: each council is a collapsed block (click its
name to open it); councils with no answer are named in one line. "Which councils were advised
to …?" lists the councils whose documents say so, the strongest evidence first. **Listings** ("Which reports mention the
Combined Authority?") list every document that mentions the term, with counts and its best
passage, and say how much of the corpus was searched. The *Theme* filter keeps passages tagged
with that theme.

**Follow-up questions** such as "and the county council?" or "what did they recommend about it?"
are completed from your previous question; the reply shows how it was understood.

**What is in the corpus:** {summary} See the *Corpus* tab for the list and the
*Recommendations* tab for the register of recommendations and what became of them."""


def _councils_by_size(metas: Sequence[Any]) -> list[str]:
    """Councils, the one with most documents first (they fill the example questions)."""
    counts = Counter(m.council for m in metas)
    return sorted(counts, key=lambda c: (-counts[c], c))


def build_app(store: IndexStore, settings: Settings, retriever: Retriever | None = None,
              reload: Callable[[Settings], IndexStore] | None = None) -> gr.Blocks:
    """The Blocks app. ``retriever`` defaults to one with the real query encoder; with
    ``reload`` a question after a new ingest is answered from the new index."""
    handlers = ChatHandlers(store, settings, retriever or Retriever(store, settings), reload=reload)
    with gr.Blocks(title="peerqa — peer challenge documents", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as app:
        gr.Markdown("## peerqa — ask the peer challenge documents\nAnswers quote the documents "
                    "and cite each passage; nothing leaves this machine.")
        ask = _ask_tab(store)
        _corpus_tab(store, Path(settings.index_dir))
        register = _register_tab(handlers)
        _wire_ask(handlers, ask)
        _wire_register(handlers, register)
    app.queue(default_concurrency_limit=1, max_size=64)  # 2 cores: one embedding at a time
    return app


def _ask_tab(store: IndexStore) -> dict[str, Any]:
    """The chat, its filters and the sources panel; returns the components by name."""
    metas = list(store.metas.values())
    years = sorted(y for m in metas for y in m.years)
    c: dict[str, Any] = {"asked": gr.State([]), "last_answer": gr.State(None)}
    with gr.Tab("Ask"), gr.Row(equal_height=False):
        with gr.Column(scale=3):
            c["chat"] = gr.Chatbot(label="Conversation", elem_id="pq-chat", height=520,
                                   buttons=["copy"], feedback_options=None,
                                   placeholder="Ask about the LGA corporate peer challenges in the "
                                               "corpus. Answers cite their sources as [1], [2], …")
            with gr.Row():
                c["question"] = gr.Textbox(show_label=False, scale=5, elem_id="pq-question",
                                           autofocus=True, max_lines=4,
                                           placeholder="Type a question and press Enter")
                c["send"] = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                c["clear"] = gr.Button("New chat", scale=1, min_width=80)
            gr.Examples(example_questions(_councils_by_size(metas)), inputs=[c["question"]],
                        label="Example questions")
            with gr.Accordion("Filters", open=False), gr.Row():
                c["council"] = gr.Dropdown([ALL_COUNCILS, *sorted({m.council for m in metas})],
                                           value=ALL_COUNCILS, label="Council")
                c["doc_type"] = gr.Dropdown([ALL_TYPES, *sorted({m.doc_type for m in metas})],
                                            value=ALL_TYPES, label="Document type")
                c["year"] = gr.Textbox(label="Years", placeholder="e.g. 2013 or 2013-2017",
                                       info=f"Documents span {years[0]}–{years[-1]}" if years else None)
                c["theme"] = gr.Dropdown([ANY_THEME, *THEME_LABELS], value=ANY_THEME, label="Theme",
                                         elem_id="pq-theme")
            with gr.Accordion("How to read the answers", open=False):
                gr.Markdown(HELP.format(summary=md_inert(corpus_summary(store))))
        with gr.Column(scale=2):
            c["sources"] = gr.HTML(sources_html(None), elem_id="pq-sources")
            c["passage"] = gr.Radio([], label="Show passage in context", elem_id="pq-passage")
            c["context"] = gr.HTML(context_html(store, None, None), elem_id="pq-context")
            c["download"] = gr.DownloadButton("Download answer with references (.md)", value=None,
                                              interactive=False, size="sm", elem_id="pq-download")
            with gr.Accordion("Answer as Markdown (copy)", open=False):
                c["markdown"] = gr.Textbox(show_label=False, lines=8, max_lines=20, buttons=["copy"],
                                           interactive=False)
    return c


PROGRESS_EVERY_S = 3.0  # how often the Corpus tab looks for a running ingest


def _corpus_tab(store: IndexStore, index_dir: Path) -> None:
    with gr.Tab("Corpus"):
        # An ingest in another process writes its progress into the index folder; the line is
        # empty when none runs. The tick reads a small file: it skips the answer queue.
        running = gr.Markdown(progress_notice(index_dir), elem_id="pq-ingest-progress")
        gr.Timer(PROGRESS_EVERY_S).tick(lambda: progress_notice(index_dir), None, running,
                                        queue=False, api_visibility="private")
        gr.Markdown(md_inert(corpus_summary(store)))
        gr.Dataframe(corpus_rows(store), headers=["Title", "Council", "Type", "Date", "Visit",
                                                   "Inferred fields", "Chunks", "File"],
                     datatype="str", interactive=False, wrap=True, elem_id="pq-corpus",
                     max_height=900,
                     column_widths=["28%", "14%", "11%", "9%", "8%", "9%", "7%", "14%"])


def _register_tab(handlers: ChatHandlers) -> dict[str, Any]:
    c: dict[str, Any] = {}
    with gr.Tab("Recommendations", elem_id="pq-register-tab") as c["tab"]:
        gr.Markdown("What the peers recommended, what the councils planned and what later "
                    "reviews said, taken from the documents' own lists and tables.")
        with gr.Row(equal_height=True):
            c["council"] = gr.Dropdown([ALL, *handlers.councils], value=ALL, label="Council")
            c["theme"] = gr.Dropdown([ALL, *THEME_LABELS], value=ALL, label="Theme")
            c["csv"] = gr.DownloadButton("Download CSV", value=None, interactive=False, size="md",
                                         elem_id="pq-register-csv", scale=0, min_width=160)
        c["summary"] = gr.Markdown("*Loading the register…*", elem_id="pq-register-summary")
        c["table"] = gr.Dataframe(headers=REGISTER_HEADERS, datatype="str", interactive=False,
                                  wrap=True, elem_id="pq-register", max_height=1400,
                                  column_widths=["3%", "8%", "5%", "9%", "7%", "21%", "9%",
                                                 "12%", "26%"])
    return c


def _wire_ask(handlers: ChatHandlers, c: dict[str, Any]) -> None:
    turn_in = [c[k] for k in ("question", "chat", "asked", "council", "doc_type", "year", "theme")]
    turn_out = [c[k] for k in ("question", "chat", "asked", "last_answer", "sources", "passage",
                               "context", "download", "markdown")]
    # Enter and the button share one queue slot: answering embeds the question (CPU-bound).
    c["question"].submit(handlers.ask, turn_in, turn_out, api_name="ask", concurrency_id="answer")
    c["send"].click(handlers.ask, turn_in, turn_out, api_visibility="private", concurrency_id="answer")
    c["passage"].input(handlers.show_context, [c["passage"], c["last_answer"]], c["context"],
                       api_visibility="private")  # the user picks only
    cleared = [c[k] for k in ("chat", "asked", "last_answer", "sources", "passage", "context",
                              "download", "markdown")]
    c["clear"].click(handlers.clear, None, cleared, api_visibility="private")
    c["chat"].clear(handlers.clear, None, cleared, api_visibility="private")


def _wire_register(handlers: ChatHandlers, c: dict[str, Any]) -> None:
    # The register is computed on first view (it embeds every record), then cached.
    inputs, outputs = [c["council"], c["theme"]], [c["table"], c["summary"], c["csv"]]
    c["tab"].select(handlers.register, inputs, outputs, api_name="recommendations",
                    concurrency_id="answer")
    for dropdown in (c["council"], c["theme"]):
        dropdown.input(handlers.register, inputs, outputs, api_visibility="private",
                       concurrency_id="answer")


def start(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860,
          auth: Callable[[str, str], Any] | None = None, *, prevent_thread_lock: bool = False,
          quiet: bool = False) -> Any:
    """Launch with this project's fixed options (local only, no share link, no remote resources,
    the guards of ``assistant.web_guard``: no upload route, nothing in the login page)."""
    return app.launch(
        server_name=host, server_port=port, share=False, auth=auth, max_threads=8,
        auth_message="Sign in with the name and password set by `peerqa users add`." if auth else None,
        prevent_thread_lock=prevent_thread_lock, quiet=quiet, footer_links=["api"], ssr_mode=False,
        pwa=False, mcp_server=False, enable_monitoring=False, theme=THEME, css=CSS,
        **launch_options(),
    )


def warm_register(store: IndexStore, retriever: Retriever) -> threading.Thread:
    """Build the recommendations register in the background (half a minute at 1,000
    documents), so the Recommendations tab and "which councils were advised to …?" do not
    wait for it; a question needing it meanwhile waits only for what is left."""
    def build() -> None:
        try:
            build_register(store, retriever.encoder)
        except Exception as exc:  # noqa: BLE001 - the tab reports its own error when opened
            print(f"peerqa: warning: the register could not be built: {exc}", file=sys.stderr)

    thread = threading.Thread(target=build, name="peerqa-register", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          auth_file: str | None = None,
          load: Callable[[Settings], IndexStore] = load_index) -> int:
    """Load the index with ``load`` (cli.py passes one that builds a missing index), warm the
    query encoder, and serve until interrupted."""
    auth = None
    if auth_file:
        from assistant.users import load_users
        from assistant.web_guard import throttled_auth

        auth = throttled_auth(load_users(Path(auth_file)))
    remove_stale()  # export folders of servers that died without cleaning up
    one_blas_thread()
    store = load(settings)
    retriever = Retriever(store, settings)
    retriever.search("peer challenge recommendations")  # loads the model now, not on the first question
    facts = corpus_facts(store)
    facts.registry.find("")  # compiles the council-name patterns: seconds at 1,000 docs
    facts.glossary  # noqa: B018 - worked out with those patterns, once
    # The loaded index is a million long-lived objects: keep them out of every later garbage
    # collection, which would otherwise pause a question now and then to walk them all.
    gc.collect()
    gc.freeze()
    if auth is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"peerqa: warning: serving on {host} without --auth-file; anyone who can reach "
              "it can ask.", file=sys.stderr)
    # quiet: gradio's banner suggests share=True, which this project never uses
    app = build_app(store, settings, retriever, reload=load_index)
    try:
        start(app, host, port, auth=auth, quiet=True, prevent_thread_lock=True)
    except OSError as exc:  # e.g. the port is taken
        raise PeerqaError(f"Cannot serve on {host}:{port} ({str(exc).split('. ')[0]}); "
                          "pick another port with --port.") from exc
    print(f"peerqa: serving {len(store.documents)} documents on http://{host}:{port} (Ctrl-C to stop)",
          file=sys.stderr)
    warm_register(store, retriever)  # once serving: it must not slow the start on two cores
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        remove_own()  # the exported answers go with the server
    return 0
