"""HTML for the web app's panels: source cards, a passage in its document, highlighted quotes.

``gr.HTML`` does not sanitise, so every document-derived string passes through ``esc`` (that is,
``html.escape``) here; only this module's own tags are live.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.compare import Comparison, Listing, Mention
from assistant.render.common import (
    comparison_footnotes,
    listing_banner,
    mention_count,
    numbered_passages,
)
from assistant.route import Result
from assistant.store import IndexStore
from assistant.types import Passage

CONTEXT_CHARS = 1500  # characters of document shown around a passage opened in context


def esc(text: str) -> str:
    """Text as HTML text: ``<``, ``>``, ``&`` and both quotes escaped (safe in attributes too)."""
    return html.escape(text, quote=True)


def _marked(text: str, spans: Sequence[tuple[int, int]], css_class: str) -> str:
    """Escaped ``text`` with the (non-overlapping, first wins) spans wrapped in ``<mark>``."""
    out, pos = [], 0
    for a, b in sorted(spans):
        if a >= pos:
            out += [esc(text[pos:a]), f'<mark class="{css_class}">', esc(text[a:b]), "</mark>"]
            pos = b
    return "".join(out) + esc(text[pos:])


def highlight(text: str, quotes: Sequence[str], css_class: str = "pq-quote") -> str:
    """Escaped ``text`` with each quoted sentence wrapped in ``<mark>`` (quotes never nest)."""
    spans: list[tuple[int, int]] = []
    for quote in quotes:
        start = text.find(quote) if quote else -1
        if start >= 0 and not any(a < start + len(quote) and start < b for a, b in spans):
            spans.append((start, start + len(quote)))
    return _marked(text, spans, css_class)


def _forms_pattern(m: Mention) -> re.Pattern | None:
    """The verbatim forms a listing found in a document ("Combined Authority", "CA")."""
    forms = sorted(m.forms, key=len, reverse=True)
    return re.compile("|".join(rf"(?<!\w){re.escape(f)}(?!\w)" for f in forms)) if forms else None


def _meta_line(p: Passage, score: bool = True) -> str:
    parts = [p.meta.council, p.meta.doc_type, p.meta.date or "undated"]
    if p.chunk.section:
        parts.append(p.chunk.section_title)
    if p.chunk.page_label:
        parts.append(f"p. {p.chunk.page_label}")
    return " · ".join(esc(x) for x in parts) + (f" · score {p.score:.2f}" if score else "")


def _card(n: int, p: Passage, cited: bool, body: str | None = None, note: str = "",
          score: bool = True) -> str:
    note = f'<div class="pq-meta">{esc(note)}</div>' if note else ""
    return (f'<div class="pq-source{" pq-cited" if cited else ""}" id="pq-source-{n}">'
            f'<div class="pq-head"><span class="pq-n">[{n}]</span>{esc(p.meta.title)}</div>'
            f'<div class="pq-meta">{_meta_line(p, score)}</div>{note}'
            f'<div class="pq-text">{highlight(p.chunk.text, p.quoted) if body is None else body}'
            "</div></div>")


def _listing_sources(listing: Listing) -> str:
    cards = []
    for n, m in enumerate(listing.mentions, start=1):
        pattern = _forms_pattern(m)
        spans = [x.span() for x in pattern.finditer(m.best.chunk.text)] if pattern else []
        cards.append(_card(n, m.best, m.exact, _marked(m.best.chunk.text, spans, "pq-quote"),
                           mention_count(m), score=False))
    kind = " pq-abstain" if listing.mode != "exact" else ""
    banner = f'<div class="pq-banner{kind}">{esc(listing_banner(listing))}</div>'
    empty = '<div class="pq-empty">No document mentions it.</div>'
    return banner + '<div class="pq-scroll">' + ("".join(cards) or empty) + "</div>"


def _comparison_sources(comp: Comparison) -> str:
    """The sources per council, each council a collapsed block (the first open), in the order of
    the answer; councils without an answer named in one line."""
    parts = []
    for i, council in enumerate(comp.councils):
        cards = []
        for g in (g for g in comp.groups if g.council == council):
            cards.append(f'<div class="pq-group">{esc(council)} · {g.year or "undated"}</div>')
            cards += [_card(n, p, n in g.citations) for n, p in zip(g.numbers, g.passages)]
        parts.append(f'<details class="pq-council"{" open" if i == 0 else ""}><summary>'
                     f'{esc(council)}</summary>{"".join(cards)}</details>')
    parts += [f'<div class="pq-empty">{esc(line)}</div>' for line in comparison_footnotes(comp)]
    return ('<div class="pq-banner">Sources by council and year</div>'
            '<div class="pq-scroll">' + "".join(parts) + "</div>")


def sources_html(result: Result | None) -> str:
    """The sources panel of an answer, a comparison (grouped by council and year) or a listing."""
    if result is None:
        return '<div class="pq-empty">Sources for the answer appear here.</div>'
    if isinstance(result, Listing):
        return _listing_sources(result)
    if isinstance(result, Comparison):
        return _comparison_sources(result)
    if not result.passages:
        return '<div class="pq-empty">No passage was retrieved.</div>'
    banner = ('<div class="pq-banner pq-abstain">Possibly related passages — not an answer</div>'
              if result.abstained else '<div class="pq-banner">Sources</div>')
    cards = [_card(n, p, n in result.citations) for n, p in enumerate(result.passages, start=1)]
    return banner + '<div class="pq-scroll">' + "".join(cards) + "</div>"


def context_html(store: IndexStore, result: Result | None, n: int | None) -> str:
    """About CONTEXT_CHARS of the source document around passage ``n``, the passage highlighted."""
    p = numbered_passages(result).get(int(n)) if n else None
    if p is None:
        return '<div class="pq-empty">Choose a passage above to read it in its document.</div>'
    doc = store.documents.get(p.chunk.doc_id)
    if doc is None:
        return '<div class="pq-empty">That document is no longer in the index.</div>'
    text, start, end = doc.text, p.chunk.start, p.chunk.end
    pad = max(200, (CONTEXT_CHARS - (end - start)) // 2)
    lo, hi = max(0, start - pad), min(len(text), end + pad)
    cut = text.find(" ", lo, start) if lo > 0 else -1  # cut at spaces, not inside words
    lo = cut + 1 if cut >= 0 else lo
    cut = text.rfind(" ", end, hi) if hi < len(text) else -1
    hi = cut if cut > end else hi
    body = ("…" if lo > 0 else "") + esc(text[lo:start]) + '<span class="pq-chunk">' \
        + highlight(text[start:end], p.quoted) + "</span>" + esc(text[end:hi]) \
        + ("…" if hi < len(text) else "")
    return (f'<div class="pq-head"><span class="pq-n">[{int(n)}]</span>{esc(p.meta.title)}</div>'
            f'<div class="pq-meta">{_meta_line(p, not isinstance(result, Listing))} · characters '
            f'{start}–{end} of {len(text)}</div>'
            f'<div class="pq-context-text" id="pq-context-text">{body}</div>')
