"""The recommendations register: what peers recommended, what councils planned, what progressed.

Records are extracted by ``assistant.recommendation_records``.

Lineage (``link_records``) joins each recommendation to statements about it in later
documents of the same council and the same peer challenge (same visit date): an action the
council planned in response, or a progress statement. Links are found by embedding
similarity; a link is "linked" only when the statement is more similar to this
recommendation than to any other and the similarity is high, else "possibly related".
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from assistant.errors import UsageError
from assistant.recommendation_records import (
    Link,
    Record,
    Source,
    extract_records,
)
from assistant.settings import RegisterSettings, Settings
from assistant.store import IndexStore
from assistant.types import Document, DocumentMeta

DEFAULTS = RegisterSettings()  # link thresholds: Settings.register


# ---------------------------------------------------------------- lineage


def _later(date: str, than: str) -> bool:
    """Is ``date`` later than ``than``, compared at their common precision ("2018" > "2017-12")?"""
    n = min(len(date), len(than))
    return bool(n) and date[:n] > than[:n]


def _vector_text(record: Record) -> str:
    return (
        f"{record.text} {record.detail}".strip() if record.kind == "recommendation" else record.text
    )


def match_statements(
    sims: np.ndarray, firm: bool = True, tuning: RegisterSettings = DEFAULTS
) -> list[list[tuple[int, str, float]]]:
    """Links from a (recommendations × statements) similarity matrix, best first per row.

    (j, "linked", sim) when sim ≥ ``linked``, statement j prefers this recommendation to every
    other by ``preference`` or more, and sim is within ``preference`` of the row's best;
    otherwise (j, "possibly related", sim) when sim ≥ ``possibly``, at most ``max_possible``
    per row (thresholds from ``tuning``, i.e. Settings.register). With
    ``firm=False`` (the challenge cannot be confirmed) every link is "possibly related".

    >>> match_statements(np.array([[0.70, 0.45, 0.30], [0.50, 0.42, 0.20]]))
    [[(0, 'linked', 0.7), (1, 'possibly related', 0.45)], [(0, 'possibly related', 0.5), \
(1, 'possibly related', 0.42)]]
    """
    out = []
    for i, row in enumerate(sims):
        found: list[tuple[int, str, float]] = []
        for j in np.argsort(-row, kind="stable"):
            sim = float(row[j])
            if sim < tuning.possibly:
                break
            rivals = np.delete(sims[:, j], i)
            prefers = not len(rivals) or sim - float(rivals.max()) >= tuning.preference
            near_best = sim >= float(row.max()) - tuning.preference
            if firm and sim >= tuning.linked and prefers and near_best:
                found.append((int(j), "linked", round(sim, 3)))
            elif sum(1 for _, strength, _ in found if strength != "linked") < tuning.max_possible:
                found.append((int(j), "possibly related", round(sim, 3)))
        out.append(found)
    return out


def _answers(meta: DocumentMeta, later: DocumentMeta) -> str:
    """Can ``later`` speak about recommendations of ``meta``? "firm", "unconfirmed" or ""."""
    if later.council != meta.council or not _later(later.date, meta.date):
        return ""
    if meta.visit_date and later.visit_date:  # a later peer challenge answers its own report
        return "firm" if later.visit_date == meta.visit_date else ""
    return "unconfirmed"


def link_records(
    records: Sequence[Record],
    documents: dict[str, Document],
    vectors: dict[str, np.ndarray],
    tuning: RegisterSettings = DEFAULTS,
) -> list[Record]:
    """Attach later statements (actions, rows, progress statements) to each recommendation.

    Candidates come from later documents of the same council about the same peer challenge
    (same visit date); see ``match_statements`` for when a link is firm. A recommendation's
    status is the status of its best firm link in the latest document ("planned" for an
    action-plan item), else "possibly related", else "not mentioned".
    """
    by_doc: dict[str, list[Record]] = {}
    for record in records:
        by_doc.setdefault(record.doc_id, []).append(record)
    updated = {}
    for doc_id, own in by_doc.items():
        recs = [r for r in own if r.kind == "recommendation"]
        links: dict[str, list[Link]] = {r.record_id: [] for r in recs}
        for later_id, later in by_doc.items():
            relation = _answers(documents[doc_id].meta, documents[later_id].meta)
            statements = [s for s in later if s.kind != "recommendation"]
            if not recs or not relation or not statements:
                continue
            sims = (
                np.stack([vectors[r.record_id] for r in recs])
                @ np.stack([vectors[s.record_id] for s in statements]).T
            )
            found_rows = match_statements(sims, relation == "firm", tuning)
            for rec, found in zip(recs, found_rows):
                for j, strength, sim in found:
                    s = statements[j]
                    link = Link(
                        s.record_id, s.text, s.status or "planned", strength, sim, s.date, s.source
                    )
                    links[rec.record_id].append(link)
        for rec in recs:
            found_links = links[rec.record_id]
            updated[rec.record_id] = replace(
                rec, links=tuple(found_links), status=_summary_status(found_links)
            )
    return [updated.get(r.record_id, r) for r in records]


def _summary_status(links: Sequence[Link]) -> str:
    firm = [link for link in links if link.strength == "linked"]
    if firm:
        latest = max(link.date for link in firm)
        return max(
            (link for link in firm if link.date == latest), key=lambda link: link.similarity
        ).status
    return "possibly related" if links else "not mentioned"


# ---------------------------------------------------------------- the register


def build_register(store: IndexStore, encoder=None) -> list[Record]:
    """Every record of every document with themes and lineage; cached on the store.

    ``encoder`` must embed into the index's space (default: the index's model).
    """
    return store.derived("register", lambda: _build_register(store, encoder))


def _build_register(store: IndexStore, encoder=None) -> list[Record]:
    from assistant.themes import index_encoder, tag_batch

    encoder = encoder or index_encoder(store)
    tuning = store.settings.register
    documents = store.documents
    ordered = sorted(documents.values(), key=lambda d: (d.meta.council, d.meta.date, d.meta.doc_id))
    records = [r for doc in ordered for r in extract_records(doc, tuning)]
    vectors = {r.record_id: encoder.embed_query(_vector_text(r)) for r in records}
    themes = tag_batch(
        [_vector_text(r) for r in records],
        [r.source.section for r in records],
        np.stack([vectors[r.record_id] for r in records]) if records else np.zeros((0, 1)),
        encoder,
        store.settings.themes,
    )
    records = [replace(r, themes=t) for r, t in zip(records, themes)]
    return link_records(records, documents, vectors, tuning)


def select(
    records: Iterable[Record],
    council: str | None = None,
    theme: str | None = None,
    kind: str | None = None,
) -> list[Record]:
    """Records of one council / theme / kind (already resolved values)."""
    return [
        r
        for r in records
        if (council is None or r.council == council)
        and (theme is None or theme in r.themes)
        and (kind is None or r.kind == kind)
    ]


def _resolve(
    store: IndexStore, council: str | None, theme: str | None
) -> tuple[str | None, str | None]:
    from assistant.query import corpus_facts
    from assistant.themes import resolve_theme

    return (
        corpus_facts(store).registry.resolve(council) if council else None,
        resolve_theme(theme) if theme else None,
    )


def _action_cell(record: Record) -> str | None:
    if record.kind != "action-plan row" or record.response == record.text:
        return None
    return record.text


def record_to_json(record: Record) -> dict:
    """The ``--json`` form of a record: every field, with the source and links nested.

    ``action`` is the action cell of an action-plan row (null when the row lacks it, in which
    case ``text`` is the response); null for other kinds.
    """
    source = {
        "doc_id": record.source.doc_id,
        "section": list(record.source.section),
        "page": record.source.page,
        "start": record.source.start,
        "end": record.source.end,
    }
    return {
        "id": record.record_id,
        "kind": record.kind,
        "number": record.number,
        "council": record.council,
        "doc_id": record.doc_id,
        "title": record.title,
        "date": record.date,
        "text": record.text,
        "action": _action_cell(record),
        "detail": record.detail,
        "response": record.response,
        "lead": record.lead,
        "status": record.status,
        "themes": list(record.themes),
        "source": source,
        "links": [
            {
                "id": link.record_id,
                "text": link.text,
                "status": link.status,
                "strength": link.strength,
                "similarity": link.similarity,
                "date": link.date,
                "source": {
                    "doc_id": link.source.doc_id,
                    "section": list(link.source.section),
                    "page": link.source.page,
                    "start": link.source.start,
                    "end": link.source.end,
                },
            }
            for link in record.links
        ],
    }


def _row(record: Record) -> dict:
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
        "action": _action_cell(record) or "",
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


def register_rows(
    store: IndexStore, council: str | None = None, theme: str | None = None, encoder=None
) -> list[dict]:
    """The register as flat rows (column name → value) for tables and CSV.

    ``council`` accepts a name or an alias ("city"); ``theme`` an id or a label.
    For an action-plan row, ``action`` is empty when the row lacks its action cell (``text``
    is then the response).
    """
    council, theme = _resolve(store, council, theme)
    return [_row(r) for r in select(build_register(store, encoder), council, theme)]


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
    """CSV text of ``register_rows`` output, protected against formula injection."""
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return out.getvalue()


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _short_citation(source: Source) -> str:
    section = _shorten(" › ".join(source.section), 40)
    return f"{source.doc_id} › {section} [{source.start}:{source.end}]"


def render_table(records: Sequence[Record]) -> str:
    """A plain-text table: number, council, date, kind, status, text, citation."""
    if not records:
        return "No recommendations match."
    head = ("No.", "Council", "Date", "Kind", "Status", "Text", "Source")
    rows = [
        (
            r.number or "",
            r.council,
            r.date,
            r.kind,
            r.status or "—",
            _shorten(r.text, 70),
            _short_citation(r.source),
        )
        for r in records
    ]
    widths = [max(len(str(row[i])) for row in (head, *rows)) for i in range(len(head) - 1)]
    lines = []
    for row in (head, *rows):
        cells = [str(c).ljust(w) for c, w in zip(row, widths)] + [str(row[-1])]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 6)
    counts = {}
    for r in records:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    summary = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items())
    return "\n".join(lines) + f"\n\n{len(records)} records: {summary}."


def run_command(args, settings: Settings) -> int:
    """``peerqa recommendations [--council C] [--theme T] [--csv FILE | --json]``."""
    from assistant.store import load_index

    csv_path, as_json = getattr(args, "csv", None), bool(getattr(args, "json", False))
    if csv_path and as_json:
        raise UsageError("Use either --csv FILE or --json, not both.")
    store = load_index(settings)
    council, theme = _resolve(store, getattr(args, "council", None), getattr(args, "theme", None))
    records = select(build_register(store), council, theme)
    if as_json:
        print(json.dumps([record_to_json(r) for r in records], ensure_ascii=False, indent=2))
    elif csv_path:
        text = register_csv([_row(r) for r in records])
        if csv_path == "-":
            sys.stdout.write(text)
        else:
            try:
                with open(csv_path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
            except OSError as exc:
                raise UsageError(f"Cannot write {csv_path}: {exc.strerror}.") from exc
            print(f"Wrote {len(records)} records to {csv_path}.")
    else:
        print(render_table(records))
    return 0
