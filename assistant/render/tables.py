"""Rows for tables: the web app's corpus and register tables, and the register as CSV.

The web app's data frames show cells as plain text (``datatype="str"``), so no escaping is
needed there; the CSV protects spreadsheets against formulas in document text.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

from assistant.recommendation_records import Link, Record
from assistant.render.common import action_cell, shorten
from assistant.store import IndexStore
from assistant.themes import THEMES, theme_label


def corpus_rows(store: IndexStore) -> list[list[Any]]:
    """One row per document: title, council, type, date, visit, inferred fields, chunks, file."""
    counts = Counter(c.doc_id for c in store.chunks)
    rows = []
    for doc_id, meta in sorted(store.metas.items(), key=lambda kv: (kv[1].council, kv[1].date)):
        rows.append([meta.title, meta.council, meta.doc_type, meta.date or "undated",
                     meta.visit_date, ", ".join(meta.inferred) or "—", counts.get(doc_id, 0),
                     meta.source])
    return rows


def record_row(record: Record) -> dict:
    """A register record as one flat row (column name → value), for tables and CSV."""
    links = "; ".join(
        f"{link.strength}: {link.status}: {link.text} ({link.source.cite()})"
        for link in record.links
    )
    return {
        "number": record.number or "",
        "council": record.council,
        "date": record.date,
        "kind": record.kind,
        "status": record.status,
        "text": record.text,
        "detail": record.detail,
        "action": action_cell(record) or "",
        "response": record.response,
        "lead": record.lead,
        "themes": ", ".join(record.themes),
        "title": record.title,
        "doc_id": record.doc_id,
        "section": " › ".join(record.source.section),
        "page": record.source.page or "",
        "start": record.source.start,
        "end": record.source.end,
        "links": links,
        "id": record.record_id,
    }


def lineage_summary(links: Sequence[Link]) -> str:
    """Later statements linked to a recommendation: "▸ planned (2018): Work with …" per line."""
    return "\n".join(f"▸ {link.status if link.strength == 'linked' else 'possibly related'} "
                     f"({link.date or 'undated'}): {shorten(link.text, 71)}" for link in links)


def register_table(rows: Sequence[dict], links: dict[str, Sequence[Link]]) -> list[list[str]]:
    """The Recommendations tab's rows (No., Council, Date, Kind, Status, Text, Themes, Source,
    Lineage) from ``record_row`` rows."""
    return [[r["number"], r["council"], r["date"], r["kind"], r["status"] or "—", r["text"],
             ", ".join(theme_label(t) for t in r["themes"].split(", ") if t in THEMES),
             " › ".join(filter(None, (r["title"], r["section"])))
             + (f", p. {r['page']}" if r["page"] else ""),
             lineage_summary(links.get(r["id"], ()))] for r in rows]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Neutralise spreadsheet formulas: text starting with = + - @ (or tab/CR) gets a leading '.

    >>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell("Plain"), csv_cell(-3)
    ('\\'=HYPERLINK("http://x")', 'Plain', -3)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def register_csv(rows: Sequence[dict]) -> str:
    """CSV text of ``record_row`` rows, protected against formula injection."""
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return out.getvalue()
