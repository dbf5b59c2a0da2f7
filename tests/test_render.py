"""assistant.render: the one Markdown escaper, terminal-safe text, HTML cards, shared helpers.

Hand-built passages, so every field can carry hostile text; no index is needed.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from types import SimpleNamespace

import pytest
from markdown_it import MarkdownIt

from assistant.compare import Comparison, ComparisonGroup, Listing, Mention
from assistant.recommendation_records import Record, Source
from assistant.render.common import numbered_passages, plural, reference, shorten, snippet
from assistant.render.html import context_html, sources_html
from assistant.render.markdown import (
    answer_markdown,
    chat_markdown,
    export_markdown,
    listing_markdown,
    md_inert,
)
from assistant.render.text import (
    BOLD,
    DIM,
    RESET,
    render_answer,
    render_comparison,
    render_listing,
    render_table,
    terminal_safe,
)
from assistant.types import Answer, Chunk, DocumentMeta, Passage

# CommonMark with raw HTML allowed (the strictest case: a tag that survives is live) and GFM tables
MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# Anything a terminal would act on rather than print (tab and newline are fine)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ESCAPES = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x9b2J \x07bell \rcarriage \x1bc"


def passage(text: str = "The council should act. Other text.", hostile: str = "",
            quoted: tuple[str, ...] = ("The council should act.",), n: int = 1) -> Passage:
    """A passage whose every metadata field carries ``hostile`` (after a plain prefix)."""
    meta = DocumentMeta(doc_id=f"doc{n}", title=f"Report {n}{hostile}", council=f"A Council{hostile}",
                        doc_type=f"peer challenge report{hostile}", date="2017-12")
    chunk = Chunk(chunk_id=f"c{n}", doc_id=f"doc{n}", text=text, start=10, end=10 + len(text),
                  section=(f"4. Feedback{hostile}",), ordinal=0, page_label=f"12{hostile}")
    return Passage(chunk, meta, 0.5, quoted=quoted)


def answer(p: Passage, extra: str = "") -> Answer:
    return Answer(question=f"What should it do?{extra}", text=f"{p.quoted[0]}{extra} [1]",
                  abstained=False, passages=(p,), citations=(1,), notice=f"Check it{extra}",
                  index_version="v1")


def mention(p: Passage) -> Mention:
    return Mention(p.meta.doc_id, p.meta.title, p.meta.council, p.meta.date, exact=True,
                   chunk_count=1, occurrences=2, forms=("council",), best=p)


def listing(p: Passage, term: str = "council") -> Listing:
    return Listing(query=f"Which reports mention {term}?", term=term, mode="exact",
                   mentions=(mention(p),), searched_documents=1, total_documents=1,
                   searched_chunks=1)


def comparison(p: Passage, extra: str = "") -> Comparison:
    group = ComparisonGroup(p.meta.council, 2017, (p,), (1,), f"{p.quoted[0]}{extra} [1]", (1,),
                            abstained=False)
    return Comparison(f"Compare them{extra}", (p.meta.council,), (group,), "v1")


# ---------------------------------------------------------------- md_inert, the Markdown escaper

INERT_CASES = [
    "![tracking](http://evil.example/x.png)",  # image: would be fetched on display
    "[click](javascript:alert(1))",  # link
    "[ref]: http://evil.example",  # link reference definition
    "<img src=x onerror=alert(1)>",  # raw HTML
    "<script>alert(1)</script>",
    "<http://evil.example>",  # angle-bracket autolink
    "&lt;b&gt; &amp; &#60;",  # entities must stay as typed, not decode to tags
    "1. first\n2) second",  # ordered list markers
    "- item\n+ item\n* item",  # bullet list markers
    "1986. A year on its own line",
    "Title\n===",  # setext headings
    "Title\n---",
    "# heading\n> quote",
    "`code` **bold** _em_ ~~strike~~",
    "a | b\n--- | ---\n1 | 2",  # a GFM table
    "$x$ and a \\ backslash",
    'say "hi" & \'bye\'',
]


@pytest.mark.parametrize("text", INERT_CASES)
def test_md_inert_text_renders_as_itself(text):
    """Escaped text renders to one paragraph holding exactly the text: no element of its own."""
    rendered = MD.render(md_inert(text))
    assert rendered == "<p>" + html.escape(text, quote=False).replace('"', "&quot;") + "</p>\n"


def test_md_inert_escapes_bare_urls_so_gfm_cannot_autolink_them():
    inert = md_inert("see http://evil.example/x, https://e.example, mailto:a@b.example, www.evil.example")
    assert not re.search(r"(?:https?|mailto):|www\.", inert)  # a GFM linkifier needs these verbatim
    assert re.sub(r"\\(.)", r"\1", inert) == (
        "see http://evil.example/x, https://e.example, mailto:a@b.example, www.evil.example")


def test_markdown_outputs_make_every_document_field_inert():
    p = passage("The council should act <img src=x onerror=alert(1)>. Rest.",
                hostile=" ![t](http://evil.example/t.png) <b>x</b>",
                quoted=("The council should act <img src=x onerror=alert(1)>.",))
    hostile = " [a](http://evil.example) <script>alert(1)</script>"
    outputs = [answer_markdown(answer(p, hostile)), chat_markdown(answer(p, hostile), hostile),
               export_markdown(comparison(p, hostile)), chat_markdown(comparison(p, hostile)),
               export_markdown(listing(p), "v1"), listing_markdown(listing(p), chat=True)]
    for text in outputs:
        rendered = MD.render(text)
        assert not re.search(r"<(?:img|script|a|b)\b", rendered), text
        assert "evil.example" in rendered  # shown as text, not dropped


# ---------------------------------------------------------------- terminal_safe

@pytest.mark.parametrize("raw, safe", [
    # without its ESC a sequence is inert; its printable rest stays as text, as cleaning leaves it
    ("red\x1b[31m alert\x1b[0m", "red[31m alert[0m"),  # CSI colour
    ("\x1b[2J\x1b[Hcleared", "[2J[Hcleared"),  # erase screen, cursor home
    ("\x1b]0;pwned\x07title", "]0;pwnedtitle"),  # OSC window title ended by BEL
    ("\x1b]8;;http://e.example\x1b\\click", "]8;;http://e.example\\click"),  # OSC 8 link
    ("ring\x07", "ring"),  # BEL
    ("hidden\rshown", "hiddenshown"),  # a bare CR would overwrite the line
    ("windows\r\nline", "windows\nline"),
    ("c1 \x9b31mcsi", "c1 31mcsi"),  # 8-bit CSI
    ("next\x85line \x90dcs", "nextline dcs"),  # other C1 controls
    ("reset\x1bc", "resetc"),  # ESC c: full terminal reset
    ("del\x7f \x00nul \x08bs \x0bvt \x0cff", "del nul bs vt ff"),
    ("abc \u202edcba\u202c \u2066x\u2069", "abc dcba x"),  # bidi controls reorder the display
])
def test_terminal_safe_strips_controls_and_escape_sequences(raw, safe):
    assert terminal_safe(raw) == safe


def test_terminal_safe_keeps_ordinary_text():
    text = "Tab\tand newline\n“Quoted” — › é £5,000 (2017–18)"
    assert terminal_safe(text) == text


def test_terminal_output_holds_no_control_from_documents():
    p = passage(f"The council should act.{ESCAPES} Rest.", hostile=ESCAPES,
                quoted=(f"The council should act.{ESCAPES}",))
    record = Record("r1", "recommendation", p.meta.council, "doc1", p.meta.title, "2017-12",
                    f"Act now{ESCAPES}", Source("doc1", (f"4. Feedback{ESCAPES}",), None, 0, 9))
    outputs = [render_answer(answer(p, ESCAPES)), render_comparison(comparison(p, ESCAPES)),
               render_listing(listing(p)), render_table([record])]
    for text in outputs:
        assert not CONTROL.search(text), repr(text)
        assert "red" in text and "bell" in text  # the text itself is kept
    coloured = render_answer(answer(p, ESCAPES), color=True)
    for code in (BOLD, RESET, DIM):  # only the renderer's own codes remain
        coloured = coloured.replace(code, "")
    assert not CONTROL.search(coloured)


def test_render_answer_still_marks_quotes_after_cleaning():
    p = passage("Act\x1b[31m now. Rest.", quoted=("Act\x1b[31m now.",))
    assert "»Act[31m now.«" in render_answer(answer(p))


# ---------------------------------------------------------------- HTML cards

HTML_HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> \' "'


def assert_inert_html(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"<(?:img|iframe|svg|a)\b", page, re.IGNORECASE)
    assert not re.search(r"<[^>]*\son\w+\s*=", page, re.IGNORECASE)  # no live event handler


def test_sources_html_escapes_every_field():
    text = f"The council should act {HTML_HOSTILE}. Rest."
    p = passage(text, hostile=HTML_HOSTILE, quoted=(f"The council should act {HTML_HOSTILE}.",))
    for result in (answer(p), comparison(p), listing(p)):
        page = sources_html(result)
        assert_inert_html(page)
        assert html.escape("<script>alert(1)</script>") in page  # shown, not dropped


def test_context_html_escapes_document_text_around_the_passage():
    p = passage(f"Act {HTML_HOSTILE}.", hostile=HTML_HOSTILE, quoted=(f"Act {HTML_HOSTILE}.",))
    document = SimpleNamespace(text=f"Before {HTML_HOSTILE} " + p.chunk.text + f" after {HTML_HOSTILE}")
    start = document.text.index(p.chunk.text)
    p = replace(p, chunk=replace(p.chunk, start=start, end=start + len(p.chunk.text)))
    store = SimpleNamespace(documents={p.chunk.doc_id: document})
    page = context_html(store, answer(p), 1)
    assert_inert_html(page)
    # text before, in and after the passage, and title, council, type, section, page
    assert page.count(html.escape("<script>")) == 8
    assert '<mark class="pq-quote">' in page


# ---------------------------------------------------------------- shared helpers

def test_reference_line():
    p = passage()
    assert reference(p) == "Report 1 — A Council — 2017-12 — 4. Feedback — p. 12"


def test_plural():
    assert [plural(n, "chunk") for n in (0, 1, 2)] == ["0 chunks", "1 chunk", "2 chunks"]


@pytest.mark.parametrize("width", [10, 41, 71])
def test_shorten_never_exceeds_width(width):
    text = "word " * 40
    short = shorten(text, width)
    assert len(short) <= width and short.endswith("…")
    assert shorten("  short\n text ", width) == "short text"


def test_snippet_centres_on_the_term():
    text = "x " * 300 + "Shared Services " + "y " * 300
    piece = snippet(text, "shared service")  # case and plural as the listing matches them
    assert piece.startswith("…") and piece.endswith("…") and "Shared Services" in piece
    assert len(piece) == 222 and piece.index("Shared") == 1 + 220 // 3
    assert snippet("short text", "absent") == "short text"


def test_numbered_passages_number_like_the_sources_panel():
    one, two = passage(n=1), passage(n=2)
    comp = Comparison("q", ("A",), (ComparisonGroup("A", 2017, (one,), (1,), "", (), True),
                                    ComparisonGroup("A", 2018, (two,), (2,), "", (), True)))
    assert numbered_passages(comp) == {1: one, 2: two}
    assert numbered_passages(listing(two)) == {1: two}
    assert numbered_passages(answer(one)) == {1: one}
    assert numbered_passages(None) == {}
