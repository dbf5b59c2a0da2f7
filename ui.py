"""The web chat (``peerqa serve``): a Gradio Blocks app over a loaded index.

Rendering rule: document and user text reaches the page only through ``html.escape`` (the HTML
panels) or ``md_inert`` (chat Markdown). ``gr.HTML`` does not sanitise, and even sanitised
Markdown would fetch a remote image written as ``![x](http://...)``.
"""

# isort: off
import assistant  # noqa: F401  -- first: switches every library to offline mode before gradio loads
# isort: on

import hashlib
import html
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
import pandas as pd

from assistant.answering import ask
from assistant.compare import (
    Comparison,
    Listing,
    Mention,
    compare,
    is_comparison,
    is_listing,
    list_mentions,
    phrase_pattern,
)
from assistant.errors import IndexNotFound, PeerqaError, UsageError
from assistant.exports import new_export_dir, remove_own, remove_stale
from assistant.recommendations import build_register, register_csv, register_rows
from assistant.render import answer_markdown, reference
from assistant.retrieval import Retriever, make_filters
from assistant.settings import Settings
from assistant.store import IndexStore, load_index
from assistant.themes import THEMES, resolve_theme, theme_label
from assistant.types import Answer, Filters, Passage
from assistant.web_guard import launch_options

ALL_COUNCILS, ALL_TYPES, ANY_THEME, ALL = "All councils", "All types", "Any theme", "All"
THEME_LABELS = [t.label for t in THEMES.values()]
REGISTER_HEADERS = ["No.", "Council", "Date", "Kind", "Status", "Text", "Themes", "Source", "Lineage"]
Result = Answer | Comparison | Listing  # what one chat turn produced
CONTEXT_CHARS = 1500  # characters of document shown around a passage opened in context
EXAMPLES = [
    "What did the peers say about how quickly the city council makes decisions?",
    "What were the key recommendations for Cambridge City Council?",
    "How did Cambridgeshire County Council respond to the 2013 peer review?",
    "What progress had the county council made by the 2022 progress review?",
    "What did the peers say about shared services?",
]
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


# ---------------------------------------------------------------- follow-up questions (pure)

_LEAD = re.compile(r"^(?:(?:and|also|but|so|ok|okay)\b[\s,]*)+", re.IGNORECASE)
_FOCUS = re.compile(r"^(?:what|how)\s+about\s+(?P<focus>.+)$", re.IGNORECASE)
_WH = re.compile(r"^(?:what|how|why|who|whom|whose|when|where|which|did|does|do|is|are|was|were|"
                 r"can|could|should|would|will|has|have|had)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z'-]*", re.IGNORECASE)
_KINDS = r"(?:city|county|district|borough|town)"
_GENERIC_COUNCIL = re.compile(rf"\bthe\s+{_KINDS}(?:\s+council)?\b|\b{_KINDS}\s+council\b",
                              re.IGNORECASE)
_PROPER_COUNCIL = re.compile(
    r"\b(?:[A-Z][a-z]+[ -])+(?:(?:City|County|District|Borough|Town)\s+)?Council\b")
_PRONOUNS = {"it", "its", "they", "them", "their", "theirs", "that", "this", "those", "these"}
_OBJECT_PRONOUNS = ("it", "this", "that", "these", "those")
_FUNCTION_WORDS = set("""a an the and or but so of in on at to for from with by about as into over than
then what how why who whom whose when where which did does do done is are was were be been being
can could should would will shall may might must has have had not no any some more most other else
same again also just there here me my we our us you your i he she his her peers peer team council
councils say said says tell told think thought recommend recommended recommendation recommendations
suggest suggested find found mean means happen happened make made give gave see saw do anything
something thing things issue issues point points topic area areas matter aspect part one ones detail
details further exactly really please why""".split())  # noqa: SIM905 -- easier to read as prose


def _council_mention(text: str, councils: Sequence[str] = ()) -> re.Match[str] | None:
    """The first phrase naming a council: "Cambridge City Council", "the county", "Cambridgeshire"."""
    places = sorted({w for c in councils for w in re.findall(r"[A-Z][a-z]+", c)} - {"City", "County",
                    "District", "Borough", "Town", "Council"}, key=len, reverse=True)
    patterns = [_PROPER_COUNCIL, _GENERIC_COUNCIL]
    if places:
        names = "|".join(map(re.escape, places))
        patterns.append(re.compile(rf"\b(?:{names})(?:\s+{_KINDS})?(?:\s+council)?\b", re.IGNORECASE))
    found = [m for p in patterns for m in [p.search(text)] if m]
    leading = re.compile(r"^(?:And|What|Which|How|Why|When|Also|But|So|The)\s+(?=[A-Z])")
    found = [m for m in found if not leading.match(m.group(0))] or found
    return min(found, key=lambda m: (m.start(), -len(m.group(0)))) if found else None


def _council_phrase(phrase: str, councils: Sequence[str] = ()) -> str:
    """"the county" → "the county council"; "Cambridgeshire" → "Cambridgeshire County Council"."""
    if re.fullmatch(rf"the\s+{_KINDS}", phrase, re.IGNORECASE):
        return phrase + " council"
    owners = [c for c in councils if phrase.lower() in re.findall(r"[a-z]+", c.lower())]
    return owners[0] if len(owners) == 1 else phrase


def rewrite_followup(question: str, history_questions: Sequence[str],
                     councils: Sequence[str] = ()) -> str:
    """Turn a follow-up into a standalone question using the previous (standalone) question.

    A follow-up is a short question that starts with "and"/"what about", or leans on a pronoun
    (it, they, that, …) with no topic word of its own. After
    "What did the peers say about the city council's finances?":
      "and what about the county council?"
        → "What did the peers say about the county council's finances?"
      "what about shared services?"
        → "What did the peers say about shared services at the city council?"
      "what did they recommend about it?"
        → "What did they recommend about the city council's finances?"
    Anything else comes back unchanged.
    """
    question = " ".join(question.split())
    previous = next((q.strip() for q in reversed(history_questions) if q and q.strip()), "")
    if not previous or not question:
        return question
    lead = _LEAD.match(question)
    rest = question[lead.end():] if lead else question
    words = [w.lower() for w in _WORD.findall(rest)]
    if len(words) > 14 or not words:
        return question
    focus_match = _FOCUS.match(rest)
    if focus_match or (lead and not _WH.match(rest)):
        focus = (focus_match.group("focus") if focus_match else rest).strip(" ?.!")
        focus = re.sub(r"^(?:for|at|in|on|regarding|with)\s+", "", focus, flags=re.IGNORECASE)
        return _combine_focus(previous, focus, councils)
    mention = _council_mention(rest, councils)
    topic = {w for w in words if w not in _FUNCTION_WORDS and w not in _PRONOUNS}
    if mention:
        topic -= {w.lower() for w in _WORD.findall(mention.group(0))}
    if topic or not (lead or len(words) <= 3 or _PRONOUNS & set(words)):
        return question
    if mention:  # "is that the same for the county council?"
        return _combine_focus(previous, mention.group(0), councils)
    return _resolve_pronouns(rest, previous)


def _strip_q(text: str) -> str:
    return text.strip().rstrip("?.! ")


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _combine_focus(previous: str, focus: str, councils: Sequence[str]) -> str:
    """Previous question with its council swapped for ``focus``, or its topic swapped."""
    old = _council_mention(previous, councils)
    if _council_mention(focus, councils):
        new = _council_phrase(focus, councils)
        if old:
            return _capitalise(previous[:old.start()] + new + previous[old.end():])
        return f"{_strip_q(previous)} for {new}?"
    about = previous.lower().rfind(" about ")
    if about >= 0:
        head, tail = previous[:about + 7], previous[about + 7:]
        where = ""
        tail_mention = _council_mention(tail, councils)
        if tail_mention:
            where = f" at {_council_phrase(tail_mention.group(0), councils)}"
        return f"{head}{focus}{where}?"
    return f"{_strip_q(previous)} — what about {focus}?"


def _resolve_pronouns(question: str, previous: str) -> str:
    """Put the previous question's topic (its "about …" part) where the pronoun stands.

    "what did they recommend about it?" → "… about <topic>?"; "what did they recommend?" →
    "… recommend about <topic>?"; anything else ("why is that?") is appended to the previous one.
    """
    body = _strip_q(question)
    about = previous.lower().rfind(" about ")
    objects = "|".join(_OBJECT_PRONOUNS)
    if about >= 0:
        topic = _strip_q(previous[about + 7:])
        after_preposition = re.compile(
            rf"\b(about|on|for|with|to|of|regarding|into)\s+(?:{objects})\b", re.IGNORECASE)
        if after_preposition.search(body):
            resolved = after_preposition.sub(lambda m: f"{m.group(1)} {topic}", body, count=1)
            return _capitalise(resolved) + "?"
        has_object = re.search(rf"\b(?:{objects})\b", body, re.IGNORECASE)
        if not has_object and re.match(r"(?:what|which)\b", body, re.IGNORECASE):
            return _capitalise(body) + f" about {topic}?"
    return f"{_strip_q(previous)} — {body[:1].lower() + body[1:]}?"


# ---------------------------------------------------------------- rendering (pure)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!#|~$&])")
_AUTOLINK = re.compile(r"\b(?:https?|ftp|mailto):|\bwww\.", re.IGNORECASE)  # GFM would link these
# list items and setext headings at a line start
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))", re.MULTILINE)


def md_inert(text: str) -> str:
    r"""Backslash-escape Markdown/HTML syntax so the text renders as itself: no images, links, tags.

    >>> print(md_inert("![x](http://e/x.png) <b>\n1. one"))
    \!\[x\](http\://e/x.png) \<b\>
    1\. one
    """
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], text)  # bare URLs stay text
    return _MD_LINE_START.sub(lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else
                                                      f"{m.group(3)}\\{m.group(4)}"), text)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _marked(text: str, spans: Sequence[tuple[int, int]], css_class: str) -> str:
    """Escaped ``text`` with the (non-overlapping, first wins) spans wrapped in ``<mark>``."""
    out, pos = [], 0
    for a, b in sorted(spans):
        if a >= pos:
            out += [_esc(text[pos:a]), f'<mark class="{css_class}">', _esc(text[a:b]), "</mark>"]
            pos = b
    return "".join(out) + _esc(text[pos:])


def highlight(text: str, quotes: Sequence[str], css_class: str = "pq-quote") -> str:
    """Escaped ``text`` with each quoted sentence wrapped in ``<mark>`` (quotes never nest)."""
    spans = []
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
    return " · ".join(_esc(x) for x in parts) + (f" · score {p.score:.2f}" if score else "")


def _card(n: int, p: Passage, cited: bool, body: str | None = None, note: str = "",
          score: bool = True) -> str:
    note = f'<div class="pq-meta">{_esc(note)}</div>' if note else ""
    return (f'<div class="pq-source{" pq-cited" if cited else ""}" id="pq-source-{n}">'
            f'<div class="pq-head"><span class="pq-n">[{n}]</span>{_esc(p.meta.title)}</div>'
            f'<div class="pq-meta">{_meta_line(p, score)}</div>{note}'
            f'<div class="pq-text">{highlight(p.chunk.text, p.quoted) if body is None else body}'
            "</div></div>")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def mention_count(m: Mention) -> str:
    if m.exact:
        return (f"{_plural(m.occurrences, 'mention')} ({' / '.join(m.forms)}) "
                f"in {_plural(m.chunk_count, 'chunk')}")
    return f"{_plural(m.chunk_count, 'similar chunk')}, best similarity {m.best.score:.2f}"


def _listing_banner(listing: Listing) -> str:
    return f"Documents mentioning “{listing.term}” — {listing.summary()}"


def sources_html(result: Result | None) -> str:
    """The sources panel of an answer, a comparison (grouped by council and year) or a listing."""
    if result is None:
        return '<div class="pq-empty">Sources for the answer appear here.</div>'
    if isinstance(result, Listing):
        cards = []
        for n, m in enumerate(result.mentions, start=1):
            pattern = _forms_pattern(m)
            spans = [x.span() for x in pattern.finditer(m.best.chunk.text)] if pattern else []
            cards.append(_card(n, m.best, m.exact, _marked(m.best.chunk.text, spans, "pq-quote"),
                               mention_count(m), score=False))
        kind = " pq-abstain" if result.mode != "exact" else ""
        banner = f'<div class="pq-banner{kind}">{_esc(_listing_banner(result))}</div>'
        empty = '<div class="pq-empty">No document mentions it.</div>'
        return banner + '<div class="pq-scroll">' + ("".join(cards) or empty) + "</div>"
    if isinstance(result, Comparison):
        parts = []
        for g in result.groups:
            parts.append(f'<div class="pq-group">{_esc(g.council)} · {g.year or "undated"}</div>')
            parts += [_card(n, p, n in g.citations) for n, p in zip(g.numbers, g.passages)]
            if not g.passages:
                parts.append('<div class="pq-empty">No passage for this council.</div>')
        return ('<div class="pq-banner">Sources by council and year</div>'
                '<div class="pq-scroll">' + "".join(parts) + "</div>")
    if not result.passages:
        return '<div class="pq-empty">No passage was retrieved.</div>'
    banner = ('<div class="pq-banner pq-abstain">Possibly related passages — not an answer</div>'
              if result.abstained else '<div class="pq-banner">Sources</div>')
    cards = [_card(n, p, n in result.citations) for n, p in enumerate(result.passages, start=1)]
    return banner + '<div class="pq-scroll">' + "".join(cards) + "</div>"


def numbered_passages(result: Result | None) -> dict[int, Passage]:
    """Citation number → passage, as the sources panel numbers them."""
    if isinstance(result, Comparison):
        return {n: p for g in result.groups for n, p in zip(g.numbers, g.passages)}
    if isinstance(result, Listing):
        return {n: m.best for n, m in enumerate(result.mentions, start=1)}
    return dict(enumerate(result.passages, start=1)) if result is not None else {}


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
    body = ("…" if lo > 0 else "") + _esc(text[lo:start]) + '<span class="pq-chunk">' \
        + highlight(text[start:end], p.quoted) + "</span>" + _esc(text[end:hi]) \
        + ("…" if hi < len(text) else "")
    return (f'<div class="pq-head"><span class="pq-n">[{int(n)}]</span>{_esc(p.meta.title)}</div>'
            f'<div class="pq-meta">{_meta_line(p, not isinstance(result, Listing))} · characters '
            f'{start}–{end} of {len(text)}</div>'
            f'<div class="pq-context-text" id="pq-context-text">{body}</div>')


_CITE = re.compile(r"\\\[(\d{1,2})\\\]")


def _cited(line: str, chat: bool) -> str:
    """One answer line made inert, its trailing [n] in bold for the chat."""
    return _CITE.sub(r"**[\1]**", md_inert(line)) if chat else md_inert(line)


def answer_chat_markdown(answer: Answer, understood_as: str = "") -> str:
    """The assistant's chat message: label, cited answer (document text made inert), notice."""
    out = []
    if understood_as:
        out.append(f"*Understood as: “{md_inert(understood_as)}”*\n")
    if answer.abstained:
        out.append("### ⚠️ No answer in the corpus\n")
        out.append(md_inert(answer.text))
    else:
        label = ("**Generated answer** — written by a language model from the passages; check "
                 "the citations." if answer.mode == "generative"
                 else "**Answer** — quoted from the documents:")
        out.append(label + "\n")
        for line in answer.text.splitlines():  # one quote per paragraph, its citation in bold
            out.append(_cited(line, True) + "\n")
    if answer.notice:
        out.append(f"\n*Note: {md_inert(answer.notice)}*")
    return "\n".join(out)


def _references(pairs: Sequence[tuple[int, Passage]], cited: Sequence[int] | None) -> list[str]:
    """Numbered references with their quotes; ``cited=None``: no "(not quoted)" notes."""
    out = ["## References", ""]
    for n, p in pairs:
        note = "" if cited is None or n in cited else " (not quoted)"
        out.append(f"{n}. {md_inert(reference(p))} (characters {p.chunk.start}–{p.chunk.end}){note}")
        out += [f"   - “{md_inert(q)}”" for q in p.quoted]
    return out + [""]


def comparison_markdown(comp: Comparison, chat: bool = False) -> str:
    """The comparison per council and year: the chat message, or (``chat=False``) the export."""
    out = [] if chat else [f"# {md_inert(comp.question)}", ""]
    out += [("**Comparison** — quoted from the documents, by council and year; numbers refer to "
             "the sources."), ""]
    for council in comp.councils:
        out += [f"### {md_inert(council)}", ""]
        for g in (g for g in comp.groups if g.council == council):
            titles = "; ".join(sorted({p.meta.title for p in g.passages})) or "no passages"
            out += [f"**{g.year or 'undated'}** — *{md_inert(titles)}*", ""]
            if g.abstained:
                out.append("*No passage answers this for this council and year" + (
                    " (closest passages listed as possibly related).*" if g.passages else ".*"))
            out += [f"- {_cited(line, chat)}" for line in g.text.splitlines()] + [""]
    if not chat:
        pairs = [(n, p) for g in comp.groups for n, p in zip(g.numbers, g.passages)]
        out += _references(pairs, [c for g in comp.groups for c in g.citations])
        out.append(f"Index version: {comp.index_version or 'unknown'}")
    return "\n".join(out).rstrip() + "\n"


def _snippet(text: str, term: str, width: int = 220) -> str:
    text = " ".join(text.split())
    at = phrase_pattern(term).search(text) if term else None
    start = max(0, (at.start() if at else 0) - width // 3)
    return ("…" if start else "") + text[start:start + width] + ("…" if start + width < len(text) else "")


def listing_markdown(listing: Listing, chat: bool = False, version: str = "") -> str:
    """Every document mentioning the term: the chat message, or (``chat=False``) the export."""
    out = [] if chat else [f"# {md_inert(listing.query)}", ""]
    out += [f"**{md_inert(_listing_banner(listing))}.**", ""]
    if listing.mode == "semantic":
        out += [(f"*No document contains the phrase; these passages are semantically similar "
                 f"(similarity ≥ {listing.threshold:.2f}) and only possibly related.*"), ""]
    if not listing.mentions:
        out += ["*No document mentions it.*", ""]
    for n, m in enumerate(listing.mentions, start=1):
        cite = f"**[{n}]**" if chat else f"\\[{n}\\]"
        out.append(f"{n}. **{md_inert(m.title)}** — {md_inert(m.council)} — {m.date or 'undated'}: "
                   f"{md_inert(mention_count(m))} {cite}")
        out.append(f"   - “{md_inert(_snippet(m.best.chunk.text, listing.term if m.exact else ''))}”")
    if not chat:
        out += [""] + _references([(n, m.best) for n, m in enumerate(listing.mentions, 1)], None)
        out.append(f"Index version: {version or 'unknown'}")
    return "\n".join(out).rstrip() + "\n"


def chat_markdown(result: Result, understood_as: str = "") -> str:
    if isinstance(result, Answer):
        return answer_chat_markdown(result, understood_as)
    head = f"*Understood as: “{md_inert(understood_as)}”*\n\n" if understood_as else ""
    if isinstance(result, Comparison):
        return head + comparison_markdown(result, chat=True)
    return head + listing_markdown(result, chat=True)


def export_markdown(result: Result, version: str = "") -> str:
    if isinstance(result, Comparison):
        return comparison_markdown(result)
    if isinstance(result, Listing):
        return listing_markdown(result, version=version)
    return answer_markdown(result)


def corpus_rows(store: IndexStore) -> list[list[Any]]:
    counts = Counter(c.doc_id for c in store.chunks)
    rows = []
    for doc_id, meta in sorted(store.metas.items(), key=lambda kv: (kv[1].council, kv[1].date)):
        rows.append([meta.title, meta.council, meta.doc_type, meta.date or "undated", meta.visit_date,
                     ", ".join(meta.inferred) or "—", counts.get(doc_id, 0), meta.source])
    return rows


def corpus_summary(store: IndexStore) -> str:
    metas = list(store.metas.values())
    years = sorted(y for m in metas for y in m.years)
    span = f"{years[0]}–{years[-1]}" if years else "undated"
    councils = ", ".join(sorted({m.council for m in metas}))
    return (f"{len(metas)} documents ({len(store.chunks)} passages), {span}, about: {councils}. "
            f"Index version {store.version or 'unknown'}.")


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


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 2].rstrip() + "…"


def _short_label(p: Passage) -> str:
    """Selector label: the passage's own section heading (more telling than the title), short."""
    return _short(p.chunk.section[-1] if p.chunk.section else p.meta.title, 42)


def passage_choices(result: Result) -> list[tuple[str, int]]:
    """The "show passage in context" choices; a listing's are named by document date and type."""
    def label(p: Passage) -> str:
        return f"{p.meta.date or 'undated'} {p.meta.doc_type}" if isinstance(result, Listing) \
            else _short_label(p)

    return [(f"[{n}] {label(p)}", n) for n, p in numbered_passages(result).items()]


def _skip_turn() -> Turn:
    return Turn(*(gr.skip() for _ in Turn._fields))


def lineage_summary(links: Sequence[Any]) -> str:
    """Later statements linked to a recommendation: "▸ planned (2018): Work with …" per line."""
    return "\n".join(f"▸ {link.status if link.strength == 'linked' else 'possibly related'} "
                     f"({link.date or 'undated'}): {_short(link.text, 72)}" for link in links)


def register_table(rows: Sequence[dict], links: dict[str, Sequence[Any]]) -> list[list[str]]:
    """The Recommendations tab's rows (REGISTER_HEADERS) from ``register_rows`` output."""
    return [[r["number"], r["council"], r["date"], r["kind"], r["status"] or "—", r["text"],
             ", ".join(theme_label(t) for t in r["themes"].split(", ") if t in THEMES),
             " › ".join(filter(None, (r["title"], r["section"]))) + (f", p. {r['page']}" if r["page"] else ""),
             lineage_summary(links.get(r["id"], ()))] for r in rows]


def register_summary(rows: Sequence[dict]) -> str:
    kinds = Counter(r["kind"] for r in rows)
    counted = ", ".join(_plural(n, kind) for kind, n in kinds.items())
    return (f"**{_plural(len(rows), 'record')}**{': ' + counted if counted else ''}. A recommendation's "
            "*status* is that of the latest statement firmly linked to it; *possibly related* means "
            "only weak links were found. *Lineage* lists the later statements.")


class ChatHandlers:
    """The app's event handlers as plain methods, so tests can call them without a server."""

    def __init__(self, store: IndexStore, settings: Settings, retriever: Retriever,
                 export_dir: Path | None = None):
        self.store, self.settings, self.retriever = store, settings, retriever
        self.councils = sorted({m.council for m in store.metas.values()})
        self.export_dir = export_dir or new_export_dir()  # removed when the server stops
        self._register: tuple[list[dict], dict[str, Sequence[Any]]] | None = None
        self._register_lock = threading.Lock()

    def filters(self, council: str | None, doc_type: str | None, years: str | None,
                theme: str | None = None) -> Filters:
        return make_filters(self.store, council=None if council in (None, "", ALL_COUNCILS) else council,
                            doc_type=None if doc_type in (None, "", ALL_TYPES) else doc_type,
                            year=(years or "").strip() or None,
                            theme=None if theme in (None, "", ANY_THEME) else theme)

    def answer(self, question: str, filters: Filters) -> Result:
        """Route like ``peerqa ask``: listing, then comparison, then an ordinary answer."""
        if is_listing(question):  # "which reports mention X?": every chunk, not the top k
            return list_mentions(question, self.store, encoder=self.retriever.encoder, filters=filters)
        if is_comparison(question, self.councils):
            return compare(question, self.store, self.settings, self.retriever, filters)
        return ask(question, self.store, self.settings, filters, retriever=self.retriever)

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
        try:
            limit = self.settings.answer.max_question_chars
            if len(message) > limit:
                raise UsageError(f"Your question is {len(message)} characters long; the limit is "
                                 f"{limit}. Shorten it and ask again.")
            filters = self.filters(council, doc_type, years, theme)
            standalone = rewrite_followup(message, asked, self.councils)
            result = self.answer(standalone, filters)
        except PeerqaError as exc:
            reply = {"role": "assistant", "content": f"**Cannot ask that:** {md_inert(str(exc))}"}
            skip = gr.skip()
            return Turn(skip, history + [user_msg, reply], skip, skip, skip, skip, skip, skip, skip)
        understood = standalone if standalone != " ".join(message.split()) else ""
        content = chat_markdown(result, understood)
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
per council and year, numbered across the groups. **Listings** ("Which reports mention the
Combined Authority?") list every document that mentions the term, with counts and its best
passage, and say how much of the corpus was searched. The *Theme* filter keeps passages tagged
with that theme.

**Follow-up questions** such as "and the county council?" or "what did they recommend about it?"
are completed from your previous question; the reply shows how it was understood.

**What is in the corpus:** {summary} See the *Corpus* tab for the list and the
*Recommendations* tab for the register of recommendations and what became of them."""


def build_app(store: IndexStore, settings: Settings, retriever: Retriever | None = None) -> gr.Blocks:
    """The Blocks app. ``retriever`` defaults to one with the real query encoder."""
    handlers = ChatHandlers(store, settings, retriever or Retriever(store, settings))
    metas = list(store.metas.values())
    councils = [ALL_COUNCILS, *sorted({m.council for m in metas})]
    doc_types = [ALL_TYPES, *sorted({m.doc_type for m in metas})]
    years = sorted(y for m in metas for y in m.years)
    span = f"Documents span {years[0]}–{years[-1]}" if years else None
    with gr.Blocks(title="peerqa — peer challenge documents", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as app:
        gr.Markdown("## peerqa — ask the peer challenge documents\nAnswers quote the documents "
                    "and cite each passage; nothing leaves this machine.")
        asked = gr.State([])
        last_answer = gr.State(None)
        with gr.Tab("Ask"), gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", elem_id="pq-chat", height=520,
                                  buttons=["copy"], feedback_options=None,
                                  placeholder="Ask about the LGA corporate peer challenges in the "
                                              "corpus. Answers cite their sources as [1], [2], …")
                with gr.Row():
                    question = gr.Textbox(show_label=False, scale=5, elem_id="pq-question",
                                          autofocus=True, max_lines=4,
                                          placeholder="Type a question and press Enter")
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    clear = gr.Button("New chat", scale=1, min_width=80)
                gr.Examples(EXAMPLES, inputs=[question], label="Example questions")
                with gr.Accordion("Filters", open=False), gr.Row():
                    council = gr.Dropdown(councils, value=ALL_COUNCILS, label="Council")
                    doc_type = gr.Dropdown(doc_types, value=ALL_TYPES, label="Document type")
                    year = gr.Textbox(label="Years", placeholder="e.g. 2013 or 2013-2017", info=span)
                    theme = gr.Dropdown([ANY_THEME, *THEME_LABELS], value=ANY_THEME, label="Theme",
                                        elem_id="pq-theme")
                with gr.Accordion("How to read the answers", open=False):
                    gr.Markdown(HELP.format(summary=md_inert(corpus_summary(store))))
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="pq-sources")
                passage = gr.Radio([], label="Show passage in context", elem_id="pq-passage")
                context = gr.HTML(context_html(store, None, None), elem_id="pq-context")
                download = gr.DownloadButton("Download answer with references (.md)", value=None,
                                             interactive=False, size="sm", elem_id="pq-download")
                with gr.Accordion("Answer as Markdown (copy)", open=False):
                    markdown = gr.Textbox(show_label=False, lines=8, max_lines=20, buttons=["copy"],
                                          interactive=False)
        with gr.Tab("Corpus"):
            gr.Markdown(md_inert(corpus_summary(store)))
            gr.Dataframe(corpus_rows(store), headers=["Title", "Council", "Type", "Date", "Visit",
                                                       "Inferred fields", "Chunks", "File"],
                         datatype="str", interactive=False, wrap=True, elem_id="pq-corpus",
                         max_height=900,
                         column_widths=["28%", "14%", "11%", "9%", "8%", "9%", "7%", "14%"])
        with gr.Tab("Recommendations", elem_id="pq-register-tab") as register_tab:
            gr.Markdown("What the peers recommended, what the councils planned and what later "
                        "reviews said, taken from the documents' own lists and tables.")
            with gr.Row(equal_height=True):
                reg_council = gr.Dropdown([ALL, *handlers.councils], value=ALL, label="Council")
                reg_theme = gr.Dropdown([ALL, *THEME_LABELS], value=ALL, label="Theme")
                reg_csv = gr.DownloadButton("Download CSV", value=None, interactive=False, size="md",
                                            elem_id="pq-register-csv", scale=0, min_width=160)
            reg_summary = gr.Markdown("*Loading the register…*", elem_id="pq-register-summary")
            reg_table = gr.Dataframe(headers=REGISTER_HEADERS, datatype="str", interactive=False,
                                     wrap=True, elem_id="pq-register", max_height=1400,
                                     column_widths=["3%", "8%", "5%", "9%", "7%", "21%", "9%",
                                                    "12%", "26%"])

        turn_in = [question, chat, asked, council, doc_type, year, theme]
        turn_out = [question, chat, asked, last_answer, sources, passage, context, download, markdown]
        # Enter and the button share one queue slot: answering embeds the question (CPU-bound).
        question.submit(handlers.ask, turn_in, turn_out, api_name="ask", concurrency_id="answer")
        send.click(handlers.ask, turn_in, turn_out, api_visibility="private", concurrency_id="answer")
        passage.input(handlers.show_context, [passage, last_answer], context,  # user picks only
                      api_visibility="private")
        cleared = [chat, asked, last_answer, sources, passage, context, download, markdown]
        clear.click(handlers.clear, None, cleared, api_visibility="private")
        chat.clear(handlers.clear, None, cleared, api_visibility="private")
        # The register is computed on first view (it embeds every record), then cached.
        reg_out = [reg_table, reg_summary, reg_csv]
        register_tab.select(handlers.register, [reg_council, reg_theme], reg_out,
                            api_name="recommendations", concurrency_id="answer")
        for dropdown in (reg_council, reg_theme):
            dropdown.input(handlers.register, [reg_council, reg_theme], reg_out,
                           api_visibility="private", concurrency_id="answer")
    app.queue(default_concurrency_limit=1, max_size=64)  # 2 cores: one embedding at a time
    return app


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


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          auth_file: str | None = None) -> int:
    """Load (or build) the index, warm the query encoder, and serve until interrupted."""
    auth = None
    if auth_file:
        from assistant.users import load_users
        from assistant.web_guard import throttled_auth

        auth = throttled_auth(load_users(Path(auth_file)))
    remove_stale()  # export folders of servers that died without cleaning up
    try:
        store = load_index(settings)
    except IndexNotFound:
        if not Path(settings.corpus_dir).is_dir():
            print(f"peerqa: no index at {settings.index_dir}/ and no corpus folder at "
                  f"{settings.corpus_dir}/. Put documents in a corpus folder and run "
                  "`peerqa ingest` first.", file=sys.stderr)
            return 3
        from ingest.build import ingest

        print(f"peerqa: no index yet; building it from {settings.corpus_dir}/ …", file=sys.stderr)
        print(ingest(settings).summary(), file=sys.stderr)
        store = load_index(settings)
    retriever = Retriever(store, settings)
    retriever.search("peer challenge recommendations")  # loads the model now, not on the first question
    if auth is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"peerqa: warning: serving on {host} without --auth-file; anyone who can reach "
              "it can ask.", file=sys.stderr)
    # quiet: gradio's banner suggests share=True, which this project never uses
    app = build_app(store, settings, retriever)
    try:
        start(app, host, port, auth=auth, quiet=True, prevent_thread_lock=True)
    except OSError as exc:  # e.g. the port is taken
        raise PeerqaError(f"Cannot serve on {host}:{port} ({str(exc).split('. ')[0]}); "
                          "pick another port with --port.") from exc
    print(f"peerqa: serving {len(store.documents)} documents on http://{host}:{port} (Ctrl-C to stop)",
          file=sys.stderr)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        remove_own()  # the exported answers go with the server
    return 0
