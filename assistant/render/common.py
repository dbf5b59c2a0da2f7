"""Pieces every output format shares: reference lines, counts, snippets, passage numbering."""

from __future__ import annotations

import re

from assistant.compare import Comparison, ComparisonGroup, Listing, Mention, phrase_pattern
from assistant.recommendation_records import Record
from assistant.route import Result
from assistant.types import Passage


def reference(p: Passage) -> str:
    """"Title — Council — 2017-12 — 4. Feedback › 4.7 Shared Services — p. 12"."""
    parts = [p.meta.title, p.meta.council, p.meta.date or "undated"]
    if p.chunk.section:
        parts.append(" › ".join(p.chunk.section))
    if p.chunk.page_label:
        parts.append(f"p. {p.chunk.page_label}")
    return " — ".join(parts)


def plural(n: int, noun: str) -> str:
    """``plural(1, "chunk")`` → "1 chunk"; ``plural(3, "chunk")`` → "3 chunks"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def shorten(text: str, width: int) -> str:
    """Whitespace collapsed, cut to at most ``width`` characters with "…" when cut."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def snippet(text: str, term: str, width: int = 220) -> str:
    """About ``width`` characters of ``text`` around the first match of ``term`` (else its start)."""
    text = " ".join(text.split())
    at = phrase_pattern(term).search(text) if term else None
    start = max(0, (at.start() if at else 0) - width // 3)
    piece = text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def numbered_passages(result: Result | None) -> dict[int, Passage]:
    """Citation number → passage, as every format numbers them."""
    if isinstance(result, Comparison):
        return {n: p for g in result.groups for n, p in zip(g.numbers, g.passages)}
    if isinstance(result, Listing):
        return {n: m.best for n, m in enumerate(result.mentions, start=1)}
    return dict(enumerate(result.passages, start=1)) if result is not None else {}


def mention_count(m: Mention) -> str:
    """"3 mentions (Combined Authority / CA) in 2 chunks", or for a semantic match
    "2 similar chunks, best similarity 0.61"."""
    if m.exact:
        return (f"{plural(m.occurrences, 'mention')} ({' / '.join(m.forms)}) "
                f"in {plural(m.chunk_count, 'chunk')}")
    return f"{plural(m.chunk_count, 'similar chunk')}, best similarity {m.best.score:.2f}"


def comparison_banner(comp: Comparison) -> str:
    """The line above a comparison or a council listing, saying how it is ordered."""
    if comp.kind == "councils":
        return (f"**{plural(len(comp.councils), 'council')}** of {len(comp.councils) + len(comp.unanswered)} "
                "searched: those whose documents say so, the strongest evidence first; quoted from "
                "the documents, numbers refer to the sources.")
    return ("**Comparison** — quoted from the documents, by council and year; numbers refer to "
            "the sources.")


def comparison_footnotes(comp: Comparison) -> list[str]:
    """One line each for the councils without an answer and those the corpus does not hold."""
    lines = []
    if comp.unanswered:
        what = "Not found" if comp.kind == "councils" else "No passage answers this"
        lines.append(f"{what} in the documents of: {', '.join(comp.unanswered)}.")
    if comp.not_held:
        lines.append(f"The corpus holds no documents about: {', '.join(comp.not_held)}.")
    return lines


def council_gist(groups: list[ComparisonGroup] | tuple[ComparisonGroup, ...], width: int = 110) -> str:
    """The first quoted sentence of a council's first answered group, short, without its [n]."""
    first = next((g.text.splitlines()[0] for g in groups if not g.abstained and g.text), "")
    return shorten(re.sub(r"\s*\[\d+\]$", "", first), width) or "no answer quoted"


def listing_banner(listing: Listing) -> str:
    return f"Documents mentioning “{listing.term}” — {listing.summary()}"


def action_cell(record: Record) -> str | None:
    """The action cell of an action-plan row; None for other kinds, or when the row lacks one
    (its ``text`` is then the response)."""
    if record.kind != "action-plan row" or record.response == record.text:
        return None
    return record.text
